//! The checker engine against real loopback servers, through its library API
//! (the API later stages build on). The binary's behaviour is covered by
//! `check_cli.rs`.

mod common;

use std::time::Duration;

use common::{Reply, Routes, TestServer};
use linkrot::check::{CheckOptions, Checker, Verdict};

fn fast() -> CheckOptions {
    CheckOptions {
        host_interval: Duration::ZERO,
        timeout: Duration::from_secs(2),
        connect_timeout: Duration::from_secs(2),
        retry_base_delay: Duration::from_millis(20),
        ..CheckOptions::default()
    }
}

#[tokio::test]
async fn verdicts_for_plain_answers_and_redirects() {
    let server = TestServer::start(
        Routes::new()
            .at("/ok", Reply::html("<p>hi</p>"))
            .at("/gone", Reply::status(410))
            .at("/p301", Reply::redirect(301, "/ok"))
            .at("/t302", Reply::redirect(302, "/ok"))
            .at("/loop-a", Reply::redirect(302, "/loop-b"))
            .at("/loop-b", Reply::redirect(302, "/loop-a"))
            .with("/head405", |req| {
                if req.method == "HEAD" {
                    Reply::status(405)
                } else {
                    Reply::html("get works")
                }
            }),
    );
    let checker = Checker::new(fast()).unwrap();
    let urls = [
        server.url("/ok#frag"),
        server.url("/gone"),
        server.url("/p301"),
        server.url("/t302"),
        server.url("/loop-a"),
        server.url("/head405"),
        "mailto:someone@example.org".to_string(),
    ];
    let results = checker.check_all(&urls).await;
    let verdicts: Vec<Verdict> = results.iter().map(|r| r.verdict).collect();
    assert_eq!(
        verdicts,
        [
            Verdict::Ok,
            Verdict::Broken,
            Verdict::Moved,
            Verdict::Redirected,
            Verdict::RedirectLoop,
            Verdict::Ok,
            Verdict::UnsupportedScheme,
        ]
    );
    // The fragment is not sent, but the result keeps the URL as given.
    assert_eq!(results[0].url, urls[0]);
    assert_eq!(results[0].method, Some("HEAD"));
    let moved = &results[2];
    assert_eq!(moved.chain.len(), 2);
    assert_eq!(moved.chain[0].status, 301);
    assert_eq!(moved.chain[0].location.as_deref(), Some("/ok"));
    assert_eq!(
        moved.chain[0].resolved.as_deref(),
        Some(server.url("/ok").as_str())
    );
    assert_eq!(moved.chain[0].remote_addr, Some(server.addr));
    assert_eq!(moved.final_url.as_deref(), Some(server.url("/ok").as_str()));
    let fallback = &results[5];
    assert_eq!(fallback.method, Some("GET"));
    assert_eq!(fallback.body_prefix.as_deref(), Some(&b"get works"[..]));
    assert_eq!(server.hits_with("GET", "/head405"), 1);
}

fn head_405_then(get: Reply) -> impl Fn(&common::Request) -> Reply + Send + Sync + 'static {
    move |req| {
        if req.method == "HEAD" {
            Reply::status(405)
        } else {
            get.clone()
        }
    }
}

#[tokio::test]
async fn every_redirect_code_and_long_chains() {
    let server = TestServer::start(
        Routes::new()
            .at("/ok", Reply::html("ok"))
            .at("/r301", Reply::redirect(301, "/ok"))
            .at("/r302", Reply::redirect(302, "/ok"))
            .at("/r303", Reply::redirect(303, "/ok"))
            .at("/r307", Reply::redirect(307, "/ok"))
            .at("/r308", Reply::redirect(308, "/ok"))
            // Relative, scheme-relative and absolute Locations.
            .at("/c1", Reply::redirect(302, "c2"))
            .with("/c2", |req| {
                let host = req.header("host").unwrap_or_default().to_string();
                Reply::redirect(307, &format!("//{host}/c3?q=1"))
            })
            .with("/c3", |req| {
                let host = req.header("host").unwrap_or_default().to_string();
                Reply::redirect(308, &format!("http://{host}/ok"))
            })
            .at("/to-mailto", Reply::redirect(302, "mailto:x@y.test"))
            .fallback(|req| {
                // /hop/N redirects to /hop/N+1 until 25, then to /ok.
                let n: usize = req
                    .path
                    .strip_prefix("/hop/")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(usize::MAX);
                match n {
                    usize::MAX => Reply::status(404),
                    25.. => Reply::redirect(302, "/ok"),
                    n => Reply::redirect(302, &format!("/hop/{}", n + 1)),
                }
            }),
    );
    let checker = Checker::new(fast()).unwrap();
    let urls: Vec<String> = [
        "/r301",
        "/r302",
        "/r303",
        "/r307",
        "/r308",
        "/c1",
        "/hop/1",
        "/to-mailto",
    ]
    .iter()
    .map(|p| server.url(p))
    .collect();
    let results = checker.check_all(&urls).await;
    let verdicts: Vec<Verdict> = results.iter().map(|r| r.verdict).collect();
    assert_eq!(
        verdicts,
        [
            Verdict::Moved,
            Verdict::Redirected,
            Verdict::Redirected,
            Verdict::Redirected,
            Verdict::Moved,
            Verdict::Moved,
            Verdict::TooManyRedirects,
            Verdict::HttpError,
        ]
    );
    let chain = &results[5];
    assert_eq!(
        chain.chain_text(),
        format!(
            "302 {} -> 307 {} -> 308 {} -> 200 {}",
            server.url("/c1"),
            server.url("/c2"),
            server.url("/c3?q=1"),
            server.url("/ok")
        )
    );
    assert_eq!(chain.redirects(), 3);
    // Ten redirects followed, the eleventh refused.
    assert_eq!(results[6].chain.len(), 11);
    assert!(
        results[6]
            .error
            .as_deref()
            .unwrap()
            .contains("more than 10 redirects")
    );
    assert!(
        results[7]
            .error
            .as_deref()
            .unwrap()
            .contains("unsupported scheme"),
        "{:?}",
        results[7].error
    );

    // With room for 30 redirects, the 25-hop chain ends at /ok.
    let patient = Checker::new(CheckOptions {
        max_redirects: 30,
        ..fast()
    })
    .unwrap();
    let long = patient.check(&server.url("/hop/1")).await;
    assert_eq!(long.verdict, Verdict::Redirected);
    assert_eq!(long.redirects(), 25);
}

#[tokio::test]
async fn fallbacks_retries_and_server_verdicts() {
    let server = TestServer::start(
        Routes::new()
            .with("/head404", |req| {
                if req.method == "HEAD" {
                    Reply::status(404)
                } else {
                    Reply::html("fine")
                }
            })
            .with("/flaky", |req| {
                // HEAD and GET of the first attempt fail, the retry works.
                if req.seen_before < 2 {
                    Reply::status(503)
                } else {
                    Reply::html("back")
                }
            })
            .at("/always500", Reply::status(500))
            .at("/forbidden", Reply::status(403))
            .at("/missing", Reply::status(404)),
    );
    let checker = Checker::new(fast()).unwrap();
    let urls: Vec<String> = ["/head404", "/flaky", "/always500", "/forbidden", "/missing"]
        .iter()
        .map(|p| server.url(p))
        .collect();
    let r = checker.check_all(&urls).await;
    assert_eq!(r[0].verdict, Verdict::Ok);
    assert_eq!(r[0].method, Some("GET"));
    assert_eq!(r[0].attempts, 1);
    assert_eq!(r[1].verdict, Verdict::Ok);
    assert_eq!(r[1].attempts, 2);
    assert_eq!(r[2].verdict, Verdict::ServerError);
    assert_eq!(r[2].attempts, 3);
    assert_eq!(r[2].error.as_deref(), Some("500 Internal Server Error"));
    // Three attempts, each a HEAD and a GET.
    assert_eq!(server.hits("/always500"), 6);
    assert_eq!(r[3].verdict, Verdict::Blocked);
    assert_eq!(r[4].verdict, Verdict::Broken);
}

#[tokio::test]
async fn retry_after_is_honoured_and_slows_the_host_down() {
    let server = TestServer::start(Routes::new().with("/rate", |req| {
        if req.seen_before == 0 {
            Reply::status(429).with_header("Retry-After", "1")
        } else {
            Reply::html("ok now")
        }
    }));
    let checker = Checker::new(fast()).unwrap();
    let started = std::time::Instant::now();
    let r = checker.check(&server.url("/rate")).await;
    assert_eq!(r.verdict, Verdict::Ok);
    assert_eq!(r.attempts, 2);
    assert!(started.elapsed() >= Duration::from_secs(1));
    // No GET was piled onto the 429.
    assert_eq!(server.hits_with("GET", "/rate"), 0);
    assert_eq!(
        checker.limits().interval("127.0.0.1"),
        Duration::from_secs(1)
    );

    // A Retry-After beyond --max-retry-after ends the retries at once.
    let server = TestServer::start(Routes::new().at(
        "/later",
        Reply::status(503).with_header("Retry-After", "3600"),
    ));
    let r = checker.check(&server.url("/later")).await;
    assert_eq!(r.verdict, Verdict::ServerError);
    assert_eq!(r.attempts, 1);
    assert!(r.error.as_deref().unwrap().contains("--max-retry-after"));
}

#[tokio::test]
async fn transport_failures_get_their_own_verdicts() {
    let huge = vec![b'x'; 4 * 1024 * 1024];
    let gzipped = {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"<title>compressed page</title>").unwrap();
        enc.finish().unwrap()
    };
    let server = TestServer::start(
        Routes::new()
            .at("/hang", Reply::Hang)
            .at("/reset", Reply::Reset)
            .at(
                "/garbage",
                Reply::Raw(b"SSH-2.0-OpenSSH_9.6\r\n\r\n".to_vec()),
            )
            .with(
                "/trickle",
                head_405_then(Reply::Trickle {
                    status: 200,
                    headers: vec![("content-type".into(), "text/html".into())],
                    chunk: b"x".to_vec(),
                    chunks: 100,
                    interval: Duration::from_millis(100),
                }),
            )
            .with("/huge", head_405_then(Reply::body(200, "text/plain", huge)))
            .with(
                "/gzip",
                head_405_then(
                    Reply::body(200, "text/html", gzipped).with_header("Content-Encoding", "gzip"),
                ),
            ),
    );
    let checker = Checker::new(CheckOptions {
        timeout: Duration::from_secs(1),
        retries: 1,
        ..fast()
    })
    .unwrap();
    let urls: Vec<String> = ["/hang", "/reset", "/garbage", "/trickle", "/huge", "/gzip"]
        .iter()
        .map(|p| server.url(p))
        .chain(["http://nothing-here.invalid/".to_string()])
        .collect();
    let started = std::time::Instant::now();
    let r = checker.check_all(&urls).await;
    let verdicts: Vec<Verdict> = r.iter().map(|r| r.verdict).collect();
    assert_eq!(
        verdicts,
        [
            Verdict::Timeout,
            Verdict::ConnectError,
            Verdict::HttpError,
            Verdict::Timeout,
            Verdict::Ok,
            Verdict::Ok,
            Verdict::DnsError,
        ],
        "{r:#?}"
    );
    // Timeouts and resets are retried once; DNS failures are not.
    assert_eq!(r[0].attempts, 2);
    assert_eq!(r[1].attempts, 2);
    assert_eq!(r[6].attempts, 1);
    assert!(r[0].error.as_deref().unwrap().starts_with("timeout"));
    assert!(
        r[6].error.as_deref().unwrap().starts_with("dns error"),
        "{:?}",
        r[6].error
    );
    // The trickle was cut at the timeout: headers came, the body never ended.
    assert_eq!(r[3].status, Some(200));
    // The huge body was read only up to the limit.
    assert_eq!(r[4].body_prefix.as_ref().map(|b| b.len()), Some(64 * 1024));
    assert_eq!(r[4].content_length, Some(4 * 1024 * 1024));
    // The gzip body arrives decoded.
    assert_eq!(
        r[5].body_prefix.as_deref(),
        Some(&b"<title>compressed page</title>"[..])
    );
    // Two 1 s attempts at the hang and the trickle, run side by side.
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn self_signed_certificates_fail_unless_insecure() {
    let server = TestServer::start_tls(Routes::new().at("/ok", Reply::html("secret")), &[]);
    let url = format!("https://localhost:{}/ok", server.port());
    let strict = Checker::new(fast()).unwrap().check(&url).await;
    assert_eq!(strict.verdict, Verdict::TlsError, "{:?}", strict.error);
    assert!(
        strict.error.as_deref().unwrap().starts_with("tls error"),
        "{:?}",
        strict.error
    );
    assert!(!strict.insecure);
    let lax = Checker::new(CheckOptions {
        insecure: true,
        ..fast()
    })
    .unwrap()
    .check(&url)
    .await;
    assert_eq!(lax.verdict, Verdict::Ok);
    assert!(lax.insecure);
}

/// Runs `per_host` URLs on each of `hosts` made-up host names (all of one
/// host's URLs first) and returns the server's peaks.
async fn run_many_hosts(
    hosts: usize,
    per_host: usize,
    global: usize,
    host_concurrency: usize,
) -> (std::collections::HashMap<String, usize>, usize) {
    let server = TestServer::start(
        Routes::new().fallback(|_| Reply::html("slow").with_delay(Duration::from_millis(40))),
    );
    let names: Vec<String> = (0..hosts).map(|i| format!("h{i}.test")).collect();
    let checker = Checker::new(CheckOptions {
        max_concurrency: global,
        host_concurrency,
        resolve: names
            .iter()
            .map(|h| server.resolve_arg(h).parse().unwrap())
            .collect(),
        ..fast()
    })
    .unwrap();
    let urls: Vec<String> = names
        .iter()
        .flat_map(|h| (0..per_host).map(move |i| (h.clone(), i)))
        .map(|(h, i)| server.url_for_host(&h, &format!("/p{i}")))
        .collect();
    let results = checker.check_all(&urls).await;
    assert!(results.iter().all(|r| r.verdict == Verdict::Ok));
    (server.peak_per_host(), server.peak_total())
}

#[tokio::test]
async fn host_limits_hold_across_many_made_up_hosts() {
    // The per-host limit binds: every host runs exactly 3 at once, and the
    // hosts run side by side although the input lists them one after another.
    let (peaks, total) = run_many_hosts(3, 12, 100, 3).await;
    assert_eq!(peaks.len(), 3);
    assert!(peaks.values().all(|&p| p == 3), "{peaks:?}");
    assert_eq!(total, 9);
    // The global limit binds: never more than 10 at once over 12 hosts.
    let (peaks, total) = run_many_hosts(12, 8, 10, 3).await;
    assert_eq!(peaks.len(), 12);
    assert!(peaks.values().all(|&p| p <= 3), "{peaks:?}");
    assert_eq!(total, 10);
}

#[tokio::test]
async fn host_headers_never_leak_to_other_hosts() {
    let server = TestServer::start(Routes::new().fallback(|req| {
        if req.host() == "a.test" {
            let port = req
                .header("host")
                .unwrap()
                .rsplit(':')
                .next()
                .unwrap()
                .to_string();
            Reply::redirect(302, &format!("http://b.test:{port}/landing"))
        } else {
            Reply::html("b")
        }
    }));
    let checker = Checker::new(CheckOptions {
        resolve: vec![
            server.resolve_arg("a.test").parse().unwrap(),
            server.resolve_arg("b.test").parse().unwrap(),
        ],
        headers: vec![linkrot::check::parse_header("X-Everyone: yes").unwrap()],
        host_headers: vec![linkrot::check::parse_host_header("A.test", "X-Token: secret").unwrap()],
        ..fast()
    })
    .unwrap();
    let r = checker
        .check(&server.url_for_host("a.test", "/start"))
        .await;
    assert_eq!(r.verdict, Verdict::Redirected);
    let requests = server.requests();
    assert!(!requests.is_empty());
    for req in &requests {
        assert_eq!(req.header("x-everyone"), Some("yes"));
        assert_eq!(
            req.header("user-agent"),
            Some(linkrot::check::DEFAULT_USER_AGENT)
        );
        let expected = (req.host() == "a.test").then_some("secret");
        assert_eq!(
            req.header("x-token"),
            expected,
            "{} {}",
            req.host(),
            req.target
        );
    }
    assert!(requests.iter().any(|r| r.host() == "b.test"));
}
