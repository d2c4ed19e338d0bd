//! SSRF guard for webhook targets: whoever may configure a webhook must not
//! be able to make Herald post to its own network (loopback, private ranges,
//! cloud metadata at 169.254.169.254 / fd00:ec2::254).
//!
//! The check runs where the address is chosen: [`GuardedResolver`] filters
//! what DNS returns, and the connection is made to one of the addresses it
//! let through, so a name cannot resolve to a public address when checked
//! and to a private one when connected (DNS rebinding). IP literals never
//! reach a resolver, so [`http_client`] also routes forbidden literals to a
//! proxy the resolver refuses (see there). Error messages never contain the
//! URL: a webhook URL is a secret.

use std::error::Error as StdError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Why a target was refused. The messages say what is wrong, never where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TargetRefused {
    #[error("only http and https targets are allowed")]
    Scheme,
    #[error("the target has no host")]
    NoHost,
    #[error("the target resolves to a private, loopback or link-local address")]
    Private,
    #[error("the target's host could not be resolved")]
    Unresolvable,
}

/// Whether `ip` is somewhere a webhook must not reach: anything not plainly
/// on the public internet.
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_forbidden_v4(v4),
        IpAddr::V6(v6) => is_forbidden_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], len: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn in_v6(ip: Ipv6Addr, net: [u16; 8], len: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
    u128::from(ip) & mask == u128::from(Ipv6Addr::from(net)) & mask
}

/// The IPv4 address in the low 32 bits, for prefixes that embed one.
fn low_v4(ip: Ipv6Addr) -> Ipv4Addr {
    Ipv4Addr::from(u128::from(ip) as u32)
}

const FORBIDDEN_V4: [([u8; 4], u32); 16] = [
    ([0, 0, 0, 0], 8),          // "this network", includes the unspecified address
    ([10, 0, 0, 0], 8),         // private
    ([100, 64, 0, 0], 10),      // carrier-grade NAT
    ([127, 0, 0, 0], 8),        // loopback
    ([169, 254, 0, 0], 16),     // link-local, cloud metadata
    ([172, 16, 0, 0], 12),      // private
    ([192, 0, 0, 0], 24),       // IETF protocol assignments
    ([192, 0, 2, 0], 24),       // documentation (TEST-NET-1)
    ([192, 88, 99, 0], 24),     // 6to4 relay anycast, deprecated
    ([192, 168, 0, 0], 16),     // private
    ([198, 18, 0, 0], 15),      // benchmarking
    ([198, 51, 100, 0], 24),    // documentation (TEST-NET-2)
    ([203, 0, 113, 0], 24),     // documentation (TEST-NET-3)
    ([224, 0, 0, 0], 4),        // multicast
    ([240, 0, 0, 0], 4),        // reserved, includes broadcast
    ([255, 255, 255, 255], 32), // broadcast; already reserved, named for clarity
];

fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    FORBIDDEN_V4.iter().any(|&(net, len)| in_v4(ip, net, len))
}

const FORBIDDEN_V6: [([u16; 8], u32); 12] = [
    ([0, 0, 0, 0, 0, 0, 0, 0], 96), // unspecified, loopback, IPv4-compatible (deprecated)
    ([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48), // local-use NAT64 (RFC 8215)
    ([0x100, 0, 0, 0, 0, 0, 0, 0], 64), // discard-only
    ([0x2001, 0, 0, 0, 0, 0, 0, 0], 32), // Teredo, embeds an obfuscated IPv4
    ([0x2001, 2, 0, 0, 0, 0, 0, 0], 48), // benchmarking
    ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32), // documentation
    ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20), // documentation (RFC 9637)
    ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7), // unique-local, includes fd00:ec2::254
    ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10), // link-local
    ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10), // site-local, deprecated
    ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8), // multicast
    ([0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254], 128), // AWS metadata; already unique-local, named for clarity
];

fn is_forbidden_v6(ip: Ipv6Addr) -> bool {
    // Prefixes that carry an IPv4 address reach that address: judge it.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_forbidden_v4(v4);
    }
    if in_v6(ip, [0, 0, 0, 0, 0xffff, 0, 0, 0], 96) || in_v6(ip, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96) {
        // IPv4-translated (::ffff:0:a.b.c.d) and well-known NAT64.
        return is_forbidden_v4(low_v4(ip));
    }
    if in_v6(ip, [0x2002, 0, 0, 0, 0, 0, 0, 0], 16) {
        // 6to4: the IPv4 address sits right after the prefix.
        let [_, hi, lo, ..] = ip.segments();
        return is_forbidden_v4(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)));
    }
    FORBIDDEN_V6.iter().any(|&(net, len)| in_v6(ip, net, len))
}

/// `localhost` and `*.localhost` always mean this machine (RFC 6761), so
/// they are refused by name, before any resolver could be fooled.
fn is_localhost(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

/// The checks possible without DNS: an http(s) scheme, a host, and, unless
/// `allow_private`, neither a forbidden IP literal nor `localhost`. A name
/// that passes is checked again, on its addresses, by [`GuardedResolver`].
pub fn check_literal(url: &Url, allow_private: bool) -> Result<(), TargetRefused> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(TargetRefused::Scheme);
    }
    let host = url.host().ok_or(TargetRefused::NoHost)?;
    if allow_private {
        return Ok(());
    }
    let forbidden = match host {
        Host::Domain(name) => name.is_empty() || is_localhost(name),
        Host::Ipv4(ip) => is_forbidden_v4(ip),
        Host::Ipv6(ip) => is_forbidden_v6(ip),
    };
    if forbidden { Err(TargetRefused::Private) } else { Ok(()) }
}

/// A proxy host that does not exist (`.invalid` never resolves, RFC 6761)
/// and that [`GuardedResolver`] refuses outright: [`http_client`] sends
/// requests for forbidden IP literals "through" it so they fail with
/// [`TargetRefused::Private`].
const REFUSED_PROXY_HOST: &str = "refused-by-herald-guard.invalid";

/// Resolves with the system resolver and, unless `allow_private`, keeps only
/// addresses [`is_forbidden_ip`] lets through. Since the connection is made
/// to what this returns, the address checked is the address connected to.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    allow_private: bool,
}

impl GuardedResolver {
    pub fn new(allow_private: bool) -> Self {
        Self { allow_private }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            if host == REFUSED_PROXY_HOST || (!allow_private && is_localhost(&host)) {
                return Err(TargetRefused::Private.into());
            }
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|_| TargetRefused::Unresolvable)?
                .collect();
            if found.is_empty() {
                return Err(TargetRefused::Unresolvable.into());
            }
            let kept: Vec<SocketAddr> = if allow_private {
                found
            } else {
                found.into_iter().filter(|addr| !is_forbidden_ip(addr.ip())).collect()
            };
            // One private address among public ones is dropped, not fatal:
            // only a name with nothing public left is refused.
            if kept.is_empty() {
                return Err(TargetRefused::Private.into());
            }
            let addrs: Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        })
    }
}

/// The client for webhook deliveries: guarded DNS ([`GuardedResolver`]), no
/// redirects (a 3xx is a failure, see `classify_http`), `timeout` on the
/// whole request and at most 10 s of it for connecting, and
/// `User-Agent: Herald/<version>`.
///
/// Proxies from the environment are ignored: through a proxy, the proxy
/// resolves the target and the guard would check only the proxy. Unless
/// `allow_private`, requests to a forbidden IP literal (which reqwest
/// connects to without asking any resolver) are routed to a proxy name the
/// resolver refuses: that is the only hook reqwest offers before connecting
/// to a literal short of a `tower` connector layer.
///
/// Errors from this client carry the full URL in their `Display`; log them
/// with [`describe`].
///
/// # Panics
/// If the TLS backend cannot be initialised, which no configuration here
/// can cause.
pub fn http_client(allow_private: bool, timeout: Duration) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .dns_resolver(GuardedResolver::new(allow_private))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .user_agent(concat!("Herald/", env!("CARGO_PKG_VERSION")));
    if !allow_private {
        builder = builder.proxy(reqwest::Proxy::custom(|url: &Url| {
            let literal = match url.host()? {
                Host::Ipv4(ip) => IpAddr::V4(ip),
                Host::Ipv6(ip) => IpAddr::V6(ip),
                Host::Domain(_) => return None,
            };
            is_forbidden_ip(literal).then(|| format!("http://{REFUSED_PROXY_HOST}"))
        }));
    }
    builder.build().expect("the HTTP client builds")
}

/// The guard's refusal behind a failed request, if that is what failed it.
/// `Private`, `Scheme` and `NoHost` are permanent (no retry will help);
/// `Unresolvable` may be a passing DNS failure.
pub fn refusal(err: &reqwest::Error) -> Option<TargetRefused> {
    let mut cause: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cause {
        if let Some(refused) = e.downcast_ref::<TargetRefused>() {
            return Some(*refused);
        }
        cause = e.source();
    }
    None
}

/// A log-safe description of a failed request: reqwest's message and its
/// causes, with the URL (a secret) cut down to scheme and host.
pub fn describe(err: &reqwest::Error) -> String {
    let masked = err.url().map(|url| {
        let shown = format!("{}://{}/…", url.scheme(), url.host_str().unwrap_or_default());
        (url.as_str().to_owned(), shown)
    });
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(e) = cause {
        let message = e.to_string();
        // hyper repeats its cause in some messages; say each thing once.
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        cause = e.source();
    }
    match masked {
        Some((full, shown)) => text.replace(&full, &shown),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn classifies_ipv4() {
        for forbidden in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.255",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.0.1",
            "192.168.255.255",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(is_forbidden_ip(ip(forbidden)), "{forbidden} should be forbidden");
        }
        for allowed in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.1",
            "169.253.255.255",
            "169.255.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.1",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "52.95.110.1",
        ] {
            assert!(!is_forbidden_ip(ip(allowed)), "{allowed} should be allowed");
        }
    }

    #[test]
    fn classifies_ipv6() {
        for forbidden in [
            "::",
            "::1",
            "::127.0.0.1",
            "::8.8.8.8",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "::ffff:0:127.0.0.1",
            "64:ff9b::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::10.0.0.1",
            "64:ff9b:1::8.8.8.8",
            "100::1",
            "2001::1",
            "2001:2::1",
            "2001:db8::1",
            "2001:db8:ffff::1",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
            "3fff::1",
            "fc00::1",
            "fd00::1",
            "fd00:ec2::254",
            "fdff:ffff::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "ff05::2",
        ] {
            assert!(is_forbidden_ip(ip(forbidden)), "{forbidden} should be forbidden");
        }
        for allowed in [
            "2606:4700:4700::1111",
            "2001:4860:4860::8888",
            "2a00:1450:4001:80b::200e",
            "::ffff:8.8.8.8",
            "::ffff:0:8.8.8.8",
            "64:ff9b::8.8.8.8",
            "2002:808:808::1",
            "2001:db7::1",
            "2001:db9::1",
            "fbff::1",
            "fe7f::1",
        ] {
            assert!(!is_forbidden_ip(ip(allowed)), "{allowed} should be allowed");
        }
    }

    #[test]
    fn check_literal_cases() {
        let check = |url: &str, allow| check_literal(&Url::parse(url).unwrap(), allow);
        for ok in [
            "https://hooks.slack.com/services/T/B/X",
            "http://example.com:8080/hook",
            "https://8.8.8.8/x",
            "https://[2606:4700:4700::1111]/x",
            "https://localhost.example.com/x",
            "https://mylocalhost/x",
        ] {
            assert_eq!(check(ok, false), Ok(()), "{ok}");
        }
        for private in [
            "http://127.0.0.1/x",
            "http://127.1/x",
            "http://2130706433/x",
            "http://0x7f.0.0.1/x",
            "http://0/x",
            "http://10.0.0.5:8080/x",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/x",
            "http://[::ffff:127.0.0.1]/x",
            "http://[fd00:ec2::254]/x",
            "http://[fe80::1]/x",
            "http://localhost/x",
            "http://LOCALHOST:8080/x",
            "http://localhost./x",
            "http://api.localhost/x",
        ] {
            assert_eq!(check(private, false), Err(TargetRefused::Private), "{private}");
            assert_eq!(check(private, true), Ok(()), "{private} with allow_private");
        }
        for scheme in [
            "ftp://example.com/x",
            "file:///etc/passwd",
            "ws://example.com/x",
            "javascript:alert(1)",
        ] {
            assert_eq!(check(scheme, false), Err(TargetRefused::Scheme), "{scheme}");
            assert_eq!(check(scheme, true), Err(TargetRefused::Scheme), "{scheme}");
        }
        // `url` never yields a hostless http(s) URL, so `NoHost` is a
        // defence only; the parse refuses instead.
        assert!(Url::parse("http://").is_err());
    }

    #[test]
    fn refusal_messages_name_no_target() {
        for refused in [
            TargetRefused::Scheme,
            TargetRefused::NoHost,
            TargetRefused::Private,
            TargetRefused::Unresolvable,
        ] {
            let text = refused.to_string();
            assert!(!text.contains("://") && !text.contains("127.0.0.1"), "{text}");
        }
    }

    /// Answers every connection with an empty 200.
    async fn listener() -> (SocketAddr, tokio::task::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = socket.read(&mut buf).await;
                    let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").await;
                });
            }
        });
        (addr, task)
    }

    const SECRET_PATH: &str = "services/T000/B000/XXXXSECRET";

    #[tokio::test]
    async fn guarded_client_refuses_local_targets() {
        let (addr, task) = listener().await;
        let client = http_client(false, Duration::from_secs(2));
        for url in [
            format!("http://127.0.0.1:{}/{SECRET_PATH}", addr.port()),
            format!("http://localhost:{}/{SECRET_PATH}", addr.port()),
            format!("http://[::ffff:127.0.0.1]:{}/{SECRET_PATH}", addr.port()),
        ] {
            let err = client.post(&url).body("{}").send().await.expect_err(&url);
            assert_eq!(refusal(&err), Some(TargetRefused::Private), "{url}: {err:?}");
            let text = describe(&err);
            assert!(!text.contains(SECRET_PATH), "{text}");
            assert!(!text.contains("XXXXSECRET"), "{text}");
            assert!(text.contains("private, loopback or link-local"), "{text}");
            let shown = err.without_url().to_string();
            assert!(!shown.contains(SECRET_PATH), "{shown}");
        }
        task.abort();
    }

    #[tokio::test]
    async fn permissive_client_reaches_local_targets() {
        let (addr, task) = listener().await;
        let client = http_client(true, Duration::from_secs(2));
        for url in [
            format!("http://127.0.0.1:{}/{SECRET_PATH}", addr.port()),
            format!("http://localhost:{}/{SECRET_PATH}", addr.port()),
        ] {
            let response = client.post(&url).body("{}").send().await.unwrap();
            assert_eq!(response.status(), 200, "{url}");
        }
        task.abort();
    }

    #[tokio::test]
    async fn resolver_filters_addresses() {
        let name = |s: &str| s.parse::<Name>().unwrap();
        let strict = GuardedResolver::new(false);
        for host in ["localhost", "127.0.0.1", REFUSED_PROXY_HOST] {
            let err = strict.resolve(name(host)).await.err().expect(host);
            assert_eq!(
                err.downcast_ref::<TargetRefused>(),
                Some(&TargetRefused::Private),
                "{host}"
            );
        }
        let err = strict.resolve(name("no-such-host.invalid")).await.err().unwrap();
        assert_eq!(err.downcast_ref::<TargetRefused>(), Some(&TargetRefused::Unresolvable));

        let permissive = GuardedResolver::new(true);
        let addrs: Vec<_> = permissive.resolve(name("127.0.0.1")).await.unwrap().collect();
        assert_eq!(addrs, vec![SocketAddr::from(([127, 0, 0, 1], 0))]);
        // The sentinel stays refused: it exists only to be refused.
        assert!(permissive.resolve(name(REFUSED_PROXY_HOST)).await.is_err());
    }

    #[tokio::test]
    async fn redirects_are_not_followed() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let answer = "HTTP/1.1 302 Found\r\nlocation: http://169.254.169.254/\r\ncontent-length: 0\r\n\r\n";
            let _ = socket.write_all(answer.as_bytes()).await;
        });
        let client = http_client(true, Duration::from_secs(2));
        let response = client.get(format!("http://{addr}/")).send().await.unwrap();
        assert_eq!(response.status(), 302);
        task.abort();
    }

    #[tokio::test]
    async fn sends_the_herald_user_agent() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let n = socket.read(&mut buf).await.unwrap();
            let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").await;
            String::from_utf8_lossy(&buf[..n]).to_lowercase()
        });
        http_client(true, Duration::from_secs(2))
            .get(format!("http://{addr}/"))
            .send()
            .await
            .unwrap();
        let request = task.await.unwrap();
        let expected = format!("user-agent: herald/{}", env!("CARGO_PKG_VERSION"));
        assert!(request.contains(&expected), "{request}");
    }
}
