//! The parts of `linkrot check` that deal with history and CI: the history
//! flags, the cache, recording the run, and the extra report formats
//! (Markdown, JUnit, GitHub annotations and step summary).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::Duration;

use anyhow::Context;

use crate::check::{CheckResult, UniqueUrls};
use crate::history::{self, FailOn, History, Observation, Policy, Tracked};
use crate::report::spool::ByUrl;
use crate::report::{self, Audit, annotations, junit, markdown};

/// What the run's temporary files failing means to a user.
pub const SPOOL_ERROR: &str = "cannot use the run's temporary file (is the temporary folder full?)";

/// History and dead-link policy flags of `linkrot check`.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "History and dead-link policy")]
pub struct HistoryFlags {
    /// The history file (default: DIR/linkrot.sqlite in the --output folder).
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,

    /// Keep no history: no dead-link policy, no cache; every failing verdict
    /// fails the run unless --fail-on says otherwise.
    #[arg(long, conflicts_with = "history")]
    pub no_history: bool,

    /// Failing checks in a row before a URL is dead.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub dead_after: u32,

    /// Days the failing checks must span before a URL is dead.
    #[arg(long, value_name = "DAYS", default_value_t = 3)]
    pub dead_after_days: u32,

    /// A URL found alive more recently than this is not requested again
    /// (`1d`, `12h`, `30m`; `0` always rechecks).
    #[arg(long, value_name = "DURATION", default_value = "1d", value_parser = parse_age)]
    pub recheck_after: Duration,

    /// Request every URL, ignoring the results kept in the history.
    #[arg(long)]
    pub fresh: bool,

    /// Pretend the run happens at this time (RFC 3339); for tests.
    #[arg(long, value_name = "RFC3339", env = "LINKROT_NOW", hide = true)]
    pub now: Option<jiff::Timestamp>,
}

/// CI output flags of `linkrot check`.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "CI output")]
pub struct CiFlags {
    /// Write the Markdown summary to FILE.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,

    /// Write a JUnit XML report to FILE (one test case per citation).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Print GitHub workflow annotations on stdout (automatic when
    /// GITHUB_ACTIONS=true).
    #[arg(long)]
    pub annotations: bool,
}

/// Parses `1d`, `12h`, `30m`, `45s`, `500ms`, or a bare number of seconds.
pub fn parse_age(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("invalid duration {text:?} (e.g. 1d, 12h, 30m)"))?;
    let seconds = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 0.001,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => {
            return Err(format!(
                "invalid duration unit in {text:?} (ms, s, m, h or d)"
            ));
        }
    };
    Duration::try_from_secs_f64(value * seconds).map_err(|_| format!("invalid duration {text:?}"))
}

/// The history side of one `linkrot check` run.
#[derive(Debug)]
pub struct RunHistory {
    store: Option<History>,
    flags: HistoryFlags,
    started: jiff::Timestamp,
    /// A recording whose standings came back and whose commit has not
    /// been waited for (see [`RunHistory::finish_recording`]).
    committing: Option<Committing>,
    /// Runs of up to this many URLs store their rows after the checks.
    stored_after_the_checks: usize,
}

/// The history writer after it handed back the standings: it stores the
/// run's rows, answers the run's citation health with the chart's series,
/// then commits.
#[derive(Debug)]
struct Committing {
    sender: std::sync::mpsc::Sender<ToWriter>,
    series: Receiver<HealthSeries>,
    thread: std::thread::JoinHandle<Recorded>,
}

/// Citation health per run, oldest first: (finished_at ms, alive, counted).
type HealthSeries = Vec<(i64, usize, usize)>;

/// Each URL's standing, by URL number, on disk; `None` without history.
type Standings = Option<ByUrl<Tracked>>;

/// What the history writer is sent.
#[derive(Debug)]
enum ToWriter {
    /// Results to record.
    Batch(Batch),
    /// Every result was sent: hand back the standings.
    End,
    /// The run's citation health, to store before the commit.
    Health { alive: usize, counted: usize },
}

impl RunHistory {
    /// Opens the history file (unless `--no-history`) before anything is
    /// checked, so an unusable file stops the run at once.
    pub fn open(flags: &HistoryFlags, output: &Path) -> anyhow::Result<RunHistory> {
        let store = if flags.no_history {
            None
        } else {
            let path = flags
                .history
                .clone()
                .unwrap_or_else(|| output.join("linkrot.sqlite"));
            Some(History::open(&path)?)
        };
        Ok(RunHistory {
            store,
            flags: flags.clone(),
            started: flags.now.unwrap_or_else(jiff::Timestamp::now),
            committing: None,
            stored_after_the_checks: STORED_AFTER_THE_CHECKS,
        })
    }

    /// The history is kept.
    pub fn enabled(&self) -> bool {
        self.store.is_some() || self.committing.is_some()
    }

    /// The default `--fail-on`: the policy's with history, every failing
    /// verdict without.
    pub fn default_fail_on(&self) -> FailOn {
        if self.enabled() {
            FailOn::policy_default()
        } else {
            FailOn::verdict_default()
        }
    }

    /// Results the history still vouches for: URLs found alive within
    /// `--recheck-after`. Empty with `--fresh` or `--no-history`.
    pub fn cached<'u>(
        &self,
        urls: impl IntoIterator<Item = &'u str>,
    ) -> anyhow::Result<HashMap<String, CheckResult>> {
        let Some(store) = &self.store else {
            return Ok(HashMap::new());
        };
        if self.flags.fresh || self.flags.recheck_after.is_zero() {
            return Ok(HashMap::new());
        }
        let max_age = i64::try_from(self.flags.recheck_after.as_millis()).unwrap_or(i64::MAX);
        Ok(store.fresh_results(urls, history::millis(self.started), max_age)?)
    }

    /// The last content fingerprint the history holds for each URL, so the
    /// content checks can measure drift. Empty with `--no-history`.
    pub fn fingerprints<'u>(
        &self,
        urls: impl IntoIterator<Item = &'u str>,
    ) -> anyhow::Result<HashMap<String, i64>> {
        let Some(store) = &self.store else {
            return Ok(HashMap::new());
        };
        Ok(store.last_fingerprints(urls)?)
    }

    /// Starts recording the run on a thread of its own. While the checks
    /// run, the thread works out each URL's standing (reads only, so the
    /// reports have them as soon as the last answer is in) and keeps the
    /// rows on disk; it stores them while the reports are written, once
    /// the connections are closed, in the order of `urls`' text. Stored as
    /// they came, SQLite's page cache (8 MiB) grew while every connection
    /// was open, a tenth of a 20,000-URL run's peak memory, and inserts in
    /// random order made it write pages out and read them back. Feed it
    /// with [`Recording::add`], end it with
    /// [`RunHistory::finish_recording`]. Each result comes with its URL
    /// number in `urls`, and the standings come back by that number.
    pub fn start_recording(&mut self, urls: &UniqueUrls) -> anyhow::Result<Recording> {
        let Some(mut store) = self.store.take() else {
            return Ok(Recording::disabled());
        };
        // A large run stores its rows as its results come: its page cache
        // fills either way, and storing them after the checks would hold up
        // its end.
        let live = urls.len() > self.stored_after_the_checks;
        let order = if live { Vec::new() } else { urls.sorted() };
        // Standings wait on disk until the reports read them (about 130
        // bytes a URL in memory), the rows until the writer stores them.
        let spools = ByUrl::<Tracked>::new().and_then(|t| Ok((t, ByUrl::new()?)));
        let (mut tracked, mut staged) = match spools {
            Ok((tracked, staged)) => (Ok(tracked), Ok(staged)),
            Err(err) => {
                self.store = Some(store);
                return Err(anyhow::Error::new(err).context(SPOOL_ERROR));
            }
        };
        let run_id = match store.begin_run(history::millis(self.started)) {
            Ok(id) => id,
            Err(err) => {
                self.store = Some(store);
                return Err(err.into());
            }
        };
        let policy = Policy {
            dead_after: self.flags.dead_after,
            dead_after_days: self.flags.dead_after_days,
        };
        let clock = self.flags.now;
        // `End` says every result was sent: the standings go back, then the
        // rows are stored and the run committed. A channel closed before it
        // (the run stopped on an error or a panic) rolls back.
        let (sender, messages) = std::sync::mpsc::channel::<ToWriter>();
        let (standings_tx, standings) = std::sync::mpsc::channel();
        let (series_tx, series) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("linkrot-history".to_string())
            .spawn(move || {
                let mut recorded = 0;
                let mut complete = false;
                while let Ok(message) = messages.recv() {
                    let batch = match message {
                        ToWriter::Batch(batch) => batch,
                        ToWriter::End => {
                            complete = true;
                            break;
                        }
                        ToWriter::Health { .. } => continue,
                    };
                    for (url, result, from_history) in batch {
                        let observed = observation(&result, from_history);
                        match store.assess(&observed, &policy) {
                            Ok(standing) => {
                                recorded += 1;
                                // Kept to hand back below: a disk that
                                // fails here fails the run there.
                                if let Ok(spooled) = &mut tracked
                                    && let Err(err) = spooled.push(url, &standing)
                                {
                                    tracked = Err(err);
                                }
                                if live {
                                    if let Err(err) =
                                        store.store_check(run_id, &observed, &standing)
                                    {
                                        store.abandon_run();
                                        return Err(Box::new((store, err)));
                                    }
                                } else if let Ok(rows) = &mut staged
                                    && let Err(err) = rows.push(url, &(result, standing))
                                {
                                    staged = Err(err);
                                }
                            }
                            Err(err) => {
                                store.abandon_run();
                                return Err(Box::new((store, err)));
                            }
                        }
                    }
                }
                if !complete {
                    // Nobody waits for this thread any more; keep nothing.
                    store.abandon_run();
                    return Ok(store);
                }
                let finished = history::millis(clock.unwrap_or_else(jiff::Timestamp::now));
                // The chart's runs before this one, read before this run's
                // rows go in; enough runs for years of weekly audits.
                let earlier = store
                    .mark_finished(run_id, finished, recorded)
                    .and_then(|()| store.run_health(HEALTH_RUNS - 1));
                let earlier = match earlier {
                    Ok(earlier) => earlier,
                    Err(err) => {
                        store.abandon_run();
                        return Err(Box::new((store, err)));
                    }
                };
                let spooled = match (tracked, staged) {
                    (Ok(mut tracked), Ok(staged)) => tracked.flush().map(|()| (tracked, staged)),
                    (Err(err), _) | (_, Err(err)) => Err(err),
                };
                let staged = match spooled {
                    Ok((tracked, staged)) => {
                        let _ = standings_tx.send(Ok(Some(tracked)));
                        staged
                    }
                    Err(err) => {
                        // The run fails on it; a run missing rows is not kept.
                        let _ = standings_tx.send(Err(err));
                        store.abandon_run();
                        return Ok(store);
                    }
                };
                // The page waits for the chart while the rows go in: its
                // health is answered between rows.
                let mut health = Answer::Waiting;
                let answer = |message: Result<ToWriter, TryRecvError>, health: &mut Answer| {
                    match message {
                        Ok(ToWriter::Health { alive, counted }) => {
                            let mut series = earlier.clone();
                            series.push((finished, alive, counted));
                            let _ = series_tx.send(series);
                            *health = Answer::Given(alive, counted);
                        }
                        // Without it (the run stopped writing its reports)
                        // the run is kept as is.
                        Err(TryRecvError::Disconnected) => *health = Answer::None,
                        Ok(_) | Err(TryRecvError::Empty) => {}
                    }
                };
                let mut stored = 0usize;
                let path = store.path().to_path_buf();
                let rows =
                    staged.drain_in(&order, |(result, standing): (Arc<CheckResult>, Tracked)| {
                        let observed = observation(&result, standing.from_history);
                        store.store_check(run_id, &observed, &standing)?;
                        stored += 1;
                        if stored.is_multiple_of(RECORD_BATCH) && health == Answer::Waiting {
                            answer(messages.try_recv(), &mut health);
                        }
                        Ok::<(), StoreError>(())
                    });
                if let Err(err) = rows {
                    store.abandon_run();
                    return Err(Box::new((store, err.into_history(path))));
                }
                while health == Answer::Waiting {
                    answer(
                        messages.recv().map_err(|_| TryRecvError::Disconnected),
                        &mut health,
                    );
                }
                if let Answer::Given(alive, counted) = health
                    && let Err(err) = store.set_run_health(run_id, alive, counted)
                {
                    store.abandon_run();
                    return Err(Box::new((store, err)));
                }
                match store.commit_run() {
                    Ok(()) => Ok(store),
                    Err(err) => Err(Box::new((store, err))),
                }
            })
            .context("cannot start the history writer")?;
        Ok(Recording {
            sender: Some(sender),
            batch: Vec::new(),
            thread: Some(thread),
            standings: Some((standings, series)),
        })
    }

    /// Returns each URL's standing by index (all `None` without history)
    /// once the writer has worked out every one. The writer then stores
    /// the rows, answers [`RunHistory::record_health`] and commits while
    /// the reports are written; [`RunHistory::settle`] waits for the
    /// commit. Nothing of the run is kept if any of it failed.
    pub fn finish_recording(&mut self, mut recording: Recording) -> anyhow::Result<Standings> {
        recording.flush();
        let (Some(sender), Some(thread), Some((standings, series))) = (
            recording.sender.take(),
            recording.thread.take(),
            recording.standings.take(),
        ) else {
            return Ok(None);
        };
        let _ = sender.send(ToWriter::End);
        match standings.recv() {
            Ok(tracked) => {
                self.committing = Some(Committing {
                    sender,
                    series,
                    thread,
                });
                tracked.context(SPOOL_ERROR)
            }
            // The writer stopped on an error, which joining it returns.
            Err(_) => {
                drop(sender);
                self.join_writer(thread)?;
                Err(anyhow::anyhow!("the history writer stopped unexpectedly"))
            }
        }
    }

    /// Waits for the history writer to commit the run, if it has not yet.
    pub fn settle(&mut self) -> anyhow::Result<()> {
        match self.committing.take() {
            Some(Committing { sender, thread, .. }) => {
                drop(sender);
                self.join_writer(thread)
            }
            None => Ok(()),
        }
    }

    fn join_writer(&mut self, thread: std::thread::JoinHandle<Recorded>) -> anyhow::Result<()> {
        match thread.join() {
            Ok(Ok(store)) => {
                self.store = Some(store);
                Ok(())
            }
            Ok(Err(failed)) => {
                let (store, err) = *failed;
                self.store = Some(store);
                Err(err.into())
            }
            Err(_) => Err(anyhow::anyhow!("the history writer stopped unexpectedly")),
        }
    }

    /// The injected clock (`--now`), if any: fresh results are stamped with
    /// it so reports and history agree on the time in tests.
    pub fn clock(&self) -> Option<jiff::Timestamp> {
        self.flags.now
    }

    /// Has the history writer store this run's citation health before its
    /// commit, and returns the health of the runs so far, oldest first, for
    /// the report's chart. Empty without history or once the run is
    /// settled.
    pub fn record_health(&mut self, alive: usize, counted: usize) -> anyhow::Result<HealthSeries> {
        let Some(committing) = &self.committing else {
            return Ok(Vec::new());
        };
        let _ = committing.sender.send(ToWriter::Health { alive, counted });
        match committing.series.recv() {
            Ok(series) => Ok(series),
            // The writer stopped on an error, which settling returns.
            Err(_) => {
                self.settle()?;
                Err(anyhow::anyhow!("the history writer stopped unexpectedly"))
            }
        }
    }
}

impl Drop for RunHistory {
    /// A run that stops before [`RunHistory::settle`] still waits for its
    /// commit: the process must not exit in the middle of it.
    fn drop(&mut self) {
        let _ = self.settle();
    }
}

/// Runs of up to this many URLs store their rows once the checks are done
/// (see [`RunHistory::start_recording`]); larger ones as the results come.
/// Measured with bench_check (2 cores): at 20,000 URLs storing them after
/// the checks took 6 MiB off the peak and ran beside the reports; at
/// 200,000 it finished 2.5 s after the last answer, against 0.9 s.
const STORED_AFTER_THE_CHECKS: usize = 50_000;

/// Runs of citation health the report's chart shows: years of weekly
/// audits, and the chart stays small.
const HEALTH_RUNS: usize = 520;

/// The history's view of one result.
fn observation(result: &CheckResult, from_history: bool) -> Observation<'_> {
    Observation {
        result,
        at: history::millis(result.checked_at),
        from_history,
        fingerprint: result.fingerprint.map(|f| f.0 as i64),
    }
}

/// The run's citation health, as the history writer last heard of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// Not asked yet.
    Waiting,
    /// Asked and answered: citations alive, counted.
    Given(usize, usize),
    /// The run will not ask: it stopped before its reports.
    None,
}

/// Why storing the rows kept on disk stopped.
#[derive(Debug)]
enum StoreError {
    /// Their temporary file could not be read.
    Spool(std::io::Error),
    /// The history file refused a row.
    History(history::HistoryError),
}

impl From<std::io::Error> for StoreError {
    fn from(err: std::io::Error) -> StoreError {
        StoreError::Spool(err)
    }
}

impl From<history::HistoryError> for StoreError {
    fn from(err: history::HistoryError) -> StoreError {
        StoreError::History(err)
    }
}

impl StoreError {
    fn into_history(self, path: PathBuf) -> history::HistoryError {
        match self {
            StoreError::History(err) => err,
            StoreError::Spool(error) => history::HistoryError::Io { path, error },
        }
    }
}

/// What the history writer returns: the store back; or the store and the
/// error that stopped it.
type Recorded = Result<History, Box<(History, history::HistoryError)>>;

/// Results on their way to the writer, each with its URL's index and
/// whether it was served from the history.
type Batch = Vec<(u32, Arc<CheckResult>, bool)>;

/// The results of a run on their way to the history writer (see
/// [`RunHistory::start_recording`]).
#[derive(Debug)]
pub struct Recording {
    sender: Option<std::sync::mpsc::Sender<ToWriter>>,
    batch: Batch,
    thread: Option<std::thread::JoinHandle<Recorded>>,
    /// Where the writer hands back the standings, then the health series.
    standings: Option<(Receiver<std::io::Result<Standings>>, Receiver<HealthSeries>)>,
}

/// Results handed to the writer at once: one wake-up per batch, not per URL.
const RECORD_BATCH: usize = 64;

impl Recording {
    fn disabled() -> Recording {
        Recording {
            sender: None,
            batch: Vec::new(),
            thread: None,
            standings: None,
        }
    }

    /// Queues the result of URL number `url`; `from_history` says it was
    /// served from the cache.
    pub fn add(&mut self, url: u32, result: Arc<CheckResult>, from_history: bool) {
        if self.sender.is_none() {
            return;
        }
        self.batch.push((url, result, from_history));
        if self.batch.len() >= RECORD_BATCH {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if let Some(sender) = &self.sender
            && !self.batch.is_empty()
        {
            // A writer that stopped on an error reports it when joined.
            let _ = sender.send(ToWriter::Batch(std::mem::take(&mut self.batch)));
        }
    }
}

impl Drop for Recording {
    /// A recording dropped before [`RunHistory::finish_recording`] (the run
    /// stopped early) is rolled back, and the file closed, before the
    /// process goes on; this run keeps no history after that.
    fn drop(&mut self) {
        drop(self.sender.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Writes the Markdown and JUnit files, appends the step summary when
/// `GITHUB_STEP_SUMMARY` is set, and prints annotations when asked or on
/// GitHub Actions.
/// Whether `flags` (or GitHub's environment) ask for an output that
/// [`write_ci_outputs`] writes: these read every row at once.
pub fn wants_rows(flags: &CiFlags) -> bool {
    flags.markdown.is_some()
        || flags.junit.is_some()
        || flags.annotations
        || step_summary().is_some()
        || on_github()
}

/// The step summary file GitHub gives each step.
fn step_summary() -> Option<PathBuf> {
    std::env::var_os("GITHUB_STEP_SUMMARY")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
}

fn on_github() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

pub fn write_ci_outputs(audit: &Audit<'_>, flags: &CiFlags) -> anyhow::Result<()> {
    if let Some(path) = &flags.markdown {
        let text = markdown::render(audit);
        report::write_atomically(path, |out| out.write_all(text.as_bytes()))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &flags.junit {
        let text = junit::render(audit);
        report::write_atomically(path, |out| out.write_all(text.as_bytes()))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = step_summary() {
        // GitHub gives each step its own file and reads it after the step:
        // appending is the documented way to add to it.
        let text = markdown::render(audit);
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut file| file.write_all(text.as_bytes()))
            .with_context(|| format!("cannot write the step summary {}", path.display()))?;
    }
    if flags.annotations || on_github() {
        let text = annotations::render(audit);
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .context("cannot write annotations to stdout")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags() -> HistoryFlags {
        #[derive(clap::Parser)]
        struct Flags {
            #[command(flatten)]
            history: HistoryFlags,
        }
        <Flags as clap::Parser>::parse_from(["linkrot"]).history
    }

    fn result(url: &str) -> Arc<CheckResult> {
        Arc::new(CheckResult::unrequested(
            url,
            crate::check::Verdict::Placeholder,
            None,
        ))
    }

    #[test]
    fn a_recording_is_committed_when_finished_and_rolled_back_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("linkrot.sqlite");
        let runs = || History::open(&path).unwrap().diff().unwrap();
        let mut urls = UniqueUrls::new();
        urls.insert("https://a.test/");
        urls.insert("https://a.test/x");

        let mut history = RunHistory::open(&flags(), dir.path()).unwrap();
        let mut recording = history.start_recording(&urls).unwrap();
        recording.add(1, result("https://a.test/x"), false);
        drop(recording);
        assert!(runs().is_none(), "a dropped recording left a run behind");

        // The store went with the dropped recording: the next run opens it.
        let mut history = RunHistory::open(&flags(), dir.path()).unwrap();
        let mut recording = history.start_recording(&urls).unwrap();
        recording.add(1, result("https://a.test/x"), false);
        let tracked = history.finish_recording(recording).unwrap().unwrap();
        assert!(tracked.get(0).unwrap().is_none());
        assert!(tracked.get(1).unwrap().is_some());
        let series = history.record_health(1, 1).unwrap();
        assert_eq!(series.len(), 1, "the run's health is not in the series");
        history.settle().unwrap();
        assert!(runs().is_some(), "a finished recording was not committed");
    }

    #[test]
    fn rows_go_in_after_the_standings_and_the_health_is_answered_meanwhile() {
        two_runs_of_1000_urls(usize::MAX);
    }

    #[test]
    fn a_large_run_stores_its_rows_as_they_come() {
        two_runs_of_1000_urls(999);
    }

    fn two_runs_of_1000_urls(stored_after_the_checks: usize) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("linkrot.sqlite");
        // More rows than a batch, so the health is asked for while the
        // writer is still storing them.
        let urls: Vec<String> = (0..1000)
            .map(|i| format!("https://h{}.test/{i}", i % 7))
            .collect();
        let mut unique = UniqueUrls::new();
        for url in &urls {
            unique.insert(url);
        }
        for run in 0..2usize {
            let mut history = RunHistory::open(&flags(), dir.path()).unwrap();
            history.stored_after_the_checks = stored_after_the_checks;
            let mut recording = history.start_recording(&unique).unwrap();
            for (i, url) in urls.iter().enumerate() {
                let result = CheckResult::unrequested(url, crate::check::Verdict::Ok, None);
                recording.add(i as u32, Arc::new(result), false);
            }
            let tracked = history.finish_recording(recording).unwrap().unwrap();
            let last = tracked.get(999).unwrap().expect("a standing for every URL");
            let expected = [history::Change::New, history::Change::Unchanged][run];
            assert_eq!(last.change, expected);
            let series = history.record_health(run + 1, 1000).unwrap();
            let counts: Vec<_> = series.iter().map(|&(_, a, c)| (a, c)).collect();
            assert_eq!(counts, [(1, 1000), (2, 1000)][..=run]);
            history.settle().unwrap();
        }
        let store = History::open(&path).unwrap();
        for url in [&urls[0], &urls[500], &urls[999]] {
            assert_eq!(store.timeline(url).unwrap().len(), 2, "{url}");
        }
        let diff = store.diff().unwrap().unwrap();
        assert_eq!(diff.run.urls, 1000);
        assert_eq!(store.run_health(10).unwrap().len(), 2);
    }

    #[test]
    fn ages_parse_with_units_up_to_days() {
        assert_eq!(parse_age("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_age("12h"), Ok(Duration::from_secs(43_200)));
        assert_eq!(parse_age("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_age("0"), Ok(Duration::ZERO));
        assert!(parse_age("1w").is_err());
        assert!(parse_age("soon").is_err());
    }
}
