//! Text similarity: word 3-shingles, a 64-bit SimHash fingerprint and a
//! bounded bottom-k sketch for Jaccard estimates.
//!
//! Shingles are hashed with xxh3 (stable across runs, platforms and Rust
//! versions), never with std's `DefaultHasher`, because fingerprints are
//! stored in history and compared across runs.
//!
//! Words are lowercased, runs of digits become `0` (so a page that only
//! changes a date or a counter keeps its shingles), and each CJK character is
//! a word of its own (Chinese and Japanese have no spaces between words).

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};
use xxhash_rust::xxh3::xxh3_64;

/// Shingle width in words.
const SHINGLE: usize = 3;

/// Entries kept in a [`Sketch`]: Jaccard estimates within ±0.014 at 0.95
/// (standard error √(J(1−J)/k)), 2 KiB per sketch however long the page.
pub const SKETCH_SIZE: usize = 256;

/// Splits text into normalized words (see the module docs).
pub fn words(text: &str) -> Vec<String> {
    Words::of(text).iter().map(str::to_string).collect()
}

/// A text's normalized words (see the module docs) in one buffer, each
/// followed by U+001F: the words of a shingle, joined as they are hashed,
/// are then one slice of it. A page has thousands of words; a `String`
/// each, joined again for every shingle, was most of the time spent
/// fingerprinting it.
#[derive(Debug, Clone, Default)]
pub struct Words {
    joined: String,
    /// Where each word starts and ends in `joined`.
    spans: Vec<(usize, usize)>,
}

impl Words {
    /// The words of `text`.
    pub fn of(text: &str) -> Words {
        let mut words = Words {
            joined: String::with_capacity(text.len() + text.len() / 4),
            spans: Vec::with_capacity(text.len() / 6),
        };
        // Where the word being read starts in `joined`.
        let mut start = 0;
        let mut in_digits = false;
        for c in text.chars() {
            let class = class_of(c);
            if class != Class::Digit && class != Class::Inside {
                in_digits = false;
            }
            match class {
                Class::Digit if !in_digits => {
                    words.joined.push('0');
                    in_digits = true;
                }
                Class::Digit | Class::Inside => {}
                Class::Letter if c.is_ascii() => words.joined.push(c.to_ascii_lowercase()),
                Class::Letter => words.joined.extend(c.to_lowercase()),
                Class::Cjk => {
                    words.end_word(&mut start);
                    words.joined.push(c);
                    words.end_word(&mut start);
                }
                Class::Separator => words.end_word(&mut start),
            }
        }
        words.end_word(&mut start);
        words
    }

    /// Closes the word that began at `start`, if it has a letter.
    fn end_word(&mut self, start: &mut usize) {
        if self.joined.len() > *start {
            self.spans.push((*start, self.joined.len()));
            self.joined.push('\u{1f}');
        }
        *start = self.joined.len();
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// No words at all.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The words in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.spans.iter().map(|&(a, b)| &self.joined[a..b])
    }

    /// The same words without those in `ignore`.
    pub fn without(&self, ignore: &HashSet<String>) -> Words {
        Words::joining(self.iter().filter(|w| !ignore.contains(*w)))
    }

    /// Words already normalized, joined as [`Words::of`] joins them.
    fn joining<'w>(words: impl Iterator<Item = &'w str>) -> Words {
        let mut joined = Words::default();
        for word in words {
            let start = joined.joined.len();
            joined.joined.push_str(word);
            joined.spans.push((start, joined.joined.len()));
            joined.joined.push('\u{1f}');
        }
        joined
    }

    /// The distinct xxh3 hashes of the word 3-shingles (each the words
    /// joined by U+001F, which cannot occur inside a word, so ("ab","c")
    /// and ("a","bc") differ), sorted. One or two words are one shingle;
    /// no words, none.
    pub fn shingles(&self) -> Vec<u64> {
        let hash = |first: usize, last: usize| {
            xxh3_64(&self.joined.as_bytes()[self.spans[first].0..self.spans[last].1])
        };
        let mut hashes: Vec<u64> = match self.spans.len() {
            0 => Vec::new(),
            n if n < SHINGLE => vec![hash(0, n - 1)],
            n => (0..=n - SHINGLE)
                .map(|i| hash(i, i + SHINGLE - 1))
                .collect(),
        };
        hashes.sort_unstable();
        hashes.dedup();
        hashes
    }
}

/// What a character is to the word splitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// A digit: a run of them is one `0`.
    Digit,
    /// A letter, lowercased.
    Letter,
    /// A CJK character: a word of its own.
    Cjk,
    /// Apostrophes, combining accents and soft hyphens sit inside words.
    Inside,
    /// Anything else ends a word.
    Separator,
}

// Called for every character of every page: left to itself, the compiler
// made it a call, and the bench page's fingerprint took 216-223 us instead
// of 155-159 us, its parse 330-337 us instead of 270-281 us.
#[inline(always)]
fn class_of(c: char) -> Class {
    if c.is_ascii() {
        // Most text is ASCII: the Unicode tables are for the rest.
        return match c {
            '0'..='9' => Class::Digit,
            'a'..='z' | 'A'..='Z' => Class::Letter,
            '\'' => Class::Inside,
            _ => Class::Separator,
        };
    }
    if is_cjk(c) {
        Class::Cjk
    } else if c.is_numeric() {
        Class::Digit
    } else if c.is_alphanumeric() {
        Class::Letter
    } else if matches!(c, '\u{2019}' | '\u{0301}' | '\u{00AD}') {
        Class::Inside
    } else {
        Class::Separator
    }
}

/// The number of [`words`] in `text`, without making them: every page's
/// word count is needed, its words only when it is compared.
pub fn word_count(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut count, mut in_word) = (0, false);
    let mut i = 0;
    while i < bytes.len() {
        // ASCII byte by byte: decoding it as UTF-8 was a fifth of the
        // time spent parsing a page.
        let c = match bytes[i] {
            b @ 0..0x80 => char::from(b),
            _ => text[i..].chars().next().unwrap_or_default(),
        };
        i += c.len_utf8();
        match class_of(c) {
            Class::Digit | Class::Letter => in_word = true,
            Class::Inside => {}
            Class::Cjk => {
                count += usize::from(in_word) + 1;
                in_word = false;
            }
            Class::Separator => {
                count += usize::from(in_word);
                in_word = false;
            }
        }
    }
    count + usize::from(in_word)
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK Extension A
        | 0x4E00..=0x9FFF    // CJK Unified Ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK Compatibility Ideographs
        | 0x20000..=0x2FFFF) // CJK Extensions B–F
}

/// The distinct xxh3 hashes of the word 3-shingles of `words`, sorted
/// (see [`Words::shingles`]).
pub fn shingles(words: &[String]) -> Vec<u64> {
    Words::joining(words.iter().map(String::as_str)).shingles()
}

/// `SPREAD[v]` has bit `i` of `v` as its byte `i`.
const SPREAD: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut v = 0;
    while v < 256 {
        let mut bit = 0;
        while bit < 8 {
            if v >> bit & 1 == 1 {
                table[v] |= 1 << (8 * bit);
            }
            bit += 1;
        }
        v += 1;
    }
    table
};

/// A 64-bit SimHash (Charikar 2002) of a text's shingles: similar texts get
/// fingerprints a small Hamming distance apart.
///
/// Written as 16 lowercase hex digits in reports and history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub u64);

impl Fingerprint {
    /// The fingerprint of a set of shingle hashes; `None` when there are none.
    pub fn of_shingles(shingles: &[u64]) -> Option<Fingerprint> {
        if shingles.is_empty() {
            return None;
        }
        // A bit is set where more shingles have it than not (a vote of +1
        // for each shingle with the bit, -1 for each without).
        // Eight bits at a time: SPREAD turns a byte into eight one-byte
        // counters, summed in a u64 for up to 255 shingles before they are
        // spilled (a tenth of the time of a loop over the 64 bits).
        let mut ones = [0u32; 64];
        for chunk in shingles.chunks(255) {
            let mut sums = [0u64; 8];
            for &h in chunk {
                for (byte, sum) in sums.iter_mut().enumerate() {
                    *sum += SPREAD[(h >> (8 * byte)) as usize & 0xff];
                }
            }
            for (byte, sum) in sums.iter().enumerate() {
                for bit in 0..8 {
                    ones[8 * byte + bit] += (sum >> (8 * bit)) as u32 & 0xff;
                }
            }
        }
        let bits = ones
            .iter()
            .enumerate()
            .filter(|(_, ones)| 2 * u64::from(**ones) > shingles.len() as u64)
            .fold(0u64, |acc, (bit, _)| acc | 1 << bit);
        Some(Fingerprint(bits))
    }

    /// The fingerprint of a text; `None` when it has no words.
    pub fn of_text(text: &str) -> Option<Fingerprint> {
        Fingerprint::of_shingles(&Words::of(text).shingles())
    }

    /// Number of differing bits (0–64).
    pub fn distance(self, other: Fingerprint) -> u32 {
        (self.0 ^ other.0).count_ones()
    }

    /// How far a page moved from an earlier fingerprint, 0–1: 0 is the same
    /// text, 1 is as different as two unrelated texts.
    ///
    /// Unrelated texts differ in about half of the 64 bits, so the Hamming
    /// distance is divided by 32 and capped at 1.
    pub fn drift_from(self, earlier: Fingerprint) -> f64 {
        (f64::from(self.distance(earlier)) / 32.0).min(1.0)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl FromStr for Fingerprint {
    type Err = std::num::ParseIntError;

    fn from_str(s: &str) -> Result<Fingerprint, Self::Err> {
        u64::from_str_radix(s, 16).map(Fingerprint)
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Fingerprint {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The [`SKETCH_SIZE`] smallest shingle hashes of a text (Broder's bottom-k
/// sketch): enough to estimate Jaccard similarity with bounded memory, so the
/// probe cache holds 2 KiB per directory instead of whole pages.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sketch(Vec<u64>);

impl Sketch {
    /// The sketch of sorted, distinct shingle hashes (as [`shingles`] returns).
    pub fn of_shingles(shingles: &[u64]) -> Sketch {
        Sketch(shingles.iter().copied().take(SKETCH_SIZE).collect())
    }

    /// Number of shingles held.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// No shingles: the text had no words.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Estimated Jaccard similarity of the two texts' shingle sets (exact when
    /// both have at most [`SKETCH_SIZE`] shingles). Two empty texts are 1.0.
    pub fn jaccard(&self, other: &Sketch) -> f64 {
        if self.0.is_empty() && other.0.is_empty() {
            return 1.0;
        }
        // Walk the union in order, keeping its k smallest members, and count
        // those present in both sketches.
        let (a, b) = (&self.0, &other.0);
        // The k smallest of the union are all within both sketches' ranges,
        // so membership is known for each; short texts are compared whole.
        let k = SKETCH_SIZE;
        let (mut i, mut j, mut taken, mut both) = (0, 0, 0usize, 0usize);
        while taken < k && (i < a.len() || j < b.len()) {
            match (a.get(i), b.get(j)) {
                (Some(x), Some(y)) if x == y => {
                    both += 1;
                    i += 1;
                    j += 1;
                }
                (Some(x), Some(y)) if x < y => i += 1,
                (Some(_), Some(_)) => j += 1,
                (Some(_), None) => i += 1,
                (None, _) => j += 1,
            }
            taken += 1;
        }
        both as f64 / taken as f64
    }
}

/// Deterministic varied prose from a seed, for tests of the content
/// checks: no two seeds share a text.
#[cfg(test)]
pub(crate) fn prose(words: usize, seed: u64) -> Vec<String> {
    const VOCAB: &[&str] = &[
        "report",
        "council",
        "water",
        "resolution",
        "member",
        "states",
        "security",
        "general",
        "assembly",
        "human",
        "rights",
        "climate",
        "refugees",
        "budget",
        "peace",
        "mission",
        "annex",
        "session",
        "agenda",
        "item",
        "draft",
        "text",
        "meeting",
        "letter",
        "permanent",
        "representative",
        "delegation",
        "committee",
        "the",
        "of",
        "and",
        "to",
        "in",
        "a",
        "on",
        "for",
        "was",
        "with",
        "by",
        "that",
        "children",
        "health",
        "food",
        "energy",
        "trade",
        "women",
        "law",
        "court",
        "sea",
        "ocean",
        "forest",
        "city",
        "school",
        "debt",
        "aid",
        "vote",
        "treaty",
        "border",
    ];
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..words)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            VOCAB[(x % VOCAB.len() as u64) as usize].to_string()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(n: usize, seed: u64) -> String {
        prose(n, seed).join(" ")
    }

    #[test]
    fn words_normalize_case_digits_and_cjk() {
        assert_eq!(
            words("Last updated: 27 November 2026, 10:45"),
            ["last", "updated", "0", "november", "0", "0", "0"]
        );
        assert_eq!(words("doesn’t exist"), ["doesnt", "exist"]);
        assert_eq!(words("页面不存在"), ["页", "面", "不", "存", "在"]);
        assert_eq!(words("Страница НЕ найдена"), ["страница", "не", "найдена"]);
        assert!(words("  \n\t ").is_empty());
    }

    #[test]
    fn joined_words_shingle_as_separate_words_do() {
        let ignore: HashSet<String> = ["the".to_string(), "0".to_string()].into();
        for text in [
            "",
            "one",
            "two words",
            "the quick brown fox jumps over the lazy dog",
            "页面不存在 and 页a面 1页2, updated 27 November 2026, ΣΊΣΥΦΟΣ doesn’t",
        ] {
            let separate = words(text);
            let joined = Words::of(text);
            assert_eq!(joined.iter().collect::<Vec<_>>(), separate, "{text:?}");
            assert_eq!(joined.shingles(), shingles(&separate), "{text:?}");
            let kept: Vec<String> = separate
                .iter()
                .filter(|w| !ignore.contains(*w))
                .cloned()
                .collect();
            assert_eq!(
                joined.without(&ignore).shingles(),
                shingles(&kept),
                "{text:?}"
            );
        }
    }

    #[test]
    fn word_count_counts_what_words_makes() {
        for text in [
            "",
            "  \n\t ",
            "Last updated: 27 November 2026, 10:45",
            "doesn’t exist, isn't it? soft\u{ad}hyphen e\u{301}te\u{301}",
            "页面不存在 and 页a面 1页2",
            "Страница НЕ найдена — ΣΊΣΥΦΟΣ straße ²³ ½ Ⅻ x²",
            "a1b2 12ab 1,000.5 --- ...",
        ] {
            assert_eq!(word_count(text), words(text).len(), "{text:?}");
        }
    }

    #[test]
    fn shingles_are_distinct_and_sorted() {
        let w = words("a b c a b c");
        let s = shingles(&w);
        // "a b c", "b c a", "c a b" (the second "a b c" is a repeat).
        assert_eq!(s.len(), 3);
        assert!(s.windows(2).all(|p| p[0] < p[1]));
        assert_eq!(shingles(&words("two words")).len(), 1);
        assert!(shingles(&[]).is_empty());
    }

    #[test]
    fn fingerprint_is_stable_across_runs() {
        // A stored value: this must never change between builds.
        let fp = Fingerprint::of_text("the quick brown fox jumps over the lazy dog").unwrap();
        assert_eq!(fp.to_string().len(), 16);
        assert_eq!(fp.to_string().parse::<Fingerprint>().unwrap(), fp);
        assert_eq!(
            Fingerprint::of_text("The QUICK brown fox jumps over the lazy dog!"),
            Some(fp)
        );
        assert_eq!(Fingerprint::of_text(""), None);
        // Values written by earlier builds, pinned: a faster `words` or
        // shingle hash must give the very same bits.
        assert_eq!(fp.to_string(), "a0cb91968b12fce7");
        let mixed = "Страница НЕ найдена — 页面不存在. Doesn’t exist; updated 27 November \
                     2026, 10:45. Ünïcödé ÉCOLE straße İstanbul ΣΊΣΥΦΟΣ ǅemal";
        assert_eq!(
            Fingerprint::of_text(mixed).unwrap().to_string(),
            "4307629d6b23e497"
        );
        assert_eq!(
            &shingles(&words(mixed))[..3],
            [0x17d57f97d139c15, 0x1d7b420cf3fa6df, 0x3436b716bffc95f]
        );
        assert_eq!(
            words(mixed)[16..],
            [
                "ünïcödé",
                "école",
                "straße",
                "i\u{307}stanbul",
                "σίσυφοσ",
                "ǆemal"
            ]
        );
    }

    #[test]
    fn identical_texts_do_not_drift_unrelated_ones_do() {
        let a = Fingerprint::of_text(&text_of(300, 1)).unwrap();
        let b = Fingerprint::of_text(&text_of(300, 2)).unwrap();
        assert_eq!(a.drift_from(a), 0.0);
        assert!(a.drift_from(b) > 0.6, "{}", a.drift_from(b));
    }

    #[test]
    fn a_changed_date_leaves_the_fingerprint_unchanged() {
        let body = text_of(200, 3);
        let before = format!("Updated 27 November 2026. {body}");
        let after = format!("Updated 28 November 2026. {body}");
        assert_eq!(Fingerprint::of_text(&before), Fingerprint::of_text(&after));
    }

    #[test]
    fn sketch_jaccard_is_exact_for_small_sets_and_close_for_large() {
        let a = Sketch::of_shingles(&shingles(&words("a b c d e")));
        let b = Sketch::of_shingles(&shingles(&words("a b c d x")));
        // {abc, bcd, cde} vs {abc, bcd, cdx}: 2 shared of 4.
        assert!((a.jaccard(&b) - 0.5).abs() < 1e-9);
        assert_eq!(a.jaccard(&a), 1.0);
        assert_eq!(Sketch::default().jaccard(&Sketch::default()), 1.0);
        assert_eq!(a.jaccard(&Sketch::default()), 0.0);

        let long = text_of(5000, 4);
        let la = shingles(&words(&long));
        let mut edited = long.clone();
        edited.push_str(&text_of(500, 5));
        let lb = shingles(&words(&edited));
        let exact = {
            let sa: std::collections::HashSet<_> = la.iter().collect();
            let sb: std::collections::HashSet<_> = lb.iter().collect();
            sa.intersection(&sb).count() as f64 / sa.union(&sb).count() as f64
        };
        let est = Sketch::of_shingles(&la).jaccard(&Sketch::of_shingles(&lb));
        assert!(Sketch::of_shingles(&la).len() == SKETCH_SIZE);
        assert!((est - exact).abs() < 0.08, "estimate {est} exact {exact}");
    }
}
