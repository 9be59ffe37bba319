//! `linkrot check` content checks end to end: the real binary against
//! loopback servers, reading the `verdict`, `reason` and `drift` columns of
//! the CSV back.

mod common;

use std::collections::HashMap;
use std::path::Path;

use assert_cmd::cargo::cargo_bin_cmd;
use common::{Reply, Routes, TestServer};

const SOFT_NOT_FOUND: &str = "<!doctype html><title>Example</title><h1>Oops</h1>\
    <p>We looked everywhere for PATH but could not find anything. It may have moved \
    during our redesign. Try the search box or browse the site map instead.</p>";

fn servers() -> (TestServer, TestServer) {
    // Answers 200 with the same page to every path.
    let soft = TestServer::start(
        Routes::new().fallback(|req| Reply::html(&SOFT_NOT_FOUND.replace("PATH", &req.path))),
    );
    // Reports missing pages honestly; one page redirects to the front page.
    let honest = TestServer::start(
        Routes::new()
            .at(
                "/",
                Reply::html("<title>Home</title><p>Welcome to the home page.</p>"),
            )
            .at(
                "/docs/guide",
                Reply::html(
                    "<title>Guide</title><h2 id=install>Install</h2>\
                     <p>How to install and run the tool on every platform we support.</p>",
                ),
            )
            .at("/docs/old", Reply::redirect(301, "/")),
    );
    (soft, honest)
}

fn document(soft: &TestServer, honest: &TestServer) -> String {
    format!(
        "# Letter\n\nOne.[^1] Two.[^2] Three.[^3] Four.[^4]\n\n\
         [^1]: Gone report, <{}>.\n\
         [^2]: The guide, <{}#install>.\n\
         [^3]: The guide again, <{}#uninstall>.\n\
         [^4]: Old page, <{}>.\n",
        soft.url("/reports/2019/annual"),
        honest.url("/docs/guide"),
        honest.url("/docs/guide"),
        honest.url("/docs/old"),
    )
}

fn check_cmd() -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("linkrot");
    cmd.arg("check")
        .args([
            "--host-interval",
            "0",
            "--timeout",
            "5",
            "--retries",
            "0",
            "--quiet",
            // Each run judged on its own: no history file in the working folder.
            "--no-history",
            // Nothing written into the repository's reports/ folder.
            "--no-html",
        ])
        .env_remove("CI");
    cmd
}

/// Rows of the CSV as column → value maps, in document order.
fn read_csv(path: &Path) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn cells<'a>(rows: &'a [HashMap<String, String>], column: &str) -> Vec<&'a str> {
    rows.iter().map(|r| r[column].as_str()).collect()
}

fn probes(server: &TestServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| {
            let last = r.path.rsplit('/').next().unwrap_or("");
            last.len() == 25 && last.bytes().all(|b| b.is_ascii_lowercase())
        })
        .count()
}

#[test]
fn soft_404s_redirects_to_root_and_missing_fragments_in_the_csv() {
    let (soft, honest) = servers();
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("letter.md");
    std::fs::write(&doc, document(&soft, &honest)).unwrap();
    let csv = dir.path().join("out.csv");
    check_cmd()
        .arg(&doc)
        .arg("--csv")
        .arg(&csv)
        .arg("--check-fragments")
        .assert()
        .code(1);
    let rows = read_csv(&csv);
    assert_eq!(
        cells(&rows, "verdict"),
        ["soft_404", "ok", "ok", "soft_404"]
    );
    assert_eq!(
        cells(&rows, "reason"),
        [
            "same_as_random_probe",
            "",
            "missing_fragment",
            "redirect_to_root"
        ]
    );
    assert_eq!(cells(&rows, "drift"), ["", "", "", ""]);
    assert_eq!(probes(&soft), 1);
}

#[test]
fn missing_fragments_are_not_checked_without_the_flag() {
    let (soft, honest) = servers();
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("letter.md");
    std::fs::write(&doc, document(&soft, &honest)).unwrap();
    let csv = dir.path().join("out.csv");
    check_cmd()
        .arg(&doc)
        .arg("--csv")
        .arg(&csv)
        .assert()
        .code(1);
    let rows = read_csv(&csv);
    assert_eq!(rows[2]["reason"], "");
}

#[test]
fn no_probe_and_no_content_turn_the_checks_off() {
    let (soft, honest) = servers();
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("letter.md");
    std::fs::write(&doc, document(&soft, &honest)).unwrap();
    let csv = dir.path().join("out.csv");
    check_cmd()
        .arg(&doc)
        .arg("--csv")
        .arg(&csv)
        .arg("--no-probe")
        .assert()
        .code(1);
    let rows = read_csv(&csv);
    assert_eq!(cells(&rows, "verdict"), ["ok", "ok", "ok", "soft_404"]);
    assert_eq!(probes(&soft), 0);

    check_cmd()
        .arg(&doc)
        .arg("--csv")
        .arg(&csv)
        .arg("--no-content")
        .assert()
        .code(0);
    let rows = read_csv(&csv);
    assert_eq!(cells(&rows, "verdict"), ["ok", "ok", "ok", "moved"]);
    assert_eq!(cells(&rows, "method"), ["HEAD", "HEAD", "HEAD", "HEAD"]);
    assert_eq!(probes(&soft), 0);
}

#[test]
fn a_bad_drift_threshold_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("letter.md");
    std::fs::write(&doc, "No notes.\n").unwrap();
    check_cmd()
        .arg(&doc)
        .args(["--drift-threshold", "1.5"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("invalid drift threshold"));
}

/// Drift across runs goes through the history file: the second run compares
/// each page with the fingerprint the first run stored.
#[test]
fn drift_between_runs_is_read_from_the_history() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const BEFORE: &str = "The ministry published its annual report on water quality, covering \
        every river basin in the country, the sampling methods used by regional laboratories, \
        the thresholds for nitrates and phosphates, and the measures planned for the next five \
        years to restore wetlands and protect drinking water sources near farming areas.";
    const AFTER: &str = "Our online shop offers discounted garden furniture, outdoor lighting and \
        barbecue accessories this weekend only. Sign up for the newsletter to receive coupons, \
        track your orders from the customer portal and read reviews written by thousands of \
        happy buyers who renovated their terraces and balconies with our products.";
    let run = Arc::new(AtomicUsize::new(0));
    let seen = run.clone();
    let server = TestServer::start(
        Routes::new()
            .with("/reports/water", move |_| {
                let text = if seen.load(Ordering::SeqCst) == 0 {
                    BEFORE
                } else {
                    AFTER
                };
                Reply::html(&format!("<title>Report</title><p>{text}</p>"))
            })
            .with("/reports/dated", {
                let seen = run.clone();
                move |_| {
                    let day = 10 + seen.load(Ordering::SeqCst);
                    Reply::html(&format!(
                        "<title>Report</title><p>Updated {day} November 2026.</p><p>{BEFORE}</p>"
                    ))
                }
            }),
    );
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("doc.md");
    std::fs::write(
        &doc,
        format!(
            "Text.[^1] More.[^2]\n\n[^1]: Water report, <{}>.\n[^2]: Dated report, <{}>.\n",
            server.url("/reports/water"),
            server.url("/reports/dated")
        ),
    )
    .unwrap();
    let history = dir.path().join("history.sqlite");
    let audit = || {
        let mut cmd = cargo_bin_cmd!("linkrot");
        cmd.arg("check")
            .arg(&doc)
            .arg("--output")
            .arg(dir.path())
            .arg("--history")
            .arg(&history)
            // Judge the page again although it was alive a moment ago.
            .args(["--fresh", "--no-probe", "--host-interval", "0", "--quiet"])
            .env_remove("CI")
            .assert()
            .code(0);
        read_csv(&dir.path().join("linkrot.csv"))
    };
    let first = audit();
    assert_eq!(
        cells(&first, "drift"),
        ["", ""],
        "nothing to compare with yet"
    );
    run.store(1, Ordering::SeqCst);
    let second = audit();
    let drift: f64 = second[0]["drift"].parse().unwrap();
    assert!(drift > 0.4, "rewritten page drift {drift}");
    assert!(second[0]["reason"].contains("drifted"), "{:?}", second[0]);
    assert!(!second[1]["reason"].contains("drifted"), "{:?}", second[1]);
}

/// A missing fragment only warns, unless `--fail-on missing_fragment` asks
/// for it to fail the run; other citations of the same page stay passing.
#[test]
fn missing_fragment_fails_the_run_only_when_asked() {
    let (_soft, honest) = servers();
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("guide.md");
    std::fs::write(
        &doc,
        format!(
            "Install.[^1] Remove.[^2]\n\n[^1]: Guide, <{0}#install>.\n[^2]: Guide, <{0}#uninstall>.\n",
            honest.url("/docs/guide")
        ),
    )
    .unwrap();
    let run = |fail_on: Option<&str>| {
        let mut cmd = check_cmd();
        cmd.arg(&doc)
            .arg("--output")
            .arg(dir.path())
            .arg("--check-fragments");
        if let Some(list) = fail_on {
            cmd.args(["--fail-on", list]);
        }
        cmd.assert().get_output().status.code()
    };
    assert_eq!(run(None), Some(0));
    assert_eq!(run(Some("missing_fragment")), Some(1));
    assert_eq!(run(Some("drifted")), Some(0));
    let rows = read_csv(&dir.path().join("linkrot.csv"));
    assert_eq!(cells(&rows, "reason"), ["", "missing_fragment"]);
}
