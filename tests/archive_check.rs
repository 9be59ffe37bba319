//! `linkrot check --archive` and `--wayback` end to end: a document citing
//! loopback pages, the report's archive and Wayback columns, the WARC and
//! index beside it.

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use common::warc::read_records;
use common::{Reply, Request, Routes, TestServer};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn pages() -> TestServer {
    let same = "<html><body>the same text under two addresses</body></html>";
    TestServer::start(
        Routes::new()
            .at(
                "/plain",
                Reply::html("<html><body>a plain page</body></html>"),
            )
            .at("/r1", Reply::redirect(301, "/r2"))
            .at("/r2", Reply::redirect(302, "/final"))
            .at(
                "/final",
                Reply::html("<html><body>the end of the chain</body></html>"),
            )
            .at(
                "/doc.pdf",
                Reply::body(200, "application/pdf", b"%PDF-1.4\n%%EOF\n".to_vec()),
            )
            .at(
                "/gz",
                Reply::body(200, "text/html", gzip(b"<html>compressed</html>"))
                    .with_header("content-encoding", "gzip"),
            )
            .at("/big", Reply::body(200, "text/plain", vec![b'x'; 300_000]))
            .at("/same-a", Reply::html(same))
            .at("/same-b", Reply::html(same))
            .at(
                "/twice",
                Reply::html("<html><body>cited twice</body></html>"),
            )
            .at("/gone", Reply::status(404)),
    )
}

fn document(dir: &Path, server: &TestServer) -> std::path::PathBuf {
    let u = |p: &str| server.url(p);
    let text = format!(
        "# A report\n\n17 October 2024\n\nText.[^1] More.[^2] And.[^3] Also.[^4] Then.[^5] \
         Again.[^6] Still.[^7] Once more.[^8] Last.[^9] Gone.[^10]\n\n\
         [^1]: A plain page, {plain}.\n\
         [^2]: Moved twice, {r1}.\n\
         [^3]: A report, 27 March 2023. Available at {pdf}.\n\
         [^4]: Compressed, {gz}.\n\
         [^5]: Large, {big}.\n\
         [^6]: Same text, {a}.\n\
         [^7]: Same text elsewhere, {b}.\n\
         [^8]: Cited twice, {twice}.\n\
         [^9]: Cited twice again, {twice} (accessed 3 May 2022).\n\
         [^10]: A page that is gone, {gone} (accessed 3 May 2022).\n",
        plain = u("/plain"),
        r1 = u("/r1"),
        pdf = u("/doc.pdf"),
        gz = u("/gz"),
        big = u("/big"),
        a = u("/same-a"),
        b = u("/same-b"),
        twice = u("/twice"),
        gone = u("/gone"),
    );
    let path = dir.join("report.md");
    std::fs::write(&path, text).unwrap();
    path
}

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

fn row<'a>(rows: &'a [HashMap<String, String>], footnote: &str) -> &'a HashMap<String, String> {
    rows.iter()
        .find(|r| r["footnote"] == footnote)
        .unwrap_or_else(|| panic!("no row for footnote {footnote}"))
}

#[test]
fn check_archive_writes_snapshots_and_report_columns() {
    let server = pages();
    let dir = tempfile::tempdir().unwrap();
    let doc = document(dir.path(), &server);
    let archive = dir.path().join("archive");
    let out = assert_cmd::cargo::cargo_bin_cmd!("linkrot")
        .arg("check")
        .arg(&doc)
        .arg("--output")
        .arg(dir.path())
        .arg("--archive")
        .arg(&archive)
        .args([
            "--archive-private",
            "--archive-max-bytes",
            "100000",
            "--archive-operator",
            "Test Library",
            "--host-interval",
            "0ms",
            "--header",
            "X-Api-Key: s3cret",
            "--quiet",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the 404 fails the run: {stderr}"
    );
    let rows = read_csv(&dir.path().join("linkrot.csv"));
    assert_eq!(rows.len(), 10);

    let files: Vec<_> = std::fs::read_dir(&archive)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".warc.gz"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let warc = archive.join(&files[0]);
    let records = read_records(&warc);
    let by_offset: HashMap<u64, &common::warc::Record> =
        records.iter().map(|r| (r.offset, r)).collect();

    for note in ["1", "2", "3", "4", "5", "6", "7", "8", "9"] {
        let r = row(&rows, note);
        assert_eq!(
            r["archive_file"],
            warc.display().to_string(),
            "footnote {note}"
        );
        let offset: u64 = r["archive_offset"].parse().unwrap();
        let record = by_offset
            .get(&offset)
            .unwrap_or_else(|| panic!("footnote {note}: no record at {offset}"));
        assert_eq!(
            record.field("WARC-Payload-Digest").unwrap(),
            r["payload_digest"]
        );
        let date: jiff::Timestamp = r["archived_at"].parse().unwrap();
        assert_eq!(
            record.field("WARC-Date").unwrap(),
            date.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
        );
        assert_eq!(r["archive_error"], "");
    }
    // The redirect chain points at its final answer.
    let chain = by_offset[&row(&rows, "2")["archive_offset"].parse::<u64>().unwrap()];
    assert_eq!(
        chain.field("WARC-Target-URI").unwrap(),
        server.url("/final")
    );
    assert!(records.iter().any(|r| r.kind() == "response"
        && r.field("WARC-Target-URI") == Some(server.url("/r1").as_str())));
    // The oversized body is cut and marked.
    let big = by_offset[&row(&rows, "5")["archive_offset"].parse::<u64>().unwrap()];
    assert_eq!(big.field("WARC-Truncated"), Some("length"));
    // The same text twice: the second copy is a revisit.
    let a = by_offset[&row(&rows, "6")["archive_offset"].parse::<u64>().unwrap()];
    let b = by_offset[&row(&rows, "7")["archive_offset"].parse::<u64>().unwrap()];
    assert_eq!(
        [a.kind(), b.kind()]
            .iter()
            .filter(|k| **k == "revisit")
            .count(),
        1
    );
    // A page cited by two footnotes is fetched and stored once.
    assert_eq!(
        row(&rows, "8")["archive_offset"],
        row(&rows, "9")["archive_offset"]
    );
    assert_eq!(
        records
            .iter()
            .filter(|r| r.field("WARC-Target-URI") == Some(server.url("/twice").as_str()))
            .count(),
        2,
        "one request and one response"
    );
    // The gone page has no snapshot.
    let gone = row(&rows, "10");
    assert_eq!(gone["verdict"], "broken");
    assert_eq!(gone["archive_file"], "");
    assert!(
        !records
            .iter()
            .any(|r| r.field("WARC-Target-URI") == Some(server.url("/gone").as_str()))
    );
    // --header values never reach the archive.
    for r in records.iter().filter(|r| r.kind() == "request") {
        let head = r.http_head();
        assert!(head.contains("x-api-key: [redacted]\r\n"), "{head}");
        assert!(!head.contains("s3cret"));
    }
    let info = String::from_utf8_lossy(&records[0].block).to_string();
    assert!(info.contains("operator: Test Library\r\n"));
    assert!(info.contains("--header [redacted]"), "{info}");
    assert!(!info.contains("s3cret"));

    // The index, and the archive verifies.
    let index = std::fs::read_to_string(archive.join("index.cdxj")).unwrap();
    assert_eq!(
        index.lines().count(),
        records
            .iter()
            .filter(|r| matches!(r.kind(), "response" | "revisit"))
            .count()
    );
    let verify = assert_cmd::cargo::cargo_bin_cmd!("linkrot")
        .args(["warc", "verify"])
        .arg(&warc)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

#[test]
fn an_archive_folder_that_cannot_be_made_stops_the_run_before_any_request() {
    let server = pages();
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("doc.md");
    std::fs::write(
        &doc,
        format!("Text.[^1]\n\n[^1]: A page, {}.\n", server.url("/plain")),
    )
    .unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "not a folder").unwrap();
    let out = assert_cmd::cargo::cargo_bin_cmd!("linkrot")
        .arg("check")
        .arg(&doc)
        .arg("--output")
        .arg(dir.path())
        .arg("--archive")
        .arg(blocker.join("archive"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "cannot create archive directory {}",
            blocker.join("archive").display()
        )),
        "{stderr}"
    );
    assert_eq!(server.requests().len(), 0);
}

#[test]
fn check_archive_refuses_private_addresses_but_still_checks_them() {
    let server = pages();
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("doc.md");
    std::fs::write(
        &doc,
        format!("Text.[^1]\n\n[^1]: A page, {}.\n", server.url("/plain")),
    )
    .unwrap();
    let out = assert_cmd::cargo::cargo_bin_cmd!("linkrot")
        .arg("check")
        .arg(&doc)
        .arg("--output")
        .arg(dir.path())
        .arg("--archive")
        .arg(dir.path().join("archive"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "linkrot: not archived: {}: {}: 127.0.0.1 is a loopback address",
            server.url("/plain"),
            server.url("/plain")
        )),
        "{stderr}"
    );
    let rows = read_csv(&dir.path().join("linkrot.csv"));
    assert_eq!(rows[0]["verdict"], "ok");
    assert_eq!(rows[0]["archive_file"], "");
    assert!(rows[0]["archive_error"].contains("loopback"));
    assert!(
        stderr.contains(&format!(
            "archive: 0 pages in {}, 1 not archived",
            dir.path().join("archive").display()
        )),
        "{stderr}"
    );
}

/// Availability answers: `/gone` has a capture before 3 May 2022; `/moved`
/// only before 17 October 2024 (the document's date).
fn availability(req: &Request) -> Reply {
    let body = String::from_utf8(req.body.clone()).unwrap();
    let mut results = Vec::new();
    for line in body.lines() {
        let q: HashMap<String, String> = url::form_urlencoded::parse(line.as_bytes())
            .into_owned()
            .filter(|(k, _)| k != "statuscodes")
            .collect();
        let url = &q["url"];
        let found = match (url.rsplit('/').next().unwrap(), q["timestamp"].as_str()) {
            ("gone", "20220503235959") => Some("20220501120000"),
            ("lost", "20241017235959") => Some("20241001000000"),
            _ => None,
        };
        let snapshots = match found {
            Some(ts) if q["closest"] == "before" => serde_json::json!({"closest": {
                "available": true,
                "url": format!("http://web.archive.org/web/{ts}/{url}"),
                "timestamp": ts,
                "status": "200"
            }}),
            _ => serde_json::json!({}),
        };
        results.push(serde_json::json!({"tag": q["tag"], "archived_snapshots": snapshots}));
    }
    Reply::body(
        200,
        "application/json",
        serde_json::json!({ "results": results }).to_string(),
    )
}

#[test]
fn check_wayback_lookup_finds_copies_near_the_citation_date() {
    let site = pages();
    let ia = TestServer::start(Routes::new().with("/wayback/available", availability));
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("doc.md");
    std::fs::write(
        &doc,
        format!(
            "# Letter\n\nDistr.: General\n17 October 2024\n\nText.[^1] More.[^2] Live.[^3]\n\n\
             [^1]: Gone, {} (accessed 3 May 2022).\n\
             [^2]: Lost, {}.\n\
             [^3]: Live, {}.\n",
            site.url("/gone"),
            site.url("/lost"),
            site.url("/plain")
        ),
    )
    .unwrap();
    let json_path = dir.path().join("report.json");
    let out = assert_cmd::cargo::cargo_bin_cmd!("linkrot")
        .arg("check")
        .arg(&doc)
        .arg("--output")
        .arg(dir.path())
        .arg("--json")
        .arg(&json_path)
        .args(["--wayback", "lookup", "--wayback-endpoint", &ia.url("/")])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = read_csv(&dir.path().join("linkrot.csv"));
    let gone = row(&rows, "1");
    assert_eq!(gone["citation_date"], "2022-05-03");
    assert_eq!(gone["wayback_timestamp"], "20220501120000");
    assert_eq!(
        gone["wayback_url"],
        format!(
            "https://web.archive.org/web/20220501120000/{}",
            site.url("/gone")
        )
    );
    let lost = row(&rows, "2");
    assert_eq!(lost["citation_date"], "2024-10-17", "the document's date");
    assert_eq!(lost["wayback_timestamp"], "20241001000000");
    let live = row(&rows, "3");
    assert_eq!(
        live["wayback_url"], "",
        "lookup asks only for failing citations"
    );
    assert_eq!(live["wayback_error"], "");
    // Both failing citations were found before their dates: one POST.
    assert_eq!(ia.hits("/wayback/available"), 1);

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let text = json.to_string();
    assert!(
        text.contains(&format!(
            "data-originalurl=\\\"{}\\\" data-versionurl=\\\"https://web.archive.org/web/20220501120000/{}\\\" data-versiondate=\\\"2022-05-01\\\"",
            site.url("/gone"),
            site.url("/gone")
        )),
        "{text}"
    );

    // lookup-all asks for the live citation too (nothing found for it).
    let out = assert_cmd::cargo::cargo_bin_cmd!("linkrot")
        .arg("check")
        .arg(&doc)
        .arg("--output")
        .arg(dir.path())
        .args([
            "--wayback",
            "lookup-all",
            "--wayback-endpoint",
            &ia.url("/"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let rows = read_csv(&dir.path().join("linkrot.csv"));
    let live = row(&rows, "3");
    assert_eq!(live["citation_date"], "2024-10-17");
    assert_eq!(live["wayback_url"], "");
    assert_eq!(live["wayback_error"], "no capture in the Wayback Machine");
    assert_eq!(row(&rows, "1")["wayback_timestamp"], "20220501120000");
}

#[test]
fn check_wayback_save_submits_live_citations() {
    let site = pages();
    let ia = TestServer::start(
        Routes::new()
            .at(
                "/save/status/user",
                Reply::body(200, "application/json", r#"{"available":5,"processing":0}"#),
            )
            .at(
                "/save",
                Reply::body(200, "application/json", r#"{"url":"x","job_id":"j1"}"#),
            )
            .with("/save/status/j1", |req| {
                let body = if req.seen_before == 0 {
                    r#"{"status":"pending"}"#.to_string()
                } else {
                    r#"{"status":"success","original_url":"ORIG","timestamp":"20261128040000"}"#
                        .to_string()
                };
                Reply::body(200, "application/json", body)
            }),
    );
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("doc.md");
    std::fs::write(
        &doc,
        format!("Text.[^1]\n\n[^1]: Live, {}.\n", site.url("/plain")),
    )
    .unwrap();
    let out = assert_cmd::cargo::cargo_bin_cmd!("linkrot")
        .arg("check")
        .arg(&doc)
        .arg("--output")
        .arg(dir.path())
        .args(["--wayback", "save", "--wayback-endpoint", &ia.url("/")])
        .args(["--wayback-poll-ms", "10"])
        .env("LINKROT_IA_ACCESS_KEY", "key")
        .env("LINKROT_IA_SECRET_KEY", "secret")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = read_csv(&dir.path().join("linkrot.csv"));
    assert_eq!(rows[0]["wayback_timestamp"], "20261128040000");
    assert_eq!(
        rows[0]["wayback_url"],
        format!("{}web/20261128040000/ORIG", ia.url("/"))
    );
    assert_eq!(ia.hits("/save"), 1);
    assert_eq!(ia.hits("/save/status/j1"), 2);
    let auth = ia
        .requests()
        .iter()
        .find(|r| r.path == "/save")
        .and_then(|r| r.header("authorization").map(str::to_string));
    assert_eq!(auth.as_deref(), Some("LOW key:secret"));
}
