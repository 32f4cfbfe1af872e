//! The shared HTTP client of a run and one request/response exchange.
//!
//! Redirects are followed here, not by reqwest, so the policy is ours: off unless a step asks,
//! bounded, loops detected, and credentials (`Authorization`, `Cookie`) dropped when a
//! redirect leaves the original host. Bodies are read in chunks up to a limit, so a hostile
//! server cannot exhaust memory.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};

use super::cookies::{self, CookieJar};
use super::decode;
use super::dns::DnsClient;
use super::error::{HttpError, HttpErrorKind, SetupError};
use super::record;
use super::resolve::{ConnectRule, Resolution, ResolveRule, ResolveRules, SmartResolver};
use super::route::{self, Alias};
use super::tls::{self, TlsDetails};
use super::{Response, WireBody};

/// Network settings of a run.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// `--resolve HOST:PORT:ADDR` overrides: fixed addresses instead of a lookup.
    pub resolve: Vec<ResolveRule>,
    /// `--fallback-resolve` pins, used only when resolving the host fails.
    pub fallback_resolve: Vec<ResolveRule>,
    /// `--connect-to HOST:PORT:HOST2:PORT2` rules.
    pub connect_to: Vec<ConnectRule>,
    /// `--dns-server`s: when set, names are resolved by asking these instead of the system.
    pub dns_servers: Vec<SocketAddr>,
    /// Bound on the TCP connect and TLS handshake of a new connection (`--connect-timeout`).
    pub connect_timeout: Duration,
    /// Timeout of a request that sets none (`--timeout`).
    pub default_timeout: Duration,
    /// Largest response body read, in bytes (`--max-body`); a larger one is an error.
    pub max_body_bytes: usize,
    /// Do not verify TLS certificates (`--insecure`).
    pub insecure: bool,
    /// Extra trusted root certificates, PEM (`--cacert`).
    pub cacert: Option<PathBuf>,
    /// Forward proxies (`--proxy`, `--noproxy`, the `*_proxy` variables).
    pub proxy: super::proxy::ProxyRules,
    /// Client certificate (PEM; may also hold the key) for mTLS.
    pub client_cert: Option<PathBuf>,
    /// Private key (PEM) of the client certificate.
    pub client_key: Option<PathBuf>,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            resolve: Vec::new(),
            fallback_resolve: Vec::new(),
            connect_to: Vec::new(),
            dns_servers: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            default_timeout: Duration::from_secs(30),
            max_body_bytes: 4 * 1024 * 1024,
            insecure: false,
            cacert: None,
            proxy: Default::default(),
            client_cert: None,
            client_key: None,
        }
    }
}

/// A request ready to send (all templates rendered).
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The HTTP method.
    pub method: Method,
    /// The URL, query included.
    pub url: Url,
    /// Headers (name, value), in order; a name may repeat.
    pub headers: Vec<(String, String)>,
    /// The body, and the content type sent with it unless a header sets one (`None` for a
    /// text body).
    pub body: Option<(Vec<u8>, Option<&'static str>)>,
    /// Bound on the whole exchange, redirects and body included.
    pub timeout: Duration,
    /// Maximum redirects to follow; 0 = do not follow.
    pub max_redirects: u32,
    /// Headers that carry a credential or a secret (besides `Authorization`, `Cookie` and
    /// `Proxy-Authorization`): never sent on a redirect to another origin.
    pub private_headers: Vec<String>,
    /// Decode the body from its `Content-Encoding` (the default); `false` leaves the wire
    /// bytes as the body (`decompress: false`).
    pub decompress: bool,
}

/// What one exchange produced besides the response.
#[derive(Debug, Clone, Default)]
pub struct Sent {
    /// The URL finally requested (after redirects).
    pub final_url: Option<Url>,
    /// URLs followed by redirects, in order.
    pub redirects: Vec<String>,
    /// Address of the connection the last response came over.
    pub remote: Option<SocketAddr>,
    /// How the address of the last connection (or the last attempt) was chosen.
    pub resolution: Option<Resolution>,
    /// The proxy the last hop went through (credentials removed).
    pub proxy: Option<String>,
    /// The TLS server name of the last hop when it is not the URL's host (a `Host`
    /// override, sent as the request's authority).
    pub server_name: Option<String>,
    /// Every redirect followed: the URL requested, the status and `Location` it answered.
    pub hops: Vec<Hop>,
    /// Every `Set-Cookie` received, hops included, in order.
    pub set_cookies: Vec<super::cookies::SeenCookie>,
}

/// One redirect followed: the URL requested, the redirect status and `Location` received.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hop {
    /// The URL requested on this hop.
    pub url: String,
    /// The redirect status it answered (301, 302, 303, 307, 308, …).
    pub status: u16,
    /// The `Location` header as received (maybe relative).
    pub location: String,
}

/// The one client of a run: resolver, TLS settings and connection pools are shared.
///
/// reqwest's resolver interface only sees a host name, so to honour the port of `--resolve`
/// and `--connect-to` rules there is one reqwest client (one pool) per destination port,
/// each with a resolver that knows its port. Connections to different ports are never
/// shared anyway, so nothing is lost.
#[derive(Debug, Clone)]
pub struct HttpClient {
    clients: Arc<Mutex<HashMap<ClientKey, reqwest::Client>>>,
    tls: Arc<rustls::ClientConfig>,
    roots: tls::TrustRoots,
    resolver: SmartResolver,
    /// How each open connection's address was chosen.
    connections: record::ConnectionLog,
    config: Arc<NetConfig>,
}

/// One pool: the destination port, the `Host` alias its requests carry, and whether it speaks
/// HTTP/1.1 only.
type ClientKey = (u16, Option<Alias>, bool);

/// Most clients kept for `Host` aliases (a suite names few; beyond this each request to a
/// new alias builds a client of its own).
const MAX_CLIENTS: usize = 256;

impl HttpClient {
    /// Build the client.
    pub fn new(config: NetConfig) -> Result<Self, SetupError> {
        let (tls, roots) = tls::client_config_with_roots(&config)?;
        let dns = if config.dns_servers.is_empty() {
            None
        } else {
            Some(DnsClient::servers(
                &config.dns_servers,
                super::dns::lookup_budget(config.connect_timeout),
            )?)
        };
        let resolver = SmartResolver::with_rules(
            ResolveRules {
                overrides: config.resolve.clone(),
                fallbacks: config.fallback_resolve.clone(),
                connect_to: config.connect_to.clone(),
            },
            dns,
        )
        .with_lookup_budget(super::dns::lookup_budget(config.connect_timeout));
        let client = HttpClient {
            clients: Arc::default(),
            tls,
            roots,
            resolver,
            connections: record::ConnectionLog::default(),
            config: Arc::new(config),
        };
        // Surface configuration errors now rather than at the first request.
        client
            .client_for(443, None, false)
            .map_err(SetupError::Client)?;
        Ok(client)
    }

    /// Read the certificate roots now (call before a run that will use https; see
    /// [`tls::TrustRoots`]).
    pub fn load_trust_roots(&self) -> Result<(), SetupError> {
        self.roots.load()
    }

    /// The resolver (overrides, DNS servers, fallbacks) of this run.
    pub fn resolver(&self) -> &SmartResolver {
        &self.resolver
    }

    fn client_for(
        &self,
        port: u16,
        alias: Option<&Alias>,
        http1_only: bool,
    ) -> Result<reqwest::Client, HttpError> {
        let key: ClientKey = (port, alias.cloned(), http1_only);
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        let resolver = match alias {
            Some(a) => self.resolver.for_alias(port, a.clone()),
            None => self
                .resolver
                .for_port_via(port, self.config.proxy.endpoints()),
        };
        let mut builder = reqwest::Client::builder().no_proxy();
        if http1_only {
            builder = builder.http1_only();
        }
        // An alias is only used for a request that goes direct (see `route`).
        if !self.config.proxy.is_empty() && alias.is_none() {
            let rules = self.config.proxy.clone();
            builder = builder.proxy(reqwest::Proxy::custom(move |u| rules.for_url(u).cloned()));
        }
        let c = builder
            .user_agent(concat!("smokegate/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(64)
            .pool_idle_timeout(Duration::from_secs(30))
            .tcp_nodelay(true)
            .dns_resolver(Arc::new(resolver))
            // The connect timeout lives in the layer: it starts when the name lookup ends.
            .connector_layer(record::RecordLayer::new(
                self.connections.clone(),
                self.config.connect_timeout,
            ))
            .tls_backend_preconfigured({
                let mut tls = (*self.tls).clone();
                if http1_only {
                    // Offer only HTTP/1.1, or the server may pick HTTP/2 anyway.
                    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
                }
                tls
            })
            .build()
            .map_err(|e| {
                HttpError::new(
                    HttpErrorKind::InvalidRequest,
                    format!("cannot build HTTP client: {e}"),
                )
            })?;
        if clients.len() < MAX_CLIENTS {
            clients.insert(key, c.clone());
        }
        Ok(c)
    }

    /// Network settings.
    pub fn config(&self) -> &NetConfig {
        &self.config
    }

    /// Complete a TLS handshake with the server of `url` (at `remote` when known, else at the
    /// address the resolver chooses) and report what it negotiated and presented.
    pub async fn tls_probe(
        &self,
        url: &Url,
        remote: Option<SocketAddr>,
        server_name: Option<&str>,
    ) -> Result<TlsDetails, HttpError> {
        let host = url.host_str().unwrap_or_default().to_string();
        let sni = server_name.unwrap_or(&host).to_string();
        let port = url.port_or_known_default().unwrap_or(443);
        let addr = match remote {
            Some(a) => a,
            None => {
                let res = self
                    .resolver
                    .lookup(&host, port)
                    .await
                    .map_err(|e| HttpError::new(HttpErrorKind::Dns, e.to_string()))?;
                let tport = self
                    .resolver
                    .connect_target(&host, port)
                    .map(|(_, p)| p)
                    .unwrap_or(port);
                let ip = res.addrs.first().copied().ok_or_else(|| {
                    HttpError::new(HttpErrorKind::Dns, format!("no address for `{host}`"))
                })?;
                SocketAddr::new(ip, tport)
            }
        };
        tls::probe(
            self.tls.clone(),
            addr,
            &sni,
            self.config.connect_timeout,
            false,
        )
        .await
    }

    /// After an https exchange failed without a clear cause (connection closed, not ready),
    /// handshake once more and wait for the server's verdict: a rejection that arrives after
    /// the handshake (TLS 1.3 client-certificate checks) is lost inside the HTTP client, but
    /// named here.
    async fn diagnose_tls(
        &self,
        url: &Url,
        remote: Option<SocketAddr>,
        server_name: Option<&str>,
    ) -> Option<HttpError> {
        if url.scheme() != "https" {
            return None;
        }
        let host = url.host_str()?.to_string();
        let sni = server_name.unwrap_or(&host).to_string();
        let port = url.port_or_known_default()?;
        let addr = match remote {
            Some(a) => a,
            None => {
                let res = self.resolver.lookup(&host, port).await.ok()?;
                let tport = self
                    .resolver
                    .connect_target(&host, port)
                    .map(|(_, p)| p)
                    .unwrap_or(port);
                SocketAddr::new(*res.addrs.first()?, tport)
            }
        };
        match tls::probe(
            self.tls.clone(),
            addr,
            &sni,
            self.config.connect_timeout,
            true,
        )
        .await
        {
            Err(e) if e.kind == HttpErrorKind::Tls => Some(e),
            _ => None,
        }
    }

    /// Send one request (following redirects if asked) and read the whole body.
    pub async fn send(&self, req: &Prepared, sent: &mut Sent) -> Result<Response, HttpError> {
        self.send_with_jar(req, sent, None).await
    }

    /// [`Self::send`], with a cookie jar consulted and updated on every hop.
    pub async fn send_with_jar(
        &self,
        req: &Prepared,
        sent: &mut Sent,
        jar: Option<&CookieJar>,
    ) -> Result<Response, HttpError> {
        let timeout = req.timeout;
        let deadline = std::time::Instant::now() + timeout;
        let (result, attempt) = record::with_request_slot(
            tokio::time::timeout(timeout, self.exchange(req, sent, jar)),
            Some(deadline),
        )
        .await;
        if result.is_err() {
            // Timed out: what the request learnt of the connection it was opening.
            let url = sent.final_url.as_ref().unwrap_or(&req.url);
            let port = url.port_or_known_default().unwrap_or(0);
            sent.resolution = attempt
                .resolution
                .or_else(|| url.host_str().and_then(|h| self.resolver.literal(h, port)));
            sent.remote = sent.remote.or(attempt.remote);
        }
        match result {
            Ok(Err(e)) if e.needs_tls_diagnosis() => {
                let url = sent.final_url.clone().unwrap_or_else(|| req.url.clone());
                let diagnosis = tokio::time::timeout(
                    timeout,
                    self.diagnose_tls(&url, sent.remote, sent.server_name.as_deref()),
                )
                .await;
                Err(diagnosis.ok().flatten().unwrap_or(e))
            }
            Ok(r) => r,
            Err(_) => Err(HttpError::new(
                HttpErrorKind::Timeout,
                format!("no complete response within {} ms", timeout.as_millis()),
            )),
        }
    }

    async fn exchange(
        &self,
        req: &Prepared,
        sent: &mut Sent,
        jar: Option<&CookieJar>,
    ) -> Result<Response, HttpError> {
        let start = Instant::now();
        let mut url = req.url.clone();
        let mut method = req.method.clone();
        let mut body = req.body.clone();
        let mut headers = build_headers(&req.headers)?;
        if !headers.contains_key(reqwest::header::ACCEPT_ENCODING) {
            headers.insert(
                reqwest::header::ACCEPT_ENCODING,
                HeaderValue::from_static(super::decode::ACCEPT_ENCODING),
            );
        }
        // The step's own `Cookie` header, merged with the jar's cookies on each hop (and
        // dropped, like every credential, when a redirect leaves the origin).
        let mut explicit_cookie = cookie_text(&headers);
        let first = url.clone();
        let mut seen = vec![url.to_string()];
        loop {
            if let Some(jar) = jar {
                headers.remove(reqwest::header::COOKIE);
                let value = cookies::cookie_header(explicit_cookie.as_deref(), &jar.for_url(&url));
                if let Some(v) = value {
                    let v = HeaderValue::from_str(&v).map_err(|_| {
                        HttpError::new(
                            HttpErrorKind::InvalidRequest,
                            "a cookie value has a character a header cannot carry",
                        )
                    })?;
                    headers.insert(reqwest::header::COOKIE, v);
                }
            }
            let port = url.port_or_known_default().unwrap_or(0);
            let proxy = self.config.proxy.for_url(&url);
            sent.proxy = proxy.map(super::proxy::shown);
            let route = route::route(&self.resolver, &url, &headers, proxy.is_some());
            sent.server_name = route.server_name();
            let mut rb = self
                .client_for(port, route.alias.as_ref(), route.http1_only)?
                .request(method.clone(), route.wire)
                .headers(route.headers.clone());
            if let Some(h) = route.host_header {
                if !route.headers.contains_key(reqwest::header::HOST) {
                    rb = rb.header(reqwest::header::HOST, h);
                }
            }
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
            // What is learnt from here on is this hop's (a timeout keeps only it).
            sent.remote = None;
            sent.resolution = None;
            let literal = || url.host_str().and_then(|h| self.resolver.literal(h, port));
            record::reset();
            let mut resp = match rb.send().await {
                Ok(r) => r,
                Err(e) => {
                    // No connection to ask: what the request learnt while connecting.
                    let attempt = record::current();
                    sent.resolution = attempt.resolution.or_else(literal);
                    sent.remote = attempt.remote;
                    return Err(HttpError::from_reqwest(&e, timeout_ms));
                }
            };
            // The decision of the connection this response came over (maybe a pooled one).
            sent.resolution = self.connections.for_response(&resp).or_else(literal);
            sent.remote = resp.remote_addr();
            let status = resp.status();
            let received = match jar {
                Some(jar) => jar.store(&url, resp.headers()),
                None => cookies::set_cookies(resp.headers()),
            };
            sent.set_cookies
                .extend(received.into_iter().map(|raw| cookies::SeenCookie {
                    url: url.clone(),
                    raw,
                }));
            if let Some(next) = self.redirect(req, &resp, &url, &mut seen, sent)? {
                if !same_origin(&first, &next) {
                    explicit_cookie = None;
                    // Credentials and the explicit Host are for the original server only.
                    headers.remove(reqwest::header::HOST);
                    for name in &req.private_headers {
                        headers.remove(name.as_str());
                    }
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
            let version = format!("{:?}", resp.version());
            let resp_headers = resp.headers().clone();
            let codings = decode::codings(
                resp_headers
                    .get_all(reqwest::header::CONTENT_ENCODING)
                    .iter()
                    .map(HeaderValue::as_bytes),
            );
            let buf = self.read_body(&mut resp, timeout_ms, &codings).await?;
            let (body, wire) = self.decode(buf, codings, req.decompress).await?;
            let mut response = Response::new(
                status.as_u16(),
                version,
                resp_headers,
                body,
                start.elapsed(),
                sent.remote,
            );
            response.wire = wire;
            response.hops = sent.hops.clone();
            response.final_url = Some(url.clone());
            response.set_cookies = sent.set_cookies.clone();
            return Ok(response);
        }
    }

    /// The next URL when `resp` is a redirect to follow (recorded in `sent`), `None` when it
    /// is the final response; a loop or too many hops is an error.
    fn redirect(
        &self,
        req: &Prepared,
        resp: &reqwest::Response,
        url: &Url,
        seen: &mut Vec<String>,
        sent: &mut Sent,
    ) -> Result<Option<Url>, HttpError> {
        if req.max_redirects == 0 || !resp.status().is_redirection() {
            return Ok(None);
        }
        let Some(loc) = resp.headers().get(reqwest::header::LOCATION) else {
            return Ok(None);
        };
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
                format!("redirect loop: {url} → {next}"),
            ));
        }
        seen.push(next.to_string());
        sent.redirects.push(next.to_string());
        sent.hops.push(Hop {
            url: url.to_string(),
            status: resp.status().as_u16(),
            location: loc.to_string(),
        });
        Ok(Some(next))
    }

    /// The body and its wire form: decoded from `codings` (off the async threads: a large
    /// body takes a while) unless `decompress` is off. The decoded size is bounded by
    /// `--max-body` too.
    async fn decode(
        &self,
        buf: Vec<u8>,
        codings: Vec<String>,
        decompress: bool,
    ) -> Result<(Vec<u8>, Option<WireBody>), HttpError> {
        if codings.is_empty() {
            return Ok((buf, None));
        }
        // HEAD, 204 and 304 responses carry the coding of a body they do not send.
        if buf.is_empty() {
            let wire = WireBody {
                codings,
                bytes: Some(Vec::new()),
            };
            return Ok((buf, Some(wire)));
        }
        if !decompress {
            let wire = WireBody {
                codings,
                bytes: None,
            };
            return Ok((buf, Some(wire)));
        }
        let limit = self.config.max_body_bytes;
        let job = tokio::task::spawn_blocking(move || {
            let decoded = decode::decode(&buf, &codings, limit);
            (decoded, buf, codings)
        });
        let (decoded, buf, codings) = job
            .await
            .map_err(|e| HttpError::new(HttpErrorKind::Decode, format!("decoding stopped: {e}")))?;
        match decoded {
            Ok(body) => Ok((
                body,
                Some(WireBody {
                    codings,
                    bytes: Some(buf),
                }),
            )),
            Err(e @ decode::DecodeError::TooLarge { .. }) => {
                Err(HttpError::new(HttpErrorKind::BodyTooLarge, e.to_string()))
            }
            Err(e) => Err(HttpError::new(HttpErrorKind::Decode, e.to_string())),
        }
    }

    /// The whole body as received (before decoding), bounded by `--max-body`.
    async fn read_body(
        &self,
        resp: &mut reqwest::Response,
        timeout_ms: u128,
        codings: &[String],
    ) -> Result<Vec<u8>, HttpError> {
        let mut buf: Vec<u8> = Vec::new();
        let limit = self.config.max_body_bytes;
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| HttpError::from_reqwest(&e, timeout_ms))?
        {
            if buf.len() + chunk.len() > limit {
                let encoded = if codings.is_empty() {
                    String::new()
                } else {
                    format!(" on the wire, still `{}`-encoded", codings.join(", "))
                };
                return Err(HttpError::new(
                    HttpErrorKind::BodyTooLarge,
                    format!("response body exceeds the {limit}-byte limit (--max-body){encoded}"),
                ));
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf)
    }
}

/// An origin is scheme, host and port: an https → http redirect to the same host and port
/// is another origin too (credentials would travel in clear).
fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// The `Cookie` header(s) a step set itself, as one value.
fn cookie_text(headers: &HeaderMap) -> Option<String> {
    let all: Vec<String> = headers
        .get_all(reqwest::header::COOKIE)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    (!all.is_empty()).then(|| all.join("; "))
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

#[cfg(test)]
mod tests {
    use super::same_origin;
    use reqwest::Url;

    #[test]
    fn a_scheme_change_is_another_origin() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(same_origin(
            &u("https://a.test/x"),
            &u("https://a.test:443/y")
        ));
        assert!(!same_origin(
            &u("https://a.test:8443/"),
            &u("http://a.test:8443/")
        ));
        assert!(!same_origin(&u("https://a.test/"), &u("https://b.test/")));
        assert!(!same_origin(&u("http://a.test/"), &u("http://a.test:81/")));
    }
}
