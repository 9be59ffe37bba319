//! `linkrot completions SHELL` and `linkrot man`: generated from the clap
//! definition, so they never drift from the real flags.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::CommandFactory;

use super::{Cli, EXIT_OK};

/// Arguments of `linkrot completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to write a completion script for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Arguments of `linkrot man`.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write linkrot.1 and one page per subcommand (linkrot-check.1...) into
    /// this folder instead of printing linkrot.1 to stdout.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Runs `linkrot completions`.
pub fn run_completions(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "linkrot", &mut std::io::stdout());
    Ok(ExitCode::from(EXIT_OK))
}

/// Runs `linkrot man`.
pub fn run_man(args: ManArgs) -> anyhow::Result<ExitCode> {
    let command = Cli::command();
    match args.dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir).with_context(|| format!("{}", dir.display()))?;
            clap_mangen::generate_to(command, &dir)
                .with_context(|| format!("{}", dir.display()))?;
        }
        None => {
            clap_mangen::Man::new(command)
                .render(&mut std::io::stdout())
                .context("writing to stdout")?;
        }
    }
    Ok(ExitCode::from(EXIT_OK))
}
