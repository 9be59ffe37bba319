//! `linkrot scan` end to end: HTML footnote families, folder walking,
//! standard input, bad input, and the output formats.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

const COLUMNS: &str = "document,line,column,footnote,footnote_line,reference_lines,citation,link_text,raw_url,url,form,kind,scope,repeats,text_url_mismatch,page,derived_from";

fn linkrot() -> Command {
    assert_cmd::cargo::cargo_bin_cmd!("linkrot")
}

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/html/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs `linkrot scan --format json ARGS…`, expects success, returns the rows.
fn scan_json(args: &[&str]) -> Vec<Value> {
    let output = linkrot()
        .args(["scan", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is a JSON array")
}

fn field<'a>(row: &'a Value, name: &str) -> &'a str {
    row[name].as_str().unwrap_or("")
}

/// (footnote label, raw URL) of each row.
fn notes_and_urls(rows: &[Value]) -> Vec<(String, String)> {
    rows.iter()
        .map(|r| {
            (
                field(r, "footnote").to_string(),
                field(r, "raw_url").to_string(),
            )
        })
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn pandoc_footnotes_with_citation_text_and_positions() {
    let rows = scan_json(&[&fixture("pandoc.html")]);
    assert_eq!(
        notes_and_urls(&rows),
        pairs(&[
            (
                "1",
                "https://azerbaijan.un.org/en/248051-un-team-completes-mission-karabakh"
            ),
            ("2", "https://undocs.org/A/75/872"),
        ])
    );
    let first = &rows[0];
    assert_eq!(
        field(first, "citation"),
        "UN team, “Mission to Karabakh”, 2023. Available at https://azerbaijan.un.org/en/248051-un-team-completes-mission-karabakh."
    );
    assert_eq!(first["line"], 14);
    assert_eq!(first["column"], 10);
    assert_eq!(first["footnote_line"], 13);
    assert_eq!(first["reference_lines"], serde_json::json!([5]));
    assert_eq!(field(first, "form"), "html_href");
    assert_eq!(field(first, "kind"), "web");
    assert_eq!(field(first, "scope"), "footnote");
    let second = &rows[1];
    assert_eq!(field(second, "citation"), "Resolution A/75/872 & annex.");
    // The placeholder link's text is a UN symbol: it becomes checkable.
    assert_eq!(field(second, "link_text"), "A/75/872");
    assert_eq!(field(second, "kind"), "web");
    assert_eq!(field(second, "form"), "identifier");
    assert_eq!(field(second, "derived_from"), "A/75/872");
    assert_eq!(second["reference_lines"], serde_json::json!([6]));
}

#[test]
fn scope_all_adds_body_links_but_not_note_references() {
    let rows = scan_json(&["--scope", "all", &fixture("pandoc.html")]);
    assert_eq!(
        notes_and_urls(&rows),
        pairs(&[
            ("", "https://body.example/page"),
            (
                "1",
                "https://azerbaijan.un.org/en/248051-un-team-completes-mission-karabakh"
            ),
            ("2", "https://undocs.org/A/75/872"),
        ])
    );
    assert_eq!(field(&rows[0], "scope"), "body");
    assert_eq!(rows[0]["footnote"], Value::Null);
    assert_eq!(field(&rows[0], "link_text"), "the body link");
}

#[test]
fn hugo_footnotes() {
    let rows = scan_json(&[&fixture("hugo.html")]);
    assert_eq!(
        notes_and_urls(&rows),
        pairs(&[("1", "https://gohugo.io/content-management/")])
    );
    assert_eq!(field(&rows[0], "citation"), "Goldmark note, see Hugo docs.");
}

#[test]
fn jekyll_kramdown_footnotes_with_bare_url() {
    let rows = scan_json(&[&fixture("kramdown.html")]);
    assert_eq!(
        notes_and_urls(&rows),
        pairs(&[("1", "https://jekyllrb.com/docs/")])
    );
    assert_eq!(field(&rows[0], "form"), "bare");
    assert_eq!(
        field(&rows[0], "citation"),
        "Kramdown note with a bare URL https://jekyllrb.com/docs/ in it."
    );
    assert_eq!(rows[0]["line"], 6);
}

#[test]
fn github_footnotes_list_other_schemes() {
    let rows = scan_json(&[&fixture("github.html")]);
    assert_eq!(
        notes_and_urls(&rows),
        pairs(&[("1", "ftp://files.example/report.pdf")])
    );
    assert_eq!(field(&rows[0], "kind"), "other_scheme");
    assert_eq!(field(&rows[0], "citation"), "GitHub note ftp copy");
}

#[test]
fn dpub_aria_footnotes_and_endnotes() {
    let rows = scan_json(&[&fixture("dpub.html")]);
    assert_eq!(
        notes_and_urls(&rows),
        pairs(&[
            ("a", "https://aside.example/path?q=1&r=2"),
            ("1", "https://endnote.example/"),
        ])
    );
    assert_eq!(
        field(&rows[0], "citation"),
        "Aside note, https://aside.example/path?q=1&r=2."
    );
}

#[test]
fn wikipedia_reference_lists() {
    let rows = scan_json(&[&fixture("wikipedia.html")]);
    assert_eq!(
        notes_and_urls(&rows),
        pairs(&[
            ("1", "https://www.un.org/en/"),
            ("2", "https://news.example/2023/story"),
        ])
    );
    assert_eq!(
        field(&rows[0], "citation"),
        "\"United Nations\". un.org. Retrieved 1 May 2024."
    );
    assert_eq!(
        field(&rows[1], "citation"),
        "Smith, J. (2023). \"A story\". News."
    );
    assert_eq!(rows[1]["reference_lines"], serde_json::json!([2]));
}

#[test]
fn elements_targeted_by_sup_references_are_notes() {
    let rows = scan_json(&["--scope", "all", &fixture("sup-target.html")]);
    assert_eq!(
        notes_and_urls(&rows),
        pairs(&[
            ("", "https://body.example/plain"),
            ("12", "https://reports.example/annual-2019.pdf"),
        ])
    );
    assert_eq!(
        field(&rows[1], "citation"),
        "12. Smith, Annual Report, 2019, https://reports.example/annual-2019.pdf."
    );
}

#[test]
fn csv_when_piped() {
    let output = linkrot()
        .args(["scan", &fixture("hugo.html")])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some(COLUMNS));
    let row = lines.next().unwrap();
    assert!(
        row.contains(",https://gohugo.io/content-management/,"),
        "{row}"
    );
    assert_eq!(lines.next(), None);
    assert!(output.stderr.is_empty());
}

#[test]
fn table_format_is_readable() {
    let output = linkrot()
        .args(["scan", "--format", "table", &fixture("hugo.html")])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("hugo.html (html)\n  [1] line 6, cited on line 2: Goldmark note"),
        "{stdout}"
    );
    assert!(stdout.ends_with("1 citation in 1 document\n"), "{stdout}");
}

fn write(path: &Path, content: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

fn note_page(url: &str) -> String {
    format!(
        r##"<p>x<sup><a href="#n1">1</a></sup></p><section class="footnotes"><ol><li id="n1">{url}</li></ol></section>"##
    )
}

/// A folder with visible, hidden, git-ignored and non-document files.
fn corpus() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(&root.join(".gitignore"), b"ignored.html\n");
    write(
        &root.join("b.html"),
        note_page("https://b.example/").as_bytes(),
    );
    write(
        &root.join("a.htm"),
        note_page("https://a.example/").as_bytes(),
    );
    write(
        &root.join("sub/c.xhtml"),
        note_page("https://c.example/").as_bytes(),
    );
    write(
        &root.join("ignored.html"),
        note_page("https://ignored.example/").as_bytes(),
    );
    write(
        &root.join(".hidden/d.html"),
        note_page("https://d.example/").as_bytes(),
    );
    write(
        &root.join(".e.html"),
        note_page("https://e.example/").as_bytes(),
    );
    write(
        &root.join("notes.rs"),
        note_page("https://rust.example/").as_bytes(),
    );
    dir
}

fn urls_of(rows: &[Value]) -> Vec<&str> {
    rows.iter().map(|r| field(r, "raw_url")).collect()
}

#[test]
fn folders_skip_hidden_and_ignored_files_in_name_order() {
    let dir = corpus();
    let rows = scan_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(
        urls_of(&rows),
        [
            "https://a.example/",
            "https://b.example/",
            "https://c.example/"
        ]
    );
    let doc = field(&rows[2], "document");
    assert!(doc.ends_with("c.xhtml") && doc.contains("sub"), "{doc}");
}

#[test]
fn hidden_and_no_ignore_widen_the_walk() {
    let dir = corpus();
    let root = dir.path().to_str().unwrap();
    let rows = scan_json(&["--hidden", root]);
    assert_eq!(
        urls_of(&rows),
        [
            "https://e.example/",
            "https://d.example/",
            "https://a.example/",
            "https://b.example/",
            "https://c.example/"
        ]
    );
    let rows = scan_json(&["--no-ignore", root]);
    assert_eq!(
        urls_of(&rows),
        [
            "https://a.example/",
            "https://b.example/",
            "https://ignored.example/",
            "https://c.example/"
        ]
    );
}

#[test]
fn named_files_keep_command_line_order_and_any_extension_is_sniffed() {
    let dir = corpus();
    let root = dir.path();
    let odd = root.join("page.xyz");
    write(
        &odd,
        format!("<!DOCTYPE html>{}", note_page("https://odd.example/")).as_bytes(),
    );
    let rows = scan_json(&[
        root.join("b.html").to_str().unwrap(),
        odd.to_str().unwrap(),
        root.join("a.htm").to_str().unwrap(),
    ]);
    assert_eq!(
        urls_of(&rows),
        [
            "https://b.example/",
            "https://odd.example/",
            "https://a.example/"
        ]
    );
}

#[test]
fn empty_folder_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let output = linkrot()
        .args(["scan", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.starts_with("linkrot: WARNING: "), "{stderr}");
    assert!(stderr.contains("no documents found"), "{stderr}");
}

#[test]
fn stdin_with_format_and_sniffed() {
    let page = note_page("https://stdin.example/");
    let output = linkrot()
        .args(["scan", "--format", "json", "--stdin-format", "html", "-"])
        .write_stdin(page.clone())
        .output()
        .unwrap();
    let rows: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(urls_of(&rows), ["https://stdin.example/"]);
    assert_eq!(field(&rows[0], "document"), "-");

    let output = linkrot()
        .args(["scan", "--format", "json", "-"])
        .write_stdin(format!("<!doctype html>\n{page}"))
        .output()
        .unwrap();
    let rows: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(urls_of(&rows), ["https://stdin.example/"]);
    assert_eq!(rows[0]["line"], 2);

    // Read as plain text, the same page yields no HTML footnotes.
    let output = linkrot()
        .args(["scan", "--format", "json", "--stdin-format", "text", "-"])
        .write_stdin(page)
        .output()
        .unwrap();
    let rows: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert!(rows.iter().all(|r| field(r, "form") != "html_href"));
}

#[test]
fn missing_path_is_an_error_naming_it() {
    let dir = corpus();
    let missing = dir.path().join("nope.md");
    let output = linkrot()
        .args([
            "scan",
            dir.path().join("b.html").to_str().unwrap(),
            missing.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        output.stdout.is_empty(),
        "nothing is listed before the error"
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        format!("linkrot: {}: no such file or directory", missing.display())
    );
}

#[test]
fn binary_files_are_skipped_with_a_warning() {
    let dir = corpus();
    let root = dir.path();
    write(
        &root.join("picture.html"),
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0",
    );
    write(
        &root.join("paper.pdf"),
        b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj",
    );
    write(&root.join("nul.txt"), b"text\0with a NUL");
    let output = linkrot()
        .args(["scan", "--format", "json", root.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let rows: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(rows.len(), 3, "the other documents are still scanned");
    let stderr = String::from_utf8(output.stderr).unwrap();
    let warnings: Vec<&str> = stderr.lines().collect();
    assert_eq!(warnings.len(), 3, "{stderr}");
    let picture = root.join("picture.html");
    assert!(
        warnings.contains(
            &format!(
                "linkrot: WARNING: {}: skipped: binary file (image/png)",
                picture.display()
            )
            .as_str()
        ),
        "{stderr}"
    );
    assert!(stderr.contains("paper.pdf: not a readable PDF"), "{stderr}");
    assert!(
        stderr.contains("nul.txt: skipped: binary file (contains NUL bytes)"),
        "{stderr}"
    );
}

#[test]
fn invalid_utf8_is_decoded_with_a_warning_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.html");
    let mut page = b"<p>caf\xE9\n<p>line two\n<p>line \xFF three".to_vec();
    page.extend_from_slice(note_page("https://utf8.example/").as_bytes());
    write(&path, &page);
    let output = linkrot()
        .args(["scan", "--format", "json", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success());
    let rows: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(urls_of(&rows), ["https://utf8.example/"]);
    assert_eq!(rows[0]["line"], 3);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        stderr.trim_end(),
        format!(
            "linkrot: WARNING: {}:1: invalid UTF-8; decoded with replacement characters (U+FFFD)",
            path.display()
        )
    );
}

#[test]
fn oversized_files_are_skipped_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.html");
    let large = dir.path().join("large.html");
    write(&small, note_page("https://small.example/").as_bytes());
    let mut big = note_page("https://large.example/");
    big.push_str(&"<p>padding</p>\n".repeat(100));
    write(&large, big.as_bytes());
    let output = linkrot()
        .args(["scan", "--format", "json", "--max-file-size", "1K"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    let rows: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(urls_of(&rows), ["https://small.example/"]);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with(&format!("linkrot: WARNING: {}: skipped: ", large.display())),
        "{stderr}"
    );
    assert!(
        stderr.contains("over the size limit of 1.0 KiB (--max-file-size)"),
        "{stderr}"
    );
}

#[test]
fn bad_max_file_size_is_a_usage_error() {
    let output = linkrot()
        .args(["scan", "--max-file-size", "huge", "."])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn html_reference_to_a_missing_note_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dangling.html");
    write(
        &path,
        b"<p>one</p>\n<p>x<sup><a href=\"#fn9\">9</a></sup></p>",
    );
    let output = linkrot()
        .args(["scan", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        stderr.trim_end(),
        format!(
            "linkrot: WARNING: {}:2: note reference \"#fn9\" points to no element with that id",
            path.display()
        )
    );
}

#[cfg(unix)]
#[test]
fn symlinks_are_followed_and_dangling_ones_are_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("real.html");
    write(&target, note_page("https://linked.example/").as_bytes());
    std::os::unix::fs::symlink(&target, dir.path().join("linked.html")).unwrap();
    std::os::unix::fs::symlink(
        dir.path().join("gone.html"),
        dir.path().join("dangling.html"),
    )
    .unwrap();
    let output = linkrot()
        .args(["scan", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    let rows: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(urls_of(&rows), ["https://linked.example/"]);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("linkrot: WARNING: "), "{stderr}");
    assert!(
        stderr.contains("dangling.html: cannot read: No such file or directory"),
        "{stderr}"
    );
}
