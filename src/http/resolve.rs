//! Name resolution with curl-style overrides and a pinned fallback.
//!
//! Order for every host name: `--resolve` override → (system resolver) → `--fallback-resolve`
//! when resolution failed. Each decision is recorded, so reports can say which address was
//! used and how it was chosen.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde::Serialize;

/// How an address was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResolvedBy {
    /// The name was an IP literal (nothing to resolve).
    Literal,
    /// The operating system resolver.
    System,
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
            ResolvedBy::Override => "override",
            ResolvedBy::Fallback => "fallback",
        })
    }
}

/// What happened when a host name was resolved.
#[derive(Debug, Clone, Serialize)]
pub struct Resolution {
    pub by: ResolvedBy,
    pub addrs: Vec<IpAddr>,
    /// For a fallback: why normal resolution failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_cause: Option<String>,
}

/// A `HOST:PORT:ADDR[,ADDR…]` rule. `HOST` may be `*.example.test` or `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveRule {
    pub host: String,
    pub port: u16,
    pub addrs: Vec<IpAddr>,
}

impl ResolveRule {
    /// Parse curl's `HOST:PORT:ADDR[,ADDR…]` (IPv6 addresses in brackets).
    pub fn parse(s: &str) -> Result<ResolveRule, String> {
        let bad = || format!("invalid resolve rule `{s}`, expected HOST:PORT:ADDR[,ADDR…]");
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
                a.parse::<IpAddr>()
                    .map_err(|_| format!("invalid address `{a}` in resolve rule `{s}`"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ResolveRule {
            host: host.to_ascii_lowercase(),
            port,
            addrs,
        })
    }

    fn matches(&self, host: &str) -> bool {
        if self.host == "*" {
            return true;
        }
        match self.host.strip_prefix("*.") {
            Some(suffix) => host.len() > suffix.len() + 1 && host.ends_with(&format!(".{suffix}")),
            None => self.host == host,
        }
    }
}

/// The resolver handed to the HTTP client; records every decision.
#[derive(Debug, Clone, Default)]
pub struct SmartResolver {
    overrides: Arc<Vec<ResolveRule>>,
    fallbacks: Arc<Vec<ResolveRule>>,
    log: Arc<Mutex<HashMap<String, Resolution>>>,
}

impl SmartResolver {
    /// A resolver with these overrides and fallbacks.
    pub fn new(overrides: Vec<ResolveRule>, fallbacks: Vec<ResolveRule>) -> Self {
        SmartResolver {
            overrides: Arc::new(overrides),
            fallbacks: Arc::new(fallbacks),
            log: Arc::default(),
        }
    }

    /// How `host` was last resolved, if it was.
    pub fn resolution(&self, host: &str) -> Option<Resolution> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Some(Resolution {
                by: ResolvedBy::Literal,
                addrs: vec![ip],
                fallback_cause: None,
            });
        }
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        log.get(&host.to_ascii_lowercase()).cloned()
    }

    /// Resolve `host` following the rules, recording the decision.
    pub async fn lookup(&self, host: &str) -> Result<Resolution, String> {
        let host = host.to_ascii_lowercase();
        let res = if let Some(r) = self.overrides.iter().find(|r| r.matches(&host)) {
            Resolution {
                by: ResolvedBy::Override,
                addrs: r.addrs.clone(),
                fallback_cause: None,
            }
        } else {
            match system_lookup(&host).await {
                Ok(addrs) => Resolution {
                    by: ResolvedBy::System,
                    addrs,
                    fallback_cause: None,
                },
                Err(cause) => match self.fallbacks.iter().find(|r| r.matches(&host)) {
                    Some(r) => Resolution {
                        by: ResolvedBy::Fallback,
                        addrs: r.addrs.clone(),
                        fallback_cause: Some(cause),
                    },
                    None => return Err(cause),
                },
            }
        };
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        log.insert(host, res.clone());
        Ok(res)
    }
}

async fn system_lookup(host: &str) -> Result<Vec<IpAddr>, String> {
    let found = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|e| format!("cannot resolve `{host}`: {e}"))?;
    let addrs: Vec<IpAddr> = found.map(|a| a.ip()).collect();
    if addrs.is_empty() {
        return Err(format!("cannot resolve `{host}`: no addresses"));
    }
    Ok(addrs)
}

impl Resolve for SmartResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let res = this
                .lookup(&host)
                .await
                .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { e.into() })?;
            let addrs: Addrs = Box::new(
                res.addrs
                    .into_iter()
                    .map(|ip| SocketAddr::new(ip, 0))
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
        assert!(r.matches("users-dev.platform.test"));
        assert!(!r.matches("platform.test"));
        assert!(!r.matches("evilplatform.test"));
    }

    #[tokio::test]
    async fn override_wins_and_is_recorded() {
        let r = SmartResolver::new(
            vec![ResolveRule::parse("a.test:80:127.0.0.2").unwrap()],
            vec![],
        );
        let a = r.lookup("A.test").await.unwrap();
        assert_eq!(a.by, ResolvedBy::Override);
        assert_eq!(r.resolution("a.test").unwrap().addrs, a.addrs);
        assert_eq!(r.resolution("127.0.0.1").unwrap().by, ResolvedBy::Literal);
    }
}
