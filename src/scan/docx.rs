//! DOCX (Word, LibreOffice): footnotes, endnotes and the body of a
//! WordprocessingML package.
//!
//! A `.docx` file is a zip of XML parts. Notes live in `word/footnotes.xml`
//! and `word/endnotes.xml`; Word numbers them by the order of their
//! references in `word/document.xml` (the ids in the notes part are not what
//! a reader sees). Links are `w:hyperlink` elements resolved through each
//! part's `.rels`, `HYPERLINK "…"` field codes (whose instruction text may be
//! split across runs), or URLs typed as plain text.
//!
//! Positions: the document is rendered as one line per paragraph (the body,
//! then footnotes, then endnotes), so a citation's "line" is the number of
//! its paragraph in that rendering.
//!
//! Hostile input: every part read is capped in decompressed size (zip
//! bombs), entities declared in a DTD are never expanded, and encrypted or
//! corrupt packages are reported as errors naming what is wrong.

use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::ops::Range;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::xml::{attribute, attribute_qualified, push_inline, reference_text};
use super::{Extraction, FoundFootnote, FoundLink, LinkForm, Rendered};

/// Largest decompressed size of one XML part read from a package.
pub const MAX_PART_BYTES: u64 = 64 * 1024 * 1024;
/// Largest decompressed size of all the parts read from one package.
pub const MAX_TOTAL_BYTES: u64 = 192 * 1024 * 1024;

/// The signature of an OLE compound file: a password-protected DOCX (or an
/// old binary `.doc`) is one of these, not a zip.
const OLE_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Why a DOCX file could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DocxError {
    /// An OLE compound file: encrypted with a password, or a legacy `.doc`.
    #[error("password-protected (encrypted) Word file or legacy .doc: cannot read its notes")]
    Encrypted,
    /// Not a zip archive, or a damaged one.
    #[error("not a readable DOCX (zip) package: {0}")]
    Corrupt(String),
    /// The package has no `word/document.xml`.
    #[error("not a Word document: the package has no word/document.xml")]
    NoDocument,
    /// A part decompresses to more than the cap: probably a zip bomb.
    #[error("{part} decompresses to more than {limit} bytes; refusing to read it (zip bomb?)")]
    TooLarge {
        /// The part's name in the package.
        part: String,
        /// The cap that was exceeded.
        limit: u64,
    },
    /// A part is not well-formed XML.
    #[error("{part} is not well-formed XML: {message}")]
    Xml {
        /// The part's name in the package.
        part: String,
        /// What the parser said.
        message: String,
    },
}

/// Reads a DOCX package from its bytes.
pub fn extract_bytes(bytes: &[u8]) -> Result<Rendered, DocxError> {
    if bytes.starts_with(&OLE_MAGIC) {
        return Err(DocxError::Encrypted);
    }
    let mut package = Package::open(bytes)?;
    let document = package
        .part("word/document.xml")?
        .ok_or(DocxError::NoDocument)?;
    let settings = package.part("word/settings.xml")?;
    let footnotes = package.part("word/footnotes.xml")?;
    let endnotes = package.part("word/endnotes.xml")?;
    let rels = |package: &mut Package, part: &str| -> Result<Relations, DocxError> {
        let name = format!("word/_rels/{part}.rels");
        match package.part(&name)? {
            Some(xml) => parse_relations(&name, &xml),
            None => Ok(Relations::new()),
        }
    };
    let document_rels = rels(&mut package, "document.xml")?;
    let footnote_rels = rels(&mut package, "footnotes.xml")?;
    let endnote_rels = rels(&mut package, "endnotes.xml")?;

    let mut numbering = Numbering::default();
    if let Some(xml) = &settings {
        read_note_properties("word/settings.xml", xml, &mut numbering)?;
    }
    let body = parse_story(
        "word/document.xml",
        &document,
        &document_rels,
        &mut numbering,
    )?;
    let footnote_story = match &footnotes {
        Some(xml) => parse_story("word/footnotes.xml", xml, &footnote_rels, &mut numbering)?,
        None => Story::default(),
    };
    let endnote_story = match &endnotes {
        Some(xml) => parse_story("word/endnotes.xml", xml, &endnote_rels, &mut numbering)?,
        None => Story::default(),
    };
    Ok(render(body, footnote_story, endnote_story, &numbering))
}

/// A zip package with a budget for how much it may decompress.
struct Package<'a> {
    archive: zip::ZipArchive<Cursor<&'a [u8]>>,
    budget: u64,
}

impl<'a> Package<'a> {
    fn open(bytes: &'a [u8]) -> Result<Self, DocxError> {
        let archive = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| DocxError::Corrupt(e.to_string()))?;
        Ok(Package {
            archive,
            budget: MAX_TOTAL_BYTES,
        })
    }

    /// Reads one part as text; `None` when the package has no such part.
    fn part(&mut self, name: &str) -> Result<Option<String>, DocxError> {
        let limit = MAX_PART_BYTES.min(self.budget);
        let mut file = match self.archive.by_name(name) {
            Ok(file) => file,
            Err(zip::result::ZipError::FileNotFound) => return Ok(None),
            Err(zip::result::ZipError::UnsupportedArchive(msg))
                if msg == zip::result::ZipError::PASSWORD_REQUIRED =>
            {
                return Err(DocxError::Encrypted);
            }
            Err(e) => return Err(DocxError::Corrupt(format!("{name}: {e}"))),
        };
        let too_large = || DocxError::TooLarge {
            part: name.to_string(),
            limit,
        };
        // The declared size can lie; the capped read below is what holds.
        if file.size() > limit {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        (&mut file)
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| DocxError::Corrupt(format!("{name}: {e}")))?;
        if bytes.len() as u64 > limit {
            return Err(too_large());
        }
        self.budget = self.budget.saturating_sub(bytes.len() as u64);
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        Ok(Some(text))
    }
}

/// External hyperlink targets of one part, by relationship id.
type Relations = HashMap<String, String>;

fn xml_error(part: &str, e: impl std::fmt::Display) -> DocxError {
    DocxError::Xml {
        part: part.to_string(),
        message: e.to_string(),
    }
}

fn parse_relations(part: &str, xml: &str) -> Result<Relations, DocxError> {
    let mut reader = Reader::from_str(xml);
    let mut relations = Relations::new();
    loop {
        match reader.read_event().map_err(|e| xml_error(part, e))? {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "Relationship" => {
                let external = attribute(&e, "TargetMode").as_deref() == Some("External");
                if let (true, Some(id), Some(target)) =
                    (external, attribute(&e, "Id"), attribute(&e, "Target"))
                {
                    relations.insert(id, target);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(relations)
}

/// Footnotes or endnotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum NoteKind {
    Footnote,
    Endnote,
}

/// How Word numbers one kind of note.
#[derive(Debug, Clone)]
struct NoteFormat {
    format: String,
    start: usize,
}

/// Numbering formats, and the numbers given so far in reference order.
#[derive(Debug, Clone)]
struct Numbering {
    footnote: NoteFormat,
    endnote: NoteFormat,
    /// (kind, id) → position in reference order, 0-based.
    order: HashMap<(NoteKind, String), usize>,
    counts: [usize; 2],
}

impl Default for Numbering {
    fn default() -> Self {
        // Word's defaults: footnotes 1, 2, 3; endnotes i, ii, iii.
        Numbering {
            footnote: NoteFormat {
                format: "decimal".into(),
                start: 1,
            },
            endnote: NoteFormat {
                format: "lowerRoman".into(),
                start: 1,
            },
            order: HashMap::new(),
            counts: [0, 0],
        }
    }
}

impl Numbering {
    fn reference(&mut self, kind: NoteKind, id: &str) {
        let slot = usize::from(kind == NoteKind::Endnote);
        let next = self.counts[slot];
        let key = (kind, id.to_string());
        if let std::collections::hash_map::Entry::Vacant(e) = self.order.entry(key) {
            e.insert(next);
            self.counts[slot] += 1;
        }
    }

    fn format_mut(&mut self, kind: NoteKind) -> &mut NoteFormat {
        match kind {
            NoteKind::Footnote => &mut self.footnote,
            NoteKind::Endnote => &mut self.endnote,
        }
    }

    fn label(&self, kind: NoteKind, position: usize) -> String {
        let format = match kind {
            NoteKind::Footnote => &self.footnote,
            NoteKind::Endnote => &self.endnote,
        };
        format_number(&format.format, format.start.saturating_add(position))
    }
}

/// A note number as Word shows it in a numbering format.
fn format_number(format: &str, n: usize) -> String {
    // Letters and symbols repeat with the number: keep a hostile numStart
    // from asking for a huge label.
    if n > 10_000 {
        return n.to_string();
    }
    match format {
        "lowerRoman" => roman(n).to_lowercase(),
        "upperRoman" => roman(n),
        "lowerLetter" => letters(n).to_lowercase(),
        "upperLetter" => letters(n),
        "chicago" => {
            let symbols = ['*', '\u{2020}', '\u{2021}', '\u{a7}'];
            let symbol = symbols[(n.max(1) - 1) % 4];
            std::iter::repeat_n(symbol, (n.max(1) - 1) / 4 + 1).collect()
        }
        _ => n.to_string(),
    }
}

fn roman(mut n: usize) -> String {
    if n == 0 || n >= 4000 {
        return n.to_string();
    }
    let table = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut out = String::new();
    for (value, digits) in table {
        while n >= value {
            out.push_str(digits);
            n -= value;
        }
    }
    out
}

/// Word's letter numbering: A..Z, then AA..ZZ, then AAA...
fn letters(n: usize) -> String {
    if n == 0 {
        return "0".into();
    }
    let letter = (b'A' + ((n - 1) % 26) as u8) as char;
    std::iter::repeat_n(letter, (n - 1) / 26 + 1).collect()
}

fn read_note_properties(part: &str, xml: &str, numbering: &mut Numbering) -> Result<(), DocxError> {
    let mut reader = Reader::from_str(xml);
    let mut inside: Option<NoteKind> = None;
    loop {
        match reader.read_event().map_err(|e| xml_error(part, e))? {
            Event::Start(e) => match e.local_name().as_ref() {
                "footnotePr" => inside = Some(NoteKind::Footnote),
                "endnotePr" => inside = Some(NoteKind::Endnote),
                _ => note_property(&e, inside, numbering),
            },
            Event::Empty(e) => note_property(&e, inside, numbering),
            Event::End(e) if matches!(e.local_name().as_ref(), "footnotePr" | "endnotePr") => {
                inside = None;
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

fn note_property(e: &BytesStart<'_>, inside: Option<NoteKind>, numbering: &mut Numbering) {
    let Some(kind) = inside else { return };
    match e.local_name().as_ref() {
        "numFmt" => {
            if let Some(format) = attribute(e, "val") {
                numbering.format_mut(kind).format = format;
            }
        }
        "numStart" => {
            if let Some(start) = attribute(e, "val").and_then(|v| v.parse().ok()) {
                numbering.format_mut(kind).start = start;
            }
        }
        _ => {}
    }
}

/// A link inside one paragraph.
#[derive(Debug, Clone)]
struct ParagraphLink {
    range: Range<usize>,
    url: String,
    form: LinkForm,
}

/// One paragraph: its text on one line, its links and note references.
#[derive(Debug, Clone, Default)]
struct Paragraph {
    text: String,
    links: Vec<ParagraphLink>,
    /// (kind, id, offset in text) of each note reference.
    references: Vec<(NoteKind, String, usize)>,
    /// The note this paragraph belongs to, in a notes part.
    note: Option<(NoteKind, String)>,
}

/// The paragraphs of one part, and what was noticed reading it.
#[derive(Debug, Clone, Default)]
struct Story {
    paragraphs: Vec<Paragraph>,
    /// Note ids in the order the part defines them.
    notes: Vec<(NoteKind, String)>,
    warnings: Vec<String>,
}

/// A field (`w:fldChar` begin … separate … end) being read.
#[derive(Debug, Default)]
struct Field {
    instruction: String,
    url: Option<String>,
    result_start: Option<(usize, usize)>,
}

/// Reads the paragraphs of a part. Iterative, never recursive: nesting depth
/// in the XML costs nothing.
fn parse_story(
    part: &str,
    xml: &str,
    rels: &Relations,
    numbering: &mut Numbering,
) -> Result<Story, DocxError> {
    let mut reader = Reader::from_str(xml);
    let mut story = Story::default();
    let mut current = Paragraph::default();
    // Paragraphs interrupted by a nested one (a text box inside a run).
    let mut outer: Vec<Paragraph> = Vec::new();
    let mut in_paragraph = false;
    let mut in_text = false;
    let mut in_instruction = false;
    let mut in_note_props: Option<NoteKind> = None;
    let mut note: Option<(NoteKind, String)> = None;
    let mut skip_note = false;
    // Depth inside mc:Fallback, which repeats mc:Choice's content.
    let mut fallback_depth = 0usize;
    let mut hyperlinks: Vec<(Option<String>, usize)> = Vec::new();
    let mut fields: Vec<Field> = Vec::new();
    let mut saw_doctype = false;

    let finish = |story: &mut Story, current: &mut Paragraph, note: &Option<(NoteKind, String)>| {
        let mut paragraph = std::mem::take(current);
        paragraph.note = note.clone();
        story.paragraphs.push(paragraph);
    };

    loop {
        let event = reader.read_event().map_err(|e| xml_error(part, e))?;
        if fallback_depth > 0 {
            match event {
                Event::Start(_) => fallback_depth += 1,
                Event::End(_) => fallback_depth -= 1,
                Event::Eof => break,
                _ => {}
            }
            continue;
        }
        match event {
            Event::DocType(_) => saw_doctype = true,
            Event::Start(e) => match e.local_name().as_ref() {
                "Fallback" => fallback_depth = 1,
                "footnote" | "endnote" => {
                    let kind = if e.local_name().as_ref() == "footnote" {
                        NoteKind::Footnote
                    } else {
                        NoteKind::Endnote
                    };
                    let kind_attr = attribute(&e, "type");
                    skip_note = matches!(
                        kind_attr.as_deref(),
                        Some("separator" | "continuationSeparator" | "continuationNotice")
                    );
                    let id = attribute(&e, "id").unwrap_or_default();
                    if !skip_note {
                        story.notes.push((kind, id.clone()));
                    }
                    note = Some((kind, id));
                }
                "footnotePr" => in_note_props = Some(NoteKind::Footnote),
                "endnotePr" => in_note_props = Some(NoteKind::Endnote),
                "p" => {
                    if in_paragraph {
                        outer.push(std::mem::take(&mut current));
                    }
                    in_paragraph = true;
                    current = Paragraph::default();
                }
                "t" => in_text = true,
                "instrText" => in_instruction = true,
                "hyperlink" => {
                    let url = hyperlink_target(&e, rels);
                    hyperlinks.push((url, current.text.len()));
                }
                "fldSimple" => {
                    let url = attribute(&e, "instr").and_then(|i| parse_hyperlink_field(&i));
                    hyperlinks.push((url, current.text.len()));
                }
                _ => note_property(&e, in_note_props, numbering),
            },
            Event::Empty(e) => match e.local_name().as_ref() {
                "p" if !skip_note => {
                    let mut empty = Paragraph::default();
                    finish(&mut story, &mut empty, &note);
                }
                "tab" | "br" | "cr" if in_paragraph => current.text.push(' '),
                "footnoteReference" | "endnoteReference" if in_paragraph => {
                    let kind = if e.local_name().as_ref() == "footnoteReference" {
                        NoteKind::Footnote
                    } else {
                        NoteKind::Endnote
                    };
                    if let Some(id) = attribute(&e, "id") {
                        numbering.reference(kind, &id);
                        current.references.push((kind, id, current.text.len()));
                    }
                }
                "fldChar" => match attribute(&e, "fldCharType").as_deref() {
                    Some("begin") => fields.push(Field::default()),
                    Some("separate") => {
                        if let Some(field) = fields.last_mut() {
                            field.url = parse_hyperlink_field(&field.instruction);
                            field.result_start = Some((story.paragraphs.len(), current.text.len()));
                        }
                    }
                    Some("end") => {
                        if let Some(field) = fields.pop()
                            && let (Some(url), Some((paragraph, start))) =
                                (field.url, field.result_start)
                        {
                            // A result spanning paragraphs is cited where it ends.
                            let start = if paragraph == story.paragraphs.len() {
                                start.min(current.text.len())
                            } else {
                                0
                            };
                            current.links.push(ParagraphLink {
                                range: start..current.text.len(),
                                url,
                                form: LinkForm::HtmlHref,
                            });
                        }
                    }
                    _ => {}
                },
                _ => note_property(&e, in_note_props, numbering),
            },
            Event::Text(t) => {
                if in_instruction {
                    if let Some(field) = fields.last_mut() {
                        field.instruction.push_str(&t);
                    }
                } else if in_text && in_paragraph {
                    push_inline(&mut current.text, &t);
                }
            }
            Event::CData(t) if in_text && in_paragraph => {
                push_inline(&mut current.text, &t);
            }
            Event::GeneralRef(r) => {
                let text = reference_text(&r);
                if in_instruction {
                    if let Some(field) = fields.last_mut() {
                        field.instruction.push_str(&text);
                    }
                } else if in_text && in_paragraph {
                    push_inline(&mut current.text, &text);
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                "p" => {
                    if !skip_note {
                        finish(&mut story, &mut current, &note);
                    }
                    match outer.pop() {
                        Some(paragraph) => current = paragraph,
                        None => in_paragraph = false,
                    }
                }
                "t" => in_text = false,
                "instrText" => in_instruction = false,
                "footnotePr" | "endnotePr" => in_note_props = None,
                "footnote" | "endnote" => {
                    note = None;
                    skip_note = false;
                }
                "hyperlink" | "fldSimple" => {
                    if let Some((Some(url), start)) = hyperlinks.pop() {
                        let start = start.min(current.text.len());
                        current.links.push(ParagraphLink {
                            range: start..current.text.len(),
                            url,
                            form: LinkForm::HtmlHref,
                        });
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    if saw_doctype {
        story.warnings.push(format!(
            "{part} declares a DTD; its entities were not expanded"
        ));
    }
    Ok(story)
}

fn hyperlink_target(e: &BytesStart<'_>, rels: &Relations) -> Option<String> {
    let id = attribute_qualified(e, "r:id").or_else(|| attribute(e, "id"))?;
    let mut target = rels.get(&id)?.clone();
    if let Some(anchor) = attribute(e, "anchor") {
        target.push('#');
        target.push_str(&anchor);
    }
    Some(target)
}

/// The URL of a `HYPERLINK` field instruction: `HYPERLINK "https://…" \o "tip"`,
/// `HYPERLINK https://…`, with `\l "anchor"` appended as a fragment.
/// Internal links (`HYPERLINK \l "bookmark"` alone) have no URL.
pub fn parse_hyperlink_field(instruction: &str) -> Option<String> {
    let mut tokens = tokenize_field(instruction).into_iter();
    if !tokens.next()?.eq_ignore_ascii_case("HYPERLINK") {
        return None;
    }
    let mut url = None;
    let mut anchor = None;
    while let Some(token) = tokens.next() {
        match token.as_str() {
            "\\l" => anchor = tokens.next(),
            "\\o" | "\\t" => {
                tokens.next();
            }
            t if t.starts_with('\\') => {}
            _ if url.is_none() => url = Some(token),
            _ => {}
        }
    }
    let mut url = url?;
    if url.is_empty() {
        return None;
    }
    if let Some(anchor) = anchor {
        url.push('#');
        url.push_str(&anchor);
    }
    Some(url)
}

/// Splits a field instruction into words; quoted words keep their spaces.
fn tokenize_field(instruction: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut chars = instruction.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut token = String::new();
            for c in chars.by_ref() {
                if c == '"' {
                    break;
                }
                token.push(c);
            }
            tokens.push(token);
        } else {
            let mut token = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '"' {
                    break;
                }
                token.push(c);
                chars.next();
            }
            tokens.push(token);
        }
    }
    tokens
}

/// Lays the stories out as one line per paragraph and turns their notes,
/// links and references into an [`Extraction`].
fn render(body: Story, footnotes: Story, endnotes: Story, numbering: &Numbering) -> Rendered {
    let mut text = String::new();
    let mut extraction = Extraction::default();
    let mut warnings: Vec<String> = Vec::new();
    for story in [&body, &footnotes, &endnotes] {
        warnings.extend(story.warnings.iter().cloned());
    }

    // Notes in the order a reader meets them: by their number, footnotes
    // first; notes never referenced go last, in the part's order.
    let mut unreferenced = [0usize, 0usize];
    let mut notes: Vec<(NoteKind, String, usize)> = Vec::new();
    for story in [&footnotes, &endnotes] {
        for (kind, id) in &story.notes {
            let slot = usize::from(*kind == NoteKind::Endnote);
            let position = match numbering.order.get(&(*kind, id.clone())) {
                Some(&p) => p,
                None => {
                    unreferenced[slot] += 1;
                    warnings.push(format!(
                        "{} id {id} is never referenced in the document",
                        if *kind == NoteKind::Footnote {
                            "footnote"
                        } else {
                            "endnote"
                        }
                    ));
                    numbering.counts[slot] + unreferenced[slot] - 1
                }
            };
            notes.push((*kind, id.clone(), position));
        }
    }
    notes.sort_by_key(|(kind, _, position)| (*kind == NoteKind::Endnote, *position));
    let note_index: HashMap<(NoteKind, String), usize> = notes
        .iter()
        .enumerate()
        .map(|(i, (kind, id, _))| ((*kind, id.clone()), i))
        .collect();
    for (kind, _, position) in &notes {
        extraction.footnotes.push(FoundFootnote {
            label: numbering.label(*kind, *position),
            start: 0,
            references: Vec::new(),
            text: String::new(),
        });
    }

    let emit = |paragraph: &Paragraph,
                note: Option<usize>,
                text: &mut String,
                extraction: &mut Extraction| {
        let base = text.len();
        text.push_str(&paragraph.text);
        text.push('\n');
        for link in &paragraph.links {
            extraction.links.push(FoundLink {
                span: base + link.range.start..base + link.range.end,
                footnote: note,
                raw_url: link.url.clone(),
                link_text: Some(paragraph.text[link.range.clone()].trim().to_string())
                    .filter(|t| !t.is_empty()),
                form: link.form,
                derived_from: None,
            });
        }
        for (start, end, url) in bare_urls(&paragraph.text) {
            if paragraph
                .links
                .iter()
                .any(|l| start < l.range.end && l.range.start < end)
            {
                continue;
            }
            extraction.links.push(FoundLink {
                span: base + start..base + end,
                footnote: note,
                raw_url: url,
                link_text: None,
                form: LinkForm::Bare,
                derived_from: None,
            });
        }
        for (kind, id, offset) in &paragraph.references {
            if let Some(&i) = note_index.get(&(*kind, id.clone())) {
                extraction.footnotes[i].references.push(base + offset);
            }
        }
        base
    };

    for paragraph in &body.paragraphs {
        emit(paragraph, None, &mut text, &mut extraction);
    }
    for (kind, id, _) in &notes {
        let story = if *kind == NoteKind::Footnote {
            &footnotes
        } else {
            &endnotes
        };
        let index = note_index[&(*kind, id.clone())];
        let mut first = true;
        for paragraph in story
            .paragraphs
            .iter()
            .filter(|p| p.note.as_ref().is_some_and(|(k, i)| k == kind && i == id))
        {
            let base = emit(paragraph, Some(index), &mut text, &mut extraction);
            let found = &mut extraction.footnotes[index];
            if first {
                found.start = base;
                first = false;
            }
            let piece = paragraph.text.trim();
            if !piece.is_empty() {
                if !found.text.is_empty() {
                    found.text.push(' ');
                }
                found.text.push_str(piece);
            }
        }
        if first {
            extraction.footnotes[index].start = text.len();
        }
    }
    extraction.links.sort_by_key(|l| l.span.start);
    extraction.warnings = warnings.into_iter().map(|w| (None, w)).collect();
    Rendered { text, extraction }
}

/// URLs typed as plain text in a paragraph: (start, end, url).
fn bare_urls(text: &str) -> Vec<(usize, usize, String)> {
    let mut finder = linkify::LinkFinder::new();
    finder.kinds(&[linkify::LinkKind::Url]);
    finder
        .links(text)
        .filter(|l| {
            let s = l.as_str();
            s.starts_with("http://") || s.starts_with("https://") || s.starts_with("www.")
        })
        .map(|l| (l.start(), l.end(), l.as_str().to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships""#;

    /// A DOCX package made of the given parts.
    fn package(parts: &[(&str, &str)]) -> Vec<u8> {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, content) in parts {
            zip.start_file(*name, options).unwrap();
            zip.write_all(content.as_bytes()).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    fn document(body: &str) -> String {
        format!(r#"<?xml version="1.0"?><w:document {W}><w:body>{body}</w:body></w:document>"#)
    }

    fn footnotes(notes: &str) -> String {
        format!(
            r#"<w:footnotes {W}><w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:t>https://separator.example/</w:t></w:r></w:p></w:footnote>{notes}</w:footnotes>"#
        )
    }

    #[test]
    fn notes_are_numbered_by_reference_order_with_split_field_codes() {
        let body = document(
            r#"<w:p><w:r><w:t>First</w:t></w:r><w:r><w:footnoteReference w:id="7"/></w:r></w:p>
               <w:p><w:r><w:t>Second</w:t></w:r><w:r><w:footnoteReference w:id="3"/></w:r></w:p>"#,
        );
        let notes = footnotes(
            r#"<w:footnote w:id="3"><w:p><w:r><w:footnoteRef/></w:r>
                 <w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> HYPER</w:instrText></w:r>
                 <w:r><w:instrText>LINK "https://split.example/a?b=1&amp;c=2" \o "tip"</w:instrText></w:r>
                 <w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>the site</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>
                 <w:r><w:t xml:space="preserve"> and https://bare.example/x.</w:t></w:r></w:p></w:footnote>
               <w:footnote w:id="7"><w:p><w:r><w:t>Via </w:t></w:r><w:hyperlink r:id="rId9"><w:r><w:t>rels</w:t></w:r></w:hyperlink></w:p>
                 <w:p><w:r><w:t>second paragraph</w:t></w:r></w:p></w:footnote>
               <w:footnote w:id="9"><w:p><w:r><w:t>orphan https://orphan.example/</w:t></w:r></w:p></w:footnote>"#,
        );
        let rels = r#"<Relationships><Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="https://rels.example/" TargetMode="External"/><Relationship Id="rId2" Type="x" Target="styles.xml"/></Relationships>"#;
        let bytes = package(&[
            ("word/document.xml", &body),
            ("word/footnotes.xml", &notes),
            ("word/_rels/footnotes.xml.rels", rels),
        ]);
        let rendered = extract_bytes(&bytes).unwrap();
        let ex = &rendered.extraction;
        let labels: Vec<_> = ex.footnotes.iter().map(|f| f.label.as_str()).collect();
        assert_eq!(labels, ["1", "2", "3"]);
        assert_eq!(ex.footnotes[0].text, "Via rels second paragraph");
        let links: Vec<_> = ex
            .links
            .iter()
            .map(|l| (l.footnote, l.raw_url.as_str(), l.link_text.as_deref()))
            .collect();
        assert_eq!(
            links,
            [
                (Some(0), "https://rels.example/", Some("rels")),
                (Some(1), "https://split.example/a?b=1&c=2", Some("the site")),
                (Some(1), "https://bare.example/x", None),
                (Some(2), "https://orphan.example/", None),
            ]
        );
        // Paragraph numbers: body 1-2, then note 1 (two paragraphs), note 2.
        let index = super::super::lines::LineIndex::new(&rendered.text);
        assert_eq!(index.line(ex.footnotes[0].start), 3);
        assert_eq!(index.line(ex.footnotes[1].start), 5);
        assert_eq!(index.line(ex.footnotes[0].references[0]), 1);
        assert!(
            ex.warnings
                .iter()
                .any(|(_, w)| w.contains("id 9 is never referenced"))
        );
    }

    #[test]
    fn endnotes_use_roman_numerals_by_default_and_settings_override() {
        let body = document(
            r#"<w:p><w:r><w:endnoteReference w:id="2"/><w:footnoteReference w:id="5"/></w:r></w:p>"#,
        );
        let endnotes = format!(
            r#"<w:endnotes {W}><w:endnote w:id="2"><w:p><w:r><w:t>e</w:t></w:r></w:p></w:endnote></w:endnotes>"#
        );
        let notes =
            footnotes(r#"<w:footnote w:id="5"><w:p><w:r><w:t>f</w:t></w:r></w:p></w:footnote>"#);
        let settings = format!(
            r#"<w:settings {W}><w:footnotePr><w:numFmt w:val="upperLetter"/><w:numStart w:val="3"/></w:footnotePr></w:settings>"#
        );
        let bytes = package(&[
            ("word/document.xml", &body),
            ("word/footnotes.xml", &notes),
            ("word/endnotes.xml", &endnotes),
            ("word/settings.xml", &settings),
        ]);
        let ex = extract_bytes(&bytes).unwrap().extraction;
        let labels: Vec<_> = ex.footnotes.iter().map(|f| f.label.as_str()).collect();
        assert_eq!(labels, ["C", "i"]);
    }

    #[test]
    fn body_hyperlinks_and_text_boxes() {
        let body = document(
            r#"<w:p><w:r><w:t>See </w:t></w:r><w:hyperlink r:id="rId1" w:anchor="s2"><w:r><w:t>here</w:t></w:r></w:hyperlink>
               <w:r><mc:AlternateContent xmlns:mc="m"><mc:Choice><w:txbxContent><w:p><w:r><w:t>box https://box.example/</w:t></w:r></w:p></w:txbxContent></mc:Choice>
               <mc:Fallback><w:txbxContent><w:p><w:r><w:t>box https://box.example/</w:t></w:r></w:p></w:txbxContent></mc:Fallback></mc:AlternateContent></w:r>
               <w:r><w:t xml:space="preserve"> after</w:t></w:r></w:p>"#,
        );
        let rels = r#"<Relationships><Relationship Id="rId1" Target="https://body.example/" TargetMode="External"/></Relationships>"#;
        let bytes = package(&[
            ("word/document.xml", &body),
            ("word/_rels/document.xml.rels", rels),
        ]);
        let rendered = extract_bytes(&bytes).unwrap();
        let urls: Vec<_> = rendered
            .extraction
            .links
            .iter()
            .map(|l| l.raw_url.as_str())
            .collect();
        // A text box's paragraph ends before the paragraph it sits in.
        assert_eq!(urls, ["https://box.example/", "https://body.example/#s2"]);
        assert_eq!(rendered.text, "box https://box.example/\nSee here after\n");
    }

    #[test]
    fn encrypted_corrupt_truncated_and_bombs_are_errors() {
        let mut ole = OLE_MAGIC.to_vec();
        ole.extend([0u8; 512]);
        assert_eq!(extract_bytes(&ole), Err(DocxError::Encrypted));
        assert!(matches!(
            extract_bytes(b"PK\x03\x04 not really"),
            Err(DocxError::Corrupt(_))
        ));
        let good = package(&[("word/document.xml", &document("<w:p/>"))]);
        assert!(extract_bytes(&good).is_ok());
        assert!(matches!(
            extract_bytes(&good[..good.len() / 2]),
            Err(DocxError::Corrupt(_))
        ));
        assert_eq!(
            extract_bytes(&package(&[("word/styles.xml", "<x/>")])),
            Err(DocxError::NoDocument)
        );
        assert!(matches!(
            extract_bytes(&package(&[(
                "word/document.xml",
                "<w:document><w:body></w:p>"
            )])),
            Err(DocxError::Xml { .. })
        ));
        // 65 MiB of one letter deflates to a few dozen KiB.
        let big = "a".repeat(MAX_PART_BYTES as usize + 1);
        let bomb = package(&[("word/document.xml", &big)]);
        assert!(bomb.len() < 1024 * 1024);
        assert!(matches!(
            extract_bytes(&bomb),
            Err(DocxError::TooLarge { .. })
        ));
    }

    #[test]
    fn entities_in_a_dtd_are_not_expanded() {
        let mut dtd = String::from("<!DOCTYPE w:footnotes [<!ENTITY a \"aaaaaaaaaa\">");
        for i in 1..12 {
            dtd.push_str(&format!(
                "<!ENTITY a{i} \"{}\">",
                format!("&a{};", i - 1).repeat(10)
            ));
        }
        dtd.push_str("]>");
        let notes = format!(
            r#"<?xml version="1.0"?>{dtd}<w:footnotes {W}><w:footnote w:id="1"><w:p><w:r><w:t>&a11; https://x.example/</w:t></w:r></w:p></w:footnote></w:footnotes>"#
        );
        let body = document(r#"<w:p><w:r><w:footnoteReference w:id="1"/></w:r></w:p>"#);
        let bytes = package(&[("word/document.xml", &body), ("word/footnotes.xml", &notes)]);
        let ex = extract_bytes(&bytes).unwrap().extraction;
        assert_eq!(ex.footnotes[0].text, "&a11; https://x.example/");
        assert!(ex.warnings.iter().any(|(_, w)| w.contains("DTD")));
    }

    #[test]
    fn hyperlink_field_instructions() {
        assert_eq!(
            parse_hyperlink_field(r#" HYPERLINK "https://example.org/a b" \o "tip" "#).as_deref(),
            Some("https://example.org/a b")
        );
        assert_eq!(
            parse_hyperlink_field(r#"HYPERLINK https://example.org/x \l "sec2""#).as_deref(),
            Some("https://example.org/x#sec2")
        );
        assert_eq!(parse_hyperlink_field(r#"HYPERLINK \l "_Toc1""#), None);
        assert_eq!(parse_hyperlink_field(r#"PAGEREF _Toc1 \h"#), None);
    }

    #[test]
    fn note_numbers_as_word_shows_them() {
        assert_eq!(format_number("decimal", 12), "12");
        assert_eq!(format_number("lowerRoman", 14), "xiv");
        assert_eq!(format_number("upperLetter", 28), "BB");
        assert_eq!(format_number("chicago", 5), "**");
    }
}
