//! What the records of a DNS answer must say: TXT values (SPF, domain verification), MX
//! preference and exchange, and whether every returned address accepts a TCP connection.
//!
//! ```yaml
//! - name: SPF and verification published, mail routed, every edge address alive
//!   dns:
//!     name: example.test
//!     type: TXT
//!     expect:
//!       txt: [{ matches: "^v=spf1 .*-all$" }, "example-verification=abc123"]
//! - name: mail exchangers
//!   dns: { name: example.test, type: MX, expect: { mx: { exchange: mx1.example.test, preference: 10 } } }
//! - name: every edge address answers on 443
//!   dns: { name: api.example.test, expect: { reachable: { port: 443, timeout: 2s } } }
//! ```

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use hickory_proto::rr::RecordType;

use super::text_rule::{Rendered, TextRule};
use super::{ExpectError, Outcome, OutcomeKind};
use crate::http::DnsRecord;
use crate::interp::{Scope, Template};
use crate::suite::facts::{MxRuleDef, OneOrList, ReachableDef, TextRuleDef};
use crate::suite::Pos;

/// Most addresses one `reachable` check connects to (an answer is rarely longer).
pub const MAX_REACHABLE: usize = 64;

/// The record rules of a DNS check, compiled.
#[derive(Debug, Clone, Default)]
pub struct AnswerRules {
    /// Each rule is met by one TXT record.
    pub txt: Vec<TextRule>,
    /// Each rule is met by one MX record.
    pub mx: Vec<MxRule>,
    /// Every address accepts a TCP connection.
    pub reachable: Option<Reachable>,
}

/// An MX record the answer must have.
#[derive(Debug, Clone)]
pub struct MxRule {
    exchange: Option<Template>,
    preference: Option<u16>,
}

/// Every address accepts a TCP connection on `port` within `timeout`.
#[derive(Debug, Clone, Copy)]
pub struct Reachable {
    /// The TCP port.
    pub port: u16,
    /// How long each connection may take (`None`: the run's budget).
    pub timeout: Option<Duration>,
}

fn need(
    key: &'static str,
    need: &'static str,
    rtype: RecordType,
    ok: bool,
) -> Result<(), ExpectError> {
    if ok {
        Ok(())
    } else {
        Err(ExpectError::DnsRuleType {
            key,
            need,
            got: rtype.to_string(),
        })
    }
}

impl AnswerRules {
    /// Compile `txt`, `mx` and `reachable`, each checked against the record type asked.
    pub fn compile(
        rtype: RecordType,
        txt: Option<&OneOrList<TextRuleDef>>,
        mx: Option<&OneOrList<MxRuleDef>>,
        reachable: Option<&ReachableDef>,
    ) -> Result<AnswerRules, ExpectError> {
        let mut rules = AnswerRules::default();
        let empty = |field: &'static str, expected: &'static str| ExpectError::EmptyRule {
            field,
            expected,
        };
        if txt.is_some_and(OneOrList::is_empty_list) {
            return Err(empty("dns.expect.txt", "at least one rule"));
        }
        if mx.is_some_and(OneOrList::is_empty_list) {
            return Err(empty("dns.expect.mx", "at least one rule"));
        }
        if let Some(t) = txt {
            need("txt", "TXT", rtype, rtype == RecordType::TXT)?;
            for d in t.clone().into_vec() {
                rules.txt.push(TextRule::compile("dns.expect.txt", &d)?);
            }
        }
        if let Some(m) = mx {
            need("mx", "MX", rtype, rtype == RecordType::MX)?;
            for d in m.clone().into_vec() {
                if d.exchange.is_none() && d.preference.is_none() {
                    return Err(ExpectError::EmptyRule {
                        field: "dns.expect.mx",
                        expected: "exchange or preference",
                    });
                }
                let exchange = d
                    .exchange
                    .as_deref()
                    .map(|e| {
                        Template::parse(e).map_err(|source| ExpectError::Template {
                            field: "dns.expect.mx.exchange".into(),
                            source,
                        })
                    })
                    .transpose()?;
                rules.mx.push(MxRule {
                    exchange,
                    preference: d.preference,
                });
            }
        }
        if let Some(r) = reachable {
            need(
                "reachable",
                "A or AAAA",
                rtype,
                matches!(rtype, RecordType::A | RecordType::AAAA),
            )?;
            if r.port == 0 {
                return Err(ExpectError::PortZero("dns.expect.reachable.port"));
            }
            rules.reachable = Some(Reachable {
                port: r.port,
                timeout: r.timeout.map(|d| d.0),
            });
        }
        Ok(rules)
    }

    /// Every template of the rules.
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        self.txt
            .iter()
            .flat_map(|t| t.templates())
            .chain(self.mx.iter().filter_map(|m| m.exchange.as_ref()))
    }

    /// Render the templates of the rules.
    pub fn render(&self, scope: &Scope) -> Result<RenderedRules<'_>, String> {
        Ok(RenderedRules {
            txt: self
                .txt
                .iter()
                .map(|t| t.render(scope))
                .collect::<Result<_, _>>()
                .map_err(|e| format!("dns.expect.txt: {e}"))?,
            mx: self
                .mx
                .iter()
                .map(|m| {
                    Ok((
                        m.exchange
                            .as_ref()
                            .map(|e| e.render(scope))
                            .transpose()
                            .map_err(|e| format!("dns.expect.mx.exchange: {e}"))?,
                        m.preference,
                    ))
                })
                .collect::<Result<_, String>>()?,
        })
    }
}

/// The rules with their templates rendered.
pub struct RenderedRules<'a> {
    txt: Vec<Rendered<'a>>,
    mx: Vec<(Option<String>, Option<u16>)>,
}

/// Where a judgement happens, for outcomes and messages.
pub struct At<'a> {
    /// The name asked.
    pub name: &'a str,
    /// The servers asked.
    pub via: &'a str,
    /// Where the check is written.
    pub pos: Option<Pos>,
}

impl At<'_> {
    fn outcome(&self, check: String) -> Outcome {
        Outcome::new(OutcomeKind::Dns, check, self.pos)
    }
}

fn quoted(records: &[&DnsRecord]) -> String {
    records
        .iter()
        .map(|r| format!("\"{}\"", r.value))
        .collect::<Vec<_>>()
        .join(", ")
}

impl RenderedRules<'_> {
    /// Each TXT rule is met by one of the TXT records.
    pub fn judge_txt(&self, at: &At<'_>, own: &[DnsRecord]) -> Vec<Outcome> {
        let txt: Vec<&DnsRecord> = own.iter().filter(|r| r.rtype == "TXT").collect();
        let all = if txt.is_empty() {
            "none".to_string()
        } else {
            quoted(&txt)
        };
        self.txt
            .iter()
            .map(|rule| {
                let o = at.outcome(format!(
                    "`{}` has a TXT record that {}",
                    at.name,
                    rule.describe()
                ));
                match txt.iter().find(|r| rule.holds(&r.value)) {
                    Some(r) => o.seen(format!("\"{}\"", r.value)),
                    None => o.fail(
                        format!("a TXT record that {}", rule.describe()),
                        all.clone(),
                        format!(
                            "`{}` has no TXT record that {} via {}; its TXT records: {all}",
                            at.name,
                            rule.describe(),
                            at.via
                        ),
                    ),
                }
            })
            .collect()
    }

    /// Each MX rule is met by one of the MX records.
    pub fn judge_mx(&self, at: &At<'_>, own: &[DnsRecord]) -> Vec<Outcome> {
        let norm = |s: &str| s.trim_end_matches('.').to_ascii_lowercase();
        let mx: Vec<(&DnsRecord, &crate::http::Mx)> = own
            .iter()
            .filter_map(|r| r.mx.as_ref().map(|m| (r, m)))
            .collect();
        let all = if mx.is_empty() {
            "none".to_string()
        } else {
            mx.iter()
                .map(|(_, m)| format!("{} {}", m.preference, m.exchange))
                .collect::<Vec<_>>()
                .join(", ")
        };
        self.mx
            .iter()
            .map(|(exchange, preference)| {
                let mut want = Vec::new();
                if let Some(e) = exchange {
                    want.push(format!("exchange `{e}`"));
                }
                if let Some(p) = preference {
                    want.push(format!("preference {p}"));
                }
                let want = want.join(" and ");
                let o = at.outcome(format!("`{}` has an MX record with {want}", at.name));
                let found = mx.iter().find(|(_, m)| {
                    exchange
                        .as_deref()
                        .is_none_or(|e| norm(e) == norm(&m.exchange))
                        && preference.is_none_or(|p| p == m.preference)
                });
                match found {
                    Some((_, m)) => o.seen(format!("{} {}", m.preference, m.exchange)),
                    None => o.fail(
                        format!("an MX record with {want}"),
                        all.clone(),
                        format!(
                            "`{}` has no MX record with {want} via {}; its MX records: {all}",
                            at.name, at.via
                        ),
                    ),
                }
            })
            .collect()
    }
}

/// How one connection attempt went.
struct Attempt {
    addr: SocketAddr,
    result: Result<Duration, String>,
}

impl Reachable {
    /// Connect to every address on the port, all at once, each within the timeout
    /// (`default` when the check sets none); the outcome names every dead address.
    pub async fn judge(&self, at: &At<'_>, ips: &[IpAddr], default: Duration) -> Outcome {
        let timeout = self.timeout.unwrap_or(default);
        let port = self.port;
        let mut unique: Vec<IpAddr> = Vec::new();
        for ip in ips {
            if !unique.contains(ip) {
                unique.push(*ip);
            }
        }
        let skipped = unique.len().saturating_sub(MAX_REACHABLE);
        unique.truncate(MAX_REACHABLE);
        let o = at.outcome(format!(
            "every address of `{}` accepts TCP connections on port {port}",
            at.name
        ));
        if unique.is_empty() {
            return o.fail(
                format!("addresses reachable on port {port}"),
                "no addresses",
                format!(
                    "`{}` returned no addresses via {} to connect to",
                    at.name, at.via
                ),
            );
        }
        let mut tasks = tokio::task::JoinSet::new();
        for (i, ip) in unique.iter().enumerate() {
            let addr = SocketAddr::new(*ip, port);
            tasks.spawn(async move {
                let start = Instant::now();
                let result =
                    match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr)).await
                    {
                        Ok(Ok(_)) => Ok(start.elapsed()),
                        Ok(Err(e)) => Err(connect_error(&e)),
                        Err(_) => Err(format!("no connection within {} ms", timeout.as_millis())),
                    };
                (i, Attempt { addr, result })
            });
        }
        let mut attempts: Vec<Option<Attempt>> = (0..unique.len()).map(|_| None).collect();
        while let Some(done) = tasks.join_next().await {
            if let Ok((i, a)) = done {
                attempts[i] = Some(a);
            }
        }
        let attempts: Vec<Attempt> = attempts.into_iter().flatten().collect();
        let shown = attempts
            .iter()
            .map(|a| match &a.result {
                Ok(d) => format!("{} connected in {} ms", a.addr, d.as_millis()),
                Err(e) => format!("{} {e}", a.addr),
            })
            .collect::<Vec<_>>()
            .join("; ");
        let shown = if skipped > 0 {
            format!("{shown} (and {skipped} more addresses not tried)")
        } else {
            shown
        };
        let dead: Vec<&Attempt> = attempts.iter().filter(|a| a.result.is_err()).collect();
        if dead.is_empty() && attempts.len() == unique.len() {
            return o.seen(shown);
        }
        let names = dead
            .iter()
            .map(|a| {
                format!(
                    "{} ({})",
                    a.addr,
                    a.result.as_ref().err().map_or("", String::as_str)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        o.fail(
            format!("all {} addresses reachable on port {port}", unique.len()),
            shown,
            format!(
                "{} of {} addresses of `{}` (via {}) {} not reachable on port {port}: {names}",
                dead.len(),
                unique.len(),
                at.name,
                at.via,
                if dead.len() == 1 { "is" } else { "are" }
            ),
        )
    }
}

fn connect_error(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
        _ => e.to_string(),
    }
}
