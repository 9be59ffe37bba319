//! Stage 4: citations joined with their check results, written as CSV, JSON
//! and the other report formats.

pub mod html;

use std::sync::Arc;

use crate::archive::Preservation;
use crate::check::CheckResult;
use crate::scan::Citation;

pub mod scan_listing;

/// One citation and what its URL's check found: one report row.
///
/// Results are shared: a URL cited in three footnotes is checked once and
/// its result appears in three rows.
#[derive(Debug, Clone)]
pub struct AuditRow {
    /// Where and how the URL was cited.
    pub citation: Citation,
    /// What the check found.
    pub result: Arc<CheckResult>,
    /// Its snapshot and Internet Archive copy (`--archive`, `--wayback`).
    pub preservation: Preservation,
}

pub mod columns;
pub mod csv_report;
pub mod json_report;
pub mod summary;

pub use columns::{COLUMNS, Column};
pub use csv_report::{write_csv, write_csv_file};
pub use json_report::{write_json, write_json_file};
pub use summary::Summary;

/// Writes `path` through a temporary file in the same folder, renamed over
/// `path` only once `write` succeeded: an interrupted run never leaves a
/// half-written report.
pub fn write_atomically(
    path: &std::path::Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".linkrot-")
        .suffix(".tmp")
        .tempfile_in(&dir)?;
    {
        let mut out = std::io::BufWriter::new(tmp.as_file_mut());
        write(&mut out)?;
        std::io::Write::flush(&mut out)?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
