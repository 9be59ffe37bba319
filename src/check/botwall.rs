//! Bot walls: CDN challenges and captcha pages served instead of the cited
//! page, with a 403, a 429, a 503 or even a 200. The page may well be
//! there; we were not let in. These are `blocked`, never `broken`.
//!
//! Each vendor is recognized by what it documents or always sends
//! (`cf-mitigated: challenge`, `x-amzn-waf-action`, Incapsula's resource
//! paths...). Headers that such CDNs add to every response (`server:
//! cloudflare`, `x-datadome`) only count together with challenge markup or
//! a refusing status, so a normal page behind a CDN stays `ok`.

use reqwest::header::HeaderMap;

use super::Reason;
use super::content::PageContent;

/// A captcha widget on a page with more words than this is a form on a
/// real page (a contact form), not a wall.
const WALL_MAX_WORDS: usize = 120;

fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",")
        .to_ascii_lowercase()
}

/// Which wall answered, if one did.
pub fn detect(
    status: u16,
    headers: &HeaderMap,
    body_lower: &str,
    page: Option<&PageContent>,
) -> Option<Reason> {
    let refusing = matches!(status, 401 | 403 | 429 | 503);
    let title = page
        .and_then(|p| p.title.as_deref())
        .unwrap_or("")
        .to_lowercase();
    let has = |markers: &[&str]| markers.iter().any(|m| body_lower.contains(m));
    let server = header(headers, "server");

    // Cloudflare.
    if header(headers, "cf-mitigated").contains("challenge") {
        return Some(Reason::CloudflareChallenge);
    }
    let cf_markup = has(&[
        "cf-chl",
        "_cf_chl_opt",
        "/cdn-cgi/challenge-platform/",
        "challenges.cloudflare.com",
        "cf-browser-verification",
    ]);
    let cf_title = title.starts_with("just a moment")
        || title.starts_with("attention required! | cloudflare")
        || title == "please wait..."
        || title.starts_with("checking your browser");
    if cf_markup && (cf_title || refusing || server.contains("cloudflare")) {
        return Some(Reason::CloudflareChallenge);
    }
    if cf_title && (refusing || server.contains("cloudflare")) {
        return Some(Reason::CloudflareChallenge);
    }

    // AWS WAF says so in a header.
    if !header(headers, "x-amzn-waf-action").is_empty() {
        return Some(Reason::AwsWafChallenge);
    }

    // Imperva / Incapsula.
    if has(&["_incapsula_resource", "incapsula incident id"])
        || (refusing
            && (headers.contains_key("x-iinfo") || header(headers, "x-cdn").contains("incapsula")))
    {
        return Some(Reason::ImpervaChallenge);
    }

    // DataDome.
    if has(&["captcha-delivery.com"])
        || (refusing && (headers.contains_key("x-datadome") || headers.contains_key("x-dd-b")))
    {
        return Some(Reason::DatadomeChallenge);
    }

    // PerimeterX / HUMAN.
    if has(&["px-captcha", "captcha.px-cdn.net", "_pxcaptcha"])
        || (refusing && has(&["_pxappid", "perimeterx"]))
    {
        return Some(Reason::PerimeterxChallenge);
    }

    // Akamai: its "Access Denied" page and Bot Manager's challenge.
    if has(&["/_sec/cp_challenge/", "bm-verify"])
        || (refusing
            && (server.contains("akamaighost") || has(&["errors.edgesuite.net"]))
            && (title.contains("access denied") || has(&["reference&#32;#", "reference #"])))
    {
        return Some(Reason::AkamaiChallenge);
    }

    // DDoS-Guard.
    if server.contains("ddos-guard") && (refusing || title.contains("ddos-guard")) {
        return Some(Reason::DdosGuardChallenge);
    }

    // A page that is nothing but a captcha.
    let widget = has(&[
        "hcaptcha.com/1/api.js",
        "js.hcaptcha.com",
        "google.com/recaptcha/",
        "recaptcha.net/recaptcha/",
        "challenges.cloudflare.com/turnstile",
    ]);
    let wall_title = [
        "captcha",
        "are you a robot",
        "are you human",
        "verify you are human",
        "human verification",
        "security check",
        "bot check",
        "access denied",
        "unusual traffic",
    ]
    .iter()
    .any(|p| title.contains(p));
    let short = page.is_none_or(|p| p.word_count <= WALL_MAX_WORDS);
    if widget && (wall_title || (short && refusing)) {
        return Some(Reason::CaptchaWall);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(status: u16, headers: &[(&str, &str)], html: &str) -> Option<Reason> {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(
                reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let page = PageContent::parse(html.as_bytes(), Some("text/html")).unwrap();
        detect(status, &map, &html.to_lowercase(), Some(&page))
    }

    const CF: &str = r#"<!DOCTYPE html><html><head><title>Just a moment...</title></head>
        <body><script>window._cf_chl_opt={cvId:'3'};</script>
        <script src="/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1"></script></body></html>"#;

    #[test]
    fn cloudflare_challenges_403_and_200() {
        use Reason::CloudflareChallenge as C;
        assert_eq!(
            check(
                403,
                &[("server", "cloudflare"), ("cf-mitigated", "challenge")],
                CF
            ),
            Some(C)
        );
        assert_eq!(check(403, &[("server", "cloudflare")], CF), Some(C));
        assert_eq!(check(200, &[], CF), Some(C));
        assert_eq!(
            check(200, &[("cf-mitigated", "challenge")], "<p>x</p>"),
            Some(C)
        );
        assert_eq!(check(503, &[], "<title>Just a moment...</title>"), Some(C));
    }

    #[test]
    fn other_vendors() {
        assert_eq!(
            check(
                200,
                &[("x-cdn", "Incapsula")],
                r#"<iframe src="/_Incapsula_Resource?SWUDNSAI=31"></iframe>"#
            ),
            Some(Reason::ImpervaChallenge)
        );
        assert_eq!(
            check(
                403,
                &[("x-datadome", "protected")],
                r#"<script src="https://ct.captcha-delivery.com/c.js"></script>"#
            ),
            Some(Reason::DatadomeChallenge)
        );
        assert_eq!(
            check(
                403,
                &[],
                r#"<div id="px-captcha"></div><p>Press &amp; Hold</p>"#
            ),
            Some(Reason::PerimeterxChallenge)
        );
        assert_eq!(
            check(
                403,
                &[("server", "AkamaiGHost")],
                "<title>Access Denied</title><p>Reference #18.4c</p>"
            ),
            Some(Reason::AkamaiChallenge)
        );
        assert_eq!(
            check(405, &[("x-amzn-waf-action", "captcha")], ""),
            Some(Reason::AwsWafChallenge)
        );
        assert_eq!(
            check(403, &[("server", "ddos-guard")], ""),
            Some(Reason::DdosGuardChallenge)
        );
        assert_eq!(
            check(
                200,
                &[],
                r#"<title>Security check</title><script src="https://js.hcaptcha.com/1/api.js"></script>"#
            ),
            Some(Reason::CaptchaWall)
        );
    }

    #[test]
    fn normal_pages_behind_cdns_stay_unblocked() {
        let article = format!("<title>Report</title><p>{}</p>", "word ".repeat(500));
        assert_eq!(
            check(200, &[("server", "cloudflare"), ("cf-ray", "8a")], &article),
            None
        );
        assert_eq!(check(200, &[("x-datadome", "protected")], &article), None);
        assert_eq!(check(200, &[("server", "AkamaiGHost")], &article), None);
        // A contact form with reCAPTCHA on a real page.
        let form = format!(
            r#"<title>Contact us</title><p>{}</p><script src="https://www.google.com/recaptcha/api.js"></script>"#,
            "word ".repeat(200)
        );
        assert_eq!(check(200, &[], &form), None);
        // A plain 403 without any wall markup is the checker's own `blocked`.
        assert_eq!(
            check(403, &[("server", "nginx")], "<title>403 Forbidden</title>"),
            None
        );
    }
}
