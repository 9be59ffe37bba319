//! Markdown: GFM and Pandoc footnotes, and notes of documents converted from PDF.

/// Extracts footnotes and links (TODO(scan helper)).
pub fn extract(_source: &str) -> super::Extraction {
    super::Extraction::default()
}
