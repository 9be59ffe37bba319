//! `linkrot check` end to end: the real binary against loopback servers,
//! reading the CSV and JSON reports back.

mod common;

use std::path::Path;

use assert_cmd::cargo::cargo_bin_cmd;
use common::{Reply, Routes, TestServer};

fn routes() -> Routes {
    Routes::new()
        .at("/report", Reply::html("<title>Annual report</title>"))
        .at("/gone", Reply::status(410))
        .at("/old", Reply::redirect(301, "/report"))
        .at("/forbidden", Reply::status(403))
}

/// A document citing the same report in three footnotes (once with a
/// fragment), a gone page, a moved page and a placeholder.
fn document(server: &TestServer) -> String {
    let ok = server.url("/report");
    format!(
        "# Letter\n\
         \n\
         A claim.[^1] Again.[^2] Gone.[^3] Moved.[^4] Third time.[^5] Blocked.[^6]\n\
         \n\
         [^1]: Ministry, \"Annual report\", 2023. Available at <{ok}#part-2>.\n\
         [^2]: See [the annual report]({ok}).\n\
         [^3]: Agency, \"Old page\". Available at <{gone}>.\n\
         [^4]: Moved page at <{old}>.\n\
         [^5]: Ibid., <{ok}>.\n\
         [^6]: Members only: <{forbidden}>.\n",
        gone = server.url("/gone"),
        old = server.url("/old"),
        forbidden = server.url("/forbidden"),
    )
}

fn write_doc(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("letter.md");
    std::fs::write(&path, text).unwrap();
    path
}

fn check_cmd() -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("linkrot");
    cmd.arg("check")
        .args([
            "--host-interval",
            "0",
            "--timeout",
            "5",
            "--retry-base-delay",
            "10ms",
        ])
        .env_remove("CI");
    cmd
}

#[test]
fn csv_report_has_every_column_in_document_order() {
    let server = TestServer::start(routes());
    let dir = tempfile::tempdir().unwrap();
    let doc = write_doc(dir.path(), &document(&server));
    let out = dir.path().join("out");
    // Status codes only: this test counts the checker's own requests (the
    // content checks' GETs and probes are counted in soft404_cli.rs).
    let assert = check_cmd()
        .arg(&doc)
        .arg("--output")
        .arg(&out)
        .arg("--no-content")
        .assert()
        .code(1);
    let output = assert.get_output();
    assert!(output.stdout.is_empty(), "stdout must stay empty");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("6 citations, 4 unique URLs"), "{stderr}");
    assert!(stderr.contains("1 failing citations"), "{stderr}");

    // The shared report URL was requested once, although cited three times.
    assert_eq!(
        server.hits("/report"),
        2,
        "one HEAD for /report, one after /old's redirect"
    );
    assert_eq!(server.hits_with("HEAD", "/report"), 2);

    let mut reader = csv::Reader::from_path(out.join("linkrot.csv")).unwrap();
    let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        headers,
        [
            "document",
            "line",
            "column",
            "footnote",
            "footnote_line",
            "citation",
            "link_text",
            "url",
            "scope",
            "kind",
            "verdict",
            "status",
            "final_url",
            "redirects",
            "redirect_chain",
            "error",
            "method",
            "attempts",
            "elapsed_ms",
            "checked_at",
            "content_type",
            "content_length",
            "archive_file",
            "archive_offset",
            "payload_digest",
            "archived_at",
            "archive_error",
            "wayback_url",
            "wayback_timestamp",
            "citation_date",
            "wayback_error",
            "robust_link",
            "reason",
            "drift",
            "state",
            "change",
            "first_seen",
            "last_ok",
            "first_failed",
            "consecutive_failures",
            "dead_since",
            "source",
            "via",
            "page",
            "derived_from",
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 6);
    let col = |row: &csv::StringRecord, name: &str| -> String {
        let i = headers.iter().position(|h| h == name).unwrap();
        row[i].to_string()
    };
    let doc_name = doc.to_string_lossy().to_string();
    let ok = server.url("/report");

    let first = &rows[0];
    assert_eq!(col(first, "document"), doc_name);
    assert_eq!(col(first, "line"), "5");
    assert_eq!(col(first, "column"), "54");
    assert_eq!(col(first, "footnote"), "1");
    assert_eq!(col(first, "footnote_line"), "5");
    assert!(col(first, "citation").contains("Ministry, \"Annual report\", 2023."));
    assert_eq!(col(first, "link_text"), "");
    assert_eq!(col(first, "url"), format!("{ok}#part-2"));
    assert_eq!(col(first, "scope"), "footnote");
    assert_eq!(col(first, "kind"), "web");
    assert_eq!(col(first, "verdict"), "ok");
    assert_eq!(col(first, "status"), "200");
    assert_eq!(col(first, "final_url"), ok);
    assert_eq!(col(first, "redirects"), "0");
    assert_eq!(col(first, "redirect_chain"), format!("200 {ok}"));
    assert_eq!(col(first, "error"), "");
    assert_eq!(col(first, "method"), "HEAD");
    assert_eq!(col(first, "attempts"), "1");
    assert!(col(first, "elapsed_ms").parse::<u64>().is_ok());
    assert!(col(first, "checked_at").parse::<jiff::Timestamp>().is_ok());
    assert!(col(first, "checked_at").ends_with('Z'));
    assert_eq!(col(first, "content_type"), "text/html; charset=utf-8");
    assert_eq!(col(first, "content_length"), "28");

    // Document order, not completion order; the three citations of the
    // report share one result.
    let footnotes: Vec<String> = rows.iter().map(|r| col(r, "footnote")).collect();
    assert_eq!(footnotes, ["1", "2", "3", "4", "5", "6"]);
    assert_eq!(col(&rows[1], "link_text"), "the annual report");
    assert_eq!(col(&rows[1], "checked_at"), col(first, "checked_at"));
    assert_eq!(col(&rows[4], "checked_at"), col(first, "checked_at"));

    let gone = &rows[2];
    assert_eq!(col(gone, "verdict"), "broken");
    assert_eq!(col(gone, "status"), "410");
    assert_eq!(col(gone, "error"), "410 Gone");
    assert_eq!(col(gone, "method"), "GET");

    let moved = &rows[3];
    assert_eq!(col(moved, "verdict"), "moved");
    assert_eq!(col(moved, "redirects"), "1");
    assert_eq!(
        col(moved, "redirect_chain"),
        format!("301 {} -> 200 {ok}", server.url("/old"))
    );
    assert_eq!(col(moved, "final_url"), ok);

    assert_eq!(col(&rows[5], "verdict"), "blocked");
}

#[test]
fn json_report_and_fail_on() {
    let server = TestServer::start(routes());
    let dir = tempfile::tempdir().unwrap();
    let doc = write_doc(dir.path(), &document(&server));
    let csv_path = dir.path().join("custom.csv");
    // Only "blocked" fails: the 403 fails the run, the 410 does not.
    let output = check_cmd()
        .arg(&doc)
        .args(["--format", "json", "--fail-on", "blocked", "--quiet"])
        .arg("--csv")
        .arg(&csv_path)
        // History and HTML stay in the test's folder, not the repository's reports/.
        .arg("--output")
        .arg(dir.path())
        .assert()
        .code(1)
        .get_output()
        .clone();
    assert!(
        output.stderr.is_empty(),
        "--quiet: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(csv_path.exists());
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[3]["verdict"], "moved");
    let chain = rows[3]["redirect_chain"].as_array().unwrap();
    assert_eq!(chain.len(), 2);
    assert_eq!(chain[0]["status"], 301);
    assert_eq!(chain[0]["location"], "/report");
    assert_eq!(chain[0]["resolved"], server.url("/report"));
    assert_eq!(chain[0]["remote_addr"], server.addr.to_string());
    assert_eq!(rows[0]["footnote"], "1");
    assert_eq!(rows[0]["line"], 5);

    // Accepting 403 and failing on nothing but "broken" (410 is broken).
    check_cmd()
        .arg(&doc)
        .args([
            "--quiet",
            "--accept",
            "200..=299,403",
            "--fail-on",
            "blocked",
        ])
        .arg("--csv")
        .arg(&csv_path)
        .arg("--output")
        .arg(dir.path())
        .assert()
        .code(0);
    let text = std::fs::read_to_string(&csv_path).unwrap();
    assert!(!text.contains(",blocked,"), "{text}");
}

#[test]
fn exit_codes_for_usage_and_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    check_cmd()
        .arg(dir.path().join("missing.md"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("missing.md"));
    check_cmd()
        .args(["--accept", "fine", "x.md"])
        .assert()
        .code(2);
    check_cmd()
        .args(["--exclude", "(", "x.md"])
        .assert()
        .code(2);
    // An output folder that cannot be created: a file stands in the way.
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "").unwrap();
    let doc = write_doc(dir.path(), "Nothing cited.\n");
    check_cmd()
        .arg(&doc)
        .arg("--output")
        .arg(blocker.join("sub"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("cannot write"));
    // Nothing failing: exit 0, and the report exists with just its header.
    let out = dir.path().join("reports");
    check_cmd()
        .arg(&doc)
        .arg("--output")
        .arg(&out)
        .assert()
        .code(0);
    let text = std::fs::read_to_string(out.join("linkrot.csv")).unwrap();
    assert_eq!(text.lines().count(), 1);
}

/// Reports are made to be shared: they get the permissions of any new file
/// (0666 less the umask), not the 0600 of the temporary file they are
/// written through.
#[cfg(unix)]
#[test]
fn reports_get_the_permissions_of_any_new_file() {
    use std::os::unix::fs::PermissionsExt;
    let umask = std::process::Command::new("sh")
        .args(["-c", "umask"])
        .output()
        .unwrap();
    let umask = u32::from_str_radix(String::from_utf8_lossy(&umask.stdout).trim(), 8).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let doc = write_doc(dir.path(), "Nothing cited.\n");
    let out = dir.path().join("reports");
    check_cmd()
        .arg(&doc)
        .arg("--output")
        .arg(&out)
        .args(["--json", "report.json", "--no-history"])
        .current_dir(dir.path())
        .assert()
        .code(0);
    for file in [
        out.join("linkrot.csv"),
        out.join("index.html"),
        dir.path().join("report.json"),
    ] {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o666 & !umask, "{}", file.display());
    }
}

#[test]
fn per_host_limits_hold_for_made_up_hosts() {
    let server = TestServer::start(
        Routes::new()
            .fallback(|_| Reply::html("x").with_delay(std::time::Duration::from_millis(30))),
    );
    let hosts: Vec<String> = (0..8).map(|i| format!("site{i}.test")).collect();
    let mut doc = String::from("Claims.\n\n");
    let mut n = 0;
    for host in &hosts {
        for i in 0..6 {
            n += 1;
            doc.push_str(&format!(
                "[^{n}]: Source {n}, <{}>.\n",
                server.url_for_host(host, &format!("/page{i}"))
            ));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = write_doc(dir.path(), &doc);
    // The default single network thread, then several: the limits are
    // shared state, and must hold when checks run truly in parallel.
    for (run, threads) in ["1", "3"].into_iter().enumerate() {
        let mut cmd = check_cmd();
        cmd.arg(&path).arg("--output").arg(dir.path()).args([
            "--threads",
            threads,
            "--host-concurrency",
            "2",
            "--max-concurrency",
            "6",
            "--quiet",
            "--no-history",
            // Counts one request per URL: no content GETs or probes.
            "--no-content",
        ]);
        for host in &hosts {
            cmd.arg("--resolve").arg(server.resolve_arg(host));
        }
        cmd.assert().code(0);
        let peaks = server.peak_per_host();
        assert_eq!(peaks.len(), 8, "{peaks:?}");
        assert!(peaks.values().all(|&p| p <= 2), "{threads}: {peaks:?}");
        assert!(server.peak_total() <= 6, "{threads}");
        assert_eq!(server.requests().len(), 48 * (run + 1), "{threads}");
    }
    check_cmd()
        .args(["--threads", "0"])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--threads"));
}

/// An "Ibid." note is reported with the verdict of the note it repeats,
/// `via` naming that note; identifiers become checkable rows too.
#[test]
fn repeating_notes_show_the_repeated_verdict_via_it() {
    let server = TestServer::start(routes());
    let doc = format!(
        "Claims.[^1] [^2] [^3] [^4]\n\
         \n\
         [^1]: Agency, \"Old page\". Available at <{gone}>.\n\
         [^2]: Ibid.\n\
         [^3]: Ministry report at <{ok}>.\n\
         [^4]: Id.\n",
        gone = server.url("/gone"),
        ok = server.url("/report"),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = write_doc(dir.path(), &doc);
    check_cmd()
        .arg(&path)
        .arg("--output")
        .arg(dir.path())
        .arg("--quiet")
        .assert()
        .code(1);
    let mut reader = csv::Reader::from_path(dir.path().join("linkrot.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<(String, String, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[col("footnote")].to_string(),
                r[col("verdict")].to_string(),
                r[col("via")].to_string(),
            )
        })
        .collect();
    let gone_verdict = rows[0].1.clone();
    let ok_verdict = rows[2].1.clone();
    assert_ne!(gone_verdict, ok_verdict);
    assert_eq!(
        rows,
        [
            ("1".to_string(), gone_verdict.clone(), String::new()),
            ("2".to_string(), gone_verdict, "1".to_string()),
            ("3".to_string(), ok_verdict.clone(), String::new()),
            ("4".to_string(), ok_verdict, "3".to_string()),
        ]
    );
}

/// `linkrot check` reads DOCX too: a footnote's hyperlink and a typed URL
/// are checked, and the report numbers the notes as Word shows them.
#[test]
fn docx_footnotes_are_checked() {
    use std::io::Write;
    let server = TestServer::start(routes());
    const W: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships""#;
    let document = format!(
        r#"<w:document {W}><w:body><w:p><w:r><w:t>Claim.</w:t></w:r><w:r><w:footnoteReference w:id="4"/></w:r><w:r><w:footnoteReference w:id="2"/></w:r></w:p></w:body></w:document>"#
    );
    let footnotes = format!(
        r#"<w:footnotes {W}><w:footnote w:id="2"><w:p><w:r><w:t>Old page at {gone}.</w:t></w:r></w:p></w:footnote><w:footnote w:id="4"><w:p><w:hyperlink r:id="rId1"><w:r><w:t>the report</w:t></w:r></w:hyperlink></w:p></w:footnote></w:footnotes>"#,
        gone = server.url("/gone")
    );
    let rels = format!(
        r#"<Relationships><Relationship Id="rId1" Target="{}" TargetMode="External"/></Relationships>"#,
        server.url("/report")
    );
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, content) in [
        ("word/document.xml", &document),
        ("word/footnotes.xml", &footnotes),
        ("word/_rels/footnotes.xml.rels", &rels),
    ] {
        zip.start_file(name, options).unwrap();
        zip.write_all(content.as_bytes()).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("letter.docx");
    std::fs::write(&path, zip.finish().unwrap().into_inner()).unwrap();
    check_cmd()
        .arg(&path)
        .arg("--output")
        .arg(dir.path())
        .arg("--quiet")
        .assert()
        .code(1);
    let mut reader = csv::Reader::from_path(dir.path().join("linkrot.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<(String, String, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[col("footnote")].to_string(),
                r[col("url")].to_string(),
                r[col("status")].to_string(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("1".to_string(), server.url("/report"), "200".to_string()),
            ("2".to_string(), server.url("/gone"), "410".to_string()),
        ]
    );
}

/// `LINKROT_LOG=debug` logs each phase of the run with its time on stderr;
/// without it, nothing of the sort is printed.
#[test]
fn linkrot_log_reports_the_phases_of_a_run() {
    let server = TestServer::start(routes());
    let dir = tempfile::tempdir().unwrap();
    let doc = write_doc(dir.path(), &document(&server));
    let logged = check_cmd()
        .arg(&doc)
        .arg("--output")
        .arg(dir.path().join("out"))
        .env("LINKROT_LOG", "linkrot=debug")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&logged.stderr);
    for phase in [
        "scanned",
        "history read",
        "checked",
        "standings ready",
        "CSV written",
        "HTML written",
        "history committed",
        "done",
    ] {
        assert!(stderr.contains(phase), "no {phase:?} in {stderr}");
    }
    assert!(stderr.contains("elapsed="), "{stderr}");
    let quiet = check_cmd()
        .arg(&doc)
        .arg("--output")
        .arg(dir.path().join("out2"))
        .env_remove("LINKROT_LOG")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains("standings ready"));
}

/// Thousands of rows wait on disk between the checks and the reports and
/// are read back through windows; each must come back in document order
/// with its own URL's result, in the CSV, the JSON and the HTML page.
#[test]
fn many_rows_come_back_in_order_with_their_own_results() {
    // Every third page is gone: a row with the wrong result shows.
    let server = TestServer::start(Routes::new().fallback(|req| {
        let n: usize = req
            .path
            .trim_start_matches("/p/")
            .parse()
            .unwrap_or(usize::MAX);
        Reply::status(if n.is_multiple_of(3) { 404 } else { 200 })
    }));
    let dir = tempfile::tempdir().unwrap();
    // Two documents; the second cites the first's URLs again, far back in
    // the spool, and long notes make the records span many windows.
    let (notes, urls) = (1_500, 1_000);
    let mut paths = Vec::new();
    for (d, range) in [(1, 0..notes), (2, notes..notes * 2)] {
        let mut text = String::from("# Report\n\n");
        for i in range.clone() {
            text.push_str(&format!("Claim {i}.[^{i}]\n"));
        }
        text.push('\n');
        for i in range {
            text.push_str(&format!(
                "[^{i}]: Agency, \"Title {i} {}\", 2023. Available at <{}>.\n",
                "of a long report ".repeat(6),
                server.url(&format!("/p/{}", i % urls))
            ));
        }
        let path = dir.path().join(format!("doc{d}.md"));
        std::fs::write(&path, text).unwrap();
        paths.push(path);
    }
    let out = dir.path().join("out");
    let json = dir.path().join("rows.json");
    check_cmd()
        .args(&paths)
        .arg("--output")
        .arg(&out)
        .arg("--json")
        .arg(&json)
        .args(["--no-content", "--no-history", "--host-concurrency", "32"])
        .assert()
        .code(1);

    let expected = |i: usize| {
        let n = i % urls;
        let (verdict, status) = if n.is_multiple_of(3) {
            ("broken", "404")
        } else {
            ("ok", "200")
        };
        (server.url(&format!("/p/{n}")), verdict, status)
    };
    let mut reader = csv::Reader::from_path(out.join("linkrot.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), notes * 2);
    for (i, row) in rows.iter().enumerate() {
        let (url, verdict, status) = expected(i);
        assert_eq!(row[col("footnote")], i.to_string(), "row {i} out of order");
        assert_eq!(row[col("url")], url, "row {i}");
        assert_eq!(row[col("verdict")], *verdict, "row {i}");
        assert_eq!(row[col("status")], *status, "row {i}");
        assert!(
            row[col("citation")].contains(&format!("Title {i} ")),
            "row {i}"
        );
    }

    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(rows.len(), notes * 2);
    for (i, row) in rows.iter().enumerate() {
        let (url, verdict, _) = expected(i);
        assert_eq!(row["url"], url, "JSON row {i}");
        assert_eq!(row["verdict"], verdict, "JSON row {i}");
    }

    // The page lists every row under its document, in document order.
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    let broken = (0..notes * 2)
        .filter(|i| (i % urls).is_multiple_of(3))
        .count();
    assert_eq!(page.matches("<tr data-v=\"broken\"").count(), broken);
    assert_eq!(
        page.matches("<tr data-v=\"ok\"").count(),
        notes * 2 - broken
    );
    let at = |text: &str| page.find(text).unwrap_or_else(|| panic!("{text} missing"));
    assert!(at("Title 10 of") < at("Title 11 of"));
    assert!(at("Title 1499 of") < at("Title 1500 of"));
    assert!(at("doc1.md") < at("doc2.md"));
}
