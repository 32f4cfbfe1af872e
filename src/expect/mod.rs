//! Expectations: compiled once when the plan is built, judged against each response.
//!
//! One file per kind. Each check yields an [`Outcome`] naming what was expected and what
//! came back, so a failure explains itself without re-reading the suite.

pub(crate) mod body;
pub mod connection;
pub(crate) mod cookies;
pub mod dns;
pub mod dns_answer;
pub mod error;
pub(crate) mod headers;
pub(crate) mod json_diff;
pub(crate) mod jsonpath;
mod jsonpath_hint;
pub mod predicate;
pub(crate) mod redirects;
pub mod schema;
pub(crate) mod status;
pub mod text_rule;
pub mod tls;
pub mod tls_cert;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::interp::Scope;
use crate::suite::model::ExpectDef;
use crate::suite::Pos;

pub use schema::SchemaCache;

pub use crate::http::{Response, TlsObservation};

/// What an expectation checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutcomeKind {
    /// The status code (`expect.status`, or the implicit 2xx).
    Status,
    /// A response header (`expect.headers`).
    Header,
    /// The body text (`expect.body`).
    Body,
    /// A JSONPath assertion on the JSON body (`expect.jsonpath`).
    #[serde(rename = "jsonpath")]
    JsonPath,
    /// Validity against a JSON Schema (`expect.schema`).
    Schema,
    /// The time of the whole exchange (`expect.max_latency`).
    Latency,
    /// The certificate or the negotiated protocol (`expect.tls`).
    Tls,
    /// A DNS answer (a DNS check case).
    Dns,
    /// The connection a response came over: address, HTTP version (`expect.connection`).
    Connection,
    /// A cookie the response set (`expect.cookies`).
    Cookie,
    /// The redirects followed (`expect.redirects`).
    Redirect,
}

impl std::fmt::Display for OutcomeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OutcomeKind::Status => "status",
            OutcomeKind::Header => "header",
            OutcomeKind::Body => "body",
            OutcomeKind::JsonPath => "jsonpath",
            OutcomeKind::Schema => "schema",
            OutcomeKind::Latency => "latency",
            OutcomeKind::Tls => "tls",
            OutcomeKind::Dns => "dns",
            OutcomeKind::Connection => "connection",
            OutcomeKind::Cookie => "cookie",
            OutcomeKind::Redirect => "redirect",
        })
    }
}

/// The verdict of one expectation (also read back from JSON reports by `merge`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    /// What kind of expectation this is.
    pub kind: OutcomeKind,
    /// What was checked, e.g. `$.data.status one of ["healthy","degraded"]`.
    pub check: std::sync::Arc<str>,
    /// True when the expectation held.
    pub passed: bool,
    /// What was expected (on failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What came back (on failure; for a passed DNS records check, the answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    /// Why it failed, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Line of the expectation in the suite file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// `warning` when a failure of this expectation does not fail its step (`severity:
    /// warning` on the expectation); absent for the default, `critical`.
    #[serde(default, skip_serializing_if = "is_critical")]
    pub severity: crate::suite::model::Severity,
}

fn is_critical(s: &crate::suite::model::Severity) -> bool {
    *s == crate::suite::model::Severity::Critical
}

impl Outcome {
    fn new(kind: OutcomeKind, check: impl Into<std::sync::Arc<str>>, pos: Option<Pos>) -> Self {
        Outcome {
            kind,
            check: check.into(),
            passed: true,
            expected: None,
            actual: None,
            message: None,
            line: pos.map(|p| p.line),
            severity: Default::default(),
        }
    }

    /// A passed outcome that records what was seen (`actual`), for reports.
    fn seen(mut self, actual: impl Into<String>) -> Self {
        self.actual = Some(actual.into());
        self
    }

    fn fail(mut self, expected: impl Into<String>, actual: impl Into<String>, msg: String) -> Self {
        self.passed = false;
        self.expected = Some(expected.into());
        self.actual = Some(actual.into());
        self.message = Some(msg);
        self
    }
}

/// Expectations of one step, compiled.
#[derive(Debug, Default)]
pub struct CompiledExpect {
    /// The status expectation (`2xx` when the suite gives none).
    pub(crate) status: Option<status::StatusCheck>,
    /// Header expectations, one per `expect.headers` entry.
    pub(crate) headers: Vec<headers::HeaderCheck>,
    /// Boxed, like `tls`: rare, and a plan holds one of these per step.
    pub(crate) body: Option<Box<body::BodyCheck>>,
    /// JSONPath assertions, in the order written.
    pub(crate) jsonpath: Vec<jsonpath::JsonPathCheck>,
    /// The JSON Schema the body must be valid against.
    pub(crate) schema: Option<schema::SchemaCheck>,
    /// Latency budget for the whole exchange.
    pub(crate) max_latency: Option<Duration>,
    /// Certificate and negotiated-protocol expectations.
    pub(crate) tls: Option<Box<tls::TlsCheck>>,
    /// Prefixed to every failure message of the block (`expect.message`).
    pub(crate) message: Option<String>,
    /// Where the `expect` block is written.
    pub(crate) pos: Option<Pos>,
    /// Address and HTTP-version expectations.
    pub(crate) connection: Option<Box<connection::ConnectionCheck>>,
    /// Cookie expectations, one per `expect.cookies` entry.
    pub(crate) cookies: Vec<cookies::CookieCheck>,
    /// The redirect chain expectation.
    pub(crate) redirects: Option<Box<redirects::RedirectsCheck>>,
    /// Where `expect.status` is written (its failures are reported at this line, not at the
    /// block's).
    pub(crate) status_pos: Option<Pos>,
    /// `warn:` — expectations on the same response whose failures are warnings.
    pub(crate) warn: Option<Box<CompiledExpect>>,
}

/// A compile error with its position.
pub type CompileError = (Option<Pos>, ExpectError);

pub use error::ExpectError;

impl CompiledExpect {
    /// Compile the expectations of a step. Without an explicit status, `2xx` is expected.
    /// Every error of the block is returned, each at the position of its own key.
    pub fn compile(
        def: Option<&ExpectDef>,
        pos: Option<Pos>,
        schemas: &mut SchemaCache,
        suite_dir: &std::path::Path,
    ) -> Result<Self, Vec<CompileError>> {
        let default = ExpectDef::default();
        let def = def.unwrap_or(&default);
        let mut errors = Vec::new();
        let at = |s: &serde_saphyr::Location| Some(Pos::from_loc(s));
        let status = match &def.status {
            Some(s) => status::StatusCheck::compile(&s.value)
                .map_err(|e| errors.push((at(&s.referenced), e)))
                .ok(),
            None => Some(status::StatusCheck::success()),
        };
        let mut headers = Vec::with_capacity(def.headers.len());
        for (n, h) in &def.headers {
            let p = at(&h.referenced);
            match headers::HeaderCheck::compile(n, &h.value, p, schemas) {
                Ok(c) => headers.push(c),
                Err(es) => errors.extend(es.into_iter().map(|e| (p, e))),
            }
        }
        let body = def.body.as_ref().and_then(|b| {
            let p = at(&b.referenced);
            body::BodyCheck::compile(&b.value, p, schemas, suite_dir)
                .map(Box::new)
                .map_err(|es| errors.extend(es.into_iter().map(|e| (p, e))))
                .ok()
        });
        let mut jsonpath = Vec::with_capacity(def.jsonpath.len());
        for j in &def.jsonpath {
            let p = at(&j.referenced);
            match jsonpath::JsonPathCheck::compile(&j.value, p, schemas) {
                Ok(c) => jsonpath.push(c),
                Err(es) => errors.extend(es.into_iter().map(|e| (p, e))),
            }
        }
        let schema = def.schema.as_ref().and_then(|s| {
            let p = at(&s.referenced);
            schemas
                .check(&s.value, suite_dir, p)
                .map_err(|e| errors.push((p, e)))
                .ok()
        });
        let tls = def.tls.as_ref().and_then(|t| {
            tls::TlsCheck::compile(&t.value)
                .map(|c| {
                    Box::new(tls::TlsCheck {
                        pos: at(&t.referenced),
                        ..c
                    })
                })
                .map_err(|e| errors.push((at(&t.referenced), e)))
                .ok()
        });
        let connection = def.connection.as_ref().and_then(|c| {
            let p = at(&c.referenced);
            connection::ConnectionCheck::compile(&c.value, p)
                .map(Box::new)
                .map_err(|e| errors.push((p, e)))
                .ok()
        });
        let mut cookie_checks = Vec::with_capacity(def.cookies.len());
        for (n, c) in &def.cookies {
            let p = at(&c.referenced);
            match cookies::CookieCheck::compile(n, &c.value, p, schemas) {
                Ok(c) => cookie_checks.push(c),
                Err(es) => errors.extend(es.into_iter().map(|e| (p, e))),
            }
        }
        let redirect_check = def.redirects.as_ref().and_then(|r| {
            let p = at(&r.referenced);
            redirects::RedirectsCheck::compile(&r.value, p)
                .map(Box::new)
                .map_err(|es| errors.extend(es.into_iter().map(|e| (p, e))))
                .ok()
        });
        let warn = def.warn.as_ref().and_then(|w| {
            let p = at(&w.referenced);
            match Self::compile(Some(&w.value), p, schemas, suite_dir) {
                Ok(mut c) => {
                    if w.value.status.is_none() {
                        // No implicit 2xx inside `warn`: the block checks what it names.
                        c.status = None;
                    }
                    Some(Box::new(c))
                }
                Err(es) => {
                    errors.extend(es);
                    None
                }
            }
        });
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(CompiledExpect {
            cookies: cookie_checks,
            redirects: redirect_check,
            warn,
            tls,
            status,
            headers,
            body,
            jsonpath,
            schema,
            max_latency: def.max_latency.map(|d| d.0),
            message: def.message.clone(),
            pos,
            status_pos: def.status.as_ref().and_then(|s| at(&s.referenced)),
            connection,
        })
    }

    /// Every template the expectations evaluate, with where it is written (for the plan's
    /// check of the variables they use).
    pub fn templates(&self) -> Vec<(Option<Pos>, &crate::interp::Template)> {
        let mut out = Vec::new();
        for h in &self.headers {
            out.extend(h.templates().map(|t| (h.pos, t)));
        }
        if let Some(b) = &self.body {
            out.extend(b.templates().map(|t| (b.pos, t)));
        }
        for j in &self.jsonpath {
            out.extend(j.templates().into_iter().map(|t| (j.pos, t)));
        }
        if let Some(t) = &self.tls {
            let at = t.pos.or(self.pos);
            out.extend(t.templates().into_iter().map(|tpl| (at, tpl)));
        }
        if let Some(c) = &self.connection {
            out.extend(c.templates().map(|t| (c.pos, t)));
        }
        for c in &self.cookies {
            out.extend(c.templates().map(|t| (c.pos, t)));
        }
        if let Some(r) = &self.redirects {
            out.extend(r.templates().map(|t| (r.pos, t)));
        }
        if let Some(w) = &self.warn {
            out.extend(w.templates());
        }
        out
    }

    /// The TLS expectations of the block or of its `warn` block (they need a handshake).
    pub fn tls_check(&self) -> Option<&tls::TlsCheck> {
        self.tls
            .as_deref()
            .or_else(|| self.warn.as_ref().and_then(|w| w.tls_check()))
    }

    /// Judge a response. Every expectation is evaluated, so one report shows all problems.
    /// `redactor` masks secrets in what a check quotes before the check cuts it.
    pub fn evaluate(
        &self,
        resp: &Response,
        scope: &Scope,
        redactor: &crate::redact::Redactor,
    ) -> Vec<Outcome> {
        let mut out = Vec::new();
        if let Some(s) = &self.status {
            out.push(s.evaluate(resp, self.status_pos.or(self.pos)));
        }
        // Each expectation at its own line (a failure annotates the key that failed).
        for h in &self.headers {
            out.push(h.evaluate(resp, scope, h.pos.or(self.pos)));
        }
        if let Some(b) = &self.body {
            out.extend(b.evaluate(resp, scope, b.pos.or(self.pos), redactor));
        }
        for j in &self.jsonpath {
            out.push(j.evaluate(resp, scope));
        }
        if let Some(s) = &self.schema {
            out.push(s.evaluate(resp));
        }
        if let Some(t) = &self.tls {
            out.extend(t.evaluate(resp, scope, self.pos));
        }
        if let Some(c) = &self.connection {
            out.extend(c.evaluate(resp, scope));
        }
        for c in &self.cookies {
            out.extend(c.evaluate(resp, scope));
        }
        if let Some(r) = &self.redirects {
            out.extend(r.evaluate(resp, scope));
        }
        if let Some(max) = self.max_latency {
            let o = Outcome::new(
                OutcomeKind::Latency,
                format!("latency ≤ {} ms", max.as_millis()),
                self.pos,
            );
            out.push(if resp.elapsed <= max {
                o
            } else {
                o.fail(
                    format!("≤ {} ms", max.as_millis()),
                    format!("{} ms", resp.elapsed.as_millis()),
                    format!(
                        "latency budget exceeded: {} ms > {} ms",
                        resp.elapsed.as_millis(),
                        max.as_millis()
                    ),
                )
            });
        }
        if let Some(w) = &self.warn {
            out.extend(w.evaluate(resp, scope, redactor).into_iter().map(|mut o| {
                o.severity = crate::suite::model::Severity::Warning;
                o
            }));
        }
        if let Some(prefix) = &self.message {
            for o in out.iter_mut().filter(|o| !o.passed) {
                o.message = o.message.take().map(|m| format!("{prefix}: {m}"));
            }
        }
        out
    }
}

/// Show a JSON value compactly, bounded in length.
pub fn show(v: &Value) -> String {
    let s = if v.is_object() || v.is_array() {
        let mut masked = v.clone();
        crate::redact::mask_keys(&mut masked);
        masked.to_string()
    } else {
        v.to_string()
    };
    truncate(&s, MEMORY_BOUND)
}

/// Most characters an evaluator keeps of a value it reports: a bound on memory only. What a
/// report shows is cut later, after secrets are masked (see `runner::sanitize`), so that a cut
/// never leaves part of a secret.
pub const MEMORY_BOUND: usize = 4096;

/// Truncate text to `max` characters, marking the cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}
