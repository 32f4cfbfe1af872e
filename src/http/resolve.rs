//! Name resolution with curl-style overrides, chosen DNS servers, `--connect-to` and a pinned
//! fallback.
//!
//! Order for every (host, port) a request connects to:
//! 1. `--connect-to HOST:PORT:HOST2:PORT2` changes where the connection goes (the request keeps
//!    its URL, `Host` header and TLS SNI);
//! 2. `--resolve HOST:PORT:ADDR` overrides the (possibly changed) host and port;
//! 3. otherwise the name is asked of the `--dns-server`s (UDP then TCP, like dig) if any were
//!    given, else of the system resolver;
//! 4. when that fails (NXDOMAIN, no records, timeout, any resolver error), a matching
//!    `--fallback-resolve` pin is used and the failure is kept as the fallback cause.
//!
//! Rules match on the host *and* the port, like curl. Every decision is recorded, so reports
//! can say which address was used and how it was chosen.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde::{Deserialize, Serialize};

use super::error::RuleError;

use super::dns::DnsClient;

/// How an address was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResolvedBy {
    /// The name was an IP literal (nothing to resolve).
    Literal,
    /// The operating system resolver.
    System,
    /// The `--dns-server`s (or a profile's `dns_servers`), asked directly.
    DnsServer,
    /// A `--resolve` / profile override.
    Override,
    /// A `--fallback-resolve` pin, used because normal resolution failed.
    Fallback,
}

impl std::fmt::Display for ResolvedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ResolvedBy::Literal => "literal",
            ResolvedBy::System => "system",
            ResolvedBy::DnsServer => "dns-server",
            ResolvedBy::Override => "override",
            ResolvedBy::Fallback => "fallback",
        })
    }
}

/// What happened when a host name was resolved.
#[derive(Debug, Clone, Serialize)]
pub struct Resolution {
    /// How the addresses were chosen.
    pub by: ResolvedBy,
    /// The addresses the connection may use, in order.
    pub addrs: Vec<IpAddr>,
    /// For a fallback: why normal resolution failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_cause: Option<String>,
    /// When a `--connect-to` rule applied: the `HOST2:PORT2` connected to instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_to: Option<String>,
}

/// A `HOST:PORT:ADDR[,ADDR…]` rule. `HOST` may be `*.example.test` or `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveRule {
    /// Host name it applies to (lower-case): a name, `*.domain` (subdomains only) or `*`.
    pub host: String,
    /// Port it applies to.
    pub port: u16,
    /// Addresses to connect to instead of asking DNS.
    pub addrs: Vec<IpAddr>,
}

impl ResolveRule {
    /// Parse curl's `HOST:PORT:ADDR[,ADDR…]` (IPv6 addresses in brackets).
    pub fn parse(s: &str) -> Result<ResolveRule, RuleError> {
        let bad = || RuleError::Resolve(s.to_string());
        let (host, rest) = s.split_once(':').ok_or_else(bad)?;
        let (port, addrs) = rest.split_once(':').ok_or_else(bad)?;
        let port: u16 = port.parse().map_err(|_| bad())?;
        if host.is_empty() {
            return Err(bad());
        }
        let addrs = addrs
            .split(',')
            .map(|a| {
                let a = a.trim();
                let a = a
                    .strip_prefix('[')
                    .and_then(|x| x.strip_suffix(']'))
                    .unwrap_or(a);
                a.parse::<IpAddr>().map_err(|_| RuleError::Address {
                    addr: a.to_string(),
                    rule: s.to_string(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ResolveRule {
            host: host.to_ascii_lowercase(),
            port,
            addrs,
        })
    }

    fn matches_host(&self, host: &str) -> bool {
        host_matches(&self.host, host)
    }

    /// True when the rule applies to a connection to `host:port`.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        self.port == port && self.matches_host(host)
    }
}

fn host_matches(pattern: &str, host: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_prefix("*.") {
        Some(suffix) => host.len() > suffix.len() + 1 && host.ends_with(&format!(".{suffix}")),
        None => pattern == host,
    }
}

/// A curl `--connect-to HOST:PORT:HOST2:PORT2` rule. Empty parts are wildcards on the left
/// (any host, any port) and "unchanged" on the right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectRule {
    /// Host the rule applies to (lower-case; `*.domain` or `*` allowed); `None` = any host.
    pub host: Option<String>,
    /// Port the rule applies to; `None` = any port.
    pub port: Option<u16>,
    /// Host to connect to instead; `None` = the same host.
    pub to_host: Option<String>,
    /// Port to connect to instead; `None` = the same port.
    pub to_port: Option<u16>,
}

/// Split `host:rest`, where host may be a bracketed IPv6 literal; returns the host without
/// brackets.
fn split_host(s: &str) -> Option<(&str, &str)> {
    if let Some(inner) = s.strip_prefix('[') {
        let close = inner.find(']')?;
        let rest = inner[close + 1..].strip_prefix(':')?;
        Some((&inner[..close], rest))
    } else {
        s.split_once(':')
    }
}

impl ConnectRule {
    /// Parse curl's `HOST:PORT:HOST2:PORT2` (IPv6 literals in brackets, parts may be empty).
    pub fn parse(s: &str) -> Result<ConnectRule, RuleError> {
        let bad = || RuleError::ConnectTo(s.to_string());
        let (host, rest) = split_host(s).ok_or_else(bad)?;
        let (port, rest) = rest.split_once(':').ok_or_else(bad)?;
        let (to_host, to_port) = split_host(rest).ok_or_else(bad)?;
        let port_of = |p: &str| -> Result<Option<u16>, RuleError> {
            if p.is_empty() {
                Ok(None)
            } else {
                p.parse::<u16>().map(Some).map_err(|_| bad())
            }
        };
        let host_of = |h: &str| (!h.is_empty()).then(|| h.to_ascii_lowercase());
        let rule = ConnectRule {
            host: host_of(host),
            port: port_of(port)?,
            to_host: host_of(to_host),
            to_port: port_of(to_port)?,
        };
        if rule.to_host.is_none() && rule.to_port.is_none() {
            return Err(RuleError::ConnectToNothing(s.to_string()));
        }
        Ok(rule)
    }

    fn matches(&self, host: &str, port: u16) -> bool {
        self.host.as_deref().is_none_or(|h| host_matches(h, host))
            && self.port.is_none_or(|p| p == port)
    }
}

/// Every resolution control of a run.
#[derive(Debug, Clone, Default)]
pub struct ResolveRules {
    /// `--resolve` (and profile `resolve`) rules: fixed addresses instead of a lookup.
    pub overrides: Vec<ResolveRule>,
    /// `--fallback-resolve` (and profile `fallback_resolve`) pins, used only when a lookup fails.
    pub fallbacks: Vec<ResolveRule>,
    /// `--connect-to` (and profile `connect_to`) rules, applied before the others.
    pub connect_to: Vec<ConnectRule>,
}

/// The resolver of a run. Hand [`SmartResolver::for_port`] to the HTTP client: reqwest's
/// resolver interface only sees the host name, so the client keeps one connection pool per
/// destination port and tells each resolver its port. Each decision is handed to the
/// connection being opened (see [`super::record`]), not kept by host name.
#[derive(Debug, Clone)]
pub struct SmartResolver {
    rules: Arc<ResolveRules>,
    dns: Option<DnsClient>,
    /// Bound of one system lookup (a `--dns-server` client has its own).
    budget: std::time::Duration,
}

impl Default for SmartResolver {
    fn default() -> Self {
        SmartResolver {
            rules: Arc::default(),
            dns: None,
            budget: super::dns::LOOKUP_BUDGET,
        }
    }
}

impl SmartResolver {
    /// A resolver with these overrides and fallbacks, asking the system resolver.
    pub fn new(overrides: Vec<ResolveRule>, fallbacks: Vec<ResolveRule>) -> Self {
        Self::with_rules(
            ResolveRules {
                overrides,
                fallbacks,
                connect_to: Vec::new(),
            },
            None,
        )
    }

    /// A resolver with every control; `dns` replaces the system resolver when given.
    pub fn with_rules(rules: ResolveRules, dns: Option<DnsClient>) -> Self {
        SmartResolver {
            rules: Arc::new(rules),
            dns,
            budget: super::dns::LOOKUP_BUDGET,
        }
    }

    /// Bound each system lookup by `budget` instead of [`super::dns::LOOKUP_BUDGET`].
    pub fn with_lookup_budget(mut self, budget: std::time::Duration) -> Self {
        self.budget = budget;
        self
    }

    /// The `--dns-server` client, when names are resolved through chosen servers.
    pub fn dns(&self) -> Option<&DnsClient> {
        self.dns.as_ref()
    }

    /// The resolver reqwest uses for connections to `port`.
    pub fn for_port(&self, port: u16) -> PortResolver {
        PortResolver {
            inner: self.clone(),
            port,
            alias: None,
            proxies: Vec::new(),
        }
    }

    /// [`SmartResolver::for_port`], resolving the names of `proxies` with their own port.
    pub fn for_port_via(&self, port: u16, proxies: Vec<(String, u16)>) -> PortResolver {
        PortResolver {
            proxies,
            ..self.for_port(port)
        }
    }

    /// The resolver of a client whose requests name `alias.name` on the wire but connect
    /// where `alias.host:alias.port` goes (a `Host` override; see [`super::route`]).
    pub fn for_alias(&self, port: u16, alias: super::route::Alias) -> PortResolver {
        PortResolver {
            inner: self.clone(),
            port,
            alias: Some(alias),
            proxies: Vec::new(),
        }
    }

    /// Where a connection to `host:port` really goes, when a `--connect-to` rule applies.
    pub fn connect_target(&self, host: &str, port: u16) -> Option<(String, u16)> {
        let host = normalize(host);
        self.rules
            .connect_to
            .iter()
            .find(|r| r.matches(&host, port))
            .map(|r| {
                (
                    r.to_host.clone().unwrap_or_else(|| host.clone()),
                    r.to_port.unwrap_or(port),
                )
            })
    }

    /// The decision for a host that is an IP address (no lookup happens for one), unless a
    /// `--connect-to` rule sends its connections elsewhere.
    pub fn literal(&self, host: &str, port: u16) -> Option<Resolution> {
        let host = normalize(host);
        if self.connect_target(&host, port).is_some() {
            return None;
        }
        host.parse::<IpAddr>().ok().map(|ip| Resolution {
            by: ResolvedBy::Literal,
            addrs: vec![ip],
            fallback_cause: None,
            connect_to: None,
        })
    }

    /// Resolve `host` for a connection to `port` following the rules. The decision is also
    /// handed to the connection attempt in progress, if any ([`super::record::note`]).
    pub async fn lookup(&self, host: &str, port: u16) -> Result<Resolution, ResolveError> {
        super::record::resolving();
        let host = normalize(host);
        let target = self.connect_target(&host, port);
        let (thost, tport) = target.clone().unwrap_or((host.clone(), port));
        let connect_to = target.map(|(h, p)| {
            if h.contains(':') {
                format!("[{h}]:{p}")
            } else {
                format!("{h}:{p}")
            }
        });
        let res = if let Ok(ip) = thost.parse::<IpAddr>() {
            Resolution {
                by: ResolvedBy::Literal,
                addrs: vec![ip],
                fallback_cause: None,
                connect_to,
            }
        } else if let Some(r) = self
            .rules
            .overrides
            .iter()
            .find(|r| r.matches(&thost, tport))
        {
            Resolution {
                by: ResolvedBy::Override,
                addrs: r.addrs.clone(),
                fallback_cause: None,
                connect_to,
            }
        } else {
            let (by, found) = match &self.dns {
                Some(dns) => (
                    ResolvedBy::DnsServer,
                    dns.with_budget(super::record::lookup_budget(dns.budget()))
                        .lookup_ip(&thost)
                        .await
                        .map_err(|failure| ResolveError::DnsServer {
                            host: thost.clone(),
                            server: dns.label().to_string(),
                            failure,
                        }),
                ),
                None => (
                    ResolvedBy::System,
                    system_lookup(&thost, super::record::lookup_budget(self.budget)).await,
                ),
            };
            match found {
                Ok(addrs) => Resolution {
                    by,
                    addrs,
                    fallback_cause: None,
                    connect_to,
                },
                Err(cause) => match self
                    .rules
                    .fallbacks
                    .iter()
                    .find(|r| r.matches(&thost, tport))
                {
                    Some(r) => Resolution {
                        by: ResolvedBy::Fallback,
                        addrs: r.addrs.clone(),
                        fallback_cause: Some(cause.to_string()),
                        connect_to,
                    },
                    None => return Err(cause),
                },
            }
        };
        super::record::note(&res);
        Ok(res)
    }
}

fn normalize(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

async fn system_lookup(
    host: &str,
    budget: std::time::Duration,
) -> Result<Vec<IpAddr>, ResolveError> {
    let failed = |reason: String| ResolveError::System {
        host: host.to_string(),
        reason,
    };
    let found = tokio::time::timeout(budget, tokio::net::lookup_host((host, 0)))
        .await
        .map_err(|_| failed(format!("no answer within {} ms", budget.as_millis())))?
        .map_err(|e| failed(e.to_string()))?;
    let addrs: Vec<IpAddr> = found.map(|a| a.ip()).collect();
    if addrs.is_empty() {
        return Err(failed("no addresses".into()));
    }
    Ok(addrs)
}

/// Why a host name could not be resolved (and no fallback applied). The HTTP error
/// classifier finds it among a failed request's causes: a DNS failure is named by its type,
/// not by searching error text.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ResolveError {
    /// The `--dns-server`s did not resolve the name.
    #[error("cannot resolve `{host}` via DNS server {server}: {failure}")]
    DnsServer {
        /// The host name asked for.
        host: String,
        /// The servers asked (comma-separated addresses).
        server: String,
        /// What the servers answered (NXDOMAIN, no records, timeout, …).
        failure: super::DnsFailure,
    },
    /// The system resolver did not resolve the name.
    #[error("cannot resolve `{host}` (system resolver): {reason}")]
    System {
        /// The host name asked for.
        host: String,
        /// The resolver's error, or "no addresses".
        reason: String,
    },
}

/// [`SmartResolver`] for connections to one port (what reqwest's `Resolve` needs).
#[derive(Debug, Clone)]
pub struct PortResolver {
    inner: SmartResolver,
    port: u16,
    alias: Option<super::route::Alias>,
    /// Proxy hosts and their ports.
    proxies: Vec<(String, u16)>,
}

impl Resolve for PortResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        let mut host = name.as_str().to_string();
        let mut port = this.port;
        if let Some(alias) = &this.alias {
            if normalize(&host) == alias.name {
                host.clone_from(&alias.host);
                port = alias.port;
            }
        }
        if let Some((_, p)) = this.proxies.iter().find(|(h, _)| *h == normalize(&host)) {
            port = *p;
        }
        Box::pin(async move {
            let target_port = this
                .inner
                .connect_target(&host, port)
                .map(|(_, p)| p)
                .unwrap_or(port);
            let res = this
                .inner
                .lookup(&host, port)
                .await
                .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { e.into() })?;
            // A non-zero port is kept by the connector when the URL has no explicit port;
            // with an explicit port the client rewrites the URL (see client.rs).
            let addrs: Addrs = Box::new(
                res.addrs
                    .into_iter()
                    .map(|ip| SocketAddr::new(ip, target_port))
                    .collect::<Vec<_>>()
                    .into_iter(),
            );
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_curl_form() {
        let r = ResolveRule::parse("api.example.test:443:127.0.0.1,[::1]").unwrap();
        assert_eq!(r.host, "api.example.test");
        assert_eq!(r.port, 443);
        assert_eq!(r.addrs.len(), 2);
        assert!(r.addrs[1].is_ipv6());
        assert!(ResolveRule::parse("nohost").is_err());
        assert!(ResolveRule::parse("h:notaport:127.0.0.1").is_err());
        assert!(ResolveRule::parse("h:80:not-an-ip").is_err());
    }

    #[test]
    fn wildcard_matches_subdomains_only() {
        let r = ResolveRule::parse("*.platform.test:80:127.0.0.1").unwrap();
        assert!(r.matches("users-dev.platform.test", 80));
        assert!(!r.matches("users-dev.platform.test", 443));
        assert!(!r.matches("platform.test", 80));
        assert!(!r.matches("evilplatform.test", 80));
    }

    #[tokio::test]
    async fn override_wins_and_literals_need_no_lookup() {
        let r = SmartResolver::new(
            vec![ResolveRule::parse("a.test:80:127.0.0.2").unwrap()],
            vec![],
        );
        let a = r.lookup("A.test", 80).await.unwrap();
        assert_eq!(a.by, ResolvedBy::Override);
        assert!(r.literal("a.test", 80).is_none());
        assert_eq!(r.literal("127.0.0.1", 80).unwrap().by, ResolvedBy::Literal);
    }

    #[test]
    fn parses_connect_to() {
        let r = ConnectRule::parse("api.example.test:443:edge.example.test:8443").unwrap();
        assert_eq!(r.host.as_deref(), Some("api.example.test"));
        assert_eq!(r.port, Some(443));
        assert_eq!(r.to_host.as_deref(), Some("edge.example.test"));
        assert_eq!(r.to_port, Some(8443));
        let r = ConnectRule::parse("::[::1]:").unwrap();
        assert_eq!((r.host, r.port), (None, None));
        assert_eq!(r.to_host.as_deref(), Some("::1"));
        assert_eq!(r.to_port, None);
        let r = ConnectRule::parse("[::1]:80::8080").unwrap();
        assert_eq!(r.host.as_deref(), Some("::1"));
        assert_eq!(r.to_port, Some(8080));
        assert!(ConnectRule::parse("a:1::").is_err());
        assert!(ConnectRule::parse("a:x:b:1").is_err());
        assert!(ConnectRule::parse("a:1:b").is_err());
    }

    #[tokio::test]
    async fn connect_to_then_override_for_the_target() {
        let r = SmartResolver::with_rules(
            ResolveRules {
                overrides: vec![ResolveRule::parse("edge.test:9443:127.0.0.3").unwrap()],
                fallbacks: vec![],
                connect_to: vec![ConnectRule::parse("api.test:443:edge.test:9443").unwrap()],
            },
            None,
        );
        let a = r.lookup("api.test", 443).await.unwrap();
        assert_eq!(a.by, ResolvedBy::Override);
        assert_eq!(a.connect_to.as_deref(), Some("edge.test:9443"));
        assert_eq!(a.addrs, vec!["127.0.0.3".parse::<IpAddr>().unwrap()]);
        assert_eq!(r.connect_target("api.test", 80), None);
    }
}
