//! Stage 3: snapshots of what was cited (WARC) and the Internet Archive's
//! copies of what is gone.
//!
//! An [`Archiver`] takes the URLs the checker found alive, fetches each with
//! a client of its own ([`fetch`]), and hands the exchanges to a writer
//! thread ([`warc`]) that appends them to WARC/1.1 files, one gzip member
//! per record, and keeps the CDXJ index ([`cdxj`]). [`verify`] checks any
//! `.warc.gz` record by record.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

pub mod address;
pub mod cdxj;
pub mod dates;
pub mod fetch;
pub mod verify;
pub mod warc;
pub mod wayback;

use fetch::{FetchOptions, SnapshotFetcher};
use warc::{Exchange, RunInfo, WarcWriter, Written};

/// Default archive directory.
pub const DEFAULT_DIR: &str = "reports/archive";
/// Default `--archive-max-file`: 1 GiB.
pub const DEFAULT_MAX_FILE: u64 = 1 << 30;
/// Default `--archive-max-bytes`: 50 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 50 << 20;

/// Where and how to archive.
#[derive(Debug, Clone)]
pub struct ArchiveOptions {
    /// The archive directory (created if missing).
    pub dir: PathBuf,
    /// Rotate WARC files beyond this many bytes.
    pub max_file: u64,
    /// What the `warcinfo` records say.
    pub run: RunInfo,
    /// How pages are fetched.
    pub fetch: FetchOptions,
}

/// A page preserved in the archive: where its final answer's record is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Snapshot {
    /// The WARC file, relative to the archive directory.
    pub archive_file: String,
    /// Offset of the final response (or revisit) record.
    pub archive_offset: u64,
    /// `sha1:` of the final payload.
    pub payload_digest: String,
    /// WARC-Date of the capture.
    pub archived_at: jiff::Timestamp,
    /// The final URL, after redirects.
    pub final_url: String,
    /// The final payload was already archived; a revisit record points to it.
    pub revisit: bool,
    /// The final body was cut at `--archive-max-bytes`.
    pub truncated: bool,
    /// Exchanges written (redirect hops plus the final answer).
    pub exchanges: usize,
}

/// What the archive stages found for one citation: its local snapshot, its
/// Internet Archive copy and the date the citation speaks for.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Preservation {
    /// The local WARC snapshot of the URL, if one was taken. (Boxed, like
    /// the Wayback copy: every report row carries a `Preservation`, and most
    /// runs preserve nothing.)
    pub snapshot: Option<Box<Snapshot>>,
    /// Why no snapshot was taken of a live URL.
    pub archive_error: Option<String>,
    /// The Wayback Machine copy found (lookup) or made (save).
    pub wayback: Option<Box<wayback::Capture>>,
    /// Why the Wayback step found or made nothing, when it was asked to.
    pub wayback_error: Option<String>,
    /// The date the lookup aimed at: the footnote's access or publication
    /// date, else the document's date, else the day of the run.
    pub citation_date: Option<jiff::civil::Date>,
    /// A Robust Links anchor, when there is a Wayback copy.
    pub robust_link: Option<String>,
}

impl Preservation {
    /// Nothing preserved: what a row without preservation reads.
    pub const NONE: Preservation = Preservation {
        snapshot: None,
        archive_error: None,
        wayback: None,
        wayback_error: None,
        citation_date: None,
        robust_link: None,
    };
}

struct WriteJob {
    exchanges: Vec<Exchange>,
    reply: oneshot::Sender<std::io::Result<Vec<Written>>>,
}

/// Fetches pages and writes them to the archive; cheap to share across tasks.
pub struct Archiver {
    fetcher: SnapshotFetcher,
    jobs: mpsc::Sender<WriteJob>,
    writer: std::thread::JoinHandle<std::io::Result<Vec<String>>>,
}

impl Archiver {
    /// Opens the archive directory (loading earlier runs' digests from its
    /// index) and starts the writer thread.
    pub fn start(options: ArchiveOptions) -> Result<Arc<Archiver>, String> {
        let fetcher = SnapshotFetcher::new(options.fetch.clone())?;
        let mut writer = WarcWriter::open(&options.dir, options.max_file, options.run.clone())
            .map_err(|e| format!("archive {}: {e}", options.dir.display()))?;
        // Small: fetched chains wait here while the disk catches up, and a
        // full queue makes fetchers wait instead of piling bodies up.
        let (jobs, mut rx) = mpsc::channel::<WriteJob>(4);
        let writer = std::thread::Builder::new()
            .name("warc-writer".into())
            .spawn(move || {
                while let Some(job) = rx.blocking_recv() {
                    let mut written = Vec::with_capacity(job.exchanges.len());
                    let mut outcome = Ok(());
                    for ex in job.exchanges {
                        match writer.write_exchange(ex) {
                            Ok(w) => written.push(w),
                            Err(e) => {
                                outcome = Err(e);
                                break;
                            }
                        }
                    }
                    let _ = job.reply.send(outcome.map(|()| written));
                }
                writer.finish()
            })
            .map_err(|e| format!("cannot start the WARC writer: {e}"))?;
        Ok(Arc::new(Archiver {
            fetcher,
            jobs,
            writer,
        }))
    }

    /// Fetches `url` with every redirect hop and writes the exchanges.
    /// `Err` says in one line why no snapshot was taken.
    pub async fn snapshot(&self, url: &str) -> Result<Snapshot, String> {
        let exchanges = self.fetcher.fetch_chain(url).await?;
        let count = exchanges.len();
        let final_url = exchanges
            .last()
            .map(|e| e.target_uri.clone())
            .unwrap_or_else(|| url.to_string());
        let truncated = exchanges.last().is_some_and(|e| e.truncated);
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(WriteJob { exchanges, reply })
            .await
            .map_err(|_| "the WARC writer stopped".to_string())?;
        let written = answer
            .await
            .map_err(|_| "the WARC writer stopped".to_string())?
            .map_err(|e| format!("cannot write the archive: {e}"))?;
        let last = written.last().ok_or("nothing was written")?;
        Ok(Snapshot {
            archive_file: last.filename.clone(),
            archive_offset: last.offset,
            payload_digest: last.payload_digest.clone(),
            archived_at: last.date,
            final_url,
            revisit: last.revisit,
            truncated,
            exchanges: count,
        })
    }

    /// Closes the last file and writes the index; returns the files this
    /// run created. Call once every snapshot has finished.
    pub async fn finish(self: Arc<Self>) -> Result<Vec<String>, String> {
        let archiver = Arc::try_unwrap(self)
            .map_err(|_| "archive finished while snapshots were still running".to_string())?;
        let Archiver { jobs, writer, .. } = archiver;
        drop(jobs);
        tokio::task::spawn_blocking(move || writer.join())
            .await
            .map_err(|e| format!("the WARC writer failed: {e}"))?
            .map_err(|_| "the WARC writer panicked".to_string())?
            .map_err(|e| format!("cannot finish the archive: {e}"))
    }
}
