//! GitHub Actions workflow commands: an `::error` on the line of every
//! citation that fails the run, a `::warning` on moved and blocked ones (and
//! those failing but not yet confirmed dead), so they show on the pull
//! request's diff. Printed to stdout when `GITHUB_ACTIONS=true` or with
//! `--annotations`.
//!
//! Values are escaped as the Actions toolkit does (`escapeData`,
//! `escapeProperty`): `%`, CR and LF everywhere, plus `:` and `,` in
//! properties.

use std::fmt::Write;

use super::{Audit, AuditRow, Warning, outcome, place, standing};

/// Renders one command per line for the rows that fail or warn.
pub fn render(audit: &Audit<'_>) -> String {
    let mut out = String::new();
    for row in audit.rows {
        if audit.fails(row) {
            command(&mut out, "error", audit, row, None);
        } else if let Some(warning) = audit.warning(row) {
            command(&mut out, "warning", audit, row, Some(warning));
        }
    }
    out
}

fn command(
    out: &mut String,
    level: &str,
    audit: &Audit<'_>,
    row: &AuditRow,
    warning: Option<Warning>,
) {
    let citation = &row.citation;
    let result = &row.result;
    let title = match warning {
        None => format!("{} citation", result.verdict),
        Some(Warning::Moved) => "moved citation: update it".to_string(),
        Some(Warning::Blocked) => "blocked citation: not checked".to_string(),
        Some(Warning::Failing) => format!("{} citation (not yet dead)", result.verdict),
    };
    let mut message = format!(
        "{} cites {}: {}",
        place(citation),
        citation.url,
        outcome(result)
    );
    if result.redirects() > 0 {
        let _ = write!(message, "\nchain: {}", result.chain_text());
    }
    if let Some(tracked) = audit.tracked(row) {
        let _ = write!(
            message,
            "\nstanding: {} ({})",
            standing(tracked),
            tracked.change
        );
    }
    let _ = writeln!(
        out,
        "::{level} file={},line={},col={},title={}::{}",
        property(&citation.document),
        citation.line,
        citation.column,
        property(&title),
        data(&message)
    );
}

/// Escapes a command's message.
pub fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command property's value.
pub fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Verdict;
    use crate::history::FailOn;
    use crate::report::test_rows::row;

    #[test]
    fn errors_for_failing_warnings_for_moved_and_blocked() {
        let rows = vec![
            row(
                "docs/a,b.md",
                3,
                "1",
                "https://a.test/ok",
                Verdict::Ok,
                Some(200),
            ),
            row(
                "docs/a,b.md",
                7,
                "2",
                "https://a.test/100%",
                Verdict::Broken,
                Some(404),
            ),
            row(
                "docs/c.md",
                2,
                "4",
                "https://b.test/moved",
                Verdict::Moved,
                Some(200),
            ),
            row(
                "docs/c.md",
                9,
                "5",
                "https://b.test/private",
                Verdict::Blocked,
                Some(403),
            ),
        ];
        let fail_on = FailOn::default();
        let audit = Audit {
            rows: &rows,
            fail_on: &fail_on,
            with_history: false,
        };
        let text = render(&audit);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(
            lines[0],
            "::error file=docs/a%2Cb.md,line=7,col=5,title=broken citation::footnote 2 cites https://a.test/100%25: broken (404)"
        );
        assert_eq!(
            lines[1],
            "::warning file=docs/c.md,line=2,col=5,title=moved citation%3A update it::footnote 4 cites https://b.test/moved: moved (200) -> https://b.test/moved/new%0Achain: 301 https://b.test/moved -> 200 https://b.test/moved/new"
        );
        assert!(
            lines[2].starts_with(
                "::warning file=docs/c.md,line=9,col=5,title=blocked citation%3A not checked::"
            ),
            "{text}"
        );
    }

    #[test]
    fn escapes_like_the_actions_toolkit() {
        assert_eq!(data("50%\r\nx:y,z"), "50%25%0D%0Ax:y,z");
        assert_eq!(property("50%\r\nx:y,z"), "50%25%0D%0Ax%3Ay%2Cz");
    }
}
