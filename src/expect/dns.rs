//! DNS checks: a case that asks DNS instead of sending HTTP, as runbooks do with `dig +short`.
//!
//! ```yaml
//! - name: api resolves to the edge
//!   dns:
//!     name: api.example.test
//!     type: A                     # default A; AAAA, CNAME, TXT, MX, NS…
//!     server: 10.0.0.2:53         # optional: else --dns-server, else the system configuration
//!     expect:
//!       addresses_in: [192.0.2.10, 192.0.2.11]
//!       cidr: 192.0.2.0/24
//!       cname: edge.example.net
//!       reachable: { port: 443 }  # every address accepts TCP connections
//! ```
//!
//! `txt`, `mx` and `reachable` are judged in [`super::dns_answer`]. Every string may use `${…}`
//! variables. Failure messages show what the server returned; a passed outcome keeps what it
//! saw (`actual`).

use std::net::IpAddr;
use std::time::Duration;

use hickory_proto::rr::RecordType;

use super::{ExpectError, Outcome, OutcomeKind};
use crate::http::{parse_dns_server, DnsClient, DnsRecord};
use crate::interp::{Scope, Template};
use crate::suite::model::{DnsCheckDef, OneOrMany};
use crate::suite::Pos;

/// An IP range, `192.0.2.0/24` or `2001:db8::/32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    /// The network address (host bits are ignored when matching).
    pub net: IpAddr,
    /// Prefix length: 0–32 for IPv4, 0–128 for IPv6.
    pub prefix: u8,
}

impl Cidr {
    /// Parse `ADDR/PREFIX` (a bare address is a /32 or /128).
    pub fn parse(s: &str) -> Result<Cidr, ExpectError> {
        let bad = || ExpectError::Cidr(s.to_string());
        let (a, p) = s.trim().split_once('/').unwrap_or((s.trim(), ""));
        let net: IpAddr = a.parse().map_err(|_| bad())?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = if p.is_empty() {
            max
        } else {
            p.parse::<u8>().map_err(|_| bad())?
        };
        if prefix > max {
            return Err(bad());
        }
        Ok(Cidr { net, prefix })
    }

    /// True when `ip` is inside the range.
    pub fn contains(&self, ip: IpAddr) -> bool {
        fn bits(ip: IpAddr) -> (u128, u8) {
            match ip {
                IpAddr::V4(v) => (u128::from(u32::from(v)), 32),
                IpAddr::V6(v) => (u128::from(v), 128),
            }
        }
        let ip = match ip {
            IpAddr::V6(v6) if self.net.is_ipv4() => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => return false,
            },
            other => other,
        };
        let ((n, w), (i, w2)) = (bits(self.net), bits(ip));
        if w != w2 {
            return false;
        }
        let shift = u32::from(w - self.prefix);
        let mask = if shift >= 128 { 0 } else { u128::MAX << shift };
        let mask = if w == 32 { mask & 0xffff_ffff } else { mask };
        (n & mask) == (i & mask)
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.net, self.prefix)
    }
}

/// A compiled DNS check.
#[derive(Debug, Clone)]
pub struct DnsCheck {
    /// The host name to resolve. Every string here is a template, rendered when the check runs.
    pub name: Template,
    /// The record type to ask for (default `A`).
    pub rtype: RecordType,
    /// `ADDR[:PORT]` of the server to ask (else `--dns-server`, else the system configuration).
    pub server: Option<Template>,
    /// Every returned address must be one of these.
    pub addresses_in: Vec<Template>,
    /// Every returned address must be inside one of these ranges.
    pub cidr: Vec<Template>,
    /// The name must be a CNAME to this target.
    pub cname: Option<Template>,
    /// Where the `dns:` block is written.
    pub pos: Option<Pos>,
    /// TXT and MX values, and reachability of every address.
    pub answer: super::dns_answer::AnswerRules,
}

/// What running a DNS check produced.
#[derive(Debug, Clone)]
pub struct DnsRun {
    /// `api.example.test A @ 127.0.0.1:5353`, for reports.
    pub query: String,
    /// The verdict of each expectation (empty when the check could not run).
    pub outcomes: Vec<Outcome>,
    /// Set when the check could not run (bad template, server unreachable, timeout).
    pub error: Option<String>,
}

/// Parse a template of a DNS check, naming the field in the error.
fn parse(field: &str, s: &str) -> Result<Template, ExpectError> {
    Template::parse(s).map_err(|source| ExpectError::Template {
        field: field.to_string(),
        source,
    })
}

impl DnsCheck {
    /// Compile a `dns:` block; values without `${…}` are validated now.
    pub fn compile(def: &DnsCheckDef, pos: Option<Pos>) -> Result<DnsCheck, ExpectError> {
        let rtype = match &def.rtype {
            None => RecordType::A,
            Some(t) => t
                .to_ascii_uppercase()
                .parse::<RecordType>()
                .map_err(|_| ExpectError::RecordType(t.clone()))?,
        };
        let server = def
            .server
            .as_deref()
            .map(|s| parse("dns.server", s))
            .transpose()?;
        if let Some(s) = server.as_ref().and_then(Template::as_literal) {
            parse_dns_server(&s)?;
        }
        let expect = def.expect.clone().unwrap_or_default();
        let addresses_in = expect
            .addresses_in
            .map(OneOrMany::into_vec)
            .unwrap_or_default();
        let addresses_in = addresses_in
            .iter()
            .map(|a| parse("dns.expect.addresses_in", a))
            .collect::<Result<Vec<_>, _>>()?;
        for a in addresses_in.iter().filter_map(Template::as_literal) {
            a.trim()
                .parse::<IpAddr>()
                .map_err(|_| ExpectError::Address(a.to_string()))?;
        }
        let cidr = expect.cidr.map(OneOrMany::into_vec).unwrap_or_default();
        let cidr = cidr
            .iter()
            .map(|c| parse("dns.expect.cidr", c))
            .collect::<Result<Vec<_>, _>>()?;
        for c in cidr.iter().filter_map(Template::as_literal) {
            Cidr::parse(&c)?;
        }
        if (!addresses_in.is_empty() || !cidr.is_empty())
            && !matches!(rtype, RecordType::A | RecordType::AAAA)
        {
            return Err(ExpectError::AddressType(rtype.to_string()));
        }
        let answer = super::dns_answer::AnswerRules::compile(
            rtype,
            expect.txt.as_deref(),
            expect.mx.as_deref(),
            expect.reachable.as_ref(),
        )?;
        Ok(DnsCheck {
            answer,
            name: parse("dns.name", &def.name)?,
            rtype,
            server,
            addresses_in,
            cidr,
            cname: expect
                .cname
                .as_deref()
                .map(|c| parse("dns.expect.cname", c))
                .transpose()?,
            pos,
        })
    }

    /// Every template string of the check (for the plan's variable check).
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        std::iter::once(&self.name)
            .chain(self.server.iter())
            .chain(self.addresses_in.iter())
            .chain(self.cidr.iter())
            .chain(self.cname.iter())
            .chain(self.answer.templates())
    }

    /// Ask DNS and judge the answer. `run_dns` is the run's `--dns-server` client, used when
    /// the check names no server.
    pub async fn run(
        &self,
        scope: &Scope,
        run_dns: Option<&DnsClient>,
        timeout: Duration,
    ) -> DnsRun {
        let mut run = DnsRun {
            query: format!(
                "{} {}",
                self.name.render(scope).unwrap_or_default(),
                self.rtype
            ),
            outcomes: Vec::new(),
            error: None,
        };
        let want = match self.render(scope) {
            Ok(v) => v,
            Err(e) => {
                run.error = Some(format!("cannot build DNS query: {e}"));
                return run;
            }
        };
        let client = match want.server.as_deref() {
            Some(s) => parse_dns_server(s)
                .map_err(|e| e.to_string())
                .and_then(|sa| DnsClient::servers(&[sa], timeout).map_err(|e| e.to_string())),
            None => match run_dns {
                Some(c) => Ok(c.clone()),
                None => DnsClient::system(timeout).map_err(|e| e.to_string()),
            },
        };
        let client = match client {
            Ok(c) => c,
            Err(e) => {
                run.error = Some(e);
                return run;
            }
        };
        run.query = format!("{} {} @ {}", want.name, self.rtype, client.label());
        let (name, via) = (&want.name, client.label());
        let records = match client.lookup(name, self.rtype).await {
            Ok(recs) => recs,
            Err(f) if !f.is_answer() => {
                run.error = Some(format!(
                    "DNS lookup of `{name}` {} via {via} failed: {f}",
                    self.rtype
                ));
                return run;
            }
            Err(f) if self.rtype != RecordType::CNAME || want.cname.is_none() => {
                let o = self.outcome(format!("`{name}` has {} records", self.rtype));
                run.outcomes.push(o.fail(
                    format!("{} records", self.rtype),
                    f.to_string(),
                    format!("`{name}` {} via {via}: {f}", self.rtype),
                ));
                return run;
            }
            Err(_) => Vec::new(),
        };
        let answer = Answer::new(self.rtype, records);
        if self.rtype != RecordType::CNAME || want.cname.is_none() {
            run.outcomes.push(self.judge_records(&want, via, &answer));
        }
        if !answer.own.is_empty() {
            run.outcomes
                .extend(self.judge_addresses(&want, via, &answer));
            let at = super::dns_answer::At {
                name,
                via,
                pos: self.pos,
            };
            run.outcomes.extend(want.rules.judge_txt(&at, &answer.own));
            run.outcomes.extend(want.rules.judge_mx(&at, &answer.own));
            if let Some(r) = &self.answer.reachable {
                run.outcomes.push(r.judge(&at, &answer.ips, timeout).await);
            }
        }
        if let Some(target) = &want.cname {
            let targets: Vec<String> = if self.rtype == RecordType::CNAME {
                answer.own.iter().map(|rec| rec.value.clone()).collect()
            } else {
                match client.lookup(name, RecordType::CNAME).await {
                    Ok(recs) => recs
                        .into_iter()
                        .filter(|rec| rec.rtype == "CNAME")
                        .map(|rec| rec.value)
                        .collect(),
                    Err(_) => Vec::new(),
                }
            };
            run.outcomes
                .push(self.judge_cname(name, target, &targets, via, &answer.shown));
        }
        run
    }

    fn outcome(&self, check: String) -> Outcome {
        Outcome::new(OutcomeKind::Dns, check, self.pos)
    }

    /// Every template of the check, rendered and parsed.
    fn render(&self, scope: &Scope) -> Result<Wanted<'_>, String> {
        let r = |t: &Template| t.render(scope).map_err(|e| e.to_string());
        let addrs = self
            .addresses_in
            .iter()
            .map(|a| {
                let a = r(a)?;
                a.trim()
                    .parse::<IpAddr>()
                    .map_err(|_| format!("dns.expect.addresses_in: `{a}` is not an IP address"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let cidrs = self
            .cidr
            .iter()
            .map(|c| Cidr::parse(&r(c)?).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Wanted {
            name: r(&self.name)?,
            server: self.server.as_ref().map(r).transpose()?,
            addrs,
            cidrs,
            cname: self.cname.as_ref().map(r).transpose()?,
            rules: self.answer.render(scope)?,
        })
    }

    /// The name has records of the type asked.
    fn judge_records(&self, want: &Wanted, via: &str, answer: &Answer) -> Outcome {
        let (name, shown) = (&want.name, &answer.shown);
        let mut o = self.outcome(format!("`{name}` has {} records", self.rtype));
        if answer.own.is_empty() {
            return o.fail(
                format!("{} records", self.rtype),
                shown.clone(),
                format!(
                    "`{name}` has no {} records via {via} (answer: {shown})",
                    self.rtype
                ),
            );
        }
        o.actual = Some(shown.clone());
        o
    }

    /// The addresses are in the expected set and ranges.
    fn judge_addresses(&self, want: &Wanted, via: &str, answer: &Answer) -> Vec<Outcome> {
        let name = &want.name;
        let ips = &answer.ips;
        let mut out = Vec::new();
        let mut judge = |what: String, outside: Vec<String>, check: String, how: String| {
            let mut o = self.outcome(check);
            out.push(if outside.is_empty() {
                o.actual = Some(join_ips(ips));
                o
            } else {
                let msg = format!(
                    "`{name}` {} returned {} via {via}; {how}: {}",
                    self.rtype,
                    join_ips(ips),
                    outside.join(", ")
                );
                o.fail(what, join_ips(ips), msg)
            });
        };
        if !want.addrs.is_empty() {
            let set: Vec<String> = want.addrs.iter().map(ToString::to_string).collect();
            let outside = ips
                .iter()
                .filter(|ip| !want.addrs.contains(ip))
                .map(ToString::to_string)
                .collect();
            let check = format!("`{name}` resolves only to {}", set.join(", "));
            let how = format!("not in the expected set ({})", set.join(", "));
            judge(set.join(", "), outside, check, how);
        }
        if !want.cidrs.is_empty() {
            let ranges: Vec<String> = want.cidrs.iter().map(ToString::to_string).collect();
            let outside = ips
                .iter()
                .filter(|ip| !want.cidrs.iter().any(|c| c.contains(**ip)))
                .map(ToString::to_string)
                .collect();
            let check = format!("`{name}` resolves within {}", ranges.join(", "));
            let how = format!("outside {}", ranges.join(", "));
            judge(ranges.join(", "), outside, check, how);
        }
        out
    }

    /// The name is a CNAME to `want`.
    fn judge_cname(
        &self,
        name: &str,
        want: &str,
        targets: &[String],
        via: &str,
        shown: &str,
    ) -> Outcome {
        let norm = |s: &str| s.trim_end_matches('.').to_ascii_lowercase();
        let mut o = self.outcome(format!("`{name}` is a CNAME to `{want}`"));
        if targets.iter().any(|t| norm(t) == norm(want)) {
            o.actual = Some(targets.join(", "));
            o
        } else if targets.is_empty() {
            o.fail(
                want,
                format!("no CNAME; answer: {shown}"),
                format!("`{name}` is not a CNAME via {via} (answer: {shown}), expected a CNAME to `{want}`"),
            )
        } else {
            o.fail(
                want,
                targets.join(", "),
                format!(
                    "`{name}` is a CNAME to `{}` via {via}, expected `{want}`",
                    targets.join("`, `")
                ),
            )
        }
    }
}

/// A DNS check with its templates rendered.
struct Wanted<'a> {
    name: String,
    server: Option<String>,
    addrs: Vec<IpAddr>,
    cidrs: Vec<Cidr>,
    cname: Option<String>,
    rules: super::dns_answer::RenderedRules<'a>,
}

/// What the server answered, with the records of the asked type picked out.
struct Answer {
    own: Vec<DnsRecord>,
    ips: Vec<IpAddr>,
    shown: String,
}

impl Answer {
    fn new(rtype: RecordType, records: Vec<DnsRecord>) -> Self {
        let shown = show(&records);
        let own: Vec<DnsRecord> = records
            .into_iter()
            .filter(|rec| rec.rtype == rtype.to_string())
            .collect();
        let ips = own
            .iter()
            .filter_map(|rec| rec.value.parse().ok())
            .collect();
        Answer { own, ips, shown }
    }
}

fn join_ips(ips: &[IpAddr]) -> String {
    ips.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn show(records: &[DnsRecord]) -> String {
    if records.is_empty() {
        return "no records".into();
    }
    records
        .iter()
        .map(|r| format!("{} {}", r.rtype, r.value))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_contains() {
        let c = Cidr::parse("192.0.2.0/24").unwrap();
        assert!(c.contains("192.0.2.77".parse().unwrap()));
        assert!(!c.contains("192.0.3.1".parse().unwrap()));
        assert!(!c.contains("2001:db8::1".parse().unwrap()));
        let all = Cidr::parse("0.0.0.0/0").unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:1::5".parse().unwrap()));
        assert!(!v6.contains("2001:db9::1".parse().unwrap()));
        let one = Cidr::parse("127.0.0.1").unwrap();
        assert_eq!(one.prefix, 32);
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("nope/8").is_err());
    }
}
