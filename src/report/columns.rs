//! The report columns: one table shared by the CSV and JSON writers.
//!
//! A later stage adds a column by adding an entry here (and the data it
//! reads to [`AuditRow`]); both formats and the documentation test pick it up.

use std::borrow::Cow;

use serde_json::Value;

use super::AuditRow;
use crate::history::rfc3339;

/// One report column.
pub struct Column {
    /// Header in the CSV, key in the JSON.
    pub name: &'static str,
    /// What it holds, as documented in `reports/README.md`.
    pub doc: &'static str,
    /// The value for one row; [`Cell::Null`] is an empty CSV cell.
    pub value: fn(&AuditRow) -> Cell<'_>,
    /// The CSV text when it differs from the value's plain rendering.
    pub csv: Option<fn(&AuditRow) -> String>,
}

/// One cell of a row. Text borrows from the row: the CSV writer copies it
/// straight to the file, with no owned string or JSON value per cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'r> {
    /// No value: an empty CSV cell, `null` in JSON.
    Null,
    /// Text.
    Text(Cow<'r, str>),
    /// A whole number.
    Int(i64),
    /// A fraction (written as JSON writes it, `1.0` not `1`).
    Float(f64),
    /// A structured value, for JSON (the redirect chain's hops).
    Json(Value),
}

impl Cell<'_> {
    /// The cell as a JSON value.
    pub fn into_json(self) -> Value {
        match self {
            Cell::Null => Value::Null,
            Cell::Text(text) => Value::String(text.into_owned()),
            Cell::Int(n) => Value::from(n),
            Cell::Float(x) => Value::from(x),
            Cell::Json(value) => value,
        }
    }
}

impl<'r> From<&'r str> for Cell<'r> {
    fn from(text: &'r str) -> Self {
        Cell::Text(Cow::Borrowed(text))
    }
}

impl From<String> for Cell<'_> {
    fn from(text: String) -> Self {
        Cell::Text(Cow::Owned(text))
    }
}

macro_rules! int_cells {
    ($($t:ty),*) => {$(
        impl From<$t> for Cell<'_> {
            fn from(n: $t) -> Self {
                Cell::Int(i64::from(n))
            }
        }
    )*};
}
int_cells!(u16, u32, i64);

// A `Content-Length` is whatever the server sent: one past `i64::MAX` stays
// exact instead of wrapping.
macro_rules! wide_int_cells {
    ($($t:ty),*) => {$(
        impl From<$t> for Cell<'_> {
            fn from(n: $t) -> Self {
                i64::try_from(n).map_or_else(|_| Cell::Json(Value::from(n)), Cell::Int)
            }
        }
    )*};
}
wide_int_cells!(u64, usize);

impl From<f64> for Cell<'_> {
    fn from(x: f64) -> Self {
        Cell::Float(x)
    }
}

impl<'r, T: Into<Cell<'r>>> From<Option<T>> for Cell<'r> {
    fn from(value: Option<T>) -> Self {
        value.map_or(Cell::Null, Into::into)
    }
}

/// Every column, in report order. The order is part of the format: add new
/// columns at the end.
pub const COLUMNS: &[Column] = &[
    Column {
        name: "document",
        doc: "The document, as named on the command line.",
        value: |r| Cell::from(&*r.citation.document),
        csv: None,
    },
    Column {
        name: "line",
        doc: "1-based line of the URL in the document.",
        value: |r| Cell::from(r.citation.line),
        csv: None,
    },
    Column {
        name: "column",
        doc: "1-based column of the URL, in characters.",
        value: |r| Cell::from(r.citation.column),
        csv: None,
    },
    Column {
        name: "footnote",
        doc: "Label of the footnote the URL stands in (`3`, `note-12`); empty in the body.",
        value: |r| Cell::from(r.citation.footnote.as_ref().map(|f| f.label.as_str())),
        csv: None,
    },
    Column {
        name: "footnote_line",
        doc: "1-based line where that footnote is defined.",
        value: |r| Cell::from(r.citation.footnote.as_ref().map(|f| f.line)),
        csv: None,
    },
    Column {
        name: "citation",
        doc: "The whole footnote as plain text on one line: what the citation said.",
        value: |r| Cell::from(r.citation.footnote.as_ref().map(|f| f.text.as_str())),
        csv: None,
    },
    Column {
        name: "link_text",
        doc: "The link text, when the URL was written as a link with text.",
        value: |r| Cell::from(r.citation.link_text.as_deref()),
        csv: None,
    },
    Column {
        name: "url",
        doc: "The URL checked: as cited, cleaned up (fragment kept here, never sent).",
        value: |r| Cell::from(r.citation.url.as_str()),
        csv: None,
    },
    Column {
        name: "scope",
        doc: "`footnote` or `body` (body URLs only with `--scope all`).",
        value: |r| Cell::from(r.citation.scope.as_str()),
        csv: None,
    },
    Column {
        name: "kind",
        doc: "`web` (http/https), `placeholder` (`#`, empty, `javascript:`) or `other_scheme`.",
        value: |r| Cell::from(r.citation.kind.as_str()),
        csv: None,
    },
    Column {
        name: "verdict",
        doc: "What the check found; see the verdicts below.",
        value: |r| Cell::from(r.result.verdict.as_str()),
        csv: None,
    },
    Column {
        name: "status",
        doc: "HTTP status of the last answer received; empty when none came.",
        value: |r| Cell::from(r.result.status),
        csv: None,
    },
    Column {
        name: "final_url",
        doc: "The last URL requested: where the link leads now.",
        value: |r| Cell::from(r.result.final_url.as_deref()),
        csv: None,
    },
    Column {
        name: "redirects",
        doc: "Number of redirects followed.",
        value: |r| Cell::from(r.result.redirects()),
        csv: None,
    },
    Column {
        name: "redirect_chain",
        doc: "Every answer in order: `301 https://a/x -> 302 https://b/y -> 200 https://c/z`. \
              In JSON an array of hops (`url`, `status`, `location`, `resolved`, `remote_addr`, `elapsed_ms`).",
        value: |r| Cell::Json(serde_json::to_value(&r.result.chain).unwrap_or(Value::Null)),
        csv: Some(|r| r.result.chain_text()),
    },
    Column {
        name: "error",
        doc: "The underlying cause of a failure on one line (`dns error: failed to lookup address ...`), \
              the status text of a failing answer, or `certificate not verified (--insecure)`.",
        value: |r| Cell::from(error_text(r)),
        csv: None,
    },
    Column {
        name: "method",
        doc: "Method of the final request: `HEAD`, or `GET` when HEAD was not enough.",
        value: |r| Cell::from(r.result.method),
        csv: None,
    },
    Column {
        name: "attempts",
        doc: "Attempts made, retries included (0: never requested).",
        value: |r| Cell::from(r.result.attempts),
        csv: None,
    },
    Column {
        name: "elapsed_ms",
        doc: "Milliseconds spent on the URL, retries and politeness waits included.",
        value: |r| Cell::from(r.result.elapsed_ms),
        csv: None,
    },
    Column {
        name: "checked_at",
        doc: "When the check finished, RFC 3339 UTC.",
        value: |r| Cell::from(r.result.checked_at.to_string()),
        csv: None,
    },
    Column {
        name: "content_type",
        doc: "`Content-Type` of the final answer.",
        value: |r| Cell::from(r.result.content_type.as_deref()),
        csv: None,
    },
    Column {
        name: "content_length",
        doc: "`Content-Length` of the final answer as sent (empty when not sent or the body was compressed).",
        value: |r| Cell::from(r.result.content_length),
        csv: None,
    },
    Column {
        name: "archive_file",
        doc: "The WARC file holding the snapshot of the page (`--archive`).",
        value: |r| {
            Cell::from(
                r.preservation()
                    .snapshot
                    .as_ref()
                    .map(|s| s.archive_file.as_str()),
            )
        },
        csv: None,
    },
    Column {
        name: "archive_offset",
        doc: "Byte offset in `archive_file` of the final answer's record (its gzip member).",
        value: |r| Cell::from(r.preservation().snapshot.as_ref().map(|s| s.archive_offset)),
        csv: None,
    },
    Column {
        name: "payload_digest",
        doc: "`sha1:` digest (Base32) of the archived body, as in the record's WARC-Payload-Digest.",
        value: |r| {
            Cell::from(
                r.preservation()
                    .snapshot
                    .as_ref()
                    .map(|s| s.payload_digest.as_str()),
            )
        },
        csv: None,
    },
    Column {
        name: "archived_at",
        doc: "When the snapshot was taken (its WARC-Date), RFC 3339 UTC.",
        value: |r| {
            Cell::from(
                r.preservation()
                    .snapshot
                    .as_ref()
                    .map(|s| s.archived_at.to_string()),
            )
        },
        csv: None,
    },
    Column {
        name: "archive_error",
        doc: "Why a live page has no snapshot (a refused private address, a failed fetch).",
        value: |r| Cell::from(r.preservation().archive_error.as_deref()),
        csv: None,
    },
    Column {
        name: "wayback_url",
        doc: "The Wayback Machine copy found for the citation's date, or made by `--wayback save`.",
        value: |r| Cell::from(r.preservation().wayback.as_ref().map(|c| c.url.as_str())),
        csv: None,
    },
    Column {
        name: "wayback_timestamp",
        doc: "That copy's capture time, `YYYYMMDDhhmmss`.",
        value: |r| {
            Cell::from(
                r.preservation()
                    .wayback
                    .as_ref()
                    .map(|c| c.timestamp.as_str()),
            )
        },
        csv: None,
    },
    Column {
        name: "citation_date",
        doc: "The date the Wayback lookup aimed at: the footnote's access or publication date, \
              else the document's date, else the day of the run (`YYYY-MM-DD`).",
        value: |r| Cell::from(r.preservation().citation_date.map(|d| d.to_string())),
        csv: None,
    },
    Column {
        name: "wayback_error",
        doc: "Why the Internet Archive step found or made nothing.",
        value: |r| Cell::from(r.preservation().wayback_error.as_deref()),
        csv: None,
    },
    Column {
        name: "robust_link",
        doc: "A Robust Links anchor (`data-originalurl`, `data-versionurl`, `data-versiondate`) \
              for citing the page with its archived copy.",
        value: |r| Cell::from(r.preservation().robust_link.as_deref()),
        csv: None,
    },
    Column {
        name: "reason",
        doc: "What the content checks found beyond the status code, `;`-separated \
              (`redirect_to_root`, `same_as_random_probe`, `not_found_text`, `drifted`...); see the reasons below.",
        value: |r| {
            let reasons = reason_text(r);
            if reasons.is_empty() {
                Cell::Null
            } else {
                Cell::from(reasons)
            }
        },
        csv: None,
    },
    Column {
        name: "drift",
        doc: "How far the page's text moved from the last fingerprint seen, 0 (same) to 1 (unrelated); \
              empty without an earlier fingerprint.",
        value: |r| Cell::from(r.result.drift.map(|d| (d * 1000.0).round() / 1000.0)),
        csv: None,
    },
    Column {
        name: "state",
        doc: "The URL's standing in the history: `alive`, `failing`, `dead` (failed `--dead-after` \
              checks in a row over at least `--dead-after-days` days) or `unknown` (only blocked or \
              never requested). Empty with `--no-history`.",
        value: |r| Cell::from(r.tracked.as_ref().map(|t| t.status.state.as_str())),
        csv: None,
    },
    Column {
        name: "change",
        doc: "Against the run that last saw the URL: `new`, `recovered`, `newly_failing`, \
              `newly_dead` or `unchanged`.",
        value: |r| Cell::from(r.tracked.as_ref().map(|t| t.change.as_str())),
        csv: None,
    },
    Column {
        name: "first_seen",
        doc: "When the history first checked the URL, RFC 3339 UTC.",
        value: |r| Cell::from(r.tracked.as_ref().map(|t| rfc3339(t.status.first_seen))),
        csv: None,
    },
    Column {
        name: "last_ok",
        doc: "The latest check that found the page alive.",
        value: |r| {
            Cell::from(
                r.tracked
                    .as_ref()
                    .and_then(|t| t.status.last_ok)
                    .map(rfc3339),
            )
        },
        csv: None,
    },
    Column {
        name: "first_failed",
        doc: "The first failure of the current failing streak.",
        value: |r| {
            Cell::from(
                r.tracked
                    .as_ref()
                    .and_then(|t| t.status.first_failed)
                    .map(rfc3339),
            )
        },
        csv: None,
    },
    Column {
        name: "consecutive_failures",
        doc: "Failing checks in a row (blocked answers neither count nor break the streak).",
        value: |r| Cell::from(r.tracked.as_ref().map(|t| t.status.consecutive_failures)),
        csv: None,
    },
    Column {
        name: "dead_since",
        doc: "When the policy declared the URL dead.",
        value: |r| {
            Cell::from(
                r.tracked
                    .as_ref()
                    .and_then(|t| t.status.dead_since)
                    .map(rfc3339),
            )
        },
        csv: None,
    },
    Column {
        name: "source",
        doc: "`network` (requested in this run) or `history` (found alive within \
              `--recheck-after`, not requested again; `checked_at` is that earlier check). \
              Empty for URLs never requested.",
        value: |r| {
            if r.tracked.as_ref().is_some_and(|t| t.from_history) {
                Cell::from("history")
            } else if r.result.verdict.is_unrequested() {
                Cell::Null
            } else {
                Cell::from("network")
            }
        },
        csv: None,
    },
    Column {
        name: "via",
        doc: "For a note that only repeats another (\"Ibid.\", \"Id.\", \"supra note 7\"): the label of the note it repeats; the row shows that note's URL and verdict.",
        value: |r| Cell::from(r.citation.via.as_deref()),
        csv: None,
    },
    Column {
        name: "page",
        doc: "1-based page, for PDF documents; `line` then counts from the top of that page.",
        value: |r| Cell::from(r.citation.page),
        csv: None,
    },
    Column {
        name: "derived_from",
        doc: "For a URL derived from an identifier (a DOI, UN symbol, arXiv ID, Handle, PMID or PMCID): the identifier as written.",
        value: |r| Cell::from(r.citation.derived_from.as_deref()),
        csv: None,
    },
];

/// The `reason` cell: the result's reasons, plus `missing_fragment` when
/// this citation's own fragment is one the page lacks.
fn reason_text(row: &AuditRow) -> String {
    row.result.reason_text(row.fragment().as_deref())
}

fn error_text(row: &AuditRow) -> Option<String> {
    let insecure = row
        .result
        .insecure
        .then_some("certificate not verified (--insecure)");
    match (&row.result.error, insecure) {
        (Some(e), Some(i)) => Some(format!("{e}; {i}")),
        (Some(e), None) => Some(e.clone()),
        (None, Some(i)) => Some(i.to_string()),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Verdict;

    const README: &str = include_str!("../../reports/README.md");

    #[test]
    fn numbers_past_i64_stay_exact() {
        assert_eq!(Cell::from(7u64), Cell::Int(7));
        assert_eq!(
            Cell::from(u64::MAX).into_json().to_string(),
            "18446744073709551615"
        );
    }

    #[test]
    fn every_column_and_verdict_is_documented() {
        for column in COLUMNS {
            assert!(
                README.contains(&format!("| `{}` |", column.name)),
                "reports/README.md does not document column {}",
                column.name
            );
        }
        for reason in crate::check::Reason::ALL {
            assert!(
                README.contains(&format!("| `{}` |", reason.as_str())),
                "reports/README.md does not document reason {reason}"
            );
        }
        for verdict in Verdict::ALL {
            assert!(
                README.contains(&format!("| `{}` |", verdict.as_str())),
                "reports/README.md does not document verdict {verdict}"
            );
        }
    }

    #[test]
    fn column_names_are_unique() {
        let mut names: Vec<&str> = COLUMNS.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), COLUMNS.len());
    }
}
