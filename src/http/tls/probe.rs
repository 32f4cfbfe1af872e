//! The handshake probe: connect, complete a handshake for the URL host, and report what was
//! negotiated and presented (for TLS expectations and for naming a rejection).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;
use rustls::Error as TlsError;
use rustls_pki_types::ServerName;
use serde::{Deserialize, Serialize};

use super::cert::CertInfo;
use super::verify::describe_tls_error;
use crate::http::error::{HttpError, HttpErrorKind};

/// What a TLS handshake negotiated and what the server presented.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsDetails {
    /// `TLSv1.2` or `TLSv1.3`.
    pub protocol: String,
    /// Protocol chosen by ALPN (`h2`, `http/1.1`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpn: Option<String>,
    /// Negotiated cipher suite, e.g. `TLS13_AES_128_GCM_SHA256` (empty when unknown).
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
