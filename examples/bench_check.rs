//! Benchmark for `linkrot check`: how close to the latency bound, at what
//! CPU and memory cost.
//!
//! ```sh
//! cargo run --release --example bench_check -- --urls 5000 --hosts 20 --latency-ms 50 --global 128 --per-host 10
//! ```
//!
//! Starts its own loopback HTTP server (one listener per host on 127.0.0.2,
//! 127.0.0.3, ...; every answer after a fixed latency), writes a Markdown
//! document with N footnote URLs spread over H hosts, runs the release
//! `linkrot check` on it and prints wall time, CPU time, peak RSS, URLs/s and
//! the latency bound max(N·latency/global, (N/H)·latency/per-host). When
//! `lychee` is on PATH it runs on the same document with the same limits and
//! the ratios are printed. Flags after `--` go to `linkrot check`.
//!
//! `--documents D` spreads the notes over D documents (default 1), passed
//! as one folder: a corpus rather than one huge file, to see what memory
//! grows with.
//!
//! `--page-kb K` answers each GET with an HTML page of about K KiB (a
//! title, headings and paragraphs of prose with ids) instead of a one-line
//! page: real pages are tens of KiB, and the content checks read up to
//! 64 KiB of each, so this shows what reading them costs.
//!
//! `--floor` also runs a bare client on the same URLs: this example
//! re-executed as a child that only sends one GET per URL with reqwest, the
//! same pool settings and the same global and per-host limits, and reads the
//! body. It scans nothing, checks no content and writes nothing, so its CPU
//! time and memory are what the HTTP stack alone costs at these limits.

#[path = "support/mod.rs"]
mod support;

use std::net::{Ipv4Addr, SocketAddr};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

struct Args {
    urls: usize,
    hosts: usize,
    latency: Duration,
    global: usize,
    per_host: usize,
    /// Documents the notes are spread over.
    documents: usize,
    /// Size of the page each GET gets, in KiB (0: a one-line page).
    page_kb: usize,
    lychee: bool,
    /// Also measure the bare reqwest client (`--floor`).
    floor: bool,
    /// Flags after `--`, passed to `linkrot check` (to measure what each
    /// feature costs, e.g. `-- --no-content`).
    extra: Vec<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        urls: 5000,
        hosts: 20,
        latency: Duration::from_millis(50),
        global: 128,
        per_host: 10,
        documents: 1,
        page_kb: 0,
        lychee: true,
        floor: false,
        extra: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--" {
            args.extra = it.by_ref().collect();
            break;
        }
        if flag == "--no-lychee" {
            args.lychee = false;
            continue;
        }
        if flag == "--floor" {
            args.floor = true;
            continue;
        }
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let number: u64 = value
            .parse()
            .map_err(|_| format!("{flag}: {value:?} is not a number"))?;
        match flag.as_str() {
            "--urls" => args.urls = number as usize,
            "--hosts" => args.hosts = number.clamp(1, 250) as usize,
            "--latency-ms" => args.latency = Duration::from_millis(number),
            "--global" => args.global = number.max(1) as usize,
            "--per-host" => args.per_host = number.max(1) as usize,
            "--documents" => args.documents = number.max(1) as usize,
            "--page-kb" => args.page_kb = number.min(1024) as usize,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(args)
}

/// A minimal keep-alive HTTP/1.1 server: every cited path is answered 200
/// after `latency`, any other path 404. Requests are counted so the run can be verified.
/// What the server saw: requests answered, and when the first request
/// arrived and the last answer left (µs since `base`), to tell the time
/// spent on the network from linkrot's start-up and report writing.
struct Served {
    count: AtomicU64,
    connections: AtomicU64,
    /// Connections open now, and the most open at once: what the client's
    /// memory for connections follows.
    open: AtomicU64,
    peak_open: AtomicU64,
    first_us: AtomicU64,
    last_us: AtomicU64,
    base: std::time::Instant,
}

impl Served {
    fn new() -> Served {
        Served {
            count: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            open: AtomicU64::new(0),
            peak_open: AtomicU64::new(0),
            first_us: AtomicU64::new(u64::MAX),
            last_us: AtomicU64::new(0),
            base: std::time::Instant::now(),
        }
    }

    fn now_us(&self) -> u64 {
        self.base.elapsed().as_micros() as u64
    }
}

fn start_server(hosts: usize, latency: Duration, served: Arc<Served>) -> Vec<SocketAddr> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("server runtime");
    let mut addrs = Vec::new();
    let mut listeners = Vec::new();
    for i in 0..hosts {
        let ip = Ipv4Addr::new(127, 0, 0, 2 + i as u8);
        let listener = std::net::TcpListener::bind((ip, 0)).expect("bind loopback");
        listener.set_nonblocking(true).unwrap();
        addrs.push(listener.local_addr().unwrap());
        listeners.push(listener);
    }
    std::thread::spawn(move || {
        runtime.block_on(async move {
            for listener in listeners {
                let listener = TcpListener::from_std(listener).unwrap();
                let served = served.clone();
                tokio::spawn(async move {
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            continue;
                        };
                        served.connections.fetch_add(1, Ordering::Relaxed);
                        let open = served.open.fetch_add(1, Ordering::Relaxed) + 1;
                        served.peak_open.fetch_max(open, Ordering::Relaxed);
                        let served = served.clone();
                        tokio::spawn(async move {
                            serve(stream, latency, served.clone()).await;
                            served.open.fetch_sub(1, Ordering::Relaxed);
                        });
                    }
                });
            }
            std::future::pending::<()>().await;
        });
    });
    addrs
}

async fn serve(mut stream: tokio::net::TcpStream, latency: Duration, served: Arc<Served>) {
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 2048];
    loop {
        let end = loop {
            if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break pos + 4;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = buf.starts_with(b"HEAD ");
        // Cited paths are /doc/N; anything else (the soft-404 probe's
        // random path) gets an honest 404, as from most real sites.
        let cited = buf
            .split(|&b| b == b' ')
            .nth(1)
            .and_then(|path| path.strip_prefix(b"/doc/"))
            .is_some_and(|n| !n.is_empty() && n.iter().all(u8::is_ascii_digit));
        buf.drain(..end);
        served
            .first_us
            .fetch_min(served.now_us(), Ordering::Relaxed);
        tokio::time::sleep(latency).await;
        served.count.fetch_add(1, Ordering::Relaxed);
        let (status, body) = if cited {
            let page = PAGE
                .get()
                .map_or("<html><title>ok</title></html>", String::as_str);
            ("200 OK", page)
        } else {
            ("404 Not Found", "<html><title>Not found</title></html>")
        };
        let reply = format!(
            "HTTP/1.1 {status}\r\ncontent-type: text/html\r\ncontent-length: {}\r\n\r\n{}",
            body.len(),
            if head { "" } else { body }
        );
        if stream.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
        served.last_us.fetch_max(served.now_us(), Ordering::Relaxed);
    }
}

/// The page of `--page-kb`, made once.
static PAGE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// An HTML page of about `kb` KiB: paragraphs of varied prose with ids, as
/// a report's page would have, so the shingles and anchors are realistic.
fn page_of(kb: usize) -> String {
    const WORDS: &[&str] = &[
        "report",
        "council",
        "rights",
        "the",
        "of",
        "and",
        "members",
        "annual",
        "session",
        "resolution",
        "human",
        "general",
        "assembly",
        "states",
        "in",
        "to",
        "a",
        "on",
        "development",
        "security",
        "meeting",
        "committee",
        "2023",
        "paragraph",
        "agenda",
        "item",
        "document",
        "secretary",
        "operations",
        "programme",
        "budget",
        "review",
    ];
    let mut page = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Annual report \
         of the council</title><style>body { font: 16px serif }</style></head><body><nav>\
         <a href=\"/\">Home</a> <a href=\"/about\">About</a></nav><main><h1 id=\"top\">Annual \
         report</h1>",
    );
    let mut seed = 0x2545_f491_u64;
    let mut paragraph = 0;
    while page.len() < kb * 1024 {
        paragraph += 1;
        if paragraph % 10 == 0 {
            page.push_str(&format!(
                "<h2 id=\"section-{paragraph}\">Section {paragraph}</h2>"
            ));
        }
        page.push_str(&format!("<p id=\"p{paragraph}\">"));
        for i in 0..60 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let word = WORDS[(seed >> 33) as usize % WORDS.len()];
            if i == 17 {
                page.push_str(&format!("<a href=\"/doc/{paragraph}\">{word}</a> "));
            } else {
                page.push_str(word);
                page.push(' ');
            }
        }
        page.push_str("&amp; more.</p>\n");
    }
    page.push_str("</main><footer>Copyright</footer></body></html>");
    page
}

/// The bare client of `--floor`, run as a child: `--bare-client FILE GLOBAL
/// PER_HOST`, one URL per line in FILE.
fn bare_client(file: &str, global: usize, per_host: usize) {
    use std::collections::HashMap;
    use tokio::sync::Semaphore;
    let text = std::fs::read_to_string(file).expect("read the URL list");
    let urls: Vec<String> = text.lines().map(str::to_string).collect();
    // One worker, as `linkrot check` runs by default (`--threads 1`).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let failed = runtime.block_on(async move {
        // linkrot's own client settings: identity, timeouts, pool, no redirects.
        let client = linkrot::check::CheckOptions {
            host_concurrency: per_host,
            ..linkrot::check::CheckOptions::default()
        }
        .client_builder()
        .build()
        .expect("client");
        // Tasks are spawned through a window of twice the global limit, so
        // the floor holds no more URLs in memory than the limits need.
        let window = Arc::new(Semaphore::new(global * 2));
        let global = Arc::new(Semaphore::new(global));
        let mut hosts: HashMap<String, Arc<Semaphore>> = HashMap::new();
        let mut tasks = tokio::task::JoinSet::new();
        let mut failed = 0usize;
        for url in urls {
            // Finished tasks keep their memory until joined.
            while let Some(done) = tasks.try_join_next() {
                failed += usize::from(done.unwrap_or(true));
            }
            let host = url.split('/').nth(2).unwrap_or_default().to_string();
            let host = hosts
                .entry(host)
                .or_insert_with(|| Arc::new(Semaphore::new(per_host)))
                .clone();
            let (client, global) = (client.clone(), global.clone());
            let admitted = window.clone().acquire_owned().await.expect("open");
            tasks.spawn(async move {
                let _admitted = admitted;
                // Host first, so a busy host never holds a global slot.
                let _host = host.acquire_owned().await.expect("open");
                let _global = global.acquire_owned().await.expect("open");
                match client.get(&url).send().await {
                    Ok(response) => {
                        !response.status().is_success() || response.bytes().await.is_err()
                    }
                    Err(_) => true,
                }
            });
        }
        while let Some(done) = tasks.join_next().await {
            failed += usize::from(done.unwrap_or(true));
        }
        failed
    });
    if failed > 0 {
        eprintln!("bare client: {failed} requests failed");
        std::process::exit(1);
    }
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("--bare-client") && argv.len() == 5 {
        let number = |i: usize| argv[i].parse::<usize>().expect("a number");
        bare_client(&argv[2], number(3), number(4));
        return;
    }
    let args = match parse_args() {
        Ok(args) => args,
        Err(err) => {
            eprintln!("bench_check: {err}");
            std::process::exit(2);
        }
    };
    let served = Arc::new(Served::new());
    if args.page_kb > 0 {
        let _ = PAGE.set(page_of(args.page_kb));
    }
    let addrs = start_server(args.hosts, args.latency, served.clone());

    let dir = tempfile::tempdir().expect("temporary folder");
    // The documents sit in a folder of their own, which is what linkrot and
    // lychee are given; with one document, the document itself.
    let docs = dir.path().join("docs");
    std::fs::create_dir(&docs).expect("create the documents folder");
    let mut url_list = String::with_capacity(args.urls * 40);
    let per_doc = args.urls.div_ceil(args.documents);
    let mut first = 0;
    for d in 0..args.documents {
        let notes = first..(first + per_doc).min(args.urls);
        let mut text = String::with_capacity(notes.len() * 64);
        text.push_str("# Benchmark\n\n");
        // Every note is referenced from the body, as in a real document.
        for i in notes.clone() {
            text.push_str(&format!("Claim {i}.[^{}]\n", i + 1));
        }
        text.push('\n');
        for i in notes.clone() {
            let addr = addrs[i % addrs.len()];
            url_list.push_str(&format!("http://{addr}/doc/{i}\n"));
            text.push_str(&format!(
                "[^{}]: Source {i}, <http://{addr}/doc/{i}>.\n",
                i + 1
            ));
        }
        std::fs::write(docs.join(format!("bench-{:05}.md", d + 1)), &text)
            .expect("write a document");
        first = notes.end;
    }
    let doc = if args.documents == 1 {
        docs.join("bench-00001.md")
    } else {
        docs.clone()
    };

    let lat = args.latency.as_secs_f64();
    let bound = (args.urls as f64 * lat / args.global as f64)
        .max((args.urls as f64 / args.hosts as f64) * lat / args.per_host as f64);
    println!(
        "{} URLs in {} document(s) over {} hosts, latency {} ms, global {}, per host {}: bound {:.2} s",
        args.urls,
        args.documents,
        args.hosts,
        args.latency.as_millis(),
        args.global,
        args.per_host,
        bound
    );
    if let Some(page) = PAGE.get() {
        println!("each GET is answered with a {} byte HTML page", page.len());
    }

    let binary = support::release_binary().expect("build the release binary");
    let before = served.count.load(Ordering::Relaxed);
    let connections_before = served.connections.load(Ordering::Relaxed);
    served.peak_open.store(0, Ordering::Relaxed);
    let launched = served.now_us();
    // BENCH_WRAP="heaptrack -o /tmp/h" runs linkrot under a profiler.
    let wrap = std::env::var("BENCH_WRAP").unwrap_or_default();
    let mut wrap = wrap.split_whitespace();
    let mut cmd = match wrap.next() {
        Some(program) => {
            let mut cmd = Command::new(program);
            cmd.args(wrap).arg(&binary);
            cmd
        }
        None => Command::new(&binary),
    };
    cmd.arg("check")
        .arg(&doc)
        .arg("--output")
        .arg(dir.path())
        .args(["--max-concurrency", &args.global.to_string()])
        .args(["--host-concurrency", &args.per_host.to_string()])
        .args(["--host-interval", "0", "--quiet", "--progress", "never"])
        .args(&args.extra);
    let ours = support::measure(&mut cmd).expect("run linkrot");
    let requests = served.count.load(Ordering::Relaxed) - before;
    let connections = served.connections.load(Ordering::Relaxed) - connections_before;
    let peak_open = served.peak_open.load(Ordering::Relaxed);
    report("linkrot check", &args, bound, &ours);
    let (first, last) = (
        served.first_us.load(Ordering::Relaxed),
        served.last_us.load(Ordering::Relaxed),
    );
    println!(
        "  server answered {requests} requests on {connections} connections ({peak_open} open at most); first arrived {:.2} s after launch, last answered {:.2} s after the first ({:.2} s before exit)",
        first.saturating_sub(launched) as f64 / 1e6,
        last.saturating_sub(first) as f64 / 1e6,
        (ours.wall.as_secs_f64() - last.saturating_sub(launched) as f64 / 1e6).max(0.0)
    );
    if !ours.status.success() {
        eprintln!("bench_check: linkrot did not exit 0 ({})", ours.status);
    }

    if args.floor {
        let list = dir.path().join("urls.txt");
        std::fs::write(&list, &url_list).expect("write the URL list");
        let before = served.count.load(Ordering::Relaxed);
        let connections_before = served.connections.load(Ordering::Relaxed);
        served
            .peak_open
            .store(served.open.load(Ordering::Relaxed), Ordering::Relaxed);
        // /proc/self/exe still runs this example if a rebuild replaced its file.
        let mut cmd = Command::new("/proc/self/exe");
        cmd.arg("--bare-client")
            .arg(&list)
            .args([args.global.to_string(), args.per_host.to_string()]);
        let floor = support::measure(&mut cmd).expect("run the bare client");
        let requests = served.count.load(Ordering::Relaxed) - before;
        let connections = served.connections.load(Ordering::Relaxed) - connections_before;
        let peak_open = served.peak_open.load(Ordering::Relaxed);
        report("bare reqwest client (floor)", &args, bound, &floor);
        println!(
            "  server answered {requests} requests on {connections} connections ({peak_open} open at most)"
        );
        println!(
            "linkrot/floor: wall {:.2}x, CPU {:.2}x, peak RSS {:.2}x",
            ours.wall.as_secs_f64() / floor.wall.as_secs_f64(),
            ours.cpu().as_secs_f64() / floor.cpu().as_secs_f64().max(1e-9),
            ours.peak_rss as f64 / floor.peak_rss.max(1) as f64
        );
    }
    if !args.lychee {
        return;
    }
    let Some(lychee) = support::on_path("lychee") else {
        println!("lychee: not on PATH, no comparison");
        return;
    };
    let mut cmd = Command::new(lychee);
    cmd.arg(&doc)
        .args(["--max-concurrency", &args.global.to_string()])
        .args(["--host-concurrency", &args.per_host.to_string()])
        .args([
            "--host-request-interval",
            "0ms",
            "--no-progress",
            "--cache-exclude-status",
            "100..=599",
        ]);
    let theirs = support::measure(&mut cmd).expect("run lychee");
    report("lychee", &args, bound, &theirs);
    println!(
        "linkrot/lychee: wall {:.2}x, CPU {:.2}x, peak RSS {:.2}x",
        ours.wall.as_secs_f64() / theirs.wall.as_secs_f64(),
        ours.cpu().as_secs_f64() / theirs.cpu().as_secs_f64().max(1e-9),
        ours.peak_rss as f64 / theirs.peak_rss.max(1) as f64
    );
}

fn report(name: &str, args: &Args, bound: f64, m: &support::Measurement) {
    let wall = m.wall.as_secs_f64();
    println!("{name}:");
    println!(
        "  wall {wall:.2} s ({:.2}x the bound), CPU {:.2} s (user {:.2} s, system {:.2} s), peak RSS {}, {:.0} URLs/s, {}",
        wall / bound,
        m.cpu().as_secs_f64(),
        m.user.as_secs_f64(),
        m.system.as_secs_f64(),
        support::human_bytes(m.peak_rss),
        args.urls as f64 / wall,
        m.status
    );
}
