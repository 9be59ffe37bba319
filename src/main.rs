//! The `linkrot` binary: everything lives in the library; see `linkrot::cli`.

/// mimalloc instead of the system allocator: the scanner and the checker
/// allocate many small strings from several threads at once, where glibc's
/// malloc spent about a sixth of a scan's CPU time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc 3's `mi_option_e` (the Rust bindings
/// name no constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> std::process::ExitCode {
    // mimalloc keeps freed memory for a second before giving it back; a
    // run frees the scanner's parse trees before checking starts, so that
    // delay added half again to peak memory. A tenth of a second keeps the
    // scanner's reuse of memory between documents (purging at once cost
    // it a third of its speed in madvise calls) and frees the rest in time.
    // SAFETY: a plain setter of an integer option, called before any other
    // thread exists.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 100) };
    linkrot::cli::main()
}
