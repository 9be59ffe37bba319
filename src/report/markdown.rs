//! `--format markdown`: a summary table for people, and for
//! `$GITHUB_STEP_SUMMARY` on GitHub Actions.
//!
//! Counts per verdict (and per standing, with history), then a table of the
//! citations that fail the run and one of those that deserve a look (moved,
//! blocked, failing but not yet dead). Long tables are cut at
//! [`MAX_TABLE_ROWS`]: a step summary is limited to 1 MiB and the CSV has
//! everything.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::{Audit, AuditRow, Warning, outcome, place, standing};
use crate::check::Verdict;
use crate::history::{Change, State};

/// Rows shown per table before the rest are summarised in one line.
pub const MAX_TABLE_ROWS: usize = 200;

/// Renders the whole summary.
pub fn render(audit: &Audit<'_>) -> String {
    let mut out = String::new();
    let rows = audit.rows;
    let documents: BTreeSet<&str> = rows.iter().map(|r| &*r.citation.document).collect();
    let urls: BTreeSet<&str> = rows.iter().map(|r| r.result.url.as_str()).collect();
    let failing: Vec<&AuditRow> = audit.failing().collect();
    let warned: Vec<(&AuditRow, Warning)> = rows
        .iter()
        .filter_map(|row| audit.warning(row).map(|w| (row, w)))
        .collect();

    let _ = writeln!(out, "## linkrot citation audit\n");
    let _ = writeln!(
        out,
        "{} citations in {} {} ({} unique URLs): **{} failing**, {} to look at.\n",
        rows.len(),
        documents.len(),
        if documents.len() == 1 {
            "document"
        } else {
            "documents"
        },
        urls.len(),
        failing.len(),
        warned.len(),
    );

    let mut verdicts: BTreeMap<Verdict, usize> = BTreeMap::new();
    for row in rows {
        *verdicts.entry(row.result.verdict).or_default() += 1;
    }
    out.push_str("| verdict | citations |\n|---|---:|\n");
    for (verdict, count) in &verdicts {
        let _ = writeln!(out, "| {verdict} | {count} |");
    }
    out.push('\n');

    if audit.with_history {
        let mut states: BTreeMap<State, usize> = BTreeMap::new();
        let mut changes: BTreeMap<Change, usize> = BTreeMap::new();
        let mut cached = 0;
        let mut seen = BTreeSet::new();
        for row in rows {
            if let Some(t) = audit.tracked(row)
                && seen.insert(row.result.url.as_str())
            {
                *states.entry(t.status.state).or_default() += 1;
                *changes.entry(t.change).or_default() += 1;
                cached += usize::from(t.from_history);
            }
        }
        out.push_str("| standing | URLs |\n|---|---:|\n");
        for (state, count) in &states {
            let _ = writeln!(out, "| {state} | {count} |");
        }
        for (change, count) in changes.iter().filter(|(c, _)| **c != Change::Unchanged) {
            let _ = writeln!(out, "| {} | {count} |", change.as_str().replace('_', " "));
        }
        if cached > 0 {
            let _ = writeln!(out, "| served from history | {cached} |");
        }
        out.push('\n');
    }

    if !failing.is_empty() {
        out.push_str("### Failing citations\n\n");
        table(&mut out, audit, failing.iter().map(|row| (*row, None)));
    }
    if !warned.is_empty() {
        out.push_str("### To look at\n\n");
        table(
            &mut out,
            audit,
            warned.iter().map(|(row, w)| (*row, Some(*w))),
        );
    }
    out
}

fn table<'a>(
    out: &mut String,
    audit: &Audit<'_>,
    rows: impl ExactSizeIterator<Item = (&'a AuditRow, Option<Warning>)>,
) {
    let total = rows.len();
    let with_history = audit.with_history;
    out.push_str("| where | cited in | URL | found |");
    out.push_str(if with_history {
        " standing | change |\n"
    } else {
        "\n"
    });
    out.push_str(if with_history {
        "|---|---|---|---|---|---|\n"
    } else {
        "|---|---|---|---|\n"
    });
    for (row, warning) in rows.take(MAX_TABLE_ROWS) {
        let citation = &row.citation;
        let mut found = outcome(&row.result);
        match warning {
            Some(Warning::Moved) => found.push_str(" (update the citation)"),
            Some(Warning::Blocked) => found.push_str(" (refused: not checked)"),
            Some(Warning::Failing) | None => {}
        }
        let _ = write!(
            out,
            "| {} | {} | {} | {} |",
            code(&format!("{}:{}", citation.document, citation.line)),
            cell(&place(citation)),
            code(&citation.url),
            cell(&found),
        );
        if let Some(tracked) = audit.tracked(row) {
            let _ = write!(
                out,
                " {} | {} |",
                cell(&standing(tracked)),
                tracked.change.as_str().replace('_', " ")
            );
        } else if with_history {
            out.push_str(" | |");
        }
        out.push('\n');
    }
    if total > MAX_TABLE_ROWS {
        let _ = writeln!(
            out,
            "\n… and {} more (see the CSV report).",
            total - MAX_TABLE_ROWS
        );
    }
    out.push('\n');
}

/// Text safe inside a GitHub table cell: pipes escaped, markup neutralised,
/// one line.
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '*' | '_' | '`' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// A code span for URLs and paths: shown verbatim, never linkified into
/// something else; a pipe still needs escaping inside a table.
fn code(text: &str) -> String {
    let text = text.replace(['\r', '\n'], " ").replace('|', "\\|");
    let fence = if text.contains('`') { "`` " } else { "`" };
    let close = if text.contains('`') { " ``" } else { "`" };
    format!("{fence}{text}{close}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::FailOn;
    use crate::report::test_rows::{row, tracked};
    use std::sync::Arc;

    #[test]
    fn summarises_and_lists_failing_citations() {
        let mut rows = vec![
            row(
                "docs/a.md",
                3,
                "1",
                "https://a.test/ok",
                Verdict::Ok,
                Some(200),
            ),
            row(
                "docs/a.md",
                7,
                "2",
                "https://a.test/gone|x",
                Verdict::Broken,
                Some(404),
            ),
            row(
                "docs/b.md",
                2,
                "4",
                "https://b.test/moved",
                Verdict::Moved,
                Some(200),
            ),
            row(
                "docs/b.md",
                9,
                "5",
                "https://b.test/slow",
                Verdict::Timeout,
                None,
            ),
        ];
        let fail_on = FailOn::default();
        let standings = [
            tracked(State::Alive, Change::Unchanged, 0),
            tracked(State::Failing, Change::New, 1),
            tracked(State::Alive, Change::Recovered, 0),
            tracked(State::Failing, Change::NewlyFailing, 2),
        ];
        for (row, standing) in rows.iter_mut().zip(standings) {
            row.tracked = Some(Arc::new(standing));
        }
        let audit = Audit {
            rows: &rows,
            fail_on: &fail_on,
            with_history: true,
        };
        let md = render(&audit);
        assert!(
            md.contains("4 citations in 2 documents (4 unique URLs): **1 failing**, 2 to look at."),
            "{md}"
        );
        assert!(md.contains("| broken | 1 |"), "{md}");
        assert!(md.contains("| failing | 2 |"), "{md}");
        assert!(md.contains("| newly failing | 1 |"), "{md}");
        let failing = md.split("### Failing citations").nth(1).unwrap();
        let failing = failing.split("### To look at").next().unwrap();
        assert!(failing.contains("| `docs/a.md:7` | footnote 2 | `https://a.test/gone\\|x` | broken (404) | failing 1x since 1970-01-01 | new |"), "{md}");
        assert!(
            !failing.contains("b.test/slow"),
            "a first timeout is not a failure yet: {md}"
        );
        let look = md.split("### To look at").nth(1).unwrap();
        assert!(
            look.contains("moved (200) -&gt; https://b.test/moved/new (update the citation)"),
            "{md}"
        );
        assert!(look.contains("https://b.test/slow"), "{md}");
        for line in md.lines().filter(|l| l.starts_with("| `")) {
            assert_eq!(line.matches(" | ").count(), 5, "{line}");
        }
    }

    #[test]
    fn without_history_every_failing_verdict_is_listed() {
        let rows = vec![row(
            "a.md",
            1,
            "1",
            "https://a.test/slow",
            Verdict::Timeout,
            None,
        )];
        let fail_on = FailOn::verdict_default();
        let audit = Audit {
            rows: &rows,
            fail_on: &fail_on,
            with_history: false,
        };
        let md = render(&audit);
        assert!(md.contains("**1 failing**"), "{md}");
        assert!(!md.contains("| standing |"), "{md}");
        assert!(
            md.contains(
                "| `a.md:1` | footnote 1 | `https://a.test/slow` | timeout: no answer within 1s |"
            ),
            "{md}"
        );
    }

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(cell("a|b\nc <x> *y*"), "a\\|b c &lt;x&gt; \\*y\\*");
        assert_eq!(code("https://x/`y`|z"), "`` https://x/`y`\\|z ``");
    }
}
