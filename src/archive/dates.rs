//! The date a citation speaks for: an access or publication date written in
//! its footnote, else the document's own date. The Internet Archive lookup
//! asks for the capture closest to it, so a reader sees the page as the
//! author saw it.

use std::sync::LazyLock;

use jiff::civil::Date;
use regex::Regex;

const MONTHS: &str = "january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec";

/// `3 May 2022`, `May 3, 2022`, `2022-05-03`.
static DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)\b(?:(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m1>{MONTHS})\.?,?\s+(?P<y1>\d{{4}})|(?P<m2>{MONTHS})\.?\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y2>\d{{4}})|(?P<y3>\d{{4}})-(?P<m3>\d{{2}})-(?P<d3>\d{{2}}))\b"
    ))
    .expect("date pattern")
});

/// `accessed`, `retrieved`, `viewed`, `consulted`, `last visited`, followed
/// by an optional `on`.
static ACCESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:accessed|retrieved|viewed|consulted|last\s+visited)(?:\s+on)?[\s:,]*$")
        .expect("access pattern")
});

/// A date found in text, with where it starts.
fn dates(text: &str) -> impl Iterator<Item = (usize, Date)> + '_ {
    DATE.captures_iter(text).filter_map(|c| {
        let start = c.get(0)?.start();
        let (y, m, d) = if let Some(y) = c.name("y1") {
            (
                y.as_str(),
                month(c.name("m1")?.as_str())?,
                c.name("d1")?.as_str(),
            )
        } else if let Some(y) = c.name("y2") {
            (
                y.as_str(),
                month(c.name("m2")?.as_str())?,
                c.name("d2")?.as_str(),
            )
        } else {
            let m: i8 = c.name("m3")?.as_str().parse().ok()?;
            (c.name("y3")?.as_str(), m, c.name("d3")?.as_str())
        };
        let date = Date::new(y.parse().ok()?, m, d.parse().ok()?).ok()?;
        Some((start, date))
    })
}

fn month(name: &str) -> Option<i8> {
    let n = name.to_ascii_lowercase();
    let i = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ]
    .iter()
    .position(|m| n.starts_with(m))?;
    Some(i as i8 + 1)
}

/// The date a footnote gives for its source: an access date (`accessed
/// 3 May 2022`) wins; else the last date in the note, which in citation
/// styles is the publication date just before the URL.
pub fn footnote_date(text: &str) -> Option<Date> {
    let all: Vec<(usize, Date)> = dates(text).collect();
    all.iter()
        .find(|(start, _)| ACCESS.is_match(&text[..*start]))
        .or(all.last())
        .map(|(_, d)| *d)
}

/// The document's own date: front matter `date:`, else a line near the top
/// that is only a date (like a UN document's `17 October 2024`).
pub fn document_date(source: &str) -> Option<Date> {
    let mut lines = source.lines();
    if source.starts_with("---") {
        lines.next();
        for line in lines.by_ref() {
            let line = line.trim();
            if line == "---" || line == "..." {
                break;
            }
            if let Some(value) = line.strip_prefix("date:") {
                let value = value.trim().trim_matches(['"', '\'']);
                if let Some((_, d)) = dates(value).next() {
                    return Some(d);
                }
            }
        }
    }
    source.lines().take(40).find_map(|line| {
        let line = line.trim().trim_matches(['*', '_', '#', ' ']);
        let (start, date) = dates(line).next()?;
        let m = DATE.find(line)?;
        (start == 0 && m.end() == line.len()).then_some(date)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn access_date_wins_over_publication_date() {
        assert_eq!(
            footnote_date(
                "J. Doe, \"Title\", 27 March 2023. Available at https://x (accessed 3 May 2022)."
            ),
            Some(date(2022, 5, 3))
        );
        assert_eq!(
            footnote_date("Retrieved on May 3rd, 2021 from https://x, published 2019-01-02"),
            Some(date(2021, 5, 3))
        );
    }

    #[test]
    fn otherwise_the_last_date_in_the_note() {
        assert_eq!(
            footnote_date(
                "adopted at the session held on 16 and 17 March 2023 in Nouakchott. Available at https://x"
            ),
            Some(date(2023, 3, 17))
        );
        assert_eq!(
            footnote_date(
                "United Nations, \"UN team completes mission\", 2 October 2023. Available at <https://x>."
            ),
            Some(date(2023, 10, 2))
        );
        assert_eq!(footnote_date("No date here, resolution 853 (1993)."), None);
        assert_eq!(footnote_date("31 February 2023"), None);
    }

    #[test]
    fn document_dates() {
        assert_eq!(
            document_date("---\ntitle: x\ndate: 2024-10-17\n---\n# Body 1 May 2020\n"),
            Some(date(2024, 10, 17))
        );
        assert_eq!(
            document_date(
                "# Council\n\nDistr.: General  \n17 October 2024\n\nText of 1 May 2020.\n"
            ),
            Some(date(2024, 10, 17))
        );
        assert_eq!(
            document_date("Letter dated 16 October 2024 from someone\n"),
            None
        );
    }

    #[test]
    fn the_sample_document_is_dated_17_october_2024() {
        let text = include_str!("../../tests/fixtures/un-letter-2024-10-16.md");
        assert_eq!(document_date(text), Some(date(2024, 10, 17)));
    }
}
