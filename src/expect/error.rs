//! Why an expectation of a suite cannot be compiled (the plan turns each into a diagnostic
//! at the position of the expectation).

use std::path::PathBuf;
use std::sync::Arc;

use crate::http::RuleError;
use crate::interp::TemplateError;

/// A problem of one expectation, found when the plan is built.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ExpectError {
    /// `status: []`.
    #[error("status list is empty")]
    EmptyStatusList,
    /// A status code outside 100–599.
    #[error("status {0} is not an HTTP status (100-599)")]
    StatusRange(u16),
    /// A status that is neither a code nor a class such as `2xx`.
    #[error("invalid status `{0}`, expected a code (200), a class (2xx) or a list")]
    Status(String),
    /// A regular expression that does not compile.
    #[error("invalid regex `{pattern}`: {reason}")]
    Regex {
        /// The pattern as written.
        pattern: String,
        /// The regex crate's reason, on one line.
        reason: String,
    },
    /// A number written in the suite that YAML cannot keep exactly (an integer beyond 2^53).
    #[error(
        "{field}: the number `{number}` cannot be compared exactly (YAML reads integers beyond 2^53 as floats); quote the integer, e.g. '1000000000000000000001'"
    )]
    Inexact {
        /// Where it is written (`equals`, `gt`, …).
        field: String,
        /// The number as read.
        number: String,
    },
    /// A JSONPath (RFC 9535) that does not parse.
    #[error("invalid JSONPath `{path}`: {reason}")]
    JsonPath {
        /// The path as written.
        path: String,
        /// Why it does not parse.
        reason: String,
    },
    /// A `type:` that is not a JSON type.
    #[error(
        "unknown type `{0}`, expected one of string, number, integer, boolean, object, array, null"
    )]
    Type(String),
    /// A numeric bound (`gt`, `gte`, `lt`, `lte`) that is not a number or a template.
    #[error("`{op}` expects a number or a template such as \"${{min}}\", got {got}")]
    Bound {
        /// The bound's key.
        op: &'static str,
        /// What was written.
        got: String,
    },
    /// A template that does not parse, in the named field.
    #[error("{field}: {source}")]
    Template {
        /// Where the template is (`body.contains`, `header `x``, …).
        field: String,
        /// Why it does not parse.
        #[source]
        source: TemplateError,
    },
    /// An error inside the expectation of one response header.
    #[error("header `{name}`: {source}")]
    InHeader {
        /// The header.
        name: String,
        /// The error.
        #[source]
        source: Box<ExpectError>,
    },
    /// An error inside the `body` block.
    #[error("body.{field}: {source}")]
    InBody {
        /// The key of the block.
        field: &'static str,
        /// The error.
        #[source]
        source: Box<ExpectError>,
    },
    /// A header name that is not a valid HTTP header name.
    #[error("invalid header name `{0}`")]
    HeaderName(String),
    /// A header expectation with nothing to check.
    #[error("header `{0}` has no rule, expected equals, contains, matches, present or absent")]
    NoHeaderRule(String),
    /// `tls.protocol` that is not a TLS version.
    #[error("tls.protocol `{0}` is not a TLS version: use \"TLSv1.2\" or \"TLSv1.3\"")]
    TlsProtocol(String),
    /// `tls.http_version` that is not an HTTP version.
    #[error("tls.http_version `{0}` is not an HTTP version: use \"HTTP/1.1\" or \"HTTP/2\"")]
    HttpVersion(String),
    /// A schema file that cannot be read.
    #[error("schema file `{path}` cannot be read: {source}")]
    SchemaRead {
        /// The file, as the suite names it (joined to the suite's folder).
        path: PathBuf,
        /// The read error.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// A schema file that is not JSON.
    #[error("schema file `{path}` is not valid JSON: {source}")]
    SchemaJson {
        /// The file.
        path: PathBuf,
        /// The parse error.
        #[source]
        source: Arc<serde_json::Error>,
    },
    /// A schema the validator rejects (or whose `$ref`s cannot be resolved).
    #[error("invalid JSON Schema {label}: {reason}")]
    SchemaInvalid {
        /// The schema's title or file.
        label: String,
        /// The validator's reason.
        reason: String,
    },
    /// `schema:` with both or neither of `file` and `inline`.
    #[error("schema needs exactly one of `file` or `inline`")]
    SchemaSource,
    /// A path that has no `file://` URI.
    #[error("cannot make a file URI of `{0}`")]
    FileUri(PathBuf),
    /// `dns.type` that is not a record type.
    #[error("dns.type `{0}` is not a DNS record type (A, AAAA, CNAME, TXT, MX, NS…)")]
    RecordType(String),
    /// `dns.server` that is not `ADDR[:PORT]`.
    #[error(transparent)]
    DnsServer(#[from] RuleError),
    /// An address of `dns.expect.addresses_in` that is not an IP address.
    #[error("dns.expect.addresses_in: `{0}` is not an IP address")]
    Address(String),
    /// A range of `dns.expect.cidr` that is not a CIDR range.
    #[error("invalid CIDR range `{0}`, expected e.g. 192.0.2.0/24")]
    Cidr(String),
    /// A whole-body expectation that cannot be compiled (a file, a digest, a size).
    #[error(transparent)]
    Body(#[from] BodyError),
    /// Address expectations on a record type that has no addresses.
    #[error("dns.expect.addresses_in and dns.expect.cidr need type A or AAAA, not {0}")]
    AddressType(String),
    /// A text rule with none of `equals`, `contains`, `matches`.
    #[error("{0} has no rule, expected equals, contains or matches")]
    NoTextRule(String),
    /// A rule block with nothing to check.
    #[error("{field} has nothing to check, expected {expected}")]
    EmptyRule {
        /// Where it is written (`tls.san`, `dns.expect.mx`, …).
        field: &'static str,
        /// The keys it may have.
        expected: &'static str,
    },
    /// An error inside a named field.
    #[error("{field}: {source}")]
    InField {
        /// The field (`tls.subject.cn`, …).
        field: String,
        /// The error.
        #[source]
        source: Box<ExpectError>,
    },
    /// A `tls.fingerprint_sha256` that is not 32 bytes of hex.
    #[error(
        "tls.fingerprint_sha256 `{0}` is not a SHA-256 fingerprint: expected 64 hex digits, colons allowed (AB:CD:…, as `openssl x509 -noout -fingerprint -sha256` prints it)"
    )]
    Fingerprint(String),
    /// A `tls.serial` that is not hex.
    #[error("tls.serial `{0}` is not a serial number in hex (e.g. 1000 or 0a:1b:2c)")]
    Serial(String),
    /// A date bound that is not a date.
    #[error(
        "{field} `{value}` is not a date: expected YYYY-MM-DD (midnight UTC) or an RFC 3339 date-time such as 2027-01-01T00:00:00Z"
    )]
    CertDate {
        /// `tls.not_after.before`, …
        field: String,
        /// What was written.
        value: String,
    },
    /// An IP address of a rule that is not one.
    #[error("{field}: `{value}` is not an IP address")]
    IpAddress {
        /// `connection.ip`, …
        field: &'static str,
        /// What was written.
        value: String,
    },
    /// `connection.http_version` that is not an HTTP version.
    #[error(
        "connection.http_version `{0}` is not an HTTP version: use \"HTTP/1.0\", \"HTTP/1.1\" or \"HTTP/2\""
    )]
    ConnectionHttpVersion(String),
    /// Port 0, which nothing can be connected to.
    #[error("{0}: port 0 cannot be connected to, expected 1-65535")]
    PortZero(&'static str),
    /// A DNS answer rule on a record type that cannot have it.
    #[error("dns.expect.{key} needs type {need}, not {got}")]
    DnsRuleType {
        /// The rule (`txt`, `mx`, `reachable`).
        key: &'static str,
        /// The type(s) it needs.
        need: &'static str,
        /// The check's type.
        got: String,
    },
    /// A predicate block (`not`, `any`, `all`, `none`, `length`) with no key in it.
    #[error(
        "`{0}` needs at least one predicate (equals, matches, gt, length, newer_than, not, …)"
    )]
    EmptyPredicate(&'static str),
    /// Predicate blocks nested too deep.
    #[error("predicates nest more than {0} deep")]
    PredicateDepth(usize),
    /// A date literal (`before`, `after`) that is not a date.
    #[error("{field}: `{got}` is not a date, expected RFC 3339 (2026-12-03T10:00:00Z), YYYY-MM-DD, an HTTP date or a template")]
    Date {
        /// `before` or `after`.
        field: &'static str,
        /// What was written.
        got: String,
    },
    /// `status: {}` with neither `not` nor `not_in`.
    #[error("status rule needs `not` or `not_in`")]
    EmptyStatusRule,
    /// A cookie expectation that cannot be checked as written.
    #[error("cookie `{name}`: {reason}")]
    Cookie {
        /// The cookie's name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A redirect expectation that cannot be checked as written.
    #[error("redirects: {0}")]
    Redirects(String),
}

/// Why a whole-body expectation (`expect.body`) cannot be compiled.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BodyError {
    /// A file the body is compared with cannot be read.
    #[error("body.{field}: file `{path}` cannot be read: {source}")]
    Read {
        /// `equals_file` or `json_equals_file`.
        field: &'static str,
        /// The file, joined to the suite's folder.
        path: PathBuf,
        /// The read error.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// A file the body is compared with is larger than smokegate reads.
    #[error("body.{field}: file `{path}` is larger than {limit} bytes")]
    TooLarge {
        /// `equals_file` or `json_equals_file`.
        field: &'static str,
        /// The file.
        path: PathBuf,
        /// The bound.
        limit: u64,
    },
    /// The document of `json_equals_file` is not JSON.
    #[error("body.json_equals_file: `{path}` is not valid JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error.
        #[source]
        source: Arc<serde_json::Error>,
    },
    /// A digest that is not hex of the right length.
    #[error("body.{field}: `{got}` is not a {field} digest: expected {len} hex digits")]
    Digest {
        /// `sha256` or `md5`.
        field: &'static str,
        /// What was written.
        got: String,
        /// Hex digits of the digest.
        len: usize,
    },
    /// `size: { min, max }` with neither bound, or min above max.
    #[error("body.size: {0}")]
    Size(String),
    /// `equals` and `equals_file` (or `json_equals` and `json_equals_file`) together.
    #[error("body: give one of `{0}` and `{1}`, not both")]
    Both(&'static str, &'static str),
}
