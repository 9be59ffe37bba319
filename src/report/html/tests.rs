use std::collections::HashMap;
use std::sync::Arc;

use crate::check::{CheckResult, RedirectHop, Verdict};
use crate::report::AuditRow;
use crate::scan::{Citation, Footnote, LinkForm, Scope, UrlKind};

use super::{HtmlContext, RunHealth, UrlExtras, render};

fn at(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

fn hop(url: &str, status: u16) -> RedirectHop {
    RedirectHop {
        url: url.to_string(),
        status,
        location: None,
        resolved: None,
        remote_addr: None,
        elapsed_ms: 1,
    }
}

fn result(
    url: &str,
    verdict: Verdict,
    status: Option<u16>,
    chain: Vec<RedirectHop>,
) -> Arc<CheckResult> {
    Arc::new(CheckResult {
        status,
        final_url: chain.last().map(|h| h.url.clone()),
        chain,
        method: Some("GET"),
        attempts: 1,
        ..CheckResult::unrequested(url, verdict, None)
    })
}

fn row(
    doc: &str,
    label: &str,
    line: usize,
    text: &str,
    url: &str,
    result: Arc<CheckResult>,
) -> AuditRow {
    AuditRow {
        tracked: None,
        citation: Citation {
            document: Arc::from(doc),
            line,
            column: 1,
            scope: Scope::Footnote,
            footnote: Some(Arc::new(Footnote {
                label: label.to_string(),
                line,
                reference_lines: vec![1],
                text: text.to_string(),
                repeats: None,
            })),
            raw_url: url.to_string(),
            url: url.to_string(),
            link_text: None,
            form: LinkForm::Bare,
            page: None,
            derived_from: None,
            via: None,
            kind: if url.starts_with("http") {
                UrlKind::Web
            } else {
                UrlKind::Placeholder
            },
            text_url_mismatch: None,
            span: 0..0,
        },
        result,
        preservation: Default::default(),
    }
}

fn ctx<'a>(documents: &'a [Arc<str>]) -> HtmlContext<'a> {
    HtmlContext {
        generated_at: at("2026-11-28T02:30:00Z"),
        documents,
        history: None,
        extras: None,
    }
}

fn sample() -> Vec<AuditRow> {
    let ok = "https://a.test/ok";
    let gone = "https://b.test/gone";
    let old = "https://c.test/old";
    vec![
        row(
            "doc.md",
            "2",
            20,
            "Second note.",
            gone,
            result(gone, Verdict::Broken, Some(404), vec![hop(gone, 404)]),
        ),
        row(
            "doc.md",
            "1",
            10,
            "First note.",
            ok,
            result(ok, Verdict::Ok, Some(200), vec![hop(ok, 200)]),
        ),
        row(
            "doc.md",
            "3",
            30,
            "Third note.",
            old,
            result(
                old,
                Verdict::Moved,
                Some(200),
                vec![hop(old, 301), hop("https://c.test/new", 200)],
            ),
        ),
    ]
}

/// The `<tbody>` rows of the citation tables, in page order.
fn body_rows(page: &str) -> Vec<&str> {
    page.split("<tr data-v=").skip(1).collect()
}

#[test]
fn script_in_citation_text_renders_as_text() {
    let evil = "https://a.test/<script>alert(1)</script>";
    let mut rows = vec![row(
        "<script>alert('doc')</script>.md",
        "<b>1</b>",
        1,
        "See <script>alert(\"note\")</script> & more",
        evil,
        result(evil, Verdict::Ok, Some(200), vec![hop(evil, 200)]),
    )];
    rows[0].citation.link_text = Some("<img src=x onerror=alert(1)>".into());
    let page = render(&rows, &ctx(&[]));
    // The page's own scripts are the only ones: the error hook and the filters.
    assert_eq!(page.matches("<script>").count(), 2, "{page}");
    assert!(!page.contains("<script>alert"));
    assert!(!page.contains("<b>1</b>"));
    assert!(page.contains("See &lt;script&gt;alert(&quot;note&quot;)&lt;/script&gt; &amp; more"));
    assert!(page.contains("&lt;script&gt;alert('doc')&lt;/script&gt;.md"));
    assert!(page.contains("&lt;b&gt;1&lt;/b&gt;"));
}

#[test]
fn only_web_urls_become_links() {
    let js = "javascript:alert(1)";
    let rows = vec![row(
        "d.md",
        "1",
        1,
        "Placeholder.",
        js,
        result(js, Verdict::Placeholder, None, vec![]),
    )];
    let mut extras = HashMap::new();
    extras.insert(
        js.to_string(),
        UrlExtras {
            snapshot: Some("data:text/html,hi".into()),
            wayback: Some("javascript:alert(2)".into()),
            ..UrlExtras::default()
        },
    );
    let docs = [];
    let page = render(
        &rows,
        &HtmlContext {
            extras: Some(&extras),
            ..ctx(&docs)
        },
    );
    assert!(page.contains("<code>javascript:alert(1)</code>"));
    assert!(!page.contains("href=\"javascript:"));
    assert!(!page.contains("href=\"data:"));
}

#[test]
fn page_makes_no_requests() {
    let page = render(&sample(), &ctx(&[]));
    assert!(page.contains("http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"));
    for forbidden in [
        "<link",
        " src=",
        "@import",
        "url(",
        "<iframe",
        "<img",
        "@font-face",
    ] {
        assert!(!page.contains(forbidden), "page contains {forbidden}");
    }
}

#[test]
fn footnotes_appear_in_document_order_with_badges() {
    let page = render(&sample(), &ctx(&[]));
    let rows = body_rows(&page);
    assert_eq!(rows.len(), 3);
    assert!(rows[0].starts_with("\"ok\""));
    assert!(rows[1].starts_with("\"broken\""));
    assert!(rows[2].starts_with("\"moved\""));
    // Colour plus text: each badge names its verdict.
    assert!(rows[1].contains("<span class=\"badge b-failing\">broken</span>"));
    assert!(rows[1].contains("data-failing"));
    assert!(!rows[0].contains("data-failing"));
    assert!(rows[1].contains("<span class=\"note\">2</span>"));
    assert!(rows[1].contains("data-s=\"404\""));
}

#[test]
fn moved_citations_say_where_to_update() {
    let page = render(&sample(), &ctx(&[]));
    let rows = body_rows(&page);
    assert!(rows[2].contains("Update citation to <a href=\"https://c.test/new\""));
    assert!(rows[2].contains("<details><summary>1 redirect</summary>"));
    assert!(rows[2].contains("<span class=\"hop-status\">301</span>"));
    assert!(!rows[0].contains("Update citation"));
    assert!(!rows[0].contains("<details>"));
}

#[test]
fn overview_counts_documents_verdicts_and_health() {
    let docs: Vec<Arc<str>> = vec![Arc::from("doc.md"), Arc::from("empty.md")];
    let page = render(&sample(), &ctx(&docs));
    assert!(page.contains("<span class=\"big\">2</span><span>documents audited</span>"));
    // ok and moved alive, broken not: 2 of 3.
    assert!(page.contains("<span class=\"big\">66.7%</span><span>citation health</span>"));
    assert!(page.contains("2 of 3 footnote citations alive"));
    assert!(page.contains("No citations were found in this document."));
    assert!(page.contains("2 of 3 citations alive (66.7%), 1 failing, 0 other"));
    assert!(page.contains("<option value=\"broken\" data-label=\"broken\">broken (1)</option>"));
    assert!(page.contains("<option value=\"failing\" data-label=\"Failing\">Failing (1)</option>"));
    assert!(
        !page.contains("value=\"timeout\""),
        "only verdicts present are offered"
    );
}

#[test]
fn health_leaves_out_body_and_excluded_citations() {
    let mut rows = sample();
    let ex = "https://x.test/";
    rows.push(row(
        "doc.md",
        "4",
        40,
        "Excluded.",
        ex,
        result(ex, Verdict::Excluded, None, vec![]),
    ));
    let mut body = row(
        "doc.md",
        "5",
        50,
        "",
        ex,
        result(ex, Verdict::Broken, Some(404), vec![]),
    );
    body.citation.scope = Scope::Body;
    body.citation.footnote = None;
    rows.push(body);
    let health = RunHealth::of(&rows, at("2026-11-28T00:00:00Z"));
    assert_eq!((health.alive, health.counted), (2, 3));
}

#[test]
fn extras_are_shown_only_when_present() {
    let plain = render(&sample(), &ctx(&[]));
    for absent in [
        "Local snapshot",
        "Wayback copy",
        "Dead since",
        "last alive",
        "Citation health over time",
    ] {
        assert!(!plain.contains(absent), "{absent} shown without data");
    }
    let mut extras = HashMap::new();
    extras.insert(
        "https://b.test/gone".to_string(),
        UrlExtras {
            reason: Some("soft 404: answers like a made-up page".into()),
            snapshot: Some("archive/b.test/gone.warc.gz".into()),
            wayback: Some("https://web.archive.org/web/2024/https://b.test/gone".into()),
            dead_since: Some(at("2026-10-01T00:00:00Z")),
            last_ok: Some(at("2026-09-30T00:00:00Z")),
        },
    );
    let history = [
        RunHealth {
            at: at("2026-11-01T00:00:00Z"),
            alive: 3,
            counted: 3,
        },
        RunHealth {
            at: at("2026-11-28T00:00:00Z"),
            alive: 2,
            counted: 3,
        },
    ];
    let docs = [];
    let page = render(
        &sample(),
        &HtmlContext {
            extras: Some(&extras),
            history: Some(&history),
            ..ctx(&docs)
        },
    );
    let rows = body_rows(&page);
    assert!(
        rows[1].contains("<span class=\"reason\">soft 404: answers like a made-up page</span>")
    );
    assert!(rows[1].contains("<a href=\"archive/b.test/gone.warc.gz\">Local snapshot</a>"));
    assert!(rows[1].contains("href=\"https://web.archive.org/web/2024/https://b.test/gone\""));
    assert!(
        rows[1].contains("Dead since <time datetime=\"2026-10-01T00:00:00Z\">2026-10-01</time>")
    );
    assert!(
        rows[1].contains("last alive <time datetime=\"2026-09-30T00:00:00Z\">2026-09-30</time>")
    );
    assert!(!rows[0].contains("Dead since"));
    assert!(page.contains("Citation health over time"));
    assert!(page.contains("<polyline class=\"health\" points=\"40.0,10.0 548.0,45.3\">"));
    assert!(page.contains("2026-11-28: 66.7% (2 of 3)"));
}

#[test]
fn check_errors_are_the_reason_when_nothing_better_is_known() {
    let url = "https://d.test/";
    let mut res = (*result(url, Verdict::ConnectError, None, vec![])).clone();
    res.error = Some("connection refused".into());
    let rows = vec![row("d.md", "1", 1, "Note.", url, Arc::new(res))];
    let page = render(&rows, &ctx(&[]));
    assert!(page.contains("connect error</span><span class=\"reason\">connection refused</span>"));
}

#[test]
fn controls_are_hidden_without_javascript() {
    let page = render(&sample(), &ctx(&[]));
    assert!(page.contains("<form id=\"filters\" hidden"));
    assert!(page.contains("<noscript>"));
    assert!(page.contains("<th scope=\"col\" data-sort=\"status\">Status</th>"));
    assert!(page.contains("<caption>Citations in doc.md"));
}

#[test]
fn content_check_reasons_show_beside_the_verdict() {
    use crate::check::Reason;
    let soft = "https://d.test/reports/2019";
    let page = "https://e.test/guide";
    let mut soft_result = (*result(
        soft,
        Verdict::Soft404,
        Some(200),
        vec![hop(soft, 301), hop("https://d.test/", 200)],
    ))
    .clone();
    soft_result.reasons = vec![Reason::RedirectToRoot];
    let mut page_result = (*result(page, Verdict::Ok, Some(200), vec![hop(page, 200)])).clone();
    page_result.missing_fragments = vec!["gone".into()];
    let page_result = Arc::new(page_result);
    let rows = vec![
        row("doc.md", "1", 1, "A report.", soft, Arc::new(soft_result)),
        row(
            "doc.md",
            "2",
            2,
            "A section.",
            &format!("{page}#gone"),
            page_result.clone(),
        ),
        row(
            "doc.md",
            "3",
            3,
            "Another.",
            &format!("{page}#here"),
            page_result,
        ),
    ];
    let documents: Vec<Arc<str>> = vec![Arc::from("doc.md")];
    let html = render(&rows, &ctx(&documents));
    let body = body_rows(&html);
    assert!(body[0].contains("redirect to root"), "{}", body[0]);
    assert!(body[1].contains("missing fragment"), "{}", body[1]);
    assert!(!body[2].contains("missing fragment"), "{}", body[2]);
}

#[test]
fn hosts_read_directly_match_the_url_parser() {
    let urls = [
        "https://www.un.org/en/ga/",
        "http://Example.COM./x?y#z",
        "https://example.org:8443/a",
        "http://127.0.0.2:8080/doc/1",
        "https://user:pw@example.org/",
        "http://0x7f.1/",
        "http://127.1/",
        "http://1.2.3.04/",
        "http://256.1.1.1/",
        "https://[::1]:8080/",
        "https://bücher.example/",
        "https://xn--bcher-kva.example/",
        "http://a.com\\evil.com/",
        "https://ex%61mple.org/",
        "https://example.org:/x",
        "https://example.org:x/",
        "https:///nohost",
        "mailto:a@b.c",
        "ftp://files.example.org/",
        "#",
    ];
    for url in urls {
        assert_eq!(super::host_of(url), super::parsed_host(url), "{url}");
        if let Some(host) = super::plain_host(url) {
            assert!(!host.is_empty(), "{url}");
        }
    }
    assert!(super::plain_host("http://0x7f.1/").is_none());
    assert_eq!(
        super::plain_host("http://127.0.0.2:8080/doc/1"),
        Some("127.0.0.2")
    );
}
