//! The suite file model: what a release engineer writes under `suites/`.
//!
//! These types mirror the YAML (or JSON) document one to one and are deserialized with
//! `serde-saphyr`, so every error carries a line and column. Nothing here is interpreted:
//! the plan compiles these into typed, checked forms (templates parsed once), and keeps the
//! positions (`Spanned`) of every value it may have to complain about.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use serde_saphyr::Spanned;

use super::duration::Dur;

/// One suite file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteFile {
    /// Optional editor hint, e.g. a `$schema` URL; ignored.
    #[serde(rename = "$schema", default)]
    pub schema_hint: Option<String>,
    /// Suite name, used as the JUnit classname.
    pub name: String,
    /// Free text for readers of the suite; not used by smokegate.
    #[serde(default)]
    pub description: Option<String>,
    /// Tags every case of the suite inherits.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Suite-level variables: any JSON value; strings may reference other variables,
    /// `${env.X}` and generators.
    #[serde(default)]
    pub vars: BTreeMap<String, Spanned<Value>>,
    /// Names of variables whose values are secret (redacted in every output).
    #[serde(default)]
    pub secrets: Vec<String>,
    /// Named environment profiles selected with `--env`.
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
    /// Profile used when `--env` is not given.
    #[serde(default)]
    pub default_profile: Option<String>,
    /// Defaults applied to every request of the suite.
    #[serde(default)]
    pub defaults: Defaults,
    /// The checks.
    pub cases: Vec<Spanned<CaseDef>>,
}

/// A named environment profile (`--env staging`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Variables of this profile: they override suite `vars` of the same name and are
    /// overridden by `--var`/`--secret`.
    #[serde(default)]
    pub vars: BTreeMap<String, Spanned<Value>>,
    /// curl-style `HOST:PORT:ADDR[,ADDR…]` overrides for this profile.
    #[serde(default)]
    pub resolve: Vec<String>,
    /// Pinned addresses used only when normal resolution fails.
    #[serde(default)]
    pub fallback_resolve: Vec<String>,
    /// curl-style `HOST:PORT:HOST2:PORT2`: connect elsewhere, keeping URL, Host and SNI.
    #[serde(default)]
    pub connect_to: Vec<String>,
    /// Resolve names by asking these DNS servers (`ADDR[:PORT]`) instead of the system.
    #[serde(default)]
    pub dns_servers: Vec<String>,
}

/// Defaults for every request of a suite.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Headers added to every request that does not set a header of the same name (compared
    /// case-insensitively); values are templates.
    #[serde(default)]
    pub headers: BTreeMap<String, Spanned<String>>,
    /// Timeout of every request without a `timeout` of its own (else `--timeout`).
    #[serde(default)]
    pub timeout: Option<Dur>,
    /// Retry policy of every step (and DNS check) without a `retry` of its own.
    #[serde(default)]
    pub retry: Option<Spanned<Box<RetryDef>>>,
}

/// Severity of a case: whether its failure blocks the gate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A failure fails the run (the default).
    #[default]
    Critical,
    /// A failure is reported but does not fail the run.
    Warning,
}

/// One case: a single request, or an ordered list of steps sharing captures.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseDef {
    /// Case name, unique within the suite. With a `matrix` it is rendered as a template; when
    /// that does not change it, the combination is appended (`health [worker=api]`).
    pub name: String,
    /// Free text for readers; not used by smokegate.
    #[serde(default)]
    pub description: Option<String>,
    /// Tags of this case, added to the suite's tags (selected with `--tag`, left out with
    /// `--skip-tag`).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Whether a failure fails the run (`critical`, the default) or is only reported
    /// (`warning`).
    #[serde(default)]
    pub severity: Severity,
    /// Names of cases (in the same suite) that must pass before this one runs.
    #[serde(default)]
    pub needs: Vec<String>,
    /// Expand this case once per combination of values: `{service: [api, oauth]}`. A value
    /// may be a map of texts (`{host: webhooks, name: tminus-webhook}`), read as
    /// `${service.host}`, `${service.name}`.
    #[serde(default)]
    pub matrix: BTreeMap<String, Vec<Spanned<Value>>>,
    /// Single-request form.
    #[serde(default)]
    pub request: Option<Spanned<RequestDef>>,
    /// Single-request form: what the response must look like (without `status`, any 2xx).
    #[serde(default)]
    pub expect: Option<Spanned<ExpectDef>>,
    /// Single-request form: variable name → where to take its value from the response.
    #[serde(default)]
    pub capture: BTreeMap<String, Spanned<CaptureDef>>,
    /// Single-request or DNS check form: retry when the check does not pass (default:
    /// `defaults.retry`).
    #[serde(default)]
    pub retry: Option<Spanned<Box<RetryDef>>>,
    /// Single-request or DNS check form: poll until the expectations hold, bounded by a
    /// deadline.
    #[serde(default)]
    pub wait_until: Option<Box<WaitDef>>,
    /// Multi-step form.
    #[serde(default)]
    pub steps: Vec<Spanned<StepDef>>,
    /// DNS check form: ask DNS instead of sending a request.
    #[serde(default)]
    pub dns: Option<Spanned<Box<DnsCheckDef>>>,
}

/// A DNS check: `name` resolves (through the system or a chosen server) to records of a type,
/// to addresses in a set or range, or is a CNAME to a target.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsCheckDef {
    /// Host name to resolve (a template).
    pub name: String,
    /// Record type (default `A`).
    #[serde(rename = "type", default)]
    pub rtype: Option<String>,
    /// `ADDR[:PORT]` of the server to ask (default: `--dns-server`, else the system's).
    #[serde(default)]
    pub server: Option<String>,
    /// What the answer must contain; without it, the name must have records of the type.
    #[serde(default)]
    pub expect: Option<DnsExpectDef>,
}

/// What a DNS answer must contain.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsExpectDef {
    /// Every returned address is one of these.
    #[serde(default)]
    pub addresses_in: Option<OneOrMany>,
    /// Every returned address is inside one of these ranges (`192.0.2.0/24`).
    #[serde(default)]
    pub cidr: Option<OneOrMany>,
    /// The name is a CNAME to this target.
    #[serde(default)]
    pub cname: Option<String>,
    /// TXT values the answer must have: each rule is met by one TXT record (type TXT).
    #[serde(default)]
    pub txt: Option<Box<super::facts::OneOrList<super::facts::TextRuleDef>>>,
    /// MX records the answer must have: each rule is met by one MX record (type MX).
    #[serde(default)]
    pub mx: Option<Box<super::facts::OneOrList<super::facts::MxRuleDef>>>,
    /// Every returned address accepts a TCP connection on a port (type A or AAAA).
    #[serde(default)]
    pub reachable: Option<super::facts::ReachableDef>,
}

/// A string or a list of strings.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// A single string.
    One(String),
    /// A list of strings.
    Many(Vec<String>),
}

impl OneOrMany {
    /// As a list.
    pub fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

/// TLS expectations of a request.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsExpectDef {
    /// The server certificate is valid for at least this many more days.
    #[serde(default)]
    pub min_days_valid: Option<u32>,
    /// The certificate's names (SAN, else CN) cover the URL host.
    #[serde(default)]
    pub covers_host: Option<bool>,
    /// Negotiated protocol: `TLSv1.2` or `TLSv1.3`.
    #[serde(default)]
    pub protocol: Option<String>,
    /// Negotiated HTTP version: `HTTP/1.1` or `HTTP/2` (via ALPN).
    #[serde(default)]
    pub http_version: Option<String>,
    /// The certificate's subject DN.
    #[serde(default)]
    pub subject: Option<Box<super::facts::NameRuleDef>>,
    /// The certificate's issuer DN.
    #[serde(default)]
    pub issuer: Option<Box<super::facts::NameRuleDef>>,
    /// The certificate's subjectAltName entries.
    #[serde(default)]
    pub san: Option<Box<super::facts::SanRuleDef>>,
    /// The certificate's serial number, in hex (case, colons and leading zeros ignored).
    #[serde(default)]
    pub serial: Option<String>,
    /// SHA-256 fingerprint of the leaf certificate, or a list of accepted ones (pinning).
    #[serde(default)]
    pub fingerprint_sha256: Option<Box<super::facts::OneOrList<String>>>,
    /// Bounds on the start of validity.
    #[serde(default)]
    pub not_before: Option<Box<super::facts::DateBoundsDef>>,
    /// Bounds on the end of validity.
    #[serde(default)]
    pub not_after: Option<Box<super::facts::DateBoundsDef>>,
}

/// One step of a multi-step case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepDef {
    /// Step name, shown in messages (``step `NAME`: …``) and reports.
    pub name: String,
    /// The request of the step.
    pub request: Spanned<RequestDef>,
    /// What the response must look like (without `status`, any 2xx).
    #[serde(default)]
    pub expect: Option<Spanned<ExpectDef>>,
    /// Variable name → where to take its value from the response; later steps read it as
    /// `${name}`.
    #[serde(default)]
    pub capture: BTreeMap<String, Spanned<CaptureDef>>,
    /// Retry the step when it does not pass (default: the suite's `defaults.retry`).
    #[serde(default)]
    pub retry: Option<Spanned<Box<RetryDef>>>,
    /// Poll until the expectations hold, bounded by a deadline.
    #[serde(default)]
    pub wait_until: Option<Box<WaitDef>>,
}

/// An HTTP request.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestDef {
    /// `GET` when absent.
    #[serde(default)]
    pub method: Option<Spanned<String>>,
    /// Absolute http:// or https:// URL (a template), e.g. `${api}/health`.
    pub url: Spanned<String>,
    /// Request headers; names and values are templates. The suite's `defaults.headers` are
    /// added for names not set here.
    #[serde(default)]
    pub headers: BTreeMap<String, Spanned<String>>,
    /// Query parameters appended to the URL, URL-encoded; names and values are templates.
    #[serde(default)]
    pub query: BTreeMap<String, Spanned<String>>,
    /// JSON body (sets `content-type: application/json`).
    #[serde(default)]
    pub json: Option<Spanned<Value>>,
    /// Raw body.
    #[serde(default)]
    pub body: Option<Spanned<String>>,
    /// URL-encoded form body.
    #[serde(default)]
    pub form: Option<BTreeMap<String, Spanned<String>>>,
    /// Time allowed for the whole exchange, body included (default: `defaults.timeout`, else
    /// `--timeout`).
    #[serde(default)]
    pub timeout: Option<Dur>,
    /// Redirects are not followed unless set (`true` = up to 10, or a number).
    #[serde(default)]
    pub follow_redirects: Option<Redirects>,
}

/// A present value, `null` included (absent stays `None` through `default`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// Redirect policy.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
pub enum Redirects {
    /// `true`: follow up to 10 redirects; `false`: follow none.
    Enabled(bool),
    /// Follow up to this many redirects (`0`: none).
    Max(u32),
}

/// What a response must look like.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectDef {
    /// Prefixed to every failure of this block (e.g. "login failed").
    #[serde(default)]
    pub message: Option<String>,
    /// Accepted status codes: `200`, `[200, 201]` or `"2xx"` (default: any 2xx).
    #[serde(default)]
    pub status: Option<Spanned<StatusDef>>,
    /// Header name (case-insensitive) → the value it must have, or a rule.
    #[serde(default)]
    pub headers: BTreeMap<String, Spanned<HeaderDef>>,
    /// Expectations on the body text.
    #[serde(default)]
    pub body: Option<Spanned<BodyDef>>,
    /// JSONPath assertions on the JSON body, each judged on its own.
    #[serde(default)]
    pub jsonpath: Vec<Spanned<JsonPathDef>>,
    /// A JSON Schema the body must be valid against.
    #[serde(default)]
    pub schema: Option<Spanned<SchemaDef>>,
    /// Latency budget for the whole exchange (e.g. `500ms`).
    #[serde(default)]
    pub max_latency: Option<Dur>,
    /// Certificate and negotiated-protocol expectations (https only).
    #[serde(default)]
    pub tls: Option<Spanned<TlsExpectDef>>,
    /// Facts about the connection: the address connected to, the HTTP version.
    #[serde(default)]
    pub connection: Option<Spanned<Box<super::facts::ConnectionExpectDef>>>,
}

/// `200`, `[200, 204]` or `"2xx"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum StatusDef {
    /// One status code, e.g. `200`.
    Code(u16),
    /// Any of these (codes, classes or nested lists); must not be empty.
    List(Vec<StatusDef>),
    /// A class such as `"2xx"`, or a code written as text (`"204"`).
    Text(String),
}

/// A header expectation: a plain string means "equals".
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum HeaderDef {
    /// One of the header's values must equal this text (a template).
    Equals(String),
    /// One or more rules, all of which must hold.
    Rule(HeaderRule),
}

/// Header rule.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderRule {
    /// One of the header's values equals this text (a template).
    #[serde(default)]
    pub equals: Option<String>,
    /// One of the header's values matches this regex (unanchored).
    #[serde(default)]
    pub matches: Option<String>,
    /// One of the header's values contains this text (a template).
    #[serde(default)]
    pub contains: Option<String>,
    /// `true`: the header must be present; `false`: it must be absent.
    #[serde(default)]
    pub present: Option<bool>,
    /// `true`: the header must be absent; `false`: it must be present.
    #[serde(default)]
    pub absent: Option<bool>,
}

/// Body text expectations.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyDef {
    /// Texts (templates) the body must contain.
    #[serde(default)]
    pub contains: Vec<String>,
    /// Texts (templates) the body must not contain.
    #[serde(default)]
    pub not_contains: Vec<String>,
    /// A regex (unanchored) the body text must match.
    #[serde(default)]
    pub matches: Option<String>,
    /// The body must parse as JSON.
    #[serde(default)]
    pub json: Option<bool>,
}

/// A JSONPath (RFC 9535) assertion: every predicate given must hold (none = `exists`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonPathDef {
    /// An RFC 9535 JSONPath, e.g. `$.data.status` or `$.items[*].id`; may hold `${…}` templates
    /// (rendered, then compiled, when the step runs).
    pub path: String,
    /// Replaces the generic failure message (e.g. "legacy format, expected enriched").
    #[serde(default)]
    pub message: Option<String>,
    /// Every selected value equals this JSON value (strings inside are templates).
    #[serde(default, deserialize_with = "present")]
    pub equals: Option<Value>,
    /// No selected value equals this JSON value (strings inside are templates).
    #[serde(default, deserialize_with = "present")]
    pub not_equals: Option<Value>,
    /// Every selected value equals one of these JSON values (strings inside are templates).
    #[serde(default)]
    pub one_of: Option<Vec<Value>>,
    /// Every selected value matches this regex (unanchored; a non-string is matched as its JSON
    /// text).
    #[serde(default)]
    pub matches: Option<String>,
    /// `true`: the path selects at least one value; `false`: it selects none.
    #[serde(default)]
    pub exists: Option<bool>,
    /// Every selected value has this JSON type (`type:` in the suite): string, number, integer,
    /// boolean, object, array or null.
    #[serde(rename = "type", default)]
    pub type_: Option<String>,
    /// Numeric bounds: a number, or a template that yields one (`"${min_count}"`).
    #[serde(default)]
    pub gt: Option<Value>,
    /// Every selected value is a number greater than or equal to this bound.
    #[serde(default)]
    pub gte: Option<Value>,
    /// Every selected value is a number less than this bound.
    #[serde(default)]
    pub lt: Option<Value>,
    /// Every selected value is a number less than or equal to this bound.
    #[serde(default)]
    pub lte: Option<Value>,
    /// The path selects exactly this many values.
    #[serde(default)]
    pub count: Option<usize>,
    /// The path selects at least this many values.
    #[serde(default)]
    pub min_count: Option<usize>,
}

/// A JSON Schema: a path to a file (relative to the suite) or an inline schema.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum SchemaDef {
    /// Path of a schema file, relative to the suite file.
    File(String),
    /// A schema file or an inline schema, with an optional failure message.
    Detailed(SchemaDetailed),
}

/// Schema with a custom failure message.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaDetailed {
    /// Path of a schema file, relative to the suite file (give exactly one of `file` and
    /// `inline`).
    #[serde(default)]
    pub file: Option<String>,
    /// The schema itself, written inline.
    #[serde(default)]
    pub inline: Option<Value>,
    /// Prefixed to the failure message when the body does not match.
    #[serde(default)]
    pub message: Option<String>,
}

/// Where a captured value comes from.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptureDef {
    /// Take the first value this JSONPath selects (keeping its JSON type).
    #[serde(default)]
    pub jsonpath: Option<String>,
    /// Take the (first) value of this response header.
    #[serde(default)]
    pub header: Option<String>,
    /// A regex over the body; the first capture group (or the whole match) is taken.
    #[serde(default)]
    pub regex: Option<String>,
    /// Redact the captured value everywhere.
    #[serde(default)]
    pub secret: bool,
}

/// Retry a step that fails.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryDef {
    /// Attempts in all, the first included (1 to 100).
    pub attempts: Spanned<u32>,
    /// Pause before the next attempt (default 1s).
    #[serde(default)]
    pub interval: Option<Dur>,
    /// Multiplier applied to the interval after each attempt (1 to 10, default 1).
    #[serde(default)]
    pub backoff: Option<Spanned<f64>>,
}

/// Poll until the expectations hold, bounded by a deadline.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitDef {
    /// Deadline of the polling, counted from the start of the step.
    pub timeout: Dur,
    /// Pause between attempts (default 2s).
    #[serde(default)]
    pub interval: Option<Dur>,
}
