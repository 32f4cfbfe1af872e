//! TLS for the sample deployment and for tests: a throw-away certificate authority minted
//! with rcgen, certificates for fake host names (valid, expired, for the wrong host, client
//! certificates), and an HTTPS server on loopback (rustls, HTTP/1.1 and HTTP/2 via ALPN).
//!
//! Nothing is written to disk unless asked ([`Issued::write_to`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{self, RootCertStore, ServerConfig};
use tokio_rustls::TlsAcceptor;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// When a certificate is valid, relative to now.
#[derive(Debug, Clone, Copy)]
pub enum Validity {
    /// From yesterday until `n` days from now.
    Days(i64),
    /// Ended `n` days ago (started a year before that).
    ExpiredDaysAgo(i64),
}

/// A certificate and its private key.
#[derive(Debug, Clone)]
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
    pub cert_der: CertificateDer<'static>,
    key_der: Vec<u8>,
}

impl Issued {
    /// The private key (PKCS#8).
    pub fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()))
    }

    /// Write `<stem>.crt` and `<stem>.key` (PEM) into `dir`; returns both paths.
    pub fn write_to(&self, dir: &Path, stem: &str) -> std::io::Result<(PathBuf, PathBuf)> {
        let cert = dir.join(format!("{stem}.crt"));
        let key = dir.join(format!("{stem}.key"));
        std::fs::write(&cert, &self.cert_pem)?;
        std::fs::write(&key, &self.key_pem)?;
        Ok((cert, key))
    }
}

/// A certificate authority that exists only in memory.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

impl TestCa {
    /// A new CA whose subject common name is `name`.
    pub fn new(name: &str) -> Result<TestCa, String> {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(2);
        params.not_after = now + time::Duration::days(3650);
        let key = KeyPair::generate().map_err(err)?;
        let issuer = CertifiedIssuer::self_signed(params, key).map_err(err)?;
        Ok(TestCa { issuer })
    }

    /// The CA certificate (PEM), for `--cacert`.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// The CA certificate (DER).
    pub fn der(&self) -> CertificateDer<'static> {
        self.issuer.der().clone()
    }

    fn sign(&self, mut params: CertificateParams, validity: Validity) -> Result<Issued, String> {
        let now = time::OffsetDateTime::now_utc();
        let (from, to) = match validity {
            Validity::Days(n) => (now - time::Duration::days(1), now + time::Duration::days(n)),
            Validity::ExpiredDaysAgo(n) => (
                now - time::Duration::days(n + 365),
                now - time::Duration::days(n),
            ),
        };
        params.not_before = from;
        params.not_after = to;
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().map_err(err)?;
        let cert = params.signed_by(&key, &self.issuer).map_err(err)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_der: cert.der().clone(),
            key_der: key.serialize_der(),
        })
    }

    /// A server certificate for these names (DNS names or IP addresses).
    pub fn issue(&self, names: &[&str], validity: Validity) -> Result<Issued, String> {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let mut params = CertificateParams::new(names.clone()).map_err(err)?;
        if let Some(first) = names.first() {
            params.distinguished_name.push(DnType::CommonName, first);
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.sign(params, validity)
    }

    /// A client certificate (for mTLS) with this common name.
    pub fn issue_client(&self, common_name: &str) -> Result<Issued, String> {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.sign(params, Validity::Days(30))
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A rustls server configuration presenting `leaf` (followed by `chain`), offering HTTP/2
/// and HTTP/1.1. With `client_ca`, a client certificate signed by it is required (mTLS).
pub fn server_config(
    leaf: &Issued,
    chain: &[CertificateDer<'static>],
    client_ca: Option<&TestCa>,
) -> Result<Arc<ServerConfig>, String> {
    let builder = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(err)?;
    let builder = match client_ca {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            roots.add(ca.der()).map_err(err)?;
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .map_err(err)?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut certs = vec![leaf.cert_der.clone()];
    certs.extend(chain.iter().cloned());
    let mut config = builder
        .with_single_cert(certs, leaf.key_der())
        .map_err(err)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serve `router` over HTTPS on `bind` (e.g. `127.0.0.1:0` or `[::1]:0`) in a background
/// task. Handshakes are bounded to 10 s; a failed handshake only drops that connection.
pub async fn serve_tls(
    router: Router,
    config: Arc<ServerConfig>,
    bind: SocketAddr,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let acceptor = TlsAcceptor::from(config);
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                // E.g. out of file descriptors: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let acceptor = acceptor.clone();
            let router = router.clone();
            tokio::spawn(async move {
                let Ok(Ok(tls)) =
                    tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await
                else {
                    return;
                };
                let service = TowerToHyperService::new(router);
                let _ = Builder::new(TokioExecutor::new())
                    .serve_connection_with_upgrades(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    Ok((addr, task))
}

/// Serve, over HTTPS on `bind`, a handler that answers every request with 200 and
/// `{"ok": true, "host": <Host header, else the request authority>, "host_header": <the Host
/// header or null>, "authority": <the request authority (HTTP/2 `:authority`) or null>}` —
/// for tests of certificates, SNI and `Host`.
pub async fn serve_tls_echo(
    config: Arc<ServerConfig>,
    bind: SocketAddr,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    use axum::http::{header, HeaderMap, StatusCode, Uri};
    let router = Router::new().fallback(|headers: HeaderMap, uri: Uri| async move {
        // Over HTTP/2 the authority usually travels as `:authority`, not `Host`.
        let host_header = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let authority = uri.authority().map(|a| a.to_string());
        let host = host_header
            .clone()
            .or(authority.clone())
            .unwrap_or_default();
        crate::http::json(
            StatusCode::OK,
            serde_json::json!({
                "ok": true, "host": host, "host_header": host_header, "authority": authority
            }),
        )
    });
    serve_tls(router, config, bind).await
}
