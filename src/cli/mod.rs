//! The command line: argument parsing, exit codes and wiring the pipeline
//! stages together. Each subcommand lives in its own file.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod archive;
pub mod check;
pub mod preserve;
pub mod completions;
pub mod history;
pub mod init;
pub mod scan;
pub mod warc;

/// Exit code when nothing is failing.
pub const EXIT_OK: u8 = 0;
/// Exit code when at least one citation is failing.
pub const EXIT_FAILING: u8 = 1;
/// Exit code for usage and input errors (bad flag, missing file, unwritable output).
pub const EXIT_USAGE: u8 = 2;

/// Audit the citations in documents for link rot.
#[derive(Debug, Parser)]
#[command(name = "linkrot", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 nothing failing, 1 at least one failing citation, 2 usage or input error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check every URL cited in the documents and write the report.
    Check(Box<check::CheckArgs>),
    /// List every citation (document, footnote, URL) without checking anything.
    Scan(scan::ScanArgs),
    /// Work with WARC archives: verify files, capture URLs.
    Warc(warc::WarcArgs),
    /// Print one URL's timeline from the history file.
    History(history::HistoryArgs),
    /// Print what changed in the latest run against the one before.
    Diff(history::DiffArgs),
    /// Write a commented example linkrot.toml.
    Init(init::InitArgs),
    /// Write a shell completion script to stdout.
    Completions(completions::CompletionsArgs),
    /// Write the man page (roff) to stdout, or every page into a folder.
    Man(completions::ManArgs),
}

/// Parses the command line, runs it and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() {
                EXIT_USAGE
            } else {
                EXIT_OK
            };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    let outcome = match cli.command {
        Command::Check(args) => check::run(*args),
        Command::Scan(args) => scan::run(args),
        Command::Warc(args) => warc::run(args),
        Command::History(args) => history::run_history(args),
        Command::Diff(args) => history::run_diff(args),
        Command::Init(args) => init::run(args),
        Command::Completions(args) => completions::run_completions(args),
        Command::Man(args) => completions::run_man(args),
    };
    match outcome {
        Ok(code) => code,
        Err(err) => {
            eprintln!("linkrot: {err:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}
