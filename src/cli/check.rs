//! `linkrot check`: scan documents, check every unique URL once, write the
//! report, print a summary, exit with a code CI can act on.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use regex::Regex;
use reqwest::header::{HeaderName, HeaderValue};
use tokio::sync::mpsc;

use super::archive::ArchiveArgs;
use super::audit::{
    CiFlags, HistoryFlags, Recording, RunHistory, SPOOL_ERROR, wants_rows, write_ci_outputs,
};
use super::preserve::{WaybackArgs, preserve};
use super::{EXIT_FAILING, EXIT_OK};
use crate::archive::Preservation;
use crate::archive::fetch::FetchOptions;
use crate::check::assess::{ContentOptions, DEFAULT_DRIFT_THRESHOLD};
use crate::check::fragment::fragment_of;
use crate::check::inspect::ContentChecks;
use crate::check::similarity::Fingerprint;
use crate::check::{
    AcceptCodes, CheckOptions, Checker, DEFAULT_USER_AGENT, HostHeader, ResolveOverride,
    UniqueUrls, parse_header, parse_host_header,
};
use crate::config::HostSettings;
use crate::history::FailOn;
use crate::report::html::{HtmlContext, Overview, RunHealth};
use crate::report::spool::RowSpool;
use crate::report::{self, Audit, AuditRow, Rows, SummaryCounter, junit, markdown};
use crate::scan::walk::{self, Piece, WalkOptions};
use crate::scan::{ScanOptions, ScopeFilter};

/// Arguments of `linkrot check`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 nothing failing, 1 at least one failing citation, \
                        2 usage or input error (bad flag, missing file, unwritable output)."
)]
pub struct CheckArgs {
    /// Documents or folders to check (`-` reads standard input).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,

    /// Check footnote URLs only, or body URLs too.
    #[arg(long, value_enum, default_value = "footnotes")]
    pub scope: ScopeFilter,

    /// Turn identifiers (DOIs, UN symbols, arXiv, Handles, PubMed IDs) into
    /// resolver links and check them [default].
    #[arg(long, overrides_with = "no_identifiers")]
    pub identifiers: bool,

    /// Leave identifiers as text: check only URLs written as such.
    #[arg(long, overrides_with = "identifiers")]
    pub no_identifiers: bool,

    /// Folder for reports (the CSV goes to DIR/linkrot.csv).
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub output: PathBuf,

    /// Write the CSV report here instead of DIR/linkrot.csv.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,

    /// Write the HTML report here instead of DIR/index.html.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Do not write the HTML report.
    #[arg(long, conflicts_with = "html")]
    pub no_html: bool,

    /// Also print the report on stdout in this format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: OutputFormat,

    /// Write the JSON report to FILE (instead of stdout with --format json).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// What fails the run, comma-separated: verdict names, `hard` (broken,
    /// dns_error for a missing name, redirect_loop, invalid_url), `failing`,
    /// `dead`, reason names such as `missing_fragment` or `drifted`, and
    /// `new` to keep only what is news in this run (`dead,new`).
    /// Default: hard,dead; with --no-history every failing verdict.
    #[arg(long, value_name = "LIST", value_parser = clap::value_parser!(FailOn))]
    pub fail_on: Option<FailOn>,

    /// Threads that send the requests and read the answers. One keeps up
    /// with over 15,000 URLs a second and spends less CPU than two, which
    /// hand tasks to each other; raise it when TLS handshakes saturate it.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: u16,

    /// Requests in flight at once over all hosts.
    #[arg(long, value_name = "N", default_value_t = 128, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrency: u32,

    /// Requests in flight at once to one host name.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    pub host_concurrency: u32,

    /// Minimum time between request starts to one host name (`50ms`, `1s`, `0`).
    #[arg(long, value_name = "DURATION", default_value = "50ms", value_parser = parse_duration)]
    pub host_interval: Duration,

    /// Limit on establishing a connection (`10s`; a bare number is seconds).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub connect_timeout: Duration,

    /// Limit on one request, from sending it to the end of the body read.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,

    /// Extra attempts after a timeout, a reset, or 408/429/500/502/503/504.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub retries: u32,

    /// Longest Retry-After honoured; a server asking for more is not retried.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub max_retry_after: Duration,

    /// First backoff delay between attempts, doubled each retry (with jitter).
    #[arg(long, value_name = "DURATION", default_value = "500ms", value_parser = parse_duration, hide = true)]
    pub retry_base_delay: Duration,

    /// Redirects followed before giving up with too_many_redirects.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_redirects: usize,

    /// Bytes of a GET body read before the connection is dropped.
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024, hide = true)]
    pub body_limit: usize,

    /// User-Agent header.
    #[arg(long, value_name = "TEXT", default_value = DEFAULT_USER_AGENT)]
    pub user_agent: String,

    /// A header sent to every host ('Name: value'; repeatable).
    #[arg(long, value_name = "HEADER", value_parser = parse_header)]
    pub header: Vec<(HeaderName, HeaderValue)>,

    /// A header sent to HOST only, never to another host, redirects included
    /// (repeatable).
    #[arg(long, num_args = 2, value_names = ["HOST", "HEADER"])]
    pub host_header: Vec<String>,

    /// Connect to ADDR for HOST, like curl (repeatable); a port in the URL wins.
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    pub resolve: Vec<ResolveOverride>,

    /// Do not request URLs matching REGEX (repeatable).
    #[arg(long, value_name = "REGEX")]
    pub exclude: Vec<Regex>,

    /// Request only URLs matching REGEX (repeatable); wins over --exclude.
    #[arg(long, value_name = "REGEX")]
    pub include: Vec<Regex>,

    /// Statuses that count as alive, e.g. `200..=299,403`.
    #[arg(long, value_name = "CODES", default_value = "200..=299")]
    pub accept: AcceptCodes,

    /// Accept invalid TLS certificates (such results say so).
    #[arg(long)]
    pub insecure: bool,

    /// No progress bar and no summary.
    #[arg(long, short)]
    pub quiet: bool,

    /// Progress bar on stderr: auto shows it when stderr is a terminal and CI is unset.
    #[arg(long, value_enum, default_value = "auto")]
    pub progress: Progress,

    #[command(flatten)]
    pub archive: ArchiveArgs,

    #[command(flatten)]
    pub wayback: WaybackArgs,

    /// Judge by status codes only: no soft-404, parked-domain, bot-wall or
    /// drift checks; requests are HEAD first instead of one GET per URL.
    #[arg(long)]
    pub no_content: bool,

    /// Do not send the random-sibling probe (one extra GET per host and
    /// directory) that finds sites answering 200 for missing pages.
    #[arg(long)]
    pub no_probe: bool,

    /// Check that each cited #fragment names an element (id or <a name>) of
    /// the page; missing ones get reason missing_fragment.
    #[arg(long)]
    pub check_fragments: bool,

    /// Drift (0-1) above which a page that still loads gets reason drifted.
    #[arg(long, value_name = "DRIFT", default_value_t = DEFAULT_DRIFT_THRESHOLD, value_parser = parse_drift)]
    pub drift_threshold: f64,

    /// Read settings from FILE (default: linkrot.toml in the working
    /// directory, when there is one). Flags typed here win over the file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// History and dead-link policy.
    #[command(flatten)]
    pub history: HistoryFlags,

    /// CI outputs.
    #[command(flatten)]
    pub ci: CiFlags,

    /// Per-host settings from the config file's [hosts."NAME"] sections.
    #[arg(skip)]
    pub hosts: std::collections::BTreeMap<String, HostSettings>,
}

fn parse_drift(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "invalid drift threshold {s:?} (a number from 0 to 1)"
        )),
    }
}

/// What goes to stdout besides nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Nothing on stdout; the CSV file is the report.
    Csv,
    /// The report as JSON on stdout (or in --json FILE).
    Json,
    /// A Markdown summary table on stdout.
    Markdown,
    /// JUnit XML on stdout: one test case per citation.
    Junit,
}

/// When to draw the progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Progress {
    /// When stderr is a terminal and `CI` is not set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Parses `50ms`, `1.5s`, `2m`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("invalid duration {s:?} (e.g. 50ms, 10s, 1m)"))?;
    let scale = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 0.001,
        "m" | "min" => 60.0,
        _ => return Err(format!("invalid duration unit in {s:?} (ms, s or m)")),
    };
    Duration::try_from_secs_f64(value * scale).map_err(|_| format!("invalid duration {s:?}"))
}

impl CheckArgs {
    fn options(&self) -> anyhow::Result<CheckOptions> {
        let mut host_headers = self
            .host_header
            .chunks(2)
            .map(|pair| parse_host_header(&pair[0], &pair[1]))
            .collect::<Result<Vec<HostHeader>, String>>()
            .map_err(anyhow::Error::msg)?;
        let mut host_accept = Vec::new();
        for (host, settings) in &self.hosts {
            let problem = |what: &str, message: String| {
                anyhow::anyhow!("config [hosts.\"{host}\"] {what}: {message}")
            };
            let mut headers: Vec<String> = settings
                .headers
                .iter()
                .map(|(name, value)| format!("{name}: {value}"))
                .collect();
            if let Some(agent) = &settings.user_agent {
                headers.push(format!("User-Agent: {agent}"));
            }
            for header in headers {
                host_headers
                    .push(parse_host_header(host, &header).map_err(|e| problem("headers", e))?);
            }
            if let Some(accept) = &settings.accept {
                let codes: AcceptCodes = accept.parse().map_err(|e| problem("accept", e))?;
                host_accept.push((host.clone(), codes));
            }
            if let Some(interval) = &settings.interval {
                parse_duration(interval).map_err(|e| problem("interval", e))?;
            }
        }
        Ok(CheckOptions {
            max_concurrency: self.max_concurrency as usize,
            host_concurrency: self.host_concurrency as usize,
            host_interval: self.host_interval,
            connect_timeout: self.connect_timeout,
            timeout: self.timeout,
            retries: self.retries,
            retry_base_delay: self.retry_base_delay,
            max_retry_after: self.max_retry_after,
            max_redirects: self.max_redirects,
            body_limit: self.body_limit,
            user_agent: self.user_agent.clone(),
            headers: self.header.clone(),
            host_headers,
            resolve: self.resolve.clone(),
            exclude: self.exclude.clone(),
            include: self.include.clone(),
            accept: self.accept.clone(),
            host_accept,
            insecure: self.insecure,
            ..CheckOptions::default()
        })
    }

    fn content_options(&self) -> ContentOptions {
        ContentOptions {
            enabled: !self.no_content,
            probe: !self.no_probe,
            fragments: self.check_fragments,
            drift_threshold: self.drift_threshold,
        }
    }

    fn show_progress(&self) -> bool {
        match self.progress {
            Progress::Never => false,
            Progress::Always => true,
            Progress::Auto => {
                !self.quiet && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
            }
        }
    }
}

/// Runs `linkrot check`.
pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    super::entering(super::Phase::Checking);
    let started = Instant::now();
    let options = args.options()?;
    let csv_path = args
        .csv
        .clone()
        .unwrap_or_else(|| args.output.join("linkrot.csv"));

    // An archive folder that cannot be made should stop the run before the
    // checks, not after them.
    if let Some(dir) = &args.archive.archive {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create archive directory {}", dir.display()))?;
    }

    // Citations go to the row spool on disk as the documents are scanned;
    // memory keeps one entry per unique URL.
    let Scanned {
        documents,
        mut spool,
        unique,
        fragments,
    } = scan_paths(&args)?;
    tracing::debug!(
        elapsed = ?started.elapsed(),
        citations = spool.citations(),
        urls = unique.len(),
        "scanned"
    );

    let archive_check_options = options.clone();
    let mut content = ContentChecks::new(args.content_options());
    content.fragments = fragments;
    // The history is opened before anything is requested: a file linkrot
    // cannot use stops the run here, untouched.
    let mut history = RunHistory::open(&args.history, &args.output)?;
    tracing::debug!(elapsed = ?started.elapsed(), "history opened");
    let fail_on = args
        .fail_on
        .clone()
        .unwrap_or_else(|| history.default_fail_on());
    let cached = history.cached(unique.iter())?;
    content.previous = history
        .fingerprints(unique.iter())?
        .into_iter()
        .map(|(url, f)| (url, Fingerprint(f as u64)))
        .collect();
    tracing::debug!(elapsed = ?started.elapsed(), "history read");
    let mut recording = history.start_recording(&unique)?;
    let mut to_check: Vec<u32> = Vec::new();
    for (slot, url) in unique.iter().enumerate() {
        match cached.get(url) {
            Some(result) => {
                spool
                    .push_result(slot as u32, result)
                    .context(SPOOL_ERROR)?;
                recording.add(slot as u32, Arc::new(result.clone()), true);
            }
            None => to_check.push(slot as u32),
        }
    }
    drop(cached);

    let checker = Checker::new(options)
        .context("cannot start the checker")?
        .with_content_checks(content);
    apply_host_settings(&checker, &args.hosts);
    tracing::debug!(elapsed = ?started.elapsed(), "checker ready");
    // One worker by default. Measured (bench_check, 2 cores): against a
    // worker per core it spends a tenth to a quarter less CPU at 5,000 and
    // 20,000 URLs and is no slower; a current-thread runtime spends as
    // little but is 4-7% slower at 5,000 URLs, as this thread then drives
    // the network too. Large pages are judged on the blocking pool.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(usize::from(args.threads))
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let bar = progress_bar(&args, to_check.len());
    // The results are gathered on a worker, not on this thread: a result
    // handed from a worker to the thread blocked in `block_on` costs a
    // futex wake-up each, which profiling put at 8% of the CPU time.
    let (checked, recording, spool) = {
        let (checker, bar, clock) = (checker.clone(), bar.clone(), history.clock());
        runtime
            .block_on(runtime.spawn(async move {
                let checked = check_unique(
                    &checker,
                    unique,
                    to_check,
                    &bar,
                    clock,
                    &mut recording,
                    &mut spool,
                )
                .await;
                (checked, recording, spool)
            }))
            .context("the checker stopped unexpectedly")?
    };
    checked.context(SPOOL_ERROR)?;
    tracing::debug!(
        elapsed = ?started.elapsed(),
        spooled_bytes = spool.bytes(),
        "checked"
    );
    bar.finish_and_clear();
    // Without preservation the network is done: the runtime's idle
    // connections and the checker's state go before the report rows are
    // built (they were a fifth of the peak memory at 20,000 URLs). They go
    // on a thread of their own while the history writer finishes, which
    // took 4-5 ms off the end of a run at 20,000 URLs.
    let preserving = args.archive.archive.is_some() || !args.wayback.wayback.is_empty();
    let (runtime, checker, teardown) = if preserving {
        (Some(runtime), Some(checker), None)
    } else {
        let teardown = std::thread::Builder::new()
            .name("linkrot-teardown".to_string())
            .spawn(move || drop((checker, runtime)))
            .context("cannot start a thread")?;
        (None, None, Some(teardown))
    };
    let tracked = history.finish_recording(recording)?;
    if let Some(teardown) = teardown {
        let _ = teardown.join();
    }
    tracing::debug!(elapsed = ?started.elapsed(), "standings ready");

    let spooled = spool.finish(tracked).context(SPOOL_ERROR)?;
    // Preservation and the formats that group or list every row at once
    // (Markdown, JUnit, annotations) read all the rows into memory; the
    // CSV, JSON and HTML reports read them from the spool one at a time.
    let wants_all_rows = preserving
        || matches!(args.format, OutputFormat::Markdown | OutputFormat::Junit)
        || wants_rows(&args.ci);
    let mut loaded: Option<Vec<AuditRow>> = if wants_all_rows {
        Some(spooled.to_vec().context(SPOOL_ERROR)?)
    } else {
        None
    };
    // Preservation: local snapshots of live pages, the Internet Archive.
    if let (Some(runtime), Some(checker), Some(rows)) = (&runtime, &checker, &mut loaded) {
        let archive = args
            .archive
            .options(FetchOptions::from_check(
                &archive_check_options,
                checker.limits().clone(),
            ))
            .map(|o| (o, args.archive.archive_concurrency as usize));
        let archive_dir = archive.as_ref().map(|(o, _)| o.dir.clone());
        let preserved = runtime
            .block_on(preserve(
                rows,
                archive,
                &args.wayback,
                Some(checker.limits().clone()),
            ))
            .map_err(anyhow::Error::msg)?;
        let mut warned = std::collections::HashSet::new();
        for (row, mut p) in rows.iter_mut().zip(preserved) {
            if let (Some(dir), Some(s)) = (&archive_dir, &mut p.snapshot) {
                s.archive_file = dir.join(&s.archive_file).display().to_string();
            }
            if let Some(e) = &p.archive_error
                && !args.quiet
                && warned.insert(row.result.url.clone())
            {
                eprintln!("linkrot: not archived: {}: {e}", row.result.url);
            }
            row.preservation = (p != Preservation::NONE).then(|| Box::new(p));
        }
        if let Some(dir) = &archive_dir
            && !args.quiet
        {
            let mut archived = std::collections::HashSet::new();
            let mut failed = std::collections::HashSet::new();
            for row in rows.iter() {
                if row.preservation().snapshot.is_some() {
                    archived.insert(row.result.url.as_str());
                } else if row.preservation().archive_error.is_some() {
                    failed.insert(row.result.url.as_str());
                }
            }
            eprintln!(
                "archive: {} pages in {}, {} not archived",
                archived.len(),
                dir.display(),
                failed.len()
            );
        }
    }
    drop(runtime);
    let rows: &dyn Rows = match &loaded {
        Some(rows) => rows,
        None => &spooled,
    };
    let fails = |row: &AuditRow| report::row_fails(&fail_on, row);

    // The CSV is written on a second thread while the HTML page is
    // rendered: two cores, two reports, half the wait at the end of a run.
    // The CSV's pass over the rows also counts them, and the page's first
    // pass gives the citation health the history stores before the page
    // shows it.
    let html_path = (!args.no_html).then(|| {
        args.html
            .clone()
            .unwrap_or_else(|| args.output.join("index.html"))
    });
    let generated_at = jiff::Timestamp::now();
    let write_csv = || {
        let mut counts = RunCounts::new(generated_at);
        report::write_atomically(&csv_path, |out| {
            report::csv_report::write_csv_seen(out, rows, &mut |row| counts.add(row, fails(row)))
        })
        .with_context(|| format!("cannot write {}", csv_path.display()))?;
        tracing::debug!(elapsed = ?started.elapsed(), "CSV written");
        anyhow::Ok(counts)
    };
    let counts = std::thread::scope(|scope| -> anyhow::Result<RunCounts> {
        let Some(path) = &html_path else {
            let counts = write_csv()?;
            let now = counts.health;
            history.record_health(now.alive, now.counted)?;
            return Ok(counts);
        };
        let csv = scope.spawn(write_csv);
        let overview = Overview::of(rows, &documents, generated_at).context(SPOOL_ERROR)?;
        // Citation health is stored with every run, so the chart over time
        // has no gaps when some runs skip the HTML page.
        let now = overview.health();
        let health: Vec<RunHealth> = history
            .record_health(now.alive, now.counted)?
            .into_iter()
            .map(|(at, alive, counted)| RunHealth {
                at: jiff::Timestamp::from_millisecond(at).unwrap_or(generated_at),
                alive,
                counted,
            })
            .collect();
        // The history's dates ("dead since / last alive") come from each
        // row's standing.
        let extras = loaded
            .as_deref()
            .map(|rows| preservation_extras(rows, path))
            .unwrap_or_default();
        let context = HtmlContext {
            generated_at,
            documents: &documents,
            history: history.enabled().then_some(health.as_slice()),
            extras: (!extras.is_empty()).then_some(&extras),
        };
        report::html::write_html_file_with(path, rows, overview, &context)
            .with_context(|| format!("cannot write {}", path.display()))?;
        tracing::debug!(elapsed = ?started.elapsed(), "HTML written");
        csv.join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the CSV writer stopped unexpectedly")))
    })?;
    // The history stored its rows and committed while the reports were
    // written.
    history.settle()?;
    tracing::debug!(elapsed = ?started.elapsed(), "history committed");
    if let Some(path) = &args.json {
        report::write_json_file(path, rows)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let audit = loaded.as_deref().map(|rows| Audit {
        rows,
        fail_on: &fail_on,
        with_history: history.enabled(),
    });
    let stdout_text = match (args.format, &audit) {
        (OutputFormat::Csv, _) => None,
        (OutputFormat::Json, _) if args.json.is_some() => None,
        (OutputFormat::Json, _) => {
            let mut out = Vec::new();
            report::write_json(&mut out, rows).context("cannot render the JSON report")?;
            Some(out)
        }
        (OutputFormat::Markdown, Some(audit)) => Some(markdown::render(audit).into_bytes()),
        (OutputFormat::Junit, Some(audit)) => Some(junit::render(audit).into_bytes()),
        (OutputFormat::Markdown | OutputFormat::Junit, None) => {
            unreachable!("these formats load every row")
        }
    };
    if let Some(text) = stdout_text {
        let mut out = std::io::stdout().lock();
        std::io::Write::write_all(&mut out, &text)
            .and_then(|()| std::io::Write::flush(&mut out))
            .context("cannot write the report to stdout")?;
    }
    if let Some(audit) = &audit {
        write_ci_outputs(audit, &args.ci)?;
    }

    let summary = counts.summary.finish(started.elapsed());
    tracing::debug!(elapsed = ?started.elapsed(), "done");
    if !args.quiet {
        eprint!("{summary}");
        if history.enabled() {
            eprintln!("{}", counts.changes.line());
        }
        eprintln!("report: {}", csv_path.display());
        if let Some(path) = &html_path {
            eprintln!("html report: {}", path.display());
        }
    }
    Ok(ExitCode::from(if summary.failing > 0 {
        EXIT_FAILING
    } else {
        EXIT_OK
    }))
}

/// Counts over the rows, made in the same pass that writes the CSV.
struct RunCounts {
    summary: SummaryCounter,
    health: RunHealth,
    changes: HistoryChanges,
}

impl RunCounts {
    fn new(at: jiff::Timestamp) -> RunCounts {
        RunCounts {
            summary: SummaryCounter::default(),
            health: RunHealth {
                at,
                alive: 0,
                counted: 0,
            },
            changes: HistoryChanges::default(),
        }
    }

    fn add(&mut self, row: &AuditRow, failing: bool) {
        self.summary.add(row, failing);
        self.health.add(row);
        self.changes.add(row);
    }
}

/// Links to each URL's local snapshot (relative to the HTML report when it
/// lies below it) and Wayback copy, for the HTML report.
fn preservation_extras(rows: &[AuditRow], html: &Path) -> HashMap<String, report::html::UrlExtras> {
    let base = html.parent().unwrap_or(Path::new(""));
    let mut extras = HashMap::new();
    for row in rows {
        let p = row.preservation();
        if p.snapshot.is_none() && p.wayback.is_none() {
            continue;
        }
        let snapshot = p.snapshot.as_ref().map(|s| {
            let file = Path::new(&s.archive_file);
            file.strip_prefix(base)
                .unwrap_or(file)
                .to_string_lossy()
                .replace('\\', "/")
        });
        extras.insert(
            row.result.url.clone(),
            report::html::UrlExtras {
                snapshot,
                wayback: p.wayback.as_ref().map(|c| c.url.clone()),
                ..Default::default()
            },
        );
    }
    extras
}

/// How the history saw this run's unique URLs change, for the line
/// `history: 2 new, 1 newly dead, 3 served from history`.
#[derive(Default)]
struct HistoryChanges {
    /// Hashes of the URLs counted: each URL counts once, however often cited.
    seen: std::collections::HashSet<u64>,
    counts: std::collections::BTreeMap<crate::history::Change, usize>,
    from_history: usize,
}

impl HistoryChanges {
    fn add(&mut self, row: &AuditRow) {
        if let Some(tracked) = &row.tracked
            && self
                .seen
                .insert(xxhash_rust::xxh3::xxh3_64(row.result.url.as_bytes()))
        {
            *self.counts.entry(tracked.change).or_default() += 1;
            self.from_history += usize::from(tracked.from_history);
        }
    }

    fn line(&self) -> String {
        use crate::history::Change;
        let mut parts: Vec<String> = self
            .counts
            .iter()
            .filter(|(change, _)| **change != Change::Unchanged)
            .map(|(change, n)| format!("{n} {}", change.as_str().replace('_', " ")))
            .collect();
        if parts.is_empty() {
            parts.push("no change".to_string());
        }
        parts.push(format!("{} served from history", self.from_history));
        format!("history: {}", parts.join(", "))
    }
}

/// Applies the config file's per-host concurrency and interval.
fn apply_host_settings(
    checker: &Checker,
    hosts: &std::collections::BTreeMap<String, HostSettings>,
) {
    for (host, settings) in hosts {
        let interval = settings
            .interval
            .as_deref()
            .and_then(|text| parse_duration(text).ok());
        checker
            .limits()
            .configure_host(host, settings.concurrency, interval);
    }
}

/// The URL as requested: without its fragment.
fn dedup_key(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if matches!(parsed.scheme(), "http" | "https") => {
            parsed.set_fragment(None);
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

/// Checks the URLs not served from the history; each result, stamped with
/// the injected clock if any, goes to the history writer and the row spool
/// as it arrives.
async fn check_unique(
    checker: &Checker,
    unique: UniqueUrls,
    to_check: Vec<u32>,
    bar: &indicatif::ProgressBar,
    clock: Option<jiff::Timestamp>,
    recording: &mut Recording,
    spool: &mut RowSpool,
) -> std::io::Result<()> {
    // Each URL becomes a `String` only as it is handed to the checker.
    let (tx, rx) = mpsc::channel::<(u32, String)>(1024);
    let feeder = tokio::spawn(async move {
        for slot in to_check {
            if tx.send((slot, unique.get(slot).to_string())).await.is_err() {
                break;
            }
        }
    });
    let mut failing = 0usize;
    let mut stream = checker.check_stream(rx);
    while let Some((slot, mut result)) = stream.recv().await {
        // The body prefix is for content checks; the report does not keep it.
        result.body_prefix = None;
        if let Some(now) = clock {
            result.checked_at = now;
        }
        if result.verdict.fails_by_default() {
            failing += 1;
            bar.set_message(format!("{failing} failing"));
        }
        bar.inc(1);
        // A buffered append: a write to the file every 256 KiB.
        spool.push_result(slot, &result)?;
        recording.add(slot, Arc::new(result), false);
    }
    let _ = feeder.await;
    Ok(())
}

fn progress_bar(args: &CheckArgs, total: usize) -> indicatif::ProgressBar {
    if !args.show_progress() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bar:30} {pos}/{len} URLs  {per_sec}  ETA {eta}  {msg}",
    ) {
        bar.set_style(style);
    }
    bar
}

/// What the scan hands to the checks.
struct Scanned {
    /// Every document read, in order.
    documents: Vec<Arc<str>>,
    /// A row for each citation found, its result still to come.
    spool: RowSpool,
    /// The URLs to request, fragments removed, numbered by first citation.
    unique: UniqueUrls,
    /// Fragments cited per URL, for `--check-fragments`.
    fragments: HashMap<String, Vec<String>>,
}

/// Scans every document (the folder walk of `linkrot scan`: ignore files,
/// format sniffing, size limit) and spools a row for each citation.
fn scan_paths(args: &CheckArgs) -> anyhow::Result<Scanned> {
    walk::check_inputs(&args.paths)?;
    let scan_options = ScanOptions {
        scope: args.scope,
        identifiers: !args.no_identifiers,
        ..ScanOptions::default()
    };
    let mut scanned_all = Scanned {
        documents: Vec::new(),
        spool: RowSpool::new().context(SPOOL_ERROR)?,
        unique: UniqueUrls::new(),
        fragments: HashMap::new(),
    };
    // A document's citations stream through in chunks: the rows go to the
    // spool as they are made, so one huge document is never held whole.
    walk::stream_inputs(
        &args.paths,
        &WalkOptions::default(),
        &scan_options,
        |piece| -> anyhow::Result<()> {
            let Scanned {
                documents,
                spool,
                unique,
                fragments,
            } = &mut scanned_all;
            match piece {
                Piece::Citations(citations) => {
                    for citation in &citations {
                        let key = dedup_key(&citation.url);
                        if args.check_fragments
                            && let Some(fragment) = url::Url::parse(&citation.url)
                                .ok()
                                .as_ref()
                                .and_then(fragment_of)
                        {
                            let wanted = fragments.entry(key.clone()).or_default();
                            if !wanted.contains(&fragment) {
                                wanted.push(fragment);
                            }
                        }
                        // One request per unique URL; the fragment is never
                        // sent, so it does not make a URL different.
                        let url = unique.insert(&key);
                        spool.push_citation(url, citation).context(SPOOL_ERROR)?;
                    }
                }
                Piece::Done(outcome) => {
                    // The walk gathers the scanner's warnings here too.
                    if !args.quiet {
                        for warning in &outcome.warnings {
                            eprintln!("linkrot: WARNING: {warning}");
                        }
                    }
                    if let Some(scanned) = outcome.scanned {
                        documents.push(scanned.document);
                    }
                }
            }
            Ok(())
        },
    )?;
    Ok(scanned_all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("50ms"), Ok(Duration::from_millis(50)));
        assert_eq!(parse_duration("1"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("5h").is_err());
    }

    #[test]
    fn fragments_do_not_make_urls_different() {
        assert_eq!(
            dedup_key("https://a.test/x#one"),
            dedup_key("https://a.test/x#two")
        );
        assert_eq!(dedup_key("mailto:a@b.c"), "mailto:a@b.c");
    }
}
