//! Connection expectations: the address a response actually came from, and the HTTP
//! version it was sent with, on plain http as on https.
//!
//! ```yaml
//! expect:
//!   connection:
//!     ip: 192.0.2.10              # or a list: one of these
//!     ip_in: [192.0.2.0/24]       # ranges (a bare address is a range of one)
//!     port: 443
//!     http_version: HTTP/2
//! ```
//!
//! The address is the one of the connection the final response came over (after redirects);
//! through a proxy it is the proxy's, so an address expectation then fails and says so.

use std::net::{IpAddr, SocketAddr};

use super::dns::Cidr;
use super::tls::normalize_http;
use super::{ExpectError, Outcome, OutcomeKind, Response};
use crate::interp::{Scope, Template};
use crate::suite::facts::{ConnectionExpectDef, OneOrList};
use crate::suite::Pos;

/// Compiled connection expectations.
#[derive(Debug, Clone, Default)]
pub struct ConnectionCheck {
    ip: Vec<Template>,
    ip_in: Vec<Template>,
    port: Option<u16>,
    http_version: Option<String>,
    /// Where the `connection:` block is written.
    pub pos: Option<Pos>,
}

fn template(field: &str, s: &str) -> Result<Template, ExpectError> {
    Template::parse(s).map_err(|source| ExpectError::Template {
        field: field.to_string(),
        source,
    })
}

/// An address as compared: an IPv4-mapped IPv6 address is its IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn parse_ip(field: &'static str, s: &str) -> Result<IpAddr, ExpectError> {
    let t = s.trim();
    t.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .map(canonical)
        .map_err(|_| ExpectError::IpAddress {
            field,
            value: s.to_string(),
        })
}

impl ConnectionCheck {
    /// Compile a `connection:` block; literal addresses and ranges are checked now.
    pub fn compile(
        def: &ConnectionExpectDef,
        pos: Option<Pos>,
    ) -> Result<ConnectionCheck, ExpectError> {
        if def.ip.as_ref().is_some_and(OneOrList::is_empty_list)
            || def.ip_in.as_ref().is_some_and(OneOrList::is_empty_list)
        {
            return Err(ExpectError::EmptyRule {
                field: "connection",
                expected: "at least one address in ip and ip_in",
            });
        }
        let ip = def.ip.clone().map(|v| v.into_vec()).unwrap_or_default();
        let ip = ip
            .iter()
            .map(|s| template("connection.ip", s))
            .collect::<Result<Vec<_>, _>>()?;
        for s in ip.iter().filter_map(Template::as_literal) {
            parse_ip("connection.ip", &s)?;
        }
        let ip_in = def.ip_in.clone().map(|v| v.into_vec()).unwrap_or_default();
        let ip_in = ip_in
            .iter()
            .map(|s| template("connection.ip_in", s))
            .collect::<Result<Vec<_>, _>>()?;
        for s in ip_in.iter().filter_map(Template::as_literal) {
            Cidr::parse(&s)?;
        }
        let http_version = def
            .http_version
            .as_deref()
            .map(|v| {
                normalize_http(v).ok_or_else(|| ExpectError::ConnectionHttpVersion(v.to_string()))
            })
            .transpose()?;
        if def.port == Some(0) {
            return Err(ExpectError::PortZero("connection.port"));
        }
        if ip.is_empty() && ip_in.is_empty() && def.port.is_none() && http_version.is_none() {
            return Err(ExpectError::EmptyRule {
                field: "connection",
                expected: "ip, ip_in, port or http_version",
            });
        }
        Ok(ConnectionCheck {
            ip,
            ip_in,
            port: def.port,
            http_version,
            pos,
        })
    }

    /// Every template of the block.
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        self.ip.iter().chain(self.ip_in.iter())
    }

    fn outcome(&self, check: String) -> Outcome {
        Outcome::new(OutcomeKind::Connection, check, self.pos)
    }

    /// Judge the connection a response came over.
    pub fn evaluate(&self, resp: &Response, scope: &Scope) -> Vec<Outcome> {
        let mut out = Vec::new();
        if let Some(want) = &self.http_version {
            let got = normalize_http(&resp.http_version).unwrap_or(resp.http_version.clone());
            let o = self.outcome(format!("HTTP version is {want}"));
            out.push(if &got == want {
                o.seen(&got)
            } else {
                o.fail(
                    want.clone(),
                    got.clone(),
                    format!("the response came over {got}, expected {want}"),
                )
            });
        }
        if self.ip.is_empty() && self.ip_in.is_empty() && self.port.is_none() {
            return out;
        }
        let remote = match (&resp.proxy, resp.remote) {
            (Some(p), _) => Err(format!(
                "the request went through proxy {p}: the address connected to is the proxy's, not the server's (use --noproxy for this host to check it)"
            )),
            (None, None) => Err("the address connected to is not known".to_string()),
            (None, Some(a)) => Ok(a),
        };
        let remote: SocketAddr = match remote {
            Ok(a) => a,
            Err(why) => {
                let o = self.outcome("address connected to".into());
                out.push(o.fail(
                    "a known address",
                    "unknown",
                    format!("connection expectations cannot be checked: {why}"),
                ));
                return out;
            }
        };
        let got = canonical(remote.ip());
        let want = match self.render(scope) {
            Ok(w) => w,
            Err(e) => {
                let o = self.outcome("address connected to".into());
                out.push(o.fail("a value to compare", e.clone(), format!("connection: {e}")));
                return out;
            }
        };
        if !want.ips.is_empty() {
            let list = want
                .ips
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            let check = if want.ips.len() == 1 {
                format!("connected to {list}")
            } else {
                format!("connected to one of {list}")
            };
            let o = self.outcome(check);
            out.push(if want.ips.contains(&got) {
                o.seen(got.to_string())
            } else {
                o.fail(
                    list.clone(),
                    got.to_string(),
                    format!(
                        "connected to {remote}, expected {}{list}",
                        if want.ips.len() == 1 { "" } else { "one of " }
                    ),
                )
            });
        }
        if !want.ranges.is_empty() {
            let list = want
                .ranges
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            let o = self.outcome(format!("connected within {list}"));
            out.push(if want.ranges.iter().any(|c| c.contains(got)) {
                o.seen(got.to_string())
            } else {
                o.fail(
                    list.clone(),
                    got.to_string(),
                    format!("connected to {remote}, which is outside {list}"),
                )
            });
        }
        if let Some(port) = self.port {
            let o = self.outcome(format!("connected to port {port}"));
            out.push(if remote.port() == port {
                o.seen(remote.port().to_string())
            } else {
                o.fail(
                    port.to_string(),
                    remote.port().to_string(),
                    format!("connected to {remote}, expected port {port}"),
                )
            });
        }
        out
    }

    fn render(&self, scope: &Scope) -> Result<Wanted, String> {
        let r = |t: &Template| t.render(scope).map_err(|e| e.to_string());
        let ips = self
            .ip
            .iter()
            .map(|t| parse_ip("connection.ip", &r(t)?).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        let ranges = self
            .ip_in
            .iter()
            .map(|t| Cidr::parse(&r(t)?).map_err(|e| format!("connection.ip_in: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Wanted { ips, ranges })
    }
}

struct Wanted {
    ips: Vec<IpAddr>,
    ranges: Vec<Cidr>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_addresses_compare_as_ipv4() {
        assert_eq!(
            canonical("::ffff:127.0.0.1".parse().unwrap()),
            "127.0.0.1".parse::<IpAddr>().unwrap()
        );
        assert!(parse_ip("connection.ip", "[::1]").is_ok());
        assert!(parse_ip("connection.ip", "api.example.test").is_err());
    }
}
