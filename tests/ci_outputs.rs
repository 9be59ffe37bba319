//! CI outputs of `linkrot check`: Markdown (and the GitHub step summary),
//! JUnit, GitHub annotations, and `--fail-on` with policy words; plus
//! `linkrot.toml`.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;
use common::{Reply, Routes, TestServer};
use predicates::prelude::*;

fn server() -> TestServer {
    TestServer::start(
        Routes::new()
            .at("/ok", Reply::html("<p>ok</p>"))
            .at("/old", Reply::redirect(301, "/ok"))
            .at("/private", Reply::status(403))
            .at("/down", Reply::status(503)),
    )
}

/// A document with one footnote per path: /ok, /old, /private, /gone, /down.
fn document(dir: &Path, server: &TestServer) -> PathBuf {
    let mut text = String::from("# Letter\n\nOne.[^1] Two.[^2] Three.[^3] Four.[^4] Five.[^5]\n\n");
    for (i, path) in ["/ok", "/old", "/private", "/gone", "/down"]
        .iter()
        .enumerate()
    {
        text.push_str(&format!("[^{}]: See <{}>.\n", i + 1, server.url(path)));
    }
    std::fs::write(dir.join("letter.md"), text).unwrap();
    // Relative, as a CI job names it: annotations need repository paths.
    PathBuf::from("letter.md")
}

fn check(dir: &Path, doc: &Path) -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("linkrot");
    cmd.current_dir(dir)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .arg("check")
        .arg(doc)
        .args(["--retries", "0", "--timeout", "2s", "--host-interval", "0"]);
    cmd
}

#[test]
fn markdown_goes_to_stdout_and_to_the_step_summary() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let doc = document(dir.path(), &server);
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let out = check(dir.path(), &doc)
        .args(["--format", "markdown"])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "the 404 fails the run");
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.starts_with("## linkrot citation audit\n"), "{md}");
    assert!(
        md.contains("5 citations in 1 document (5 unique URLs): **1 failing**, 3 to look at."),
        "{md}"
    );
    assert!(md.contains("| `letter.md:8` | footnote 4 |"), "{md}");
    assert!(
        md.contains("| broken (404)") || md.contains("| broken (404 Not Found)"),
        "{md}"
    );
    let written = std::fs::read_to_string(&summary).unwrap();
    assert_eq!(
        written,
        format!("earlier step\n{md}"),
        "appended, identical to stdout"
    );
}

#[test]
fn junit_has_one_testcase_per_citation() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let doc = document(dir.path(), &server);
    let junit = dir.path().join("out/junit.xml");
    let out = check(dir.path(), &doc)
        .args(["--format", "junit", "--junit"])
        .arg(&junit)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let xml = String::from_utf8(out.stdout).unwrap();
    assert_eq!(std::fs::read_to_string(&junit).unwrap(), xml);
    assert_eq!(xml.matches("<testcase ").count(), 5, "{xml}");
    assert_eq!(xml.matches("<failure ").count(), 1, "{xml}");
    assert!(xml.contains("type=\"broken\""), "{xml}");
    assert!(
        xml.contains(&format!("chain: 404 {}", server.url("/gone"))),
        "{xml}"
    );
    assert!(
        xml.contains("failing, not yet confirmed dead"),
        "the 503: {xml}"
    );
}

#[test]
fn annotations_on_github_actions() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let doc = document(dir.path(), &server);
    let out = check(dir.path(), &doc)
        .env("GITHUB_ACTIONS", "true")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines[0].starts_with("::warning file=letter.md,line=6,col="),
        "{text}"
    );
    assert!(
        lines[0].contains("title=moved citation%3A update it::footnote 2 cites"),
        "{text}"
    );
    assert!(
        lines[1].contains("title=blocked citation%3A not checked::"),
        "{text}"
    );
    assert!(
        lines[2].starts_with("::error file=letter.md,line=8,col="),
        "{text}"
    );
    assert!(
        lines[2].contains("title=broken citation::footnote 4 cites"),
        "{text}"
    );
    assert!(
        lines[3].starts_with("::warning ")
            && lines[3].contains("server_error citation (not yet dead)"),
        "{text}"
    );
    // Not on GitHub: nothing on stdout unless asked.
    let out = check(dir.path(), &doc).output().unwrap();
    assert!(out.stdout.is_empty());
    let out = check(dir.path(), &doc)
        .arg("--annotations")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 4);
}

#[test]
fn fail_on_takes_verdicts_and_policy_words() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let doc = document(dir.path(), &server);
    check(dir.path(), &doc)
        .args(["--fail-on", "failing"])
        .assert()
        .code(1);
    check(dir.path(), &doc)
        .args(["--fail-on", "blocked"])
        .assert()
        .code(1);
    check(dir.path(), &doc)
        .args(["--fail-on", "dead"])
        .assert()
        .code(0);
    check(dir.path(), &doc)
        .args(["--fail-on", "broken,new"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("0 failing"));
    check(dir.path(), &doc)
        .args(["--fail-on", "gone"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown --fail-on value 'gone'"));
    // Without history every failing verdict fails by default: the 503 too.
    check(dir.path(), &doc)
        .arg("--no-history")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("2 failing"));
}

#[test]
fn config_file_settings_apply_and_typed_flags_win() {
    let server = TestServer::start(
        Routes::new().fallback(|_| Reply::html("<p>ok</p>").with_delay(Duration::from_millis(40))),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("# Letter\n\n");
    let mut notes = String::new();
    for i in 1..=12 {
        text.push_str(&format!("Claim.[^{i}]\n"));
        let host = if i % 2 == 0 { "slow.test" } else { "fast.test" };
        notes.push_str(&format!(
            "[^{i}]: <{}>\n",
            server.url_for_host(host, &format!("/p{i}"))
        ));
    }
    std::fs::write(dir.path().join("letter.md"), format!("{text}\n{notes}")).unwrap();
    std::fs::write(
        dir.path().join("linkrot.toml"),
        format!(
            "host-concurrency = 6\nhost-interval = \"0\"\nresolve = [\"{}\", \"{}\"]\nfail-on = \"blocked\"\n\n\
             [hosts.\"slow.test\"]\nconcurrency = 1\nheaders = {{ X-Token = \"secret\" }}\n",
            server.resolve_arg("slow.test"),
            server.resolve_arg("fast.test")
        ),
    )
    .unwrap();
    cargo_bin_cmd!("linkrot")
        .current_dir(dir.path())
        .args(["check", "letter.md", "--no-history"])
        .assert()
        .code(0);
    let peaks = server.peak_per_host();
    assert_eq!(peaks.get("slow.test"), Some(&1), "{peaks:?}");
    assert!(peaks.get("fast.test").is_some_and(|&n| n > 1), "{peaks:?}");
    for request in server.requests() {
        let token = request.header("x-token");
        assert_eq!(
            token.is_some(),
            request.host() == "slow.test",
            "{request:?}"
        );
    }
    // A typed flag wins over the file's value.
    cargo_bin_cmd!("linkrot")
        .current_dir(dir.path())
        .args(["check", "letter.md", "--no-history", "--fail-on", "ok"])
        .assert()
        .code(1);
}

#[test]
fn config_errors_name_the_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("letter.md"), "Text.\n").unwrap();
    std::fs::write(
        dir.path().join("linkrot.toml"),
        "retries = 1\n\ntimout = \"5s\"\n",
    )
    .unwrap();
    cargo_bin_cmd!("linkrot")
        .current_dir(dir.path())
        .args(["check", "letter.md"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "linkrot.toml:3: unknown key 'timout'",
        ));
    let other = dir.path().join("other.toml");
    std::fs::write(&other, "[hosts.\"a.test\"]\nconcurency = 2\n").unwrap();
    cargo_bin_cmd!("linkrot")
        .current_dir(dir.path())
        .args(["check", "letter.md", "--config"])
        .arg(&other)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("other.toml:2:").and(predicate::str::contains("concurency")),
        );
    std::fs::write(&other, "timeout = \"soon\"\n").unwrap();
    cargo_bin_cmd!("linkrot")
        .current_dir(dir.path())
        .args(["check", "letter.md", "--config"])
        .arg(&other)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("other.toml: ").and(predicate::str::contains("soon")));
}

#[test]
fn config_host_sections_set_accept_and_user_agent() {
    let server = TestServer::start(Routes::new().fallback(|_| Reply::status(403)));
    let dir = tempfile::tempdir().unwrap();
    let (members, other) = (
        server.url_for_host("members.test", "/paper"),
        server.url_for_host("other.test", "/paper"),
    );
    std::fs::write(
        dir.path().join("letter.md"),
        format!("A.[^1] B.[^2] C.[^3]\n\n[^1]: <{members}>\n[^2]: <{other}>\n[^3]: <{members}2>\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("linkrot.toml"),
        format!(
            "resolve = [\"{}\", \"{}\"]\nretries = 0\nhost-interval = \"0\"\n\n\
             [hosts.\"members.test\"]\naccept = \"200..=299,403\"\nuser-agent = \"linkrot-test-agent\"\ninterval = \"300ms\"\n",
            server.resolve_arg("members.test"),
            server.resolve_arg("other.test")
        ),
    )
    .unwrap();
    cargo_bin_cmd!("linkrot")
        .current_dir(dir.path())
        .args(["check", "letter.md", "--no-history", "--fail-on", "blocked"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("1 failing"));
    let mut reader = csv::Reader::from_path(dir.path().join("reports/linkrot.csv")).unwrap();
    let verdicts: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[10].to_string())
        .collect();
    assert_eq!(
        verdicts,
        ["ok", "blocked", "ok"],
        "403 accepted on members.test only"
    );
    let requests = server.requests();
    for request in &requests {
        let agent = request.header("user-agent").unwrap_or_default();
        assert_eq!(
            agent == "linkrot-test-agent",
            request.host() == "members.test",
            "{request:?}"
        );
    }
}
