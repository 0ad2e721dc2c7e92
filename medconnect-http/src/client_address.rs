//! The address a request comes from, for per-address sign-in limits.
//!
//! By default it is the TCP peer. Behind a reverse proxy every request would then come
//! from the proxy, so `MEDCONNECT_TRUSTED_PROXIES` lists the proxies (addresses or CIDR
//! blocks); only when the peer is one of them is `X-Forwarded-For` read, from the right,
//! skipping trusted proxies: the first address that is not one is the client. A client
//! cannot choose its address by sending the header itself, since the nearest untrusted hop
//! is taken, and with no trusted proxies configured (the default) the header is ignored.

use std::net::IpAddr;

use medconnect_core::{ClientAddress, Error, Result};
use poem::Request;

/// An address or a CIDR block.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Block {
    network: IpAddr,
    prefix: u8,
}

impl Block {
    fn parse(raw: &str) -> Option<Self> {
        let (addr, prefix) = match raw.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (raw.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Self { network: addr, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (canonical(self.network), ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                masked(u128::from(u32::from(n)), u128::from(u32::from(a)), 32, self.prefix)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => masked(u128::from(n), u128::from(a), 128, self.prefix),
            _ => false,
        }
    }
}

fn masked(network: u128, addr: u128, bits: u8, prefix: u8) -> bool {
    let shift = u32::from(bits - prefix.min(bits));
    let mask = if shift >= 128 { 0 } else { (u128::MAX >> (128 - u32::from(bits))) >> shift << shift };
    network & mask == addr & mask
}

/// IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) are IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The proxies whose `X-Forwarded-For` is believed (`MEDCONNECT_TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<Block>);

impl TrustedProxies {
    /// Comma-separated addresses or CIDR blocks, such as `10.0.0.0/8, 127.0.0.1`.
    pub fn parse(raw: &str) -> Result<Self> {
        raw.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                Block::parse(s).ok_or_else(|| {
                    Error::invalid(
                        "MEDCONNECT_TRUSTED_PROXIES",
                        "must list IP addresses or CIDR blocks, comma-separated",
                    )
                })
            })
            .collect::<Result<Vec<_>>>()
            .map(Self)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|b| b.contains(ip))
    }

    /// The client's address for a request whose peer is `peer`.
    pub fn client(&self, peer: Option<IpAddr>, forwarded_for: Option<&str>) -> ClientAddress {
        let Some(peer) = peer else { return ClientAddress::local() };
        if !self.trusts(peer) {
            return ClientAddress::ip(canonical(peer));
        }
        let hops = forwarded_for.unwrap_or_default().split(',').rev().map(str::trim);
        for hop in hops {
            match hop.parse::<IpAddr>() {
                Ok(ip) if self.trusts(ip) => continue,
                Ok(ip) => return ClientAddress::ip(canonical(ip)),
                // A malformed hop: stop believing the header here and count the last trusted hop.
                Err(_) => break,
            }
        }
        ClientAddress::ip(canonical(peer))
    }
}

/// The client address of a request, with the server's trusted proxies.
pub fn of(req: &Request) -> ClientAddress {
    let peer = req.remote_addr().as_socket_addr().map(|a| a.ip());
    let forwarded = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
    match req.data::<TrustedProxies>() {
        Some(trusted) => trusted.client(peer, forwarded),
        None => TrustedProxies::default().client(peer, forwarded),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let none = TrustedProxies::default();
        assert_eq!(none.client(Some(ip("203.0.113.9")), Some("198.51.100.1")), ClientAddress::ip(ip("203.0.113.9")));
    }

    #[test]
    fn behind_a_trusted_proxy_the_nearest_untrusted_hop_is_the_client() {
        let trusted = TrustedProxies::parse("10.0.0.0/8, 127.0.0.1").expect("parse");
        let client = trusted.client(Some(ip("10.1.2.3")), Some("6.6.6.6, 198.51.100.7, 10.9.9.9"));
        assert_eq!(client, ClientAddress::ip(ip("198.51.100.7")), "a forged left-most entry is not believed");
        assert_eq!(trusted.client(Some(ip("127.0.0.1")), None), ClientAddress::ip(ip("127.0.0.1")));
        let untrusted_peer = trusted.client(Some(ip("192.0.2.1")), Some("198.51.100.7"));
        assert_eq!(untrusted_peer, ClientAddress::ip(ip("192.0.2.1")));
        let garbage = trusted.client(Some(ip("10.0.0.1")), Some("nonsense"));
        assert_eq!(garbage, ClientAddress::ip(ip("10.0.0.1")));
    }

    #[test]
    fn cidr_blocks_match_by_prefix_and_bad_entries_are_refused() {
        let trusted = TrustedProxies::parse("192.168.0.0/16,2001:db8::/32,::ffff:172.16.0.1").expect("parse");
        assert!(trusted.trusts(ip("192.168.44.1")));
        assert!(!trusted.trusts(ip("192.169.0.1")));
        assert!(trusted.trusts(ip("2001:db8:ffff::1")));
        assert!(!trusted.trusts(ip("2001:db9::1")));
        assert!(trusted.trusts(ip("172.16.0.1")), "mapped IPv4 is IPv4");
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.example").is_err());
        assert!(TrustedProxies::parse("0.0.0.0/0").expect("all").trusts(ip("8.8.8.8")));
    }
}
