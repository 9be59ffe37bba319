//! Property tests: the Markdown and plain-text scanners never panic, and
//! every span and offset they report lies inside the input on character
//! boundaries, whatever the input.

use std::sync::Arc;

use linkrot::scan::{Extraction, Format, ScanOptions, ScopeFilter, markdown, scan_document, text};
use proptest::prelude::*;

fn check(src: &str, ex: &Extraction) {
    let ok = |o: usize| o <= src.len() && src.is_char_boundary(o);
    for l in &ex.links {
        assert!(l.span.start <= l.span.end, "{l:?}");
        assert!(ok(l.span.start) && ok(l.span.end), "{l:?} in {src:?}");
        if let Some(f) = l.footnote {
            assert!(f < ex.footnotes.len());
        }
    }
    for f in &ex.footnotes {
        assert!(ok(f.start), "{f:?}");
        assert!(f.references.iter().all(|&r| ok(r)), "{f:?}");
        assert!(!f.text.contains('\n'));
    }
    for (o, _) in &ex.warnings {
        assert!(o.is_none_or(ok));
    }
    for format in [Format::Markdown, Format::Text] {
        let options = ScanOptions {
            scope: ScopeFilter::All,
            ..ScanOptions::default()
        };
        let doc = scan_document(Arc::from("p"), src, format, &options);
        for c in &doc.citations {
            assert!(c.line >= 1 && c.column >= 1);
        }
    }
}

/// Markdown-ish pieces that exercise every recogniser.
fn markdownish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("[^1]".to_string()),
        Just("[^1]: note ".to_string()),
        Just("^[inline ".to_string()),
        Just("]".to_string()),
        Just("[".to_string()),
        Just("<sup>2</sup>".to_string()),
        Just("<sup>".to_string()),
        Just("\n\n".to_string()),
        Just("\n".to_string()),
        Just("    ".to_string()),
        Just("# Notes\n".to_string()),
        Just("1. ".to_string()),
        Just("[3] ".to_string()),
        Just("---\n".to_string()),
        Just("https://x.org/a_(b)".to_string()),
        Just("<https://é.org/>".to_string()),
        Just("[t](https://y.org/\\_z)".to_string()),
        Just("[t][r]\n\n[r]: https://r.org\n".to_string()),
        Just("<a href=\"https://h.org?a&amp;b\">h</a>".to_string()),
        Just("`code https://c.org`".to_string()),
        Just("\\".to_string()),
        Just("*".to_string()),
        Just("é".to_string()),
        Just("\u{200B}".to_string()),
        "[a-z ]{0,6}",
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_strings(src in any::<String>()) {
        check(&src, &markdown::extract(&src));
        check(&src, &text::extract(&src));
    }

    #[test]
    fn markdownish_strings(src in markdownish()) {
        check(&src, &markdown::extract(&src));
        check(&src, &text::extract(&src));
    }
}
