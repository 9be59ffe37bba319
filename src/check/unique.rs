//! A run's unique URLs: each URL once, numbered in order of first citation.

use hashbrown::HashTable;

/// The URLs to request, each once, numbered 0, 1, 2… in the order they were
/// first added.
///
/// The text of every URL sits in one string and the table holds only their
/// numbers: about 50 bytes a URL, where a set of `String`s cost about 150
/// (12 MB more at 200,000 URLs).
#[derive(Debug)]
pub struct UniqueUrls {
    text: String,
    /// Where each URL ends in `text`; URL `n` starts where `n - 1` ends.
    ends: Vec<usize>,
    table: HashTable<u32>,
    /// Random per run: a document cannot be written to make the table slow.
    seed: u64,
}

impl Default for UniqueUrls {
    fn default() -> Self {
        UniqueUrls {
            text: String::new(),
            ends: Vec::new(),
            table: HashTable::new(),
            seed: rand::random(),
        }
    }
}

impl UniqueUrls {
    /// No URLs yet.
    pub fn new() -> UniqueUrls {
        UniqueUrls::default()
    }

    fn hash(&self, url: &str) -> u64 {
        xxhash_rust::xxh3::xxh3_64_with_seed(url.as_bytes(), self.seed)
    }

    /// The number of `url`, given a new number the first time it is added.
    pub fn insert(&mut self, url: &str) -> u32 {
        let hash = self.hash(url);
        let (text, ends) = (&self.text, &self.ends);
        let get = |n: u32| nth(text, ends, n as usize);
        if let Some(&n) = self.table.find(hash, |&n| get(n) == url) {
            return n;
        }
        let n = u32::try_from(self.ends.len()).expect("fewer than 4 billion unique URLs");
        self.text.push_str(url);
        self.ends.push(self.text.len());
        let (text, ends, seed) = (&self.text, &self.ends, self.seed);
        self.table.insert_unique(hash, n, |&n| {
            xxhash_rust::xxh3::xxh3_64_with_seed(nth(text, ends, n as usize).as_bytes(), seed)
        });
        n
    }

    /// How many URLs.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// URL number `n` (below [`UniqueUrls::len`]).
    pub fn get(&self, n: u32) -> &str {
        nth(&self.text, &self.ends, n as usize)
    }

    /// The URL numbers in the order of their text, byte by byte (the order
    /// of SQLite's BINARY collation): rows stored in this order go into the
    /// history's B-trees at their ends, where a random order made SQLite
    /// write pages out and read them back.
    pub fn sorted(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.ends.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| self.get(a).cmp(self.get(b)));
        order
    }

    /// Every URL, in number order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.ends.len()).map(|n| nth(&self.text, &self.ends, n))
    }
}

fn nth<'t>(text: &'t str, ends: &[usize], n: usize) -> &'t str {
    let start = if n == 0 { 0 } else { ends[n - 1] };
    &text[start..ends[n]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_url_gets_one_number_in_order_of_first_sight() {
        let mut urls = UniqueUrls::new();
        assert_eq!(urls.insert("https://a.test/"), 0);
        assert_eq!(urls.insert("https://b.test/x"), 1);
        assert_eq!(urls.insert("https://a.test/"), 0);
        assert_eq!(urls.insert("https://a.test"), 2);
        assert_eq!(urls.len(), 3);
        assert_eq!(urls.sorted(), [2, 0, 1]);
        assert_eq!(urls.get(1), "https://b.test/x");
        assert_eq!(
            urls.iter().collect::<Vec<_>>(),
            ["https://a.test/", "https://b.test/x", "https://a.test"]
        );
    }

    #[test]
    fn many_urls_survive_the_table_growing() {
        let mut urls = UniqueUrls::new();
        for i in 0..10_000 {
            assert_eq!(urls.insert(&format!("https://h{}.test/{i}", i % 13)), i);
        }
        for i in (0..10_000).rev() {
            assert_eq!(urls.insert(&format!("https://h{}.test/{i}", i % 13)), i);
        }
        assert_eq!(urls.len(), 10_000);
    }
}
