//! Stage 1: documents → footnotes → citations.
//!
//! A scanner reads one document and reports every URL it cites, tied to the
//! footnote (or body paragraph) it stands in. Each format has its own module;
//! they all produce the same [`Extraction`], which [`scan_document`] stamps
//! with the document's path. Walking folders, detecting formats and reading
//! files safely lives in [`walk`].
//!
//! Nothing here touches the network: the checker consumes what this stage
//! produces and never reaches back into it.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub mod docx;
pub mod html;
pub mod identifiers;
pub mod jats;
pub mod latex;
pub mod lines;
pub mod markdown;
pub mod pdf;
mod plain;
pub mod repeats;
pub mod text;
pub mod url;
pub mod walk;
mod xml;

/// Input formats linkrot understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// CommonMark/GFM Markdown, including documents converted from PDF.
    Markdown,
    /// HTML pages (Pandoc, Hugo, Jekyll, Wikipedia, DPUB-ARIA footnotes).
    Html,
    /// Plain text with an endnotes section.
    Text,
    /// Word/LibreOffice `.docx`: footnotes, endnotes, body; read from bytes.
    Docx,
    /// LaTeX source: `\footnote`, `\url`, `\href`, `\cite` through `.bib` files.
    Latex,
    /// JATS XML articles: `<fn>` notes and `<ref-list>` references.
    Jats,
    /// PDF: link annotations and the notes at the foot of each page; read
    /// from bytes.
    Pdf,
}

impl Format {
    /// The lowercase name used in reports and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Markdown => "markdown",
            Format::Html => "html",
            Format::Text => "text",
            Format::Docx => "docx",
            Format::Latex => "latex",
            Format::Jats => "jats",
            Format::Pdf => "pdf",
        }
    }

    /// Whether the format is read from raw bytes with [`scan_bytes`] rather
    /// than from decoded text with [`scan_document`].
    pub fn is_binary(self) -> bool {
        matches!(self, Format::Docx | Format::Pdf)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which URLs a scan reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ScopeFilter {
    /// Only URLs inside footnotes and endnotes.
    #[default]
    Footnotes,
    /// Footnote URLs plus every URL in the body.
    All,
}

/// Where in the document a citation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Inside a footnote or endnote.
    Footnote,
    /// In the running text (only reported with `--scope all`).
    Body,
}

impl Scope {
    /// The lowercase name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Footnote => "footnote",
            Scope::Body => "body",
        }
    }
}

/// How a URL was written in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkForm {
    /// `[text](url)`
    Inline,
    /// `[text][ref]` resolved through a `[ref]: url` definition.
    Reference,
    /// `<https://…>`
    Autolink,
    /// A URL written as plain text.
    Bare,
    /// `<a href="…">` in HTML or raw HTML inside Markdown.
    HtmlHref,
    /// A resolver URL derived from an identifier (DOI, UN symbol, arXiv,
    /// Handle, PubMed); the identifier as written is in `derived_from`.
    Identifier,
}

impl LinkForm {
    /// The lowercase name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkForm::Inline => "inline",
            LinkForm::Reference => "reference",
            LinkForm::Autolink => "autolink",
            LinkForm::Bare => "bare",
            LinkForm::HtmlHref => "html_href",
            LinkForm::Identifier => "identifier",
        }
    }
}

/// What kind of target a citation points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UrlKind {
    /// `http` or `https`: checkable.
    Web,
    /// `#`, empty or `javascript:`: a link that leads nowhere, kept so a
    /// librarian sees the citation has no usable link.
    Placeholder,
    /// `mailto:`, `ftp:`, `file:` and every other scheme.
    OtherScheme,
}

impl UrlKind {
    /// The lowercase name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            UrlKind::Web => "web",
            UrlKind::Placeholder => "placeholder",
            UrlKind::OtherScheme => "other_scheme",
        }
    }
}

/// A footnote or endnote as the document defines it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Footnote {
    /// The label as written: `3`, `a`, `note-12`.
    pub label: String,
    /// 1-based line of the definition.
    pub line: usize,
    /// 1-based body lines that reference this note, in order, without repeats.
    pub reference_lines: Vec<usize>,
    /// The whole note as plain text on one line.
    pub text: String,
    /// Label of the footnote this one repeats ("Ibid.", "Id.", "supra note 4").
    pub repeats: Option<String>,
}

/// One URL cited in one place of one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Citation {
    /// The document as given on the command line (or `-` for stdin).
    pub document: Arc<str>,
    /// 1-based line of the URL.
    pub line: usize,
    /// 1-based column of the URL, in characters of the original line.
    pub column: usize,
    /// Footnote or body.
    pub scope: Scope,
    /// The footnote the URL stands in; `None` in the body.
    pub footnote: Option<Arc<Footnote>>,
    /// The URL exactly as written in the source.
    pub raw_url: String,
    /// The URL a reader would click: cleaned, IDN hosts in punycode.
    pub url: String,
    /// The link text, if the URL was written as a link with text.
    pub link_text: Option<String>,
    /// How the URL was written.
    pub form: LinkForm,
    /// Whether it can be checked over HTTP.
    pub kind: UrlKind,
    /// A URL written as the link text that differs from the href after cleanup.
    pub text_url_mismatch: Option<String>,
    /// Byte range of the URL (or link) in the source, for tools and tests.
    #[serde(skip)]
    pub span: Range<usize>,
    /// 1-based page, for paged formats (PDF); `line` then counts from the
    /// top of that page.
    pub page: Option<usize>,
    /// For a URL derived from an identifier: the identifier as written
    /// (`doi:10.1000/182`, `A/79/387`); `None` for a URL written as such.
    pub derived_from: Option<String>,
    /// For a citation a repeating note ("Ibid.", "supra note 7") takes over
    /// from the note it repeats: that note's label. Its row shows that
    /// note's URL and verdict.
    pub via: Option<String>,
}

/// A problem worth telling the user about that does not stop the scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// The document the warning is about.
    pub document: Arc<str>,
    /// 1-based line, where one applies.
    pub line: Option<usize>,
    /// What is wrong, in one line.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.document, line, self.message),
            None => write!(f, "{}: {}", self.document, self.message),
        }
    }
}

/// A citation as a format scanner finds it, before it is tied to a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundLink {
    /// Byte range of the URL (or the whole link) in the source.
    pub span: Range<usize>,
    /// Index into [`Extraction::footnotes`], or `None` for the body.
    pub footnote: Option<usize>,
    /// The URL exactly as written.
    pub raw_url: String,
    /// The link text, if any.
    pub link_text: Option<String>,
    /// How it was written.
    pub form: LinkForm,
    /// For a URL derived from an identifier, the identifier as written.
    pub derived_from: Option<String>,
}

/// A footnote as a format scanner finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundFootnote {
    /// The label as written.
    pub label: String,
    /// Byte offset of the start of the definition.
    pub start: usize,
    /// Byte offsets of the references to it in the body.
    pub references: Vec<usize>,
    /// The note as plain text on one line.
    pub text: String,
}

/// What one format scanner extracts from one source text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extraction {
    /// Footnotes in document order.
    pub footnotes: Vec<FoundFootnote>,
    /// Links in document order, footnote links and body links interleaved.
    pub links: Vec<FoundLink>,
    /// Problems found, with the byte offset they are about.
    pub warnings: Vec<(Option<usize>, String)>,
    /// For paged formats (PDF): the byte offset where each page starts, in
    /// order. Empty for everything else.
    pub page_starts: Vec<usize>,
}

/// A binary document rendered as text, with what was found in it; the
/// extraction's offsets point into `text`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    /// One line per paragraph.
    pub text: String,
    /// Footnotes, links and warnings, with offsets into `text`.
    pub extraction: Extraction,
}

/// Options that change what a scan reports.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Footnotes only, or body too.
    pub scope: ScopeFilter,
    /// Turn identifiers (DOIs, UN symbols, arXiv, Handles, PubMed IDs) into
    /// resolver links; on unless `--no-identifiers`.
    pub identifiers: bool,
    /// How long one PDF may take to parse before it is given up on with a
    /// warning.
    pub pdf_time_limit: std::time::Duration,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            scope: ScopeFilter::default(),
            identifiers: true,
            pdf_time_limit: pdf::DEFAULT_TIME_LIMIT,
        }
    }
}

/// The result of scanning one document.
#[derive(Debug, Clone)]
pub struct ScannedDocument {
    /// The document as named by the user.
    pub document: Arc<str>,
    /// The format it was read as.
    pub format: Format,
    /// Its footnotes, in document order.
    pub footnotes: Vec<Arc<Footnote>>,
    /// Its citations, in document order.
    pub citations: Vec<Citation>,
    /// Problems found while reading it.
    pub warnings: Vec<Warning>,
}

/// Scans one document's text, already decoded, as `format`.
///
/// Positions are computed here, once, from the byte offsets the format
/// scanners report, so every format numbers lines and columns the same way.
pub fn scan_document(
    document: Arc<str>,
    source: &str,
    format: Format,
    options: &ScanOptions,
) -> ScannedDocument {
    collect(|sink| scan_document_each(document, source, format, options, sink))
}

/// [`scan_document`], handing each citation to `sink` as it is made instead
/// of collecting them: the returned document's `citations` is empty. A
/// document's citations then never need to be in memory all at once.
pub fn scan_document_each(
    document: Arc<str>,
    source: &str,
    format: Format,
    options: &ScanOptions,
    sink: &mut dyn FnMut(Citation),
) -> ScannedDocument {
    let extraction = match format {
        Format::Markdown => markdown::extract(source),
        Format::Html => html::extract(source),
        Format::Text => text::extract(source),
        // `.bib` files are named relative to the `.tex` file.
        Format::Latex => {
            latex::extract_with_bibliography(source, std::path::Path::new(&*document).parent())
        }
        Format::Jats => jats::extract(source),
        Format::Docx | Format::Pdf => {
            return scan_bytes_each(document, source.as_bytes(), format, options, sink);
        }
    };
    assemble_each(document, source, format, extraction, options, sink)
}

/// Runs a streaming scan and puts the citations it hands out into the
/// document.
fn collect(scan: impl FnOnce(&mut dyn FnMut(Citation)) -> ScannedDocument) -> ScannedDocument {
    let mut citations = Vec::new();
    let mut scanned = scan(&mut |citation| citations.push(citation));
    scanned.citations = citations;
    scanned
}

/// Scans one document's raw bytes as `format`; binary formats (DOCX) are
/// rendered to text first, text formats decoded as UTF-8 (lossily).
///
/// A document that cannot be read (encrypted, corrupt, a zip bomb) yields
/// no citations and one warning saying why; it never panics.
pub fn scan_bytes(
    document: Arc<str>,
    bytes: &[u8],
    format: Format,
    options: &ScanOptions,
) -> ScannedDocument {
    collect(|sink| scan_bytes_each(document, bytes, format, options, sink))
}

/// [`scan_bytes`], handing each citation to `sink` as it is made (see
/// [`scan_document_each`]).
pub fn scan_bytes_each(
    document: Arc<str>,
    bytes: &[u8],
    format: Format,
    options: &ScanOptions,
    sink: &mut dyn FnMut(Citation),
) -> ScannedDocument {
    let rendered = match format {
        Format::Docx => docx::extract_bytes(bytes).map_err(|e| e.to_string()),
        Format::Pdf => {
            pdf::extract_bytes_with_limit(bytes, options.pdf_time_limit).map_err(|e| e.to_string())
        }
        _ => {
            let source = String::from_utf8_lossy(bytes);
            return scan_document_each(document, &source, format, options, sink);
        }
    };
    match rendered {
        Ok(rendered) => assemble_each(
            document,
            &rendered.text,
            format,
            rendered.extraction,
            options,
            sink,
        ),
        Err(message) => ScannedDocument {
            warnings: vec![Warning {
                document: document.clone(),
                line: None,
                message,
            }],
            document,
            format,
            footnotes: Vec::new(),
            citations: Vec::new(),
        },
    }
}

/// Turns a format scanner's byte offsets into positions, footnotes and
/// citations; shared by every format.
pub fn assemble(
    document: Arc<str>,
    source: &str,
    format: Format,
    extraction: Extraction,
    options: &ScanOptions,
) -> ScannedDocument {
    collect(|sink| assemble_each(document, source, format, extraction, options, sink))
}

/// [`assemble`], handing each citation to `sink` in document order as it is
/// made (see [`scan_document_each`]).
pub fn assemble_each(
    document: Arc<str>,
    source: &str,
    format: Format,
    mut extraction: Extraction,
    options: &ScanOptions,
    sink: &mut dyn FnMut(Citation),
) -> ScannedDocument {
    if options.identifiers {
        identifiers::derive(&mut extraction, source);
    }
    let index = lines::LineIndex::new(source);
    let page_starts = std::mem::take(&mut extraction.page_starts);
    // On a paged format a position is (page, line on the page, column).
    let locate = |offset: usize| -> (Option<usize>, usize, usize) {
        let (line, column) = index.position(offset);
        let page = page_starts.partition_point(|&s| s <= offset);
        if page == 0 {
            return (None, line, column);
        }
        let first = index.line(page_starts[page - 1]);
        (Some(page), line + 1 - first.min(line), column)
    };
    let starts: Vec<usize> = extraction.footnotes.iter().map(|f| f.start).collect();
    let mut footnotes: Vec<Arc<Footnote>> = Vec::with_capacity(extraction.footnotes.len());
    for found in extraction.footnotes {
        let mut reference_lines: Vec<usize> =
            found.references.iter().map(|&o| index.line(o)).collect();
        reference_lines.sort_unstable();
        reference_lines.dedup();
        let repeats = repeats::repeated_label(&found.text, &footnotes);
        footnotes.push(Arc::new(Footnote {
            label: found.label,
            // On a paged format, the line on the note's page.
            line: locate(found.start).1,
            reference_lines,
            text: found.text,
            repeats,
        }));
    }
    let mut repeated = RepeatedNotes::plan(&footnotes, &starts, &extraction.links);
    for link in extraction.links {
        if link.footnote.is_none() && options.scope != ScopeFilter::All {
            continue;
        }
        let (page, line, column) = locate(link.span.start);
        let cleaned = url::clean(&link.raw_url);
        let text_url_mismatch = link
            .link_text
            .as_deref()
            .and_then(|text| url::text_mismatch(text, &cleaned.url));
        let note = link.footnote;
        let citation = Citation {
            document: document.clone(),
            line,
            column,
            scope: if note.is_some() {
                Scope::Footnote
            } else {
                Scope::Body
            },
            footnote: note.and_then(|i| footnotes.get(i).cloned()),
            raw_url: link.raw_url,
            url: cleaned.url,
            link_text: link.link_text,
            form: link.form,
            kind: cleaned.kind,
            text_url_mismatch,
            span: link.span,
            page,
            derived_from: link.derived_from,
            via: None,
        };
        repeated.emit_before(citation.span.start, &footnotes, &index, sink);
        repeated.keep(note, &citation);
        sink(citation);
    }
    repeated.emit_before(usize::MAX, &footnotes, &index, sink);
    let warnings = extraction
        .warnings
        .into_iter()
        .map(|(offset, message)| Warning {
            document: document.clone(),
            line: offset.map(|o| index.line(o)),
            message,
        })
        .collect();
    ScannedDocument {
        document,
        format,
        footnotes,
        citations: Vec::new(),
        warnings,
    }
}

/// Gives a note that only repeats another ("Ibid.", "supra note 4") the
/// citations of the note it repeats, placed at its own definition, so a
/// librarian sees footnote 8 cites what footnote 7 cites. Notes with links
/// of their own keep just those.
///
/// The citations stream past in document order: only those of notes some
/// later note repeats are kept, and a repeating note gets the ones that
/// stand before it. Linear in notes and citations: searching and splicing
/// per note took 24 s for 80,000 notes, half of them "Ibid.".
struct RepeatedNotes {
    /// (repeating note, where its definition starts, the note it names,
    /// the note whose citations it gets), in document order; a note may
    /// repeat one that itself repeats ("supra note 8", 8 being "Ibid."),
    /// and then gets the citations that one got, named after it.
    plans: std::collections::VecDeque<(usize, usize, usize, usize)>,
    /// The citations so far of each note some plan takes them from.
    kept: HashMap<usize, Vec<Citation>>,
}

impl RepeatedNotes {
    fn plan(footnotes: &[Arc<Footnote>], starts: &[usize], links: &[FoundLink]) -> Self {
        let mut plans = std::collections::VecDeque::new();
        let mut kept = HashMap::new();
        if footnotes.iter().any(|note| note.repeats.is_some()) {
            let mut own = vec![false; footnotes.len()];
            for i in links.iter().filter_map(|link| link.footnote) {
                if let Some(own) = own.get_mut(i) {
                    *own = true;
                }
            }
            let mut root_of: HashMap<usize, usize> = HashMap::new();
            // The latest note so far with each label.
            let mut latest: HashMap<&str, usize> = HashMap::new();
            for (j, note) in footnotes.iter().enumerate() {
                if let Some(label) = note.repeats.as_deref()
                    && !own[j]
                    && let Some(&original) = latest.get(label)
                {
                    let root = if own[original] {
                        Some(original)
                    } else {
                        root_of.get(&original).copied()
                    };
                    if let Some(root) = root {
                        root_of.insert(j, root);
                        plans.push_back((j, starts[j], original, root));
                        kept.insert(root, Vec::new());
                    }
                }
                latest.insert(note.label.as_str(), j);
            }
        }
        RepeatedNotes { plans, kept }
    }

    /// Keeps a copy of a citation of note `note` if a later note repeats it.
    fn keep(&mut self, note: Option<usize>, citation: &Citation) {
        if let Some(kept) = note.and_then(|i| self.kept.get_mut(&i)) {
            kept.push(citation.clone());
        }
    }

    /// Hands out the citations of every repeating note whose definition
    /// starts before `offset`: a citation at a note's very start comes first.
    fn emit_before(
        &mut self,
        offset: usize,
        footnotes: &[Arc<Footnote>],
        index: &lines::LineIndex<'_>,
        sink: &mut dyn FnMut(Citation),
    ) {
        while let Some(&(j, start, original, root)) = self.plans.front() {
            if start >= offset {
                break;
            }
            self.plans.pop_front();
            let (line, column) = index.position(start);
            for citation in &self.kept[&root] {
                sink(Citation {
                    line,
                    column,
                    footnote: Some(footnotes[j].clone()),
                    via: Some(footnotes[original].label.clone()),
                    span: start..start,
                    ..citation.clone()
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Repeating notes get their original's citations at their own place,
    /// in order, also through a chain of repeats, between the citations
    /// around them.
    #[test]
    fn repeating_notes_take_the_citations_they_repeat() {
        let source = "Body[^1][^2][^3][^4][^5] and <https://body.example/>.\n\
                      \n\
                      [^1]: First, <https://a.example/1> and <https://a.example/2>.\n\
                      [^2]: Ibid.\n\
                      [^3]: Other, <https://c.example/>.\n\
                      [^4]: Supra note 2, p. 3.\n\
                      [^5]: Ibid.\n\
                      \n\
                      After the notes, <https://after.example/>.\n";
        let options = ScanOptions {
            scope: ScopeFilter::All,
            ..ScanOptions::default()
        };
        let scanned = scan_document(Arc::from("doc.md"), source, Format::Markdown, &options);
        let rows: Vec<(String, &str, Option<&str>, usize)> = scanned
            .citations
            .iter()
            .map(|c| {
                (
                    c.footnote
                        .as_ref()
                        .map_or("body".to_string(), |f| f.label.clone()),
                    c.url.as_str(),
                    c.via.as_deref(),
                    c.line,
                )
            })
            .collect();
        let row = |note: &str, url, via, line| (note.to_string(), url, via, line);
        assert_eq!(
            rows,
            [
                row("body", "https://body.example/", None, 1),
                row("1", "https://a.example/1", None, 3),
                row("1", "https://a.example/2", None, 3),
                row("2", "https://a.example/1", Some("1"), 4),
                row("2", "https://a.example/2", Some("1"), 4),
                row("3", "https://c.example/", None, 5),
                // "supra note 2" repeats a repeat: note 1's links, via 2.
                row("4", "https://a.example/1", Some("2"), 6),
                row("4", "https://a.example/2", Some("2"), 6),
                row("5", "https://a.example/1", Some("2"), 7),
                row("5", "https://a.example/2", Some("2"), 7),
                row("body", "https://after.example/", None, 9),
            ]
        );
    }
}
