//! `smokegate merge`: combine the JSON reports of `run --shard K/N` into one run with a single
//! verdict. The JSON report is the source of truth: case results are kept as written, the
//! counts and verdict are recomputed, and JUnit/HTML are regenerated from the merged results
//! by the same reporters a run uses.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::events::{
    CancelReason, CaseResult, Counts, Event, RequestSummary, ResponseSummary, RunInfo, RunSummary,
    Status, StepResult,
};
use crate::expect::Outcome;
use crate::http::{HttpError, HttpErrorKind, ResolvedBy};
use crate::redact::Redactor;
use crate::report::json::REPORT_SCHEMA_VERSION;
use crate::report::Reporter;
use crate::suite::model::Severity;

/// The merged run.
#[derive(Debug)]
pub struct Merged {
    /// The merged JSON report, as it is written.
    pub report: Value,
    pub info: RunInfo,
    pub summary: RunSummary,
    /// Results in report order.
    pub cases: Vec<Arc<CaseResult>>,
}

/// Read and merge shard reports. `allow_missing`: merge even when shards are missing (the
/// verdict is then `failed`); otherwise a missing or repeated shard is an error.
pub fn merge_files(paths: &[PathBuf], allow_missing: bool) -> Result<Merged, String> {
    let mut reports = Vec::new();
    for p in paths {
        let text = std::fs::read_to_string(p)
            .map_err(|e| format!("cannot read report {}: {e}", p.display()))?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a JSON report: {e}", p.display()))?;
        reports.push((p.clone(), v));
    }
    merge(&reports, allow_missing)
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Merge parsed reports (each with the path it came from, for messages).
pub fn merge(reports: &[(PathBuf, Value)], allow_missing: bool) -> Result<Merged, String> {
    if reports.is_empty() {
        return Err("no reports to merge".into());
    }
    let mut shards: Vec<(usize, usize, &Path)> = Vec::new();
    let mut cases: Vec<(Value, Arc<CaseResult>)> = Vec::new();
    let mut ids = BTreeSet::new();
    let mut suites: Vec<String> = Vec::new();
    let mut profiles: Vec<String> = Vec::new();
    let mut metadata = Map::new();
    let mut run_ids = Vec::new();
    let mut started_at = String::new();
    let mut duration_ms = 0u64;
    let mut cancelled: Option<CancelReason> = None;
    let mut insecure = false;
    let mut all_passed = true;
    for (path, r) in reports {
        let where_ = path.display();
        let version = str_of(r, "schema_version");
        let major = REPORT_SCHEMA_VERSION.split('.').next().unwrap_or("1");
        if version.split('.').next() != Some(major) {
            return Err(format!(
                "{where_}: report schema_version `{version}` is not {major}.x"
            ));
        }
        let list = r
            .get("cases")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("{where_}: no `cases` array"))?;
        for c in list {
            let parsed: CaseIn = serde_json::from_value(c.clone())
                .map_err(|e| format!("{where_}: unreadable case: {e}"))?;
            if !ids.insert(parsed.id.clone()) {
                return Err(format!(
                    "{where_}: case `{}` is also in another report (the same shard given twice?)",
                    parsed.id
                ));
            }
            cases.push((c.clone(), Arc::new(parsed.into_result()?)));
        }
        for (key, out) in [("suites", &mut suites), ("profiles", &mut profiles)] {
            for s in r.get(key).and_then(Value::as_array).into_iter().flatten() {
                if let Some(s) = s.as_str() {
                    if !out.iter().any(|x| x == s) {
                        out.push(s.to_string());
                    }
                }
            }
        }
        if let Some(m) = r.get("metadata").and_then(Value::as_object) {
            for (k, v) in m {
                if k == "shard" {
                    if let Some((a, b)) = v.as_str().and_then(|s| s.split_once('/')) {
                        if let (Ok(a), Ok(b)) = (a.parse(), b.parse()) {
                            shards.push((a, b, path));
                        }
                    }
                    continue;
                }
                metadata.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        run_ids.push(str_of(r, "run_id").to_string());
        let s = str_of(r, "started_at");
        if started_at.is_empty() || (!s.is_empty() && s < started_at.as_str()) {
            started_at = s.to_string();
        }
        duration_ms = duration_ms.max(r.get("duration_ms").and_then(Value::as_u64).unwrap_or(0));
        let c = match r.get("cancelled").and_then(Value::as_str) {
            Some("interrupted") => Some(CancelReason::Interrupted),
            Some("deadline-exceeded") => Some(CancelReason::DeadlineExceeded),
            _ => None,
        };
        cancelled = cancelled.max(c);
        insecure |= r.get("insecure").and_then(Value::as_bool).unwrap_or(false);
        all_passed &= str_of(r, "verdict") == "passed";
    }
    // Every shard of K/N exactly once.
    let mut missing = Vec::new();
    if let Some(&(_, n, _)) = shards.first() {
        if let Some((_, other, p)) = shards.iter().find(|s| s.1 != n) {
            return Err(format!(
                "{}: shard of {other} mixed with shards of {n}",
                p.display()
            ));
        }
        let mut seen = BTreeSet::new();
        for (k, _, p) in &shards {
            if !seen.insert(*k) {
                return Err(format!("{}: shard {k}/{n} given twice", p.display()));
            }
        }
        missing = (1..=n)
            .filter(|k| !seen.contains(k))
            .map(|k| format!("{k}/{n}"))
            .collect();
        if !missing.is_empty() && !allow_missing {
            return Err(format!(
                "shard(s) {} missing: their checks never ran (pass --allow-missing-shards to merge anyway; the verdict is then failed)",
                missing.join(", ")
            ));
        }
        metadata.insert("shards".into(), Value::String(n.to_string()));
        if !missing.is_empty() {
            metadata.insert("missing_shards".into(), Value::String(missing.join(",")));
        }
    }
    metadata.insert("merged_run_ids".into(), Value::String(run_ids.join(",")));
    cases.sort_by(|(_, a), (_, b)| {
        (&a.suite_file, &a.suite, a.line, &a.name).cmp(&(&b.suite_file, &b.suite, b.line, &b.name))
    });
    let results: Vec<Arc<CaseResult>> = cases.iter().map(|(_, c)| c.clone()).collect();
    let counts = Counts::of(results.iter().map(|c| c.as_ref()));
    let passed = all_passed
        && missing.is_empty()
        && cancelled.is_none()
        && !results.iter().any(|c| c.blocks());
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
    let report = serde_json::json!({
        "schema_version": REPORT_SCHEMA_VERSION,
        "smokegate_version": env!("CARGO_PKG_VERSION"),
        "run_id": run_id,
        "started_at": started_at,
        "duration_ms": duration_ms,
        "verdict": if passed { "passed" } else { "failed" },
        "cancelled": cancelled,
        "insecure": insecure,
        "suites": suites,
        "profiles": profiles,
        "metadata": metadata,
        "counts": counts,
        "cases": cases.iter().map(|(v, _)| v.clone()).collect::<Vec<_>>(),
    });
    let info = RunInfo {
        run_id,
        started_at,
        smokegate_version: env!("CARGO_PKG_VERSION"),
        suites,
        profiles,
        total_cases: results.len(),
        insecure,
        metadata: metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect(),
    };
    let summary = RunSummary {
        counts,
        passed,
        duration: Duration::from_millis(duration_ms),
        cancelled,
    };
    Ok(Merged {
        report,
        info,
        summary,
        cases: results,
    })
}

/// Feed the merged run to reporters as if it had just run; returns their write errors.
pub fn replay(m: &Merged, reporters: &mut [Box<dyn Reporter>]) -> Vec<String> {
    let mut events = vec![Event::RunStarted(m.info.clone())];
    events.extend(m.cases.iter().map(|c| Event::CaseFinished(c.clone())));
    events.push(Event::RunFinished(m.summary.clone()));
    for ev in &events {
        for r in reporters.iter_mut() {
            r.event(ev);
        }
    }
    reporters.iter_mut().flat_map(|r| r.take_errors()).collect()
}

/// The redactor of a merge: inputs were redacted when written, so nothing more is known.
pub fn redactor() -> Redactor {
    Redactor::default()
}

// Read model of a case in a JSON report (the fields the reporters use).

#[derive(Deserialize)]
struct CaseIn {
    id: String,
    suite: String,
    suite_file: String,
    name: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    severity: Severity,
    status: String,
    #[serde(default)]
    flaky: bool,
    message: Option<String>,
    #[serde(default)]
    started_at: String,
    #[serde(default)]
    duration_ms: u64,
    #[serde(default)]
    line: u64,
    #[serde(default)]
    steps: Vec<StepIn>,
}

#[derive(Deserialize)]
struct StepIn {
    name: String,
    status: String,
    #[serde(default)]
    attempts: u32,
    #[serde(default)]
    duration_ms: u64,
    request: Option<RequestIn>,
    response: Option<ResponseIn>,
    #[serde(default)]
    expectations: Vec<OutcomeIn>,
    #[serde(default)]
    captures: Vec<String>,
    error: Option<ErrorIn>,
    message: Option<String>,
    #[serde(default)]
    failed_attempts: Vec<String>,
    #[serde(default)]
    line: u64,
}

#[derive(Deserialize)]
struct RequestIn {
    method: String,
    url: String,
    connected_to: Option<String>,
    resolved_by: Option<String>,
    fallback_cause: Option<String>,
    connect_to: Option<String>,
    #[serde(default)]
    resolved_addrs: Vec<String>,
    #[serde(default)]
    redirects: Vec<String>,
}

#[derive(Deserialize)]
struct ResponseIn {
    status: u16,
    #[serde(default)]
    http_version: String,
    #[serde(default)]
    body_bytes: usize,
    body_excerpt: Option<String>,
}

#[derive(Deserialize)]
struct OutcomeIn {
    kind: String,
    check: String,
    passed: bool,
    expected: Option<String>,
    actual: Option<String>,
    message: Option<String>,
    line: Option<u64>,
}

#[derive(Deserialize)]
struct ErrorIn {
    kind: String,
    message: String,
}

fn status(s: &str) -> Result<Status, String> {
    Ok(match s {
        "passed" => Status::Passed,
        "failed" => Status::Failed,
        "error" => Status::Error,
        "skipped" => Status::Skipped,
        other => return Err(format!("unknown status `{other}`")),
    })
}

fn error_kind(s: &str) -> HttpErrorKind {
    match s {
        "dns" => HttpErrorKind::Dns,
        "connect" => HttpErrorKind::Connect,
        "tls" => HttpErrorKind::Tls,
        "timeout" => HttpErrorKind::Timeout,
        "body-too-large" => HttpErrorKind::BodyTooLarge,
        "redirect" => HttpErrorKind::Redirect,
        "invalid-request" => HttpErrorKind::InvalidRequest,
        _ => HttpErrorKind::Protocol,
    }
}

fn resolved_by(s: &str) -> Option<ResolvedBy> {
    Some(match s {
        "literal" => ResolvedBy::Literal,
        "system" => ResolvedBy::System,
        "override" => ResolvedBy::Override,
        "fallback" => ResolvedBy::Fallback,
        "dns-server" => ResolvedBy::DnsServer,
        _ => return None,
    })
}

/// Expectation kinds are `&'static str` in results; kinds this build does not know (a newer
/// report) are kept as `other`.
fn outcome_kind(s: &str) -> &'static str {
    match s {
        "status" => "status",
        "header" => "header",
        "body" => "body",
        "jsonpath" => "jsonpath",
        "schema" => "schema",
        "latency" => "latency",
        "tls" => "tls",
        "dns" => "dns",
        "capture" => "capture",
        _ => "other",
    }
}

impl CaseIn {
    fn into_result(self) -> Result<CaseResult, String> {
        let mut steps = Vec::new();
        for s in self.steps {
            steps.push(StepResult {
                name: s.name,
                status: status(&s.status)?,
                attempts: s.attempts,
                duration_ms: s.duration_ms,
                request: s.request.map(|r| RequestSummary {
                    method: r.method,
                    url: r.url,
                    connected_to: r.connected_to,
                    resolved_by: r.resolved_by.as_deref().and_then(resolved_by),
                    fallback_cause: r.fallback_cause,
                    connect_to: r.connect_to,
                    resolved_addrs: r.resolved_addrs,
                    redirects: r.redirects,
                }),
                response: s.response.map(|r| ResponseSummary {
                    status: r.status,
                    http_version: r.http_version,
                    body_bytes: r.body_bytes,
                    body_excerpt: r.body_excerpt,
                    tls: None,
                }),
                expectations: s
                    .expectations
                    .into_iter()
                    .map(|o| Outcome {
                        kind: outcome_kind(&o.kind),
                        check: o.check.into(),
                        passed: o.passed,
                        expected: o.expected,
                        actual: o.actual,
                        message: o.message,
                        line: o.line,
                    })
                    .collect(),
                captures: s.captures,
                error: s
                    .error
                    .map(|e| HttpError::new(error_kind(&e.kind), e.message)),
                message: s.message,
                failed_attempts: s.failed_attempts,
                line: s.line,
            });
        }
        Ok(CaseResult {
            id: self.id,
            suite: self.suite,
            suite_file: self.suite_file,
            name: self.name,
            tags: self.tags,
            severity: self.severity,
            status: status(&self.status)?,
            flaky: self.flaky,
            message: self.message,
            started_at: self.started_at,
            duration_ms: self.duration_ms,
            line: self.line,
            steps,
        })
    }
}
