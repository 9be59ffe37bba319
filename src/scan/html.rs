//! HTML footnotes: Pandoc, Hugo, Jekyll, GitHub, DPUB-ARIA and Wikipedia markup.

/// Extracts footnotes and links (TODO(scan helper)).
pub fn extract(_source: &str) -> super::Extraction {
    super::Extraction::default()
}
