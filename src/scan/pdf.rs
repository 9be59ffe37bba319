//! PDF: link annotations, and the footnotes at the foot of each page.
//!
//! Text comes from pdf-extract (which re-exports lopdf; link annotations are
//! read through the same lopdf). Each page is laid out as lines, top to
//! bottom; a page's notes are the lines below a short separator rule, or,
//! without a rule, the run of lines at the page's foot set in a smaller font
//! than the page's body. A note starts at a line that begins with its number.
//! URLs broken across lines are joined again (and a hyphen a line break put
//! inside a word is dropped when the rest of the URL has no hyphen).
//!
//! Positions: the document is rendered as the pages' lines, with
//! [`Extraction::page_starts`], so a citation is at a page and a line on it.
//!
//! pdf-extract has many panicking paths, and a hostile file can make any PDF
//! parser loop: the parse runs on its own thread under `catch_unwind` with a
//! time limit. A PDF that panics, errs or overruns yields an error naming
//! what happened, never a crash or a hang of the scan.
//!
//! Decompression bombs: lopdf inflates streams without a limit (object and
//! cross-reference streams while loading, page contents and fonts while
//! extracting), so before the file is handed to it every stream in the raw
//! bytes is inflated into a counter, and a file with a stream that inflates
//! past [`MAX_STREAM_BYTES`], or streams that together inflate past
//! [`MAX_TOTAL_STREAM_BYTES`], is refused.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once, mpsc};
use std::time::Duration;

use pdf_extract::{ColorSpace, MediaBox, OutputDev, OutputError, Path, PathOp, Transform};

use super::{Extraction, FoundFootnote, FoundLink, LinkForm, Rendered};

/// How long one PDF may take to parse before it is given up on.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(30);

/// Largest size one stream of a PDF may inflate to.
pub const MAX_STREAM_BYTES: u64 = 64 * 1024 * 1024;
/// Largest size all the streams of a PDF may inflate to together.
pub const MAX_TOTAL_STREAM_BYTES: u64 = 512 * 1024 * 1024;
/// How many filters deep a stream is followed (`[/FlateDecode /FlateDecode]`).
const MAX_FILTER_DEPTH: usize = 4;

/// Name of the threads that parse PDFs; their panics are reported as
/// warnings, so the default panic message is not printed for them.
const PARSER_THREAD: &str = "linkrot-pdf";

/// Why a PDF could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PdfError {
    /// Encrypted with a user password.
    #[error("encrypted PDF (needs a password): cannot read its text")]
    Encrypted,
    /// Not a PDF, or a damaged one.
    #[error("not a readable PDF: {0}")]
    Corrupt(String),
    /// The parser panicked on this file.
    #[error("the PDF parser failed on this file ({0}); it may be damaged or hostile")]
    ParserPanic(String),
    /// A stream inflates past the cap: probably a decompression bomb.
    #[error("a stream inflates to more than {0} bytes; refusing to read it (decompression bomb?)")]
    TooLarge(u64),
    /// The parser ran past the time limit.
    #[error("gave up reading this PDF after {0:?} (damaged, hostile or very large)")]
    TimedOut(Duration),
}

/// Reads a PDF from its bytes with the default time limit.
pub fn extract_bytes(bytes: &[u8]) -> Result<Rendered, PdfError> {
    extract_bytes_with_limit(bytes, DEFAULT_TIME_LIMIT)
}

/// Reads a PDF from its bytes on an isolated thread, giving up after `limit`.
pub fn extract_bytes_with_limit(bytes: &[u8], limit: Duration) -> Result<Rendered, PdfError> {
    let bytes = bytes.to_vec();
    isolated(limit, move |cancelled| parse(&bytes, cancelled))
}

/// Runs `work` on its own thread under `catch_unwind`, giving up after
/// `limit`; `work` is handed a flag that is raised when it is given up on.
fn isolated<T: Send + 'static>(
    limit: Duration,
    work: impl FnOnce(&AtomicBool) -> Result<T, PdfError> + Send + 'static,
) -> Result<T, PdfError> {
    quiet_parser_panics();
    let cancelled = Arc::new(AtomicBool::new(false));
    let flag = cancelled.clone();
    let (sender, receiver) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name(PARSER_THREAD.to_string())
        .spawn(move || {
            let outcome = catch_unwind(AssertUnwindSafe(|| work(&flag)));
            let _ = sender.send(outcome);
        });
    if let Err(e) = spawned {
        return Err(PdfError::Corrupt(format!(
            "cannot start the parser thread: {e}"
        )));
    }
    match receiver.recv_timeout(limit) {
        Ok(Ok(result)) => result,
        Ok(Err(payload)) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".to_string());
            let message: String = message.chars().take(120).collect();
            Err(PdfError::ParserPanic(message))
        }
        Err(_) => {
            // The thread cannot be killed; the flag stops it at the next
            // glyph, and a loop inside the parser only costs that thread.
            cancelled.store(true, Ordering::Relaxed);
            Err(PdfError::TimedOut(limit))
        }
    }
}

/// Installs, once, a panic hook that stays silent for the parser threads and
/// defers to the previous hook for every other thread.
fn quiet_parser_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() != Some(PARSER_THREAD) {
                previous(info);
            }
        }));
    });
}

fn parse(bytes: &[u8], cancelled: &AtomicBool) -> Result<Rendered, PdfError> {
    if !bytes.starts_with(b"%PDF")
        && !bytes[..bytes.len().min(1024)]
            .windows(5)
            .any(|w| w == b"%PDF-")
    {
        return Err(PdfError::Corrupt("no %PDF header".to_string()));
    }
    check_inflated_sizes(bytes, cancelled)?;
    let mut doc = pdf_extract::Document::load_mem(bytes).map_err(|e| match e {
        pdf_extract::Error::Decryption(_) | pdf_extract::Error::InvalidPassword => {
            PdfError::Encrypted
        }
        e => PdfError::Corrupt(e.to_string()),
    })?;
    if doc.is_encrypted() && doc.decrypt("").is_err() {
        return Err(PdfError::Encrypted);
    }
    let mut collector = Collector {
        pages: Vec::new(),
        cancelled,
    };
    pdf_extract::output_doc(&doc, &mut collector).map_err(|e| match e {
        OutputError::FormatError(_) if cancelled.load(Ordering::Relaxed) => {
            PdfError::TimedOut(DEFAULT_TIME_LIMIT)
        }
        e => PdfError::Corrupt(e.to_string()),
    })?;
    let annotations = link_annotations(&doc);
    Ok(layout(collector.pages, &annotations))
}

/// Refuses a PDF whose streams inflate past [`MAX_STREAM_BYTES`] each or
/// [`MAX_TOTAL_STREAM_BYTES`] together, before lopdf inflates them unbounded.
///
/// Every `stream` keyword in the raw bytes is taken as the start of stream
/// data (a false start costs one failed inflate) and decoded the way lopdf
/// would: zlib, falling back to raw deflate after the 2-byte header, through
/// up to [`MAX_FILTER_DEPTH`] layers of Flate or ASCII85. Encrypted streams
/// do not inflate here (their bytes are ciphertext) and LZW is not decoded.
fn check_inflated_sizes(bytes: &[u8], cancelled: &AtomicBool) -> Result<(), PdfError> {
    let keyword = memchr::memmem::Finder::new(b"stream");
    let mut total = 0u64;
    let mut from = 0;
    while let Some(at) = keyword.find(&bytes[from..]) {
        let at = from + at;
        from = at + b"stream".len();
        if bytes[..at].ends_with(b"end") {
            continue;
        }
        let start = match &bytes[from..] {
            [b'\r', b'\n', ..] => from + 2,
            [b'\n' | b'\r', ..] => from + 1,
            _ => continue,
        };
        if cancelled.load(Ordering::Relaxed) {
            return Err(PdfError::TimedOut(DEFAULT_TIME_LIMIT));
        }
        let size = decoded_size(&bytes[start..], MAX_FILTER_DEPTH, cancelled)?;
        total += size;
        if total > MAX_TOTAL_STREAM_BYTES {
            return Err(PdfError::TooLarge(MAX_TOTAL_STREAM_BYTES));
        }
    }
    Ok(())
}

/// The largest size any layer of `data` decodes to, following Flate and
/// ASCII85 layers `depth` deep; an error once a layer passes the cap.
fn decoded_size(data: &[u8], depth: usize, cancelled: &AtomicBool) -> Result<u64, PdfError> {
    // Which filter lopdf will apply is in the dictionary, not read here:
    // both decodings are tried when the bytes could be either.
    let mut layers = Vec::new();
    if let Some(out) = inflate_capped(data, cancelled)? {
        layers.push(out);
    }
    if looks_like_ascii85(data) {
        layers.push(ascii85_capped(data, cancelled)?);
    }
    let mut size = 0;
    for decoded in layers {
        size = size.max(decoded.len() as u64);
        if depth > 1 && !decoded.is_empty() {
            size = size.max(decoded_size(&decoded, depth - 1, cancelled)?);
        }
    }
    Ok(size)
}

/// What `data` inflates to, as lopdf inflates it (zlib, or raw deflate after
/// the header when zlib yields nothing); `None` when it is not deflate data.
fn inflate_capped(data: &[u8], cancelled: &AtomicBool) -> Result<Option<Vec<u8>>, PdfError> {
    use std::io::Read;
    fn read_capped(mut reader: impl Read, cancelled: &AtomicBool) -> Result<Vec<u8>, PdfError> {
        let mut out = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            match reader.read(&mut chunk) {
                Ok(0) | Err(_) => return Ok(out),
                Ok(n) => {
                    if (out.len() + n) as u64 > MAX_STREAM_BYTES {
                        return Err(PdfError::TooLarge(MAX_STREAM_BYTES));
                    }
                    if cancelled.load(Ordering::Relaxed) {
                        return Err(PdfError::TimedOut(DEFAULT_TIME_LIMIT));
                    }
                    out.extend_from_slice(&chunk[..n]);
                }
            }
        }
    }
    let out = read_capped(flate2::read::ZlibDecoder::new(data), cancelled)?;
    if !out.is_empty() {
        return Ok(Some(out));
    }
    if data.len() > 2 {
        let out = read_capped(flate2::read::DeflateDecoder::new(&data[2..]), cancelled)?;
        if !out.is_empty() {
            return Ok(Some(out));
        }
    }
    Ok(None)
}

/// Whether `data` opens with ASCII85 text (an `ASCII85Decode` layer).
fn looks_like_ascii85(data: &[u8]) -> bool {
    let mut seen = 0;
    for &b in data.iter().filter(|b| !b.is_ascii_whitespace()).take(16) {
        if !(b'!'..=b'u').contains(&b) && b != b'z' {
            return false;
        }
        seen += 1;
    }
    seen > 0
}

/// ASCII85-decodes `data` up to its `~>` or first foreign byte, as lopdf
/// does, within the cap. Text that only looks like ASCII85 can run on past
/// its stream; that costs time, which the parse's time limit bounds.
fn ascii85_capped(data: &[u8], cancelled: &AtomicBool) -> Result<Vec<u8>, PdfError> {
    let mut out = Vec::new();
    let mut group = [0u8; 5];
    let mut count = 0;
    for (i, &b) in data.iter().enumerate() {
        if i % (1 << 20) == 0 && cancelled.load(Ordering::Relaxed) {
            return Err(PdfError::TimedOut(DEFAULT_TIME_LIMIT));
        }
        if b.is_ascii_whitespace() {
            continue;
        }
        if b == b'z' && count == 0 {
            out.extend_from_slice(&[0; 4]);
        } else if (b'!'..=b'u').contains(&b) {
            group[count] = b - b'!';
            count += 1;
            if count == 5 {
                let value = group.iter().fold(0u64, |v, &d| v * 85 + u64::from(d));
                out.extend_from_slice(&(value as u32).to_be_bytes());
                count = 0;
            }
        } else {
            break;
        }
        if out.len() as u64 > MAX_STREAM_BYTES {
            return Err(PdfError::TooLarge(MAX_STREAM_BYTES));
        }
    }
    Ok(out)
}

/// One glyph as drawn: position in PDF user space (y up), size, advance.
#[derive(Debug, Clone)]
struct Glyph {
    x: f64,
    y: f64,
    size: f64,
    advance: f64,
    text: String,
}

/// What was drawn on one page.
#[derive(Debug, Clone, Default)]
struct PageData {
    number: u32,
    width: f64,
    height: f64,
    bottom: f64,
    glyphs: Vec<Glyph>,
    /// Horizontal rules: (y, x from, x to).
    rules: Vec<(f64, f64, f64)>,
}

struct Collector<'a> {
    pages: Vec<PageData>,
    cancelled: &'a AtomicBool,
}

impl Collector<'_> {
    fn page(&mut self) -> Option<&mut PageData> {
        self.pages.last_mut()
    }

    fn rule(&mut self, x0: f64, y0: f64, x1: f64, y1: f64) {
        if (y0 - y1).abs() < 1.5
            && (x1 - x0).abs() > 20.0
            && let Some(page) = self.page()
        {
            page.rules.push(((y0 + y1) / 2.0, x0.min(x1), x0.max(x1)));
        }
    }
}

fn apply(ctm: &Transform, x: f64, y: f64) -> (f64, f64) {
    (
        ctm.m11 * x + ctm.m21 * y + ctm.m31,
        ctm.m12 * x + ctm.m22 * y + ctm.m32,
    )
}

impl OutputDev for Collector<'_> {
    fn begin_page(
        &mut self,
        page_num: u32,
        media_box: &MediaBox,
        _: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.pages.push(PageData {
            number: page_num,
            width: (media_box.urx - media_box.llx).abs(),
            height: (media_box.ury - media_box.lly).abs(),
            bottom: media_box.lly.min(media_box.ury),
            ..PageData::default()
        });
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        char: &str,
    ) -> Result<(), OutputError> {
        if self.cancelled.load(Ordering::Relaxed) {
            return Err(OutputError::FormatError(std::fmt::Error));
        }
        let scale = (trm.m11 * trm.m22 - trm.m12 * trm.m21).abs().sqrt();
        let size = (font_size * scale).abs();
        if let Some(page) = self.page() {
            page.glyphs.push(Glyph {
                x: trm.m31,
                y: trm.m32,
                size: if size.is_finite() { size } else { 0.0 },
                advance: width * size,
                text: char.to_string(),
            });
        }
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn stroke(
        &mut self,
        ctm: &Transform,
        _: &ColorSpace,
        _: &[f64],
        path: &Path,
    ) -> Result<(), OutputError> {
        let mut last = None;
        for op in &path.ops {
            match *op {
                PathOp::MoveTo(x, y) => last = Some(apply(ctm, x, y)),
                PathOp::LineTo(x, y) => {
                    let to = apply(ctm, x, y);
                    if let Some(from) = last {
                        self.rule(from.0, from.1, to.0, to.1);
                    }
                    last = Some(to);
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn fill(
        &mut self,
        ctm: &Transform,
        _: &ColorSpace,
        _: &[f64],
        path: &Path,
    ) -> Result<(), OutputError> {
        for op in &path.ops {
            if let PathOp::Rect(x, y, w, h) = *op {
                let (x0, y0) = apply(ctm, x, y);
                let (x1, y1) = apply(ctm, x + w, y + h);
                if (y1 - y0).abs() < 2.0 {
                    self.rule(x0, (y0 + y1) / 2.0, x1, (y0 + y1) / 2.0);
                }
            }
        }
        Ok(())
    }
}

/// A link annotation: page number, rectangle's vertical middle, URI.
#[derive(Debug, Clone)]
struct Annotation {
    page: u32,
    y: f64,
    x: f64,
    uri: String,
}

fn link_annotations(doc: &pdf_extract::Document) -> Vec<Annotation> {
    let mut found = Vec::new();
    for (number, id) in doc.get_pages() {
        let Ok(annotations) = doc.get_page_annotations(id) else {
            continue;
        };
        for annotation in annotations {
            let is_link = annotation
                .get(b"Subtype")
                .and_then(|s| s.as_name())
                .is_ok_and(|n| n == b"Link");
            if !is_link {
                continue;
            }
            let Ok(action) = annotation.get(b"A") else {
                continue;
            };
            let Ok((_, action)) = doc.dereference(action) else {
                continue;
            };
            let Ok(action) = action.as_dict() else {
                continue;
            };
            let Ok(uri) = action.get(b"URI") else {
                continue;
            };
            let Ok((_, uri)) = doc.dereference(uri) else {
                continue;
            };
            let Ok(uri) = uri.as_str() else {
                continue;
            };
            let uri = String::from_utf8_lossy(uri).trim().to_string();
            if uri.is_empty() {
                continue;
            }
            let rect: Vec<f64> = annotation
                .get(b"Rect")
                .and_then(|r| r.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|n| n.as_float().ok().map(f64::from))
                        .collect()
                })
                .unwrap_or_default();
            let (x, y) = if rect.len() == 4 {
                (rect[0].min(rect[2]), (rect[1] + rect[3]) / 2.0)
            } else {
                (0.0, f64::NAN)
            };
            found.push(Annotation {
                page: number,
                y,
                x,
                uri,
            });
        }
    }
    found
}

/// One line of text on a page.
#[derive(Debug, Clone)]
struct Line {
    y: f64,
    /// Most common glyph size on the line, by glyph count.
    size: f64,
    text: String,
    /// Size of the glyphs of the line's first word.
    first_size: f64,
    /// Whether the first word sits above the line's baseline (superscript).
    first_raised: bool,
    /// (byte offset in `text`, x) of each glyph, left to right.
    xs: Vec<(usize, f64)>,
}

fn lines_of(page: &PageData) -> Vec<Line> {
    let mut glyphs: Vec<&Glyph> = page
        .glyphs
        .iter()
        .filter(|g| g.x.is_finite() && g.y.is_finite())
        .collect();
    glyphs.sort_by(|a, b| b.y.total_cmp(&a.y).then(a.x.total_cmp(&b.x)));
    let mut groups: Vec<Vec<&Glyph>> = Vec::new();
    for glyph in glyphs {
        let tolerance = glyph.size.max(1.0) * 0.45;
        match groups.last_mut() {
            Some(group) if (group[0].y - glyph.y).abs() <= tolerance.max(group[0].size * 0.45) => {
                group.push(glyph)
            }
            _ => groups.push(vec![glyph]),
        }
    }
    groups
        .into_iter()
        .map(|mut group| {
            group.sort_by(|a, b| a.x.total_cmp(&b.x));
            let mut sizes: HashMap<i64, usize> = HashMap::new();
            for g in &group {
                *sizes.entry((g.size * 10.0).round() as i64).or_default() += 1;
            }
            let size = sizes
                .into_iter()
                .max_by_key(|&(s, n)| (n, s))
                .map_or(0.0, |(s, _)| s as f64 / 10.0);
            let baseline = group
                .iter()
                .filter(|g| (g.size - size).abs() < 0.5)
                .map(|g| g.y)
                .next()
                .unwrap_or(group[0].y);
            let mut text = String::new();
            let mut last_end: Option<f64> = None;
            let mut first_size = group[0].size;
            let mut first_raised = false;
            let mut in_first_word = true;
            let mut xs = Vec::with_capacity(group.len());
            for g in &group {
                if let Some(end) = last_end
                    && g.x > end + g.size.max(1.0) * 0.15
                    && !text.ends_with(' ')
                {
                    text.push(' ');
                }
                if g.text.trim().is_empty() || text.ends_with(' ') && !text.trim().is_empty() {
                    in_first_word = false;
                }
                if in_first_word && !g.text.trim().is_empty() {
                    first_size = first_size.min(g.size);
                    first_raised |= g.y > baseline + size * 0.2;
                }
                xs.push((text.len(), g.x));
                text.push_str(&g.text);
                last_end = Some(g.x + g.advance);
            }
            Line {
                y: group[0].y,
                size,
                text: text.replace(['\n', '\r'], " ").trim_end().to_string(),
                first_size,
                first_raised,
                xs,
            }
        })
        .filter(|l| !l.text.trim().is_empty())
        .collect()
}

/// Index of the first line of the page's notes, if it has any.
fn notes_start(page: &PageData, lines: &[Line]) -> Option<usize> {
    // A separator rule: short, in the lower part of the page, text below it.
    let rule_y = page
        .rules
        .iter()
        .filter(|(y, x0, x1)| {
            (x1 - x0) < page.width * 0.6 && *y < page.bottom + page.height * 0.6 && *y > page.bottom
        })
        // A rule just under a line of text underlines a link; it is no separator.
        .filter(|(y, _, _)| {
            !lines
                .iter()
                .any(|l| l.y > *y && l.y < *y + l.size.max(1.0) * 0.6)
        })
        .map(|(y, _, _)| *y)
        .filter(|y| lines.iter().any(|l| l.y < *y))
        .fold(None, |best: Option<f64>, y| {
            Some(best.map_or(y, |b| b.max(y)))
        });
    if let Some(rule_y) = rule_y {
        return lines.iter().position(|l| l.y < rule_y);
    }
    // Otherwise: the run of lines at the foot set smaller than the line
    // above them.
    let mut end = lines.len();
    // A page number may sit below the notes.
    while end > 0
        && is_page_number(&lines[end - 1].text)
        && lines[end - 1].y < page.bottom + page.height * 0.1
    {
        end -= 1;
    }
    let size = lines.get(end.checked_sub(1)?)?.size;
    let mut start = end - 1;
    while start > 0 && (lines[start - 1].size - size).abs() < 0.3 {
        start -= 1;
    }
    let above = lines.get(start.checked_sub(1)?)?.size;
    if size >= above * 0.92 {
        return None;
    }
    // The notes must include a numbered line.
    (start..end)
        .any(|i| note_label(&lines[i], None).is_some())
        .then_some(start)
}

fn is_page_number(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty()
        && t.len() <= 12
        && t.chars()
            .all(|c| c.is_ascii_digit() || " -–/Page".contains(c))
}

/// If a line starts a note, its label and the byte length of the label (and
/// the space after it) in the line's text.
fn note_label(line: &Line, expected: Option<usize>) -> Option<(String, usize)> {
    let text = line.text.as_str();
    let digits = text.bytes().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 4 {
        return None;
    }
    let number: usize = text[..digits].parse().ok()?;
    let rest = &text[digits..];
    let next = rest.chars().next();
    if next.is_some_and(|c| {
        c.is_ascii_digit() || c == '.' && rest[1..].starts_with(|c: char| c.is_ascii_digit())
    }) {
        return None;
    }
    let marked = line.first_raised || line.first_size < line.size * 0.9;
    let in_sequence = expected.is_none_or(|e| number == e);
    if !(marked || in_sequence) || number == 0 {
        return None;
    }
    let skip = digits + rest.len() - rest.trim_start().len();
    Some((number.to_string(), skip))
}

/// Lays pages out as lines, finds their notes and URLs, and joins the link
/// annotations to them.
fn layout(pages: Vec<PageData>, annotations: &[Annotation]) -> Rendered {
    let mut text = String::new();
    let mut extraction = Extraction::default();
    let mut expected: Option<usize> = None;

    for page in &pages {
        let page_start = text.len();
        extraction.page_starts.push(page_start);
        let lines = lines_of(page);
        let first_note = notes_start(page, &lines).unwrap_or(lines.len());
        let mut line_offsets = Vec::with_capacity(lines.len());
        for line in &lines {
            line_offsets.push(text.len());
            text.push_str(&line.text);
            text.push('\n');
        }
        let mut line_note: Vec<Option<usize>> = vec![None; lines.len()];
        // Body: one stream of lines.
        let body: Vec<(usize, usize)> = (0..first_note).map(|i| (i, 0)).collect();
        let mut page_links: Vec<FoundLink> = Vec::new();
        stream_links(&text, &lines, &line_offsets, &body, None, &mut page_links);
        // Notes: a new note at each numbered line.
        let mut current: Option<(usize, Vec<(usize, usize)>)> = None;
        let flush = |current: &mut Option<(usize, Vec<(usize, usize)>)>,
                     extraction: &mut Extraction,
                     page_links: &mut Vec<FoundLink>| {
            if let Some((index, stream)) = current.take() {
                let joined = join_stream(&text, &lines, &line_offsets, &stream);
                extraction.footnotes[index].text =
                    joined.text.split_whitespace().collect::<Vec<_>>().join(" ");
                stream_links(
                    &text,
                    &lines,
                    &line_offsets,
                    &stream,
                    Some(index),
                    page_links,
                );
            }
        };
        for i in first_note..lines.len() {
            let label = note_label(&lines[i], if current.is_some() { expected } else { None });
            match label {
                Some((label, skip)) => {
                    flush(&mut current, &mut extraction, &mut page_links);
                    let index = extraction.footnotes.len();
                    expected = label.parse::<usize>().ok().map(|n| n + 1);
                    extraction.footnotes.push(FoundFootnote {
                        label,
                        start: line_offsets[i],
                        references: Vec::new(),
                        text: String::new(),
                    });
                    current = Some((index, vec![(i, skip)]));
                    line_note[i] = Some(index);
                }
                None => match current.as_mut() {
                    Some((index, stream)) => {
                        stream.push((i, 0));
                        line_note[i] = Some(*index);
                    }
                    // Note lines before any numbered one continue the
                    // previous page's last note.
                    None => {
                        if let Some(index) = extraction.footnotes.len().checked_sub(1) {
                            current = Some((index, vec![(i, 0)]));
                            line_note[i] = Some(index);
                        }
                    }
                },
            }
        }
        flush(&mut current, &mut extraction, &mut page_links);

        // Link annotations: the authoritative URL of a text URL they cover,
        // or a link of their own on the line they sit on.
        for annotation in annotations.iter().filter(|a| a.page == page.number) {
            let line = if annotation.y.is_nan() {
                None
            } else {
                lines
                    .iter()
                    .enumerate()
                    .min_by(|a, b| {
                        (a.1.y - annotation.y)
                            .abs()
                            .total_cmp(&(b.1.y - annotation.y).abs())
                    })
                    .map(|(i, _)| i)
            };
            let matches = |link: &FoundLink| same_link(&link.raw_url, &annotation.uri);
            if let Some(existing) = page_links.iter_mut().find(|l| matches(l)) {
                if existing.form == LinkForm::Bare {
                    existing.raw_url = annotation.uri.clone();
                    existing.form = LinkForm::Inline;
                }
                continue;
            }
            let (span_start, footnote) = match line {
                Some(i) => {
                    let line_text = &lines[i].text;
                    let column =
                        annotation_column(line_text, &annotation.uri).unwrap_or_else(|| {
                            // Where the link's rectangle starts on the line.
                            lines[i]
                                .xs
                                .iter()
                                .find(|(_, x)| *x >= annotation.x - 1.0)
                                .map_or(0, |(offset, _)| *offset)
                                .min(line_text.len())
                        });
                    (line_offsets[i] + column, line_note[i])
                }
                None => (page_start, None),
            };
            page_links.push(FoundLink {
                span: span_start..span_start,
                footnote,
                raw_url: annotation.uri.clone(),
                link_text: None,
                form: LinkForm::Inline,
                derived_from: None,
            });
        }
        page_links.sort_by_key(|l| l.span.start);
        extraction.links.extend(page_links);
    }
    extraction.links.sort_by_key(|l| l.span.start);
    Rendered { text, extraction }
}

/// Where on a line a link's URL is written, if it is.
fn annotation_column(line: &str, uri: &str) -> Option<usize> {
    let bare = uri
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let probe: String = bare.chars().take(12).collect();
    if probe.is_empty() {
        return None;
    }
    line.find(&probe).map(|at| {
        let before = &line[..at];
        before
            .rfind("https://")
            .or_else(|| before.rfind("http://"))
            .filter(|&s| s + 8 >= at)
            .unwrap_or(at)
    })
}

/// Whether a URL read from the text and an annotation's URI are the same
/// link (the text may be cut at a line end or carry punctuation).
fn same_link(text_url: &str, uri: &str) -> bool {
    let norm = |s: &str| {
        s.trim_end_matches(['.', ',', ';', ')', '/'])
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .to_lowercase()
    };
    let (a, b) = (norm(text_url), norm(uri));
    a.len() >= 8
        && (a == b
            || b.starts_with(&a)
            || a.starts_with(&b)
            || a.replace('-', "") == b.replace('-', ""))
}

/// Lines of one note (or the body) joined into one text, with the rendering
/// offset each piece came from.
struct Joined {
    text: String,
    /// (offset in `text`, offset in the rendering) at the start of each piece.
    map: Vec<(usize, usize)>,
}

impl Joined {
    fn source_offset(&self, at: usize) -> usize {
        let i = self
            .map
            .partition_point(|&(j, _)| j <= at)
            .saturating_sub(1);
        let (j, s) = self.map[i];
        s + (at - j)
    }
}

/// Characters a URL may end a line with and still go on the next line.
const URL_BREAK_AFTER: &[char] = &['/', '-', '_', '.', '=', '?', '&', '#', '%', '~', ':', '+'];

fn join_stream(
    rendering: &str,
    lines: &[Line],
    offsets: &[usize],
    stream: &[(usize, usize)],
) -> Joined {
    let mut joined = Joined {
        text: String::new(),
        map: Vec::new(),
    };
    for &(i, skip) in stream {
        let line = &lines[i].text;
        let skip = skip.min(line.len());
        let piece = &line[skip..];
        let mut piece_start = 0;
        if !joined.text.is_empty() {
            match url_continues(&joined.text, piece) {
                Continuation::No => joined.text.push(' '),
                Continuation::Yes => {}
                Continuation::DropHyphen => {
                    joined.text.pop();
                }
            }
        }
        // A URL's continuation starts at the piece's first character.
        if piece.starts_with(' ') {
            piece_start = piece.len() - piece.trim_start().len();
        }
        joined
            .map
            .push((joined.text.len(), offsets[i] + skip + piece_start));
        joined.text.push_str(&piece[piece_start..]);
        debug_assert!(offsets[i] + line.len() <= rendering.len());
    }
    if joined.map.is_empty() {
        joined.map.push((0, 0));
    }
    joined
}

enum Continuation {
    No,
    Yes,
    DropHyphen,
}

/// Whether the next line goes on with a URL the text so far ends in.
fn url_continues(so_far: &str, next: &str) -> Continuation {
    let last_token = so_far.rsplit(char::is_whitespace).next().unwrap_or("");
    let in_url = last_token.contains("://") || last_token.starts_with("www.");
    if !in_url || next.starts_with(char::is_whitespace) {
        return Continuation::No;
    }
    let first_token = next.split(char::is_whitespace).next().unwrap_or("");
    if first_token.is_empty() {
        return Continuation::No;
    }
    let ends_in_break = last_token.ends_with(URL_BREAK_AFTER);
    let looks_like_url = first_token.contains(['/', '_', '=', '%', '&', '?', '#', '-'])
        || first_token
            .trim_end_matches(['.', ',', ';', ')'])
            .contains('.');
    if !(ends_in_break || looks_like_url) {
        return Continuation::No;
    }
    // A hyphen at a line break between two letters, in a URL that has no
    // other hyphen, is the typesetter's, not the URL's.
    if let Some(head) = last_token.strip_suffix('-') {
        let before = head.chars().next_back();
        let after = first_token.chars().next();
        let letters =
            before.is_some_and(|c| c.is_alphabetic()) && after.is_some_and(|c| c.is_lowercase());
        let other_hyphens = head.contains('-') || first_token.contains('-');
        if letters && !other_hyphens {
            return Continuation::DropHyphen;
        }
    }
    Continuation::Yes
}

/// Finds URLs in a stream of lines (a note, or the body) and adds them.
fn stream_links(
    rendering: &str,
    lines: &[Line],
    offsets: &[usize],
    stream: &[(usize, usize)],
    footnote: Option<usize>,
    out: &mut Vec<FoundLink>,
) {
    if stream.is_empty() {
        return;
    }
    let joined = join_stream(rendering, lines, offsets, stream);
    let mut finder = linkify::LinkFinder::new();
    finder.kinds(&[linkify::LinkKind::Url]);
    for link in finder.links(&joined.text) {
        let url = link.as_str();
        if !(url.starts_with("http://") || url.starts_with("https://") || url.starts_with("www.")) {
            continue;
        }
        let start = joined.source_offset(link.start());
        out.push(FoundLink {
            span: start..start + url.len(),
            footnote,
            raw_url: url.to_string(),
            link_text: None,
            form: LinkForm::Bare,
            derived_from: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str, size: f64) -> Line {
        Line {
            y: 0.0,
            size,
            text: text.to_string(),
            first_size: size,
            first_raised: false,
            xs: Vec::new(),
        }
    }

    #[test]
    fn urls_broken_across_lines_are_joined() {
        assert!(matches!(
            url_continues("see https://example.org/docs/", "report.pdf."),
            Continuation::Yes
        ));
        assert!(matches!(
            url_continues("at https://example.org/long_", "name_here"),
            Continuation::Yes
        ));
        assert!(matches!(
            url_continues("at https://example.org/archi-", "ved/page"),
            Continuation::DropHyphen
        ));
        assert!(matches!(
            url_continues("at https://new.oic-oci.org/Lists/x-", "y/z"),
            Continuation::Yes
        ));
        assert!(matches!(
            url_continues("at https://example.org/x", "Accessed 3 May"),
            Continuation::No
        ));
        assert!(matches!(
            url_continues("not a url", "next/line"),
            Continuation::No
        ));
    }

    #[test]
    fn note_lines_start_with_their_number() {
        assert_eq!(
            note_label(&line("3 See the report", 8.0), Some(3)),
            Some(("3".into(), 2))
        );
        assert_eq!(note_label(&line("2023, p. 5", 8.0), Some(4)), None);
        let mut raised = line("12See", 8.0);
        raised.first_raised = true;
        assert_eq!(note_label(&raised, Some(4)), Some(("12".into(), 2)));
        assert_eq!(note_label(&line("1.5 million", 8.0), None), None);
    }

    #[test]
    fn a_panicking_or_endless_parse_is_an_error_not_a_crash_or_hang() {
        let panicked = isolated::<()>(Duration::from_secs(5), |_| panic!("unexpected smask"));
        assert_eq!(
            panicked,
            Err(PdfError::ParserPanic("unexpected smask".into()))
        );
        let started = std::time::Instant::now();
        let endless = isolated::<()>(Duration::from_millis(200), |cancelled| {
            while !cancelled.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(5));
            }
            Ok(())
        });
        assert_eq!(endless, Err(PdfError::TimedOut(Duration::from_millis(200))));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn not_a_pdf_and_garbage_are_errors_not_panics() {
        assert!(matches!(extract_bytes(b"hello"), Err(PdfError::Corrupt(_))));
        let mut garbage = b"%PDF-1.7\n".to_vec();
        garbage.extend((0..4000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
        assert!(extract_bytes_with_limit(&garbage, Duration::from_secs(10)).is_err());
    }

    /// A zlib stream of `mib` MiB of zeros, built from one compressed MiB
    /// repeated, so a gigabyte costs about a megabyte.
    fn zeros_zlib(mib: u32) -> Vec<u8> {
        let mut compress = flate2::Compress::new(flate2::Compression::best(), false);
        let mut block = Vec::with_capacity(4096);
        compress
            .compress_vec(&[0; 1 << 20], &mut block, flate2::FlushCompress::Sync)
            .unwrap();
        let mut out = vec![0x78, 0xDA];
        for _ in 0..mib {
            out.extend_from_slice(&block);
        }
        // An empty final block, then the Adler-32 of the zeros.
        out.extend_from_slice(&[0x03, 0x00]);
        let b = ((u64::from(mib) << 20) % 65521) as u32;
        out.extend_from_slice(&((b << 16) | 1).to_be_bytes());
        out
    }

    fn with_stream(filter: &str, data: &[u8]) -> Vec<u8> {
        let mut pdf = format!(
            "%PDF-1.4\n1 0 obj\n<< /Length {} /Filter {filter} >>\nstream\n",
            data.len()
        )
        .into_bytes();
        pdf.extend_from_slice(data);
        pdf.extend_from_slice(b"\nendstream\nendobj\n%%EOF\n");
        pdf
    }

    #[test]
    fn the_bomb_helper_inflates_to_what_it_says() {
        let mut out = Vec::new();
        let stream = zeros_zlib(3);
        let mut decoder = flate2::read::ZlibDecoder::new(&stream[..]);
        std::io::Read::read_to_end(&mut decoder, &mut out).unwrap();
        assert_eq!(out.len(), 3 << 20);
        assert!(out.iter().all(|&b| b == 0));
    }

    #[test]
    fn streams_that_inflate_past_the_cap_are_refused() {
        let ok = AtomicBool::new(false);
        let gigabyte = zeros_zlib(1024);
        assert!(gigabyte.len() < 2 << 20, "{}", gigabyte.len());
        let too_large = Err(PdfError::TooLarge(MAX_STREAM_BYTES));
        assert_eq!(
            check_inflated_sizes(&with_stream("/FlateDecode", &gigabyte), &ok),
            too_large
        );
        // Zlib inside zlib: the outer layer is small, the inner one is not.
        let mut twice = Vec::new();
        let mut encoder = flate2::write::ZlibEncoder::new(&mut twice, flate2::Compression::best());
        std::io::Write::write_all(&mut encoder, &gigabyte).unwrap();
        encoder.finish().unwrap();
        let pdf = with_stream("[/FlateDecode /FlateDecode]", &twice);
        assert_eq!(check_inflated_sizes(&pdf, &ok), too_large);
        // ASCII85 around zlib.
        let mut a85 = Vec::new();
        for chunk in gigabyte.chunks(4) {
            let mut word = [0u8; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            let mut v = u32::from_be_bytes(word);
            let mut digits = [0u8; 5];
            for d in digits.iter_mut().rev() {
                *d = b'!' + (v % 85) as u8;
                v /= 85;
            }
            a85.extend_from_slice(&digits[..chunk.len() + 1]);
        }
        a85.extend_from_slice(b"~>");
        let pdf = with_stream("[/ASCII85Decode /FlateDecode]", &a85);
        assert_eq!(check_inflated_sizes(&pdf, &ok), too_large);
        // Many streams, each under the cap, over the total.
        let mut many = Vec::new();
        for _ in 0..(MAX_TOTAL_STREAM_BYTES / MAX_STREAM_BYTES + 1) {
            many.extend(with_stream("/FlateDecode", &zeros_zlib(60)));
        }
        assert_eq!(
            check_inflated_sizes(&many, &ok),
            Err(PdfError::TooLarge(MAX_TOTAL_STREAM_BYTES))
        );
        // Ordinary streams pass.
        assert_eq!(
            check_inflated_sizes(&with_stream("/FlateDecode", &zeros_zlib(2)), &ok),
            Ok(())
        );
        assert_eq!(
            check_inflated_sizes(b"%PDF-1.4 endstream stream", &ok),
            Ok(())
        );
    }
}
