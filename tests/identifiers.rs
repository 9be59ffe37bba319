//! Identifiers become checkable links: the bundled sample's placeholder links
//! (footnotes 1, 2, 5 and 6) resolve to undocs.org, one link per symbol.

use std::sync::Arc;

use linkrot::scan::{Format, LinkForm, ScanOptions, ScopeFilter, UrlKind, scan_document};

const SAMPLE: &str = include_str!("fixtures/un-letter-2024-10-16.md");

fn scan(options: &ScanOptions) -> linkrot::scan::ScannedDocument {
    scan_document(
        Arc::from("un-letter-2024-10-16.md"),
        SAMPLE,
        Format::Markdown,
        options,
    )
}

#[test]
fn sample_placeholders_become_undocs_links() {
    let doc = scan(&ScanOptions::default());
    let derived: Vec<(&str, &str, &str)> = doc
        .citations
        .iter()
        .filter(|c| c.form == LinkForm::Identifier)
        .map(|c| {
            (
                c.footnote.as_ref().unwrap().label.as_str(),
                c.url.as_str(),
                c.derived_from.as_deref().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        derived,
        [
            ("1", "https://undocs.org/A/75/872", "A/75/872"),
            ("1", "https://undocs.org/S/2021/429", "S/2021/429"),
            ("1", "https://undocs.org/A/75/899", "A/75/899"),
            ("1", "https://undocs.org/S/2021/512", "S/2021/512"),
            ("1", "https://undocs.org/A/77/829", "A/77/829"),
            ("1", "https://undocs.org/S/2023/246", "S/2023/246"),
            ("2", "https://undocs.org/A/75/872", "A/75/872"),
            ("2", "https://undocs.org/S/2021/429", "S/2021/429"),
            ("2", "https://undocs.org/A/76/848", "A/76/848"),
            ("2", "https://undocs.org/S/2022/437", "S/2022/437"),
            ("2", "https://undocs.org/A/77/829", "A/77/829"),
            ("2", "https://undocs.org/S/2023/246", "S/2023/246"),
            (
                "5",
                "https://undocs.org/S/RES/853%20%281993%29",
                "Security Council resolution 853 (1993)"
            ),
            (
                "5",
                "https://undocs.org/A/RES/48/114",
                "General Assembly resolution 48/114"
            ),
            ("5", "https://undocs.org/A/HRC/8/6/Add.2", "A/HRC/8/6/Add.2"),
            ("6", "https://undocs.org/A/78/609", "A/78/609"),
            ("6", "https://undocs.org/S/2023/900", "S/2023/900"),
        ]
    );
    // Every placeholder in a footnote was an identifier: none is left.
    assert!(
        doc.citations.iter().all(|c| c.kind == UrlKind::Web),
        "{:#?}",
        doc.citations
            .iter()
            .filter(|c| c.kind != UrlKind::Web)
            .collect::<Vec<_>>()
    );
    // A derived link stands where its placeholder was written.
    let first = doc
        .citations
        .iter()
        .find(|c| c.form == LinkForm::Identifier)
        .unwrap();
    let line = SAMPLE.lines().nth(first.line - 1).unwrap();
    assert!(line[..].contains("[A/75/872-S/2021/429](#)"));
}

#[test]
fn body_placeholders_with_scope_all_and_the_switch_off() {
    let all = ScanOptions {
        scope: ScopeFilter::All,
        ..ScanOptions::default()
    };
    let doc = scan(&all);
    let body: Vec<&str> = doc
        .citations
        .iter()
        .filter(|c| c.footnote.is_none())
        .map(|c| c.url.as_str())
        .collect();
    assert_eq!(
        body,
        ["https://undocs.org/A/79/387", "https://undocs.org/A/79/388"]
    );
    let off = scan(&ScanOptions {
        identifiers: false,
        ..all
    });
    assert!(off.citations.iter().all(|c| c.derived_from.is_none()));
    assert!(off.citations.iter().any(|c| c.kind == UrlKind::Placeholder));
}
