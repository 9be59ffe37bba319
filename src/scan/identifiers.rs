//! Identifiers that stand for links: DOIs, UN document symbols, arXiv IDs,
//! Handles and PubMed IDs.
//!
//! Many citations carry an identifier instead of a URL (`doi:10.1000/182`,
//! `A/79/387`, "Security Council resolution 853 (1993)"), or a placeholder
//! link whose text is one (`[A/79/387](#)`). [`find`] recognises them in a
//! note's plain text and gives each its resolver URL; [`derive`] adds those
//! URLs to an [`Extraction`] as links marked derived, keeping the text they
//! were derived from, so they are checked like any other citation.

use std::ops::Range;
use std::sync::LazyLock;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use regex::Regex;
use serde::Serialize;

use super::{Extraction, FoundLink, LinkForm, UrlKind};

/// The kinds of identifier linkrot resolves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentifierKind {
    /// A Digital Object Identifier, resolved at doi.org.
    Doi,
    /// A United Nations document symbol, resolved at undocs.org.
    UnSymbol,
    /// An arXiv preprint, resolved at arxiv.org.
    Arxiv,
    /// A Handle System identifier, resolved at hdl.handle.net.
    Handle,
    /// A PubMed ID.
    Pmid,
    /// A PubMed Central ID.
    Pmcid,
}

/// One identifier found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identifier {
    /// What kind of identifier it is.
    pub kind: IdentifierKind,
    /// Byte range of the identifier as written, with its prefix or the words
    /// that make it one ("doi:10.1/x", "Security Council resolution 853 (1993)").
    pub span: Range<usize>,
    /// The identifier itself, normalised ("10.1/x", "S/RES/853 (1993)").
    pub value: String,
    /// The resolver URL a reader would follow.
    pub url: String,
}

/// Characters escaped in a resolver path: everything that is not safe in a
/// URL path, plus parentheses, which Markdown and many linkers cut links at.
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'^')
    .add(b'[')
    .add(b']')
    .add(b'|')
    .add(b'\\')
    .add(b'(')
    .add(b')');

fn resolver(base: &str, value: &str) -> String {
    format!("{base}{}", utf8_percent_encode(value, PATH))
}

/// The resolver URL of an identifier given as its bare value (as in JATS
/// `<pub-id>` or a `.bib` file's `doi` field): `10.1000/182`, `31452104`.
pub fn resolver_url(kind: IdentifierKind, value: &str) -> String {
    let value = value.trim();
    match kind {
        IdentifierKind::Doi => {
            let doi = [
                "https://doi.org/",
                "http://doi.org/",
                "https://dx.doi.org/",
                "http://dx.doi.org/",
                "doi:",
            ]
            .iter()
            .find_map(|p| value.strip_prefix(p))
            .unwrap_or(value);
            resolver("https://doi.org/", doi)
        }
        IdentifierKind::UnSymbol => resolver("https://undocs.org/", value),
        IdentifierKind::Arxiv => {
            resolver("https://arxiv.org/abs/", value.trim_start_matches("arXiv:"))
        }
        IdentifierKind::Handle => {
            resolver("https://hdl.handle.net/", value.trim_start_matches("hdl:"))
        }
        IdentifierKind::Pmid => format!(
            "https://pubmed.ncbi.nlm.nih.gov/{}/",
            utf8_percent_encode(value, PATH)
        ),
        IdentifierKind::Pmcid => {
            let id = value.strip_prefix("PMC").unwrap_or(value);
            format!(
                "https://pmc.ncbi.nlm.nih.gov/articles/PMC{}/",
                utf8_percent_encode(id, PATH)
            )
        }
    }
}

static DOI_PREFIXED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)doi(?::\s?|\s+)(10\.\d{4,9}/[^\s\x22]+)").expect("valid regex")
});
static DOI_BARE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?-u:\b)10\.\d{4,9}/[^\s\x22]+").expect("valid regex"));
static ARXIV: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)arxiv:\s?((?:\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[a-z]{2})?/\d{7})(?:v\d+)?)(?-u:\b)")
        .expect("valid regex")
});
static HANDLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)hdl:\s?(\d+(?:\.\d+)*/[^\s\x22<>]+)").expect("valid regex")
});
static PMID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?-u:\b)PMID:?\s?(\d{1,8})(?-u:\b)").expect("valid regex"));
static PMCID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u:\b)(?:PMCID:?\s?)?(PMC\d{4,9})(?-u:\b)").expect("valid regex")
});
/// A UN document symbol: a body's root, then slash-separated parts. Joint
/// symbols (`A/75/872-S/2021/429`) match whole and are split afterwards.
static UN_SYMBOL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:^|[^A-Za-z0-9/._\-=:])((?:A|S|E|T|ST|DP|TD|UNEP|CCPR|CRC|CEDAW|CERD|CAT|CRPD|CMW|CED|HRI|ICCD|FCCC|UNW|ECE|ESCAP|ECA|ECLAC|ESCWA|ISBA|SPLOS)(?:/[A-Za-z0-9][A-Za-z0-9.\-]*)+)",
    )
    .expect("valid regex")
});
/// Where a joint symbol's next symbol starts: `-` before a root and a slash.
static JOINT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"-(?:A|S|E|T|ST|DP|TD|UNEP|CCPR|CRC|CEDAW|CERD|CAT|CRPD|CMW|CED)/")
        .expect("valid regex")
});
static YEAR_SUFFIX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s?\((\d{4})\)").expect("valid regex"));
/// "Security Council resolution 853 (1993)", "General Assembly resolutions
/// 48/114 and 49/1": the words that make a number a resolution symbol.
static RESOLUTION_PHRASE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u:\b)(Security Council|General Assembly|Human Rights Council|Economic and Social Council)\s+[Rr]esolutions?\s+")
        .expect("valid regex")
});
static SC_NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\d{1,4})\s?\((\d{4})\)").expect("valid regex"));
static SESSION_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^((?:ES-|S-)?\d{1,4})/(\d{1,4}[A-Z]?)(?-u:\b)").expect("valid regex")
});
static LIST_SEPARATOR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:,\s*(?:and\s+)?|\s+and\s+)").expect("valid regex"));

/// Strips the punctuation that ends a sentence rather than a DOI or Handle:
/// trailing `.,;:!?'"` and closing brackets that have no opening partner.
pub fn trim_trailing(s: &str) -> &str {
    let mut s = s;
    while let Some(last) = s.chars().last() {
        let unbalanced = |open: char, close: char| {
            s.chars().filter(|&c| c == close).count() > s.chars().filter(|&c| c == open).count()
        };
        let strip = match last {
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '"' | '*' | '\u{201d}' | '\u{2019}' => true,
            ')' => unbalanced('(', ')'),
            ']' => unbalanced('[', ']'),
            '}' => unbalanced('{', '}'),
            '>' => unbalanced('<', '>'),
            _ => false,
        };
        if !strip {
            break;
        }
        s = &s[..s.len() - last.len_utf8()];
    }
    s
}

/// Whether a UN-symbol candidate is one: it has a number, and at least two
/// slashes or a meeting-record form like `S/PV.9999`.
fn is_un_symbol(s: &str) -> bool {
    let slashes = s.matches('/').count();
    s.bytes().any(|b| b.is_ascii_digit())
        && (slashes >= 2 || (slashes == 1 && s.split('/').nth(1).is_some_and(|p| p.contains('.'))))
}

fn un_symbol(span: Range<usize>, value: String) -> Identifier {
    let url = resolver("https://undocs.org/", &value);
    Identifier {
        kind: IdentifierKind::UnSymbol,
        span,
        value,
        url,
    }
}

/// Finds every identifier in `text`, in order, without overlaps.
pub fn find(text: &str) -> Vec<Identifier> {
    let mut found: Vec<Identifier> = Vec::new();
    let mut push = |kind: IdentifierKind, span: Range<usize>, value: &str, base: &str| {
        found.push(Identifier {
            kind,
            span,
            value: value.to_string(),
            url: resolver(base, value),
        });
    };

    for caps in DOI_PREFIXED.captures_iter(text) {
        let (whole, doi) = (caps.get(0).expect("match"), caps.get(1).expect("group"));
        let value = trim_trailing(doi.as_str());
        let end = doi.start() + value.len();
        push(
            IdentifierKind::Doi,
            whole.start()..end,
            value,
            "https://doi.org/",
        );
    }
    for m in DOI_BARE.find_iter(text) {
        // A DOI inside a URL or after "doi:" is someone else's match.
        let before = text[..m.start()].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || "/.:=-_".contains(c)) {
            continue;
        }
        let value = trim_trailing(m.as_str());
        push(
            IdentifierKind::Doi,
            m.start()..m.start() + value.len(),
            value,
            "https://doi.org/",
        );
    }
    for caps in ARXIV.captures_iter(text) {
        let (whole, id) = (caps.get(0).expect("match"), caps.get(1).expect("group"));
        push(
            IdentifierKind::Arxiv,
            whole.range(),
            id.as_str(),
            "https://arxiv.org/abs/",
        );
    }
    for caps in HANDLE.captures_iter(text) {
        let (whole, id) = (caps.get(0).expect("match"), caps.get(1).expect("group"));
        let value = trim_trailing(id.as_str());
        push(
            IdentifierKind::Handle,
            whole.start()..id.start() + value.len(),
            value,
            "https://hdl.handle.net/",
        );
    }
    for caps in PMID.captures_iter(text) {
        let (whole, id) = (caps.get(0).expect("match"), caps.get(1).expect("group"));
        found.push(Identifier {
            kind: IdentifierKind::Pmid,
            span: whole.range(),
            value: id.as_str().to_string(),
            url: format!("https://pubmed.ncbi.nlm.nih.gov/{}/", id.as_str()),
        });
    }
    for caps in PMCID.captures_iter(text) {
        let (whole, id) = (caps.get(0).expect("match"), caps.get(1).expect("group"));
        found.push(Identifier {
            kind: IdentifierKind::Pmcid,
            span: whole.range(),
            value: id.as_str().to_string(),
            url: format!("https://pmc.ncbi.nlm.nih.gov/articles/{}/", id.as_str()),
        });
    }
    find_un_symbols(text, &mut found);
    find_resolution_phrases(text, &mut found);

    // Earliest first, longest first at one start; drop what overlaps a kept one.
    found.sort_by(|a, b| {
        a.span
            .start
            .cmp(&b.span.start)
            .then(b.span.end.cmp(&a.span.end))
    });
    let mut kept: Vec<Identifier> = Vec::with_capacity(found.len());
    for id in found {
        if kept.last().is_none_or(|k| id.span.start >= k.span.end) {
            kept.push(id);
        }
    }
    kept
}

fn find_un_symbols(text: &str, found: &mut Vec<Identifier>) {
    for caps in UN_SYMBOL.captures_iter(text) {
        let m = caps.get(1).expect("group");
        let whole = m.as_str().trim_end_matches(['.', '-']);
        // Split a joint symbol at each "-ROOT/".
        let mut starts = vec![0];
        starts.extend(JOINT.find_iter(whole).map(|j| j.start() + 1));
        for (i, &start) in starts.iter().enumerate() {
            let end = starts.get(i + 1).map_or(whole.len(), |&next| next - 1);
            let part = &whole[start..end];
            if !is_un_symbol(part) {
                continue;
            }
            let abs = m.start() + start;
            let mut value = part.to_string();
            let mut span_end = abs + part.len();
            // "S/RES/853 (1993)": the year is part of a Security Council
            // resolution's symbol.
            if part.starts_with("S/RES/")
                && end == whole.len()
                && let Some(year) = YEAR_SUFFIX.captures(&text[span_end..])
            {
                value = format!("{part} ({})", &year[1]);
                span_end += year[0].len();
            }
            found.push(un_symbol(abs..span_end, value));
        }
    }
}

fn find_resolution_phrases(text: &str, found: &mut Vec<Identifier>) {
    for caps in RESOLUTION_PHRASE.captures_iter(text) {
        let phrase = caps.get(0).expect("match");
        let body = caps.get(1).expect("group").as_str();
        let mut at = phrase.end();
        let mut span_start = phrase.start();
        loop {
            let rest = &text[at..];
            let (value, len) = if body == "Security Council" {
                match SC_NUMBER.captures(rest) {
                    Some(c) => (format!("S/RES/{} ({})", &c[1], &c[2]), c[0].len()),
                    None => break,
                }
            } else {
                match SESSION_NUMBER.captures(rest) {
                    Some(c) => {
                        let root = match body {
                            "General Assembly" => "A/RES",
                            "Human Rights Council" => "A/HRC/RES",
                            _ => "E/RES",
                        };
                        (format!("{root}/{}/{}", &c[1], &c[2]), c[0].len())
                    }
                    None => break,
                }
            };
            found.push(un_symbol(span_start..at + len, value));
            at += len;
            match LIST_SEPARATOR.find(&text[at..]) {
                Some(sep) => {
                    at += sep.end();
                    span_start = at;
                }
                None => break,
            }
        }
    }
}

/// Adds to `extraction` a derived link for every identifier in its notes
/// (and for placeholder links whose text is an identifier, body included).
///
/// A placeholder link (`[A/79/387](#)`) whose text names identifiers is
/// replaced by one derived link per identifier at the same place; an
/// identifier in a note's text that a written link already points at is left
/// alone; any other identifier in a note's text becomes a derived link at
/// the place it is written in `source`, or at the note's start where the
/// source spells it differently (markup, escapes).
pub fn derive(extraction: &mut Extraction, source: &str) {
    let placeholder =
        |link: &FoundLink| super::url::clean(&link.raw_url).kind == UrlKind::Placeholder;
    let mut replaced = vec![false; extraction.links.len()];
    let mut derived: Vec<FoundLink> = Vec::new();

    let mut note_starts: Vec<usize> = extraction.footnotes.iter().map(|f| f.start).collect();
    note_starts.sort_unstable();
    // Each note's links, in order: looked up per note, not searched for, so
    // documents with thousands of notes stay linear.
    let mut links_of: Vec<Vec<usize>> = vec![Vec::new(); extraction.footnotes.len()];
    for (i, link) in extraction.links.iter().enumerate() {
        if let Some(list) = link.footnote.and_then(|n| links_of.get_mut(n)) {
            list.push(i);
        }
    }

    for (index, note) in extraction.footnotes.iter().enumerate() {
        let ids = find(&note.text);
        if ids.is_empty() {
            continue;
        }
        let in_note = std::mem::take(&mut links_of[index]);
        let window_end = note_starts
            .get(note_starts.partition_point(|&s| s <= note.start))
            .copied()
            .unwrap_or(source.len())
            .min(note.start.saturating_add(64 * 1024))
            .min(source.len());
        let mut cursor = 0;
        let mut search_from = note.start.min(source.len());
        for id in ids {
            let written = &note.text[id.span.clone()];
            let already_linked = in_note.iter().any(|&i| {
                let link = &extraction.links[i];
                !placeholder(link) && contains_ignore_case(&link.raw_url, &id.value)
            });
            if already_linked {
                continue;
            }
            let target = in_note[cursor.min(in_note.len())..]
                .iter()
                .position(|&i| {
                    let link = &extraction.links[i];
                    placeholder(link)
                        && link.link_text.as_deref().is_some_and(|t| {
                            let t = t.trim();
                            !t.is_empty() && (written.contains(t) || t.contains(written))
                        })
                })
                .map(|p| p + cursor.min(in_note.len()));
            let (span, link_text) = match target {
                Some(pos) => {
                    cursor = pos;
                    let link = &extraction.links[in_note[pos]];
                    replaced[in_note[pos]] = true;
                    (link.span.clone(), link.link_text.clone())
                }
                None => {
                    let span = locate(source, search_from, window_end, written)
                        .unwrap_or(note.start..note.start);
                    if span.end > search_from {
                        search_from = span.end;
                    }
                    (span, None)
                }
            };
            derived.push(derived_link(span, Some(index), id, written, link_text));
        }
    }

    // Placeholder links in the body: only when their whole text is identifiers.
    for (i, link) in extraction.links.iter().enumerate() {
        if link.footnote.is_some() || !placeholder(link) {
            continue;
        }
        let Some(text) = link.link_text.as_deref() else {
            continue;
        };
        let ids = find(text);
        let covered: usize = ids.iter().map(|id| id.span.len()).sum();
        let meaningful = text.chars().filter(|c| c.is_alphanumeric()).count();
        if ids.is_empty() || covered * 10 < meaningful * 8 {
            continue;
        }
        replaced[i] = true;
        for id in ids {
            let written = text[id.span.clone()].to_string();
            derived.push(derived_link(
                link.span.clone(),
                None,
                id,
                &written,
                Some(text.to_string()),
            ));
        }
    }

    let mut kept: Vec<FoundLink> = std::mem::take(&mut extraction.links)
        .into_iter()
        .zip(replaced)
        .filter_map(|(link, gone)| (!gone).then_some(link))
        .collect();
    kept.extend(derived);
    kept.sort_by_key(|link| link.span.start);
    extraction.links = kept;
}

fn derived_link(
    span: Range<usize>,
    footnote: Option<usize>,
    id: Identifier,
    written: &str,
    link_text: Option<String>,
) -> FoundLink {
    FoundLink {
        span,
        footnote,
        raw_url: id.url,
        link_text,
        form: LinkForm::Identifier,
        derived_from: Some(written.to_string()),
    }
}

fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
        || percent_encoding::percent_decode_str(haystack)
            .decode_utf8_lossy()
            .to_lowercase()
            .contains(&needle.to_lowercase())
}

/// Finds `written` in `source[from..to]`, for the position of an identifier
/// that the note's plain text and its source spell alike.
fn locate(source: &str, from: usize, to: usize, written: &str) -> Option<Range<usize>> {
    let from = floor_char_boundary(source, from);
    let to = floor_char_boundary(source, to.max(from));
    source[from..to]
        .find(written)
        .map(|at| from + at..from + at + written.len())
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::FoundFootnote;

    fn urls(text: &str) -> Vec<String> {
        find(text).into_iter().map(|id| id.url).collect()
    }

    #[test]
    fn dois_in_every_written_form() {
        assert_eq!(
            urls("See doi:10.1000/182. And DOI 10.1038/nphys1170, then 10.5555/12345678;"),
            [
                "https://doi.org/10.1000/182",
                "https://doi.org/10.1038/nphys1170",
                "https://doi.org/10.5555/12345678",
            ]
        );
    }

    #[test]
    fn doi_trailing_punctuation_keeps_balanced_brackets() {
        assert_eq!(
            urls("(see 10.1016/S0140-6736(20)30183-5)."),
            ["https://doi.org/10.1016/S0140-6736%2820%2930183-5"]
        );
        assert_eq!(
            urls("doi:10.1002/(SICI)1097-4636(199706)35:4<435::AID-JBM1>3.0.CO;2-I."),
            [
                "https://doi.org/10.1002/%28SICI%291097-4636%28199706%2935:4%3C435::AID-JBM1%3E3.0.CO;2-I"
            ]
        );
    }

    #[test]
    fn doi_inside_a_url_is_not_a_bare_doi() {
        assert!(find("https://doi.org/10.1000/182").is_empty());
        assert!(find("https://example.org/x?id=10.1000/182").is_empty());
    }

    #[test]
    fn un_symbols_and_joint_symbols() {
        assert_eq!(
            urls("See A/79/387 and A/HRC/8/6/Add.2; S/2023/900."),
            [
                "https://undocs.org/A/79/387",
                "https://undocs.org/A/HRC/8/6/Add.2",
                "https://undocs.org/S/2023/900",
            ]
        );
        let ids = find("See A/75/872-S/2021/429.");
        let values: Vec<_> = ids.iter().map(|i| i.value.as_str()).collect();
        assert_eq!(values, ["A/75/872", "S/2021/429"]);
        assert_eq!(
            &"See A/75/872-S/2021/429."[ids[1].span.clone()],
            "S/2021/429"
        );
    }

    #[test]
    fn resolution_symbols_with_years_are_encoded() {
        assert_eq!(
            urls("S/RES/853 (1993) and A/RES/48/114"),
            [
                "https://undocs.org/S/RES/853%20%281993%29",
                "https://undocs.org/A/RES/48/114",
            ]
        );
    }

    #[test]
    fn resolutions_named_in_words() {
        let text = "Security Council resolution 853 (1993) adopted on 29 July 1993; \
                    General Assembly resolution 48/114, adopted; \
                    Security Council resolutions 242 (1967) and 338 (1973); \
                    Human Rights Council resolution 7/1";
        let values: Vec<_> = find(text).into_iter().map(|i| i.value).collect();
        assert_eq!(
            values,
            [
                "S/RES/853 (1993)",
                "A/RES/48/114",
                "S/RES/242 (1967)",
                "S/RES/338 (1973)",
                "A/HRC/RES/7/1"
            ]
        );
        let first = &find(text)[0];
        assert_eq!(
            &text[first.span.clone()],
            "Security Council resolution 853 (1993)"
        );
    }

    #[test]
    fn things_that_look_like_symbols_but_are_not() {
        assert!(find("an A/B test, and/or E/S, see https://undocs.org/A/79/387").is_empty());
        assert!(find("model S/X and T/1").is_empty());
    }

    #[test]
    fn arxiv_handles_pubmed() {
        assert_eq!(
            urls(
                "arXiv:2301.01234v2, arXiv:hep-th/9901001, hdl:10273/1234., PMID: 31452104, PMCID: PMC6716537"
            ),
            [
                "https://arxiv.org/abs/2301.01234v2",
                "https://arxiv.org/abs/hep-th/9901001",
                "https://hdl.handle.net/10273/1234",
                "https://pubmed.ncbi.nlm.nih.gov/31452104/",
                "https://pmc.ncbi.nlm.nih.gov/articles/PMC6716537/",
            ]
        );
    }

    fn link(span: Range<usize>, note: Option<usize>, url: &str, text: Option<&str>) -> FoundLink {
        FoundLink {
            span,
            footnote: note,
            raw_url: url.to_string(),
            link_text: text.map(str::to_string),
            form: LinkForm::Inline,
            derived_from: None,
        }
    }

    #[test]
    fn placeholders_become_one_link_per_symbol() {
        let source = "Body [A/79/387](#).\n\n1 See [A/75/872-S/2021/429](#) and doi:10.1000/182.\n";
        let note_start = source.find("1 See").unwrap();
        let ph = source.find("[A/75").unwrap();
        let mut extraction = Extraction {
            footnotes: vec![FoundFootnote {
                label: "1".into(),
                start: note_start,
                references: vec![],
                text: "See A/75/872-S/2021/429 and doi:10.1000/182.".into(),
            }],
            links: vec![
                link(5..18, None, "#", Some("A/79/387")),
                link(ph..ph + 26, Some(0), "#", Some("A/75/872-S/2021/429")),
            ],
            ..Default::default()
        };
        derive(&mut extraction, source);
        let got: Vec<_> = extraction
            .links
            .iter()
            .map(|l| (l.raw_url.as_str(), l.derived_from.as_deref(), l.span.start))
            .collect();
        let doi_at = source.find("doi:").unwrap();
        assert_eq!(
            got,
            [
                ("https://undocs.org/A/79/387", Some("A/79/387"), 5),
                ("https://undocs.org/A/75/872", Some("A/75/872"), ph),
                ("https://undocs.org/S/2021/429", Some("S/2021/429"), ph),
                (
                    "https://doi.org/10.1000/182",
                    Some("doi:10.1000/182"),
                    doi_at
                ),
            ]
        );
        assert!(
            extraction
                .links
                .iter()
                .all(|l| l.form == LinkForm::Identifier)
        );
    }

    #[test]
    fn the_sample_footnote_5_becomes_checkable() {
        // As the sample's Markdown writes it, and as its note text reads.
        let source = "<sup>5</sup> See, for example, Security Council resolution [853 \\(1993\\)](#) adopted on 29 July 1993, para. 3; CSCE Communication No. 301, p. 8; General Assembly resolution [48/114](#), adopted on 20 December 1993; Walter K\u{e4}lin: mission to Azerbaijan ([A/HRC/8/6/Add.2](#)), 15 April 2008.";
        let text = "See, for example, Security Council resolution 853 (1993) adopted on 29 July 1993, para. 3; CSCE Communication No. 301, p. 8; General Assembly resolution 48/114, adopted on 20 December 1993; Walter K\u{e4}lin: mission to Azerbaijan (A/HRC/8/6/Add.2), 15 April 2008.";
        let span_of = |needle: &str| {
            let at = source.find(needle).unwrap();
            at..at + needle.len()
        };
        let mut extraction = Extraction {
            footnotes: vec![FoundFootnote {
                label: "5".into(),
                start: 0,
                references: vec![],
                text: text.into(),
            }],
            links: vec![
                link(span_of("[853"), Some(0), "#", Some("853 (1993)")),
                link(span_of("[48/114](#)"), Some(0), "#", Some("48/114")),
                link(span_of("[A/HRC"), Some(0), "#", Some("A/HRC/8/6/Add.2")),
            ],
            ..Default::default()
        };
        derive(&mut extraction, source);
        let got: Vec<_> = extraction
            .links
            .iter()
            .map(|l| (l.raw_url.as_str(), l.derived_from.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "https://undocs.org/S/RES/853%20%281993%29",
                    "Security Council resolution 853 (1993)"
                ),
                (
                    "https://undocs.org/A/RES/48/114",
                    "General Assembly resolution 48/114"
                ),
                ("https://undocs.org/A/HRC/8/6/Add.2", "A/HRC/8/6/Add.2"),
            ]
        );
        assert_eq!(extraction.links[0].span, span_of("[853"));
    }

    #[test]
    fn an_identifier_already_linked_is_not_derived_again() {
        let source = "1 A/79/387 at https://undocs.org/A/79/387";
        let mut extraction = Extraction {
            footnotes: vec![FoundFootnote {
                label: "1".into(),
                start: 0,
                references: vec![],
                text: source[2..].into(),
            }],
            links: vec![link(14..source.len(), Some(0), &source[14..], None)],
            ..Default::default()
        };
        derive(&mut extraction, source);
        assert_eq!(extraction.links.len(), 1);
        assert_eq!(extraction.links[0].derived_from, None);
    }
}
