//! Rot that status codes hide (issue 6), against real loopback servers
//! through the checker's library API: soft 404s, redirects to the front
//! page, error and login pages, parked domains, bot walls, drift and
//! fragments.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use common::{Reply, Routes, TestServer};
use linkrot::check::assess::ContentOptions;
use linkrot::check::inspect::ContentChecks;
use linkrot::check::{CheckOptions, CheckResult, Checker, Fingerprint, Verdict};

fn fast() -> CheckOptions {
    CheckOptions {
        host_interval: Duration::ZERO,
        timeout: Duration::from_secs(2),
        connect_timeout: Duration::from_secs(2),
        retry_base_delay: Duration::from_millis(20),
        retries: 0,
        ..CheckOptions::default()
    }
}

fn checker_with(content: ContentChecks) -> Checker {
    Checker::new(fast()).unwrap().with_content_checks(content)
}

fn checker() -> Checker {
    checker_with(ContentChecks::new(ContentOptions::default()))
}

fn summary(r: &CheckResult) -> (Verdict, String) {
    (r.verdict, r.reason_text(None))
}

/// Requests whose last path segment is 25 lowercase letters: probes.
fn probes(server: &TestServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .map(|r| r.path.clone())
        .filter(|p| {
            let last = p.trim_end_matches('/').rsplit('/').next().unwrap_or("");
            let stem = last.split('.').next().unwrap_or("");
            stem.len() == 25 && stem.bytes().all(|b| b.is_ascii_lowercase())
        })
        .collect()
}

/// Deterministic varied prose, so generated pages differ from each other.
fn prose(words: usize, seed: u64) -> String {
    const VOCAB: &[&str] = &[
        "report",
        "council",
        "water",
        "resolution",
        "member",
        "states",
        "security",
        "general",
        "assembly",
        "human",
        "rights",
        "climate",
        "refugees",
        "budget",
        "peace",
        "mission",
        "annex",
        "session",
        "agenda",
        "item",
        "draft",
        "text",
        "meeting",
        "letter",
        "permanent",
        "representative",
        "delegation",
        "committee",
        "the",
        "of",
        "and",
        "to",
        "in",
        "a",
        "on",
        "for",
        "was",
        "with",
        "by",
        "that",
        "children",
        "health",
        "food",
        "energy",
        "trade",
        "women",
        "law",
        "court",
        "sea",
        "ocean",
        "forest",
        "city",
        "school",
        "debt",
        "aid",
    ];
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..words)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            VOCAB[(x % VOCAB.len() as u64) as usize]
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A page with the site's shared chrome around its own text.
fn site_page(title: &str, text: &str) -> String {
    format!(
        "<!doctype html><html><head><title>{title} | Example Institute</title></head><body>\
         <header><a href=/>Example Institute</a> <form><input name=q> Search</form></header>\
         <nav><a href=/about>About us</a> <a href=/news>News</a> <a href=/reports>Reports</a></nav>\
         <main><h1>{title}</h1><p>{text}</p></main>\
         <footer>Example Institute, 1 Main Street. Contact. Privacy. Terms of use.</footer>\
         </body></html>"
    )
}

const SOFT_NOT_FOUND: &str = "<!doctype html><title>Example Institute</title>\
    <h1>Oops</h1><p>We looked everywhere for PATH but could not find anything. \
    It may have moved during our redesign. Try the search box or browse the site map.</p>";

#[tokio::test]
async fn a_host_answering_200_to_every_path_gives_soft_404s_and_is_probed_once() {
    let server = TestServer::start(
        Routes::new().fallback(|req| Reply::html(&SOFT_NOT_FOUND.replace("PATH", &req.path))),
    );
    let urls = [
        server.url("/reports/2019/annual-report"),
        server.url("/reports/2019/budget-annex"),
        server.url("/"),
    ];
    let results = checker().check_all(&urls).await;
    assert_eq!(
        summary(&results[0]),
        (Verdict::Soft404, "same_as_random_probe".into())
    );
    assert_eq!(
        summary(&results[1]),
        (Verdict::Soft404, "same_as_random_probe".into())
    );
    // The front page is never a soft 404.
    assert_eq!(summary(&results[2]), (Verdict::Ok, String::new()));
    let sent = probes(&server);
    assert_eq!(sent.len(), 1, "one probe per host and directory: {sent:?}");
    assert!(sent[0].starts_with("/reports/2019/"), "{sent:?}");
}

#[tokio::test]
async fn no_probe_sends_no_probe() {
    let server = TestServer::start(
        Routes::new().fallback(|req| Reply::html(&SOFT_NOT_FOUND.replace("PATH", &req.path))),
    );
    let content = ContentChecks::new(ContentOptions {
        probe: false,
        ..ContentOptions::default()
    });
    let results = checker_with(content)
        .check_all(&[server.url("/reports/2019/annual-report")])
        .await;
    assert_eq!(summary(&results[0]), (Verdict::Ok, String::new()));
    assert!(probes(&server).is_empty());
}

#[tokio::test]
async fn redirects_to_root_error_and_login_pages() {
    let server = TestServer::start(
        Routes::new()
            .at("/", Reply::html(&site_page("Welcome", &prose(80, 1))))
            .at("/old/report", Reply::redirect(301, "/"))
            .at("/old/annex", Reply::redirect(302, "/404.html"))
            .at(
                "/404.html",
                Reply::html("<title>Missing</title><p>Gone.</p>"),
            )
            .at(
                "/members/minutes",
                Reply::redirect(302, "/login?returnUrl=%2Fmembers%2Fminutes"),
            )
            .at(
                "/login",
                Reply::html("<title>Sign in</title><form><input name=user></form>"),
            ),
    );
    let results = checker()
        .check_all(&[
            server.url("/old/report"),
            server.url("/old/annex"),
            server.url("/members/minutes"),
        ])
        .await;
    assert_eq!(
        summary(&results[0]),
        (Verdict::Soft404, "redirect_to_root".into())
    );
    assert_eq!(
        summary(&results[1]),
        (Verdict::Soft404, "redirect_to_error_page".into())
    );
    assert_eq!(
        summary(&results[2]),
        (Verdict::Blocked, "login_required".into())
    );
    // Decided by where the chain ended: no probe needed.
    assert!(probes(&server).is_empty());
}

#[tokio::test]
async fn parked_domains() {
    let server = TestServer::start(
        Routes::new()
            .at(
                "/",
                Reply::html(
                    "<title>old-ngo.org</title><h1>This domain may be for sale!</h1>\
                     <p>Related searches: water, climate, peace.</p>",
                ),
            )
            .at("/publications/report.pdf", Reply::redirect(302, "/"))
            .at(
                "/ads",
                Reply::html("<p>Sponsored listings</p>").with_header("x-adblock-key", "MFwwDQYJ"),
            ),
    );
    let results = checker()
        .check_all(&[server.url("/publications/report.pdf"), server.url("/ads")])
        .await;
    assert_eq!(
        summary(&results[0]),
        (Verdict::Parked, "redirect_to_root;domain_for_sale".into())
    );
    assert_eq!(
        summary(&results[1]),
        (Verdict::Parked, "parking_service".into())
    );
}

const CF_CHALLENGE: &str = r#"<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="refresh" content="390"></head><body><noscript>Enable JavaScript and cookies to continue</noscript>
<script>(function(){window._cf_chl_opt={cvId: '3',cZone: "example.org",cType: 'managed'};
var a=document.createElement('script');a.src='/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1?ray=8';
document.getElementsByTagName('head')[0].appendChild(a);}());</script></body></html>"#;

#[tokio::test]
async fn cloudflare_challenges_are_blocked_never_broken() {
    let server = TestServer::start(
        Routes::new()
            .at(
                "/a/forbidden",
                Reply::body(403, "text/html; charset=UTF-8", CF_CHALLENGE)
                    .with_header("server", "cloudflare")
                    .with_header("cf-mitigated", "challenge"),
            )
            .at("/a/ok-status", Reply::html(CF_CHALLENGE))
            .at(
                "/a/unavailable",
                Reply::body(503, "text/html", CF_CHALLENGE).with_header("server", "cloudflare"),
            ),
    );
    let results = checker()
        .check_all(&[
            server.url("/a/forbidden"),
            server.url("/a/ok-status"),
            server.url("/a/unavailable"),
        ])
        .await;
    for r in &results {
        assert_eq!(
            summary(r),
            (Verdict::Blocked, "cloudflare_challenge".into()),
            "{}",
            r.url
        );
    }
}

#[tokio::test]
async fn a_real_page_on_an_honest_host_stays_ok() {
    let server = TestServer::start(Routes::new().at(
        "/docs/guide",
        Reply::html(&site_page("Guide", &prose(200, 2))),
    ));
    let results = checker().check_all(&[server.url("/docs/guide")]).await;
    let r = &results[0];
    assert_eq!(summary(r), (Verdict::Ok, String::new()));
    assert!(r.fingerprint.is_some());
    // The probe went out once and got the honest 404.
    assert_eq!(probes(&server).len(), 1);
}

#[tokio::test]
async fn content_checks_send_one_get_instead_of_head_then_get() {
    let server = TestServer::start(Routes::new().at(
        "/docs/guide",
        Reply::html(&site_page("Guide", &prose(50, 3))),
    ));
    let url = server.url("/docs/guide");
    let off = ContentChecks::new(ContentOptions {
        enabled: false,
        ..ContentOptions::default()
    });
    let r = checker_with(off)
        .check_all(std::slice::from_ref(&url))
        .await;
    assert_eq!(r[0].verdict, Verdict::Ok);
    assert_eq!(r[0].method, Some("HEAD"));
    assert_eq!(server.hits_with("GET", "/docs/guide"), 0);
    assert!(probes(&server).is_empty());
    let r = checker().check_all(&[url]).await;
    assert_eq!(r[0].verdict, Verdict::Ok);
    assert_eq!(r[0].method, Some("GET"));
    // The body is needed: one GET, no HEAD before it.
    assert_eq!(server.hits_with("GET", "/docs/guide"), 1);
    assert_eq!(
        server.hits_with("HEAD", "/docs/guide"),
        1,
        "only the first run's"
    );
}

#[tokio::test]
async fn drift_between_runs_is_flagged_but_a_changed_date_is_not() {
    let rewritten_text = prose(300, 11);
    let server = TestServer::start(
        Routes::new()
            .with("/news/story", move |req| {
                // The story is rewritten after the first run (one GET).
                let text = if req.seen_before < 1 {
                    prose(300, 10)
                } else {
                    rewritten_text.clone()
                };
                Reply::html(&site_page("Story", &text))
            })
            .with("/news/daily", |req| {
                let date = format!(
                    "Updated {} November 2026, 10:{:02}",
                    20 + req.seen_before,
                    req.seen_before
                );
                Reply::html(&site_page("Daily", &format!("{date}. {}", prose(300, 12))))
            }),
    );
    let urls = [server.url("/news/story"), server.url("/news/daily")];
    let first = checker().check_all(&urls).await;
    for r in &first {
        assert_eq!(summary(r), (Verdict::Ok, String::new()), "{}", r.url);
        assert_eq!(r.drift, None, "no earlier fingerprint");
    }
    let previous: HashMap<String, Fingerprint> = first
        .iter()
        .map(|r| (r.url.clone(), r.fingerprint.expect("fingerprint")))
        .collect();
    let mut content = ContentChecks::new(ContentOptions::default());
    content.previous = previous;
    let second = checker_with(content).check_all(&urls).await;
    assert_eq!(summary(&second[0]), (Verdict::Ok, "drifted".into()));
    assert!(second[0].drift.unwrap() > 0.4, "{:?}", second[0].drift);
    assert_eq!(summary(&second[1]), (Verdict::Ok, String::new()));
    assert_eq!(second[1].drift, Some(0.0));
}

#[tokio::test]
async fn fragments_present_and_missing() {
    let server = TestServer::start(Routes::new().at(
        "/docs/page",
        Reply::html(
            "<title>Doc</title><h2 id=findings>Findings</h2><a name=annex></a><p>Text of the page.</p>",
        ),
    ));
    let url = server.url("/docs/page");
    let mut content = ContentChecks::new(ContentOptions {
        fragments: true,
        ..ContentOptions::default()
    });
    content.fragments.insert(
        url.clone(),
        vec!["findings".into(), "annex".into(), "conclusions".into()],
    );
    let r = &checker_with(content).check_all(&[url]).await[0];
    assert_eq!(r.verdict, Verdict::Ok);
    assert_eq!(r.missing_fragments, ["conclusions"]);
    assert_eq!(r.reason_text(Some("conclusions")), "missing_fragment");
    assert_eq!(r.reason_text(Some("findings")), "");
    assert_eq!(r.reason_text(None), "");
}

const TITLES: &[&str] = &[
    "Page not found",
    "Page introuvable",
    "Página no encontrada",
    "Страница не найдена",
    "الصفحة غير موجودة",
    "页面不存在",
];

#[tokio::test]
async fn multilingual_not_found_titles() {
    // An honest host: the title alone is a reason on an ok row.
    let mut routes = Routes::new();
    for (i, t) in TITLES.iter().enumerate() {
        routes = routes.at(
            &format!("/lang{i}/page"),
            Reply::html(&format!("<title>{t}</title><p>{}</p>", prose(60, i as u64))),
        );
    }
    let honest = TestServer::start(routes);
    // A host answering 200 everywhere: the title plus that is a soft 404.
    let soft = TestServer::start(Routes::new().fallback(|req| {
        let i: usize = req.path[5..6].parse().unwrap_or(0);
        if req.path.ends_with("/page") {
            Reply::html(&format!(
                "<title>{}</title><p>{}</p>",
                TITLES[i],
                prose(60, i as u64)
            ))
        } else {
            Reply::html(&site_page("Home", &prose(100, 99)))
        }
    }));
    let urls: Vec<String> = (0..TITLES.len())
        .flat_map(|i| {
            [
                honest.url(&format!("/lang{i}/page")),
                soft.url(&format!("/lang{i}/page")),
            ]
        })
        .collect();
    let results = checker().check_all(&urls).await;
    for pair in results.chunks(2) {
        assert_eq!(
            summary(&pair[0]),
            (Verdict::Ok, "not_found_text".into()),
            "{}",
            pair[0].url
        );
        assert_eq!(
            summary(&pair[1]),
            (Verdict::Soft404, "not_found_text;random_path_ok".into()),
            "{}",
            pair[1].url
        );
    }
}

#[tokio::test]
async fn precision_no_soft_404_among_honest_varied_pages() {
    // 40 real pages with shared chrome, on a host that serves its home page
    // for unknown paths (a common catch-all), and 40 on an honest host.
    let pages: Arc<Vec<String>> = Arc::new(
        (0..40)
            .map(|i| {
                site_page(
                    &format!("Report {i}"),
                    &prose(60 + (i * 37) % 400, 1000 + i as u64),
                )
            })
            .collect(),
    );
    let (p1, p2) = (pages.clone(), pages.clone());
    let catch_all = TestServer::start(Routes::new().fallback(move |req| {
        match req
            .path
            .strip_prefix("/reports/r")
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(n) if n < p1.len() => Reply::html(&p1[n]),
            _ => Reply::html(&site_page("Welcome", &prose(150, 7))),
        }
    }));
    let honest = TestServer::start(Routes::new().fallback(move |req| {
        match req
            .path
            .strip_prefix("/reports/r")
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(n) if n < p2.len() => Reply::html(&p2[n]),
            _ => Reply::status(404),
        }
    }));
    let urls: Vec<String> = (0..pages.len())
        .flat_map(|i| {
            [
                catch_all.url(&format!("/reports/r{i}")),
                honest.url(&format!("/reports/r{i}")),
            ]
        })
        .collect();
    let results = checker().check_all(&urls).await;
    let flagged: Vec<_> = results
        .iter()
        .filter(|r| r.verdict != Verdict::Ok || !r.reasons.is_empty())
        .map(|r| (r.url.clone(), summary(r)))
        .collect();
    assert!(flagged.is_empty(), "{flagged:?}");
    assert_eq!(results.len(), 80);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_waiting_to_be_judged_are_bounded_by_the_global_limit() {
    // Pages over 8 KiB are judged on the blocking pool, one per core, and
    // the loopback server hands them out faster than that: without a bound
    // the pages read and waiting grew with the number of URLs.
    let page = site_page("Annual report", &prose(3000, 9));
    assert!(page.len() > 16 * 1024);
    let server = TestServer::start(Routes::new().fallback(move |req| {
        let cited = req.path.strip_prefix("/doc/");
        // The probe's random letters get the honest 404.
        if cited.is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit())) {
            Reply::html(&page)
        } else {
            Reply::status(404)
        }
    }));
    let urls: Vec<String> = (0..300).map(|i| server.url(&format!("/doc/{i}"))).collect();
    let checker = Checker::new(CheckOptions {
        max_concurrency: 4,
        host_concurrency: 4,
        ..fast()
    })
    .unwrap()
    .with_content_checks(ContentChecks::new(ContentOptions::default()));
    let results = checker.check_all(&urls).await;
    assert!(
        results.iter().all(|r| r.verdict == Verdict::Ok),
        "{:?}",
        results.iter().map(summary).find(|s| s.0 != Verdict::Ok)
    );
    let peak = checker.content_checks().unwrap().peak_pages_held();
    assert!(
        (1..=8).contains(&peak),
        "{peak} pages held at once: the bound is twice the global limit of 4"
    );
}
