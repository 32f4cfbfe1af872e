//! A received response, as the runner and the expectations see it: status, headers, the
//! whole (bounded) body, timing, the address reached and, when asked for, TLS facts.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

use super::TlsDetails;

/// What the runner observed about TLS for one exchange.
#[derive(Debug, Clone)]
pub struct TlsObservation {
    /// The URL host (SNI and the name the certificate is checked against).
    pub host: String,
    /// The handshake details, or why there are none (plain http, handshake failed).
    pub result: Result<TlsDetails, String>,
}

/// The body of an encoded response (`Content-Encoding`) as it came over the wire.
#[derive(Debug, Clone)]
pub struct WireBody {
    /// The content codings, in the order the server applied them (e.g. `["gzip"]`).
    pub codings: Vec<String>,
    /// The encoded bytes, when smokegate decoded them (the decoded ones are the body); `None`
    /// when decoding was off (`decompress: false`): the body holds the wire bytes.
    pub bytes: Option<Vec<u8>>,
}

/// A received response, as expectations see it.
#[derive(Debug)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// HTTP version, e.g. `HTTP/1.1` or `HTTP/2.0`.
    pub http_version: String,
    /// Headers of the response.
    pub headers: reqwest::header::HeaderMap,
    /// The whole body (at most `--max-body` bytes), decoded from its `Content-Encoding` unless
    /// the request turned decoding off.
    pub body: Vec<u8>,
    /// Time from sending the request to the end of the body, redirects included.
    pub elapsed: Duration,
    /// Address of the connection the response came over, when known.
    pub remote: Option<SocketAddr>,
    /// TLS facts, when a step's TLS expectations asked the runner to observe a handshake.
    pub tls: Option<TlsObservation>,
    /// The proxy the final request went through (then `remote` is the proxy's address).
    pub proxy: Option<String>,
    /// The body as it came over the wire, when a `Content-Encoding` was sent.
    pub wire: Option<WireBody>,
    /// The redirects followed before this response.
    pub hops: Vec<super::client::Hop>,
    /// The URL this response answered (after redirects), when known.
    pub final_url: Option<reqwest::Url>,
    /// Every `Set-Cookie` received during the exchange, hops included, in order.
    pub set_cookies: Vec<super::cookies::SeenCookie>,
    json: OnceLock<Result<Value, String>>,
}

impl Response {
    /// Wrap a received response.
    pub fn new(
        status: u16,
        http_version: String,
        headers: reqwest::header::HeaderMap,
        body: Vec<u8>,
        elapsed: Duration,
        remote: Option<SocketAddr>,
    ) -> Self {
        Response {
            status,
            http_version,
            headers,
            body,
            elapsed,
            remote,
            tls: None,
            proxy: None,
            wire: None,
            hops: Vec::new(),
            final_url: None,
            set_cookies: Vec::new(),
            json: OnceLock::new(),
        }
    }

    /// The body parsed as JSON (parsed at most once), or why it is not JSON.
    pub fn json(&self) -> Result<&Value, &str> {
        self.json
            .get_or_init(|| {
                if self.body.is_empty() {
                    return Err("body is empty, expected JSON".to_string());
                }
                serde_json::from_slice(&self.body)
                    .map_err(|e| format!("body is not valid JSON: {e}"))
            })
            .as_ref()
            .map_err(String::as_str)
    }

    /// The bytes that came over the wire (the body itself when it was not encoded or not
    /// decoded).
    pub fn wire_body(&self) -> &[u8] {
        match &self.wire {
            Some(WireBody { bytes: Some(b), .. }) => b,
            _ => &self.body,
        }
    }

    /// Whether the body was decoded from a content coding.
    pub fn decoded(&self) -> bool {
        self.wire.as_ref().is_some_and(|w| w.bytes.is_some())
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }
}
