//! The [`Checker`]: retries, HEAD→GET fallback, verdicts, and the streaming
//! scheduler that keeps every host busy up to its limit.
//!
//! Scheduling: URLs stream in over a channel and are routed to one small
//! queue per host name. Each host's queue is drained by its own task, which
//! takes a host slot, then a global slot, then spawns the check; so a URL
//! waiting for a busy host never holds a global slot other hosts could use.
//! At most `queue_limit` URLs are admitted and unfinished at a time, so memory
//! follows the URLs in flight, not the size of the input. With content
//! checks on, a URL also takes a body permit (twice the global limit in all)
//! before its host slot and keeps it until its page is judged: pages arrive
//! faster than two cores judge them, and without that bound the bodies
//! waiting for the CPU grew with the input (600 MiB for 20,000 pages of
//! 32 KiB in `bench_check --page-kb 32`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use reqwest::{Method, Url};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::time::Instant;

use super::error::{Failure, one_line};
use super::fetch::{FetchEnd, Fetched, Fetcher};
use super::inspect::ContentChecks;
use super::limits::{HostLimits, RequestSlot};
use super::options::{CheckOptions, RequestMethod};
use super::{CheckResult, Verdict};

/// Statuses worth another attempt.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// Checks URLs: cheap to clone, all clones share one client and one set of
/// [`HostLimits`].
#[derive(Debug, Clone)]
pub struct Checker {
    fetcher: Fetcher,
    options: Arc<CheckOptions>,
    /// Soft 404s, parked domains, bot walls, drift, fragments (issue 6).
    content: Option<Arc<ContentChecks>>,
    /// With content checks on: one permit per URL from before its request
    /// until its page is judged (see the module docs).
    bodies: Option<Arc<Semaphore>>,
}

/// Why a URL is not requested at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unrequested {
    /// `placeholder`, `invalid_url`, `unsupported_scheme` or `excluded`.
    pub verdict: Verdict,
    /// Why, in one line.
    pub error: Option<String>,
}

/// The client could not be built (bad TLS setup, invalid header).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTP client: {0}")]
pub struct BuildError(#[from] reqwest::Error);

impl Checker {
    /// A checker with its own client and limits.
    pub fn new(options: CheckOptions) -> Result<Checker, BuildError> {
        let client = options.client_builder().build()?;
        let limits = Arc::new(HostLimits::new(
            options.max_concurrency,
            options.host_concurrency,
            options.host_interval,
        ));
        let fetcher = Fetcher::new(client, limits, options.fetch_settings());
        Ok(Checker::with_fetcher(options, fetcher))
    }

    /// A checker sending through an existing fetcher (and its limits).
    pub fn with_fetcher(options: CheckOptions, fetcher: Fetcher) -> Checker {
        Checker {
            fetcher,
            options: Arc::new(options),
            content: None,
            bodies: None,
        }
    }

    /// Runs the content checks on every answer (see [`ContentChecks`]).
    pub fn with_content_checks(mut self, content: ContentChecks) -> Checker {
        // Twice the global limit: judging that keeps up never holds the
        // network back, judging that falls behind does. Host workers
        // waiting for a busy host or its pacing hold permits too, hence
        // the second half. (Permits equal to the global limit peaked at
        // 103 MiB instead of 172 MiB in bench_check --page-kb 32 at 20,000
        // URLs, in the same wall time.)
        self.bodies = content.options.enabled.then(|| {
            Arc::new(Semaphore::new(
                self.options.max_concurrency.max(1).saturating_mul(2),
            ))
        });
        self.content = Some(Arc::new(content));
        self
    }

    /// The content checks in force, if any.
    pub fn content_checks(&self) -> Option<&ContentChecks> {
        self.content.as_deref()
    }

    /// The fetcher (client + politeness) this checker sends through; other
    /// stages use it, or build a second [`Fetcher`] on its limits.
    pub fn fetcher(&self) -> &Fetcher {
        &self.fetcher
    }

    /// The shared politeness layer.
    pub fn limits(&self) -> &Arc<HostLimits> {
        self.fetcher.limits()
    }

    /// The options in force.
    pub fn options(&self) -> &CheckOptions {
        &self.options
    }

    /// Decides what needs no request: placeholders, invalid URLs, other
    /// schemes, excluded URLs. `Ok` holds the URL to send, fragment removed.
    pub fn precheck(&self, input: &str) -> Result<Url, Unrequested> {
        let trimmed = input.trim();
        let unrequested = |verdict: Verdict, error: Option<String>| Unrequested { verdict, error };
        if trimmed.is_empty() || trimmed.starts_with('#') {
            return Err(unrequested(Verdict::Placeholder, None));
        }
        let mut url = match Url::parse(trimmed) {
            Ok(url) => url,
            Err(err) => {
                return Err(unrequested(
                    Verdict::InvalidUrl,
                    Some(format!("invalid URL: {err}")),
                ));
            }
        };
        match url.scheme() {
            "http" | "https" => {}
            "javascript" => return Err(unrequested(Verdict::Placeholder, None)),
            scheme => {
                return Err(unrequested(
                    Verdict::UnsupportedScheme,
                    Some(format!("{scheme}: URLs are not checked")),
                ));
            }
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(unrequested(
                Verdict::InvalidUrl,
                Some("invalid URL: no host".to_string()),
            ));
        }
        if self.options.is_excluded(trimmed) {
            return Err(unrequested(
                Verdict::Excluded,
                Some("excluded by --exclude/--include".to_string()),
            ));
        }
        url.set_fragment(None);
        Ok(url)
    }

    /// Checks one URL, waiting for its host's limits like any other.
    pub async fn check(&self, input: &str) -> CheckResult {
        match self.precheck(input) {
            Ok(url) => self.check_url(input, url, None).await,
            Err(skip) => CheckResult::unrequested(input, skip.verdict, skip.error),
        }
    }

    /// Checks many URLs; results come back in input order.
    pub async fn check_all<S: AsRef<str>>(&self, urls: &[S]) -> Vec<CheckResult> {
        let (tx, rx) = mpsc::channel(1024);
        let owned: Vec<String> = urls.iter().map(|u| u.as_ref().to_string()).collect();
        let feeder = tokio::spawn(async move {
            for (i, url) in owned.into_iter().enumerate() {
                if tx.send((i, url)).await.is_err() {
                    break;
                }
            }
        });
        let mut out: Vec<Option<CheckResult>> = vec![None; urls.len()];
        let mut results = self.check_stream(rx);
        while let Some((i, result)) = results.recv().await {
            out[i] = Some(result);
        }
        let _ = feeder.await;
        out.into_iter()
            .map(|r| r.expect("every URL gets a result"))
            .collect()
    }

    /// Checks URLs as they arrive on `input`, sending `(key, result)` pairs
    /// in completion order. Ends when `input` is closed and every admitted
    /// URL is done. Must be called inside a tokio runtime.
    pub fn check_stream<K: Send + 'static>(
        &self,
        mut input: mpsc::Receiver<(K, String)>,
    ) -> mpsc::Receiver<(K, CheckResult)> {
        let (out, results) = mpsc::channel(self.options.max_concurrency.max(16) * 2);
        let checker = self.clone();
        tokio::spawn(async move {
            let window = Arc::new(Semaphore::new(checker.options.queue_limit.max(1)));
            let mut queues: HashMap<String, mpsc::UnboundedSender<Job<K>>> = HashMap::new();
            while let Some((key, raw)) = input.recv().await {
                let admit = window
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("window is never closed");
                let url = match checker.precheck(&raw) {
                    Ok(url) => url,
                    Err(skip) => {
                        let result = CheckResult::unrequested(&raw, skip.verdict, skip.error);
                        let _ = out.send((key, result)).await;
                        continue;
                    }
                };
                let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
                let mut job = Job {
                    key,
                    raw,
                    url,
                    _admit: admit,
                };
                if let Some(queue) = queues.get(&host) {
                    match queue.send(job) {
                        Ok(()) => continue,
                        // That host's worker ran dry and closed its queue.
                        Err(mpsc::error::SendError(back)) => job = back,
                    }
                }
                let (tx, rx) = mpsc::unbounded_channel();
                tx.send(job).ok();
                queues.insert(host.clone(), tx);
                tokio::spawn(host_worker(checker.clone(), host, rx, out.clone()));
            }
        });
        results
    }

    /// Checks a URL that passed [`Checker::precheck`]; `first` is a slot
    /// already held for its host.
    pub async fn check_url(
        &self,
        input: &str,
        url: Url,
        first: Option<RequestSlot>,
    ) -> CheckResult {
        let started = Instant::now();
        let mut first = first;
        let mut attempts: u32 = 0;
        let mut note: Option<String> = None;
        let fetched = loop {
            attempts += 1;
            let fetched = self.attempt(&url, first.take()).await;
            let retryable = match &fetched.end {
                FetchEnd::Answer(status) => is_retryable_status(*status),
                FetchEnd::Failed(failure) => failure.retryable,
            };
            let retry_after = fetched
                .retry_after()
                .and_then(|v| parse_retry_after(&v, jiff::Timestamp::now()));
            if let (Some(wait), Some(host)) = (retry_after, fetched.last_host.as_deref()) {
                // Adaptive politeness: the host said how fast it wants us.
                self.limits()
                    .back_off(host, wait.min(self.options.max_retry_after));
            }
            if !retryable || attempts > self.options.retries {
                break fetched;
            }
            match retry_after {
                Some(wait) if wait > self.options.max_retry_after => {
                    note = Some(format!(
                        "Retry-After {} s exceeds --max-retry-after {} s",
                        wait.as_secs(),
                        self.options.max_retry_after.as_secs()
                    ));
                    break fetched;
                }
                // The host's pacing already holds the next request back.
                Some(_) => {}
                None => tokio::time::sleep(self.backoff(attempts)).await,
            }
        };
        let headers = fetched.headers.clone();
        let mut result = self.result(input, fetched, attempts, started, note);
        if let Some(content) = &self.content {
            // This URL's request slots are free again: let the host workers
            // waiting for them send their requests before this task spends
            // CPU judging the page. Measured (bench_check, 5,000 URLs at
            // 128 at once): the network phase went from 2.14-2.26 s to
            // 2.09-2.11 s, as each wave of requests leaves sooner.
            tokio::task::yield_now().await;
            content.inspect(self, &url, &headers, &mut result).await;
        }
        result
    }

    /// One attempt: HEAD, then GET when HEAD's answer says nothing useful.
    /// With content checks on, GET straight away: they need the body of
    /// every 2xx, and HEAD then GET would cost each server two requests
    /// (and the run twice the round trips) for one answer.
    async fn attempt(&self, url: &Url, first: Option<RequestSlot>) -> Fetched {
        let wants_body = self.content.as_ref().is_some_and(|c| c.options.enabled);
        if self.options.method == RequestMethod::Get || wants_body {
            return self.fetcher.fetch(url, Method::GET, first).await;
        }
        let head = self.fetcher.fetch(url, Method::HEAD, first).await;
        match &head.end {
            FetchEnd::Answer(status) if (200..400).contains(status) => return head,
            // Rate-limited: piling a GET on top would be rude; retry later.
            FetchEnd::Answer(429) => return head,
            // DNS, refused, TLS, timeout: a GET would fail the same way.
            FetchEnd::Failed(failure) if !failure.after_connect => return head,
            _ => {}
        }
        self.fetcher.fetch(url, Method::GET, None).await
    }

    /// An extra GET through the same client and politeness, without retries:
    /// for later stages that need a body (soft-404 probes).
    pub async fn get(&self, url: &Url) -> Fetched {
        self.fetcher.fetch(url, Method::GET, None).await
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.options.retry_base_delay.as_secs_f64();
        let exp = base * 2f64.powi(attempt.saturating_sub(1).min(16) as i32);
        // Jitter in [0.5, 1.5) keeps retries from many URLs from aligning.
        let jitter: f64 = rand::rng().random_range(0.5..1.5);
        Duration::from_secs_f64(exp * jitter)
    }

    fn result(
        &self,
        input: &str,
        fetched: Fetched,
        attempts: u32,
        started: Instant,
        note: Option<String>,
    ) -> CheckResult {
        let (verdict, mut error) = match &fetched.end {
            FetchEnd::Failed(Failure {
                verdict, message, ..
            }) => (*verdict, Some(message.clone())),
            FetchEnd::Answer(status) => self.verdict_for(*status, &fetched),
        };
        if let Some(note) = note {
            error = Some(match error {
                Some(e) => format!("{e} ({note})"),
                None => note,
            });
        }
        let insecure = self.options.insecure
            && fetched
                .chain
                .iter()
                .any(|hop| hop.url.starts_with("https:"));
        CheckResult {
            url: input.to_string(),
            verdict,
            status: fetched.chain.last().map(|hop| hop.status),
            final_url: fetched.chain.last().map(|hop| hop.url.clone()),
            error: error.map(|e| one_line(&e)),
            method: Some(if fetched.method == Method::HEAD {
                "HEAD"
            } else {
                "GET"
            }),
            attempts,
            elapsed_ms: started.elapsed().as_millis() as u64,
            checked_at: jiff::Timestamp::now(),
            content_type: fetched.content_type(),
            content_length: fetched.content_length(),
            insecure,
            body_prefix: fetched.body_prefix,
            reasons: Vec::new(),
            drift: None,
            fingerprint: None,
            missing_fragments: Vec::new(),
            chain: fetched.chain,
        }
    }

    fn verdict_for(&self, status: u16, fetched: &Fetched) -> (Verdict, Option<String>) {
        let reason = || {
            let text = reqwest::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("");
            Some(format!("{status} {text}").trim_end().to_string())
        };
        let final_host = fetched
            .chain
            .last()
            .and_then(|hop| Url::parse(&hop.url).ok())
            .and_then(|url| url.host_str().map(str::to_string));
        if self
            .options
            .accept_for(final_host.as_deref())
            .contains(status)
        {
            let redirects = &fetched.chain[..fetched.chain.len().saturating_sub(1)];
            let verdict = if redirects.iter().any(|h| matches!(h.status, 301 | 308)) {
                Verdict::Moved
            } else if redirects.is_empty() {
                Verdict::Ok
            } else {
                Verdict::Redirected
            };
            return (verdict, None);
        }
        let verdict = match status {
            401 | 403 | 407 | 429 | 451 => Verdict::Blocked,
            400..=499 => Verdict::Broken,
            500..=599 => Verdict::ServerError,
            300..=399 => {
                return (
                    Verdict::HttpError,
                    Some(format!(
                        "{} without a usable Location",
                        reason().unwrap_or_default()
                    )),
                );
            }
            // A 2xx left out of --accept, or a status outside 200..=599.
            200..=299 => Verdict::Broken,
            _ => Verdict::HttpError,
        };
        (verdict, reason())
    }
}

struct Job<K> {
    key: K,
    raw: String,
    url: Url,
    _admit: OwnedSemaphorePermit,
}

/// Drains one host's queue: a host slot, then a global slot, then the check
/// runs on its own task. Closes the queue when it runs dry so idle hosts
/// cost nothing; the scheduler starts a new worker if more URLs come.
async fn host_worker<K: Send + 'static>(
    checker: Checker,
    host: String,
    mut queue: mpsc::UnboundedReceiver<Job<K>>,
    out: mpsc::Sender<(K, CheckResult)>,
) {
    loop {
        let job = match queue.try_recv() {
            Ok(job) => job,
            Err(mpsc::error::TryRecvError::Empty) => {
                queue.close();
                match queue.recv().await {
                    Some(job) => job,
                    None => return,
                }
            }
            Err(mpsc::error::TryRecvError::Disconnected) => return,
        };
        // Taken before the host slot, never while holding one: a probe
        // needs a host slot and no body permit, so a page waiting for its
        // probe cannot hold up the requests that would free one.
        let body = match &checker.bodies {
            Some(bodies) => Some(
                bodies
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("body permits are never closed"),
            ),
            None => None,
        };
        let limits = checker.limits().clone();
        let permit = limits.host_permit(&host).await;
        let slot = limits.start(permit).await;
        let checker = checker.clone();
        let out = out.clone();
        tokio::spawn(async move {
            let Job {
                key,
                raw,
                url,
                _admit,
            } = job;
            // Held until the result (and its body) is handed on.
            let _body = body;
            let result = checker.check_url(&raw, url, Some(slot)).await;
            let _ = out.send((key, result)).await;
        });
    }
}

/// Parses `Retry-After`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
pub fn parse_retry_after(value: &str, now: jiff::Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let date = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let wait = date.duration_since(now);
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now: jiff::Timestamp = "2024-10-16T12:00:00Z".parse().unwrap();
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Wed, 16 Oct 2024 12:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        // A date in the past means "now".
        assert_eq!(
            parse_retry_after("Wed, 16 Oct 2024 11:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn precheck_sorts_out_unrequested_urls() {
        let checker = Checker::new(CheckOptions {
            exclude: vec![regex::Regex::new("skip").unwrap()],
            ..CheckOptions::default()
        })
        .unwrap();
        let verdict = |u: &str| checker.precheck(u).err().map(|r| r.verdict);
        assert_eq!(verdict("#"), Some(Verdict::Placeholder));
        assert_eq!(verdict("javascript:void(0)"), Some(Verdict::Placeholder));
        assert_eq!(verdict("mailto:a@b.c"), Some(Verdict::UnsupportedScheme));
        assert_eq!(verdict("http://"), Some(Verdict::InvalidUrl));
        assert_eq!(verdict("not a url"), Some(Verdict::InvalidUrl));
        assert_eq!(verdict("https://skip.test/"), Some(Verdict::Excluded));
        let url = checker.precheck("https://a.test/x#frag").unwrap();
        assert_eq!(url.as_str(), "https://a.test/x");
    }

    #[test]
    fn backoff_grows_exponentially_with_jitter() {
        let checker = Checker::new(CheckOptions {
            retry_base_delay: Duration::from_millis(100),
            ..CheckOptions::default()
        })
        .unwrap();
        for _ in 0..20 {
            let first = checker.backoff(1);
            let third = checker.backoff(3);
            assert!(first >= Duration::from_millis(50) && first < Duration::from_millis(150));
            assert!(third >= Duration::from_millis(200) && third < Duration::from_millis(600));
        }
    }
}
