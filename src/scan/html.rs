//! HTML footnotes: Pandoc, Hugo, Jekyll, GitHub, DPUB-ARIA and Wikipedia markup.
//!
//! lol_html tokenizes the page in one streaming pass and gives the source
//! position of every start tag, attribute value and text chunk. It builds no
//! tree and does not close elements the HTML spec closes implicitly (`<li>`
//! before another `<li>`, `<p>` before a block), so [`parse`] keeps a light
//! tree of its own: a flat list of open/close/text events with those implied
//! closes applied. Two passes then run over that list:
//!
//! 1. note references: `<sup><a href="#…">` (and `<a href="#…"><sup>`, and
//!    anchors marked `role="doc-noteref"`, `data-footnote-ref`, `footnote-ref`)
//!    outside any footnote, collected by target id with their visible text;
//! 2. notes and links: each `li` of a footnote container, each DPUB-ARIA
//!    `doc-footnote`/`doc-endnote`, and each element a note reference points
//!    to becomes one footnote; every `href` and bare URL inside it is one of
//!    its citations, and those outside any note are body links.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::rc::Rc;

use lol_html::html_content::{Element, TextChunk, TextType};
use lol_html::{HtmlRewriter, Settings, doc_text, element, end_tag};

use super::{Extraction, FoundFootnote, FoundLink, LinkForm};

/// Extracts footnotes and links from an HTML page.
///
/// Malformed HTML is still scanned: the tokenizer never rejects input, and
/// elements left open are closed at the end of the page.
pub fn extract(source: &str) -> Extraction {
    let page = parse(source);
    let refs = collect_references(&page);
    let mut extraction = extract_notes(&page, &refs);
    if let Some(err) = &page.parse_error {
        extraction
            .warnings
            .push((None, format!("HTML parser stopped early: {err}")));
    }
    for (target, found) in &refs.by_target {
        if !page.ids.contains(target) {
            for reference in found {
                extraction.warnings.push((
                    Some(reference.offset),
                    format!("note reference \"#{target}\" points to no element with that id"),
                ));
            }
        }
    }
    extraction.warnings.sort_by_key(|(offset, _)| *offset);
    extraction
}

/// One element's start tag with the attributes footnote detection reads.
#[derive(Debug, Default)]
struct Node {
    /// Lowercase tag name.
    tag: String,
    /// Parent element, if any.
    parent: Option<usize>,
    /// Source bytes of the start tag.
    start: Range<usize>,
    id: Option<String>,
    class: String,
    role: String,
    /// The decoded `href` and the source bytes of its value.
    href: Option<(String, Range<usize>)>,
    /// `start` on `<ol>`, `value` on `<li>`.
    number: Option<i64>,
    data_footnotes: bool,
    data_footnote_ref: bool,
    data_footnote_backref: bool,
}

impl Node {
    fn has_class(&self, name: &str) -> bool {
        self.class.split_ascii_whitespace().any(|c| c == name)
    }

    fn has_role(&self, name: &str) -> bool {
        self.role.split_ascii_whitespace().any(|r| r == name)
    }

    /// A container whose list items are footnotes.
    fn is_container(&self) -> bool {
        ((self.tag == "section" || self.tag == "div") && self.has_class("footnotes"))
            || (self.tag == "section" && self.data_footnotes)
            || self.has_role("doc-endnotes")
            || (self.tag == "ol" && self.has_class("references"))
            || self.has_class("reflist")
    }

    /// An element that is itself one note (DPUB-ARIA).
    fn is_note_role(&self) -> bool {
        self.has_role("doc-footnote") || self.has_role("doc-endnote")
    }

    /// A link back from a note to its reference: not part of the citation.
    fn is_backlink(&self) -> bool {
        self.has_role("doc-backlink")
            || self.data_footnote_backref
            || self.has_class("footnote-backref")
            || self.has_class("reversefootnote")
            || self.has_class("footnote-back")
            || self.has_class("mw-cite-backlink")
    }

    /// An anchor that declares itself a note reference.
    fn is_marked_noteref(&self) -> bool {
        self.has_role("doc-noteref")
            || self.data_footnote_ref
            || self.has_class("footnote-ref")
            || self.has_class("footnote-reference")
            || self.has_class("noteref")
    }

    /// Elements whose text is never prose.
    fn is_hidden_text(&self) -> bool {
        matches!(
            self.tag.as_str(),
            "script" | "style" | "template" | "title" | "head"
        )
    }

    /// Elements that separate words in the rendered text.
    fn is_block(&self) -> bool {
        matches!(
            self.tag.as_str(),
            "p" | "div"
                | "br"
                | "li"
                | "ol"
                | "ul"
                | "dl"
                | "dt"
                | "dd"
                | "blockquote"
                | "section"
                | "aside"
                | "article"
                | "h1"
                | "h2"
                | "h3"
                | "h4"
                | "h5"
                | "h6"
                | "table"
                | "tr"
                | "td"
                | "th"
                | "hr"
                | "pre"
                | "figure"
                | "figcaption"
                | "header"
                | "footer"
                | "nav"
                | "main"
                | "address"
                | "details"
                | "summary"
        )
    }
}

/// A step through the page in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Open(usize),
    Close(usize),
    /// Raw (undecoded) text, as source bytes.
    Text(Range<usize>),
}

/// The page as a flat, well-nested event list.
#[derive(Debug, Default)]
struct Page<'a> {
    source: &'a str,
    nodes: Vec<Node>,
    events: Vec<Event>,
    ids: HashSet<String>,
    parse_error: Option<String>,
}

/// Builds the event list from lol_html's callbacks, applying the implied
/// end tags lol_html leaves to the tree builder.
#[derive(Default)]
struct TreeBuilder {
    nodes: Vec<Node>,
    events: Vec<Event>,
    stack: Vec<usize>,
    ids: HashSet<String>,
}

/// Elements that stop the search for an open `<p>` to close implicitly.
const P_SCOPE: &[&str] = &[
    "div",
    "section",
    "article",
    "aside",
    "li",
    "td",
    "th",
    "table",
    "blockquote",
    "body",
    "html",
    "ol",
    "ul",
    "dl",
    "dd",
    "dt",
    "figure",
    "header",
    "footer",
    "nav",
    "main",
    "button",
];

impl TreeBuilder {
    fn open(&mut self, mut node: Node, void: bool) -> usize {
        if node.tag == "li" {
            self.close_implied("li", &["ol", "ul", "menu", "table", "td", "th"]);
        } else if node.tag == "p" || (node.is_block() && node.tag != "br") {
            self.close_implied("p", P_SCOPE);
        }
        node.parent = self.stack.last().copied();
        if let Some(id) = &node.id {
            self.ids.insert(id.clone());
        }
        let index = self.nodes.len();
        self.nodes.push(node);
        self.events.push(Event::Open(index));
        if void {
            self.events.push(Event::Close(index));
        } else {
            self.stack.push(index);
        }
        index
    }

    /// Closes an open `tag` (and what it contains) unless a `scope` element
    /// stands between it and the current position.
    fn close_implied(&mut self, tag: &str, scope: &[&str]) {
        for depth in (0..self.stack.len()).rev() {
            let name = self.nodes[self.stack[depth]].tag.as_str();
            if name == tag {
                self.pop_to(depth);
                return;
            }
            if scope.contains(&name) {
                return;
            }
        }
    }

    fn pop_to(&mut self, depth: usize) {
        while self.stack.len() > depth {
            if let Some(index) = self.stack.pop() {
                self.events.push(Event::Close(index));
            }
        }
    }

    fn close(&mut self, index: usize) {
        if let Some(depth) = self.stack.iter().rposition(|&i| i == index) {
            self.pop_to(depth);
        }
    }

    fn text(&mut self, range: Range<usize>) {
        if let Some(Event::Text(last)) = self.events.last_mut()
            && last.end == range.start
        {
            last.end = range.end;
            return;
        }
        self.events.push(Event::Text(range));
    }
}

fn decode_attribute(value: &str) -> String {
    htmlize::unescape_attribute(value).into_owned()
}

fn read_node(el: &Element<'_, '_>) -> Node {
    let mut node = Node {
        tag: el.tag_name(),
        start: el.source_location().bytes(),
        ..Node::default()
    };
    for attr in el.attributes() {
        let name = attr.name();
        match name.as_str() {
            "id" => node.id = Some(decode_attribute(&attr.value())),
            "class" => node.class = decode_attribute(&attr.value()),
            "role" => node.role = decode_attribute(&attr.value()),
            "href" => {
                let span = attr
                    .value_source_location()
                    .map(|l| l.bytes())
                    .unwrap_or_else(|| node.start.clone());
                node.href = Some((decode_attribute(&attr.value()), span));
            }
            "start" if node.tag == "ol" => node.number = attr.value().trim().parse().ok(),
            "value" if node.tag == "li" => node.number = attr.value().trim().parse().ok(),
            "data-footnotes" => node.data_footnotes = true,
            "data-footnote-ref" => node.data_footnote_ref = true,
            "data-footnote-backref" => node.data_footnote_backref = true,
            _ => {}
        }
    }
    node
}

/// Tokenizes the page with lol_html into a well-nested event list.
fn parse(source: &str) -> Page<'_> {
    let builder = Rc::new(RefCell::new(TreeBuilder::default()));
    let on_element = {
        let builder = builder.clone();
        move |el: &mut Element<'_, '_>| {
            let void = !el.can_have_content();
            let index = builder.borrow_mut().open(read_node(el), void);
            if !void {
                let builder = builder.clone();
                el.on_end_tag(end_tag!(move |_end| {
                    builder.borrow_mut().close(index);
                    Ok(())
                }))?;
            }
            Ok(())
        }
    };
    let on_text = {
        let builder = builder.clone();
        move |chunk: &mut TextChunk<'_>| {
            if chunk.text_type() == TextType::Data && !chunk.as_str().is_empty() {
                builder.borrow_mut().text(chunk.source_location().bytes());
            }
            Ok(())
        }
    };
    let settings = Settings::new()
        .with_strict(false)
        .append_element_content_handler(element!("*", on_element))
        .append_document_content_handler(doc_text!(on_text));
    let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
    let parse_error = rewriter
        .write(source.as_bytes())
        .and_then(|()| rewriter.end())
        .err()
        .map(|e| e.to_string());
    let mut builder = builder.take();
    builder.pop_to(0);
    // Text spans always lie on character boundaries of the input; guard
    // anyway so a surprise from the tokenizer can never cause a panic.
    builder.events.retain(|e| match e {
        Event::Text(r) => {
            r.start <= r.end
                && r.end <= source.len()
                && source.is_char_boundary(r.start)
                && source.is_char_boundary(r.end)
        }
        _ => true,
    });
    Page {
        source,
        nodes: builder.nodes,
        events: builder.events,
        ids: builder.ids,
        parse_error,
    }
}

/// Text decoded from HTML, with a map back to source offsets.
#[derive(Debug, Default)]
struct DecodedText {
    text: String,
    /// `(decoded offset, source offset, literal)` at the start of each piece;
    /// inside a literal piece offsets advance together, an entity maps to its `&`.
    map: Vec<(usize, usize, bool)>,
}

impl DecodedText {
    fn decode(raw: &str, base: usize) -> DecodedText {
        let mut out = DecodedText::default();
        let bytes = raw.as_bytes();
        let mut i = 0;
        while i < raw.len() {
            let Some(amp) = memchr::memchr(b'&', &bytes[i..]).map(|p| i + p) else {
                out.literal(&raw[i..], base + i);
                break;
            };
            if amp > i {
                out.literal(&raw[i..amp], base + i);
            }
            let end = entity_end(bytes, amp);
            let piece = &raw[amp..end];
            out.map.push((out.text.len(), base + amp, end - amp == 1));
            out.text.push_str(&htmlize::unescape(piece));
            i = end;
        }
        out
    }

    fn literal(&mut self, piece: &str, source: usize) {
        self.map.push((self.text.len(), source, true));
        self.text.push_str(piece);
    }

    /// Source offset of a decoded offset.
    fn source_offset(&self, decoded: usize) -> usize {
        let at = self.map.partition_point(|&(d, _, _)| d <= decoded);
        match at.checked_sub(1).map(|i| self.map[i]) {
            Some((d, s, true)) => s + (decoded - d),
            Some((_, s, false)) => s,
            None => self.map.first().map_or(0, |&(_, s, _)| s),
        }
    }
}

/// End of the character reference starting at `amp` (or `amp + 1` when the
/// `&` starts none).
fn entity_end(bytes: &[u8], amp: usize) -> usize {
    let mut j = amp + 1;
    if bytes.get(j) == Some(&b'#') {
        j += 1;
        if matches!(bytes.get(j), Some(b'x' | b'X')) {
            j += 1;
            while bytes.get(j).is_some_and(u8::is_ascii_hexdigit) {
                j += 1;
            }
        } else {
            while bytes.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
        }
    } else {
        while bytes.get(j).is_some_and(u8::is_ascii_alphanumeric) {
            j += 1;
        }
    }
    if j == amp + 1 || (j == amp + 2 && bytes[amp + 1] == b'#') {
        return amp + 1;
    }
    if bytes.get(j) == Some(&b';') {
        j += 1;
    }
    j
}

/// One note reference in the body.
#[derive(Debug)]
struct NoteReference {
    /// Byte offset of the referencing anchor.
    offset: usize,
    /// Its visible text (`1`, `[3]`), decoded and trimmed.
    text: String,
    /// The anchor element.
    node: usize,
}

/// Everything pass 1 learns about note references.
#[derive(Debug, Default)]
struct References {
    /// Target id → references to it, in document order.
    by_target: HashMap<String, Vec<NoteReference>>,
    /// Anchors that are note references: not body links.
    anchors: HashSet<usize>,
    /// Ids of the references (`fnref1`, `cite_ref-1`): a link to one of
    /// these from inside a note is a back-reference.
    ids: HashSet<String>,
}

/// Pass 1: note references outside any footnote.
fn collect_references(page: &Page<'_>) -> References {
    struct OpenAnchor {
        node: usize,
        target: String,
        is_reference: bool,
        text: String,
        sup_id: Option<String>,
    }
    let mut refs = References::default();
    let mut in_notes = 0usize;
    let mut sups: Vec<Option<String>> = Vec::new();
    let mut anchor: Option<OpenAnchor> = None;
    for event in &page.events {
        match event {
            Event::Open(n) => {
                let node = &page.nodes[*n];
                if node.is_container() || node.is_note_role() {
                    in_notes += 1;
                }
                if node.tag == "sup" {
                    sups.push(node.id.clone());
                    if let Some(open) = &mut anchor {
                        open.is_reference = true;
                    }
                }
                if node.tag == "a"
                    && in_notes == 0
                    && anchor.is_none()
                    && !node.is_backlink()
                    && let Some((href, _)) = &node.href
                    && let Some(target) = href.strip_prefix('#')
                    && !target.is_empty()
                {
                    anchor = Some(OpenAnchor {
                        node: *n,
                        target: target.to_string(),
                        is_reference: !sups.is_empty() || node.is_marked_noteref(),
                        text: String::new(),
                        sup_id: sups.iter().rev().flatten().next().cloned(),
                    });
                }
            }
            Event::Text(range) => {
                if let Some(open) = &mut anchor {
                    open.text
                        .push_str(&htmlize::unescape(&page.source[range.clone()]));
                }
            }
            Event::Close(n) => {
                let node = &page.nodes[*n];
                if node.is_container() || node.is_note_role() {
                    in_notes = in_notes.saturating_sub(1);
                }
                if node.tag == "sup" {
                    sups.pop();
                }
                if anchor.as_ref().is_some_and(|a| a.node == *n)
                    && let Some(open) = anchor.take()
                    && open.is_reference
                {
                    refs.anchors.insert(open.node);
                    refs.ids.extend(node.id.clone());
                    refs.ids.extend(open.sup_id);
                    refs.by_target
                        .entry(open.target)
                        .or_default()
                        .push(NoteReference {
                            offset: node.start.start,
                            text: collapse_whitespace(&open.text),
                            node: open.node,
                        });
                }
            }
        }
    }
    refs
}

/// The note being read in pass 2.
struct OpenNote {
    /// Index into the extraction's footnotes.
    index: usize,
    /// The element whose close ends the note.
    closes_with: usize,
    text: String,
}

/// An open `<a>` in pass 2.
struct OpenLink {
    node: usize,
    /// Index into the extraction's links, when the anchor has an href.
    link: Option<usize>,
    text: String,
}

/// Pass 2: notes, their links and text, and body links.
fn extract_notes(page: &Page<'_>, refs: &References) -> Extraction {
    let mut finder = linkify::LinkFinder::new();
    finder.kinds(&[linkify::LinkKind::Url]);
    let mut out = Extraction::default();
    let mut note: Option<OpenNote> = None;
    let mut referenced: Vec<bool> = Vec::new();
    let mut skip: Vec<usize> = Vec::new();
    let mut anchors: Vec<OpenLink> = Vec::new();
    let mut lists: Vec<(usize, i64)> = Vec::new();
    let mut containers = 0usize;
    for event in &page.events {
        match event {
            Event::Open(n) => {
                let n = *n;
                let node = &page.nodes[n];
                if !skip.is_empty() {
                    continue;
                }
                let backlink = note.is_some()
                    && (node.is_backlink()
                        || node.tag == "a"
                            && node.href.as_ref().is_some_and(|(href, _)| {
                                href.strip_prefix('#').is_some_and(|t| refs.ids.contains(t))
                            }));
                if node.is_hidden_text() || backlink {
                    skip.push(n);
                    continue;
                }
                if node.is_container() {
                    containers += 1;
                }
                let mut ordinal = None;
                match node.tag.as_str() {
                    "ol" | "ul" | "menu" => lists.push((n, node.number.unwrap_or(1))),
                    "li" => {
                        if let Some((_, next)) = lists.last_mut() {
                            let number = node.number.unwrap_or(*next);
                            *next = number.saturating_add(1);
                            if page.nodes[lists.last().map_or(0, |l| l.0)].tag == "ol" {
                                ordinal = Some(number);
                            }
                        }
                    }
                    _ => {}
                }
                if note.is_none() {
                    let targeted = node.id.as_ref().and_then(|id| refs.by_target.get(id));
                    let by_target = targeted.is_some_and(|found| {
                        !node.is_container()
                            && !matches!(node.tag.as_str(), "html" | "body" | "main")
                            && !found.iter().any(|r| is_ancestor(page, n, r.node))
                    });
                    let is_note =
                        (node.tag == "li" && containers > 0) || node.is_note_role() || by_target;
                    if is_note {
                        // An empty `<a id>` target marks its parent as the note.
                        let closes_with = if node.tag == "a" && by_target {
                            node.parent.unwrap_or(n)
                        } else {
                            n
                        };
                        let found = targeted.map(Vec::as_slice).unwrap_or_default();
                        let label = note_label(node, ordinal, found, out.footnotes.len() + 1);
                        referenced.push(!found.is_empty());
                        note = Some(OpenNote {
                            index: out.footnotes.len(),
                            closes_with,
                            text: String::new(),
                        });
                        out.footnotes.push(FoundFootnote {
                            label,
                            start: node.start.start,
                            references: found.iter().map(|r| r.offset).collect(),
                            text: String::new(),
                        });
                    }
                }
                if let Some(open) = &mut note
                    && node.is_block()
                {
                    open.text.push(' ');
                }
                // Anchors without href (`<a id>`, `<a name>`) are targets,
                // not links: their text stays open to bare-URL search.
                if node.tag == "a"
                    && let Some((href, span)) = &node.href
                {
                    let link = (!refs.anchors.contains(&n)).then(|| {
                        out.links.push(FoundLink {
                            derived_from: None,
                            span: span.clone(),
                            footnote: note.as_ref().map(|o| o.index),
                            raw_url: href.clone(),
                            link_text: None,
                            form: LinkForm::HtmlHref,
                        });
                        out.links.len() - 1
                    });
                    anchors.push(OpenLink {
                        node: n,
                        link,
                        text: String::new(),
                    });
                }
            }
            Event::Text(range) => {
                if !skip.is_empty() {
                    continue;
                }
                let decoded = DecodedText::decode(&page.source[range.clone()], range.start);
                if let Some(open) = &mut note {
                    open.text.push_str(&decoded.text);
                }
                if let Some(anchor) = anchors.last_mut() {
                    anchor.text.push_str(&decoded.text);
                } else if decoded.text.contains(':') {
                    for hit in finder.links(&decoded.text) {
                        let start = decoded.source_offset(hit.start());
                        let end = decoded.source_offset(hit.end()).max(start);
                        out.links.push(FoundLink {
                            derived_from: None,
                            span: start..end,
                            footnote: note.as_ref().map(|o| o.index),
                            raw_url: hit.as_str().to_string(),
                            link_text: None,
                            form: LinkForm::Bare,
                        });
                    }
                }
            }
            Event::Close(n) => {
                let n = *n;
                if let Some(&top) = skip.last() {
                    if top == n {
                        skip.pop();
                    }
                    continue;
                }
                let node = &page.nodes[n];
                if node.is_container() {
                    containers = containers.saturating_sub(1);
                }
                if lists.last().is_some_and(|l| l.0 == n) {
                    lists.pop();
                }
                if anchors.last().is_some_and(|a| a.node == n)
                    && let Some(anchor) = anchors.pop()
                    && let Some(link) = anchor.link
                {
                    let text = collapse_whitespace(&anchor.text);
                    out.links[link].link_text = (!text.is_empty()).then_some(text);
                }
                if let Some(open) = &mut note
                    && node.is_block()
                {
                    open.text.push(' ');
                }
                if note.as_ref().is_some_and(|o| o.closes_with == n)
                    && let Some(open) = note.take()
                {
                    out.footnotes[open.index].text = note_text(&open.text);
                }
            }
        }
    }
    if let Some(open) = note.take() {
        out.footnotes[open.index].text = note_text(&open.text);
    }
    for (footnote, referenced) in out.footnotes.iter().zip(referenced) {
        if !referenced {
            out.warnings.push((
                Some(footnote.start),
                format!("footnote {} is never referenced", footnote.label),
            ));
        }
    }
    out
}

/// Whether `ancestor` contains `node`.
fn is_ancestor(page: &Page<'_>, ancestor: usize, node: usize) -> bool {
    let mut at = page.nodes.get(node).and_then(|n| n.parent);
    while let Some(p) = at {
        if p == ancestor {
            return true;
        }
        at = page.nodes[p].parent;
    }
    false
}

/// The label a reader sees: the reference's visible text, else the list
/// number, else the id, else the note's position.
fn note_label(
    node: &Node,
    ordinal: Option<i64>,
    refs: &[NoteReference],
    position: usize,
) -> String {
    let visible = refs
        .iter()
        .map(|r| {
            r.text
                .trim_matches(|c: char| c.is_whitespace() || "[]()".contains(c))
                .to_string()
        })
        .find(|t| !t.is_empty() && t.chars().count() <= 24);
    visible
        .or_else(|| ordinal.map(|o| o.to_string()))
        .or_else(|| node.id.clone().filter(|id| !id.is_empty()))
        .unwrap_or_else(|| position.to_string())
}

fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// A note's text on one line, without back-reference arrows.
fn note_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if word
            .chars()
            .all(|c| matches!(c, '↩' | '↑' | '⤴' | '^' | '↵' | '\u{FE0E}' | '\u{FE0F}'))
        {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(e: &Extraction) -> Vec<&str> {
        e.footnotes.iter().map(|f| f.label.as_str()).collect()
    }

    fn urls(e: &Extraction) -> Vec<(Option<usize>, &str)> {
        e.links
            .iter()
            .map(|l| (l.footnote, l.raw_url.as_str()))
            .collect()
    }

    #[test]
    fn pandoc_footnotes() {
        let html = r##"<p>Text<a href="#fn1" class="footnote-ref" id="fnref1" role="doc-noteref"><sup>1</sup></a>
and <a href="https://body.example/">body</a>.</p>
<section id="footnotes" class="footnotes footnotes-end-of-document" role="doc-endnotes">
<hr />
<ol>
<li id="fn1"><p>See <a href="https://example.org/a?x=1&amp;y=2">the report</a>, 2020.<a href="#fnref1" class="footnote-back" role="doc-backlink">↩︎</a></p></li>
</ol>
</section>"##;
        let e = extract(html);
        assert_eq!(labels(&e), ["1"]);
        assert_eq!(e.footnotes[0].text, "See the report, 2020.");
        assert_eq!(
            e.footnotes[0].references,
            [html.find("<a href=\"#fn1\"").unwrap()]
        );
        assert_eq!(
            urls(&e),
            [
                (None, "https://body.example/"),
                (Some(0), "https://example.org/a?x=1&y=2")
            ]
        );
        assert_eq!(e.links[1].link_text.as_deref(), Some("the report"));
        let span = e.links[1].span.clone();
        assert_eq!(&html[span], "https://example.org/a?x=1&amp;y=2");
        assert!(e.warnings.is_empty(), "{:?}", e.warnings);
    }

    #[test]
    fn implied_list_item_ends_start_new_notes() {
        let html = r##"<p>A<sup><a href="#n1">1</a></sup> B<sup><a href="#n2">2</a></sup></p>
<div class="footnotes"><ol><li id="n1">One https://one.example/x.<li id="n2">Two <a href=https://two.example/>two</a></ol></div>"##;
        let e = extract(html);
        assert_eq!(labels(&e), ["1", "2"]);
        assert_eq!(e.footnotes[0].text, "One https://one.example/x.");
        assert_eq!(e.footnotes[1].text, "Two two");
        assert_eq!(
            urls(&e),
            [
                (Some(0), "https://one.example/x"),
                (Some(1), "https://two.example/")
            ]
        );
    }

    #[test]
    fn nested_list_stays_in_its_note() {
        let html = r##"<section class="footnotes"><ol><li id="fn1">Sources:<ul><li>https://a.example/</li><li>https://b.example/</li></ul></li><li id="fn2">Second.</li></ol></section>"##;
        let e = extract(html);
        assert_eq!(labels(&e), ["1", "2"]);
        assert_eq!(
            urls(&e),
            [
                (Some(0), "https://a.example/"),
                (Some(0), "https://b.example/")
            ]
        );
        assert_eq!(
            e.footnotes[0].text,
            "Sources: https://a.example/ https://b.example/"
        );
        // Neither note has a reference in the body.
        assert_eq!(e.warnings.len(), 2);
    }

    #[test]
    fn ordered_list_start_and_value_give_labels() {
        let html = r#"<div class="footnotes"><ol start="4"><li>a</li><li value="9">b</li><li>c</li></ol></div>"#;
        assert_eq!(labels(&extract(html)), ["4", "9", "10"]);
    }

    #[test]
    fn any_element_a_sup_reference_points_to_is_a_note() {
        let html = r##"<p>Claim<sup><a href="#note-12">12</a></sup>.</p>
<p id="note-12">12. Smith, <i>Title</i>, https://smith.example/page.</p>
<p>After the note https://after.example/.</p>"##;
        let e = extract(html);
        assert_eq!(labels(&e), ["12"]);
        assert_eq!(
            e.footnotes[0].text,
            "12. Smith, Title, https://smith.example/page."
        );
        assert_eq!(
            urls(&e),
            [
                (Some(0), "https://smith.example/page"),
                (None, "https://after.example/")
            ]
        );
    }

    #[test]
    fn empty_anchor_target_marks_its_parent() {
        let html = r##"<p>x<sup><a href="#f1">1</a></sup></p><p><a id="f1"></a>1. See https://a.example/.</p><p>https://body.example/</p>"##;
        let e = extract(html);
        assert_eq!(labels(&e), ["1"]);
        assert_eq!(
            urls(&e),
            [
                (Some(0), "https://a.example/"),
                (None, "https://body.example/")
            ]
        );
    }

    #[test]
    fn dpub_aria_footnote_and_endnotes() {
        let html = r##"<p>x<a role="doc-noteref" href="#a1">a</a></p>
<aside role="doc-footnote" id="a1">Aside note <a href="mailto:x@example.org">mail</a></aside>
<section role="doc-endnotes"><ol><li role="doc-endnote" id="e1">End https://end.example/</li></ol></section>"##;
        let e = extract(html);
        assert_eq!(labels(&e), ["a", "1"]);
        assert_eq!(
            urls(&e),
            [
                (Some(0), "mailto:x@example.org"),
                (Some(1), "https://end.example/")
            ]
        );
    }

    #[test]
    fn wikipedia_references() {
        let html = r##"<p>Fact.<sup id="cite_ref-1" class="reference"><a href="#cite_note-1">&#91;1&#93;</a></sup></p>
<div class="reflist"><div class="mw-references-wrap"><ol class="references">
<li id="cite_note-1"><span class="mw-cite-backlink"><b><a href="#cite_ref-1">^</a></b></span> <span class="reference-text"><cite class="citation web"><a class="external text" href="https://news.example/story">&quot;Story&quot;</a>. <i>News</i>. Retrieved 2024.</cite></span></li>
</ol></div></div>"##;
        let e = extract(html);
        assert_eq!(labels(&e), ["1"]);
        assert_eq!(e.footnotes[0].text, "\"Story\". News. Retrieved 2024.");
        assert_eq!(urls(&e), [(Some(0), "https://news.example/story")]);
        assert_eq!(e.links[0].link_text.as_deref(), Some("\"Story\""));
    }

    #[test]
    fn github_footnotes_drop_back_references() {
        let html = r##"<p>Text<sup><a href="#user-content-fn-note" id="user-content-fnref-note" data-footnote-ref>1</a></sup></p>
<section data-footnotes class="footnotes"><h2 id="footnote-label" class="sr-only">Footnotes</h2>
<ol><li id="user-content-fn-note"><p>Note <a href="https://gh.example/">https://gh.example/</a> <a href="#user-content-fnref-note" data-footnote-backref aria-label="Back to reference 1">↩</a></p></li></ol></section>"##;
        let e = extract(html);
        assert_eq!(labels(&e), ["1"]);
        assert_eq!(e.footnotes[0].text, "Note https://gh.example/");
        assert_eq!(urls(&e), [(Some(0), "https://gh.example/")]);
    }

    #[test]
    fn reference_to_missing_id_is_a_warning() {
        let html = r##"<p>x<sup><a href="#nowhere">1</a></sup></p>"##;
        let e = extract(html);
        assert!(e.footnotes.is_empty());
        assert_eq!(e.warnings.len(), 1);
        assert!(e.warnings[0].1.contains("#nowhere"), "{:?}", e.warnings);
        assert_eq!(e.warnings[0].0, Some(html.find("<a").unwrap()));
    }

    #[test]
    fn scripts_styles_and_entities() {
        let html = "<script>var u = 'https://script.example/';</script><style>a{background:url(https://css.example/)}</style><p>see&nbsp;https://x.example/a&amp;b c</p>";
        let e = extract(html);
        assert_eq!(urls(&e), [(None, "https://x.example/a&b")]);
        assert_eq!(&html[e.links[0].span.clone()], "https://x.example/a&amp;b");
    }

    #[test]
    fn malformed_html_is_still_scanned() {
        let html = "<div class=footnotes><ol><li>Broken <a href='https://a.example/'>link<li>https://b.example/ <p><b>unclosed";
        let e = extract(html);
        assert_eq!(labels(&e), ["1", "2"]);
        assert_eq!(
            urls(&e),
            [
                (Some(0), "https://a.example/"),
                (Some(1), "https://b.example/")
            ]
        );
    }

    fn assert_spans_inside(source: &str) {
        let e = extract(source);
        for link in &e.links {
            assert!(link.span.start <= link.span.end && link.span.end <= source.len());
            assert!(source.is_char_boundary(link.span.start));
            assert!(source.is_char_boundary(link.span.end));
            assert!(link.footnote.is_none_or(|i| i < e.footnotes.len()));
        }
        for note in &e.footnotes {
            assert!(note.start <= source.len());
            assert!(note.references.iter().all(|&r| r <= source.len()));
        }
        assert!(
            e.warnings
                .iter()
                .all(|(o, _)| o.is_none_or(|o| o <= source.len()))
        );
    }

    fn html_fragment() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![
            Just("<section class=\"footnotes\">".to_string()),
            Just("<div class=reflist><ol class=references>".to_string()),
            Just("<aside role=\"doc-footnote\" id=fn1>".to_string()),
            Just("<ol start=3>".to_string()),
            Just("<li id=\"fn1\">".to_string()),
            Just("<li>".to_string()),
            Just("</li>".to_string()),
            Just("</ol></section>".to_string()),
            Just("<sup><a href=\"#fn1\">1</a></sup>".to_string()),
            Just("<a href=\"#fn2\"><sup>".to_string()),
            Just("<p id=fn2>".to_string()),
            Just("<a href='https://x.org/a&amp;b'>".to_string()),
            Just("<a id=fn3></a>".to_string()),
            Just("</a>".to_string()),
            Just("<script>".to_string()),
            Just("<br>".to_string()),
            Just("&amp;&#x41;&nbsp;&#;&".to_string()),
            Just(" https://é.example/(a)_b. ".to_string()),
            "[^<]{0,12}",
            "<[a-z/!]{0,3}[^>]{0,10}>?",
        ]
    }

    proptest::proptest! {
        #[test]
        fn spans_lie_inside_arbitrary_input(source in proptest::prelude::any::<String>()) {
            assert_spans_inside(&source);
        }

        #[test]
        fn spans_lie_inside_footnote_markup(parts in proptest::collection::vec(html_fragment(), 0..40)) {
            assert_spans_inside(&parts.concat());
        }
    }

    #[test]
    fn decoded_text_maps_back_to_source() {
        let d = DecodedText::decode("a&amp;b&#x41;c & d", 10);
        assert_eq!(d.text, "a&bAc & d");
        assert_eq!(d.source_offset(0), 10);
        assert_eq!(d.source_offset(1), 11);
        assert_eq!(d.source_offset(2), 16);
        assert_eq!(d.source_offset(4), 23);
        assert_eq!(d.source_offset(6), 25);
    }
}
