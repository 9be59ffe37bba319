//! `linkrot history URL` and `linkrot diff`: read the history file.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::{EXIT_OK, EXIT_USAGE};
use crate::history::{self, History, TimelineEntry};

/// Arguments of `linkrot history`.
#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// The URL whose timeline to print, as the reports show it.
    pub url: String,
    /// The history file to read.
    #[arg(long, value_name = "FILE", default_value = history::DEFAULT_PATH)]
    pub history: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `linkrot diff`.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The history file to read.
    #[arg(long, value_name = "FILE", default_value = history::DEFAULT_PATH)]
    pub history: PathBuf,
    /// Print JSON instead of a list.
    #[arg(long)]
    pub json: bool,
}

/// An RFC 3339 time to the second, for tables.
fn when(ms: i64) -> String {
    match jiff::Timestamp::from_second(ms.div_euclid(1000)) {
        Ok(at) => at.to_string(),
        Err(_) => ms.to_string(),
    }
}

/// `server_error 503: upstream timed out`.
fn found(entry: &TimelineEntry) -> String {
    let mut text = entry.verdict.clone();
    if let Some(status) = entry.status {
        text.push_str(&format!(" {status}"));
    }
    if let Some(error) = &entry.error {
        text.push_str(": ");
        text.push_str(error);
    } else if let Some(final_url) = &entry.final_url {
        text.push_str(" -> ");
        text.push_str(final_url);
    }
    text
}

/// Runs `linkrot history URL`.
pub fn run_history(args: HistoryArgs) -> anyhow::Result<ExitCode> {
    let store = History::open_existing(&args.history)?;
    let mut entries = store.timeline(&args.url)?;
    let mut url = args.url.clone();
    if entries.is_empty() {
        // Reports and the store hold URLs without their fragment.
        if let Some((bare, _fragment)) = args.url.split_once('#') {
            entries = store.timeline(bare)?;
            url = bare.to_string();
        }
    }
    if entries.is_empty() {
        eprintln!(
            "linkrot: {}: no check of {} recorded",
            args.history.display(),
            args.url
        );
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        let value = serde_json::json!({ "url": url, "checks": entries });
        writeln!(out, "{value:#}").context("writing to stdout")?;
        return Ok(ExitCode::from(EXIT_OK));
    }
    writeln!(out, "{url}").context("writing to stdout")?;
    writeln!(
        out,
        "{:>5}  {:<20}  {:<8}  {:<13}  {:>8}  {:<7}  found",
        "run", "checked", "state", "change", "failures", "source"
    )
    .context("writing to stdout")?;
    for entry in &entries {
        writeln!(
            out,
            "{:>5}  {:<20}  {:<8}  {:<13}  {:>8}  {:<7}  {}",
            entry.run_id,
            when(entry.checked_at),
            entry.state,
            entry.change,
            entry.consecutive_failures,
            if entry.from_history {
                "history"
            } else {
                "network"
            },
            found(entry),
        )
        .context("writing to stdout")?;
    }
    Ok(ExitCode::from(EXIT_OK))
}

/// Runs `linkrot diff`.
pub fn run_diff(args: DiffArgs) -> anyhow::Result<ExitCode> {
    let store = History::open_existing(&args.history)?;
    let Some(diff) = store.diff()? else {
        eprintln!("linkrot: {}: no run recorded yet", args.history.display());
        return Ok(ExitCode::from(EXIT_USAGE));
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{:#}", serde_json::json!(diff)).context("writing to stdout")?;
        return Ok(ExitCode::from(EXIT_OK));
    }
    match &diff.previous {
        Some(previous) => writeln!(
            out,
            "run {} ({}) against run {} ({}): {} changed, {} gone",
            diff.run.id,
            when(diff.run.started_at),
            previous.id,
            when(previous.started_at),
            diff.changed.len(),
            diff.gone.len()
        ),
        None => writeln!(
            out,
            "run {} ({}), the first recorded: {} URLs, all new",
            diff.run.id,
            when(diff.run.started_at),
            diff.changed.len()
        ),
    }
    .context("writing to stdout")?;
    for change in &diff.changed {
        writeln!(
            out,
            "{:<13}  {}  {} ({})",
            change.entry.change,
            change.url,
            found(&change.entry),
            change.entry.state
        )
        .context("writing to stdout")?;
    }
    for url in &diff.gone {
        writeln!(out, "{:<13}  {url}  no longer cited", "gone").context("writing to stdout")?;
    }
    Ok(ExitCode::from(EXIT_OK))
}
