//! Bake mode's aggregates: per check, counters over the rounds, one HDR histogram of every
//! latency of the window, and a bounded series for the plot (pairs of points merged when the
//! rounds outnumber the points). Nothing per response is kept: memory grows with the number
//! of checks, never with the number of rounds.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::events::{
    BakeCheck, BakePoint, BakeRound, BudgetResult, CaseResult, HistogramBucket, LatencySummary,
    Status,
};
use crate::plan::samples::{fmt_dur, trim_float, Quantile};
use crate::plan::{Action, Plan};

/// Most points of a check's latency series (and entries of the round series).
pub const MAX_POINTS: usize = 240;
/// Highest latency recorded, in microseconds (1h); longer saturates.
const HIGHEST_US: u64 = 3_600_000_000;

/// A share of rounds, `0.25` → `25%`.
pub fn percent(x: f64) -> String {
    format!("{}%", trim_float(x * 100.0))
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn ms(us: u64) -> f64 {
    round3(us as f64 / 1000.0)
}

/// A latency histogram in microseconds, 3 significant digits, that grows to the largest
/// latency it records (a check that answers in milliseconds keeps a small one).
fn new_histogram() -> Option<Histogram<u64>> {
    Histogram::new(3).ok()
}

/// Latency percentiles of a histogram (none when it is empty).
pub fn latency_summary(h: &Histogram<u64>) -> Option<LatencySummary> {
    if h.is_empty() {
        return None;
    }
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

/// The histogram in buckets whose bounds grow by √2 from 1 ms (non-empty buckets only).
pub fn buckets(h: &Histogram<u64>) -> Vec<HistogramBucket> {
    let mut out = Vec::new();
    if h.is_empty() {
        return out;
    }
    let mut bound = 1000.0f64;
    let mut below = 0u64;
    let max = h.max();
    loop {
        let b = bound.round() as u64;
        let upto = h.count_between(0, b);
        if upto > below {
            out.push(HistogramBucket {
                le_ms: round3(bound / 1000.0),
                count: upto - below,
            });
            below = upto;
        }
        if b >= max || bound > HIGHEST_US as f64 {
            break;
        }
        bound *= std::f64::consts::SQRT_2;
    }
    out
}

/// A bounded series: when full, neighbouring points are merged in pairs and each point
/// then covers twice as many rounds.
#[derive(Debug)]
struct Series<T> {
    points: Vec<T>,
    stride: u64,
}

/// What a series point needs: its first round, and how to absorb a later one.
trait Point {
    fn round(&self) -> u64;
    fn absorb(&mut self, other: &Self);
}

impl Point for BakePoint {
    fn round(&self) -> u64 {
        self.round
    }
    fn absorb(&mut self, o: &Self) {
        self.latency_ms = match (self.latency_ms, o.latency_ms) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.failed += o.failed;
    }
}

impl Point for BakeRound {
    fn round(&self) -> u64 {
        self.round
    }
    fn absorb(&mut self, o: &Self) {
        self.duration_ms += o.duration_ms;
        self.passed += o.passed;
        self.failed += o.failed;
        self.worst_ms = match (self.worst_ms, o.worst_ms) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
}

impl<T: Point> Series<T> {
    fn new() -> Self {
        Series {
            points: Vec::new(),
            stride: 1,
        }
    }

    /// The bucket a round belongs to: rounds 1..=stride, stride+1..=2·stride, …
    fn slot(&self, round: u64) -> u64 {
        (round.max(1) - 1) / self.stride
    }

    fn push(&mut self, p: T) {
        loop {
            let slot = self.slot(p.round());
            let stride = self.stride;
            if let Some(last) = self.points.last_mut() {
                if (last.round().max(1) - 1) / stride == slot {
                    last.absorb(&p);
                    return;
                }
            }
            if self.points.len() < MAX_POINTS {
                self.points.push(p);
                return;
            }
            // Full: merge neighbours, twice as many rounds per point.
            self.stride *= 2;
            let old = std::mem::take(&mut self.points);
            for q in old {
                match self.points.last_mut() {
                    Some(last)
                        if (last.round().max(1) - 1) / self.stride
                            == (q.round().max(1) - 1) / self.stride =>
                    {
                        last.absorb(&q)
                    }
                    _ => self.points.push(q),
                }
            }
        }
    }
}

/// One check over the window.
#[derive(Debug)]
struct CheckAgg {
    plan_index: usize,
    rounds: u64,
    passed: u64,
    failed: u64,
    errors: u64,
    skipped: u64,
    hist: Option<Histogram<u64>>,
    series: Series<BakePoint>,
    first_failure: Option<(u64, Arc<CaseResult>)>,
    last: Option<Arc<CaseResult>>,
    started_at: Option<String>,
    total_ms: u64,
}

impl CheckAgg {
    fn failures(&self) -> u64 {
        self.failed + self.errors + self.skipped
    }

    fn rate(&self) -> f64 {
        if self.rounds == 0 {
            0.0
        } else {
            self.failures() as f64 / self.rounds as f64
        }
    }
}

/// What the round so far has seen (for its console line and the round series).
#[derive(Debug, Default, Clone)]
pub struct RoundTally {
    /// Checks that passed.
    pub passed: u64,
    /// Checks that did not pass.
    pub failed: u64,
    /// The slowest check latency (a sampled check's p95), in ms.
    pub worst_ms: Option<f64>,
}

/// Every check of the bake, and the rounds.
#[derive(Debug)]
pub struct Aggregator {
    plan: Arc<Plan>,
    checks: Vec<CheckAgg>,
    index: HashMap<(String, String, u64, String), usize>,
    allowed: f64,
    round: RoundTally,
    rounds: Series<BakeRound>,
}

/// The key a result and its planned case share.
fn key(suite_file: &str, suite: &str, line: u64, name: &str) -> (String, String, u64, String) {
    (
        suite_file.to_string(),
        suite.to_string(),
        line,
        name.to_string(),
    )
}

impl Aggregator {
    /// Aggregates for every case of `plan`; `allowed` is the share of rounds a check may
    /// fail in.
    pub fn new(plan: Arc<Plan>, allowed: f64) -> Self {
        let mut index = HashMap::new();
        let checks = plan
            .cases
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let suite = &plan.suites[c.suite];
                let file =
                    crate::report::location::relative_to_cwd(&suite.path.display().to_string());
                index.insert(key(&file, &suite.name, c.pos.line, &c.name), i);
                CheckAgg {
                    plan_index: i,
                    rounds: 0,
                    passed: 0,
                    failed: 0,
                    errors: 0,
                    skipped: 0,
                    hist: None,
                    series: Series::new(),
                    first_failure: None,
                    last: None,
                    started_at: None,
                    total_ms: 0,
                }
            })
            .collect();
        Aggregator {
            plan,
            checks,
            index,
            allowed,
            round: RoundTally::default(),
            rounds: Series::new(),
        }
    }

    /// A check's result in round `round` (1-based), which started `offset` into the bake.
    pub fn record(&mut self, round: u64, offset: Duration, r: &Arc<CaseResult>) {
        let Some(&i) = self
            .index
            .get(&key(&r.suite_file, &r.suite, r.line, &r.name))
        else {
            tracing::debug!("bake: a result of no planned case: {}", r.id);
            return;
        };
        let c = &mut self.checks[i];
        c.rounds += 1;
        c.total_ms += r.duration_ms;
        c.started_at.get_or_insert_with(|| r.started_at.clone());
        match r.status {
            Status::Passed => c.passed += 1,
            Status::Failed => c.failed += 1,
            Status::Error => c.errors += 1,
            Status::Skipped => c.skipped += 1,
        }
        // What is kept of a round's result is never its histogram (merged below, then
        // dropped): a sampled check's aggregates over the window replace its samples.
        let kept = if r.samples.is_some() {
            let mut k = (**r).clone();
            k.samples = None;
            Arc::new(k)
        } else {
            r.clone()
        };
        if r.status != Status::Passed && c.first_failure.is_none() {
            c.first_failure = Some((round, kept.clone()));
        }
        c.last = Some(kept);
        if c.hist.is_none() {
            c.hist = new_histogram();
        }
        let latency = match &r.samples {
            Some(s) => {
                if let (Some(hist), Some(h)) = (c.hist.as_mut(), &s.histogram) {
                    if hist.add(h.as_ref()).is_err() {
                        tracing::debug!("bake: a round's histogram could not be merged");
                    }
                }
                s.latency_ms.as_ref().map(|l| l.p95)
            }
            None if matches!(r.status, Status::Passed | Status::Failed) => {
                if let Some(hist) = c.hist.as_mut() {
                    // `record` grows the histogram (`saturating_record` would clamp to its
                    // current, small, range).
                    let us = (r.duration_ms * 1000).clamp(1, HIGHEST_US);
                    if hist.record(us).is_err() {
                        hist.saturating_record(us);
                    }
                }
                Some(r.duration_ms as f64)
            }
            None => None,
        };
        let failed = u64::from(r.status != Status::Passed);
        c.series.push(BakePoint {
            round,
            offset_ms: offset.as_millis() as u64,
            latency_ms: latency,
            failed,
        });
        if failed == 1 {
            self.round.failed += 1;
        } else {
            self.round.passed += 1;
        }
        if let Some(l) = latency {
            self.round.worst_ms = Some(self.round.worst_ms.map_or(l, |w: f64| w.max(l)));
        }
    }

    /// The round is over: its tally (for the console), kept in the round series.
    pub fn end_round(
        &mut self,
        round: u64,
        started_at: String,
        offset: Duration,
        took: Duration,
    ) -> RoundTally {
        let t = std::mem::take(&mut self.round);
        self.rounds.push(BakeRound {
            round,
            started_at,
            offset_ms: offset.as_millis() as u64,
            duration_ms: took.as_millis() as u64,
            passed: t.passed,
            failed: t.failed,
            worst_ms: t.worst_ms,
        });
        t
    }

    /// The round series and its stride.
    pub fn round_series(&self) -> (Vec<BakeRound>, u64) {
        (self.rounds.points.clone(), self.rounds.stride)
    }

    /// Critical checks that are failing now.
    pub fn failing(&self) -> usize {
        self.checks
            .iter()
            .filter(|c| self.blocking(c) && !self.budgets(c, None).iter().all(|b| b.passed))
            .count()
    }

    fn blocking(&self, c: &CheckAgg) -> bool {
        self.plan.cases[c.plan_index].severity == crate::suite::model::Severity::Critical
    }

    /// `--bake-fail-fast`: the first critical check that can no longer pass (its failures
    /// exceed what the planned rounds allow) or whose latency budget is broken over the
    /// rounds so far.
    pub fn breach(&self, planned: u64) -> Option<String> {
        for c in self.checks.iter().filter(|c| self.blocking(c)) {
            let case = &self.plan.cases[c.plan_index];
            let name = format!("{}/{}", self.plan.suites[case.suite].name, case.name);
            let f = c.failures();
            if f > 0 && f as f64 / planned.max(1) as f64 > self.allowed {
                return Some(format!(
                    "`{name}` failed in {f} of {} rounds, more than {} of the {planned} planned",
                    c.rounds,
                    percent(self.allowed)
                ));
            }
            if let Some(b) = self
                .budgets(c, None)
                .into_iter()
                .find(|b| !b.passed && b.budget != "failure_rate")
            {
                return Some(format!(
                    "`{name}`: {} {} (expected {})",
                    b.budget, b.actual, b.expected
                ));
            }
        }
        None
    }

    /// The budgets of a check judged over the window: the failure rate, then its latency
    /// budgets (`expect_samples` of a sampled check; `max_latency` of a single-request check,
    /// as the quantile the allowed rate leaves).
    fn budgets(&self, c: &CheckAgg, line_of_rate: Option<u64>) -> Vec<BudgetResult> {
        let mut out = vec![BudgetResult {
            budget: "failure_rate".into(),
            passed: c.rounds > 0 && c.rate() <= self.allowed,
            expected: format!(
                "<= {} of rounds (--bake-max-failure-rate)",
                percent(self.allowed)
            ),
            actual: format!(
                "{} ({} of {} rounds)",
                percent(round3(c.rate())),
                c.failures(),
                c.rounds
            ),
            line: line_of_rate,
        }];
        let case = &self.plan.cases[c.plan_index];
        let hist = c.hist.as_ref().filter(|h| !h.is_empty());
        let judge = |q: f64, budget: Duration| match hist {
            Some(h) => {
                let us = if q >= 1.0 {
                    h.max()
                } else {
                    h.value_at_quantile(q)
                };
                (
                    us as u128 <= budget.as_micros(),
                    format!("{}ms", trim_float(us as f64 / 1000.0)),
                )
            }
            None => (false, "no round received a response".to_string()),
        };
        if let Some(p) = &case.samples {
            for &(q, budget, line) in &p.latency {
                let (passed, actual) = judge(q.fraction(), budget);
                out.push(BudgetResult {
                    budget: q.key().into(),
                    passed,
                    expected: format!("<= {} over the window", fmt_dur(budget)),
                    actual,
                    line: Some(line),
                });
            }
        } else if let [step] = &case.steps()[..] {
            if let Action::Http(h) = &*step.action {
                if let Some(budget) = h.expect.max_latency {
                    let q = 1.0 - self.allowed;
                    let label = if q >= 1.0 {
                        Quantile::Max.key().to_string()
                    } else {
                        format!("p{}", trim_float(q * 100.0))
                    };
                    let (passed, actual) = judge(q, budget);
                    out.push(BudgetResult {
                        budget: "max_latency".into(),
                        passed,
                        expected: format!("{label} <= {} over the window", fmt_dur(budget)),
                        actual,
                        line: Some(step.pos.line),
                    });
                }
            }
        }
        out
    }

    /// The aggregated result of every check, in plan order; `why_short` says why the bake
    /// ran fewer rounds than planned.
    pub fn finish(&self, why_short: Option<&str>) -> Vec<Arc<CaseResult>> {
        self.checks
            .iter()
            .map(|c| Arc::new(self.result(c, why_short)))
            .collect()
    }

    fn result(&self, c: &CheckAgg, why_short: Option<&str>) -> CaseResult {
        let case = &self.plan.cases[c.plan_index];
        let budgets = self.budgets(c, None);
        let latency_ms = c.hist.as_ref().and_then(latency_summary);
        let first_failure = c.first_failure.as_ref().map(|(round, r)| {
            format!(
                "round {round}: {}",
                crate::expect::truncate(r.message.as_deref().unwrap_or("did not pass"), 300)
            )
        });
        let broken: Vec<String> = budgets
            .iter()
            .filter(|b| !b.passed)
            .map(|b| format!("{} {} (expected {})", b.budget, b.actual, b.expected))
            .collect();
        let (status, mut message) = if c.rounds == 0 {
            let why = why_short.unwrap_or("no round finished");
            (
                Status::Error,
                Some(format!("bake: no result in any round ({why})")),
            )
        } else if c.skipped == c.rounds {
            (
                Status::Skipped,
                c.last.as_ref().and_then(|r| r.message.clone()),
            )
        } else if !broken.is_empty() {
            let status = if c.errors == c.rounds {
                Status::Error
            } else {
                Status::Failed
            };
            let mut m = format!("bake: {}", broken.join("; "));
            if let Some(f) = &first_failure {
                m.push_str(&format!("; first failure in {f}"));
            }
            (status, Some(m))
        } else {
            (Status::Passed, None)
        };
        if let (Some(m), Some(why), true) = (message.as_mut(), why_short, c.rounds > 0) {
            m.push_str(&format!(" (bake cut short: {why})"));
        }
        // The result shown: the first round it did not pass in, else its last round.
        let shown = match (&c.first_failure, &c.last) {
            (Some((_, f)), _) if status != Status::Passed => Some(f.clone()),
            (_, Some(l)) => Some(l.clone()),
            (Some((_, f)), None) => Some(f.clone()),
            (None, None) => None,
        };
        let mut r = match shown {
            Some(s) => (*s).clone(),
            None => {
                let why = message.clone().unwrap_or_default();
                let steps = case
                    .steps()
                    .iter()
                    .map(|s| super::super::case::skipped_step(s, &why))
                    .collect();
                // As for any case a run could not finish: an error, its steps skipped.
                super::super::case::finish_case(
                    &self.plan,
                    case,
                    Status::Error,
                    None,
                    chrono::Utc::now().to_rfc3339(),
                    Duration::ZERO,
                    steps,
                    false,
                )
            }
        };
        if let Some(s) = &c.started_at {
            r.started_at = s.clone();
        }
        r.status = status;
        r.message = message;
        r.duration_ms = c.total_ms;
        r.samples = None;
        if status == Status::Passed {
            r.flaky = false;
            if c.failures() > 0 {
                r.warnings.push(format!(
                    "failed in {} of {} rounds, within --bake-max-failure-rate {}",
                    c.failures(),
                    c.rounds,
                    percent(self.allowed)
                ));
            }
        }
        r.bake = Some(Box::new(BakeCheck {
            rounds: c.rounds,
            passed: c.passed,
            failed: c.failed,
            errors: c.errors,
            skipped: c.skipped,
            failure_rate: round3(c.rate() * 1000.0) / 1000.0,
            allowed_failure_rate: self.allowed,
            latency_count: c.hist.as_ref().map_or(0, |h| h.len()),
            latency_ms,
            budgets,
            histogram: c.hist.as_ref().map(buckets).unwrap_or_default(),
            series: c.series.points.clone(),
            series_stride: c.series.stride,
            first_failure,
        }));
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(yaml: &str) -> Arc<Plan> {
        let s = crate::suite::load::parse_suite(std::path::Path::new("s.yaml"), yaml.into())
            .expect("suite parses");
        Arc::new(crate::plan::build(&[s], &Default::default()).expect("suite plans"))
    }

    /// Case 0's result in a round: `status`, taking `ms`.
    fn result(p: &Plan, status: Status, ms: u64) -> Arc<CaseResult> {
        let case = &p.cases[0];
        let mut r = crate::runner::case::finish_case(
            p,
            case,
            status,
            (status != Status::Passed).then(|| "expected status 200, got 500".into()),
            "2026-01-01T00:00:00Z".into(),
            Duration::from_millis(ms),
            Vec::new(),
            false,
        );
        r.duration_ms = ms;
        Arc::new(r)
    }

    const SUITE: &str = "name: s\ncases:\n  - name: a\n    request: { url: 'http://x.test/' }\n    expect: { status: 200, max_latency: 100ms }\n";

    #[test]
    fn a_check_fails_above_the_allowed_rate_and_its_latency_budget_takes_the_quantile_left() {
        let p = plan(SUITE);
        // 8 rounds, 2 failed (25%), one slow round (300ms) among 40ms ones.
        let feed = |allowed: f64| {
            let mut a = Aggregator::new(p.clone(), allowed);
            for k in 1..=8u64 {
                let status = if k % 4 == 0 {
                    Status::Failed
                } else {
                    Status::Passed
                };
                let ms = if k == 3 { 300 } else { 40 };
                a.record(k, Duration::from_millis(k * 100), &result(&p, status, ms));
                let t = a.end_round(k, String::new(), Duration::ZERO, Duration::ZERO);
                assert_eq!(t.passed + t.failed, 1);
            }
            a
        };
        // At the allowed rate: the rate holds; the slowest 25% may exceed max_latency.
        let a = feed(0.25);
        let r = &a.finish(None)[0];
        let b = r.bake.as_ref().unwrap();
        assert_eq!((b.rounds, b.passed, b.failed), (8, 6, 2));
        assert_eq!(b.latency_count, 8);
        let budgets: Vec<(&str, bool, &str)> = b
            .budgets
            .iter()
            .map(|x| (x.budget.as_str(), x.passed, x.expected.as_str()))
            .collect();
        assert_eq!(
            budgets,
            vec![
                (
                    "failure_rate",
                    true,
                    "<= 25% of rounds (--bake-max-failure-rate)"
                ),
                ("max_latency", true, "p75 <= 100ms over the window"),
            ]
        );
        assert_eq!(r.status, Status::Passed);
        assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
        assert_eq!(a.breach(8), None);
        // Allowing less: both break; the message names them and the first failed round.
        let a = feed(0.1);
        let r = &a.finish(None)[0];
        assert_eq!(r.status, Status::Failed);
        let m = r.message.as_deref().unwrap();
        assert!(
            m.starts_with("bake: failure_rate 25% (2 of 8 rounds)"),
            "{m}"
        );
        assert!(m.contains("max_latency 300"), "{m}");
        assert!(
            m.ends_with("first failure in round 4: expected status 200, got 500"),
            "{m}"
        );
        // 2 failures out of 8 planned rounds exceed 10%: a breach for --bake-fail-fast.
        assert!(a.breach(8).unwrap().contains("failed in 2 of 8 rounds"));
        // Over 100 planned rounds, 2 failures are still within 10%; the slow round is not
        // (max_latency as p90 over the rounds so far).
        assert!(a.breach(100).unwrap().contains("max_latency"));
    }

    #[test]
    fn a_check_without_a_round_is_an_error_never_a_pass() {
        let p = plan(SUITE);
        let a = Aggregator::new(p, 0.0);
        let r = &a.finish(Some("interrupted after 0 of 5 rounds"))[0];
        assert_eq!(r.status, Status::Error);
        assert_eq!(
            r.message.as_deref(),
            Some("bake: no result in any round (interrupted after 0 of 5 rounds)")
        );
        assert!(r.blocks());
    }

    fn point(round: u64, latency: f64, failed: u64) -> BakePoint {
        BakePoint {
            round,
            offset_ms: round * 10,
            latency_ms: Some(latency),
            failed,
        }
    }

    #[test]
    fn series_stay_bounded_and_keep_the_worst() {
        let mut s = Series::new();
        for r in 1..=1000u64 {
            let failed = u64::from(r == 777);
            s.push(point(r, if r == 500 { 900.0 } else { 1.0 }, failed));
        }
        assert!(s.points.len() <= MAX_POINTS, "{}", s.points.len());
        assert_eq!(s.stride, 8);
        assert_eq!(s.points.iter().map(|p| p.failed).sum::<u64>(), 1);
        let worst = s
            .points
            .iter()
            .filter_map(|p| p.latency_ms)
            .fold(0.0, f64::max);
        assert_eq!(worst, 900.0);
        // Each point starts at the first round of its group of 8.
        assert!(s.points.iter().all(|p| (p.round - 1) % 8 == 0));
    }

    #[test]
    fn buckets_count_every_latency_once() {
        let mut h = new_histogram().unwrap();
        for ms in [1u64, 2, 3, 50, 51, 900] {
            h.record(ms * 1000).unwrap();
        }
        // The histogram grew to the largest latency: nothing was clamped.
        assert_eq!(latency_summary(&h).unwrap().min, 1.0);
        assert!((latency_summary(&h).unwrap().max - 900.0).abs() < 1.0);
        let b = buckets(&h);
        assert_eq!(b.iter().map(|b| b.count).sum::<u64>(), 6);
        assert!(b.windows(2).all(|w| w[0].le_ms < w[1].le_ms));
        assert!(b.last().unwrap().le_ms >= 900.0);
    }
}
