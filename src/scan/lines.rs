//! Byte offsets to 1-based line and column numbers.

use std::cell::Cell;

/// A table of line starts for one source text, so every scanner reports
/// positions the same way: lines 1-based, columns 1-based in characters
/// (not bytes) of the original line.
///
/// Columns are counted from the last position asked for when the next one
/// is further along the same line, as the scanners ask in document order:
/// counting from the line start each time made a minified, one-line HTML
/// page with 20,000 notes take 4.9 s to scan (19.7 s with 40,000).
#[derive(Debug, Clone)]
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
    /// The last (line, byte offset, column) computed.
    last: Cell<(usize, usize, usize)>,
}

impl<'a> LineIndex<'a> {
    /// Indexes `text`; `\n`, `\r\n` and a lone `\r` all end a line.
    pub fn new(text: &'a str) -> Self {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        let mut i = 0;
        while let Some(off) = memchr::memchr2(b'\n', b'\r', &bytes[i..]) {
            let at = i + off;
            if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') {
                i = at + 2;
            } else {
                i = at + 1;
            }
            starts.push(i);
        }
        starts.shrink_to_fit();
        LineIndex {
            text,
            starts,
            last: Cell::new((1, 0, 1)),
        }
    }

    /// 1-based line of a byte offset (offsets past the end map to the last line).
    pub fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).max(1)
    }

    /// 1-based (line, column) of a byte offset; the column counts characters.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line(offset);
        let mut end = offset;
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let (from, column) = match self.last.get() {
            (last_line, at, column) if last_line == line && at <= end => (at, column),
            _ => (self.starts[line - 1], 1),
        };
        let column = column + self.text[from..end].chars().count();
        self.last.set((line, end, column));
        (line, column)
    }

    /// Number of lines in the text.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// Always false: even an empty text has one (empty) line.
    pub fn is_empty(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_not_bytes() {
        let idx = LineIndex::new("ab\nçé https://x\r\nz");
        assert_eq!(idx.position(0), (1, 1));
        assert_eq!(idx.position(3), (2, 1));
        // "çé " is 5 bytes, 3 characters
        assert_eq!(idx.position(3 + 5), (2, 4));
        assert_eq!(idx.position(idx.text.len() - 1), (3, 1));
    }

    #[test]
    fn positions_asked_in_any_order_agree() {
        let text = "ab çé x\nyz ü\r\n\u{1F600} end";
        let idx = LineIndex::new(text);
        let offsets: Vec<usize> = (0..=text.len()).collect();
        let fresh = |o: usize| LineIndex::new(text).position(o);
        // Forwards, backwards and jumping about, against a fresh index each.
        for &o in offsets.iter().chain(offsets.iter().rev()) {
            assert_eq!(idx.position(o), fresh(o), "offset {o}");
        }
        for o in [12, 3, 9, 9, 1, 20, 4] {
            let o = o.min(text.len());
            assert_eq!(idx.position(o), fresh(o), "offset {o}");
        }
        assert_eq!(idx.position(text.find('y').unwrap()), (2, 1));
        assert_eq!(idx.position(text.find("end").unwrap()), (3, 3));
    }

    #[test]
    fn lone_carriage_return_ends_a_line() {
        let idx = LineIndex::new("a\rb\n\nc");
        assert_eq!(idx.line(2), 2);
        assert_eq!(idx.line(5), 4);
        assert_eq!(idx.len(), 4);
    }
}
