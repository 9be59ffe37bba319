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
    /// Its snapshot and Internet Archive copy (`--archive`, `--wayback`);
    /// `None` when nothing was preserved. Boxed because most runs preserve
    /// nothing and every row would otherwise carry 96 empty bytes: 18 MB
    /// more at 200,000 citations.
    pub preservation: Option<Box<Preservation>>,
    /// The URL's standing in the history after this run; `None` with
    /// `--no-history`. Shared like `result`.
    pub tracked: Option<Arc<Tracked>>,
}

impl AuditRow {
    /// The result's reasons plus `missing_fragment` when this citation's own
    /// fragment is one the page lacks (other citations of the URL may not be).
    pub fn reasons(&self) -> Vec<crate::check::Reason> {
        self.result.reasons_for(self.fragment().as_deref())
    }

    /// Its snapshot and Internet Archive copy; empty when nothing was
    /// preserved.
    pub fn preservation(&self) -> &Preservation {
        self.preservation.as_deref().unwrap_or(&Preservation::NONE)
    }

    /// The `#fragment` this citation points to, if any.
    pub fn fragment(&self) -> Option<String> {
        // Asked for every row of every report: skip the parse when there
        // can be no fragment.
        if !self.citation.url.contains('#') {
            return None;
        }
        url::Url::parse(&self.citation.url)
            .ok()
            .as_ref()
            .and_then(crate::check::fragment::fragment_of)
    }

    /// A row without history.
    pub fn new(citation: Citation, result: Arc<CheckResult>) -> AuditRow {
        AuditRow {
            citation,
            result,
            preservation: None,
            tracked: None,
        }
    }
}

/// A run's rows in document order, read as many times as a report needs:
/// from memory, or from the [`spool`] on disk that keeps a large run's
/// memory small.
pub trait Rows: Sync {
    /// How many rows.
    fn len(&self) -> usize;

    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f` with every row, in order, until it fails.
    fn each(&self, f: &mut dyn FnMut(&AuditRow) -> std::io::Result<()>) -> std::io::Result<()>;

    /// Calls `f` with the rows numbered in `order` (each below `len()`),
    /// in that order, until it fails.
    fn each_in(
        &self,
        order: &[usize],
        f: &mut dyn FnMut(&AuditRow) -> std::io::Result<()>,
    ) -> std::io::Result<()>;

    /// Every row in memory, for the formats that need them all at once.
    fn to_vec(&self) -> std::io::Result<Vec<AuditRow>> {
        let mut rows = Vec::with_capacity(self.len());
        self.each(&mut |row| {
            rows.push(row.clone());
            Ok(())
        })?;
        Ok(rows)
    }
}

/// Rows in memory: a slice or a vector of them.
impl<R: AsRef<[AuditRow]> + Sync + ?Sized> Rows for R {
    fn len(&self) -> usize {
        self.as_ref().len()
    }

    fn each(&self, f: &mut dyn FnMut(&AuditRow) -> std::io::Result<()>) -> std::io::Result<()> {
        self.as_ref().iter().try_for_each(f)
    }

    fn each_in(
        &self,
        order: &[usize],
        f: &mut dyn FnMut(&AuditRow) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let rows = self.as_ref();
        order.iter().try_for_each(|&i| f(&rows[i]))
    }
}

pub mod columns;
pub mod csv_report;
pub mod json_report;
pub mod spool;
pub mod summary;

pub use columns::{COLUMNS, Column};
pub use csv_report::{write_csv, write_csv_file};
pub use json_report::{write_json, write_json_file};
pub use summary::{Summary, SummaryCounter};

/// Writes `path` through a temporary file in the same folder, renamed over
/// `path` only once `write` succeeded: an interrupted run never leaves a
/// half-written report.
///
/// The file gets the permissions of any new file (0666 less the umask), not
/// a temporary file's 0600: reports are published, served and shared.
pub fn write_atomically(
    path: &std::path::Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".linkrot-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(&dir)?;
    {
        let mut out = std::io::BufWriter::new(tmp.as_file_mut());
        write(&mut out)?;
        std::io::Write::flush(&mut out)?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

pub mod annotations;
pub mod junit;
pub mod markdown;

use crate::check::Verdict;
use crate::history::{Evidence, FailOn, State, Tracked};

/// A run's rows together with what the history and `--fail-on` say about
/// each one: what every report format reads.
#[derive(Debug, Clone, Copy)]
pub struct Audit<'a> {
    /// One row per citation, in document order.
    pub rows: &'a [AuditRow],
    /// Which rows fail the run.
    pub fail_on: &'a FailOn,
    /// The run kept a history (the rows carry their standing).
    pub with_history: bool,
}

/// Why a row deserves a warning rather than an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Warning {
    /// Answers through a permanent redirect: the citation should be updated.
    Moved,
    /// The server refuses us: not evidence of rot, but not checked either.
    Blocked,
    /// Failing, not (yet) confirmed dead by the policy.
    Failing,
}

impl<'a> Audit<'a> {
    /// The history's standing of a row's URL.
    pub fn tracked<'r>(&self, row: &'r AuditRow) -> Option<&'r Tracked> {
        row.tracked.as_deref()
    }

    /// Whether the row fails the run.
    pub fn fails(&self, row: &AuditRow) -> bool {
        row_fails(self.fail_on, row)
    }

    /// The warning a row that does not fail the run still deserves.
    pub fn warning(&self, row: &AuditRow) -> Option<Warning> {
        if self.fails(row) {
            return None;
        }
        match row.result.verdict {
            Verdict::Moved => Some(Warning::Moved),
            Verdict::Blocked => Some(Warning::Blocked),
            _ if Evidence::of(&row.result).is_failure() => Some(Warning::Failing),
            _ => None,
        }
    }

    /// Rows that fail the run.
    pub fn failing(&self) -> impl Iterator<Item = &'a AuditRow> + '_ {
        self.rows.iter().filter(|row| self.fails(row))
    }
}

/// Whether `--fail-on` (with the row's standing in the history) makes the
/// row fail the run.
pub fn row_fails(fail_on: &FailOn, row: &AuditRow) -> bool {
    fail_on.fails(&row.result, row.tracked.as_deref(), &row.reasons())
}

/// `footnote 3`, `body`: where in the document a citation stands.
pub fn place(citation: &Citation) -> String {
    match &citation.footnote {
        Some(note) => format!("footnote {}", note.label),
        None => "body".to_string(),
    }
}

/// One-line account of what a check found: `broken (404)`,
/// `timeout: no answer within 30s`, `moved (200) -> https://new/`.
pub fn outcome(result: &CheckResult) -> String {
    let mut text = result.verdict.as_str().to_string();
    if let Some(status) = result.status {
        text.push_str(&format!(" ({status})"));
    }
    if let Some(error) = &result.error {
        text.push_str(": ");
        text.push_str(error);
    }
    if result.redirects() > 0
        && let Some(final_url) = &result.final_url
    {
        text.push_str(" -> ");
        text.push_str(final_url);
    }
    text
}

/// `dead since 2026-01-04`, `failing 2x since 2026-01-01`, `alive`: a URL's
/// standing in a few words.
pub fn standing(tracked: &Tracked) -> String {
    let status = &tracked.status;
    let day = |ms: i64| {
        crate::history::rfc3339(ms)
            .get(..10)
            .map(str::to_string)
            .unwrap_or_default()
    };
    match status.state {
        State::Dead => format!(
            "dead since {}",
            status.dead_since.map(day).unwrap_or_default()
        ),
        State::Failing => format!(
            "failing {}x since {}",
            status.consecutive_failures,
            status.first_failed.map(day).unwrap_or_default()
        ),
        State::Alive => "alive".to_string(),
        State::Unknown => "unknown".to_string(),
    }
}

/// Rows and standings for the formats' unit tests.
#[cfg(test)]
pub(crate) mod test_rows {
    use std::sync::Arc;

    use super::AuditRow;
    use crate::check::{CheckResult, RedirectHop, Verdict};
    use crate::history::{Change, State, Tracked, UrlStatus};
    use crate::scan::{Citation, Footnote, LinkForm, Scope, UrlKind};

    /// A footnote citation of `url` whose check found `verdict`.
    pub fn row(
        document: &str,
        line: usize,
        label: &str,
        url: &str,
        verdict: Verdict,
        status: Option<u16>,
    ) -> AuditRow {
        let footnote = Footnote {
            label: label.to_string(),
            line,
            reference_lines: vec![1],
            text: format!("See {url}."),
            repeats: None,
        };
        let mut chain = Vec::new();
        if verdict == Verdict::Moved {
            chain.push(RedirectHop {
                url: url.to_string(),
                status: 301,
                location: Some("/new".into()),
                resolved: Some(format!("{url}/new")),
                remote_addr: None,
                elapsed_ms: 1,
            });
        }
        let final_url = if verdict == Verdict::Moved {
            format!("{url}/new")
        } else {
            url.to_string()
        };
        if let Some(status) = status {
            chain.push(RedirectHop {
                url: final_url.clone(),
                status,
                location: None,
                resolved: None,
                remote_addr: None,
                elapsed_ms: 1,
            });
        }
        let error = match verdict {
            Verdict::Timeout => Some("no answer within 1s".to_string()),
            _ => None,
        };
        AuditRow {
            tracked: None,
            preservation: Default::default(),
            citation: Citation {
                document: Arc::from(document),
                line,
                column: 5,
                scope: Scope::Footnote,
                footnote: Some(Arc::new(footnote)),
                raw_url: url.to_string(),
                url: url.to_string(),
                link_text: None,
                form: LinkForm::Bare,
                kind: UrlKind::Web,
                text_url_mismatch: None,
                span: 0..url.len(),
                page: None,
                derived_from: None,
                via: None,
            },
            result: Arc::new(CheckResult {
                url: url.to_string(),
                verdict,
                status,
                final_url: status.map(|_| final_url),
                chain,
                error,
                method: Some("HEAD"),
                attempts: 1,
                elapsed_ms: 12,
                checked_at: jiff::Timestamp::UNIX_EPOCH,
                content_type: None,
                content_length: None,
                insecure: false,
                body_prefix: None,
                reasons: Vec::new(),
                drift: None,
                fingerprint: None,
                missing_fragments: Vec::new(),
            }),
        }
    }

    /// A standing with `failures` consecutive failures since the epoch.
    pub fn tracked(state: State, change: Change, failures: u32) -> Tracked {
        Tracked {
            status: UrlStatus {
                first_seen: 0,
                last_checked: 0,
                last_ok: (failures == 0).then_some(0),
                first_failed: (failures > 0).then_some(0),
                consecutive_failures: failures,
                dead_since: (state == State::Dead).then_some(0),
                state,
            },
            change,
            from_history: false,
        }
    }
}
