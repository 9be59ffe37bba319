//! One attempt at one URL: send it, follow its redirects by hand, record
//! every hop.
//!
//! The client never follows redirects itself (`redirect::Policy::none()`):
//! each hop goes back through [`HostLimits`] for its own host, gets its own
//! per-host headers, and is recorded as a [`RedirectHop`] with the `Location`
//! as sent, its RFC 3986 resolution and the address connected to.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::header::{
    CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, LOCATION, RETRY_AFTER,
};
use reqwest::{Method, Url};
use tokio::time::Instant;

use super::error::{Failure, classify};
use super::limits::{HostLimits, RequestSlot};
use super::{RedirectHop, Verdict};

/// A header sent only to one host (`--host-header HOST 'Name: value'`).
#[derive(Debug, Clone)]
pub struct HostHeader {
    /// The host name it is for, lowercased; compared with each hop's host.
    pub host: String,
    /// Header name.
    pub name: HeaderName,
    /// Header value.
    pub value: HeaderValue,
}

/// How a [`Fetcher`] sends requests and reads answers.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    /// Redirects followed before giving up with `too_many_redirects`.
    pub max_redirects: usize,
    /// Limit on one request, from sending it to the end of the body read.
    pub timeout: Duration,
    /// Bytes of a GET body kept; the connection is dropped after that.
    pub body_limit: usize,
    /// Headers for one host only.
    pub host_headers: Vec<HostHeader>,
}

impl Default for FetchSettings {
    fn default() -> FetchSettings {
        FetchSettings {
            max_redirects: 10,
            timeout: Duration::from_secs(30),
            body_limit: 64 * 1024,
            host_headers: Vec::new(),
        }
    }
}

/// How a chain ended.
#[derive(Debug, Clone)]
pub enum FetchEnd {
    /// A final (non-redirect) answer with this status.
    Answer(u16),
    /// The request failed (DNS, connect, TLS, timeout, malformed answer).
    Failed(Failure),
}

/// What one attempt at one URL found.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The method used for every hop.
    pub method: Method,
    /// Every answer received, in order; the last is the final answer unless
    /// the chain ended in a failure.
    pub chain: Vec<RedirectHop>,
    /// How the chain ended.
    pub end: FetchEnd,
    /// Headers of the final answer.
    pub headers: HeaderMap,
    /// The first `body_limit` bytes of a GET's final answer, decoded.
    pub body_prefix: Option<Bytes>,
    /// The host of the last URL requested (where a `Retry-After` applies).
    pub last_host: Option<String>,
}

impl Fetched {
    /// The final status, if the chain ended in an answer.
    pub fn status(&self) -> Option<u16> {
        match self.end {
            FetchEnd::Answer(status) => Some(status),
            FetchEnd::Failed(_) => None,
        }
    }

    /// `Content-Type` of the final answer.
    pub fn content_type(&self) -> Option<String> {
        header_text(&self.headers, &CONTENT_TYPE)
    }

    /// `Content-Length` of the final answer.
    pub fn content_length(&self) -> Option<u64> {
        header_text(&self.headers, &CONTENT_LENGTH).and_then(|v| v.trim().parse().ok())
    }

    /// `Retry-After` of the final answer, as sent.
    pub fn retry_after(&self) -> Option<String> {
        header_text(&self.headers, &RETRY_AFTER)
    }
}

fn header_text(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// Sends requests through shared [`HostLimits`] and follows redirects by hand.
///
/// Cheap to clone. Several fetchers with different clients (the archiver's
/// has decompression off) may share one `HostLimits`.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    limits: Arc<HostLimits>,
    settings: Arc<FetchSettings>,
}

/// A status that means "look elsewhere" when it comes with a `Location`.
pub fn is_redirect_status(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

impl Fetcher {
    /// A fetcher sending through `client`, which must not follow redirects
    /// (build it from [`super::CheckOptions::client_builder`]).
    pub fn new(
        client: reqwest::Client,
        limits: Arc<HostLimits>,
        settings: FetchSettings,
    ) -> Fetcher {
        Fetcher {
            client,
            limits,
            settings: Arc::new(settings),
        }
    }

    /// The politeness layer this fetcher sends through.
    pub fn limits(&self) -> &Arc<HostLimits> {
        &self.limits
    }

    /// The client requests go through.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The settings in force.
    pub fn settings(&self) -> &FetchSettings {
        &self.settings
    }

    /// One attempt: sends `method` to `url` and follows redirects, each hop
    /// waiting for its own host's limits. `first` is a slot already obtained
    /// for `url`'s host, if the caller has one.
    pub async fn fetch(&self, url: &Url, method: Method, first: Option<RequestSlot>) -> Fetched {
        let mut first = first;
        // Most chains are one hop; a default first growth to four would
        // keep three empty hops per URL for the rest of the run.
        let mut chain: Vec<RedirectHop> = Vec::with_capacity(1);
        let mut seen: HashSet<Url> = HashSet::new();
        let mut current = without_fragment(url);
        seen.insert(current.clone());
        loop {
            let host = current.host_str().unwrap_or_default().to_ascii_lowercase();
            let slot = match first.take() {
                Some(slot) => slot,
                None => self.limits.acquire(&host).await,
            };
            let mut request = self
                .client
                .request(method.clone(), current.clone())
                .timeout(self.settings.timeout);
            for h in self.settings.host_headers.iter().filter(|h| h.host == host) {
                request = request.header(h.name.clone(), h.value.clone());
            }
            let sent = Instant::now();
            let mut response = match request.send().await {
                Ok(response) => response,
                Err(err) => {
                    return self.ended(method, chain, FetchEnd::Failed(classify(&err)), host);
                }
            };
            let status = response.status().as_u16();
            let mut hop = RedirectHop {
                url: current.to_string(),
                status,
                location: None,
                resolved: None,
                remote_addr: response.remote_addr(),
                elapsed_ms: sent.elapsed().as_millis() as u64,
            };
            let location = response
                .headers()
                .get(LOCATION)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            if let (true, Some(location)) = (is_redirect_status(status), location) {
                drop(response);
                drop(slot);
                hop.location = Some(location.clone());
                let next = current.join(location.trim());
                if let Ok(next) = &next {
                    hop.resolved = Some(next.to_string());
                }
                chain.push(hop);
                let next = match next {
                    Ok(next) => without_fragment(&next),
                    Err(err) => {
                        let failure = Failure::new(
                            Verdict::HttpError,
                            format!("invalid redirect Location {location:?}: {err}"),
                        );
                        return self.ended(method, chain, FetchEnd::Failed(failure), host);
                    }
                };
                if !matches!(next.scheme(), "http" | "https") {
                    let failure = Failure::new(
                        Verdict::HttpError,
                        format!("redirect to unsupported scheme: {next}"),
                    );
                    return self.ended(method, chain, FetchEnd::Failed(failure), host);
                }
                if !seen.insert(next.clone()) {
                    let failure = Failure::new(
                        Verdict::RedirectLoop,
                        format!("redirect loop: back to {next}"),
                    );
                    return self.ended(method, chain, FetchEnd::Failed(failure), host);
                }
                if chain.len() > self.settings.max_redirects {
                    let failure = Failure::new(
                        Verdict::TooManyRedirects,
                        format!("more than {} redirects", self.settings.max_redirects),
                    );
                    return self.ended(method, chain, FetchEnd::Failed(failure), host);
                }
                current = next;
                continue;
            }
            let headers = response.headers().clone();
            chain.push(hop);
            let mut body_prefix = None;
            if method == Method::GET && self.settings.body_limit > 0 {
                let mut buf = BytesMut::new();
                loop {
                    match response.chunk().await {
                        Ok(Some(chunk)) => {
                            let room = self.settings.body_limit - buf.len();
                            buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
                            if buf.len() >= self.settings.body_limit {
                                break;
                            }
                        }
                        Ok(None) => break,
                        Err(err) => {
                            let mut fetched =
                                self.ended(method, chain, FetchEnd::Failed(classify(&err)), host);
                            fetched.headers = headers;
                            return fetched;
                        }
                    }
                }
                body_prefix = Some(buf.freeze());
            }
            // Dropping an unfinished response closes its connection, which is
            // how a GET stops after the prefix.
            drop(response);
            drop(slot);
            return Fetched {
                method,
                chain,
                end: FetchEnd::Answer(status),
                headers,
                body_prefix,
                last_host: Some(host),
            };
        }
    }

    fn ended(
        &self,
        method: Method,
        chain: Vec<RedirectHop>,
        end: FetchEnd,
        host: String,
    ) -> Fetched {
        Fetched {
            method,
            chain,
            end,
            headers: HeaderMap::new(),
            body_prefix: None,
            last_host: Some(host),
        }
    }
}

fn without_fragment(url: &Url) -> Url {
    let mut url = url.clone();
    url.set_fragment(None);
    url
}
