//! `linkrot init`: write a commented `linkrot.toml` to start from.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};

use super::EXIT_OK;
use crate::config;

/// Arguments of `linkrot init`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Where to write the example.
    #[arg(long, value_name = "FILE", default_value = config::DEFAULT_FILE)]
    pub config: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
}

/// Runs `linkrot init`.
pub fn run(args: InitArgs) -> anyhow::Result<ExitCode> {
    let path = &args.config;
    if path.exists() && !args.force {
        bail!(
            "{}: already exists (use --force to replace it)",
            path.display()
        );
    }
    // Written beside the target and renamed: never a half-written config.
    crate::report::write_atomically(path, |out| out.write_all(config::EXAMPLE.as_bytes()))
        .with_context(|| format!("{}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(ExitCode::from(EXIT_OK))
}
