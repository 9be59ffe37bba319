//! `linkrot warc`: tools for the WARC files `check --archive` writes.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crate::archive::verify::verify_file;

use super::archive::{ArchiveArgs, snapshot_all};
use super::{EXIT_FAILING, EXIT_OK, EXIT_USAGE};
use crate::archive::fetch::FetchOptions;
use crate::check::HostLimits;

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
    /// Snapshot URLs into a WARC archive without a document: every redirect
    /// hop, bodies as received. Prints one line per URL; exits 1 if any URL
    /// could not be archived.
    Capture(CaptureArgs),
}

/// Arguments of `linkrot warc capture`.
#[derive(Debug, clap::Args)]
pub struct CaptureArgs {
    /// URLs to archive.
    #[arg(required = true)]
    pub urls: Vec<String>,

    #[command(flatten)]
    pub archive: ArchiveArgs,

    /// Use ADDR for HOST:PORT instead of DNS (repeatable).
    #[arg(long, value_name = "HOST:PORT:ADDR", value_parser = parse_resolve)]
    pub resolve: Vec<(String, SocketAddr)>,

    /// Limit on one request, body included, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub timeout: u64,
}

/// Parses `HOST:PORT:ADDR` (ADDR may be a bracketed IPv6 address).
fn parse_resolve(text: &str) -> Result<(String, SocketAddr), String> {
    let bad = || format!("invalid --resolve {text:?}: expected HOST:PORT:ADDR");
    let (host, rest) = text.split_once(':').ok_or_else(bad)?;
    let (port, addr) = rest.split_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    let ip: IpAddr = addr
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .map_err(|_| bad())?;
    Ok((host.to_ascii_lowercase(), SocketAddr::new(ip, port)))
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
        WarcCommand::Capture(args) => capture(args),
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

fn capture(mut args: CaptureArgs) -> anyhow::Result<ExitCode> {
    for url in &args.urls {
        match url::Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            Ok(_) => anyhow::bail!("{url}: only http and https URLs can be archived"),
            Err(e) => anyhow::bail!("{url}: invalid URL: {e}"),
        }
    }
    if args.archive.archive.is_none() {
        args.archive.archive = Some(crate::archive::DEFAULT_DIR.into());
    }
    let concurrency = args.archive.archive_concurrency as usize;
    let fetch = FetchOptions {
        timeout: Duration::from_secs(args.timeout.max(1)),
        resolve: args.resolve.clone(),
        // Polite like check: four at a time per host at most.
        limits: Some(Arc::new(HostLimits::new(concurrency, 4, Duration::ZERO))),
        ..FetchOptions::default()
    };
    let options = args
        .archive
        .options(fetch)
        .expect("the archive directory is set above");
    let dir = options.dir.clone();
    let runtime = tokio::runtime::Runtime::new()?;
    let mut seen = std::collections::HashSet::new();
    let urls: Vec<String> = args
        .urls
        .iter()
        .filter(|u| seen.insert(u.as_str()))
        .cloned()
        .collect();
    let (results, files) = runtime
        .block_on(snapshot_all(options, urls, concurrency))
        .map_err(anyhow::Error::msg)?;
    let mut code = EXIT_OK;
    for url in &args.urls {
        match results.get(url) {
            Some(Ok(s)) => println!(
                "{url}: archived in {} at offset {} ({}{}{})",
                dir.join(&s.archive_file).display(),
                s.archive_offset,
                s.payload_digest,
                if s.revisit { ", revisit" } else { "" },
                if s.truncated { ", truncated" } else { "" },
            ),
            Some(Err(reason)) => {
                let reason = reason.strip_prefix(&format!("{url}: ")).unwrap_or(reason);
                println!("{url}: not archived: {reason}");
                code = EXIT_FAILING;
            }
            None => {}
        }
    }
    if files.is_empty() {
        eprintln!("linkrot: nothing written to {}", dir.display());
    }
    Ok(ExitCode::from(code))
}
