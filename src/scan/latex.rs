//! LaTeX: `\footnote{…}`, `\footnotetext{…}`, `\url{}`, `\href{}{}`, and
//! `\cite{key}` inside a note resolved through the `.bib` files the document
//! names.
//!
//! A small scanner rather than a TeX engine: it matches braces with a
//! counter (never recursion, so deep nesting cannot overflow the stack),
//! skips `%` comments (but not an escaped `\%`) and verbatim text, and
//! numbers footnotes the way LaTeX's `footnote` counter does.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::identifiers::IdentifierKind;
use super::{Extraction, FoundFootnote, FoundLink, LinkForm};

/// Largest `.bib` file read.
pub const MAX_BIB_BYTES: u64 = 16 * 1024 * 1024;

/// Commands whose argument is a citation key list.
const CITE_COMMANDS: &[&str] = &[
    "cite",
    "citep",
    "citet",
    "citealp",
    "citealt",
    "citeauthor",
    "citeyear",
    "parencite",
    "textcite",
    "autocite",
    "smartcite",
    "supercite",
    "fullcite",
    "footcite",
    "footfullcite",
    "footcitetext",
    "nocite",
];

/// Extracts notes and links, without reading any `.bib` file.
pub fn extract(source: &str) -> Extraction {
    extract_with_bibliography(source, None)
}

/// Extracts notes and links; `\cite` keys in notes are looked up in the
/// `.bib` files named by `\bibliography`/`\addbibresource`, relative to
/// `base_dir` (the `.tex` file's folder). With no `base_dir`, citations are
/// left unresolved.
pub fn extract_with_bibliography(source: &str, base_dir: Option<&Path>) -> Extraction {
    let mut scanner = Scanner::new(source);
    scanner.run();
    let Scanner {
        mut extraction,
        cites,
        bib_files,
        ..
    } = scanner;
    if let Some(dir) = base_dir {
        resolve_citations(&mut extraction, &cites, &bib_files, dir);
    }
    extraction.links.sort_by_key(|l| l.span.start);
    extraction
}

/// One `\cite{keys}` inside a note.
#[derive(Debug, Clone)]
struct Cite {
    span: Range<usize>,
    footnote: usize,
    keys: Vec<String>,
}

struct Scanner<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    extraction: Extraction,
    cites: Vec<Cite>,
    bib_files: Vec<(usize, String)>,
    counter: usize,
    /// The note being read and the offset where its braces close.
    note: Option<(usize, usize)>,
    /// Plain text of the note being read.
    note_text: String,
}

impl<'a> Scanner<'a> {
    fn new(src: &'a str) -> Self {
        Scanner {
            src,
            bytes: src.as_bytes(),
            pos: 0,
            extraction: Extraction::default(),
            cites: Vec::new(),
            bib_files: Vec::new(),
            counter: 0,
            note: None,
            note_text: String::new(),
        }
    }

    fn warn(&mut self, at: usize, message: String) {
        self.extraction.warnings.push((Some(at), message));
    }

    fn run(&mut self) {
        let mut text_start = 0;
        while self.pos < self.bytes.len() {
            if let Some((_, end)) = self.note
                && self.pos >= end
            {
                self.flush_text(text_start, end);
                self.close_note();
                self.pos = self.pos.max(end + 1);
                text_start = self.pos;
                continue;
            }
            match self.bytes[self.pos] {
                b'%' => {
                    self.flush_text(text_start, self.pos);
                    self.pos = self.line_end(self.pos);
                    text_start = self.pos;
                }
                b'\\' => {
                    self.flush_text(text_start, self.pos);
                    self.command();
                    text_start = self.pos;
                }
                b'{' | b'}' => {
                    self.flush_text(text_start, self.pos);
                    self.pos += 1;
                    text_start = self.pos;
                }
                b'~' => {
                    self.flush_text(text_start, self.pos);
                    self.note_text.push(' ');
                    self.pos += 1;
                    text_start = self.pos;
                }
                _ => self.pos += 1,
            }
        }
        let end = self.bytes.len();
        self.flush_text(text_start, end);
        // An unclosed note was reported when it was opened.
        if self.note.is_some() {
            self.close_note();
        }
    }

    fn line_end(&self, from: usize) -> usize {
        memchr::memchr(b'\n', &self.bytes[from..]).map_or(self.bytes.len(), |i| from + i)
    }

    /// Plain text between commands: note text and bare URLs.
    fn flush_text(&mut self, start: usize, end: usize) {
        if start >= end {
            return;
        }
        let text = &self.src[start..end];
        if self.note.is_some() {
            self.note_text.push_str(text);
        }
        let mut finder = linkify::LinkFinder::new();
        finder.kinds(&[linkify::LinkKind::Url]);
        for link in finder.links(text) {
            let url = link.as_str();
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                continue;
            }
            self.push_link(
                start + link.start()..start + link.end(),
                url.to_string(),
                None,
                LinkForm::Bare,
            );
        }
    }

    fn push_link(&mut self, span: Range<usize>, url: String, text: Option<String>, form: LinkForm) {
        let footnote = self.note.map(|_| self.extraction.footnotes.len() - 1);
        self.extraction.links.push(FoundLink {
            span,
            footnote,
            raw_url: url,
            link_text: text,
            form,
            derived_from: None,
        });
    }

    /// Reads a command at `self.pos` (a backslash) and acts on it.
    fn command(&mut self) {
        let start = self.pos;
        self.pos += 1;
        let name_start = self.pos;
        while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_alphabetic() {
            self.pos += 1;
        }
        if self.pos == name_start {
            // A control symbol: `\%`, `\{`, `\\`…; its character is text.
            if let Some(c) = self.src[self.pos..].chars().next() {
                self.pos += c.len_utf8();
                if self.note.is_some() {
                    self.note_text.push(if c == '\\' { ' ' } else { c });
                }
            }
            return;
        }
        let name = &self.src[name_start..self.pos];
        match name {
            "footnote" | "endnote" | "footnotetext" | "endnotetext" => {
                self.open_note(start, name.ends_with("text"))
            }
            "footnotemark" => {
                let number = self
                    .optional_argument()
                    .and_then(|r| tex_number(&self.src[r]));
                match number {
                    Some(n) => self.counter = n,
                    None => self.counter += 1,
                }
            }
            "url" => {
                if let Some(arg) = self.verbatim_argument() {
                    // Inside another command's argument LaTeX has already read
                    // `%` as a comment, so notes write `\%`; undo that.
                    let url = unescape_url(self.src[arg].trim());
                    if self.note.is_some() {
                        self.note_text.push_str(&url);
                    }
                    self.push_link(start..self.pos, url, None, LinkForm::Inline);
                }
            }
            "href" => {
                if let Some(arg) = self.verbatim_argument() {
                    let url = unescape_url(self.src[arg].trim());
                    let text = self
                        .skip_spaces_then_group()
                        .map(|r| plain_text(&self.src[r]));
                    if let Some(t) = &text
                        && self.note.is_some()
                    {
                        self.note_text.push_str(t);
                    }
                    self.push_link(start..self.pos, url, text, LinkForm::Inline);
                }
            }
            "bibliography" | "addbibresource" | "addglobalbib" | "addsectionbib" => {
                self.optional_argument();
                if let Some(arg) = self.skip_spaces_then_group() {
                    let at = arg.start;
                    for name in self.src[arg].split(',') {
                        let name = name.trim();
                        if name.is_empty() {
                            continue;
                        }
                        let file = if name.ends_with(".bib") {
                            name.to_string()
                        } else {
                            format!("{name}.bib")
                        };
                        self.bib_files.push((at, file));
                    }
                }
            }
            "verb" => {
                // \verb|…|: any delimiter (a character, maybe not ASCII), no braces.
                if let Some(delim) = self.src[self.pos..].chars().next() {
                    let from = self.pos + delim.len_utf8();
                    self.pos = self.src[from..]
                        .find(delim)
                        .map_or(self.bytes.len(), |i| from + i + delim.len_utf8());
                }
            }
            "begin" => {
                let saved = self.pos;
                if let Some(arg) = self.skip_spaces_then_group() {
                    let env = &self.src[arg];
                    if matches!(
                        env,
                        "verbatim" | "verbatim*" | "lstlisting" | "minted" | "comment"
                    ) {
                        let end_marker = format!("\\end{{{env}}}");
                        self.pos = self.src[self.pos..]
                            .find(&end_marker)
                            .map_or(self.bytes.len(), |i| self.pos + i + end_marker.len());
                    }
                } else {
                    self.pos = saved;
                }
            }
            name if CITE_COMMANDS.contains(&name) => self.cite(start, name),
            _ => {}
        }
    }

    fn cite(&mut self, start: usize, name: &str) {
        // Up to two optional arguments (pre- and postnote), then the keys.
        self.optional_argument();
        self.optional_argument();
        let Some(arg) = self.skip_spaces_then_group() else {
            return;
        };
        let keys: Vec<String> = self.src[arg]
            .split(',')
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty())
            .collect();
        let footnote_cite = name.starts_with("foot");
        if self.note.is_some() {
            self.note_text.push_str(&keys.join(", "));
            self.cites.push(Cite {
                span: start..self.pos,
                footnote: self.extraction.footnotes.len() - 1,
                keys,
            });
        } else if footnote_cite {
            // \footcite makes a footnote of its own.
            self.counter += 1;
            self.extraction.footnotes.push(FoundFootnote {
                label: self.counter.to_string(),
                start,
                references: vec![start],
                text: keys.join(", "),
            });
            self.cites.push(Cite {
                span: start..self.pos,
                footnote: self.extraction.footnotes.len() - 1,
                keys,
            });
        }
    }

    fn open_note(&mut self, start: usize, text_only: bool) {
        if self.note.is_some() {
            // A note inside a note: LaTeX allows it only in odd ways; read
            // its text as part of the outer note.
            return;
        }
        let number = self
            .optional_argument()
            .and_then(|r| tex_number(&self.src[r]));
        let label = match (number, text_only) {
            (Some(n), _) => n,
            (None, true) => self.counter.max(1),
            (None, false) => {
                self.counter += 1;
                self.counter
            }
        };
        let Some(open) = self.skip_spaces_to(b'{') else {
            self.warn(start, "footnote without a `{…}` argument".to_string());
            return;
        };
        let end = match self.matching_brace(open) {
            Some(end) => end,
            None => {
                self.warn(start, "footnote is never closed (missing `}`)".to_string());
                self.bytes.len()
            }
        };
        self.extraction.footnotes.push(FoundFootnote {
            label: label.to_string(),
            start,
            references: if text_only { Vec::new() } else { vec![start] },
            text: String::new(),
        });
        self.note = Some((start, end));
        self.note_text.clear();
        self.pos = open + 1;
    }

    fn close_note(&mut self) {
        let text = collapse_spaces(&self.note_text);
        if let Some(note) = self.extraction.footnotes.last_mut() {
            note.text = text;
        }
        self.note = None;
        self.note_text.clear();
    }

    /// Offset of the `}` matching the `{` at `open`, counting braces
    /// iteratively and skipping comments and escaped braces.
    fn matching_brace(&self, open: usize) -> Option<usize> {
        let mut depth = 0usize;
        let mut i = open;
        while i < self.bytes.len() {
            match self.bytes[i] {
                b'\\' => {
                    i += 2;
                    continue;
                }
                b'%' => {
                    i = self.line_end(i);
                    continue;
                }
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
            i += 1;
        }
        None
    }

    fn skip_spaces_to(&mut self, want: u8) -> Option<usize> {
        let mut i = self.pos;
        while i < self.bytes.len() && self.bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        (self.bytes.get(i) == Some(&want)).then_some(i)
    }

    /// `[…]` after the command, if any: its content's range.
    fn optional_argument(&mut self) -> Option<Range<usize>> {
        let open = self.skip_spaces_to(b'[')?;
        let close = memchr::memchr(b']', &self.bytes[open..]).map(|i| open + i)?;
        self.pos = close + 1;
        Some(open + 1..close)
    }

    /// `{…}` after the command: its content's range, braces matched.
    fn skip_spaces_then_group(&mut self) -> Option<Range<usize>> {
        let open = self.skip_spaces_to(b'{')?;
        let close = self.matching_brace(open)?;
        self.pos = close + 1;
        Some(open + 1..close)
    }

    /// A URL argument: braces matched, `%` and `#` taken literally.
    fn verbatim_argument(&mut self) -> Option<Range<usize>> {
        let open = self.skip_spaces_to(b'{')?;
        let mut depth = 0usize;
        let mut i = open;
        while i < self.bytes.len() {
            match self.bytes[i] {
                b'\\' => i += 1,
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        self.pos = i + 1;
                        return Some(open + 1..i);
                    }
                }
                _ => {}
            }
            i += 1;
        }
        None
    }
}

/// A counter value as TeX reads it: at most 2^31 - 1 (TeX stops with
/// "Number too big" past that), so counting on from it cannot overflow.
fn tex_number(text: &str) -> Option<usize> {
    let n: u32 = text.trim().parse().ok()?;
    (n <= i32::MAX as u32).then_some(n as usize)
}

/// `\href`'s URL with LaTeX's escapes undone (`\%`, `\#`, `\_`, `\&`, `\~`).
fn unescape_url(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    let mut chars = url.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(&next) = chars.peek()
            && "%#_&~$".contains(next)
        {
            out.push(next);
            chars.next();
            continue;
        }
        out.push(c);
    }
    out
}

/// Rough plain text of a LaTeX fragment: commands and braces dropped.
fn plain_text(fragment: &str) -> String {
    let mut out = String::new();
    let mut chars = fragment.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if chars.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
                    while chars.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
                        chars.next();
                    }
                } else if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            '{' | '}' => {}
            '~' => out.push(' '),
            c => out.push(c),
        }
    }
    collapse_spaces(&out)
}

fn collapse_spaces(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Looks up each note's `\cite` keys and adds the entries' `url` and `doi`.
fn resolve_citations(
    extraction: &mut Extraction,
    cites: &[Cite],
    bib_files: &[(usize, String)],
    dir: &Path,
) {
    if cites.is_empty() {
        return;
    }
    let mut entries: HashMap<String, (Option<String>, Option<String>)> = HashMap::new();
    for (at, name) in bib_files {
        let path: PathBuf = dir.join(name);
        match read_bib(&path) {
            Ok(found) => {
                for (key, fields) in found {
                    entries.entry(key).or_insert(fields);
                }
            }
            Err(message) => extraction.warnings.push((Some(*at), message)),
        }
    }
    if bib_files.is_empty() {
        if let Some(first) = cites.first() {
            extraction.warnings.push((
                Some(first.span.start),
                "\\cite in a footnote, but no \\bibliography or \\addbibresource names a .bib file"
                    .to_string(),
            ));
        }
        return;
    }
    for cite in cites {
        for key in &cite.keys {
            let Some((url, doi)) = entries.get(key) else {
                extraction.warnings.push((
                    Some(cite.span.start),
                    format!("\\cite{{{key}}}: no entry with this key in the bibliography"),
                ));
                continue;
            };
            if let Some(url) = url {
                extraction.links.push(FoundLink {
                    span: cite.span.clone(),
                    footnote: Some(cite.footnote),
                    raw_url: url.clone(),
                    link_text: Some(key.clone()),
                    form: LinkForm::Reference,
                    derived_from: None,
                });
            }
            if let Some(doi) = doi {
                let doi = doi
                    .trim()
                    .trim_start_matches("https://doi.org/")
                    .trim_start_matches("http://dx.doi.org/")
                    .trim_start_matches("doi:");
                let already = url.as_deref().is_some_and(|u| u.contains(doi));
                if !already && !doi.is_empty() {
                    extraction.links.push(FoundLink {
                        span: cite.span.clone(),
                        footnote: Some(cite.footnote),
                        raw_url: super::identifiers::resolver_url(IdentifierKind::Doi, doi),
                        link_text: Some(key.clone()),
                        form: LinkForm::Identifier,
                        derived_from: Some(format!("doi = {{{doi}}}")),
                    });
                }
            }
        }
    }
}

type BibFields = (Option<String>, Option<String>);

/// Reads one `.bib` file: each entry's key with its `url` and `doi`.
fn read_bib(path: &Path) -> Result<Vec<(String, BibFields)>, String> {
    use std::io::Read;
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_BIB_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    if bytes.len() as u64 > MAX_BIB_BYTES {
        return Err(format!(
            "{shown} is larger than {MAX_BIB_BYTES} bytes; not read"
        ));
    }
    let text = String::from_utf8_lossy(&bytes);
    // biblatex is a parser of untrusted text: keep a panic in it from
    // taking the scan down.
    let parsed = std::panic::catch_unwind(|| biblatex::Bibliography::parse(&text))
        .map_err(|_| format!("{shown}: the BibTeX parser failed on this file"))?
        .map_err(|e| {
            let line = text[..e.span.start.min(text.len())].matches('\n').count() + 1;
            format!("{shown}:{line}: not valid BibTeX: {e}")
        })?;
    Ok(parsed
        .iter()
        .map(|entry| (entry.key.clone(), (entry.url().ok(), entry.doi().ok())))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(extraction: &Extraction) -> Vec<(Option<usize>, &str)> {
        extraction
            .links
            .iter()
            .map(|l| (l.footnote, l.raw_url.as_str()))
            .collect()
    }

    #[test]
    fn footnotes_with_nested_braces_comments_and_escapes() {
        let src = r"Body \url{https://body.example/}.\footnote{See {\em nested {deep}} text, 50\% off % \url{https://commented.example/}
 \url{https://a.example/x_y\%20z} and \href{https://b.example/\#frag}{the \textbf{B} site}.} After.";
        let ex = extract(src);
        assert_eq!(ex.footnotes.len(), 1);
        assert_eq!(ex.footnotes[0].label, "1");
        assert_eq!(
            urls(&ex),
            [
                (None, "https://body.example/"),
                (Some(0), "https://a.example/x_y%20z"),
                (Some(0), "https://b.example/#frag"),
            ]
        );
        assert_eq!(ex.links[2].link_text.as_deref(), Some("the B site"));
        assert!(
            ex.footnotes[0]
                .text
                .starts_with("See nested deep text, 50% off"),
            "{}",
            ex.footnotes[0].text
        );
        assert!(!ex.footnotes[0].text.contains("commented"));
    }

    #[test]
    fn numbering_follows_the_footnote_counter() {
        let src = r"a\footnote{one} b\footnote[7]{seven} c\footnotemark d\footnotetext{mark https://m.example/}";
        let ex = extract(src);
        let labels: Vec<_> = ex.footnotes.iter().map(|f| f.label.as_str()).collect();
        assert_eq!(labels, ["1", "7", "2"]);
        assert_eq!(urls(&ex), [(Some(2), "https://m.example/")]);
    }

    #[test]
    fn numbers_too_big_for_tex_do_not_overflow_the_counter() {
        // Found by review after fuzzing: \footnotemark[usize::MAX] made the
        // next \footnote overflow the counter.
        let ex = extract(
            r"\footnotemark[18446744073709551615]\footnote{a} \footnotemark[2147483647]\footnote{b}\footcite{k} \footnote[99999999999]{c}",
        );
        let labels: Vec<_> = ex.footnotes.iter().map(|f| f.label.as_str()).collect();
        assert_eq!(labels, ["2", "2147483648", "2147483649", "2147483650"]);
    }

    #[test]
    fn verbatim_text_is_skipped_whatever_its_delimiter() {
        let ex = extract(
            "\\footnote{\\verb\u{e9}https://no.example/\u{e9} https://yes.example/ \\verb\u{e9}open}",
        );
        assert_eq!(urls(&ex), [(Some(0), "https://yes.example/")]);
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let depth = 200_000;
        let src = format!(
            "\\footnote{{{}https://deep.example/{}}}",
            "{".repeat(depth),
            "}".repeat(depth)
        );
        let ex = extract(&src);
        assert_eq!(urls(&ex), [(Some(0), "https://deep.example/")]);
        let unclosed = format!("\\footnote{{{}", "{".repeat(depth));
        let ex = extract(&unclosed);
        assert_eq!(ex.warnings.len(), 1);
        assert!(ex.warnings[0].1.contains("never closed"));
    }

    #[test]
    fn citations_resolve_through_the_bibliography() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("refs.bib"),
            "@article{smith, title={T}, author={A}, year={2020}, url={https://smith.example/paper}, doi={10.1000/182}}\n\
             @book{jones, title={U}, author={B}, year={2021}, doi={10.5555/12345678}}\n",
        )
        .unwrap();
        let src =
            "Text.\\footnote{As shown \\cite[p.~3]{smith, jones, ghost}.}\n\\bibliography{refs}\n";
        let ex = extract_with_bibliography(src, Some(dir.path()));
        assert_eq!(
            urls(&ex),
            [
                (Some(0), "https://smith.example/paper"),
                (Some(0), "https://doi.org/10.1000/182"),
                (Some(0), "https://doi.org/10.5555/12345678"),
            ]
        );
        assert_eq!(ex.links[1].form, LinkForm::Identifier);
        assert!(
            ex.warnings.iter().any(|(_, w)| w.contains("ghost")),
            "{:?}",
            ex.warnings
        );
    }

    #[test]
    fn a_broken_bib_file_is_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bad.bib"), "@article{x, title={unclosed").unwrap();
        let src = "\\addbibresource{bad.bib} a\\footnote{\\cite{x}} \\addbibresource{missing.bib}";
        let ex = extract_with_bibliography(src, Some(dir.path()));
        assert!(ex.links.is_empty());
        let messages: Vec<_> = ex.warnings.iter().map(|(_, w)| w.as_str()).collect();
        assert!(
            messages.iter().any(|w| w.contains("bad.bib")),
            "{messages:?}"
        );
        assert!(
            messages.iter().any(|w| w.contains("missing.bib")),
            "{messages:?}"
        );
    }
}
