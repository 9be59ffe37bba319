//! Cutting a long Markdown document into pieces that parse alone.
//!
//! pulldown-cmark builds the block tree of a whole document before its first
//! event, about 20 bytes per byte of source while the tree grows: `linkrot
//! scan` of a 17 MB document with 200,000 notes peaked over 300 MB. Parsed
//! piece by piece, the tree is never larger than one piece's.
//!
//! A piece may only end where every block the whole document's parse has
//! open there is closed, so that the pieces' events are the whole's:
//!
//! - before a line at column 0 that begins a footnote definition
//!   (`[^label]:`), which interrupts any paragraph, list or quote; or
//! - after a blank line, before a line at column 0 that starts a paragraph
//!   or a heading (not a list item, a quote, a `---` or an indented line,
//!   which could continue or restart what came before);
//!
//! and never inside a fenced code block, an HTML block that can hold blank
//! lines (`<pre>`, `<script>`, `<style>`, `<textarea>`, comments,
//! processing instructions, declarations, CDATA) or a metadata block.
//!
//! What one piece cannot see of another is supplied by the scanner:
//! references to notes defined in another piece arrive as text, and
//! reference links are resolved through the definitions collected here.

use std::collections::HashMap;
use std::ops::Range;

use pulldown_cmark::CowStr;

/// The pieces of one document and the link reference definitions they share.
#[derive(Debug)]
pub(super) struct Pieces<'a> {
    /// Consecutive byte ranges covering the document.
    pub ranges: Vec<Range<usize>>,
    /// Link reference definitions by normalized label: destination and the
    /// offset of the definition (the first definition of a label wins).
    definitions: HashMap<String, (&'a str, usize)>,
}

/// Where the line scan is: inside a block a piece must not end in, and
/// what ends it.
#[derive(Debug, Clone, Copy)]
enum Open {
    None,
    /// A fenced code block: fence character and length.
    Fence(u8, usize),
    /// An HTML block ended by a line containing this (lower case).
    Html(&'static str),
}

impl<'a> Pieces<'a> {
    /// Cuts `src` into pieces of at least `size` bytes where it can; one
    /// piece when `src` is no longer than `size`.
    pub fn of(src: &'a str, size: usize) -> Pieces<'a> {
        let mut pieces = Pieces {
            ranges: Vec::new(),
            definitions: HashMap::new(),
        };
        if src.len() <= size {
            pieces.ranges.push(0..src.len());
            return pieces;
        }
        let bytes = src.as_bytes();
        let mut start = 0;
        let mut pos = 0;
        let mut open = Open::None;
        let mut prev_blank = true;
        // A link definition cannot interrupt a paragraph: only one after a
        // blank line or another definition is one.
        let mut prev_definition = false;
        while pos < bytes.len() {
            let eol = memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |i| pos + i);
            let next = (eol + 1).min(bytes.len());
            let line = &src[pos..eol];
            if matches!(open, Open::None)
                && pos > start
                && pos - start >= size
                && is_cut_before(line, prev_blank)
            {
                pieces.ranges.push(start..pos);
                start = pos;
            }
            let mut is_definition = false;
            match open {
                Open::None => {
                    if let Some(end) = metadata_block_end(bytes, pos, eol) {
                        pos = end;
                        prev_blank = false;
                        prev_definition = false;
                        continue;
                    }
                    if let Some(fence) = fence_open(line) {
                        open = fence;
                    } else if let Some(end) = html_block_end(line) {
                        if !contains_lower(&line[1..], end) {
                            open = Open::Html(end);
                        }
                    } else if (prev_blank || prev_definition)
                        && let Some((label, dest)) = link_definition(line)
                    {
                        is_definition = true;
                        pieces
                            .definitions
                            .entry(normalize_label(label))
                            .or_insert((dest, pos));
                    }
                }
                Open::Fence(ch, len) => {
                    if fence_close(line, ch, len) {
                        open = Open::None;
                    }
                }
                Open::Html(end) => {
                    if contains_lower(line, end) {
                        open = Open::None;
                    }
                }
            }
            prev_blank = line.trim().is_empty();
            prev_definition = is_definition;
            pos = next;
        }
        pieces.ranges.push(start..bytes.len());
        pieces
    }

    /// More than one piece: the scanner must supply what pieces cannot see.
    pub fn is_cut(&self) -> bool {
        self.ranges.len() > 1
    }

    /// The destination of the reference link `label` that the piece `piece`
    /// could not resolve, when another piece defines it.
    pub fn resolve(&self, label: &str, piece: &Range<usize>) -> Option<(CowStr<'a>, CowStr<'a>)> {
        let (dest, at) = self.definitions.get(&normalize_label(label))?;
        // A definition inside the piece was pulldown-cmark's to see; it saw
        // none, so this line was not one.
        (!piece.contains(at)).then_some((CowStr::Borrowed(dest), CowStr::Borrowed("")))
    }
}

/// Can a piece start with `line`?
fn is_cut_before(line: &str, prev_blank: bool) -> bool {
    let b = line.as_bytes();
    if footnote_definition(line) {
        return true;
    }
    if !prev_blank {
        return false;
    }
    match b.first() {
        Some(c) if c.is_ascii_alphabetic() || matches!(c, b'#' | b'[' | b'<') => true,
        // a digit may be an ordered list item continuing a list
        Some(c) if c.is_ascii_digit() => {
            let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
            !matches!(b.get(digits), Some(b'.' | b')'))
        }
        _ => false,
    }
}

/// `[^label]:` at column 0, with a label of word characters only.
fn footnote_definition(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("[^") else {
        return false;
    };
    let label_len = rest
        .bytes()
        .take_while(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
        .count();
    label_len > 0 && rest[label_len..].starts_with("]:")
}

/// A fence (three or more backticks or tildes) opening a code block, at any
/// indentation: treating an indented line as a fence only keeps a piece from
/// ending until a matching line.
fn fence_open(line: &str) -> Option<Open> {
    let t = line.trim_start();
    let ch = *t.as_bytes().first()?;
    if ch != b'`' && ch != b'~' {
        return None;
    }
    let len = t.bytes().take_while(|&c| c == ch).count();
    (len >= 3).then_some(Open::Fence(ch, len))
}

fn fence_close(line: &str, ch: u8, len: usize) -> bool {
    let t = line.trim();
    t.len() >= len && t.bytes().all(|c| c == ch)
}

/// For a line starting an HTML block that may contain blank lines, the text
/// that ends the block.
fn html_block_end(line: &str) -> Option<&'static str> {
    let t = line.trim_start().as_bytes();
    if t.first() != Some(&b'<') {
        return None;
    }
    let starts = |p: &str| t.len() >= p.len() && t[..p.len()].eq_ignore_ascii_case(p.as_bytes());
    for (tag, end) in [
        ("<pre", "</pre>"),
        ("<script", "</script>"),
        ("<style", "</style>"),
        ("<textarea", "</textarea>"),
    ] {
        if starts(tag)
            && t.get(tag.len())
                .is_none_or(|c| c.is_ascii_whitespace() || *c == b'>')
        {
            return Some(end);
        }
    }
    if starts("<!--") {
        Some("-->")
    } else if starts("<![cdata[") {
        Some("]]>")
    } else if starts("<?") {
        Some("?>")
    } else if t.get(1) == Some(&b'!') && t.get(2).is_some_and(u8::is_ascii_alphabetic) {
        Some(">")
    } else {
        None
    }
}

fn contains_lower(line: &str, needle: &str) -> bool {
    line.len() >= needle.len()
        && line
            .as_bytes()
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Where a YAML metadata block starting at the line `pos..eol` ends (the
/// offset after its closing line), as pulldown-cmark reads one: `---` at
/// column 0, a first line that is neither blank nor a closing line, and a
/// closing `---` or `...` line somewhere after.
fn metadata_block_end(bytes: &[u8], pos: usize, eol: usize) -> Option<usize> {
    let line = &bytes[pos..eol];
    if !line.starts_with(b"---") || !line[3..].iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let mut at = (eol + 1).min(bytes.len());
    let mut first = true;
    while at < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i);
        let l = &bytes[at..end];
        let closing = (l.starts_with(b"---") || l.starts_with(b"..."))
            && l[3..].iter().all(|&c| c == b' ' || c == b'\r');
        if first && (closing || l.iter().all(u8::is_ascii_whitespace)) {
            return None;
        }
        first = false;
        if closing {
            return Some((end + 1).min(bytes.len()));
        }
        at = end + 1;
    }
    None
}

/// `[label]: destination` on one line (up to three spaces of indentation),
/// not a footnote.
fn link_definition(line: &str) -> Option<(&str, &str)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = line[indent..].strip_prefix('[')?;
    if rest.starts_with('^') {
        return None;
    }
    let close = rest.find("]:")?;
    let label = &rest[..close];
    if label.trim().is_empty() || label.contains(['[', ']']) {
        return None;
    }
    let dest = rest[close + 2..].trim_start();
    let dest = if let Some(inner) = dest.strip_prefix('<') {
        &inner[..inner.find('>')?]
    } else {
        dest.split_whitespace().next()?
    };
    Some((label, dest))
}

/// Labels match case-insensitively, with runs of white space as one space.
fn normalize_label(label: &str) -> String {
    label
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts<'a>(src: &'a str, p: &Pieces<'_>) -> Vec<&'a str> {
        p.ranges.iter().map(|r| &src[r.clone()]).collect()
    }

    #[test]
    fn cuts_only_where_every_block_is_closed() {
        let src = "Para one.\n\n- item\n\n- item two\n\n```\ncode\n\nstill code\n```\n\n<!--\n\nhidden\n-->\n\nNext para.\n[^1]: note\n[^2]: note\n";
        let p = Pieces::of(src, 1);
        assert_eq!(
            texts(src, &p),
            [
                "Para one.\n\n- item\n\n- item two\n\n```\ncode\n\nstill code\n```\n\n",
                "<!--\n\nhidden\n-->\n\n",
                "Next para.\n",
                "[^1]: note\n",
                "[^2]: note\n"
            ]
        );
        assert_eq!(Pieces::of(src, src.len()).ranges.len(), 1);
    }

    #[test]
    fn metadata_blocks_are_never_cut() {
        let src = "Intro.\n\n---\ntitle: x\n\nabstract: y\n---\n\nBody.\n";
        let p = Pieces::of(src, 1);
        assert_eq!(
            texts(src, &p),
            ["Intro.\n\n---\ntitle: x\n\nabstract: y\n---\n\n", "Body.\n"]
        );
    }

    #[test]
    fn definitions_resolve_only_from_other_pieces() {
        let src = "See [the report][r].\n\nMore text.\n\n[r]: <https://x.test/r> \"Title\"\n";
        let p = Pieces::of(src, 1);
        assert_eq!(p.ranges.len(), 3);
        let (dest, _) = p.resolve("R", &p.ranges[0]).unwrap();
        assert_eq!(&*dest, "https://x.test/r");
        assert!(p.resolve("r", &p.ranges[2]).is_none());
        assert!(p.resolve("missing", &p.ranges[0]).is_none());
    }
}
