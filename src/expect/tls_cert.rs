//! Certificate details of `expect.tls`: subject, issuer, subjectAltName list, serial,
//! SHA-256 fingerprint (pinning, with a list for rotation) and bounds on the validity dates.
//!
//! ```yaml
//! tls:
//!   subject: { cn: api.example.test }
//!   issuer: { o: "Let's Encrypt", cn: { matches: "^R\\d+$" } }
//!   san: { contains: [api.example.test], equals: [api.example.test, www.example.test] }
//!   serial: "04:9f:1c"
//!   fingerprint_sha256: ["AB:CD:…", "12:34:…"]   # current and next certificate
//!   not_after: { after: 2027-01-01 }
//! ```
//!
//! Every failure names what the server presented.

use std::net::IpAddr;

use super::text_rule::TextRule;
use super::{ExpectError, Outcome, OutcomeKind};
use crate::http::tls::colon_hex;
use crate::http::CertInfo;
use crate::interp::{Scope, Template};
use crate::suite::facts::{DateBoundsDef, NameRuleDef, SanRuleDef};
use crate::suite::model::TlsExpectDef;
use crate::suite::Pos;

/// Compiled certificate-detail expectations.
#[derive(Debug, Clone, Default)]
pub struct CertCheck {
    subject: Option<NameRule>,
    issuer: Option<NameRule>,
    san: Option<SanRule>,
    serial: Option<Template>,
    fingerprints: Vec<Template>,
    not_before: Option<DateBounds>,
    not_after: Option<DateBounds>,
}

/// Which distinguished name a [`NameRule`] reads.
#[derive(Debug, Clone, Copy)]
enum Dn {
    Subject,
    Issuer,
}

impl Dn {
    fn key(self) -> &'static str {
        match self {
            Dn::Subject => "subject",
            Dn::Issuer => "issuer",
        }
    }
}

#[derive(Debug, Clone)]
struct NameRule {
    which: Dn,
    dn: Option<TextRule>,
    cn: Option<TextRule>,
    o: Option<TextRule>,
}

#[derive(Debug, Clone, Default)]
struct SanRule {
    contains: Vec<String>,
    equals: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
struct DateBounds {
    before: Option<(i64, String)>,
    after: Option<(i64, String)>,
}

impl CertCheck {
    /// Compile the certificate details of a `tls:` block; `None` when it has none.
    pub fn compile(def: &TlsExpectDef) -> Result<Option<CertCheck>, ExpectError> {
        if def
            .fingerprint_sha256
            .as_ref()
            .is_some_and(|f| f.is_empty_list())
        {
            return Err(ExpectError::EmptyRule {
                field: "tls.fingerprint_sha256",
                expected: "at least one fingerprint",
            });
        }
        let c = CertCheck {
            subject: def
                .subject
                .as_ref()
                .map(|d| NameRule::compile(Dn::Subject, d))
                .transpose()?,
            issuer: def
                .issuer
                .as_ref()
                .map(|d| NameRule::compile(Dn::Issuer, d))
                .transpose()?,
            san: def.san.as_deref().map(SanRule::compile).transpose()?,
            serial: def
                .serial
                .as_deref()
                .map(|s| checked_template("tls.serial", s, normalize_serial))
                .transpose()?,
            fingerprints: def
                .fingerprint_sha256
                .clone()
                .map(|f| f.into_vec())
                .unwrap_or_default()
                .iter()
                .map(|f| checked_template("tls.fingerprint_sha256", f, parse_fingerprint))
                .collect::<Result<_, _>>()?,
            not_before: def
                .not_before
                .as_ref()
                .map(|b| DateBounds::compile("tls.not_before", b))
                .transpose()?,
            not_after: def
                .not_after
                .as_ref()
                .map(|b| DateBounds::compile("tls.not_after", b))
                .transpose()?,
        };
        let empty = c.subject.is_none()
            && c.issuer.is_none()
            && c.san.is_none()
            && c.serial.is_none()
            && c.fingerprints.is_empty()
            && c.not_before.is_none()
            && c.not_after.is_none();
        Ok((!empty).then_some(c))
    }

    /// Every template of the rules.
    pub fn templates(&self) -> Vec<&Template> {
        let mut out = Vec::new();
        for n in self.subject.iter().chain(self.issuer.iter()) {
            for r in [&n.dn, &n.cn, &n.o].into_iter().flatten() {
                out.extend(r.templates());
            }
        }
        out.extend(self.serial.iter().chain(self.fingerprints.iter()));
        out
    }

    /// Judge the certificate the server presented for `host`.
    pub fn evaluate(
        &self,
        cert: &CertInfo,
        host: &str,
        scope: &Scope,
        pos: Option<Pos>,
    ) -> Vec<Outcome> {
        let mut out = Vec::new();
        for n in self.subject.iter().chain(self.issuer.iter()) {
            out.extend(n.evaluate(cert, host, scope, pos));
        }
        if let Some(s) = &self.san {
            out.extend(s.evaluate(cert, host, pos));
        }
        let rendered = |t: &Template, field: &str| {
            t.render(scope).map_err(|e| {
                let o = Outcome::new(OutcomeKind::Tls, format!("certificate {field}"), pos);
                o.fail(
                    "a value to compare",
                    e.to_string(),
                    format!("tls.{field}: {e}"),
                )
            })
        };
        let serial = self.serial.as_ref().map(|t| {
            rendered(t, "serial").and_then(|s| {
                normalize_serial(&s).map_err(|e| {
                    let o = Outcome::new(OutcomeKind::Tls, "certificate serial", pos);
                    o.fail("a serial number", s.clone(), e.to_string())
                })
            })
        });
        let pins = self
            .fingerprints
            .iter()
            .map(|t| {
                rendered(t, "fingerprint_sha256").and_then(|s| {
                    parse_fingerprint(&s).map_err(|e| {
                        let o =
                            Outcome::new(OutcomeKind::Tls, "certificate SHA-256 fingerprint", pos);
                        o.fail("a SHA-256 fingerprint", s.clone(), e.to_string())
                    })
                })
            })
            .collect::<Result<Vec<_>, _>>();
        match serial {
            Some(Err(o)) => out.push(o),
            Some(Ok(want)) => out.push(serial_outcome(cert, host, &want, pos)),
            None => {}
        }
        match pins {
            Err(o) => out.push(o),
            Ok(pins) if !pins.is_empty() => out.push(pin(&pins, cert, host, pos)),
            Ok(_) => {}
        }
        if let Some(b) = &self.not_before {
            out.extend(b.evaluate(
                "not_before",
                cert.parts.not_before,
                &cert.not_before,
                host,
                pos,
            ));
        }
        if let Some(b) = &self.not_after {
            out.extend(b.evaluate(
                "not_after",
                cert.parts.not_after,
                &cert.not_after,
                host,
                pos,
            ));
        }
        out
    }
}

/// The leaf's SHA-256 fingerprint is one of the pinned ones.
fn pin(fingerprints: &[[u8; 32]], cert: &CertInfo, host: &str, pos: Option<Pos>) -> Outcome {
    let pins: Vec<String> = fingerprints.iter().map(|f| colon_hex(f)).collect();
    let check = if pins.len() == 1 {
        format!("certificate SHA-256 fingerprint is {}", pins[0])
    } else {
        format!(
            "certificate SHA-256 fingerprint is one of {} pinned",
            pins.len()
        )
    };
    let o = Outcome::new(OutcomeKind::Tls, check, pos);
    let got = parse_fingerprint(&cert.sha256).ok();
    if got.is_some_and(|g| fingerprints.contains(&g)) {
        o.seen(&cert.sha256)
    } else {
        o.fail(
                pins.join(" or "),
                cert.sha256.clone(),
                format!(
                    "certificate pinning failed: the certificate for `{host}` (subject `{}`, issuer `{}`, serial {}) has SHA-256 fingerprint {}, which is not {}",
                    cert.subject,
                    cert.issuer,
                    cert.serial,
                    cert.sha256,
                    if pins.len() == 1 { "the pinned one".to_string() } else { format!("one of the {} pinned", pins.len()) }
                ),
            )
    }
}

/// The certificate's serial is `want` (normalized).
fn serial_outcome(cert: &CertInfo, host: &str, want: &str, pos: Option<Pos>) -> Outcome {
    let o = Outcome::new(
        OutcomeKind::Tls,
        format!("certificate serial is {want}"),
        pos,
    );
    let got = normalize_serial(&cert.serial).unwrap_or_default();
    if got == want {
        o.seen(&cert.serial)
    } else {
        o.fail(
            want,
            cert.serial.clone(),
            format!(
                "the certificate for `{host}` has serial {}, expected {want}",
                cert.serial
            ),
        )
    }
}

/// A template; when it is literal, `check` must accept it now.
fn checked_template<T>(
    field: &str,
    s: &str,
    check: impl Fn(&str) -> Result<T, ExpectError>,
) -> Result<Template, ExpectError> {
    let t = Template::parse(s).map_err(|source| ExpectError::Template {
        field: field.to_string(),
        source,
    })?;
    if let Some(lit) = t.as_literal() {
        check(&lit)?;
    }
    Ok(t)
}

impl NameRule {
    fn compile(which: Dn, def: &NameRuleDef) -> Result<NameRule, ExpectError> {
        let key = which.key();
        let field = |f: &str| format!("tls.{key}{f}");
        match def {
            NameRuleDef::Equals(s) => Ok(NameRule {
                which,
                dn: TextRule::from_parts(&field(""), Some(s), None, None)?,
                cn: None,
                o: None,
            }),
            NameRuleDef::Rule(p) => {
                let r = NameRule {
                    which,
                    dn: TextRule::from_parts(
                        &field(""),
                        p.equals.as_deref(),
                        p.contains.as_deref(),
                        p.matches.as_deref(),
                    )?,
                    cn: p
                        .cn
                        .as_ref()
                        .map(|d| TextRule::compile(&field(".cn"), d))
                        .transpose()?,
                    o: p.o
                        .as_ref()
                        .map(|d| TextRule::compile(&field(".o"), d))
                        .transpose()?,
                };
                if r.dn.is_none() && r.cn.is_none() && r.o.is_none() {
                    return Err(ExpectError::EmptyRule {
                        field: match which {
                            Dn::Subject => "tls.subject",
                            Dn::Issuer => "tls.issuer",
                        },
                        expected: "equals, contains, matches, cn or o",
                    });
                }
                Ok(r)
            }
        }
    }

    fn evaluate(
        &self,
        cert: &CertInfo,
        host: &str,
        scope: &Scope,
        pos: Option<Pos>,
    ) -> Vec<Outcome> {
        let key = self.which.key();
        let (dn, cns, os) = match self.which {
            Dn::Subject => (&cert.subject, &cert.parts.subject_cn, &cert.parts.subject_o),
            Dn::Issuer => (&cert.issuer, &cert.parts.issuer_cn, &cert.parts.issuer_o),
        };
        let mut out = Vec::new();
        let parts: [(&str, &Option<TextRule>, Vec<String>); 3] = [
            ("", &self.dn, vec![dn.clone()]),
            (" CN", &self.cn, cns.clone()),
            (" O", &self.o, os.clone()),
        ];
        for (part, rule, values) in parts {
            let Some(rule) = rule else { continue };
            let r = match rule.render(scope) {
                // The DN text is compared with spaces around `=` and `,` ignored, so that
                // openssl's `C = US, O = Example` reads as `C=US, O=Example`.
                Ok(r) if part.is_empty() => r.map_texts(normalize_dn),
                Ok(r) => r,
                Err(e) => {
                    let o = Outcome::new(OutcomeKind::Tls, format!("certificate {key}{part}"), pos);
                    out.push(o.fail(
                        "a value to compare",
                        e.clone(),
                        format!(
                            "tls.{key}{}: {e}",
                            part.to_ascii_lowercase().replace(' ', ".")
                        ),
                    ));
                    continue;
                }
            };
            let o = Outcome::new(
                OutcomeKind::Tls,
                format!("certificate {key}{part} {}", r.describe()),
                pos,
            );
            let shown = if values.is_empty() {
                format!("no{part}")
            } else {
                values.join(", ")
            };
            let held = if part.is_empty() {
                r.holds(&normalize_dn(dn)) || r.holds(dn)
            } else {
                values.iter().any(|v| r.holds(v))
            };
            out.push(if held {
                o.seen(&shown)
            } else {
                let what = if part.is_empty() {
                    format!("{key} `{dn}`")
                } else if values.is_empty() {
                    format!("no{part} in its {key} `{dn}`")
                } else {
                    format!("{key}{part} `{}` ({key} `{dn}`)", values.join("`, `"))
                };
                o.fail(
                    r.describe(),
                    shown,
                    format!(
                        "the certificate for `{host}` has {what}; expected {key}{part} {}",
                        r.describe()
                    ),
                )
            });
        }
        out
    }
}

/// A DN with single spacing: `C = US,O = Example` → `C=US, O=Example`.
fn normalize_dn(dn: &str) -> String {
    dn.split(',')
        .map(|rdn| match rdn.split_once('=') {
            Some((k, v)) => format!("{}={}", k.trim(), v.trim()),
            None => rdn.trim().to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Compare host names as DNS does (case and a trailing dot ignored), addresses as addresses.
fn san_key(name: &str) -> String {
    let n = name.trim().trim_end_matches('.');
    match n
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        Ok(ip) => ip.to_string(),
        Err(_) => n.to_ascii_lowercase(),
    }
}

impl SanRule {
    fn compile(def: &SanRuleDef) -> Result<SanRule, ExpectError> {
        let r = SanRule {
            contains: def
                .contains
                .clone()
                .map(|c| c.into_vec())
                .unwrap_or_default(),
            equals: def.equals.clone(),
        };
        if r.contains.is_empty() && r.equals.is_none() {
            return Err(ExpectError::EmptyRule {
                field: "tls.san",
                expected: "contains or equals",
            });
        }
        Ok(r)
    }

    fn evaluate(&self, cert: &CertInfo, host: &str, pos: Option<Pos>) -> Vec<Outcome> {
        let have: Vec<String> = cert.names.iter().map(|n| san_key(n)).collect();
        let shown = if cert.names.is_empty() {
            "no subjectAltName".to_string()
        } else {
            cert.names.join(", ")
        };
        let mut out = Vec::new();
        if !self.contains.is_empty() {
            let o = Outcome::new(
                OutcomeKind::Tls,
                format!("certificate SAN contains {}", self.contains.join(", ")),
                pos,
            );
            let missing: Vec<&str> = self
                .contains
                .iter()
                .filter(|w| !have.contains(&san_key(w)))
                .map(String::as_str)
                .collect();
            out.push(if missing.is_empty() {
                o.seen(&shown)
            } else {
                o.fail(
                    self.contains.join(", "),
                    shown.clone(),
                    format!(
                        "the certificate for `{host}` lacks SAN {}; its SAN: {shown}",
                        missing.join(", ")
                    ),
                )
            });
        }
        if let Some(want) = &self.equals {
            let o = Outcome::new(
                OutcomeKind::Tls,
                format!("certificate SAN is exactly {}", want.join(", ")),
                pos,
            );
            let want_keys: Vec<String> = want.iter().map(|w| san_key(w)).collect();
            let missing: Vec<&str> = want
                .iter()
                .zip(&want_keys)
                .filter(|(_, k)| !have.contains(k))
                .map(|(w, _)| w.as_str())
                .collect();
            let extra: Vec<&str> = cert
                .names
                .iter()
                .zip(&have)
                .filter(|(_, k)| !want_keys.contains(k))
                .map(|(n, _)| n.as_str())
                .collect();
            out.push(if missing.is_empty() && extra.is_empty() {
                o.seen(&shown)
            } else {
                let mut why = Vec::new();
                if !missing.is_empty() {
                    why.push(format!("missing {}", missing.join(", ")));
                }
                if !extra.is_empty() {
                    why.push(format!("unexpected {}", extra.join(", ")));
                }
                o.fail(
                    want.join(", "),
                    shown.clone(),
                    format!(
                        "the certificate for `{host}` has SAN {shown}; {}",
                        why.join("; ")
                    ),
                )
            });
        }
        out
    }
}

impl DateBounds {
    fn compile(field: &str, def: &DateBoundsDef) -> Result<DateBounds, ExpectError> {
        let parse = |key: &str, v: &Option<String>| {
            v.as_deref()
                .map(|s| {
                    parse_date(s)
                        .map(|ts| (ts, s.trim().to_string()))
                        .ok_or_else(|| ExpectError::CertDate {
                            field: format!("{field}.{key}"),
                            value: s.to_string(),
                        })
                })
                .transpose()
        };
        let b = DateBounds {
            before: parse("before", &def.before)?,
            after: parse("after", &def.after)?,
        };
        if b.before.is_none() && b.after.is_none() {
            return Err(ExpectError::EmptyRule {
                field: if field.ends_with("before") {
                    "tls.not_before"
                } else {
                    "tls.not_after"
                },
                expected: "before or after",
            });
        }
        Ok(b)
    }

    fn evaluate(
        &self,
        key: &str,
        ts: i64,
        shown: &str,
        host: &str,
        pos: Option<Pos>,
    ) -> Vec<Outcome> {
        let mut out = Vec::new();
        let mut judge = |word: &str, bound: &(i64, String), ok: bool| {
            let o = Outcome::new(
                OutcomeKind::Tls,
                format!("certificate {key} {word} {}", bound.1),
                pos,
            );
            out.push(if ok {
                o.seen(shown)
            } else {
                o.fail(
                    format!("{word} {}", bound.1),
                    shown.to_string(),
                    format!(
                        "the certificate for `{host}` has {key} {shown}, expected {word} {}",
                        bound.1
                    ),
                )
            });
        };
        if let Some(b) = &self.before {
            judge("before", b, ts < b.0);
        }
        if let Some(a) = &self.after {
            judge("after", a, ts > a.0);
        }
        out
    }
}

/// `YYYY-MM-DD` (midnight UTC) or an RFC 3339 date-time, as seconds since the epoch.
fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(d.timestamp());
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc().timestamp())
}

/// Hex digits of a serial: case, colons, spaces, a `0x` prefix and leading zeros ignored.
fn normalize_serial(s: &str) -> Result<String, ExpectError> {
    let t = s.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    let digits: String = t
        .chars()
        .filter(|c| !matches!(c, ':' | ' ' | '-'))
        .collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(ExpectError::Serial(s.to_string()));
    }
    let trimmed = digits.trim_start_matches('0');
    Ok(if trimmed.is_empty() {
        "0".to_string()
    } else {
        trimmed.to_ascii_uppercase()
    })
}

/// 32 bytes from `AB:CD:…` or plain hex (case ignored; an `sha256:`/`SHA256 Fingerprint=`
/// prefix as tools print it is accepted).
fn parse_fingerprint(s: &str) -> Result<[u8; 32], ExpectError> {
    let bad = || ExpectError::Fingerprint(s.to_string());
    let t = s.trim();
    let t = t.rsplit_once('=').map_or(t, |(_, v)| v);
    let t = t
        .strip_prefix("sha256:")
        .or_else(|| t.strip_prefix("SHA256:"))
        .unwrap_or(t);
    let hex: Vec<u8> = t.bytes().filter(|b| !matches!(b, b':' | b' ')).collect();
    if hex.len() != 64 {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, pair) in hex.chunks(2).enumerate() {
        let text = std::str::from_utf8(pair).map_err(|_| bad())?;
        out[i] = u8::from_str_radix(text, 16).map_err(|_| bad())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_ignore_case_colons_and_leading_zeros() {
        assert_eq!(normalize_serial("10:00").unwrap(), "1000");
        assert_eq!(normalize_serial("0x00ab").unwrap(), "AB");
        assert_eq!(normalize_serial("0A:1b").unwrap(), "A1B");
        assert!(normalize_serial("xyz").is_err());
        assert!(normalize_serial("").is_err());
    }

    #[test]
    fn fingerprints_accept_colons_and_plain_hex() {
        let plain = "ab".repeat(32);
        let colons = vec!["AB"; 32].join(":");
        assert_eq!(
            parse_fingerprint(&plain).unwrap(),
            parse_fingerprint(&colons).unwrap()
        );
        let openssl = format!("sha256 Fingerprint={colons}");
        assert_eq!(parse_fingerprint(&openssl).unwrap(), [0xab; 32]);
        assert!(parse_fingerprint("ab:cd").is_err());
        assert!(parse_fingerprint(&"zz".repeat(32)).is_err());
    }

    #[test]
    fn dates_are_days_or_rfc3339() {
        assert_eq!(parse_date("1970-01-02"), Some(86_400));
        assert_eq!(parse_date("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_date("tomorrow"), None);
    }

    #[test]
    fn dns_are_compared_with_single_spacing() {
        assert_eq!(
            normalize_dn("C = US, O = Let's Encrypt,CN = R11"),
            "C=US, O=Let's Encrypt, CN=R11"
        );
        assert_eq!(normalize_dn("CN=tminus.test"), "CN=tminus.test");
    }

    #[test]
    fn san_names_compare_as_dns_and_addresses() {
        assert_eq!(san_key("API.Example.test."), "api.example.test");
        assert_eq!(san_key("[::1]"), "::1");
        assert_eq!(san_key("0:0:0:0:0:0:0:1"), "::1");
    }
}
