//! Judging what a URL's answer says, beyond its status code: the content
//! checks of issue 6, put together.
//!
//! The engine calls, for each checked URL whose final answer it read:
//!
//! 1. [`Assessment::new`] with the body prefix: bot walls, parked domains,
//!    where the redirect chain ended, "not found" titles, the drift from
//!    the last fingerprint, missing fragments;
//! 2. [`Assessment::probe_target`]: whether the random-sibling probe is
//!    still needed, and which URL to send (through the same politeness
//!    machinery, once per host and directory via
//!    [`ProbeCache`](super::soft404::ProbeCache));
//! 3. [`Assessment::with_probe`] with what the probe got
//!    ([`probe_outcome`]);
//! 4. [`Assessment::apply`] to the [`CheckResult`].
//!
//! Precedence: a bot wall makes the result `blocked` whatever the status
//! (never `broken`); on a 2xx, a parked domain wins over a soft 404, which
//! wins over `ok`. Drift and fingerprints are kept only for pages that are
//! still what they claim to be, so history never learns a not-found page
//! as the cited text.
//!
//! Content checks need the body: with them on, the engine sends GET rather
//! than HEAD, and judges the prefix when [`ContentOptions::needs_body`] says
//! the status is worth it; with content checks off nothing more is
//! requested.

use std::collections::BTreeSet;

use reqwest::header::{CONTENT_TYPE, HeaderMap};
use url::Url;

use super::content::PageContent;
use super::soft404::{self, Comparable, ProbeKey, ProbeOutcome};
use super::{CheckResult, Fingerprint, Reason, Verdict, botwall, fragment, parked};

/// Default `--drift-threshold`.
///
/// Drift is the SimHash Hamming distance over 32 (see
/// [`Fingerprint::drift_from`]). Measured on generated 400-word pages (the
/// `drift_threshold_separates_edits_from_rewrites` test, figures printed
/// with `--nocapture`): a changed date or counter gives 0 (digits are
/// normalized); rewriting 5% of the text gives 0.09–0.38, since a 64-bit
/// SimHash over a few hundred shingles is noisy; rewriting 70% gives 0.5 or
/// more. 0.4 never flags the everyday edits of a living page and flags a
/// page that no longer says most of what was cited; lower it to catch
/// smaller rewrites at the cost of false alarms.
pub const DEFAULT_DRIFT_THRESHOLD: f64 = 0.4;

/// Which content checks run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContentOptions {
    /// Read bodies of 2xx answers at all (off: status codes only, no GET
    /// after a HEAD, no probe).
    pub enabled: bool,
    /// Send the random-sibling probe (`--no-probe` turns it off).
    pub probe: bool,
    /// Check `#fragments` (`--check-fragments`).
    pub fragments: bool,
    /// Drift above which `drifted` is reported (`--drift-threshold`).
    pub drift_threshold: f64,
}

impl Default for ContentOptions {
    fn default() -> ContentOptions {
        ContentOptions {
            enabled: true,
            probe: true,
            fragments: false,
            drift_threshold: DEFAULT_DRIFT_THRESHOLD,
        }
    }
}

impl ContentOptions {
    /// Whether the engine should read the body of this answer (GET the
    /// prefix after a HEAD): 2xx pages for the content checks, refusals and
    /// 503s for bot walls.
    pub fn needs_body(&self, status: u16) -> bool {
        self.enabled && ((200..300).contains(&status) || is_wall_status(status))
    }
}

/// Statuses a bot wall answers with (besides 2xx).
fn is_wall_status(status: u16) -> bool {
    matches!(status, 401 | 403 | 405 | 429 | 503)
}

/// The final answer as the engine read it.
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    /// Headers of the final answer.
    pub headers: &'a HeaderMap,
    /// The body prefix (at most the GET prefix limit).
    pub body: &'a [u8],
    /// The whole body fit in the prefix.
    pub body_complete: bool,
}

impl Observed<'_> {
    fn content_type(&self) -> Option<&str> {
        self.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok())
    }

    fn page(&self) -> Option<PageContent> {
        PageContent::parse(self.body, self.content_type())
    }
}

/// What the content checks concluded about one URL.
#[derive(Debug, Clone)]
pub struct Assessment {
    verdict: Verdict,
    reasons: BTreeSet<Reason>,
    drift: Option<f64>,
    fingerprint: Option<Fingerprint>,
    missing_fragments: Vec<String>,
    /// The cited page, kept until the probe has answered.
    cited: Option<Box<CitedPage>>,
    probe: Option<(ProbeKey, Url)>,
}

/// The cited page as the probe's answer will be compared with it. Its
/// [`Comparable`] (words, shingles, fingerprint and sketch without the
/// path's words) is worked out only when the probe got a page back: an
/// honest 404, the common answer, needs none, and for a page of 32 KiB it
/// was a third of the time spent judging it.
#[derive(Debug, Clone)]
struct CitedPage {
    final_url: String,
    redirects: usize,
    page: PageContent,
    /// The cited URL and the last one, whose path words pages echo.
    original: Url,
    last: Url,
}

impl CitedPage {
    fn comparable(&self) -> Comparable {
        Comparable::new(
            &self.final_url,
            self.redirects,
            &self.page,
            &[&self.original, &self.last],
        )
    }
}

impl Assessment {
    /// Judges `result`'s final answer. `previous` is the last fingerprint
    /// seen for this URL (history or archive); `fragments` the fragments
    /// its citations point to.
    pub fn new(
        result: &CheckResult,
        observed: &Observed<'_>,
        previous: Option<Fingerprint>,
        fragments: &[String],
        options: &ContentOptions,
    ) -> Assessment {
        let mut a = Assessment {
            verdict: result.verdict,
            reasons: BTreeSet::new(),
            drift: None,
            fingerprint: None,
            missing_fragments: Vec::new(),
            cited: None,
            probe: None,
        };
        let (Some(status), Ok(original)) = (result.status, Url::parse(&result.url)) else {
            return a;
        };
        if !options.enabled || result.verdict.is_unrequested() {
            return a;
        }
        let page = observed.page();
        let body_lower = String::from_utf8_lossy(observed.body).to_lowercase();

        if ((200..300).contains(&status) || is_wall_status(status))
            && let Some(wall) =
                botwall::detect(status, observed.headers, &body_lower, page.as_ref())
        {
            a.verdict = Verdict::Blocked;
            a.reasons.insert(wall);
            return a;
        }
        if !result.verdict.is_alive() {
            return a;
        }

        // A hop at the cited URL itself (the answer of an unredirected
        // check) adds no host: it is not parsed again.
        let hops: Vec<Url> = result
            .chain
            .iter()
            .filter(|h| h.url != result.url)
            .filter_map(|h| Url::parse(&h.url).ok())
            .collect();
        let mut hosts: Vec<&Url> = vec![&original];
        hosts.extend(hops.iter());
        if let Some(reason) = parked::detect(&hosts, observed.headers, &body_lower, page.as_ref()) {
            a.verdict = Verdict::Parked;
            a.reasons.insert(reason);
        }
        if let Some(reason) = soft404::redirect_signal(&original, &result.chain) {
            a.reasons.insert(reason);
            if a.verdict.is_alive() {
                a.verdict = match reason {
                    Reason::LoginRequired => Verdict::Blocked,
                    _ => Verdict::Soft404,
                };
            }
        }
        let Some(page) = page else {
            return a;
        };
        if soft404::says_not_found(&page) {
            a.reasons.insert(Reason::NotFoundText);
            if a.verdict.is_alive() && soft404::moved(&original, &result.chain) {
                a.verdict = Verdict::Soft404;
                a.reasons.insert(Reason::Redirected);
            }
        }
        if !a.verdict.is_alive() {
            return a;
        }

        a.fingerprint = page.fingerprint();
        if let (Some(now), Some(before)) = (a.fingerprint, previous) {
            let drift = now.drift_from(before);
            a.drift = Some(drift);
            if drift > options.drift_threshold {
                a.reasons.insert(Reason::Drifted);
            }
        }
        if options.fragments {
            a.missing_fragments = fragment::missing(fragments, &page, observed.body_complete);
        }
        if options.probe
            && (200..300).contains(&status)
            && let Some(target) = soft404::probe_target(&original)
        {
            let final_url = result
                .final_url
                .clone()
                .unwrap_or_else(|| result.url.clone());
            let last = Url::parse(&final_url).unwrap_or_else(|_| original.clone());
            a.cited = Some(Box::new(CitedPage {
                final_url,
                redirects: result.redirects(),
                page,
                original,
                last,
            }));
            a.probe = Some(target);
        }
        a
    }

    /// The probe still needed to judge this URL: its cache key and URL.
    pub fn probe_target(&self) -> Option<&(ProbeKey, Url)> {
        self.probe.as_ref()
    }

    /// Takes the probe's answer into account (Bar-Yossef et al.).
    pub fn with_probe(mut self, outcome: &ProbeOutcome) -> Assessment {
        let Some(cited) = self.cited.take() else {
            return self;
        };
        self.probe = None;
        // Only a page the probe got back is compared (see `CitedPage`).
        let soft = if !matches!(outcome, ProbeOutcome::Answered(_)) {
            false
        } else if soft404::same_as_probe(&cited.comparable(), outcome) {
            self.reasons.insert(Reason::SameAsRandomProbe);
            true
        } else if self.reasons.contains(&Reason::NotFoundText) {
            self.reasons.insert(Reason::RandomPathOk);
            true
        } else {
            false
        };
        if soft {
            self.verdict = Verdict::Soft404;
            self.drift = None;
            self.fingerprint = None;
            self.reasons.remove(&Reason::Drifted);
            self.missing_fragments.clear();
        }
        self
    }

    /// Whether [`Assessment::with_probe`] will compare the cited page with
    /// this outcome: CPU work worth moving off the runtime for a large page.
    pub fn compares_with(&self, outcome: &ProbeOutcome) -> bool {
        self.cited.is_some() && matches!(outcome, ProbeOutcome::Answered(_))
    }

    /// The verdict so far.
    pub fn verdict(&self) -> Verdict {
        self.verdict
    }

    /// Writes the findings into the result.
    pub fn apply(self, result: &mut CheckResult) {
        result.verdict = self.verdict;
        result.reasons = self.reasons.into_iter().collect();
        result.drift = self.drift;
        result.fingerprint = self.fingerprint;
        result.missing_fragments = self.missing_fragments;
    }
}

/// What the probe's own request found, for [`Assessment::with_probe`]:
/// `requested` is the probe URL, `chain` its hops (the last is the final
/// answer), `status` the final status if an answer came, `observed` the
/// final answer's body prefix if one was read.
pub fn probe_outcome(
    requested: &Url,
    chain: &[super::RedirectHop],
    status: Option<u16>,
    observed: Option<&Observed<'_>>,
) -> ProbeOutcome {
    match status {
        Some(status) if status >= 400 => ProbeOutcome::Honest { status },
        Some(status) if (200..300).contains(&status) => {
            let Some(page) = observed.and_then(Observed::page) else {
                return ProbeOutcome::Inconclusive;
            };
            let final_url = chain
                .last()
                .map(|h| h.url.clone())
                .unwrap_or_else(|| requested.to_string());
            let last = Url::parse(&final_url).unwrap_or_else(|_| requested.clone());
            let redirects = chain.len().saturating_sub(1);
            ProbeOutcome::Answered(Comparable::new(
                &final_url,
                redirects,
                &page,
                &[requested, &last],
            ))
        }
        _ => ProbeOutcome::Inconclusive,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::RedirectHop;
    use crate::check::similarity::Fingerprint;
    use crate::check::similarity::prose;
    use reqwest::header::HeaderValue;

    fn fp(words: &[String]) -> Fingerprint {
        Fingerprint::of_text(&words.join(" ")).unwrap()
    }

    /// Replaces a contiguous `fraction` of the text (a rewritten passage).
    fn rewrite(words: &[String], fraction: f64, seed: u64) -> Vec<String> {
        let n = (words.len() as f64 * fraction) as usize;
        let start = (words.len() - n) / 2;
        let new = prose(n, seed);
        let mut out = words.to_vec();
        out[start..start + n].clone_from_slice(&new);
        out
    }

    #[test]
    fn drift_threshold_separates_edits_from_rewrites() {
        let flagged = |fraction: f64| -> (usize, f64, f64) {
            let drifts: Vec<f64> = (1..=40u64)
                .map(|seed| {
                    let page = prose(400, seed);
                    fp(&rewrite(&page, fraction, seed + 1000)).drift_from(fp(&page))
                })
                .collect();
            let min = drifts.iter().cloned().fold(1.0, f64::min);
            let max = drifts.iter().cloned().fold(0.0, f64::max);
            (
                drifts
                    .iter()
                    .filter(|d| **d > DEFAULT_DRIFT_THRESHOLD)
                    .count(),
                min,
                max,
            )
        };
        for seed in 1..=40u64 {
            let page = prose(400, seed).join(" ");
            let dated = format!("Updated 27 November 2026, 10:45. {page}");
            let redated = format!("Updated 28 November 2026, 11:02. {page}");
            let (a, b) = (
                Fingerprint::of_text(&dated).unwrap(),
                Fingerprint::of_text(&redated).unwrap(),
            );
            assert_eq!(a.drift_from(b), 0.0);
        }
        let rows: Vec<(f64, (usize, f64, f64))> = [0.05, 0.1, 0.2, 0.4, 0.7]
            .iter()
            .map(|f| (*f, flagged(*f)))
            .collect();
        for (fraction, (n, min, max)) in &rows {
            eprintln!(
                "{:>3.0}% rewritten: drift {min:.2}–{max:.2}, {n}/40 flagged at {DEFAULT_DRIFT_THRESHOLD}",
                fraction * 100.0
            );
        }
        assert_eq!(rows[0].1.0, 0, "5% edits must not be flagged");
        assert_eq!(rows[4].1.0, 40, "70% rewritten must be flagged");
    }

    #[test]
    fn simhash_threshold_separates_probe_pages() {
        use crate::check::soft404::{SAME_PAGE_SIMHASH_BITS, same_as_probe};
        // The same not-found page with one word changed (a request id) must
        // be judged the same; two pages sharing half their words must not.
        let page_of = |words: &[String]| {
            let html = format!("<p>{}</p>", words.join(" "));
            PageContent::parse(html.as_bytes(), Some("text/html")).unwrap()
        };
        let mut bits_same = Vec::new();
        let mut bits_different = Vec::new();
        for seed in 1..=40u64 {
            let page = prose(300, seed);
            let mut variant = page.clone();
            variant[150] = "reqidqzx".into();
            let half = rewrite(&page, 0.5, seed + 500);
            bits_same.push(fp(&page).distance(fp(&variant)));
            bits_different.push(fp(&page).distance(fp(&half)));
            let cited = Comparable::new("https://e.org/a/b", 0, &page_of(&page), &[]);
            let same = Comparable::new("https://e.org/a/zz", 0, &page_of(&variant), &[]);
            let other = Comparable::new("https://e.org/a/zz", 0, &page_of(&half), &[]);
            assert!(
                same_as_probe(&cited, &ProbeOutcome::Answered(same)),
                "seed {seed}"
            );
            assert!(
                !same_as_probe(&cited, &ProbeOutcome::Answered(other)),
                "seed {seed}"
            );
        }
        eprintln!(
            "one word changed: {}–{} bits; half rewritten: {}–{} bits; threshold {SAME_PAGE_SIMHASH_BITS}",
            bits_same.iter().min().unwrap(),
            bits_same.iter().max().unwrap(),
            bits_different.iter().min().unwrap(),
            bits_different.iter().max().unwrap()
        );
        assert!(bits_different.iter().all(|d| *d > SAME_PAGE_SIMHASH_BITS));
    }

    fn result(url: &str, chain: &[(&str, u16)]) -> CheckResult {
        let hops: Vec<RedirectHop> = chain
            .iter()
            .map(|(u, s)| RedirectHop {
                url: u.to_string(),
                status: *s,
                location: None,
                resolved: None,
                remote_addr: None,
                elapsed_ms: 0,
            })
            .collect();
        let status = hops.last().map(|h| h.status);
        let verdict = match status {
            Some(200..=299) if hops.len() > 1 => Verdict::Moved,
            Some(200..=299) => Verdict::Ok,
            Some(403) => Verdict::Blocked,
            Some(503) => Verdict::ServerError,
            _ => Verdict::Broken,
        };
        CheckResult {
            url: url.into(),
            verdict,
            status,
            final_url: hops.last().map(|h| h.url.clone()),
            chain: hops,
            error: None,
            method: Some("GET"),
            attempts: 1,
            elapsed_ms: 0,
            checked_at: jiff::Timestamp::UNIX_EPOCH,
            content_type: Some("text/html".into()),
            content_length: None,
            insecure: false,
            body_prefix: None,
            reasons: Vec::new(),
            drift: None,
            fingerprint: None,
            missing_fragments: Vec::new(),
        }
    }

    fn html_headers() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        h
    }

    fn judge(r: &CheckResult, body: &str, previous: Option<Fingerprint>) -> Assessment {
        let headers = html_headers();
        let observed = Observed {
            headers: &headers,
            body: body.as_bytes(),
            body_complete: true,
        };
        Assessment::new(
            r,
            &observed,
            previous,
            &["intro".to_string(), "gone".to_string()],
            &ContentOptions {
                fragments: true,
                ..ContentOptions::default()
            },
        )
    }

    fn applied(r: &CheckResult, a: Assessment) -> CheckResult {
        let mut r = r.clone();
        a.apply(&mut r);
        r
    }

    const ARTICLE: &str = "<title>Report on water</title><h1 id=intro>Water</h1><p>The committee \
        adopted the draft resolution on water after a long debate about budgets and refugees.</p>";

    #[test]
    fn a_real_page_stays_ok_with_fingerprint_and_missing_fragment() {
        let r = result(
            "https://example.org/a/report",
            &[("https://example.org/a/report", 200)],
        );
        let a = judge(&r, ARTICLE, None);
        assert!(a.probe_target().is_some());
        let a = a.with_probe(&ProbeOutcome::Honest { status: 404 });
        let out = applied(&r, a);
        assert_eq!(out.verdict, Verdict::Ok);
        assert!(out.reasons.is_empty());
        assert!(out.fingerprint.is_some());
        assert_eq!(out.drift, None);
        assert_eq!(out.missing_fragments, ["gone"]);
        assert_eq!(out.reason_text(Some("gone")), "missing_fragment");
        assert_eq!(out.reason_text(Some("intro")), "");
    }

    #[test]
    fn redirect_to_root_and_login_and_walls() {
        let r = result(
            "https://example.org/a/report",
            &[
                ("https://example.org/a/report", 301),
                ("https://example.org/", 200),
            ],
        );
        let out = applied(&r, judge(&r, ARTICLE, None));
        assert_eq!(out.verdict, Verdict::Soft404);
        assert_eq!(out.reason_text(None), "redirect_to_root");
        assert!(
            out.fingerprint.is_none(),
            "a soft 404 is not remembered as the page"
        );

        let r = result(
            "https://example.org/a/report",
            &[
                ("https://example.org/a/report", 302),
                ("https://example.org/login?returnUrl=%2Fa%2Freport", 200),
            ],
        );
        let out = applied(&r, judge(&r, "<title>Sign in</title>", None));
        assert_eq!(
            (out.verdict, out.reason_text(None).as_str()),
            (Verdict::Blocked, "login_required")
        );

        let r = result("https://example.org/a", &[("https://example.org/a", 503)]);
        let out = applied(&r, judge(&r, "<title>Just a moment...</title>", None));
        assert_eq!(
            (out.verdict, out.reason_text(None).as_str()),
            (Verdict::Blocked, "cloudflare_challenge")
        );
        // A 404 stays broken whatever its page says.
        let r = result("https://example.org/a", &[("https://example.org/a", 404)]);
        let out = applied(&r, judge(&r, "<title>Just a moment...</title>", None));
        assert_eq!(out.verdict, Verdict::Broken);
    }

    #[test]
    fn not_found_text_needs_a_second_signal() {
        let body = "<title>Page not found</title><p>Sorry, nothing here.</p>";
        let r = result(
            "https://example.org/a/b",
            &[("https://example.org/a/b", 200)],
        );
        // Alone (the probe got an honest 404): a reason on an ok row.
        let out = applied(
            &r,
            judge(&r, body, None).with_probe(&ProbeOutcome::Honest { status: 404 }),
        );
        assert_eq!(
            (out.verdict, out.reason_text(None).as_str()),
            (Verdict::Ok, "not_found_text")
        );
        // With a random path also answering 2xx (different text): soft 404.
        let other = PageContent::parse(ARTICLE.as_bytes(), Some("text/html")).unwrap();
        let probe =
            ProbeOutcome::Answered(Comparable::new("https://example.org/a/zz", 0, &other, &[]));
        let out = applied(&r, judge(&r, body, None).with_probe(&probe));
        assert_eq!(
            (out.verdict, out.reason_text(None).as_str()),
            (Verdict::Soft404, "not_found_text;random_path_ok")
        );
        // With a redirect elsewhere: soft 404.
        let r = result(
            "https://example.org/a/b",
            &[
                ("https://example.org/a/b", 302),
                ("https://example.org/search", 200),
            ],
        );
        let out = applied(&r, judge(&r, body, None));
        assert_eq!(
            (out.verdict, out.reason_text(None).as_str()),
            (Verdict::Soft404, "not_found_text;redirected")
        );
    }

    #[test]
    fn drift_is_reported_and_flagged_above_the_threshold() {
        let r = result(
            "https://example.org/a/b",
            &[("https://example.org/a/b", 200)],
        );
        let before = Fingerprint::of_text(&prose(300, 7).join(" "));
        let same = format!("<p>{}</p>", prose(300, 7).join(" "));
        let out = applied(&r, judge(&r, &same, before));
        assert_eq!(out.drift, Some(0.0));
        assert!(!out.reasons.contains(&Reason::Drifted));
        let changed = format!("<p>{}</p>", prose(300, 8).join(" "));
        let out = applied(&r, judge(&r, &changed, before));
        assert!(out.drift.unwrap() > DEFAULT_DRIFT_THRESHOLD);
        assert_eq!(out.reason_text(None), "drifted");
    }

    #[test]
    fn content_checks_off_change_nothing_and_need_no_body() {
        let off = ContentOptions {
            enabled: false,
            ..ContentOptions::default()
        };
        assert!(!off.needs_body(200));
        assert!(ContentOptions::default().needs_body(200));
        assert!(ContentOptions::default().needs_body(403));
        assert!(!ContentOptions::default().needs_body(404));
        let r = result(
            "https://example.org/a/report",
            &[
                ("https://example.org/a/report", 301),
                ("https://example.org/", 200),
            ],
        );
        let headers = html_headers();
        let observed = Observed {
            headers: &headers,
            body: b"",
            body_complete: true,
        };
        let out = applied(&r, Assessment::new(&r, &observed, None, &[], &off));
        assert_eq!(out.verdict, Verdict::Moved);
    }
}
