//! The one guard of every request Masthead itself sends to a URL someone gave it (webhook
//! receivers today; media fetched by importers later): only `http` and `https`, and never an
//! address inside the server's own networks (loopback, private, link-local, unique-local, CGNAT,
//! multicast, unspecified, and those written as IPv4-mapped or embedded IPv6), unless the
//! operator allows private receivers (`MASTHEAD_WEBHOOK_ALLOW_PRIVATE`).
//!
//! Names are checked where they are resolved for the connection ([`GuardedResolver`]), so the
//! address connected to is the address checked: a name that resolves to a public address when it
//! is checked and to a private one a moment later (DNS rebinding) gains nothing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why an address may not be connected to; `None` when it is a public unicast address.
pub fn forbidden_address(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if a == 198 && (b & 0xfe) == 18 {
        return Some("a benchmarking (198.18.0.0/15) address");
    }
    Some(match () {
        _ if ip.is_unspecified() || a == 0 => "an unspecified (0.0.0.0/8) address",
        _ if ip.is_loopback() => "a loopback address",
        _ if ip.is_private() => "a private address",
        _ if ip.is_link_local() => "a link-local address",
        _ if a == 100 && (64..128).contains(&b) => "a shared (CGNAT, 100.64.0.0/10) address",
        _ if ip.is_multicast() => "a multicast address",
        _ if ip.is_broadcast() || a >= 240 => "a reserved address",
        _ if a == 192 && b == 0 && ip.octets()[2] == 0 => "an IETF protocol (192.0.0.0/24) address",
        _ => return None,
    })
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let segments = ip.segments();
    // IPv4 written as IPv6: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d), NAT64 (64:ff9b::/96)
    // and 6to4 (2002::/16) all reach the IPv4 address inside.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4).map(|_| "an IPv4-mapped form of a forbidden address");
    }
    let embedded_tail =
        Ipv4Addr::new((segments[6] >> 8) as u8, segments[6] as u8, (segments[7] >> 8) as u8, segments[7] as u8);
    Some(match segments {
        _ if ip.is_unspecified() => "an unspecified address",
        _ if ip.is_loopback() => "a loopback address",
        [0, 0, 0, 0, 0, 0, _, _] => {
            return forbidden_v4(embedded_tail).map(|_| "an IPv4-compatible form of a forbidden address");
        }
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => {
            return forbidden_v4(embedded_tail).map(|_| "a NAT64 form of a forbidden address");
        }
        // IPv4-translated (::ffff:0:a.b.c.d).
        [0, 0, 0, 0, 0xffff, 0, _, _] => {
            return forbidden_v4(embedded_tail).map(|_| "an IPv4-translated form of a forbidden address");
        }
        // Local-use NAT64 (RFC 8215) and Teredo tunnels, which lead wherever their operator decides.
        [0x64, 0xff9b, 1, ..] => "a local-use NAT64 address",
        [0x2001, 0, ..] => "a Teredo tunnel address",
        [0x2002, high, low, ..] => {
            let v4 = Ipv4Addr::new((high >> 8) as u8, high as u8, (low >> 8) as u8, low as u8);
            return forbidden_v4(v4).map(|_| "a 6to4 form of a forbidden address");
        }
        [first, ..] if first & 0xfe00 == 0xfc00 => "a unique-local address",
        [first, ..] if first & 0xffc0 == 0xfe80 => "a link-local address",
        [first, ..] if first & 0xffc0 == 0xfec0 => "a site-local address",
        [first, ..] if first & 0xff00 == 0xff00 => "a multicast address",
        _ => return None,
    })
}

/// A URL Masthead may send requests to: parsed, `http` or `https`, with a host, and (unless
/// `allow_private`) not naming a forbidden address literally. Names are checked when resolved.
pub fn check_url(text: &str, allow_private: bool) -> Result<Url, String> {
    // Taken as written: the URL parser would drop spaces, tabs and byte-order marks, take `\` for
    // `/`, and find a host after `http:///`, so a URL could mean something else than it shows.
    if text.chars().any(|c| c.is_whitespace() || c.is_control() || c == '\u{feff}' || c == '\\') {
        return Err("must not contain spaces, control characters or backslashes".into());
    }
    let authority = text.strip_prefix("https://").or_else(|| text.strip_prefix("http://"));
    if authority.is_none_or(|rest| rest.is_empty() || rest.starts_with(['/', '?', '#'])) {
        return Err("must be an absolute http:// or https:// URL with a host".into());
    }
    let url = Url::parse(text).map_err(|e| format!("is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("must be an http or https URL, not `{}:`", url.scheme()));
    }
    let literal = match url.host() {
        None => return Err("must name a host".into()),
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        Some(url::Host::Domain(_)) => None,
    };
    if let (Some(ip), false) = (literal, allow_private)
        && let Some(reason) = forbidden_address(ip)
    {
        return Err(format!(
            "names {reason} ({ip}); set MASTHEAD_WEBHOOK_ALLOW_PRIVATE=true for receivers inside your network"
        ));
    }
    Ok(url)
}

/// Resolves `url`'s host now and checks every address, for a clear refusal when the URL is
/// given (the request itself is checked again when it is sent).
pub async fn check_resolved(url: &Url, allow_private: bool) -> Result<(), String> {
    let Some(url::Host::Domain(name)) = url.host() else {
        return Ok(());
    };
    resolve_checked(name, allow_private).await.map(|_| ()).map_err(|e| e.to_string())
}

/// How long a name may take to resolve: a request that names a slow DNS server waits no longer.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// The guard's refusal of an address: final, unlike a name that does not resolve (yet), so a
/// delivery refused by it fails at once rather than being retried.
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// Whether `error` or one of its causes is the guard's [`Refused`].
pub fn is_refusal(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.downcast_ref::<Refused>().is_some() {
            return true;
        }
        cause = error.source();
    }
    false
}

async fn resolve_checked(
    name: &str,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
    let lookup = tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((name, 0)))
        .await
        .map_err(|_| format!("its host `{name}` did not resolve within {} s", RESOLVE_TIMEOUT.as_secs()))?;
    let addrs: Vec<SocketAddr> = lookup.map_err(|e| format!("its host `{name}` does not resolve ({e})"))?.collect();
    if addrs.is_empty() {
        return Err(format!("its host `{name}` has no address").into());
    }
    if !allow_private && let Some(reason) = addrs.iter().find_map(|a| forbidden_address(a.ip())) {
        // The address itself is not said: an answer should not map the server's network.
        return Err(Box::new(Refused(format!(
            "its host `{name}` resolves to {reason}; set MASTHEAD_WEBHOOK_ALLOW_PRIVATE=true for receivers inside your network"
        ))));
    }
    Ok(addrs)
}

/// The HTTP client's resolver: a name resolving to any forbidden address is refused, and the
/// connection can only go to the addresses checked here.
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let addrs = resolve_checked(name.as_str(), allow_private).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// A client for requests to URLs that users gave: through [`GuardedResolver`], no redirects
/// followed (a redirect could lead anywhere), no proxies from the environment, `timeout` for the
/// whole exchange. Check each URL with [`check_url`] before sending: literal addresses are not
/// resolved, so the resolver never sees them.
pub fn guarded_client(allow_private: bool, timeout: Duration, user_agent: &str) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(GuardedResolver { allow_private }))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(user_agent)
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_internal_form_is_refused_and_public_addresses_pass() {
        let refused = [
            "127.0.0.1",
            "127.1.2.3",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "224.0.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "240.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "fec0::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "2002:c0a8:101::1",
        ];
        for ip in refused {
            assert!(forbidden_address(ip.parse().unwrap()).is_some(), "{ip} must be refused");
        }
        for ip in ["198.18.0.1", "198.19.255.255", "::ffff:0:7f00:1", "64:ff9b:1::1", "2001:0:4136:e378::1"] {
            assert!(forbidden_address(ip.parse().unwrap()).is_some(), "{ip} must be refused");
        }
        for ip in [
            "93.184.215.14",
            "8.8.8.8",
            "100.128.0.1",
            "172.32.0.1",
            "2606:4700::1111",
            "64:ff9b::808:808",
            "198.20.0.1",
            "2001:db9::1",
        ] {
            assert_eq!(forbidden_address(ip.parse().unwrap()), None, "{ip} is public");
        }
    }

    #[test]
    fn urls_are_http_with_a_host_and_literal_addresses_are_checked() {
        for bad in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "gopher://x/",
            "http://",
            "not a url",
            "HTTP://example.com/",
            "http:///example.com",
            "http:\\\\example.com",
            "http://exa mple.com/",
            "http://exa\tmple.com/",
            "http://a\u{feff}b/",
        ] {
            assert!(check_url(bad, true).is_err(), "{bad}");
        }
        // The URL parser normalises the other spellings of an IPv4 address first.
        for internal in [
            "http://127.0.0.1/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://[::ffff:7f00:1]/",
            "http://[::1]:8080/",
        ] {
            assert!(check_url(internal, false).is_err(), "{internal}");
            assert!(check_url(internal, true).is_ok(), "{internal} with the opt-in");
        }
        assert!(check_url("https://hooks.example.com/build?token=x", false).is_ok());
    }
}
