//! The archive's WARC output, record by record, against loopback servers;
//! `linkrot warc verify` and warcio on what it wrote.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::warc::{Record, find, read_records, sha1_b32};
use common::{Reply, Routes, TestServer};
use linkrot::archive::fetch::FetchOptions;
use linkrot::archive::warc::RunInfo;
use linkrot::archive::{ArchiveOptions, Archiver, Snapshot};

const MAX_BYTES: u64 = 100_000;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn pdf() -> Vec<u8> {
    let mut bytes = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n".to_vec();
    bytes.extend((0..=255u8).cycle().take(5000));
    bytes.extend(b"\n%%EOF\n");
    bytes
}

fn server() -> TestServer {
    let same = "<html><body>the same page under two addresses</body></html>";
    TestServer::start(
        Routes::new()
            .at(
                "/plain",
                Reply::html("<html><body>a plain page</body></html>"),
            )
            .at("/r1", Reply::redirect(301, "/r2"))
            .at("/r2", Reply::redirect(302, "final"))
            .at(
                "/final",
                Reply::html("<html><body>where the chain ends</body></html>"),
            )
            .at("/doc.pdf", Reply::body(200, "application/pdf", pdf()))
            .at(
                "/bomb",
                Reply::body(200, "text/plain", gzip(&vec![0u8; 20 << 20]))
                    .with_header("content-encoding", "gzip"),
            )
            .at("/big", Reply::body(200, "text/plain", vec![b'x'; 300_000]))
            .at("/same-a", Reply::html(same))
            .at("/same-b", Reply::html(same)),
    )
}

fn options(dir: &Path, allow_private: bool) -> ArchiveOptions {
    ArchiveOptions {
        dir: dir.to_path_buf(),
        max_file: linkrot::archive::DEFAULT_MAX_FILE,
        run: RunInfo {
            software: "linkrot/test".into(),
            command: "linkrot check doc.md --archive".into(),
            operator: Some("Test Library".into()),
            user_agent: "linkrot-test".into(),
        },
        fetch: FetchOptions {
            max_bytes: MAX_BYTES,
            allow_private,
            retry_delay: std::time::Duration::from_millis(10),
            headers: vec![("x-api-key".parse().unwrap(), "s3cret-key".parse().unwrap())],
            ..FetchOptions::default()
        },
    }
}

struct Archived {
    dir: tempfile::TempDir,
    server: TestServer,
    snapshots: Vec<(String, Result<Snapshot, String>)>,
    files: Vec<String>,
}

impl Archived {
    fn file(&self) -> PathBuf {
        self.dir.path().join(&self.files[0])
    }

    fn snapshot(&self, path: &str) -> &Snapshot {
        let url = self.server.url(path);
        self.snapshots
            .iter()
            .find(|(u, _)| *u == url)
            .unwrap()
            .1
            .as_ref()
            .unwrap()
    }
}

fn archive(paths: &[&str]) -> Archived {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let urls: Vec<String> = paths.iter().map(|p| server.url(p)).collect();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (snapshots, files) = rt.block_on(async {
        let archiver = Archiver::start(options(dir.path(), true)).unwrap();
        let mut snapshots = Vec::new();
        // One at a time, so the revisit order is known.
        for url in &urls {
            snapshots.push((url.clone(), archiver.snapshot(url).await));
        }
        let files = archiver.finish().await.unwrap();
        (snapshots, files)
    });
    Archived {
        dir,
        server,
        snapshots,
        files,
    }
}

const ALL: [&str; 7] = [
    "/plain", "/r1", "/doc.pdf", "/bomb", "/big", "/same-a", "/same-b",
];

fn by_uri<'a>(records: &'a [Record], kind: &str, uri: &str) -> &'a Record {
    records
        .iter()
        .find(|r| r.kind() == kind && r.field("WARC-Target-URI") == Some(uri))
        .unwrap_or_else(|| panic!("no {kind} record for {uri}"))
}

#[test]
fn records_field_by_field() {
    let a = archive(&ALL);
    assert_eq!(a.files.len(), 1);
    assert!(
        a.files[0].starts_with("linkrot-") && a.files[0].ends_with("-00000.warc.gz"),
        "{}",
        a.files[0]
    );
    let records = read_records(&a.file());

    let info = &records[0];
    assert_eq!(info.kind(), "warcinfo");
    assert_eq!(info.field("WARC-Filename"), Some(a.files[0].as_str()));
    assert_eq!(info.field("Content-Type"), Some("application/warc-fields"));
    assert_eq!(info.field("WARC-Target-URI"), None);
    let info_text = String::from_utf8_lossy(&info.block);
    assert!(info_text.contains("software: linkrot/test\r\n"));
    assert!(info_text.contains("format: WARC File Format 1.1\r\n"));
    assert!(info_text.contains("operator: Test Library\r\n"));
    assert!(info_text.contains("description: linkrot check doc.md --archive\r\n"));

    for r in &records {
        let id = r.field("WARC-Record-ID").unwrap();
        assert!(
            id.starts_with("<urn:uuid:") && id.ends_with('>') && id.len() == 47,
            "{id}"
        );
        let date = r.field("WARC-Date").unwrap();
        assert!(
            date.parse::<jiff::Timestamp>().is_ok() && date.ends_with('Z'),
            "{date}"
        );
        assert_eq!(
            r.field("Content-Length").unwrap(),
            r.block.len().to_string()
        );
        assert_eq!(
            r.field("WARC-Block-Digest").unwrap(),
            sha1_b32(&r.block),
            "block digest of {:?}",
            r.field("WARC-Target-URI")
        );
    }

    // The plain page: a request and a response sharing WARC-Date, linked.
    let url = a.server.url("/plain");
    let req = by_uri(&records, "request", &url);
    let resp = by_uri(&records, "response", &url);
    assert_eq!(req.field("WARC-Date"), resp.field("WARC-Date"));
    assert_eq!(
        req.field("WARC-Concurrent-To"),
        resp.field("WARC-Record-ID")
    );
    assert_eq!(
        resp.field("WARC-Concurrent-To"),
        req.field("WARC-Record-ID")
    );
    assert_eq!(resp.field("WARC-IP-Address"), Some("127.0.0.1"));
    assert_eq!(req.field("WARC-IP-Address"), Some("127.0.0.1"));
    assert_eq!(
        req.field("Content-Type"),
        Some("application/http; msgtype=request")
    );
    assert_eq!(
        resp.field("Content-Type"),
        Some("application/http; msgtype=response")
    );
    assert!(resp.http_head().starts_with("HTTP/1.1 200 OK\r\n"));
    assert_eq!(resp.http_body(), b"<html><body>a plain page</body></html>");
    assert_eq!(
        resp.field("WARC-Payload-Digest").unwrap(),
        sha1_b32(resp.http_body())
    );
    let req_head = req.http_head();
    assert!(
        req_head.starts_with("GET /plain HTTP/1.1\r\n"),
        "{req_head}"
    );
    assert!(req_head.contains(&format!("host: {}\r\n", a.server.addr)));
    assert!(req_head.contains("x-api-key: [redacted]\r\n"), "{req_head}");
    assert!(!req_head.contains("s3cret"));
    let snap = a.snapshot("/plain");
    assert_eq!(snap.archive_offset, resp.offset);
    assert_eq!(snap.archive_file, a.files[0]);
    assert_eq!(
        snap.payload_digest,
        resp.field("WARC-Payload-Digest").unwrap()
    );
    assert_eq!(
        linkrot::archive::warc::warc_date(snap.archived_at),
        resp.field("WARC-Date").unwrap()
    );

    // The redirect chain: every hop is an exchange; the snapshot points at
    // the final answer.
    let hops: Vec<&Record> = ["/r1", "/r2", "/final"]
        .iter()
        .map(|p| by_uri(&records, "response", &a.server.url(p)))
        .collect();
    assert!(
        hops[0]
            .http_head()
            .starts_with("HTTP/1.1 301 Moved Permanently\r\n")
    );
    assert!(hops[0].http_head().contains("location: /r2\r\n"));
    assert!(hops[1].http_head().starts_with("HTTP/1.1 302 Found\r\n"));
    assert!(hops[2].http_head().starts_with("HTTP/1.1 200 OK\r\n"));
    let snap = a.snapshot("/r1");
    assert_eq!(snap.exchanges, 3);
    assert_eq!(snap.final_url, a.server.url("/final"));
    assert_eq!(snap.archive_offset, hops[2].offset);

    // The PDF, byte for byte.
    let resp = by_uri(&records, "response", &a.server.url("/doc.pdf"));
    assert_eq!(resp.http_body(), pdf().as_slice());
    assert!(
        resp.http_head()
            .contains("content-type: application/pdf\r\n")
    );

    // The gzip bomb: stored compressed, exactly as sent, never inflated.
    let resp = by_uri(&records, "response", &a.server.url("/bomb"));
    let sent = gzip(&vec![0u8; 20 << 20]);
    assert!(resp.http_head().contains("content-encoding: gzip\r\n"));
    assert_eq!(resp.http_body(), sent.as_slice());
    assert!(resp.field("WARC-Truncated").is_none());
    assert_eq!(resp.field("WARC-Payload-Digest").unwrap(), sha1_b32(&sent));

    // The oversized body: cut at the cap and marked.
    let resp = by_uri(&records, "response", &a.server.url("/big"));
    assert_eq!(resp.field("WARC-Truncated"), Some("length"));
    assert_eq!(resp.http_body().len() as u64, MAX_BYTES);
    assert!(resp.http_head().contains("content-length: 300000\r\n"));
    assert!(a.snapshot("/big").truncated);

    // The same page twice: the second is a revisit of the first.
    let first = by_uri(&records, "response", &a.server.url("/same-a"));
    let revisit = by_uri(&records, "revisit", &a.server.url("/same-b"));
    assert_eq!(
        revisit.field("WARC-Profile"),
        Some("http://netpreserve.org/warc/1.1/revisit/identical-payload-digest")
    );
    assert_eq!(
        revisit.field("WARC-Refers-To-Target-URI"),
        Some(a.server.url("/same-a").as_str())
    );
    assert_eq!(
        revisit.field("WARC-Refers-To-Date"),
        first.field("WARC-Date")
    );
    assert_eq!(
        revisit.field("WARC-Refers-To"),
        first.field("WARC-Record-ID")
    );
    assert_eq!(
        revisit.field("WARC-Payload-Digest"),
        first.field("WARC-Payload-Digest")
    );
    assert!(
        revisit.http_body().is_empty(),
        "a revisit stores headers only"
    );
    assert!(a.snapshot("/same-b").revisit);
}

#[test]
fn cdxj_index_lines() {
    let a = archive(&ALL);
    let records = read_records(&a.file());
    let text = std::fs::read_to_string(a.dir.path().join("index.cdxj")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted, "index is sorted");
    // One line per response or revisit: 1 + 3 + 1 + 1 + 1 + 2.
    assert_eq!(lines.len(), 9, "{text}");
    let port = a.server.port();
    for r in records
        .iter()
        .filter(|r| matches!(r.kind(), "response" | "revisit"))
    {
        let url = r.field("WARC-Target-URI").unwrap();
        let path = url.rsplit('/').next().unwrap();
        let ts = r
            .field("WARC-Date")
            .unwrap()
            .replace(['-', ':', 'T', 'Z'], "");
        let line = lines
            .iter()
            .find(|l| l.starts_with(&format!("127.0.0.1:{port})/{path} ")))
            .unwrap_or_else(|| panic!("no line for {url}"));
        let mut parts = line.splitn(3, ' ');
        parts.next();
        assert_eq!(parts.next().unwrap(), ts);
        let json: serde_json::Value = serde_json::from_str(parts.next().unwrap()).unwrap();
        assert_eq!(json["url"], url);
        assert_eq!(json["offset"], r.offset.to_string());
        assert_eq!(json["length"], r.length.to_string());
        assert_eq!(json["filename"], a.files[0]);
        assert_eq!(json["digest"], r.field("WARC-Payload-Digest").unwrap());
        let status = r.http_head()[9..12].to_string();
        assert_eq!(json["status"], status);
        let mime = match (r.kind(), path) {
            ("revisit", _) => "warc/revisit",
            (_, "doc.pdf") => "application/pdf",
            (_, "bomb" | "big") => "text/plain",
            (_, "r1" | "r2") => "unk",
            _ => "text/html",
        };
        assert_eq!(json["mime"], mime, "{line}");
    }
}

#[test]
fn a_later_run_writes_a_new_file_and_revisits_earlier_payloads() {
    let a = archive(&["/plain"]);
    let before = std::fs::read(a.file()).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (snap, files) = rt.block_on(async {
        let archiver = Archiver::start(options(a.dir.path(), true)).unwrap();
        let snap = archiver.snapshot(&a.server.url("/plain")).await.unwrap();
        (snap, archiver.finish().await.unwrap())
    });
    assert_eq!(files.len(), 1);
    assert_ne!(files[0], a.files[0]);
    assert_eq!(
        std::fs::read(a.file()).unwrap(),
        before,
        "old file untouched"
    );
    assert!(snap.revisit);
    let records = read_records(&a.dir.path().join(&files[0]));
    let revisit = by_uri(&records, "revisit", &a.server.url("/plain"));
    assert_eq!(
        revisit.field("WARC-Refers-To-Target-URI"),
        Some(a.server.url("/plain").as_str())
    );
    let index = std::fs::read_to_string(a.dir.path().join("index.cdxj")).unwrap();
    assert_eq!(index.lines().count(), 2, "{index}");
}

#[test]
fn snapshots_refuse_loopback_addresses_without_archive_private() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut opts = options(dir.path(), false);
    opts.fetch.resolve = vec![("public.test".into(), server.addr)];
    let (literal, named, files) = rt.block_on(async {
        let archiver = Archiver::start(opts).unwrap();
        let literal = archiver.snapshot(&server.url("/plain")).await;
        let named = archiver
            .snapshot(&server.url_for_host("public.test", "/plain"))
            .await;
        (literal, named, archiver.finish().await.unwrap())
    });
    let literal = literal.unwrap_err();
    assert!(
        literal.contains("127.0.0.1 is a loopback address"),
        "{literal}"
    );
    // A name pointing at loopback is judged on the address connected to.
    let named = named.unwrap_err();
    assert!(
        named.contains("connected to 127.0.0.1, a loopback address"),
        "{named}"
    );
    assert!(files.is_empty(), "nothing archived");
    assert_eq!(server.hits("/plain"), 1, "the literal was never requested");
}

#[test]
fn snapshots_retry_network_failures_and_server_errors() {
    let server = TestServer::start(
        Routes::new()
            .with("/flaky", |req| {
                if req.seen_before == 0 {
                    Reply::Reset
                } else {
                    Reply::html("<p>second time lucky</p>")
                }
            })
            .at("/down", Reply::status(503)),
    );
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (flaky, down) = rt.block_on(async {
        let archiver = Archiver::start(options(dir.path(), true)).unwrap();
        let flaky = archiver.snapshot(&server.url("/flaky")).await;
        let down = archiver.snapshot(&server.url("/down")).await;
        archiver.finish().await.unwrap();
        (flaky, down)
    });
    assert!(flaky.is_ok(), "{flaky:?}");
    assert_eq!(server.hits("/flaky"), 2);
    assert_eq!(
        down.unwrap_err(),
        format!(
            "{}: answered 503 on every attempt (3 attempts)",
            server.url("/down")
        )
    );
    assert_eq!(server.hits("/down"), 3, "the first try and two retries");
}

fn linkrot(args: &[&str]) -> std::process::Output {
    assert_cmd::cargo::cargo_bin_cmd!("linkrot")
        .args(args)
        .output()
        .unwrap()
}

fn warcio_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import warcio"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED warcio checks: python3 with warcio not found (pip install warcio)");
    }
    ok
}

fn warcio(args: &[&str]) -> std::process::Output {
    // warcio has no __main__; call its command-line entry point.
    Command::new("python3")
        .args([
            "-c",
            "import sys; from warcio.cli import main; sys.exit(main())",
        ])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn warc_verify_and_warcio_accept_a_good_archive() {
    let a = archive(&ALL);
    let path = a.file();
    let out = linkrot(&["warc", "verify", path.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let records = read_records(&path);
    assert_eq!(
        stdout.trim(),
        format!("{}: ok, {} records", path.display(), records.len())
    );
    if !warcio_available() {
        return;
    }
    let check = warcio(&["check", "-v", path.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "warcio check: {text}");
    assert!(!text.contains("failed"), "{text}");
    let index = warcio(&[
        "index",
        "-f",
        "warc-type,warc-target-uri,http:status,offset,length",
        path.to_str().unwrap(),
    ]);
    assert!(index.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&index.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), records.len());
    for (line, record) in lines.iter().zip(&records) {
        assert_eq!(line["warc-type"], record.kind());
        assert_eq!(line["offset"], record.offset.to_string());
        assert_eq!(line["length"], record.length.to_string());
    }
}

/// Rewrites the member at `offset` through `edit` (decompress, change,
/// recompress) and drops everything after it.
fn rewrite_member(path: &Path, offset: u64, edit: impl Fn(&mut Vec<u8>)) {
    let bytes = std::fs::read(path).unwrap();
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(&bytes[offset as usize..])
        .read_to_end(&mut text)
        .unwrap();
    edit(&mut text);
    let mut out = bytes[..offset as usize].to_vec();
    out.extend(gzip(&text));
    std::fs::write(path, out).unwrap();
}

#[test]
fn warc_verify_catches_a_truncated_file_warcio_passes() {
    let a = archive(&["/plain", "/doc.pdf"]);
    let path = a.file();
    let records = read_records(&path);
    let last = records.last().unwrap();
    let len = std::fs::metadata(&path).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len - last.length / 2)
        .unwrap();
    let out = linkrot(&["warc", "verify", path.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("offset {}: file cut short", last.offset)),
        "{stdout}"
    );
    assert!(stdout.contains(&format!(
        "({} records before it verified)",
        records.len() - 1
    )));
    if warcio_available() {
        let check = warcio(&["check", path.to_str().unwrap()]);
        eprintln!(
            "warcio check on the truncated file: exit {:?} {}",
            check.status.code(),
            String::from_utf8_lossy(&check.stdout)
        );
    }
}

#[test]
fn warc_verify_catches_a_record_without_warc_date_warcio_passes() {
    let a = archive(&["/plain"]);
    let path = a.file();
    let records = read_records(&path);
    let resp = records.iter().find(|r| r.kind() == "response").unwrap();
    rewrite_member(&path, resp.offset, |text| {
        let at = find(text, b"WARC-Date: ").unwrap();
        let end = at + find(&text[at..], b"\r\n").unwrap() + 2;
        text.drain(at..end);
    });
    let out = linkrot(&["warc", "verify", path.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("offset {}: response record", resp.offset))
            && stdout.contains("without WARC-Date"),
        "{stdout}"
    );
    if warcio_available() {
        let check = warcio(&["check", path.to_str().unwrap()]);
        eprintln!(
            "warcio check without WARC-Date: exit {:?}",
            check.status.code()
        );
    }
}

#[test]
fn warc_verify_and_warcio_catch_a_tampered_payload() {
    let a = archive(&["/plain", "/doc.pdf"]);
    let path = a.file();
    let records = read_records(&path);
    let resp = records.iter().find(|r| r.kind() == "response").unwrap();
    let tail: Vec<u8> =
        std::fs::read(&path).unwrap()[(resp.offset + resp.length) as usize..].to_vec();
    rewrite_member(&path, resp.offset, |text| {
        let at = find(text, b"a plain page").unwrap();
        text[at] = b'A';
    });
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(&tail).unwrap();
    drop(f);
    let out = linkrot(&["warc", "verify", path.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("offset {}: ", resp.offset)) && stdout.contains("digest mismatch"),
        "{stdout}"
    );
    if warcio_available() {
        let check = warcio(&["check", "-v", path.to_str().unwrap()]);
        assert_eq!(check.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&check.stdout).contains("payload digest failed"));
    }
}

#[test]
fn warc_verify_reports_a_missing_file_as_a_usage_error() {
    let out = linkrot(&["warc", "verify", "no/such/file.warc.gz"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/file.warc.gz"));
}
