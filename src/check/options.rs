//! Every knob of a check run, and parsers for the forms users write them in.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::str::FromStr;
use std::time::Duration;

use regex::Regex;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::fetch::{FetchSettings, HostHeader};

/// The default `User-Agent`: `linkrot/VERSION (+https://github.com/linkrot/linkrot)`.
pub const DEFAULT_USER_AGENT: &str = concat!(
    "linkrot/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/linkrot/linkrot)"
);

/// Which requests a check sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RequestMethod {
    /// HEAD first; GET when HEAD answers anything but 2xx/3xx or fails after
    /// connecting. A checker with content checks on sends GET anyway, since
    /// they need the body.
    #[default]
    HeadThenGet,
    /// GET only, so every alive result carries a body prefix.
    Get,
}

/// Everything that changes how URLs are checked.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Requests in flight at once over all hosts (`--max-concurrency`).
    pub max_concurrency: usize,
    /// Requests in flight at once to one host name (`--host-concurrency`).
    pub host_concurrency: usize,
    /// Minimum time between request starts to one host name (`--host-interval`).
    pub host_interval: Duration,
    /// Limit on establishing a connection (`--connect-timeout`).
    pub connect_timeout: Duration,
    /// Limit on one request, headers and body prefix included (`--timeout`).
    pub timeout: Duration,
    /// Extra attempts after a retryable failure (`--retries`).
    pub retries: u32,
    /// First backoff delay; doubled each retry, with jitter.
    pub retry_base_delay: Duration,
    /// Longest `Retry-After` honoured (`--max-retry-after`); longer ones end
    /// the retries.
    pub max_retry_after: Duration,
    /// Redirects followed before `too_many_redirects` (`--max-redirects`).
    pub max_redirects: usize,
    /// Bytes of a GET body read before dropping the connection.
    pub body_limit: usize,
    /// HEAD then GET, or GET only.
    pub method: RequestMethod,
    /// `User-Agent` header (`--user-agent`).
    pub user_agent: String,
    /// Headers sent to every host (`--header`).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Headers sent to one host only (`--host-header`).
    pub host_headers: Vec<HostHeader>,
    /// Name-to-address overrides (`--resolve`).
    pub resolve: Vec<ResolveOverride>,
    /// URLs matching any of these are not requested (`--exclude`).
    pub exclude: Vec<Regex>,
    /// When given, only URLs matching one of these are requested (`--include`);
    /// an include match wins over an exclude match.
    pub include: Vec<Regex>,
    /// Statuses that count as alive (`--accept`).
    pub accept: AcceptCodes,
    /// Statuses that count as alive on one host (config `[hosts."NAME"]`
    /// `accept`), instead of `accept`; host names lowercase.
    pub host_accept: Vec<(String, AcceptCodes)>,
    /// Accept invalid certificates (`--insecure`).
    pub insecure: bool,
    /// URLs admitted to the checker but not finished, at most: bounds memory
    /// and how far input is read ahead of a slow host.
    pub queue_limit: usize,
}

impl Default for CheckOptions {
    fn default() -> CheckOptions {
        CheckOptions {
            max_concurrency: 128,
            host_concurrency: 4,
            host_interval: Duration::from_millis(50),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            retries: 2,
            retry_base_delay: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(60),
            max_redirects: 10,
            body_limit: 64 * 1024,
            method: RequestMethod::HeadThenGet,
            user_agent: DEFAULT_USER_AGENT.to_string(),
            headers: Vec::new(),
            host_headers: Vec::new(),
            resolve: Vec::new(),
            exclude: Vec::new(),
            include: Vec::new(),
            accept: AcceptCodes::default(),
            host_accept: Vec::new(),
            insecure: false,
            queue_limit: 16_384,
        }
    }
}

impl CheckOptions {
    /// The accepted statuses for a final answer from `host`.
    pub fn accept_for(&self, host: Option<&str>) -> &AcceptCodes {
        host.and_then(|host| {
            self.host_accept
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(host))
        })
        .map_or(&self.accept, |(_, codes)| codes)
    }

    /// A client builder with linkrot's identity, timeouts, `--resolve`
    /// overrides, `--insecure` and redirects off. Callers needing another
    /// client (the archiver turns decompression off) start from this one so
    /// every request looks the same to servers.
    pub fn client_builder(&self) -> reqwest::ClientBuilder {
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            headers.append(name.clone(), value.clone());
        }
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(self.user_agent.clone())
            .default_headers(headers)
            .connect_timeout(self.connect_timeout)
            .tls_danger_accept_invalid_certs(self.insecure)
            .pool_max_idle_per_host(self.host_concurrency.max(1))
            .pool_idle_timeout(Duration::from_secs(30))
            .tcp_nodelay(true)
            .referer(false);
        for r in &self.resolve {
            builder = builder.resolve(&r.host, SocketAddr::new(r.addr, r.port));
        }
        builder
    }

    /// The fetch settings these options imply.
    pub fn fetch_settings(&self) -> FetchSettings {
        FetchSettings {
            max_redirects: self.max_redirects,
            timeout: self.timeout,
            body_limit: self.body_limit,
            host_headers: self.host_headers.clone(),
        }
    }

    /// Whether `--exclude`/`--include` leave `url` out.
    pub fn is_excluded(&self, url: &str) -> bool {
        if self.include.iter().any(|re| re.is_match(url)) {
            return false;
        }
        if !self.include.is_empty() && self.exclude.is_empty() {
            return true;
        }
        self.exclude.iter().any(|re| re.is_match(url))
    }
}

/// A `--resolve HOST:PORT:ADDR` override.
///
/// The override applies to HOST on every port: a port written in the URL is
/// the one connected to, PORT is used when the URL has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveOverride {
    /// Host name, lowercased.
    pub host: String,
    /// Port used when the URL names none.
    pub port: u16,
    /// Address connected to.
    pub addr: IpAddr,
}

impl FromStr for ResolveOverride {
    type Err = String;

    fn from_str(s: &str) -> Result<ResolveOverride, String> {
        let bad = || format!("invalid --resolve {s:?}: expected HOST:PORT:ADDR");
        let (host, rest) = s.split_once(':').ok_or_else(bad)?;
        let (port, addr) = rest.split_once(':').ok_or_else(bad)?;
        if host.is_empty() {
            return Err(bad());
        }
        let port: u16 = port.parse().map_err(|_| bad())?;
        let addr = addr.trim_start_matches('[').trim_end_matches(']');
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("invalid --resolve {s:?}: {addr:?} is not an IP address"))?;
        Ok(ResolveOverride {
            host: host.to_ascii_lowercase(),
            port,
            addr,
        })
    }
}

/// Parses a `Name: value` header as written on the command line.
pub fn parse_header(s: &str) -> Result<(HeaderName, HeaderValue), String> {
    let (name, value) = s
        .split_once(':')
        .ok_or_else(|| format!("invalid header {s:?}: expected 'Name: value'"))?;
    let name = HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| format!("invalid header name {:?}", name.trim()))?;
    let value = HeaderValue::from_str(value.trim())
        .map_err(|_| format!("invalid value for header {name}"))?;
    Ok((name, value))
}

/// Parses `--host-header HOST 'Name: value'`.
pub fn parse_host_header(host: &str, header: &str) -> Result<HostHeader, String> {
    let (name, value) = parse_header(header)?;
    let host = host.trim().to_ascii_lowercase();
    if host.is_empty() || host.contains('/') {
        return Err(format!(
            "invalid --host-header host {host:?}: expected a host name"
        ));
    }
    Ok(HostHeader { host, name, value })
}

/// The statuses counted as alive: `200..=299,403`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptCodes(Vec<RangeInclusive<u16>>);

impl Default for AcceptCodes {
    fn default() -> AcceptCodes {
        AcceptCodes(vec![200..=299])
    }
}

impl AcceptCodes {
    /// Whether `status` is accepted.
    pub fn contains(&self, status: u16) -> bool {
        self.0.iter().any(|r| r.contains(&status))
    }
}

impl FromStr for AcceptCodes {
    type Err = String;

    fn from_str(s: &str) -> Result<AcceptCodes, String> {
        let code = |t: &str| -> Result<u16, String> {
            match t.trim().parse::<u16>() {
                Ok(c) if (100..=999).contains(&c) => Ok(c),
                _ => Err(format!(
                    "invalid status code {:?} in --accept {s:?}",
                    t.trim()
                )),
            }
        };
        let mut ranges = Vec::new();
        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
            let range = if let Some((a, b)) = part.split_once("..=") {
                code(a)?..=code(b)?
            } else if let Some((a, b)) = part.split_once("..") {
                let end = code(b)?;
                if end == 0 {
                    return Err(format!("empty range {part:?} in --accept"));
                }
                code(a)?..=end - 1
            } else {
                let c = code(part)?;
                c..=c
            };
            if range.is_empty() {
                return Err(format!("empty range {:?} in --accept", part.trim()));
            }
            ranges.push(range);
        }
        if ranges.is_empty() {
            return Err("--accept needs at least one status code".to_string());
        }
        Ok(AcceptCodes(ranges))
    }
}

impl fmt::Display for AcceptCodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|r| {
                if r.start() == r.end() {
                    r.start().to_string()
                } else {
                    format!("{}..={}", r.start(), r.end())
                }
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_codes_parse_ranges_and_singles() {
        let a: AcceptCodes = "200..=299,403".parse().unwrap();
        assert!(a.contains(200) && a.contains(299) && a.contains(403));
        assert!(!a.contains(300) && !a.contains(404));
        let b: AcceptCodes = "200..300".parse().unwrap();
        assert!(b.contains(299) && !b.contains(300));
        assert_eq!(b.to_string(), "200..=299");
        assert!("abc".parse::<AcceptCodes>().is_err());
        assert!("300..=200".parse::<AcceptCodes>().is_err());
        assert!("".parse::<AcceptCodes>().is_err());
    }

    #[test]
    fn resolve_parses_like_curl() {
        let r: ResolveOverride = "A.test:8080:127.0.0.2".parse().unwrap();
        assert_eq!(r.host, "a.test");
        assert_eq!(r.port, 8080);
        assert_eq!(r.addr, "127.0.0.2".parse::<IpAddr>().unwrap());
        let v6: ResolveOverride = "b.test:443:[::1]".parse().unwrap();
        assert_eq!(v6.addr, "::1".parse::<IpAddr>().unwrap());
        assert!("a.test:80".parse::<ResolveOverride>().is_err());
        assert!("a.test:x:127.0.0.1".parse::<ResolveOverride>().is_err());
    }

    #[test]
    fn headers_parse_and_reject_garbage() {
        let (n, v) = parse_header("X-Token:  abc ").unwrap();
        assert_eq!(n.as_str(), "x-token");
        assert_eq!(v, "abc");
        assert!(parse_header("no colon").is_err());
        assert!(parse_header("bad name: x").is_err());
        let h = parse_host_header("API.test", "Authorization: Bearer t").unwrap();
        assert_eq!(h.host, "api.test");
    }

    #[test]
    fn include_wins_over_exclude() {
        let mut o = CheckOptions {
            exclude: vec![Regex::new("example").unwrap()],
            ..CheckOptions::default()
        };
        assert!(o.is_excluded("https://example.com/"));
        assert!(!o.is_excluded("https://other.org/"));
        o.include = vec![Regex::new("example.com/keep").unwrap()];
        assert!(!o.is_excluded("https://example.com/keep"));
        assert!(o.is_excluded("https://example.com/drop"));
        o.exclude.clear();
        assert!(o.is_excluded("https://other.org/"));
    }
}
