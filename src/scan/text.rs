//! Plain text: endnotes after a Notes heading or a separator line.

/// Extracts footnotes and links (TODO(scan helper)).
pub fn extract(_source: &str) -> super::Extraction {
    super::Extraction::default()
}
