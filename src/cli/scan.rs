//! `linkrot scan`: list citations without checking them.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::report::scan_listing::{ListingFormat, ListingWriter};
use crate::scan::walk::{self, Piece, WalkOptions};
use crate::scan::{Format, ScanOptions, ScopeFilter, Warning};

use super::{EXIT_OK, EXIT_USAGE};

/// Arguments of `linkrot scan`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Folders are walked recursively for .md, .markdown, .mdown, .txt, .text, .html, .htm, \
.xhtml, .docx, .pdf, .tex, .latex, .ltx, .nxml and .jats files (and .doc/.odt/.epub, \
reported as not supported yet), in file-name order. Files named on the command line are \
read whatever their extension; their format is then guessed from their content (PDF and \
DOCX by their first bytes, JATS .xml by its DTD), and a .txt file that is Markdown is read \
as Markdown. DOCX rows number paragraphs in place of lines; PDF rows give the page and \
the line on that page. LaTeX \\cite keys in notes are looked up in the .bib files named by \
\\bibliography or \\addbibresource, relative to the .tex file.

Identifiers in notes (DOIs, UN document symbols and resolutions, arXiv IDs, Handles, \
PMIDs, PMCIDs) become resolver links (doi.org, undocs.org, ...) with form `identifier` and \
the identifier as written in `derived_from`; a placeholder link whose text is an \
identifier is replaced by them. --no-identifiers turns this off.

One row per (document, footnote, URL), in document order. CSV columns and JSON fields: \
document, line, column, footnote, footnote_line, reference_lines, citation, link_text, \
raw_url, url, form, kind, scope, repeats, text_url_mismatch, page, derived_from. JSON is an array with one \
object per line.

Warnings (binary, unreadable, oversized or badly encoded files, notes referenced but \
never defined) go to stderr as 'linkrot: WARNING: path:line: message'; the scan goes on. \
Exit codes: 0 scanned, 2 usage or input error (such as a missing path).")]
pub struct ScanArgs {
    /// Documents or folders to scan (`-` reads standard input).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Output format [default: table on a terminal, csv otherwise].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<ListingFormat>,

    /// List URLs in footnotes only, or in the body too (marked `body`).
    #[arg(long, value_enum, default_value_t = ScopeFilter::Footnotes, value_name = "SCOPE")]
    pub scope: ScopeFilter,

    /// Scan hidden files and folders (names starting with `.`).
    #[arg(long)]
    pub hidden: bool,

    /// Don't respect .gitignore, .ignore and git exclude files.
    #[arg(long)]
    pub no_ignore: bool,

    /// Format of standard input [default: guessed from its content].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub stdin_format: Option<Format>,

    /// Skip (with a warning) files larger than this: bytes, or with a suffix
    /// K, M, G (KiB, MiB, GiB) or KB, MB, GB.
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = parse_size)]
    pub max_file_size: u64,

    /// Turn identifiers (DOIs, UN symbols, arXiv, Handles, PubMed IDs) into
    /// resolver links [default].
    #[arg(long, overrides_with = "no_identifiers")]
    pub identifiers: bool,

    /// Leave identifiers as text: list only URLs written as such.
    #[arg(long, overrides_with = "identifiers")]
    pub no_identifiers: bool,

    /// Give up on a PDF (with a warning) after this many seconds of parsing.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0, value_parser = parse_seconds)]
    pub pdf_timeout: f64,
}

/// Parses `--pdf-timeout`: a positive number of seconds.
fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s < 1e9 => Ok(s),
        _ => Err(format!("{text:?} is not a positive number of seconds")),
    }
}

/// Parses `--max-file-size`: `1000`, `512K`, `64MiB`, `2MB`, `1G`.
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size (try 1000, 512K or 64MiB)"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        other => {
            return Err(format!(
                "unknown size unit {other:?} (use K, M, G, KiB, MiB, GiB, KB, MB or GB)"
            ));
        }
    };
    number
        .checked_mul(factor)
        .ok_or_else(|| format!("{text:?} is too large"))
}

fn print_warning(warning: &Warning) {
    eprintln!("linkrot: WARNING: {warning}");
}

/// Runs `linkrot scan`.
pub fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    super::entering(super::Phase::Listing);
    walk::check_inputs(&args.paths)?;
    let stdout = io::stdout();
    let format = args.format.unwrap_or(if stdout.is_terminal() {
        ListingFormat::Table
    } else {
        ListingFormat::Csv
    });
    let walk_options = WalkOptions {
        hidden: args.hidden,
        no_ignore: args.no_ignore,
        stdin_format: args.stdin_format,
        max_file_size: args.max_file_size,
    };
    let scan_options = ScanOptions {
        scope: args.scope,
        identifiers: !args.no_identifiers,
        pdf_time_limit: std::time::Duration::from_secs_f64(args.pdf_timeout),
    };
    let out = io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    let result = ListingWriter::new(format, out).and_then(|mut listing| {
        walk::stream_inputs(
            &args.paths,
            &walk_options,
            &scan_options,
            |piece| match piece {
                Piece::Citations(chunk) => listing.write_citations(chunk),
                Piece::Done(outcome) => {
                    outcome.warnings.iter().for_each(print_warning);
                    match &outcome.scanned {
                        Some(scanned) => listing.end_document(scanned),
                        None => Ok(()),
                    }
                }
            },
        )?;
        listing.finish()?.flush()
    });
    match result {
        Ok(()) => Ok(ExitCode::from(EXIT_OK)),
        // The reader went away (`linkrot scan … | head`): not an error.
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::from(EXIT_OK)),
        Err(err) => {
            eprintln!("linkrot: cannot write the listing: {err}");
            Ok(ExitCode::from(EXIT_USAGE))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("512K"), Ok(512 * 1024));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("2MB"), Ok(2_000_000));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5 parsecs").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
    }
}
