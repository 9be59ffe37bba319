//! Small helpers shared by the XML-based scanners (DOCX, JATS).
//!
//! quick-xml never expands entities declared in a DTD: a document type
//! declaration is reported as an event and ignored, and a reference to an
//! entity it declares is kept as written. That is what makes "billion
//! laughs" and external-entity documents harmless here.

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesRef, BytesStart};

/// The text a general reference stands for: a character reference or one of
/// XML's five predefined entities; any other entity is kept as written
/// (`&name;`), never expanded.
pub fn reference_text(reference: &BytesRef<'_>) -> String {
    if let Ok(Some(c)) = reference.resolve_char_ref() {
        return c.to_string();
    }
    let name: &str = reference;
    match resolve_predefined_entity(name) {
        Some(text) => text.to_string(),
        None => format!("&{name};"),
    }
}

/// The value of the attribute whose local name (prefix ignored) is `name`,
/// with predefined entities and character references resolved.
pub fn attribute(element: &BytesStart<'_>, name: &str) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

/// The value of the attribute whose full name (with prefix) is `name`.
pub fn attribute_qualified(element: &BytesStart<'_>, name: &str) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

/// Appends text to a one-line rendering: line breaks become spaces, so a
/// paragraph stays on one line and positions stay meaningful.
pub fn push_inline(out: &mut String, text: &str) {
    for c in text.chars() {
        out.push(match c {
            '\n' | '\r' | '\t' | '\u{b}' | '\u{c}' | '\u{85}' | '\u{2028}' | '\u{2029}' => ' ',
            c => c,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_entities_are_kept_not_expanded() {
        assert_eq!(reference_text(&BytesRef::new("amp")), "&");
        assert_eq!(reference_text(&BytesRef::new("#x41")), "A");
        assert_eq!(reference_text(&BytesRef::new("lol9")), "&lol9;");
    }
}
