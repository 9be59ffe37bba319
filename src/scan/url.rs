//! URL cleanup: from what was written to what a reader would click.
//!
//! Documents carry URLs with the marks of their conversion: Markdown escapes
//! left in by a PDF converter (`western\_azerbaijan`), sentence punctuation
//! glued to the end, angle brackets, zero-width spaces and soft hyphens from
//! typesetting. [`clean`] removes exactly those and nothing else: the path,
//! query and their case and percent-escapes stay as written, because the
//! server decides what they mean. Only an internationalised host is rewritten,
//! to the punycode a browser would send.

use super::UrlKind;

/// A URL after cleanup, with its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanUrl {
    /// The URL to check.
    pub url: String,
    /// Web, placeholder or another scheme.
    pub kind: UrlKind,
}

/// Characters that never belong in a URL and typesetting inserts:
/// zero-width space/joiners, word joiner, byte-order mark, soft hyphen.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
    )
}

/// Closing quotes a sentence may put right after a URL.
fn is_closing_quote(c: char) -> bool {
    matches!(c, '"' | '\'' | '”' | '’' | '»' | '›' | '“' | '‘')
}

/// Opening marks a sentence may put right before a URL.
fn is_opening_mark(c: char) -> bool {
    matches!(c, '"' | '\'' | '“' | '‘' | '«' | '‹' | '„')
}

/// Cleans a URL as written, following the rules of issue 2:
/// surrounding whitespace, angle brackets, zero-width characters and soft
/// hyphens removed; Markdown backslash escapes undone; trailing sentence
/// punctuation and closing quotes dropped; parentheses and brackets kept
/// only when balanced; an IDN host converted to punycode.
pub fn clean(raw: &str) -> CleanUrl {
    let url = clean_str(raw);
    let kind = kind_of(&url);
    CleanUrl { url, kind }
}

fn clean_str(raw: &str) -> String {
    let mut s: String = if raw
        .chars()
        .any(|c| is_invisible(c) || c == '\n' || c == '\r')
    {
        // A URL wrapped across lines (plain text) keeps no line break or the
        // indentation of its continuation.
        let mut out = String::with_capacity(raw.len());
        let mut after_break = false;
        for c in raw.chars() {
            if c == '\n' || c == '\r' {
                after_break = true;
                while out.ends_with([' ', '\t']) {
                    out.pop();
                }
                continue;
            }
            if after_break && (c == ' ' || c == '\t') {
                continue;
            }
            after_break = false;
            if !is_invisible(c) {
                out.push(c);
            }
        }
        out
    } else {
        raw.to_string()
    };
    let trimmed = s.trim();
    if trimmed.len() != s.len() {
        s = trimmed.to_string();
    }
    if s.contains('\\') {
        s = undo_backslash_escapes(&s);
    }
    trim_marks(&mut s);
    punycode_host(&mut s);
    s
}

/// Drops every backslash that escapes ASCII punctuation (Markdown's rule),
/// repeatedly, so a doubly escaped `\\_` also becomes `_`.
fn undo_backslash_escapes(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            let mut j = i;
            while j < bytes.len() && bytes[j] == b'\\' {
                j += 1;
            }
            if j < bytes.len() && bytes[j].is_ascii_punctuation() {
                // a run of backslashes before punctuation: all escapes
                i = j;
                continue;
            }
            out.push_str(&s[i..j]);
            i = j;
            continue;
        }
        let next = memchr::memchr(b'\\', &bytes[i..]).map_or(bytes.len(), |o| i + o);
        out.push_str(&s[i..next]);
        i = next;
    }
    out
}

/// Removes the marks around a URL that belong to the sentence.
fn trim_marks(s: &mut String) {
    loop {
        let before = s.len();
        if let Some(rest) = s.strip_prefix('<') {
            *s = rest.to_string();
        }
        if s.ends_with('>') && !s.contains('<') {
            s.pop();
        }
        // A URL never starts with a bracket or a quote: those belong to the sentence.
        if let Some(c) = s.chars().next()
            && (is_opening_mark(c) || matches!(c, '(' | '[' | '{'))
        {
            s.drain(..c.len_utf8());
        }
        while let Some(c) = s.chars().next_back() {
            let drop = match c {
                '.' | ',' | ';' | ':' | '!' | '?' => true,
                ')' => count(s, '(') < count(s, ')'),
                ']' => count(s, '[') < count(s, ']'),
                '}' => count(s, '{') < count(s, '}'),
                c => is_closing_quote(c),
            };
            if !drop {
                break;
            }
            s.pop();
        }
        if s.len() == before {
            break;
        }
    }
}

fn count(s: &str, c: char) -> usize {
    s.bytes().filter(|&b| b == c as u8).count()
}

/// Rewrites a non-ASCII host to punycode in place, leaving every other
/// character of the URL as written.
fn punycode_host(s: &mut String) {
    let Some(scheme_end) = s.find("://") else {
        return;
    };
    let authority_start = scheme_end + 3;
    let authority_end = s[authority_start..]
        .find(['/', '?', '#'])
        .map_or(s.len(), |o| authority_start + o);
    let authority = &s[authority_start..authority_end];
    let host_start = authority.rfind('@').map_or(0, |at| at + 1);
    let host_and_port = &authority[host_start..];
    if host_and_port.is_ascii() || host_and_port.starts_with('[') {
        return;
    }
    let host_end = host_and_port.rfind(':').unwrap_or(host_and_port.len());
    let host = &host_and_port[..host_end];
    if let Ok(::url::Host::Domain(ascii)) = ::url::Host::parse(host) {
        let from = authority_start + host_start;
        s.replace_range(from..from + host.len(), &ascii);
    }
}

/// Classifies a cleaned URL by its scheme.
fn kind_of(url: &str) -> UrlKind {
    if url.is_empty() || url.starts_with('#') {
        return UrlKind::Placeholder;
    }
    match scheme(url) {
        Some(s) if s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https") => {
            UrlKind::Web
        }
        Some(s) if s.eq_ignore_ascii_case("javascript") => UrlKind::Placeholder,
        _ => UrlKind::OtherScheme,
    }
}

/// The scheme of a URL (RFC 3986: a letter, then letters, digits, `+-.`).
fn scheme(url: &str) -> Option<&str> {
    let colon = url.find(':')?;
    let s = &url[..colon];
    let mut chars = s.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(s)
}

/// Whether a link's text is itself written as a URL (so it names the same
/// citation as the href rather than a second one).
pub fn looks_like_url(text: &str) -> bool {
    let t = text.trim().trim_start_matches('<');
    let t = t.trim_start_matches(|c| is_opening_mark(c) || c == '(');
    if t.contains(char::is_whitespace) {
        return false;
    }
    if let Some(s) = scheme(t) {
        let rest = &t[s.len() + 1..];
        return rest.starts_with("//") && rest.len() > 2;
    }
    t.len() > 4 && t[..4].eq_ignore_ascii_case("www.")
}

/// When the link text is itself a URL that differs from the href after
/// cleanup, returns the text's URL.
///
/// Differences a reader would not call a different address are ignored:
/// `http` against `https`, a missing scheme (`www.example.org`), host case, a
/// trailing slash, and a text shortened with an ellipsis that the href
/// continues.
pub fn text_mismatch(text: &str, href: &str) -> Option<String> {
    if !looks_like_url(text) {
        return None;
    }
    let text_url = clean_str(text);
    if text_url == href {
        return None;
    }
    if let Some(prefix) = text_url
        .strip_suffix('…')
        .or_else(|| text_url.strip_suffix("..."))
    {
        let (p, h) = (comparable(prefix), comparable(href));
        return if h.starts_with(p.as_str()) {
            None
        } else {
            Some(text_url)
        };
    }
    if comparable(&text_url) == comparable(href) {
        None
    } else {
        Some(text_url)
    }
}

/// A URL reduced to what decides where it leads, for comparing text with href.
fn comparable(u: &str) -> String {
    let rest = match scheme(u) {
        Some(s) if s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https") => {
            u[s.len() + 1..].trim_start_matches('/')
        }
        _ => u,
    };
    let (host, path) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    let host = host.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_string();
    let path = path.strip_suffix('/').unwrap_or(path);
    host + path
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(raw: &str) -> String {
        clean(raw).url
    }

    #[test]
    fn backslash_escapes_undone_single_and_double() {
        assert_eq!(
            c(r"https://azertag.az/en/xeber/western\_azerbaijan\_community-2545088"),
            "https://azertag.az/en/xeber/western_azerbaijan_community-2545088"
        );
        assert_eq!(
            c(r"https://azertag.az/en/xeber/western\\_azerbaijan"),
            "https://azertag.az/en/xeber/western_azerbaijan"
        );
        // a backslash before a letter is not an escape
        assert_eq!(c(r"https://x.org/a\b"), r"https://x.org/a\b");
    }

    #[test]
    fn trailing_sentence_punctuation_dropped() {
        for end in [
            ".", ",", ";", ":", "!", "?", "...", ".)", "\".", "”", "’.", "'",
        ] {
            assert_eq!(
                c(&format!("https://x.org/a{end}")),
                "https://x.org/a",
                "{end}"
            );
        }
        // punctuation inside is kept
        assert_eq!(c("https://x.org/a.pdf?x=1"), "https://x.org/a.pdf?x=1");
    }

    #[test]
    fn parentheses_kept_only_when_balanced() {
        assert_eq!(
            c("https://en.wikipedia.org/wiki/Foo_(bar)"),
            "https://en.wikipedia.org/wiki/Foo_(bar)"
        );
        assert_eq!(c("https://x.org/a)."), "https://x.org/a");
        assert_eq!(c("(https://x.org/a)."), "https://x.org/a");
        assert_eq!(c("https://x.org/a]"), "https://x.org/a");
        assert_eq!(c("https://x.org/a[1]"), "https://x.org/a[1]");
        assert_eq!(c("https://x.org/{a}"), "https://x.org/{a}");
        assert_eq!(c("https://x.org/a}"), "https://x.org/a");
    }

    #[test]
    fn angle_brackets_whitespace_invisibles_removed() {
        assert_eq!(c("  <https://x.org/a>  "), "https://x.org/a");
        assert_eq!(
            c("https://x.org/lo\u{200B}ng\u{00AD}path"),
            "https://x.org/longpath"
        );
        assert_eq!(c("\u{FEFF}https://x.org/\u{2060}a"), "https://x.org/a");
        assert_eq!(c("\"https://x.org/a\""), "https://x.org/a");
        assert_eq!(c("“https://x.org/a”"), "https://x.org/a");
    }

    #[test]
    fn url_wrapped_across_lines_is_joined() {
        assert_eq!(c("https://x.org/some-\n   path"), "https://x.org/some-path");
        assert_eq!(c("https://x.org/a/\r\nb.html"), "https://x.org/a/b.html");
    }

    #[test]
    fn idn_host_to_punycode_nothing_else_rewritten() {
        assert_eq!(
            c("https://bücher.example/Some%2Fpath/ÄÖ?Q=Ü#Frag"),
            "https://xn--bcher-kva.example/Some%2Fpath/ÄÖ?Q=Ü#Frag"
        );
        assert_eq!(
            c("https://user@münchen.de:8080/x"),
            "https://user@xn--mnchen-3ya.de:8080/x"
        );
        // ASCII hosts keep their case; paths keep their escapes and case
        assert_eq!(c("HTTPS://Example.ORG/A%7eB"), "HTTPS://Example.ORG/A%7eB");
    }

    #[test]
    fn kinds() {
        assert_eq!(clean("https://x.org").kind, UrlKind::Web);
        assert_eq!(clean("HTTP://x.org").kind, UrlKind::Web);
        assert_eq!(clean("#").kind, UrlKind::Placeholder);
        assert_eq!(clean("").kind, UrlKind::Placeholder);
        assert_eq!(clean("  ").kind, UrlKind::Placeholder);
        assert_eq!(clean("#fn1").kind, UrlKind::Placeholder);
        assert_eq!(clean("javascript:void(0);").kind, UrlKind::Placeholder);
        assert_eq!(clean("JavaScript:void(0)").kind, UrlKind::Placeholder);
        assert_eq!(clean("mailto:a@b.org").kind, UrlKind::OtherScheme);
        assert_eq!(clean("ftp://x.org/f").kind, UrlKind::OtherScheme);
        assert_eq!(clean("file:///etc/x").kind, UrlKind::OtherScheme);
        assert_eq!(clean("doi:10.1000/182").kind, UrlKind::OtherScheme);
        assert_eq!(clean("relative/page.html").kind, UrlKind::OtherScheme);
    }

    #[test]
    fn text_equal_to_href_is_no_mismatch() {
        let href = "https://azertag.az/en/xeber/western_azerbaijan-2545088";
        assert_eq!(
            text_mismatch(
                r"https://azertag.az/en/xeber/western\_azerbaijan-2545088",
                href
            ),
            None
        );
        assert_eq!(
            text_mismatch(
                "http://AZERTAG.az/en/xeber/western_azerbaijan-2545088/",
                href
            ),
            None
        );
        assert_eq!(
            text_mismatch("www.azertag.az/en/xeber/western_azerbaijan-2545088", href),
            None
        );
        assert_eq!(
            text_mismatch("https://azertag.az/en/xeber/west…", href),
            None
        );
        assert_eq!(text_mismatch("A/75/872-S/2021/429", "#"), None);
        assert_eq!(text_mismatch("the article", href), None);
    }

    #[test]
    fn text_differing_from_href_is_flagged() {
        assert_eq!(
            text_mismatch("https://example.org/old", "https://example.org/new"),
            Some("https://example.org/old".into())
        );
        assert_eq!(
            text_mismatch("https://other.org/x…", "https://example.org/x/y"),
            Some("https://other.org/x…".into())
        );
    }

    #[test]
    fn looks_like_url_needs_scheme_and_slashes_or_www() {
        assert!(looks_like_url("https://x.org"));
        assert!(looks_like_url("<https://x.org>"));
        assert!(looks_like_url("www.x.org/a"));
        assert!(!looks_like_url("A/75/872-S/2021/429"));
        assert!(!looks_like_url("see https://x.org"));
        assert!(!looks_like_url("note: this"));
    }
}
