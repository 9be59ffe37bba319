//! Content checks inside the engine: reads what a checked URL's final answer
//! says, sends the random-sibling probe when it is still needed, and writes
//! the findings into the [`CheckResult`].
//!
//! Costs: with content checks on, the engine's `attempt` sends one GET per
//! URL instead of HEAD first, and reads the body prefix; the probe adds at most one GET per host and
//! directory per run, sent through the same client and per-host limits as
//! every other request, and shared by all URLs of that directory, including
//! those that ask while it is in flight. Bodies are read up to the prefix
//! limit, never whole. Parsing a 64 KiB prefix and fingerprinting its text
//! is CPU work (milliseconds; see `check::content::tests::bench_parse`), so
//! it runs on the blocking pool, never on the runtime's workers, one page
//! per core at a time; only pages under 8 KiB, parsed in microseconds, are
//! judged in place.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::header::HeaderMap;
use tokio::sync::Semaphore;
use url::Url;

use super::assess::{Assessment, ContentOptions, Observed, probe_outcome};
use super::soft404::{ProbeCache, ProbeOutcome};
use super::{CheckResult, Checker, FetchEnd, Fingerprint};

/// Bodies up to this size are judged on the runtime's thread: tens of
/// microseconds of parsing, less than a trip through the blocking pool.
const INLINE_PARSE_LIMIT: usize = 8 * 1024;

/// What the content checks of one run know besides the answers: options,
/// the fragments citations point to and the fingerprints seen before.
#[derive(Debug)]
pub struct ContentChecks {
    /// Which checks run.
    pub options: ContentOptions,
    /// Fragments cited per URL (keyed by the URL as requested, fragment
    /// removed), for `--check-fragments`.
    pub fragments: HashMap<String, Vec<String>>,
    /// The last fingerprint seen per URL (history or archive), for drift.
    pub previous: HashMap<String, Fingerprint>,
    /// Probe answers of this run.
    probes: ProbeCache,
    /// One permit per core: pages judged on the blocking pool at once. The
    /// pool would start a thread per waiting page (up to 512), each
    /// fighting for the same cores.
    judges: Semaphore,
    /// Pages read and not yet judged, now and at most.
    held: AtomicUsize,
    peak_held: AtomicUsize,
}

impl Default for ContentChecks {
    fn default() -> ContentChecks {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        ContentChecks {
            options: ContentOptions::default(),
            fragments: HashMap::new(),
            previous: HashMap::new(),
            probes: ProbeCache::default(),
            judges: Semaphore::new(cores),
            held: AtomicUsize::new(0),
            peak_held: AtomicUsize::new(0),
        }
    }
}

/// Counts a page as held from its arrival in [`ContentChecks::inspect`]
/// until it is judged.
struct Held<'a>(&'a AtomicUsize);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl ContentChecks {
    /// Content checks with these options and nothing known from before.
    pub fn new(options: ContentOptions) -> ContentChecks {
        ContentChecks {
            options,
            ..ContentChecks::default()
        }
    }

    /// Directories probed so far this run.
    pub fn probes_sent(&self) -> usize {
        self.probes.len()
    }

    /// Runs CPU work on the blocking pool, one page per core at a time;
    /// `None` if it panicked.
    async fn on_a_core<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let _core = self.judges.acquire().await;
        tokio::task::spawn_blocking(work).await.ok()
    }

    /// The most pages read and waiting for (or under) judgment at once this
    /// run: what the content checks' memory follows.
    pub fn peak_pages_held(&self) -> usize {
        self.peak_held.load(Ordering::Relaxed)
    }

    /// Judges `result` (the check of `url`) from its final answer's
    /// `headers` and body prefix, probing through `checker` if needed.
    pub async fn inspect(
        &self,
        checker: &Checker,
        url: &Url,
        headers: &HeaderMap,
        result: &mut CheckResult,
    ) {
        let Some(status) = result.status else {
            return;
        };
        if !self.options.needs_body(status) {
            return;
        }
        let Some(body) = result.body_prefix.clone() else {
            return;
        };
        let now = self.held.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak_held.fetch_max(now, Ordering::Relaxed);
        let _held = Held(&self.held);
        let limit = checker.fetcher().settings().body_limit;
        let key = url.as_str();
        let fragments = self.fragments.get(key).cloned().unwrap_or_default();
        let previous = self.previous.get(key).copied();
        let options = self.options;
        let small = body.len() <= INLINE_PARSE_LIMIT;
        let judge = move |judged: &CheckResult, headers: &HeaderMap| {
            let observed = Observed {
                headers,
                body: &body,
                body_complete: body.len() < limit,
            };
            Assessment::new(judged, &observed, previous, &fragments, &options)
        };
        let assessed = if small {
            // Small pages cost less to parse here than to hand to another
            // thread and wake this one again.
            Some(judge(result, headers))
        } else {
            let (judged, headers) = (result.clone(), headers.clone());
            self.on_a_core(move || judge(&judged, &headers)).await
        };
        // The closure does not panic; if it did, the status-code verdict stands.
        let Some(mut assessment) = assessed else {
            return;
        };
        if let Some((probe_key, probe_url)) = assessment.probe_target().cloned() {
            let outcome = self
                .probes
                .get_or_probe(probe_key, || async {
                    let fetched = checker.get(&probe_url).await;
                    let status = match fetched.end {
                        FetchEnd::Answer(status) => Some(status),
                        FetchEnd::Failed(_) => None,
                    };
                    self.on_a_core(move || {
                        let body = fetched.body_prefix.clone().unwrap_or_default();
                        let observed = Observed {
                            headers: &fetched.headers,
                            body: &body,
                            body_complete: body.len() < limit,
                        };
                        probe_outcome(&probe_url, &fetched.chain, status, Some(&observed))
                    })
                    .await
                    .unwrap_or(ProbeOutcome::Inconclusive)
                })
                .await;
            assessment = if small || !assessment.compares_with(&outcome) {
                assessment.with_probe(&outcome)
            } else {
                // As above: if it panicked, the status-code verdict stands.
                match self
                    .on_a_core(move || assessment.with_probe(&outcome))
                    .await
                {
                    Some(assessment) => assessment,
                    None => return,
                }
            };
        }
        assessment.apply(result);
    }
}
