//! Why an exchange could not complete, in words a user can act on.

use std::error::Error as _;

use serde::{Deserialize, Serialize};

/// The class of a transport failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HttpErrorKind {
    /// The host name could not be resolved (and no fallback applied).
    Dns,
    /// No connection could be made (refused, unreachable, closed while connecting).
    Connect,
    /// The TLS handshake failed: certificate rejected, alert from the server, no common
    /// protocol.
    Tls,
    /// No complete response within the request timeout, or no connection within the connect
    /// timeout.
    Timeout,
    /// The response body is larger than `--max-body`.
    BodyTooLarge,
    /// A redirect could not be followed: too many, a loop, or an invalid `Location`.
    Redirect,
    /// Any other failure of the exchange (e.g. a malformed response, a connection closed
    /// mid-response).
    Protocol,
    /// The request could not be built (e.g. an invalid header name or value).
    InvalidRequest,
    /// The body could not be decoded: an unknown `Content-Encoding` or a corrupt stream.
    Decode,
}

impl std::fmt::Display for HttpErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HttpErrorKind::Dns => "dns",
            HttpErrorKind::Connect => "connect",
            HttpErrorKind::Tls => "tls",
            HttpErrorKind::Timeout => "timeout",
            HttpErrorKind::BodyTooLarge => "body-too-large",
            HttpErrorKind::Redirect => "redirect",
            HttpErrorKind::Protocol => "protocol",
            HttpErrorKind::InvalidRequest => "invalid-request",
            HttpErrorKind::Decode => "decode",
        })
    }
}

/// A transport failure: the check could not run, which is an error, never a pass.
#[derive(Debug, Clone, thiserror::Error, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[error("{kind}: {message}")]
pub struct HttpError {
    /// The class of failure.
    pub kind: HttpErrorKind,
    /// What went wrong, in words.
    pub message: String,
    /// The server sent a TLS alert (the handshake probe may name the cause better).
    #[serde(skip)]
    pub tls_alert: bool,
}

impl HttpError {
    /// A new error.
    pub fn new(kind: HttpErrorKind, message: impl Into<String>) -> Self {
        HttpError {
            kind,
            message: message.into(),
            tls_alert: false,
        }
    }

    /// True when the cause may be a TLS rejection the HTTP client did not name: the
    /// connection broke (closed, not ready) or an alert arrived wrapped in an HTTP/2 error.
    pub fn needs_tls_diagnosis(&self) -> bool {
        match self.kind {
            HttpErrorKind::Connect | HttpErrorKind::Protocol => true,
            HttpErrorKind::Tls => self.tls_alert,
            _ => false,
        }
    }

    /// Classify a reqwest error by the types of its causes (never by their text).
    pub fn from_reqwest(e: &reqwest::Error, timeout_ms: u128) -> Self {
        let mut chain = Vec::new();
        let mut tls_error = None;
        let mut dns_error = false;
        let mut connect_timeout = None;
        let mut io_kind = None;
        let mut cur: Option<&(dyn std::error::Error + 'static)> = e.source();
        while let Some(c) = cur {
            if let Some(io) = c.downcast_ref::<std::io::Error>() {
                io_kind = io_kind.or(Some(io.kind()));
            }
            if let Some(t) = c.downcast_ref::<super::record::ConnectTimeout>() {
                connect_timeout = Some(*t);
            }
            if tls_error.is_none() {
                tls_error = find_tls_error(c);
            }
            dns_error |= c.downcast_ref::<super::resolve::ResolveError>().is_some();
            let s = c.to_string();
            if !chain.contains(&s) {
                chain.push(s);
            }
            cur = c.source();
        }
        if let Some(t) = tls_error {
            let mut err = HttpError::new(HttpErrorKind::Tls, super::tls::describe_tls_error(t));
            err.tls_alert = matches!(t, rustls::Error::AlertReceived(_));
            return err;
        }
        if let Some(t) = connect_timeout {
            return HttpError::new(HttpErrorKind::Timeout, t.to_string());
        }
        if e.is_timeout() && e.is_connect() {
            return HttpError::new(
                HttpErrorKind::Timeout,
                "no connection within the connect timeout (TCP connect or TLS handshake timeout; --connect-timeout)",
            );
        }
        let detail = chain.join(": ");
        let kind = if e.is_timeout() {
            HttpErrorKind::Timeout
        } else if dns_error {
            HttpErrorKind::Dns
        } else if e.is_connect() {
            HttpErrorKind::Connect
        } else if e.is_builder() {
            HttpErrorKind::InvalidRequest
        } else {
            HttpErrorKind::Protocol
        };
        let words = io_kind.and_then(connect_words);
        let message = match kind {
            HttpErrorKind::Timeout => format!("no complete response within {timeout_ms} ms"),
            HttpErrorKind::Connect if words.is_some() => words.unwrap_or_default().to_string(),
            _ if detail.is_empty() => e.to_string(),
            _ => detail,
        };
        HttpError::new(kind, message)
    }
}

/// A connection failure in words (the OS's own text adds nothing a user can act on).
fn connect_words(kind: std::io::ErrorKind) -> Option<&'static str> {
    use std::io::ErrorKind as K;
    Some(match kind {
        K::ConnectionRefused => {
            "connection refused: nothing listens on that address and port (is the service up, is the port right?)"
        }
        K::ConnectionReset => "the server reset the connection while it was being opened",
        K::HostUnreachable => "host unreachable: no route to the address",
        K::NetworkUnreachable => "network unreachable: no route to the address",
        K::AddrNotAvailable => "the address cannot be used from this machine",
        _ => return None,
    })
}

/// The rustls error inside an error, if it is one (directly or wrapped in an `io::Error`,
/// whose `source()` skips the wrapped error).
fn find_tls_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(t) = e.downcast_ref::<rustls::Error>() {
        return Some(t);
    }
    e.downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
}

/// A malformed `--resolve`, `--fallback-resolve`, `--connect-to` or `--dns-server` value (on
/// the command line or in a profile).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// A resolve rule is not `HOST:PORT:ADDR[,ADDR…]` (holds the rule).
    #[error("invalid resolve rule `{0}`, expected HOST:PORT:ADDR[,ADDR…]")]
    Resolve(String),
    /// An address of a resolve rule is not an IP address.
    #[error("invalid address `{addr}` in resolve rule `{rule}`")]
    Address {
        /// The address as written.
        addr: String,
        /// The whole rule.
        rule: String,
    },
    /// A connect-to rule is not `HOST:PORT:HOST2:PORT2` (holds the rule).
    #[error("invalid connect-to rule `{0}`, expected HOST:PORT:HOST2:PORT2 (parts may be empty)")]
    ConnectTo(String),
    /// A connect-to rule gives neither HOST2 nor PORT2 (holds the rule).
    #[error("connect-to rule `{0}` changes nothing: give HOST2, PORT2 or both")]
    ConnectToNothing(String),
    /// A DNS server is not `ADDR[:PORT]` with an IP address (holds the value).
    #[error(
        "invalid DNS server `{0}`, expected ADDR[:PORT] (an IP address, e.g. 10.0.0.2:53 or [::1]:5353)"
    )]
    DnsServer(String),
    /// A proxy (`--proxy`, `HTTP_PROXY`, …) is not usable.
    #[error("invalid proxy in {from}: {reason}")]
    Proxy {
        /// Where the proxy was given (`--proxy`, `HTTPS_PROXY`, …).
        from: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// Why the network side of a run (TLS, DNS, the HTTP client) could not be set up: a
/// configuration error, found before anything is sent.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// rustls cannot build a client configuration with its default protocol versions.
    #[error("cannot set up TLS: {0}")]
    Tls(#[source] rustls::Error),
    /// A certificate file (`--cacert` or `--cert`) cannot be read or is not valid PEM.
    #[error("cannot read {flag} {path}: {source}")]
    ReadPem {
        /// The option that named the file.
        flag: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// The PEM reader's error.
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    /// A `--cacert` or `--cert` file holds no certificate.
    #[error("{flag} {path} holds no PEM certificate")]
    NoCertificate {
        /// The option that named the file.
        flag: &'static str,
        /// The file.
        path: std::path::PathBuf,
    },
    /// A `--cacert` certificate cannot be used as a trust anchor.
    #[error("--cacert {path}: {source}")]
    BadRoot {
        /// The `--cacert` file.
        path: std::path::PathBuf,
        /// Why rustls refused the certificate.
        #[source]
        source: rustls::Error,
    },
    /// No private key can be read from `--key` (or from `--cert` when no `--key` is given).
    #[error("cannot read a private key from {path} ({flag}): {source}")]
    Key {
        /// `--key`, or `--cert` when the key was looked for in the certificate file.
        flag: &'static str,
        /// The file read.
        path: std::path::PathBuf,
        /// The PEM reader's error.
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    /// rustls refused the client certificate and key (e.g. a key that does not match).
    #[error("--cert/--key cannot be used: {0}")]
    ClientAuth(#[source] rustls::Error),
    /// `--key` was given without `--cert`.
    #[error("--key needs --cert")]
    KeyWithoutCert,
    /// The trust store could not be read (the verifier's own words).
    #[error("{0}")]
    TrustStore(String),
    /// A DNS client was asked for with no server.
    #[error("no DNS server given")]
    NoDnsServer,
    /// The system DNS configuration (`/etc/resolv.conf`) cannot be read.
    #[error("cannot read the system DNS configuration /etc/resolv.conf: {0}")]
    SystemDns(#[source] std::io::Error),
    /// The system DNS configuration names no server.
    #[error("{0} names no nameserver: give the DNS check a `server:`")]
    NoSystemDns(&'static str),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] HttpError),
}
