//! The command line: argument parsing, exit codes and wiring the pipeline
//! stages together. Each subcommand lives in its own file.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

pub mod archive;
use crate::config;

pub mod audit;
pub mod check;
pub mod completions;
pub mod history;
pub mod init;
pub mod preserve;
pub mod scan;
pub mod warc;

/// What kind of run this is, announced as it starts: the binary, which owns
/// the allocator, may tune it for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `linkrot scan`: documents only, parse trees freed and reused in
    /// bursts, nothing long-lived after them.
    Listing,
    /// `linkrot check`: a scan, then a steady state of connections and
    /// requests in flight for as long as the checks take.
    Checking,
}

static PHASE_HOOK: std::sync::OnceLock<fn(Phase)> = std::sync::OnceLock::new();

/// Registers `hook`, called as a run enters each [`Phase`]. Only the first
/// registration counts.
pub fn on_phase(hook: fn(Phase)) {
    let _ = PHASE_HOOK.set(hook);
}

/// Tells the registered hook, if any, what kind of run this is.
pub(crate) fn entering(phase: Phase) {
    if let Some(hook) = PHASE_HOOK.get() {
        hook(phase);
    }
}

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
    // `LINKROT_LOG=debug` (any tracing filter) logs to stderr: the phases of
    // a run and their timings, retries, archive decisions.
    if let Ok(filter) = std::env::var("LINKROT_LOG") {
        let filter = tracing_subscriber::EnvFilter::try_new(&filter)
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            // Colours only on a terminal: a log piped to a file stays text.
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_target(false)
            .init();
    }
    let args: Vec<OsString> = std::env::args_os().collect();
    let (args, hosts) = match with_config(args) {
        Ok(found) => found,
        Err(err) => {
            eprintln!("linkrot: {err}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let mut cli = match parse(args) {
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
    if let Command::Check(args) = &mut cli.command {
        args.hosts = hosts;
    }
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

/// The command definition as parsed: options of `check` may repeat, the
/// last one winning, so a flag typed after the config file's overrides it.
fn command() -> clap::Command {
    Cli::command().mut_subcommand("check", |check| check.args_override_self(true))
}

fn parse(args: Vec<OsString>) -> Result<Cli, clap::Error> {
    let matches = command().try_get_matches_from(args)?;
    Cli::from_arg_matches(&matches)
}

/// For `linkrot check`, reads `--config FILE` (or `./linkrot.toml`) and
/// places its settings before the typed arguments. Returns the arguments and
/// the per-host sections.
fn with_config(
    args: Vec<OsString>,
) -> anyhow::Result<(
    Vec<OsString>,
    std::collections::BTreeMap<String, config::HostSettings>,
)> {
    if args.get(1).is_none_or(|a| a != "check") {
        return Ok((args, Default::default()));
    }
    let mut explicit = None;
    let mut rest = args[2..].iter();
    while let Some(arg) = rest.next() {
        if arg == "--" {
            break;
        }
        if arg == "--config" {
            explicit = rest.next().map(std::path::PathBuf::from);
        } else if let Some(path) = arg.to_str().and_then(|a| a.strip_prefix("--config=")) {
            explicit = Some(path.into());
        }
    }
    let Some(path) = config::locate(explicit.as_deref()) else {
        return Ok((args, Default::default()));
    };
    let command = command();
    let check = command
        .find_subcommand("check")
        .expect("the check subcommand exists");
    let file = config::load(&path, check)?;
    // The file's values alone must parse: an error then names the file,
    // not a flag the user never typed.
    let mut alone: Vec<OsString> = vec!["linkrot".into(), "check".into()];
    alone.extend(file.args.iter().cloned());
    alone.push(".".into());
    if let Err(err) = command.clone().try_get_matches_from(alone) {
        let rendered = err.to_string();
        let first = rendered.lines().next().unwrap_or_default();
        anyhow::bail!(
            "{}: {}",
            path.display(),
            first.trim_start_matches("error: ")
        );
    }
    let mut merged = args[..2].to_vec();
    merged.extend(file.args);
    merged.extend(args[2..].iter().cloned());
    Ok((merged, file.hosts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    static SEEN: Mutex<Vec<Phase>> = Mutex::new(Vec::new());

    fn record(phase: Phase) {
        SEEN.lock().unwrap().push(phase);
    }

    #[test]
    fn the_registered_hook_hears_each_phase() {
        on_phase(record);
        entering(Phase::Listing);
        entering(Phase::Checking);
        // A second registration is ignored: the binary's hook stays.
        on_phase(|_| panic!("replaced the first hook"));
        entering(Phase::Checking);
        let seen = SEEN.lock().unwrap();
        assert_eq!(*seen, [Phase::Listing, Phase::Checking, Phase::Checking]);
    }
}
