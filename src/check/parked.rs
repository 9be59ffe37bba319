//! Parked, for-sale and expired domains (Vissers, Joosen & Nikiforakis,
//! "Parking Sensors", NDSS 2015): the cited site is gone and its name now
//! serves ads or a sale offer, usually with a 200.
//!
//! Evidence, strongest first: the chain ends on (or passes through) a known
//! parking or domain-marketplace host; headers parking networks set; their
//! scripts in the page; sale or expiry wording in the title or in a short
//! page. Wording alone counts only on short pages or in the title, so an
//! article *about* domain sales is not called parked.

use reqwest::header::HeaderMap;
use url::Url;

use super::Reason;
use super::content::PageContent;
use super::soft404::registrable_domain;

/// Hosts (and their subdomains) of parking services and domain marketplaces.
const PARKING_HOSTS: &[&str] = &[
    "sedoparking.com",
    "sedo.com",
    "bodis.com",
    "parkingcrew.net",
    "parklogic.com",
    "above.com",
    "dan.com",
    "afternic.com",
    "hugedomains.com",
    "buydomains.com",
    "domainmarket.com",
    "undeveloped.com",
    "uniregistry.com",
    "squadhelp.com",
    "brandbucket.com",
    "efty.com",
    "domainnamesales.com",
    "parkingpage.namecheap.com",
    "domainparking.ru",
];

/// Markup of parking pages: their script and image hosts, and Google's
/// AdSense for Domains loader (served only on parked domains).
const PARKING_MARKERS: &[&str] = &[
    "sedoparking.com",
    "parkingcrew.net",
    "bodis.com",
    "bodiscdn.com",
    "parklogic.com",
    "above.com/marketplace",
    "dan.com/buy-domain",
    "afternic.com/forsale",
    "hugedomains.com/domain_profile",
    "adsense/domains/caf.js",
    "window.park",
];

/// Sale, parking and expiry wording, lowercased.
const SALE_PHRASES: &[&str] = &[
    "this domain is for sale",
    "this domain name is for sale",
    "domain may be for sale",
    "domain is for sale",
    "buy this domain",
    "this domain is available for purchase",
    "make an offer on this domain",
    "this domain is parked",
    "this web page is parked",
    "parked free, courtesy of",
    "domain has expired",
    "domain name has expired",
    "this domain has been registered",
    "ce domaine est à vendre",
    "este dominio está a la venta",
    "домен продается",
    "домен продаётся",
];

/// A page with more words than this is a real page, whatever it mentions.
const SHORT_PAGE_WORDS: usize = 300;

/// Why the final page looks parked, if it does.
///
/// `hosts` are the chain's hosts in order (the cited one first): landing on
/// a marketplace from elsewhere is parking; citing the marketplace is not.
pub fn detect(
    hosts: &[&Url],
    headers: &HeaderMap,
    body_lower: &str,
    page: Option<&PageContent>,
) -> Option<Reason> {
    let cited = hosts
        .first()
        .and_then(|u| u.host_str())
        .map(registrable_domain);
    let via_parking = hosts.iter().skip(1).any(|u| {
        u.host_str().is_some_and(|h| {
            let h = h.to_ascii_lowercase();
            registrable_domain(&h) != cited.clone().unwrap_or_default()
                && PARKING_HOSTS
                    .iter()
                    .any(|p| h == *p || h.ends_with(&format!(".{p}")))
        })
    });
    if via_parking {
        return Some(Reason::ParkingService);
    }
    // Sedo and ParkingCrew parked pages carry an Adblock Plus
    // acceptable-ads key; Bodis's older pages an x-redirect to skenzo.
    if headers.contains_key("x-adblock-key")
        || headers
            .get("x-redirect")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().contains("skenzo"))
    {
        return Some(Reason::ParkingService);
    }
    let short = page.is_none_or(|p| p.word_count <= SHORT_PAGE_WORDS);
    if short && PARKING_MARKERS.iter().any(|m| body_lower.contains(m)) {
        return Some(Reason::ParkingService);
    }
    let page = page?;
    let says_sale = |text: &str| {
        let text = text.to_lowercase();
        SALE_PHRASES.iter().any(|p| text.contains(p))
    };
    if page.names().any(says_sale) || (short && says_sale(&page.text)) {
        return Some(Reason::DomainForSale);
    }
    // Registrars' expiry pages: "The domain name example.org has expired."
    let text = page.text.to_lowercase();
    if short && text.contains("domain") && text.contains("has expired") {
        return Some(Reason::DomainForSale);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn page(html: &str) -> PageContent {
        PageContent::parse(html.as_bytes(), Some("text/html")).unwrap()
    }

    fn check(hosts: &[&str], headers: &[(&str, &str)], html: &str) -> Option<Reason> {
        let urls: Vec<Url> = hosts.iter().map(|h| u(h)).collect();
        let refs: Vec<&Url> = urls.iter().collect();
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(
                reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        detect(&refs, &map, &html.to_lowercase(), Some(&page(html)))
    }

    #[test]
    fn landing_on_a_marketplace_is_parking() {
        assert_eq!(
            check(
                &[
                    "https://old-ngo.org/report",
                    "https://www.hugedomains.com/domain_profile.cfm?d=old-ngo.org"
                ],
                &[],
                "<p>Buy now</p>"
            ),
            Some(Reason::ParkingService)
        );
        // Citing the marketplace itself is not.
        assert_eq!(
            check(
                &[
                    "https://www.hugedomains.com/blog/x",
                    "https://hugedomains.com/blog/x"
                ],
                &[],
                "<p>Blog</p>"
            ),
            None
        );
    }

    #[test]
    fn parking_headers_markers_and_wording() {
        let here = ["https://old-ngo.org/"];
        assert_eq!(
            check(&here, &[("x-adblock-key", "MFww")], "<p>x</p>"),
            Some(Reason::ParkingService)
        );
        assert_eq!(
            check(
                &here,
                &[],
                r#"<script src="//www.google.com/adsense/domains/caf.js"></script>"#
            ),
            Some(Reason::ParkingService)
        );
        assert_eq!(
            check(
                &here,
                &[],
                "<title>old-ngo.org</title><h1>This domain may be for sale!</h1>"
            ),
            Some(Reason::DomainForSale)
        );
        assert_eq!(
            check(
                &here,
                &[],
                "<p>The domain name old-ngo.org has expired. Renew it now.</p>"
            ),
            Some(Reason::DomainForSale)
        );
    }

    #[test]
    fn long_articles_about_domain_sales_are_not_parked() {
        let words = "policy ".repeat(400);
        let html = format!(
            "<title>How parking works</title><p>A page saying “this domain is for sale” \
             and loading sedoparking.com scripts is what we study. {words}</p>"
        );
        assert_eq!(check(&["https://research.example/"], &[], &html), None);
        assert_eq!(
            check(
                &["https://un.org/a"],
                &[],
                "<title>Report</title><p>text</p>"
            ),
            None
        );
    }
}
