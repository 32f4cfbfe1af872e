//! Running a sampled case (`samples`): the case run many times — paced, with bounded
//! concurrency and a bounded window. A sample is the case's request judged by its `expect`,
//! or, for a multi-step case, every step once in order with its own captures and cookie jar
//! (a sample fails at its first step that does not pass). Then the budgets of
//! `expect_samples` are judged over all samples. Latency percentiles come from an HDR
//! histogram (3 significant digits, 1µs to 1h), never from a list of every sample.
//!
//! The run's deadline and signals stop a sampled case like any other: the dispatcher aborts
//! its task, and [`settle`] reports the samples judged so far (kept in the case's
//! [`Progress`]) as an error that did not finish.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::task::JoinSet;

use crate::events::{
    BudgetResult, CaseResult, LatencySummary, ReasonCount, SamplesSummary, Status, StepResult,
    StepSamples,
};
use crate::http::CookieJar;
use crate::plan::samples::{fmt_dur, trim_float, Quantile, SampleMode, SamplePolicy};
use crate::plan::{Plan, PlannedCase, PlannedStep};

use super::case::{attempt_once, case_scope, finish_case, lock, skipped_step, Ctx, Progress};

/// The run's request to stop starting work (a first signal), with its reason.
#[derive(Debug, Default)]
pub struct Stopping {
    reason: std::sync::OnceLock<String>,
    notify: tokio::sync::Notify,
}

impl Stopping {
    /// Ask running work to stop starting anything new, because of `reason`.
    pub fn stop(&self, reason: String) {
        let _ = self.reason.set(reason);
        self.notify.notify_waiters();
    }

    /// Why the run is stopping, once it is.
    pub fn reason(&self) -> Option<&str> {
        self.reason.get().map(String::as_str)
    }
}

/// Set by bake mode, which merges the rounds' histograms: a sampled case's summary then
/// carries its histogram. Off otherwise (a histogram per sampled case is not free).
pub static KEEP_HISTOGRAMS: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Distinct failure reasons kept per case (the rest are counted together).
const MAX_REASONS: usize = 5;
/// Highest latency the histogram records, in microseconds (1h); longer saturates.
const HIGHEST_US: u64 = 3_600_000_000;

/// One finished sample (its steps already sanitized).
#[derive(Debug)]
struct Sample {
    /// Passed, or the status of the step it failed at.
    status: Status,
    /// Why it did not pass (``step `NAME`: …`` in a multi-step case).
    message: Option<String>,
    /// Its steps as they ran (those after a failed step skipped).
    steps: Vec<StepResult>,
    /// The whole sample's latency: recorded when every step ran and received a response.
    latency: Option<Duration>,
    /// Per step, the latency of its exchange when it received a response.
    step_latency: Vec<Option<Duration>>,
    /// The step it failed at.
    failed_at: Option<usize>,
}

/// One step of a multi-step sampled case, over the samples.
#[derive(Debug)]
struct StepTally {
    name: String,
    failed: u64,
    errors: u64,
    hist: Option<Histogram<u64>>,
}

fn histogram() -> Option<Histogram<u64>> {
    Histogram::new_with_bounds(1, HIGHEST_US, 3).ok()
}

fn record_latency(h: &mut Option<Histogram<u64>>, latency: Option<Duration>) {
    if let (Some(h), Some(l)) = (h.as_mut(), latency) {
        h.saturating_record((l.as_micros() as u64).clamp(1, HIGHEST_US));
    }
}

/// The percentiles of a histogram, in milliseconds (none when it is empty).
fn summarise(h: Option<&Histogram<u64>>) -> Option<LatencySummary> {
    let h = h.filter(|h| !h.is_empty())?;
    let ms = |us: u64| round3(us as f64 / 1000.0);
    Some(LatencySummary {
        min: ms(h.min()),
        mean: round3(h.mean() / 1000.0),
        p50: ms(h.value_at_quantile(0.50)),
        p90: ms(h.value_at_quantile(0.90)),
        p95: ms(h.value_at_quantile(0.95)),
        p99: ms(h.value_at_quantile(0.99)),
        max: ms(h.max()),
    })
}

/// The samples of a case judged so far.
#[derive(Debug)]
pub struct Tally {
    count: u64,
    passed: u64,
    failed: u64,
    errors: u64,
    run: u64,
    max_run: u64,
    /// Latency in microseconds of the samples that received a response (a multi-step
    /// sample: a response to every step).
    hist: Option<Histogram<u64>>,
    /// A multi-step case: per step (empty for a single-request case).
    steps: Vec<StepTally>,
    reasons: Vec<(String, u64)>,
    other_reasons: u64,
    /// The steps of the first sample that failed, and of the last one that passed.
    first_failure: Option<Vec<StepResult>>,
    last_passed: Option<Vec<StepResult>>,
    stopped: Option<String>,
}

impl Tally {
    fn new(steps: &[PlannedStep]) -> Tally {
        let steps = if steps.len() > 1 {
            steps
                .iter()
                .map(|s| StepTally {
                    name: s.name.to_string(),
                    failed: 0,
                    errors: 0,
                    hist: histogram(),
                })
                .collect()
        } else {
            Vec::new()
        };
        Tally {
            count: 0,
            passed: 0,
            failed: 0,
            errors: 0,
            run: 0,
            max_run: 0,
            hist: histogram(),
            steps,
            reasons: Vec::new(),
            other_reasons: 0,
            first_failure: None,
            last_passed: None,
            stopped: None,
        }
    }

    /// Count one finished sample.
    fn record(&mut self, s: Sample) {
        self.count += 1;
        record_latency(&mut self.hist, s.latency);
        for (k, t) in self.steps.iter_mut().enumerate() {
            record_latency(&mut t.hist, s.step_latency.get(k).copied().flatten());
            if s.failed_at == Some(k) {
                if s.status == Status::Error {
                    t.errors += 1;
                } else {
                    t.failed += 1;
                }
            }
        }
        match s.status {
            Status::Passed => {
                self.passed += 1;
                self.run = 0;
                self.last_passed = Some(s.steps);
            }
            other => {
                if other == Status::Error {
                    self.errors += 1;
                } else {
                    self.failed += 1;
                }
                self.run += 1;
                self.max_run = self.max_run.max(self.run);
                let why = s.message.unwrap_or_else(|| "failed".into());
                if let Some((_, n)) = self.reasons.iter_mut().find(|(m, _)| *m == why) {
                    *n += 1;
                } else if self.reasons.len() < MAX_REASONS {
                    self.reasons.push((why, 1));
                } else {
                    self.other_reasons += 1;
                }
                if self.first_failure.is_none() {
                    self.first_failure = Some(s.steps);
                }
            }
        }
    }

    /// Samples judged so far, and how many failed.
    pub fn counts(&self) -> (u64, u64) {
        (self.count, self.failures())
    }

    fn failures(&self) -> u64 {
        self.failed + self.errors
    }

    fn rate(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.failures() as f64 / self.count as f64
        }
    }

    fn latency(&self) -> Option<(&Histogram<u64>, LatencySummary)> {
        let h = self.hist.as_ref().filter(|h| !h.is_empty())?;
        Some((h, summarise(Some(h))?))
    }

    /// The aggregates, with every budget of `policy` judged.
    fn summary(&self, policy: &SamplePolicy) -> SamplesSummary {
        let latency = self.latency();
        let mut budgets = Vec::new();
        for &(q, budget, line) in &policy.latency {
            let (passed, actual) = match &latency {
                Some((h, _)) => {
                    let us = match q {
                        Quantile::Max => h.max(),
                        _ => h.value_at_quantile(q.fraction()),
                    };
                    (
                        us as u128 <= budget.as_micros(),
                        format!("{}ms", trim_float(us as f64 / 1000.0)),
                    )
                }
                None if self.steps.is_empty() => (false, "no sample received a response".into()),
                None => (false, "no sample ran every step with a response".into()),
            };
            budgets.push(BudgetResult {
                budget: q.key().into(),
                passed,
                expected: format!("<= {}", fmt_dur(budget)),
                actual,
                line: Some(line),
            });
        }
        let rate = self.rate();
        budgets.push(BudgetResult {
            budget: "failure_rate".into(),
            passed: self.count > 0 && policy.failure_rate.holds(rate),
            expected: policy.failure_rate.expected(),
            actual: format!(
                "{}% ({} of {})",
                trim_float(rate * 100.0),
                self.failures(),
                self.count
            ),
            line: policy.failure_rate.line,
        });
        if let Some((n, line)) = policy.consecutive {
            budgets.push(BudgetResult {
                budget: "consecutive_failures".into(),
                passed: self.max_run < n,
                expected: format!("fewer than {n} in a row"),
                actual: format!("{} in a row", self.max_run),
                line: Some(line),
            });
        }
        let mut reasons: Vec<ReasonCount> = self
            .reasons
            .iter()
            .map(|(m, n)| ReasonCount {
                message: m.clone(),
                count: *n,
            })
            .collect();
        if self.other_reasons > 0 {
            reasons.push(ReasonCount {
                message: "other reasons".into(),
                count: self.other_reasons,
            });
        }
        let histogram = KEEP_HISTOGRAMS
            .load(std::sync::atomic::Ordering::Relaxed)
            .then(|| latency.as_ref().map(|(h, _)| Arc::new((*h).clone())))
            .flatten();
        SamplesSummary {
            planned: policy.describe(),
            count: self.count,
            passed: self.passed,
            failed: self.failed,
            errors: self.errors,
            failure_rate: round3(rate * 1000.0) / 1000.0,
            max_consecutive_failures: self.max_run,
            latency_ms: latency.map(|(_, l)| l),
            steps: self
                .steps
                .iter()
                .map(|t| StepSamples {
                    name: t.name.clone(),
                    failed: t.failed,
                    errors: t.errors,
                    latency_ms: summarise(t.hist.as_ref()),
                })
                .collect(),
            budgets,
            reasons,
            stopped: self.stopped.clone(),
            histogram,
        }
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Run the samples of case `index`, keeping `progress` up to date.
pub async fn run(ctx: Arc<Ctx>, index: usize, progress: Arc<Mutex<Progress>>) -> CaseResult {
    let case = &ctx.plan.cases[index];
    let (started_at, start) = {
        let mut p = lock(&progress);
        p.samples = Some(Box::new(Tally::new(&case.steps())));
        p.running = Some((0, Instant::now()));
        (p.started_at.clone(), p.start)
    };
    let Some(policy) = case.samples.as_deref() else {
        // The dispatcher only calls this for a sampled case.
        let tally = Tally::new(&case.steps());
        return settle(
            &ctx.plan,
            case,
            &empty_policy(),
            &tally,
            &started_at,
            start,
            None,
        );
    };
    let max = policy.max_samples();
    let slots = policy.concurrency as usize;
    let now = tokio::time::Instant::now();
    let window_end = match policy.mode {
        SampleMode::Duration(d) => Some(now + d),
        SampleMode::Count(_) => None,
    };
    let mut next = now;
    let mut set: JoinSet<Sample> = JoinSet::new();
    let mut started = 0u64;
    let mut stopped = false;
    // Set when the run stops (a first signal): nothing more starts, samples in flight finish.
    let mut cut: Option<String> = None;
    loop {
        let now = tokio::time::Instant::now();
        if cut.is_none() {
            cut = ctx
                .stopping
                .reason()
                .map(|r| format!("did not finish: {r}"));
        }
        let open = !stopped && cut.is_none() && started < max && window_end.is_none_or(|e| now < e);
        if open && set.len() < slots && now >= next {
            set.spawn(sample(ctx.clone(), index));
            started += 1;
            if let Some(e) = policy.every {
                // Paced from the planned start times; a late start does not bunch the next.
                next = (next + e).max(now);
            }
            continue;
        }
        if !open && set.is_empty() {
            break;
        }
        let wake = match window_end {
            Some(e) => next.min(e),
            None => next,
        };
        tokio::select! {
            Some(joined) = set.join_next() => {
                let Ok(sampled) = joined else { continue };
                let mut p = lock(&progress);
                let Some(tally) = p.samples.as_mut() else { continue };
                tally.record(sampled);
                if let Some((n, _)) = policy.consecutive {
                    if tally.run >= n && !stopped {
                        stopped = true;
                        tally.stopped = Some(format!(
                            "stopped after {n} failed samples in a row (expect_samples.consecutive_failures)"
                        ));
                        set.abort_all();
                    }
                }
            }
            _ = tokio::time::sleep_until(wake), if open && set.len() < slots => {}
            _ = ctx.stopping.notify.notified(), if cut.is_none() => {}
        }
    }
    let tally = lock(&progress)
        .samples
        .take()
        .unwrap_or_else(|| Box::new(Tally::new(&case.steps())));
    settle(&ctx.plan, case, policy, &tally, &started_at, start, cut)
}

fn empty_policy() -> SamplePolicy {
    SamplePolicy {
        mode: SampleMode::Count(0),
        every: None,
        concurrency: 1,
        latency: Vec::new(),
        failure_rate: crate::plan::samples::RateBudget {
            limit: 0.0,
            strict: false,
            line: None,
        },
        consecutive: None,
    }
}

/// One sample: the case's request judged by its `expect`, or every step of a multi-step case
/// in order (its captures in a scope of its own, its own cookie jar) until one does not pass.
async fn sample(ctx: Arc<Ctx>, index: usize) -> Sample {
    let case = &ctx.plan.cases[index];
    let n = case.compiled.len();
    let multi = n > 1;
    // Captures of this sample live and die with this scope: no other sample or case sees them.
    let mut scope = case_scope(&ctx, case);
    let jar = CookieJar::new();
    let mut out = Sample {
        status: Status::Passed,
        message: None,
        steps: Vec::with_capacity(n),
        latency: None,
        step_latency: Vec::with_capacity(n),
        failed_at: None,
    };
    let mut answered = true;
    // The steps' own times, added up: smokegate's bookkeeping between them (masking secrets
    // in the results) is not the deployment's latency.
    let mut took_all = Duration::ZERO;
    for (k, step) in case.steps().iter().enumerate() {
        if out.status != Status::Passed {
            out.steps
                .push(skipped_step(step, "not run: an earlier step did not pass"));
            out.step_latency.push(None);
            continue;
        }
        let t = Instant::now();
        let mut r = attempt_once(&ctx, step, &mut scope, &jar).await;
        let took = t.elapsed();
        took_all += took;
        super::sanitize::step(&mut r, &ctx.plan.redactor);
        answered &= r.response.is_some();
        out.step_latency.push(r.response.is_some().then_some(took));
        if r.status != Status::Passed {
            out.status = r.status;
            out.failed_at = Some(k);
            out.message = r.message.as_ref().map(|m| {
                if multi {
                    format!("step `{}`: {m}", step.name)
                } else {
                    m.clone()
                }
            });
        }
        out.steps.push(r);
    }
    // Every step ran (none failed before the last) and each received a response.
    let complete = out.failed_at.is_none_or(|k| k + 1 == n);
    out.latency = (answered && complete).then_some(took_all);
    out
}

/// The result of a sampled case from its tally; `unfinished` says why sampling was cut short
/// by the run (deadline, signal), which makes the case an error.
pub fn settle(
    plan: &Plan,
    case: &PlannedCase,
    policy: &SamplePolicy,
    tally: &Tally,
    started_at: &str,
    start: Instant,
    unfinished: Option<String>,
) -> CaseResult {
    let summary = tally.summary(policy);
    let broken: Vec<String> = summary
        .budgets
        .iter()
        .filter(|b| !b.passed)
        .map(|b| format!("{} {} (expected {})", b.budget, b.actual, b.expected))
        .collect();
    let (status, message) = if let Some(why) = unfinished {
        (
            Status::Error,
            Some(format!("{why} after {} samples", tally.count)),
        )
    } else if tally.count == 0 {
        (Status::Error, Some("no sample finished".to_string()))
    } else if tally.errors == tally.count {
        let first = tally.reasons.first().map(|(m, _)| m.as_str());
        (
            Status::Error,
            Some(format!(
                "no sample received a response ({} samples): {}",
                tally.count,
                first.unwrap_or("error")
            )),
        )
    } else if !broken.is_empty() {
        let mut m = format!(
            "{} of {} sample budgets broken: {}",
            broken.len(),
            summary.budgets.len(),
            broken.join("; ")
        );
        if let Some(s) = &tally.stopped {
            m.push_str(&format!(" ({s})"));
        }
        (Status::Failed, Some(m))
    } else {
        (Status::Passed, None)
    };
    // The sample shown for the case: its first failed sample, else its last passed one (a
    // passed case: the other way round).
    let shown = if status == Status::Passed {
        tally.last_passed.as_ref().or(tally.first_failure.as_ref())
    } else {
        tally.first_failure.as_ref().or(tally.last_passed.as_ref())
    };
    let steps = if case.compiled.len() > 1 {
        // A multi-step case shows that sample's steps as they ran.
        match shown {
            Some(steps) => steps.clone(),
            None => case
                .steps()
                .iter()
                .map(|s| skipped_step(s, "not run: no sample finished"))
                .collect(),
        }
    } else {
        let mut step = shown
            .and_then(|s| s.first())
            .cloned()
            .unwrap_or_else(|| skipped_step(&case.steps()[0], ""));
        step.attempts = tally.count.min(u32::MAX as u64) as u32;
        step.duration_ms = start.elapsed().as_millis() as u64;
        step.status = status;
        if status != Status::Passed {
            step.message = message.clone();
        }
        vec![step]
    };
    let mut r = finish_case(
        plan,
        case,
        status,
        message,
        started_at.to_string(),
        start.elapsed(),
        steps,
        false,
    );
    r.samples = Some(Box::new(summary));
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::samples::RateBudget;

    fn step(status: Status, message: Option<&str>) -> StepResult {
        StepResult {
            name: "s".into(),
            status,
            attempts: 1,
            duration_ms: 0,
            request: None,
            response: None,
            expectations: Vec::new(),
            captures: Vec::new(),
            error: None,
            message: message.map(Into::into),
            failed_attempts: Vec::new(),
            line: 1,
            warnings: Vec::new(),
        }
    }

    /// A single-request sample.
    fn one(status: Status, message: Option<&str>, latency: Option<Duration>) -> Sample {
        Sample {
            status,
            message: message.map(Into::into),
            steps: vec![step(status, message)],
            latency,
            step_latency: vec![latency],
            failed_at: (status != Status::Passed).then_some(0),
        }
    }

    fn policy(latency: Vec<(Quantile, Duration, u64)>, limit: f64) -> SamplePolicy {
        SamplePolicy {
            mode: SampleMode::Count(100),
            every: None,
            concurrency: 1,
            latency,
            failure_rate: RateBudget {
                limit,
                strict: true,
                line: Some(3),
            },
            consecutive: Some((3, 4)),
        }
    }

    #[test]
    fn percentiles_come_from_the_histogram_and_budgets_judge_them() {
        let mut t = Tally::new(&[]);
        // 1..=100 ms; samples 50 and 51 fail (a run of 2), with two distinct reasons.
        for ms in 1..=100u64 {
            let (status, why) = match ms {
                50 => (Status::Failed, Some("status 500")),
                51 => (Status::Error, Some("timeout")),
                _ => (Status::Passed, None),
            };
            let latency = (status != Status::Error).then(|| Duration::from_millis(ms));
            t.record(one(status, why, latency));
        }
        let p = policy(
            vec![
                (Quantile::P50, Duration::from_millis(51), 1),
                (Quantile::P99, Duration::from_millis(99), 2),
                (Quantile::Max, Duration::from_millis(101), 5),
            ],
            0.03,
        );
        let s = t.summary(&p);
        assert_eq!((s.count, s.passed, s.failed, s.errors), (100, 98, 1, 1));
        assert_eq!(s.max_consecutive_failures, 2);
        let l = s.latency_ms.as_ref().unwrap();
        // 99 latencies (the error has none): the median is the 50th, 50ms; p99 is the 99th,
        // 100ms. Each as the top of its histogram bucket (3 significant digits: within 0.1%).
        assert_eq!(
            (l.min, l.p50, l.p99, l.max),
            (1.0, 50.015, 100.031, 100.031)
        );
        let b: Vec<(&str, bool, &str)> = s
            .budgets
            .iter()
            .map(|b| (b.budget.as_str(), b.passed, b.actual.as_str()))
            .collect();
        assert_eq!(
            b,
            vec![
                ("p50", true, "50.015ms"),
                ("p99", false, "100.031ms"),
                ("max", true, "100.031ms"),
                ("failure_rate", true, "2% (2 of 100)"),
                ("consecutive_failures", true, "2 in a row"),
            ]
        );
        assert_eq!(s.reasons.len(), 2);
        // At the limit, a strict budget breaks.
        let s = t.summary(&policy(Vec::new(), 0.02));
        assert!(!s.budgets[0].passed, "{:?}", s.budgets);
        assert_eq!(s.budgets[0].expected, "< 2%");
    }

    #[test]
    fn reasons_beyond_the_first_five_are_counted_together() {
        let mut t = Tally::new(&[]);
        for k in 0..8 {
            t.record(one(Status::Failed, Some(&format!("reason {k}")), None));
        }
        t.record(one(Status::Failed, Some("reason 0"), None));
        let s = t.summary(&policy(Vec::new(), 1.0));
        let r: Vec<(&str, u64)> = s
            .reasons
            .iter()
            .map(|r| (r.message.as_str(), r.count))
            .collect();
        assert_eq!(r[0], ("reason 0", 2));
        assert_eq!(r.len(), 6);
        assert_eq!(r[5], ("other reasons", 3));
        assert_eq!(s.max_consecutive_failures, 9);
        assert!(
            !s.budgets
                .iter()
                .find(|b| b.budget == "consecutive_failures")
                .unwrap()
                .passed
        );
    }

    #[test]
    fn a_multi_step_tally_judges_whole_samples_and_counts_per_step() {
        let mut t = Tally::new(&[]);
        for name in ["register", "login"] {
            t.steps.push(StepTally {
                name: name.into(),
                failed: 0,
                errors: 0,
                hist: histogram(),
            });
        }
        let ms = Duration::from_millis;
        let sample = |status, failed_at, whole, steps: [Option<Duration>; 2]| Sample {
            status,
            message: (status != Status::Passed).then(|| "step `login`: status 500".into()),
            steps: vec![step(Status::Passed, None), step(status, None)],
            latency: whole,
            step_latency: steps.to_vec(),
            failed_at,
        };
        for _ in 0..3 {
            t.record(sample(
                Status::Passed,
                None,
                Some(ms(30)),
                [Some(ms(10)), Some(ms(20))],
            ));
        }
        // Failed at the last step: every step ran, so the whole sample is measured.
        t.record(sample(
            Status::Failed,
            Some(1),
            Some(ms(90)),
            [Some(ms(10)), Some(ms(80))],
        ));
        // No answer at the first step: nothing measured, the login did not run.
        t.record(sample(Status::Error, Some(0), None, [None, None]));
        let s = t.summary(&policy(vec![(Quantile::Max, ms(50), 1)], 0.5));
        assert_eq!((s.count, s.passed, s.failed, s.errors), (5, 3, 1, 1));
        let l = s.latency_ms.as_ref().unwrap();
        assert_eq!((l.min, l.max), (30.0, 90.047));
        assert!(!s.budgets[0].passed, "{:?}", s.budgets);
        let per: Vec<(&str, u64, f64)> = s
            .steps
            .iter()
            .map(|st| {
                let l = st.latency_ms.as_ref().unwrap();
                (st.name.as_str(), st.failed + st.errors, l.max)
            })
            .collect();
        assert_eq!(per, vec![("register", 1, 10.007), ("login", 1, 80.063)]);
        // The case shows its first failed sample's steps.
        assert_eq!(t.first_failure.as_ref().unwrap()[1].status, Status::Failed);
        assert_eq!(t.reasons, vec![("step `login`: status 500".to_string(), 2)]);

        let mut none = Tally::new(&[]);
        none.steps.push(StepTally {
            name: "only".into(),
            failed: 0,
            errors: 0,
            hist: histogram(),
        });
        none.record(sample(Status::Failed, Some(0), None, [Some(ms(1)), None]));
        let s = none.summary(&policy(vec![(Quantile::P95, ms(50), 1)], 1.0));
        assert_eq!(
            s.budgets[0].actual,
            "no sample ran every step with a response"
        );
    }
}
