//! HTTP: the one shared client of a run, name resolution (overrides, chosen DNS servers,
//! `--connect-to`, pinned fallback), TLS (rustls configuration, certificate explanations,
//! handshake probe) and error causes.

pub mod client;
pub mod cookies;
pub mod decode;
pub mod dns;
pub mod error;
pub mod proxy;
pub(crate) mod record;
pub mod resolve;
pub mod response;
pub(crate) mod route;
pub mod tls;

pub use client::{Hop, HttpClient, NetConfig, Prepared, Sent};
pub use cookies::CookieJar;
pub use dns::{parse_dns_server, DnsClient, DnsFailure, DnsRecord, Mx};
pub use error::{HttpError, HttpErrorKind, RuleError, SetupError};
pub use resolve::{ConnectRule, Resolution, ResolveError, ResolveRule, ResolvedBy, SmartResolver};
pub use response::{Response, TlsObservation, WireBody};
pub use tls::{CertInfo, TlsDetails};
