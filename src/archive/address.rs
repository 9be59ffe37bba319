//! Which addresses a snapshot may be taken from.
//!
//! A citation in a document is untrusted input: a public-looking name that
//! resolves to 169.254.169.254 or 10.0.0.1 must not make linkrot copy an
//! internal page into an archive someone may publish. Status checks of such
//! addresses stay allowed; only snapshots are refused, judged on the address
//! actually connected to (see `fetch`), with the [`GlobalOnlyResolver`]
//! keeping non-global answers out of DNS in the first place.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why an address is not global, or `None` if it is.
pub fn non_global_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    let reason = if ip.is_loopback() {
        "a loopback address"
    } else if ip.is_private() {
        "a private address"
    } else if ip.is_link_local() {
        "a link-local address"
    } else if ip.is_unspecified() || a == 0 {
        "an unspecified (0.0.0.0/8) address"
    } else if a == 100 && (64..128).contains(&b) {
        "a shared (carrier-grade NAT) address"
    } else if ip.is_broadcast() {
        "the broadcast address"
    } else if ip.is_multicast() {
        "a multicast address"
    } else if a >= 240 {
        "a reserved address"
    } else if ip.is_documentation() {
        "a documentation address"
    } else if a == 198 && (b == 18 || b == 19) {
        "a benchmarking address"
    } else if a == 192 && b == 0 && c == 0 {
        "an IETF protocol assignment address"
    } else {
        return None;
    };
    Some(reason)
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    let seg = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_reason(v4);
    }
    let reason = if ip.is_loopback() {
        "a loopback address"
    } else if ip.is_unspecified() {
        "an unspecified address"
    } else if (seg[0] & 0xfe00) == 0xfc00 {
        "a unique-local address"
    } else if (seg[0] & 0xffc0) == 0xfe80 {
        "a link-local address"
    } else if (seg[0] & 0xffc0) == 0xfec0 {
        "a site-local address"
    } else if ip.is_multicast() {
        "a multicast address"
    } else if seg[0] == 0x2001 && seg[1] == 0x0db8 {
        "a documentation address"
    } else if seg[0] == 0x0100 && seg[1..4] == [0, 0, 0] {
        "a discard-only address"
    } else if seg[0] == 0x2001 && seg[1] < 0x0200 {
        // 2001::/23 is IETF protocol assignments (Teredo, ORCHID, …).
        "an IETF protocol assignment address"
    } else if seg[0] == 0x0064 && seg[1] == 0xff9b {
        // NAT64: judge the IPv4 address inside.
        let v4 = Ipv4Addr::new(
            (seg[6] >> 8) as u8,
            seg[6] as u8,
            (seg[7] >> 8) as u8,
            seg[7] as u8,
        );
        return v4_reason(v4);
    } else if seg[0] == 0x2002 {
        // 6to4: judge the IPv4 address inside.
        let v4 = Ipv4Addr::new(
            (seg[1] >> 8) as u8,
            seg[1] as u8,
            (seg[2] >> 8) as u8,
            seg[2] as u8,
        );
        return v4_reason(v4);
    } else if seg[0..6] == [0, 0, 0, 0, 0, 0] {
        "an IPv4-compatible (deprecated) address"
    } else {
        return None;
    };
    Some(reason)
}

/// A resolver that answers only global addresses, so a snapshot fetch never
/// connects to a private one through DNS. A name with only non-global
/// addresses fails to resolve with a message saying why.
#[derive(Debug, Clone, Default)]
pub struct GlobalOnlyResolver;

impl Resolve for GlobalOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let global: Vec<SocketAddr> = all
                .iter()
                .copied()
                .filter(|a| non_global_reason(a.ip()).is_none())
                .collect();
            if global.is_empty() {
                let why = all
                    .first()
                    .and_then(|a| non_global_reason(a.ip()).map(|r| (a.ip(), r)));
                let message = match why {
                    Some((ip, reason)) => format!(
                        "{host} resolves to {ip}, {reason}: not archived (--archive-private allows it)"
                    ),
                    None => format!("{host} has no addresses"),
                };
                return Err(message.into());
            }
            let addrs: Addrs = Box::new(global.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(s: &str) -> Option<&'static str> {
        non_global_reason(s.parse().unwrap())
    }

    #[test]
    fn non_global_addresses_are_named() {
        for (addr, why) in [
            ("127.0.0.1", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local"),
            ("100.64.0.1", "shared"),
            ("0.0.0.0", "unspecified"),
            ("224.0.0.1", "multicast"),
            ("240.0.0.1", "reserved"),
            ("192.0.2.1", "documentation"),
            ("::1", "loopback"),
            ("fd00::1", "unique-local"),
            ("fe80::1", "link-local"),
            ("::ffff:10.0.0.1", "private"),
            ("64:ff9b::a9fe:a9fe", "link-local"),
            ("2002:7f00:1::", "loopback"),
        ] {
            let got = reason(addr).unwrap_or_else(|| panic!("{addr} judged global"));
            assert!(got.contains(why), "{addr}: {got}");
        }
    }

    #[test]
    fn global_addresses_pass() {
        for addr in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:2800:220:1::1",
            "::ffff:8.8.8.8",
        ] {
            assert_eq!(reason(addr), None, "{addr}");
        }
    }
}
