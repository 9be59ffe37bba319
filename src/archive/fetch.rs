//! Fetching a page for the archive: GET with every redirect hop kept as an
//! [`Exchange`], bodies exactly as received.
//!
//! This client is separate from the checker's: it never decompresses (so a
//! stored body matches its `Content-Encoding` header and a gzip bomb stays
//! small), it reads bodies (up to `--archive-max-bytes`), and unless
//! `--archive-private` is given it refuses to take a snapshot from any
//! non-global address, judged on every hop's actual connection.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};

use super::address::{GlobalOnlyResolver, non_global_reason};
use super::warc::{Exchange, Sha1Digest, Spool};
use crate::check::{CheckOptions, HostHeader, HostLimits};

/// How snapshots are fetched.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Longest body stored per response; longer ones are cut and marked.
    pub max_bytes: u64,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
    /// Allow snapshots from loopback, private and other non-global addresses.
    pub allow_private: bool,
    /// The User-Agent sent.
    pub user_agent: String,
    /// Limit for one whole hop, body included.
    pub timeout: Duration,
    /// Limit for connecting.
    pub connect_timeout: Duration,
    /// Extra request headers (`--header`); their values are redacted in the
    /// stored request records.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// `--resolve HOST:PORT:ADDR` overrides.
    pub resolve: Vec<(String, SocketAddr)>,
    /// Accept invalid certificates (`--insecure`).
    pub insecure: bool,
    /// Headers for one host only (`--host-header`); values redacted in the
    /// stored request records.
    pub host_headers: Vec<HostHeader>,
    /// The checker's per-host politeness, shared so archive fetches count
    /// against the same limits; `None` fetches without waiting.
    pub limits: Option<Arc<HostLimits>>,
    /// Extra attempts after a network failure or a 408/429/5xx answer.
    pub retries: u32,
    /// First wait before a retry; doubled each time.
    pub retry_delay: Duration,
}

impl FetchOptions {
    /// The network settings of a check run, its politeness included.
    pub fn from_check(check: &CheckOptions, limits: Arc<HostLimits>) -> FetchOptions {
        FetchOptions {
            max_redirects: check.max_redirects,
            user_agent: check.user_agent.clone(),
            // Whole bodies take longer than a check's body prefix.
            timeout: check.timeout.max(Duration::from_secs(60)),
            connect_timeout: check.connect_timeout,
            headers: check.headers.clone(),
            resolve: check
                .resolve
                .iter()
                .map(|r| (r.host.clone(), SocketAddr::new(r.addr, r.port)))
                .collect(),
            insecure: check.insecure,
            host_headers: check.host_headers.clone(),
            limits: Some(limits),
            retries: check.retries,
            retry_delay: check.retry_base_delay,
            ..FetchOptions::default()
        }
    }
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            max_bytes: 50 * 1024 * 1024,
            max_redirects: 10,
            allow_private: false,
            user_agent: format!("linkrot/{}", env!("CARGO_PKG_VERSION")),
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            headers: Vec::new(),
            resolve: Vec::new(),
            insecure: false,
            host_headers: Vec::new(),
            limits: None,
            retries: 2,
            retry_delay: Duration::from_millis(500),
        }
    }
}

/// Header names whose values never reach a stored request record.
const ALWAYS_REDACTED: [HeaderName; 3] = [
    header::AUTHORIZATION,
    header::PROXY_AUTHORIZATION,
    header::COOKIE,
];

/// What replaces a redacted header value in a stored request.
pub const REDACTED: &str = "[redacted]";

/// The archive's HTTP client.
#[derive(Debug, Clone)]
pub struct SnapshotFetcher {
    client: reqwest::Client,
    options: FetchOptions,
}

impl SnapshotFetcher {
    /// Builds the client.
    pub fn new(options: FetchOptions) -> Result<SnapshotFetcher, String> {
        let mut builder = reqwest::Client::builder()
            .no_gzip()
            .no_brotli()
            .no_deflate()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(options.timeout)
            .connect_timeout(options.connect_timeout)
            .danger_accept_invalid_certs(options.insecure);
        if !options.allow_private {
            builder = builder.dns_resolver(GlobalOnlyResolver);
        }
        for (host, addr) in &options.resolve {
            builder = builder.resolve(host, *addr);
        }
        let client = builder
            .build()
            .map_err(|e| format!("cannot build the archive's HTTP client: {e}"))?;
        Ok(SnapshotFetcher { client, options })
    }

    /// GETs `url`, following redirects, and returns every exchange in order
    /// (the last is the final answer). Any failure, including a refused
    /// address, fails the whole snapshot: an archive holds whole chains. A
    /// network failure or a 408/429/5xx answer is retried (`retries`, with
    /// doubling waits), as the checker does.
    pub async fn fetch_chain(&self, url: &str) -> Result<Vec<Exchange>, String> {
        let mut attempt = 0;
        loop {
            let outcome = self.fetch_chain_once(url).await;
            let failure = match &outcome {
                Ok(chain) => match chain.last().map(|e| e.status) {
                    Some(status @ (408 | 429 | 500 | 502 | 503 | 504)) => format!(
                        "{url}: answered {status} on every attempt ({} attempts)",
                        attempt + 1
                    ),
                    _ => return outcome.map_err(|f| f.message),
                },
                Err(f) if !f.transient => return outcome.map_err(|f| f.message),
                Err(f) => f.message.clone(),
            };
            if attempt >= self.options.retries {
                return Err(failure);
            }
            let wait = self
                .options
                .retry_delay
                .saturating_mul(1 << attempt.min(16));
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    async fn fetch_chain_once(&self, url: &str) -> Result<Vec<Exchange>, Failure> {
        let mut current = url::Url::parse(url)
            .map_err(|e| Failure::permanent(format!("invalid URL {url}: {e}")))?;
        let mut seen = HashSet::new();
        let mut exchanges = Vec::new();
        loop {
            if !seen.insert(current.to_string()) {
                return Err(Failure::permanent(format!("redirect loop at {current}")));
            }
            let exchange = self.fetch_one(&current).await?;
            let next = redirect_target(&exchange, &current);
            exchanges.push(exchange);
            match next {
                Some(next) if exchanges.len() > self.options.max_redirects => {
                    return Err(Failure::permanent(format!(
                        "more than {} redirects (next: {next})",
                        self.options.max_redirects
                    )));
                }
                Some(next) => current = next,
                None => return Ok(exchanges),
            }
        }
    }

    async fn fetch_one(&self, url: &url::Url) -> Result<Exchange, Failure> {
        if !self.options.allow_private
            && let Some(ip) = ip_literal(url)
            && let Some(reason) = non_global_reason(ip)
        {
            return Err(Failure::permanent(format!(
                "{url}: {ip} is {reason}: not archived (--archive-private allows it)"
            )));
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            header::USER_AGENT,
            HeaderValue::from_str(&self.options.user_agent)
                .unwrap_or(HeaderValue::from_static("linkrot")),
        );
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static(
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            ),
        );
        // What a browser sends; the answer is stored still encoded.
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, deflate, br"),
        );
        for (name, value) in &self.options.headers {
            headers.insert(name.clone(), value.clone());
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        for h in self.options.host_headers.iter().filter(|h| h.host == host) {
            headers.insert(h.name.clone(), h.value.clone());
        }
        // Held for the whole exchange, body included.
        let _slot = match &self.options.limits {
            Some(limits) => Some(limits.acquire(&host).await),
            None => None,
        };
        let date = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second())
            .expect("now is a valid timestamp");
        let request_head = self.request_head(url, &headers);
        let mut response = self
            .client
            .get(url.clone())
            .headers(headers)
            .send()
            .await
            .map_err(|e| Failure::transient(format!("{url}: {}", error_chain(&e))))?;
        let remote = response.remote_addr();
        if !self.options.allow_private {
            match remote.map(|a| (a.ip(), non_global_reason(a.ip()))) {
                Some((_, None)) => {}
                Some((ip, Some(reason))) => {
                    return Err(Failure::permanent(format!(
                        "{url}: connected to {ip}, {reason}: not archived (--archive-private allows it)"
                    )));
                }
                None => {
                    return Err(Failure::permanent(format!(
                        "{url}: the connected address is unknown: not archived"
                    )));
                }
            }
        }
        let status = response.status();
        let response_head = response_head(&response);
        let mime = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);

        let mut body = Spool::new();
        let mut payload = Sha1Digest::new();
        let mut block = Sha1Digest::new();
        block.update(&response_head);
        let mut truncated = false;
        let max = self.options.max_bytes;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| Failure::transient(format!("{url}: body: {}", error_chain(&e))))?
        {
            let room = max - body.len();
            let keep = &chunk[..chunk.len().min(room as usize)];
            payload.update(keep);
            block.update(keep);
            body.write(keep)
                .map_err(|e| Failure::permanent(format!("cannot spool the body of {url}: {e}")))?;
            // A body exactly at the cap is whole: only a byte beyond it
            // proves truncation.
            if keep.len() < chunk.len() {
                truncated = true;
                break;
            }
        }
        Ok(Exchange {
            target_uri: url.to_string(),
            date,
            ip: remote.map(|a| a.ip()),
            request_head,
            response_head,
            body,
            payload_digest: payload.finish(),
            block_digest: block.finish(),
            truncated,
            status: status.as_u16(),
            mime,
        })
    }

    /// The request as it is stored: HTTP/1.1 form, sensitive values redacted.
    fn request_head(&self, url: &url::Url, headers: &HeaderMap) -> Vec<u8> {
        let mut target = url.path().to_string();
        if let Some(q) = url.query() {
            target.push('?');
            target.push_str(q);
        }
        let mut host = url.host_str().unwrap_or("").to_string();
        if let Some(port) = url.port() {
            host.push_str(&format!(":{port}"));
        }
        let mut head = format!("GET {target} HTTP/1.1\r\nhost: {host}\r\n").into_bytes();
        for (name, value) in headers {
            let redact = ALWAYS_REDACTED.contains(name)
                || self.options.headers.iter().any(|(n, _)| n == name)
                || self.options.host_headers.iter().any(|h| h.name == name);
            head.extend_from_slice(name.as_str().as_bytes());
            head.extend_from_slice(b": ");
            if redact {
                head.extend_from_slice(REDACTED.as_bytes());
            } else {
                head.extend_from_slice(value.as_bytes());
            }
            head.extend_from_slice(b"\r\n");
        }
        head.extend_from_slice(b"\r\n");
        head
    }
}

/// Why one attempt at a snapshot failed, and whether trying again may help.
#[derive(Debug)]
struct Failure {
    message: String,
    transient: bool,
}

impl Failure {
    fn permanent(message: String) -> Failure {
        Failure {
            message,
            transient: false,
        }
    }

    fn transient(message: String) -> Failure {
        Failure {
            message,
            transient: true,
        }
    }
}

/// Status line and headers as received, in HTTP/1.1 form: HTTP/2 and later
/// answers get an HTTP/1.1 status line, and `Transfer-Encoding: chunked` is
/// dropped because the stored body is de-chunked.
fn response_head(response: &reqwest::Response) -> Vec<u8> {
    let status = response.status();
    let version = if response.version() == reqwest::Version::HTTP_10 {
        "HTTP/1.0"
    } else {
        "HTTP/1.1"
    };
    let mut head = format!(
        "{version} {} {}\r\n",
        status.as_str(),
        status.canonical_reason().unwrap_or("")
    )
    .into_bytes();
    for (name, value) in response.headers() {
        if name == header::TRANSFER_ENCODING {
            continue;
        }
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    head
}

/// Where a redirect answer points, if it is one worth following.
fn redirect_target(exchange: &Exchange, current: &url::Url) -> Option<url::Url> {
    if !matches!(exchange.status, 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let head = String::from_utf8_lossy(&exchange.response_head);
    let location = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("location")
            .then(|| value.trim().to_string())
    })?;
    let next = current.join(&location).ok()?;
    matches!(next.scheme(), "http" | "https").then_some(next)
}

fn ip_literal(url: &url::Url) -> Option<std::net::IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(ip.into()),
        url::Host::Ipv6(ip) => Some(ip.into()),
        url::Host::Domain(_) => None,
    }
}

/// The error and its causes on one line.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(version: reqwest::Version) -> reqwest::Response {
        http::Response::builder()
            .version(version)
            .status(200)
            .header("content-type", "text/html")
            .header("transfer-encoding", "chunked")
            .header("set-cookie", "a=1")
            .header("set-cookie", "b=2")
            .body("body")
            .unwrap()
            .into()
    }

    #[test]
    fn http2_answers_get_an_http11_status_line_and_chunked_is_dropped() {
        let head = String::from_utf8(response_head(&response(reqwest::Version::HTTP_2))).unwrap();
        assert_eq!(
            head,
            "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\nset-cookie: a=1\r\nset-cookie: b=2\r\n\r\n"
        );
        let head = String::from_utf8(response_head(&response(reqwest::Version::HTTP_10))).unwrap();
        assert!(head.starts_with("HTTP/1.0 200 OK\r\n"));
    }

    #[test]
    fn sensitive_request_headers_are_redacted() {
        let fetcher = SnapshotFetcher::new(FetchOptions {
            headers: vec![("x-token".parse().unwrap(), "t0ken".parse().unwrap())],
            ..FetchOptions::default()
        })
        .unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        headers.insert(header::COOKIE, "session=xyz".parse().unwrap());
        headers.insert("x-token", "t0ken".parse().unwrap());
        headers.insert(header::ACCEPT, "*/*".parse().unwrap());
        let url = url::Url::parse("https://a.test:8443/p?q=1").unwrap();
        let head = String::from_utf8(fetcher.request_head(&url, &headers)).unwrap();
        assert_eq!(
            head,
            "GET /p?q=1 HTTP/1.1\r\nhost: a.test:8443\r\nauthorization: [redacted]\r\ncookie: [redacted]\r\nx-token: [redacted]\r\naccept: */*\r\n\r\n"
        );
    }
}
