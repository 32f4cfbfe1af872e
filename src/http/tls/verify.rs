//! Certificate verification over the system roots plus `--cacert` (or none with
//! `--insecure`), with every rejection explained in words a user can act on.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::SignatureScheme;
use rustls::{CertificateError, DigitallySignedStruct, Error as TlsError, OtherError};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use serde::Serialize;

use super::cert::CertInfo;
use super::roots::Tiers;

/// Why a certificate was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertReason {
    /// Not signed by an authority the run trusts (system roots, `--cacert`).
    UnknownIssuer,
    /// Past its `not_after` date.
    Expired,
    /// Before its `not_before` date.
    NotYetValid,
    /// Its names do not cover the host of the URL.
    HostnameMismatch,
    /// The certificate has been revoked.
    Revoked,
    /// Any other reason the verifier gave.
    Invalid,
}

/// A rejected certificate, explained. Travels inside the rustls error, so the transport error
/// of a request can name the reason.
#[derive(Debug, Clone)]
pub struct CertProblem {
    /// The reason, as a class.
    pub reason: CertReason,
    /// What is wrong and what to do, in words.
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
                "hostname mismatch: {}",
                info.as_ref()
                    .and_then(|i| i.mismatch(server_name))
                    .unwrap_or_else(|| format!("the certificate does not cover `{server_name}`"))
            ),
        ),
        CertificateError::Other(OtherError(inner))
            if matches!(
                inner.downcast_ref::<webpki::Error>(),
                Some(webpki::Error::CaUsedAsEndEntity)
            ) =>
        (
            CertReason::UnknownIssuer,
            format!(
                "certificate for `{server_name}` is a CA certificate (basic constraints CA:TRUE, as `openssl req -x509` makes a self-signed one) that no trusted authority signed: if you trust this self-signed certificate, pass it with --cacert FILE"
            ),
        ),
        CertificateError::Revoked => (
            CertReason::Revoked,
            format!("certificate for `{server_name}` has been revoked"),
        ),
        CertificateError::Other(OtherError(inner)) => (
            CertReason::Invalid,
            format!("certificate for `{server_name}` is invalid: {}", words(&**inner)),
        ),
        other => (
            CertReason::Invalid,
            format!("certificate for `{server_name}` is invalid: {other}"),
        ),
    };
    CertProblem { reason, message }
}

/// A verifier's error in words (webpki's own are variant names).
fn words(e: &(dyn std::error::Error + Send + Sync + 'static)) -> String {
    use webpki::Error as W;
    match e.downcast_ref::<W>() {
        Some(W::EndEntityUsedAsCa) => "a server certificate is used as a CA in the chain".into(),
        Some(
            W::UnsupportedSignatureAlgorithmContext(_)
            | W::UnsupportedSignatureAlgorithmForPublicKeyContext(_),
        ) => "it is signed with an algorithm that is not supported (e.g. SHA-1 or MD5)".into(),
        Some(W::ExtensionValueInvalid | W::BadDer | W::BadDerTime) => {
            "it is malformed (invalid DER encoding or extension)".into()
        }
        Some(W::PathLenConstraintViolated) => "the chain breaks a path length constraint".into(),
        Some(W::RequiredEkuNotFoundContext(_)) => {
            "it is not valid for TLS server authentication (extended key usage)".into()
        }
        Some(W::MaximumPathDepthExceeded | W::MaximumPathBuildCallsExceeded) => {
            "the chain is too long".into()
        }
        Some(other) => format!("{other} (webpki)"),
        None => e.to_string(),
    }
}

/// The handshake-signature checks of a verifier, done by its `provider`'s algorithms (the
/// same for the explaining verifier and for `--insecure`, which still checks signatures).
macro_rules! handshake_signatures_by_provider {
    () => {
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
    };
}

/// The webpki verifier over the system roots plus `--cacert`, with its errors explained.
/// The roots are read in tiers, at the first certificate that needs them ([`Tiers`]).
#[derive(Debug)]
pub struct ExplainingVerifier {
    pub(super) provider: Arc<CryptoProvider>,
    pub(super) roots: Tiers,
}

impl ExplainingVerifier {
    /// Read the roots the first handshake is expected to need (see [`Tiers::preload`]).
    pub(super) fn preload(&self) -> Result<(), TlsError> {
        self.roots.preload()
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
        let verified = self.roots.verify(|v| {
            v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        });
        // A certificate given itself with --cacert (a self-signed one, CA flag and all) is
        // trusted as itself, as curl and OpenSSL do: its dates and names are still checked.
        let verified = match verified {
            Err(_)
                if self
                    .roots
                    .extra
                    .iter()
                    .any(|c| c.as_ref() == end_entity.as_ref()) =>
            {
                trusted_as_itself(end_entity, &server_name.to_str(), now)
            }
            other => other,
        };
        verified.map_err(|e| match e {
            TlsError::InvalidCertificate(ce) => {
                let name = server_name.to_str();
                let problem = explain_certificate_error(&ce, end_entity, &name);
                TlsError::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(problem))))
            }
            other => other,
        })
    }

    handshake_signatures_by_provider!();
}

/// Verify a certificate the user trusts as itself: within its dates, covering the name.
fn trusted_as_itself(
    der: &CertificateDer<'_>,
    server_name: &str,
    now: UnixTime,
) -> Result<ServerCertVerified, TlsError> {
    let bad = |e: CertificateError| Err(TlsError::InvalidCertificate(e));
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der.as_ref()) else {
        return bad(CertificateError::BadEncoding);
    };
    let now_s = now.as_secs() as i64;
    if now_s > cert.validity().not_after.timestamp() {
        return bad(CertificateError::Expired);
    }
    if now_s < cert.validity().not_before.timestamp() {
        return bad(CertificateError::NotValidYet);
    }
    match CertInfo::parse(der.as_ref()) {
        Ok(info) if info.covers(server_name) => Ok(ServerCertVerified::assertion()),
        _ => bad(CertificateError::NotValidForName),
    }
}

/// `--insecure`: any certificate is accepted (handshake signatures are still checked).
#[derive(Debug)]
pub(super) struct AcceptAnyCertificate {
    pub(super) provider: Arc<CryptoProvider>,
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

    handshake_signatures_by_provider!();
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
