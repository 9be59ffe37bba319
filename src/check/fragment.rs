//! `--check-fragments`: does the page still have the `#section` a citation
//! points into?
//!
//! A fragment is present when an element has it as `id`, or an `<a>` as
//! `name` (HTML's "indicated part of the document"). Fragments that are not
//! element names are never reported: empty and `top` (the top of the page),
//! text fragments (`#:~:text=`), script routes (`#!/x`, `#/x`), PDF open
//! parameters (`#page=3`) and GitHub line anchors (`#L10-L20`). GitHub
//! prefixes rendered ids with `user-content-`, which its script strips.

use url::Url;

use super::content::PageContent;

/// Whether a fragment names an element, so its absence means something.
pub fn names_an_element(fragment: &str) -> bool {
    !(fragment.is_empty()
        || fragment.eq_ignore_ascii_case("top")
        || fragment.contains(":~:")
        || fragment.starts_with('!')
        || fragment.starts_with('/')
        || fragment.contains('=')
        || is_line_anchor(fragment))
}

fn is_line_anchor(fragment: &str) -> bool {
    fragment.split('-').all(|part| {
        part.strip_prefix('L')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// The fragment of a URL as the page's ids are written (percent-decoded).
pub fn fragment_of(url: &Url) -> Option<String> {
    let raw = url.fragment()?;
    let decoded = percent_decode(raw);
    Some(decoded)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The fragments among `wanted` the page lacks.
///
/// When the body was cut at the prefix limit, an absent id may lie beyond
/// the cut: nothing is reported then unless the page is complete.
pub fn missing(wanted: &[String], page: &PageContent, body_complete: bool) -> Vec<String> {
    if !page.is_html {
        return Vec::new();
    }
    wanted
        .iter()
        .filter(|f| names_an_element(f))
        .filter(|f| {
            !page.anchors.contains(f.as_str())
                && !page.anchors.contains(&format!("user-content-{f}"))
        })
        .filter(|_| body_complete)
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(html: &str) -> PageContent {
        PageContent::parse(html.as_bytes(), Some("text/html")).unwrap()
    }

    fn wanted(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ids_and_anchor_names_are_targets() {
        let p = page(
            r#"<h2 id="findings">F</h2><a name="annex-1"></a><div id="résumé"></div>
               <h3 id="user-content-install">I</h3><span name="not-a-target"></span>"#,
        );
        let w = wanted(&[
            "findings",
            "annex-1",
            "résumé",
            "install",
            "gone",
            "not-a-target",
            "Findings",
        ]);
        assert_eq!(missing(&w, &p, true), ["gone", "not-a-target", "Findings"]);
    }

    #[test]
    fn fragments_that_name_no_element_are_never_missing() {
        let p = page("<p>nothing</p>");
        let w = wanted(&[
            "",
            "top",
            ":~:text=hello",
            "!/route",
            "/route",
            "page=3",
            "L10",
            "L10-L20",
        ]);
        assert!(missing(&w, &p, true).is_empty());
    }

    #[test]
    fn truncated_bodies_and_non_html_report_nothing() {
        let p = page("<p>cut here");
        assert!(missing(&wanted(&["later"]), &p, false).is_empty());
        let text = PageContent::parse(b"plain", Some("text/plain")).unwrap();
        assert!(missing(&wanted(&["x"]), &text, true).is_empty());
    }

    #[test]
    fn fragments_are_percent_decoded() {
        let url = Url::parse("https://example.org/p#r%C3%A9sum%C3%A9").unwrap();
        assert_eq!(fragment_of(&url).as_deref(), Some("résumé"));
        assert_eq!(
            fragment_of(&Url::parse("https://example.org/p").unwrap()),
            None
        );
    }
}
