//! The client's address behind reverse proxies. A proxy's header naming the
//! client is believed only when the peer is a trusted proxy, and then only
//! as far as trusted proxies wrote it: the chain is read from the nearest
//! hop (the right) and the first address that is not a trusted proxy is
//! the client. Whatever lies further left came from the client itself.

use std::net::IpAddr;

/// A network in CIDR notation (`10.0.0.0/8`, `fd00::/8`), or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let invalid = || format!("{raw:?} is not an address or a network in CIDR notation");
        let (address, prefix) = match raw.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (raw, None),
        };
        let network: IpAddr = address.parse().map_err(|_| invalid())?;
        let network = network.to_canonical();
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= bits).ok_or_else(invalid)?,
            None => bits,
        };
        Ok(Self { network, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                same_prefix(u32::from(net).into(), u32::from(ip).into(), 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => same_prefix(u128::from(net), u128::from(ip), 128, self.prefix),
            _ => false,
        }
    }
}

fn same_prefix(a: u128, b: u128, bits: u8, prefix: u8) -> bool {
    if prefix == 0 {
        return true;
    }
    let shift = u32::from(bits - prefix);
    (a >> shift) == (b >> shift)
}

/// The header a trusted proxy writes the client into. Only one is read:
/// a proxy that sets one passes the other through as the client sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ForwardedHeader {
    #[default]
    XForwardedFor,
    /// RFC 7239's `Forwarded: for=…`.
    Forwarded,
}

impl ForwardedHeader {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(Self::XForwardedFor),
            "forwarded" => Ok(Self::Forwarded),
            _ => Err(format!("{raw:?}: expected x-forwarded-for or forwarded")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::XForwardedFor => "x-forwarded-for",
            Self::Forwarded => "forwarded",
        }
    }

    /// The addresses a header value lists, in order; `None` for an entry
    /// that is not an address (`unknown`, an obfuscated name, garbage).
    fn entries(self, value: &str) -> Vec<Option<IpAddr>> {
        value
            .split(',')
            .map(|element| match self {
                Self::XForwardedFor => address(element),
                Self::Forwarded => element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(key, _)| key.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, value)| address(value)),
            })
            .collect()
    }
}

/// `192.0.2.1`, `192.0.2.1:8080`, `2001:db8::1`, `[2001:db8::1]:8080`,
/// optionally in double quotes.
fn address(raw: &str) -> Option<IpAddr> {
    let raw = raw.trim().trim_matches('"');
    if let Some(rest) = raw.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    if let Ok(ip) = raw.parse::<IpAddr>() {
        return Some(ip);
    }
    let (host, port) = raw.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// `HERALD_TRUSTED_PROXIES` and the header they write.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TrustedProxies {
    networks: Vec<Cidr>,
    header: ForwardedHeader,
}

impl TrustedProxies {
    /// A comma-separated list of networks.
    pub fn parse(list: &str, header: ForwardedHeader) -> Result<Self, String> {
        let networks = list
            .split(',')
            .filter(|item| !item.trim().is_empty())
            .map(Cidr::parse)
            .collect::<Result<_, _>>()?;
        Ok(Self { networks, header })
    }

    pub fn header(&self) -> ForwardedHeader {
        self.header
    }

    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        self.networks.iter().any(|n| n.contains(ip))
    }

    /// The client of a request from `peer` carrying `values` of the header
    /// (each line of it, in order): the peer itself unless it is a trusted
    /// proxy; otherwise the nearest address in the chain that is not one.
    pub fn client<'a>(&self, peer: IpAddr, values: impl IntoIterator<Item = &'a str>) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.is_trusted(client) {
            return client;
        }
        let chain: Vec<Option<IpAddr>> = values.into_iter().flat_map(|v| self.header.entries(v)).collect();
        for entry in chain.into_iter().rev() {
            // Trusted proxies write addresses; anything else ends what can
            // be believed, and the last hop believed is the client.
            let Some(ip) = entry.map(|ip| ip.to_canonical()) else {
                return client;
            };
            client = ip;
            if !self.is_trusted(ip) {
                return ip;
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies(list: &str, header: ForwardedHeader) -> TrustedProxies {
        TrustedProxies::parse(list, header).unwrap()
    }

    #[test]
    fn the_header_setting_names_the_header_that_is_read() {
        assert_eq!(
            ForwardedHeader::parse(" X-Forwarded-For "),
            Ok(ForwardedHeader::XForwardedFor)
        );
        assert_eq!(ForwardedHeader::parse("Forwarded"), Ok(ForwardedHeader::Forwarded));
        assert!(ForwardedHeader::parse("x-real-ip").is_err());
        assert_eq!(ForwardedHeader::XForwardedFor.name(), "x-forwarded-for");
        assert_eq!(ForwardedHeader::Forwarded.name(), "forwarded");
        assert_eq!(
            proxies("10.0.0.0/8", ForwardedHeader::Forwarded).header(),
            ForwardedHeader::Forwarded
        );
    }

    #[test]
    fn networks_contain_their_addresses() {
        let net = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(net.contains(ip("10.200.3.4")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!(
            net.contains(ip("::ffff:10.1.2.3")),
            "IPv4-mapped IPv6 is the IPv4 address"
        );
        let one = Cidr::parse("192.0.2.7").unwrap();
        assert!(one.contains(ip("192.0.2.7")) && !one.contains(ip("192.0.2.8")));
        let v6 = Cidr::parse("fd00::/8").unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        for bad in ["10.0.0.0/33", "::/129", "example.com", "10.0.0/8", "10.0.0.0/x", ""] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
        assert!(TrustedProxies::parse("10.0.0.0/8, nonsense", ForwardedHeader::default()).is_err());
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let p = proxies("10.0.0.0/8", ForwardedHeader::XForwardedFor);
        assert_eq!(p.client(ip("203.0.113.9"), ["198.51.100.1"]), ip("203.0.113.9"));
        let none = TrustedProxies::default();
        assert_eq!(none.client(ip("127.0.0.1"), ["198.51.100.1"]), ip("127.0.0.1"));
    }

    #[test]
    fn the_nearest_untrusted_hop_is_the_client() {
        let p = proxies("10.0.0.0/8,192.0.2.0/24", ForwardedHeader::XForwardedFor);
        let peer = ip("10.0.0.1");
        assert_eq!(p.client(peer, ["198.51.100.1"]), ip("198.51.100.1"));
        // What the client wrote itself (left) is ignored.
        assert_eq!(p.client(peer, ["1.2.3.4, 198.51.100.1"]), ip("198.51.100.1"));
        // Trusted hops are skipped, over several header lines.
        assert_eq!(
            p.client(peer, ["1.2.3.4, 198.51.100.1", "192.0.2.5"]),
            ip("198.51.100.1")
        );
        // Garbage behind a trusted hop: the last believed hop.
        assert_eq!(p.client(peer, ["garbage, 192.0.2.5"]), ip("192.0.2.5"));
        assert_eq!(p.client(peer, ["unknown"]), peer);
        // No header: the proxy itself.
        assert_eq!(p.client(peer, []), peer);
        // Ports and IPv6.
        assert_eq!(p.client(peer, ["198.51.100.1:5555"]), ip("198.51.100.1"));
        assert_eq!(p.client(peer, ["2001:db8::1"]), ip("2001:db8::1"));
        assert_eq!(p.client(peer, ["[2001:db8::1]:443"]), ip("2001:db8::1"));
    }

    #[test]
    fn the_forwarded_header_is_read_when_configured_and_only_then() {
        let p = proxies("10.0.0.0/8", ForwardedHeader::Forwarded);
        let peer = ip("10.0.0.1");
        assert_eq!(
            p.client(peer, ["for=1.2.3.4, for=\"[2001:db8:cafe::17]:4711\";proto=https"]),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(p.client(peer, ["For=198.51.100.1:80;by=10.0.0.1"]), ip("198.51.100.1"));
        assert_eq!(p.client(peer, ["for=_hidden"]), peer);
        assert_eq!(p.client(peer, ["proto=https"]), peer);
        // Configured for X-Forwarded-For, a Forwarded value is not an address.
        let x = proxies("10.0.0.0/8", ForwardedHeader::XForwardedFor);
        assert_eq!(x.client(peer, ["for=198.51.100.1"]), peer);
        assert_eq!(ForwardedHeader::parse("Forwarded").unwrap(), ForwardedHeader::Forwarded);
        assert!(ForwardedHeader::parse("x-real-ip").is_err());
    }
}
