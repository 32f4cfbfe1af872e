//! Asking chosen DNS servers directly (`--dns-server`, a DNS check's `server:`) with
//! hickory-resolver: UDP, falling back to TCP, without the system resolver or its caches.
//!
//! Failures are classified ([`DnsFailure`]) so a pinned fallback knows when it may step in,
//! and a report can say what the server actually answered.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::NetError;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::TokioResolver;
use serde::Serialize;

use super::error::{RuleError, SetupError};

/// Parse `ADDR[:PORT]` (`127.0.0.1`, `127.0.0.1:5353`, `::1`, `[::1]:5353`); port 53 by default.
pub fn parse_dns_server(s: &str) -> Result<SocketAddr, RuleError> {
    let s = s.trim();
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Ok(sa);
    }
    let bare = s
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(s);
    bare.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| RuleError::DnsServer(s.to_string()))
}

/// Why a DNS lookup returned no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "kebab-case")]
pub enum DnsFailure {
    /// The name does not exist (NXDOMAIN).
    NxDomain,
    /// The name exists but has no records of the type asked.
    NoRecords,
    /// No answer within the resolver timeout.
    Timeout,
    /// Anything else (refused, server failure, unreachable server…).
    Other(String),
}

impl DnsFailure {
    fn from_net(e: &NetError) -> Self {
        if e.is_nx_domain() {
            DnsFailure::NxDomain
        } else if e.is_no_records_found() {
            DnsFailure::NoRecords
        } else if is_timeout(e) {
            DnsFailure::Timeout
        } else {
            DnsFailure::Other(e.to_string())
        }
    }
}

/// A timeout, said by the resolver itself or by the socket under it.
fn is_timeout(e: &NetError) -> bool {
    match e {
        NetError::Timeout => true,
        NetError::Io(io) => io.kind() == std::io::ErrorKind::TimedOut,
        _ => false,
    }
}

impl std::fmt::Display for DnsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DnsFailure::NxDomain => f.write_str("NXDOMAIN (the name does not exist)"),
            DnsFailure::NoRecords => f.write_str("no records of the requested type"),
            DnsFailure::Timeout => f.write_str("no answer (timed out)"),
            DnsFailure::Other(m) => f.write_str(m),
        }
    }
}

/// One record of an answer, as text (`A 192.0.2.1`, `CNAME edge.example.net.`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsRecord {
    /// The name the record belongs to.
    pub name: String,
    /// Record type, e.g. `A` or `CNAME` (`type` in JSON).
    #[serde(rename = "type")]
    pub rtype: String,
    /// Record data as text (an address, a target name, TXT text…).
    pub value: String,
    /// Time to live, in seconds.
    pub ttl: u32,
}

impl std::fmt::Display for DnsRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.name, self.rtype, self.value)
    }
}

/// A hickory resolver: either over chosen servers, or over the system configuration
/// (`/etc/resolv.conf`) for DNS checks of record types the system resolver cannot answer.
#[derive(Clone)]
pub struct DnsClient {
    resolver: TokioResolver,
    label: String,
}

impl std::fmt::Debug for DnsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnsClient")
            .field("servers", &self.label)
            .finish()
    }
}

fn options(timeout: Duration) -> ResolverOpts {
    let mut o = ResolverOpts::default();
    o.timeout = timeout;
    o.attempts = 1;
    o.try_tcp_on_error = true;
    o.ip_strategy = hickory_resolver::config::LookupIpStrategy::Ipv4AndIpv6;
    o
}

impl DnsClient {
    /// Ask exactly these servers (UDP, then TCP on truncation or error). `timeout` bounds
    /// each query.
    pub fn servers(servers: &[SocketAddr], timeout: Duration) -> Result<Self, SetupError> {
        if servers.is_empty() {
            return Err(SetupError::NoDnsServer);
        }
        let name_servers = servers
            .iter()
            .map(|sa| {
                let mut udp = ConnectionConfig::udp();
                udp.port = sa.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = sa.port();
                NameServerConfig::new(sa.ip(), true, vec![udp, tcp])
            })
            .collect();
        let config = ResolverConfig::from_parts(None, vec![], name_servers);
        let mut opts = options(timeout);
        opts.use_hosts_file = ResolveHosts::Never;
        opts.cache_size = 0;
        let resolver = TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
            .with_options(opts)
            .build()
            .map_err(SetupError::Resolver)?;
        let label = servers
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        Ok(DnsClient { resolver, label })
    }

    /// The system's DNS configuration (for record lookups of DNS checks without `server:`).
    pub fn system(timeout: Duration) -> Result<Self, SetupError> {
        let mut b = TokioResolver::builder_tokio().map_err(SetupError::SystemDns)?;
        let o = b.options_mut();
        o.timeout = timeout;
        o.attempts = 1;
        o.try_tcp_on_error = true;
        let resolver = b.build().map_err(SetupError::Resolver)?;
        Ok(DnsClient {
            resolver,
            label: "system DNS configuration".into(),
        })
    }

    /// Which servers are asked, for messages.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// A and AAAA addresses of `host`.
    pub async fn lookup_ip(&self, host: &str) -> Result<Vec<IpAddr>, DnsFailure> {
        let found = self
            .resolver
            .lookup_ip(fqdn(host))
            .await
            .map_err(|e| DnsFailure::from_net(&e))?;
        let addrs: Vec<IpAddr> = found.iter().collect();
        if addrs.is_empty() {
            return Err(DnsFailure::NoRecords);
        }
        Ok(addrs)
    }

    /// Every answer record for `host` and `rtype` (a CNAME chain is included).
    pub async fn lookup(
        &self,
        host: &str,
        rtype: RecordType,
    ) -> Result<Vec<DnsRecord>, DnsFailure> {
        let found = self
            .resolver
            .lookup(fqdn(host), rtype)
            .await
            .map_err(|e| DnsFailure::from_net(&e))?;
        let records: Vec<DnsRecord> = found
            .answers()
            .iter()
            .map(|r| DnsRecord {
                name: r.name.to_string(),
                rtype: r.record_type().to_string(),
                value: rdata_text(&r.data),
                ttl: r.ttl,
            })
            .collect();
        if records.is_empty() {
            return Err(DnsFailure::NoRecords);
        }
        Ok(records)
    }
}

/// A name with a trailing dot, so no search domain is ever appended.
fn fqdn(host: &str) -> String {
    if host.ends_with('.') {
        host.to_string()
    } else {
        format!("{host}.")
    }
}

fn rdata_text(d: &RData) -> String {
    match d {
        RData::A(a) => a.0.to_string(),
        RData::AAAA(a) => a.0.to_string(),
        RData::CNAME(c) => c.0.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_server_forms() {
        assert_eq!(
            parse_dns_server("10.0.0.2").unwrap(),
            "10.0.0.2:53".parse().unwrap()
        );
        assert_eq!(
            parse_dns_server("127.0.0.1:5353").unwrap(),
            "127.0.0.1:5353".parse().unwrap()
        );
        assert_eq!(
            parse_dns_server("::1").unwrap(),
            "[::1]:53".parse().unwrap()
        );
        assert_eq!(
            parse_dns_server("[::1]:5353").unwrap(),
            "[::1]:5353".parse().unwrap()
        );
        assert!(parse_dns_server("ns1.example.test").is_err());
    }
}
