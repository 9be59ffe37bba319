//! Soft 404s: pages that answer 2xx although what was cited is gone.
//!
//! Three kinds of evidence, after the Internet Archive's dead-link bot and
//! Bar-Yossef, Broder, Kumar & Tomkins, "Sic Transit Gloria Telae" (WWW 2004):
//!
//! - where the redirect chain ends: the site's home page, an error page or
//!   a login page ([`redirect_signal`]);
//! - the random-sibling probe: ask the same directory for 25 random letters;
//!   a site that answers that with the same page as the citation has lost
//!   the cited page ([`probe_target`], [`ProbeCache`], [`same_as_probe`]);
//! - the page calling itself "not found" in its title or main heading, in
//!   the six UN languages ([`says_not_found`]).

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use rand::Rng;
use url::Url;

use super::content::PageContent;
use super::similarity::{Fingerprint, Sketch, words};
use super::{Reason, RedirectHop};

/// Length of the random probe segment (Bar-Yossef et al.).
pub const PROBE_LETTERS: usize = 25;

/// Word-shingle Jaccard similarity at or above which the cited page and the
/// probe's answer are the same page (Bar-Yossef et al.).
pub const SAME_PAGE_JACCARD: f64 = 0.95;

/// SimHash Hamming distance at or below which the cited page and the probe's
/// answer are the same page, a second opinion beside the Jaccard sketch.
///
/// 3 bits is Manku, Jain & Das Sarma's k for 64-bit near-duplicates (WWW
/// 2007), and about what Jaccard 0.95 gives on average
/// (64·acos(2J/(1+J))/π ≈ 4.6). Measured on generated 300-word pages (the
/// `simhash_threshold_separates_probe_pages` test): one word changed is
/// 0–8 bits apart, half the text rewritten 12 or more. SimHash over a few
/// hundred shingles is noisy, so it is kept strict (never calling different
/// pages the same); the sketch's Jaccard catches what it misses.
pub const SAME_PAGE_SIMHASH_BITS: u32 = 3;

/// Fewer words than this and text cannot tell pages apart: a JavaScript
/// application serves the same near-empty shell at every path.
pub const MIN_COMPARABLE_WORDS: usize = 10;

/// Registrable domain of a host (the host itself for IP addresses and names
/// the public suffix list does not know).
pub fn registrable_domain(host: &str) -> String {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    // psl would call "192.168.0.1" a domain "0.1": check for addresses first.
    if bare.parse::<IpAddr>().is_ok() {
        return bare.to_string();
    }
    psl::domain_str(&host).map(str::to_string).unwrap_or(host)
}

/// The host without `www.` and a trailing dot, lowercased.
fn site_host(url: &Url) -> Option<String> {
    let host = url.host_str()?.trim_end_matches('.').to_ascii_lowercase();
    Some(
        host.strip_prefix("www.")
            .map(str::to_string)
            .unwrap_or(host),
    )
}

/// Path segments, empty ones dropped.
fn segments(url: &Url) -> Vec<&str> {
    url.path().split('/').filter(|s| !s.is_empty()).collect()
}

/// `/`, `/index.html`, `/default.aspx`, `/home`...: the site's front page.
fn is_root_path(url: &Url) -> bool {
    match segments(url).as_slice() {
        [] => true,
        [only] => {
            let stem = only.split('.').next().unwrap_or("").to_ascii_lowercase();
            matches!(stem.as_str(), "index" | "default" | "home" | "start")
        }
        _ => false,
    }
}

/// Query parameters that do not select a page (language, tracking).
fn is_cosmetic_query(url: &Url) -> bool {
    url.query_pairs().all(|(k, _)| {
        let k = k.to_ascii_lowercase();
        matches!(
            k.as_str(),
            "lang" | "hl" | "locale" | "ref" | "source" | "from"
        ) || k.starts_with("utm_")
    })
}

/// A URL that names something below the front page.
pub fn is_deep(url: &Url) -> bool {
    !is_root_path(url) || !is_cosmetic_query(url)
}

fn is_root(url: &Url) -> bool {
    is_root_path(url) && is_cosmetic_query(url)
}

/// Where the chain's end says the cited page went, if it says anything.
///
/// Only chains with at least one redirect count: a page that answers at its
/// own address was not sent anywhere.
pub fn redirect_signal(original: &Url, chain: &[RedirectHop]) -> Option<Reason> {
    if chain.len() < 2 {
        return None;
    }
    let last = Url::parse(&chain.last()?.url).ok()?;
    if same_page(original, &last) {
        return None;
    }
    if is_login_page(original, &last) {
        return Some(Reason::LoginRequired);
    }
    if is_error_page(&last) && !is_error_page(original) {
        return Some(Reason::RedirectToErrorPage);
    }
    if is_deep(original) && is_root(&last) {
        let (from, to) = (site_host(original)?, site_host(&last)?);
        if to == from || to == registrable_domain(&from) {
            return Some(Reason::RedirectToRoot);
        }
    }
    None
}

/// The chain was redirected to another page than the one cited.
pub fn moved(original: &Url, chain: &[RedirectHop]) -> bool {
    chain.len() >= 2
        && chain
            .last()
            .and_then(|h| Url::parse(&h.url).ok())
            .is_some_and(|last| !same_page(original, &last))
}

/// Same host (modulo `www.`), path (modulo a trailing slash) and query:
/// `http → https` and `/a → /a/` redirects are not moves.
fn same_page(a: &Url, b: &Url) -> bool {
    site_host(a) == site_host(b)
        && a.path().trim_end_matches('/') == b.path().trim_end_matches('/')
        && a.query() == b.query()
}

/// Normalized file-name stem: lowercase, extension and separators dropped.
fn stem(segment: &str) -> String {
    let base = segment.split('.').next().unwrap_or(segment);
    base.chars()
        .filter(|c| !matches!(c, '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// `/404`, `/404.html`, `/errors/404`, `/error`, `/PageNotFound.aspx`,
/// ASP.NET's `?aspxerrorpath=`.
fn is_error_page(url: &Url) -> bool {
    if url
        .query_pairs()
        .any(|(k, _)| k.eq_ignore_ascii_case("aspxerrorpath"))
    {
        return true;
    }
    segments(url).iter().any(|seg| {
        let s = stem(seg);
        matches!(
            s.as_str(),
            "404" | "410" | "error" | "errors" | "error404" | "404error" | "errorpage"
        ) || s.contains("notfound")
            || s.contains("pagenotfound")
    })
}

/// Login forms and single-sign-on services.
fn is_login_page(original: &Url, url: &Url) -> bool {
    let path_says = segments(url).iter().any(|seg| {
        matches!(
            stem(seg).as_str(),
            "login"
                | "logon"
                | "signin"
                | "auth"
                | "authenticate"
                | "authorize"
                | "sso"
                | "saml"
                | "oauth"
                | "oauth2"
                | "wplogin"
                | "userlogin"
                | "accountlogin"
        )
    });
    let host_changed = site_host(url) != site_host(original);
    let host_says = host_changed
        && url.host_str().is_some_and(|h| {
            let first = h.split('.').next().unwrap_or("").to_ascii_lowercase();
            matches!(
                first.as_str(),
                "login" | "signin" | "auth" | "sso" | "idp" | "cas" | "accounts"
            )
        });
    let original_path = original.path().trim_end_matches('/');
    let query_says = url.query_pairs().any(|(k, v)| {
        let key = stem(&k);
        match key.as_str() {
            "returnurl" | "returnto" => true,
            // Generic "go back to" parameters count when they carry the
            // cited page.
            "redirect" | "redirecturl" | "redirectto" | "next" | "continue" | "goto"
            | "camefrom" | "destination" | "service" => {
                !original_path.is_empty() && v.contains(original_path)
            }
            _ => false,
        }
    });
    path_says || host_says || query_says
}

/// Phrases that name a missing page, lowercased, in the six UN languages.
const NOT_FOUND_PHRASES: &[&str] = &[
    // English
    "page not found",
    "not found",
    "no longer available",
    "no longer exists",
    "doesn't exist",
    "does not exist",
    "page cannot be found",
    "can't be found",
    "could not be found",
    "couldn't find",
    "page is missing",
    "page has been removed",
    // French
    "page introuvable",
    "page non trouvée",
    "introuvable",
    "n'existe pas",
    "n'existe plus",
    "n'est plus disponible",
    "page non disponible",
    "erreur 404",
    // Spanish
    "página no encontrada",
    "pagina no encontrada",
    "no encontrada",
    "no encontrado",
    "no se encontró",
    "no se ha encontrado",
    "no existe",
    "ya no está disponible",
    "página no disponible",
    // Russian
    "страница не найдена",
    "не найдена",
    "не найден",
    "не существует",
    "больше не доступна",
    "ошибка 404",
    // Arabic
    "الصفحة غير موجودة",
    "غير موجودة",
    "غير موجود",
    "لم يتم العثور",
    "لم تعد متاحة",
    "لم يعد متاحا",
    "خطأ 404",
    // Chinese (simplified and traditional)
    "页面不存在",
    "頁面不存在",
    "网页不存在",
    "網頁不存在",
    "找不到页面",
    "找不到頁面",
    "页面未找到",
    "頁面未找到",
    "未找到",
    "找不到",
    "已被删除",
    "不存在",
];

/// The title or a main heading says the page is missing.
pub fn says_not_found(page: &PageContent) -> bool {
    page.names().any(|name| {
        let name = name.to_lowercase().replace(['\u{2019}', '\u{2018}'], "'");
        has_404_token(&name) || NOT_FOUND_PHRASES.iter().any(|p| name.contains(p))
    })
}

/// "404" standing alone ("Error 404", "404 - Not Found"), not inside "14040".
fn has_404_token(text: &str) -> bool {
    let bytes = text.as_bytes();
    text.match_indices("404").any(|(i, _)| {
        let before = i.checked_sub(1).map(|j| bytes[j]);
        let after = bytes.get(i + 3).copied();
        !before.is_some_and(|b| b.is_ascii_alphanumeric())
            && !after.is_some_and(|b| b.is_ascii_alphanumeric())
    })
}

/// Which probe answers for a URL: one per scheme, host, port and directory.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProbeKey {
    /// `scheme://host:port`.
    pub origin: String,
    /// The directory probed, with its trailing slash.
    pub directory: String,
}

/// The probe for a cited URL: its key and a URL in the same directory made
/// of [`PROBE_LETTERS`] random lowercase letters (keeping the cited URL's
/// extension and trailing slash, so the server routes it the same way).
/// `None` for the site's front page, which is never a soft 404.
pub fn probe_target(url: &Url) -> Option<(ProbeKey, Url)> {
    if !is_deep(url) || url.host_str().is_none() {
        return None;
    }
    let path = url.path();
    let trailing = path.len() > 1 && path.ends_with('/');
    let trimmed = path.trim_end_matches('/');
    let (directory, last) = match trimmed.rfind('/') {
        Some(i) => (&trimmed[..=i], &trimmed[i + 1..]),
        None => ("/", trimmed),
    };
    let extension = last.rsplit_once('.').map(|(_, ext)| ext).filter(|ext| {
        (1..=5).contains(&ext.len()) && ext.chars().all(|c| c.is_ascii_alphanumeric())
    });
    let mut rng = rand::rng();
    let letters: String = (0..PROBE_LETTERS)
        .map(|_| rng.random_range(b'a'..=b'z') as char)
        .collect();
    let mut probe_path = format!("{directory}{letters}");
    if let Some(ext) = extension {
        probe_path = format!("{probe_path}.{ext}");
    }
    if trailing {
        probe_path.push('/');
    }
    let mut probe = url.clone();
    probe.set_path(&probe_path);
    probe.set_query(None);
    probe.set_fragment(None);
    let key = ProbeKey {
        origin: url.origin().ascii_serialization(),
        directory: directory.to_string(),
    };
    Some((key, probe))
}

/// The words of a URL's last path segment, which not-found pages often echo
/// ("The page /reports/qwerty… was not found"): left out of comparisons.
pub fn echoed_words(urls: &[&Url]) -> HashSet<String> {
    urls.iter()
        .filter_map(|u| segments(u).last().map(|s| words(s)))
        .flatten()
        .collect()
}

/// A page as compared with its probe.
#[derive(Debug, Clone)]
pub struct Comparable {
    /// Where the chain ended.
    pub final_url: String,
    /// Redirects followed.
    pub redirects: usize,
    /// SimHash of the text without the echoed path words.
    pub fingerprint: Option<Fingerprint>,
    /// Bottom-k shingle sketch of the same text.
    pub sketch: Sketch,
    /// Words in that text.
    pub words: usize,
    /// The title or a heading says "not found".
    pub says_not_found: bool,
}

impl Comparable {
    /// Prepares a page for comparison, leaving out the words of `urls`' last
    /// path segments.
    pub fn new(final_url: &str, redirects: usize, page: &PageContent, urls: &[&Url]) -> Comparable {
        let (fingerprint, sketch, words) = page.comparable(&echoed_words(urls));
        Comparable {
            final_url: final_url.to_string(),
            redirects,
            fingerprint,
            sketch,
            words,
            says_not_found: says_not_found(page),
        }
    }
}

/// What the random-sibling probe got.
#[derive(Debug, Clone)]
pub enum ProbeOutcome {
    /// A 4xx or 5xx: the site reports missing pages honestly.
    Honest {
        /// The final status.
        status: u16,
    },
    /// A 2xx for a page that cannot exist.
    Answered(Comparable),
    /// No conclusion: network error, a redirect dead end, non-text content.
    Inconclusive,
}

/// Bar-Yossef et al., steps 3–7: the cited page is the site's answer to any
/// path when the probe was answered with the same final URL or nearly the
/// same text after the same number of redirects.
pub fn same_as_probe(cited: &Comparable, probe: &ProbeOutcome) -> bool {
    let ProbeOutcome::Answered(probe) = probe else {
        return false;
    };
    if cited.redirects != probe.redirects {
        return false;
    }
    if cited.redirects > 0 && strip_fragment(&cited.final_url) == strip_fragment(&probe.final_url) {
        return true;
    }
    if cited.words < MIN_COMPARABLE_WORDS && !cited.says_not_found {
        return false;
    }
    if cited.sketch.jaccard(&probe.sketch) >= SAME_PAGE_JACCARD {
        return true;
    }
    match (cited.fingerprint, probe.fingerprint) {
        (Some(a), Some(b)) => a.distance(b) <= SAME_PAGE_SIMHASH_BITS,
        _ => false,
    }
}

fn strip_fragment(url: &str) -> &str {
    url.split('#').next().unwrap_or(url)
}

type ProbeCell = Arc<tokio::sync::OnceCell<Arc<ProbeOutcome>>>;

/// Probe answers of one run: each directory is probed once, and URLs asking
/// while a probe is in flight wait for it instead of sending their own.
#[derive(Default)]
pub struct ProbeCache {
    cells: Mutex<HashMap<ProbeKey, ProbeCell>>,
}

impl std::fmt::Debug for ProbeCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProbeCache({} directories)", self.len())
    }
}

impl ProbeCache {
    /// An empty cache.
    pub fn new() -> ProbeCache {
        ProbeCache::default()
    }

    /// The outcome for `key`, running `probe` only if no other caller has.
    pub async fn get_or_probe<F, Fut>(&self, key: ProbeKey, probe: F) -> Arc<ProbeOutcome>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = ProbeOutcome>,
    {
        let cell = {
            let mut cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
            cells.entry(key).or_default().clone()
        };
        cell.get_or_init(|| async { Arc::new(probe().await) })
            .await
            .clone()
    }

    /// Directories probed (or being probed) so far.
    pub fn len(&self) -> usize {
        self.cells.lock().map(|c| c.len()).unwrap_or(0)
    }

    /// Nothing probed yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn chain(urls: &[&str]) -> Vec<RedirectHop> {
        urls.iter()
            .enumerate()
            .map(|(i, url)| RedirectHop {
                url: url.to_string(),
                status: if i + 1 == urls.len() { 200 } else { 301 },
                location: None,
                resolved: None,
                remote_addr: None,
                elapsed_ms: 0,
            })
            .collect()
    }

    fn signal(from: &str, to: &str) -> Option<Reason> {
        redirect_signal(&u(from), &chain(&[from, to]))
    }

    #[test]
    fn registrable_domains_and_ip_hosts() {
        assert_eq!(registrable_domain("news.bbc.co.uk"), "bbc.co.uk");
        assert_eq!(registrable_domain("WWW.Example.COM."), "example.com");
        assert_eq!(registrable_domain("192.168.0.1"), "192.168.0.1");
        assert_eq!(registrable_domain("[::1]"), "::1");
        assert_eq!(registrable_domain("a.test"), "a.test");
    }

    #[test]
    fn redirect_to_root_ignores_scheme_www_slash_and_fragment() {
        use Reason::RedirectToRoot as R;
        assert_eq!(
            signal("http://example.org/report/2024", "https://www.example.org/"),
            Some(R)
        );
        assert_eq!(
            signal("https://www.example.org/a", "https://example.org"),
            Some(R)
        );
        assert_eq!(
            signal("https://example.org/a", "https://example.org/#top"),
            Some(R)
        );
        assert_eq!(
            signal("https://example.org/a", "https://example.org/index.html"),
            Some(R)
        );
        assert_eq!(
            signal("https://news.example.org/a/b", "https://example.org/"),
            Some(R)
        );
        assert_eq!(
            signal("https://example.org/?p=123", "https://example.org/"),
            Some(R)
        );
        assert_eq!(
            signal("https://example.org/a", "https://example.org/?lang=en"),
            Some(R)
        );
        assert_eq!(
            signal("http://127.0.0.2:8080/x/y", "http://127.0.0.2:8080/"),
            Some(R)
        );
    }

    #[test]
    fn redirects_that_are_not_to_the_root() {
        // The front page itself, canonicalized.
        assert_eq!(
            signal("http://example.org/", "https://www.example.org/"),
            None
        );
        assert_eq!(
            signal("http://example.org/index.html", "https://example.org/"),
            None
        );
        // Another site's front page: link shorteners do this legitimately.
        assert_eq!(signal("https://t.co/abc", "https://example.org/"), None);
        // Another subdomain's front page is not this host's or domain's root.
        assert_eq!(
            signal("https://a.example.org/x", "https://b.example.org/"),
            None
        );
        // Moved to a deep page: alive.
        assert_eq!(
            signal("https://example.org/a", "https://example.org/b/c"),
            None
        );
        // http → https of the same page.
        assert_eq!(
            signal("http://example.org/a", "https://example.org/a/"),
            None
        );
        // No redirect at all.
        assert_eq!(
            redirect_signal(
                &u("https://example.org/a"),
                &chain(&["https://example.org/a"])
            ),
            None
        );
        // IP hosts compare as themselves, not as "0.1".
        assert_eq!(signal("http://10.0.0.1/x", "http://192.168.0.1/"), None);
    }

    #[test]
    fn redirects_to_error_pages() {
        use Reason::RedirectToErrorPage as E;
        for to in [
            "https://example.org/404",
            "https://example.org/404.html",
            "https://example.org/404.htm",
            "https://example.org/errors/404/",
            "https://example.org/error",
            "https://example.org/Error.aspx?aspxerrorpath=/a",
            "https://example.org/PageNotFound",
            "https://example.org/not-found?from=/a",
            "https://example.org/en/page_not_found.php",
        ] {
            assert_eq!(signal("https://example.org/a", to), Some(E), "{to}");
        }
        assert_eq!(
            signal(
                "https://example.org/a",
                "https://example.org/docs/error-handling"
            ),
            None
        );
        assert_eq!(
            signal("https://example.org/a", "https://example.org/blog/2404"),
            None
        );
    }

    #[test]
    fn redirects_to_login_pages() {
        use Reason::LoginRequired as L;
        for to in [
            "https://example.org/login",
            "https://example.org/users/sign_in",
            "https://example.org/account/SignIn.aspx",
            "https://example.org/auth/realms/x",
            "https://example.org/wp-login.php?redirect_to=%2Fa",
            "https://sso.example.org/",
            "https://login.microsoftonline.com/common/oauth2/authorize",
            "https://example.org/portal?returnUrl=%2Fa",
            "https://example.org/gate?next=/a",
        ] {
            assert_eq!(signal("https://example.org/a", to), Some(L), "{to}");
        }
        // A "next" parameter that does not carry the cited page is not a login.
        assert_eq!(
            signal("https://example.org/a", "https://example.org/list?next=2"),
            None
        );
        assert_eq!(
            signal("https://example.org/a", "https://example.org/authors/smith"),
            None
        );
    }

    fn titled(title: &str) -> PageContent {
        PageContent {
            title: Some(title.to_string()),
            ..PageContent::default()
        }
    }

    #[test]
    fn not_found_titles_in_the_un_languages() {
        for t in [
            "Page Not Found | Example",
            "404",
            "Error 404 - Example",
            "This page doesn’t exist",
            "Sorry, this report is no longer available",
            "Page introuvable – Nations Unies",
            "Cette page n’existe pas",
            "Página no encontrada",
            "Страница не найдена",
            "الصفحة غير موجودة",
            "页面不存在",
            "抱歉，找不到页面",
        ] {
            assert!(says_not_found(&titled(t)), "{t}");
        }
        let heading = PageContent {
            title: Some("Example".into()),
            headings: vec!["Oops! That page can’t be found.".into()],
            ..PageContent::default()
        };
        assert!(says_not_found(&heading));
        for t in [
            "Annual report 2024",
            "Resolution 14040 adopted",
            "Found in translation",
            "Security Council – 9740th meeting",
            "Доклад Генерального секретаря",
            "秘书长的报告",
        ] {
            assert!(!says_not_found(&titled(t)), "{t}");
        }
    }

    #[test]
    fn probe_targets_keep_directory_extension_and_slash() {
        let (key, probe) = probe_target(&u("https://example.org/docs/report.pdf?x=1#p")).unwrap();
        assert_eq!(key.origin, "https://example.org");
        assert_eq!(key.directory, "/docs/");
        let path = probe.path();
        assert!(
            path.starts_with("/docs/") && path.ends_with(".pdf"),
            "{path}"
        );
        let letters = &path[6..path.len() - 4];
        assert_eq!(letters.len(), PROBE_LETTERS);
        assert!(letters.bytes().all(|b| b.is_ascii_lowercase()));
        assert_eq!(probe.query(), None);
        assert_eq!(probe.fragment(), None);

        let (key, probe) = probe_target(&u("https://example.org/news/2024/story/")).unwrap();
        assert_eq!(key.directory, "/news/2024/");
        assert!(probe.path().ends_with('/'));
        let (key, _) = probe_target(&u("https://example.org/story")).unwrap();
        assert_eq!(key.directory, "/");
        // Two probes of one directory differ, but share a key.
        let (k1, p1) = probe_target(&u("https://example.org/a/b")).unwrap();
        let (k2, p2) = probe_target(&u("https://example.org/a/c")).unwrap();
        assert_eq!(k1, k2);
        assert_ne!(p1, p2);
        // The front page is never probed.
        assert!(probe_target(&u("https://example.org/")).is_none());
        assert!(probe_target(&u("https://example.org/index.html")).is_none());
    }

    fn comparable(url: &str, redirects: usize, html: &str) -> Comparable {
        let page = PageContent::parse(html.as_bytes(), Some("text/html")).unwrap();
        let url = u(url);
        Comparable::new(url.as_str(), redirects, &page, &[&url])
    }

    const NOT_FOUND: &str = "<title>Example</title><h1>Sorry</h1><p>We looked everywhere \
        but the page PATH is not here any more. Try the search box or the site map.</p>";

    #[test]
    fn probe_judgement_follows_bar_yossef() {
        let cited = comparable(
            "https://example.org/a/report",
            0,
            &NOT_FOUND.replace("PATH", "report"),
        );
        let same = comparable(
            "https://example.org/a/qwertyuiopasdfghjklzxcvbn",
            0,
            &NOT_FOUND.replace("PATH", "qwertyuiopasdfghjklzxcvbn"),
        );
        assert!(same_as_probe(&cited, &ProbeOutcome::Answered(same.clone())));
        assert!(!same_as_probe(
            &cited,
            &ProbeOutcome::Honest { status: 404 }
        ));
        assert!(!same_as_probe(&cited, &ProbeOutcome::Inconclusive));
        // Hop counts differ: alive.
        let mut hopped = same.clone();
        hopped.redirects = 1;
        assert!(!same_as_probe(&cited, &ProbeOutcome::Answered(hopped)));
        // Same final URL after the same redirects: soft 404.
        let a = comparable("https://example.org/home", 1, "<p>one</p>");
        let b = comparable("https://example.org/home", 1, "<p>two</p>");
        assert!(same_as_probe(&a, &ProbeOutcome::Answered(b)));
        // A real page against the site's not-found page: alive.
        let real = comparable(
            "https://example.org/a/report",
            0,
            "<title>Report</title><p>The committee adopted the draft resolution on water \
             after a long debate about budgets, refugees and the mandate of the mission.</p>",
        );
        assert!(!same_as_probe(&real, &ProbeOutcome::Answered(same)));
    }

    #[test]
    fn near_empty_shells_are_not_judged_by_text() {
        // A JavaScript application: the same empty shell at every path.
        let shell = "<div id=root></div><script src=/app.js></script>";
        let cited = comparable("https://example.org/app/page", 0, shell);
        let probe = comparable(
            "https://example.org/app/zzzzzzzzzzzzzzzzzzzzzzzzz",
            0,
            shell,
        );
        assert!(!same_as_probe(&cited, &ProbeOutcome::Answered(probe)));
    }

    #[tokio::test]
    async fn probe_cache_runs_each_directory_once_even_when_concurrent() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let cache = Arc::new(ProbeCache::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let key = |d: &str| ProbeKey {
            origin: "https://example.org".into(),
            directory: d.into(),
        };
        let mut tasks = Vec::new();
        for i in 0..8 {
            let (cache, runs) = (cache.clone(), runs.clone());
            let k = key(if i % 2 == 0 { "/a/" } else { "/b/" });
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_probe(k, || async {
                        runs.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        ProbeOutcome::Honest { status: 404 }
                    })
                    .await
            }));
        }
        for t in tasks {
            assert!(matches!(
                *t.await.unwrap(),
                ProbeOutcome::Honest { status: 404 }
            ));
        }
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert_eq!(cache.len(), 2);
    }
}
