//! Compiling `samples` and `expect_samples` of a case: how many samples, how fast, and the
//! budgets judged over all of them. Every bound is checked here, at its position.

use std::time::Duration;

use serde_saphyr::Spanned;

use crate::suite::duration::Dur;
use crate::suite::model::CaseDef;
use crate::suite::samples::RateDef;
use crate::suite::{Diagnostic, LoadedSuite, Pos};

/// Most samples one case may send.
pub const MAX_SAMPLES: u64 = 10_000;
/// Most samples in flight at once.
pub const MAX_CONCURRENCY: u64 = 100;
/// Longest sampling window (`duration`, or `count` × `every`).
pub const MAX_WINDOW: Duration = Duration::from_secs(3600);
/// Shortest pause between the starts of two samples.
pub const MIN_EVERY: Duration = Duration::from_millis(10);

/// A latency percentile with a budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantile {
    /// Median.
    P50,
    /// 90th percentile.
    P90,
    /// 95th percentile.
    P95,
    /// 99th percentile.
    P99,
    /// The slowest sample.
    Max,
}

impl Quantile {
    /// The key as written in `expect_samples`.
    pub fn key(self) -> &'static str {
        match self {
            Quantile::P50 => "p50",
            Quantile::P90 => "p90",
            Quantile::P95 => "p95",
            Quantile::P99 => "p99",
            Quantile::Max => "max",
        }
    }

    /// The quantile as a fraction (1.0 for `max`).
    pub fn fraction(self) -> f64 {
        match self {
            Quantile::P50 => 0.50,
            Quantile::P90 => 0.90,
            Quantile::P95 => 0.95,
            Quantile::P99 => 0.99,
            Quantile::Max => 1.0,
        }
    }
}

/// The failure-rate budget: the share of failed samples must stay under (or at) `limit`.
#[derive(Debug, Clone, PartialEq)]
pub struct RateBudget {
    /// A fraction between 0 and 1.
    pub limit: f64,
    /// `<` rather than `<=`.
    pub strict: bool,
    /// Line where it is written (absent for the default, 0).
    pub line: Option<u64>,
}

impl RateBudget {
    /// Whether `rate` keeps the budget.
    pub fn holds(&self, rate: f64) -> bool {
        if self.strict {
            rate < self.limit
        } else {
            rate <= self.limit
        }
    }

    /// `< 1%` or `<= 0.5%`.
    pub fn expected(&self) -> String {
        let op = if self.strict { "<" } else { "<=" };
        format!("{op} {}%", trim_float(self.limit * 100.0))
    }
}

/// How the samples are paced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleMode {
    /// Exactly this many samples.
    Count(u64),
    /// Keep starting samples for this long.
    Duration(Duration),
}

/// A compiled `samples` + `expect_samples`.
#[derive(Debug, Clone)]
pub struct SamplePolicy {
    /// How many samples, or for how long.
    pub mode: SampleMode,
    /// Pause between the starts of two samples (none: start as soon as a slot is free).
    pub every: Option<Duration>,
    /// Samples in flight at once.
    pub concurrency: u64,
    /// Latency budgets, with the line each is written on.
    pub latency: Vec<(Quantile, Duration, u64)>,
    /// The failure-rate budget (default: 0, every sample must pass).
    pub failure_rate: RateBudget,
    /// Stop and fail after this many failed samples in a row, with its line.
    pub consecutive: Option<(u64, u64)>,
}

impl SamplePolicy {
    /// The most samples this policy starts.
    pub fn max_samples(&self) -> u64 {
        match (self.mode, self.every) {
            (SampleMode::Count(n), _) => n,
            (SampleMode::Duration(d), Some(e)) => {
                let n = d.as_nanos() / e.as_nanos().max(1) + 1;
                (n.min(MAX_SAMPLES as u128)) as u64
            }
            (SampleMode::Duration(_), None) => MAX_SAMPLES,
        }
    }

    /// `count 50, concurrency 5` or `duration 2m, every 5s`, for reports.
    pub fn describe(&self) -> String {
        let mut s = match self.mode {
            SampleMode::Count(n) => format!("count {n}"),
            SampleMode::Duration(d) => format!("duration {}", fmt_dur(d)),
        };
        if let Some(e) = self.every {
            s.push_str(&format!(", every {}", fmt_dur(e)));
        }
        s.push_str(&format!(", concurrency {}", self.concurrency));
        s
    }
}

/// A duration as a suite writes it (`250ms`, `2s`, `1.5s`).
pub fn fmt_dur(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 1000.0 || (ms % 1000.0) != 0.0 && ms < 10_000.0 {
        format!("{}ms", trim_float(ms))
    } else {
        format!("{}s", trim_float(ms / 1000.0))
    }
}

/// A float without trailing zeros (at most 3 decimals).
pub fn trim_float(x: f64) -> String {
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

fn at<T>(s: &Spanned<T>) -> Pos {
    Pos::from_loc(&s.referenced)
}

/// Compile the sampling of `def`: `Ok(None)` when the case is not sampled, every problem
/// found otherwise.
pub fn compile(
    suite: &LoadedSuite,
    def: &CaseDef,
    case_pos: Pos,
) -> Result<Option<SamplePolicy>, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let mut diag = |pos: Pos, m: String| diags.push(suite.diag(Some(pos), m));
    let Some(samples) = &def.samples else {
        if let Some(e) = &def.expect_samples {
            diag(
                at(e),
                "`expect_samples` needs `samples` on the same case (how many samples to judge)"
                    .into(),
            );
            return Err(diags);
        }
        return Ok(None);
    };
    let spos = at(samples);
    let form = if def.dns.is_some() {
        Some("a DNS check case cannot be sampled: `samples` applies to a case with a `request` or `steps`")
    } else if def.request.is_none() && def.steps.is_empty() {
        Some("`samples` needs a `request` or `steps` on the same case")
    } else if def.retry.is_some() || def.wait_until.is_some() {
        Some("a sampled case cannot `retry` or `wait_until`: each sample is judged once, and failures count toward `expect_samples.failure_rate`")
    } else {
        None
    };
    if let Some(m) = form {
        diag(spos, m.into());
        return Err(diags);
    }
    // A multi-step case is sampled as a whole: each sample runs every step once, in order.
    let mut step_problem = false;
    for step in &def.steps {
        let s = &step.value;
        let what = match (&s.retry, &s.wait_until) {
            (Some(r), _) => Some((at(r), "retry")),
            (None, Some(_)) => Some((at(step), "wait_until")),
            (None, None) => None,
        };
        if let Some((pos, what)) = what {
            step_problem = true;
            diag(
                pos,
                format!(
                    "step `{}` of a sampled case cannot `{what}`: each sample runs every step once, and a failed sample counts toward `expect_samples.failure_rate`",
                    s.name
                ),
            );
        }
    }
    if step_problem {
        return Err(diags);
    }
    let _ = case_pos;
    let s = &samples.value;
    let concurrency = match &s.concurrency {
        Some(c) if !(1..=MAX_CONCURRENCY).contains(&c.value) => {
            diag(
                at(c),
                format!(
                    "samples.concurrency must be between 1 and {MAX_CONCURRENCY}, got {}",
                    c.value
                ),
            );
            1
        }
        Some(c) => c.value,
        None => 1,
    };
    let every = match &s.every {
        Some(e) if e.value.0 < MIN_EVERY => {
            diag(
                at(e),
                format!(
                    "samples.every must be at least {}ms, got {}",
                    MIN_EVERY.as_millis(),
                    fmt_dur(e.value.0)
                ),
            );
            None
        }
        Some(e) => Some(e.value.0),
        None => None,
    };
    let mode = match (&s.count, &s.duration) {
        (Some(_), Some(d)) => {
            diag(
                at(d),
                "samples: give `count` or `duration`, not both".into(),
            );
            None
        }
        (None, None) => {
            diag(
                spos,
                "samples needs `count` (how many samples) or `duration` with `every` (for how long)"
                    .into(),
            );
            None
        }
        (Some(c), None) => {
            if !(1..=MAX_SAMPLES).contains(&c.value) {
                diag(
                    at(c),
                    format!(
                        "samples.count must be between 1 and {MAX_SAMPLES}, got {}",
                        c.value
                    ),
                );
            } else if let Some(e) = every {
                let window = e.saturating_mul(c.value.saturating_sub(1) as u32);
                if window > MAX_WINDOW {
                    diag(
                        at(c),
                        format!(
                            "samples.count × samples.every spans {}; the limit is {}",
                            fmt_dur(window),
                            fmt_dur(MAX_WINDOW)
                        ),
                    );
                }
            }
            Some(SampleMode::Count(c.value))
        }
        (None, Some(d)) => {
            let Dur(dur) = d.value;
            if dur.is_zero() || dur > MAX_WINDOW {
                diag(
                    at(d),
                    format!(
                        "samples.duration must be more than 0 and at most {}, got {}",
                        fmt_dur(MAX_WINDOW),
                        fmt_dur(dur)
                    ),
                );
            } else if s.every.is_none() {
                diag(
                    at(d),
                    "samples.duration needs `every` (the pause between the starts of two samples)"
                        .into(),
                );
            }
            Some(SampleMode::Duration(dur))
        }
    };
    let mut latency = Vec::new();
    let mut failure_rate = RateBudget {
        limit: 0.0,
        strict: false,
        line: None,
    };
    let mut consecutive = None;
    if let Some(e) = &def.expect_samples {
        let e = &e.value;
        for (q, v) in [
            (Quantile::P50, &e.p50),
            (Quantile::P90, &e.p90),
            (Quantile::P95, &e.p95),
            (Quantile::P99, &e.p99),
            (Quantile::Max, &e.max),
        ] {
            if let Some(v) = v {
                if v.value.0.is_zero() {
                    diag(
                        at(v),
                        format!("expect_samples.{} must be more than 0", q.key()),
                    );
                }
                latency.push((q, v.value.0, at(v).line));
            }
        }
        if let Some(r) = &e.failure_rate {
            match parse_rate(&r.value) {
                Ok((limit, strict)) => {
                    failure_rate = RateBudget {
                        limit,
                        strict,
                        line: Some(at(r).line),
                    }
                }
                Err(m) => diag(at(r), m),
            }
        }
        if let Some(c) = &e.consecutive_failures {
            if !(1..=MAX_SAMPLES).contains(&c.value) {
                diag(
                    at(c),
                    format!(
                        "expect_samples.consecutive_failures must be between 1 and {MAX_SAMPLES}, got {}",
                        c.value
                    ),
                );
            }
            consecutive = Some((c.value, at(c).line));
        }
    }
    match mode {
        Some(mode) if diags.is_empty() => Ok(Some(SamplePolicy {
            mode,
            every,
            concurrency,
            latency,
            failure_rate,
            consecutive,
        })),
        _ => Err(diags),
    }
}

/// `"< 1%"`, `"<= 0.5%"`, `"1%"`, `"< 0.01"` or a fraction: (limit as a fraction, strict).
fn parse_rate(r: &RateDef) -> Result<(f64, bool), String> {
    let bad = |what: &str| {
        format!(
            "expect_samples.failure_rate must be a share of samples like \"< 1%\", \"<= 0.5%\" or a fraction between 0 and 1 like 0.01, got {what}"
        )
    };
    let (limit, strict) = match r {
        RateDef::Fraction(f) => (*f, false),
        RateDef::Text(t) => {
            let t = t.trim();
            let (strict, rest) = if let Some(r) = t.strip_prefix("<=") {
                (false, r)
            } else if let Some(r) = t.strip_prefix('<') {
                (true, r)
            } else {
                (false, t)
            };
            let rest = rest.trim();
            let (num, scale) = match rest.strip_suffix('%') {
                Some(n) => (n.trim(), 100.0),
                None => (rest, 1.0),
            };
            let n: f64 = num.parse().map_err(|_| bad(&format!("{t:?}")))?;
            (n / scale, strict)
        }
    };
    if !limit.is_finite() || !(0.0..=1.0).contains(&limit) {
        return Err(bad(&format!("{limit} (as a fraction)")));
    }
    if strict && limit == 0.0 {
        return Err(bad("\"< 0\", which no run can keep"));
    }
    Ok((limit, strict))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_as_fractions() {
        let t = |s: &str| parse_rate(&RateDef::Text(s.into()));
        assert_eq!(t("< 1%"), Ok((0.01, true)));
        assert_eq!(t("<= 0.5%"), Ok((0.005, false)));
        assert_eq!(t("2%"), Ok((0.02, false)));
        assert_eq!(t("< 0.05"), Ok((0.05, true)));
        assert_eq!(parse_rate(&RateDef::Fraction(0.0)), Ok((0.0, false)));
        assert!(t("< 0%").is_err());
        assert!(t("150%").unwrap_err().contains("between 0 and 1"));
        assert!(t("few").unwrap_err().contains("\"few\""));
    }

    #[test]
    fn a_rate_budget_says_what_it_expects() {
        let r = RateBudget {
            limit: 0.01,
            strict: true,
            line: None,
        };
        assert_eq!(r.expected(), "< 1%");
        assert!(r.holds(0.009) && !r.holds(0.01));
        assert_eq!(fmt_dur(Duration::from_millis(250)), "250ms");
        assert_eq!(fmt_dur(Duration::from_secs(120)), "120s");
    }
}
