//! Benchmark of the history store: what keeping a history adds to a run.
//! Records N URL results into a fresh history file (one run), looks all of
//! them up in the cache, records a second run, and prints the times and the
//! file size.
//!
//! ```sh
//! cargo run --release --example bench_history -- [--urls 200000]
//! ```

use std::time::Instant;

use linkrot::check::{CheckResult, RedirectHop, Verdict};
use linkrot::history::{History, Observation, Policy, policy::DAY_MS};

fn result(i: usize) -> CheckResult {
    let url = format!("https://host{}.test/path/{i}", i % 50);
    let verdict = match i % 20 {
        0 => Verdict::ServerError,
        1 => Verdict::Broken,
        2 => Verdict::Moved,
        _ => Verdict::Ok,
    };
    let mut chain = Vec::new();
    if verdict == Verdict::Moved {
        chain.push(RedirectHop {
            url: url.clone(),
            status: 301,
            location: Some("/new".into()),
            resolved: Some(format!("{url}/new")),
            remote_addr: Some("127.0.0.1:443".parse().unwrap()),
            elapsed_ms: 20,
        });
    }
    chain.push(RedirectHop {
        url: url.clone(),
        status: 200,
        location: None,
        resolved: None,
        remote_addr: Some("127.0.0.1:443".parse().unwrap()),
        elapsed_ms: 20,
    });
    let mut result = CheckResult::unrequested(&url, verdict, None);
    result.status = Some(200);
    result.final_url = Some(url);
    result.chain = chain;
    result.method = Some("HEAD");
    result.attempts = 1;
    result
}

fn main() {
    let mut urls = 200_000usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--urls", Some(n)) => urls = n.parse().expect("--urls N"),
            _ => {
                eprintln!("usage: bench_history [--urls N]");
                std::process::exit(2);
            }
        }
    }
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("linkrot.sqlite");
    let results: Vec<CheckResult> = (0..urls).map(result).collect();
    let observe = |day: i64| -> Vec<Observation<'_>> {
        results
            .iter()
            .map(|result| Observation {
                result,
                at: day * DAY_MS,
                from_history: false,
                fingerprint: None,
            })
            .collect()
    };
    let policy = Policy::default();

    let start = Instant::now();
    let mut history = History::open(&path).expect("open");
    let first = observe(0);
    history.record_run(0, 0, &first, &policy).expect("record");
    let record_first = start.elapsed();

    let start = Instant::now();
    let cached = history
        .fresh_results(results.iter().map(|r| r.url.as_str()), DAY_MS / 2, DAY_MS)
        .expect("cache");
    let lookup = start.elapsed();

    let start = Instant::now();
    let second = observe(1);
    history
        .record_run(DAY_MS, DAY_MS, &second, &policy)
        .expect("record");
    let record_second = start.elapsed();
    drop(history);
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(dir.path().join("linkrot.sqlite-wal"))
            .map(|m| m.len())
            .unwrap_or(0);

    let per_sec = |d: std::time::Duration| urls as f64 / d.as_secs_f64();
    println!("URLs                     {urls}");
    println!(
        "record run 1 (new file)  {:.2} s  ({:.0} URLs/s)",
        record_first.as_secs_f64(),
        per_sec(record_first)
    );
    println!(
        "cache lookup             {:.2} s  ({:.0} URLs/s, {} served from history)",
        lookup.as_secs_f64(),
        per_sec(lookup),
        cached.len()
    );
    println!(
        "record run 2             {:.2} s  ({:.0} URLs/s)",
        record_second.as_secs_f64(),
        per_sec(record_second)
    );
    println!("file size after 2 runs   {:.1} MB", size as f64 / 1e6);
}
