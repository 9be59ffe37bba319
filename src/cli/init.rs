//! `linkrot init`: write a commented `linkrot.toml` to start from.

use std::io::Write;
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
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // Written beside the target and renamed: never a half-written config.
    let mut tmp = tempfile::Builder::new()
        .prefix(".linkrot-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .with_context(|| format!("{}", dir.display()))?;
    tmp.write_all(config::EXAMPLE.as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("{}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("{}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(ExitCode::from(EXIT_OK))
}
