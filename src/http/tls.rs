//! TLS with rustls: the client configuration of a run (system roots plus `--cacert`,
//! `--insecure`, a client certificate for mTLS), certificate problems explained in words a
//! user can act on, and a handshake probe that reads what a server presents (for TLS
//! expectations).
//!
//! The certificate is always checked against the host name of the URL: SNI and verification
//! use the URL host even when the address came from `--resolve`, `--connect-to` or a fallback.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::{CertificateError, DigitallySignedStruct, Error as TlsError, OtherError};
use rustls::{ClientConfig, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use serde::{Deserialize, Serialize};

use super::client::NetConfig;
use super::error::{HttpError, HttpErrorKind};

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The certificate roots of a run, loaded once: [`TrustRoots::load`] reads them ahead of the
/// first handshake (so a missing trust store is a configuration error before anything is
/// sent, and the reading never happens inside a handshake); a run with no https never
/// calls it, and never pays for it.
#[derive(Debug, Clone, Default)]
pub struct TrustRoots(Option<Arc<ExplainingVerifier>>);

impl TrustRoots {
    /// Read the system roots (and `--cacert`) now, if they are not read yet.
    pub fn load(&self) -> Result<(), String> {
        match &self.0 {
            Some(v) => v.inner().map(|_| ()).map_err(|e| match e {
                TlsError::General(m) => m,
                other => other.to_string(),
            }),
            None => Ok(()),
        }
    }
}

/// Build the rustls client configuration of a run. ALPN offers HTTP/2 and HTTP/1.1.
pub fn client_config(net: &NetConfig) -> Result<Arc<ClientConfig>, String> {
    client_config_with_roots(net).map(|(c, _)| c)
}

/// [`client_config`], and the handle that loads its roots.
pub fn client_config_with_roots(
    net: &NetConfig,
) -> Result<(Arc<ClientConfig>, TrustRoots), String> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?;
    let mut roots = TrustRoots::default();
    let verifier: Arc<dyn ServerCertVerifier> = if net.insecure {
        Arc::new(AcceptAnyCertificate { provider })
    } else {
        // `--cacert` is read now, so a bad file is a configuration error before anything is
        // sent; the system trust store is read by `TrustRoots::load` (or, failing that, at the
        // first certificate to verify), so a run of plain-http checks never pays for it.
        let extra = match &net.cacert {
            Some(path) => read_certs(path, "--cacert")?,
            None => Vec::new(),
        };
        if let Some(path) = &net.cacert {
            let mut roots = RootCertStore::empty();
            for c in &extra {
                roots
                    .add(c.clone())
                    .map_err(|e| format!("--cacert {}: {e}", path.display()))?;
            }
        }
        let v = Arc::new(ExplainingVerifier {
            provider,
            extra,
            inner: std::sync::OnceLock::new(),
        });
        roots = TrustRoots(Some(v.clone()));
        v
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match (&net.client_cert, &net.client_key) {
        (Some(cert), key) => {
            let certs = read_certs(cert, "--cert")?;
            let key_path = key.as_deref().unwrap_or(cert.as_path());
            let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| {
                format!(
                    "cannot read a private key from {} ({}): {e}",
                    key_path.display(),
                    if key.is_some() { "--key" } else { "--cert" }
                )
            })?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| format!("--cert/--key cannot be used: {e}"))?
        }
        (None, Some(_)) => return Err("--key needs --cert".into()),
        (None, None) => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok((Arc::new(config), roots))
}

fn read_certs(path: &Path, flag: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("cannot read {flag} {}: {e}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{flag} {} is not a PEM file: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{flag} {} holds no PEM certificate",
            path.display()
        ));
    }
    Ok(certs)
}

/// What a certificate says, for reports and expectations.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    /// DNS names and IP addresses the certificate covers (SAN; the CN when there is no SAN).
    pub names: Vec<String>,
    pub not_before: String,
    pub not_after: String,
    /// Whole days from now until `not_after` (negative once expired).
    pub days_left: i64,
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
        if names.is_empty() {
            if let Some(cn) = cert
                .subject()
                .iter_common_name()
                .next()
                .and_then(|c| c.as_str().ok())
            {
                names.push(cn.to_string());
            }
        }
        let nb = cert.validity().not_before.timestamp();
        let na = cert.validity().not_after.timestamp();
        let now = chrono::Utc::now().timestamp();
        Ok(CertInfo {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            names,
            not_before: date(nb),
            not_after: date(na),
            days_left: (na - now).div_euclid(86_400),
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

fn date(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| ts.to_string())
}

/// Why a certificate was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertReason {
    UnknownIssuer,
    Expired,
    NotYetValid,
    HostnameMismatch,
    Revoked,
    Invalid,
}

/// A rejected certificate, explained. Travels inside the rustls error, so the transport error
/// of a request can name the reason.
#[derive(Debug, Clone)]
pub struct CertProblem {
    pub reason: CertReason,
    pub message: String,
}

impl std::fmt::Display for CertProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CertProblem {}

/// Turn a rustls verification error into a [`CertProblem`] naming the reason.
pub fn explain_certificate_error(
    err: &CertificateError,
    end_entity: &[u8],
    server_name: &str,
) -> CertProblem {
    let info = CertInfo::parse(end_entity).ok();
    let names = info
        .as_ref()
        .map(|i| {
            if i.names.is_empty() {
                "no names".to_string()
            } else {
                i.names.join(", ")
            }
        })
        .unwrap_or_else(|| "(unreadable)".into());
    let (reason, message) = match err {
        CertificateError::UnknownIssuer => (
            CertReason::UnknownIssuer,
            format!(
                "certificate for `{server_name}` was issued by an unknown authority ({}): not signed by a trusted CA — add the CA with --cacert FILE, or make the server send its full chain",
                info.as_ref().map(|i| format!("issuer: {}", i.issuer)).unwrap_or_else(|| "issuer unreadable".into())
            ),
        ),
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => (
            CertReason::Expired,
            match &info {
                Some(i) => format!(
                    "certificate for `{server_name}` expired on {} ({} days ago)",
                    i.not_after, -i.days_left
                ),
                None => format!("certificate for `{server_name}` has expired"),
            },
        ),
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => (
            CertReason::NotYetValid,
            match &info {
                Some(i) => format!(
                    "certificate for `{server_name}` is not valid before {} (check the server's and this machine's clocks)",
                    i.not_before
                ),
                None => format!("certificate for `{server_name}` is not valid yet"),
            },
        ),
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => (
            CertReason::HostnameMismatch,
            format!(
                "hostname mismatch: the certificate does not cover `{server_name}`; it is valid for: {names}"
            ),
        ),
        CertificateError::Revoked => (
            CertReason::Revoked,
            format!("certificate for `{server_name}` has been revoked"),
        ),
        other => (
            CertReason::Invalid,
            format!("certificate for `{server_name}` is invalid: {other:?}"),
        ),
    };
    CertProblem { reason, message }
}

/// The webpki verifier over the system roots plus `--cacert`, with its errors explained.
/// The roots are loaded at the first certificate to verify.
#[derive(Debug)]
pub struct ExplainingVerifier {
    provider: Arc<CryptoProvider>,
    /// `--cacert` certificates.
    extra: Vec<CertificateDer<'static>>,
    inner: std::sync::OnceLock<Result<Arc<WebPkiServerVerifier>, String>>,
}

impl ExplainingVerifier {
    fn inner(&self) -> Result<&Arc<WebPkiServerVerifier>, TlsError> {
        self.inner
            .get_or_init(|| {
                let mut roots = RootCertStore::empty();
                // Missing or unreadable system roots are not fatal: --cacert may be all
                // that is needed.
                let native = rustls_native_certs::load_native_certs();
                roots.add_parsable_certificates(native.certs);
                for c in &self.extra {
                    roots.add(c.clone()).map_err(|e| format!("--cacert: {e}"))?;
                }
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                    .build()
                    .map_err(|e| format!("cannot set up certificate verification: {e}"))
            })
            .as_ref()
            .map_err(|e| TlsError::General(e.clone()))
    }
}

impl ServerCertVerifier for ExplainingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        self.inner()?
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map_err(|e| match e {
                TlsError::InvalidCertificate(ce) => {
                    let name = server_name.to_str();
                    let problem = explain_certificate_error(&ce, end_entity, &name);
                    TlsError::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(
                        problem,
                    ))))
                }
                other => other,
            })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// `--insecure`: any certificate is accepted (handshake signatures are still checked).
#[derive(Debug)]
struct AcceptAnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Describe a rustls error in words a user can act on.
pub fn describe_tls_error(e: &TlsError) -> String {
    use rustls::AlertDescription as A;
    match e {
        TlsError::InvalidCertificate(CertificateError::Other(OtherError(inner))) => {
            match inner.downcast_ref::<CertProblem>() {
                Some(p) => p.message.clone(),
                None => format!("invalid certificate: {inner}"),
            }
        }
        TlsError::AlertReceived(A::CertificateRequired) => {
            "the server requires a client certificate (mTLS): pass --cert FILE and --key FILE"
                .into()
        }
        TlsError::AlertReceived(
            a @ (A::BadCertificate | A::UnknownCA | A::CertificateUnknown | A::AccessDenied),
        ) => format!(
            "the server rejected the handshake (alert: {a:?}); if it requires a client certificate (mTLS), pass one it trusts with --cert/--key"
        ),
        TlsError::AlertReceived(A::HandshakeFailure | A::ProtocolVersion) => format!(
            "the server refused the handshake ({e}): no TLS version or cipher in common"
        ),
        TlsError::NoApplicationProtocol => {
            "the server accepts none of the offered protocols (ALPN h2, http/1.1)".into()
        }
        other => format!("TLS error: {other}"),
    }
}

/// What a TLS handshake negotiated and what the server presented.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsDetails {
    /// `TLSv1.2` or `TLSv1.3`.
    pub protocol: String,
    /// Protocol chosen by ALPN (`h2`, `http/1.1`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpn: Option<String>,
    pub cipher: String,
    /// The server (leaf) certificate.
    pub certificate: CertInfo,
    /// The address the probe connected to.
    pub address: String,
}

/// `TLSv1.3` for a rustls version.
pub fn protocol_name(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".into(),
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".into(),
        other => format!("{other:?}"),
    }
}

/// How long [`probe`] waits, after the handshake, for a late rejection by the server.
const ACCEPTANCE_WAIT: Duration = Duration::from_secs(2);

/// Connect to `addr`, complete a handshake for `host` (SNI and verification), and report
/// what was negotiated. `timeout` bounds the TCP connect and the handshake.
///
/// With `await_acceptance`, the probe also waits briefly for the server's first bytes: in
/// TLS 1.3 a server checks the client certificate only after the client has finished its
/// side of the handshake, so a rejection (e.g. "certificate required") arrives as an alert
/// on the first read.
pub async fn probe(
    config: Arc<ClientConfig>,
    addr: SocketAddr,
    host: &str,
    timeout: Duration,
    await_acceptance: bool,
) -> Result<TlsDetails, HttpError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let name = ServerName::try_from(bare.to_string()).map_err(|_| {
        HttpError::new(
            HttpErrorKind::InvalidRequest,
            format!("`{host}` is not a valid TLS server name"),
        )
    })?;
    let ms = timeout.as_millis();
    let tcp = match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            return Err(HttpError::new(
                HttpErrorKind::Connect,
                format!("cannot connect to {addr}: {e}"),
            ))
        }
        Err(_) => {
            return Err(HttpError::new(
                HttpErrorKind::Timeout,
                format!("no TCP connection to {addr} within {ms} ms"),
            ))
        }
    };
    let connector = tokio_rustls::TlsConnector::from(config);
    let mut stream = match tokio::time::timeout(timeout, connector.connect(name, tcp)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            let msg = match e.get_ref().and_then(|i| i.downcast_ref::<TlsError>()) {
                Some(t) => describe_tls_error(t),
                None => format!("TLS handshake with `{bare}` at {addr} failed: {e}"),
            };
            return Err(HttpError::new(HttpErrorKind::Tls, msg));
        }
        Err(_) => {
            return Err(HttpError::new(
                HttpErrorKind::Tls,
                format!(
                    "handshake timeout: the TLS handshake with `{bare}` at {addr} did not complete within {ms} ms"
                ),
            ))
        }
    };
    if await_acceptance {
        use tokio::io::AsyncReadExt;
        let mut byte = [0u8; 1];
        if let Ok(Err(e)) = tokio::time::timeout(ACCEPTANCE_WAIT, stream.read(&mut byte)).await {
            if let Some(t) = e.get_ref().and_then(|i| i.downcast_ref::<TlsError>()) {
                return Err(HttpError::new(HttpErrorKind::Tls, describe_tls_error(t)));
            }
        }
    }
    let (_, conn) = stream.get_ref();
    let leaf = conn
        .peer_certificates()
        .and_then(|c| c.first())
        .ok_or_else(|| HttpError::new(HttpErrorKind::Tls, "the server sent no certificate"))?;
    let certificate =
        CertInfo::parse(leaf.as_ref()).map_err(|e| HttpError::new(HttpErrorKind::Tls, e))?;
    Ok(TlsDetails {
        protocol: conn
            .protocol_version()
            .map(protocol_name)
            .unwrap_or_else(|| "unknown".into()),
        alpn: conn
            .alpn_protocol()
            .map(|a| String::from_utf8_lossy(a).into_owned()),
        cipher: conn
            .negotiated_cipher_suite()
            .map(|c| format!("{:?}", c.suite()))
            .unwrap_or_default(),
        certificate,
        address: addr.to_string(),
    })
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
