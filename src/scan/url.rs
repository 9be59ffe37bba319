//! URL cleanup: from what was written to what a reader would click.

use super::UrlKind;

/// A URL after cleanup, with its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanUrl {
    /// The URL to check.
    pub url: String,
    /// Web, placeholder or another scheme.
    pub kind: UrlKind,
}

/// Cleans a URL as written (TODO(scan helper): the full rules of issue 2).
pub fn clean(raw: &str) -> CleanUrl {
    let url = raw.trim().to_string();
    let kind = if url.is_empty() || url == "#" {
        UrlKind::Placeholder
    } else if url.starts_with("http://") || url.starts_with("https://") {
        UrlKind::Web
    } else {
        UrlKind::OtherScheme
    };
    CleanUrl { url, kind }
}

/// When the link text is itself a URL that differs from the href after
/// cleanup, returns the text's URL (TODO(scan helper)).
pub fn text_mismatch(_text: &str, _href: &str) -> Option<String> {
    None
}
