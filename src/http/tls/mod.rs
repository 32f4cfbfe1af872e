//! TLS with rustls: the client configuration of a run (system roots plus `--cacert`,
//! `--insecure`, a client certificate for mTLS), certificate problems explained in words a
//! user can act on, and a handshake probe that reads what a server presents (for TLS
//! expectations).
//!
//! The certificate is always checked against the host name of the URL: SNI and verification
//! use the URL host even when the address came from `--resolve`, `--connect-to` or a fallback.
//!
//! One job per file: this one builds the client configuration; [`cert`] reads certificates,
//! [`verify`] verifies and explains them, [`probe`] reads what a server presents.

mod cert;
mod probe;
mod roots;
mod verify;

pub use cert::{colon_hex, CertInfo, CertParts};
pub use probe::{probe, protocol_name, TlsDetails};
use verify::AcceptAnyCertificate;
pub use verify::{
    describe_tls_error, explain_certificate_error, CertProblem, CertReason, ExplainingVerifier,
};

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::ServerCertVerifier;
use rustls::crypto::CryptoProvider;
use rustls::Error as TlsError;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::client::NetConfig;
use super::error::SetupError;

pub(super) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The certificate roots of a run, loaded once: [`TrustRoots::load`] reads what the first
/// handshake is expected to need ahead of it (so a missing trust store is a configuration
/// error before anything is sent); a run with no https never calls it, and never pays for it.
/// The roots are tried in tiers (`--cacert`, the bundle file, the certificate directories),
/// and a tier not read yet is read by the first handshake that needs it: see `roots`.
#[derive(Debug, Clone, Default)]
pub struct TrustRoots(Option<Arc<ExplainingVerifier>>);

impl TrustRoots {
    /// Read the roots the first handshake is expected to need now, if they are not read yet.
    pub fn load(&self) -> Result<(), SetupError> {
        match &self.0 {
            Some(v) => v.preload().map_err(|e| {
                SetupError::TrustStore(match e {
                    TlsError::General(m) => m,
                    other => other.to_string(),
                })
            }),
            None => Ok(()),
        }
    }
}

/// Build the rustls client configuration of a run. ALPN offers HTTP/2 and HTTP/1.1.
pub fn client_config(net: &NetConfig) -> Result<Arc<ClientConfig>, SetupError> {
    client_config_with_roots(net).map(|(c, _)| c)
}

/// [`client_config`], and the handle that loads its roots.
pub fn client_config_with_roots(
    net: &NetConfig,
) -> Result<(Arc<ClientConfig>, TrustRoots), SetupError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(SetupError::Tls)?;
    let mut roots = TrustRoots::default();
    let verifier: Arc<dyn ServerCertVerifier> = if net.insecure {
        Arc::new(AcceptAnyCertificate { provider })
    } else {
        // `--cacert` is read now, so a bad file is a configuration error before anything is
        // sent; the system trust store is read by `TrustRoots::load` and by the first
        // certificate that needs it, so a run of plain-http checks never pays for it.
        let extra = match &net.cacert {
            Some(path) => read_certs(path, "--cacert")?,
            None => Vec::new(),
        };
        if let Some(path) = &net.cacert {
            let mut roots = RootCertStore::empty();
            for c in &extra {
                roots.add(c.clone()).map_err(|source| SetupError::BadRoot {
                    path: path.clone(),
                    source,
                })?;
            }
        }
        let v = Arc::new(ExplainingVerifier {
            roots: roots::Tiers::new(provider.clone(), extra),
            provider,
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
            let key = PrivateKeyDer::from_pem_file(key_path).map_err(|source| SetupError::Key {
                flag: if key.is_some() { "--key" } else { "--cert" },
                path: key_path.to_path_buf(),
                source,
            })?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(SetupError::ClientAuth)?
        }
        (None, Some(_)) => return Err(SetupError::KeyWithoutCert),
        (None, None) => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok((Arc::new(config), roots))
}

fn read_certs(path: &Path, flag: &'static str) -> Result<Vec<CertificateDer<'static>>, SetupError> {
    let read = |source| SetupError::ReadPem {
        flag,
        path: path.to_path_buf(),
        source,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(read)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(read)?;
    if certs.is_empty() {
        return Err(SetupError::NoCertificate {
            flag,
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}
