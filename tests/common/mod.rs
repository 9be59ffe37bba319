//! Loopback HTTP servers for the integration tests.
//!
//! A hand-written HTTP/1.1 server (keep-alive, HEAD, request bodies) so tests
//! can also answer in ways no well-behaved framework would: hang, reset,
//! trickle, or send garbage. Each server runs on its own thread with its own
//! runtime, so plain `#[test]` functions can drive the real binary with
//! assert_cmd while the server answers.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Path without the query.
    pub path: String,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// How many requests this path had received before this one.
    pub seen_before: usize,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The Host header without the port.
    pub fn host(&self) -> String {
        let host = self.header("host").unwrap_or("");
        match host.rsplit_once(':') {
            Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h.to_string(),
            _ => host.to_string(),
        }
    }
}

/// How the server answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A normal response, sent after `delay`.
    Response {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        delay: Duration,
    },
    /// Headers at once, then the body one chunk every `interval`.
    Trickle {
        status: u16,
        headers: Vec<(String, String)>,
        chunk: Vec<u8>,
        chunks: usize,
        interval: Duration,
    },
    /// Never answer (the connection stays open until the client gives up).
    Hang,
    /// Close the connection with a TCP reset before answering.
    Reset,
    /// Write these bytes and close.
    Raw(Vec<u8>),
}

impl Reply {
    pub fn status(status: u16) -> Reply {
        Reply::Response {
            status,
            headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
            body: format!(
                "<html><head><title>{status}</title></head><body>status {status}</body></html>"
            )
            .into_bytes(),
            delay: Duration::ZERO,
        }
    }

    pub fn html(body: &str) -> Reply {
        Reply::Response {
            status: 200,
            headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
            body: body.as_bytes().to_vec(),
            delay: Duration::ZERO,
        }
    }

    pub fn body(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply::Response {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn redirect(status: u16, location: &str) -> Reply {
        Reply::Response {
            status,
            headers: vec![("location".into(), location.into())],
            body: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    /// Adds a header to a `Response` or `Trickle`.
    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        match &mut self {
            Reply::Response { headers, .. } | Reply::Trickle { headers, .. } => {
                headers.push((name.to_ascii_lowercase(), value.to_string()))
            }
            _ => {}
        }
        self
    }

    /// Delays a `Response`.
    pub fn with_delay(mut self, d: Duration) -> Reply {
        if let Reply::Response { delay, .. } = &mut self {
            *delay = d;
        }
        self
    }
}

type Handler = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

/// Routes by exact path (query ignored); unknown paths answer 404.
#[derive(Clone, Default)]
pub struct Routes {
    map: HashMap<String, Handler>,
    fallback: Option<Handler>,
}

impl Routes {
    pub fn new() -> Routes {
        Routes::default()
    }

    /// Answers `path` with a fixed reply.
    pub fn at(mut self, path: &str, reply: Reply) -> Routes {
        self.map
            .insert(path.to_string(), Arc::new(move |_: &Request| reply.clone()));
        self
    }

    /// Answers `path` with whatever `f` says for each request.
    pub fn with(
        mut self,
        path: &str,
        f: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> Routes {
        self.map.insert(path.to_string(), Arc::new(f));
        self
    }

    /// Answers every path without a route of its own.
    pub fn fallback(mut self, f: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Routes {
        self.fallback = Some(Arc::new(f));
        self
    }

    fn handle(&self, req: &Request) -> Reply {
        match self.map.get(&req.path).or(self.fallback.as_ref()) {
            Some(h) => h(req),
            None => Reply::status(404),
        }
    }
}

#[derive(Default)]
struct Stats {
    log: Mutex<Vec<Request>>,
    per_path: Mutex<HashMap<String, usize>>,
    in_flight: Mutex<HashMap<String, usize>>,
    peak_per_host: Mutex<HashMap<String, usize>>,
    in_flight_total: AtomicUsize,
    peak_total: AtomicUsize,
}

/// A running loopback server; it stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    stats: Arc<Stats>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    scheme: &'static str,
}

impl TestServer {
    /// Starts a plain-HTTP server on 127.0.0.1 with a free port.
    pub fn start(routes: Routes) -> TestServer {
        TestServer::start_on(IpAddr::V4(Ipv4Addr::LOCALHOST), routes)
    }

    /// Starts a plain-HTTP server on the given loopback address.
    pub fn start_on(ip: IpAddr, routes: Routes) -> TestServer {
        TestServer::spawn(ip, routes, None)
    }

    /// Starts an HTTPS server with a fresh self-signed certificate for
    /// `localhost` and the given names.
    pub fn start_tls(routes: Routes, names: &[&str]) -> TestServer {
        let mut all = vec!["localhost".to_string()];
        all.extend(names.iter().map(|s| s.to_string()));
        let cert = rcgen::generate_simple_self_signed(all).expect("self-signed certificate");
        let der = cert.cert.der().clone();
        let key = rustls_pki_key(cert.signing_key.serialize_der());
        let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(Arc::new(
            tokio_rustls::rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![der], key)
        .expect("server certificate");
        TestServer::spawn(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            routes,
            Some(tokio_rustls::TlsAcceptor::from(Arc::new(config))),
        )
    }

    fn spawn(ip: IpAddr, routes: Routes, tls: Option<tokio_rustls::TlsAcceptor>) -> TestServer {
        let std_listener = std::net::TcpListener::bind((ip, 0)).expect("bind loopback");
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let stats = Arc::new(Stats::default());
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let st = stats.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::from_std(std_listener).unwrap();
                let routes = Arc::new(routes);
                loop {
                    tokio::select! {
                        _ = &mut rx => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let routes = routes.clone();
                            let st = st.clone();
                            let tls = tls.clone();
                            tokio::spawn(async move {
                                let _ = stream.set_nodelay(true);
                                match tls {
                                    Some(acceptor) => {
                                        if let Ok(s) = acceptor.accept(stream).await {
                                            serve(s, None, routes, st).await;
                                        }
                                    }
                                    None => serve_plain(stream, routes, st).await,
                                }
                            });
                        }
                    }
                }
            });
            rt.shutdown_timeout(Duration::from_millis(100));
        });
        TestServer {
            addr,
            stats,
            shutdown: Some(tx),
            thread: Some(thread),
            scheme,
        }
    }

    /// `http://127.0.0.1:PORT/path`
    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{}", self.scheme, self.addr, path)
    }

    /// `http://HOST:PORT/path`, for names mapped with `--resolve HOST:PORT:ADDR`.
    pub fn url_for_host(&self, host: &str, path: &str) -> String {
        format!("{}://{}:{}{}", self.scheme, host, self.addr.port(), path)
    }

    /// `HOST:PORT:ADDR` for `--resolve`.
    pub fn resolve_arg(&self, host: &str) -> String {
        format!("{}:{}:{}", host, self.addr.port(), self.addr.ip())
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.stats.log.lock().unwrap().clone()
    }

    /// Requests received for `path` (query ignored).
    pub fn hits(&self, path: &str) -> usize {
        self.stats
            .per_path
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// Requests received for `path` with `method`.
    pub fn hits_with(&self, method: &str, path: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .count()
    }

    /// The most requests ever in flight at once for each Host (port stripped).
    pub fn peak_per_host(&self) -> HashMap<String, usize> {
        self.stats.peak_per_host.lock().unwrap().clone()
    }

    /// The most requests ever in flight at once on this server.
    pub fn peak_total(&self) -> usize {
        self.stats.peak_total.load(Ordering::SeqCst)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn rustls_pki_key(der: Vec<u8>) -> tokio_rustls::rustls::pki_types::PrivateKeyDer<'static> {
    tokio_rustls::rustls::pki_types::PrivateKeyDer::Pkcs8(der.into())
}

async fn serve_plain(stream: TcpStream, routes: Arc<Routes>, stats: Arc<Stats>) {
    let raw = stream.into_std().ok();
    // Keep a handle able to set SO_LINGER 0 for resets.
    let Some(raw) = raw else { return };
    let reset_handle = raw.try_clone().ok();
    let stream = TcpStream::from_std(raw).unwrap();
    serve(stream, reset_handle, routes, stats).await
}

struct FlightGuard {
    stats: Arc<Stats>,
    host: String,
}

impl FlightGuard {
    fn enter(stats: &Arc<Stats>, host: &str) -> FlightGuard {
        {
            let mut map = stats.in_flight.lock().unwrap();
            let n = map.entry(host.to_string()).or_default();
            *n += 1;
            let mut peak = stats.peak_per_host.lock().unwrap();
            let p = peak.entry(host.to_string()).or_default();
            *p = (*p).max(*n);
        }
        let total = stats.in_flight_total.fetch_add(1, Ordering::SeqCst) + 1;
        stats.peak_total.fetch_max(total, Ordering::SeqCst);
        FlightGuard {
            stats: stats.clone(),
            host: host.to_string(),
        }
    }
}

impl Drop for FlightGuard {
    fn drop(&mut self) {
        if let Some(n) = self.stats.in_flight.lock().unwrap().get_mut(&self.host) {
            *n -= 1;
        }
        self.stats.in_flight_total.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn serve<S>(
    mut stream: S,
    reset: Option<std::net::TcpStream>,
    routes: Arc<Routes>,
    stats: Arc<Stats>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    loop {
        // Read one request head.
        let head_end = loop {
            if let Some(pos) = find(&buf, b"\r\n\r\n") {
                break pos + 4;
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let mut lines = head.split("\r\n");
        let mut first = lines.next().unwrap_or("").split(' ');
        let method = first.next().unwrap_or("").to_string();
        let target = first.next().unwrap_or("/").to_string();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let len: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + len {
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body = buf[head_end..head_end + len].to_vec();
        buf.drain(..head_end + len);
        let path = target.split('?').next().unwrap_or("/").to_string();
        let seen_before = {
            let mut per = stats.per_path.lock().unwrap();
            let n = per.entry(path.clone()).or_default();
            *n += 1;
            *n - 1
        };
        let req = Request {
            method,
            target,
            path,
            headers,
            body,
            seen_before,
        };
        stats.log.lock().unwrap().push(req.clone());
        let close = req
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let mut in_flight = Some(FlightGuard::enter(&stats, &req.host()));
        let is_head = req.method == "HEAD";
        match routes.handle(&req) {
            Reply::Response {
                status,
                headers,
                body,
                delay,
            } => {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                // Count the request as finished before the client can see the
                // answer: a client that starts its next request the moment
                // this one completes must not look like a limit violation.
                in_flight.take();
                let mut out = head_bytes(status, &headers, Some(body.len()));
                if !is_head {
                    out.extend_from_slice(&body);
                }
                if stream.write_all(&out).await.is_err() {
                    return;
                }
                let _ = stream.flush().await;
            }
            Reply::Trickle {
                status,
                headers,
                chunk,
                chunks,
                interval,
            } => {
                let out = head_bytes(status, &headers, Some(chunk.len() * chunks));
                if stream.write_all(&out).await.is_err() {
                    return;
                }
                let _ = stream.flush().await;
                if is_head {
                    continue;
                }
                for _ in 0..chunks {
                    tokio::time::sleep(interval).await;
                    if stream.write_all(&chunk).await.is_err() {
                        return;
                    }
                    let _ = stream.flush().await;
                }
            }
            Reply::Hang => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return;
            }
            Reply::Reset => {
                if let Some(raw) = &reset {
                    let _ = socket_linger_zero(raw);
                }
                return;
            }
            Reply::Raw(bytes) => {
                let _ = stream.write_all(&bytes).await;
                let _ = stream.flush().await;
                return;
            }
        }
        if close {
            return;
        }
    }
}

fn head_bytes(status: u16, headers: &[(String, String)], len: Option<usize>) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    let mut has_len = false;
    for (n, v) in headers {
        if n.eq_ignore_ascii_case("content-length") || n.eq_ignore_ascii_case("transfer-encoding") {
            has_len = true;
        }
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    if let (false, Some(len)) = (has_len, len) {
        out.push_str(&format!("content-length: {len}\r\n"));
    }
    out.push_str("\r\n");
    out.into_bytes()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn socket_linger_zero(s: &std::net::TcpStream) -> std::io::Result<()> {
    // SO_LINGER with a zero timeout makes close() send RST instead of FIN.
    socket2::SockRef::from(s).set_linger(Some(Duration::ZERO))
}
pub mod warc;
