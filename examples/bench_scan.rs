//! Benchmark of `linkrot scan`: generates a corpus of Markdown documents
//! with footnotes in a temporary folder, runs the release binary over it
//! (`--format csv` to /dev/null) and prints throughput, CPU time and peak
//! memory. If `lychee` is on PATH, times `lychee --dump` on the same corpus.
//! Then does the same for a DOCX corpus and a PDF corpus (documents and
//! pages per second).
//!
//! ```sh
//! cargo run --release --example bench_scan -- [--docs 2000] [--footnotes 40] [--mb 200] \
//!     [--docx 500] [--pdf 200] [--pdf-pages 10] [--keep DIR]
//! ```
//!
//! `--keep DIR` writes the Markdown corpus into DIR and leaves it there (to
//! profile the scanner on it).

#[path = "support/mod.rs"]
mod support;

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

struct Options {
    docs: usize,
    footnotes: usize,
    megabytes: usize,
    docx: usize,
    pdf: usize,
    pdf_pages: usize,
    keep: Option<std::path::PathBuf>,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        docs: 2000,
        footnotes: 40,
        megabytes: 200,
        docx: 500,
        pdf: 200,
        pdf_pages: 10,
        keep: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || -> Result<usize, String> {
            args.next()
                .ok_or_else(|| format!("{flag} needs a value"))?
                .parse()
                .map_err(|_| format!("{flag} needs a number"))
        };
        match flag.as_str() {
            "--docs" => options.docs = value()?.max(1),
            "--footnotes" => options.footnotes = value()?,
            "--mb" => options.megabytes = value()?.max(1),
            "--docx" => options.docx = value()?,
            "--pdf" => options.pdf = value()?,
            "--pdf-pages" => options.pdf_pages = value()?.max(1),
            "--keep" => {
                options.keep = Some(args.next().ok_or("--keep needs a folder")?.into());
            }
            "-h" | "--help" => {
                return Err(
                    "usage: bench_scan [--docs 2000] [--footnotes 40] [--mb 200] \
                            [--docx 500] [--pdf 200] [--pdf-pages 10] [--keep DIR]"
                        .into(),
                );
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(options)
}

const WORDS: &[&str] = &[
    "the",
    "resolution",
    "council",
    "report",
    "mission",
    "cultural",
    "heritage",
    "community",
    "assembly",
    "general",
    "secretary",
    "letter",
    "annex",
    "session",
    "agenda",
    "item",
    "territory",
    "document",
    "rights",
    "human",
    "protection",
    "members",
    "states",
    "declared",
    "émigrés",
    "Genève",
    "Åland",
    "naïve",
];

const HOSTS: &[&str] = &[
    "un.org",
    "azertag.az",
    "new.oic-oci.org",
    "undocs.org",
    "unesco.org",
    "example.org",
    "en.wikipedia.org",
    "news.example.com",
];

fn sentence(rng: &mut StdRng, out: &mut String) {
    let words = 8 + rng.random_range(0..14);
    for i in 0..words {
        let word = WORDS[rng.random_range(0..WORDS.len())];
        if i == 0 {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                out.extend(first.to_uppercase());
                out.push_str(chars.as_str());
            }
        } else {
            out.push(' ');
            out.push_str(word);
        }
    }
    out.push_str(". ");
}

fn url(rng: &mut StdRng, doc: usize, note: usize) -> String {
    let host = HOSTS[rng.random_range(0..HOSTS.len())];
    format!(
        "https://{host}/en/{doc}/{note}/western_azerbaijan_{}",
        rng.random_range(0..1_000_000)
    )
}

/// One Markdown document of about `size` bytes with `footnotes` notes, in
/// the mix of forms real documents use.
fn document(rng: &mut StdRng, doc: usize, footnotes: usize, size: usize) -> String {
    let mut text = String::with_capacity(size + 4096);
    let _ = writeln!(text, "# Document {doc}\n");
    let mut notes = String::new();
    for n in 1..=footnotes {
        let _ = write!(
            notes,
            "[^{n}]: Agency, \"{} report\", {} March 2023. ",
            WORDS[rng.random_range(0..WORDS.len())],
            1 + n % 28
        );
        match n % 4 {
            0 => {
                let _ = writeln!(notes, "Available at {}.", url(rng, doc, n));
            }
            1 => {
                let _ = writeln!(notes, "See [A/{n}/872]({}).", url(rng, doc, n));
            }
            2 => {
                let _ = writeln!(notes, "<{}> and [placeholder](#).", url(rng, doc, n));
            }
            _ => {
                let _ = writeln!(notes, "Ibid.");
            }
        }
    }
    let body_budget = size.saturating_sub(notes.len() + text.len());
    let mut next_note = 1;
    while text.len() < body_budget {
        for _ in 0..4 + rng.random_range(0..4) {
            sentence(rng, &mut text);
        }
        if next_note <= footnotes {
            let _ = write!(text, "[^{next_note}]");
            next_note += 1;
        }
        if rng.random_range(0..6) == 0 {
            let _ = write!(text, " [body link]({})", url(rng, doc, 0));
        }
        text.push_str("\n\n");
    }
    while next_note <= footnotes {
        let _ = write!(text, "Also[^{next_note}]. ");
        next_note += 1;
    }
    text.push_str("\n\n");
    text.push_str(&notes);
    text
}

/// Writes the corpus into `dir` (50 documents per subfolder); returns
/// (total bytes, largest document).
fn generate(dir: &Path, options: &Options) -> std::io::Result<(u64, u64)> {
    let size = options.megabytes * 1_000_000 / options.docs;
    let mut rng = StdRng::seed_from_u64(0x11_4E_12_07);
    let (mut total, mut largest) = (0u64, 0u64);
    for doc in 0..options.docs {
        let folder = dir.join(format!("part-{:03}", doc / 50));
        if doc % 50 == 0 {
            std::fs::create_dir_all(&folder)?;
        }
        let text = document(&mut rng, doc, options.footnotes, size);
        total += text.len() as u64;
        largest = largest.max(text.len() as u64);
        std::fs::write(folder.join(format!("doc-{doc:05}.md")), text)?;
    }
    Ok((total, largest))
}

fn main() -> std::process::ExitCode {
    let options = match parse_args() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return std::process::ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bench_scan: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(options: &Options) -> std::io::Result<()> {
    let linkrot = support::release_binary()?;
    let corpus = tempfile::tempdir()?;
    let corpus = match &options.keep {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.clone()
        }
        None => corpus.path().to_path_buf(),
    };
    let started = Instant::now();
    let (bytes, largest) = generate(&corpus, options)?;
    println!(
        "corpus: {} Markdown documents, {:.1} MB, {} footnotes each, largest document {} (generated in {:.1} s)",
        options.docs,
        support::megabytes(bytes),
        options.footnotes,
        support::human_bytes(largest),
        started.elapsed().as_secs_f64()
    );

    // What the scanner finds in one document, so the figures say which
    // scanner was measured.
    let sample = corpus.join("part-000").join("doc-00000.md");
    let listing = Command::new(&linkrot)
        .args(["scan", "--format", "csv"])
        .arg(&sample)
        .output()?;
    let rows = listing
        .stdout
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        .saturating_sub(1);
    println!("rows listed for the first document: {rows}");

    let scan = support::measure(
        Command::new(&linkrot)
            .args(["scan", "--format", "csv"])
            .arg(&corpus),
    )?;
    support::print_measurement("linkrot scan --format csv", bytes, &scan);
    println!(
        "  peak RSS {} for a corpus of {} (largest document {})",
        support::human_bytes(scan.peak_rss),
        support::human_bytes(bytes),
        support::human_bytes(largest)
    );

    match support::on_path("lychee") {
        Some(lychee) => {
            let dump = support::measure(Command::new(lychee).arg("--dump").arg(&corpus))?;
            support::print_measurement("lychee --dump", bytes, &dump);
            println!(
                "linkrot is {:.2}× as fast as lychee --dump (wall time ratio)",
                dump.wall.as_secs_f64() / scan.wall.as_secs_f64()
            );
        }
        None => println!("lychee: not on PATH (cargo install lychee), comparison skipped"),
    }
    if options.docx > 0 {
        bench_binary_corpus(&linkrot, "DOCX", options.docx, None, |rng, doc| {
            docx_document(rng, doc, options.footnotes)
        })?;
    }
    if options.pdf > 0 {
        let pages = options.pdf_pages;
        bench_binary_corpus(&linkrot, "PDF", options.pdf, Some(pages), |rng, doc| {
            pdf_document(rng, doc, pages, options.footnotes.div_ceil(pages).max(1))
        })?;
    }
    Ok(())
}

/// Generates `count` documents with `make` into a fresh folder, scans it and
/// prints documents (and pages) per second.
fn bench_binary_corpus(
    linkrot: &Path,
    name: &str,
    count: usize,
    pages_each: Option<usize>,
    make: impl Fn(&mut StdRng, usize) -> (Vec<u8>, &'static str),
) -> std::io::Result<()> {
    let corpus = tempfile::tempdir()?;
    let mut rng = StdRng::seed_from_u64(0xD0C5);
    let mut bytes = 0u64;
    for doc in 0..count {
        let (content, extension) = make(&mut rng, doc);
        bytes += content.len() as u64;
        std::fs::write(
            corpus.path().join(format!("doc-{doc:05}.{extension}")),
            content,
        )?;
    }
    let pages = pages_each.map(|p| p * count);
    println!(
        "\ncorpus: {count} {name} documents{}, {:.1} MB",
        pages.map_or(String::new(), |p| format!(" ({p} pages)")),
        support::megabytes(bytes)
    );
    let listing = Command::new(linkrot)
        .args(["scan", "--format", "csv"])
        .arg(corpus.path())
        .output()?;
    let rows = listing
        .stdout
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        .saturating_sub(1);
    let warnings = listing.stderr.iter().filter(|&&b| b == b'\n').count();
    println!("rows listed: {rows}, warnings: {warnings}");
    let scan = support::measure(
        Command::new(linkrot)
            .args(["scan", "--format", "csv"])
            .arg(corpus.path()),
    )?;
    support::print_measurement(&format!("linkrot scan ({name})"), bytes, &scan);
    let seconds = scan.wall.as_secs_f64().max(1e-9);
    print!("  {:.0} {name} documents/s", count as f64 / seconds);
    if let Some(pages) = pages {
        print!(", {:.0} pages/s", pages as f64 / seconds);
    }
    println!();
    Ok(())
}

/// A DOCX package: body paragraphs with footnote references, footnotes with
/// hyperlinks (through the part's rels), field codes and typed URLs.
fn docx_document(rng: &mut StdRng, doc: usize, footnotes: usize) -> (Vec<u8>, &'static str) {
    use std::io::Write as _;
    const W: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships""#;
    let mut body = String::new();
    let mut notes = String::new();
    let mut rels = String::from("<Relationships>");
    for n in 1..=footnotes {
        let mut text = String::new();
        for _ in 0..3 {
            sentence(rng, &mut text);
        }
        let _ = write!(
            body,
            r#"<w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r><w:r><w:footnoteReference w:id="{n}"/></w:r></w:p>"#
        );
        let link = url(rng, doc, n);
        let note = match n % 3 {
            0 => {
                let _ = write!(
                    rels,
                    r#"<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="{link}" TargetMode="External"/>"#
                );
                format!(
                    r#"<w:r><w:t xml:space="preserve">Agency report. </w:t></w:r><w:hyperlink r:id="rId{n}"><w:r><w:t>the report</w:t></w:r></w:hyperlink>"#
                )
            }
            1 => format!(
                r#"<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> HYPERLINK "{link}" </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>A/{n}/872</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>"#
            ),
            _ => format!(
                r#"<w:r><w:t xml:space="preserve">Available at {link}; see doi:10.1000/{n}.</w:t></w:r>"#
            ),
        };
        let _ = write!(
            notes,
            r#"<w:footnote w:id="{n}"><w:p><w:r><w:footnoteRef/></w:r>{note}</w:p></w:footnote>"#
        );
    }
    rels.push_str("</Relationships>");
    let document =
        format!(r#"<?xml version="1.0"?><w:document {W}><w:body>{body}</w:body></w:document>"#);
    let footnotes = format!(
        r#"<?xml version="1.0"?><w:footnotes {W}><w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>{notes}</w:footnotes>"#
    );
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, content) in [
        ("word/document.xml", &document),
        ("word/footnotes.xml", &footnotes),
        ("word/_rels/footnotes.xml.rels", &rels),
    ] {
        zip.start_file(name, options).expect("in-memory zip");
        zip.write_all(content.as_bytes()).expect("in-memory zip");
    }
    (zip.finish().expect("in-memory zip").into_inner(), "docx")
}

/// A PDF written by hand: `pages` pages of 12 pt body text, each with
/// `notes` 9 pt footnotes below a separator rule, URLs long enough to break
/// across lines, and a link annotation per note.
fn pdf_document(
    rng: &mut StdRng,
    doc: usize,
    pages: usize,
    notes: usize,
) -> (Vec<u8>, &'static str) {
    let escape = |s: &str| {
        s.replace('\\', "\\\\")
            .replace('(', "\\(")
            .replace(')', "\\)")
    };
    // Objects 1 (catalog), 2 (pages), 3 (font); then per page: page,
    // contents, and one annotation per note.
    let mut objects: Vec<String> = vec![String::new(); 3];
    let mut kids = Vec::new();
    let mut number = 0;
    for _ in 0..pages {
        let page_id = objects.len() + 1;
        let contents_id = page_id + 1;
        let mut content = String::from("BT /F1 12 Tf 72 770 Td 15 TL\n");
        for _ in 0..30 {
            let mut line = String::new();
            sentence(rng, &mut line);
            let _ = writeln!(content, "({}) Tj T*", escape(line.trim()));
        }
        content.push_str("ET\n0.5 w 72 150 m 216 150 l S\n");
        let mut annots = Vec::new();
        let mut y = 138.0;
        let mut annot_objects = Vec::new();
        for _ in 0..notes {
            number += 1;
            let link = format!("{}/{}", url(rng, doc, number), "x".repeat(40));
            let (first, rest) = link.split_at(60);
            let _ = writeln!(
                content,
                "BT /F1 9 Tf 72 {y} Td 11 TL ({number} Agency report, available at {}) Tj T* ({}.) Tj ET",
                escape(first),
                escape(rest)
            );
            annot_objects.push(format!(
                "<< /Type /Annot /Subtype /Link /Rect [200 {} 540 {}] /Border [0 0 0] /A << /S /URI /URI ({}) >> >>",
                y - 2.0,
                y + 9.0,
                escape(&link)
            ));
            y -= 24.0;
        }
        let annot_base = contents_id + 1;
        for i in 0..annot_objects.len() {
            annots.push(format!("{} 0 R", annot_base + i));
        }
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents {contents_id} 0 R /Annots [{}] >>",
            annots.join(" ")
        ));
        objects.push(format!(
            "<< /Length {} >>\nstream\n{content}endstream",
            content.len()
        ));
        objects.extend(annot_objects);
        kids.push(format!("{page_id} 0 R"));
    }
    objects[0] = "<< /Type /Catalog /Pages 2 0 R >>".to_string();
    objects[1] = format!(
        "<< /Type /Pages /Kids [{}] /Count {} >>",
        kids.join(" "),
        kids.len()
    );
    objects[2] =
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_string();
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        let _ = write!(out, "{} 0 obj\n{object}\nendobj\n", i + 1);
    }
    let xref = out.len();
    let _ = write!(out, "xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        let _ = writeln!(out, "{offset:010} 00000 n ");
    }
    let _ = write!(
        out,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    (out.into_bytes(), "pdf")
}
