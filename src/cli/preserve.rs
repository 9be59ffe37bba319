//! The preservation step of `linkrot check`: local WARC snapshots of live
//! citations (`--archive`) and the Internet Archive (`--wayback`), joined
//! back to each report row.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use jiff::civil::Date;

use crate::archive::wayback::{SaveOutcome, WaybackClient, WaybackOptions, robust_link};
use crate::archive::{ArchiveOptions, Preservation, dates};
use crate::check::HostLimits;
use crate::report::AuditRow;
use crate::scan::UrlKind;

use super::archive::snapshot_all;

/// What to ask the Internet Archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WaybackMode {
    /// For each failing citation, find the capture closest to its date.
    Lookup,
    /// For every citation, find the capture closest to its date.
    LookupAll,
    /// Submit every live citation to Save Page Now (needs
    /// LINKROT_IA_ACCESS_KEY and LINKROT_IA_SECRET_KEY).
    Save,
}

/// `--wayback` and its companions.
#[derive(Debug, Clone, clap::Args)]
pub struct WaybackArgs {
    /// Ask the Internet Archive: `lookup` (failing citations), `lookup-all`
    /// (every citation), `save` (submit live citations). Repeatable.
    #[arg(long, value_enum, value_name = "MODE")]
    pub wayback: Vec<WaybackMode>,

    /// Base URL of the Internet Archive's APIs (default: archive.org for
    /// lookups, web.archive.org for Save Page Now).
    #[arg(long, value_name = "URL")]
    pub wayback_endpoint: Option<url::Url>,

    /// Milliseconds between polls of a pending Save Page Now job.
    #[arg(long, value_name = "MS", default_value_t = 6000, hide = true)]
    pub wayback_poll_ms: u64,
}

impl WaybackArgs {
    fn wants(&self, mode: WaybackMode) -> bool {
        self.wayback.contains(&mode)
    }

    fn options(&self, limits: Option<Arc<HostLimits>>) -> WaybackOptions {
        let mut options = WaybackOptions::new(self.wayback_endpoint.clone());
        options.limits = limits;
        options.poll_interval = Duration::from_millis(self.wayback_poll_ms);
        let key = std::env::var("LINKROT_IA_ACCESS_KEY").ok();
        let secret = std::env::var("LINKROT_IA_SECRET_KEY").ok();
        if let (Some(k), Some(s)) = (key, secret)
            && !k.is_empty()
            && !s.is_empty()
        {
            options.credentials = Some((k, s));
        }
        options
    }
}

/// Runs the requested preservation steps; one [`Preservation`] per row, in
/// row order. Requests to the Internet Archive go through `limits`, the
/// run's per-host politeness. `Err` only for failures that stop the run (an archive that
/// cannot be written).
pub async fn preserve(
    rows: &[AuditRow],
    archive: Option<(ArchiveOptions, usize)>,
    wayback: &WaybackArgs,
    limits: Option<Arc<HostLimits>>,
) -> Result<Vec<Preservation>, String> {
    let mut out = vec![Preservation::default(); rows.len()];
    let web = |row: &AuditRow| row.citation.kind == UrlKind::Web;

    if let Some((options, concurrency)) = archive {
        let mut seen = HashSet::new();
        let urls: Vec<String> = rows
            .iter()
            .filter(|r| web(r) && r.result.verdict.is_alive())
            .map(|r| r.result.url.clone())
            .filter(|u| seen.insert(u.clone()))
            .collect();
        let (snapshots, _files) = snapshot_all(options, urls, concurrency).await?;
        for (row, p) in rows.iter().zip(out.iter_mut()) {
            match snapshots.get(&row.result.url) {
                Some(Ok(s)) => p.snapshot = Some(Box::new(s.clone())),
                Some(Err(e)) => p.archive_error = Some(e.clone()),
                None => {}
            }
        }
    }

    if wayback.wayback.is_empty() {
        return Ok(out);
    }
    let today = jiff::Zoned::now().date();
    let mut document_dates: HashMap<String, Option<Date>> = HashMap::new();
    for (row, p) in rows.iter().zip(out.iter_mut()) {
        let document = row.citation.document.to_string();
        let document_date = *document_dates
            .entry(document.clone())
            .or_insert_with(|| read_document_date(&document));
        p.citation_date = Some(
            row.citation
                .footnote
                .as_ref()
                .and_then(|f| dates::footnote_date(&f.text))
                .or(document_date)
                .unwrap_or(today),
        );
    }
    let client = WaybackClient::new(wayback.options(limits))?;

    let lookup_all = wayback.wants(WaybackMode::LookupAll);
    if lookup_all || wayback.wants(WaybackMode::Lookup) {
        let wanted = |row: &AuditRow| {
            web(row)
                && (lookup_all
                    || (!row.result.verdict.is_alive() && !row.result.verdict.is_unrequested()))
        };
        let mut index: HashMap<(String, Date), usize> = HashMap::new();
        let mut queries: Vec<(String, Date)> = Vec::new();
        for (row, p) in rows.iter().zip(&out) {
            if !wanted(row) {
                continue;
            }
            let key = (row.result.url.clone(), p.citation_date.unwrap_or(today));
            index.entry(key.clone()).or_insert_with(|| {
                queries.push(key);
                queries.len() - 1
            });
        }
        let answers = client.lookup(&queries).await;
        for (row, p) in rows.iter().zip(out.iter_mut()) {
            if !wanted(row) {
                continue;
            }
            let key = (row.result.url.clone(), p.citation_date.unwrap_or(today));
            match index.get(&key).and_then(|&i| answers.get(i)) {
                Some(Ok(Some(capture))) => p.wayback = Some(Box::new(capture.clone())),
                Some(Ok(None)) => {
                    p.wayback_error = Some("no capture in the Wayback Machine".into())
                }
                Some(Err(e)) => p.wayback_error = Some(e.clone()),
                None => {}
            }
        }
    }

    if wayback.wants(WaybackMode::Save) {
        let mut seen = HashSet::new();
        let urls: Vec<String> = rows
            .iter()
            .filter(|r| web(r) && r.result.verdict.is_alive())
            .map(|r| r.result.url.clone())
            .filter(|u| seen.insert(u.clone()))
            .collect();
        let saved = client.save_all(&urls).await;
        for (row, p) in rows.iter().zip(out.iter_mut()) {
            match saved.get(&row.result.url) {
                Some(SaveOutcome::Saved(capture)) => {
                    p.wayback = Some(Box::new(capture.clone()));
                    p.wayback_error = None;
                }
                Some(SaveOutcome::Failed(reason)) => {
                    p.wayback_error = Some(format!("Save Page Now: {reason}"))
                }
                None => {}
            }
        }
    }

    for (row, p) in rows.iter().zip(out.iter_mut()) {
        if let Some(capture) = &p.wayback {
            p.robust_link = Some(robust_link(&row.citation.url, capture));
        }
    }
    Ok(out)
}

/// The document's date, read from the file again (documents are small and
/// this runs once per document); `None` for standard input or a file that
/// is gone.
fn read_document_date(document: &str) -> Option<Date> {
    if document == "-" {
        return None;
    }
    let text = std::fs::read_to_string(document).ok()?;
    dates::document_date(&text)
}
