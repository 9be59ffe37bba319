//! `linkrot scan` on DOCX, PDF, LaTeX and JATS documents, and on damaged or
//! hostile ones: each of those is one warning naming the file, never a
//! panic or a hang, and the other documents are still scanned.

use std::io::Write;
use std::path::Path;

use serde_json::Value;

fn linkrot() -> assert_cmd::Command {
    assert_cmd::cargo::cargo_bin_cmd!("linkrot")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/formats/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn scan(args: &[&str]) -> (Vec<Value>, String) {
    let output = linkrot()
        .args(["scan", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let rows: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    (rows, String::from_utf8(output.stderr).unwrap())
}

fn field<'a>(row: &'a Value, name: &str) -> &'a str {
    row[name].as_str().unwrap_or("")
}

fn urls(rows: &[Value], document: &str) -> Vec<(String, String)> {
    rows.iter()
        .filter(|r| field(r, "document").ends_with(document))
        .map(|r| {
            (
                field(r, "footnote").to_string(),
                field(r, "url").to_string(),
            )
        })
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// A small DOCX package made of the given parts.
fn docx(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, content) in parts {
        zip.start_file(*name, options).unwrap();
        zip.write_all(content).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
}

const TEX: &str = r"\documentclass{article}
\begin{document}
Claim.\footnote{See \url{https://tex.example/a\%20b} and \cite{smith}.}
Other.\footnote{Ibid.}
\bibliography{refs}
\end{document}
";

const BIB: &str = "@article{smith, title={T}, author={A}, year={2020}, doi={10.1000/182}}\n";

const JATS: &str = r#"<?xml version="1.0"?>
<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Publishing DTD v1.2 20190208//EN" "JATS-journalpublishing1.dtd">
<article dtd-version="1.2" xmlns:xlink="http://www.w3.org/1999/xlink">
<body><p>Text<xref ref-type="fn" rid="fn1">1</xref>.</p></body>
<back><fn-group><fn id="fn1"><label>1</label><p>See <ext-link xlink:href="https://jats.example/">it</ext-link>.</p></fn></fn-group>
<ref-list><ref id="r1"><label>1</label><mixed-citation><pub-id pub-id-type="doi">10.5555/12345678</pub-id></mixed-citation></ref></ref-list>
</back></article>"#;

#[test]
fn every_format_in_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(&root.join("notes.docx"), &fixture("notes.docx"));
    write(&root.join("notes.pdf"), &fixture("notes.pdf"));
    write(&root.join("paper.tex"), TEX.as_bytes());
    write(&root.join("refs.bib"), BIB.as_bytes());
    write(&root.join("article.nxml"), JATS.as_bytes());
    // A .xml file is not walked, but named it is sniffed as JATS.
    let named = dir.path().join("named.xml");
    write(&named, JATS.as_bytes());
    let (rows, stderr) = scan(&[root.to_str().unwrap(), named.to_str().unwrap()]);
    assert_eq!(stderr, "");
    assert_eq!(urls(&rows, "named.xml"), urls(&rows, "article.nxml"));
    assert_eq!(
        urls(&rows, "article.nxml"),
        pairs(&[
            ("1", "https://jats.example/"),
            ("1", "https://doi.org/10.5555/12345678"),
        ])
    );
    assert_eq!(
        urls(&rows, "paper.tex"),
        pairs(&[
            ("1", "https://tex.example/a%20b"),
            ("1", "https://doi.org/10.1000/182"),
            // \footnote{Ibid.} cites what note 1 cites.
            ("2", "https://tex.example/a%20b"),
            ("2", "https://doi.org/10.1000/182"),
        ])
    );
    let tex_rows: Vec<&Value> = rows
        .iter()
        .filter(|r| field(r, "document").ends_with("paper.tex"))
        .collect();
    assert_eq!(tex_rows[0]["line"], 3);
    let docx_notes: Vec<String> = urls(&rows, "notes.docx")
        .into_iter()
        .map(|(note, _)| note)
        .collect();
    assert_eq!(docx_notes, ["1", "1", "1", "2", "3", "i"]);
    let pdf: Vec<&Value> = rows
        .iter()
        .filter(|r| field(r, "document").ends_with("notes.pdf"))
        .collect();
    assert!(pdf.iter().all(|r| r["page"] == 1), "{pdf:?}");
    let derived: Vec<&str> = rows
        .iter()
        .filter(|r| field(r, "form") == "identifier")
        .map(|r| field(r, "derived_from"))
        .collect();
    assert!(derived.contains(&"doi:10.1000/182"), "{derived:?}");
}

#[test]
fn no_identifiers_lists_only_written_urls() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.docx");
    write(&path, &fixture("notes.docx"));
    let (rows, _) = scan(&["--no-identifiers", path.to_str().unwrap()]);
    assert!(rows.iter().all(|r| field(r, "form") != "identifier"));
    assert_eq!(rows.len(), 3);
    let (rows, _) = scan(&["--no-identifiers", "--identifiers", path.to_str().unwrap()]);
    assert_eq!(rows.len(), 6);
}

#[test]
fn hostile_and_damaged_documents_are_warnings_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let good = fixture("notes.docx");
    write(&root.join("a-truncated.docx"), &good[..good.len() / 2]);
    let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    ole.extend([0u8; 1024]);
    write(&root.join("b-encrypted.docx"), &ole);
    // 65 MiB of zeros in document.xml, a few dozen KiB on disk.
    let bomb = docx(&[("word/document.xml", &vec![b'0'; 65 * 1024 * 1024])]);
    write(&root.join("c-bomb.docx"), &bomb);
    let mut laughs =
        String::from("<?xml version=\"1.0\"?><!DOCTYPE article [<!ENTITY a \"aaaaaaaaaa\">");
    for i in 1..12 {
        laughs.push_str(&format!(
            "<!ENTITY a{i} \"{}\">",
            format!("&a{};", i - 1).repeat(10)
        ));
    }
    laughs.push_str("]><article><back><fn-group><fn id=\"f\"><p>&a11; https://laughs.example/</p></fn></fn-group></back></article>");
    write(&root.join("d-laughs.jats"), laughs.as_bytes());
    let deep = format!("x\\footnote{{{}", "{".repeat(500_000));
    write(&root.join("e-deep.tex"), deep.as_bytes());
    let pdf = fixture("notes.pdf");
    write(&root.join("f-truncated.pdf"), &pdf[..pdf.len() / 3]);
    write(&root.join("g-fine.docx"), &good);

    let output = linkrot()
        .args(["scan", "--format", "json", "--pdf-timeout", "5"])
        .arg(root)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    let warning = |file: &str, says: &str| {
        let path = root.join(file);
        let prefix = format!("linkrot: WARNING: {}", path.display());
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(&prefix) && l.contains(says)),
            "{file}: {says}\n{stderr}"
        );
    };
    warning("a-truncated.docx", "not a readable DOCX");
    warning("b-encrypted.docx", "password-protected");
    warning("c-bomb.docx", "zip bomb");
    warning("d-laughs.jats", "not expanded");
    warning("e-deep.tex", "never closed");
    warning("f-truncated.pdf", "PDF");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let rows: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(urls(&rows, "g-fine.docx").len(), 6);
    assert_eq!(
        urls(&rows, "d-laughs.jats"),
        pairs(&[("1", "https://laughs.example/")])
    );
}
