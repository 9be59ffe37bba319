//! Measuring code shared by the benchmark commands (`examples/bench_*.rs`),
//! included with `#[path = "support/mod.rs"] mod support;`.
//!
//! A benchmark runs the release `linkrot` binary as a child process and
//! reports wall time, CPU time and peak resident memory of that child alone:
//! the child is reaped with `wait4`, which returns its own resource usage
//! (`getrusage(RUSAGE_CHILDREN)` would fold in every child reaped before).

#![allow(dead_code)]

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// What one child process cost.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// Elapsed time from spawn to exit.
    pub wall: Duration,
    /// CPU time in user mode.
    pub user: Duration,
    /// CPU time in the kernel.
    pub system: Duration,
    /// Peak resident set size, in bytes.
    pub peak_rss: u64,
    /// How it exited.
    pub status: ExitStatus,
}

impl Measurement {
    /// User + system CPU time.
    pub fn cpu(&self) -> Duration {
        self.user + self.system
    }
}

fn timeval(tv: libc::timeval) -> Duration {
    Duration::from_secs(tv.tv_sec as u64) + Duration::from_micros(tv.tv_usec as u64)
}

/// Runs `command` with stdout to /dev/null (stderr inherited) and measures it.
pub fn measure(command: &mut Command) -> io::Result<Measurement> {
    let start = Instant::now();
    let child = command.stdin(Stdio::null()).stdout(Stdio::null()).spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet reaped (std only reaps in
    // `wait`, which is never called on it); both pointers are valid.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    if reaped != pid {
        return Err(io::Error::last_os_error());
    }
    // Linux reports ru_maxrss in KiB.
    let peak_rss = (usage.ru_maxrss.max(0) as u64) * 1024;
    use std::os::unix::process::ExitStatusExt;
    Ok(Measurement {
        wall,
        user: timeval(usage.ru_utime),
        system: timeval(usage.ru_stime),
        peak_rss,
        status: ExitStatus::from_raw(status),
    })
}

/// Decimal megabytes (the unit of MB/s figures).
pub fn megabytes(bytes: u64) -> f64 {
    bytes as f64 / 1_000_000.0
}

/// `12.3 MiB`-style size.
pub fn human_bytes(bytes: u64) -> String {
    let mut value = bytes as f64;
    for unit in ["B", "KiB", "MiB", "GiB"] {
        if value < 1024.0 {
            return format!("{value:.1} {unit}");
        }
        value /= 1024.0;
    }
    format!("{value:.1} TiB")
}

/// Cores this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The `linkrot` binary beside this example (`target/release/` for a
/// release build), built first with `cargo build [--release] --bin linkrot`.
pub fn release_binary() -> io::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    // target/release/examples/bench_x → target/release
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| io::Error::other("cannot locate target/release"))?
        .to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    // Build the binary in the profile this example was built in, together
    // with the example itself: then dev-dependency features unify exactly as
    // in `cargo run --example`, and nothing is rebuilt.
    let profile: &[&str] = if cfg!(debug_assertions) {
        &[]
    } else {
        &["--release"]
    };
    let example = exe
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or_else(|| io::Error::other("cannot name this example"))?;
    let status = Command::new(cargo)
        .arg("build")
        .args(profile)
        .args(["--bin", "linkrot", "--example", example])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()?;
    if !status.success() {
        return Err(io::Error::other(
            "cargo build --release --bin linkrot failed",
        ));
    }
    Ok(dir.join(format!("linkrot{}", std::env::consts::EXE_SUFFIX)))
}

/// The path of `program` if it is on PATH.
pub fn on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    })
}

/// Prints one measurement as aligned lines.
pub fn print_measurement(name: &str, input_bytes: u64, m: &Measurement) {
    let mb = megabytes(input_bytes);
    let wall = m.wall.as_secs_f64();
    let cpu = m.cpu().as_secs_f64();
    println!("{name}:");
    println!(
        "  wall {wall:.2} s, CPU {cpu:.2} s (user {:.2} s, system {:.2} s), peak RSS {}, {}",
        m.user.as_secs_f64(),
        m.system.as_secs_f64(),
        human_bytes(m.peak_rss),
        m.status
    );
    println!(
        "  {:.1} MB/s overall, {:.1} MB/s per core ({} cores), {:.1} MB per CPU-second",
        mb / wall,
        mb / wall / cores() as f64,
        cores(),
        if cpu > 0.0 { mb / cpu } else { f64::INFINITY }
    );
}
