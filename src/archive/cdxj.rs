//! The CDXJ index kept beside the WARC files (`index.cdxj`), in the form
//! pywb and other replay tools read: one line per response or revisit
//! record, `SURT TIMESTAMP {json}`, sorted bytewise.

use std::io::{self, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The index's file name inside the archive directory.
pub const INDEX_FILE: &str = "index.cdxj";

/// One index line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    /// The SURT form of the URL (the sort key).
    pub surt: String,
    /// `YYYYMMDDhhmmss` of the record's WARC-Date.
    pub timestamp: String,
    /// The URL as captured.
    pub url: String,
    /// The response's media type, or `warc/revisit`.
    pub mime: String,
    /// The HTTP status, as text.
    pub status: String,
    /// `sha1:` payload digest.
    pub digest: String,
    /// Compressed length of the record's gzip member.
    pub length: u64,
    /// Offset of the record's gzip member in `filename`.
    pub offset: u64,
    /// The WARC file, relative to the index.
    pub filename: String,
}

#[derive(Serialize, Deserialize)]
struct LineJson {
    url: String,
    mime: String,
    status: String,
    digest: String,
    length: String,
    offset: String,
    filename: String,
}

impl IndexEntry {
    /// The line as written in `index.cdxj` (no newline).
    pub fn to_line(&self) -> String {
        let json = LineJson {
            url: self.url.clone(),
            mime: self.mime.clone(),
            status: self.status.clone(),
            digest: self.digest.clone(),
            length: self.length.to_string(),
            offset: self.offset.to_string(),
            filename: self.filename.clone(),
        };
        format!(
            "{} {} {}",
            self.surt,
            self.timestamp,
            serde_json::to_string(&json).expect("strings serialize")
        )
    }

    /// Parses a line written by [`IndexEntry::to_line`] (or pywb).
    pub fn parse(line: &str) -> Option<IndexEntry> {
        let mut parts = line.splitn(3, ' ');
        let surt = parts.next()?.to_string();
        let timestamp = parts.next()?.to_string();
        let json: LineJson = serde_json::from_str(parts.next()?).ok()?;
        Some(IndexEntry {
            surt,
            timestamp,
            url: json.url,
            mime: json.mime,
            status: json.status,
            digest: json.digest,
            length: json.length.parse().ok()?,
            offset: json.offset.parse().ok()?,
            filename: json.filename,
        })
    }
}

/// The index of an archive directory: earlier runs' lines plus this run's.
#[derive(Debug, Default)]
pub struct Index {
    lines: Vec<String>,
    entries: Vec<IndexEntry>,
}

impl Index {
    /// Reads `path`; a missing file is an empty index.
    pub fn load(path: &Path) -> io::Result<Index> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Index::default()),
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("cannot read {}: {e}", path.display()),
                ));
            }
        };
        let lines: Vec<String> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect();
        let entries = lines.iter().filter_map(|l| IndexEntry::parse(l)).collect();
        Ok(Index { lines, entries })
    }

    /// Adds this run's entry.
    pub fn push(&mut self, entry: IndexEntry) {
        self.lines.push(entry.to_line());
        self.entries.push(entry);
    }

    /// Whether any entry points into `filename`.
    pub fn covers(&self, filename: &str) -> bool {
        self.entries.iter().any(|e| e.filename == filename)
    }

    /// Entries holding a payload (not revisits), earliest lines first.
    pub fn originals(&self) -> impl Iterator<Item = &IndexEntry> {
        self.entries.iter().filter(|e| e.mime != "warc/revisit")
    }

    /// Writes the sorted index to a temporary file beside `path`, then
    /// renames it over `path`, so readers never see half an index.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        let mut lines: Vec<&str> = self.lines.iter().map(String::as_str).collect();
        lines.sort_unstable();
        lines.dedup();
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        {
            let mut out = io::BufWriter::new(tmp.as_file_mut());
            for line in lines {
                out.write_all(line.as_bytes())?;
                out.write_all(b"\n")?;
            }
            out.flush()?;
        }
        tmp.as_file().sync_all()?;
        // Temporary files are private (0600); the index is read by replay
        // tools that may run as another user, like the WARC files beside it.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644))?;
        }
        tmp.persist(path).map_err(|e| {
            io::Error::new(
                e.error.kind(),
                format!("cannot write {}: {}", path.display(), e.error),
            )
        })?;
        Ok(())
    }
}

/// `YYYYMMDDhhmmss` (UTC).
pub fn timestamp14(ts: jiff::Timestamp) -> String {
    ts.strftime("%Y%m%d%H%M%S").to_string()
}

/// Parses `YYYYMMDDhhmmss` (UTC).
pub fn parse_timestamp(text: &str) -> Result<jiff::Timestamp, jiff::Error> {
    let dt = jiff::civil::DateTime::strptime("%Y%m%d%H%M%S", text)?;
    Ok(dt.to_zoned(jiff::tz::TimeZone::UTC)?.timestamp())
}

/// The Sort-friendly URI Reordering Transform used as the CDXJ key:
/// `http://www.Example.com:8080/a?b=2&a=1` → `com,example:8080)/a?a=1&b=2`.
///
/// Follows the `surt` library's defaults: scheme and `www.` dropped, host
/// labels reversed and comma-joined (IP addresses left as they are), default
/// port dropped, the rest lowercased, query arguments sorted, fragment
/// dropped.
pub fn surt(url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return url.to_ascii_lowercase();
    };
    let host = match parsed.host() {
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            let d = strip_www(&d);
            d.split('.').rev().collect::<Vec<_>>().join(",")
        }
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
        None => String::new(),
    };
    let mut key = host;
    if let Some(port) = parsed.port() {
        key.push_str(&format!(":{port}"));
    }
    key.push(')');
    key.push_str(&parsed.path().to_ascii_lowercase());
    if let Some(query) = parsed.query() {
        let mut args: Vec<String> = query
            .split('&')
            .filter(|a| !a.is_empty())
            .map(str::to_ascii_lowercase)
            .collect();
        args.sort();
        if !args.is_empty() {
            key.push('?');
            key.push_str(&args.join("&"));
        }
    }
    key
}

/// Drops a leading `www.`, `www1.`… label, as the surt library does.
fn strip_www(host: &str) -> &str {
    if let Some((first, rest)) = host.split_once('.') {
        let digits = first.strip_prefix("www");
        if digits.is_some_and(|d| d.chars().all(|c| c.is_ascii_digit())) && rest.contains('.') {
            return rest;
        }
    }
    host
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surt_keys() {
        assert_eq!(surt("http://www.Example.com/"), "com,example)/");
        assert_eq!(
            surt("https://www.un.org:8080/en/A?b=2&a=1#frag"),
            "org,un:8080)/en/a?a=1&b=2"
        );
        assert_eq!(surt("http://127.0.0.1:4000/x"), "127.0.0.1:4000)/x");
        assert_eq!(surt("http://www2.a.b.org/"), "org,b,a)/");
        assert_eq!(surt("http://www.com/"), "com,www)/");
    }

    #[test]
    fn line_round_trips() {
        let e = IndexEntry {
            surt: "com,example)/".into(),
            timestamp: "20241017093000".into(),
            url: "http://example.com/".into(),
            mime: "text/html".into(),
            status: "200".into(),
            digest: "sha1:AAAA".into(),
            length: 10,
            offset: 20,
            filename: "linkrot-x.warc.gz".into(),
        };
        let line = e.to_line();
        assert_eq!(
            line,
            r#"com,example)/ 20241017093000 {"url":"http://example.com/","mime":"text/html","status":"200","digest":"sha1:AAAA","length":"10","offset":"20","filename":"linkrot-x.warc.gz"}"#
        );
        assert_eq!(IndexEntry::parse(&line), Some(e));
    }

    #[test]
    fn save_sorts_merges_and_replaces_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(INDEX_FILE);
        std::fs::write(&path, "org,b)/ 20200101000000 {}\n").unwrap();
        let mut index = Index::load(&path).unwrap();
        index.push(IndexEntry::parse(r#"com,a)/ 20210101000000 {"url":"u","mime":"m","status":"200","digest":"d","length":"1","offset":"0","filename":"f"}"#).unwrap());
        index.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("com,a)/") && lines[1].starts_with("org,b)/"));
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644, "readable like the WARC files");
        }
    }

    #[test]
    fn timestamps_round_trip() {
        let ts: jiff::Timestamp = "2024-10-17T09:30:05Z".parse().unwrap();
        assert_eq!(timestamp14(ts), "20241017093005");
        assert_eq!(parse_timestamp("20241017093005").unwrap(), ts);
    }
}
