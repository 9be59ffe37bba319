//! History and the dead-link policy, driven through `linkrot check` against
//! loopback servers with an injected clock (`--now`).

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use assert_cmd::cargo::cargo_bin_cmd;
use common::{Reply, Routes, TestServer};
use predicates::prelude::*;

const DAY0: &str = "2026-01-05T08:00:00Z";

/// `DAY0` plus `hours`.
fn at(hours: i64) -> String {
    let start: jiff::Timestamp = DAY0.parse().unwrap();
    (start + jiff::SignedDuration::from_hours(hours)).to_string()
}

struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Workspace {
        Workspace {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a Markdown document citing each URL in its own footnote.
    fn document(&self, name: &str, urls: &[String]) -> PathBuf {
        let mut text = String::from("# Letter\n\n");
        for i in 1..=urls.len() {
            text.push_str(&format!("Claim {i}.[^{i}]\n"));
        }
        text.push('\n');
        for (i, url) in urls.iter().enumerate() {
            text.push_str(&format!("[^{}]: See <{url}>.\n", i + 1));
        }
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn history(&self) -> PathBuf {
        self.path("reports/linkrot.sqlite")
    }

    /// `linkrot check DOC` at time `now`, with short timeouts and the
    /// workspace's history file.
    fn check(&self, document: &Path, now: &str) -> assert_cmd::Command {
        let mut cmd = cargo_bin_cmd!("linkrot");
        cmd.current_dir(self.dir.path())
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITHUB_STEP_SUMMARY")
            .arg("check")
            .arg(document)
            .args(["--output", "reports", "--history"])
            .arg(self.history())
            .args([
                "--now",
                now,
                "--retries",
                "0",
                "--timeout",
                "2s",
                "--host-interval",
                "0",
            ]);
        cmd
    }

    /// The CSV report's rows as maps from column name to value.
    fn csv(&self) -> Vec<HashMap<String, String>> {
        let mut reader = csv::Reader::from_path(self.path("reports/linkrot.csv")).unwrap();
        let headers = reader.headers().unwrap().clone();
        reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                headers
                    .iter()
                    .map(str::to_string)
                    .zip(r.iter().map(str::to_string))
                    .collect()
            })
            .collect()
    }

    /// The CSV row of `url`.
    fn row(&self, url: &str) -> HashMap<String, String> {
        self.csv()
            .into_iter()
            .find(|r| r["url"] == url)
            .unwrap_or_else(|| panic!("no row for {url}"))
    }
}

#[test]
fn a_503_three_times_in_one_day_stays_failing() {
    let server = TestServer::start(Routes::new().at("/down", Reply::status(503)));
    let ws = Workspace::new();
    let url = server.url("/down");
    let doc = ws.document("a.md", std::slice::from_ref(&url));
    for (run, hours) in [0, 6, 12].into_iter().enumerate() {
        // A transient failure alone never fails the run.
        ws.check(&doc, &at(hours)).assert().code(0);
        let row = ws.row(&url);
        assert_eq!(row["verdict"], "server_error");
        assert_eq!(row["state"], "failing");
        assert_eq!(row["consecutive_failures"], (run + 1).to_string());
        assert_eq!(row["first_failed"], at(0));
        assert_eq!(row["dead_since"], "");
        assert_eq!(row["change"], if run == 0 { "new" } else { "unchanged" });
    }
}

#[test]
fn three_failures_over_four_days_become_dead() {
    let server = TestServer::start(Routes::new().at("/down", Reply::status(503)));
    let ws = Workspace::new();
    let url = server.url("/down");
    let doc = ws.document("a.md", std::slice::from_ref(&url));
    ws.check(&doc, &at(0)).assert().code(0);
    ws.check(&doc, &at(48)).assert().code(0);
    ws.check(&doc, &at(96))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("1 failing"));
    let row = ws.row(&url);
    assert_eq!(row["state"], "dead");
    assert_eq!(row["change"], "newly_dead");
    assert_eq!(row["dead_since"], at(96));
    assert_eq!(row["consecutive_failures"], "3");
    let page = std::fs::read_to_string(ws.path("reports/index.html")).unwrap();
    assert!(
        page.contains(&format!("Dead since <time datetime=\"{}\"", at(0))),
        "the HTML report shows the failing streak's start"
    );
    // Still dead the next day: the default fails again, `dead,new` does not.
    ws.check(&doc, &at(120))
        .arg("--fail-on")
        .arg("dead,new")
        .assert()
        .code(0);
    assert_eq!(ws.row(&url)["change"], "unchanged");
    ws.check(&doc, &at(144)).assert().code(1);
    // The thresholds are flags.
    let ws = Workspace::new();
    let doc = ws.document("a.md", std::slice::from_ref(&url));
    ws.check(&doc, &at(0))
        .args(["--dead-after", "1", "--dead-after-days", "0"])
        .assert()
        .code(1);
    assert_eq!(ws.row(&url)["state"], "dead");
}

#[test]
fn a_success_in_between_resets_the_streak() {
    let up = Arc::new(AtomicBool::new(false));
    let flag = up.clone();
    let server = TestServer::start(Routes::new().with("/flaky", move |_| {
        if flag.load(Ordering::SeqCst) {
            Reply::html("<p>back</p>")
        } else {
            Reply::status(503)
        }
    }));
    let ws = Workspace::new();
    let url = server.url("/flaky");
    let doc = ws.document("a.md", std::slice::from_ref(&url));
    let mut changes = Vec::new();
    for (hours, alive) in [
        (0, false),
        (48, false),
        (72, true),
        (96, false),
        (144, false),
    ] {
        up.store(alive, Ordering::SeqCst);
        ws.check(&doc, &at(hours)).arg("--fresh").assert().code(0);
        changes.push(ws.row(&url)["change"].clone());
    }
    assert_eq!(
        changes,
        [
            "new",
            "unchanged",
            "recovered",
            "newly_failing",
            "unchanged"
        ]
    );
    let row = ws.row(&url);
    assert_eq!(
        row["state"], "failing",
        "two failures over two days since the success"
    );
    assert_eq!(row["consecutive_failures"], "2");
    assert_eq!(row["last_ok"], at(72));
    assert_eq!(row["first_failed"], at(96));
}

#[test]
fn a_404_fails_the_first_run_with_or_without_history() {
    let server = TestServer::start(Routes::new().at("/ok", Reply::html("<p>ok</p>")));
    let ws = Workspace::new();
    let doc = ws.document("a.md", &[server.url("/ok"), server.url("/gone")]);
    ws.check(&doc, &at(0)).assert().code(1);
    let row = ws.row(&server.url("/gone"));
    assert_eq!(
        (row["verdict"].as_str(), row["change"].as_str()),
        ("broken", "new")
    );

    let ws = Workspace::new();
    let doc = ws.document("a.md", &[server.url("/ok"), server.url("/gone")]);
    let mut cmd = cargo_bin_cmd!("linkrot");
    cmd.current_dir(ws.dir.path())
        .arg("check")
        .arg(&doc)
        .args(["--no-history", "--retries", "0", "--host-interval", "0"])
        .assert()
        .code(1);
    assert!(
        !ws.history().exists(),
        "--no-history writes no history file"
    );
    assert_eq!(ws.row(&server.url("/gone"))["change"], "");
}

#[test]
fn the_cache_skips_recently_alive_urls_and_never_failing_ones() {
    let server = TestServer::start(
        Routes::new()
            .at("/ok", Reply::html("<p>ok</p>"))
            .at("/down", Reply::status(503)),
    );
    let ws = Workspace::new();
    let (ok, down) = (server.url("/ok"), server.url("/down"));
    let doc = ws.document("a.md", &[ok.clone(), down.clone()]);
    ws.check(&doc, &at(0)).assert().code(0);
    let (ok_hits, down_hits) = (server.hits("/ok"), server.hits("/down"));
    assert!(ok_hits >= 1 && down_hits >= 1);

    ws.check(&doc, &at(2)).assert().code(0);
    assert_eq!(
        server.hits("/ok"),
        ok_hits,
        "alive an hour ago: served from history"
    );
    assert!(
        server.hits("/down") > down_hits,
        "a failing URL is always rechecked"
    );
    let row = ws.row(&ok);
    assert_eq!(row["source"], "history");
    assert_eq!(row["verdict"], "ok");
    assert_eq!(row["checked_at"], at(0));
    assert_eq!(ws.row(&down)["source"], "network");

    ws.check(&doc, &at(3)).arg("--fresh").assert().code(0);
    assert_eq!(server.hits("/ok"), ok_hits + 1, "--fresh ignores the cache");
    assert_eq!(ws.row(&ok)["source"], "network");

    ws.check(&doc, &at(4))
        .args(["--recheck-after", "30m"])
        .assert()
        .code(0);
    assert_eq!(
        server.hits("/ok"),
        ok_hits + 2,
        "older than --recheck-after"
    );
    ws.check(&doc, &at(30)).assert().code(0);
    assert_eq!(server.hits("/ok"), ok_hits + 3, "older than a day");
}

#[test]
fn change_is_right_across_three_runs_and_history_and_diff_tell_it() {
    let broken = Arc::new(AtomicBool::new(false));
    let flag = broken.clone();
    let server = TestServer::start(
        Routes::new()
            .at("/a", Reply::html("<p>a</p>"))
            .at("/c", Reply::html("<p>c</p>"))
            .with("/b", move |_| {
                if flag.load(Ordering::SeqCst) {
                    Reply::status(404)
                } else {
                    Reply::html("<p>b</p>")
                }
            }),
    );
    let ws = Workspace::new();
    let (a, b, c) = (server.url("/a"), server.url("/b"), server.url("/c"));
    let first = ws.document("a.md", &[a.clone(), b.clone()]);
    let second = ws.document("b.md", &[a.clone(), b.clone(), c.clone()]);
    let changes = |ws: &Workspace| -> Vec<String> {
        ws.csv()
            .iter()
            .map(|r| format!("{} {}", &r["url"][r["url"].len() - 2..], r["change"]))
            .collect()
    };

    ws.check(&first, &at(0)).arg("--fresh").assert().code(0);
    assert_eq!(changes(&ws), ["/a new", "/b new"]);
    broken.store(true, Ordering::SeqCst);
    ws.check(&second, &at(24)).arg("--fresh").assert().code(1);
    assert_eq!(changes(&ws), ["/a unchanged", "/b newly_failing", "/c new"]);
    broken.store(false, Ordering::SeqCst);
    ws.check(&first, &at(48)).arg("--fresh").assert().code(0);
    assert_eq!(changes(&ws), ["/a unchanged", "/b recovered"]);

    let history = ws.history();
    cargo_bin_cmd!("linkrot")
        .args(["diff", "--history"])
        .arg(&history)
        .assert()
        .success()
        .stdout(
            predicate::str::contains("run 3")
                .and(predicate::str::contains("against run 2"))
                .and(
                    predicate::str::is_match(format!(r"recovered\s+{}", regex_escape(&b))).unwrap(),
                )
                .and(predicate::str::is_match(format!(r"gone\s+{}", regex_escape(&c))).unwrap()),
        );
    let out = cargo_bin_cmd!("linkrot")
        .args(["history", "--history"])
        .arg(&history)
        .arg(&b)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "url, header, three checks:\n{text}");
    assert!(
        lines[3].contains("newly_failing") && lines[3].contains("broken 404"),
        "{text}"
    );
    assert!(lines[4].contains("recovered"), "{text}");
    cargo_bin_cmd!("linkrot")
        .args(["history", "--history"])
        .arg(&history)
        .arg("https://never.test/")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no check of https://never.test/ recorded",
        ));
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

#[test]
fn two_concurrent_runs_on_one_history_file_both_complete() {
    let server =
        TestServer::start(Routes::new().fallback(|_| {
            Reply::html("<p>ok</p>").with_delay(std::time::Duration::from_millis(5))
        }));
    let ws = Workspace::new();
    let urls: Vec<String> = (0..150).map(|i| server.url(&format!("/p{i}"))).collect();
    let doc = ws.document("a.md", &urls);
    let spawn = |n: usize| {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("linkrot"));
        cmd.current_dir(ws.dir.path())
            .arg("check")
            .arg(&doc)
            .args(["--output", &format!("reports{n}"), "--history"])
            .arg(ws.history())
            .args([
                "--now",
                &at(0),
                "--fresh",
                "--retries",
                "0",
                "--host-interval",
                "0",
                "--quiet",
            ]);
        cmd.spawn().unwrap()
    };
    let (mut one, mut two) = (spawn(1), spawn(2));
    assert!(one.wait().unwrap().success());
    assert!(two.wait().unwrap().success());
    let conn = rusqlite::Connection::open(ws.history()).unwrap();
    let runs: i64 = conn
        .query_row("SELECT count(*) FROM runs", [], |r| r.get(0))
        .unwrap();
    let checks: i64 = conn
        .query_row("SELECT count(*) FROM checks", [], |r| r.get(0))
        .unwrap();
    assert_eq!((runs, checks), (2, 300));
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
}

#[test]
fn corrupt_or_newer_history_files_are_refused_and_left_untouched() {
    let server = TestServer::start(Routes::new().at("/ok", Reply::html("<p>ok</p>")));
    let ws = Workspace::new();
    let doc = ws.document("a.md", &[server.url("/ok")]);
    std::fs::create_dir_all(ws.path("reports")).unwrap();
    let garbage = b"SQLite format 2\0 this is not a database".repeat(50);
    std::fs::write(ws.history(), &garbage).unwrap();
    ws.check(&doc, &at(0))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "linkrot.sqlite: history file is unreadable",
        ));
    assert_eq!(std::fs::read(ws.history()).unwrap(), garbage);
    assert_eq!(server.hits("/ok"), 0, "refused before checking anything");

    std::fs::remove_file(ws.history()).unwrap();
    ws.check(&doc, &at(0)).assert().code(0);
    let conn = rusqlite::Connection::open(ws.history()).unwrap();
    conn.pragma_update(None, "user_version", 7).unwrap();
    drop(conn);
    let before = std::fs::read(ws.history()).unwrap();
    ws.check(&doc, &at(1))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "history schema version 7 is newer",
        ));
    assert_eq!(std::fs::read(ws.history()).unwrap(), before);
}
