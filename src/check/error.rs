//! Turning a transport error into a verdict and a one-line cause.
//!
//! reqwest wraps hyper, which wraps io and rustls errors; the useful facts
//! (a DNS failure, a reset, a bad certificate) are several `source()` links
//! down. [`classify`] walks the whole chain.

use std::error::Error as StdError;
use std::io;

use super::Verdict;

/// What a failed request tells us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `dns_error`, `connect_error`, `tls_error`, `timeout` or `http_error`.
    pub verdict: Verdict,
    /// The underlying cause on one line, e.g. `dns error: failed to lookup address`.
    pub message: String,
    /// Worth another attempt: timeouts, resets, a connection closed mid-answer.
    pub retryable: bool,
    /// The failure came after the server had started answering (headers
    /// received or connection established and then dropped): a GET may fare
    /// better than the HEAD that failed.
    pub after_connect: bool,
}

impl Failure {
    /// A failure with no error value behind it.
    pub fn new(verdict: Verdict, message: impl Into<String>) -> Failure {
        Failure {
            verdict,
            message: one_line(&message.into()),
            retryable: false,
            after_connect: false,
        }
    }
}

/// Classifies a reqwest error by walking its source chain.
pub fn classify(err: &reqwest::Error) -> Failure {
    let chain = chain(err);
    let message = cause_text(err);
    let io_kind = chain
        .iter()
        .find_map(|e| e.downcast_ref::<io::Error>().map(|e| e.kind()));
    let tls = chain.iter().any(|e| is_tls(*e));
    let incomplete = chain.iter().any(|e| {
        e.downcast_ref::<hyper::Error>()
            .is_some_and(|h| h.is_incomplete_message())
    });
    let reset = matches!(
        io_kind,
        Some(
            io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe
                | io::ErrorKind::UnexpectedEof
        )
    );
    let (verdict, retryable, after_connect) = if err.is_timeout() {
        (Verdict::Timeout, true, false)
    } else if err.is_dns() {
        (Verdict::DnsError, false, false)
    } else if tls {
        (Verdict::TlsError, false, false)
    } else if err.is_connect() {
        (Verdict::ConnectError, reset, false)
    } else if reset {
        (Verdict::ConnectError, true, true)
    } else if incomplete {
        (Verdict::HttpError, true, true)
    } else {
        // Decode, body and protocol errors: the server answered, badly.
        (Verdict::HttpError, false, true)
    };
    let prefix = match verdict {
        Verdict::DnsError => "dns error",
        Verdict::TlsError => "tls error",
        Verdict::Timeout => "timeout",
        Verdict::ConnectError => "connect error",
        _ => "http error",
    };
    let message = if message.is_empty() {
        prefix.to_string()
    } else if message.to_ascii_lowercase().starts_with(prefix) {
        message
    } else {
        format!("{prefix}: {message}")
    };
    Failure {
        verdict,
        message: one_line(&message),
        retryable,
        after_connect,
    }
}

fn chain<'a>(err: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut out = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        out.push(e);
        // io::Error::source() skips the error it wraps; step into it instead.
        next = match e.downcast_ref::<io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        };
    }
    out
}

fn is_tls(e: &(dyn StdError + 'static)) -> bool {
    e.downcast_ref::<rustls::Error>().is_some()
}

/// The causes below reqwest's own wrapper ("error sending request for url
/// (...)") and hyper-util's ("client error (Connect)"), joined with `: `.
fn cause_text(err: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for e in chain(err).into_iter().skip(1) {
        let text = e.to_string();
        if text.is_empty() || text.starts_with("client error (") {
            continue;
        }
        if parts
            .last()
            .is_some_and(|p| p.contains(&text) || *p == text)
        {
            continue;
        }
        parts.push(text);
    }
    if parts.is_empty() {
        // Nothing underneath: reqwest's own message without the URL.
        let text = err.to_string();
        return match err.url() {
            Some(url) => text.replace(&format!(" for url ({url})"), ""),
            None => text,
        };
    }
    parts.join(": ")
}

/// Collapses whitespace runs (newlines included) to single spaces.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_collapses_newlines() {
        assert_eq!(one_line("a\n  b\r\nc "), "a b c");
    }
}
