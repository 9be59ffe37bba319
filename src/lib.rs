//! linkrot audits the citations in documents for link rot.
//!
//! The pipeline runs one way through its modules:
//!
//! ```text
//! scan (documents → footnotes → citations)
//!   → check (unique URLs → results)
//!     → archive (snapshots)
//!       → report (CSV, JSON, tables, HTML)
//! ```
//!
//! with [`history`] (the embedded store of past runs) and [`config`] beside
//! them, and [`cli`] at the edge. A module never reaches back up the
//! pipeline: the checker knows URLs, not footnotes; the report joins them.

pub mod archive;
pub mod check;
pub mod cli;
pub mod config;
pub mod history;
pub mod report;
pub mod scan;
