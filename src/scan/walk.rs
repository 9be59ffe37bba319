//! Finding documents: folders, ignore files, formats, and reading files safely.
//!
//! [`scan_inputs`] turns the paths a user gave into scanned documents:
//! folders are walked with the `ignore` crate (hidden and git-ignored files
//! skipped unless asked for, entries sorted by name so runs are repeatable),
//! each document is read, checked for binary content, decoded and scanned on
//! the rayon pool, and the outcomes are handed back strictly in input order.
//! Only a small window of documents is in flight at once, so memory follows
//! the largest document, not the corpus; [`stream_inputs`] also hands a
//! document's citations out in chunks as they are made, so even the largest
//! is never held as a list of citations.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, LazyLock, Mutex};

use super::{
    Citation, Format, ScanOptions, ScannedDocument, Warning, scan_bytes_each, scan_document_each,
};

/// Default for `--max-file-size`: 64 MiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 64 * 1024 * 1024;

/// How inputs are found and read.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// Walk into hidden files and folders.
    pub hidden: bool,
    /// Ignore `.gitignore`, `.ignore` and git exclude files.
    pub no_ignore: bool,
    /// Format of standard input; sniffed from its content when `None`.
    pub stdin_format: Option<Format>,
    /// Files larger than this many bytes are skipped with a warning.
    pub max_file_size: u64,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            hidden: false,
            no_ignore: false,
            stdin_format: None,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
        }
    }
}

/// A path the user named that cannot be scanned at all.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The path does not exist.
    #[error("{0}: no such file or directory")]
    Missing(String),
    /// The path exists but cannot be examined.
    #[error("{path}: {source}")]
    Inaccessible {
        /// The path as given.
        path: String,
        /// Why.
        source: io::Error,
    },
}

/// Checks that every named path exists, before anything is scanned, so a
/// typo fails fast with exit 2 instead of a partial listing.
pub fn check_inputs(paths: &[PathBuf]) -> Result<(), InputError> {
    for path in paths {
        if is_stdin(path) {
            continue;
        }
        if let Err(err) = std::fs::metadata(path) {
            let name = path.display().to_string();
            return Err(if err.kind() == io::ErrorKind::NotFound {
                InputError::Missing(name)
            } else {
                InputError::Inaccessible {
                    path: name,
                    source: err,
                }
            });
        }
    }
    Ok(())
}

fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// One document to read: a file or standard input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Standard input, named `-`.
    Stdin,
    /// A file; `named` when the user gave it explicitly (then any extension
    /// is read and its format sniffed), not found by walking a folder.
    File {
        /// The path.
        path: PathBuf,
        /// Given on the command line rather than found in a folder.
        named: bool,
    },
}

impl Input {
    /// The document's name in reports: the path as given, or `-`.
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "-".to_string(),
            Input::File { path, .. } => path.display().to_string(),
        }
    }
}

/// One step of the walk: a document to scan, or a problem with a folder.
#[derive(Debug)]
pub enum Found {
    /// A document.
    Document(Input),
    /// A folder entry that could not be read, or a folder with no documents.
    Problem(Warning),
}

/// Extensions of the formats linkrot reads.
fn format_by_extension(path: &Path) -> Option<Format> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "md" | "markdown" | "mdown" | "mkd" | "mkdn" | "mdwn" => Some(Format::Markdown),
        "html" | "htm" | "xhtml" => Some(Format::Html),
        "txt" | "text" => Some(Format::Text),
        "docx" => Some(Format::Docx),
        "pdf" => Some(Format::Pdf),
        "tex" | "latex" | "ltx" => Some(Format::Latex),
        "nxml" | "jats" => Some(Format::Jats),
        _ => None,
    }
}

/// Whether a LaTeX source: a document class or a document environment.
fn looks_like_latex(text: &str) -> bool {
    let mut end = text.len().min(64 * 1024);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = &text[..end];
    head.contains("\\documentclass") || head.contains("\\begin{document}")
}

/// Whether an XML text is a JATS article (its DTD or root says so).
fn looks_like_jats(text: &str) -> bool {
    let mut end = text.len().min(4096);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = &text[..end];
    head.contains("JATS")
        || head.contains("NLM//DTD")
        || (head.contains("<article") && head.contains("dtd-version"))
}

/// The binary formats, told by their first bytes: a PDF header anywhere in
/// the first KiB, or a zip (or an encrypted Office file) with a Word part.
pub fn binary_format(bytes: &[u8], path: Option<&Path>) -> Option<Format> {
    const OLE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    let head = &bytes[..bytes.len().min(1024)];
    if memchr::memmem::find(head, b"%PDF-").is_some() {
        return Some(Format::Pdf);
    }
    let named_docx = path.and_then(format_by_extension) == Some(Format::Docx);
    if bytes.starts_with(b"PK\x03\x04")
        && (named_docx || memchr::memmem::find(bytes, b"word/document.xml").is_some())
    {
        return Some(Format::Docx);
    }
    // A password-protected .docx is an OLE file: read it as DOCX so the
    // warning says it is encrypted rather than "binary".
    if bytes.starts_with(OLE) && named_docx {
        return Some(Format::Docx);
    }
    None
}

/// Document formats found in folders that linkrot cannot read yet: listed
/// (and reported as skipped) rather than passed over in silence.
fn is_unsupported_document(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "doc" | "odt" | "epub"))
}

/// Every document the paths name, in order: named files and stdin as given,
/// folders walked recursively in file-name order.
pub fn find_documents<'a>(
    paths: &'a [PathBuf],
    options: &'a WalkOptions,
) -> impl Iterator<Item = Found> + 'a {
    paths
        .iter()
        .flat_map(move |path| -> Box<dyn Iterator<Item = Found>> {
            if is_stdin(path) {
                return Box::new(std::iter::once(Found::Document(Input::Stdin)));
            }
            if !path.is_dir() {
                return Box::new(std::iter::once(Found::Document(Input::File {
                    path: path.clone(),
                    named: true,
                })));
            }
            Box::new(walk_folder(path, options))
        })
}

fn walk_folder(root: &Path, options: &WalkOptions) -> impl Iterator<Item = Found> + use<> {
    let respect_ignores = !options.no_ignore;
    let walker = ignore::WalkBuilder::new(root)
        .hidden(!options.hidden)
        .ignore(respect_ignores)
        .git_ignore(respect_ignores)
        .git_global(respect_ignores)
        .git_exclude(respect_ignores)
        .parents(respect_ignores)
        // A folder of documents is often not a git checkout; its .gitignore
        // still says what its owner wants left out.
        .require_git(false)
        // A symlinked document is still a document; ignore detects loops,
        // and a dangling link becomes a warning instead of a silent skip.
        .follow_links(true)
        .sort_by_file_name(|a, b| a.cmp(b))
        .build();
    let root_name: Arc<str> = root.display().to_string().into();
    let mut found_any = false;
    let mut walker = walker.fuse();
    std::iter::from_fn(move || {
        for entry in walker.by_ref() {
            match entry {
                Ok(entry) => {
                    let is_file = entry.file_type().is_some_and(|t| t.is_file());
                    let path = entry.path();
                    if is_file
                        && (format_by_extension(path).is_some() || is_unsupported_document(path))
                    {
                        found_any = true;
                        return Some(Found::Document(Input::File {
                            path: entry.into_path(),
                            named: false,
                        }));
                    }
                }
                Err(err) => {
                    return Some(Found::Problem(walk_warning(&root_name, err)));
                }
            }
        }
        if !found_any {
            found_any = true;
            return Some(Found::Problem(Warning {
                document: root_name.clone(),
                line: None,
                message:
                    "no documents found (looked for .md, .markdown, .txt, .html, .htm, .xhtml)"
                        .to_string(),
            }));
        }
        None
    })
}

fn walk_warning(root: &Arc<str>, err: ignore::Error) -> Warning {
    // ignore wraps errors with the path (and depth) they concern; the inner
    // io::Error's own text repeats the path, so the OS message is used.
    fn unwrap(err: &ignore::Error) -> (Option<&Path>, &ignore::Error) {
        match err {
            ignore::Error::WithPath { path, err } => (Some(path), unwrap(err).1),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                unwrap(err)
            }
            other => (None, other),
        }
    }
    let (path, inner) = unwrap(&err);
    let os_code = inner.io_error().and_then(|io| {
        // walkdir's error sits inside the io::Error; the OS error below it.
        let mut at: Option<&(dyn std::error::Error + 'static)> = Some(io);
        while let Some(e) = at {
            if let Some(code) = e
                .downcast_ref::<io::Error>()
                .and_then(io::Error::raw_os_error)
            {
                return Some(code);
            }
            at = e.source();
        }
        None
    });
    let message = match os_code {
        Some(code) => format!("cannot read: {}", io::Error::from_raw_os_error(code)),
        None => err.to_string(),
    };
    Warning {
        document: path.map_or_else(|| root.clone(), |p| p.display().to_string().into()),
        line: None,
        message,
    }
}

/// A document read from disk or stdin and decoded to text.
#[derive(Debug)]
pub struct ReadDocument {
    /// The text, decoded (lossily when the bytes were not valid UTF-8);
    /// empty for a binary format.
    pub text: String,
    /// The raw bytes of a binary format (DOCX, PDF), scanned with
    /// [`crate::scan::scan_bytes`]; `None` for text.
    pub bytes: Option<Vec<u8>>,
    /// The format to scan it as.
    pub format: Format,
    /// Problems met while reading: invalid UTF-8.
    pub warnings: Vec<Warning>,
}

/// Reads and decodes one document. Returns the reason as a warning when the
/// document must be skipped (unreadable, too large, binary).
pub fn read_document(input: &Input, options: &WalkOptions) -> Result<ReadDocument, Warning> {
    let name: Arc<str> = input.name().into();
    let skip = |message: String| Warning {
        document: name.clone(),
        line: None,
        message,
    };
    let limit = options.max_file_size;
    let too_large = |size: u64| {
        skip(format!(
            "skipped: {} is over the size limit of {} (--max-file-size)",
            human_size(size),
            human_size(limit)
        ))
    };
    let bytes = match input {
        Input::Stdin => read_limited(io::stdin().lock(), limit)
            .map_err(|e| skip(format!("cannot read standard input: {e}")))?,
        Input::File { path, .. } => {
            let file = std::fs::File::open(path).map_err(|e| skip(format!("cannot read: {e}")))?;
            let size = file.metadata().map(|m| m.len()).unwrap_or(0);
            if size > limit {
                return Err(too_large(size));
            }
            read_limited(file, limit).map_err(|e| skip(format!("cannot read: {e}")))?
        }
    };
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    let path = match input {
        Input::File { path, .. } => Some(path.as_path()),
        Input::Stdin => None,
    };
    let stdin_binary =
        matches!(input, Input::Stdin) && options.stdin_format.is_some_and(Format::is_binary);
    if let Some(format) =
        binary_format(&bytes, path).or(options.stdin_format.filter(|_| stdin_binary))
    {
        return Ok(ReadDocument {
            text: String::new(),
            bytes: Some(bytes),
            format,
            warnings: Vec::new(),
        });
    }
    let (text, warnings) = decode(bytes, &name).map_err(skip)?;
    let format = match input {
        Input::Stdin => options.stdin_format.unwrap_or_else(|| sniff(&text)),
        Input::File { path, .. } => match format_by_extension(path) {
            Some(Format::Text) if looks_like_markdown(&text) => Format::Markdown,
            Some(format) => format,
            None if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("xml"))
                && looks_like_jats(&text) =>
            {
                Format::Jats
            }
            None => sniff(&text),
        },
    };
    Ok(ReadDocument {
        text,
        bytes: None,
        format,
        warnings,
    })
}

/// Reads at most `limit + 1` bytes, so an oversized stream is detected
/// without holding more of it.
fn read_limited(reader: impl Read, limit: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = "B";
    for u in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = u;
    }
    format!("{value:.1} {unit}")
}

/// Turns a document's bytes into text, or says why it is not text.
fn decode(bytes: Vec<u8>, name: &Arc<str>) -> Result<(String, Vec<Warning>), String> {
    // UTF-16 text (Windows editors) starts with a byte-order mark and is full
    // of NUL bytes: recognise it before the binary test.
    if let Some(text) = decode_utf16(&bytes) {
        return Ok((text, Vec::new()));
    }
    // Some magic numbers are two printable letters ("MZ", "BM"): trust a
    // match only when the start of the file is not clean text, except for
    // PDF, whose `%PDF-` header no text document starts with.
    let head = &bytes[..bytes.len().min(64 * 1024)];
    let start = &head[..head.len().min(8 * 1024)];
    let valid_utf8 = match simdutf8::compat::from_utf8(start) {
        Ok(_) => true,
        // A character cut in half by the 8 KiB window is still text.
        Err(err) => err.error_len().is_none(),
    };
    let clean_text = valid_utf8 && memchr::memchr(0, start).is_none();
    if let Some(kind) = infer::get(&bytes)
        && kind.matcher_type() != infer::MatcherType::Text
        && (!clean_text || kind.mime_type() == "application/pdf")
    {
        return Err(format!("skipped: binary file ({})", kind.mime_type()));
    }
    if memchr::memchr(0, head).is_some() {
        return Err("skipped: binary file (contains NUL bytes)".to_string());
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    // One validation pass, SIMD-accelerated: std's validation is slow on
    // text with scattered non-ASCII letters, and `String::from_utf8` after a
    // first check would validate twice. The copy costs less than either.
    match simdutf8::compat::from_utf8(body) {
        Ok(text) => Ok((text.to_owned(), Vec::new())),
        Err(err) => {
            let bad = &body[..err.valid_up_to()];
            let line = memchr::memchr_iter(b'\n', bad).count() + 1;
            let warning = Warning {
                document: name.clone(),
                line: Some(line),
                message: "invalid UTF-8; decoded with replacement characters (U+FFFD)".to_string(),
            };
            Ok((String::from_utf8_lossy(body).into_owned(), vec![warning]))
        }
    }
}

fn decode_utf16(bytes: &[u8]) -> Option<String> {
    let (body, little_endian) = match bytes {
        [0xFF, 0xFE, rest @ ..] => (rest, true),
        [0xFE, 0xFF, rest @ ..] => (rest, false),
        _ => return None,
    };
    let units: Vec<u16> = body
        .chunks_exact(2)
        .map(|pair| {
            if little_endian {
                u16::from_le_bytes([pair[0], pair[1]])
            } else {
                u16::from_be_bytes([pair[0], pair[1]])
            }
        })
        .collect();
    Some(String::from_utf16_lossy(&units))
}

/// Guesses the format of a text with no telling extension.
pub fn sniff(text: &str) -> Format {
    if looks_like_jats(text) {
        Format::Jats
    } else if looks_like_latex(text) {
        Format::Latex
    } else if looks_like_html(text) {
        Format::Html
    } else if looks_like_markdown(text) {
        Format::Markdown
    } else {
        Format::Text
    }
}

fn looks_like_html(text: &str) -> bool {
    let head: String = text
        .trim_start()
        .chars()
        .take(1024)
        .collect::<String>()
        .to_ascii_lowercase();
    head.starts_with("<!doctype html")
        || head.starts_with("<html")
        || (head.starts_with("<?xml") && head.contains("<html"))
        || head.contains("<body")
        || head.contains("<head>")
}

/// Markdown's marks: footnote references and definitions, Pandoc inline
/// notes, converted-PDF `<sup>N</sup>` notes, inline and reference links,
/// autolinks, ATX headings.
static MARKDOWN_SIGNS: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r"(?m)\[\^[^\]\s]+\]|\^\[|^[ \t]*<sup>\s*\d+\s*</sup>|\]\([^)\s]*\)|^[ \t]{0,3}\[[^\]]+\]:[ \t]*\S|<https?://[^>\s]+>|^#{1,6}[ \t]+\S",
    )
    .expect("static regex")
});

/// Whether a text (named `.txt` or with no extension) is really Markdown.
pub fn looks_like_markdown(text: &str) -> bool {
    MARKDOWN_SIGNS.is_match(text)
}

/// What became of one step of the walk.
#[derive(Debug)]
pub struct Outcome {
    /// The document (or folder) it is about.
    pub document: Arc<str>,
    /// The scanned document, unless it was skipped.
    pub scanned: Option<ScannedDocument>,
    /// Problems to tell the user about, in the order met.
    pub warnings: Vec<Warning>,
}

/// Citations handed from a scanning thread to the output at a time.
/// Measured with bench_check (status codes only, one document): at 200,000
/// URLs, with up to 24 pieces waiting in the channel, chunks of 1,024 peaked
/// at 132 MiB, 4,096 at 147, 16,384 at 153 and 65,536 at 169; with at most
/// four waiting, 1,024 to 8,192 all peaked at 130 MiB. At 20,000 URLs,
/// 4,096 peaks as low as one piece per document (47-49 MiB) once each
/// chunk after the first is sized up front (grown by doubling, 49-52 MiB).
const CHUNK: usize = 4096;

/// One step of a streamed walk (see [`stream_inputs`]).
#[derive(Debug)]
pub enum Piece {
    /// The next citations of the current document, in document order.
    Citations(Vec<Citation>),
    /// The end of a document (or of a skipped path): its outcome, without
    /// the citations, which came before in [`Piece::Citations`].
    Done(Outcome),
}

/// Reads and scans one found path, handing its citations to `send` in
/// chunks as they are made.
fn process(
    found: Found,
    walk: &WalkOptions,
    scan: &ScanOptions,
    send: &mut dyn FnMut(Vec<Citation>),
) -> Outcome {
    let input = match found {
        Found::Document(input) => input,
        Found::Problem(warning) => {
            return Outcome {
                document: warning.document.clone(),
                scanned: None,
                warnings: vec![warning],
            };
        }
    };
    let name: Arc<str> = input.name().into();
    let read = match read_document(&input, walk) {
        Ok(read) => read,
        Err(warning) => {
            return Outcome {
                document: name,
                scanned: None,
                warnings: vec![warning],
            };
        }
    };
    // Citations handed out before a scanner failure stay in the output.
    let mut sent = 0usize;
    let scanned = catch_unwind(AssertUnwindSafe(|| {
        let mut chunk = Vec::new();
        let mut sink = |citation| {
            chunk.push(citation);
            if chunk.len() == CHUNK {
                send(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK)));
                sent += CHUNK;
            }
        };
        let scanned = match &read.bytes {
            Some(bytes) => scan_bytes_each(name.clone(), bytes, read.format, scan, &mut sink),
            None => scan_document_each(name.clone(), &read.text, read.format, scan, &mut sink),
        };
        if !chunk.is_empty() {
            send(chunk);
        }
        scanned
    }));
    match scanned {
        Ok(mut scanned) => {
            let mut warnings = read.warnings;
            warnings.append(&mut scanned.warnings);
            Outcome {
                document: name,
                scanned: Some(scanned),
                warnings,
            }
        }
        Err(_) => Outcome {
            document: name.clone(),
            scanned: None,
            warnings: vec![Warning {
                document: name,
                line: None,
                message: if sent == 0 {
                    format!(
                        "skipped: the {} scanner failed on this document (a bug in linkrot; please report it)",
                        read.format
                    )
                } else {
                    format!(
                        "the {} scanner failed partway through this document: only its first {sent} citations are listed (a bug in linkrot; please report it)",
                        read.format
                    )
                },
            }],
        },
    }
}

/// Lets the walker run ahead of the output by at most `window` documents.
struct Gate {
    emitted: Mutex<usize>,
    moved: Condvar,
    stop: AtomicBool,
    window: usize,
}

impl Gate {
    /// Waits until document `seq` may start; false when the run is stopping.
    fn admit(&self, seq: usize) -> bool {
        let mut emitted = self.emitted.lock().unwrap_or_else(|e| e.into_inner());
        while seq >= *emitted + self.window && !self.stop.load(Ordering::Relaxed) {
            emitted = self.moved.wait(emitted).unwrap_or_else(|e| e.into_inner());
        }
        !self.stop.load(Ordering::Relaxed)
    }

    fn advance(&self, emitted: usize) {
        *self.emitted.lock().unwrap_or_else(|e| e.into_inner()) = emitted;
        self.moved.notify_all();
    }

    fn halt(&self) {
        self.stop.store(true, Ordering::Relaxed);
        let _guard = self.emitted.lock().unwrap_or_else(|e| e.into_inner());
        self.moved.notify_all();
    }
}

/// Scans every document the paths name, in parallel on the rayon pool, and
/// hands each [`Outcome`] to `emit` in input order as soon as it and all
/// before it are done. Stops early (and returns the error) when `emit` fails.
///
/// At most a few documents per core are read or held at once, whatever the
/// size of the corpus.
pub fn scan_inputs<E, F>(
    paths: &[PathBuf],
    walk: &WalkOptions,
    scan: &ScanOptions,
    mut emit: F,
) -> Result<(), E>
where
    F: FnMut(Outcome) -> Result<(), E>,
{
    let mut citations = Vec::new();
    stream_inputs(paths, walk, scan, |piece| match piece {
        Piece::Citations(mut chunk) => {
            citations.append(&mut chunk);
            Ok(())
        }
        Piece::Done(mut outcome) => {
            if let Some(scanned) = &mut outcome.scanned {
                scanned.citations = std::mem::take(&mut citations);
            }
            emit(outcome)
        }
    })
}

/// [`scan_inputs`], handing out each document's citations in chunks as
/// they are made, then its [`Outcome`] (whose `citations` is empty): the
/// document being output streams through, so a document with 200,000
/// citations is never held as 200,000 citations. Documents scanned ahead of
/// it are held until their turn.
pub fn stream_inputs<E, F>(
    paths: &[PathBuf],
    walk: &WalkOptions,
    scan: &ScanOptions,
    mut emit: F,
) -> Result<(), E>
where
    F: FnMut(Piece) -> Result<(), E>,
{
    let gate = Gate {
        emitted: Mutex::new(0),
        moved: Condvar::new(),
        stop: AtomicBool::new(false),
        window: rayon::current_num_threads() * 2 + 2,
    };
    // A scan that outruns the output waits instead of piling up chunks.
    let (tx, rx) = mpsc::sync_channel::<(usize, Piece)>(gate.window);
    std::thread::scope(|threads| {
        let gate = &gate;
        threads.spawn(move || {
            // The walk runs on its own thread; in_place_scope keeps this
            // thread (which blocks on the gate) out of the rayon pool.
            rayon::in_place_scope(|pool| {
                for (seq, found) in find_documents(paths, walk).enumerate() {
                    if !gate.admit(seq) {
                        break;
                    }
                    let tx = tx.clone();
                    pool.spawn(move |_| {
                        let mut send = |chunk| {
                            let _ = tx.send((seq, Piece::Citations(chunk)));
                        };
                        let outcome = process(found, walk, scan, &mut send);
                        let _ = tx.send((seq, Piece::Done(outcome)));
                    });
                }
            });
        });
        // Owned here, the receiver goes when this returns early, which
        // wakes any scanning thread blocked on a full channel.
        let rx = rx;
        let mut pending: BTreeMap<usize, Vec<Piece>> = BTreeMap::new();
        let mut next = 0usize;
        // Hands out the current document's pieces; true once it ended.
        let mut emit_run = |pieces: &mut dyn Iterator<Item = Piece>| -> Result<bool, E> {
            let mut ended = false;
            for piece in pieces {
                ended = matches!(piece, Piece::Done(_));
                if let Err(err) = emit(piece) {
                    gate.halt();
                    return Err(err);
                }
            }
            Ok(ended)
        };
        for (seq, piece) in rx.iter() {
            if seq != next {
                pending.entry(seq).or_default().push(piece);
                continue;
            }
            let mut ended = emit_run(&mut std::iter::once(piece))?;
            // A finished document lets the ones scanned ahead of it out.
            while ended {
                next += 1;
                gate.advance(next);
                let mut held = pending.remove(&next).unwrap_or_default().into_iter();
                ended = emit_run(&mut held)?;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_pick_formats() {
        assert_eq!(
            format_by_extension(Path::new("a.MD")),
            Some(Format::Markdown)
        );
        assert_eq!(
            format_by_extension(Path::new("a.xhtml")),
            Some(Format::Html)
        );
        assert_eq!(format_by_extension(Path::new("a.text")), Some(Format::Text));
        assert_eq!(format_by_extension(Path::new("a.rs")), None);
        assert_eq!(format_by_extension(Path::new("Makefile")), None);
    }

    #[test]
    fn sniffing_tells_html_markdown_and_text_apart() {
        assert_eq!(sniff("  <!DOCTYPE html><p>x"), Format::Html);
        assert_eq!(
            sniff(
                "<?xml version=\"1.0\"?>\n<!DOCTYPE article PUBLIC \"-//NLM//DTD JATS (Z39.96) Journal Publishing DTD v1.2//EN\" \"x.dtd\">"
            ),
            Format::Jats
        );
        assert_eq!(
            sniff("\\documentclass{article}\n\\begin{document}"),
            Format::Latex
        );
        assert_eq!(sniff("Text[^1].\n\n[^1]: Note."), Format::Markdown);
        assert_eq!(sniff("Body\n<sup>1</sup> A note"), Format::Markdown);
        assert_eq!(sniff("See [the report](https://x.org)."), Format::Markdown);
        assert_eq!(
            sniff("Plain text.\n\nNotes\n1. https://x.org"),
            Format::Text
        );
    }

    fn decode_str(bytes: &[u8]) -> Result<(String, Vec<Warning>), String> {
        decode(bytes.to_vec(), &Arc::from("doc"))
    }

    #[test]
    fn invalid_utf8_is_decoded_lossily_with_its_line() {
        let (text, warnings) = decode_str(b"one\ntwo\nth\xFFree\n").unwrap();
        assert_eq!(text, "one\ntwo\nth\u{FFFD}ree\n");
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].line, Some(3));
    }

    #[test]
    fn binary_content_is_refused() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert!(decode_str(png).unwrap_err().contains("image/png"));
        assert!(
            decode_str(b"%PDF-1.7\n")
                .unwrap_err()
                .contains("application/pdf")
        );
        assert!(decode_str(b"abc\0def").unwrap_err().contains("NUL"));
        // "MZ" is an executable's magic number, but this is clean text.
        assert_eq!(
            decode_str(b"MZ Bank annual report").unwrap().0,
            "MZ Bank annual report"
        );
    }

    #[test]
    fn byte_order_marks_are_honoured() {
        assert_eq!(decode_str(b"\xEF\xBB\xBFhi").unwrap().0, "hi");
        assert_eq!(decode_str(b"\xFF\xFEh\0i\0").unwrap().0, "hi");
        assert_eq!(decode_str(b"\xFE\xFF\0h\0i").unwrap().0, "hi");
    }

    #[test]
    fn a_txt_file_that_is_markdown_is_read_as_markdown() {
        let dir = tempfile::tempdir().unwrap();
        let read = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            let input = Input::File { path, named: true };
            read_document(&input, &WalkOptions::default())
                .unwrap()
                .format
        };
        assert_eq!(
            read("notes.txt", "Body[^1].\n\n[^1]: A note."),
            Format::Markdown
        );
        assert_eq!(
            read("pdf.txt", "Body\n<sup>1</sup> A note"),
            Format::Markdown
        );
        assert_eq!(read("plain.txt", "Body.\n\nNotes\n1. A note"), Format::Text);
        assert_eq!(read("page.md", "<!DOCTYPE html><p>x"), Format::Markdown);
        assert_eq!(read("page", "<!DOCTYPE html><p>x"), Format::Html);
    }

    #[test]
    fn outcomes_come_back_in_input_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut paths = Vec::new();
        for i in 0..40 {
            let path = dir.path().join(format!("doc{i:02}.txt"));
            // Vary sizes so documents finish out of order.
            std::fs::write(&path, "x ".repeat((40 - i) * 5000)).unwrap();
            paths.push(path);
        }
        let mut seen = Vec::new();
        scan_inputs::<(), _>(
            &paths,
            &WalkOptions::default(),
            &ScanOptions::default(),
            |o| {
                seen.push(o.document.to_string());
                Ok(())
            },
        )
        .unwrap();
        let expected: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        assert_eq!(seen, expected);
    }

    /// What a streamed walk handed out, in order: each document's chunk
    /// sizes, then its name when it ended.
    fn stream_log(paths: &[PathBuf]) -> Vec<String> {
        let mut log = Vec::new();
        stream_inputs::<(), _>(
            paths,
            &WalkOptions::default(),
            &ScanOptions::default(),
            |piece| {
                log.push(match piece {
                    Piece::Citations(chunk) => format!("{} citations", chunk.len()),
                    Piece::Done(outcome) => format!("end {}", outcome.document),
                });
                Ok(())
            },
        )
        .unwrap();
        log
    }

    /// A document with `notes` footnotes, one URL each.
    fn notes_document(notes: usize) -> String {
        let mut text = String::from("Body.\n\n");
        for i in 1..=notes {
            text.push_str(&format!("[^{i}]: Source <https://a.example/{i}>.\n"));
        }
        text
    }

    #[test]
    fn a_large_document_streams_out_in_chunks_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut paths = Vec::new();
        for (name, notes) in [("big.md", 2 * CHUNK + 5), ("small.md", 3), ("none.md", 0)] {
            let path = dir.path().join(name);
            std::fs::write(&path, notes_document(notes)).unwrap();
            paths.push(path);
        }
        let name = |i: usize| paths[i].display().to_string();
        assert_eq!(
            stream_log(&paths),
            [
                format!("{CHUNK} citations"),
                format!("{CHUNK} citations"),
                "5 citations".to_string(),
                format!("end {}", name(0)),
                "3 citations".to_string(),
                format!("end {}", name(1)),
                format!("end {}", name(2)),
            ]
        );
        // Put back together, the chunks are the document's citations.
        let mut streamed = Vec::new();
        stream_inputs::<(), _>(
            &paths[..1],
            &WalkOptions::default(),
            &ScanOptions::default(),
            |piece| {
                if let Piece::Citations(chunk) = piece {
                    streamed.extend(chunk.into_iter().map(|c| (c.line, c.url)));
                }
                Ok(())
            },
        )
        .unwrap();
        let whole = super::super::scan_document(
            Arc::from(name(0)),
            &notes_document(2 * CHUNK + 5),
            Format::Markdown,
            &ScanOptions::default(),
        );
        let whole: Vec<_> = whole
            .citations
            .into_iter()
            .map(|c| (c.line, c.url))
            .collect();
        assert_eq!(streamed, whole);
    }

    #[test]
    fn a_failure_after_a_chunk_went_out_says_what_was_listed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.md");
        std::fs::write(&path, notes_document(CHUNK + 1)).unwrap();
        let found = Found::Document(Input::File { path, named: true });
        let mut calls = 0;
        let outcome = process(
            found,
            &WalkOptions::default(),
            &ScanOptions::default(),
            &mut |_| {
                calls += 1;
                assert!(calls < 2, "a failure after the first chunk");
            },
        );
        assert!(outcome.scanned.is_none());
        assert_eq!(outcome.warnings.len(), 1);
        assert!(
            outcome.warnings[0]
                .message
                .contains(&format!("only its first {CHUNK} citations are listed")),
            "{}",
            outcome.warnings[0].message
        );
    }

    #[test]
    fn an_emit_error_mid_document_ends_a_streamed_run() {
        // Many large documents fill the bounded channel while the output
        // fails on the first chunk: the run must end, not wait forever.
        let dir = tempfile::tempdir().unwrap();
        let text = notes_document(2 * CHUNK);
        for i in 0..4 {
            std::fs::write(dir.path().join(format!("{i:02}.md")), &text).unwrap();
        }
        let (done, finished) = mpsc::channel();
        let root = dir.path().to_path_buf();
        std::thread::spawn(move || {
            let result = stream_inputs(
                &[root],
                &WalkOptions::default(),
                &ScanOptions::default(),
                |_| Err("stop"),
            );
            let _ = done.send(result);
        });
        let result = finished
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the run ended");
        assert_eq!(result, Err("stop"));
    }

    #[test]
    fn an_emit_error_stops_the_run() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..50 {
            std::fs::write(dir.path().join(format!("{i:02}.md")), "x").unwrap();
        }
        let mut count = 0;
        let result = scan_inputs(
            &[dir.path().to_path_buf()],
            &WalkOptions::default(),
            &ScanOptions::default(),
            |_| {
                count += 1;
                if count == 3 { Err("stop") } else { Ok(()) }
            },
        );
        assert_eq!(result, Err("stop"));
        assert_eq!(count, 3);
    }
}
