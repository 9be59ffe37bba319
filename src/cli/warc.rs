//! `linkrot warc`: tools for the WARC files `check --archive` writes.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::archive::verify::verify_file;

use super::{EXIT_FAILING, EXIT_OK, EXIT_USAGE};

/// Arguments of `linkrot warc`.
#[derive(Debug, clap::Args)]
pub struct WarcArgs {
    #[command(subcommand)]
    pub command: WarcCommand,
}

/// The `linkrot warc` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum WarcCommand {
    /// Check every record of WARC files: version line, mandatory fields,
    /// lengths, block and payload digests, gzip member boundaries, files cut
    /// short. Prints one line per file; exits 1 naming the offset of the
    /// first bad record.
    Verify(VerifyArgs),
}

/// Arguments of `linkrot warc verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// `.warc.gz` (one gzip member per record) or `.warc` files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Runs `linkrot warc …`.
pub fn run(args: WarcArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        WarcCommand::Verify(args) => verify(args),
    }
}

fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let mut code = EXIT_OK;
    for path in &args.files {
        match verify_file(path) {
            Ok(verdict) => match verdict.problem {
                None => println!("{}: ok, {} records", path.display(), verdict.records),
                Some(problem) => {
                    println!(
                        "{}: offset {}: {} ({} records before it verified)",
                        path.display(),
                        problem.offset,
                        problem.message,
                        verdict.records
                    );
                    code = code.max(EXIT_FAILING);
                }
            },
            Err(e) => {
                eprintln!("linkrot: {}: {e}", path.display());
                code = EXIT_USAGE;
            }
        }
    }
    Ok(ExitCode::from(code))
}
