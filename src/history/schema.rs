//! The history file's schema and its migrations.
//!
//! `PRAGMA user_version` holds the number of migrations applied; a file with
//! a higher number was written by a newer linkrot and is refused, never
//! rewritten. `PRAGMA application_id` marks the file as linkrot's so another
//! program's SQLite database is never migrated by mistake.

/// `PRAGMA application_id` of a linkrot history file ("LKRT").
pub const APPLICATION_ID: i64 = 0x4C4B_5254;

/// Each migration, in order; migration `i` brings the file to version `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // Version 1. Times are Unix milliseconds (UTC).
    "
    CREATE TABLE runs (
        id              INTEGER PRIMARY KEY,
        started_at      INTEGER NOT NULL,
        finished_at     INTEGER NOT NULL,
        linkrot_version TEXT NOT NULL,
        urls            INTEGER NOT NULL
    );
    -- One row per URL per run: what the run reported for it.
    CREATE TABLE checks (
        run_id               INTEGER NOT NULL REFERENCES runs(id),
        url                  TEXT NOT NULL,
        verdict              TEXT NOT NULL,
        status               INTEGER,
        final_url            TEXT,
        chain                TEXT NOT NULL,   -- JSON array of hops
        error                TEXT,
        method               TEXT,
        attempts             INTEGER NOT NULL,
        elapsed_ms           INTEGER NOT NULL,
        checked_at           INTEGER NOT NULL,
        content_type         TEXT,
        content_length       INTEGER,
        insecure             INTEGER NOT NULL,
        source               TEXT NOT NULL CHECK (source IN ('network', 'history')),
        state                TEXT NOT NULL,
        change               TEXT NOT NULL,
        consecutive_failures INTEGER NOT NULL,
        fingerprint          INTEGER,         -- content SimHash (drift), when computed
        PRIMARY KEY (run_id, url)
    ) WITHOUT ROWID;
    CREATE INDEX checks_by_url ON checks (url, run_id);
    -- One row per URL: its standing after the latest run that saw it.
    CREATE TABLE urls (
        url                  TEXT PRIMARY KEY,
        first_seen           INTEGER NOT NULL,
        last_checked         INTEGER NOT NULL,
        last_ok              INTEGER,
        first_failed         INTEGER,
        consecutive_failures INTEGER NOT NULL,
        dead_since           INTEGER,
        state                TEXT NOT NULL,
        last_run             INTEGER NOT NULL REFERENCES runs(id)
    ) WITHOUT ROWID;
    ",
    // Version 2: citation health per run, for the report's chart over time.
    // Null for runs written before it, which the chart leaves out.
    "
    ALTER TABLE runs ADD COLUMN citations_alive INTEGER;
    ALTER TABLE runs ADD COLUMN citations_counted INTEGER;
    ",
];

/// The schema version this build writes.
pub fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}
