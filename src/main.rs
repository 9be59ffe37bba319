//! The `linkrot` binary: everything lives in the library; see `linkrot::cli`.

/// mimalloc instead of the system allocator: the scanner and the checker
/// allocate many small strings from several threads at once, where glibc's
/// malloc spent about a sixth of a scan's CPU time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc 3's `mi_option_e` (the Rust bindings
/// name no constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long mimalloc keeps freed memory before giving it back, by kind of
/// run. Measured with bench_scan and bench_check (2 cores):
/// - a check frees memory all along: with 1 ms, 20,000 URLs (status codes
///   only) peaked at 46-51 MiB, against 57-61 MiB with 100 ms, for the
///   same CPU time; a default run (content checks, history) peaked at
///   62-65 MiB against 72-74 MiB, for 0.1 s more CPU (1.64-1.69 s against
///   1.50-1.58 s);
/// - a listing frees parse trees in bursts, and giving pages back that
///   soon cost the PDF corpus a quarter of its speed (1.05 s with 100 ms,
///   1.32 s with 1 ms, 1.71 s with none; system time 0.13 s, 0.36 s and
///   1.04 s).
fn tune_allocator(phase: linkrot::cli::Phase) {
    let delay = match phase {
        linkrot::cli::Phase::Listing => 100,
        linkrot::cli::Phase::Checking => 1,
    };
    // SAFETY: a plain setter of an integer option, called from the main
    // thread before a subcommand starts any other thread.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, delay) };
}

fn main() -> std::process::ExitCode {
    // The short delay is the default, set first thing: switching from
    // 100 ms to 1 ms as `check` started left its peak at 54-60 MiB, while
    // `scan` switching the other way gets all its speed back.
    tune_allocator(linkrot::cli::Phase::Checking);
    linkrot::cli::on_phase(tune_allocator);
    linkrot::cli::main()
}
