//! The dead-link policy, after the Internet Archive's dead-link bot
//! (InternetArchiveBot): one bad hour must never declare a citation dead.
//!
//! Every check is read as a piece of [`Evidence`]. Transient failures
//! (timeouts, refused connections, 5xx, TLS and protocol errors) make a URL
//! [`State::Failing`]; it becomes [`State::Dead`] only after `dead_after`
//! consecutive failing checks spanning at least `dead_after_days` days. One
//! success resets the streak. `blocked` (401, 403, 429...) never counts
//! either way: the server answered, it just refused us. Hard evidence (404,
//! 410, a name that does not exist, a redirect loop) counts toward dead like
//! any failure, and [`FailOn`]'s default fails the run on it at once.
//!
//! Everything here is pure: times are Unix milliseconds handed in by the
//! caller, so tests drive the policy with any clock they like.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::check::{CheckResult, Reason, Verdict};

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// What one check says about whether a URL still leads somewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Evidence {
    /// The page answered 2xx (possibly after redirects).
    Alive,
    /// A failure that may be a bad hour: counts toward dead, fails nothing alone.
    Transient,
    /// A failure that is an answer in itself: 404/410, a name that does not
    /// exist, a redirect loop, a URL that cannot be requested.
    Hard,
    /// Says nothing either way: refused (`blocked`) or never requested.
    Neutral,
}

impl Evidence {
    /// Reads one check result. `dns_error` is hard evidence only when the name
    /// does not exist; a resolver that timed out or asked us to try again is
    /// a transient failure like any other.
    pub fn of(result: &CheckResult) -> Evidence {
        match result.verdict {
            Verdict::Ok | Verdict::Redirected | Verdict::Moved => Evidence::Alive,
            Verdict::Timeout
            | Verdict::ConnectError
            | Verdict::ServerError
            | Verdict::TlsError
            | Verdict::HttpError
            | Verdict::TooManyRedirects => Evidence::Transient,
            Verdict::DnsError if dns_error_is_temporary(result.error.as_deref()) => {
                Evidence::Transient
            }
Verdict::Broken
            | Verdict::DnsError
            | Verdict::RedirectLoop
            | Verdict::InvalidUrl
            // The page answers like a made-up URL, or the domain is parked:
            // the content itself says the cited page is gone.
            | Verdict::Soft404
            | Verdict::Parked => {
                Evidence::Hard
            }
            Verdict::Blocked
            | Verdict::Placeholder
            | Verdict::UnsupportedScheme
            | Verdict::Excluded => Evidence::Neutral,
        }
    }

    /// A failure of either kind.
    pub fn is_failure(self) -> bool {
        matches!(self, Evidence::Transient | Evidence::Hard)
    }
}

/// The resolver's own words for "ask again later" (EAI_AGAIN, SERVFAIL,
/// a resolver timeout), as opposed to "no such name" (NXDOMAIN, EAI_NONAME).
fn dns_error_is_temporary(error: Option<&str>) -> bool {
    let Some(error) = error else { return false };
    let error = error.to_ascii_lowercase();
    [
        "temporary failure",
        "try again",
        "timed out",
        "timeout",
        "servfail",
    ]
    .iter()
    .any(|needle| error.contains(needle))
}

/// Where a URL stands after its latest check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Only neutral evidence so far (blocked, never requested).
    Unknown,
    /// The last check that said anything found the page.
    Alive,
    /// Failing, not (yet) confirmed dead.
    Failing,
    /// Failed `dead_after` times in a row over at least `dead_after_days` days.
    Dead,
}

impl State {
    /// The snake_case name used in reports and in the history file.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Unknown => "unknown",
            State::Alive => "alive",
            State::Failing => "failing",
            State::Dead => "dead",
        }
    }

    /// Parses a snake_case state name.
    pub fn parse(name: &str) -> Option<State> {
        [State::Unknown, State::Alive, State::Failing, State::Dead]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a URL's standing changed since the run that last saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Never seen before.
    New,
    /// Was failing or dead, answers again.
    Recovered,
    /// Was alive (or unknown), fails now.
    NewlyFailing,
    /// Crossed the dead threshold in this run.
    NewlyDead,
    /// Same standing as before.
    Unchanged,
}

impl Change {
    /// The snake_case name used in reports and in the history file.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::New => "new",
            Change::Recovered => "recovered",
            Change::NewlyFailing => "newly_failing",
            Change::NewlyDead => "newly_dead",
            Change::Unchanged => "unchanged",
        }
    }

    /// Parses a snake_case change name.
    pub fn parse(name: &str) -> Option<Change> {
        [
            Change::New,
            Change::Recovered,
            Change::NewlyFailing,
            Change::NewlyDead,
            Change::Unchanged,
        ]
        .into_iter()
        .find(|c| c.as_str() == name)
    }

    /// The trouble (if any) is news in this run: `--fail-on new` keeps these.
    pub fn is_news(self) -> bool {
        matches!(self, Change::New | Change::NewlyFailing | Change::NewlyDead)
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One URL's standing across runs. Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlStatus {
    /// The first check of this URL.
    pub first_seen: i64,
    /// The latest check that went over the network.
    pub last_checked: i64,
    /// The latest check that found the page alive.
    pub last_ok: Option<i64>,
    /// The first failure of the current streak.
    pub first_failed: Option<i64>,
    /// Failing checks in a row (neutral checks neither count nor break the streak).
    pub consecutive_failures: u32,
    /// When the URL was confirmed dead.
    pub dead_since: Option<i64>,
    /// The standing.
    pub state: State,
}

/// The thresholds of the dead-link policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Consecutive failing checks before a URL is dead (`--dead-after`).
    pub dead_after: u32,
    /// Days the failing streak must span (`--dead-after-days`).
    pub dead_after_days: u32,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            dead_after: 3,
            dead_after_days: 3,
        }
    }
}

impl Policy {
    /// Folds one check into a URL's standing. `previous` is `None` for a URL
    /// never seen before; `at` is the time of the check.
    pub fn apply(
        &self,
        previous: Option<&UrlStatus>,
        evidence: Evidence,
        at: i64,
    ) -> (UrlStatus, Change) {
        let mut status = previous.cloned().unwrap_or(UrlStatus {
            first_seen: at,
            last_checked: at,
            last_ok: None,
            first_failed: None,
            consecutive_failures: 0,
            dead_since: None,
            state: State::Unknown,
        });
        status.last_checked = at;
        match evidence {
            Evidence::Alive => {
                status.last_ok = Some(at);
                status.first_failed = None;
                status.consecutive_failures = 0;
                status.dead_since = None;
                status.state = State::Alive;
            }
            Evidence::Transient | Evidence::Hard => {
                let first_failed = *status.first_failed.get_or_insert(at);
                status.consecutive_failures = status.consecutive_failures.saturating_add(1);
                if status.state != State::Dead {
                    let span = at.saturating_sub(first_failed);
                    let enough_days = span >= i64::from(self.dead_after_days) * DAY_MS;
                    if status.consecutive_failures >= self.dead_after && enough_days {
                        status.state = State::Dead;
                        status.dead_since = Some(at);
                    } else {
                        status.state = State::Failing;
                    }
                }
            }
            Evidence::Neutral => {}
        }
        let change = match previous {
            None => Change::New,
            Some(previous) => match (previous.state, status.state) {
                (State::Failing | State::Dead, State::Alive) => Change::Recovered,
                (before, State::Dead) if before != State::Dead => Change::NewlyDead,
                (State::Alive | State::Unknown, State::Failing) => Change::NewlyFailing,
                _ => Change::Unchanged,
            },
        };
        (status, change)
    }
}

/// A URL's standing as one run left it: what a report row shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tracked {
    /// The standing after this run.
    pub status: UrlStatus,
    /// How it changed against the run that last saw the URL.
    pub change: Change,
    /// The result came from the history instead of a request.
    pub from_history: bool,
}

/// One condition `--fail-on` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FailCondition {
    /// This verdict, whatever the history says.
    Verdict(Verdict),
    /// Hard evidence: broken, dns_error for a missing name, redirect_loop, invalid_url.
    Hard,
    /// Failing or dead in the history.
    Failing,
    /// Confirmed dead by the policy.
    Dead,
    /// A content finding on the citation (`missing_fragment`, `drifted`, …),
    /// which otherwise only warns.
    Reason(Reason),
}

/// Which citations fail a run (`--fail-on`): verdict names, `hard`,
/// `failing`, `dead`, and `new`, which narrows the others to trouble that is
/// news in this run (`--fail-on dead,new`: only newly dead citations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailOn {
    /// Any of these fails a citation.
    pub conditions: BTreeSet<FailCondition>,
    /// Only when the row's change is news (new, newly_failing, newly_dead).
    pub only_news: bool,
}

impl FailOn {
    /// The default with history: hard evidence and confirmed dead.
    pub fn policy_default() -> FailOn {
        FailOn {
            conditions: [FailCondition::Hard, FailCondition::Dead].into(),
            only_news: false,
        }
    }

    /// The default without history (`--no-history`): with no memory to
    /// confirm anything, every failing verdict fails the run.
    pub fn verdict_default() -> FailOn {
        FailOn {
            conditions: Verdict::ALL
                .into_iter()
                .filter(|v| v.fails_by_default())
                .map(FailCondition::Verdict)
                .collect(),
            only_news: false,
        }
    }

    /// Whether a citation whose URL got `result` (and, with history, `tracked`)
    /// fails the run.
    /// `reasons` are the citation's own findings (its fragment included).
    pub fn fails(
        &self,
        result: &CheckResult,
        tracked: Option<&Tracked>,
        reasons: &[Reason],
    ) -> bool {
        let evidence = Evidence::of(result);
        let state = tracked.map(|t| t.status.state);
        let hit = self.conditions.iter().any(|condition| match *condition {
            FailCondition::Verdict(verdict) => result.verdict == verdict,
            FailCondition::Hard => evidence == Evidence::Hard,
            FailCondition::Failing => match state {
                Some(state) => matches!(state, State::Failing | State::Dead),
                None => evidence.is_failure(),
            },
            FailCondition::Dead => state == Some(State::Dead),
            FailCondition::Reason(reason) => reasons.contains(&reason),
        });
        hit && (!self.only_news || tracked.is_none_or(|t| t.change.is_news()))
    }
}

impl Default for FailOn {
    fn default() -> FailOn {
        FailOn::policy_default()
    }
}

impl FromStr for FailOn {
    type Err = String;

    /// Parses `broken,dead,new`: a comma-separated list; `new` alone narrows the default.
    fn from_str(list: &str) -> Result<FailOn, String> {
        let mut fail_on = FailOn {
            conditions: BTreeSet::new(),
            only_news: false,
        };
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let condition = match name {
                "new" => {
                    fail_on.only_news = true;
                    continue;
                }
                "hard" => FailCondition::Hard,
                "failing" => FailCondition::Failing,
                "dead" => FailCondition::Dead,
                other => match (Verdict::parse(other), Reason::parse(other)) {
                    (Some(verdict), _) => FailCondition::Verdict(verdict),
                    (None, Some(reason)) => FailCondition::Reason(reason),
                    (None, None) => {
                        let verdicts: Vec<&str> = Verdict::ALL.iter().map(|v| v.as_str()).collect();
                        return Err(format!(
                            "unknown --fail-on value '{other}' (expected hard, failing, dead, new, a reason such as missing_fragment, or a verdict: {})",
                            verdicts.join(", ")
                        ));
                    }
                },
            };
            fail_on.conditions.insert(condition);
        }
        if fail_on.conditions.is_empty() {
            if !fail_on.only_news {
                return Err("--fail-on needs at least one value".to_string());
            }
            fail_on.conditions = FailOn::policy_default().conditions;
        }
        Ok(fail_on)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(verdict: Verdict, error: Option<&str>) -> CheckResult {
        CheckResult {
            url: "https://a.test/x".into(),
            verdict,
            status: None,
            final_url: None,
            chain: Vec::new(),
            error: error.map(str::to_string),
            method: None,
            attempts: 1,
            elapsed_ms: 0,
            checked_at: jiff::Timestamp::UNIX_EPOCH,
            content_type: None,
            content_length: None,
            insecure: false,
            body_prefix: None,
            reasons: Vec::new(),
            drift: None,
            fingerprint: None,
            missing_fragments: Vec::new(),
        }
    }

    /// Runs a sequence of (evidence, day) checks and returns every step.
    fn run(policy: Policy, checks: &[(Evidence, f64)]) -> Vec<(UrlStatus, Change)> {
        let mut status = None;
        let mut steps = Vec::new();
        for &(evidence, day) in checks {
            let at = (day * DAY_MS as f64) as i64;
            let step = policy.apply(status.as_ref(), evidence, at);
            status = Some(step.0.clone());
            steps.push(step);
        }
        steps
    }

    #[test]
    fn three_failures_in_one_day_stay_failing() {
        let steps = run(
            Policy::default(),
            &[
                (Evidence::Transient, 0.0),
                (Evidence::Transient, 0.3),
                (Evidence::Transient, 0.9),
            ],
        );
        let last = &steps[2].0;
        assert_eq!(last.state, State::Failing);
        assert_eq!(last.consecutive_failures, 3);
        assert_eq!(last.dead_since, None);
        assert_eq!(steps[0].1, Change::New);
        assert_eq!(steps[2].1, Change::Unchanged);
    }

    #[test]
    fn three_failures_over_four_days_are_dead() {
        let steps = run(
            Policy::default(),
            &[
                (Evidence::Transient, 0.0),
                (Evidence::Transient, 2.0),
                (Evidence::Transient, 4.0),
            ],
        );
        assert_eq!(steps[1].0.state, State::Failing);
        assert_eq!(steps[2].0.state, State::Dead);
        assert_eq!(steps[2].0.dead_since, Some(4 * DAY_MS));
        assert_eq!(steps[2].0.first_failed, Some(0));
        assert_eq!(steps[2].1, Change::NewlyDead);
    }

    #[test]
    fn many_failures_too_close_wait_for_the_span() {
        let checks: Vec<_> = (0..10)
            .map(|i| (Evidence::Transient, i as f64 * 0.25))
            .collect();
        let steps = run(Policy::default(), &checks);
        assert!(steps.iter().all(|(s, _)| s.state == State::Failing));
        let steps = run(
            Policy::default(),
            &[checks.as_slice(), &[(Evidence::Transient, 3.0)]].concat(),
        );
        assert_eq!(steps.last().unwrap().0.state, State::Dead);
    }

    #[test]
    fn a_success_resets_the_streak() {
        let steps = run(
            Policy::default(),
            &[
                (Evidence::Transient, 0.0),
                (Evidence::Transient, 2.0),
                (Evidence::Alive, 3.0),
                (Evidence::Transient, 4.0),
            ],
        );
        assert_eq!(steps[2].1, Change::Recovered);
        assert_eq!(steps[2].0.last_ok, Some(3 * DAY_MS));
        assert_eq!(steps[2].0.first_failed, None);
        let last = &steps[3];
        assert_eq!(last.0.state, State::Failing);
        assert_eq!(last.0.consecutive_failures, 1);
        assert_eq!(last.0.first_failed, Some(4 * DAY_MS));
        assert_eq!(last.1, Change::NewlyFailing);
    }

    #[test]
    fn blocked_neither_counts_nor_resets() {
        let steps = run(
            Policy::default(),
            &[
                (Evidence::Transient, 0.0),
                (Evidence::Neutral, 1.0),
                (Evidence::Neutral, 2.0),
                (Evidence::Transient, 3.0),
            ],
        );
        assert_eq!(steps[2].0.consecutive_failures, 1);
        assert_eq!(steps[2].0.state, State::Failing);
        assert_eq!(steps[3].0.consecutive_failures, 2);
        let only_blocked = run(
            Policy::default(),
            &[(Evidence::Neutral, 0.0), (Evidence::Neutral, 5.0)],
        );
        assert_eq!(only_blocked[1].0.state, State::Unknown);
    }

    #[test]
    fn dead_stays_dead_until_a_success() {
        let steps = run(
            Policy {
                dead_after: 2,
                dead_after_days: 1,
            },
            &[
                (Evidence::Hard, 0.0),
                (Evidence::Hard, 1.0),
                (Evidence::Transient, 2.0),
                (Evidence::Alive, 3.0),
            ],
        );
        assert_eq!(steps[1].1, Change::NewlyDead);
        assert_eq!(steps[2].0.state, State::Dead);
        assert_eq!(steps[2].0.dead_since, Some(DAY_MS));
        assert_eq!(steps[2].1, Change::Unchanged);
        assert_eq!(steps[3].1, Change::Recovered);
        assert_eq!(steps[3].0.dead_since, None);
    }

    #[test]
    fn evidence_reads_verdicts() {
        assert_eq!(Evidence::of(&result(Verdict::Moved, None)), Evidence::Alive);
        assert_eq!(
            Evidence::of(&result(Verdict::ServerError, None)),
            Evidence::Transient
        );
        assert_eq!(Evidence::of(&result(Verdict::Broken, None)), Evidence::Hard);
        assert_eq!(
            Evidence::of(&result(Verdict::RedirectLoop, None)),
            Evidence::Hard
        );
        assert_eq!(
            Evidence::of(&result(Verdict::Blocked, None)),
            Evidence::Neutral
        );
        let missing = result(
            Verdict::DnsError,
            Some("dns error: failed to lookup address information: Name or service not known"),
        );
        assert_eq!(Evidence::of(&missing), Evidence::Hard);
        let flaky = result(
            Verdict::DnsError,
            Some("dns error: Temporary failure in name resolution"),
        );
        assert_eq!(Evidence::of(&flaky), Evidence::Transient);
    }

    #[test]
    fn fail_on_defaults_and_news() {
        let policy = Policy::default();
        let tracked = |evidence, prev: Option<&UrlStatus>, day: i64| {
            let (status, change) = policy.apply(prev, evidence, day * DAY_MS);
            Tracked {
                status,
                change,
                from_history: false,
            }
        };
        let defaults = FailOn::default();
        let broken = result(Verdict::Broken, None);
        let timeout = result(Verdict::Timeout, None);
        assert!(defaults.fails(&broken, Some(&tracked(Evidence::Hard, None, 0)), &[]));
        assert!(
            defaults.fails(&broken, None, &[]),
            "hard evidence fails without history"
        );
        assert!(!defaults.fails(&timeout, Some(&tracked(Evidence::Transient, None, 0)), &[]));
        assert!(FailOn::verdict_default().fails(&timeout, None, &[]));

        let failing: FailOn = "failing".parse().unwrap();
        assert!(failing.fails(&timeout, Some(&tracked(Evidence::Transient, None, 0)), &[]));

        // A URL already failing that is confirmed dead now is news; the next run is not.
        let first = tracked(Evidence::Transient, None, 0);
        let second = tracked(Evidence::Transient, Some(&first.status), 2);
        let third = tracked(Evidence::Transient, Some(&second.status), 4);
        let fourth = tracked(Evidence::Transient, Some(&third.status), 5);
        let newly_dead: FailOn = "dead,new".parse().unwrap();
        assert!(!newly_dead.fails(&timeout, Some(&second), &[]));
        assert!(newly_dead.fails(&timeout, Some(&third), &[]));
        assert!(!newly_dead.fails(&timeout, Some(&fourth), &[]));
        assert!(defaults.fails(&timeout, Some(&fourth), &[]));

        let only_news: FailOn = "new".parse().unwrap();
        assert_eq!(only_news.conditions, FailOn::policy_default().conditions);
        assert!(only_news.only_news);
        let by_verdict: FailOn = "blocked".parse().unwrap();
        assert!(by_verdict.fails(&result(Verdict::Blocked, None), None, &[]));
        assert!(!by_verdict.fails(&broken, None, &[]));
        let by_reason: FailOn = "missing_fragment".parse().unwrap();
        let ok = result(Verdict::Ok, None);
        assert!(by_reason.fails(&ok, None, &[Reason::MissingFragment]));
        assert!(!by_reason.fails(&ok, None, &[Reason::Drifted]));
        assert!(!FailOn::default().fails(&ok, None, &[Reason::MissingFragment]));
    }

    #[test]
    fn fail_on_rejects_unknown_names() {
        let err = "broken,gone".parse::<FailOn>().unwrap_err();
        assert!(err.contains("'gone'"), "{err}");
        assert!("".parse::<FailOn>().is_err());
    }
}
