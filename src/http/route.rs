//! Where one request hop goes on the wire: the URL handed to the HTTP client, the `Host`
//! header it needs, and the alias that makes a `Host` override the request's authority.
//!
//! A step that sets `Host` (the dispatcher-by-subdomain check: `url: https://gw.example/`,
//! `Host: api.example`) is sent as a request *for* that host reaching the URL's server, the
//! way `curl --connect-to` does it: the wire URL names the `Host` value, so HTTP/1.1 sends it
//! as `Host`, HTTP/2 as `:authority` (never both: nginx answers 400 to a duplicate), and TLS
//! sends it as SNI and verifies the certificate against it. The connection still goes where
//! the URL's host resolves (every `--resolve`, `--connect-to`, `--dns-server` and fallback
//! rule applies to the URL's host), through a client of its own ([`Alias`]), so its pooled
//! connections are never handed to a request for the real `Host` name.
//!
//! A `Host` value that cannot be an alias (an IP address, a port other than the one the
//! request connects to, a request through a proxy), and the `Host` a `--connect-to` port
//! change needs, are sent as a header over HTTP/1.1: HTTP/2 cannot carry a `Host` that
//! differs from the connection's authority (nginx answers 400 to both fields).

use reqwest::header::{HeaderMap, HOST};
use reqwest::Url;

use super::resolve::SmartResolver;

/// A name that resolves as another host and port: the `Host` override of a request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Alias {
    /// The `Host` value's host name, lower case: the name on the wire.
    pub name: String,
    /// The URL's host: what the connection really resolves and reaches.
    pub host: String,
    /// The URL's port.
    pub port: u16,
}

/// One hop's wire form.
#[derive(Debug, Clone)]
pub struct Route {
    /// The URL handed to the HTTP client.
    pub wire: Url,
    /// Headers to send (the `Host` override removed when it became the wire authority).
    pub headers: HeaderMap,
    /// A `Host` header to add because the wire URL's port differs from the URL's.
    pub host_header: Option<String>,
    /// Set when the wire URL names the `Host` override.
    pub alias: Option<Alias>,
    /// A `Host` header is sent that differs from the wire authority: HTTP/1.1 only.
    pub http1_only: bool,
}

impl Route {
    /// The TLS server name when it is not the URL's host.
    pub fn server_name(&self) -> Option<String> {
        self.alias.as_ref().map(|a| a.name.clone())
    }
}

/// The wire form of a request for `url` with `headers`.
/// Through a proxy the proxy reaches the URL's host, so a `Host` override stays a header.
pub fn route(resolver: &SmartResolver, url: &Url, headers: &HeaderMap, proxied: bool) -> Route {
    if let Some(r) = host_alias(resolver, url, headers).filter(|_| !proxied) {
        return r;
    }
    let (wire, host_header) = connect_to_port(resolver, url);
    Route {
        wire,
        http1_only: host_header.is_some() || headers.contains_key(HOST),
        headers: headers.clone(),
        host_header,
        alias: None,
    }
}

/// The route of a request whose `Host` header can become its authority.
fn host_alias(resolver: &SmartResolver, url: &Url, headers: &HeaderMap) -> Option<Route> {
    let value = headers.get(HOST)?.to_str().ok()?;
    let authority: http::uri::Authority = value.trim().parse().ok()?;
    let name = authority.host().trim_end_matches('.').to_ascii_lowercase();
    if name.is_empty() || name.starts_with('[') || name.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    let host = url.host_str()?.to_string();
    let port = url.port_or_known_default()?;
    let target_port = resolver
        .connect_target(&host, port)
        .map_or(port, |(_, p)| p);
    // An explicit port in the wire URL is the port the client connects to.
    if let Some(p) = authority.port_u16() {
        if p != target_port {
            return None;
        }
    }
    let mut wire = url.clone();
    wire.set_host(Some(&name)).ok()?;
    wire.set_port(authority.port_u16()).ok()?;
    let mut headers = headers.clone();
    headers.remove(HOST);
    Some(Route {
        wire,
        headers,
        host_header: None,
        alias: Some(Alias { name, host, port }),
        http1_only: false,
    })
}

/// When a `--connect-to` rule changes the port of a URL that names its port explicitly, the
/// connector would otherwise put the URL's port back, so the port is moved into the wire URL
/// and `Host` keeps the original authority.
fn connect_to_port(resolver: &SmartResolver, url: &Url) -> (Url, Option<String>) {
    let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
        return (url.clone(), None);
    };
    match resolver.connect_target(host, port) {
        Some((_, tport)) if tport != port && url.port().is_some() => {
            let mut wire = url.clone();
            if wire.set_port(Some(tport)).is_err() {
                return (url.clone(), None);
            }
            (wire, Some(format!("{host}:{port}")))
        }
        _ => (url.clone(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::resolve::{ConnectRule, ResolveRules};

    fn headers(host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(HOST, host.parse().unwrap());
        h
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn a_host_override_becomes_the_wire_authority() {
        let r = route(
            &SmartResolver::default(),
            &url("https://gw.test:8443/health?x=1"),
            &headers("API.test"),
            false,
        );
        assert_eq!(r.wire.as_str(), "https://api.test/health?x=1");
        assert!(r.headers.get(HOST).is_none(), "sent once, as the authority");
        let alias = r.alias.unwrap();
        assert_eq!(
            (alias.name.as_str(), alias.host.as_str()),
            ("api.test", "gw.test")
        );
        assert_eq!(alias.port, 8443);
        let r = route(
            &SmartResolver::default(),
            &url("http://127.0.0.1:8080/"),
            &headers("api.test:8080"),
            false,
        );
        assert_eq!(r.wire.as_str(), "http://api.test:8080/");
    }

    #[test]
    fn a_host_that_cannot_be_an_alias_stays_a_header() {
        for h in ["10.0.0.1", "[::1]", "api.test:9999"] {
            let r = route(
                &SmartResolver::default(),
                &url("https://gw.test:8443/"),
                &headers(h),
                false,
            );
            assert!(r.alias.is_none(), "{h}");
            assert!(
                r.http1_only,
                "a Host header beside another authority needs HTTP/1.1"
            );
            assert_eq!(r.headers.get(HOST).unwrap(), h);
            assert_eq!(r.wire.as_str(), "https://gw.test:8443/");
        }
    }

    #[test]
    fn a_connect_to_port_change_moves_the_port_into_the_wire_url() {
        let rules = ResolveRules {
            connect_to: vec![ConnectRule::parse("gw.test:8443::9443").unwrap()],
            ..Default::default()
        };
        let resolver = SmartResolver::with_rules(rules, None);
        let r = route(
            &resolver,
            &url("https://gw.test:8443/"),
            &HeaderMap::new(),
            false,
        );
        assert_eq!(r.wire.as_str(), "https://gw.test:9443/");
        assert_eq!(r.host_header.as_deref(), Some("gw.test:8443"));
        // A Host override with the connect-to target's port, or none, is an alias.
        let r = route(
            &resolver,
            &url("https://gw.test:8443/"),
            &headers("api.test"),
            false,
        );
        assert_eq!(r.wire.as_str(), "https://api.test/");
        assert_eq!(r.alias.unwrap().port, 8443);
        // Through a proxy the Host override stays a header.
        let r = route(
            &resolver,
            &url("https://gw.test:8443/"),
            &headers("api.test"),
            true,
        );
        assert!(r.alias.is_none());
    }
}
