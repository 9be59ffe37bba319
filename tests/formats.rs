//! DOCX and PDF fixtures made by LibreOffice (see tests/fixtures/formats/),
//! scanned through the library the way `linkrot scan` does.

use std::sync::Arc;

use linkrot::scan::{Citation, Format, LinkForm, ScanOptions, ScopeFilter, scan_bytes};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/formats/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn rows(citations: &[Citation]) -> Vec<(String, String, Option<String>)> {
    citations
        .iter()
        .map(|c| {
            (
                c.footnote
                    .as_ref()
                    .map_or("body".to_string(), |f| f.label.clone()),
                c.url.clone(),
                c.derived_from.clone(),
            )
        })
        .collect()
}

fn owned(rows: &[(&str, &str, Option<&str>)]) -> Vec<(String, String, Option<String>)> {
    rows.iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.map(str::to_string)))
        .collect()
}

#[test]
fn docx_notes_links_and_identifiers() {
    let scanned = scan_bytes(
        Arc::from("notes.docx"),
        &fixture("notes.docx"),
        Format::Docx,
        &ScanOptions::default(),
    );
    assert!(scanned.warnings.is_empty(), "{:?}", scanned.warnings);
    let labels: Vec<_> = scanned.footnotes.iter().map(|f| f.label.as_str()).collect();
    assert_eq!(labels, ["1", "2", "3", "i"]);
    assert_eq!(scanned.footnotes[2].text, "Ibid.");
    assert_eq!(scanned.footnotes[2].repeats.as_deref(), Some("2"));
    assert_eq!(
        rows(&scanned.citations),
        owned(&[
            ("1", "https://linked.example/report", None),
            ("1", "https://undocs.org/A/75/872", Some("A/75/872")),
            ("1", "https://undocs.org/S/2021/429", Some("S/2021/429")),
            (
                "2",
                "https://bare.example/docs/western_azerbaijan_community_sends_letter_to_unesco_director_general-2545088",
                None
            ),
            // "Ibid." cites what footnote 2 cites.
            (
                "3",
                "https://bare.example/docs/western_azerbaijan_community_sends_letter_to_unesco_director_general-2545088",
                None
            ),
            ("i", "https://doi.org/10.1000/182", Some("doi:10.1000/182")),
        ])
    );
    let derived = &scanned.citations[1];
    assert_eq!(derived.form, LinkForm::Identifier);
    // Paragraph numbers stand in for lines: the note paragraphs follow the
    // body's two paragraphs.
    assert_eq!(scanned.citations[0].line, 3);
    assert_eq!(scanned.footnotes[0].reference_lines, [1]);
    assert_eq!(
        scanned.citations[0].link_text.as_deref(),
        Some("the linked report")
    );
}

#[test]
fn docx_body_with_scope_all_and_no_identifiers() {
    let options = ScanOptions {
        scope: ScopeFilter::All,
        identifiers: false,
        ..ScanOptions::default()
    };
    let scanned = scan_bytes(
        Arc::from("notes.docx"),
        &fixture("notes.docx"),
        Format::Docx,
        &options,
    );
    let urls: Vec<_> = scanned.citations.iter().map(|c| c.url.as_str()).collect();
    assert_eq!(urls[0], "https://body.example/page");
    assert_eq!(scanned.citations[0].line, 1);
    assert!(scanned.citations.iter().all(|c| c.derived_from.is_none()));
}

#[test]
fn pdf_annotations_and_footnotes_with_their_page() {
    let scanned = scan_bytes(
        Arc::from("notes.pdf"),
        &fixture("notes.pdf"),
        Format::Pdf,
        &ScanOptions::default(),
    );
    assert!(scanned.warnings.is_empty(), "{:?}", scanned.warnings);
    let labels: Vec<_> = scanned.footnotes.iter().map(|f| f.label.as_str()).collect();
    assert_eq!(&labels[..3], ["1", "2", "3"]);
    let got = rows(&scanned.citations);
    assert!(
        got.contains(&("1".into(), "https://linked.example/report".into(), None)),
        "{got:?}"
    );
    assert!(
        got.contains(&(
            "1".into(),
            "https://undocs.org/A/75/872".into(),
            Some("A/75/872".into())
        )),
        "{got:?}"
    );
    assert!(
        got.contains(&(
            "2".into(),
            "https://bare.example/docs/western_azerbaijan_community_sends_letter_to_unesco_director_general-2545088".into(),
            None
        )),
        "{got:?}"
    );
    assert!(scanned.citations.iter().all(|c| c.page.is_some()));
    assert_eq!(scanned.citations[0].page, Some(1));
}

#[test]
fn an_encrypted_pdf_is_a_warning_saying_so() {
    let scanned = scan_bytes(
        Arc::from("locked.pdf"),
        &fixture("notes-encrypted.pdf"),
        Format::Pdf,
        &ScanOptions::default(),
    );
    assert!(scanned.citations.is_empty());
    assert_eq!(
        scanned.warnings[0].to_string(),
        "locked.pdf: encrypted PDF (needs a password): cannot read its text"
    );
}

#[test]
fn damaged_files_are_warnings_naming_the_file() {
    let docx = fixture("notes.docx");
    let pdf = fixture("notes.pdf");
    for (name, bytes, format) in [
        ("cut.docx", &docx[..docx.len() / 3], Format::Docx),
        ("cut.pdf", &pdf[..pdf.len() / 3], Format::Pdf),
        ("garbage.pdf", &b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF"[..], Format::Pdf),
    ] {
        let scanned = scan_bytes(Arc::from(name), bytes, format, &ScanOptions::default());
        assert!(scanned.citations.is_empty(), "{name}");
        assert_eq!(scanned.warnings.len(), 1, "{name}: {:?}", scanned.warnings);
        assert!(scanned.warnings[0].to_string().starts_with(name), "{}", scanned.warnings[0]);
    }
}

/// A one-page PDF whose page content is a FlateDecode stream of `mib` MiB
/// of zeros: about a megabyte on disk per gigabyte inflated (one compressed
/// MiB repeated), with a correct xref.
fn deflate_bomb_pdf(mib: u32) -> Vec<u8> {
    let mut compress = flate2::Compress::new(flate2::Compression::best(), false);
    let mut block = Vec::with_capacity(4096);
    compress
        .compress_vec(&[0; 1 << 20], &mut block, flate2::FlushCompress::Sync)
        .unwrap();
    let mut stream = vec![0x78, 0xDA];
    for _ in 0..mib {
        stream.extend_from_slice(&block);
    }
    stream.extend_from_slice(&[0x03, 0x00]);
    let b = ((u64::from(mib) << 20) % 65521) as u32;
    stream.extend_from_slice(&((b << 16) | 1).to_be_bytes());

    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for object in [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>".to_string(),
    ] {
        offsets.push(pdf.len());
        pdf.extend(format!("{} 0 obj\n{object}\nendobj\n", offsets.len()).into_bytes());
    }
    offsets.push(pdf.len());
    pdf.extend(
        format!(
            "4 0 obj\n<< /Length {} /Filter /FlateDecode >>\nstream\n",
            stream.len()
        )
        .into_bytes(),
    );
    pdf.extend_from_slice(&stream);
    pdf.extend_from_slice(b"\nendstream\nendobj\n");
    let xref = pdf.len();
    pdf.extend(format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).into_bytes());
    for offset in &offsets {
        pdf.extend(format!("{offset:010} 00000 n \n").into_bytes());
    }
    pdf.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            offsets.len() + 1
        )
        .into_bytes(),
    );
    pdf
}

#[test]
fn a_pdf_decompression_bomb_is_a_warning_not_an_oom() {
    // 4 GiB inflated, about 4 MiB on disk.
    let bomb = deflate_bomb_pdf(4096);
    assert!(bomb.len() < 8 << 20, "{}", bomb.len());
    let scanned = scan_bytes(
        Arc::from("bomb.pdf"),
        &bomb,
        Format::Pdf,
        &ScanOptions::default(),
    );
    assert!(scanned.citations.is_empty());
    assert_eq!(scanned.warnings.len(), 1, "{:?}", scanned.warnings);
    let warning = scanned.warnings[0].to_string();
    assert!(
        warning.starts_with("bomb.pdf: a stream inflates to more than"),
        "{warning}"
    );
    // The same page with a small stream is read without a warning.
    let small = deflate_bomb_pdf(1);
    let scanned = scan_bytes(
        Arc::from("small.pdf"),
        &small,
        Format::Pdf,
        &ScanOptions::default(),
    );
    assert!(scanned.warnings.is_empty(), "{:?}", scanned.warnings);
}
