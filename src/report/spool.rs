//! A run's rows on disk: citations as the scan finds them, results as the
//! checks finish, read back in document order by each report.
//!
//! Holding every row in memory until the reports are written made a run's
//! memory grow by about 1.5 KB per cited URL (360 MiB at 200,000 URLs).
//! Spooled, a row costs 8 bytes of index in memory and a result 12; the
//! records themselves sit in an unnamed temporary file that the system
//! removes when the run ends, however it ends.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{AuditRow, Rows};
use crate::check::CheckResult;
use crate::history::Tracked;
use crate::scan::Citation;

/// Records of one type appended to a temporary file, read back by number.
struct RecordFile {
    writer: BufWriter<File>,
    /// Where each record ends; record `i` starts where `i - 1` ends.
    ends: Vec<u64>,
    /// Reused encoding buffer.
    buffer: Vec<u8>,
}

impl RecordFile {
    fn new() -> io::Result<RecordFile> {
        Ok(RecordFile {
            writer: BufWriter::with_capacity(256 * 1024, tempfile::tempfile()?),
            ends: Vec::new(),
            buffer: Vec::new(),
        })
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn append(&mut self, value: &impl Serialize) -> io::Result<()> {
        self.buffer.clear();
        let encoded = postcard::to_extend(value, std::mem::take(&mut self.buffer))
            .map_err(io::Error::other)?;
        self.writer.write_all(&encoded)?;
        let end = self.ends.last().copied().unwrap_or(0) + encoded.len() as u64;
        self.ends.push(end);
        self.buffer = encoded;
        Ok(())
    }

    /// Makes every appended record readable.
    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }

    fn span(&self, i: usize) -> (u64, usize) {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        (start, (self.ends[i] - start) as usize)
    }

    /// Record `i`, read with one positioned read: several readers can share
    /// the file (the CSV and the HTML page are written at the same time).
    fn read<T: DeserializeOwned>(&self, i: usize, buffer: &mut Vec<u8>) -> io::Result<T> {
        let (start, len) = self.span(i);
        buffer.resize(len, 0);
        self.writer.get_ref().read_exact_at(buffer, start)?;
        decode(buffer)
    }

    /// Every record in order, through a buffered reader of its own.
    fn each<T: DeserializeOwned>(
        &self,
        mut f: impl FnMut(usize, T) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut reader = BufReader::with_capacity(
            256 * 1024,
            PositionedReader {
                file: self.writer.get_ref(),
                at: 0,
            },
        );
        let mut buffer = Vec::new();
        for i in 0..self.ends.len() {
            let (_, len) = self.span(i);
            buffer.resize(len, 0);
            reader.read_exact(&mut buffer)?;
            f(i, decode(&buffer)?)?;
        }
        Ok(())
    }
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> io::Result<T> {
    postcard::from_bytes(bytes).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the run's temporary row file is damaged: {e}"),
        )
    })
}

/// Reads a shared file from its own position.
struct PositionedReader<'f> {
    file: &'f File,
    at: u64,
}

impl Read for PositionedReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

/// The rows of a run being built: citations in document order, each with
/// the number of its unique URL, and the results as they come.
pub struct RowSpool {
    citations: RecordFile,
    results: RecordFile,
    /// Unique URL number to its record in `results`; `u32::MAX` until checked.
    result_of: Vec<u32>,
}

impl RowSpool {
    /// An empty spool in a new temporary file.
    pub fn new() -> io::Result<RowSpool> {
        Ok(RowSpool {
            citations: RecordFile::new()?,
            results: RecordFile::new()?,
            result_of: Vec::new(),
        })
    }

    /// Adds the next citation in document order; `url` numbers its unique
    /// URL (0, 1, 2… in order of first citation).
    pub fn push_citation(&mut self, url: u32, citation: &Citation) -> io::Result<()> {
        self.citations.append(&(url, citation))
    }

    /// Citations added so far.
    pub fn citations(&self) -> usize {
        self.citations.len()
    }

    /// Stores the result for unique URL `url`, in any order.
    pub fn push_result(&mut self, url: u32, result: &CheckResult) -> io::Result<()> {
        let slot = url as usize;
        if self.result_of.len() <= slot {
            self.result_of.resize(slot + 1, u32::MAX);
        }
        self.result_of[slot] = self.results.len() as u32;
        self.results.append(result)
    }

    /// The finished rows, each URL's standing in the history (by unique URL
    /// number; empty without history) joined in as rows are read.
    pub fn finish(mut self, tracked: Vec<Option<Arc<Tracked>>>) -> io::Result<SpooledRows> {
        self.citations.flush()?;
        self.results.flush()?;
        Ok(SpooledRows {
            spool: self,
            tracked,
        })
    }
}

/// A run's rows read back from a [`RowSpool`].
pub struct SpooledRows {
    spool: RowSpool,
    tracked: Vec<Option<Arc<Tracked>>>,
}

impl SpooledRows {
    fn result(&self, url: u32, buffer: &mut Vec<u8>) -> io::Result<Arc<CheckResult>> {
        let record = self
            .spool
            .result_of
            .get(url as usize)
            .copied()
            .filter(|&r| r != u32::MAX)
            .ok_or_else(|| io::Error::other(format!("no result for URL number {url}")))?;
        Ok(Arc::new(self.spool.results.read(record as usize, buffer)?))
    }

    fn row(&self, url: u32, citation: Citation, result: Arc<CheckResult>) -> AuditRow {
        AuditRow {
            citation,
            result,
            preservation: None,
            tracked: self.tracked.get(url as usize).cloned().flatten(),
        }
    }
}

impl Rows for SpooledRows {
    fn len(&self) -> usize {
        self.spool.citations.len()
    }

    fn each(&self, f: &mut dyn FnMut(&AuditRow) -> io::Result<()>) -> io::Result<()> {
        // Notes that repeat a URL ("Ibid.") usually follow each other: the
        // last result read is kept.
        let mut last: Option<(u32, Arc<CheckResult>)> = None;
        let mut buffer = Vec::new();
        self.spool
            .citations
            .each(|_, (url, citation): (u32, Citation)| {
                let result = match &last {
                    Some((n, result)) if *n == url => result.clone(),
                    _ => {
                        let result = self.result(url, &mut buffer)?;
                        last = Some((url, result.clone()));
                        result
                    }
                };
                f(&self.row(url, citation, result))
            })
    }

    fn get(&self, i: usize, f: &mut dyn FnMut(&AuditRow) -> io::Result<()>) -> io::Result<()> {
        let mut buffer = Vec::new();
        let (url, citation): (u32, Citation) = self.spool.citations.read(i, &mut buffer)?;
        let result = self.result(url, &mut buffer)?;
        f(&self.row(url, citation, result))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Verdict;
    use crate::report::test_rows::row;

    #[test]
    fn rows_come_back_in_document_order_with_their_results() {
        let mut written = [
            row("a.md", 3, "1", "https://a.test/1", Verdict::Moved, Some(200)),
            row("a.md", 4, "2", "https://b.test/2", Verdict::Broken, Some(404)),
            row("b.md", 9, "7", "https://a.test/1", Verdict::Moved, Some(200)),
        ];
        for row in &mut written {
            // The byte range is for the scanner's own tests; reports never
            // show it and the spool does not keep it.
            row.citation.span = 0..0;
            let result = Arc::make_mut(&mut row.result);
            result.reasons = vec![crate::check::Reason::RedirectToRoot];
            result.fingerprint = Some(crate::check::Fingerprint(0xfeed));
            result.drift = Some(0.25);
            result.chain[0].remote_addr = Some("127.0.0.1:8080".parse().unwrap());
            result.checked_at = jiff::Timestamp::from_second(1_700_000_000).unwrap();
        }
        let mut spool = RowSpool::new().unwrap();
        for (citation, url) in written.iter().zip([0, 1, 0]) {
            spool.push_citation(url, &citation.citation).unwrap();
        }
        // Results arrive in completion order.
        spool.push_result(1, &written[1].result).unwrap();
        spool.push_result(0, &written[0].result).unwrap();
        let rows = spool.finish(Vec::new()).unwrap();
        assert_eq!(rows.len(), 3);
        let mut read = Vec::new();
        rows.each(&mut |row| {
            read.push(row.clone());
            Ok(())
        })
        .unwrap();
        for (got, want) in read.iter().zip(&written) {
            assert_eq!(got.citation, want.citation);
            // Everything a report shows of the result survives the trip.
            assert_eq!(
                serde_json::to_value(&*got.result).unwrap(),
                serde_json::to_value(&*want.result).unwrap()
            );
        }
        let mut second = None;
        rows.get(1, &mut |row| {
            second = Some(row.result.verdict);
            Ok(())
        })
        .unwrap();
        assert_eq!(second, Some(Verdict::Broken));
    }

    #[test]
    fn a_row_without_a_result_is_an_error_not_a_panic() {
        let mut spool = RowSpool::new().unwrap();
        spool
            .push_citation(0, &row("a.md", 1, "1", "https://a.test/", Verdict::Ok, None).citation)
            .unwrap();
        let rows = spool.finish(Vec::new()).unwrap();
        assert!(rows.each(&mut |_| Ok(())).is_err());
    }
}
