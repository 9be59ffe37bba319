//! The Internet Archive client against a local server speaking the
//! documented JSON: availability lookups (found, found only after, not
//! found, wrong status, server errors) and Save Page Now 2 (jobs pending
//! then done, transient and permanent errors, pacing by user status).

mod common;

use std::time::Duration;

use common::{Reply, Request, Routes, TestServer};
use jiff::civil::date;
use linkrot::archive::wayback::{Capture, SaveOutcome, WaybackClient, WaybackOptions};

fn json(body: serde_json::Value) -> Reply {
    Reply::body(200, "application/json", body.to_string())
}

fn closest(url: &str, ts: &str, status: &str) -> serde_json::Value {
    serde_json::json!({"closest": {
        "available": true,
        "url": format!("http://web.archive.org/web/{ts}/{url}"),
        "timestamp": ts,
        "status": status,
    }})
}

/// Answers availability batches: each line `url=…&timestamp=…&closest=…&tag=…`.
fn availability(req: &Request) -> Reply {
    assert_eq!(req.method, "POST");
    assert_eq!(req.header("wayback-api-version"), Some("2"));
    let body = String::from_utf8(req.body.clone()).unwrap();
    let mut results = Vec::new();
    for line in body.lines() {
        let q: Vec<(String, String)> = url::form_urlencoded::parse(line.as_bytes())
            .into_owned()
            .collect();
        let get = |k: &str| {
            q.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let statuses: Vec<String> = q
            .iter()
            .filter(|(n, _)| n == "statuscodes")
            .map(|(_, v)| v.clone())
            .collect();
        assert_eq!(statuses, ["200", "203", "206"]);
        let url = get("url");
        let before = get("closest") == "before";
        let snapshots = match (url.as_str(), before) {
            ("https://gone.test/old", true) => {
                assert_eq!(get("timestamp"), "20220503235959");
                closest(&url, "20220430101010", "200")
            }
            ("https://gone.test/after-only", false) => closest(&url, "20250101000000", "203"),
            ("https://gone.test/only-404", _) => closest(&url, "20200101000000", "404"),
            _ => serde_json::json!({}),
        };
        results.push(serde_json::json!({"tag": get("tag"), "archived_snapshots": snapshots}));
    }
    json(serde_json::json!({ "results": results }))
}

fn options(server: &TestServer) -> WaybackOptions {
    let mut o = WaybackOptions::new(Some(server.url("/").parse().unwrap()));
    o.poll_interval = Duration::from_millis(10);
    o.max_polls = 5;
    o
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

#[test]
fn lookup_prefers_before_then_after_and_accepts_only_200_203_206() {
    let server = TestServer::start(Routes::new().with("/wayback/available", availability));
    let client = WaybackClient::new(options(&server)).unwrap();
    let queries = vec![
        ("https://gone.test/old".to_string(), date(2022, 5, 3)),
        (
            "https://gone.test/after-only".to_string(),
            date(2024, 10, 17),
        ),
        ("https://gone.test/never".to_string(), date(2024, 10, 17)),
        ("https://gone.test/only-404".to_string(), date(2024, 10, 17)),
    ];
    let answers = runtime().block_on(client.lookup(&queries));
    assert_eq!(
        answers[0],
        Ok(Some(Capture {
            url: "https://web.archive.org/web/20220430101010/https://gone.test/old".into(),
            timestamp: "20220430101010".into(),
            status: 200,
        }))
    );
    assert_eq!(
        answers[1].as_ref().unwrap().as_ref().unwrap().timestamp,
        "20250101000000"
    );
    assert_eq!(answers[2], Ok(None));
    assert_eq!(answers[3], Ok(None), "a 404 capture is not accepted");
    // One batch before, one batch after for the three not found before.
    assert_eq!(server.hits("/wayback/available"), 2);
}

#[test]
fn lookup_retries_server_errors_and_reports_persistent_ones() {
    let flaky = TestServer::start(Routes::new().with("/wayback/available", |req| {
        if req.seen_before < 2 {
            Reply::status(503)
        } else {
            availability(req)
        }
    }));
    let client = WaybackClient::new(options(&flaky)).unwrap();
    let answers = runtime()
        .block_on(client.lookup(&[("https://gone.test/old".to_string(), date(2022, 5, 3))]));
    assert!(matches!(&answers[0], Ok(Some(c)) if c.timestamp == "20220430101010"));
    assert_eq!(flaky.hits("/wayback/available"), 3);

    let down = TestServer::start(Routes::new().at("/wayback/available", Reply::status(500)));
    let client = WaybackClient::new(options(&down)).unwrap();
    let answers = runtime()
        .block_on(client.lookup(&[("https://gone.test/old".to_string(), date(2022, 5, 3))]));
    assert_eq!(
        answers[0],
        Err("Wayback availability: HTTP 500".to_string())
    );

    let garbage = TestServer::start(Routes::new().at(
        "/wayback/available",
        Reply::html("<html>maintenance</html>"),
    ));
    let client = WaybackClient::new(options(&garbage)).unwrap();
    let answers = runtime()
        .block_on(client.lookup(&[("https://gone.test/old".to_string(), date(2022, 5, 3))]));
    assert!(
        answers[0]
            .as_ref()
            .unwrap_err()
            .contains("unexpected answer"),
        "{answers:?}"
    );
}

fn spn_server() -> TestServer {
    TestServer::start(
        Routes::new()
            .with("/save/status/user", |req| {
                assert_eq!(req.header("authorization"), Some("LOW key:secret"));
                // The account is busy at first: the client must wait.
                let available = if req.seen_before == 0 { 0 } else { 2 };
                json(serde_json::json!({
                    "available": available, "processing": 1,
                    "daily_captures": 10, "daily_captures_limit": 100000
                }))
            })
            .with("/save", |req| {
                assert_eq!(req.method, "POST");
                assert_eq!(req.header("accept"), Some("application/json"));
                assert_eq!(req.header("authorization"), Some("LOW key:secret"));
                let body = String::from_utf8(req.body.clone()).unwrap();
                let url: String = url::form_urlencoded::parse(body.as_bytes())
                    .find(|(k, _)| k == "url")
                    .unwrap()
                    .1
                    .into_owned();
                let job = match url.as_str() {
                    "https://live.test/ok" => "job-ok",
                    "https://live.test/flaky" => "job-flaky",
                    "https://live.test/always-busy" => {
                        return json(serde_json::json!({
                            "status": "error",
                            "status_ext": "error:user-session-limit",
                            "message": "You have already reached the limit of active sessions."
                        }));
                    }
                    _ => {
                        return json(serde_json::json!({
                            "status": "error",
                            "status_ext": "error:invalid-url-syntax",
                            "message": "Invalid URL syntax."
                        }));
                    }
                };
                json(serde_json::json!({"url": url, "job_id": job}))
            })
            .with("/save/status/job-ok", |req| {
                if req.seen_before < 2 {
                    json(serde_json::json!({"status": "pending"}))
                } else {
                    json(serde_json::json!({
                        "status": "success",
                        "original_url": "https://live.test/ok",
                        "timestamp": "20261128031500",
                        "duration_sec": 6.2
                    }))
                }
            })
            .with("/save/status/job-flaky", |req| {
                if req.seen_before == 0 {
                    json(serde_json::json!({
                        "status": "error",
                        "status_ext": "error:proxy-error",
                        "message": "proxy failed"
                    }))
                } else {
                    json(serde_json::json!({
                        "status": "success",
                        "original_url": "https://live.test/flaky",
                        "timestamp": "20261128031600"
                    }))
                }
            }),
    )
}

#[test]
fn save_polls_pending_jobs_retries_transient_errors_and_gives_up_on_others() {
    let server = spn_server();
    let mut o = options(&server);
    o.credentials = Some(("key".into(), "secret".into()));
    let client = WaybackClient::new(o).unwrap();
    let urls: Vec<String> = [
        "https://live.test/ok",
        "https://live.test/flaky",
        "https://live.test/always-busy",
        "https://live.test/bad%",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let results = runtime().block_on(client.save_all(&urls));
    assert_eq!(
        results[&urls[0]],
        SaveOutcome::Saved(Capture {
            url: format!("{}web/20261128031500/https://live.test/ok", server.url("/")),
            timestamp: "20261128031500".into(),
            status: 200,
        })
    );
    assert!(
        matches!(&results[&urls[1]], SaveOutcome::Saved(c) if c.timestamp == "20261128031600"),
        "{:?}",
        results[&urls[1]]
    );
    assert_eq!(
        results[&urls[2]],
        SaveOutcome::Failed(
            "error:user-session-limit: You have already reached the limit of active sessions. (gave up after 3 attempts)".into()
        )
    );
    assert_eq!(
        results[&urls[3]],
        SaveOutcome::Failed("error:invalid-url-syntax: Invalid URL syntax.".into())
    );
    assert_eq!(
        server.hits("/save/status/job-ok"),
        3,
        "polled until success"
    );
    assert_eq!(server.hits("/save/status/job-flaky"), 2);
    // ok, flaky twice, always-busy three times, bad once.
    assert_eq!(server.hits("/save"), 7);
    // Paced: one user-status call per submission, plus the busy first one.
    assert_eq!(server.hits("/save/status/user"), 8);
}

#[test]
fn save_without_credentials_says_which_variables_to_set() {
    let server = spn_server();
    let client = WaybackClient::new(options(&server)).unwrap();
    let urls = vec!["https://live.test/ok".to_string()];
    let results = runtime().block_on(client.save_all(&urls));
    assert_eq!(
        results[&urls[0]],
        SaveOutcome::Failed(
            "no credentials: set LINKROT_IA_ACCESS_KEY and LINKROT_IA_SECRET_KEY".into()
        )
    );
    assert_eq!(server.hits("/save"), 0);
}
