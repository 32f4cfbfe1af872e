//! TLS expectations: what the server's certificate and the negotiated connection must look
//! like (`expect: tls: {min_days_valid, covers_host, protocol, http_version}`).
//!
//! The runner completes a separate handshake with the same address and host name (see
//! [`crate::http::HttpClient::tls_probe`]) and attaches what it saw to the response.

use super::{ExpectError, Outcome, OutcomeKind, Response};
use crate::interp::Scope;
use crate::suite::model::TlsExpectDef;
use crate::suite::Pos;

pub use crate::http::TlsObservation;

/// Compiled TLS expectations.
#[derive(Debug, Clone, Default)]
pub struct TlsCheck {
    /// The server certificate stays valid for at least this many more days.
    pub min_days_valid: Option<i64>,
    /// `true`: the certificate's names cover the URL host; `false`: they must not.
    pub covers_host: Option<bool>,
    /// `TLSv1.2` or `TLSv1.3`.
    pub protocol: Option<String>,
    /// `HTTP/1.1` or `HTTP/2`.
    pub http_version: Option<String>,
    /// Certificate details: subject, issuer, SAN, serial, fingerprint, validity bounds.
    pub cert: Option<Box<super::tls_cert::CertCheck>>,
    /// Where the `tls:` block is written (outcomes name this line).
    pub pos: Option<Pos>,
}

fn normalize_protocol(s: &str) -> Option<String> {
    let t = s.trim().to_ascii_lowercase().replace([' ', '_'], "");
    let v = t
        .strip_prefix("tlsv")
        .or_else(|| t.strip_prefix("tls"))
        .unwrap_or(&t);
    match v {
        "1.2" => Some("TLSv1.2".into()),
        "1.3" => Some("TLSv1.3".into()),
        _ => None,
    }
}

pub(crate) fn normalize_http(s: &str) -> Option<String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "http/2" | "http/2.0" | "h2" | "2" => Some("HTTP/2".into()),
        "http/1.1" | "1.1" => Some("HTTP/1.1".into()),
        "http/1.0" | "1.0" => Some("HTTP/1.0".into()),
        _ => None,
    }
}

impl TlsCheck {
    /// Compile a `tls:` block.
    pub fn compile(def: &TlsExpectDef) -> Result<TlsCheck, ExpectError> {
        let protocol = def
            .protocol
            .as_deref()
            .map(|p| normalize_protocol(p).ok_or_else(|| ExpectError::TlsProtocol(p.to_string())))
            .transpose()?;
        let http_version = def
            .http_version
            .as_deref()
            .map(|v| normalize_http(v).ok_or_else(|| ExpectError::HttpVersion(v.to_string())))
            .transpose()?;
        Ok(TlsCheck {
            min_days_valid: def.min_days_valid.map(i64::from),
            covers_host: def.covers_host,
            protocol,
            http_version,
            cert: super::tls_cert::CertCheck::compile(def)?.map(Box::new),
            pos: None,
        })
    }

    /// Judge the TLS facts of a response (`scope` renders the templates of the rules).
    pub fn evaluate(&self, resp: &Response, scope: &Scope, pos: Option<Pos>) -> Vec<Outcome> {
        let pos = self.pos.or(pos);
        let mut out = Vec::new();
        if let Some(want) = &self.http_version {
            let got = normalize_http(&resp.http_version).unwrap_or(resp.http_version.clone());
            let o = Outcome::new(OutcomeKind::Tls, format!("HTTP version is {want}"), pos);
            out.push(if &got == want {
                o.seen(got)
            } else {
                let msg = format!(
                    "negotiated {got}, expected {want}{}",
                    if want == "HTTP/2" {
                        " (the server did not select h2 via ALPN)"
                    } else {
                        ""
                    }
                );
                o.fail(want.clone(), got, msg)
            });
        }
        if !self.needs_handshake() {
            return out;
        }
        let details = match resp.tls.as_ref().map(|t| (&t.host, &t.result)) {
            Some((_, Ok(d))) => d,
            Some((_, Err(why))) => {
                let o = Outcome::new(OutcomeKind::Tls, "TLS handshake details", pos);
                out.push(o.fail(
                    "a TLS handshake",
                    why.clone(),
                    format!("TLS expectations cannot be checked: {why}"),
                ));
                return out;
            }
            None => {
                let o = Outcome::new(OutcomeKind::Tls, "TLS handshake details", pos);
                out.push(o.fail(
                    "a TLS handshake",
                    "none",
                    "TLS expectations cannot be checked: no handshake was observed".into(),
                ));
                return out;
            }
        };
        let host = resp.tls.as_ref().map(|t| t.host.as_str()).unwrap_or("");
        let cert = &details.certificate;
        if let Some(min) = self.min_days_valid {
            out.push(days_valid(cert, host, min, pos));
        }
        if let Some(want) = self.covers_host {
            out.push(covers_host(cert, host, want, pos));
        }
        if let Some(want) = &self.protocol {
            let o = Outcome::new(OutcomeKind::Tls, format!("TLS protocol is {want}"), pos);
            out.push(if &details.protocol == want {
                o
            } else {
                o.fail(
                    want.clone(),
                    details.protocol.clone(),
                    format!("negotiated {}, expected {want}", details.protocol),
                )
            });
        }
        if let Some(c) = &self.cert {
            out.extend(c.evaluate(cert, host, scope, pos));
        }
        out
    }

    /// True when a handshake must be observed to judge these expectations.
    pub fn needs_handshake(&self) -> bool {
        self.min_days_valid.is_some()
            || self.covers_host.is_some()
            || self.protocol.is_some()
            || self.cert.is_some()
    }

    /// Every template of the expectations.
    pub fn templates(&self) -> Vec<&crate::interp::Template> {
        self.cert
            .as_ref()
            .map(|c| c.templates())
            .unwrap_or_default()
    }
}

/// The certificate is valid for at least `min` more days.
fn days_valid(cert: &crate::http::CertInfo, host: &str, min: i64, pos: Option<Pos>) -> Outcome {
    let o = Outcome::new(
        OutcomeKind::Tls,
        format!("certificate valid for ≥ {min} days"),
        pos,
    );
    if cert.days_left >= min {
        o
    } else if cert.days_left < 0 {
        o.fail(
            format!("≥ {min} days"),
            format!("expired on {}", cert.not_after),
            format!(
                "certificate for `{host}` expired on {} ({} days ago)",
                cert.not_after, -cert.days_left
            ),
        )
    } else {
        o.fail(
            format!("≥ {min} days"),
            format!("{} days (until {})", cert.days_left, cert.not_after),
            format!(
                "certificate for `{host}` expires in {} days (on {}), expected at least {min}",
                cert.days_left, cert.not_after
            ),
        )
    }
}

/// The certificate covers (or, with `want` false, does not cover) `host`.
fn covers_host(cert: &crate::http::CertInfo, host: &str, want: bool, pos: Option<Pos>) -> Outcome {
    let covered = cert.covers(host);
    let o = Outcome::new(
        OutcomeKind::Tls,
        format!(
            "certificate {} `{host}`",
            if want { "covers" } else { "does not cover" }
        ),
        pos,
    );
    if covered == want {
        o
    } else {
        let names = cert.names.join(", ");
        o.fail(
            if want {
                host.to_string()
            } else {
                format!("not {host}")
            },
            if names.is_empty() {
                "no names (no subjectAltName)".into()
            } else {
                names.clone()
            },
            if want {
                format!(
                    "hostname mismatch: {}",
                    cert.mismatch(host).unwrap_or_default()
                )
            } else {
                format!("the certificate covers `{host}` ({names}), expected it not to")
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_normalized() {
        assert_eq!(normalize_protocol("TLSv1.3").as_deref(), Some("TLSv1.3"));
        assert_eq!(normalize_protocol("tls 1.2").as_deref(), Some("TLSv1.2"));
        assert_eq!(normalize_protocol("SSLv3"), None);
        assert_eq!(normalize_http("HTTP/2.0").as_deref(), Some("HTTP/2"));
        assert_eq!(normalize_http("h2").as_deref(), Some("HTTP/2"));
        assert_eq!(normalize_http("HTTP/1.1").as_deref(), Some("HTTP/1.1"));
    }
}
