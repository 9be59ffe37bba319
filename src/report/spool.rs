//! A run's rows on disk: citations as the scan finds them, results as the
//! checks finish and standings as the history works them out, read back in
//! document order by each report; and the history's own rows until it
//! stores them.
//!
//! Holding every row in memory until the reports were written made a run's
//! memory grow by about 1.5 KB per cited URL (360 MiB at 200,000 URLs).
//! Spooled, a row costs 8 bytes of index in memory, and a result or a
//! standing 12; the records themselves sit in unnamed temporary files that
//! the system removes when the run ends, however it ends.

use std::fs::File;
use std::io::{self, BufWriter, Write};
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

    fn bytes(&self) -> u64 {
        self.ends.last().copied().unwrap_or(0)
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

    /// Record `i` by one read of just its bytes, into `scratch`: for reads
    /// in an order of their own, where a window would be read for one
    /// record each time.
    fn read_one<T: DeserializeOwned>(&self, i: usize, scratch: &mut Vec<u8>) -> io::Result<T> {
        let (start, len) = self.span(i);
        scratch.resize(len, 0);
        read_exact_at(self.writer.get_ref(), scratch, start)?;
        decode(scratch)
    }

    /// Record `i`, read through `window`. Reads are positioned, so several
    /// readers can share the file (the CSV and the HTML page are written at
    /// the same time).
    fn read<T: DeserializeOwned>(&self, i: usize, window: &mut Window) -> io::Result<T> {
        let (start, len) = self.span(i);
        if let Some(bytes) = window.get(start, len) {
            return decode(bytes);
        }
        if start < window.start {
            // Behind the window: a note citing an earlier URL again. One
            // read of just that record keeps the window where reading goes on.
            return self.read_one(i, &mut window.scratch);
        }
        let size = len.max(WINDOW).min((self.bytes() - start) as usize);
        window.data.resize(size, 0);
        read_exact_at(self.writer.get_ref(), &mut window.data, start)?;
        window.start = start;
        decode(&window.data[..len])
    }
}

/// How much of a file one read brings in.
const WINDOW: usize = 128 * 1024;

/// The part of a record file read last. Records are read mostly in the
/// order they were written (results arrive roughly in the order the URLs
/// were handed out), so most reads are served from memory.
#[derive(Default)]
struct Window {
    start: u64,
    data: Vec<u8>,
    /// For a record read on its own.
    scratch: Vec<u8>,
}

impl Window {
    fn get(&self, start: u64, len: usize) -> Option<&[u8]> {
        let offset = usize::try_from(start.checked_sub(self.start)?).ok()?;
        self.data.get(offset..offset.checked_add(len)?)
    }
}

/// Fills `buf` from `file` at `offset` without moving a shared cursor, so
/// the CSV and HTML writers can read the same file at once.
#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

/// Fills `buf` from `file` at `offset`; `seek_read` moves the cursor, but
/// nothing is written once reading starts.
#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> io::Result<T> {
    postcard::from_bytes(bytes).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the run's temporary row file is damaged: {e}"),
        )
    })
}

/// One record per unique URL, stored in any order, read by URL number:
/// check results as the checks finish, standings as the history records
/// them.
pub struct ByUrl<T> {
    records: RecordFile,
    /// URL number to its record; `u32::MAX` for a URL without one.
    record_of: Vec<u32>,
    _type: std::marker::PhantomData<fn() -> T>,
}

impl<T: Serialize + DeserializeOwned> ByUrl<T> {
    /// None yet, in a new temporary file.
    pub fn new() -> io::Result<ByUrl<T>> {
        Ok(ByUrl {
            records: RecordFile::new()?,
            record_of: Vec::new(),
            _type: std::marker::PhantomData,
        })
    }

    /// Stores the record of URL number `url`.
    pub fn push(&mut self, url: u32, value: &T) -> io::Result<()> {
        let slot = url as usize;
        if self.record_of.len() <= slot {
            self.record_of.resize(slot + 1, u32::MAX);
        }
        self.record_of[slot] = self.records.len() as u32;
        self.records.append(value)
    }

    /// Makes every stored record readable.
    pub fn flush(&mut self) -> io::Result<()> {
        self.records.flush()
    }

    /// The record of URL number `url`, if stored (and flushed).
    pub fn get(&self, url: u32) -> io::Result<Option<T>> {
        self.read(url, &mut Window::default())
    }

    /// Hands the record of each URL number in `order` to `each`, skipping
    /// numbers without one; stops at the first error `each` returns.
    pub fn drain_in<E: From<io::Error>>(
        mut self,
        order: &[u32],
        mut each: impl FnMut(T) -> Result<(), E>,
    ) -> Result<(), E> {
        self.flush()?;
        let mut scratch = Vec::new();
        for &url in order {
            if let Some(record) = self.record(url) {
                each(self.records.read_one(record, &mut scratch)?)?;
            }
        }
        Ok(())
    }

    /// The record number of URL number `url`, if it has one.
    fn record(&self, url: u32) -> Option<usize> {
        match self.record_of.get(url as usize) {
            Some(&record) if record != u32::MAX => Some(record as usize),
            _ => None,
        }
    }

    fn read(&self, url: u32, window: &mut Window) -> io::Result<Option<T>> {
        self.record(url)
            .map(|record| self.records.read(record, window))
            .transpose()
    }
}

/// The rows of a run being built: citations in document order, each with
/// the number of its unique URL, and the results as they come.
pub struct RowSpool {
    citations: RecordFile,
    results: ByUrl<CheckResult>,
}

impl RowSpool {
    /// An empty spool in new temporary files.
    pub fn new() -> io::Result<RowSpool> {
        Ok(RowSpool {
            citations: RecordFile::new()?,
            results: ByUrl::new()?,
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

    /// Bytes written to the temporary files so far.
    pub fn bytes(&self) -> u64 {
        self.citations.bytes() + self.results.records.bytes()
    }

    /// Stores the result for unique URL `url`, in any order.
    pub fn push_result(&mut self, url: u32, result: &CheckResult) -> io::Result<()> {
        self.results.push(url, result)
    }

    /// The finished rows, each URL's standing in the history (`None`
    /// without history) joined in as rows are read.
    pub fn finish(mut self, mut tracked: Option<ByUrl<Tracked>>) -> io::Result<SpooledRows> {
        self.citations.flush()?;
        self.results.flush()?;
        if let Some(tracked) = &mut tracked {
            tracked.flush()?;
        }
        Ok(SpooledRows {
            spool: self,
            tracked,
        })
    }
}

/// A run's rows read back from a [`RowSpool`].
pub struct SpooledRows {
    spool: RowSpool,
    tracked: Option<ByUrl<Tracked>>,
}

/// Where one reading of the rows is in each file.
#[derive(Default)]
struct Windows {
    citations: Window,
    results: Window,
    tracked: Window,
}

impl SpooledRows {
    fn result(&self, url: u32, window: &mut Window) -> io::Result<Arc<CheckResult>> {
        match self.spool.results.read(url, window)? {
            Some(result) => Ok(Arc::new(result)),
            None => Err(io::Error::other(format!("no result for URL number {url}"))),
        }
    }

    fn tracked(&self, url: u32, window: &mut Window) -> io::Result<Option<Arc<Tracked>>> {
        match &self.tracked {
            Some(tracked) => Ok(tracked.read(url, window)?.map(Arc::new)),
            None => Ok(None),
        }
    }

    fn each_of(
        &self,
        order: impl Iterator<Item = usize>,
        f: &mut dyn FnMut(&AuditRow) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut windows = Windows::default();
        // Notes that repeat a URL ("Ibid.") usually follow each other: the
        // last URL's result and standing are kept.
        type Shared = (Arc<CheckResult>, Option<Arc<Tracked>>);
        let mut last: Option<(u32, Shared)> = None;
        for i in order {
            let (url, citation): (u32, Citation) =
                self.spool.citations.read(i, &mut windows.citations)?;
            let (result, tracked) = match &last {
                Some((n, shared)) if *n == url => shared.clone(),
                _ => {
                    let shared = (
                        self.result(url, &mut windows.results)?,
                        self.tracked(url, &mut windows.tracked)?,
                    );
                    last = Some((url, shared.clone()));
                    shared
                }
            };
            f(&AuditRow {
                citation,
                result,
                preservation: None,
                tracked,
            })?;
        }
        Ok(())
    }
}

impl Rows for SpooledRows {
    fn len(&self) -> usize {
        self.spool.citations.len()
    }

    fn each(&self, f: &mut dyn FnMut(&AuditRow) -> io::Result<()>) -> io::Result<()> {
        self.each_of(0..self.len(), f)
    }

    fn each_in(
        &self,
        order: &[usize],
        f: &mut dyn FnMut(&AuditRow) -> io::Result<()>,
    ) -> io::Result<()> {
        self.each_of(order.iter().copied(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Verdict;
    use crate::history::{Change, State};
    use crate::report::test_rows::{row, tracked};

    #[test]
    fn records_are_drained_in_the_order_asked_for() {
        let mut spool = ByUrl::<String>::new().unwrap();
        // More than one read window of records, stored in another order.
        for url in (0..20_000u32).rev().filter(|n| n % 3 != 0) {
            spool.push(url, &format!("record {url}")).unwrap();
        }
        let order: Vec<u32> = (0..20_000u32).collect();
        let mut seen = Vec::new();
        spool
            .drain_in(&order, |text| {
                seen.push(text);
                Ok::<(), io::Error>(())
            })
            .unwrap();
        let expected: Vec<String> = (0..20_000u32)
            .filter(|n| n % 3 != 0)
            .map(|n| format!("record {n}"))
            .collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn draining_stops_at_the_first_error() {
        let mut spool = ByUrl::<u32>::new().unwrap();
        for url in 0..10u32 {
            spool.push(url, &url).unwrap();
        }
        let mut seen = Vec::new();
        let stopped = spool.drain_in(&[9, 8, 7, 6, 5], |n| {
            seen.push(n);
            if n == 7 {
                Err(io::Error::other("stop"))
            } else {
                Ok(())
            }
        });
        assert!(stopped.is_err());
        assert_eq!(seen, [9, 8, 7]);
    }

    #[test]
    fn rows_come_back_in_document_order_with_their_results() {
        let mut written = [
            row(
                "a.md",
                3,
                "1",
                "https://a.test/1",
                Verdict::Moved,
                Some(200),
            ),
            row(
                "a.md",
                4,
                "2",
                "https://b.test/2",
                Verdict::Broken,
                Some(404),
            ),
            row(
                "b.md",
                9,
                "7",
                "https://a.test/1",
                Verdict::Moved,
                Some(200),
            ),
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
        // Only the second URL has a standing.
        let standing = tracked(State::Dead, Change::NewlyDead, 3);
        let mut standings = ByUrl::new().unwrap();
        standings.push(1, &standing).unwrap();
        let rows = spool.finish(Some(standings)).unwrap();
        assert_eq!(rows.len(), 3);
        let mut read = Vec::new();
        rows.each(&mut |row| {
            read.push(row.clone());
            Ok(())
        })
        .unwrap();
        let standings: Vec<Option<Tracked>> =
            read.iter().map(|r| r.tracked.as_deref().cloned()).collect();
        assert_eq!(standings, [None, Some(standing), None]);
        for (got, want) in read.iter().zip(&written) {
            assert_eq!(got.citation, want.citation);
            // Everything a report shows of the result survives the trip.
            assert_eq!(
                serde_json::to_value(&*got.result).unwrap(),
                serde_json::to_value(&*want.result).unwrap()
            );
        }
        let mut picked = Vec::new();
        rows.each_in(&[2, 1], &mut |row| {
            picked.push((row.citation.line, row.result.verdict));
            Ok(())
        })
        .unwrap();
        assert_eq!(picked, [(9, Verdict::Moved), (4, Verdict::Broken)]);
    }

    #[test]
    fn reads_past_the_window_and_back_find_every_record() {
        // Enough rows for several windows, results stored out of order,
        // and each URL cited again far from its first citation.
        let urls = 3_000u32;
        let mut spool = RowSpool::new().unwrap();
        let citation = |n: u32| {
            let url = format!("https://h{}.test/{}", n % 7, "p".repeat(n as usize % 50));
            let mut row = row("a.md", n as usize + 1, "1", &url, Verdict::Ok, Some(200));
            row.citation.span = 0..0;
            row
        };
        let mut expected = Vec::new();
        for n in 0..urls * 2 {
            let url = if n < urls { n } else { (n * 7919) % urls };
            let row = citation(url);
            spool.push_citation(url, &row.citation).unwrap();
            expected.push((url, row));
        }
        for url in (0..urls).rev() {
            let mut result = (*citation(url).result).clone();
            result.attempts = url;
            spool.push_result(url, &result).unwrap();
        }
        let rows = spool.finish(None).unwrap();
        let mut seen = 0;
        rows.each(&mut |row| {
            let (url, want) = &expected[seen];
            assert_eq!(row.citation.url, want.citation.url);
            assert_eq!(row.result.url, want.result.url);
            assert_eq!(row.result.attempts, *url);
            seen += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, expected.len());
        let backwards: Vec<usize> = (0..expected.len()).rev().collect();
        let mut at = 0;
        rows.each_in(&backwards, &mut |row| {
            let (url, _) = &expected[backwards[at]];
            assert_eq!(row.result.attempts, *url);
            at += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(at, expected.len());
    }

    #[test]
    fn a_row_without_a_result_is_an_error_not_a_panic() {
        let mut spool = RowSpool::new().unwrap();
        spool
            .push_citation(
                0,
                &row("a.md", 1, "1", "https://a.test/", Verdict::Ok, None).citation,
            )
            .unwrap();
        let rows = spool.finish(None).unwrap();
        assert!(rows.each(&mut |_| Ok(())).is_err());
    }
}
