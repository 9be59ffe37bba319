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
