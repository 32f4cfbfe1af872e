//! What a certificate says (subject, issuer, names, validity), read with x509-parser.

use serde::{Deserialize, Serialize};

/// What a certificate says, for reports and expectations.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertInfo {
    /// Subject distinguished name, e.g. `CN=api.example.test`.
    pub subject: String,
    /// Issuer distinguished name.
    pub issuer: String,
    /// DNS names and IP addresses the certificate covers: its subjectAltName entries. The
    /// subject CN is never a name (RFC 6125 §6.4.4; browsers, rustls and Go ignore it).
    pub names: Vec<String>,
    /// Start of validity (`YYYY-MM-DD HH:MM:SS UTC`).
    pub not_before: String,
    /// End of validity (`YYYY-MM-DD HH:MM:SS UTC`).
    pub not_after: String,
    /// Whole days from now until `not_after` (negative once expired).
    pub days_left: i64,
    /// Serial number in upper-case hex, as `openssl x509 -serial` prints it (`1000`).
    #[serde(default)]
    pub serial: String,
    /// SHA-256 fingerprint of the certificate (DER), as `openssl x509 -fingerprint -sha256`
    /// prints it (`AB:CD:…`).
    #[serde(default)]
    pub sha256: String,
    /// The parts of the DNs and the validity as numbers, for expectations.
    #[serde(skip)]
    pub parts: CertParts,
}

/// What expectations read of a certificate besides its text fields.
#[derive(Debug, Clone, Default)]
pub struct CertParts {
    /// Common names (CN) of the subject.
    pub subject_cn: Vec<String>,
    /// Organizations (O) of the subject.
    pub subject_o: Vec<String>,
    /// Common names (CN) of the issuer.
    pub issuer_cn: Vec<String>,
    /// Organizations (O) of the issuer.
    pub issuer_o: Vec<String>,
    /// Start of validity, seconds since the epoch.
    pub not_before: i64,
    /// End of validity, seconds since the epoch.
    pub not_after: i64,
}

impl CertInfo {
    /// Read a DER certificate.
    pub fn parse(der: &[u8]) -> Result<CertInfo, String> {
        use x509_parser::extensions::GeneralName;
        let (_, cert) = x509_parser::parse_x509_certificate(der)
            .map_err(|e| format!("cannot parse the certificate: {e}"))?;
        let mut names = Vec::new();
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            for n in &san.value.general_names {
                match n {
                    GeneralName::DNSName(d) => names.push(d.to_string()),
                    GeneralName::IPAddress(b) => {
                        if let Ok(a) = <[u8; 4]>::try_from(*b) {
                            names.push(std::net::IpAddr::from(a).to_string());
                        } else if let Ok(a) = <[u8; 16]>::try_from(*b) {
                            names.push(std::net::IpAddr::from(a).to_string());
                        }
                    }
                    _ => {}
                }
            }
        }
        let nb = cert.validity().not_before.timestamp();
        let na = cert.validity().not_after.timestamp();
        let now = chrono::Utc::now().timestamp();
        let texts = |it: &mut dyn Iterator<Item = &x509_parser::x509::AttributeTypeAndValue>| {
            it.map(|a| match a.as_str() {
                Ok(s) => s.to_string(),
                Err(_) => String::from_utf8_lossy(a.as_slice()).into_owned(),
            })
            .collect::<Vec<_>>()
        };
        let parts = CertParts {
            subject_cn: texts(&mut cert.subject().iter_common_name()),
            subject_o: texts(&mut cert.subject().iter_organization()),
            issuer_cn: texts(&mut cert.issuer().iter_common_name()),
            issuer_o: texts(&mut cert.issuer().iter_organization()),
            not_before: nb,
            not_after: na,
        };
        Ok(CertInfo {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            names,
            not_before: date(nb),
            not_after: date(na),
            days_left: (na - now).div_euclid(86_400),
            serial: serial_hex(cert.raw_serial()),
            sha256: colon_hex(sha256(der).as_ref()),
            parts,
        })
    }

    /// Why the certificate's names do not cover `host`, in words (`None` when they do).
    pub fn mismatch(&self, host: &str) -> Option<String> {
        if self.covers(host) {
            return None;
        }
        Some(if self.names.is_empty() {
            format!(
                "the certificate has no subjectAltName, so it covers no host name (its subject `{}` is not used to match hosts: RFC 6125, as browsers, rustls and Go do): reissue it with subjectAltName=DNS:{host}",
                self.subject
            )
        } else {
            format!(
                "the certificate does not cover `{host}`; it is valid for: {}",
                self.names.join(", ")
            )
        })
    }

    /// True when a name of the certificate covers `host` (one-label wildcards, IP literals).
    pub fn covers(&self, host: &str) -> bool {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        self.names.iter().any(|n| name_covers(n, &host))
    }
}

fn name_covers(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    if let Some(suffix) = pattern.strip_prefix("*.") {
        match host.split_once('.') {
            Some((label, rest)) => !label.is_empty() && rest == suffix,
            None => false,
        }
    } else {
        pattern == host
    }
}

/// A serial number as `openssl x509 -serial` prints it: upper-case hex, no separators, an
/// even number of digits, without the sign byte DER adds to a positive number.
fn serial_hex(raw: &[u8]) -> String {
    let raw = match raw {
        [0, rest @ ..] if !rest.is_empty() => rest,
        r => r,
    };
    raw.iter().map(|b| format!("{b:02X}")).collect()
}

/// `AB:CD:…`, as openssl prints fingerprints.
pub fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// SHA-256 of `data`, with the hash of the crypto provider rustls uses (no second crypto
/// library in the binary).
fn sha256(data: &[u8]) -> rustls::crypto::hash::Output {
    let suite = rustls::crypto::aws_lc_rs::cipher_suite::TLS13_AES_128_GCM_SHA256;
    match suite.tls13() {
        Some(s) => s.common.hash_provider.hash(data),
        None => unreachable!("TLS13_AES_128_GCM_SHA256 is a TLS 1.3 suite"),
    }
}

fn date(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| ts.to_string())
}

#[cfg(test)]
mod tests {
    use super::name_covers;

    #[test]
    fn wildcards_cover_one_label() {
        assert!(name_covers("*.example.test", "api.example.test"));
        assert!(!name_covers("*.example.test", "a.b.example.test"));
        assert!(!name_covers("*.example.test", "example.test"));
        assert!(name_covers("API.example.test", "api.example.test"));
        assert!(name_covers("127.0.0.1", "127.0.0.1"));
    }
}
