//! WARC/1.1 writing (ISO 28500:2017): one gzip member per record, so a reader
//! can seek to any record's offset and a killed run leaves every finished
//! record readable.
//!
//! [`WarcWriter`] owns the archive directory for one run: it opens a new file
//! (never an old one), writes a `warcinfo` record at the start of each file,
//! writes each HTTP exchange as a `request` and a `response` record (or a
//! `revisit` when the payload is already archived), rotates files at a size
//! limit and keeps the CDXJ index beside them.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use sha1::{Digest, Sha1};

use super::cdxj::{self, IndexEntry};

/// The WARC-Profile of a revisit whose payload is byte-identical to an
/// earlier capture.
pub const REVISIT_PROFILE: &str =
    "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest";

/// What a `warcinfo` record says about the run that wrote the file.
#[derive(Debug, Clone, Default)]
pub struct RunInfo {
    /// `linkrot/0.1.0`
    pub software: String,
    /// The command line the archive was made by (documents and flags).
    pub command: String,
    /// `--archive-operator`, if given.
    pub operator: Option<String>,
    /// The User-Agent the archive fetches sent.
    pub user_agent: String,
}

/// A streaming SHA-1 that renders as `sha1:` + Base32, the WARC convention.
#[derive(Clone, Default)]
pub struct Sha1Digest(Sha1);

impl Sha1Digest {
    /// A fresh digest.
    pub fn new() -> Sha1Digest {
        Sha1Digest(Sha1::new())
    }

    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// `sha1:` + uppercase Base32 of what was fed.
    pub fn finish(self) -> String {
        format!("sha1:{}", data_encoding::BASE32.encode(&self.0.finalize()))
    }

    /// The digest of `bytes` in one go.
    pub fn of(bytes: &[u8]) -> String {
        let mut d = Sha1Digest::new();
        d.update(bytes);
        d.finish()
    }
}

/// An HTTP body as received, kept in memory while small and spilled to an
/// anonymous temporary file beyond that, so memory stays bounded by the
/// number of fetches in flight rather than by body sizes.
#[derive(Debug)]
pub struct Spool {
    memory: Vec<u8>,
    file: Option<File>,
    len: u64,
}

/// Bodies up to this size stay in memory.
const SPOOL_MEMORY: usize = 256 * 1024;

impl Spool {
    /// An empty spool.
    pub fn new() -> Spool {
        Spool {
            memory: Vec::new(),
            file: None,
            len: 0,
        }
    }

    /// Appends bytes.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.file.is_none() && self.memory.len() + bytes.len() > SPOOL_MEMORY {
            let mut file = tempfile::tempfile()?;
            file.write_all(&self.memory)?;
            self.memory = Vec::new();
            self.file = Some(file);
        }
        match &mut self.file {
            Some(file) => file.write_all(bytes)?,
            None => self.memory.extend_from_slice(bytes),
        }
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A reader over everything written, from the start.
    pub fn reader(&mut self) -> io::Result<Box<dyn Read + '_>> {
        match &mut self.file {
            Some(file) => {
                file.seek(SeekFrom::Start(0))?;
                Ok(Box::new(file.take(self.len)))
            }
            None => Ok(Box::new(&self.memory[..])),
        }
    }
}

impl Default for Spool {
    fn default() -> Self {
        Spool::new()
    }
}

/// One HTTP request and its answer, as they went over the wire.
#[derive(Debug)]
pub struct Exchange {
    /// The URL requested.
    pub target_uri: String,
    /// When the request was sent (whole seconds: the index keeps 14 digits).
    pub date: jiff::Timestamp,
    /// The address actually connected to.
    pub ip: Option<IpAddr>,
    /// Request line and headers (sensitive values already redacted), ending
    /// with the blank line.
    pub request_head: Vec<u8>,
    /// Status line and headers ending with the blank line.
    pub response_head: Vec<u8>,
    /// The entity body as received (content-encoding intact, de-chunked).
    pub body: Spool,
    /// `sha1:` of `body`.
    pub payload_digest: String,
    /// `sha1:` of `response_head` followed by `body`.
    pub block_digest: String,
    /// The body was cut at `--archive-max-bytes`.
    pub truncated: bool,
    /// The HTTP status.
    pub status: u16,
    /// The response's Content-Type, if any.
    pub mime: Option<String>,
}

/// Where one exchange's response ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// File name inside the archive directory.
    pub filename: String,
    /// Byte offset of the response (or revisit) record's gzip member.
    pub offset: u64,
    /// Compressed length of that member.
    pub length: u64,
    /// `sha1:` of the payload.
    pub payload_digest: String,
    /// WARC-Date of the record.
    pub date: jiff::Timestamp,
    /// Written as a revisit of an earlier capture.
    pub revisit: bool,
}

/// The first capture of a payload, which later revisits point to.
#[derive(Debug, Clone)]
struct Original {
    uri: String,
    date: jiff::Timestamp,
    record_id: Option<String>,
}

struct OpenWarc {
    name: String,
    out: BufWriter<File>,
    len: u64,
}

/// Writes one run's records into an archive directory.
pub struct WarcWriter {
    dir: PathBuf,
    max_file: u64,
    stamp: String,
    serial: u32,
    info: RunInfo,
    current: Option<OpenWarc>,
    originals: HashMap<String, Original>,
    index: cdxj::Index,
    files: Vec<String>,
}

impl WarcWriter {
    /// Prepares to write into `dir` (created if missing), loading the
    /// payload digests of earlier runs from its `index.cdxj`. No file is
    /// created until the first record.
    pub fn open(dir: &Path, max_file: u64, info: RunInfo) -> io::Result<WarcWriter> {
        std::fs::create_dir_all(dir).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot create archive directory {}: {e}", dir.display()),
            )
        })?;
        let mut index = cdxj::Index::load(&dir.join(cdxj::INDEX_FILE))?;
        recover_unindexed(dir, &mut index)?;
        let mut originals = HashMap::new();
        for entry in index.originals() {
            if let Ok(date) = cdxj::parse_timestamp(&entry.timestamp) {
                originals.entry(entry.digest.clone()).or_insert(Original {
                    uri: entry.url.clone(),
                    date,
                    record_id: None,
                });
            }
        }
        Ok(WarcWriter {
            dir: dir.to_path_buf(),
            max_file: max_file.max(1),
            stamp: jiff::Timestamp::now().strftime("%Y%m%d%H%M%S").to_string(),
            serial: 0,
            info,
            current: None,
            originals,
            index,
            files: Vec::new(),
        })
    }

    /// The files this run created, in order.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// Writes one exchange: `request` then `response` (or `revisit`), in the
    /// same file, flushed to the OS before returning.
    pub fn write_exchange(&mut self, mut ex: Exchange) -> io::Result<Written> {
        self.ensure_file()?;
        let date = warc_date(ex.date);
        let response_id = record_id();
        let request_id = record_id();
        let ip = ex.ip.map(|ip| ip.to_string());

        let mut fields = vec![
            ("WARC-Type", "request".to_string()),
            ("WARC-Record-ID", request_id.clone()),
            ("WARC-Date", date.clone()),
            ("WARC-Target-URI", ex.target_uri.clone()),
            ("WARC-Concurrent-To", response_id.clone()),
        ];
        if let Some(ip) = &ip {
            fields.push(("WARC-IP-Address", ip.clone()));
        }
        fields.push((
            "Content-Type",
            "application/http; msgtype=request".to_string(),
        ));
        fields.push(("WARC-Block-Digest", Sha1Digest::of(&ex.request_head)));
        let request_head = std::mem::take(&mut ex.request_head);
        self.write_record(&fields, request_head.len() as u64, &mut &request_head[..])?;

        let original = if ex.body.is_empty() {
            // Empty bodies (most redirects) are not worth a revisit record.
            None
        } else {
            self.originals.get(&ex.payload_digest).cloned()
        };
        let mut fields = vec![
            (
                "WARC-Type",
                if original.is_some() {
                    "revisit"
                } else {
                    "response"
                }
                .to_string(),
            ),
            ("WARC-Record-ID", response_id.clone()),
            ("WARC-Date", date.clone()),
            ("WARC-Target-URI", ex.target_uri.clone()),
            ("WARC-Concurrent-To", request_id),
        ];
        if let Some(ip) = &ip {
            fields.push(("WARC-IP-Address", ip.clone()));
        }
        fields.push((
            "Content-Type",
            "application/http; msgtype=response".to_string(),
        ));
        let (offset, length) = match &original {
            Some(orig) => {
                fields.push(("WARC-Profile", REVISIT_PROFILE.to_string()));
                fields.push(("WARC-Refers-To-Target-URI", orig.uri.clone()));
                fields.push(("WARC-Refers-To-Date", warc_date(orig.date)));
                if let Some(id) = &orig.record_id {
                    fields.push(("WARC-Refers-To", id.clone()));
                }
                fields.push(("WARC-Payload-Digest", ex.payload_digest.clone()));
                fields.push(("WARC-Block-Digest", Sha1Digest::of(&ex.response_head)));
                if ex.truncated {
                    fields.push(("WARC-Truncated", "length".to_string()));
                }
                let head = ex.response_head.clone();
                self.write_record(&fields, head.len() as u64, &mut &head[..])?
            }
            None => {
                fields.push(("WARC-Payload-Digest", ex.payload_digest.clone()));
                fields.push(("WARC-Block-Digest", ex.block_digest.clone()));
                if ex.truncated {
                    fields.push(("WARC-Truncated", "length".to_string()));
                }
                let len = ex.response_head.len() as u64 + ex.body.len();
                let has_payload = !ex.body.is_empty();
                let head = std::mem::take(&mut ex.response_head);
                let written = {
                    let mut block = (&head[..]).chain(ex.body.reader()?);
                    self.write_record(&fields, len, &mut block)?
                };
                ex.response_head = head;
                if has_payload {
                    self.originals
                        .entry(ex.payload_digest.clone())
                        .or_insert(Original {
                            uri: ex.target_uri.clone(),
                            date: ex.date,
                            record_id: Some(response_id),
                        });
                }
                written
            }
        };
        let filename = self.current.as_ref().map(|f| f.name.clone()).unwrap();
        self.index.push(IndexEntry {
            surt: cdxj::surt(&ex.target_uri),
            timestamp: cdxj::timestamp14(ex.date),
            url: ex.target_uri.clone(),
            mime: if original.is_some() {
                "warc/revisit".to_string()
            } else {
                ex.mime
                    .as_deref()
                    .map(mime_essence)
                    .unwrap_or("unk")
                    .to_string()
            },
            status: ex.status.to_string(),
            digest: ex.payload_digest.clone(),
            length,
            offset,
            filename: filename.clone(),
        });
        Ok(Written {
            filename,
            offset,
            length,
            payload_digest: ex.payload_digest,
            date: ex.date,
            revisit: original.is_some(),
        })
    }

    /// Closes the open file and rewrites `index.cdxj` (temp file + rename).
    pub fn finish(mut self) -> io::Result<Vec<String>> {
        self.close_current()?;
        self.index.save(&self.dir.join(cdxj::INDEX_FILE))?;
        Ok(self.files)
    }

    fn close_current(&mut self) -> io::Result<()> {
        if let Some(mut open) = self.current.take() {
            open.out.flush()?;
            open.out.get_ref().sync_all()?;
        }
        Ok(())
    }

    /// Opens a file if none is open or the open one reached the size limit;
    /// a new file starts with its `warcinfo` record.
    fn ensure_file(&mut self) -> io::Result<()> {
        if let Some(open) = &self.current {
            if open.len < self.max_file {
                return Ok(());
            }
            self.close_current()?;
            // Keep the index current at every rotation, so a later crash
            // loses at most the open file's entries.
            self.index.save(&self.dir.join(cdxj::INDEX_FILE))?;
        }
        let (name, file) = loop {
            let name = format!("linkrot-{}-{:05}.warc.gz", self.stamp, self.serial);
            self.serial += 1;
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(self.dir.join(&name))
            {
                Ok(file) => break (name, file),
                // Another run in the same second: never touch its file.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(io::Error::new(
                        e.kind(),
                        format!("cannot create {}: {e}", self.dir.join(&name).display()),
                    ));
                }
            }
        };
        self.current = Some(OpenWarc {
            name: name.clone(),
            out: BufWriter::new(file),
            len: 0,
        });
        self.files.push(name.clone());
        let block = warcinfo_block(&self.info);
        let fields = vec![
            ("WARC-Type", "warcinfo".to_string()),
            ("WARC-Record-ID", record_id()),
            ("WARC-Date", warc_date(jiff::Timestamp::now())),
            ("WARC-Filename", name),
            ("Content-Type", "application/warc-fields".to_string()),
            ("WARC-Block-Digest", Sha1Digest::of(&block)),
        ];
        self.write_record(&fields, block.len() as u64, &mut &block[..])?;
        Ok(())
    }

    /// Writes one record as its own gzip member and flushes it; returns the
    /// member's offset and compressed length.
    fn write_record(
        &mut self,
        fields: &[(&str, String)],
        block_len: u64,
        block: &mut dyn Read,
    ) -> io::Result<(u64, u64)> {
        let open = self.current.as_mut().expect("a file is open");
        let offset = open.len;
        let mut head = String::from("WARC/1.1\r\n");
        for (name, value) in fields {
            head.push_str(name);
            head.push_str(": ");
            head.push_str(&sanitize_field(value));
            head.push_str("\r\n");
        }
        head.push_str(&format!("Content-Length: {block_len}\r\n\r\n"));
        let mut counter = CountingWriter {
            inner: &mut open.out,
            count: 0,
        };
        let mut gz = GzEncoder::new(&mut counter, Compression::default());
        gz.write_all(head.as_bytes())?;
        let copied = io::copy(block, &mut gz)?;
        if copied != block_len {
            return Err(io::Error::other(format!(
                "record block changed size while writing ({copied} of {block_len} bytes)"
            )));
        }
        gz.write_all(b"\r\n\r\n")?;
        gz.finish()?;
        let length = counter.count;
        open.out.flush()?;
        open.len += length;
        Ok((offset, length))
    }
}

/// Indexes the records of `linkrot-*.warc.gz` files the index does not
/// know: a run killed before writing its index leaves such a file, and its
/// finished records should still be found (and revisited) by later runs. A
/// partial record at the end is left out.
fn recover_unindexed(dir: &Path, index: &mut cdxj::Index) -> io::Result<()> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("linkrot-") && n.ends_with(".warc.gz"))
        .filter(|n| !index.covers(n))
        .collect();
    names.sort();
    for name in names {
        let mut entries = Vec::new();
        let verdict = super::verify::verify_file_with(&dir.join(&name), |rec| {
            let kind = rec.field("WARC-Type").unwrap_or("");
            if !matches!(kind, "response" | "revisit") {
                return;
            }
            let (Some(url), Some(date), Some(digest)) = (
                rec.field("WARC-Target-URI"),
                rec.field("WARC-Date")
                    .and_then(|d| d.parse::<jiff::Timestamp>().ok()),
                rec.field("WARC-Payload-Digest"),
            ) else {
                return;
            };
            let head = String::from_utf8_lossy(&rec.http_head);
            let status = head
                .lines()
                .next()
                .and_then(|l| l.split(' ').nth(1))
                .unwrap_or("-")
                .to_string();
            let mime = if kind == "revisit" {
                "warc/revisit".to_string()
            } else {
                head.lines()
                    .skip(1)
                    .find_map(|l| {
                        let (n, v) = l.split_once(':')?;
                        n.eq_ignore_ascii_case("content-type")
                            .then(|| mime_essence(v.trim()).to_string())
                    })
                    .unwrap_or_else(|| "unk".to_string())
            };
            entries.push(IndexEntry {
                surt: cdxj::surt(url),
                timestamp: cdxj::timestamp14(date),
                url: url.to_string(),
                mime,
                status,
                digest: digest.to_string(),
                length: rec.length,
                offset: rec.offset,
                filename: name.clone(),
            });
        })?;
        if let Some(problem) = verdict.problem {
            tracing::warn!(
                "{}: offset {}: {}; indexed the {} records before it",
                dir.join(&name).display(),
                problem.offset,
                problem.message,
                verdict.records
            );
        }
        for entry in entries {
            index.push(entry);
        }
    }
    Ok(())
}

/// A `warcinfo` block (`application/warc-fields`).
fn warcinfo_block(info: &RunInfo) -> Vec<u8> {
    let mut block = String::new();
    let mut field = |name: &str, value: &str| {
        block.push_str(name);
        block.push_str(": ");
        block.push_str(&sanitize_field(value));
        block.push_str("\r\n");
    };
    field("software", &info.software);
    field("format", "WARC File Format 1.1");
    field(
        "conformsTo",
        "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
    );
    if let Some(op) = &info.operator {
        field("operator", op);
    }
    field("description", &info.command);
    field("http-header-user-agent", &info.user_agent);
    field("robots", "ignore");
    block.into_bytes()
}

/// A field value on one line: CR/LF would start a new field.
fn sanitize_field(value: &str) -> String {
    value.replace(['\r', '\n'], " ")
}

/// `2026-11-28T02:05:35Z`
pub fn warc_date(ts: jiff::Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `<urn:uuid:…>` with a random (v4) UUID.
pub fn record_id() -> String {
    format!("<urn:uuid:{}>", uuid::Uuid::new_v4())
}

/// `text/html; charset=utf-8` → `text/html`
fn mime_essence(mime: &str) -> &str {
    mime.split(';').next().unwrap_or("").trim()
}

struct CountingWriter<W> {
    inner: W,
    count: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::MultiGzDecoder;

    fn exchange(uri: &str, body: &[u8]) -> Exchange {
        let head = b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\n\r\n".to_vec();
        let mut spool = Spool::new();
        spool.write(body).unwrap();
        let mut block = Sha1Digest::new();
        block.update(&head);
        block.update(body);
        Exchange {
            target_uri: uri.to_string(),
            date: "2024-10-17T09:30:00Z".parse().unwrap(),
            ip: Some("192.0.2.1".parse().unwrap()),
            request_head: format!("GET / HTTP/1.1\r\nhost: {uri}\r\n\r\n").into_bytes(),
            response_head: head,
            body: spool,
            payload_digest: Sha1Digest::of(body),
            block_digest: block.finish(),
            truncated: false,
            status: 200,
            mime: Some("text/html".into()),
        }
    }

    fn info() -> RunInfo {
        RunInfo {
            software: "linkrot/test".into(),
            command: "linkrot check doc.md --archive".into(),
            operator: Some("Library".into()),
            user_agent: "linkrot".into(),
        }
    }

    #[test]
    fn sha1_base32_matches_known_value() {
        // sha1("") = da39a3ee5e6b4b0d3255bfef95601890afd80709
        assert_eq!(Sha1Digest::of(b""), "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ");
    }

    #[test]
    fn each_record_is_its_own_gzip_member_and_offsets_point_at_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = WarcWriter::open(dir.path(), 1 << 30, info()).unwrap();
        let a = w
            .write_exchange(exchange("http://a.test/", b"hello"))
            .unwrap();
        let b = w
            .write_exchange(exchange("http://b.test/", b"other"))
            .unwrap();
        let files = w.finish().unwrap();
        assert_eq!(files.len(), 1);
        let bytes = std::fs::read(dir.path().join(&files[0])).unwrap();
        assert!(a.offset + a.length < b.offset, "b's request sits between");
        assert_eq!(b.offset + b.length, bytes.len() as u64);
        let mut text = String::new();
        flate2::read::GzDecoder::new(&bytes[b.offset as usize..])
            .read_to_string(&mut text)
            .unwrap();
        assert!(
            text.starts_with("WARC/1.1\r\nWARC-Type: response\r\n"),
            "{text}"
        );
        assert!(text.contains("WARC-Target-URI: http://b.test/\r\n"));
        assert!(text.ends_with("other\r\n\r\n"));
        let mut all = String::new();
        MultiGzDecoder::new(&bytes[..])
            .read_to_string(&mut all)
            .unwrap();
        assert_eq!(all.matches("WARC/1.1\r\n").count(), 5);
        assert!(all.contains("WARC-Type: warcinfo"));
        assert!(all.contains("operator: Library\r\n"));
    }

    #[test]
    fn identical_payload_becomes_revisit_and_empty_one_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = WarcWriter::open(dir.path(), 1 << 30, info()).unwrap();
        let a = w
            .write_exchange(exchange("http://a.test/", b"same"))
            .unwrap();
        let b = w
            .write_exchange(exchange("http://b.test/", b"same"))
            .unwrap();
        let e1 = w.write_exchange(exchange("http://c.test/", b"")).unwrap();
        let e2 = w.write_exchange(exchange("http://d.test/", b"")).unwrap();
        assert!(!a.revisit && b.revisit && !e1.revisit && !e2.revisit);
        let files = w.finish().unwrap();
        let bytes = std::fs::read(dir.path().join(&files[0])).unwrap();
        let mut text = String::new();
        flate2::read::GzDecoder::new(&bytes[b.offset as usize..])
            .read_to_string(&mut text)
            .unwrap();
        assert!(text.contains("WARC-Type: revisit\r\n"));
        assert!(text.contains(&format!("WARC-Profile: {REVISIT_PROFILE}\r\n")));
        assert!(text.contains("WARC-Refers-To-Target-URI: http://a.test/\r\n"));
        assert!(text.contains("WARC-Refers-To-Date: 2024-10-17T09:30:00Z\r\n"));
        assert!(!text.contains("same"), "a revisit stores no payload");

        // A later run finds the digest through index.cdxj.
        let mut w = WarcWriter::open(dir.path(), 1 << 30, info()).unwrap();
        let c = w
            .write_exchange(exchange("http://e.test/", b"same"))
            .unwrap();
        assert!(c.revisit);
        let files2 = w.finish().unwrap();
        assert_ne!(files, files2, "a new run writes a new file");
    }

    #[test]
    fn rotates_at_the_size_limit_with_warcinfo_in_each_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = WarcWriter::open(dir.path(), 100, info()).unwrap();
        w.write_exchange(exchange("http://a.test/", b"one"))
            .unwrap();
        w.write_exchange(exchange("http://b.test/", b"two"))
            .unwrap();
        let files = w.finish().unwrap();
        assert_eq!(files.len(), 2);
        for (i, f) in files.iter().enumerate() {
            assert!(f.starts_with("linkrot-") && f.ends_with(&format!("-{i:05}.warc.gz")));
            let mut text = String::new();
            MultiGzDecoder::new(File::open(dir.path().join(f)).unwrap())
                .read_to_string(&mut text)
                .unwrap();
            assert!(text.starts_with("WARC/1.1\r\nWARC-Type: warcinfo\r\n"));
        }
    }

    #[test]
    fn spool_spills_to_disk_and_reads_back() {
        let mut s = Spool::new();
        let chunk = vec![7u8; 100_000];
        for _ in 0..5 {
            s.write(&chunk).unwrap();
        }
        assert!(s.file.is_some());
        let mut back = Vec::new();
        s.reader().unwrap().read_to_end(&mut back).unwrap();
        assert_eq!(back.len(), 500_000);
        assert!(back.iter().all(|&b| b == 7));
    }
}
