//! Who is asking: the address that failed authentication is counted against.
//!
//! Behind the reverse proxy of `deploy/proxy/` every connection comes from the proxy, so
//! counting failures per connection address would let one person's wrong guesses lock every
//! reviewer out. With the proxy's address listed in `review.trusted_proxies`, the client is the
//! rightmost `X-Forwarded-For` entry that is not itself a trusted proxy (entries to its left
//! are whatever the client chose to send and are never believed). Without that setting the
//! header is ignored. IPv6 clients are counted per /64, the block one subscriber holds, so a
//! guesser cannot step around the limit by changing the low bits of its address.

use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

/// A network: an address and a prefix length (`10.0.0.0/8`, `fd00::/8`, or one address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Net {
    addr: IpAddr,
    prefix: u8,
}

impl FromStr for Net {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{s:?} is not an address or network like 10.0.0.0/8"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0 to {max}"))?,
        };
        Ok(Net { addr, prefix })
    }
}

impl std::fmt::Display for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

fn bits(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    }
}

/// An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, as a dual-stack socket reports IPv4
/// peers) as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(a) => a.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

impl Net {
    /// Whether `ip` is inside this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        if ip.is_ipv4() != self.addr.is_ipv4() {
            return false;
        }
        let ((a, width), (b, _)) = (bits(self.addr), bits(ip));
        let shift = u32::from(width - self.prefix);
        let mask = if shift >= 128 { 0 } else { u128::MAX << shift };
        (a & mask) == (b & mask)
    }
}

/// The client's address: `peer` itself unless `peer` is a trusted proxy, in which case the
/// rightmost address in `forwarded_for` (all `X-Forwarded-For` values, in order) that is not a
/// trusted proxy. A malformed entry stops the walk at the last address known good.
pub fn client_address<'a>(
    peer: IpAddr,
    forwarded_for: impl DoubleEndedIterator<Item = &'a str>,
    trusted: &[Net],
) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    let mut client = canonical(peer);
    if !is_trusted(client) {
        return client;
    }
    for value in forwarded_for.rev() {
        for entry in value.rsplit(',') {
            let Some(ip) = parse_entry(entry) else {
                return client;
            };
            client = canonical(ip);
            if !is_trusted(client) {
                return client;
            }
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, possibly bracketed or with a port.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let e = entry.trim();
    if let Ok(ip) = e.parse() {
        return Some(ip);
    }
    if let Ok(sa) = e.parse::<std::net::SocketAddr>() {
        return Some(sa.ip());
    }
    e.strip_prefix('[')
        .and_then(|r| r.split_once(']'))
        .and_then(|(a, _)| a.parse().ok())
}

/// The address failures are counted against: IPv4 as is, IPv6 by its /64.
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a) & (u128::MAX << 64))),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<Net> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn networks_parse_and_contain() {
        let n: Net = "10.1.0.0/16".parse().unwrap();
        assert!(n.contains(ip("10.1.200.3")));
        assert!(!n.contains(ip("10.2.0.1")));
        assert!(
            n.contains(ip("::ffff:10.1.0.9")),
            "v4-mapped peers count as IPv4"
        );
        assert!(!n.contains(ip("fd00::1")));
        let one: Net = "127.0.0.1".parse().unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        let all: Net = "::/0".parse().unwrap();
        assert!(all.contains(ip("2001:db8::1")));
        let v6: Net = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12:3456::1")) && !v6.contains(ip("fe80::1")));
        for bad in ["10.0.0.0/33", "::/129", "nonsense", "10.0.0/8", ""] {
            assert!(bad.parse::<Net>().is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted = nets(&["127.0.0.1", "10.0.0.0/8"]);
        // Straight from a client: the header is whatever it chose to send.
        assert_eq!(
            client_address(ip("203.0.113.5"), ["1.2.3.4"].into_iter(), &trusted),
            ip("203.0.113.5")
        );
        // Through the proxy: the address the proxy saw, not the client's own claims left of it.
        assert_eq!(
            client_address(
                ip("127.0.0.1"),
                ["6.6.6.6, 198.51.100.7"].into_iter(),
                &trusted
            ),
            ip("198.51.100.7")
        );
        // Through two proxies, one header each.
        assert_eq!(
            client_address(
                ip("127.0.0.1"),
                ["198.51.100.7", "10.0.0.2"].into_iter(),
                &trusted
            ),
            ip("198.51.100.7")
        );
        // A garbage entry: the last trusted hop is as far as we know.
        assert_eq!(
            client_address(ip("10.0.0.2"), ["6.6.6.6, junk"].into_iter(), &trusted),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_address(
                ip("127.0.0.1"),
                ["[2001:db8::9]:4711"].into_iter(),
                &trusted
            ),
            ip("2001:db8::9")
        );
        // No proxies configured: never believed.
        assert_eq!(
            client_address(ip("127.0.0.1"), ["198.51.100.7"].into_iter(), &[]),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn ipv6_is_limited_per_64() {
        assert_eq!(
            limit_key(ip("2001:db8:1:2:aaaa::1")),
            limit_key(ip("2001:db8:1:2:ffff::9"))
        );
        assert_ne!(
            limit_key(ip("2001:db8:1:2::1")),
            limit_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(limit_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(limit_key(ip("192.0.2.1")), ip("192.0.2.1"));
    }
}
