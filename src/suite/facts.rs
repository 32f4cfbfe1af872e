//! The suite model of facts about the connection, the certificate and DNS answers:
//! `expect.tls` certificate details (subject, issuer, SAN, serial, fingerprint, validity
//! bounds), `expect.connection` (the address connected to, the HTTP version), and the
//! `txt`, `mx` and `reachable` expectations of a DNS check.
//!
//! Like [`super::model`], nothing here is interpreted: the plan compiles these once.

use serde::Deserialize;

use super::duration::Dur;

/// One value or a list of values (`ip: 10.0.0.1` or `ip: [10.0.0.1, 10.0.0.2]`).
#[derive(Debug, Clone)]
pub enum OneOrList<T> {
    /// A single value.
    One(T),
    /// A list of values.
    Many(Vec<T>),
}

impl<T> OneOrList<T> {
    /// True when it is an empty list (`[]`).
    pub fn is_empty_list(&self) -> bool {
        matches!(self, OneOrList::Many(v) if v.is_empty())
    }

    /// As a list.
    pub fn into_vec(self) -> Vec<T> {
        match self {
            OneOrList::One(v) => vec![v],
            OneOrList::Many(v) => v,
        }
    }
}

/// A text rule: a plain string means "equals"; an object combines `equals`, `contains`
/// and `matches` (all given must hold). Strings are templates; `matches` is a regex
/// (unanchored).
#[derive(Debug, Clone)]
pub enum TextRuleDef {
    /// The text equals this.
    Equals(String),
    /// Several rules, all of which must hold.
    Rule(TextRuleParts),
}

/// The parts of a [`TextRuleDef`] object.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextRuleParts {
    /// The text equals this (a template).
    #[serde(default)]
    pub equals: Option<String>,
    /// The text contains this (a template).
    #[serde(default)]
    pub contains: Option<String>,
    /// The text matches this regex (unanchored).
    #[serde(default)]
    pub matches: Option<String>,
}

/// A rule on a distinguished name (a certificate's subject or issuer): a plain string means
/// "the DN text equals"; an object combines rules on the DN text and on its CN and O.
#[derive(Debug, Clone)]
pub enum NameRuleDef {
    /// The DN text (`CN=api.example.test, O=Example`) equals this.
    Equals(String),
    /// Rules, all of which must hold.
    Rule(NameRuleParts),
}

/// The parts of a [`NameRuleDef`] object.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameRuleParts {
    /// The DN text equals this (a template).
    #[serde(default)]
    pub equals: Option<String>,
    /// The DN text contains this (a template).
    #[serde(default)]
    pub contains: Option<String>,
    /// The DN text matches this regex (unanchored).
    #[serde(default)]
    pub matches: Option<String>,
    /// A common name (CN) of the DN satisfies this rule.
    #[serde(default)]
    pub cn: Option<TextRuleDef>,
    /// An organization (O) of the DN satisfies this rule.
    #[serde(default)]
    pub o: Option<TextRuleDef>,
}

/// Rules on the certificate's subjectAltName entries.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SanRuleDef {
    /// Every one of these names is in the SAN list (other names may be there too).
    #[serde(default)]
    pub contains: Option<OneOrList<String>>,
    /// The SAN list is exactly this set (order and case of DNS names ignored).
    #[serde(default)]
    pub equals: Option<Vec<String>>,
}

/// Bounds on a certificate date: `YYYY-MM-DD` (midnight UTC) or an RFC 3339 date-time.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateBoundsDef {
    /// The date is strictly before this.
    #[serde(default)]
    pub before: Option<String>,
    /// The date is strictly after this.
    #[serde(default)]
    pub after: Option<String>,
}

/// Facts about the connection a response came over (`expect.connection`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionExpectDef {
    /// The IP address connected to is this one (or one of these).
    #[serde(default)]
    pub ip: Option<OneOrList<String>>,
    /// The IP address connected to is inside one of these ranges (`10.0.0.0/8`; a bare
    /// address is a range of one).
    #[serde(default)]
    pub ip_in: Option<OneOrList<String>>,
    /// The port connected to.
    #[serde(default)]
    pub port: Option<u16>,
    /// The HTTP version of the response, on http and https: `HTTP/1.0`, `HTTP/1.1` or
    /// `HTTP/2`.
    #[serde(default)]
    pub http_version: Option<String>,
}

/// An MX record the answer must have.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MxRuleDef {
    /// The mail exchanger's host name (case and a trailing dot ignored; a template).
    #[serde(default)]
    pub exchange: Option<String>,
    /// The record's preference.
    #[serde(default)]
    pub preference: Option<u16>,
}

/// Every address of the answer accepts a TCP connection on `port`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReachableDef {
    /// The TCP port to connect to.
    pub port: u16,
    /// How long each connection may take (default: `--connect-timeout`, at most 5s).
    #[serde(default)]
    pub timeout: Option<Dur>,
}
