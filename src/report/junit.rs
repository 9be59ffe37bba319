//! `--format junit`: one test suite per document, one test case per
//! citation, for CI systems that display JUnit XML.
//!
//! A citation that fails the run is a `<failure>` whose body carries the
//! redirect chain and the error; one never requested (placeholder, excluded,
//! another scheme) is `<skipped>`; warnings (moved, blocked, failing but not
//! yet dead) pass with a note in `<system-out>`.

use std::fmt::Write;

use quick_xml::escape::escape;

use super::{Audit, AuditRow, Warning, outcome, place, standing};

/// Renders the XML document.
pub fn render(audit: &Audit<'_>) -> String {
    let mut suites: Vec<(&str, Vec<&AuditRow>)> = Vec::new();
    for row in audit.rows {
        let document = &*row.citation.document;
        match suites.iter_mut().find(|(d, _)| *d == document) {
            Some((_, rows)) => rows.push(row),
            None => suites.push((document, vec![row])),
        }
    }
    let total_failures = audit.failing().count();
    let total_skipped = audit
        .rows
        .iter()
        .filter(|r| r.result.verdict.is_unrequested())
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"linkrot\" tests=\"{}\" failures=\"{total_failures}\" skipped=\"{total_skipped}\">",
        audit.rows.len()
    );
    for (document, rows) in suites {
        let failures = rows.iter().filter(|r| audit.fails(r)).count();
        let skipped = rows
            .iter()
            .filter(|r| r.result.verdict.is_unrequested())
            .count();
        let seconds: u64 = rows.iter().map(|r| r.result.elapsed_ms).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{:.3}\">",
            xml(document),
            rows.len(),
            seconds as f64 / 1000.0
        );
        for row in rows {
            testcase(&mut out, audit, row);
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn testcase(out: &mut String, audit: &Audit<'_>, row: &AuditRow) {
    let citation = &row.citation;
    let result = &row.result;
    let name = format!(
        "{} (line {}): {}",
        place(citation),
        citation.line,
        citation.url
    );
    let _ = write!(
        out,
        "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\" time=\"{:.3}\"",
        xml(&name),
        xml(&citation.document),
        xml(&citation.document),
        citation.line,
        result.elapsed_ms as f64 / 1000.0
    );
    let tracked = audit.tracked(row);
    let mut details = String::new();
    let _ = writeln!(details, "verdict: {}", result.verdict);
    if let Some(status) = result.status {
        let _ = writeln!(details, "status: {status}");
    }
    if !result.chain.is_empty() {
        let _ = writeln!(details, "chain: {}", result.chain_text());
    }
    if let Some(error) = &result.error {
        let _ = writeln!(details, "error: {error}");
    }
    if let Some(tracked) = tracked {
        let _ = writeln!(
            details,
            "standing: {} ({})",
            standing(tracked),
            tracked.change
        );
    }
    if let Some(note) = &citation.footnote {
        let _ = writeln!(details, "footnote: {}", note.text);
    }
    if audit.fails(row) {
        let _ = writeln!(
            out,
            ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
            xml(&outcome(result)),
            result.verdict,
            xml(&details)
        );
    } else if result.verdict.is_unrequested() {
        let _ = writeln!(
            out,
            ">\n      <skipped message=\"{}\"/>\n    </testcase>",
            xml(&format!("not requested: {}", result.verdict))
        );
    } else if let Some(warning) = audit.warning(row) {
        let note = match warning {
            Warning::Moved => "moved: update the citation to the final URL",
            Warning::Blocked => "blocked: the server refused the check",
            Warning::Failing => "failing, not yet confirmed dead",
        };
        let _ = writeln!(
            out,
            ">\n      <system-out>{}</system-out>\n    </testcase>",
            xml(&format!("{note}\n{details}"))
        );
    } else {
        out.push_str("/>\n");
    }
}

/// Escapes text for XML and drops the characters XML 1.0 cannot carry at all.
fn xml(text: &str) -> String {
    let allowed: String = text
        .chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
        })
        .collect();
    escape(allowed.as_str()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Verdict;
    use crate::history::FailOn;
    use crate::report::test_rows::row;

    #[test]
    fn one_testcase_per_citation_failures_carry_chain_and_error() {
        let rows = vec![
            row(
                "a&b.md",
                3,
                "1",
                "https://a.test/ok",
                Verdict::Ok,
                Some(200),
            ),
            row(
                "a&b.md",
                7,
                "2",
                "https://a.test/gone?x=<1>",
                Verdict::Broken,
                Some(404),
            ),
            row(
                "c.md",
                2,
                "4",
                "https://b.test/slow",
                Verdict::Timeout,
                None,
            ),
            row("c.md", 5, "5", "#", Verdict::Placeholder, None),
        ];
        let fail_on = FailOn::verdict_default();
        let audit = Audit {
            rows: &rows,
            fail_on: &fail_on,
            with_history: false,
        };
        let xml = render(&audit);
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"linkrot\" tests=\"4\" failures=\"2\" skipped=\"1\">"), "{xml}");
        assert_eq!(xml.matches("<testcase ").count(), 4, "{xml}");
        assert!(
            xml.contains("<testsuite name=\"a&amp;b.md\" tests=\"2\" failures=\"1\""),
            "{xml}"
        );
        assert!(
            xml.contains("name=\"footnote 2 (line 7): https://a.test/gone?x=&lt;1&gt;\""),
            "{xml}"
        );
        assert!(xml.contains("<failure message=\"broken (404)\" type=\"broken\">verdict: broken\nstatus: 404\nchain: 404 https://a.test/gone?x=&lt;1&gt;\n"), "{xml}");
        assert!(
            xml.contains("<failure message=\"timeout: no answer within 1s\" type=\"timeout\">"),
            "{xml}"
        );
        assert!(xml.contains("error: no answer within 1s"), "{xml}");
        assert!(
            xml.contains("<skipped message=\"not requested: placeholder\"/>"),
            "{xml}"
        );
    }

    #[test]
    fn drops_characters_xml_cannot_carry() {
        assert_eq!(xml("a\u{1}b\"c"), "ab&quot;c");
    }
}
