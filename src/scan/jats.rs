//! JATS XML (scholarly articles): `<fn>` footnotes and `<ref-list>`
//! references with `<ext-link>`, `<uri>` and `<pub-id>`.
//!
//! Each `<fn>` and each `<ref>` becomes a note, labelled by its `<label>`
//! (or its position), referenced by the body's `<xref rid="…">`. A
//! `<pub-id pub-id-type="doi">` (or pmid, pmcid, arxiv) becomes a derived
//! resolver link. Positions are byte offsets in the XML itself, so lines are
//! the file's lines. Entities declared in a DTD are never expanded.

use std::collections::HashMap;

use quick_xml::Reader;
use quick_xml::events::Event;

use super::identifiers::{IdentifierKind, resolver_url};
use super::xml::{attribute, push_inline};
use super::{Extraction, FoundFootnote, FoundLink, LinkForm};

/// The note being read: an `<fn>` or a `<ref>`.
#[derive(Debug)]
struct OpenNote {
    index: usize,
    /// Element name that closes it.
    closer: &'static str,
    text: String,
    label: Option<String>,
}

/// A link element being read: where it started and its target, if the
/// target is an attribute; `<uri>` without `xlink:href` takes its text.
#[derive(Debug)]
struct OpenLink {
    start: usize,
    href: Option<String>,
    text: String,
    pub_id: Option<IdentifierKind>,
    element: String,
}

/// Extracts notes and links from a JATS article.
pub fn extract(source: &str) -> Extraction {
    let mut reader = Reader::from_str(source);
    let mut extraction = Extraction::default();
    let mut note: Option<OpenNote> = None;
    let mut links: Vec<OpenLink> = Vec::new();
    let mut in_label = false;
    let mut label_text = String::new();
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut xrefs: Vec<(String, usize)> = Vec::new();
    let mut counters = [0usize; 2];

    loop {
        let before = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => {
                let at = usize::try_from(reader.error_position()).ok();
                extraction.warnings.push((
                    at,
                    format!("not well-formed XML, reading stopped here: {e}"),
                ));
                break;
            }
        };
        match event {
            Event::DocType(d) if d.contains("<!ENTITY") => {
                extraction.warnings.push((
                    Some(before),
                    "the DTD declares entities; they were not expanded".to_string(),
                ));
            }
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_string();
                match name.as_str() {
                    "fn" | "ref" if note.is_none() => {
                        let is_ref = name == "ref";
                        counters[usize::from(is_ref)] += 1;
                        let index = extraction.footnotes.len();
                        if let Some(id) = attribute(&e, "id") {
                            ids.insert(id, index);
                        }
                        extraction.footnotes.push(FoundFootnote {
                            label: counters[usize::from(is_ref)].to_string(),
                            start: before,
                            references: Vec::new(),
                            text: String::new(),
                        });
                        note = Some(OpenNote {
                            index,
                            closer: if is_ref { "ref" } else { "fn" },
                            text: String::new(),
                            label: None,
                        });
                    }
                    "label" if note.as_ref().is_some_and(|n| n.label.is_none()) => {
                        in_label = true;
                        label_text.clear();
                    }
                    "xref" => {
                        if let Some(rid) = attribute(&e, "rid") {
                            for rid in rid.split_whitespace() {
                                xrefs.push((rid.to_string(), before));
                            }
                        }
                    }
                    "ext-link" | "uri" | "self-uri" | "inline-supplementary-material" => {
                        links.push(OpenLink {
                            start: before,
                            href: attribute(&e, "href"),
                            text: String::new(),
                            pub_id: None,
                            element: name,
                        });
                    }
                    "pub-id" | "object-id" => {
                        let kind = match attribute(&e, "pub-id-type").as_deref() {
                            Some("doi") => Some(IdentifierKind::Doi),
                            Some("pmid") => Some(IdentifierKind::Pmid),
                            Some("pmcid") => Some(IdentifierKind::Pmcid),
                            Some("arxiv") => Some(IdentifierKind::Arxiv),
                            Some("handle" | "hdl") => Some(IdentifierKind::Handle),
                            _ => None,
                        };
                        if kind.is_some() {
                            links.push(OpenLink {
                                start: before,
                                href: None,
                                text: String::new(),
                                pub_id: kind,
                                element: name,
                            });
                        }
                    }
                    _ => {}
                }
            }
            Event::Empty(e) => {
                let name = e.local_name();
                if matches!(name.as_ref(), "ext-link" | "uri" | "self-uri") {
                    if let Some(href) = attribute(&e, "href") {
                        push_link(&mut extraction, &note, before, href, None, None);
                    }
                } else if name.as_ref() == "xref"
                    && let Some(rid) = attribute(&e, "rid")
                {
                    for rid in rid.split_whitespace() {
                        xrefs.push((rid.to_string(), before));
                    }
                }
            }
            Event::Text(t) => {
                // A URL typed as text in a note, outside any link element.
                if note.is_some() && links.is_empty() && !in_label {
                    for (start, end) in bare_urls(&t) {
                        let url = t[start..end].to_string();
                        push_link(
                            &mut extraction,
                            &note,
                            before + start,
                            url,
                            None,
                            Some(LinkForm::Bare),
                        );
                    }
                }
                append_text(&mut note, &mut links, in_label, &mut label_text, &t);
            }
            Event::CData(t) => {
                let text = t.to_string();
                append_text(&mut note, &mut links, in_label, &mut label_text, &text);
            }
            Event::GeneralRef(r) => {
                let mut text = super::xml::reference_text(&r);
                if text.starts_with('&') {
                    // HTML's named characters (&nbsp;, &ndash;) from a fixed
                    // table; entities a DTD declares stay as written.
                    text = htmlize::unescape(&text).into_owned();
                }
                append_text(&mut note, &mut links, in_label, &mut label_text, &text);
            }
            Event::End(e) => {
                let name = e.local_name();
                let name = name.as_ref();
                if name == "label" && in_label {
                    in_label = false;
                    if let Some(open) = note.as_mut() {
                        open.label = Some(collapse(&label_text));
                    }
                } else if links.last().is_some_and(|l| l.element == name) {
                    let link = links.pop().expect("checked above");
                    let text = collapse(&link.text);
                    match (link.pub_id, link.href) {
                        (Some(kind), _) if !text.is_empty() => {
                            let url = resolver_url(kind, &text);
                            let form = LinkForm::Identifier;
                            push_link(
                                &mut extraction,
                                &note,
                                link.start,
                                url,
                                Some(text.clone()),
                                Some(form),
                            );
                            if let Some(l) = extraction.links.last_mut() {
                                l.derived_from = Some(text);
                                l.link_text = None;
                            }
                        }
                        (None, Some(href)) => {
                            let text = (!text.is_empty() && text != href).then_some(text);
                            push_link(&mut extraction, &note, link.start, href, text, None);
                        }
                        (None, None) if !text.is_empty() => {
                            let form = Some(LinkForm::Autolink);
                            push_link(&mut extraction, &note, link.start, text, None, form);
                        }
                        _ => {}
                    }
                } else if note.as_ref().is_some_and(|n| n.closer == name) {
                    let open = note.take().expect("checked above");
                    let found = &mut extraction.footnotes[open.index];
                    found.text = collapse(&open.text);
                    if let Some(label) = open.label.filter(|l| !l.is_empty()) {
                        found.label = label;
                    }
                } else if note.is_some()
                    && matches!(name, "p" | "title" | "mixed-citation" | "element-citation")
                    && let Some(open) = note.as_mut()
                {
                    open.text.push(' ');
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(open) = note {
        extraction.footnotes[open.index].text = collapse(&open.text);
        extraction.warnings.push((
            Some(extraction.footnotes[open.index].start),
            "note is never closed".to_string(),
        ));
    }
    extraction.links.sort_by_key(|l| l.span.start);
    for (rid, at) in xrefs {
        if let Some(&index) = ids.get(&rid) {
            extraction.footnotes[index].references.push(at);
        }
    }
    extraction
}

fn append_text(
    note: &mut Option<OpenNote>,
    links: &mut [OpenLink],
    in_label: bool,
    label_text: &mut String,
    text: &str,
) {
    if in_label {
        label_text.push_str(text);
        return;
    }
    if let Some(open) = note.as_mut() {
        push_inline(&mut open.text, text);
    }
    if let Some(link) = links.last_mut() {
        push_inline(&mut link.text, text);
    }
}

fn push_link(
    extraction: &mut Extraction,
    note: &Option<OpenNote>,
    start: usize,
    url: String,
    text: Option<String>,
    form: Option<LinkForm>,
) {
    extraction.links.push(FoundLink {
        span: start..start,
        footnote: note.as_ref().map(|n| n.index),
        raw_url: url.trim().to_string(),
        link_text: text,
        form: form.unwrap_or(LinkForm::HtmlHref),
        derived_from: None,
    });
}

fn bare_urls(text: &str) -> Vec<(usize, usize)> {
    let mut finder = linkify::LinkFinder::new();
    finder.kinds(&[linkify::LinkKind::Url]);
    finder
        .links(text)
        .filter(|l| l.as_str().starts_with("http://") || l.as_str().starts_with("https://"))
        .map(|l| (l.start(), l.end()))
        .collect()
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARTICLE: &str = r#"<?xml version="1.0"?>
<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving and Interchange DTD v1.2 20190208//EN" "JATS-archivearticle1.dtd">
<article xmlns:xlink="http://www.w3.org/1999/xlink">
<body><p>Claim<xref ref-type="fn" rid="fn1">1</xref> and <xref ref-type="bibr" rid="r2">[2]</xref>.
See <ext-link ext-link-type="uri" xlink:href="https://body.example/">the site</ext-link>.</p></body>
<back>
<fn-group><fn id="fn1"><label>1</label><p>Data at <uri>https://data.example/set&amp;v=2</uri> &ndash; archived at https://plain.example/.</p></fn></fn-group>
<ref-list>
<ref id="r1"><label>1</label><mixed-citation>Smith, <source>J</source>. <pub-id pub-id-type="doi">10.1000/182</pub-id></mixed-citation></ref>
<ref id="r2"><label>2</label><element-citation><ext-link ext-link-type="uri" xlink:href="https://jones.example/paper">Jones</ext-link><pub-id pub-id-type="pmid">31452104</pub-id></element-citation></ref>
</ref-list></back></article>"#;

    #[test]
    fn footnotes_references_and_identifiers() {
        let ex = extract(ARTICLE);
        let labels: Vec<_> = ex.footnotes.iter().map(|f| f.label.as_str()).collect();
        assert_eq!(labels, ["1", "1", "2"]);
        assert_eq!(
            ex.footnotes[0].text,
            "Data at https://data.example/set&v=2 \u{2013} archived at https://plain.example/."
        );
        let links: Vec<_> = ex
            .links
            .iter()
            .map(|l| (l.footnote, l.raw_url.as_str(), l.form))
            .collect();
        assert_eq!(
            links,
            [
                (None, "https://body.example/", LinkForm::HtmlHref),
                (Some(0), "https://data.example/set&v=2", LinkForm::Autolink),
                (Some(0), "https://plain.example/", LinkForm::Bare),
                (Some(1), "https://doi.org/10.1000/182", LinkForm::Identifier),
                (Some(2), "https://jones.example/paper", LinkForm::HtmlHref),
                (
                    Some(2),
                    "https://pubmed.ncbi.nlm.nih.gov/31452104/",
                    LinkForm::Identifier
                ),
            ]
        );
        assert_eq!(ex.links[3].derived_from.as_deref(), Some("10.1000/182"));
        assert_eq!(ex.footnotes[0].references.len(), 1);
        assert_eq!(ex.footnotes[2].references.len(), 1);
        assert!(ex.warnings.is_empty(), "{:?}", ex.warnings);
    }

    #[test]
    fn entity_expansion_is_refused() {
        let mut doc =
            String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE article [\n<!ENTITY lol \"lol\">\n");
        for i in 1..10 {
            doc.push_str(&format!(
                "<!ENTITY lol{i} \"{}\">\n",
                format!("&lol{};", i - 1).repeat(10)
            ));
        }
        doc.push_str("]>\n<article><back><fn-group><fn id=\"f\"><p>&lol9; https://x.example/</p></fn></fn-group></back></article>");
        let ex = extract(&doc);
        assert_eq!(ex.footnotes.len(), 1);
        assert!(ex.footnotes[0].text.len() < 100, "{}", ex.footnotes[0].text);
        assert!(ex.warnings.iter().any(|(_, w)| w.contains("not expanded")));
    }

    #[test]
    fn malformed_xml_is_a_warning() {
        let ex = extract("<article><fn><p>https://a.example/ </fn></article>");
        assert!(!ex.warnings.is_empty());
    }
}
