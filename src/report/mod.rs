//! Stage 4: citations joined with their check results, written as CSV, JSON
//! and the other report formats.

use std::sync::Arc;

use crate::check::CheckResult;
use crate::scan::Citation;

pub mod scan_listing;

/// One citation and what its URL's check found: one report row.
///
/// Results are shared: a URL cited in three footnotes is checked once and
/// its result appears in three rows.
#[derive(Debug, Clone)]
pub struct AuditRow {
    /// Where and how the URL was cited.
    pub citation: Citation,
    /// What the check found.
    pub result: Arc<CheckResult>,
}
