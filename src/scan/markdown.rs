//! Markdown: GFM and Pandoc footnotes, and notes of documents converted from PDF.
//!
//! One pass over pulldown-cmark's events (with byte offsets) finds the
//! structure; the notes pulldown-cmark does not know are recognised from the
//! raw source at the start of a block or inline event:
//!
//! - GFM footnotes `[^label]` / `[^label]: text`, labels case-insensitive;
//! - Pandoc inline notes `^[text]`, labelled by their ordinal;
//! - converted-PDF notes, paragraphs that begin `<sup>N</sup>`, referenced by
//!   `<sup>N</sup>` in the running text;
//! - numbered items (`1.`, `[1]`, `1 `) under a Notes, Endnotes, Footnotes or
//!   References heading, referenced by `[N]` or `<sup>N</sup>`.
//!
//! Bare URLs are found by linkify over the raw source of each run of inline
//! content (a paragraph, heading, list item or cell) that contains `://`,
//! dropping hits inside links, so the finder never walks the whole document.

use std::collections::HashMap;
use std::ops::Range;

use linkify::{LinkFinder, LinkKind};
use memchr::memmem;
use pulldown_cmark::{BrokenLink, CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};

use pieces::Pieces;

use super::plain::{finish, push_collapsed, push_space};
use super::{Extraction, FoundFootnote, FoundLink, LinkForm};

mod pieces;

/// How a note was written, which decides how references reach it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NoteKind {
    /// `[^label]: text`
    Gfm,
    /// `^[text]`
    Inline,
    /// A paragraph beginning `<sup>N</sup>`.
    Sup,
    /// A numbered item under a Notes heading.
    Section,
}

#[derive(Debug)]
struct Note {
    label: String,
    kind: NoteKind,
    start: usize,
    references: Vec<usize>,
    text: String,
    /// Source bytes before this offset are the note's marker (`<sup>1</sup>`,
    /// `[1]`, `1.`), not its text.
    marker_end: usize,
}

/// A reference to a note found in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefKind {
    Gfm,
    /// `[^label]` left as text by a piece that does not hold the note; the
    /// label as written.
    GfmText,
    Sup,
    Bracket,
}

#[derive(Debug)]
struct NoteRef {
    kind: RefKind,
    label: String,
    offset: usize,
}

/// A link whose text is still being collected.
#[derive(Debug)]
struct OpenLink {
    link: usize,
    text: String,
    owner: Option<usize>,
    /// Length of the owner's text when the link started, so a link whose
    /// text is a URL can be rewritten as the cleaned URL.
    owner_mark: usize,
    /// End of the last event inside the link, to find the destination.
    inner_end: usize,
    html: bool,
    range_start: usize,
}

/// Options for the Markdown parser: GFM footnotes, tables, strikethrough
/// and front matter (so YAML is not read as text).
fn parser_options() -> Options {
    Options::ENABLE_FOOTNOTES
        | Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS
}

/// Headings that open an endnotes section.
fn is_notes_heading(text: &str) -> bool {
    let t = text
        .trim()
        .trim_end_matches([':', '.'])
        .trim()
        .to_ascii_lowercase();
    matches!(
        t.as_str(),
        "notes"
            | "endnotes"
            | "end notes"
            | "footnotes"
            | "references"
            | "notes and references"
            | "references and notes"
    )
}

/// Documents longer than this are parsed in pieces of about this size (see
/// [`pieces`]): at 20 bytes of parse tree per byte, a 64 KiB piece needs
/// about 1.3 MB, however long the document.
const PIECE_BYTES: usize = 64 * 1024;

/// Extracts footnotes and links from Markdown source.
pub fn extract(source: &str) -> super::Extraction {
    extract_in_pieces(source, PIECE_BYTES)
}

/// [`extract`], parsing pieces of about `piece_bytes` at a time.
fn extract_in_pieces(source: &str, piece_bytes: usize) -> super::Extraction {
    let pieces = Pieces::of(source, piece_bytes);
    let mut s = Scanner::new(source);
    s.in_pieces = pieces.is_cut();
    for range in &pieces.ranges {
        let text = &source[range.clone()];
        if s.in_pieces {
            let resolve = |link: BrokenLink<'_>| pieces.resolve(&link.reference, range);
            let parser =
                Parser::new_with_broken_link_callback(text, parser_options(), Some(resolve));
            s.feed(parser.into_offset_iter(), range.start);
        } else {
            let parser = Parser::new_ext(text, parser_options());
            s.feed(parser.into_offset_iter(), range.start);
        }
    }
    s.finish()
}

struct Scanner<'a> {
    src: &'a str,
    finder: LinkFinder,
    /// Built once per document: building a searcher costs more than a search.
    scheme_sep: memmem::Finder<'static>,
    footnote_open: memmem::Finder<'static>,
    notes: Vec<Note>,
    refs: Vec<NoteRef>,
    links: Vec<FoundLink>,
    warnings: Vec<(Option<usize>, String)>,
    /// Candidate `^[…]` spans from a pre-pass, in order, not yet reached.
    inline_candidates: Vec<Range<usize>>,
    next_candidate: usize,
    /// Inline notes that contain the current position: (note, span).
    inline_stack: Vec<(usize, Range<usize>)>,
    /// Every inline note, for attributing bare URLs found later in a run.
    inline_spans: Vec<(usize, Range<usize>)>,
    gfm_note: Option<usize>,
    block_note: Option<usize>,
    /// Level of the Notes heading whose section we are in.
    notes_section: Option<u8>,
    /// The last note of the current section, continued by unmarked paragraphs.
    section_last: Option<usize>,
    /// Depth of lists, and for the list opened directly in a notes section,
    /// its start number and the next item's index.
    list_depth: usize,
    section_list: Option<(u64, u64, usize)>,
    heading: Option<(u8, String)>,
    open_links: Vec<OpenLink>,
    /// The run of inline content being scanned, and the byte ranges inside it
    /// that bare-URL and reference detection must skip.
    run: Option<Range<usize>>,
    run_skip: Vec<Range<usize>>,
    /// Inside `<sup>`…`</sup>` inline HTML: its text is a note number.
    in_sup: bool,
    /// Inside a code block: its text is a note's text but holds no links.
    in_code_block: bool,
    /// The document is parsed in pieces: a note reference may arrive as text.
    in_pieces: bool,
    /// End of the `[^label]` text being read as a note reference.
    text_ref_end: usize,
}

impl<'a> Scanner<'a> {
    fn new(src: &'a str) -> Self {
        let mut finder = LinkFinder::new();
        finder.kinds(&[LinkKind::Url]).url_must_have_scheme(true);
        Scanner {
            src,
            finder,
            scheme_sep: memmem::Finder::new(b"://"),
            footnote_open: memmem::Finder::new(b"[^"),
            notes: Vec::new(),
            refs: Vec::new(),
            links: Vec::new(),
            warnings: Vec::new(),
            inline_candidates: inline_note_candidates(src),
            next_candidate: 0,
            inline_stack: Vec::new(),
            inline_spans: Vec::new(),
            gfm_note: None,
            block_note: None,
            notes_section: None,
            section_last: None,
            list_depth: 0,
            section_list: None,
            heading: None,
            open_links: Vec::new(),
            run: None,
            run_skip: Vec::new(),
            in_sup: false,
            in_code_block: false,
            in_pieces: false,
            text_ref_end: 0,
        }
    }

    /// Scans the events of the piece that starts at `base`.
    fn feed(&mut self, events: impl Iterator<Item = (Event<'a>, Range<usize>)>, base: usize) {
        for (event, range) in events {
            self.event(event, range.start + base..range.end + base);
        }
        self.flush_run();
    }

    /// In a document parsed in pieces, `[^label]` whose note another piece
    /// holds comes as the text events `[`, `^label`, `]`: it is read as the
    /// reference the whole document's parse would have given.
    fn text_reference(&mut self, text: &str, range: &Range<usize>) -> bool {
        if range.end <= self.text_ref_end {
            return true;
        }
        if text != "[" || !self.src[range.start..].starts_with("[^") {
            return false;
        }
        let Some(label) = bracket_label(&self.src[range.start + 2..], false) else {
            return false;
        };
        let end = range.start + 2 + label.len() + 1;
        self.refs.push(NoteRef {
            kind: RefKind::GfmText,
            label: label.to_string(),
            offset: range.start,
        });
        self.run_skip.push(range.start..end);
        self.text_ref_end = end;
        true
    }

    /// The note the block-level container assigns, ignoring inline notes.
    fn container(&self) -> Option<usize> {
        self.gfm_note.or(self.block_note)
    }

    /// The note an offset belongs to right now.
    fn owner(&self) -> Option<usize> {
        self.inline_stack
            .last()
            .map(|(n, _)| *n)
            .or_else(|| self.container())
    }

    fn new_note(
        &mut self,
        label: String,
        kind: NoteKind,
        start: usize,
        marker_end: usize,
    ) -> usize {
        self.notes.push(Note {
            label,
            kind,
            start,
            references: Vec::new(),
            text: String::new(),
            marker_end,
        });
        self.notes.len() - 1
    }

    /// Leaves inline notes that end at or before `offset`, and enters a
    /// candidate `^[` that starts inside the text event `range`.
    fn track_inline(&mut self, range: &Range<usize>, is_text: bool) {
        while let Some((_, span)) = self.inline_stack.last() {
            if span.end <= range.start {
                self.inline_stack.pop();
            } else {
                break;
            }
        }
        while let Some(c) = self.inline_candidates.get(self.next_candidate) {
            if c.start < range.start {
                // inside code, a link destination or HTML: not a note
                self.next_candidate += 1;
                continue;
            }
            if is_text && c.start < range.end {
                let c = c.clone();
                self.next_candidate += 1;
                let ordinal = self
                    .notes
                    .iter()
                    .filter(|n| n.kind == NoteKind::Inline)
                    .count()
                    + 1;
                let idx =
                    self.new_note(ordinal.to_string(), NoteKind::Inline, c.start, c.start + 2);
                self.notes[idx].references.push(c.start);
                self.inline_stack.push((idx, c.clone()));
                self.inline_spans.push((idx, c));
                continue;
            }
            break;
        }
    }

    fn extend_run(&mut self, range: &Range<usize>) {
        match &mut self.run {
            Some(r) => r.end = r.end.max(range.end),
            None => self.run = Some(range.clone()),
        }
    }

    /// Appends inline text to whoever owns it: the open link, the note.
    fn push_text(&mut self, text: &str, range: &Range<usize>) {
        if self.in_sup {
            return;
        }
        // A text event the source spells the same way can be cut at note
        // boundaries: the `^[`/`]` of inline notes and the marker of a note.
        let near_inline = !self.inline_stack.is_empty() || self.inline_boundary_inside(range);
        if near_inline && self.src.get(range.clone()) == Some(text) {
            self.push_split(range.clone());
            return;
        }
        self.push_owned(text, range.start, range.end);
    }

    fn inline_boundary_inside(&self, range: &Range<usize>) -> bool {
        self.inline_spans
            .last()
            .is_some_and(|(_, span)| span.start < range.end && span.end > range.start)
    }

    /// Routes the pieces of a borrowed text event to their owners.
    fn push_split(&mut self, range: Range<usize>) {
        let mut cuts: Vec<usize> = vec![range.start, range.end];
        for (_, span) in self.inline_spans.iter().rev().take(8) {
            for p in [span.start, span.start + 2, span.end - 1, span.end] {
                if p > range.start && p < range.end && self.src.is_char_boundary(p) {
                    cuts.push(p);
                }
            }
        }
        cuts.sort_unstable();
        cuts.dedup();
        for w in cuts.windows(2) {
            let (a, b) = (w[0], w[1]);
            let owner_span = self
                .inline_spans
                .iter()
                .rev()
                .find(|(_, span)| span.start <= a && a < span.end);
            if let Some((_, span)) = owner_span
                && (a < span.start + 2 || a >= span.end - 1)
            {
                continue; // the `^[` or the closing `]`
            }
            let owner = owner_span.map(|(n, _)| *n).or_else(|| self.container());
            let piece = &self.src[a..b];
            self.push_to(owner, piece, a, b);
        }
    }

    fn push_owned(&mut self, text: &str, start: usize, end: usize) {
        let owner = self.owner();
        self.push_to(owner, text, start, end);
    }

    fn push_to(&mut self, owner: Option<usize>, text: &str, start: usize, end: usize) {
        if let Some(link) = self.open_links.last_mut() {
            push_collapsed(&mut link.text, text);
            link.inner_end = link.inner_end.max(end);
        }
        let Some(n) = owner else { return };
        let note = &mut self.notes[n];
        if end <= note.marker_end && start >= note.start {
            return;
        }
        if start < note.marker_end && start >= note.start {
            // only a text event the source spells the same way can be cut
            let borrowed = self.src.get(start..end) == Some(text);
            if borrowed && self.src.is_char_boundary(note.marker_end) {
                push_collapsed(&mut note.text, &self.src[note.marker_end..end]);
            }
            return;
        }
        push_collapsed(&mut note.text, text);
    }

    fn space(&mut self) {
        if let Some(n) = self.owner() {
            push_space(&mut self.notes[n].text);
        }
        if let Some(link) = self.open_links.last_mut() {
            push_space(&mut link.text);
        }
    }

    /// Ends the current run of inline content: finds its bare URLs and its
    /// references to notes that were not parsed as such.
    fn flush_run(&mut self) {
        let Some(run) = self.run.take() else {
            self.run_skip.clear();
            return;
        };
        let slice = &self.src[run.clone()];
        let bytes = slice.as_bytes();
        let mut skip = std::mem::take(&mut self.run_skip);
        let skip_set = SkipSet::new(&mut skip);
        let skipped = |r: &Range<usize>| skip_set.overlaps(r);
        let mut hits = Vec::new();
        let mut searched_to = 0;
        for at in self.scheme_sep.find_iter(bytes) {
            if at < searched_to || skipped(&(run.start + at..run.start + at + 3)) {
                continue;
            }
            // A URL holds no whitespace: linkify only the word around `://`,
            // not the whole paragraph.
            let word_start = bytes[..at]
                .iter()
                .rposition(|c| c.is_ascii_whitespace())
                .map_or(0, |p| p + 1)
                .max(searched_to);
            let word_end = bytes[at..]
                .iter()
                .position(|c| c.is_ascii_whitespace())
                .map_or(bytes.len(), |p| at + p);
            searched_to = word_end;
            for link in self.finder.links(&slice[word_start..word_end]) {
                let span =
                    run.start + word_start + link.start()..run.start + word_start + link.end();
                if !skipped(&span) {
                    hits.push(span);
                }
            }
        }
        {
            for span in hits {
                // the run may straddle inline notes: attribute by position
                let owner = self.owner_at_in(&run, span.start);
                self.links.push(FoundLink {
                    derived_from: None,
                    raw_url: self.src[span.clone()].to_string(),
                    span,
                    footnote: owner,
                    link_text: None,
                    form: LinkForm::Bare,
                });
            }
        }
        // `[^label]` left as text: a reference to a note never defined.
        for at in self.footnote_open.find_iter(bytes) {
            let start = run.start + at;
            if let Some(label) = bracket_label(&slice[at + 2..], false)
                && !skipped(&(start..start + 1))
            {
                self.warnings.push((
                    Some(start),
                    format!("footnote [^{label}] is referenced but never defined"),
                ));
            }
        }
        // `[12]` in the text: a possible reference to a numbered endnote.
        for at in memchr::memchr_iter(b'[', bytes) {
            let start = run.start + at;
            if let Some(label) = bracket_label(&slice[at + 1..], true)
                && !skipped(&(start..start + 1))
                && !self.notes.iter().rev().take(1).any(|n| n.start == start)
            {
                self.refs.push(NoteRef {
                    kind: RefKind::Bracket,
                    label: label.to_string(),
                    offset: start,
                });
            }
        }
        drop(skip_set);
        skip.clear();
        self.run_skip = skip;
    }

    fn owner_at_in(&self, run: &Range<usize>, offset: usize) -> Option<usize> {
        self.inline_spans
            .iter()
            .rev()
            .take_while(|(_, span)| span.end > run.start)
            .find(|(_, span)| span.contains(&offset))
            .map(|(n, _)| *n)
            .or_else(|| self.container())
    }

    fn event(&mut self, event: Event<'a>, range: Range<usize>) {
        let is_text = matches!(event, Event::Text(_));
        let inline = match &event {
            Event::Start(tag) => is_inline_tag(tag),
            Event::End(tag) => is_inline_end(tag),
            Event::Text(_)
            | Event::Code(_)
            | Event::InlineHtml(_)
            | Event::FootnoteReference(_)
            | Event::SoftBreak
            | Event::HardBreak
            | Event::InlineMath(_) => true,
            _ => false,
        } && !self.in_code_block;
        match &event {
            Event::Start(Tag::CodeBlock(_)) => self.in_code_block = true,
            Event::End(TagEnd::CodeBlock) => self.in_code_block = false,
            _ => {}
        }
        if inline {
            if !matches!(event, Event::End(_)) {
                self.track_inline(&range, is_text);
            }
            self.extend_run(&range);
        } else {
            self.flush_run();
            if !matches!(event, Event::End(_)) {
                self.track_inline(&range, false);
            }
        }
        match event {
            Event::Start(tag) => self.start(tag, range),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => {
                if self.in_pieces && self.text_reference(&text, &range) {
                    return;
                }
                if let Some((_, h)) = &mut self.heading {
                    push_collapsed(h, &text);
                }
                self.push_text(&text, &range);
            }
            Event::Code(code) => {
                self.run_skip.push(range.clone());
                if let Some((_, h)) = &mut self.heading {
                    push_collapsed(h, &code);
                }
                self.push_owned(&code, range.start, range.end);
            }
            Event::SoftBreak | Event::HardBreak => self.space(),
            Event::FootnoteReference(label) => {
                self.run_skip.push(range.clone());
                self.refs.push(NoteRef {
                    kind: RefKind::Gfm,
                    label: label.to_lowercase(),
                    offset: range.start,
                });
            }
            Event::InlineHtml(html) => self.inline_html(&html, range),
            Event::Html(html) => {
                for ((href, len), at) in anchor_hrefs(&html) {
                    let span = href_span(self.src, &range, &html, at, len);
                    let owner = self.owner();
                    self.links.push(FoundLink {
                        derived_from: None,
                        span,
                        footnote: owner,
                        raw_url: href,
                        link_text: None,
                        form: LinkForm::HtmlHref,
                    });
                }
            }
            Event::Rule => {}
            _ => {}
        }
    }

    fn inline_html(&mut self, html: &str, range: Range<usize>) {
        let lower_starts = |p: &str| {
            html.len() >= p.len() && html.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
        };
        if lower_starts("<sup") {
            if let Some((label, end)) = sup_marker(self.src, range.start) {
                let is_own_marker = self
                    .block_note
                    .is_some_and(|n| self.notes[n].start == range.start);
                if !is_own_marker {
                    self.refs.push(NoteRef {
                        kind: RefKind::Sup,
                        label: label.to_ascii_lowercase(),
                        offset: range.start,
                    });
                }
                self.run_skip.push(range.start..end);
                self.in_sup = true;
            }
        } else if lower_starts("</sup") {
            self.in_sup = false;
        } else if lower_starts("<br") {
            self.space();
        } else if lower_starts("</a") {
            if let Some(pos) = self.open_links.iter().rposition(|l| l.html) {
                let open = self.open_links.remove(pos);
                self.run_skip.push(open.range_start..range.end);
                self.close_link(open);
            }
        } else if lower_starts("<a")
            && let Some(((href, len), at)) = anchor_hrefs(html).into_iter().next()
        {
            let span = href_span(self.src, &range, html, at, len);
            self.run_skip.push(range.clone());
            let owner = self.owner();
            self.links.push(FoundLink {
                derived_from: None,
                span,
                footnote: owner,
                raw_url: href,
                link_text: None,
                form: LinkForm::HtmlHref,
            });
            let owner_mark = owner.map_or(0, |n| self.notes[n].text.len());
            self.open_links.push(OpenLink {
                link: self.links.len() - 1,
                text: String::new(),
                owner,
                owner_mark,
                inner_end: range.end,
                html: true,
                range_start: range.start,
            });
        }
    }

    fn start(&mut self, tag: Tag<'a>, range: Range<usize>) {
        match tag {
            Tag::FootnoteDefinition(label) => {
                let marker_end = self.src[range.clone()]
                    .find("]:")
                    .map_or(range.start, |o| range.start + o + 2);
                let idx = self.new_note(label.to_string(), NoteKind::Gfm, range.start, marker_end);
                self.gfm_note = Some(idx);
            }
            Tag::Heading { level, .. } => {
                self.heading = Some((level as u8, String::new()));
                self.block_note = None;
            }
            Tag::Paragraph => self.start_paragraph(range),
            Tag::List(first) => {
                self.list_depth += 1;
                if self.list_depth == 1 && self.notes_section.is_some() && self.gfm_note.is_none() {
                    self.section_list = Some((first.unwrap_or(1), 0, self.list_depth));
                }
                self.space();
            }
            Tag::Item => {
                if let Some((first, index, depth)) = &mut self.section_list
                    && *depth == self.list_depth
                {
                    let label = (*first + *index).to_string();
                    *index += 1;
                    let marker_end = item_marker_end(self.src, range.start);
                    let idx = self.new_note(label, NoteKind::Section, range.start, marker_end);
                    self.block_note = Some(idx);
                    self.section_last = Some(idx);
                } else {
                    self.space();
                }
            }
            // an image's alt text stands for it like a link's text
            Tag::Link {
                link_type,
                dest_url,
                ..
            }
            | Tag::Image {
                link_type,
                dest_url,
                ..
            } => self.open_link(link_type, dest_url, range),
            _ => {}
        }
    }

    fn open_link(&mut self, link_type: LinkType, dest_url: CowStr<'a>, range: Range<usize>) {
        let (form, raw_url, span) = match link_type {
            LinkType::Inline => (LinkForm::Inline, dest_url.to_string(), range.clone()),
            LinkType::Autolink => (
                LinkForm::Autolink,
                dest_url.to_string(),
                range.start + 1..range.end.saturating_sub(1).max(range.start + 1),
            ),
            LinkType::Email => (
                LinkForm::Autolink,
                format!("mailto:{dest_url}"),
                range.start + 1..range.end.saturating_sub(1).max(range.start + 1),
            ),
            _ => (LinkForm::Reference, dest_url.to_string(), range.clone()),
        };
        self.run_skip.push(range.clone());
        let owner = self.owner();
        self.links.push(FoundLink {
            derived_from: None,
            span,
            footnote: owner,
            raw_url,
            link_text: None,
            form,
        });
        let owner_mark = owner.map_or(0, |n| self.notes[n].text.len());
        self.open_links.push(OpenLink {
            link: self.links.len() - 1,
            text: String::new(),
            owner,
            owner_mark,
            inner_end: range.start + 1,
            html: false,
            range_start: range.start,
        });
    }

    /// Finishes a link: its text, and for an inline link the position of
    /// the destination (after the `](` that closes the text).
    fn close_link(&mut self, mut open: OpenLink) {
        finish(&mut open.text);
        let link = &mut self.links[open.link];
        if link.form == LinkForm::Inline && !open.html {
            let whole = link.span.clone();
            let from = open.inner_end.clamp(whole.start, whole.end);
            let b = &self.src.as_bytes()[from..whole.end];
            let close = memchr::memchr_iter(b']', b).find(|&i| b.get(i + 1) == Some(&b'('));
            if let Some(o) = close {
                let mut d = from + o + 2;
                let b = self.src.as_bytes();
                while d < whole.end && b[d].is_ascii_whitespace() {
                    d += 1;
                }
                if d < whole.end && b[d] == b'<' {
                    d += 1;
                }
                let len = raw_dest_len(&self.src[d..whole.end]);
                link.span = d..d + len;
            }
        }
        // an autolink's text is its URL: there is no link text to report
        if open.text.is_empty() || link.form == LinkForm::Autolink {
            return;
        }
        let text = if super::url::looks_like_url(&open.text) {
            let cleaned = super::url::clean(&open.text).url;
            if let Some(n) = open.owner {
                let note = &mut self.notes[n];
                if open.owner_mark <= note.text.len() && note.text.is_char_boundary(open.owner_mark)
                {
                    note.text.truncate(open.owner_mark);
                    push_collapsed(&mut note.text, &cleaned);
                }
            }
            cleaned
        } else {
            open.text
        };
        link.link_text = Some(text);
        if let Some(outer) = self.open_links.last_mut() {
            push_collapsed(&mut outer.text, link.link_text.as_deref().unwrap_or(""));
        }
    }

    fn start_paragraph(&mut self, range: Range<usize>) {
        if self.gfm_note.is_some() {
            self.space();
            return;
        }
        if self.list_depth > 0 && self.section_list.is_some() {
            self.space();
            return;
        }
        if let Some((label, end)) = sup_marker(self.src, range.start) {
            let idx = self.new_note(label.to_string(), NoteKind::Sup, range.start, end);
            self.block_note = Some(idx);
            return;
        }
        if self.notes_section.is_some() && self.list_depth == 0 {
            if let Some((label, end)) = paragraph_marker(self.src, range.start) {
                let idx = self.new_note(label.to_string(), NoteKind::Section, range.start, end);
                self.block_note = Some(idx);
                self.section_last = Some(idx);
            } else if let Some(last) = self.section_last {
                self.block_note = Some(last);
                self.space();
            }
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::FootnoteDefinition => self.gfm_note = None,
            TagEnd::Heading(level) => {
                if let Some((_, text)) = self.heading.take() {
                    let level = level as u8;
                    if is_notes_heading(&text) {
                        self.notes_section = Some(level);
                        self.section_last = None;
                    } else if self.notes_section.is_some_and(|l| level <= l) {
                        self.notes_section = None;
                        self.section_last = None;
                    }
                }
            }
            TagEnd::Paragraph => match self.block_note {
                // a converted-PDF note is one paragraph, and so is a
                // numbered paragraph note (continued by the next unmarked one)
                Some(n)
                    if self.notes[n].kind == NoteKind::Sup
                        || (self.notes[n].kind == NoteKind::Section && self.list_depth == 0) =>
                {
                    self.block_note = None;
                }
                _ => self.space(),
            },
            TagEnd::Item => {
                if let Some((_, _, depth)) = self.section_list
                    && depth == self.list_depth
                {
                    self.block_note = None;
                } else {
                    self.space();
                }
            }
            TagEnd::List(_) => {
                if self
                    .section_list
                    .is_some_and(|(_, _, depth)| depth == self.list_depth)
                {
                    self.section_list = None;
                }
                self.list_depth = self.list_depth.saturating_sub(1);
            }
            TagEnd::Link | TagEnd::Image => {
                if let Some(pos) = self.open_links.iter().rposition(|l| !l.html) {
                    let open = self.open_links.remove(pos);
                    self.close_link(open);
                }
            }
            TagEnd::TableCell | TagEnd::BlockQuote(_) | TagEnd::CodeBlock => self.space(),
            _ => {}
        }
    }

    fn finish(mut self) -> Extraction {
        self.attach_references();
        // Not collected in place: that would keep the notes' larger buffer,
        // grown by doubling, through the whole assembly (heaptrack: 24 MB
        // at 200,000 notes, against 16 MB for the footnotes themselves).
        let mut footnotes = Vec::with_capacity(self.notes.len());
        footnotes.extend(self.notes.into_iter().map(|mut n| {
            finish(&mut n.text);
            FoundFootnote {
                label: n.label,
                start: n.start,
                references: n.references,
                text: n.text,
            }
        }));
        self.links.sort_by_key(|l| l.span.start);
        self.warnings.sort_by_key(|w| w.0);
        Extraction {
            page_starts: Vec::new(),
            footnotes,
            links: self.links,
            warnings: self.warnings,
        }
    }

    /// Ties each reference to its note and reports the loose ends.
    fn attach_references(&mut self) {
        let refs = std::mem::take(&mut self.refs);
        let mut sup_used = false;
        // Indexes by label, so a document with thousands of notes is not
        // quadratic: the first GFM definition of each label, and every
        // numbered note of each number in document order.
        let mut gfm: HashMap<String, usize> = HashMap::new();
        let mut numbered: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, n) in self.notes.iter().enumerate() {
            match n.kind {
                NoteKind::Gfm => {
                    gfm.entry(n.label.to_lowercase()).or_insert(i);
                }
                NoteKind::Sup | NoteKind::Section => {
                    numbered
                        .entry(n.label.to_ascii_lowercase())
                        .or_default()
                        .push(i);
                }
                NoteKind::Inline => {}
            }
        }
        let has_sup = self.notes.iter().any(|n| n.kind == NoteKind::Sup);
        for r in &refs {
            let target = match r.kind {
                RefKind::Gfm => gfm.get(&r.label).copied(),
                RefKind::GfmText => gfm.get(&r.label.to_lowercase()).copied(),
                RefKind::Sup | RefKind::Bracket => {
                    let candidates = numbered
                        .get(&r.label.to_ascii_lowercase())
                        .map_or(&[][..], Vec::as_slice);
                    let fits = |&&i: &&usize| {
                        let n = &self.notes[i];
                        !(n.start <= r.offset && r.offset < n.marker_end)
                    };
                    // the nearest definition after the reference (numbering
                    // may restart per chapter), else the last one before it
                    candidates
                        .iter()
                        .filter(fits)
                        .find(|&&i| self.notes[i].start > r.offset)
                        .or_else(|| candidates.iter().rfind(fits))
                        .copied()
                }
            };
            match target {
                Some(t) => {
                    if r.kind == RefKind::Sup {
                        sup_used = true;
                    }
                    self.notes[t].references.push(r.offset);
                }
                None if r.kind == RefKind::GfmText => {
                    self.warnings.push((
                        Some(r.offset),
                        format!("footnote [^{}] is referenced but never defined", r.label),
                    ));
                }
                None if r.kind == RefKind::Sup
                    && r.label.bytes().all(|b| b.is_ascii_digit())
                    && has_sup =>
                {
                    self.warnings.push((
                        Some(r.offset),
                        format!("note {} is referenced but never defined", r.label),
                    ));
                }
                None => {}
            }
        }
        for n in &mut self.notes {
            n.references.sort_unstable();
            n.references.dedup();
            let expect_reference = match n.kind {
                NoteKind::Gfm => true,
                NoteKind::Sup => sup_used,
                NoteKind::Inline | NoteKind::Section => false,
            };
            if expect_reference && n.references.is_empty() {
                let what = if n.kind == NoteKind::Gfm {
                    format!("footnote [^{}]", n.label)
                } else {
                    format!("note {}", n.label)
                };
                self.warnings.push((
                    Some(n.start),
                    format!("{what} is defined but never referenced"),
                ));
            }
        }
    }
}

/// The ranges of a run already taken by links and note references, sorted,
/// so that overlap tests stay logarithmic in paragraphs with thousands of
/// them.
struct SkipSet<'s> {
    ranges: &'s [Range<usize>],
    /// The largest end among `ranges[..=i]`.
    max_end: Vec<usize>,
}

impl<'s> SkipSet<'s> {
    fn new(ranges: &'s mut [Range<usize>]) -> SkipSet<'s> {
        ranges.sort_unstable_by_key(|r| r.start);
        let max_end = ranges
            .iter()
            .scan(0, |max, r| {
                *max = (*max).max(r.end);
                Some(*max)
            })
            .collect();
        SkipSet { ranges, max_end }
    }

    /// Whether `r` overlaps any range of the set.
    fn overlaps(&self, r: &Range<usize>) -> bool {
        let before_end = self.ranges.partition_point(|s| s.start < r.end);
        before_end > 0 && self.max_end[before_end - 1] > r.start
    }
}

fn is_inline_tag(tag: &Tag<'_>) -> bool {
    matches!(
        tag,
        Tag::Emphasis
            | Tag::Strong
            | Tag::Strikethrough
            | Tag::Superscript
            | Tag::Subscript
            | Tag::Link { .. }
            | Tag::Image { .. }
    )
}

fn is_inline_end(tag: &TagEnd) -> bool {
    matches!(
        tag,
        TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Superscript
            | TagEnd::Subscript
            | TagEnd::Link
            | TagEnd::Image
    )
}

/// `<sup>N</sup>` at `at`: the label and the offset after the marker (and
/// the space after it).
fn sup_marker(src: &str, at: usize) -> Option<(&str, usize)> {
    let b = src.as_bytes();
    let open = b.get(at..at + 5)?;
    if !open.eq_ignore_ascii_case(b"<sup>") {
        return None;
    }
    let mut i = at + 5;
    while i < b.len() && b[i] == b' ' {
        i += 1;
    }
    let label_start = i;
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'*') && i - label_start < 8 {
        i += 1;
    }
    let label_end = i;
    if label_end == label_start {
        return None;
    }
    while i < b.len() && b[i] == b' ' {
        i += 1;
    }
    let close = b.get(i..i + 6)?;
    if !close.eq_ignore_ascii_case(b"</sup>") {
        return None;
    }
    Some((&src[label_start..label_end], i + 6))
}

/// The label of `[label]` at the start of `rest` (after the `[` or `[^`):
/// no spaces, at most 32 bytes; digits only when `numeric`.
fn bracket_label(rest: &str, numeric: bool) -> Option<&str> {
    let end = rest.as_bytes().iter().take(33).position(|&b| b == b']')?;
    let label = &rest[..end];
    let ok = !label.is_empty()
        && if numeric {
            label.len() <= 4 && label.bytes().all(|b| b.is_ascii_digit())
        } else {
            !label.contains(|c: char| c.is_whitespace() || c == '[')
        };
    // `[1](url)` and `[1][ref]` are links, `[1]: url` a definition
    let next = rest.as_bytes().get(end + 1).copied();
    (ok && !(numeric && matches!(next, Some(b'(' | b'[' | b':')))).then_some(label)
}

/// The number that begins an endnote paragraph: `[1]`, `1.`, `1)`, `1\.`,
/// `1 `; returns the label and where the note's text starts.
fn paragraph_marker(src: &str, at: usize) -> Option<(&str, usize)> {
    let b = src.as_bytes();
    let bracket = b.get(at) == Some(&b'[');
    let ds = at + usize::from(bracket);
    let mut i = ds;
    while i < b.len() && b[i].is_ascii_digit() && i - ds < 4 {
        i += 1;
    }
    if i == ds {
        return None;
    }
    let label = &src[ds..i];
    let after = if bracket {
        (b.get(i) == Some(&b']')).then_some(i + 1)?
    } else if b.get(i) == Some(&b'\\') && b.get(i + 1) == Some(&b'.') {
        i + 2
    } else if matches!(b.get(i), Some(b'.' | b')')) {
        i + 1
    } else {
        i
    };
    if !matches!(b.get(after), Some(b' ' | b'\t')) {
        return None;
    }
    Some((label, after + 1))
}

/// Where an ordered/bullet list item's text starts (after `1.`, `-`…).
fn item_marker_end(src: &str, at: usize) -> usize {
    let b = src.as_bytes();
    let mut i = at;
    while i < b.len() && (b[i].is_ascii_digit() || matches!(b[i], b'.' | b')' | b'-' | b'*' | b'+'))
    {
        i += 1;
    }
    while i < b.len() && b[i] == b' ' {
        i += 1;
    }
    i
}

/// Length of a link destination as written, up to whitespace or the `)`
/// that closes it (parentheses inside balanced), or `>` for `<…>`.
fn raw_dest_len(s: &str) -> usize {
    let mut depth = 0usize;
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'(' => depth += 1,
            b')' if depth == 0 => break,
            b')' => depth -= 1,
            b'>' => break,
            c if c.is_ascii_whitespace() => break,
            _ => {}
        }
        i += 1;
    }
    i.min(b.len())
}

/// Where an href value stands in the source: exact when the HTML event is
/// the source as written, else the whole event.
fn href_span(src: &str, range: &Range<usize>, html: &str, at: usize, len: usize) -> Range<usize> {
    if src.get(range.clone()) == Some(html) {
        range.start + at..range.start + at + len
    } else {
        range.clone()
    }
}

/// The `href`s of the `<a>` tags in an HTML fragment: (decoded value,
/// length as written) and the offset of the value in the fragment.
fn anchor_hrefs(html: &str) -> Vec<((String, usize), usize)> {
    let mut out = Vec::new();
    let b = html.as_bytes();
    let mut from = 0;
    while let Some(o) = memchr::memchr(b'<', &b[from..]) {
        let tag_start = from + o;
        from = tag_start + 1;
        let Some(name) = b.get(tag_start + 1..tag_start + 3) else {
            break;
        };
        if !(name[0].eq_ignore_ascii_case(&b'a') && name[1].is_ascii_whitespace()) {
            continue;
        }
        let tag_end = memchr::memchr(b'>', &b[tag_start..]).map_or(b.len(), |e| tag_start + e);
        let tag = &html[tag_start..tag_end];
        if let Some((value, at)) = attribute(tag, "href") {
            let decoded = htmlize::unescape_attribute(value).into_owned();
            out.push(((decoded, value.len()), tag_start + at));
        }
        from = tag_end;
    }
    out
}

/// An attribute's raw value in a start tag, and its offset in the tag.
fn attribute<'t>(tag: &'t str, name: &str) -> Option<(&'t str, usize)> {
    let b = tag.as_bytes();
    let mut i = 0;
    while i + name.len() < b.len() {
        let prev_ok = i > 0 && b[i - 1].is_ascii_whitespace();
        if prev_ok && b[i..i + name.len()].eq_ignore_ascii_case(name.as_bytes()) {
            let mut j = i + name.len();
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            if b.get(j) == Some(&b'=') {
                j += 1;
                while j < b.len() && b[j].is_ascii_whitespace() {
                    j += 1;
                }
                return match b.get(j) {
                    Some(&q @ (b'"' | b'\'')) => {
                        let end = memchr::memchr(q, &b[j + 1..]).map_or(b.len(), |e| j + 1 + e);
                        Some((&tag[j + 1..end], j + 1))
                    }
                    Some(_) => {
                        let end = b[j..]
                            .iter()
                            .position(|c| c.is_ascii_whitespace() || *c == b'>')
                            .map_or(b.len(), |e| j + e);
                        Some((&tag[j..end], j))
                    }
                    None => None,
                };
            }
        }
        i += 1;
    }
    None
}

/// Spans of Pandoc inline notes `^[…]` in the source: the caret to the
/// matching bracket, within one paragraph, skipping escaped brackets.
fn inline_note_candidates(src: &str) -> Vec<Range<usize>> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    for at in memmem::find_iter(b, b"^[") {
        if at < from {
            continue;
        }
        let escaped = b[..at].iter().rev().take_while(|&&c| c == b'\\').count() % 2 == 1;
        if escaped {
            continue;
        }
        let mut depth = 0usize;
        let mut i = at + 1;
        let mut end = None;
        while i < b.len() {
            match b[i] {
                b'\\' => i += 1,
                b'[' => depth += 1,
                b']' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(i + 1);
                        break;
                    }
                }
                b'\n' => {
                    // a blank line ends the paragraph, and the note with it
                    let rest = &b[i + 1..];
                    let blank = rest
                        .iter()
                        .take_while(|&&c| c != b'\n')
                        .all(|c| c.is_ascii_whitespace());
                    if blank {
                        break;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        if let Some(end) = end {
            out.push(at..end);
            from = at + 2;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_set_finds_overlaps_among_nested_and_unsorted_ranges() {
        let mut ranges = vec![30..40, 0..100, 5..8, 120..130];
        let set = SkipSet::new(&mut ranges);
        assert!(set.overlaps(&(99..101)), "inside the long range");
        assert!(set.overlaps(&(125..126)));
        assert!(!set.overlaps(&(100..120)), "between ranges");
        assert!(!set.overlaps(&(130..131)), "ends are exclusive");
        let mut none: Vec<Range<usize>> = Vec::new();
        assert!(!SkipSet::new(&mut none).overlaps(&(0..1)));
    }

    /// Every construct whose meaning crosses blocks, for
    /// `pieces_parse_like_the_whole_document`.
    const CROSSING: &str = "---
title: A report
---

# Report

Claims cite notes defined far below.[^a] Another.[^B] And a missing one.[^zz]
See [the annex][annex] and [1] and [Annex].

> A quote with a note.[^a]
continued lazily.

- item one <https://list.test/1>
- item two

- loose item three

```
[^a] inside a fence is text

[^b]: nor is this a note
```

<!--

[^b]: hidden in a comment

-->

| col | link |
|-----|------|
| a   | https://table.test/a |

Text with an inline note.^[Inline https://inline.test/x.] And a sup.<sup>1</sup>

<sup>1</sup> Converted note https://sup.test/1.

***

## Notes

1. First endnote https://endnote.test/1

2. Second endnote [with a link](https://endnote.test/2)

[3] A bracketed note https://endnote.test/3.

## Sources

[^a]: Agency, \"Title\", 2023. Available at [https://a.test/x](https://a.test/x).

    A second paragraph of note a, https://a.test/more.
[^b]: See also [^a] and <https://b.test/>.
[^c]: Never cited https://c.test/.

[annex]: https://annex.test/ \"The annex\"
[1]: https://one.test/
";

    #[test]
    fn pieces_parse_like_the_whole_document() {
        let sample = include_str!("../../tests/fixtures/un-letter-2024-10-16.md");
        for doc in [CROSSING, sample] {
            let whole = extract_in_pieces(doc, usize::MAX);
            assert!(!whole.footnotes.is_empty() && !whole.links.is_empty());
            assert!(Pieces::of(doc, 1).ranges.len() > 5);
            for size in [1, 64, 512] {
                let cut = extract_in_pieces(doc, size);
                assert_eq!(cut.footnotes, whole.footnotes, "pieces of {size} bytes");
                assert_eq!(cut.links, whole.links, "pieces of {size} bytes");
                assert_eq!(cut.warnings, whole.warnings, "pieces of {size} bytes");
            }
        }
    }

    #[test]
    fn thousands_of_notes_keep_their_references() {
        let n = 3000;
        let mut doc = String::new();
        for i in 1..=n {
            doc.push_str(&format!("Claim[^{i}] and <sup>{i}</sup>. "));
        }
        doc.push_str("\n\n");
        for i in 1..=n {
            doc.push_str(&format!("[^{i}]: Source <https://x.test/{i}>\n"));
        }
        let ex = extract(&doc);
        assert_eq!(ex.footnotes.len(), n);
        assert!(ex.footnotes.iter().all(|f| f.references.len() == 1));
        assert!(ex.warnings.is_empty(), "{:?}", ex.warnings.first());
    }

    fn urls(ex: &Extraction) -> Vec<(Option<&str>, &str, LinkForm)> {
        ex.links
            .iter()
            .map(|l| {
                (
                    l.footnote.map(|i| ex.footnotes[i].label.as_str()),
                    l.raw_url.as_str(),
                    l.form,
                )
            })
            .collect()
    }

    #[test]
    fn gfm_footnotes_with_continuation_and_case_insensitive_labels() {
        let src = "Body[^A] and again[^a].\n\n[^a]: First para https://x.org/1.\n\n    Continued [site](https://y.org/2).\n\nAfter https://body.org\n";
        let ex = extract(src);
        assert_eq!(ex.footnotes.len(), 1);
        let n = &ex.footnotes[0];
        assert_eq!(n.label, "a");
        assert_eq!(n.references, vec![4, 18]);
        assert_eq!(n.text, "First para https://x.org/1. Continued site.");
        assert_eq!(
            urls(&ex),
            [
                (Some("a"), "https://x.org/1", LinkForm::Bare),
                (Some("a"), "https://y.org/2", LinkForm::Inline),
                (None, "https://body.org", LinkForm::Bare),
            ]
        );
        assert_eq!(&src[ex.links[1].span.clone()], "https://y.org/2");
        assert!(ex.warnings.is_empty(), "{:?}", ex.warnings);
    }

    #[test]
    fn reference_links_resolve_through_definitions() {
        let src = "Text[^1].\n\n[^1]: See [the report][rep] and [Rep].\n\n[rep]: https://r.org/report \"T\"\n";
        let ex = extract(src);
        assert_eq!(
            urls(&ex),
            [
                (Some("1"), "https://r.org/report", LinkForm::Reference),
                (Some("1"), "https://r.org/report", LinkForm::Reference),
            ]
        );
        assert_eq!(ex.links[0].link_text.as_deref(), Some("the report"));
        // the definition's own URL is not a second, bare citation
        assert_eq!(ex.links.len(), 2);
    }

    #[test]
    fn pandoc_inline_notes_are_span_accurate() {
        let src =
            "Claim.^[See [a](https://a.org) and https://b.org/x.] More https://c.org ^[Second.]\n";
        let ex = extract(src);
        let labels: Vec<&str> = ex.footnotes.iter().map(|n| n.label.as_str()).collect();
        assert_eq!(labels, ["1", "2"]);
        assert_eq!(ex.footnotes[0].text, "See a and https://b.org/x.");
        assert_eq!(ex.footnotes[0].start, 6);
        assert_eq!(ex.footnotes[0].references, vec![6]);
        assert_eq!(ex.footnotes[1].text, "Second.");
        assert_eq!(
            urls(&ex),
            [
                (Some("1"), "https://a.org", LinkForm::Inline),
                (Some("1"), "https://b.org/x", LinkForm::Bare),
                (None, "https://c.org", LinkForm::Bare),
            ]
        );
    }

    #[test]
    fn escaped_caret_bracket_is_not_a_note() {
        let ex = extract("a \\^[not a note] b\n");
        assert!(ex.footnotes.is_empty());
    }

    #[test]
    fn converted_pdf_sup_notes_and_references() {
        let src = "Body.<sup>1</sup> More.<sup>2</sup> Missing.<sup>9</sup>\n\n<sup>1</sup> One https://one.org/a\\_b.\n\n<sup>2</sup> Two.\n\n<sup>3</sup> Three.\n";
        let ex = extract(src);
        let notes: Vec<(&str, &str, usize)> = ex
            .footnotes
            .iter()
            .map(|n| (n.label.as_str(), n.text.as_str(), n.references.len()))
            .collect();
        assert_eq!(
            notes,
            [
                ("1", "One https://one.org/a_b.", 1),
                ("2", "Two.", 1),
                ("3", "Three.", 0)
            ]
        );
        assert_eq!(
            urls(&ex),
            [(Some("1"), "https://one.org/a\\_b", LinkForm::Bare)]
        );
        let messages: Vec<&str> = ex.warnings.iter().map(|w| w.1.as_str()).collect();
        assert_eq!(
            messages,
            [
                "note 9 is referenced but never defined",
                "note 3 is defined but never referenced"
            ]
        );
    }

    #[test]
    fn numbered_items_under_a_notes_heading() {
        let src = "Body [1] and [2].\n\n## Notes\n\n1. First <https://f.org>.\n2. Second https://s.org\n\n## Appendix\n\n1. Not a note https://n.org\n";
        let ex = extract(src);
        let labels: Vec<(&str, &str)> = ex
            .footnotes
            .iter()
            .map(|n| (n.label.as_str(), n.text.as_str()))
            .collect();
        assert_eq!(
            labels,
            [("1", "First https://f.org."), ("2", "Second https://s.org")]
        );
        assert_eq!(ex.footnotes[0].references, vec![5]);
        assert_eq!(
            urls(&ex),
            [
                (Some("1"), "https://f.org", LinkForm::Autolink),
                (Some("2"), "https://s.org", LinkForm::Bare),
                (None, "https://n.org", LinkForm::Bare),
            ]
        );
    }

    #[test]
    fn bracket_and_plain_number_paragraphs_under_references() {
        let src = "# References\n\n[1] Alpha https://a.org\n\n2 Beta https://b.org\ncontinued.\n\nUnmarked continuation https://c.org\n";
        let ex = extract(src);
        let labels: Vec<(&str, &str)> = ex
            .footnotes
            .iter()
            .map(|n| (n.label.as_str(), n.text.as_str()))
            .collect();
        assert_eq!(
            labels,
            [
                ("1", "Alpha https://a.org"),
                (
                    "2",
                    "Beta https://b.org continued. Unmarked continuation https://c.org"
                )
            ]
        );
        assert_eq!(ex.links.iter().filter(|l| l.footnote == Some(1)).count(), 2);
    }

    #[test]
    fn raw_html_anchor_decoded() {
        let src = "x[^1]\n\n[^1]: See <a href=\"https://h.org/?a=1&amp;b=2\">the page</a> now.\n";
        let ex = extract(src);
        assert_eq!(
            urls(&ex),
            [(Some("1"), "https://h.org/?a=1&b=2", LinkForm::HtmlHref)]
        );
        assert_eq!(ex.links[0].link_text.as_deref(), Some("the page"));
        assert_eq!(&src[ex.links[0].span.clone()], "https://h.org/?a=1&amp;b=2");
        assert_eq!(ex.footnotes[0].text, "See the page now.");
    }

    #[test]
    fn link_whose_text_is_a_url_is_one_citation() {
        let src = "x[^1]\n\n[^1]: [https://t.org/a\\\\_b](https://t.org/a_b) and [https://old.org](https://new.org).\n";
        let ex = extract(src);
        assert_eq!(ex.links.len(), 2);
        assert_eq!(ex.links[0].link_text.as_deref(), Some("https://t.org/a_b"));
        assert_eq!(
            ex.footnotes[0].text,
            "https://t.org/a_b and https://old.org."
        );
        let doc = super::super::assemble(
            "d".into(),
            src,
            super::super::Format::Markdown,
            ex,
            &Default::default(),
        );
        assert_eq!(doc.citations[0].text_url_mismatch, None);
        assert_eq!(
            doc.citations[1].text_url_mismatch.as_deref(),
            Some("https://old.org")
        );
    }

    #[test]
    fn loose_ends_are_warnings() {
        let src = "See[^gone] and[^used].\n\n[^used]: Used.\n\n[^lonely]: Nobody points here.\n";
        let ex = extract(src);
        let w: Vec<(Option<usize>, &str)> =
            ex.warnings.iter().map(|(o, m)| (*o, m.as_str())).collect();
        assert_eq!(
            w,
            [
                (Some(3), "footnote [^gone] is referenced but never defined"),
                (
                    Some(40),
                    "footnote [^lonely] is defined but never referenced"
                ),
            ]
        );
    }

    #[test]
    fn code_blocks_and_link_destinations_yield_no_bare_urls() {
        let src = "```\nhttps://code.org\n```\n\n[t](https://once.org)\n";
        let ex = extract(src);
        assert_eq!(urls(&ex), [(None, "https://once.org", LinkForm::Inline)]);
    }
}
