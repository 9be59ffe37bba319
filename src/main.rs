//! The `linkrot` binary: everything lives in the library; see `linkrot::cli`.

/// mimalloc instead of the system allocator: the scanner and the checker
/// allocate many small strings from several threads at once, where glibc's
/// malloc spent about a sixth of a scan's CPU time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    linkrot::cli::main()
}
