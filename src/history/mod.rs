//! The embedded store of past runs (SQLite), and the dead-link policy that
//! reads it.
//!
//! Every run records what it found for each URL in one SQLite file
//! (`reports/linkrot.sqlite` by default): verdict, status, final URL, the
//! redirect chain, the error and the time. The [`policy`] folds each new
//! check into the URL's standing (alive, failing, dead), so a citation is
//! declared dead only after failing on several runs spread over days, and a
//! URL found alive recently can be served from the file instead of being
//! requested again.
//!
//! The file is opened in WAL mode with a busy timeout, and a run writes all
//! its rows in one `BEGIN IMMEDIATE` transaction: two runs on one file at
//! once simply take turns. A file this build cannot read (not SQLite,
//! corrupted, another program's database, a newer schema) is refused with an
//! error naming it, and left exactly as it was.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use crate::check::{CheckResult, RedirectHop, Verdict};

pub mod policy;
pub mod schema;

pub use policy::{Change, Evidence, FailOn, Policy, State, Tracked, UrlStatus};

/// Where the history lives unless `--history` says otherwise.
pub const DEFAULT_PATH: &str = "reports/linkrot.sqlite";

/// How long a run waits for another run holding the file.
const BUSY_TIMEOUT: Duration = Duration::from_secs(120);

/// Why the history file could not be used. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// Not a SQLite database, or a damaged one.
    #[error(
        "{}: history file is unreadable ({reason}); it was left untouched: move it aside or choose another file with --history",
        path.display()
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// SQLite's words.
        reason: String,
    },
    /// A SQLite database that linkrot did not write.
    #[error(
        "{}: not a linkrot history file ({reason}); it was left untouched: choose another file with --history",
        path.display()
    )]
    Foreign {
        /// The file.
        path: PathBuf,
        /// What gave it away.
        reason: String,
    },
    /// Written by a newer linkrot.
    #[error(
        "{}: history schema version {found} is newer than this linkrot understands ({supported}); upgrade linkrot or choose another file with --history",
        path.display()
    )]
    Newer {
        /// The file.
        path: PathBuf,
        /// The file's `user_version`.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// `linkrot history` / `diff` on a file that does not exist.
    #[error("{}: no history file (run `linkrot check` first, or name one with --history)", path.display())]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// Any other SQLite failure.
    #[error("{}: {error}", path.display())]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        error: rusqlite::Error,
    },
    /// The folder for the file could not be created.
    #[error("cannot write the history file {}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        error: std::io::Error,
    },
}

/// One URL's result as a run hands it to the history.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    /// The result.
    pub result: &'a CheckResult,
    /// The time the policy counts this check at (Unix ms): the check's own
    /// time, or the injected clock in tests.
    pub at: i64,
    /// The result was served from the history, not requested.
    pub from_history: bool,
    /// Content SimHash, when the run computed one.
    pub fingerprint: Option<i64>,
}

/// What [`History::record_run`] returns.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// The run's id in the file.
    pub run_id: i64,
    /// Each URL's standing after the run, keyed by [`CheckResult::url`].
    pub tracked: HashMap<String, Arc<Tracked>>,
}

/// One line of `linkrot history URL`.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    /// The run.
    pub run_id: i64,
    /// When the check was made (Unix ms).
    pub checked_at: i64,
    /// What it found.
    pub verdict: String,
    /// The final HTTP status.
    pub status: Option<u16>,
    /// Where the chain ended.
    pub final_url: Option<String>,
    /// The failure's cause.
    pub error: Option<String>,
    /// Served from the history instead of requested.
    pub from_history: bool,
    /// Standing after this run.
    pub state: String,
    /// Change against the run before.
    pub change: String,
    /// Failing checks in a row after this run.
    pub consecutive_failures: u32,
}

/// A run as the `runs` table records it.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    /// The run's id.
    pub id: i64,
    /// When it started (Unix ms).
    pub started_at: i64,
    /// How many URLs it recorded.
    pub urls: i64,
}

/// What changed between the latest run and the one before (`linkrot diff`).
#[derive(Debug, Clone, Serialize)]
pub struct RunDiff {
    /// The latest run.
    pub run: RunInfo,
    /// The run before it, if any.
    pub previous: Option<RunInfo>,
    /// URLs of the latest run whose standing changed, most serious first.
    pub changed: Vec<TimelineChange>,
    /// URLs the previous run had and the latest one does not.
    pub gone: Vec<String>,
}

/// One changed URL in a [`RunDiff`].
#[derive(Debug, Clone, Serialize)]
pub struct TimelineChange {
    /// The URL.
    pub url: String,
    /// Its check in the latest run.
    pub entry: TimelineEntry,
}

/// A redirect hop as stored in the `chain` column.
#[derive(Debug, Serialize, Deserialize)]
struct StoredHop {
    url: String,
    status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resolved: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    remote_addr: Option<SocketAddr>,
    elapsed_ms: u64,
}

impl From<&RedirectHop> for StoredHop {
    fn from(hop: &RedirectHop) -> StoredHop {
        StoredHop {
            url: hop.url.clone(),
            status: hop.status,
            location: hop.location.clone(),
            resolved: hop.resolved.clone(),
            remote_addr: hop.remote_addr,
            elapsed_ms: hop.elapsed_ms,
        }
    }
}

impl From<StoredHop> for RedirectHop {
    fn from(hop: StoredHop) -> RedirectHop {
        RedirectHop {
            url: hop.url,
            status: hop.status,
            location: hop.location,
            resolved: hop.resolved,
            remote_addr: hop.remote_addr,
            elapsed_ms: hop.elapsed_ms,
        }
    }
}

/// Converts a time to the Unix milliseconds the file stores.
pub fn millis(at: jiff::Timestamp) -> i64 {
    at.as_millisecond()
}

/// Formats stored Unix milliseconds as RFC 3339 UTC.
pub fn rfc3339(ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(at) => at.to_string(),
        Err(_) => ms.to_string(),
    }
}

/// Runs `f` again while the file is locked by another process, for up to
/// [`BUSY_TIMEOUT`]: for the statements SQLite's own busy handler does not
/// cover.
fn retry_while_busy<T>(mut f: impl FnMut() -> Result<T, HistoryError>) -> Result<T, HistoryError> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match f() {
            Err(HistoryError::Sqlite { error, .. })
                if is_busy(&error) && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// An open history file.
#[derive(Debug)]
pub struct History {
    conn: Connection,
    path: PathBuf,
    /// The open run may find standings from earlier runs: false on a first
    /// run, which then skips a lookup per URL.
    has_standings: bool,
}

impl History {
    /// Opens (or creates) the history file, migrating it to the latest schema.
    pub fn open(path: &Path) -> Result<History, HistoryError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|error| HistoryError::Io {
                path: path.to_path_buf(),
                error,
            })?;
        }
        let conn = Connection::open(path).map_err(sqlite(path))?;
        let mut history = History {
            conn,
            path: path.to_path_buf(),
            has_standings: true,
        };
        history.prepare()?;
        Ok(history)
    }

    /// Opens a history file that must already exist (`linkrot history`, `diff`).
    pub fn open_existing(path: &Path) -> Result<History, HistoryError> {
        if !path.is_file() {
            return Err(HistoryError::Missing {
                path: path.to_path_buf(),
            });
        }
        History::open(path)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Validates the file, switches it to WAL and applies pending migrations.
    /// Nothing is written before the file is known to be ours (or empty).
    fn prepare(&mut self) -> Result<(), HistoryError> {
        let path = self.path.clone();
        self.conn
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(sqlite(&path))?;
        let read_i64 = |conn: &Connection, sql: &str| -> Result<i64, HistoryError> {
            conn.query_row(sql, [], |row| row.get(0))
                .map_err(sqlite(&path))
        };
        // One read transaction, so the three values come from one state of
        // the file: read apart, a second process migrating a fresh file in
        // between made it look like a foreign database.
        // (The transaction only reads; dropping it rolls back.)
        let (application_id, version, objects) = retry_while_busy(|| {
            let tx = self.conn.transaction().map_err(sqlite(&path))?;
            Ok((
                read_i64(&tx, "PRAGMA application_id")?,
                read_i64(&tx, "PRAGMA user_version")?,
                read_i64(&tx, "SELECT count(*) FROM sqlite_schema")?,
            ))
        })?;
        let fresh = application_id == 0 && version == 0 && objects == 0;
        if application_id != schema::APPLICATION_ID && !fresh {
            let reason = if application_id == 0 {
                format!("a SQLite database with {objects} schema objects and no linkrot mark")
            } else {
                format!("a SQLite database with application_id {application_id:#x}")
            };
            return Err(HistoryError::Foreign { path, reason });
        }
        let latest = schema::latest_version();
        if version > latest {
            return Err(HistoryError::Newer {
                path,
                found: version,
                supported: latest,
            });
        }
        // WAL lets a reader (a second run looking up its cache) work while a
        // writer commits; NORMAL sync is durable enough under WAL.
        // Changing the journal mode does not wait for another process's
        // lock (SQLite's busy handler is not called for it): retried here.
        let _mode: String = retry_while_busy(|| {
            self.conn
                .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
                .map_err(sqlite(&path))
        })?;
        self.conn
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(sqlite(&path))?;
        // A run is recorded in one transaction; with SQLite's 2 MiB default
        // page cache, a run of 100,000 URLs spilled dirty pages to the WAL
        // and read them back: 4.4 s after the last answer, 3.0 s with 8 MiB
        // (2.5 s with 32 MiB, at 25 MiB more peak memory for 20,000 URLs).
        // Pages are allocated only as used, so small runs pay nothing.
        self.conn
            .pragma_update(None, "cache_size", -8_192)
            .map_err(sqlite(&path))?;
        if version < latest {
            self.migrate()?;
        }
        Ok(())
    }

    /// Applies the migrations the file lacks, in one immediate transaction:
    /// a second process opening a fresh file waits, then finds it migrated.
    fn migrate(&mut self) -> Result<(), HistoryError> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sqlite(&path))?;
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(sqlite(&path))?;
        let latest = schema::latest_version();
        if version > latest {
            return Err(HistoryError::Newer {
                path,
                found: version,
                supported: latest,
            });
        }
        for migration in &schema::MIGRATIONS[version as usize..] {
            tx.execute_batch(migration).map_err(sqlite(&path))?;
        }
        tx.pragma_update(None, "user_version", latest)
            .map_err(sqlite(&path))?;
        tx.pragma_update(None, "application_id", schema::APPLICATION_ID)
            .map_err(sqlite(&path))?;
        tx.commit().map_err(sqlite(&path))
    }

    /// Results of URLs found alive within `max_age_ms` before `now`: the run
    /// may report these without requesting them again. Only the latest
    /// network check of each URL counts, so a URL that failed since is
    /// always rechecked.
    pub fn fresh_results<'u>(
        &self,
        urls: impl IntoIterator<Item = &'u str>,
        now: i64,
        max_age_ms: i64,
    ) -> Result<HashMap<String, CheckResult>, HistoryError> {
        let path = &self.path;
        if !self.has_checks()? {
            return Ok(HashMap::new());
        }
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT verdict, status, final_url, chain, error, method, attempts, elapsed_ms,
                        checked_at, content_type, content_length, insecure
                 FROM checks WHERE url = ?1 AND source = 'network'
                 ORDER BY run_id DESC LIMIT 1",
            )
            .map_err(sqlite(path))?;
        let oldest = now.saturating_sub(max_age_ms);
        let mut fresh = HashMap::new();
        for url in urls {
            let row = stmt
                .query_row([url], |row| {
                    Ok(StoredCheck {
                        verdict: row.get(0)?,
                        status: row.get(1)?,
                        final_url: row.get(2)?,
                        chain: row.get(3)?,
                        error: row.get(4)?,
                        method: row.get(5)?,
                        attempts: row.get(6)?,
                        elapsed_ms: row.get(7)?,
                        checked_at: row.get(8)?,
                        content_type: row.get(9)?,
                        content_length: row.get(10)?,
                        insecure: row.get(11)?,
                    })
                })
                .optional()
                .map_err(sqlite(path))?;
            let Some(stored) = row else { continue };
            if stored.checked_at < oldest {
                continue;
            }
            match stored.into_result(url) {
                Some(result) if result.verdict.is_alive() => {
                    fresh.insert(url.to_string(), result);
                }
                _ => {}
            }
        }
        Ok(fresh)
    }

    /// Stores a run's citation health: footnote citations alive, out of
    /// those counted.
    pub fn set_run_health(
        &self,
        run_id: i64,
        alive: usize,
        counted: usize,
    ) -> Result<(), HistoryError> {
        self.conn
            .execute(
                "UPDATE runs SET citations_alive = ?2, citations_counted = ?3 WHERE id = ?1",
                params![run_id, alive as i64, counted as i64],
            )
            .map_err(sqlite(&self.path))?;
        Ok(())
    }

    /// Citation health of the latest `limit` runs that stored it, oldest
    /// first: (finished_at ms, alive, counted).
    pub fn run_health(&self, limit: usize) -> Result<Vec<(i64, usize, usize)>, HistoryError> {
        let path = &self.path;
        let mut stmt = self
            .conn
            .prepare(
                "SELECT finished_at, citations_alive, citations_counted FROM runs
                 WHERE citations_counted IS NOT NULL ORDER BY id DESC LIMIT ?1",
            )
            .map_err(sqlite(path))?;
        let mut series = stmt
            .query_map([limit as i64], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?.max(0) as usize,
                    row.get::<_, i64>(2)?.max(0) as usize,
                ))
            })
            .map_err(sqlite(path))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sqlite(path))?;
        series.reverse();
        Ok(series)
    }

    /// The latest content fingerprint stored for each URL, for drift: the
    /// page as it read the last time its text was judged, whether or not
    /// later runs served it from the cache.
    pub fn last_fingerprints<'u>(
        &self,
        urls: impl IntoIterator<Item = &'u str>,
    ) -> Result<HashMap<String, i64>, HistoryError> {
        let path = &self.path;
        if !self.has_checks()? {
            return Ok(HashMap::new());
        }
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT fingerprint FROM checks
                 WHERE url = ?1 AND fingerprint IS NOT NULL
                 ORDER BY run_id DESC LIMIT 1",
            )
            .map_err(sqlite(path))?;
        let mut found = HashMap::new();
        for url in urls {
            let fingerprint: Option<i64> = stmt
                .query_row([url], |row| row.get(0))
                .optional()
                .map_err(sqlite(path))?;
            if let Some(f) = fingerprint {
                found.insert(url.to_string(), f);
            }
        }
        Ok(found)
    }

    /// The history holds at least one check. A first run asks once instead
    /// of once per URL (20,000 lookups took a tenth of a second).
    fn has_checks(&self) -> Result<bool, HistoryError> {
        self.conn
            .query_row("SELECT EXISTS (SELECT 1 FROM checks)", [], |row| row.get(0))
            .map_err(sqlite(&self.path))
    }

    /// Records one run: folds each network observation into its URL's
    /// standing with `policy`, stores every row, and returns the standings.
    /// All of it is one transaction.
    pub fn record_run(
        &mut self,
        started_at: i64,
        finished_at: i64,
        observations: &[Observation<'_>],
        policy: &Policy,
    ) -> Result<RunRecord, HistoryError> {
        let run_id = self.begin_run(started_at)?;
        let mut tracked = HashMap::with_capacity(observations.len());
        for observation in observations {
            match self.record_check(run_id, observation, policy) {
                Ok(standing) => {
                    tracked.insert(observation.result.url.clone(), standing);
                }
                Err(err) => {
                    self.abandon_run();
                    return Err(err);
                }
            }
        }
        self.finish_run(run_id, finished_at, observations.len())?;
        Ok(RunRecord { run_id, tracked })
    }

    /// Opens the transaction of a run and inserts the run; returns its id.
    /// Follow with [`History::record_check`] for each URL, then
    /// [`History::finish_run`] (or [`History::abandon_run`]): a run is
    /// recorded whole or not at all, and checks can be recorded while
    /// others are still on the network.
    pub fn begin_run(&mut self, started_at: i64) -> Result<i64, HistoryError> {
        let map = sqlite(&self.path);
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(&map)?;
        let inserted = self.conn.execute(
            "INSERT INTO runs (started_at, finished_at, linkrot_version, urls) VALUES (?1, ?1, ?2, 0)",
            params![started_at, env!("CARGO_PKG_VERSION")],
        );
        if let Err(err) = inserted {
            self.abandon_run();
            return Err(map(err));
        }
        let run_id = self.conn.last_insert_rowid();
        let has_standings = self
            .conn
            .query_row("SELECT EXISTS (SELECT 1 FROM urls)", [], |row| row.get(0));
        match has_standings {
            Ok(known) => self.has_standings = known,
            Err(err) => {
                self.abandon_run();
                return Err(map(err));
            }
        }
        Ok(run_id)
    }

    /// The standing of `url` after the latest run that saw it.
    fn standing(&self, url: &str) -> Result<Option<UrlStatus>, HistoryError> {
        self.conn
            .prepare_cached(
                "SELECT first_seen, last_checked, last_ok, first_failed, consecutive_failures,
                        dead_since, state
                 FROM urls WHERE url = ?1",
            )
            .and_then(|mut get| {
                get.query_row([url], |row| {
                    Ok(UrlStatus {
                        first_seen: row.get(0)?,
                        last_checked: row.get(1)?,
                        last_ok: row.get(2)?,
                        first_failed: row.get(3)?,
                        consecutive_failures: row.get(4)?,
                        dead_since: row.get(5)?,
                        state: State::parse(&row.get::<_, String>(6)?).unwrap_or(State::Unknown),
                    })
                })
                .optional()
            })
            .map_err(sqlite(&self.path))
    }

    /// Folds one observation into its URL's standing and stores the check,
    /// inside the run [`History::begin_run`] opened.
    pub fn record_check(
        &mut self,
        run_id: i64,
        observation: &Observation<'_>,
        policy: &Policy,
    ) -> Result<Arc<Tracked>, HistoryError> {
        let tracked = Arc::new(self.assess(observation, policy)?);
        self.store_check(run_id, observation, &tracked)?;
        Ok(tracked)
    }

    /// The standing `observation` gives its URL: the policy applied to the
    /// standing the latest run left. Reads only, so a run can work out its
    /// standings while its results come in and store them later
    /// ([`History::store_check`]) without holding the rows in memory.
    pub fn assess(
        &self,
        observation: &Observation<'_>,
        policy: &Policy,
    ) -> Result<Tracked, HistoryError> {
        let result = observation.result;
        let previous = if self.has_standings {
            self.standing(&result.url)?
        } else {
            None
        };
        let (status, change) = match (&previous, observation.from_history) {
            (Some(previous), true) => (previous.clone(), Change::Unchanged),
            _ => policy.apply(previous.as_ref(), Evidence::of(result), observation.at),
        };
        Ok(Tracked {
            status,
            change,
            from_history: observation.from_history,
        })
    }

    /// Stores one check and the standing [`History::assess`] gave it,
    /// inside the run [`History::begin_run`] opened.
    pub fn store_check(
        &mut self,
        run_id: i64,
        observation: &Observation<'_>,
        tracked: &Tracked,
    ) -> Result<(), HistoryError> {
        let map = sqlite(&self.path);
        let result = observation.result;
        let (status, change) = (&tracked.status, tracked.change);
        // No statement here can fail half-way (OR IGNORE, and an upsert on
        // a table of one B-tree), so SQLite keeps no statement journal: with
        // one, each row wrote a copy of every page it changed (4 KiB each),
        // 44% of the time a 200,000-URL run spent storing its rows.
        self.conn
            .prepare_cached(
                "INSERT INTO urls (url, first_seen, last_checked, last_ok, first_failed,
                        consecutive_failures, dead_since, state, last_run)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (url) DO UPDATE SET first_seen = excluded.first_seen,
                        last_checked = excluded.last_checked, last_ok = excluded.last_ok,
                        first_failed = excluded.first_failed,
                        consecutive_failures = excluded.consecutive_failures,
                        dead_since = excluded.dead_since, state = excluded.state,
                        last_run = excluded.last_run",
            )
            .map_err(&map)?
            .execute(params![
                result.url,
                status.first_seen,
                status.last_checked,
                status.last_ok,
                status.first_failed,
                status.consecutive_failures,
                status.dead_since,
                status.state.as_str(),
                run_id,
            ])
            .map_err(&map)?;
        let chain: Vec<StoredHop> = result.chain.iter().map(StoredHop::from).collect();
        let chain = serde_json::to_string(&chain).unwrap_or_else(|_| "[]".to_string());
        self.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO checks (run_id, url, verdict, status, final_url, chain, error,
                        method, attempts, elapsed_ms, checked_at, content_type, content_length,
                        insecure, source, state, change, consecutive_failures, fingerprint)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                         ?17, ?18, ?19)",
            )
            .map_err(&map)?
            .execute(params![
                run_id,
                result.url,
                result.verdict.as_str(),
                result.status,
                result.final_url,
                chain,
                result.error,
                result.method,
                result.attempts,
                result.elapsed_ms as i64,
                observation.at,
                result.content_type,
                result.content_length.map(|n| n as i64),
                result.insecure,
                if observation.from_history {
                    "history"
                } else {
                    "network"
                },
                status.state.as_str(),
                change.as_str(),
                status.consecutive_failures,
                observation.fingerprint,
            ])
            .map_err(&map)?;
        Ok(())
    }

    /// Completes the run [`History::begin_run`] opened: its end time and
    /// number of URLs, then the commit.
    pub fn finish_run(
        &mut self,
        run_id: i64,
        finished_at: i64,
        urls: usize,
    ) -> Result<(), HistoryError> {
        self.mark_finished(run_id, finished_at, urls)?;
        self.commit_run()
    }

    /// Stamps the run in progress with its end and its number of URLs,
    /// without committing it yet.
    pub fn mark_finished(
        &mut self,
        run_id: i64,
        finished_at: i64,
        urls: usize,
    ) -> Result<(), HistoryError> {
        let done = self.conn.execute(
            "UPDATE runs SET finished_at = ?2, urls = ?3 WHERE id = ?1",
            params![run_id, finished_at, urls as i64],
        );
        if let Err(err) = done {
            self.abandon_run();
            return Err(sqlite(&self.path)(err));
        }
        Ok(())
    }

    /// Commits the run in progress.
    pub fn commit_run(&mut self) -> Result<(), HistoryError> {
        if let Err(err) = self.conn.execute_batch("COMMIT") {
            self.abandon_run();
            return Err(sqlite(&self.path)(err));
        }
        Ok(())
    }

    /// Rolls back the run in progress, if any: nothing of it is kept.
    pub fn abandon_run(&self) {
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }

    /// Every recorded check of one URL, oldest first.
    pub fn timeline(&self, url: &str) -> Result<Vec<TimelineEntry>, HistoryError> {
        let path = &self.path;
        let mut stmt = self
            .conn
            .prepare(&format!("{TIMELINE_SELECT} WHERE url = ?1 ORDER BY run_id"))
            .map_err(sqlite(path))?;
        let rows = stmt
            .query_map([url], |row| Ok(timeline_entry(row)?.1))
            .map_err(sqlite(path))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(sqlite(path))
    }

    /// What changed in the latest run, or `None` when no run is recorded.
    pub fn diff(&self) -> Result<Option<RunDiff>, HistoryError> {
        let path = &self.path;
        let mut runs_stmt = self
            .conn
            .prepare("SELECT id, started_at, urls FROM runs ORDER BY id DESC LIMIT 2")
            .map_err(sqlite(path))?;
        let runs = runs_stmt
            .query_map([], |row| {
                Ok(RunInfo {
                    id: row.get(0)?,
                    started_at: row.get(1)?,
                    urls: row.get(2)?,
                })
            })
            .map_err(sqlite(path))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sqlite(path))?;
        let mut runs = runs.into_iter();
        let Some(run) = runs.next() else {
            return Ok(None);
        };
        let previous = runs.next();
        let mut stmt = self
            .conn
            .prepare(&format!(
                "{TIMELINE_SELECT} WHERE run_id = ?1 AND change <> 'unchanged' ORDER BY url"
            ))
            .map_err(sqlite(path))?;
        let mut changed = stmt
            .query_map([run.id], |row| {
                let (url, entry) = timeline_entry(row)?;
                Ok(TimelineChange { url, entry })
            })
            .map_err(sqlite(path))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sqlite(path))?;
        changed.sort_by_key(|c| {
            let rank = Change::parse(&c.entry.change).map_or(9, |change| match change {
                Change::NewlyDead => 0,
                Change::NewlyFailing => 1,
                Change::Recovered => 2,
                Change::New => 3,
                Change::Unchanged => 4,
            });
            (rank, c.url.clone())
        });
        let gone = match &previous {
            None => Vec::new(),
            Some(previous) => {
                let mut stmt = self
                    .conn
                    .prepare(
                        "SELECT url FROM checks WHERE run_id = ?1
                         AND url NOT IN (SELECT url FROM checks WHERE run_id = ?2) ORDER BY url",
                    )
                    .map_err(sqlite(path))?;
                stmt.query_map([previous.id, run.id], |row| row.get(0))
                    .map_err(sqlite(path))?
                    .collect::<Result<Vec<String>, _>>()
                    .map_err(sqlite(path))?
            }
        };
        Ok(Some(RunDiff {
            run,
            previous,
            changed,
            gone,
        }))
    }
}

const TIMELINE_SELECT: &str =
    "SELECT url, run_id, checked_at, verdict, status, final_url, error, source,
        state, change, consecutive_failures FROM checks";

fn timeline_entry(row: &rusqlite::Row<'_>) -> rusqlite::Result<(String, TimelineEntry)> {
    Ok((
        row.get(0)?,
        TimelineEntry {
            run_id: row.get(1)?,
            checked_at: row.get(2)?,
            verdict: row.get(3)?,
            status: row.get(4)?,
            final_url: row.get(5)?,
            error: row.get(6)?,
            from_history: row.get::<_, String>(7)? == "history",
            state: row.get(8)?,
            change: row.get(9)?,
            consecutive_failures: row.get(10)?,
        },
    ))
}

/// A `checks` row read back to rebuild a [`CheckResult`].
struct StoredCheck {
    verdict: String,
    status: Option<u16>,
    final_url: Option<String>,
    chain: String,
    error: Option<String>,
    method: Option<String>,
    attempts: u32,
    elapsed_ms: i64,
    checked_at: i64,
    content_type: Option<String>,
    content_length: Option<i64>,
    insecure: bool,
}

impl StoredCheck {
    /// `None` when the row names a verdict this build does not know.
    fn into_result(self, url: &str) -> Option<CheckResult> {
        let verdict = Verdict::parse(&self.verdict)?;
        let chain: Vec<StoredHop> = serde_json::from_str(&self.chain).ok()?;
        Some(CheckResult {
            url: url.to_string(),
            verdict,
            status: self.status,
            final_url: self.final_url,
            chain: chain.into_iter().map(RedirectHop::from).collect(),
            error: self.error,
            method: match self.method.as_deref() {
                Some("HEAD") => Some("HEAD"),
                Some("GET") => Some("GET"),
                _ => None,
            },
            attempts: self.attempts,
            elapsed_ms: u64::try_from(self.elapsed_ms).unwrap_or(0),
            checked_at: jiff::Timestamp::from_millisecond(self.checked_at).ok()?,
            content_type: self.content_type,
            content_length: self.content_length.and_then(|n| u64::try_from(n).ok()),
            insecure: self.insecure,
            body_prefix: None,
            reasons: Vec::new(),
            drift: None,
            fingerprint: None,
            missing_fragments: Vec::new(),
        })
    }
}

/// Maps a SQLite error to a [`HistoryError`] naming the file; a damaged or
/// non-database file gets its own kind.
fn sqlite(path: &Path) -> impl Fn(rusqlite::Error) -> HistoryError + '_ {
    move |error| match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => HistoryError::Corrupt {
            path: path.to_path_buf(),
            reason: error.to_string(),
        },
        _ => HistoryError::Sqlite {
            path: path.to_path_buf(),
            error,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(url: &str, verdict: Verdict, status: Option<u16>) -> CheckResult {
        CheckResult {
            url: url.to_string(),
            verdict,
            status,
            final_url: Some(url.to_string()),
            chain: vec![RedirectHop {
                url: url.to_string(),
                status: status.unwrap_or(0),
                location: None,
                resolved: None,
                remote_addr: Some("127.0.0.1:80".parse().unwrap()),
                elapsed_ms: 3,
            }],
            error: None,
            method: Some("HEAD"),
            attempts: 1,
            elapsed_ms: 5,
            checked_at: jiff::Timestamp::from_second(1_700_000_000).unwrap(),
            content_type: Some("text/html".into()),
            content_length: Some(12),
            insecure: false,
            body_prefix: None,
            reasons: Vec::new(),
            drift: None,
            fingerprint: None,
            missing_fragments: Vec::new(),
        }
    }

    fn observe(result: &CheckResult, day: i64) -> Observation<'_> {
        Observation {
            result,
            at: day * policy::DAY_MS,
            from_history: false,
            fingerprint: None,
        }
    }

    #[test]
    fn records_runs_and_folds_the_policy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/h.sqlite");
        let mut history = History::open(&path).unwrap();
        let down = result("https://a.test/down", Verdict::ServerError, Some(503));
        let up = result("https://a.test/up", Verdict::Ok, Some(200));
        let policy = Policy::default();
        for day in [0, 2, 4] {
            let record = history
                .record_run(day, day, &[observe(&down, day), observe(&up, day)], &policy)
                .unwrap();
            let down_status = &record.tracked["https://a.test/down"];
            let expected = if day == 4 {
                State::Dead
            } else {
                State::Failing
            };
            assert_eq!(down_status.status.state, expected);
        }
        let timeline = history.timeline("https://a.test/down").unwrap();
        let changes: Vec<_> = timeline.iter().map(|e| e.change.as_str()).collect();
        assert_eq!(changes, ["new", "unchanged", "newly_dead"]);
        assert_eq!(timeline[2].consecutive_failures, 3);
        let diff = history.diff().unwrap().unwrap();
        assert_eq!(diff.changed.len(), 1);
        assert_eq!(diff.changed[0].url, "https://a.test/down");
        assert!(diff.gone.is_empty());
    }

    fn count(h: &History, table: &str) -> i64 {
        h.conn
            .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn assessing_reads_only_and_storing_keeps_what_it_gave() {
        let dir = tempfile::tempdir().unwrap();
        let mut history = History::open(&dir.path().join("h.sqlite")).unwrap();
        let down = result("https://a.test/down", Verdict::ServerError, Some(503));
        let policy = Policy::default();
        let rows = |h: &History| count(h, "checks") + count(h, "urls");
        let first = history.record_run(0, 0, &[observe(&down, 0)], &policy);
        assert_eq!(first.unwrap().tracked.len(), 1);
        let run = history.begin_run(2 * policy::DAY_MS).unwrap();
        let before = rows(&history);
        let tracked = history.assess(&observe(&down, 2), &policy).unwrap();
        assert_eq!(rows(&history), before, "assessing wrote a row");
        // The standing folds in the earlier run's failure.
        assert_eq!(tracked.status.consecutive_failures, 2);
        assert_eq!(tracked.change, Change::Unchanged);
        history
            .store_check(run, &observe(&down, 2), &tracked)
            .unwrap();
        history.finish_run(run, 2 * policy::DAY_MS, 1).unwrap();
        let timeline = history.timeline("https://a.test/down").unwrap();
        assert_eq!(timeline.len(), 2);
        assert_eq!(timeline[1].consecutive_failures, 2);
        assert_eq!(timeline[1].state, tracked.status.state.as_str());
    }

    #[test]
    fn a_run_recorded_check_by_check_is_kept_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let mut history = History::open(&dir.path().join("h.sqlite")).unwrap();
        let up = result("https://a.test/up", Verdict::Ok, Some(200));
        let policy = Policy::default();
        // Abandoned half-way: no run, no check, no URL standing.
        let run = history.begin_run(0).unwrap();
        history
            .record_check(run, &observe(&up, 0), &policy)
            .unwrap();
        history.abandon_run();
        assert_eq!(count(&history, "runs"), 0);
        assert_eq!(count(&history, "checks"), 0);
        assert_eq!(count(&history, "urls"), 0);
        // Finished: the run row gets its end time and URL count.
        let run = history.begin_run(1_000).unwrap();
        let standing = history
            .record_check(run, &observe(&up, 0), &policy)
            .unwrap();
        assert_eq!(standing.status.state, State::Alive);
        history.finish_run(run, 5_000, 1).unwrap();
        let (finished, urls): (i64, i64) = history
            .conn
            .query_row(
                "SELECT finished_at, urls FROM runs WHERE id = ?1",
                [run],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((finished, urls), (5_000, 1));
        assert_eq!(count(&history, "checks"), 1);
        assert!(history.has_checks().unwrap());
    }

    #[test]
    fn serves_recent_successes_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut history = History::open(&dir.path().join("h.sqlite")).unwrap();
        let up = result("https://a.test/up", Verdict::Moved, Some(200));
        let down = result("https://a.test/down", Verdict::Timeout, None);
        history
            .record_run(
                0,
                0,
                &[observe(&up, 0), observe(&down, 0)],
                &Policy::default(),
            )
            .unwrap();
        let urls = [
            "https://a.test/up",
            "https://a.test/down",
            "https://a.test/never",
        ];
        let fresh = history
            .fresh_results(urls, policy::DAY_MS / 2, policy::DAY_MS)
            .unwrap();
        assert_eq!(fresh.len(), 1);
        let cached = &fresh["https://a.test/up"];
        assert_eq!(cached.verdict, Verdict::Moved);
        assert_eq!(cached.chain, up.chain);
        assert_eq!(cached.method, Some("HEAD"));
        let stale = history
            .fresh_results(urls, 2 * policy::DAY_MS, policy::DAY_MS)
            .unwrap();
        assert!(stale.is_empty());
    }

    #[test]
    fn refuses_files_it_cannot_read_and_leaves_them_alone() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = dir.path().join("garbage.sqlite");
        let bytes = b"this is not a database, it is a shopping list\n".repeat(100);
        std::fs::write(&garbage, &bytes).unwrap();
        let err = History::open(&garbage).unwrap_err();
        assert!(matches!(err, HistoryError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("garbage.sqlite"), "{err}");
        assert_eq!(std::fs::read(&garbage).unwrap(), bytes);

        let foreign = dir.path().join("other.sqlite");
        let conn = Connection::open(&foreign).unwrap();
        conn.execute_batch("CREATE TABLE notes (body TEXT)")
            .unwrap();
        drop(conn);
        let err = History::open(&foreign).unwrap_err();
        assert!(matches!(err, HistoryError::Foreign { .. }), "{err}");

        let newer = dir.path().join("newer.sqlite");
        drop(History::open(&newer).unwrap());
        let conn = Connection::open(&newer).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let before = std::fs::read(&newer).unwrap();
        let err = History::open(&newer).unwrap_err();
        assert!(
            matches!(err, HistoryError::Newer { found: 99, .. }),
            "{err}"
        );
        assert_eq!(std::fs::read(&newer).unwrap(), before);
    }
}
