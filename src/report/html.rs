//! The librarian's report: one self-contained HTML page.
//!
//! The page opens from a shared drive or an e-mail attachment: styles and
//! scripts are inline, there are no fonts, images or requests of any kind,
//! and a Content-Security-Policy forbids the page from making one. Every row
//! is in the HTML, so the page reads fully without JavaScript; the inline
//! script only adds filters, search and sorting on top.
//!
//! The page is built with maud, which escapes every interpolated string: a
//! citation containing `<script>` renders as text. Links are only made from
//! `http(s)` URLs (and relative paths for local snapshots), so a cited
//! `javascript:` URL is shown, never made clickable.
//!
//! Later stages add what they know through [`HtmlContext`]: history adds the
//! health of past runs and "dead since", the archive adds snapshot and
//! Wayback links, the soft-404 detector adds reasons. Each is optional and
//! the page simply leaves it out when absent.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;
use std::sync::Arc;

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::check::{CheckResult, Verdict};
use crate::report::{AuditRow, Rows};
use crate::scan::Scope;

/// What later stages know about one checked URL, keyed by
/// [`CheckResult::url`] in [`HtmlContext::extras`]. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrlExtras {
    /// Why the verdict was given, when it is more than the check's own error
    /// (e.g. "soft 404: answers like a made-up page").
    pub reason: Option<String>,
    /// The local snapshot (a path relative to the report, or an http(s) URL).
    pub snapshot: Option<String>,
    /// The Internet Archive's copy.
    pub wayback: Option<String>,
    /// The first failing check of the current failure streak.
    pub dead_since: Option<jiff::Timestamp>,
    /// The last check that found the URL alive.
    pub last_ok: Option<jiff::Timestamp>,
}

/// The health of the footnote citations in one past (or the current) run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunHealth {
    /// When the run finished.
    pub at: jiff::Timestamp,
    /// Footnote citations found alive.
    pub alive: usize,
    /// Footnote citations counted (excluded ones left out).
    pub counted: usize,
}

/// Everything the page shows besides the rows themselves.
#[derive(Debug, Clone, Copy)]
pub struct HtmlContext<'a> {
    /// When the audit ran.
    pub generated_at: jiff::Timestamp,
    /// Every document audited, in command-line order, including documents
    /// in which no citation was found.
    pub documents: &'a [Arc<str>],
    /// Citation health per run, oldest first, when history is kept.
    pub history: Option<&'a [RunHealth]>,
    /// Extras per checked URL, when later stages provide them.
    pub extras: Option<&'a HashMap<String, UrlExtras>>,
}

/// Verdict counts of a set of rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Tally {
    total: usize,
    alive: usize,
    failing: usize,
}

impl Tally {
    fn add(&mut self, verdict: Verdict) {
        self.total += 1;
        if verdict.is_alive() {
            self.alive += 1;
        } else if verdict.fails_by_default() {
            self.failing += 1;
        }
    }

    fn other(&self) -> usize {
        self.total - self.alive - self.failing
    }
}

impl RunHealth {
    /// Citation health of these rows: the footnote citations alive, out of
    /// those counted (citations the user excluded are left out).
    pub fn of(rows: &[AuditRow], at: jiff::Timestamp) -> RunHealth {
        let mut health = RunHealth {
            at,
            alive: 0,
            counted: 0,
        };
        for row in rows {
            health.add(row);
        }
        health
    }

    /// Counts one more row.
    pub fn add(&mut self, row: &AuditRow) {
        if row.citation.scope != Scope::Footnote || row.result.verdict == Verdict::Excluded {
            return;
        }
        self.counted += 1;
        if row.result.verdict.is_alive() {
            self.alive += 1;
        }
    }
}

fn percent(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

/// `87.5%`, with one decimal only where it matters.
fn percent_text(p: f64) -> String {
    if (p - p.round()).abs() < 0.05 {
        format!("{}%", p.round())
    } else {
        format!("{p:.1}%")
    }
}

/// Badge colour family: colour is never the only signal, the badge always
/// carries the verdict's name too.
fn badge_class(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Ok => "b-ok",
        Verdict::Redirected => "b-redirected",
        Verdict::Moved => "b-moved",
        Verdict::Blocked => "b-blocked",
        v if v.fails_by_default() => "b-failing",
        _ => "b-unchecked",
    }
}

/// `server_error` → `server error`.
fn verdict_label(verdict: Verdict) -> String {
    verdict.as_str().replace('_', " ")
}

/// Only http(s) URLs become links; anything else (`javascript:`, `data:`)
/// is shown as text.
fn web_href(url: &str) -> Option<&str> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://")).then_some(url)
}

/// A snapshot link may also be a relative path next to the report; it must
/// not carry a scheme other than http(s).
fn snapshot_href(target: &str) -> Option<&str> {
    if web_href(target).is_some() {
        return Some(target);
    }
    let before_slash = target.split(['/', '?', '#']).next().unwrap_or("");
    (!target.is_empty() && !before_slash.contains(':') && !target.starts_with("//"))
        .then_some(target)
}

/// The host name a row is grouped under: lowercase, without a trailing dot.
fn host_of(url: &str) -> String {
    // Parsing every row's URL was two-fifths of the page's rendering time;
    // the common plain form is read directly, everything else parsed.
    match plain_host(url) {
        Some(host) => host.trim_end_matches('.').to_ascii_lowercase(),
        None => parsed_host(url),
    }
}

/// [`host_of`] through the URL parser.
fn parsed_host(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
        })
        .unwrap_or_default()
}

/// The host of an `http(s)://host[:port]/...` URL whose host needs no
/// normalising by a URL parser: ASCII letters, digits, `-` and `.`, and not
/// a number a parser would rewrite as an IPv4 address. `None` otherwise.
fn plain_host(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        Some(_) => return None,
        None => authority,
    };
    let name = host.trim_end_matches('.');
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return None;
    }
    let numeric = name
        .rsplit('.')
        .next()
        .is_some_and(|label| label.starts_with(|c: char| c.is_ascii_digit()));
    let dotted_quad = || {
        let parts: Vec<&str> = name.split('.').collect();
        parts.len() == 4
            && parts.iter().all(|p| {
                !p.is_empty()
                    && p.len() <= 3
                    && !(p.len() > 1 && p.starts_with('0'))
                    && p.bytes().all(|b| b.is_ascii_digit())
                    && p.parse::<u16>().is_ok_and(|n| n <= 255)
            })
    };
    (!numeric || dotted_quad()).then_some(host)
}

fn date(ts: jiff::Timestamp) -> String {
    ts.strftime("%Y-%m-%d").to_string()
}

/// One document's rows, footnotes in document order.
struct DocumentRows {
    name: Arc<str>,
    /// Row numbers, ordered by line and column.
    rows: Vec<usize>,
    tally: Tally,
}

/// What one pass over the rows learns for the page's overview and filters;
/// the page's rows are read in a second pass.
pub struct Overview {
    groups: Vec<DocumentRows>,
    totals: Vec<(Verdict, usize)>,
    overall: Tally,
    hosts: HashMap<String, usize>,
    health: RunHealth,
}

impl Overview {
    /// This run's citation health.
    pub fn health(&self) -> RunHealth {
        self.health
    }

    /// Reads `rows` once: counts, hosts, and each document's rows in order.
    pub fn of(
        rows: &(impl Rows + ?Sized),
        documents: &[Arc<str>],
        at: jiff::Timestamp,
    ) -> std::io::Result<Overview> {
        let mut index: HashMap<Arc<str>, usize> = HashMap::new();
        let mut groups: Vec<DocumentRows> = Vec::new();
        let mut slot = |name: &Arc<str>, groups: &mut Vec<DocumentRows>| -> usize {
            if let Some(&i) = index.get(name) {
                return i;
            }
            groups.push(DocumentRows {
                name: name.clone(),
                rows: Vec::new(),
                tally: Tally::default(),
            });
            index.insert(name.clone(), groups.len() - 1);
            groups.len() - 1
        };
        for name in documents {
            slot(name, &mut groups);
        }
        let mut overview = Overview {
            groups: Vec::new(),
            totals: Verdict::ALL.iter().map(|&v| (v, 0)).collect(),
            overall: Tally::default(),
            hosts: HashMap::new(),
            health: RunHealth {
                at,
                alive: 0,
                counted: 0,
            },
        };
        // Line and column of every row, to order each document's rows.
        let mut places: Vec<(usize, usize)> = Vec::with_capacity(rows.len());
        rows.each(&mut |row| {
            let i = slot(&row.citation.document, &mut groups);
            groups[i].rows.push(places.len());
            groups[i].tally.add(row.result.verdict);
            places.push((row.citation.line, row.citation.column));
            overview.totals[ordinal(row.result.verdict)].1 += 1;
            overview.overall.add(row.result.verdict);
            *overview
                .hosts
                .entry(host_of(&row.citation.url))
                .or_default() += 1;
            overview.health.add(row);
            Ok(())
        })?;
        for group in &mut groups {
            // Stable: citations on one line keep their input order.
            group.rows.sort_by_key(|&i| places[i]);
        }
        overview.groups = groups;
        Ok(overview)
    }
}

/// A verdict's position in [`Verdict::ALL`]: the report order.
fn ordinal(verdict: Verdict) -> usize {
    Verdict::ALL
        .iter()
        .position(|&v| v == verdict)
        .unwrap_or(Verdict::ALL.len())
}

const CSS: &str = include_str!("html/report.css");
const SCRIPT: &str = include_str!("html/report.js");

/// Collects script errors before anything else runs, so a broken page says
/// so instead of silently offering dead controls (and tests can read them).
const ERROR_HOOK: &str = "window.linkrotErrors=[];(function(){function note(m){window.linkrotErrors.push(String(m));var el=document.getElementById('script-error');if(el){el.hidden=false;}}addEventListener('error',function(e){note(e.message||e);});addEventListener('unhandledrejection',function(e){note('unhandled rejection: '+e.reason);});})();";

/// No requests of any kind; inline styles and scripts only.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/// Where the document sections go in the page skeleton, and the rows in a
/// section's: the page is written in pieces, so a report of 200,000
/// citations never sits in memory as one string. The skeletons hold only
/// document and host names around the marks, and neither can contain NUL.
const SECTIONS_MARK: &str = "\u{0}linkrot-sections\u{0}";
const ROWS_MARK: &str = "\u{0}linkrot-rows\u{0}";

/// Renders the whole page into one string.
pub fn render(rows: &(impl Rows + ?Sized), ctx: &HtmlContext<'_>) -> String {
    let mut out = Vec::new();
    write_html(&mut out, rows, ctx).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("maud renders UTF-8")
}

/// Writes the whole page to `out`, one document section and one row at a
/// time.
pub fn write_html(
    out: &mut dyn Write,
    rows: &(impl Rows + ?Sized),
    ctx: &HtmlContext<'_>,
) -> std::io::Result<()> {
    let first_pass = Overview::of(rows, ctx.documents, ctx.generated_at)?;
    write_html_with(out, rows, first_pass, ctx)
}

/// [`write_html`] with the first pass over the rows already made.
pub fn write_html_with(
    out: &mut dyn Write,
    rows: &(impl Rows + ?Sized),
    first_pass: Overview,
    ctx: &HtmlContext<'_>,
) -> std::io::Result<()> {
    let Overview {
        groups,
        totals,
        overall,
        hosts,
        health,
    } = first_pass;
    let mut hosts: Vec<(String, usize)> =
        hosts.into_iter().filter(|(h, _)| !h.is_empty()).collect();
    hosts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let present: Vec<(Verdict, usize)> = totals.into_iter().filter(|&(_, n)| n > 0).collect();
    let generated = ctx.generated_at.strftime("%Y-%m-%d %H:%M UTC").to_string();
    let title = format!("linkrot report, {}", date(ctx.generated_at));

    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(CSP);
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content=(concat!("linkrot ", env!("CARGO_PKG_VERSION")));
                title { (title) }
                script { (PreEscaped(ERROR_HOOK)) }
                style { (PreEscaped(CSS)) }
            }
            body {
                a.skip href="#citations" { "Skip to the citations" }
                header {
                    h1 { "Citation audit" }
                    p.muted {
                        "Generated by linkrot on " time datetime=(ctx.generated_at.to_string()) { (generated) } "."
                    }
                }
                p #script-error role="alert" hidden {
                    "The page's script failed; filters and sorting may not work. Every citation is still listed below."
                }
                main {
                    (overview(&groups, &present, overall, health, ctx))
                    @if let Some(history) = ctx.history.filter(|h| !h.is_empty()) {
                        (health_chart(history))
                    }
                    h2 #citations { "Citations" }
                    noscript {
                        p.notice { "Filters, search and sorting need JavaScript. Every citation is listed below." }
                    }
                    (filters(&groups, &present, &hosts, rows.len()))
                    (PreEscaped(SECTIONS_MARK))
                }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    };
    let page = page.into_string();
    let (before, after) = page
        .split_once(SECTIONS_MARK)
        .expect("the skeleton holds the sections mark");
    out.write_all(before.as_bytes())?;
    for (i, group) in groups.iter().enumerate() {
        let section = document_section(i, group).into_string();
        match section.split_once(ROWS_MARK) {
            Some((open, close)) => {
                out.write_all(open.as_bytes())?;
                rows.each_in(&group.rows, &mut |row| {
                    out.write_all(citation_row(row, ctx).into_string().as_bytes())
                })?;
                out.write_all(close.as_bytes())?;
            }
            None => out.write_all(section.as_bytes())?,
        }
    }
    out.write_all(after.as_bytes())
}

fn overview(
    groups: &[DocumentRows],
    present: &[(Verdict, usize)],
    overall: Tally,
    health: RunHealth,
    ctx: &HtmlContext<'_>,
) -> Markup {
    let health_text = percent(health.alive, health.counted)
        .map(percent_text)
        .unwrap_or_else(|| "no footnote citations".to_string());
    html! {
        section.overview aria-labelledby="overview-h" {
            h2 #overview-h { "Overview" }
            div.cards {
                div.card {
                    span.big { (health_text) }
                    span { "citation health" }
                    span.muted.small {
                        (health.alive) " of " (health.counted) " footnote citations alive"
                    }
                }
                div.card {
                    span.big { (groups.len()) }
                    span { @if groups.len() == 1 { "document audited" } @else { "documents audited" } }
                }
                div.card {
                    span.big { (overall.total) }
                    span { "citations" }
                    span.muted.small { (overall.failing) " failing" }
                }
                div.card {
                    span.big { (date(ctx.generated_at)) }
                    span { "audit date" }
                }
            }
            table.totals {
                caption { "Citations per verdict" }
                thead { tr { th scope="col" { "Verdict" } th scope="col" class="num" { "Citations" } } }
                tbody {
                    @for &(verdict, n) in present {
                        tr {
                            th scope="row" { span class={"badge " (badge_class(verdict))} { (verdict_label(verdict)) } }
                            td.num { (n) }
                        }
                    }
                    @if present.is_empty() {
                        tr { td colspan="2" { "No citations were found." } }
                    }
                }
            }
            table.documents {
                caption { "Documents" }
                thead {
                    tr {
                        th scope="col" { "Document" }
                        th scope="col" class="num" { "Citations" }
                        th scope="col" class="num" { "Alive" }
                        th scope="col" class="num" { "Failing" }
                        th scope="col" class="num" { "Other" }
                        th scope="col" { "Share alive" }
                    }
                }
                tbody {
                    @for (i, group) in groups.iter().enumerate() {
                        @let t = group.tally;
                        tr {
                            th scope="row" { a href={"#doc-" (i)} { (group.name) } }
                            td.num { (t.total) }
                            td.num { (t.alive) }
                            td.num { (t.failing) }
                            td.num { (t.other()) }
                            td { (bar(t)) }
                        }
                    }
                }
            }
        }
    }
}

/// A stacked bar; the numbers beside it carry the meaning, the colours only
/// repeat it.
fn bar(t: Tally) -> Markup {
    let width = |n: usize| format!("width:{:.3}%", percent(n, t.total).unwrap_or(0.0));
    let label = match percent(t.alive, t.total) {
        Some(p) => format!(
            "{} of {} citations alive ({}), {} failing, {} other",
            t.alive,
            t.total,
            percent_text(p),
            t.failing,
            t.other()
        ),
        None => "no citations".to_string(),
    };
    html! {
        div.barwrap {
            div.bar role="img" aria-label=(label) {
                span.alive style=(width(t.alive)) {}
                span.failing style=(width(t.failing)) {}
                span.other style=(width(t.other())) {}
            }
            span.small {
                @match percent(t.alive, t.total) {
                    Some(p) => { (percent_text(p)) " alive" }
                    None => { "no citations" }
                }
            }
        }
    }
}

/// Citation health per run as a small line chart, with the numbers in a
/// table beside it for screen readers and exact reading.
fn health_chart(history: &[RunHealth]) -> Markup {
    const W: f64 = 560.0;
    const H: f64 = 140.0;
    const LEFT: f64 = 40.0;
    const RIGHT: f64 = 12.0;
    const TOP: f64 = 10.0;
    const BOTTOM: f64 = 24.0;
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let n = history.len();
    let x = |i: usize| {
        if n == 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * i as f64 / (n - 1) as f64
        }
    };
    let y = |p: f64| TOP + plot_h * (1.0 - p / 100.0);
    let points: Vec<(f64, f64, &RunHealth, Option<f64>)> = history
        .iter()
        .enumerate()
        .map(|(i, run)| {
            let p = percent(run.alive, run.counted);
            (x(i), y(p.unwrap_or(0.0)), run, p)
        })
        .collect();
    let mut line = String::new();
    for (px, py, _, p) in &points {
        if p.is_some() {
            let _ = write!(line, "{px:.1},{py:.1} ");
        }
    }
    let first = history.first().map(|r| date(r.at)).unwrap_or_default();
    let last = history.last().map(|r| date(r.at)).unwrap_or_default();
    html! {
        section.history aria-labelledby="history-h" {
            h2 #history-h { "Citation health over time" }
            figure {
                svg role="img" aria-labelledby="chart-title" viewBox={"0 0 " (W) " " (H)} width=(W) height=(H) xmlns="http://www.w3.org/2000/svg" {
                    title #chart-title { "Share of footnote citations alive in each of " (n) " runs, " (first) " to " (last) }
                    @for tick in [0u32, 50, 100] {
                        line.grid x1=(LEFT) x2=(W - RIGHT) y1=(y(tick as f64)) y2=(y(tick as f64)) {}
                        text.axis x=(LEFT - 6.0) y=(y(tick as f64) + 4.0) text-anchor="end" { (tick) "%" }
                    }
                    polyline.health points=(line.trim_end()) {}
                    @for (px, py, run, p) in &points {
                        @if let Some(p) = p {
                            circle.point cx=(format!("{px:.1}")) cy=(format!("{py:.1}")) r="3.5" {
                                title { (date(run.at)) ": " (percent_text(*p)) " (" (run.alive) " of " (run.counted) ")" }
                            }
                        }
                    }
                    text.axis x=(LEFT) y=(H - 6.0) text-anchor="start" { (first) }
                    @if n > 1 {
                        text.axis x=(W - RIGHT) y=(H - 6.0) text-anchor="end" { (last) }
                    }
                }
                figcaption {
                    details {
                        summary { "Health per run" }
                        table.runs {
                            caption.vh { "Citation health per run" }
                            thead { tr { th scope="col" { "Run" } th scope="col" class="num" { "Alive" } th scope="col" class="num" { "Counted" } th scope="col" class="num" { "Health" } } }
                            tbody {
                                @for run in history {
                                    tr {
                                        th scope="row" { time datetime=(run.at.to_string()) { (run.at.strftime("%Y-%m-%d %H:%M")) } }
                                        td.num { (run.alive) }
                                        td.num { (run.counted) }
                                        td.num { (percent(run.alive, run.counted).map(percent_text).unwrap_or_else(|| "–".into())) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The controls, hidden until the script shows them: without JavaScript
/// they would do nothing, so they are not offered.
fn filters(
    groups: &[DocumentRows],
    present: &[(Verdict, usize)],
    hosts: &[(String, usize)],
    total: usize,
) -> Markup {
    let failing: usize = present
        .iter()
        .filter(|(v, _)| v.fails_by_default())
        .map(|(_, n)| n)
        .sum();
    html! {
        form #filters hidden role="search" aria-label="Filter citations" {
            div.field {
                label for="f-verdict" { "Verdict" }
                select #f-verdict name="verdict" {
                    option value="" data-label="All verdicts" { "All verdicts (" (total) ")" }
                    option value="failing" data-label="Failing" { "Failing (" (failing) ")" }
                    @for &(v, n) in present {
                        option value=(v.as_str()) data-label=(verdict_label(v)) { (verdict_label(v)) " (" (n) ")" }
                    }
                }
            }
            div.field {
                label for="f-document" { "Document" }
                select #f-document name="document" {
                    option value="" { "All documents" }
                    @for (i, g) in groups.iter().enumerate() {
                        option value=(i) { (g.name) }
                    }
                }
            }
            div.field {
                label for="f-host" { "Host" }
                input #f-host name="host" type="search" list="hosts" autocomplete="off" spellcheck="false" placeholder="e.g. example.org";
                datalist #hosts {
                    @for (h, _) in hosts { option value=(h) {} }
                }
            }
            div.field.grow {
                label for="f-search" { "Search citation text and URLs" }
                input #f-search name="q" type="search" autocomplete="off" spellcheck="false";
            }
            div.field {
                button #f-reset type="reset" { "Clear filters" }
            }
            p #shown.count role="status" aria-live="polite" { "Showing all " (total) " citations." }
        }
    }
}

/// A document's section, with [`ROWS_MARK`] where its rows go.
fn document_section(i: usize, group: &DocumentRows) -> Markup {
    html! {
        section.document id={"doc-" (i)} data-doc=(i) aria-labelledby={"doc-" (i) "-h"}
            // A height estimate until the section is first drawn, so the
            // scrollbar does not jump as documents come into view.
            style=(format!("contain-intrinsic-size:auto {}rem", 6 + group.rows.len() * 4)) {
            h3 id={"doc-" (i) "-h"} { (group.name) }
            @if group.rows.is_empty() {
                p.muted { "No citations were found in this document." }
            } @else {
                table.citations {
                    caption {
                        "Citations in " (group.name) ", footnotes in document order: "
                        span.doc-count { (group.rows.len()) " citations" }
                        "."
                    }
                    colgroup {
                        col.c-note; col.c-text; col.c-url; col.c-verdict; col.c-status; col.c-chain; col.c-more;
                    }
                    thead {
                        tr {
                            th scope="col" data-sort="note" { "Note" }
                            th scope="col" data-sort="text" { "Citation" }
                            th scope="col" data-sort="url" { "URL" }
                            th scope="col" data-sort="verdict" { "Verdict" }
                            th scope="col" data-sort="status" { "Status" }
                            th scope="col" data-sort="redirects" { "Redirects" }
                            th scope="col" { "Follow-up" }
                        }
                    }
                    tbody {
                        (PreEscaped(ROWS_MARK))
                    }
                }
            }
        }
    }
}

fn citation_row(row: &AuditRow, ctx: &HtmlContext<'_>) -> Markup {
    let c = &row.citation;
    let r: &CheckResult = &row.result;
    let extras = ctx.extras.and_then(|m| m.get(&r.url));
    // The content checks' reasons (soft 404, parked, bot wall, drift,
    // missing fragment) say more than the status line.
    let content_reasons = row
        .reasons()
        .iter()
        .map(|reason| reason.as_str().replace('_', " "))
        .collect::<Vec<_>>()
        .join(", ");
    let reason = extras
        .and_then(|e| e.reason.as_deref())
        .or((!content_reasons.is_empty()).then_some(content_reasons.as_str()))
        .or(r.error.as_deref());
    let host = host_of(&c.url);
    // "Dead since / last alive": given in the extras, else the history's
    // standing of the URL (read here, not copied into a map per URL).
    let at = |ms: i64| jiff::Timestamp::from_millisecond(ms).ok();
    let standing = row.tracked.as_ref().map(|t| &t.status);
    let dead_since = extras
        .and_then(|e| e.dead_since)
        .or_else(|| standing.and_then(|s| s.first_failed).and_then(at));
    let last_ok = extras
        .and_then(|e| e.last_ok)
        .or_else(|| standing.and_then(|s| s.last_ok).and_then(at));
    // Missing status sorts after every real one.
    let status_key = r.status.map_or(1000, u32::from);
    html! {
        tr data-v=(r.verdict.as_str()) data-o=(ordinal(r.verdict)) data-h=(host) data-s=(status_key) data-r=(r.redirects()) data-failing[r.verdict.fails_by_default()] {
            th scope="row" {
                @match &c.footnote {
                    Some(note) => { span.note { (note.label) } }
                    None => { span.note.body { "body" } }
                }
                span.line { "line " (c.line) }
            }
            td.text {
                @match &c.footnote {
                    Some(note) => {
                        (note.text)
                        @if let Some(rep) = &note.repeats {
                            span.repeats { " (repeats note " (rep) ")" }
                        }
                    }
                    None => {
                        @if let Some(t) = &c.link_text { (t) } @else { span.muted { "(in the body)" } }
                    }
                }
                @if let Some(shown) = &c.text_url_mismatch {
                    span.mismatch { "The link text shows " code { (shown) } ", a different address." }
                }
            }
            td.url {
                @match web_href(&c.url) {
                    Some(href) => { a href=(href) rel="noopener noreferrer" { (c.url) } }
                    None => { code { (c.raw_url) } }
                }
            }
            td.verdict {
                span class={"badge " (badge_class(r.verdict))} { (verdict_label(r.verdict)) }
                @if let Some(reason) = reason { span.reason { (reason) } }
            }
            td.status {
                @match r.status { Some(s) => { (s) } None => { span.muted { "–" } } }
            }
            td.chain {
                @if r.redirects() > 0 {
                    details {
                        summary { (r.redirects()) @if r.redirects() == 1 { " redirect" } @else { " redirects" } }
                        ol {
                            @for hop in &r.chain {
                                li {
                                    span.hop-status { (hop.status) } " "
                                    @match web_href(&hop.url) {
                                        Some(href) => { a href=(href) rel="noopener noreferrer" { (hop.url) } }
                                        None => { (hop.url) }
                                    }
                                }
                            }
                        }
                    }
                } @else {
                    span.muted { "none" }
                }
            }
            td.more {
                @if r.verdict == Verdict::Moved {
                    @if let Some(to) = &r.final_url {
                        p.update {
                            "Update citation to "
                            @match web_href(to) {
                                Some(href) => { a href=(href) rel="noopener noreferrer" { (to) } }
                                None => { (to) }
                            }
                        }
                    }
                }
                @if let Some(e) = extras {
                    @if e.snapshot.is_some() || e.wayback.is_some() {
                        p.copies {
                            @if let Some(href) = e.snapshot.as_deref().and_then(snapshot_href) {
                                a href=(href) { "Local snapshot" }
                            }
                            @if e.snapshot.is_some() && e.wayback.is_some() { " · " }
                            @if let Some(href) = e.wayback.as_deref().and_then(web_href) {
                                a href=(href) rel="noopener noreferrer" { "Wayback copy" }
                            }
                        }
                    }
                }
                @if dead_since.is_some() || last_ok.is_some() {
                    p.since {
                        @if let Some(t) = dead_since { "Dead since " time datetime=(t.to_string()) { (date(t)) } }
                        @if dead_since.is_some() && last_ok.is_some() { " · " }
                        @if let Some(t) = last_ok { "last alive " time datetime=(t.to_string()) { (date(t)) } }
                    }
                }
            }
        }
    }
}

/// Renders the page and writes it to `path` through a temporary file, so
/// an interrupted run never leaves a half-written report.
pub fn write_html_file(
    path: &std::path::Path,
    rows: &(impl Rows + ?Sized),
    ctx: &HtmlContext<'_>,
) -> std::io::Result<()> {
    super::write_atomically(path, |out| write_html(out, rows, ctx))
}

/// [`write_html_file`] with the first pass over the rows already made.
pub fn write_html_file_with(
    path: &std::path::Path,
    rows: &(impl Rows + ?Sized),
    first_pass: Overview,
    ctx: &HtmlContext<'_>,
) -> std::io::Result<()> {
    super::write_atomically(path, |out| write_html_with(out, rows, first_pass, ctx))
}

#[cfg(test)]
mod tests;
