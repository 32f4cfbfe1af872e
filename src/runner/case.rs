//! Running one case: its steps in order, with retries, polling, captures and redaction of
//! secret captures as soon as they exist.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::events::{CaseResult, RequestSummary, ResponseSummary, Status, StepResult};
use crate::excerpt::body_excerpt;
use crate::expect::dns::DnsCheck;
use crate::expect::tls::TlsObservation;
use crate::expect::Response;
use crate::http::{CookieJar, HttpClient, HttpError, Sent};
use crate::interp::{value_text, Scope};
use crate::plan::{
    Action, CaptureSource, HttpStep, Plan, PlannedCapture, PlannedCase, PlannedStep,
};
use crate::redact::Redactor;
use crate::suite::model::Severity;

use super::request::prepare;

/// Longest pause between two attempts of a step.
const MAX_PAUSE: Duration = Duration::from_secs(300);

/// Maximum characters of a body excerpt in reports.
pub const EXCERPT_CHARS: usize = 500;

/// Shared by every case of a run.
#[derive(Debug)]
pub struct Ctx {
    /// The plan being run.
    pub plan: Arc<Plan>,
    /// The run's one HTTP client.
    pub client: HttpClient,
    /// OAuth2 tokens of the run, by credentials.
    pub tokens: super::oauth2::TokenCache,
    /// Set when the run is winding down (a first signal): long-running work, such as a
    /// sampled case, starts nothing more and settles.
    pub stopping: super::samples::Stopping,
}

impl Ctx {
    fn redactor(&self) -> &Redactor {
        &self.plan.redactor
    }
}

/// What a running case has done so far: the dispatcher reads it when the run stops the case
/// mid-way (deadline, signal), so finished steps keep their results and the step that was
/// running is named.
#[derive(Debug)]
pub struct Progress {
    /// When the case started (RFC 3339) and its clock.
    pub started_at: String,
    /// The case's clock.
    pub start: Instant,
    /// The steps finished so far, in order.
    pub steps: Vec<StepResult>,
    /// The step running now (index into the case's steps) and since when.
    pub running: Option<(usize, Instant)>,
    /// The running step's attempt (1 for the first; more with `retry` and `wait_until`).
    pub attempt: u32,
    /// Why the running step's previous attempt did not pass (redacted), if it had one.
    pub last_failure: Option<String>,
    /// A sampled case: the samples judged so far.
    pub samples: Option<Box<super::samples::Tally>>,
}

impl Progress {
    /// A case starting now.
    pub fn starting() -> Arc<Mutex<Progress>> {
        Arc::new(Mutex::new(Progress {
            started_at: chrono::Utc::now().to_rfc3339(),
            start: Instant::now(),
            steps: Vec::new(),
            running: None,
            attempt: 0,
            last_failure: None,
            samples: None,
        }))
    }
}

pub(super) fn lock(p: &Mutex<Progress>) -> std::sync::MutexGuard<'_, Progress> {
    p.lock().unwrap_or_else(|e| e.into_inner())
}

/// The result of a case stopped by the run before it finished: finished steps as they
/// ended, the running step an error naming `why`, the rest not run.
pub fn interrupted(
    plan: &Plan,
    case: &PlannedCase,
    progress: &Mutex<Progress>,
    why: &str,
) -> CaseResult {
    let p = lock(progress);
    if let (Some(tally), Some(policy)) = (&p.samples, &case.samples) {
        let why = format!("did not finish: {why}");
        return super::samples::settle(
            plan,
            case,
            policy,
            tally,
            &p.started_at,
            p.start,
            Some(why),
        );
    }
    let mut steps = p.steps.clone();
    let mut message = format!("did not finish: {why}");
    if let Some((k, since)) = p.running {
        let step = &case.steps()[k];
        let mut r = skipped_step(step, "");
        r.status = Status::Error;
        r.duration_ms = since.elapsed().as_millis() as u64;
        r.message = Some(format!(
            "did not finish: {why} (running for {} ms)",
            r.duration_ms
        ));
        if case.compiled.len() > 1 {
            message = format!("did not finish: {why}, during step `{}`", step.name);
        }
        steps.push(r);
    }
    for step in &case.steps()[steps.len()..] {
        steps.push(skipped_step(step, &format!("not run: {why}")));
    }
    finish_case(
        plan,
        case,
        Status::Error,
        Some(message),
        p.started_at.clone(),
        p.start.elapsed(),
        steps,
        false,
    )
}

/// Run one case to completion, keeping `progress` up to date.
pub async fn run_case(ctx: Arc<Ctx>, index: usize, progress: Arc<Mutex<Progress>>) -> CaseResult {
    let case = &ctx.plan.cases[index];
    if case.samples.is_some() {
        return super::samples::run(ctx.clone(), index, progress).await;
    }
    let (started_at, start) = {
        let p = lock(&progress);
        (p.started_at.clone(), p.start)
    };
    let mut scope = case_scope(&ctx, case);
    let mut status = Status::Passed;
    let mut message = None;
    // One cookie jar per case, shared by its steps.
    let jar = CookieJar::new();
    for (k, step) in case.steps().iter().enumerate() {
        if status != Status::Passed {
            let skipped = skipped_step(step, "not run: an earlier step did not pass");
            lock(&progress).steps.push(skipped);
            continue;
        }
        lock(&progress).running = Some((k, Instant::now()));
        let r = run_step(&ctx, step, &mut scope, &jar, &progress).await;
        if r.status != Status::Passed {
            status = r.status;
            message = r.message.as_ref().map(|m| {
                if case.compiled.len() > 1 {
                    format!("step `{}`: {m}", step.name)
                } else {
                    m.clone()
                }
            });
        }
        let mut p = lock(&progress);
        p.running = None;
        p.attempt = 0;
        p.last_failure = None;
        p.steps.push(r);
    }
    let steps = std::mem::take(&mut lock(&progress).steps);
    let flaky = status == Status::Passed && steps.iter().any(|s| !s.failed_attempts.is_empty());
    finish_case(
        &ctx.plan,
        case,
        status,
        message,
        started_at,
        start.elapsed(),
        steps,
        flaky,
    )
}

/// The variables a case starts with.
pub(super) fn case_scope(ctx: &Ctx, case: &PlannedCase) -> Scope {
    Scope {
        vars: case.vars.clone(),
        texts: case.texts.clone(),
        env: ctx.plan.env.clone(),
        run_id: ctx.plan.run_id.clone(),
        lenient_env: false,
    }
}

/// Build a case result (also used for skipped and cancelled cases).
#[allow(clippy::too_many_arguments)]
pub fn finish_case(
    plan: &Plan,
    case: &PlannedCase,
    status: Status,
    message: Option<String>,
    started_at: String,
    elapsed: Duration,
    steps: Vec<StepResult>,
    flaky: bool,
) -> CaseResult {
    let suite = &plan.suites[case.suite];
    let warnings = steps
        .iter()
        .flat_map(|s| {
            s.warnings.iter().map(move |w| {
                if case.compiled.len() > 1 {
                    format!("step `{}`: {w}", s.name)
                } else {
                    w.clone()
                }
            })
        })
        .collect();
    CaseResult {
        id: format!("{}/{}", suite.name, case.name),
        suite: suite.name.clone(),
        // Relative to the working directory: reports name `suites/x.yaml`, not a path of the
        // machine that ran.
        suite_file: crate::report::location::relative_to_cwd(&suite.path.display().to_string()),
        name: case.name.to_string(),
        tags: case.tags.to_vec(),
        severity: case.severity,
        status,
        flaky,
        message,
        started_at,
        duration_ms: elapsed.as_millis() as u64,
        line: case.pos.line,
        steps,
        warnings,
        samples: None,
        bake: None,
    }
}

/// A step that was not run.
pub fn skipped_step(step: &PlannedStep, why: &str) -> StepResult {
    StepResult {
        name: step.name.to_string(),
        status: Status::Skipped,
        attempts: 0,
        duration_ms: 0,
        request: None,
        response: None,
        expectations: Vec::new(),
        captures: Vec::new(),
        error: None,
        message: Some(why.to_string()),
        failed_attempts: Vec::new(),
        line: step.pos.line,
        warnings: Vec::new(),
    }
}

async fn run_step(
    ctx: &Ctx,
    step: &PlannedStep,
    scope: &mut Scope,
    jar: &CookieJar,
    progress: &Mutex<Progress>,
) -> StepResult {
    let start = Instant::now();
    let (max_attempts, mut interval, backoff) = match &step.retry {
        Some(r) => (r.attempts, r.interval, r.backoff),
        None => (1, Duration::ZERO, 1.0),
    };
    let wait_deadline = step.wait.as_ref().map(|w| start + w.timeout);
    let backoff = if let Some(w) = &step.wait {
        // Polling keeps a steady interval; retry settings do not apply.
        interval = w.interval;
        1.0
    } else {
        backoff
    };
    interval = interval.min(MAX_PAUSE);
    let mut failed_attempts = Vec::new();
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        lock(progress).attempt = attempt;
        let mut result = attempt_once(ctx, step, scope, jar).await;
        // What reports may show of it: secrets masked, server text made inert, bounded.
        super::sanitize::step(&mut result, ctx.redactor());
        result.attempts = attempt;
        let more = match wait_deadline {
            Some(d) => Instant::now() + interval < d,
            None => attempt < max_attempts,
        };
        if result.status == Status::Passed || !more {
            if result.status != Status::Passed && wait_deadline.is_some() {
                let waited = step
                    .wait
                    .as_ref()
                    .map(|w| w.timeout.as_secs_f64())
                    .unwrap_or(0.0);
                result.message = result.message.map(|m| {
                    format!("{m} (still failing after {attempt} attempts over {waited:.0}s)")
                });
            } else if result.status != Status::Passed && attempt > 1 {
                result.message = result
                    .message
                    .map(|m| format!("{m} (after {attempt} attempts)"));
            }
            // Polling until a condition holds is intended, not flaky: only retries count.
            if wait_deadline.is_none() {
                result.failed_attempts = failed_attempts;
            }
            result.duration_ms = start.elapsed().as_millis() as u64;
            return result;
        }
        let why = result.message.unwrap_or_else(|| "failed".into());
        lock(progress).last_failure = Some(why.clone());
        failed_attempts.push(why);
        tokio::time::sleep(interval).await;
        // Backoff is bounded at plan time (1–10); the pause is capped at 300s either way.
        interval = Duration::try_from_secs_f64(interval.as_secs_f64() * backoff)
            .unwrap_or(MAX_PAUSE)
            .min(MAX_PAUSE);
    }
}

pub(super) async fn attempt_once(
    ctx: &Ctx,
    step: &PlannedStep,
    scope: &mut Scope,
    jar: &CookieJar,
) -> StepResult {
    let start = Instant::now();
    let mut out = skipped_step(step, "");
    out.message = None;
    out.attempts = 1;
    let shift = step.line_shift;
    let mut out = match &*step.action {
        Action::Dns(check) => dns_attempt(ctx, check, scope, out, start).await,
        Action::Http(h) => http_attempt(ctx, h, scope, jar, out, start).await,
    };
    // A shared action reports the lines of the case it was compiled for.
    if shift != 0 {
        for o in &mut out.expectations {
            o.line = o.line.map(|l| l.saturating_add_signed(shift));
        }
    }
    out
}

async fn http_attempt(
    ctx: &Ctx,
    step: &HttpStep,
    scope: &mut Scope,
    jar: &CookieJar,
    mut out: StepResult,
    start: Instant,
) -> StepResult {
    let prepared = match prepare(&step.request, scope, ctx.client.config().default_timeout) {
        Ok(p) => p,
        Err(e) => {
            out.status = Status::Error;
            out.message = Some(format!("cannot build request: {e}"));
            return out;
        }
    };
    // Whatever it sends as a credential is a secret from now on (a server may echo it).
    let mut prepared = prepared;
    if let Some(auth) = &step.auth {
        let applied = super::auth::apply(
            auth,
            &mut prepared,
            scope,
            ctx.redactor(),
            &ctx.tokens,
            &ctx.client,
        )
        .await;
        if let Err(e) = applied {
            out.status = Status::Error;
            out.message = Some(e.to_string());
            return out;
        }
    }
    if let Err(e) = super::credentials::register(&mut prepared, ctx.redactor()) {
        out.status = Status::Error;
        out.message = Some(format!("cannot send the request: {e}"));
        return out;
    }
    let mut sent = Sent::default();
    let result = ctx
        .client
        .send_with_jar(&prepared, &mut sent, Some(jar))
        .await;
    super::cookies::register(&sent, jar, ctx.redactor());
    out.request = Some(RequestSummary {
        method: prepared.method.to_string(),
        url: prepared.url.to_string(),
        connected_to: sent.remote.map(|a| a.to_string()),
        resolved_by: sent.resolution.as_ref().map(|r| r.by),
        fallback_cause: sent
            .resolution
            .as_ref()
            .and_then(|r| r.fallback_cause.clone()),
        connect_to: sent.resolution.as_ref().and_then(|r| r.connect_to.clone()),
        proxy: sent.proxy.clone(),
        resolved_addrs: match (&sent.remote, &sent.resolution) {
            (None, Some(r)) => r.addrs.iter().map(ToString::to_string).collect(),
            _ => Vec::new(),
        },
        redirects: sent.redirects.clone(),
        hops: sent.hops.clone(),
    });
    out.duration_ms = start.elapsed().as_millis() as u64;
    let mut resp = match result {
        Ok(r) => r,
        Err(e) => {
            out.status = Status::Error;
            out.message = Some(transport_message(&e, &prepared.url));
            out.error = Some(e);
            return out;
        }
    };
    resp.proxy = sent.proxy.clone();
    if step.expect.tls_check().is_some_and(|t| t.needs_handshake()) {
        resp.tls = Some(observe_tls(ctx, &sent, &prepared.url).await);
    }
    let outcomes = step.expect.evaluate(&resp, scope, ctx.redactor());
    // One response, judged once: failures of `severity: warning` expectations are reported
    // but do not fail the step.
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.passed && o.severity == Severity::Critical)
        .filter_map(|o| o.message.clone())
        .collect();
    out.warnings = outcomes
        .iter()
        .filter(|o| !o.passed && o.severity == Severity::Warning)
        .filter_map(|o| o.message.clone())
        .collect();
    out.expectations = outcomes;
    out.status = if failed.is_empty() {
        Status::Passed
    } else {
        Status::Failed
    };
    if let Some(first) = failed.first() {
        out.message = Some(match failed.len() {
            1 => first.clone(),
            n => format!("{first} (and {} more failed expectations)", n - 1),
        });
    }
    if out.status == Status::Passed {
        if let Err(e) = capture(
            ctx.redactor(),
            &step.captures,
            &resp,
            scope,
            &mut out.captures,
        ) {
            out.status = Status::Failed;
            out.message = Some(e);
        }
    }
    out.response = Some(ResponseSummary {
        status: resp.status,
        http_version: resp.http_version.clone(),
        body_bytes: resp.body.len(),
        body_excerpt: (out.status != Status::Passed)
            .then(|| body_excerpt(&resp.body, EXCERPT_CHARS, ctx.redactor())),
        tls: resp.tls.as_ref().and_then(|t| t.result.clone().ok()),
        location: unfollowed_location(&resp, ctx.redactor()),
        content_encoding: resp.wire.as_ref().map(|w| w.codings.join(", ")),
        wire_bytes: resp.wire.as_ref().map(|_| resp.wire_body().len()),
        decoded: resp.wire.as_ref().map(|_| resp.decoded()),
    });
    out
}

/// The `Location` of a redirect response (one the step did not follow, or it would not be
/// the final response): redacted first, then control characters escaped, then bounded.
fn unfollowed_location(resp: &Response, redactor: &Redactor) -> Option<String> {
    if !(300..400).contains(&resp.status) {
        return None;
    }
    let raw = resp.headers.get(reqwest::header::LOCATION)?;
    let text = crate::text::header_text(raw.as_bytes());
    Some(crate::text::outside(&text, 300, redactor))
}

/// Handshake again with the server the request reached, to judge TLS expectations.
async fn observe_tls(ctx: &Ctx, sent: &Sent, requested: &reqwest::Url) -> TlsObservation {
    let url = sent.final_url.as_ref().unwrap_or(requested);
    let host = (sent.server_name.clone())
        .unwrap_or_else(|| url.host_str().unwrap_or_default().to_string());
    if url.scheme() != "https" {
        return TlsObservation {
            host,
            result: Err(format!("{url} is plain http: there is no TLS to check")),
        };
    }
    if let Some(p) = &sent.proxy {
        // The handshake went through the proxy's tunnel: a second one to the address
        // connected to would reach the proxy itself.
        return TlsObservation {
            host,
            result: Err(format!(
                "the request went through proxy {p}: smokegate cannot observe the server's TLS through it (use --noproxy for this host to check TLS)"
            )),
        };
    }
    let result = ctx
        .client
        .tls_probe(url, sent.remote, sent.server_name.as_deref())
        .await
        .map_err(|e| e.message);
    TlsObservation { host, result }
}

/// Run a DNS check step.
async fn dns_attempt(
    ctx: &Ctx,
    check: &DnsCheck,
    scope: &Scope,
    mut out: StepResult,
    start: Instant,
) -> StepResult {
    let budget = crate::http::dns::lookup_budget(ctx.client.config().connect_timeout);
    let run = check.run(scope, ctx.client.resolver().dns(), budget).await;
    out.request = Some(RequestSummary {
        method: "DNS".into(),
        url: run.query.clone(),
        connected_to: None,
        resolved_by: None,
        fallback_cause: None,
        connect_to: None,
        proxy: None,
        resolved_addrs: Vec::new(),
        redirects: Vec::new(),
        hops: Vec::new(),
    });
    out.duration_ms = start.elapsed().as_millis() as u64;
    if let Some(e) = run.error {
        out.status = Status::Error;
        out.message = Some(e);
        return out;
    }
    let failed: Vec<String> = run
        .outcomes
        .iter()
        .filter(|o| !o.passed)
        .filter_map(|o| o.message.clone())
        .collect();
    out.expectations = run.outcomes;
    out.status = if failed.is_empty() {
        Status::Passed
    } else {
        Status::Failed
    };
    if !failed.is_empty() {
        out.message = Some(failed.join("; "));
    }
    out
}

fn transport_message(e: &HttpError, url: &reqwest::Url) -> String {
    format!(
        "request to {url} could not complete ({}): {}",
        e.kind, e.message
    )
}

fn capture(
    redactor: &Redactor,
    captures: &[PlannedCapture],
    resp: &Response,
    scope: &mut Scope,
    names: &mut Vec<String>,
) -> Result<(), String> {
    for c in captures {
        let value = match &c.source {
            CaptureSource::JsonPath(path, written) => {
                let json = resp
                    .json()
                    .map_err(|e| format!("capture `{}`: {e}", c.name))?;
                path.query(json)
                    .first()
                    .cloned()
                    .ok_or_else(|| format!("capture `{}`: no value at {written}", c.name))?
            }
            CaptureSource::Header(h) => resp
                .headers
                .get(h.as_str())
                .and_then(|v| v.to_str().ok())
                .map(|v| Value::String(v.to_string()))
                .ok_or_else(|| format!("capture `{}`: no header `{h}`", c.name))?,
            CaptureSource::HeaderRegex(h, r) => {
                let values: Vec<String> = resp
                    .headers
                    .get_all(h.as_str())
                    .iter()
                    .map(|v| crate::text::header_text(v.as_bytes()).into_owned())
                    .collect();
                if values.is_empty() {
                    return Err(format!("capture `{}`: no header `{h}`", c.name));
                }
                let caps = values.iter().find_map(|v| r.captures(v)).ok_or_else(|| {
                    format!(
                        "capture `{}`: none of the {} value(s) of header `{h}` matches /{}/",
                        c.name,
                        values.len(),
                        r.as_str()
                    )
                })?;
                let m = caps.get(1).or_else(|| caps.get(0));
                Value::String(m.map(|m| m.as_str().to_string()).unwrap_or_default())
            }
            CaptureSource::Regex(r) => {
                let text = resp.text();
                let caps = r.captures(&text).ok_or_else(|| {
                    format!("capture `{}`: body does not match /{}/", c.name, r.as_str())
                })?;
                let m = caps.get(1).or_else(|| caps.get(0));
                Value::String(m.map(|m| m.as_str().to_string()).unwrap_or_default())
            }
            CaptureSource::Cookie(name) => crate::expect::cookies::last_set_cookie(resp, name)
                .map(|(c, _)| Value::String(c.value().to_string()))
                .ok_or_else(|| {
                    format!(
                        "capture `{}`: the response set no cookie `{name}` ({})",
                        c.name,
                        crate::expect::cookies::names_set(resp)
                    )
                })?,
        };
        if c.secret {
            // A value too short to mask is an error of the step, never shown.
            redactor
                .add(&value_text(&value))
                .map_err(|e| format!("secret capture `{}`: {e}", c.name))?;
        }
        scope.set(&c.name, value);
        names.push(c.name.clone());
    }
    Ok(())
}
