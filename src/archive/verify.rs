//! Record-by-record verification of WARC files (`linkrot warc verify`).
//!
//! Stricter than `warcio check` where it matters for preservation: a record
//! without WARC-Date or WARC-Record-ID, a file cut short inside a record and
//! several records sharing one gzip member are all errors here. Every
//! record's version line, mandatory fields, length, block digest and payload
//! digest are checked; the first bad record's offset is reported.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::bufread::GzDecoder;
use sha1::{Digest, Sha1};

/// What verifying one file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileVerdict {
    /// Records that passed every check, before the first bad one.
    pub records: usize,
    /// The first bad record, if any.
    pub problem: Option<Problem>,
}

/// The first bad record of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Byte offset in the file where the bad record (its gzip member) starts.
    pub offset: u64,
    /// What is wrong, in one line.
    pub message: String,
}

/// Largest WARC or HTTP header block accepted.
const MAX_HEAD: usize = 1 << 20;

/// Verifies every record of a `.warc.gz` (one gzip member per record) or an
/// uncompressed `.warc`. I/O errors opening or reading the file are `Err`;
/// everything wrong with its contents is a [`Problem`].
pub fn verify_file(path: &Path) -> io::Result<FileVerdict> {
    verify_file_with(path, |_| {})
}

/// A record that verified: where it is and what its headers say.
#[derive(Debug, Clone)]
pub struct RecordInfo {
    /// Offset of the record (its gzip member) in the file.
    pub offset: u64,
    /// Bytes the record (its gzip member) takes in the file.
    pub length: u64,
    /// WARC header fields in order.
    pub fields: Vec<(String, String)>,
    /// The HTTP status line and headers of an `application/http` block.
    pub http_head: Vec<u8>,
}

impl RecordInfo {
    /// The first WARC field called `name` (case-insensitive).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// [`verify_file`], handing every record that verifies to `visit`.
pub fn verify_file_with(
    path: &Path,
    mut visit: impl FnMut(&RecordInfo),
) -> io::Result<FileVerdict> {
    let file = File::open(path)?;
    let mut input = Counting {
        inner: BufReader::with_capacity(64 * 1024, file),
        pos: 0,
    };
    let gzipped = input.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    let mut records = 0;
    loop {
        let offset = input.pos;
        if input.fill_buf()?.is_empty() {
            if records == 0 {
                return Ok(FileVerdict {
                    records,
                    problem: Some(Problem {
                        offset,
                        message: "empty file: no WARC records".into(),
                    }),
                });
            }
            return Ok(FileVerdict {
                records,
                problem: None,
            });
        }
        let outcome = if gzipped {
            verify_member(&mut input)
        } else {
            verify_record(&mut input)
        };
        match outcome {
            Ok(info) => {
                records += 1;
                visit(&RecordInfo {
                    offset,
                    length: input.pos - offset,
                    fields: info.fields,
                    http_head: info.http_head,
                });
            }
            Err(message) => {
                return Ok(FileVerdict {
                    records,
                    problem: Some(Problem { offset, message }),
                });
            }
        }
    }
}

/// A reader that knows how many bytes it has handed out, so each record's
/// offset is known even though gzip members have no length field.
struct Counting<R> {
    inner: R,
    pos: u64,
}

impl<R: BufRead> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.pos += amt as u64;
        self.inner.consume(amt);
    }
}

/// One gzip member holding exactly one record.
fn verify_member<R: BufRead>(input: &mut R) -> Result<Verified, String> {
    let head = input.fill_buf().map_err(|e| e.to_string())?;
    if !head.starts_with(&[0x1f, 0x8b]) {
        return Err("not the start of a gzip member (bytes after the last record?)".into());
    }
    let mut member = BufReader::new(GzDecoder::new(&mut *input));
    let verified = verify_record(&mut member)?;
    let mut extra = [0u8; 1];
    match member.read(&mut extra) {
        Ok(0) => Ok(verified),
        Ok(_) => Err(
            "gzip member holds more than one record or trailing bytes (whole-file gzip?)".into(),
        ),
        Err(e) => Err(gzip_error(&e)),
    }
}

fn gzip_error(e: &io::Error) -> String {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        "file cut short inside this record's gzip member".into()
    } else {
        format!("corrupt gzip member: {e}")
    }
}

/// Reads one record from `input` and checks it.
/// What a verified record's headers say.
struct Verified {
    fields: Vec<(String, String)>,
    http_head: Vec<u8>,
}

fn verify_record<R: BufRead>(input: &mut R) -> Result<Verified, String> {
    let head = read_head(input, "WARC header")?;
    let text = std::str::from_utf8(&head).map_err(|_| "WARC header is not UTF-8".to_string())?;
    let mut lines = text.split("\r\n");
    let version = lines.next().unwrap_or("");
    if version != "WARC/1.1" && version != "WARC/1.0" {
        return Err(format!(
            "bad version line {:?} (expected WARC/1.1 or WARC/1.0)",
            truncate(version, 40)
        ));
    }
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        if line.starts_with([' ', '\t']) {
            match fields.last_mut() {
                Some((_, v)) => v.push_str(line.trim()),
                None => return Err("continuation line before any field".into()),
            }
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("malformed field line {:?}", truncate(line, 60)));
        };
        fields.push((name.trim().to_string(), value.trim().to_string()));
    }
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let record_type = field("WARC-Type").ok_or("record without WARC-Type")?;
    let id = field("WARC-Record-ID")
        .ok_or_else(|| format!("{record_type} record without WARC-Record-ID"))?;
    if !(id.starts_with('<') && id.ends_with('>') && id.contains(':')) {
        return Err(format!("WARC-Record-ID {id:?} is not a <URI>"));
    }
    let date =
        field("WARC-Date").ok_or_else(|| format!("{record_type} record {id} without WARC-Date"))?;
    if date.parse::<jiff::Timestamp>().is_err() || !date.ends_with('Z') {
        return Err(format!(
            "record {id}: WARC-Date {date:?} is not a UTC W3C-ISO8601 date"
        ));
    }
    let length: u64 = field("Content-Length")
        .ok_or_else(|| format!("record {id} without Content-Length"))?
        .parse()
        .map_err(|_| format!("record {id}: Content-Length is not a number"))?;
    let needs_uri = matches!(
        record_type,
        "request" | "response" | "resource" | "revisit" | "conversion" | "continuation"
    );
    if needs_uri && field("WARC-Target-URI").is_none() {
        return Err(format!("{record_type} record {id} without WARC-Target-URI"));
    }
    if record_type == "warcinfo" && field("WARC-Target-URI").is_some() {
        return Err(format!("warcinfo record {id} with a WARC-Target-URI"));
    }

    let is_http = field("Content-Type").is_some_and(|t| t.starts_with("application/http"))
        && matches!(record_type, "request" | "response" | "revisit");
    let mut block_digest = field("WARC-Block-Digest").and_then(Expected::parse);
    let mut payload_digest = if record_type == "revisit" {
        // A revisit's payload lives in the record it refers to.
        None
    } else {
        field("WARC-Payload-Digest").and_then(Expected::parse)
    };
    let mut remaining = length;
    let mut http_head: Vec<u8> = Vec::new();
    let mut in_payload = !is_http;
    let mut chunked_payload: Option<Vec<u8>> = None;
    let mut buf = vec![0u8; 64 * 1024];
    while remaining > 0 {
        let want = remaining.min(buf.len() as u64) as usize;
        let n = match input.read(&mut buf[..want]) {
            Ok(0) => {
                return Err(format!(
                    "record {id}: block cut short, {} of {length} bytes",
                    length - remaining
                ));
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(gzip_error(&e)),
        };
        remaining -= n as u64;
        let chunk = &buf[..n];
        if let Some(d) = &mut block_digest {
            d.update(chunk);
        }
        let payload: &[u8] = if in_payload {
            chunk
        } else {
            http_head.extend_from_slice(chunk);
            match find(&http_head, b"\r\n\r\n") {
                Some(end) => {
                    in_payload = true;
                    let head_text = String::from_utf8_lossy(&http_head[..end]).to_ascii_lowercase();
                    if head_text
                        .lines()
                        .any(|l| l.starts_with("transfer-encoding:") && l.contains("chunked"))
                    {
                        chunked_payload = Some(Vec::new());
                    }
                    let rest = http_head.split_off(end + 4);
                    if let Some(p) = &mut chunked_payload {
                        p.extend_from_slice(&rest);
                    } else if let Some(d) = &mut payload_digest {
                        d.update(&rest);
                    }
                    continue;
                }
                None if http_head.len() > MAX_HEAD => {
                    return Err(format!("record {id}: HTTP header block longer than 1 MiB"));
                }
                None => continue,
            }
        };
        if let Some(p) = &mut chunked_payload {
            p.extend_from_slice(payload);
        } else if let Some(d) = &mut payload_digest {
            d.update(payload);
        }
    }
    let mut end = [0u8; 4];
    read_exact(input, &mut end).map_err(|e| match e {
        Some(e) => gzip_error(&e),
        None => format!(
            "record {id}: Content-Length {length} does not match the block (record ends early)"
        ),
    })?;
    if &end != b"\r\n\r\n" {
        return Err(format!(
            "record {id}: Content-Length {length} does not match the block (no CRLF CRLF after it)"
        ));
    }
    if let Some(d) = block_digest
        && let Err(declared) = d.check()
    {
        return Err(format!("record {id}: block digest mismatch ({declared})"));
    }
    if let (Some(mut d), Some(raw)) = (payload_digest.take(), chunked_payload) {
        d.update(&dechunk(&raw).ok_or_else(|| format!("record {id}: malformed chunked body"))?);
        payload_digest = Some(d);
    }
    if let Some(d) = payload_digest {
        if is_http && !in_payload {
            return Err(format!(
                "record {id}: HTTP block without the end of its headers"
            ));
        }
        if let Err(declared) = d.check() {
            return Err(format!("record {id}: payload digest mismatch ({declared})"));
        }
    }
    if !in_payload {
        http_head.clear();
    }
    Ok(Verified { fields, http_head })
}

/// Reads up to and including the first CRLF CRLF.
fn read_head<R: BufRead>(input: &mut R, what: &str) -> Result<Vec<u8>, String> {
    let mut head = Vec::new();
    loop {
        let before = head.len();
        let n = input
            .read_until(b'\n', &mut head)
            .map_err(|e| gzip_error(&e))?;
        if n == 0 {
            return Err(if head.is_empty() {
                "empty record".into()
            } else {
                format!("file cut short inside the {what}")
            });
        }
        if head.len() > MAX_HEAD {
            return Err(format!("{what} longer than 1 MiB (not a WARC record?)"));
        }
        if &head[before..] == b"\r\n" && before > 0 {
            head.truncate(before);
            return Ok(head);
        }
        if before == 0 && !head.starts_with(b"WARC/") {
            return Err(format!(
                "bad version line {:?} (expected WARC/1.1 or WARC/1.0)",
                truncate(String::from_utf8_lossy(&head).trim_end(), 40)
            ));
        }
    }
}

/// `Err(None)` at a clean end of input.
fn read_exact<R: Read>(input: &mut R, buf: &mut [u8]) -> Result<(), Option<io::Error>> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => return Err(None),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Some(e)),
        }
    }
    Ok(())
}

/// Removes HTTP/1.1 chunked framing.
fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = find(raw, b"\r\n")?;
        let size_text = std::str::from_utf8(&raw[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size + 2..)?;
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// A declared digest and the running computation to compare it with.
struct Expected {
    declared: String,
    want: Vec<u8>,
    hasher: Hasher,
}

enum Hasher {
    Sha1(Sha1),
    Sha256(sha2::Sha256),
}

impl Expected {
    /// `sha1:BASE32`, `sha1:hex`, `sha256:hex` or `sha256:BASE32`; other
    /// algorithms cannot be checked and are skipped.
    fn parse(declared: &str) -> Option<Expected> {
        let (algo, value) = declared.split_once(':')?;
        let (hasher, len) = match algo.to_ascii_lowercase().as_str() {
            "sha1" => (Hasher::Sha1(Sha1::new()), 20),
            "sha256" => (Hasher::Sha256(sha2::Sha256::new()), 32),
            _ => return None,
        };
        let want = decode_digest(value, len)?;
        Some(Expected {
            declared: declared.to_string(),
            want,
            hasher,
        })
    }

    fn update(&mut self, bytes: &[u8]) {
        match &mut self.hasher {
            Hasher::Sha1(h) => h.update(bytes),
            Hasher::Sha256(h) => h.update(bytes),
        }
    }

    /// `Err(declared)` when the bytes fed do not match.
    fn check(self) -> Result<(), String> {
        let got = match self.hasher {
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
        };
        if got == self.want {
            Ok(())
        } else {
            Err(self.declared)
        }
    }
}

fn decode_digest(value: &str, len: usize) -> Option<Vec<u8>> {
    let upper = value.to_ascii_uppercase();
    if let Ok(bytes) = data_encoding::BASE32.decode(upper.as_bytes())
        && bytes.len() == len
    {
        return Some(bytes);
    }
    if let Ok(bytes) = data_encoding::BASE32_NOPAD.decode(upper.as_bytes())
        && bytes.len() == len
    {
        return Some(bytes);
    }
    if let Ok(bytes) = data_encoding::HEXLOWER_PERMISSIVE.decode(value.as_bytes())
        && bytes.len() == len
    {
        return Some(bytes);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::warc::{Exchange, RunInfo, Sha1Digest, Spool, WarcWriter};
    use std::io::Write;

    fn write_archive(dir: &Path) -> (std::path::PathBuf, Vec<u64>) {
        let mut w = WarcWriter::open(dir, 1 << 30, RunInfo::default()).unwrap();
        let mut offsets = Vec::new();
        for (i, body) in [&b"first page"[..], b"second page"].iter().enumerate() {
            let head = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\n".to_vec();
            let mut spool = Spool::new();
            spool.write(body).unwrap();
            let mut block = Sha1Digest::new();
            block.update(&head);
            block.update(body);
            let written = w
                .write_exchange(Exchange {
                    target_uri: format!("http://a.test/{i}"),
                    date: jiff::Timestamp::now(),
                    ip: None,
                    request_head: b"GET / HTTP/1.1\r\n\r\n".to_vec(),
                    response_head: head,
                    body: spool,
                    payload_digest: Sha1Digest::of(body),
                    block_digest: block.finish(),
                    truncated: false,
                    status: 200,
                    mime: None,
                })
                .unwrap();
            offsets.push(written.offset);
        }
        let files = w.finish().unwrap();
        (dir.join(&files[0]), offsets)
    }

    #[test]
    fn a_good_archive_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = write_archive(dir.path());
        let v = verify_file(&path).unwrap();
        assert_eq!(v.problem, None);
        assert_eq!(v.records, 5);
    }

    #[test]
    fn an_uncompressed_warc_verifies_too() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = write_archive(dir.path());
        let mut plain = Vec::new();
        flate2::read::MultiGzDecoder::new(File::open(&path).unwrap())
            .read_to_end(&mut plain)
            .unwrap();
        let warc = dir.path().join("plain.warc");
        std::fs::write(&warc, &plain).unwrap();
        assert_eq!(verify_file(&warc).unwrap().problem, None);
        assert_eq!(verify_file(&warc).unwrap().records, 5);
        std::fs::write(&warc, &plain[..plain.len() - 3]).unwrap();
        let p = verify_file(&warc).unwrap().problem.unwrap();
        assert!(p.message.contains("Content-Length"), "{}", p.message);
    }

    #[test]
    fn a_truncated_file_names_the_partial_record() {
        let dir = tempfile::tempdir().unwrap();
        let (path, offsets) = write_archive(dir.path());
        let len = std::fs::metadata(&path).unwrap().len();
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(len - 10).unwrap();
        let v = verify_file(&path).unwrap();
        let p = v.problem.unwrap();
        assert_eq!(p.offset, offsets[1]);
        assert!(p.message.contains("cut short"), "{}", p.message);
        assert_eq!(v.records, 4);
    }

    #[test]
    fn a_tampered_payload_fails_its_digest() {
        let dir = tempfile::tempdir().unwrap();
        let (path, offsets) = write_archive(dir.path());
        let bytes = std::fs::read(&path).unwrap();
        // Re-compress the second response with one payload byte changed.
        let mut text = Vec::new();
        GzDecoder::new(&bytes[offsets[1] as usize..])
            .read_to_end(&mut text)
            .unwrap();
        let at = find(&text, b"second page").unwrap();
        text[at] = b'S';
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&text).unwrap();
        let mut out = bytes[..offsets[1] as usize].to_vec();
        out.extend(gz.finish().unwrap());
        std::fs::write(&path, out).unwrap();
        let p = verify_file(&path).unwrap().problem.unwrap();
        assert_eq!(p.offset, offsets[1]);
        assert!(p.message.contains("digest mismatch"), "{}", p.message);
    }

    fn plain(record: &str) -> Result<(), String> {
        verify_record(&mut record.as_bytes()).map(|_| ())
    }

    #[test]
    fn mandatory_fields_are_required() {
        let ok = "WARC/1.1\r\nWARC-Type: resource\r\nWARC-Record-ID: <urn:uuid:1>\r\nWARC-Date: 2024-10-17T00:00:00Z\r\nWARC-Target-URI: http://a/\r\nContent-Length: 2\r\n\r\nhi\r\n\r\n";
        assert_eq!(plain(ok), Ok(()));
        let no_date = ok.replace("WARC-Date: 2024-10-17T00:00:00Z\r\n", "");
        assert!(plain(&no_date).unwrap_err().contains("without WARC-Date"));
        let no_id = ok.replace("WARC-Record-ID: <urn:uuid:1>\r\n", "");
        assert!(
            plain(&no_id)
                .unwrap_err()
                .contains("without WARC-Record-ID")
        );
        let no_uri = ok.replace("WARC-Target-URI: http://a/\r\n", "");
        assert!(
            plain(&no_uri)
                .unwrap_err()
                .contains("without WARC-Target-URI")
        );
        let bad_version = ok.replace("WARC/1.1", "WARC/9");
        assert!(
            plain(&bad_version)
                .unwrap_err()
                .contains("bad version line")
        );
        let long = ok.replace("Content-Length: 2", "Content-Length: 3");
        assert!(plain(&long).unwrap_err().contains("does not match"));
    }

    #[test]
    fn chunked_payload_digest_is_over_the_dechunked_body() {
        let block = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n";
        let record = format!(
            "WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:1>\r\nWARC-Date: 2024-10-17T00:00:00Z\r\nWARC-Target-URI: http://a/\r\nWARC-Payload-Digest: {}\r\nWARC-Block-Digest: {}\r\nContent-Length: {}\r\n\r\n{block}\r\n\r\n",
            Sha1Digest::of(b"hi"),
            Sha1Digest::of(block.as_bytes()),
            block.len()
        )
        .replace("WARC-Payload", "Content-Type: application/http; msgtype=response\r\nWARC-Payload");
        assert_eq!(plain(&record), Ok(()));
        let bad = record.replace(&Sha1Digest::of(b"hi"), &Sha1Digest::of(b"ho"));
        assert!(plain(&bad).unwrap_err().contains("payload digest mismatch"));
    }

    #[test]
    fn whole_file_gzip_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = write_archive(dir.path());
        let mut all = Vec::new();
        flate2::read::MultiGzDecoder::new(File::open(&path).unwrap())
            .read_to_end(&mut all)
            .unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&all).unwrap();
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        let p = verify_file(&path).unwrap().problem.unwrap();
        assert_eq!(p.offset, 0);
        assert!(p.message.contains("more than one record"), "{}", p.message);
    }
}
