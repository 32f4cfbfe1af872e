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
    /// HTTP method sent (`DNS` for a DNS check).
    pub method: String,
    /// The URL requested (templates rendered, query appended, before redirects); for a DNS
    /// check, the query (`NAME TYPE @ SERVER`).
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
    /// The forward proxy the request went through (`--proxy`, `HTTP_PROXY`, …), without
    /// credentials; `connected_to` is then the proxy's address.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub proxy: Option<String>,
    /// Addresses the name resolved to (set when no connection was made, to show what was tried).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub resolved_addrs: Vec<String>,
    /// URLs followed by redirects, in order (absent when no redirect was followed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirects: Vec<String>,
    /// Every redirect followed: the URL requested, its status and `Location`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hops: Vec<crate::http::Hop>,
}

/// Summary of the response a step received.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseSummary {
    /// HTTP status code of the final response.
    pub status: u16,
    /// HTTP version of the response, e.g. `HTTP/1.1` or `HTTP/2.0`.
    pub http_version: String,
    /// Size of the response body in bytes.
    pub body_bytes: usize,
    /// Bounded, redacted excerpt (present when the step did not pass).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_excerpt: Option<String>,
    /// What a TLS handshake with the server negotiated and presented (when TLS
    /// expectations asked for it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<crate::http::TlsDetails>,
    /// The `Location` of a redirect that was not followed (redacted, at most 300 characters,
    /// control characters escaped): where a 302 that should have been a 401 points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The response's content codings, in the order applied (`gzip`, `gzip, br`); absent when
    /// the body was not encoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    /// Size of the body on the wire, before decoding (present with `content_encoding`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wire_bytes: Option<usize>,
    /// Whether smokegate decoded the body (present with `content_encoding`; `false` when the
    /// request set `decompress: false`, and `body_bytes` is then the wire size).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoded: Option<bool>,
}

/// Result of one step.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepResult {
    /// Step name (a single-request case has one step, named like the case).
    pub name: String,
    /// Outcome of the step.
    pub status: Status,
    /// Attempts made (more than 1 with retry / wait_until).
    pub attempts: u32,
    /// Duration in milliseconds, all attempts and pauses included.
    pub duration_ms: u64,
    /// The request the last attempt sent (absent when it could not be built or the step was not
    /// run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestSummary>,
    /// The response of the last attempt (absent on a transport error or when the step was not
    /// run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseSummary>,
    /// Every expectation judged on the last attempt, passed or not (empty when no response was
    /// received).
    pub expectations: Vec<Outcome>,
    /// Names of variables captured (values are never reported).
    pub captures: Vec<String>,
    /// Why the exchange could not complete (the step's status is then `error`).
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
    /// Messages of the `severity: warning` expectations that did not hold: reported, but they
    /// do not fail the step (a step with only these passes with warnings).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Result of one case.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseResult {
    /// `suite/case`, unique in a run whose suite names are unique.
    pub id: String,
    /// Suite name (followed by ` [profile]` when the run selected several profiles).
    pub suite: String,
    /// Path of the suite file, as found from the paths given on the command line.
    pub suite_file: String,
    /// Case name (a matrix case has its expanded name, e.g. `health [worker=api]`).
    pub name: String,
    /// Suite tags followed by the case's own tags.
    pub tags: Vec<String>,
    /// Whether a failure or error of this case fails the run (`critical`) or not (`warning`).
    pub severity: Severity,
    /// Outcome of the case: the status of its first step that did not pass, else `passed`; a
    /// case the deadline or an interrupt left unfinished is an `error`.
    pub status: Status,
    /// Passed only after failed attempts.
    pub flaky: bool,
    /// One-line reason when the case did not pass; for a multi-step case prefixed with
    /// ``step `NAME`: ``.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When the case started (RFC 3339, UTC); for a skipped or unfinished case, when it was
    /// settled.
    pub started_at: String,
    /// Duration of the case in milliseconds.
    pub duration_ms: u64,
    /// Line of the case in the suite file.
    pub line: u64,
    /// One result per step, in order.
    pub steps: Vec<StepResult>,
    /// Messages of the `severity: warning` expectations of its steps that did not hold
    /// (prefixed with ``step `NAME`: `` in a multi-step case). A case whose only failures
    /// are these passes with warnings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// A sampled case (`samples`): the aggregates over its samples and the budgets judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<Box<SamplesSummary>>,
    /// Bake mode (`run --bake`): the check's aggregates over every round of the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bake: Option<Box<BakeCheck>>,
}

/// The aggregates of a sampled case.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamplesSummary {
    /// How the samples were planned, e.g. `count 50, concurrency 5`.
    pub planned: String,
    /// Samples judged (finished).
    pub count: u64,
    /// Samples whose per-response expectations held.
    pub passed: u64,
    /// Samples that received a response that broke an expectation.
    pub failed: u64,
    /// Samples that received no response (transport error, timeout).
    pub errors: u64,
    /// (failed + errors) / count, between 0 and 1.
    pub failure_rate: f64,
    /// The longest run of failed samples, in the order they finished.
    pub max_consecutive_failures: u64,
    /// Latency of the samples that received a response, in milliseconds (from a histogram
    /// with 3 significant digits); absent when none did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<LatencySummary>,
    /// A multi-step case: per step, in order, how many samples failed at it and the latency
    /// of its exchange over the samples in which it received a response.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepSamples>,
    /// Every budget of `expect_samples` (and the default failure-rate budget), judged.
    pub budgets: Vec<BudgetResult>,
    /// The first distinct reasons samples failed for, with how many samples each (redacted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<ReasonCount>,
    /// Why sampling stopped before the planned samples (a `consecutive_failures` breach).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// The latency histogram itself (microseconds), kept only in bake mode, where the
    /// rounds' histograms are merged; never written to a report.
    #[serde(skip)]
    pub histogram: Option<std::sync::Arc<hdrhistogram::Histogram<u64>>>,
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencySummary {
    /// Fastest sample.
    pub min: f64,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest sample.
    pub max: f64,
}

/// One step of a sampled multi-step case, over all samples.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSamples {
    /// The step's name.
    pub name: String,
    /// Samples that failed at this step with its response (an expectation or capture did not
    /// hold); the steps after it did not run in those samples.
    pub failed: u64,
    /// Samples in which this step received no response (transport error, timeout).
    pub errors: u64,
    /// Latency of the step's exchange in the samples in which it received a response, in
    /// milliseconds; absent when it never did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<LatencySummary>,
}

/// One budget over the samples, judged.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetResult {
    /// `p50`, `p90`, `p95`, `p99`, `max`, `failure_rate` or `consecutive_failures`.
    pub budget: String,
    /// Whether it held.
    pub passed: bool,
    /// What was expected, e.g. `<= 500ms` or `< 1%`.
    pub expected: String,
    /// What was measured, e.g. `612.3ms` or `5% (10 of 200)`.
    pub actual: String,
    /// Line of the budget in the suite file (absent for the default failure-rate budget).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

/// Bake mode: one check over the whole window (every round it was reported in).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BakeCheck {
    /// Rounds the check has a result in.
    pub rounds: u64,
    /// Rounds it passed in.
    pub passed: u64,
    /// Rounds it failed in.
    pub failed: u64,
    /// Rounds it could not run in (error).
    pub errors: u64,
    /// Rounds it was skipped in (a `needs` did not pass).
    pub skipped: u64,
    /// (failed + errors + skipped) / rounds, between 0 and 1.
    pub failure_rate: f64,
    /// The share of rounds allowed to fail (`--bake-max-failure-rate`), between 0 and 1.
    pub allowed_failure_rate: f64,
    /// Latency over the window in milliseconds, from an HDR histogram (3 significant
    /// digits): every sample of a sampled check, else the check's duration in each round.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<LatencySummary>,
    /// Latencies recorded in the histogram.
    pub latency_count: u64,
    /// The failure-rate budget and the latency budgets judged over the window.
    pub budgets: Vec<BudgetResult>,
    /// The histogram: latencies counted in buckets whose upper bounds grow by √2 from 1 ms
    /// (only non-empty buckets).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub histogram: Vec<HistogramBucket>,
    /// Latency over the window, one point per round (or per group of `series_stride`
    /// consecutive rounds when the rounds are many).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<BakePoint>,
    /// Rounds per point of `series` (1 until there are more rounds than points).
    pub series_stride: u64,
    /// The first round the check did not pass in, and why (redacted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_failure: Option<String>,
}

/// One bucket of a latency histogram.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistogramBucket {
    /// Upper bound of the bucket in milliseconds (latencies at most this, above the
    /// previous bucket's bound).
    pub le_ms: f64,
    /// Latencies in the bucket.
    pub count: u64,
}

/// One point of a check's latency over the bake window.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BakePoint {
    /// The first round of the point (1-based).
    pub round: u64,
    /// Milliseconds from the start of the bake to the start of that round.
    pub offset_ms: u64,
    /// The slowest latency of the point's rounds in milliseconds (the p95 of its samples for
    /// a sampled check); absent when no round of the point received a response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// Rounds of the point the check did not pass in.
    pub failed: u64,
}

/// Bake mode (`run --bake`): the schedule and how the window went.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BakeRun {
    /// The window (`--bake`), in milliseconds.
    pub window_ms: u64,
    /// The pause between the starts of two rounds (`--every`), in milliseconds.
    pub every_ms: u64,
    /// Rounds the window plans: ⌈window / every⌉.
    pub planned_rounds: u64,
    /// Rounds that ran to the end.
    pub rounds: u64,
    /// `--bake-max-failure-rate`, between 0 and 1.
    pub max_failure_rate: f64,
    /// `--bake-fail-fast`.
    pub fail_fast: bool,
    /// True when the bake stopped before its planned rounds (deadline, signal, fail-fast).
    pub cut_short: bool,
    /// Why the bake ran fewer rounds than planned, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// Rounds that took longer than `--every` (the next one started when it ended).
    pub overruns: u64,
    /// Every round, or groups of `rounds_stride` consecutive rounds when they are many.
    pub round_series: Vec<BakeRound>,
    /// Rounds per entry of `round_series`.
    pub rounds_stride: u64,
}

/// One round of a bake (or a group of consecutive rounds).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BakeRound {
    /// The (first) round, 1-based.
    pub round: u64,
    /// When it started (RFC 3339, UTC).
    pub started_at: String,
    /// Milliseconds from the start of the bake to its start.
    pub offset_ms: u64,
    /// How long it (they) took, in milliseconds.
    pub duration_ms: u64,
    /// Checks that passed.
    pub passed: u64,
    /// Checks that did not pass (failed, error or skipped).
    pub failed: u64,
    /// The slowest check latency of the round in milliseconds (a sampled check's p95).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worst_ms: Option<f64>,
}

/// A reason samples failed for, and how many did.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonCount {
    /// The one-line reason (redacted).
    pub message: String,
    /// Samples that failed for it.
    pub count: u64,
}

impl CaseResult {
    /// True when this result fails the gate: a critical case that failed, errored, or did
    /// not run because a prerequisite did not pass (a check that did not run never passes —
    /// not even when the prerequisite that stopped it was only a warning).
    pub fn blocks(&self) -> bool {
        self.severity == Severity::Critical
            && matches!(
                self.status,
                Status::Failed | Status::Error | Status::Skipped
            )
    }

    /// True when the case passed, but expectations of severity `warning` did not hold.
    pub fn passed_with_warnings(&self) -> bool {
        self.status == Status::Passed && !self.warnings.is_empty()
    }
}

/// Why a run stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CancelReason {
    /// `--max-fail N` (or `--fail-fast`) blocking failures happened: nothing more started.
    /// Declared first: a deadline or an interrupt outranks it.
    MaxFail,
    /// The `--deadline` passed.
    DeadlineExceeded,
    /// SIGINT or SIGTERM was received.
    Interrupted,
}

impl std::fmt::Display for CancelReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CancelReason::MaxFail => "failure limit reached (--max-fail)",
            CancelReason::DeadlineExceeded => "deadline exceeded",
            CancelReason::Interrupted => "interrupted",
        })
    }
}

/// Counts and verdict of a finished run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    /// Number of cases.
    pub total: usize,
    /// Cases with status `passed` (flaky ones included).
    pub passed: usize,
    /// Cases with status `failed` (any severity).
    pub failed: usize,
    /// Cases with status `error` (any severity).
    pub errors: usize,
    /// Cases with status `skipped`.
    pub skipped: usize,
    /// Failed or errored cases of severity `warning` (not blocking), and cases that passed
    /// with warnings (expectations of severity `warning` that did not hold).
    pub warnings: usize,
    /// Cases that passed only after failed attempts.
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
        if matches!(r.status, Status::Failed | Status::Error) && !r.blocks()
            || r.passed_with_warnings()
        {
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
    /// Random id of the run (12 hex characters); also the value of `${gen.run_id}`.
    pub run_id: String,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// Version of the smokegate that produced the run.
    pub smokegate_version: &'static str,
    /// Names of the suites of the run, in load order.
    pub suites: Vec<String>,
    /// Selected profiles (`suite: profile`).
    pub profiles: Vec<String>,
    /// Number of cases the run will report (after filters).
    pub total_cases: usize,
    /// True when TLS certificates are not verified (`--insecure`).
    pub insecure: bool,
    /// `--meta k=v` and CI facts (git SHA, environment, target).
    pub metadata: Vec<(String, String)>,
}

/// The end of a run.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// Tally of the case results.
    pub counts: Counts,
    /// The verdict: true when no critical case failed or errored and the run was not cancelled
    /// (a merge also needs every shard).
    pub passed: bool,
    /// Wall-clock duration of the run.
    pub duration: Duration,
    /// Why the run stopped early, if it did.
    pub cancelled: Option<CancelReason>,
}

/// One event of a run.
#[derive(Debug, Clone)]
pub enum Event {
    /// The run is starting: what it will run, before any case.
    RunStarted(RunInfo),
    /// A case was started.
    CaseStarted {
        /// Index of the case in [`crate::plan::Plan::cases`].
        index: usize,
        /// Name of the case (the plan's own, shared).
        name: std::sync::Arc<str>,
    },
    /// A case has its result: it finished, was skipped, or was settled as an error when the run
    /// was cut short.
    CaseFinished(std::sync::Arc<CaseResult>),
    /// The run is being cut short. With `grace`, running cases may still finish within it
    /// (a first interrupt); without, they are stopped now.
    RunCancelling {
        /// Why the run is being cut short.
        reason: CancelReason,
        /// Cases running when this was decided.
        running: usize,
        /// How long running cases may still finish; `None` when they are stopped now.
        grace: Option<std::time::Duration>,
    },
    /// Bake mode: the rounds of the window are over (sent after the aggregated
    /// [`Event::CaseFinished`] of every check, before [`Event::RunFinished`]).
    BakeFinished(std::sync::Arc<BakeRun>),
    /// The run is over: every case has been reported; the counts and verdict.
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
                warnings: Vec::new(),
            }],
            warnings: Vec::new(),
            samples: None,
            bake: None,
        })
    }
}
