//! The summary printed on stderr after a run.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::time::Duration;

use crate::check::Verdict;

use super::AuditRow;

/// Counts over one run's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Citations per verdict.
    pub verdicts: BTreeMap<Verdict, usize>,
    /// Citations in all.
    pub citations: usize,
    /// Unique URLs checked (or not requested).
    pub urls: usize,
    /// Citations whose verdict is failing.
    pub failing: usize,
    /// Hosts with the most failing citations, most first (at most five).
    pub failing_hosts: Vec<(String, usize)>,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl Summary {
    /// Counts `rows`; `failing` says which verdicts fail the run.
    pub fn new(rows: &[AuditRow], failing: impl Fn(Verdict) -> bool, elapsed: Duration) -> Summary {
        Summary::from_rows(rows, |row| failing(row.result.verdict), elapsed)
    }

    /// Counts `rows`; `failing` says which rows fail the run (with history,
    /// the same verdict can fail one URL and not another).
    pub fn from_rows(
        rows: &[AuditRow],
        failing: impl Fn(&AuditRow) -> bool,
        elapsed: Duration,
    ) -> Summary {
        let mut counter = SummaryCounter::default();
        for row in rows {
            counter.add(row, failing(row));
        }
        counter.finish(elapsed)
    }
}

/// Counts rows one at a time as a report is written, for [`Summary`].
#[derive(Debug, Default)]
pub struct SummaryCounter {
    verdicts: BTreeMap<Verdict, usize>,
    citations: usize,
    /// Hashes of the URLs seen: the rows may be gone once counted.
    urls: HashSet<u64>,
    failing: usize,
    hosts: HashMap<String, usize>,
}

impl SummaryCounter {
    /// Counts one row; `failing` says whether it fails the run.
    pub fn add(&mut self, row: &AuditRow, failing: bool) {
        *self.verdicts.entry(row.result.verdict).or_insert(0) += 1;
        self.citations += 1;
        self.urls
            .insert(xxhash_rust::xxh3::xxh3_64(row.result.url.as_bytes()));
        if failing {
            self.failing += 1;
            let host = url::Url::parse(&row.result.url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_else(|| "(no host)".to_string());
            *self.hosts.entry(host).or_insert(0) += 1;
        }
    }

    /// The summary of the rows counted.
    pub fn finish(self, elapsed: Duration) -> Summary {
        let mut failing_hosts: Vec<(String, usize)> = self.hosts.into_iter().collect();
        failing_hosts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        failing_hosts.truncate(5);
        Summary {
            verdicts: self.verdicts,
            citations: self.citations,
            urls: self.urls.len(),
            failing: self.failing,
            failing_hosts,
            elapsed,
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} citations, {} unique URLs, checked in {:.2} s",
            self.citations,
            self.urls,
            self.elapsed.as_secs_f64()
        )?;
        for (verdict, count) in &self.verdicts {
            writeln!(f, "  {:<20} {count}", verdict.as_str())?;
        }
        writeln!(f, "{} failing citations", self.failing)?;
        if !self.failing_hosts.is_empty() {
            let hosts: Vec<String> = self
                .failing_hosts
                .iter()
                .map(|(h, n)| format!("{h} ({n})"))
                .collect();
            writeln!(f, "hosts with most failures: {}", hosts.join(", "))?;
        }
        Ok(())
    }
}
