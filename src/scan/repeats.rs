//! Notes that repeat an earlier citation: "Ibid.", "Id.", "supra note 4".
//!
//! Such a note carries no URL of its own; the librarian wants to see which
//! citation it stands for. Shared by every format through
//! [`super::assemble`].

use std::borrow::Borrow;

use super::Footnote;

/// The label of the footnote that the note with `text` repeats, given the
/// notes before it in document order (their `repeats` already set).
///
/// "Ibid."/"Ibid"/"Ibidem"/"Id."/"Idem" and a bare "Op. cit." repeat the
/// previous note (following that note's own repeat, so a run of "Ibid."
/// points at the original); "Author, op. cit." repeats the latest note
/// mentioning the author; "supra note N" (optionally after an author,
/// "See") repeats note N. Trailing page references ("Ibid., p. 4",
/// "Id. at 12", "supra note 3, paras. 4-5") are allowed; anything else after
/// the marker means the note says more than a repeat, and it is not marked.
pub fn repeated_label<N: Borrow<Footnote>>(text: &str, previous: &[N]) -> Option<String> {
    let t = text.trim();
    // ASCII lowering keeps byte offsets valid for slicing `t`.
    let lower = t.to_ascii_lowercase();
    let last = previous.last()?.borrow();
    let chase = |n: &Footnote| n.repeats.as_deref().unwrap_or(&n.label).to_string();
    for marker in [
        "ibidem", "ibid", "idem", "id", "op. cit", "op.cit", "op cit",
    ] {
        if let Some(rest) = lower.strip_prefix(marker)
            && word_ends(rest)
            && is_page_reference(rest)
        {
            return Some(chase(last));
        }
    }
    // "Author, op. cit., p. 4": the latest earlier note naming the author.
    for marker in [", op. cit", ", op.cit", " op. cit"] {
        if let Some(at) = lower.find(marker) {
            let rest = &lower[at + marker.len()..];
            let author = t[..at].trim();
            if !author.is_empty() && word_ends(rest) && is_page_reference(rest) {
                return previous
                    .iter()
                    .map(Borrow::borrow)
                    .rev()
                    .find(|n| n.text.contains(author))
                    .map(chase);
            }
        }
    }
    // "supra note 4", "Smith, supra note 4, at 5", "See supra note 4".
    if let Some(at) = lower.find("supra note") {
        let rest = lower[at + "supra note".len()..].trim_start();
        let digits: &str = &rest[..rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len())];
        let before = lower[..at].trim();
        let short_prefix = before.len() <= 80 && !before.contains(". ");
        if !digits.is_empty() && short_prefix && is_page_reference(&rest[digits.len()..]) {
            let target = previous
                .iter()
                .map(Borrow::borrow)
                .rev()
                .find(|n| n.label.eq_ignore_ascii_case(digits))?;
            return Some(target.label.to_string());
        }
    }
    None
}

/// The marker is a whole word: "Id." but not "Idaho".
fn word_ends(rest: &str) -> bool {
    rest.chars().next().is_none_or(|c| !c.is_alphanumeric())
}

/// Whether what follows a repeat marker is only a pinpoint reference:
/// punctuation, page/paragraph abbreviations, numbers, ranges, roman numerals.
fn is_page_reference(rest: &str) -> bool {
    const WORDS: &[&str] = &[
        "at",
        "p",
        "pp",
        "page",
        "pages",
        "para",
        "paras",
        "paragraph",
        "paragraphs",
        "n",
        "nn",
        "note",
        "notes",
        "fn",
        "ch",
        "chap",
        "chapter",
        "sec",
        "section",
        "art",
        "article",
        "vol",
        "no",
        "pt",
        "part",
        "ff",
        "f",
        "and",
        "annex",
        "s",
        "ss",
    ];
    rest.split(|c: char| c.is_whitespace() || ",.;:()–—-/§¶".contains(c))
        .filter(|w| !w.is_empty())
        .all(|w| {
            WORDS.contains(&w)
                || w.chars().all(|c| c.is_ascii_digit())
                || w.chars().all(|c| "ivxlcdm".contains(c))
                || (w.ends_with("ff") && w[..w.len() - 2].chars().all(|c| c.is_ascii_digit()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(label: &str, text: &str, repeats: Option<&str>) -> Footnote {
        Footnote {
            label: label.into(),
            line: 1,
            reference_lines: vec![],
            text: text.into(),
            repeats: repeats.map(Into::into),
        }
    }

    fn notes() -> Vec<Footnote> {
        vec![
            note("1", "Smith, The Book, 2001.", None),
            note("2", "Jones, Another Work.", None),
            note("3", "Ibid.", Some("2")),
        ]
    }

    #[test]
    fn ibid_family_repeats_previous_following_chains() {
        let n = notes();
        for t in [
            "Ibid.",
            "Ibid",
            "ibid.",
            "Ibidem.",
            "Id.",
            "Idem",
            "Op. cit.",
            "Ibid., p. 4",
            "Id. at 12.",
            "Ibid., paras. 3–5.",
            "Ibid., pp. 4-5, 7",
            "Ibid., p. iv",
        ] {
            assert_eq!(repeated_label(t, &n).as_deref(), Some("2"), "{t}");
        }
    }

    #[test]
    fn author_op_cit_finds_the_author() {
        assert_eq!(
            repeated_label("Smith, op. cit., p. 9.", &notes()).as_deref(),
            Some("1")
        );
        assert_eq!(repeated_label("Nobody, op. cit.", &notes()), None);
    }

    #[test]
    fn supra_note_n() {
        let n = notes();
        assert_eq!(repeated_label("Supra note 1.", &n).as_deref(), Some("1"));
        assert_eq!(
            repeated_label("Smith, supra note 1, at 5.", &n).as_deref(),
            Some("1")
        );
        assert_eq!(repeated_label("See supra note 2", &n).as_deref(), Some("2"));
        assert_eq!(repeated_label("supra note 9", &n), None);
    }

    #[test]
    fn more_than_a_repeat_is_not_marked() {
        let n = notes();
        for t in [
            "Idaho Code 5.",
            "Ibid. See also https://x.org",
            "Identity politics.",
            "Ibid., and the report of the Secretary-General.",
        ] {
            assert_eq!(repeated_label(t, &n), None, "{t}");
        }
        assert_eq!(repeated_label::<Footnote>("Ibid.", &[]), None);
    }
}
