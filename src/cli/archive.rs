//! Flags shared by every command that archives (`check --archive`,
//! `warc capture`) and the step that runs the snapshots.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::archive::fetch::FetchOptions;
use crate::archive::warc::RunInfo;
use crate::archive::{ArchiveOptions, Archiver, Snapshot};

/// `--archive` and its companions.
#[derive(Debug, Clone, clap::Args)]
pub struct ArchiveArgs {
    /// Save a WARC snapshot of every live citation into DIR (default
    /// reports/archive/), with a CDXJ index beside the files.
    #[arg(
        long,
        value_name = "DIR",
        num_args = 0..=1,
        default_missing_value = crate::archive::DEFAULT_DIR
    )]
    pub archive: Option<PathBuf>,

    /// Start a new WARC file once the current one reaches SIZE (bytes, or
    /// with KiB/MiB/GiB).
    #[arg(long, value_name = "SIZE", default_value = "1GiB", value_parser = parse_size)]
    pub archive_max_file: u64,

    /// Store at most SIZE of each body; longer ones are cut and marked
    /// `WARC-Truncated: length`.
    #[arg(long, value_name = "SIZE", default_value = "50MiB", value_parser = parse_size)]
    pub archive_max_bytes: u64,

    /// Allow snapshots of loopback, private, link-local and other non-global
    /// addresses (refused by default; status checks are not affected).
    #[arg(long)]
    pub archive_private: bool,

    /// Who runs the archive, for the warcinfo record (a person or an
    /// institution).
    #[arg(long, value_name = "NAME")]
    pub archive_operator: Option<String>,

    /// Snapshots fetched at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..))]
    pub archive_concurrency: u32,
}

/// Parses `1048576`, `64KiB`, `50MiB`, `1GiB` (also `K`, `M`, `G`, `KB`…,
/// all binary).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("invalid size {text:?}: expected e.g. 50MiB"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(format!("invalid size {text:?}: unknown unit {unit:?}")),
    };
    let size = n
        .checked_mul(mult)
        .ok_or_else(|| format!("invalid size {text:?}: too large"))?;
    if size == 0 {
        return Err(format!("invalid size {text:?}: must be more than 0"));
    }
    Ok(size)
}

impl ArchiveArgs {
    /// The archive options, or `None` without `--archive`. `fetch` carries
    /// the command's network settings; the archive's own caps are applied
    /// here.
    pub fn options(&self, mut fetch: FetchOptions) -> Option<ArchiveOptions> {
        let dir = self.archive.clone()?;
        fetch.max_bytes = self.archive_max_bytes;
        fetch.allow_private = self.archive_private;
        Some(ArchiveOptions {
            dir,
            max_file: self.archive_max_file,
            run: RunInfo {
                software: format!("linkrot/{}", env!("CARGO_PKG_VERSION")),
                command: command_line(),
                operator: self.archive_operator.clone(),
                user_agent: fetch.user_agent.clone(),
            },
            fetch,
        })
    }
}

/// The command line as run, for the warcinfo record; values of flags that
/// carry secrets are redacted.
pub fn command_line() -> String {
    let mut out = Vec::new();
    let mut redact_next = false;
    for arg in std::env::args() {
        if redact_next {
            out.push(crate::archive::fetch::REDACTED.to_string());
            redact_next = false;
            continue;
        }
        if arg == "--header" || arg == "--host-header" {
            redact_next = true;
        }
        if arg.starts_with("--header=") || arg.starts_with("--host-header=") {
            let flag = arg.split('=').next().unwrap_or("");
            out.push(format!("{flag}={}", crate::archive::fetch::REDACTED));
            continue;
        }
        out.push(arg);
    }
    out.join(" ")
}

/// Snapshots every URL (each once), then closes the archive. Returns each
/// URL's snapshot or the reason there is none, and the files written.
///
/// Every URL gets a task at once; the politeness layer in the fetch options
/// decides which may send (per host, then global), so a URL waiting for a
/// busy host holds no slot another host could use. Without one, at most
/// `concurrency` snapshots run at a time.
pub async fn snapshot_all(
    options: ArchiveOptions,
    urls: Vec<String>,
    concurrency: usize,
) -> Result<(HashMap<String, Result<Snapshot, String>>, Vec<String>), String> {
    let fallback = options
        .fetch
        .limits
        .is_none()
        .then(|| Arc::new(tokio::sync::Semaphore::new(concurrency.max(1))));
    let archiver = Archiver::start(options)?;
    let mut tasks = tokio::task::JoinSet::new();
    for url in urls {
        let archiver = Arc::clone(&archiver);
        let fallback = fallback.clone();
        tasks.spawn(async move {
            let _permit = match &fallback {
                Some(s) => Some(s.clone().acquire_owned().await),
                None => None,
            };
            let outcome = archiver.snapshot(&url).await;
            (url, outcome)
        });
    }
    let mut results = HashMap::new();
    while let Some(joined) = tasks.join_next().await {
        let (url, outcome) = joined.map_err(|e| format!("a snapshot task failed: {e}"))?;
        results.insert(url, outcome);
    }
    let files = archiver.finish().await?;
    Ok((results, files))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("50MiB"), Ok(50 << 20));
        assert_eq!(parse_size("64k"), Ok(64 << 10));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("0").is_err());
        assert!(
            parse_size("5 parsecs")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(parse_size("lots").is_err());
    }
}
