//! Plain text: endnotes after a Notes heading or a separator line.
//!
//! A line reading "Notes", "Endnotes", "Footnotes" or "References" opens an
//! endnotes section that lasts to the end; a separator line (`---`, `____`,
//! `* * *`) opens one only if the next line begins with a note number. Each
//! note begins with its number (`1.`, `1)`, `[1]`, or `1 ` when it is the next
//! number expected) and runs until the next one, a blank line followed by
//! unindented text, or a new separator. Body references `[1]` and
//! superscript digits `¹²³` tie notes to their lines.
//!
//! URLs are found by linkify, line by line where `://` appears. A URL that
//! ends a line continues onto the next only when that line starts, with no
//! space inside, with something that can only be the rest of a URL (a path
//! with `/`, `?`, `=`, `&`, `%`, `_`, `#`, or a word after a URL that broke
//! at a hyphen or slash): conservative, so prose is never glued to a URL.

use linkify::{LinkFinder, LinkKind};
use memchr::memmem;

use super::plain::{finish, push_collapsed, push_space};
use super::{Extraction, FoundFootnote, FoundLink, LinkForm};

/// One line of the source: its byte range without the line ending.
#[derive(Debug, Clone)]
struct Line {
    start: usize,
    end: usize,
}

fn split_lines(src: &str) -> Vec<Line> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    while let Some(o) = memchr::memchr2(b'\n', b'\r', &b[start..]) {
        let at = start + o;
        out.push(Line { start, end: at });
        start = if b[at] == b'\r' && b.get(at + 1) == Some(&b'\n') {
            at + 2
        } else {
            at + 1
        };
    }
    out.push(Line {
        start,
        end: src.len(),
    });
    out
}

/// Headings that open an endnotes section.
fn is_notes_heading(line: &str) -> bool {
    let t = line
        .trim()
        .trim_start_matches('#')
        .trim()
        .trim_end_matches([':', '.'])
        .trim()
        .to_ascii_lowercase();
    matches!(
        t.as_str(),
        "notes" | "endnotes" | "end notes" | "footnotes" | "references" | "notes and references"
    )
}

/// `---`, `____`, `* * *`, `===`: three or more of one mark, spaces allowed.
fn is_separator(line: &str) -> bool {
    let t = line.trim();
    let Some(first) = t.chars().next() else {
        return false;
    };
    matches!(first, '-' | '_' | '*' | '=' | '~')
        && t.chars().filter(|&c| c == first).count() >= 3
        && t.chars().all(|c| c == first || c == ' ')
}

/// A note's number at the start of a line: label, offset of its text within
/// the line, and whether it is the weak `1 ` form.
fn note_marker(line: &str) -> Option<(&str, usize, bool)> {
    let indent = line.len() - line.trim_start().len();
    let b = line.as_bytes();
    let bracket = matches!(b.get(indent), Some(b'[' | b'('));
    let ds = indent + usize::from(bracket);
    let mut i = ds;
    while i < b.len() && b[i].is_ascii_digit() && i - ds < 4 {
        i += 1;
    }
    if i == ds {
        return None;
    }
    let label = &line[ds..i];
    let (after, weak) = if bracket {
        (
            matches!(b.get(i), Some(b']' | b')')).then_some(i + 1)?,
            false,
        )
    } else if matches!(b.get(i), Some(b'.' | b')')) {
        (i + 1, false)
    } else {
        (i, true)
    };
    match b.get(after) {
        Some(b' ' | b'\t') => Some((label, after + 1, weak)),
        None if !weak => Some((label, after, weak)),
        _ => None,
    }
}

/// Characters a URL continuation may consist of.
fn is_url_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=%".contains(&c)
}

/// Length of the continuation of a URL at the start of `next` (after its
/// indentation), or `None` when the line does not clearly continue it.
fn continuation(url: &str, next: &str) -> Option<usize> {
    let token_len = next
        .bytes()
        .position(|c| c.is_ascii_whitespace())
        .unwrap_or(next.len());
    let token = &next[..token_len];
    let core = token.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '"', '\'']);
    if core.len() < 2 || !token.bytes().all(is_url_char) {
        return None;
    }
    let lower = core.to_ascii_lowercase();
    if lower.starts_with("http") || lower.starts_with("www.") || note_marker(next).is_some() {
        return None;
    }
    let structural = core.bytes().any(|c| b"/?=&%_#".contains(&c));
    let broke_at_separator = url.ends_with(['-', '/', '_', '=', '&', '?', '.', '~', '%']);
    let starts_lower = core
        .bytes()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let url_like_word = core
        .bytes()
        .any(|c| b"-.".contains(&c) || c.is_ascii_digit());
    (structural || (broke_at_separator && starts_lower && url_like_word)).then_some(token_len)
}

/// Extracts endnotes and URLs from plain text.
pub fn extract(source: &str) -> super::Extraction {
    let lines = split_lines(source);
    let mut finder = LinkFinder::new();
    finder.kinds(&[LinkKind::Url]).url_must_have_scheme(true);

    let mut notes: Vec<FoundFootnote> = Vec::new();
    let mut links: Vec<FoundLink> = Vec::new();
    let mut refs: Vec<(String, usize)> = Vec::new();
    // in an endnotes section opened by a heading (lasts) or a separator
    let mut section = false;
    let mut section_by_heading = false;
    let mut armed = false;
    let mut current: Option<usize> = None;
    let mut blank_before = false;
    // bytes up to here were consumed as a URL's continuation
    let mut consumed_to = 0usize;
    let mut join_next = false;

    for (li, line) in lines.iter().enumerate() {
        let text = &source[line.start..line.end];
        if text.trim().is_empty() {
            blank_before = true;
            continue;
        }
        let was_blank = std::mem::replace(&mut blank_before, false);
        if is_notes_heading(text) {
            section = true;
            section_by_heading = true;
            current = None;
            continue;
        }
        if is_separator(text) {
            armed = true;
            current = None;
            if !section_by_heading {
                section = false;
            }
            continue;
        }
        let mut content_start = line.start + (text.len() - text.trim_start().len());
        let marker = note_marker(text).filter(|(label, _, weak)| {
            let expected = current
                .map(|c| notes[c].label.parse::<u32>().map_or(0, |n| n + 1))
                .unwrap_or(1);
            !weak || label.parse::<u32>() == Ok(expected)
        });
        match marker {
            Some((label, text_at, _)) if section || armed => {
                section = true;
                armed = false;
                notes.push(FoundFootnote {
                    label: label.to_string(),
                    start: line.start,
                    references: Vec::new(),
                    text: String::new(),
                });
                current = Some(notes.len() - 1);
                content_start = line.start + text_at;
            }
            _ => {
                armed = false;
                let indented = text.starts_with([' ', '\t']);
                if current.is_some() && was_blank && !indented {
                    current = None;
                    if !section_by_heading {
                        section = false;
                    }
                }
            }
        }
        if let Some(c) = current {
            let piece = &source[content_start..line.end];
            if !join_next {
                push_space(&mut notes[c].text);
            }
            push_collapsed(&mut notes[c].text, piece.trim());
        } else {
            collect_refs(source, line, &mut refs);
        }
        join_next = false;

        let line_bytes = text.as_bytes();
        if memmem::find(line_bytes, b"://").is_none() {
            continue;
        }
        for hit in finder.links(text) {
            let start = line.start + hit.start();
            if start < consumed_to {
                continue;
            }
            let mut end = line.start + hit.end();
            if text[hit.end()..].trim().is_empty()
                && let Some(next) = lines.get(li + 1)
            {
                let next_text = &source[next.start..next.end];
                let indent = next_text.len() - next_text.trim_start().len();
                if let Some(len) = continuation(hit.as_str(), &next_text[indent..]) {
                    end = next.start + indent + len;
                    consumed_to = end;
                    join_next = true;
                }
            }
            links.push(FoundLink {
                derived_from: None,
                span: start..end,
                footnote: current,
                raw_url: source[start..end].to_string(),
                link_text: None,
                form: LinkForm::Bare,
            });
        }
    }

    // references: the nearest note with the label after them
    for (label, offset) in refs {
        let target = notes
            .iter()
            .position(|n| n.label == label && n.start > offset)
            .or_else(|| notes.iter().rposition(|n| n.label == label));
        if let Some(t) = target {
            notes[t].references.push(offset);
        }
    }
    for n in &mut notes {
        finish(&mut n.text);
    }
    Extraction {
        page_starts: Vec::new(),
        footnotes: notes,
        links,
        warnings: Vec::new(),
    }
}

/// `[12]` and superscript digits in a body line, as references.
fn collect_refs(src: &str, line: &Line, refs: &mut Vec<(String, usize)>) {
    let text = &src[line.start..line.end];
    let b = text.as_bytes();
    for at in memchr::memchr_iter(b'[', b) {
        let digits = b[at + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if (1..=4).contains(&digits) && b.get(at + 1 + digits) == Some(&b']') {
            refs.push((text[at + 1..at + 1 + digits].to_string(), line.start + at));
        }
    }
    if !text.is_ascii() {
        let mut run: Option<(usize, String)> = None;
        for (i, c) in text.char_indices() {
            let digit = match c {
                '⁰' => Some('0'),
                '¹' => Some('1'),
                '²' => Some('2'),
                '³' => Some('3'),
                '⁴'..='⁹' => char::from_u32(c as u32 - '⁴' as u32 + '4' as u32),
                _ => None,
            };
            match (digit, &mut run) {
                (Some(d), Some((_, s))) => s.push(d),
                (Some(d), None) => run = Some((i, d.to_string())),
                (None, Some(_)) => {
                    let (at, s) = run.take().unwrap_or_default();
                    refs.push((s, line.start + at));
                }
                (None, None) => {}
            }
        }
        if let Some((at, s)) = run {
            refs.push((s, line.start + at));
        }
    }
}

/// Byte range helper for tests.
#[cfg(test)]
fn span_text(src: &str, r: &std::ops::Range<usize>) -> String {
    src[r.clone()].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_after_heading_with_numbers() {
        let src = "Body text cites [1] and [2].\n\nNotes\n\n1. First, https://a.org/x.\n2. Second\n   continues https://b.org/y\n\n[3] Third.\n";
        let ex = extract(src);
        let labels: Vec<&str> = ex.footnotes.iter().map(|n| n.label.as_str()).collect();
        assert_eq!(labels, ["1", "2", "3"]);
        assert_eq!(ex.footnotes[0].text, "First, https://a.org/x.");
        assert_eq!(ex.footnotes[1].text, "Second continues https://b.org/y");
        assert_eq!(ex.footnotes[0].references, vec![16]);
        assert_eq!(ex.links.len(), 2);
        assert_eq!(ex.links[0].footnote, Some(0));
        assert_eq!(span_text(src, &ex.links[0].span), "https://a.org/x");
        assert_eq!(ex.links[1].footnote, Some(1));
    }

    #[test]
    fn separator_opens_notes_only_when_a_number_follows() {
        let src = "Intro https://body.org\n\n---\n\nMore body text.\n\n* * *\n1 See https://n.org/1\n2 And https://n.org/2\n\nBody resumes https://body.org/2\n";
        let ex = extract(src);
        assert_eq!(ex.footnotes.len(), 2);
        let owners: Vec<Option<usize>> = ex.links.iter().map(|l| l.footnote).collect();
        assert_eq!(owners, [None, Some(0), Some(1), None]);
    }

    #[test]
    fn weak_number_form_needs_the_expected_number() {
        let src = "Notes\n1 First note\n2020 was a year in the first note\n2 Second\n";
        let ex = extract(src);
        assert_eq!(ex.footnotes.len(), 2);
        assert_eq!(
            ex.footnotes[0].text,
            "First note 2020 was a year in the first note"
        );
    }

    #[test]
    fn url_broken_by_hyphen_or_wrap_is_joined() {
        let src = "Notes\n1. See https://azerbaijan.un.org/en/248051-un-team-\n   completes-mission-karabakh. Accessed today.\n2. Also https://x.org/a/b/\nc/d.html and https://y.org/page\nAccessed 2024.\n";
        let ex = extract(src);
        let urls: Vec<String> = ex
            .links
            .iter()
            .map(|l| super::super::url::clean(&l.raw_url).url)
            .collect();
        assert_eq!(
            urls,
            [
                "https://azerbaijan.un.org/en/248051-un-team-completes-mission-karabakh",
                "https://x.org/a/b/c/d.html",
                "https://y.org/page",
            ]
        );
        assert_eq!(
            ex.footnotes[0].text,
            "See https://azerbaijan.un.org/en/248051-un-team-completes-mission-karabakh. Accessed today."
        );
    }

    #[test]
    fn prose_after_a_url_is_not_joined() {
        let src =
            "Notes\n1. See https://x.org/\nand then more.\n2. https://y.org/a-\nAccessed 2024\n";
        let ex = extract(src);
        let raws: Vec<&str> = ex.links.iter().map(|l| l.raw_url.as_str()).collect();
        assert_eq!(raws, ["https://x.org/", "https://y.org/a-"]);
    }

    #[test]
    fn superscript_digits_are_references() {
        let src = "A claim.¹² Another.³\n\nNotes\n12. Twelve https://t.org\n3. Three\n";
        let ex = extract(src);
        assert_eq!(ex.footnotes[0].references, vec![8]);
        assert_eq!(ex.footnotes[1].references.len(), 1);
    }
}
