//! Stage 2: unique URLs → results.
//!
//! The checker requests each unique URL once, follows redirects itself so
//! every hop is recorded, and classifies the outcome as a [`Verdict`]. It
//! knows nothing of documents or footnotes: callers hand it URLs and join the
//! [`CheckResult`]s back to their citations.

use std::fmt;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

mod engine;
pub mod error;
pub mod fetch;
pub mod limits;
mod options;
mod unique;

pub use engine::{BuildError, Checker, Unrequested, is_retryable_status, parse_retry_after};
pub use fetch::{FetchEnd, FetchSettings, Fetched, Fetcher, HostHeader, is_redirect_status};
pub use limits::{HostLimits, HostPermit, RequestSlot};
pub use options::{
    AcceptCodes, CheckOptions, DEFAULT_USER_AGENT, RequestMethod, ResolveOverride, parse_header,
    parse_host_header,
};
pub mod assess;
pub mod botwall;
pub mod content;
pub mod fragment;
pub mod inspect;
pub mod parked;
pub mod similarity;
pub mod soft404;

pub use similarity::Fingerprint;
pub use unique::UniqueUrls;

/// The outcome of checking one URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// 2xx without a redirect.
    Ok,
    /// 2xx through temporary redirects only (302, 303, 307).
    Redirected,
    /// 2xx through at least one permanent redirect (301, 308).
    Moved,
    /// 404, 410 or another 4xx not listed under `Blocked`.
    Broken,
    /// 401, 403, 407, 429 after retries, 451: the server refuses us.
    Blocked,
    /// 5xx after retries.
    ServerError,
    /// No complete answer within the timeout.
    Timeout,
    /// The host name could not be resolved.
    DnsError,
    /// Refused, unreachable or reset before an answer.
    ConnectError,
    /// Invalid, expired or mismatched certificate, or a failed handshake.
    TlsError,
    /// A malformed HTTP answer.
    HttpError,
    /// The redirect chain visits a URL twice.
    RedirectLoop,
    /// More redirects than `--max-redirects`.
    TooManyRedirects,
    /// A link that leads nowhere (`#`, empty, `javascript:`): never requested.
    Placeholder,
    /// Not a valid URL: never requested.
    InvalidUrl,
    /// A scheme other than http(s): never requested.
    UnsupportedScheme,
    /// Left out by `--exclude`/`--include`: never requested.
    Excluded,
    /// Answers 2xx, but what was cited is gone: sent to the front page, an
    /// error page, or the same page a random path gets (see `reason`).
    #[serde(rename = "soft_404")]
    Soft404,
    /// The domain is parked, for sale or expired.
    Parked,
}

impl Verdict {
    /// Every verdict, in report order.
    pub const ALL: [Verdict; 19] = [
        Verdict::Ok,
        Verdict::Redirected,
        Verdict::Moved,
        Verdict::Broken,
        Verdict::Blocked,
        Verdict::ServerError,
        Verdict::Timeout,
        Verdict::DnsError,
        Verdict::ConnectError,
        Verdict::TlsError,
        Verdict::HttpError,
        Verdict::RedirectLoop,
        Verdict::TooManyRedirects,
        Verdict::Placeholder,
        Verdict::InvalidUrl,
        Verdict::UnsupportedScheme,
        Verdict::Excluded,
        Verdict::Soft404,
        Verdict::Parked,
    ];

    /// The snake_case name used in reports and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Redirected => "redirected",
            Verdict::Moved => "moved",
            Verdict::Broken => "broken",
            Verdict::Blocked => "blocked",
            Verdict::ServerError => "server_error",
            Verdict::Timeout => "timeout",
            Verdict::DnsError => "dns_error",
            Verdict::ConnectError => "connect_error",
            Verdict::TlsError => "tls_error",
            Verdict::HttpError => "http_error",
            Verdict::RedirectLoop => "redirect_loop",
            Verdict::TooManyRedirects => "too_many_redirects",
            Verdict::Placeholder => "placeholder",
            Verdict::InvalidUrl => "invalid_url",
            Verdict::UnsupportedScheme => "unsupported_scheme",
            Verdict::Excluded => "excluded",
            Verdict::Soft404 => "soft_404",
            Verdict::Parked => "parked",
        }
    }

    /// Parses a snake_case verdict name.
    pub fn parse(name: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == name)
    }

    /// The page still answers (possibly somewhere else).
    pub fn is_alive(self) -> bool {
        matches!(self, Verdict::Ok | Verdict::Redirected | Verdict::Moved)
    }

    /// Failing unless `--fail-on` says otherwise.
    pub fn fails_by_default(self) -> bool {
        matches!(
            self,
            Verdict::Broken
                | Verdict::ServerError
                | Verdict::Timeout
                | Verdict::DnsError
                | Verdict::ConnectError
                | Verdict::TlsError
                | Verdict::HttpError
                | Verdict::RedirectLoop
                | Verdict::TooManyRedirects
                | Verdict::InvalidUrl
                | Verdict::Soft404
                | Verdict::Parked
        )
    }

    /// The URL was never sent over the network.
    pub fn is_unrequested(self) -> bool {
        matches!(
            self,
            Verdict::Placeholder
                | Verdict::InvalidUrl
                | Verdict::UnsupportedScheme
                | Verdict::Excluded
        )
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a verdict was given beyond the status code, or a warning about a
/// page that still answers (the `reason` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// A deep link redirected to the front page of its host or domain.
    RedirectToRoot,
    /// The chain ends on an error page (`/404.html`, `/error`, `notfound`).
    RedirectToErrorPage,
    /// The chain ends on a login or single-sign-on page.
    LoginRequired,
    /// A random path in the same directory gets the same page.
    SameAsRandomProbe,
    /// The title or main heading says the page is missing.
    NotFoundText,
    /// With `not_found_text`: a random path in the same directory also
    /// answers 2xx, so the site hides its missing pages.
    RandomPathOk,
    /// With `not_found_text`: the cited address redirected elsewhere.
    Redirected,
    /// A parking or domain-sale service hosts, marks or serves the page.
    ParkingService,
    /// The page offers the domain for sale or says it expired.
    DomainForSale,
    /// A Cloudflare challenge ("Just a moment...", `cf-mitigated`).
    CloudflareChallenge,
    /// An Akamai access-denied or bot-manager page.
    AkamaiChallenge,
    /// An Imperva (Incapsula) challenge or incident page.
    ImpervaChallenge,
    /// A DataDome captcha.
    DatadomeChallenge,
    /// A PerimeterX (HUMAN) "press and hold" captcha.
    PerimeterxChallenge,
    /// An AWS WAF captcha or challenge (`x-amzn-waf-action`).
    AwsWafChallenge,
    /// A DDoS-Guard check page.
    DdosGuardChallenge,
    /// A page that is only a captcha (hCaptcha, reCAPTCHA, Turnstile).
    CaptchaWall,
    /// The text moved further than `--drift-threshold` from the last
    /// fingerprint seen.
    Drifted,
    /// The page has no element with the cited `#fragment` as id or name.
    MissingFragment,
}

impl Reason {
    /// Every reason, in report order.
    pub const ALL: [Reason; 19] = [
        Reason::RedirectToRoot,
        Reason::RedirectToErrorPage,
        Reason::LoginRequired,
        Reason::SameAsRandomProbe,
        Reason::NotFoundText,
        Reason::RandomPathOk,
        Reason::Redirected,
        Reason::ParkingService,
        Reason::DomainForSale,
        Reason::CloudflareChallenge,
        Reason::AkamaiChallenge,
        Reason::ImpervaChallenge,
        Reason::DatadomeChallenge,
        Reason::PerimeterxChallenge,
        Reason::AwsWafChallenge,
        Reason::DdosGuardChallenge,
        Reason::CaptchaWall,
        Reason::Drifted,
        Reason::MissingFragment,
    ];

    /// The snake_case name used in reports and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::RedirectToRoot => "redirect_to_root",
            Reason::RedirectToErrorPage => "redirect_to_error_page",
            Reason::LoginRequired => "login_required",
            Reason::SameAsRandomProbe => "same_as_random_probe",
            Reason::NotFoundText => "not_found_text",
            Reason::RandomPathOk => "random_path_ok",
            Reason::Redirected => "redirected",
            Reason::ParkingService => "parking_service",
            Reason::DomainForSale => "domain_for_sale",
            Reason::CloudflareChallenge => "cloudflare_challenge",
            Reason::AkamaiChallenge => "akamai_challenge",
            Reason::ImpervaChallenge => "imperva_challenge",
            Reason::DatadomeChallenge => "datadome_challenge",
            Reason::PerimeterxChallenge => "perimeterx_challenge",
            Reason::AwsWafChallenge => "aws_waf_challenge",
            Reason::DdosGuardChallenge => "ddos_guard_challenge",
            Reason::CaptchaWall => "captcha_wall",
            Reason::Drifted => "drifted",
            Reason::MissingFragment => "missing_fragment",
        }
    }

    /// Parses a snake_case reason name.
    pub fn parse(name: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One response in a redirect chain (the last hop is the final answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedirectHop {
    /// The URL requested at this hop.
    pub url: String,
    /// The status it answered.
    pub status: u16,
    /// The `Location` header exactly as sent, if any.
    pub location: Option<String>,
    /// `location` resolved against `url` (RFC 3986), if it parsed.
    pub resolved: Option<String>,
    /// The address actually connected to.
    pub remote_addr: Option<SocketAddr>,
    /// Time from sending the request to receiving the headers.
    pub elapsed_ms: u64,
}

/// Everything the checker learned about one URL.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckResult {
    /// The URL as handed to the checker (fragment removed).
    pub url: String,
    /// The classification.
    pub verdict: Verdict,
    /// The final HTTP status, if an answer came.
    pub status: Option<u16>,
    /// Where the chain ended.
    pub final_url: Option<String>,
    /// Every hop of the last attempt, in order.
    pub chain: Vec<RedirectHop>,
    /// The underlying cause of a failure, in one line.
    pub error: Option<String>,
    /// The method of the final request: `HEAD` or `GET`.
    #[serde(deserialize_with = "method_name")]
    pub method: Option<MethodName>,
    /// Attempts made, retries included.
    pub attempts: u32,
    /// Wall time spent on this URL, retries and waits included.
    pub elapsed_ms: u64,
    /// When the check finished.
    pub checked_at: jiff::Timestamp,
    /// `Content-Type` of the final answer.
    pub content_type: Option<String>,
    /// `Content-Length` of the final answer, as sent.
    pub content_length: Option<u64>,
    /// The certificate was not verified (`--insecure`).
    pub insecure: bool,
    /// The first bytes (`body_limit`, 64 KiB by default) of the final GET's
    /// body, decoded; `None` when the final request was a HEAD. For content
    /// checks of later stages (soft 404s); never written to reports.
    #[serde(skip)]
    pub body_prefix: Option<bytes::Bytes>,
    /// What the content checks found, in [`Reason::ALL`] order (the
    /// `reason` column, joined with `;`). `missing_fragment` is not here:
    /// fragments belong to citations, see [`CheckResult::missing_fragments`].
    pub reasons: Vec<Reason>,
    /// How far the text moved from the last fingerprint seen, 0–1 (the
    /// `drift` column); `None` without an earlier fingerprint.
    pub drift: Option<f64>,
    /// SimHash of the page's text, for history to compare next run.
    pub fingerprint: Option<Fingerprint>,
    /// Fragments asked for with `--check-fragments` that the page lacks.
    pub missing_fragments: Vec<String>,
}

/// A request method's name. An alias because serde's derive would borrow a
/// literal `&'static str` field from the input, which only `'static` input
/// can lend.
pub type MethodName = &'static str;

/// Reads a method name back as the `'static` text the checker writes.
fn method_name<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<&'static str>, D::Error> {
    let name = <Option<std::borrow::Cow<'de, str>>>::deserialize(deserializer)?;
    match name.as_deref() {
        None => Ok(None),
        Some("HEAD") => Ok(Some("HEAD")),
        Some("GET") => Ok(Some("GET")),
        Some(other) => Err(serde::de::Error::custom(format!(
            "unknown request method {other:?}"
        ))),
    }
}

impl CheckResult {
    /// The result for a URL that is never sent (placeholder, invalid URL,
    /// other scheme, excluded).
    pub fn unrequested(url: &str, verdict: Verdict, error: Option<String>) -> CheckResult {
        CheckResult {
            url: url.to_string(),
            verdict,
            status: None,
            final_url: None,
            chain: Vec::new(),
            error,
            method: None,
            attempts: 0,
            elapsed_ms: 0,
            checked_at: jiff::Timestamp::now(),
            content_type: None,
            content_length: None,
            insecure: false,
            body_prefix: None,
            reasons: Vec::new(),
            drift: None,
            fingerprint: None,
            missing_fragments: Vec::new(),
        }
    }

    /// Number of redirects followed (hops minus the final answer).
    pub fn redirects(&self) -> usize {
        self.chain.len().saturating_sub(1)
    }

    /// The `reason` column for a citation of this URL with `fragment`:
    /// the result's reasons, plus `missing_fragment` when that fragment is
    /// one the page lacks.
    pub fn reasons_for(&self, fragment: Option<&str>) -> Vec<Reason> {
        let mut reasons = self.reasons.clone();
        if fragment.is_some_and(|f| self.missing_fragments.iter().any(|m| m == f)) {
            reasons.push(Reason::MissingFragment);
        }
        reasons
    }

    /// `reasons_for` as report text: `not_found_text;random_path_ok`.
    pub fn reason_text(&self, fragment: Option<&str>) -> String {
        self.reasons_for(fragment)
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(";")
    }

    /// `301 https://a/x -> 302 https://b/y -> 200 https://c/z`
    pub fn chain_text(&self) -> String {
        self.chain
            .iter()
            .map(|hop| format!("{} {}", hop.status, hop.url))
            .collect::<Vec<_>>()
            .join(" -> ")
    }
}
