//! Asking chosen DNS servers directly (`--dns-server`, a DNS check's `server:`, or the servers
//! of `/etc/resolv.conf` for DNS checks): UDP then TCP on truncation, like `dig`, without the
//! system resolver or any cache, within one time budget per lookup.
//!
//! Failures are classified ([`DnsFailure`]) so a pinned fallback knows when it may step in,
//! and a report can say what the server actually answered.

mod exchange;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use serde::Serialize;
use tokio::time::Instant;

use super::error::{RuleError, SetupError};

/// The most one lookup may take (every server, both protocols); `--connect-timeout` lowers
/// it when shorter.
pub const LOOKUP_BUDGET: Duration = Duration::from_secs(5);

/// The budget of one lookup in a run with this connect timeout.
pub fn lookup_budget(connect_timeout: Duration) -> Duration {
    LOOKUP_BUDGET.min(connect_timeout)
}

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
    /// No answer within the lookup's budget (milliseconds).
    Timeout(u64),
    /// The server could not answer (SERVFAIL).
    ServFail,
    /// The server refused to answer (REFUSED).
    Refused,
    /// Nothing listens where the server should be: the connection was refused (which
    /// protocol and address).
    PortClosed(String),
    /// Anything else (another response code, a network error).
    Other(String),
}

impl DnsFailure {
    /// True when the server answered that there is nothing (NXDOMAIN, no records): an
    /// answer a check can judge. Every other failure means the question was not answered.
    pub fn is_answer(&self) -> bool {
        matches!(self, DnsFailure::NxDomain | DnsFailure::NoRecords)
    }

    fn from_code(code: ResponseCode) -> Option<Self> {
        match code {
            ResponseCode::NoError => None,
            ResponseCode::NXDomain => Some(DnsFailure::NxDomain),
            ResponseCode::ServFail => Some(DnsFailure::ServFail),
            ResponseCode::Refused => Some(DnsFailure::Refused),
            other => Some(DnsFailure::Other(format!("the server answered {other}"))),
        }
    }
}

impl std::fmt::Display for DnsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DnsFailure::NxDomain => f.write_str("NXDOMAIN (the name does not exist)"),
            DnsFailure::NoRecords => f.write_str("no records of the requested type"),
            DnsFailure::Timeout(ms) => write!(f, "no answer within {ms} ms (timed out)"),
            DnsFailure::ServFail => f.write_str("SERVFAIL (the server could not answer)"),
            DnsFailure::Refused => f.write_str("REFUSED (the server refused to answer)"),
            DnsFailure::PortClosed(at) => {
                write!(
                    f,
                    "connection refused on {at} (no DNS server listens there)"
                )
            }
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
    /// Preference and exchange of an MX record (for expectations; `value` shows both).
    #[serde(skip)]
    pub mx: Option<Mx>,
}

/// The data of an MX record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mx {
    /// Lower is preferred.
    pub preference: u16,
    /// The mail exchanger's host name, as sent (with its trailing dot).
    pub exchange: String,
}

impl std::fmt::Display for DnsRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.name, self.rtype, self.value)
    }
}

/// DNS servers asked directly, with the time budget of one lookup.
#[derive(Debug, Clone)]
pub struct DnsClient {
    servers: Vec<SocketAddr>,
    budget: Duration,
    label: String,
}

impl DnsClient {
    /// Ask exactly these servers, in order, until one answers. `budget` bounds a whole
    /// lookup (every server and both protocols).
    pub fn servers(servers: &[SocketAddr], budget: Duration) -> Result<Self, SetupError> {
        if servers.is_empty() {
            return Err(SetupError::NoDnsServer);
        }
        let label = servers
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        Ok(DnsClient {
            servers: servers.to_vec(),
            budget,
            label,
        })
    }

    /// The `nameserver`s of `/etc/resolv.conf` (for DNS checks without `server:`).
    pub fn system(budget: Duration) -> Result<Self, SetupError> {
        const PATH: &str = "/etc/resolv.conf";
        let text = std::fs::read_to_string(PATH).map_err(SetupError::SystemDns)?;
        let servers = nameservers(&text);
        if servers.is_empty() {
            return Err(SetupError::NoSystemDns(PATH));
        }
        let mut c = Self::servers(&servers, budget)?;
        c.label = format!("{} (system DNS configuration)", c.label);
        Ok(c)
    }

    /// Which servers are asked, for messages.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The time one lookup may take.
    pub fn budget(&self) -> Duration {
        self.budget
    }

    /// The same servers with another budget.
    pub fn with_budget(&self, budget: Duration) -> DnsClient {
        DnsClient {
            budget,
            ..self.clone()
        }
    }

    /// A and AAAA addresses of `host` (asked together).
    pub async fn lookup_ip(&self, host: &str) -> Result<Vec<IpAddr>, DnsFailure> {
        let (v4, v6) = tokio::join!(
            self.lookup(host, RecordType::A),
            self.lookup(host, RecordType::AAAA)
        );
        let addrs: Vec<IpAddr> = [&v4, &v6]
            .into_iter()
            .flat_map(|r| r.iter().flatten())
            .filter(|rec| rec.rtype == "A" || rec.rtype == "AAAA")
            .filter_map(|rec| rec.value.parse().ok())
            .collect();
        if !addrs.is_empty() {
            return Ok(addrs);
        }
        match (v4, v6) {
            (Err(DnsFailure::NxDomain), _) | (_, Err(DnsFailure::NxDomain)) => {
                Err(DnsFailure::NxDomain)
            }
            (Err(e), _) if !e.is_answer() => Err(e),
            (_, Err(e)) if !e.is_answer() => Err(e),
            _ => Err(DnsFailure::NoRecords),
        }
    }

    /// Every answer record for `host` and `rtype` (a CNAME chain is included). The servers
    /// are asked in order, each with an equal share of what is left of the budget, until
    /// one answers (a name that does not exist is an answer).
    pub async fn lookup(
        &self,
        host: &str,
        rtype: RecordType,
    ) -> Result<Vec<DnsRecord>, DnsFailure> {
        let name = Name::from_ascii(fqdn(host))
            .map_err(|e| DnsFailure::Other(format!("`{host}` is not a valid DNS name: {e}")))?;
        let end = Instant::now() + self.budget;
        let mut failure = DnsFailure::Timeout(self.budget.as_millis() as u64);
        for (i, server) in self.servers.iter().enumerate() {
            let left = end.saturating_duration_since(Instant::now());
            let share = left / (self.servers.len() - i) as u32;
            match exchange::ask(*server, &name, rtype, Instant::now() + share, share).await {
                Ok(answer) => match records(answer, &name, rtype) {
                    Err(e) if !e.is_answer() => failure = e,
                    done => return done,
                },
                // A timeout is the lookup's: its whole budget went to the servers.
                Err(DnsFailure::Timeout(_)) => {
                    failure = DnsFailure::Timeout(self.budget.as_millis() as u64);
                }
                Err(e) => failure = e,
            }
        }
        Err(failure)
    }
}

/// The records of an answer that answer the question — of the type asked, for the name asked
/// or a name its CNAME chain leads to (anything else a server adds is ignored) — or why
/// there are none.
fn records(answer: Message, name: &Name, rtype: RecordType) -> Result<Vec<DnsRecord>, DnsFailure> {
    if let Some(f) = DnsFailure::from_code(answer.metadata.response_code) {
        return Err(f);
    }
    let key = |n: &Name| n.to_ascii().trim_end_matches('.').to_ascii_lowercase();
    let mut chain = vec![key(name)];
    // Follow the chain (bounded by the number of records, so a loop ends).
    for _ in 0..answer.answers.len() {
        let next = answer.answers.iter().find_map(|r| match &r.data {
            RData::CNAME(c) if chain.contains(&key(&r.name)) && !chain.contains(&key(&c.0)) => {
                Some(key(&c.0))
            }
            _ => None,
        });
        match next {
            Some(n) => chain.push(n),
            None => break,
        }
    }
    let records: Vec<DnsRecord> = answer
        .answers
        .iter()
        .filter(|r| {
            chain.contains(&key(&r.name))
                && (r.record_type() == rtype || r.record_type() == RecordType::CNAME)
        })
        .map(|r| DnsRecord {
            name: r.name.to_string(),
            rtype: r.record_type().to_string(),
            value: rdata_text(&r.data),
            ttl: r.ttl,
            mx: match &r.data {
                RData::MX(m) => Some(Mx {
                    preference: m.preference,
                    exchange: m.exchange.to_string(),
                }),
                _ => None,
            },
        })
        .collect();
    if records.is_empty() {
        return Err(DnsFailure::NoRecords);
    }
    Ok(records)
}

/// The `nameserver` addresses of a resolv.conf.
fn nameservers(text: &str) -> Vec<SocketAddr> {
    text.lines()
        .filter_map(|l| l.split('#').next()?.strip_prefix("nameserver"))
        .filter_map(|rest| rest.trim().split('%').next()?.parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
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

    #[test]
    fn reads_nameservers_of_resolv_conf() {
        let conf = "# comment\nsearch example\nnameserver 10.0.0.2\nnameserver fe80::1%eth0\nnameserver bad\n";
        assert_eq!(
            nameservers(conf),
            vec![
                "10.0.0.2:53".parse::<SocketAddr>().unwrap(),
                "[fe80::1]:53".parse().unwrap()
            ]
        );
    }
}
