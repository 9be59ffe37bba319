//! Crash safety: a run killed with SIGKILL in the middle of a fetch leaves
//! every finished record readable, a record cut mid-write is reported at its
//! exact offset, and the next run starts a new file without touching the old.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::warc::read_records;
use common::{Reply, Routes, TestServer};
use linkrot::archive::verify::verify_file;

fn warc_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.to_string_lossy().ends_with(".warc.gz"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn verify_cli(path: &Path) -> (Option<i32>, String) {
    let out = assert_cmd::cargo::cargo_bin_cmd!("linkrot")
        .args(["warc", "verify"])
        .arg(path)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
    )
}

#[test]
fn killed_mid_fetch_leaves_finished_records_and_the_next_run_a_new_file() {
    let server = TestServer::start(
        Routes::new()
            .at("/a", Reply::html("<html><body>page a</body></html>"))
            .at(
                "/b",
                Reply::body(200, "application/pdf", b"%PDF-1.4 b".to_vec()),
            )
            .at(
                "/slow",
                Reply::Trickle {
                    status: 200,
                    headers: vec![("content-type".into(), "text/plain".into())],
                    chunk: vec![b'.'; 1024],
                    chunks: 400,
                    interval: Duration::from_millis(50),
                },
            ),
    );
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin!("linkrot"))
        .args(["warc", "capture"])
        .args([server.url("/a"), server.url("/b"), server.url("/slow")])
        .arg("--archive")
        .arg(&archive)
        .args(["--archive-private", "--archive-concurrency", "3"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    // Wait until both fast pages are on disk and the slow one is trickling.
    let deadline = Instant::now() + Duration::from_secs(30);
    let file = loop {
        assert!(
            Instant::now() < deadline,
            "the fast pages were never written"
        );
        if let Some(file) = warc_files(&archive).first()
            && verify_file(file).is_ok_and(|v| v.records >= 5)
            && server.hits("/slow") == 1
        {
            break file.clone();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed before the slow page finished");

    // Every finished record is readable: warcinfo + two request/response pairs.
    let (code, out) = verify_cli(&file);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(out, format!("{}: ok, 5 records", file.display()));
    let records = read_records(&file);
    assert_eq!(records.len(), 5);
    assert!(
        records
            .iter()
            .all(|r| r.field("WARC-Target-URI") != Some(server.url("/slow").as_str())),
        "the unfinished fetch left nothing behind"
    );

    // A kill during a write leaves a prefix of the file: wherever the cut
    // falls inside the last record, verify names that record's offset.
    let last = records.last().unwrap();
    let bytes = std::fs::read(&file).unwrap();
    for cut in [1, 10, last.length / 2, last.length - 1] {
        let partial = dir.path().join("partial.warc.gz");
        std::fs::write(&partial, &bytes[..(last.offset + cut) as usize]).unwrap();
        let (code, out) = verify_cli(&partial);
        assert_eq!(code, Some(1), "{out}");
        assert!(
            out.contains(&format!("offset {}: ", last.offset))
                && out.contains("(4 records before it verified)"),
            "cut {cut}: {out}"
        );
    }

    // The next run writes a new file and never touches the old one.
    let out = assert_cmd::cargo::cargo_bin_cmd!("linkrot")
        .args(["warc", "capture"])
        .arg(server.url("/a"))
        .arg("--archive")
        .arg(&archive)
        .arg("--archive-private")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let files = warc_files(&archive);
    assert_eq!(files.len(), 2, "{files:?}");
    assert_eq!(std::fs::read(&file).unwrap(), bytes, "old file untouched");
    for f in &files {
        assert_eq!(verify_cli(f).0, Some(0));
    }
    // The killed run's finished records were indexed by the next run, so
    // page a came back as a revisit rather than a second copy.
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(", revisit)"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let index = std::fs::read_to_string(archive.join("index.cdxj")).unwrap();
    let first = file.file_name().unwrap().to_string_lossy().to_string();
    assert_eq!(
        index.lines().filter(|l| l.contains(&first)).count(),
        2,
        "both finished responses of the killed run are indexed: {index}"
    );
    assert_eq!(index.lines().count(), 3, "{index}");
}

#[test]
fn capture_prints_one_line_per_url_and_fails_on_refused_ones() {
    let server = TestServer::start(Routes::new().at("/a", Reply::html("<p>a</p>")));
    let dir = tempfile::tempdir().unwrap();
    let out = assert_cmd::cargo::cargo_bin_cmd!("linkrot")
        .args(["warc", "capture"])
        .arg(server.url("/a"))
        .arg("--archive")
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert_eq!(
        stdout.trim(),
        format!(
            "{}: not archived: 127.0.0.1 is a loopback address: not archived (--archive-private allows it)",
            server.url("/a")
        )
    );
    assert_eq!(server.hits("/a"), 0);
}
