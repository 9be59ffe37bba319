//! Benchmark of `linkrot scan`: generates a corpus of Markdown documents
//! with footnotes in a temporary folder, runs the release binary over it
//! (`--format csv` to /dev/null) and prints throughput, CPU time and peak
//! memory. If `lychee` is on PATH, times `lychee --dump` on the same corpus.
//!
//! ```sh
//! cargo run --release --example bench_scan -- [--docs 2000] [--footnotes 40] [--mb 200]
//! ```

#[path = "support/mod.rs"]
mod support;

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

struct Options {
    docs: usize,
    footnotes: usize,
    megabytes: usize,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        docs: 2000,
        footnotes: 40,
        megabytes: 200,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || -> Result<usize, String> {
            args.next()
                .ok_or_else(|| format!("{flag} needs a value"))?
                .parse()
                .map_err(|_| format!("{flag} needs a number"))
        };
        match flag.as_str() {
            "--docs" => options.docs = value()?.max(1),
            "--footnotes" => options.footnotes = value()?,
            "--mb" => options.megabytes = value()?.max(1),
            "-h" | "--help" => {
                return Err("usage: bench_scan [--docs 2000] [--footnotes 40] [--mb 200]".into());
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(options)
}

const WORDS: &[&str] = &[
    "the",
    "resolution",
    "council",
    "report",
    "mission",
    "cultural",
    "heritage",
    "community",
    "assembly",
    "general",
    "secretary",
    "letter",
    "annex",
    "session",
    "agenda",
    "item",
    "territory",
    "document",
    "rights",
    "human",
    "protection",
    "members",
    "states",
    "declared",
    "émigrés",
    "Genève",
    "Åland",
    "naïve",
];

const HOSTS: &[&str] = &[
    "un.org",
    "azertag.az",
    "new.oic-oci.org",
    "undocs.org",
    "unesco.org",
    "example.org",
    "en.wikipedia.org",
    "news.example.com",
];

fn sentence(rng: &mut StdRng, out: &mut String) {
    let words = 8 + rng.random_range(0..14);
    for i in 0..words {
        let word = WORDS[rng.random_range(0..WORDS.len())];
        if i == 0 {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                out.extend(first.to_uppercase());
                out.push_str(chars.as_str());
            }
        } else {
            out.push(' ');
            out.push_str(word);
        }
    }
    out.push_str(". ");
}

fn url(rng: &mut StdRng, doc: usize, note: usize) -> String {
    let host = HOSTS[rng.random_range(0..HOSTS.len())];
    format!(
        "https://{host}/en/{doc}/{note}/western_azerbaijan_{}",
        rng.random_range(0..1_000_000)
    )
}

/// One Markdown document of about `size` bytes with `footnotes` notes, in
/// the mix of forms real documents use.
fn document(rng: &mut StdRng, doc: usize, footnotes: usize, size: usize) -> String {
    let mut text = String::with_capacity(size + 4096);
    let _ = writeln!(text, "# Document {doc}\n");
    let mut notes = String::new();
    for n in 1..=footnotes {
        let _ = write!(
            notes,
            "[^{n}]: Agency, \"{} report\", {} March 2023. ",
            WORDS[rng.random_range(0..WORDS.len())],
            1 + n % 28
        );
        match n % 4 {
            0 => {
                let _ = writeln!(notes, "Available at {}.", url(rng, doc, n));
            }
            1 => {
                let _ = writeln!(notes, "See [A/{n}/872]({}).", url(rng, doc, n));
            }
            2 => {
                let _ = writeln!(notes, "<{}> and [placeholder](#).", url(rng, doc, n));
            }
            _ => {
                let _ = writeln!(notes, "Ibid.");
            }
        }
    }
    let body_budget = size.saturating_sub(notes.len() + text.len());
    let mut next_note = 1;
    while text.len() < body_budget {
        for _ in 0..4 + rng.random_range(0..4) {
            sentence(rng, &mut text);
        }
        if next_note <= footnotes {
            let _ = write!(text, "[^{next_note}]");
            next_note += 1;
        }
        if rng.random_range(0..6) == 0 {
            let _ = write!(text, " [body link]({})", url(rng, doc, 0));
        }
        text.push_str("\n\n");
    }
    while next_note <= footnotes {
        let _ = write!(text, "Also[^{next_note}]. ");
        next_note += 1;
    }
    text.push_str("\n\n");
    text.push_str(&notes);
    text
}

/// Writes the corpus into `dir` (50 documents per subfolder); returns
/// (total bytes, largest document).
fn generate(dir: &Path, options: &Options) -> std::io::Result<(u64, u64)> {
    let size = options.megabytes * 1_000_000 / options.docs;
    let mut rng = StdRng::seed_from_u64(0x11_4E_12_07);
    let (mut total, mut largest) = (0u64, 0u64);
    for doc in 0..options.docs {
        let folder = dir.join(format!("part-{:03}", doc / 50));
        if doc % 50 == 0 {
            std::fs::create_dir_all(&folder)?;
        }
        let text = document(&mut rng, doc, options.footnotes, size);
        total += text.len() as u64;
        largest = largest.max(text.len() as u64);
        std::fs::write(folder.join(format!("doc-{doc:05}.md")), text)?;
    }
    Ok((total, largest))
}

fn main() -> std::process::ExitCode {
    let options = match parse_args() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return std::process::ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bench_scan: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(options: &Options) -> std::io::Result<()> {
    let linkrot = support::release_binary()?;
    let corpus = tempfile::tempdir()?;
    let started = Instant::now();
    let (bytes, largest) = generate(corpus.path(), options)?;
    println!(
        "corpus: {} Markdown documents, {:.1} MB, {} footnotes each, largest document {} (generated in {:.1} s)",
        options.docs,
        support::megabytes(bytes),
        options.footnotes,
        support::human_bytes(largest),
        started.elapsed().as_secs_f64()
    );

    // What the scanner finds in one document, so the figures say which
    // scanner was measured.
    let sample = corpus.path().join("part-000").join("doc-00000.md");
    let listing = Command::new(&linkrot)
        .args(["scan", "--format", "csv"])
        .arg(&sample)
        .output()?;
    let rows = listing
        .stdout
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        .saturating_sub(1);
    println!("rows listed for the first document: {rows}");

    let scan = support::measure(
        Command::new(&linkrot)
            .args(["scan", "--format", "csv"])
            .arg(corpus.path()),
    )?;
    support::print_measurement("linkrot scan --format csv", bytes, &scan);
    println!(
        "  peak RSS {} for a corpus of {} (largest document {})",
        support::human_bytes(scan.peak_rss),
        support::human_bytes(bytes),
        support::human_bytes(largest)
    );

    match support::on_path("lychee") {
        Some(lychee) => {
            let dump = support::measure(Command::new(lychee).arg("--dump").arg(corpus.path()))?;
            support::print_measurement("lychee --dump", bytes, &dump);
            println!(
                "linkrot is {:.2}× as fast as lychee --dump (wall time ratio)",
                dump.wall.as_secs_f64() / scan.wall.as_secs_f64()
            );
        }
        None => println!("lychee: not on PATH (cargo install lychee), comparison skipped"),
    }
    Ok(())
}
