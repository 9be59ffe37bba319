//! `linkrot scan`: list citations without checking them.

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `linkrot scan`.
#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Documents or folders to scan (`-` reads standard input).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// Runs `linkrot scan`.
pub fn run(_args: ScanArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("linkrot scan is not built yet")
}
