//! The bundled sample (a UN letter converted from PDF) must come out exactly
//! right: every citation, its position, its footnote, and the repeat.

use std::sync::Arc;

use linkrot::scan::{Format, LinkForm, ScanOptions, Scope, ScopeFilter, UrlKind, scan_document};

const SAMPLE: &str = include_str!("fixtures/un-letter-2024-10-16.md");
const AZERTAG: &str = "https://azertag.az/en/xeber/western_azerbaijan_community_sends_letter_to_unesco_director_general_audrey_azoulay-2545088";
const OIC_POL: &str =
    "https://new.oic-oci.org/Lists/ConferenceDocuments/Attachments/2487/49_pol_res_en.pdf";
const OIC_CS: &str =
    "https://new.oic-oci.org/Lists/ConferenceDocuments/Attachments/2494/49_cs_res_en.pdf";
const UN_TEAM: &str = "https://azerbaijan.un.org/en/248051-un-team-completes-mission-karabakh";

/// The scanner's own output: identifiers are left as written (they are
/// tested in tests/identifiers.rs).
fn scan(scope: ScopeFilter) -> linkrot::scan::ScannedDocument {
    scan_document(
        Arc::from("un-letter-2024-10-16.md"),
        SAMPLE,
        Format::Markdown,
        &ScanOptions {
            scope,
            identifiers: false,
            ..ScanOptions::default()
        },
    )
}

/// (line, column, footnote, url, link text, form, kind)
type Row = (
    usize,
    usize,
    Option<String>,
    String,
    Option<String>,
    LinkForm,
    UrlKind,
);

fn row(
    line: usize,
    column: usize,
    note: Option<&str>,
    url: &str,
    text: Option<&str>,
    form: LinkForm,
    kind: UrlKind,
) -> Row {
    (
        line,
        column,
        note.map(Into::into),
        url.into(),
        text.map(Into::into),
        form,
        kind,
    )
}

fn placeholder(line: usize, column: usize, note: &'static str, text: &'static str) -> Row {
    row(
        line,
        column,
        Some(note),
        "#",
        Some(text),
        LinkForm::Inline,
        UrlKind::Placeholder,
    )
}

fn footnote_rows() -> Vec<Row> {
    vec![
        placeholder(67, 47, "1", "A/75/872-S/2021/429"),
        placeholder(67, 73, "1", "A/75/899-S/2021/512"),
        placeholder(67, 102, "1", "A/77/829-S/2023/246"),
        placeholder(69, 54, "2", "A/75/872-S/2021/429"),
        placeholder(69, 80, "2", "A/76/848-S/2022/437"),
        placeholder(69, 109, "2", "A/77/829-S/2023/246"),
        row(
            71,
            301,
            Some("3"),
            AZERTAG,
            Some(AZERTAG),
            LinkForm::Inline,
            UrlKind::Web,
        ),
        row(
            73,
            725,
            Some("4"),
            OIC_POL,
            Some(OIC_POL),
            LinkForm::Inline,
            UrlKind::Web,
        ),
        row(
            73,
            907,
            Some("4"),
            OIC_CS,
            Some(OIC_CS),
            LinkForm::Inline,
            UrlKind::Web,
        ),
        placeholder(89, 75, "5", "853 (1993)"),
        placeholder(89, 361, "5", "48/114"),
        placeholder(89, 722, "5", "A/HRC/8/6/Add.2"),
        placeholder(91, 40, "6", "A/78/609-S/2023/900"),
        row(
            93,
            101,
            Some("7"),
            UN_TEAM,
            None,
            LinkForm::Autolink,
            UrlKind::Web,
        ),
        // "Ibid." cites what footnote 7 cites, at its own definition.
        row(
            111,
            1,
            Some("8"),
            UN_TEAM,
            None,
            LinkForm::Autolink,
            UrlKind::Web,
        ),
    ]
}

fn rows(doc: &linkrot::scan::ScannedDocument) -> Vec<Row> {
    doc.citations
        .iter()
        .map(|c| {
            (
                c.line,
                c.column,
                c.footnote.as_ref().map(|f| f.label.clone()),
                c.url.clone(),
                c.link_text.clone(),
                c.form,
                c.kind,
            )
        })
        .collect()
}

#[test]
fn footnote_citations_are_exactly_the_expected_list() {
    let doc = scan(ScopeFilter::Footnotes);
    assert_eq!(rows(&doc), footnote_rows());
    assert!(doc.citations.iter().all(|c| c.scope == Scope::Footnote));
    assert!(doc.citations.iter().all(|c| c.text_url_mismatch.is_none()));
    assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
    // the span of every citation is where its URL is written
    // (a repeating note's citation is an empty span at its definition)
    for c in &doc.citations {
        let repeats = c.footnote.as_ref().and_then(|f| f.repeats.as_deref());
        match (c.kind, repeats) {
            (_, Some(label)) => {
                assert_eq!(label, "7");
                assert!(SAMPLE[c.span.start..].starts_with("<sup>8</sup> Ibid."));
            }
            (UrlKind::Web, None) => assert_eq!(&SAMPLE[c.span.clone()], c.raw_url, "{c:?}"),
            _ => {}
        }
    }
}

#[test]
fn body_placeholders_only_with_scope_all() {
    let doc = scan(ScopeFilter::All);
    let mut expected = vec![
        row(
            45,
            190,
            None,
            "#",
            Some("A/79/387"),
            LinkForm::Inline,
            UrlKind::Placeholder,
        ),
        row(
            45,
            208,
            None,
            "#",
            Some("A/79/388"),
            LinkForm::Inline,
            UrlKind::Placeholder,
        ),
    ];
    expected.extend(footnote_rows());
    assert_eq!(rows(&doc), expected);
    assert_eq!(doc.citations[0].scope, Scope::Body);
    assert_eq!(doc.citations[1].scope, Scope::Body);
}

#[test]
fn footnotes_lines_references_text_and_repeat() {
    let doc = scan(ScopeFilter::Footnotes);
    let notes: Vec<(&str, usize, Vec<usize>, Option<&str>)> = doc
        .footnotes
        .iter()
        .map(|f| {
            (
                f.label.as_str(),
                f.line,
                f.reference_lines.clone(),
                f.repeats.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        notes,
        vec![
            ("1", 67, vec![55], None),
            ("2", 69, vec![57], None),
            ("3", 71, vec![59], None),
            ("4", 73, vec![63], None),
            ("5", 89, vec![75], None),
            ("6", 91, vec![79], None),
            ("7", 93, vec![85], None),
            ("8", 111, vec![95], Some("7")),
        ]
    );
    assert_eq!(
        doc.footnotes[2].text,
        format!(
            "Azerbaijan State News Agency, \"Western Azerbaijan Community sends letter to UNESCO \
             Director-General Audrey Azoulay\", 27 March 2023. Available at {AZERTAG}."
        )
    );
    assert_eq!(
        doc.footnotes[0].text,
        "See, e.g., A/75/872-S/2021/429; A/75/899-S/2021/512 and A/77/829-S/2023/246."
    );
    assert_eq!(doc.footnotes[7].text, "Ibid.");
    let three = doc.citations.iter().find(|c| c.url == AZERTAG).unwrap();
    assert_eq!(three.footnote.as_ref().unwrap().text, doc.footnotes[2].text);
}
