//! Building a note's text as plain text on one line.

/// Appends `s` to `buf` with every run of whitespace collapsed to one space.
///
/// `buf` ends with a space only while a separator is pending, so pieces
/// appended one after another (text events, lines) join with exactly one
/// space and no per-character allocation. Call [`finish`] at the end.
pub(crate) fn push_collapsed(buf: &mut String, s: &str) {
    if s.is_empty() {
        return;
    }
    if s.starts_with(char::is_whitespace) {
        push_space(buf);
    }
    let mut first = true;
    for word in s.split_whitespace() {
        if !first {
            push_space(buf);
        }
        first = false;
        buf.push_str(word);
    }
    if s.ends_with(char::is_whitespace) {
        push_space(buf);
    }
}

/// Marks a word boundary: one space, never leading, never doubled.
pub(crate) fn push_space(buf: &mut String) {
    if !buf.is_empty() && !buf.ends_with(' ') {
        buf.push(' ');
    }
}

/// Drops a pending separator at the end.
pub(crate) fn finish(buf: &mut String) {
    while buf.ends_with(' ') {
        buf.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapses_across_pieces() {
        let mut b = String::new();
        push_collapsed(&mut b, "  See,\n e.g.");
        push_collapsed(&mut b, " A/75 ");
        push_space(&mut b);
        push_collapsed(&mut b, "and\tB");
        push_collapsed(&mut b, "C ");
        finish(&mut b);
        assert_eq!(b, "See, e.g. A/75 and BC");
    }
}
