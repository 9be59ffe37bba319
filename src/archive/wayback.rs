//! The Internet Archive: find the capture closest to a citation's date
//! (availability API, batch form) and submit live pages to Save Page Now 2.
//!
//! Off by default. Every endpoint hangs off one base URL (`--wayback-endpoint`)
//! so tests talk to a local server speaking the same JSON.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use std::sync::Arc;

use jiff::civil::Date;
use serde::Deserialize;

use crate::check::HostLimits;

/// Captures the lookup accepts (the dead-link bot's rule).
pub const ACCEPTED_STATUS: [u16; 3] = [200, 203, 206];

/// SPN2 error kinds worth trying again later.
pub const TRANSIENT_ERRORS: [&str; 7] = [
    "error:user-session-limit",
    "error:soft-time-limit-exceeded",
    "error:proxy-error",
    "error:browsing-timeout",
    "error:no-browsers-available",
    "error:redis-error",
    "error:capture-location-error",
];

/// Queries per availability POST.
const BATCH: usize = 50;

/// How to reach the Internet Archive.
#[derive(Debug, Clone)]
pub struct WaybackOptions {
    /// Base of the availability API (`https://archive.org`).
    pub lookup_base: url::Url,
    /// Base of Save Page Now and of snapshot URLs (`https://web.archive.org`).
    pub save_base: url::Url,
    /// `LINKROT_IA_ACCESS_KEY` and `LINKROT_IA_SECRET_KEY`.
    pub credentials: Option<(String, String)>,
    /// Time between polls of a pending save job (and of a full user quota).
    pub poll_interval: Duration,
    /// Polls of one job before giving up on it.
    pub max_polls: u32,
    /// Submissions of one URL, transient errors included.
    pub max_attempts: u32,
    /// Attempts of one API request that answers 429 or 5xx.
    pub request_attempts: u32,
    /// The User-Agent sent.
    pub user_agent: String,
    /// Limit on one API request.
    pub timeout: Duration,
    /// The checker's per-host politeness, so requests to the Internet
    /// Archive wait their turn like every other request of the run.
    pub limits: Option<Arc<HostLimits>>,
}

impl WaybackOptions {
    /// The real service, or `endpoint` for both APIs.
    pub fn new(endpoint: Option<url::Url>) -> WaybackOptions {
        let (lookup_base, save_base) = match endpoint {
            Some(e) => (e.clone(), e),
            None => (
                url::Url::parse("https://archive.org/").expect("valid"),
                url::Url::parse("https://web.archive.org/").expect("valid"),
            ),
        };
        WaybackOptions {
            lookup_base,
            save_base,
            credentials: None,
            poll_interval: Duration::from_secs(6),
            max_polls: 50,
            max_attempts: 3,
            request_attempts: 3,
            user_agent: format!("linkrot/{}", env!("CARGO_PKG_VERSION")),
            timeout: Duration::from_secs(60),
            limits: None,
        }
    }
}

/// One capture in the Wayback Machine.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Capture {
    /// `https://web.archive.org/web/TIMESTAMP/URL`
    pub url: String,
    /// `YYYYMMDDhhmmss`
    pub timestamp: String,
    /// The HTTP status captured.
    pub status: u16,
}

impl Capture {
    /// The capture date as `YYYY-MM-DD`.
    pub fn date(&self) -> String {
        let t = &self.timestamp;
        if t.len() >= 8 {
            format!("{}-{}-{}", &t[..4], &t[4..6], &t[6..8])
        } else {
            t.clone()
        }
    }
}

/// What became of one Save Page Now submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveOutcome {
    /// Captured.
    Saved(Capture),
    /// Given up, with the reason (`error:…` kind and message).
    Failed(String),
}

#[derive(Deserialize)]
struct Closest {
    #[serde(default)]
    available: Option<bool>,
    url: String,
    timestamp: String,
    status: String,
}

#[derive(Deserialize, Default)]
struct Snapshots {
    closest: Option<Closest>,
}

#[derive(Deserialize)]
struct BatchResult {
    tag: serde_json::Value,
    #[serde(default)]
    archived_snapshots: Snapshots,
}

#[derive(Deserialize)]
struct BatchAnswer {
    results: Vec<BatchResult>,
}

#[derive(Deserialize, Default)]
struct SaveAnswer {
    job_id: Option<String>,
    status: Option<String>,
    status_ext: Option<String>,
    message: Option<String>,
    original_url: Option<String>,
    timestamp: Option<String>,
}

#[derive(Deserialize)]
struct UserStatus {
    available: i64,
}

/// A client for the availability API and Save Page Now 2.
pub struct WaybackClient {
    client: reqwest::Client,
    options: WaybackOptions,
}

impl WaybackClient {
    /// Builds the client.
    pub fn new(options: WaybackOptions) -> Result<WaybackClient, String> {
        let client = reqwest::Client::builder()
            .user_agent(options.user_agent.clone())
            .timeout(options.timeout)
            .build()
            .map_err(|e| format!("cannot build the Wayback client: {e}"))?;
        Ok(WaybackClient { client, options })
    }

    fn endpoint(base: &url::Url, path: &str) -> String {
        format!("{}{}", base.as_str().trim_end_matches('/'), path)
    }

    /// Sends a request built by `make`, retrying 429 and 5xx answers after
    /// `Retry-After` (or the poll interval).
    async fn send(
        &self,
        what: &str,
        make: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, String> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let request = make()
                .build()
                .map_err(|e| format!("{what}: cannot build the request: {e}"))?;
            let _slot = match &self.options.limits {
                Some(limits) => {
                    let host = request.url().host_str().unwrap_or_default().to_string();
                    Some(limits.acquire(&host).await)
                }
                None => None,
            };
            let outcome = self.client.execute(request).await;
            let retry = match &outcome {
                Ok(r) if r.status().as_u16() == 429 || r.status().is_server_error() => {
                    Some(format!("{what}: HTTP {}", r.status().as_u16()))
                }
                Ok(r) if !r.status().is_success() => {
                    return Err(format!("{what}: HTTP {}", r.status().as_u16()));
                }
                Ok(_) => None,
                Err(e) if e.is_timeout() || e.is_connect() => Some(format!("{what}: {e}")),
                Err(e) => return Err(format!("{what}: {e}")),
            };
            match retry {
                None => return outcome.map_err(|e| format!("{what}: {e}")),
                Some(reason) if attempt >= self.options.request_attempts => return Err(reason),
                Some(_) => {
                    let wait = outcome
                        .ok()
                        .and_then(|r| {
                            r.headers()
                                .get(reqwest::header::RETRY_AFTER)?
                                .to_str()
                                .ok()?
                                .trim()
                                .parse::<u64>()
                                .ok()
                        })
                        .map(Duration::from_secs)
                        .unwrap_or(self.options.poll_interval)
                        .min(Duration::from_secs(120));
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// For each `(url, date)`, the accepted capture closest to the date:
    /// the latest before it, else the earliest after it. `Ok(None)`: the
    /// Wayback Machine has none.
    pub async fn lookup(&self, queries: &[(String, Date)]) -> Vec<Result<Option<Capture>, String>> {
        let mut out: Vec<Result<Option<Capture>, String>> = vec![Ok(None); queries.len()];
        for (chunk_no, chunk) in queries.chunks(BATCH).enumerate() {
            let base = chunk_no * BATCH;
            let before = self.lookup_batch(chunk, "before").await;
            let mut again = Vec::new();
            for (i, answer) in before.into_iter().enumerate() {
                match answer {
                    Ok(None) => again.push(i),
                    other => out[base + i] = other,
                }
            }
            if again.is_empty() {
                continue;
            }
            let retry: Vec<(String, Date)> = again.iter().map(|&i| chunk[i].clone()).collect();
            let after = self.lookup_batch(&retry, "after").await;
            for (&i, answer) in again.iter().zip(after) {
                out[base + i] = answer;
            }
        }
        out
    }

    async fn lookup_batch(
        &self,
        queries: &[(String, Date)],
        closest: &str,
    ) -> Vec<Result<Option<Capture>, String>> {
        let body: Vec<String> = queries
            .iter()
            .enumerate()
            .map(|(tag, (url, date))| {
                let mut q = url::form_urlencoded::Serializer::new(String::new());
                q.append_pair("url", url);
                q.append_pair("timestamp", &format!("{}235959", date.strftime("%Y%m%d")));
                q.append_pair("closest", closest);
                for s in ACCEPTED_STATUS {
                    q.append_pair("statuscodes", &s.to_string());
                }
                q.append_pair("tag", &tag.to_string());
                q.finish()
            })
            .collect();
        let body = body.join("\n");
        let endpoint = Self::endpoint(&self.options.lookup_base, "/wayback/available");
        let answer = async {
            let response = self
                .send("Wayback availability", || {
                    self.client
                        .post(&endpoint)
                        .header("Wayback-Api-Version", "2")
                        .header(
                            reqwest::header::CONTENT_TYPE,
                            "application/x-www-form-urlencoded",
                        )
                        .body(body.clone())
                })
                .await?;
            json::<BatchAnswer>(response, "Wayback availability").await
        }
        .await;
        let answer = match answer {
            Ok(a) => a,
            Err(e) => return vec![Err(e); queries.len()],
        };
        let mut out: Vec<Result<Option<Capture>, String>> = vec![Ok(None); queries.len()];
        for result in answer.results {
            let tag = match &result.tag {
                serde_json::Value::String(s) => s.parse::<usize>().ok(),
                serde_json::Value::Number(n) => n.as_u64().map(|n| n as usize),
                _ => None,
            };
            let Some(slot) = tag.and_then(|t| out.get_mut(t)) else {
                continue;
            };
            if let Some(c) = result.archived_snapshots.closest {
                let status = c.status.parse::<u16>().unwrap_or(0);
                // Re-check: the service has answered other statuses before.
                if c.available != Some(false) && ACCEPTED_STATUS.contains(&status) {
                    *slot = Ok(Some(Capture {
                        url: c.url.replacen(
                            "http://web.archive.org/",
                            "https://web.archive.org/",
                            1,
                        ),
                        timestamp: c.timestamp,
                        status,
                    }));
                }
            }
        }
        out
    }

    /// Submits every URL to Save Page Now 2, one job at a time, pacing by
    /// the account's free capacity; transient errors go to the back of the
    /// queue until `max_attempts`.
    pub async fn save_all(&self, urls: &[String]) -> HashMap<String, SaveOutcome> {
        let mut results = HashMap::new();
        let Some((access, secret)) = self.options.credentials.clone() else {
            for url in urls {
                results.insert(
                    url.clone(),
                    SaveOutcome::Failed(
                        "no credentials: set LINKROT_IA_ACCESS_KEY and LINKROT_IA_SECRET_KEY"
                            .into(),
                    ),
                );
            }
            return results;
        };
        let auth = format!("LOW {access}:{secret}");
        let mut queue: VecDeque<(String, u32)> = urls.iter().map(|u| (u.clone(), 0)).collect();
        while let Some((url, attempts)) = queue.pop_front() {
            if let Err(e) = self.wait_for_capacity(&auth).await {
                results.insert(url, SaveOutcome::Failed(e));
                continue;
            }
            match self.save_one(&url, &auth).await {
                Ok(capture) => {
                    results.insert(url, SaveOutcome::Saved(capture));
                }
                Err((reason, transient))
                    if transient && attempts + 1 < self.options.max_attempts =>
                {
                    tracing::debug!("Save Page Now: {url}: {reason}: retrying later");
                    queue.push_back((url, attempts + 1));
                }
                Err((reason, transient)) => {
                    let reason = if transient {
                        format!("{reason} (gave up after {} attempts)", attempts + 1)
                    } else {
                        reason
                    };
                    results.insert(url, SaveOutcome::Failed(reason));
                }
            }
        }
        results
    }

    /// Waits until `/save/status/user` reports a free capture slot.
    async fn wait_for_capacity(&self, auth: &str) -> Result<(), String> {
        let endpoint = Self::endpoint(&self.options.save_base, "/save/status/user");
        for _ in 0..self.options.max_polls {
            let status = self
                .send("Save Page Now user status", || {
                    self.client
                        .get(&endpoint)
                        .header(reqwest::header::ACCEPT, "application/json")
                        .header(reqwest::header::AUTHORIZATION, auth)
                })
                .await?;
            let status: UserStatus = json(status, "Save Page Now user status").await?;
            if status.available > 0 {
                return Ok(());
            }
            tokio::time::sleep(self.options.poll_interval).await;
        }
        Err("Save Page Now: no free capture slot for the account".into())
    }

    /// One submission and its polling. `Err((reason, transient))`.
    async fn save_one(&self, url: &str, auth: &str) -> Result<Capture, (String, bool)> {
        let endpoint = Self::endpoint(&self.options.save_base, "/save");
        let answer = self
            .send("Save Page Now", || {
                self.client
                    .post(&endpoint)
                    .header(reqwest::header::ACCEPT, "application/json")
                    .header(reqwest::header::AUTHORIZATION, auth)
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(
                        url::form_urlencoded::Serializer::new(String::new())
                            .append_pair("url", url)
                            .finish(),
                    )
            })
            .await
            .map_err(|e| (e, true))?;
        let answer: SaveAnswer = json(answer, "Save Page Now")
            .await
            .map_err(|e| (e, false))?;
        let job = match answer {
            SaveAnswer {
                job_id: Some(job), ..
            } => job,
            other => return Err(spn_error(&other)),
        };
        let status_url = Self::endpoint(&self.options.save_base, &format!("/save/status/{job}"));
        for _ in 0..self.options.max_polls {
            tokio::time::sleep(self.options.poll_interval).await;
            let status = self
                .send("Save Page Now status", || {
                    self.client
                        .get(&status_url)
                        .header(reqwest::header::ACCEPT, "application/json")
                        .header(reqwest::header::AUTHORIZATION, auth)
                })
                .await
                .map_err(|e| (e, true))?;
            let status: SaveAnswer = json(status, "Save Page Now status")
                .await
                .map_err(|e| (e, false))?;
            match status.status.as_deref() {
                Some("pending") => continue,
                Some("success") => {
                    let timestamp = status.timestamp.clone().unwrap_or_default();
                    let original = status
                        .original_url
                        .clone()
                        .unwrap_or_else(|| url.to_string());
                    return Ok(Capture {
                        url: Self::endpoint(
                            &self.options.save_base,
                            &format!("/web/{timestamp}/{original}"),
                        ),
                        timestamp,
                        status: 200,
                    });
                }
                _ => return Err(spn_error(&status)),
            }
        }
        Err((
            format!(
                "Save Page Now: job {job} still pending after {} polls",
                self.options.max_polls
            ),
            true,
        ))
    }
}

/// Reads a JSON answer.
async fn json<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
    what: &str,
) -> Result<T, String> {
    let bytes = response.bytes().await.map_err(|e| format!("{what}: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{what}: unexpected answer: {e}"))
}

/// `(reason, transient)` for an SPN2 error answer.
fn spn_error(answer: &SaveAnswer) -> (String, bool) {
    let kind = answer.status_ext.as_deref().unwrap_or("error:unknown");
    let reason = match &answer.message {
        Some(m) => format!("{kind}: {}", m.trim()),
        None => kind.to_string(),
    };
    (reason, TRANSIENT_ERRORS.contains(&kind))
}

/// A Robust Links anchor (robustlinks.mementoweb.org/spec) for a citation
/// with an archived copy.
pub fn robust_link(original: &str, capture: &Capture) -> String {
    let o = htmlize::escape_attribute(original);
    format!(
        "<a href=\"{o}\" data-originalurl=\"{o}\" data-versionurl=\"{}\" data-versiondate=\"{}\">{}</a>",
        htmlize::escape_attribute(capture.url.as_str()),
        capture.date(),
        htmlize::escape_text(original)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robust_link_snippet() {
        let c = Capture {
            url: "https://web.archive.org/web/20241121100333/https://a.test/?x=1&y=2".into(),
            timestamp: "20241121100333".into(),
            status: 200,
        };
        assert_eq!(
            robust_link("https://a.test/?x=1&y=2", &c),
            "<a href=\"https://a.test/?x=1&amp;y=2\" data-originalurl=\"https://a.test/?x=1&amp;y=2\" data-versionurl=\"https://web.archive.org/web/20241121100333/https://a.test/?x=1&amp;y=2\" data-versiondate=\"2024-11-21\">https://a.test/?x=1&amp;y=2</a>"
        );
    }

    #[test]
    fn transient_errors_are_retried_others_are_not() {
        let a = SaveAnswer {
            status: Some("error".into()),
            status_ext: Some("error:proxy-error".into()),
            message: Some("later".into()),
            ..Default::default()
        };
        assert_eq!(spn_error(&a), ("error:proxy-error: later".into(), true));
        let b = SaveAnswer {
            status_ext: Some("error:not-found".into()),
            ..Default::default()
        };
        assert_eq!(spn_error(&b), ("error:not-found".into(), false));
    }
}
