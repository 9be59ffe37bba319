//! The citation listing of `linkrot scan`: CSV, JSON or a readable table.
//!
//! Rows are written document by document as the scan produces them, so a
//! listing of a large corpus never sits whole in memory. One row per
//! (document, footnote, URL), in document order, with the columns in
//! [`COLUMNS`].
//!
//! JSON is one array with one object per line (`[`, objects separated by
//! `,` + newline, `]`): valid JSON for `jq` and friends, yet streamable and
//! easy to split line by line.

use std::io::{self, Write};

use serde::Serialize;

use crate::scan::{Citation, ScannedDocument};

/// Columns of the CSV listing (and fields of each JSON object), in order.
pub const COLUMNS: [&str; 17] = [
    "document",
    "line",
    "column",
    "footnote",
    "footnote_line",
    "reference_lines",
    "citation",
    "link_text",
    "raw_url",
    "url",
    "form",
    "kind",
    "scope",
    "repeats",
    "text_url_mismatch",
    "page",
    "derived_from",
];

/// Output formats of the listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListingFormat {
    /// Aligned text grouped by document and footnote, for reading on a terminal.
    Table,
    /// CSV with a header row; `reference_lines` joined with `;`.
    Csv,
    /// A JSON array of objects, one per line.
    Json,
}

/// One row as JSON: the same fields as the CSV columns.
#[derive(Serialize)]
struct JsonRow<'a> {
    document: &'a str,
    line: usize,
    column: usize,
    footnote: Option<&'a str>,
    footnote_line: Option<usize>,
    reference_lines: &'a [usize],
    citation: Option<&'a str>,
    link_text: Option<&'a str>,
    raw_url: &'a str,
    url: &'a str,
    form: &'a str,
    kind: &'a str,
    scope: &'a str,
    repeats: Option<&'a str>,
    text_url_mismatch: Option<&'a str>,
    page: Option<usize>,
    derived_from: Option<&'a str>,
}

impl<'a> JsonRow<'a> {
    fn new(c: &'a Citation) -> Self {
        let note = c.footnote.as_deref();
        JsonRow {
            document: &c.document,
            line: c.line,
            column: c.column,
            footnote: note.map(|f| f.label.as_str()),
            footnote_line: note.map(|f| f.line),
            reference_lines: note.map_or(&[], |f| f.reference_lines.as_slice()),
            citation: note.map(|f| f.text.as_str()),
            link_text: c.link_text.as_deref(),
            raw_url: &c.raw_url,
            url: &c.url,
            form: c.form.as_str(),
            kind: c.kind.as_str(),
            scope: c.scope.as_str(),
            repeats: note.and_then(|f| f.repeats.as_deref()),
            text_url_mismatch: c.text_url_mismatch.as_deref(),
            page: c.page,
            derived_from: c.derived_from.as_deref(),
        }
    }
}

fn csv_record(c: &Citation) -> [String; 17] {
    let note = c.footnote.as_deref();
    let opt = |s: Option<&str>| s.unwrap_or_default().to_string();
    [
        c.document.to_string(),
        c.line.to_string(),
        c.column.to_string(),
        opt(note.map(|f| f.label.as_str())),
        note.map(|f| f.line.to_string()).unwrap_or_default(),
        note.map(|f| {
            f.reference_lines
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(";")
        })
        .unwrap_or_default(),
        opt(note.map(|f| f.text.as_str())),
        opt(c.link_text.as_deref()),
        c.raw_url.clone(),
        c.url.clone(),
        c.form.as_str().to_string(),
        c.kind.as_str().to_string(),
        c.scope.as_str().to_string(),
        opt(note.and_then(|f| f.repeats.as_deref())),
        opt(c.text_url_mismatch.as_deref()),
        c.page.map(|p| p.to_string()).unwrap_or_default(),
        opt(c.derived_from.as_deref()),
    ]
}

enum Sink<W: Write> {
    Csv(Box<csv::Writer<W>>),
    Json {
        out: W,
        rows: usize,
    },
    Table {
        out: W,
        citations: usize,
        documents: usize,
        /// The current document's citations so far, as the chunks came:
        /// one growing vector would briefly need twice its size.
        held: Vec<Vec<Citation>>,
    },
}

/// Writes the listing row by row, document by document.
pub struct ListingWriter<W: Write> {
    sink: Sink<W>,
}

impl<W: Write> ListingWriter<W> {
    /// Starts a listing (writing the CSV header or the opening `[`).
    pub fn new(format: ListingFormat, out: W) -> io::Result<Self> {
        let sink = match format {
            ListingFormat::Csv => {
                let mut writer = csv::Writer::from_writer(out);
                writer.write_record(COLUMNS).map_err(csv_error)?;
                Sink::Csv(Box::new(writer))
            }
            ListingFormat::Json => {
                let mut out = out;
                out.write_all(b"[")?;
                Sink::Json { out, rows: 0 }
            }
            ListingFormat::Table => Sink::Table {
                out,
                citations: 0,
                documents: 0,
                held: Vec::new(),
            },
        };
        Ok(ListingWriter { sink })
    }

    /// Writes the next citations of the document being scanned; the table
    /// holds them until the document ends, to align its columns.
    pub fn write_citations(&mut self, chunk: Vec<Citation>) -> io::Result<()> {
        match &mut self.sink {
            Sink::Csv(writer) => {
                for citation in &chunk {
                    writer
                        .write_record(csv_record(citation))
                        .map_err(csv_error)?;
                }
                Ok(())
            }
            Sink::Json { out, rows } => {
                for citation in &chunk {
                    out.write_all(if *rows == 0 { b"\n" } else { b",\n" })?;
                    serde_json::to_writer(&mut *out, &JsonRow::new(citation))?;
                    *rows += 1;
                }
                Ok(())
            }
            Sink::Table { held, .. } => {
                held.push(chunk);
                Ok(())
            }
        }
    }

    /// Ends a document whose citations came through [`write_citations`]
    /// (its own `citations` are not read) and flushes its rows.
    ///
    /// [`write_citations`]: ListingWriter::write_citations
    pub fn end_document(&mut self, document: &ScannedDocument) -> io::Result<()> {
        match &mut self.sink {
            Sink::Csv(writer) => writer.flush(),
            Sink::Json { out, .. } => out.flush(),
            Sink::Table {
                out,
                citations,
                documents,
                held,
            } => {
                *documents += 1;
                *citations += held.iter().map(Vec::len).sum::<usize>();
                write_table(out, document, held)?;
                held.clear();
                out.flush()
            }
        }
    }

    /// Ends the listing (the closing `]`, the table's summary) and flushes.
    pub fn finish(self) -> io::Result<W> {
        match self.sink {
            Sink::Csv(writer) => writer.into_inner().map_err(|e| e.into_error()),
            Sink::Json { mut out, rows } => {
                out.write_all(if rows == 0 { b"]\n" } else { b"\n]\n" })?;
                out.flush()?;
                Ok(out)
            }
            Sink::Table {
                mut out,
                citations,
                documents,
                ..
            } => {
                writeln!(
                    out,
                    "{citations} citation{} in {documents} document{}",
                    plural(citations),
                    plural(documents)
                )?;
                out.flush()?;
                Ok(out)
            }
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn csv_error(err: csv::Error) -> io::Error {
    match err.into_kind() {
        csv::ErrorKind::Io(err) => err,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// Longest citation text shown in the table; the CSV and JSON carry it whole.
const TABLE_CITATION_CHARS: usize = 110;

/// A document's citations grouped under their footnotes:
///
/// ```text
/// notes.md (markdown)
///   [3] line 40, cited on line 12: Azerbaijan State News Agency, "Western…
///       40:97    web          https://azertag.az/en/xeber/…
///   body
///       12:1     placeholder  #  "A/79/387"
/// ```
/// `line:column`, or `p3:line:column` on a paged format (PDF).
fn table_position(c: &Citation) -> String {
    match c.page {
        Some(page) => format!("p{page}:{}:{}", c.line, c.column),
        None => format!("{}:{}", c.line, c.column),
    }
}

/// Writes one document's table from its citations, held in the chunks the
/// scan handed out.
fn write_table(
    out: &mut impl Write,
    document: &ScannedDocument,
    chunks: &[Vec<Citation>],
) -> io::Result<()> {
    let citations = || chunks.iter().flatten();
    if citations().next().is_none() {
        return Ok(());
    }
    writeln!(out, "{} ({})", document.document, document.format)?;
    let position_width = citations()
        .map(|c| table_position(c).len())
        .max()
        .unwrap_or(0);
    let mut group: Option<Option<usize>> = None;
    for citation in citations() {
        let key = citation
            .footnote
            .as_ref()
            .map(|f| std::sync::Arc::as_ptr(f) as usize);
        if group != Some(key) {
            group = Some(key);
            match citation.footnote.as_deref() {
                Some(note) => {
                    write!(out, "  [{}] line {}", note.label, note.line)?;
                    if !note.reference_lines.is_empty() {
                        let lines: Vec<String> =
                            note.reference_lines.iter().map(usize::to_string).collect();
                        write!(out, ", cited on line {}", lines.join(", "))?;
                    }
                    if let Some(repeats) = &note.repeats {
                        write!(out, ", repeats [{repeats}]")?;
                    }
                    writeln!(out, ": {}", truncate(&note.text, TABLE_CITATION_CHARS))?;
                }
                None => writeln!(out, "  body")?,
            }
        }
        let position = table_position(citation);
        write!(
            out,
            "      {position:<position_width$}  {:<12} {}",
            citation.kind.as_str(),
            if citation.url.is_empty() {
                "(empty link)"
            } else {
                &citation.url
            }
        )?;
        if let Some(identifier) = &citation.derived_from {
            write!(out, "  (from {})", truncate(identifier, 60))?;
        } else if let Some(text) = &citation.link_text
            && text != &citation.url
        {
            write!(out, "  \"{}\"", truncate(text, 60))?;
        }
        if let Some(other) = &citation.text_url_mismatch {
            write!(out, "  (link text shows {other})")?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::scan::{Footnote, Format, LinkForm, Scope, UrlKind};

    fn document() -> ScannedDocument {
        let note = Arc::new(Footnote {
            label: "3".into(),
            line: 9,
            reference_lines: vec![2, 5],
            text: "Agency, \"Title, with comma\", 2023.".into(),
            repeats: None,
        });
        let doc: Arc<str> = Arc::from("a.md");
        let citation = |scope, footnote: Option<Arc<Footnote>>, url: &str| Citation {
            document: doc.clone(),
            line: 9,
            column: 4,
            scope,
            footnote,
            raw_url: url.into(),
            url: url.into(),
            link_text: Some("the text".into()),
            form: LinkForm::Inline,
            kind: UrlKind::Web,
            text_url_mismatch: None,
            span: 0..1,
            page: None,
            derived_from: None,
            via: None,
        };
        ScannedDocument {
            document: doc.clone(),
            format: Format::Markdown,
            footnotes: vec![note.clone()],
            citations: vec![
                citation(Scope::Footnote, Some(note), "https://x.example/a"),
                citation(Scope::Body, None, "https://y.example/"),
            ],
            warnings: Vec::new(),
        }
    }

    fn render(format: ListingFormat) -> String {
        let mut writer = ListingWriter::new(format, Vec::new()).unwrap();
        // One chunk per citation, as a scan streaming them would hand out.
        let mut document = document();
        for citation in std::mem::take(&mut document.citations) {
            writer.write_citations(vec![citation]).unwrap();
        }
        writer.end_document(&document).unwrap();
        String::from_utf8(writer.finish().unwrap()).unwrap()
    }

    #[test]
    fn csv_has_every_column_and_quotes_citations() {
        let csv = render(ListingFormat::Csv);
        let mut lines = csv.lines();
        assert_eq!(lines.next().unwrap(), COLUMNS.join(","));
        assert_eq!(
            lines.next().unwrap(),
            "a.md,9,4,3,9,2;5,\"Agency, \"\"Title, with comma\"\", 2023.\",the text,https://x.example/a,https://x.example/a,inline,web,footnote,,,,"
        );
        assert_eq!(
            lines.next().unwrap(),
            "a.md,9,4,,,,,the text,https://y.example/,https://y.example/,inline,web,body,,,,"
        );
    }

    #[test]
    fn json_is_an_array_of_objects_one_per_line() {
        let json = render(ListingFormat::Json);
        assert_eq!(json.lines().count(), 4);
        let rows: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
        assert_eq!(rows.len(), 2);
        let keys: Vec<&str> = rows[0]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut columns = COLUMNS.to_vec();
        columns.sort();
        let mut keys = keys;
        keys.sort();
        assert_eq!(keys, columns);
        assert_eq!(rows[0]["reference_lines"], serde_json::json!([2, 5]));
        assert_eq!(rows[1]["footnote"], serde_json::Value::Null);
    }

    #[test]
    fn empty_json_listing_is_an_empty_array() {
        let writer = ListingWriter::new(ListingFormat::Json, Vec::new()).unwrap();
        let out = String::from_utf8(writer.finish().unwrap()).unwrap();
        assert_eq!(
            serde_json::from_str::<Vec<serde_json::Value>>(&out)
                .unwrap()
                .len(),
            0
        );
    }

    #[test]
    fn table_groups_rows_under_their_footnote() {
        let table = render(ListingFormat::Table);
        assert!(table.starts_with("a.md (markdown)\n  [3] line 9, cited on line 2, 5: Agency"));
        assert!(table.contains("      9:4  web          https://x.example/a  \"the text\"\n"));
        assert!(table.contains("  body\n"));
        assert!(table.ends_with("2 citations in 1 document\n"));
    }
}
