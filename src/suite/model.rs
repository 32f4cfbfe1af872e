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

use super::duration::{Age, Dur};

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
    /// The checks. Each boxed: a parsed case is ~2.6 KB, and a large file's list is built
    /// from parts parsed at once (`split`), so the list moves pointers, not cases.
    pub cases: Vec<Spanned<Box<CaseDef>>>,
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
    /// Authentication of every request of the suite with this profile (overrides
    /// `defaults.auth`; a request's own `auth` overrides it).
    #[serde(default)]
    pub auth: Option<Spanned<AuthDef>>,
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
    /// Authentication of every request without an `auth` of its own (a profile's `auth`
    /// overrides it).
    #[serde(default)]
    pub auth: Option<Spanned<AuthDef>>,
}

/// How a request authenticates: exactly one scheme (or `none: true`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthDef {
    /// HTTP Basic: `Authorization: Basic base64(user:password)`.
    #[serde(default)]
    pub basic: Option<BasicAuthDef>,
    /// `Authorization: Bearer TOKEN` (a template).
    #[serde(default)]
    pub bearer: Option<String>,
    /// An API key in a header or a query parameter.
    #[serde(default)]
    pub api_key: Option<ApiKeyDef>,
    /// OAuth2 client credentials: a token fetched (once per run and credentials) and sent
    /// as Bearer.
    #[serde(default)]
    pub oauth2: Option<OAuth2Def>,
    /// `true`: no authentication (turns off an inherited `auth`).
    #[serde(default)]
    pub none: Option<bool>,
}

/// HTTP Basic credentials (templates).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuthDef {
    /// The user name.
    pub user: String,
    /// The password.
    pub password: String,
}

/// An API key: exactly one of `header` and `query` names where it goes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyDef {
    /// The header that carries the key (e.g. `X-Api-Key`).
    #[serde(default)]
    pub header: Option<String>,
    /// The query parameter that carries the key (e.g. `api_key`).
    #[serde(default)]
    pub query: Option<String>,
    /// The key (a template).
    pub value: String,
}

/// OAuth2 client credentials grant (RFC 6749 4.4); every value is a template.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Def {
    /// The token endpoint.
    pub token_url: String,
    /// The client id.
    pub client_id: String,
    /// The client secret.
    pub client_secret: String,
    /// Scopes requested (space-separated).
    #[serde(default)]
    pub scope: Option<String>,
    /// The `audience` parameter some servers require (Auth0, …).
    #[serde(default)]
    pub audience: Option<String>,
    /// How the client authenticates to the token endpoint: `basic` (the default,
    /// `client_secret_basic`) or `post` (`client_secret_post`, in the form body).
    #[serde(default)]
    pub client_auth: Option<String>,
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
    /// Single-request form: send the request many times (`{count: 50, concurrency: 5}` or
    /// `{duration: 2m, every: 5s}`) and judge the samples together (`expect_samples`).
    #[serde(default)]
    pub samples: Option<Spanned<Box<super::samples::SamplesDef>>>,
    /// With `samples`: budgets over all samples (latency percentiles, failure rate,
    /// consecutive failures).
    #[serde(default)]
    pub expect_samples: Option<Spanned<Box<super::samples::ExpectSamplesDef>>>,
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
#[derive(Debug, Clone)]
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
    /// added for names not set here. A list value sends the header once per item, in order.
    #[serde(default)]
    pub headers: BTreeMap<String, Spanned<Texts>>,
    /// Query parameters appended to the URL, URL-encoded; names and values are templates. A
    /// list value sends the parameter once per item, in order.
    #[serde(default)]
    pub query: BTreeMap<String, Spanned<Texts>>,
    /// JSON body (sets `content-type: application/json`).
    #[serde(default)]
    pub json: Option<Spanned<Value>>,
    /// Raw body.
    #[serde(default)]
    pub body: Option<Spanned<String>>,
    /// URL-encoded form body; a list value sends the field once per item, in order.
    #[serde(default)]
    pub form: Option<BTreeMap<String, Spanned<Texts>>>,
    /// Time allowed for the whole exchange, body included (default: `defaults.timeout`, else
    /// `--timeout`).
    #[serde(default)]
    pub timeout: Option<Dur>,
    /// Redirects are not followed unless set (`true` = up to 10, or a number).
    #[serde(default)]
    pub follow_redirects: Option<Redirects>,
    /// Decode the response body from its `Content-Encoding` before the checks (default
    /// `true`); `false` keeps the wire bytes as the body (curl without `--compressed`).
    #[serde(default)]
    pub decompress: Option<bool>,
    /// Authentication of this request (overrides the profile's and `defaults.auth`).
    #[serde(default)]
    pub auth: Option<Spanned<AuthDef>>,
    /// A `multipart/form-data` body: field name → a text (a template), a file part, or a
    /// list of them (the field is sent once per item, in order).
    #[serde(default, deserialize_with = "super::nonempty::multipart")]
    pub multipart: Option<Spanned<BTreeMap<String, Spanned<Parts>>>>,
    /// A raw body read from this file (relative to the suite file) when the step runs.
    #[serde(default)]
    pub body_file: Option<Spanned<String>>,
}

/// A text, or a list of texts: a field (query, form, header) sent once per item, in order.
/// Numbers and booleans are taken as written (`page: 1`, `v: 1.10`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Texts(pub Vec<String>);

/// A scalar as text: a string as it is, a number or boolean as written.
fn scalar_text<E: serde::de::Error>(v: Value, list_ok: bool) -> Result<String, E> {
    let wanted = if list_ok {
        "a text or a list of texts"
    } else {
        "a text"
    };
    match v {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Err(E::custom(format!("expected {wanted}, got null"))),
        Value::Array(_) => Err(E::custom(format!("expected {wanted}, got a nested list"))),
        Value::Object(_) => Err(E::custom(format!("expected {wanted}, got a map"))),
    }
}

impl<'de> Deserialize<'de> for Texts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Array(items) => items
                .into_iter()
                .map(|v| scalar_text(v, true))
                .collect::<Result<_, _>>()
                .map(Texts),
            v => scalar_text(v, true).map(|s| Texts(vec![s])),
        }
    }
}

/// One text: a string, or a number or boolean as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar_text(Value::deserialize(d)?, false).map(Text)
    }
}

/// A field of a multipart body: one part, or a list of parts sent in order.
#[derive(Debug, Clone)]
pub enum Parts {
    /// Several parts with the same name.
    Many(Vec<Part>),
    /// One part.
    One(Part),
}

impl Parts {
    /// The parts, in order.
    pub fn parts(&self) -> &[Part] {
        match self {
            Parts::Many(v) => v,
            Parts::One(p) => std::slice::from_ref(p),
        }
    }
}

impl<'de> Deserialize<'de> for Parts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Array(items) => items
                .into_iter()
                .map(Part::from_value)
                .collect::<Result<_, _>>()
                .map(Parts::Many),
            v => Part::from_value(v).map(Parts::One),
        }
    }
}

/// One part of a multipart body.
#[derive(Debug, Clone)]
pub enum Part {
    /// A file part.
    File(FilePart),
    /// A text part (a template); numbers and booleans as written.
    Text(Text),
}

impl Part {
    fn from_value<E: serde::de::Error>(v: Value) -> Result<Part, E> {
        match v {
            Value::Object(_) => serde_json::from_value(v)
                .map(Part::File)
                .map_err(|e| E::custom(format!("in a file part: {e}"))),
            Value::Array(_) => Err(E::custom(
                "expected a text or a file part { file, filename, content_type }, got a nested list",
            )),
            v => scalar_text(v, false).map(|s| Part::Text(Text(s))),
        }
    }
}

/// A file sent as a multipart part.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilePart {
    /// The file, relative to the suite file (read when the step runs).
    pub file: String,
    /// The file name sent (default: the file's own name).
    #[serde(default)]
    pub filename: Option<String>,
    /// The part's content type (default: from the file's extension, else
    /// `application/octet-stream`).
    #[serde(default)]
    pub content_type: Option<String>,
}

/// A present value, `null` included (absent stays `None` through `default`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// A scalar written where text is expected (`equals: 5` for a header): its text. Read through
/// `shapes.rs`, YAML scalars arrive typed, so a bare number would otherwise not match.
fn opt_scalar_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    text_of(Value::deserialize(d)?).map(Some)
}

/// A list of scalars, as texts.
fn scalar_texts<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    let v: Vec<Value> = Vec::deserialize(d)?;
    v.into_iter()
        .map(text_of)
        .collect::<Result<_, _>>()
        .map(Some)
}

fn text_of<E: serde::de::Error>(v: Value) -> Result<String, E> {
    match v {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(E::custom(format!(
            "expected a text, a number or a boolean, got {other}"
        ))),
    }
}

/// Redirect policy.
#[derive(Debug, Clone, Copy)]
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
    /// Cookie name → what its `Set-Cookie` (the last one of that name received during the
    /// exchange, redirect hops included) must say.
    #[serde(default, deserialize_with = "super::nonempty::cookies")]
    pub cookies: BTreeMap<String, Spanned<CookieExpectDef>>,
    /// The redirects followed: how many, each hop's status and `Location`, the final URL.
    #[serde(default)]
    pub redirects: Option<Spanned<RedirectsExpectDef>>,
    /// Expectations judged on the same response whose failures are only warnings: reported,
    /// but they do not fail the step (`warn: { max_latency: 300ms }`). Without `status`
    /// inside, the block checks no status.
    #[serde(default)]
    pub warn: Option<Box<Spanned<ExpectDef>>>,
}

/// What one cookie's `Set-Cookie` must say (every key given must hold).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CookieExpectDef {
    /// `true` (the default when nothing else is given): the response sets the cookie;
    /// `false`: it does not.
    #[serde(default)]
    pub present: Option<bool>,
    /// The cookie's value equals this text (a template).
    #[serde(default)]
    pub value: Option<String>,
    /// The cookie's value matches this regex (unanchored).
    #[serde(default)]
    pub matches: Option<String>,
    /// The `Secure` attribute is set (`true`) or not (`false`).
    #[serde(default)]
    pub secure: Option<bool>,
    /// The `HttpOnly` attribute is set (`true`) or not (`false`).
    #[serde(default)]
    pub http_only: Option<bool>,
    /// The `SameSite` attribute: `Strict`, `Lax` or `None`.
    #[serde(default)]
    pub same_site: Option<String>,
    /// The `Path` attribute equals this.
    #[serde(default)]
    pub path: Option<String>,
    /// The `Domain` attribute equals this (a leading dot ignored); `""`: host-only (no
    /// `Domain`).
    #[serde(default)]
    pub domain: Option<String>,
    /// The `Max-Age` attribute equals this many seconds.
    #[serde(default)]
    pub max_age: Option<i64>,
    /// The cookie lives at most this many seconds (from `Max-Age`, else `Expires`; a session
    /// cookie passes).
    #[serde(default)]
    pub max_age_lte: Option<i64>,
    /// `true`: the cookie has `Max-Age` or `Expires` (it outlives the browser session);
    /// `false`: it is a session cookie.
    #[serde(default)]
    pub persistent: Option<bool>,
}

/// The redirect chain of an exchange (the step must set `follow_redirects`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedirectsExpectDef {
    /// Exactly this many redirects were followed.
    #[serde(default)]
    pub count: Option<u32>,
    /// The URL of the final response equals this (a template).
    #[serde(default)]
    pub final_url: Option<String>,
    /// The hops, in order: there must be as many as listed, each matching its entry.
    #[serde(default)]
    pub hops: Option<Vec<HopExpectDef>>,
}

/// One expected redirect hop (every key given must hold).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HopExpectDef {
    /// The redirect status: `301`, `[301, 308]` or `"3xx"`.
    #[serde(default)]
    pub status: Option<StatusDef>,
    /// The `Location` header, as received, equals this (a template).
    #[serde(default)]
    pub location: Option<String>,
    /// The URL requested on this hop equals this (a template).
    #[serde(default)]
    pub url: Option<String>,
}

/// `200`, `[200, 204]` or `"2xx"` (deserialized in `shapes.rs`).
#[derive(Debug, Clone)]
pub enum StatusDef {
    /// One status code, e.g. `200`.
    Code(u16),
    /// Any of these (codes, classes or nested lists); must not be empty.
    List(Vec<StatusDef>),
    /// A class such as `"2xx"`, or a code written as text (`"204"`).
    Text(String),
    /// A negation: `{not: 500}`, `{not_in: [500, "5xx"]}`.
    Rule(StatusRule),
}

/// `status: {not: …}` / `{not_in: […]}`: any status except these (codes or classes).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusRule {
    /// The status must not be this code, class or list.
    #[serde(default)]
    pub not: Option<Box<StatusDef>>,
    /// The status must not be any of these codes or classes.
    #[serde(default)]
    pub not_in: Option<Vec<StatusDef>>,
}

/// A header expectation: a plain string means "equals" (deserialized in `shapes.rs`).
#[derive(Debug, Clone)]
// The model lives only while a suite is planned: the rule's size costs nothing.
#[allow(clippy::large_enum_variant)]
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
    #[serde(default, deserialize_with = "opt_scalar_text")]
    pub equals: Option<String>,
    /// One of the header's values matches this regex (unanchored).
    #[serde(default)]
    pub matches: Option<String>,
    /// One of the header's values contains this text (a template).
    #[serde(default, deserialize_with = "opt_scalar_text")]
    pub contains: Option<String>,
    /// `true`: the header must be present; `false`: it must be absent.
    #[serde(default)]
    pub present: Option<bool>,
    /// `true`: the header must be absent; `false`: it must be present.
    #[serde(default)]
    pub absent: Option<bool>,
    /// One of the values differs from this text (like every top-level rule, it holds when one
    /// value satisfies it; `none: {equals: …}` says that no value may be it).
    #[serde(default, deserialize_with = "opt_scalar_text")]
    pub not_equals: Option<String>,
    /// One of the values equals one of these texts.
    #[serde(default, deserialize_with = "scalar_texts")]
    pub one_of: Option<Vec<String>>,
    /// One of the values, read as a number, is greater than this.
    #[serde(default)]
    pub gt: Option<Value>,
    /// One of the values, read as a number, is at least this.
    #[serde(default)]
    pub gte: Option<Value>,
    /// One of the values, read as a number, is less than this.
    #[serde(default)]
    pub lt: Option<Value>,
    /// One of the values, read as a number, is at most this.
    #[serde(default)]
    pub lte: Option<Value>,
    /// One of the values has this length in characters (a number or bounds).
    #[serde(default)]
    pub length: Option<Box<SizeDef>>,
    /// One of the values is a date in this form (`rfc3339`, `date`, `http`, `unix`, `any`).
    #[serde(default)]
    pub date: Option<DateFormat>,
    /// One of the values is a date at most this long ago.
    #[serde(default)]
    pub newer_than: Option<Age>,
    /// One of the values is a date at least this long ago.
    #[serde(default)]
    pub older_than: Option<Age>,
    /// One of the values is a date before this one (a template).
    #[serde(default)]
    pub before: Option<String>,
    /// One of the values is a date after this one (a template).
    #[serde(default)]
    pub after: Option<String>,
    /// One of the values does not satisfy this predicate.
    #[serde(default)]
    pub not: Option<Box<PredicateDef>>,
    /// At least one value satisfies this predicate.
    #[serde(default)]
    pub any: Option<Box<PredicateDef>>,
    /// Every value satisfies this predicate (the header must be present).
    #[serde(default)]
    pub all: Option<Box<PredicateDef>>,
    /// No value satisfies this predicate (an absent header passes).
    #[serde(default)]
    pub none: Option<Box<PredicateDef>>,
    /// The header has this many values (a number or bounds).
    #[serde(default)]
    pub count: Option<Box<SizeDef>>,
    /// Judge only this value (0 = first, -1 = last) with the top-level rules (`count`, `any`,
    /// `all` and `none` still see every value).
    #[serde(default)]
    pub nth: Option<i64>,
    /// `warning`: a failure of this rule is reported but does not fail the step.
    #[serde(default)]
    pub severity: Option<Severity>,
}

/// A predicate on one value: the vocabulary shared by JSONPath and header expectations,
/// nested under `not`, `any`, `all`, `none`, `length` and `count`. Every key given must hold.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PredicateDef {
    /// The value equals this JSON value (strings are templates).
    #[serde(default, deserialize_with = "present")]
    pub equals: Option<Value>,
    /// The value does not equal this JSON value.
    #[serde(default, deserialize_with = "present")]
    pub not_equals: Option<Value>,
    /// The value equals one of these.
    #[serde(default)]
    pub one_of: Option<Vec<Value>>,
    /// The value (a non-string as its JSON text) matches this regex (unanchored).
    #[serde(default)]
    pub matches: Option<String>,
    /// A string value contains this text; an array value has an element equal to this.
    #[serde(default, deserialize_with = "present")]
    pub contains: Option<Value>,
    /// The value has this JSON type.
    #[serde(rename = "type", default)]
    pub type_: Option<String>,
    /// The value is a number greater than this (a number or a template).
    #[serde(default)]
    pub gt: Option<Value>,
    /// The value is a number at least this.
    #[serde(default)]
    pub gte: Option<Value>,
    /// The value is a number less than this.
    #[serde(default)]
    pub lt: Option<Value>,
    /// The value is a number at most this.
    #[serde(default)]
    pub lte: Option<Value>,
    /// The length of a string (characters), array or object (a number or bounds).
    #[serde(default)]
    pub length: Option<Box<SizeDef>>,
    /// The value is a date in this form.
    #[serde(default)]
    pub date: Option<DateFormat>,
    /// The value is a date at most this long ago.
    #[serde(default)]
    pub newer_than: Option<Age>,
    /// The value is a date at least this long ago.
    #[serde(default)]
    pub older_than: Option<Age>,
    /// The value is a date before this one (a template).
    #[serde(default)]
    pub before: Option<String>,
    /// The value is a date after this one (a template).
    #[serde(default)]
    pub after: Option<String>,
    /// The value does not satisfy this predicate.
    #[serde(default)]
    pub not: Option<Box<PredicateDef>>,
}

/// A size: exactly `N`, or bounds (`{gte: 1, lte: 10}`) (deserialized in `shapes.rs`).
#[derive(Debug, Clone)]
pub enum SizeDef {
    /// Exactly this many.
    Exact(u64),
    /// A predicate on the number (`gt`, `gte`, `lt`, `lte`, `equals`, `not`, …).
    Rule(Box<PredicateDef>),
}

/// How a date is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateFormat {
    /// RFC 3339 date-time with an offset (`2026-12-03T10:00:00Z`), the ISO 8601 profile.
    Rfc3339,
    /// A calendar date `YYYY-MM-DD` (midnight UTC).
    Date,
    /// An HTTP date (`Thu, 03 Dec 2026 10:00:00 GMT`, RFC 9110 / RFC 2822).
    Http,
    /// Unix time in seconds (a number or digits).
    Unix,
    /// Unix time in milliseconds.
    UnixMs,
    /// Any of the forms above (a number is Unix seconds).
    Any,
}

/// Body text expectations.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyDef {
    /// Texts (templates) the body must contain.
    #[serde(default, deserialize_with = "super::nonempty::body_contains")]
    pub contains: Vec<String>,
    /// Texts (templates) the body must not contain.
    #[serde(default, deserialize_with = "super::nonempty::body_not_contains")]
    pub not_contains: Vec<String>,
    /// A regex (unanchored) the body text must match, or a list of them (each must match).
    #[serde(default, deserialize_with = "super::nonempty::body_matches")]
    pub matches: Option<OneOrMany>,
    /// The body must parse as JSON.
    #[serde(default)]
    pub json: Option<bool>,
    /// The body is exactly this text (a template).
    #[serde(default)]
    pub equals: Option<String>,
    /// The body is exactly the bytes of this file (relative to the suite file).
    #[serde(default)]
    pub equals_file: Option<String>,
    /// The body is JSON equal to this document (key order ignored, numbers compared by value;
    /// strings inside are templates).
    #[serde(default, deserialize_with = "present")]
    pub json_equals: Option<Value>,
    /// The body is JSON equal to the document in this file (relative to the suite file).
    #[serde(default)]
    pub json_equals_file: Option<String>,
    /// The body's size in bytes: a number, or `{ min, max }` bounds.
    #[serde(default)]
    pub size: Option<BodySizeDef>,
    /// The SHA-256 of the body, in hex (a template).
    #[serde(default)]
    pub sha256: Option<String>,
    /// The MD5 of the body, in hex (a template).
    #[serde(default)]
    pub md5: Option<String>,
    /// `true`: every check of this block sees the bytes as received (still encoded) instead
    /// of the decoded body.
    #[serde(default)]
    pub raw: Option<bool>,
}

/// A body size: exact, or bounds.
#[derive(Debug, Clone)]
pub enum BodySizeDef {
    /// Exactly this many bytes.
    Exact(u64),
    /// Within these bounds (inclusive).
    Range(SizeRange),
}

/// Inclusive bounds of a body size, in bytes.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeRange {
    /// At least this many bytes.
    #[serde(default)]
    pub min: Option<u64>,
    /// At most this many bytes.
    #[serde(default)]
    pub max: Option<u64>,
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
    /// The path selects exactly this many values, or a number of values within bounds
    /// (`{gte: 1, lte: 5}`).
    #[serde(default)]
    pub count: Option<SizeDef>,
    /// The path selects at least this many values.
    #[serde(default)]
    pub min_count: Option<usize>,
    /// Every selected string contains this text / array has an element equal to this.
    #[serde(default, deserialize_with = "present")]
    pub contains: Option<Value>,
    /// Every selected value has this length: characters of a string, elements of an array,
    /// entries of an object (a number or bounds).
    #[serde(default)]
    pub length: Option<Box<SizeDef>>,
    /// Every selected value is a date in this form.
    #[serde(default)]
    pub date: Option<DateFormat>,
    /// Every selected value is a date at most this long ago (`10m`).
    #[serde(default)]
    pub newer_than: Option<Age>,
    /// Every selected value is a date at least this long ago.
    #[serde(default)]
    pub older_than: Option<Age>,
    /// Every selected value is a date before this one (a template).
    #[serde(default)]
    pub before: Option<String>,
    /// Every selected value is a date after this one (a template).
    #[serde(default)]
    pub after: Option<String>,
    /// Every selected value fails this predicate.
    #[serde(default)]
    pub not: Option<Box<PredicateDef>>,
    /// At least one selected value satisfies this predicate.
    #[serde(default)]
    pub any: Option<Box<PredicateDef>>,
    /// Every selected value satisfies this predicate (at least one must be selected).
    #[serde(default)]
    pub all: Option<Box<PredicateDef>>,
    /// No selected value satisfies this predicate (nothing selected passes).
    #[serde(default)]
    pub none: Option<Box<PredicateDef>>,
    /// Judge only this selected value (0 = first, -1 = last) with the top-level predicates
    /// (`count`, `any`, `all` and `none` still see every value).
    #[serde(default)]
    pub nth: Option<i64>,
    /// `warning`: a failure is reported but does not fail the step.
    #[serde(default)]
    pub severity: Option<Severity>,
}

/// A JSON Schema: a path to a file (relative to the suite) or an inline schema.
#[derive(Debug, Clone)]
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
    /// `warning`: a body that does not match is reported but does not fail the step.
    #[serde(default)]
    pub severity: Option<Severity>,
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
    /// A regex over the body (or, with `header`, over the header's values: the first value
    /// that matches); the first capture group (or the whole match) is taken.
    #[serde(default)]
    pub regex: Option<String>,
    /// Redact the captured value everywhere.
    #[serde(default)]
    pub secret: bool,
    /// The value of the cookie of this name the response set (the last `Set-Cookie` of that
    /// name received during the exchange, redirect hops included).
    #[serde(default)]
    pub cookie: Option<String>,
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
