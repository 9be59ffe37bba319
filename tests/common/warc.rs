//! Reading WARC files back in tests, record by record, independently of the
//! code that wrote them.
#![allow(dead_code)]

use std::io::{BufRead, Read};
use std::path::Path;

/// One record as found in a `.warc.gz`.
#[derive(Debug, Clone)]
pub struct Record {
    /// Offset of its gzip member.
    pub offset: u64,
    /// Compressed length of its gzip member.
    pub length: u64,
    /// Header fields in order.
    pub fields: Vec<(String, String)>,
    /// The block.
    pub block: Vec<u8>,
}

impl Record {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn kind(&self) -> &str {
        self.field("WARC-Type").unwrap_or("")
    }

    /// The HTTP head of an application/http block.
    pub fn http_head(&self) -> String {
        let end = find(&self.block, b"\r\n\r\n")
            .map(|e| e + 4)
            .unwrap_or(self.block.len());
        String::from_utf8_lossy(&self.block[..end]).to_string()
    }

    /// The HTTP body of an application/http block.
    pub fn http_body(&self) -> &[u8] {
        let end = find(&self.block, b"\r\n\r\n")
            .map(|e| e + 4)
            .unwrap_or(self.block.len());
        &self.block[end..]
    }
}

struct Counting<R> {
    inner: R,
    pos: u64,
}

impl<R: BufRead> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.pos += amt as u64;
        self.inner.consume(amt)
    }
}

/// Every record of a `.warc.gz` written one gzip member per record.
pub fn read_records(path: &Path) -> Vec<Record> {
    let bytes = std::fs::read(path).unwrap();
    let mut input = Counting {
        inner: &bytes[..],
        pos: 0,
    };
    let mut records = Vec::new();
    while !input.fill_buf().unwrap().is_empty() {
        let offset = input.pos;
        let mut text = Vec::new();
        flate2::bufread::GzDecoder::new(&mut input)
            .read_to_end(&mut text)
            .unwrap();
        let head_end = find(&text, b"\r\n\r\n").expect("record header") + 4;
        let head = String::from_utf8(text[..head_end].to_vec()).unwrap();
        let mut lines = head.split("\r\n");
        assert_eq!(lines.next(), Some("WARC/1.1"));
        let fields: Vec<(String, String)> = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (n, v) = l.split_once(": ").unwrap();
                (n.to_string(), v.to_string())
            })
            .collect();
        let len: usize = fields
            .iter()
            .find(|(n, _)| n == "Content-Length")
            .unwrap()
            .1
            .parse()
            .unwrap();
        let block = text[head_end..head_end + len].to_vec();
        assert_eq!(
            &text[head_end + len..],
            b"\r\n\r\n",
            "record ends with CRLF CRLF"
        );
        records.push(Record {
            offset,
            length: input.pos - offset,
            fields,
            block,
        });
    }
    records
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `sha1:` + Base32, computed here without the crate's helpers.
pub fn sha1_b32(bytes: &[u8]) -> String {
    use sha1::Digest;
    format!(
        "sha1:{}",
        data_encoding::BASE32.encode(&sha1::Sha1::digest(bytes))
    )
}
