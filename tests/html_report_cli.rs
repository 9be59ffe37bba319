//! `linkrot check` writes the HTML report: where, when not, and what
//! happens when it cannot.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use common::{Reply, Routes, TestServer};

fn server() -> TestServer {
    TestServer::start(
        Routes::new()
            .at("/report", Reply::html("<title>Annual report</title>"))
            .at("/gone", Reply::status(404)),
    )
}

fn document(dir: &Path, server: &TestServer) -> PathBuf {
    let path = dir.join("letter.md");
    std::fs::write(
        &path,
        format!(
            "# Letter\n\nA claim.[^1] Gone.[^2]\n\n\
             [^1]: Ministry, \"Annual &lt;script&gt;alert(1)&lt;/script&gt; report\", 2023. <{}>\n\
             [^2]: Agency, \"Old page\". <{}>\n",
            server.url("/report"),
            server.url("/gone"),
        ),
    )
    .unwrap();
    path
}

fn check(doc: &Path, out: &Path) -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("linkrot");
    cmd.arg("check").arg(doc).arg("--output").arg(out).args([
        "--retries",
        "0",
        "--host-interval",
        "0",
        "--quiet",
    ]);
    cmd
}

/// Files in `dir` other than those named: leftover temporary files.
fn others(dir: &Path, expected: &[&str]) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !expected.contains(&name.as_str()))
        .collect()
}

#[test]
fn check_writes_index_html_beside_the_csv() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let doc = document(dir.path(), &server);
    let out = dir.path().join("reports");
    check(&doc, &out).assert().code(1);
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains(&format!("href=\"{}\"", server.url("/gone"))));
    assert!(page.contains("<span class=\"badge b-failing\">broken</span>"));
    assert!(page.contains("<span class=\"badge b-ok\">ok</span>"));
    // The footnote text (a script tag once the Markdown is read) is
    // escaped, and the document is named.
    assert!(page.contains(
        "Ministry, &quot;Annual &lt;script&gt;alert(1)&lt;/script&gt; report&quot;, 2023."
    ));
    assert_eq!(
        page.matches("<script").count(),
        2,
        "only the page's own scripts"
    );
    assert!(page.contains(&*doc.to_string_lossy()));
    assert_eq!(
        others(&out, &["index.html", "linkrot.csv", "linkrot.sqlite"]),
        Vec::<String>::new()
    );
}

#[test]
fn html_flag_chooses_the_file_and_says_so() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let doc = document(dir.path(), &server);
    let out = dir.path().join("reports");
    let page = dir.path().join("site").join("audit.html");
    let mut cmd = cargo_bin_cmd!("linkrot");
    cmd.arg("check")
        .arg(&doc)
        .arg("--output")
        .arg(&out)
        .arg("--html")
        .arg(&page)
        .args(["--retries", "0", "--host-interval", "0"]);
    let run = cmd.assert().code(1);
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
    assert!(
        stderr.contains(&format!("html report: {}", page.display())),
        "{stderr}"
    );
    assert!(page.is_file());
    assert!(!out.join("index.html").exists());
    assert!(out.join("linkrot.csv").is_file());
}

#[test]
fn no_html_writes_no_page() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let doc = document(dir.path(), &server);
    let out = dir.path().join("reports");
    check(&doc, &out).arg("--no-html").assert().code(1);
    assert!(out.join("linkrot.csv").is_file());
    assert!(!out.join("index.html").exists());
}

#[test]
fn html_and_no_html_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("letter.md");
    std::fs::write(&doc, "No notes.\n").unwrap();
    cargo_bin_cmd!("linkrot")
        .arg("check")
        .arg(&doc)
        .args(["--no-html", "--html", "x.html"])
        .assert()
        .code(2);
}

#[test]
fn an_unwritable_html_path_is_a_usage_error_naming_it() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let doc = document(dir.path(), &server);
    let out = dir.path().join("reports");
    // A regular file where the folder should be.
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, "").unwrap();
    let page = blocker.join("index.html");
    let run = check(&doc, &out).arg("--html").arg(&page).assert().code(2);
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
    assert!(
        stderr.contains(&format!("cannot write {}", page.display())),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// With history, each run's citation health is stored and the page charts
/// every run so far; without history there is no chart.
#[test]
fn the_page_charts_citation_health_per_run_from_the_history() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let doc = document(dir.path(), &server);
    let out = dir.path().join("out");
    for _ in 0..3 {
        // 1 of 2 footnote citations alive (the other answers 404): exit 1.
        check(&doc, &out).arg("--fresh").assert().code(1);
    }
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("Citation health over time"), "no chart");
    assert!(html.contains("each of 3 runs"), "three runs charted");
    assert_eq!(
        html.matches("<td class=\"num\">50%</td>").count(),
        3,
        "{html}"
    );

    let bare = dir.path().join("bare");
    check(&doc, &bare).arg("--no-history").assert().code(1);
    let html = std::fs::read_to_string(bare.join("index.html")).unwrap();
    assert!(!html.contains("Citation health over time"));
}
