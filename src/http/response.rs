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

/// A received response, as expectations see it.
#[derive(Debug)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// HTTP version, e.g. `HTTP/1.1` or `HTTP/2.0`.
    pub http_version: String,
    /// Headers of the response.
    pub headers: reqwest::header::HeaderMap,
    /// The whole body (at most `--max-body` bytes).
    pub body: Vec<u8>,
    /// Time from sending the request to the end of the body, redirects included.
    pub elapsed: Duration,
    /// Address of the connection the response came over, when known.
    pub remote: Option<SocketAddr>,
    /// TLS facts, when a step's TLS expectations asked the runner to observe a handshake.
    pub tls: Option<TlsObservation>,
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

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }
}
