//! What a page says: title, main headings, visible text and fragment targets,
//! read from the prefix of a GET body.
//!
//! HTML is tokenized with lol_html (streaming, tolerant of truncated
//! documents, so a 64 KiB prefix parses like a whole page). The text skips
//! scripts, styles and the page chrome (`nav`, `footer`, `aside`) so that two
//! pages of one site compare by what they say, not by their shared menus.
//! The character set comes from the `Content-Type` header, a byte-order mark
//! or a `<meta charset>`, in that order of precedence (WHATWG).

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;
use std::sync::LazyLock;

use encoding_rs::Encoding;
use lol_html::html_content::{Element, TextChunk, TextType};
use lol_html::{AsciiCompatibleEncoding, ElementContentHandlers, HtmlRewriter, Selector, Settings};

use super::similarity::{Fingerprint, Sketch, Words, word_count, words};

/// Headings kept for the not-found check: the first few are the page's own.
const MAX_HEADINGS: usize = 4;

/// Elements whose text is not the page's content.
const SKIPPED: [&str; 9] = [
    "script", "style", "noscript", "template", "svg", "nav", "footer", "aside", "select",
];

/// What was read from one response body.
#[derive(Debug, Clone, Default)]
pub struct PageContent {
    /// The `<title>`, whitespace collapsed.
    pub title: Option<String>,
    /// The first `<h1>` headings, whitespace collapsed.
    pub headings: Vec<String>,
    /// Visible text, whitespace collapsed.
    pub text: String,
    /// Every `id` and every `<a name>` value: the fragments this page can
    /// scroll to.
    pub anchors: HashSet<String>,
    /// The body was HTML (or XHTML); otherwise only `text` is set.
    pub is_html: bool,
    /// Number of words in `text` (see [`words`]).
    pub word_count: usize,
}

impl PageContent {
    /// Reads a body prefix of the given `Content-Type`; `None` for content
    /// that is not text (PDF, images...), which has nothing to compare.
    pub fn parse(body: &[u8], content_type: Option<&str>) -> Option<PageContent> {
        let mime = content_type
            .and_then(|ct| ct.split(';').next())
            .map(|m| m.trim().to_ascii_lowercase());
        let declared = content_type.and_then(charset_of);
        match mime.as_deref() {
            Some("text/html" | "application/xhtml+xml") => Some(parse_html(body, declared)),
            // No Content-Type: sniff as browsers do, HTML if it starts like HTML.
            None if looks_like_html(body) => Some(parse_html(body, declared)),
            Some(m) if m.starts_with("text/") => {
                let (text, _, _) = declared.unwrap_or(encoding_rs::UTF_8).decode(body);
                let text = collapse(&text);
                Some(PageContent {
                    word_count: word_count(&text),
                    text,
                    ..PageContent::default()
                })
            }
            _ => None,
        }
    }

    /// The title and headings: where a page names itself.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.title
            .iter()
            .chain(self.headings.iter())
            .map(String::as_str)
    }

    /// The text's normalized words.
    pub fn words(&self) -> Vec<String> {
        words(&self.text)
    }

    /// SimHash of the visible text; `None` when it has no words.
    pub fn fingerprint(&self) -> Option<Fingerprint> {
        Fingerprint::of_shingles(&Words::of(&self.text).shingles())
    }

    /// Fingerprint and sketch of the text without the given words (the
    /// request path's own words, which not-found pages often echo).
    pub fn comparable(&self, ignore: &HashSet<String>) -> (Option<Fingerprint>, Sketch, usize) {
        let words = Words::of(&self.text).without(ignore);
        let sh = words.shingles();
        (
            Fingerprint::of_shingles(&sh),
            Sketch::of_shingles(&sh),
            words.len(),
        )
    }
}

fn charset_of(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        Encoding::for_label(value.trim().trim_matches('"').as_bytes())
    })
}

fn looks_like_html(body: &[u8]) -> bool {
    let start = String::from_utf8_lossy(&body[..body.len().min(512)]).to_ascii_lowercase();
    let start = start.trim_start_matches('\u{feff}').trim_start();
    start.starts_with("<!doctype html") || start.starts_with("<html") || start.contains("<head")
}

#[derive(Default)]
struct Collector {
    page: PageContent,
    /// Depth inside skipped elements.
    skip: usize,
    /// Text of the current `<title>` or `<h1>`, pending its end.
    title: Option<String>,
    heading: Option<String>,
    /// Depth inside `<title>` and `<h1>` elements: their text is read by
    /// the one text handler instead of handlers of their own, each a
    /// selector matched against every element and every chunk of text.
    in_title: usize,
    in_heading: usize,
    /// Raw text of the current text node (entities decoded once it ends).
    pending: String,
}

/// The selector every page is read with (`*`), parsed once: parsing the
/// selectors again for every page was a quarter of the time spent reading a
/// small one.
static EVERY_ELEMENT: LazyLock<Selector> = LazyLock::new(|| "*".parse().expect("a valid selector"));

fn parse_html(body: &[u8], declared: Option<&'static Encoding>) -> PageContent {
    let (bom, body) = match Encoding::for_bom(body) {
        Some((enc, len)) => (Some(enc), &body[len..]),
        None => (None, body),
    };
    let encoding = bom.or(declared);
    // lol_html needs an ASCII-compatible encoding: decode UTF-16 up front.
    let (body, encoding): (std::borrow::Cow<[u8]>, _) = match encoding {
        Some(enc) if !enc.is_ascii_compatible() => {
            let (text, _) = enc.decode_without_bom_handling(body);
            (
                text.into_owned().into_bytes().into(),
                Some(encoding_rs::UTF_8),
            )
        }
        other => (body.into(), other),
    };
    let state = Rc::new(RefCell::new(Collector::default()));
    let settings = {
        let (s1, s2) = (state.clone(), state.clone());
        let settings = Settings::new()
            .with_strict(false)
            // A charset in the header or BOM wins over <meta charset>.
            .with_adjust_charset_on_meta_tag(encoding.is_none())
            .append_element_content_handler((
                Cow::Borrowed(&*EVERY_ELEMENT),
                ElementContentHandlers::default().element(move |el: &mut Element| {
                    on_element(&s1, el);
                    Ok(())
                }),
            ))
            .append_document_content_handler(lol_html::doc_text!(move |t: &mut TextChunk| {
                on_text(&s2, t);
                Ok(())
            }));
        match encoding.and_then(AsciiCompatibleEncoding::new) {
            Some(enc) => settings.with_encoding(enc),
            None => settings,
        }
    };
    let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
    // Errors only come from our handlers (which never fail) or from memory
    // limits; whatever was collected before stays usable.
    let _ = rewriter.write(&body);
    let _ = rewriter.end();
    let mut collector = Rc::try_unwrap(state)
        .map(RefCell::into_inner)
        .unwrap_or_else(|rc| std::mem::take(&mut *rc.borrow_mut()));
    finish_title_and_heading(&mut collector);
    let mut page = collector.page;
    page.text = collapse(&page.text);
    page.word_count = word_count(&page.text);
    page.is_html = true;
    page
}

fn on_element(state: &Rc<RefCell<Collector>>, el: &mut Element) {
    let mut s = state.borrow_mut();
    // Element boundaries separate words ("<p>a</p><p>b</p>" is "a b").
    s.page.text.push(' ');
    let tag = el.tag_name();
    if let Some(id) = el.get_attribute("id") {
        s.page
            .anchors
            .insert(htmlize::unescape_attribute(&id).into_owned());
    }
    if tag == "a"
        && let Some(name) = el.get_attribute("name")
    {
        s.page
            .anchors
            .insert(htmlize::unescape_attribute(&name).into_owned());
    }
    if (tag == "title" || tag == "h1")
        && let Some(handlers) = el.end_tag_handlers()
    {
        let title = tag == "title";
        if title {
            s.in_title += 1;
        } else {
            s.in_heading += 1;
        }
        let state = state.clone();
        handlers.push(Box::new(move |_end| {
            let mut s = state.borrow_mut();
            if title {
                s.in_title = s.in_title.saturating_sub(1);
            } else {
                s.in_heading = s.in_heading.saturating_sub(1);
            }
            finish_title_and_heading(&mut s);
            Ok(())
        }));
    }
    if SKIPPED.contains(&tag.as_str())
        && let Some(handlers) = el.end_tag_handlers()
    {
        s.skip += 1;
        let state = state.clone();
        handlers.push(Box::new(move |_end| {
            let mut s = state.borrow_mut();
            s.skip = s.skip.saturating_sub(1);
            Ok(())
        }));
    }
}

fn on_text(state: &Rc<RefCell<Collector>>, t: &TextChunk) {
    let mut s = state.borrow_mut();
    if s.in_title > 0 {
        s.title.get_or_insert_with(String::new).push_str(t.as_str());
    }
    if s.in_heading > 0 {
        s.heading
            .get_or_insert_with(String::new)
            .push_str(t.as_str());
    }
    if s.skip == 0 && matches!(t.text_type(), TextType::Data) {
        s.pending.push_str(t.as_str());
    }
    if t.last_in_text_node() && !s.pending.is_empty() {
        let raw = std::mem::take(&mut s.pending);
        let decoded = htmlize::unescape(&raw);
        s.page.text.push_str(&decoded);
    }
}

fn finish_title_and_heading(s: &mut Collector) {
    // Called at `</title>`, `</h1>` and at the end of a truncated body.
    if let Some(title) = s.title.take() {
        let title = collapse(&htmlize::unescape(&title));
        if s.page.title.is_none() && !title.is_empty() {
            s.page.title = Some(title);
        }
    }
    if let Some(h) = s.heading.take() {
        let h = collapse(&htmlize::unescape(&h));
        if !h.is_empty() && s.page.headings.len() < MAX_HEADINGS {
            s.page.headings.push(h);
        }
    }
}

/// Collapses runs of whitespace into single spaces and trims.
pub fn collapse(text: &str) -> String {
    // Byte by byte, with `char::is_whitespace` only for non-ASCII: pages
    // are mostly ASCII, and this runs on every page read.
    let bytes = text.as_bytes();
    let mut collapsed = String::with_capacity(text.len());
    let mut word: Option<usize> = None;
    let push = |collapsed: &mut String, piece: &str| {
        if !collapsed.is_empty() {
            collapsed.push(' ');
        }
        collapsed.push_str(piece);
    };
    let mut i = 0;
    while i < bytes.len() {
        let (space, len) = match bytes[i] {
            // Rust's whitespace among ASCII: space, and tab to carriage return.
            b @ 0..0x80 => (matches!(b, b' ' | b'\t'..=b'\r'), 1),
            _ => {
                let c = text[i..].chars().next().unwrap_or_default();
                (c.is_whitespace(), c.len_utf8())
            }
        };
        if space {
            if let Some(start) = word.take() {
                push(&mut collapsed, &text[start..i]);
            }
        } else if word.is_none() {
            word = Some(i);
        }
        i += len;
    }
    if let Some(start) = word {
        push(&mut collapsed, &text[start..]);
    }
    collapsed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(body: &str) -> PageContent {
        PageContent::parse(body.as_bytes(), Some("text/html; charset=utf-8")).unwrap()
    }

    #[test]
    fn reads_title_headings_text_and_anchors() {
        let page = html(
            r#"<!doctype html><html><head><title> Annual  report &amp; accounts </title>
            <style>body { color: red }</style><script>var x = "hidden";</script></head>
            <body><nav><a href="/">Home</a> <a href="/about">About</a></nav>
            <h1 id="top">The <em>annual</em> report</h1>
            <p>First para&shy;graph.</p><p>Second</p>
            <h2 id="section-2">Section 2</h2><a name="legacy"></a>
            <footer>Copyright</footer></body></html>"#,
        );
        assert_eq!(page.title.as_deref(), Some("Annual report & accounts"));
        assert_eq!(page.headings, ["The annual report"]);
        assert!(page.text.contains("First para"), "{}", page.text);
        assert!(page.text.contains("Second Section 2"), "{}", page.text);
        assert!(!page.text.contains("hidden"));
        assert!(!page.text.contains("color"));
        assert!(!page.text.contains("Home"));
        assert!(!page.text.contains("Copyright"));
        for a in ["top", "section-2", "legacy"] {
            assert!(page.anchors.contains(a), "{a}");
        }
        assert!(page.is_html);
    }

    #[test]
    fn collapse_matches_split_whitespace() {
        for text in [
            "",
            "   ",
            "one",
            "  a  b\tc\nd\u{b}e\u{c}f\r\ng  ",
            "nbsp\u{a0}and\u{2003}em space\u{3000}ideographic\u{85}next line",
            "é à\u{200b}zero-width (not space) 页 面",
        ] {
            let expected = text.split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(collapse(text), expected, "{text:?}");
        }
    }

    #[test]
    fn truncated_documents_still_parse() {
        let page = html("<html><head><title>Cut</title></head><body><p>some text that is cut");
        assert_eq!(page.title.as_deref(), Some("Cut"));
        assert!(page.text.ends_with("some text that is cut"));
    }

    #[test]
    fn decodes_declared_and_meta_charsets() {
        let (bytes, _, _) =
            encoding_rs::WINDOWS_1251.encode("<title>Страница не найдена</title><p>Ошибка</p>");
        let page = PageContent::parse(&bytes, Some("text/html; charset=windows-1251")).unwrap();
        assert_eq!(page.title.as_deref(), Some("Страница не найдена"));

        let (gbk, _, _) = encoding_rs::GBK
            .encode("<html><head><meta charset=\"gbk\"><title>页面不存在</title></head></html>");
        let page = PageContent::parse(&gbk, Some("text/html")).unwrap();
        assert_eq!(page.title.as_deref(), Some("页面不存在"));
    }

    #[test]
    fn non_text_bodies_have_no_content_and_plain_text_is_kept() {
        assert!(PageContent::parse(b"%PDF-1.7", Some("application/pdf")).is_none());
        let t = PageContent::parse(b"plain\n\nwords", Some("text/plain")).unwrap();
        assert_eq!(t.text, "plain words");
        assert!(!t.is_html);
        assert!(PageContent::parse(b"<!DOCTYPE html><title>x</title>", None).is_some());
    }

    /// `cargo test --release --lib check::content::tests::bench_parse -- --ignored --nocapture`
    #[test]
    #[ignore = "benchmark: prints figures"]
    fn bench_parse() {
        let mut html = String::from("<html><head><title>Bench</title></head><body><nav>menu</nav>");
        let mut i = 0;
        while html.len() < 64 * 1024 {
            html.push_str(&format!(
                "<h2 id=s{i}>Section {i}</h2><p>The committee adopted resolution {i} on water, \
                 climate and refugees after a long debate &amp; a vote.</p>"
            ));
            i += 1;
        }
        let runs = 200;
        let start = std::time::Instant::now();
        let mut words = 0;
        for _ in 0..runs {
            let page = PageContent::parse(html.as_bytes(), Some("text/html")).unwrap();
            words += page.fingerprint().map_or(0, |_| page.words().len());
        }
        let per = start.elapsed() / runs;
        eprintln!(
            "parse + fingerprint of a {} KiB page: {per:?} each ({} words)",
            html.len() / 1024,
            words / runs as usize
        );
    }

    #[test]
    fn comparable_ignores_the_echoed_path() {
        let a = html("<p>Sorry, the page qwerty was not found on this server today</p>");
        let b = html("<p>Sorry, the page report was not found on this server today</p>");
        let ia: HashSet<String> = ["qwerty".to_string()].into();
        let ib: HashSet<String> = ["report".to_string()].into();
        let (fa, sa, _) = a.comparable(&ia);
        let (fb, sb, _) = b.comparable(&ib);
        assert_eq!(fa, fb);
        assert_eq!(sa.jaccard(&sb), 1.0);
    }
}
