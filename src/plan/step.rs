//! Compiling the steps of a case: its form (one request, steps, or a DNS check), each
//! step's request, expectations, captures, retry and polling, and a static check that every
//! template names a variable that exists when the step runs and every URL can be sent.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde_saphyr::Spanned;

use super::request::{literal_scheme, parse_url, RequestTemplate};
use super::{
    Action, CaptureSource, HttpStep, PlannedCapture, PlannedStep, RetryPolicy, WaitPolicy,
};
use crate::expect::dns::DnsCheck;
use crate::expect::schema::compile_regex;
use crate::expect::{CompiledExpect, SchemaCache};
use crate::interp::{Part, Scope, Template};
use crate::suite::model::{CaptureDef, CaseDef, ExpectDef, RequestDef, RetryDef, WaitDef};
use crate::suite::{Diagnostic, LoadedSuite, Pos};

/// Most attempts a retry may ask for.
const MAX_ATTEMPTS: u32 = 100;
/// Largest backoff multiplier.
const MAX_BACKOFF: f64 = 10.0;
/// Shortest pause between two polls of `wait_until`.
const MIN_POLL: Duration = Duration::from_millis(10);

/// One step as written, whichever form the case uses.
struct StepParts<'a> {
    /// The step's name: the case's own (shared) for a single-request case.
    name: Arc<str>,
    request: &'a Spanned<RequestDef>,
    expect: Option<&'a Spanned<ExpectDef>>,
    captures: &'a BTreeMap<String, Spanned<CaptureDef>>,
    retry: Option<&'a Spanned<Box<RetryDef>>>,
    wait: Option<&'a WaitDef>,
}

/// Compiles the steps of one case.
pub struct StepCompiler<'a> {
    pub suite: &'a LoadedSuite,
    /// The case's name, matrix values rendered: the step name of a single-request case.
    pub case_name: &'a Arc<str>,
    /// The case's variables (and the environment) as a template sees them.
    pub scope: &'a Scope,
    /// Variables whose value is not known before the run (see `vars::Resolved`).
    pub opaque: &'a HashSet<String>,
    /// Report `${env.X}` without a default that is not set.
    pub require_env: bool,
    pub schemas: &'a mut SchemaCache,
    pub diags: &'a mut Vec<Diagnostic>,
    /// The selected profile's `auth`, if any.
    pub profile_auth: Option<&'a Spanned<crate::suite::model::AuthDef>>,
}

impl<'a> StepCompiler<'a> {
    fn diag(&mut self, pos: Option<Pos>, message: impl Into<String>) {
        let d = self.suite.diag(pos, message);
        self.diags.push(d);
    }

    /// The steps of `def`, or `None` after reporting every problem found.
    pub fn compile_case(mut self, def: &'a CaseDef, case_pos: Pos) -> Option<Vec<PlannedStep>> {
        if let Some(dns) = &def.dns {
            return self.dns_case(def, dns);
        }
        let parts = self.parts(def, case_pos)?;
        let before = self.diags.len();
        let mut captured: HashSet<String> = HashSet::new();
        // Sized exactly: a run holds one of these per case.
        let mut steps = Vec::with_capacity(parts.len());
        for p in parts {
            if let Some(step) = self.http_step(&p, &captured) {
                steps.push(step);
            }
            // A step's captures exist for the steps after it even when the step itself has an
            // error: using them later is not a second error.
            for name in p.captures.keys() {
                captured.insert(name.clone());
            }
        }
        (self.diags.len() == before).then_some(steps)
    }

    /// The steps as written, after checking that the case uses one form.
    fn parts(&mut self, def: &'a CaseDef, case_pos: Pos) -> Option<Vec<StepParts<'a>>> {
        let name = &def.name;
        let single = def.request.is_some();
        let problem = if single && !def.steps.is_empty() {
            Some(format!(
                "case `{name}` has both `request` and `steps`; use one form"
            ))
        } else if !single && def.steps.is_empty() {
            Some(format!(
                "case `{name}` needs a `request` or a list of `steps`"
            ))
        } else if !single && (def.retry.is_some() || def.wait_until.is_some()) {
            Some(format!(
                "case `{name}` uses `steps`: put `retry` and `wait_until` inside each step"
            ))
        } else if !single && (def.expect.is_some() || !def.capture.is_empty()) {
            Some(format!(
                "case `{name}` uses `steps`: put `expect` and `capture` inside each step"
            ))
        } else {
            None
        };
        if let Some(p) = problem {
            self.diag(Some(case_pos), p);
            return None;
        }
        let defaults = self.suite.file.defaults.retry.as_ref();
        Some(match &def.request {
            Some(request) => vec![StepParts {
                name: self.case_name.clone(),
                request,
                expect: def.expect.as_ref(),
                captures: &def.capture,
                retry: def.retry.as_ref().or(defaults),
                wait: def.wait_until.as_deref(),
            }],
            None => def
                .steps
                .iter()
                .map(|s| StepParts {
                    name: s.value.name.as_str().into(),
                    request: &s.value.request,
                    expect: s.value.expect.as_ref(),
                    captures: &s.value.capture,
                    retry: s.value.retry.as_ref().or(defaults),
                    wait: s.value.wait_until.as_deref(),
                })
                .collect(),
        })
    }

    /// One HTTP step (`None` after reporting its problems).
    fn http_step(&mut self, p: &StepParts, captured: &HashSet<String>) -> Option<PlannedStep> {
        let before = self.diags.len();
        let pos = Pos::from_loc(&p.request.referenced);
        let r = &p.request.value;
        let defaults = &self.suite.file.defaults;
        let mut errors = Vec::new();
        let compiled = RequestTemplate::compile(
            r,
            pos,
            &defaults.headers,
            defaults.timeout.map(|d| d.0),
            self.suite.dir(),
            self.schemas,
            &mut errors,
        );
        for (at, e) in errors {
            self.diag(Some(at), e);
        }
        let (compiled, located) = compiled;
        for (at, what, t) in &located {
            self.check_template(t, what, *at, captured);
            if *what == "url" {
                self.check_url(t, *at, captured);
            }
        }
        if let (Some(j), Some(super::BodyTemplate::Json(t))) =
            (&r.json, compiled.as_ref().and_then(|c| c.body.as_ref()))
        {
            let at = Pos::from_loc(&j.referenced);
            for t in t.templates() {
                self.check_template(t, "json body", at, captured);
            }
        }
        let epos = p.expect.map(|e| Pos::from_loc(&e.referenced));
        let dir = self.suite.dir().to_path_buf();
        let expect =
            match CompiledExpect::compile(p.expect.map(|e| &e.value), epos, self.schemas, &dir) {
                Ok(c) => Some(c),
                Err(errors) => {
                    for (at, e) in errors {
                        self.diag(at.or(epos), e.to_string());
                    }
                    None
                }
            };
        if let Some(c) = &expect {
            for (at, t) in c.templates() {
                self.check_template(t, "expectation", at.or(epos).unwrap_or(pos), captured);
            }
        }
        if let (Some(e), Some(c)) = (p.expect, &compiled) {
            if c.max_redirects == 0 {
                if let Some(rd) = &e.value.redirects {
                    self.diag(
                        Some(Pos::from_loc(&rd.referenced)),
                        "expect.redirects checks the redirects followed, but this request follows none: set `follow_redirects` on it",
                    );
                }
            }
        }
        let captures = self.captures(p.captures);
        let auth = self.auth(r, captured);
        let retry = p.retry.and_then(|r| self.retry(r)).map(Box::new);
        let wait = p.wait.and_then(|w| self.wait(w, pos)).map(Box::new);
        if self.diags.len() > before {
            return None;
        }
        Some(PlannedStep {
            name: p.name.clone(),
            pos,
            action: Arc::new(Action::Http(HttpStep {
                request: compiled?,
                expect: expect?,
                captures,
                auth,
            })),
            retry,
            wait,
            line_shift: 0,
        })
    }

    /// Check a URL that can be known now (it reads no capture, no unset environment
    /// variable): absolute, http or https, with a host. Otherwise its literal start, if it
    /// names a scheme, must name http or https.
    fn check_url(&mut self, url: &Arc<Template>, pos: Pos, captured: &HashSet<String>) {
        let knowable = url
            .vars()
            .all(|v| !captured.contains(v) && !self.opaque.contains(v))
            && url.parts.iter().all(|p| match p.source() {
                // Unset with a default: the default is what the run uses, unless this plan
                // tolerates unset variables (validate, list): the deployment's environment may
                // well set it.
                Part::Env(e) => {
                    self.scope.env.contains_key(&e.name)
                        || (e.default.is_some() && self.require_env)
                }
                _ => true,
            });
        if knowable {
            let key = (
                Arc::as_ptr(url) as usize,
                Arc::as_ptr(&self.scope.vars) as usize,
                Arc::as_ptr(&self.scope.texts) as usize,
            );
            if self.schemas.urls_ok.contains_key(&key) {
                return;
            }
            // A render error (an undefined variable) is reported by the template check.
            if let Ok(text) = url.render(self.scope) {
                match parse_url(&text) {
                    Ok(_) => {
                        let pins = (
                            url.clone(),
                            self.scope.vars.clone(),
                            self.scope.texts.clone(),
                        );
                        self.schemas.urls_ok.insert(key, pins);
                    }
                    Err(e) => self.diag(Some(pos), e.to_string()),
                }
            }
        } else if let Some(scheme) = literal_scheme(url) {
            if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
                self.diag(
                    Some(pos),
                    format!("unsupported URL scheme `{scheme}`: expected http or https"),
                );
            }
        }
    }

    /// Every variable a template reads is defined when the step runs; every `${env.X}`
    /// without a default is set (unless the plan tolerates unset ones).
    /// `captured`: the names captured by the case's earlier steps (besides its variables).
    fn check_template(&mut self, t: &Template, what: &str, pos: Pos, captured: &HashSet<String>) {
        for v in t.vars() {
            if !self.scope.vars.contains_key(v) && !captured.contains(v) {
                let mut names: Vec<&str> = self
                    .scope
                    .vars
                    .keys()
                    .chain(captured.iter())
                    .map(String::as_str)
                    .collect();
                names.sort_unstable();
                let listed = match names.len() {
                    0 => "none".to_string(),
                    n if n > 20 => format!("{}, … ({n} in all)", names[..20].join(", ")),
                    _ => names.join(", "),
                };
                self.diag(
                    Some(pos),
                    format!("undefined variable `{v}` in {what} (defined here: {listed})"),
                );
            }
        }
        if !self.require_env {
            return;
        }
        let missing: Vec<String> = t
            .required_env()
            .filter(|e| !self.scope.env.contains_key(*e))
            .map(str::to_string)
            .collect();
        for e in missing {
            self.diag(
                Some(pos),
                format!("environment variable `{e}` is not set (use `${{env.{e}:-default}}` for a default)"),
            );
        }
    }

    fn captures(&mut self, defs: &BTreeMap<String, Spanned<CaptureDef>>) -> Vec<PlannedCapture> {
        let mut out = Vec::with_capacity(defs.len());
        for (name, c) in defs {
            let at = Some(Pos::from_loc(&c.referenced));
            let c = &c.value;
            let source = match (&c.jsonpath, &c.header, &c.regex, &c.cookie) {
                (None, None, None, Some(k)) => Ok(CaptureSource::Cookie(k.clone())),
                (Some(p), None, None, None) => self
                    .schemas
                    .path(p)
                    .map(|path| CaptureSource::JsonPath(path, p.clone()))
                    .map_err(|e| e.to_string()),
                (None, Some(h), None, None) => Ok(CaptureSource::Header(h.to_ascii_lowercase())),
                (None, Some(h), Some(r), None) => compile_regex(r)
                    .map(|re| CaptureSource::HeaderRegex(h.to_ascii_lowercase(), re))
                    .map_err(|e| e.to_string()),
                (None, None, Some(r), None) => compile_regex(r)
                    .map(CaptureSource::Regex)
                    .map_err(|e| e.to_string()),
                _ => Err(format!(
                    "capture `{name}` needs exactly one of `jsonpath`, `header`, `regex` or `cookie` (or `header` with `regex`)"
                )),
            };
            match source {
                Ok(source) => out.push(PlannedCapture {
                    name: name.clone(),
                    source,
                    secret: c.secret,
                }),
                Err(e) => self.diag(at, format!("capture `{name}`: {e}")),
            }
        }
        out
    }

    /// The `auth` that applies to request `r`: its own, else the profile's, else the suite's
    /// `defaults.auth` (`none: true` gives none). Compiled where it is written (a block shared
    /// by many steps is reported at each step that uses it only once per position).
    fn auth(
        &mut self,
        r: &RequestDef,
        captured: &HashSet<String>,
    ) -> Option<Arc<super::auth::AuthTemplate>> {
        let def =
            r.auth
                .as_ref()
                .or(self.profile_auth)
                .or(self.suite.file.defaults.auth.as_ref())?;
        let pos = Pos::from_loc(&def.referenced);
        if let Some(own) = &r.auth {
            let sets = own.value.basic.is_some()
                || own.value.bearer.is_some()
                || own.value.oauth2.is_some();
            if sets
                && r.headers
                    .keys()
                    .any(|k| k.eq_ignore_ascii_case("authorization"))
            {
                self.diag(
                    Some(pos),
                    "the request has both `auth` and an `Authorization` header: keep one",
                );
                return None;
            }
        }
        let compiled = match super::auth::compile(def) {
            Ok(a) => a,
            Err((at, e)) => {
                if !self
                    .diags
                    .iter()
                    .any(|d| d.message == e && d.pos == Some(at) && d.file == self.suite.path)
                {
                    self.diag(Some(at), e);
                }
                return None;
            }
        };
        if matches!(compiled, super::auth::AuthTemplate::None) {
            return None;
        }
        for (what, t) in compiled.templates() {
            self.check_template(t, what, pos, captured);
        }
        if let super::auth::AuthTemplate::OAuth2(o) = &compiled {
            self.check_url(&o.token_url, pos, captured);
        }
        Some(Arc::new(compiled))
    }

    fn retry(&mut self, r: &Spanned<Box<RetryDef>>) -> Option<RetryPolicy> {
        let def = &r.value;
        let attempts = def.attempts.value;
        let mut ok = true;
        if !(1..=MAX_ATTEMPTS).contains(&attempts) {
            self.diag(
                Some(Pos::from_loc(&def.attempts.referenced)),
                format!("retry.attempts must be between 1 and {MAX_ATTEMPTS}, got {attempts}"),
            );
            ok = false;
        }
        let backoff = match &def.backoff {
            Some(b) if !(b.value.is_finite() && (1.0..=MAX_BACKOFF).contains(&b.value)) => {
                self.diag(
                    Some(Pos::from_loc(&b.referenced)),
                    format!(
                        "retry.backoff multiplies the interval after each attempt: it must be between 1 and {MAX_BACKOFF}, got {:?}",
                        b.value
                    ),
                );
                ok = false;
                1.0
            }
            Some(b) => b.value,
            None => 1.0,
        };
        ok.then(|| RetryPolicy {
            attempts,
            interval: def.interval.map(|d| d.0).unwrap_or(Duration::from_secs(1)),
            backoff,
        })
    }

    /// Polling settings; a pause under 10ms would poll as fast as the server answers.
    fn wait(&mut self, w: &WaitDef, pos: Pos) -> Option<WaitPolicy> {
        let interval = w.interval.map(|d| d.0).unwrap_or(Duration::from_secs(2));
        if interval < MIN_POLL {
            self.diag(
                Some(pos),
                format!(
                    "wait_until.interval must be at least {}ms, got {}ms",
                    MIN_POLL.as_millis(),
                    interval.as_millis()
                ),
            );
            return None;
        }
        Some(WaitPolicy {
            timeout: w.timeout.0,
            interval,
        })
    }

    /// A DNS check case: one step that asks DNS.
    fn dns_case(
        &mut self,
        def: &CaseDef,
        dns: &Spanned<Box<crate::suite::model::DnsCheckDef>>,
    ) -> Option<Vec<PlannedStep>> {
        let pos = Pos::from_loc(&dns.referenced);
        if def.request.is_some()
            || !def.steps.is_empty()
            || def.expect.is_some()
            || !def.capture.is_empty()
        {
            self.diag(
                Some(pos),
                format!(
                    "case `{}` is a DNS check: put its expectations under `dns.expect` (no `request`, `steps`, `expect` or `capture`)",
                    def.name
                ),
            );
            return None;
        }
        let check = match DnsCheck::compile(&dns.value, Some(pos)) {
            Ok(c) => c,
            Err(e) => {
                self.diag(Some(pos), e.to_string());
                return None;
            }
        };
        let before = self.diags.len();
        for t in check.templates() {
            self.check_template(t, "dns check", pos, &HashSet::new());
        }
        let defaults = self.suite.file.defaults.retry.as_ref();
        let retry = def
            .retry
            .as_ref()
            .or(defaults)
            .and_then(|r| self.retry(r))
            .map(Box::new);
        if self.diags.len() > before {
            return None;
        }
        Some(vec![PlannedStep {
            name: self.case_name.clone(),
            pos,
            action: Arc::new(Action::Dns(Box::new(check))),
            retry,
            wait: def
                .wait_until
                .as_deref()
                .and_then(|w| self.wait(w, pos))
                .map(Box::new),
            line_shift: 0,
        }])
    }
}
