//! The public events of a run and the results they carry. Every reporter is fed the same
//! events, in order, from one place — so output never interleaves.
//!
//! Result types are the wire types of the JSON report (redacted), and `merge` reads shard
//! reports back through the same types: one report model, unknown fields and values are
//! errors.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::expect::Outcome;
use crate::http::{HttpError, ResolvedBy};
use crate::suite::model::Severity;

/// Outcome of a case or step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every expectation held.
    Passed,
    /// The server answered, and an expectation did not hold.
    Failed,
    /// The check could not run: transport failure, timeout, deadline, interruption.
    Error,
    /// Not run (a prerequisite failed, or an earlier step of the case failed).
    Skipped,
}

impl Status {
    /// Upper-case label for the console.
    pub fn label(self) -> &'static str {
        match self {
            Status::Passed => "PASS",
            Status::Failed => "FAIL",
            Status::Error => "ERROR",
            Status::Skipped => "SKIP",
        }
    }
}

/// Summary of the request a step sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSummary {
    pub method: String,
    pub url: String,
    /// The socket address actually connected to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connected_to: Option<String>,
    /// How that address was chosen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<ResolvedBy>,
    /// Why the pinned fallback was used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_cause: Option<String>,
    /// When a `--connect-to` rule applied: the `HOST2:PORT2` connected to instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_to: Option<String>,
    /// Addresses the name resolved to (set when no connection was made, to show what was tried).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub resolved_addrs: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirects: Vec<String>,
}

/// Summary of the response a step received.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseSummary {
    pub status: u16,
    pub http_version: String,
    pub body_bytes: usize,
    /// Bounded, redacted excerpt (present when the step did not pass).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_excerpt: Option<String>,
    /// What a TLS handshake with the server negotiated and presented (when TLS
    /// expectations asked for it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<crate::http::TlsDetails>,
}

/// Result of one step.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepResult {
    pub name: String,
    pub status: Status,
    /// Attempts made (more than 1 with retry / wait_until).
    pub attempts: u32,
    pub duration_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseSummary>,
    pub expectations: Vec<Outcome>,
    /// Names of variables captured (values are never reported).
    pub captures: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<HttpError>,
    /// One-line reason when not passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Messages of earlier failed attempts (a pass after these is flaky).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_attempts: Vec<String>,
    /// Line of the step's request in the suite.
    pub line: u64,
}

/// Result of one case.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseResult {
    pub id: String,
    pub suite: String,
    pub suite_file: String,
    pub name: String,
    pub tags: Vec<String>,
    pub severity: Severity,
    pub status: Status,
    /// Passed only after failed attempts.
    pub flaky: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub started_at: String,
    pub duration_ms: u64,
    pub line: u64,
    pub steps: Vec<StepResult>,
}

impl CaseResult {
    /// True when this result fails the gate.
    pub fn blocks(&self) -> bool {
        matches!(self.status, Status::Failed | Status::Error) && self.severity == Severity::Critical
    }
}

/// Why a run stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CancelReason {
    DeadlineExceeded,
    Interrupted,
}

impl std::fmt::Display for CancelReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CancelReason::DeadlineExceeded => "deadline exceeded",
            CancelReason::Interrupted => "interrupted",
        })
    }
}

/// Counts and verdict of a finished run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
    pub skipped: usize,
    /// Failed or errored cases of severity `warning` (not blocking).
    pub warnings: usize,
    pub flaky: usize,
}

impl Counts {
    /// Tally results.
    pub fn of<'a>(results: impl IntoIterator<Item = &'a CaseResult>) -> Counts {
        let mut c = Counts::default();
        for r in results {
            c.add(r);
        }
        c
    }

    /// Tally one result.
    pub fn add(&mut self, r: &CaseResult) {
        self.total += 1;
        match r.status {
            Status::Passed => self.passed += 1,
            Status::Failed => self.failed += 1,
            Status::Error => self.errors += 1,
            Status::Skipped => self.skipped += 1,
        }
        if matches!(r.status, Status::Failed | Status::Error) && !r.blocks() {
            self.warnings += 1;
        }
        if r.flaky {
            self.flaky += 1;
        }
    }
}

/// Facts about a run, given to reporters at the start.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub run_id: String,
    pub started_at: String,
    pub smokegate_version: &'static str,
    pub suites: Vec<String>,
    /// Selected profiles (`suite: profile`).
    pub profiles: Vec<String>,
    pub total_cases: usize,
    pub insecure: bool,
    /// `--meta k=v` and CI facts (git SHA, environment, target).
    pub metadata: Vec<(String, String)>,
}

/// The end of a run.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub counts: Counts,
    pub passed: bool,
    pub duration: Duration,
    pub cancelled: Option<CancelReason>,
}

/// One event of a run.
#[derive(Debug, Clone)]
pub enum Event {
    RunStarted(RunInfo),
    CaseStarted {
        index: usize,
        name: String,
    },
    CaseFinished(std::sync::Arc<CaseResult>),
    /// The run is being cut short. With `grace`, running cases may still finish within it
    /// (a first interrupt); without, they are stopped now.
    RunCancelling {
        reason: CancelReason,
        /// Cases running when this was decided.
        running: usize,
        grace: Option<std::time::Duration>,
    },
    RunFinished(RunSummary),
}

/// A consumer of run events: every reporter is one, and is fed the same events in the same
/// (causal) order. It lives with the events so that the runner, which emits them, does not
/// depend on the reporters.
pub trait Reporter: Send {
    /// Handle one event.
    fn event(&mut self, ev: &Event);
    /// Push out buffered output: the runner calls this whenever it is about to wait.
    fn flush(&mut self) {}
    /// Errors met while writing (reported after the run; the run itself is unaffected).
    fn take_errors(&mut self) -> Vec<String> {
        Vec::new()
    }
}

/// Results for reporter tests.
#[cfg(test)]
pub(crate) mod test_support {
    use std::sync::Arc;

    use super::{CaseResult, RunInfo, Status, StepResult};

    /// The start of a run of one suite `s`.
    pub fn run_info(metadata: Vec<(String, String)>) -> RunInfo {
        RunInfo {
            run_id: "abc".into(),
            started_at: "2026-01-01T00:00:00Z".into(),
            smokegate_version: "0.1.0",
            suites: vec!["s".into()],
            profiles: Vec::new(),
            total_cases: 0,
            insecure: false,
            metadata,
        }
    }

    /// A failed one-step case whose messages carry `message`.
    pub fn case(suite_file: &str, line: u64, name: &str, message: &str) -> Arc<CaseResult> {
        Arc::new(CaseResult {
            id: format!("s/{name}"),
            suite: "s".into(),
            suite_file: suite_file.into(),
            name: name.into(),
            tags: vec!["t".into()],
            severity: Default::default(),
            status: Status::Failed,
            flaky: false,
            message: Some(message.into()),
            started_at: "2026-01-01T00:00:00Z".into(),
            duration_ms: 3,
            line,
            steps: vec![StepResult {
                name: name.into(),
                status: Status::Failed,
                attempts: 1,
                duration_ms: 3,
                request: None,
                response: None,
                expectations: Vec::new(),
                captures: vec!["token".into()],
                error: None,
                message: Some(format!("multi\nline \"quoted\" {message}")),
                failed_attempts: Vec::new(),
                line,
            }],
        })
    }
}
