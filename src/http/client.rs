//! The shared HTTP client of a run and one request/response exchange.
//!
//! Redirects are followed here, not by reqwest, so the policy is ours: off unless a step asks,
//! bounded, loops detected, and credentials (`Authorization`, `Cookie`) dropped when a
//! redirect leaves the original host. Bodies are read in chunks up to a limit, so a hostile
//! server cannot exhaust memory.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};

use super::error::{HttpError, HttpErrorKind};
use super::resolve::{Resolution, ResolveRule, SmartResolver};
use crate::expect::Response;

/// Network settings of a run.
#[derive(Debug, Clone)]
pub struct NetConfig {
    pub resolve: Vec<ResolveRule>,
    pub fallback_resolve: Vec<ResolveRule>,
    pub connect_timeout: Duration,
    pub default_timeout: Duration,
    pub max_body_bytes: usize,
    pub insecure: bool,
    pub cacert: Option<PathBuf>,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            resolve: Vec::new(),
            fallback_resolve: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            default_timeout: Duration::from_secs(30),
            max_body_bytes: 4 * 1024 * 1024,
            insecure: false,
            cacert: None,
        }
    }
}

/// A request ready to send (all templates rendered).
#[derive(Debug, Clone)]
pub struct Prepared {
    pub method: Method,
    pub url: Url,
    pub headers: Vec<(String, String)>,
    pub body: Option<(Vec<u8>, Option<&'static str>)>,
    pub timeout: Duration,
    /// Maximum redirects to follow; 0 = do not follow.
    pub max_redirects: u32,
}

/// What one exchange produced besides the response.
#[derive(Debug, Clone, Default)]
pub struct Sent {
    /// The URL finally requested (after redirects).
    pub final_url: Option<Url>,
    pub redirects: Vec<String>,
    pub remote: Option<SocketAddr>,
    pub resolution: Option<Resolution>,
}

/// The one client of a run: connection pool, resolver and TLS settings are shared.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    resolver: SmartResolver,
    config: Arc<NetConfig>,
}

impl HttpClient {
    /// Build the client.
    pub fn new(config: NetConfig) -> Result<Self, String> {
        let resolver = SmartResolver::new(config.resolve.clone(), config.fallback_resolve.clone());
        let mut b = reqwest::Client::builder()
            .user_agent(concat!("smokegate/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(config.connect_timeout)
            .pool_max_idle_per_host(64)
            .pool_idle_timeout(Duration::from_secs(30))
            .tcp_nodelay(true)
            .dns_resolver(Arc::new(resolver.clone()))
            .danger_accept_invalid_certs(config.insecure);
        if let Some(path) = &config.cacert {
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read --cacert {}: {e}", path.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("--cacert {} is not a PEM bundle: {e}", path.display()))?;
            for c in certs {
                b = b.add_root_certificate(c);
            }
        }
        let client = b
            .build()
            .map_err(|e| format!("cannot build HTTP client: {e}"))?;
        Ok(HttpClient {
            client,
            resolver,
            config: Arc::new(config),
        })
    }

    /// Network settings.
    pub fn config(&self) -> &NetConfig {
        &self.config
    }

    /// Send one request (following redirects if asked) and read the whole body.
    pub async fn send(&self, req: &Prepared, sent: &mut Sent) -> Result<Response, HttpError> {
        let timeout = req.timeout;
        match tokio::time::timeout(timeout, self.exchange(req, sent)).await {
            Ok(r) => r,
            Err(_) => Err(HttpError::new(
                HttpErrorKind::Timeout,
                format!("no complete response within {} ms", timeout.as_millis()),
            )),
        }
    }

    async fn exchange(&self, req: &Prepared, sent: &mut Sent) -> Result<Response, HttpError> {
        let start = Instant::now();
        let mut url = req.url.clone();
        let mut method = req.method.clone();
        let mut body = req.body.clone();
        let mut headers = build_headers(&req.headers)?;
        let origin = (
            url.host_str().map(str::to_string),
            url.port_or_known_default(),
        );
        let mut seen = vec![url.to_string()];
        loop {
            let mut rb = self
                .client
                .request(method.clone(), url.clone())
                .headers(headers.clone());
            if let Some((bytes, ctype)) = &body {
                if let Some(ct) = ctype {
                    if !headers.contains_key(reqwest::header::CONTENT_TYPE) {
                        rb = rb.header(reqwest::header::CONTENT_TYPE, *ct);
                    }
                }
                rb = rb.body(bytes.clone());
            }
            let timeout_ms = req.timeout.as_millis();
            sent.final_url = Some(url.clone());
            let result = rb.send().await;
            if let Some(host) = url.host_str() {
                sent.resolution = self.resolver.resolution(host);
            }
            let mut resp = result.map_err(|e| HttpError::from_reqwest(&e, timeout_ms))?;
            sent.remote = resp.remote_addr();
            let status = resp.status();
            if req.max_redirects > 0 && status.is_redirection() {
                if let Some(loc) = resp.headers().get(reqwest::header::LOCATION) {
                    if sent.redirects.len() as u32 >= req.max_redirects {
                        return Err(HttpError::new(
                            HttpErrorKind::Redirect,
                            format!("more than {} redirects", req.max_redirects),
                        ));
                    }
                    let loc = loc.to_str().map_err(|_| {
                        HttpError::new(HttpErrorKind::Redirect, "Location header is not valid text")
                    })?;
                    let next = url.join(loc).map_err(|e| {
                        HttpError::new(
                            HttpErrorKind::Redirect,
                            format!("invalid Location `{loc}`: {e}"),
                        )
                    })?;
                    if seen.contains(&next.to_string()) {
                        return Err(HttpError::new(
                            HttpErrorKind::Redirect,
                            format!("redirect loop: {} → {next}", url),
                        ));
                    }
                    seen.push(next.to_string());
                    sent.redirects.push(next.to_string());
                    let same_origin = (
                        next.host_str().map(str::to_string),
                        next.port_or_known_default(),
                    ) == origin;
                    if !same_origin {
                        headers.remove(reqwest::header::AUTHORIZATION);
                        headers.remove(reqwest::header::COOKIE);
                        headers.remove(reqwest::header::PROXY_AUTHORIZATION);
                    }
                    let code = status.as_u16();
                    if code == 303 || ((code == 301 || code == 302) && method == Method::POST) {
                        method = Method::GET;
                        body = None;
                        headers.remove(reqwest::header::CONTENT_TYPE);
                    }
                    url = next;
                    continue;
                }
            }
            let version = format!("{:?}", resp.version());
            let resp_headers = resp.headers().clone();
            let mut buf: Vec<u8> = Vec::new();
            let limit = self.config.max_body_bytes;
            while let Some(chunk) = resp
                .chunk()
                .await
                .map_err(|e| HttpError::from_reqwest(&e, timeout_ms))?
            {
                if buf.len() + chunk.len() > limit {
                    return Err(HttpError::new(
                        HttpErrorKind::BodyTooLarge,
                        format!("response body exceeds the {limit}-byte limit (--max-body)"),
                    ));
                }
                buf.extend_from_slice(&chunk);
            }
            return Ok(Response::new(
                status.as_u16(),
                version,
                resp_headers,
                buf,
                start.elapsed(),
                sent.remote,
            ));
        }
    }
}

fn build_headers(list: &[(String, String)]) -> Result<HeaderMap, HttpError> {
    let mut h = HeaderMap::new();
    for (k, v) in list {
        let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| {
            HttpError::new(
                HttpErrorKind::InvalidRequest,
                format!("invalid header name `{k}`"),
            )
        })?;
        let value = HeaderValue::from_str(v).map_err(|_| {
            HttpError::new(
                HttpErrorKind::InvalidRequest,
                format!("invalid value for header `{k}`"),
            )
        })?;
        h.append(name, value);
    }
    Ok(h)
}
