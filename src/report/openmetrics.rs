//! `--report-openmetrics FILE`: the run as OpenMetrics text, for node-exporter's textfile
//! collector (or any scraper of a file), so dashboards track gates over time: per-check
//! pass/fail and duration, the aggregates of sampled checks (latency quantiles as a summary,
//! failure ratio, each budget), and run totals. Written once, atomically, when the run ends;
//! label values are redacted and escaped.

use std::fmt::Write;
use std::path::PathBuf;
use std::sync::Arc;

use crate::events::{CaseResult, Event, RunSummary, Status};
use crate::redact::Redactor;

use super::{write_atomic, Reporter};

/// Writes the OpenMetrics text file at the end of the run.
pub struct OpenMetricsReporter {
    path: PathBuf,
    redactor: Redactor,
    cases: Vec<Arc<CaseResult>>,
    errors: Vec<String>,
    /// Bake mode: the schedule and the rounds.
    bake: Option<Arc<crate::events::BakeRun>>,
}

impl OpenMetricsReporter {
    /// A reporter writing to `path`.
    pub fn new(path: PathBuf, redactor: Redactor) -> Self {
        OpenMetricsReporter {
            path,
            redactor,
            cases: Vec::new(),
            errors: Vec::new(),
            bake: None,
        }
    }
}

impl Reporter for OpenMetricsReporter {
    fn event(&mut self, ev: &Event) {
        match ev {
            Event::CaseFinished(c) => self.cases.push(super::kept_for_summary(c)),
            Event::BakeFinished(b) => self.bake = Some(b.clone()),
            Event::RunFinished(s) => {
                let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
                let mut text = render(&self.cases, s, now, &self.redactor);
                if let Some(b) = &self.bake {
                    // The bake's families go before the end marker.
                    text.truncate(text.len().saturating_sub("# EOF\n".len()));
                    render_bake(&mut text, &self.cases, b, &self.redactor);
                    text.push_str("# EOF\n");
                }
                if let Err(e) = write_atomic(&self.path, text.as_bytes()) {
                    self.errors.push(format!(
                        "cannot write OpenMetrics report {}: {e}",
                        self.path.display()
                    ));
                }
            }
            _ => {}
        }
    }

    fn take_errors(&mut self) -> Vec<String> {
        std::mem::take(&mut self.errors)
    }
}

/// A label value: redacted, then `\`, `"` and newlines escaped.
fn label(v: &str, redactor: &Redactor) -> String {
    redactor
        .redact(v)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A number as OpenMetrics writes it.
fn num(x: f64) -> String {
    if x.is_finite() {
        // Nanosecond precision at most: no binary-float tails (`0.005371000000000001`).
        let s = format!("{x:.9}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "-0" {
            "0".into()
        } else {
            s.to_string()
        }
    } else {
        "NaN".into()
    }
}

/// One metric family: its header, then its samples.
struct Family<'a> {
    out: &'a mut String,
}

impl<'a> Family<'a> {
    fn new(out: &'a mut String, name: &str, kind: &str, help: &str) -> Self {
        let _ = writeln!(out, "# TYPE {name} {kind}");
        let _ = writeln!(out, "# HELP {name} {help}");
        Family { out }
    }

    /// A summary's p50/p90/p95/p99 samples (milliseconds, written in seconds).
    fn quantiles(
        &mut self,
        name: &str,
        labels: Vec<(&str, String)>,
        l: &crate::events::LatencySummary,
    ) {
        for (q, v) in [
            ("0.5", l.p50),
            ("0.9", l.p90),
            ("0.95", l.p95),
            ("0.99", l.p99),
        ] {
            let mut labels = labels.clone();
            labels.push(("quantile", q.into()));
            self.sample(name, &labels, v / 1000.0);
        }
    }

    fn sample(&mut self, name: &str, labels: &[(&str, String)], value: f64) {
        let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        if labels.is_empty() {
            let _ = writeln!(self.out, "{name} {}", num(value));
        } else {
            let _ = writeln!(self.out, "{name}{{{}}} {}", labels.join(","), num(value));
        }
    }
}

/// The text of the report.
pub fn render(cases: &[Arc<CaseResult>], s: &RunSummary, now: f64, redactor: &Redactor) -> String {
    let mut out = String::new();
    let id = |c: &CaseResult| {
        vec![
            ("suite", label(&c.suite, redactor)),
            ("case", label(&c.name, redactor)),
        ]
    };
    let mut f = Family::new(
        &mut out,
        "smokegate_check_passed",
        "gauge",
        "Whether the check passed (1) or not (0: failed, error or skipped).",
    );
    for c in cases {
        let mut l = id(c);
        l.push(("severity", format!("{:?}", c.severity).to_lowercase()));
        l.push(("status", format!("{:?}", c.status).to_lowercase()));
        f.sample(
            "smokegate_check_passed",
            &l,
            f64::from(u8::from(c.status == Status::Passed)),
        );
    }
    let mut f = Family::new(
        &mut out,
        "smokegate_check_duration_seconds",
        "gauge",
        "Duration of the check, all attempts or samples included.",
    );
    for c in cases {
        f.sample(
            "smokegate_check_duration_seconds",
            &id(c),
            c.duration_ms as f64 / 1000.0,
        );
    }
    let sampled: Vec<(&CaseResult, &crate::events::SamplesSummary)> = cases
        .iter()
        .filter_map(|c| c.samples.as_deref().map(|s| (c.as_ref(), s)))
        .collect();
    if !sampled.is_empty() {
        let mut f = Family::new(
            &mut out,
            "smokegate_sample_latency_seconds",
            "summary",
            "Latency of the samples of a sampled check that received a response.",
        );
        for (c, s) in &sampled {
            let Some(l) = &s.latency_ms else { continue };
            f.quantiles("smokegate_sample_latency_seconds", id(c), l);
            // The samples measured: those that received a response — in a multi-step case, a
            // response to every step (passed, or failed at the last step with its response).
            let n = match s.steps.last() {
                Some(last) => s.passed + last.failed,
                None => s.passed + s.failed,
            };
            f.sample(
                "smokegate_sample_latency_seconds_sum",
                &id(c),
                l.mean * n as f64 / 1000.0,
            );
            f.sample("smokegate_sample_latency_seconds_count", &id(c), n as f64);
        }
        let mut f = Family::new(
            &mut out,
            "smokegate_sample_latency_max_seconds",
            "gauge",
            "Latency of the slowest sample of a sampled check.",
        );
        for (c, s) in &sampled {
            if let Some(l) = &s.latency_ms {
                f.sample(
                    "smokegate_sample_latency_max_seconds",
                    &id(c),
                    l.max / 1000.0,
                );
            }
        }
        let mut f = Family::new(
            &mut out,
            "smokegate_sample_count",
            "gauge",
            "Samples judged for a sampled check.",
        );
        for (c, s) in &sampled {
            f.sample("smokegate_sample_count", &id(c), s.count as f64);
        }
        let mut f = Family::new(
            &mut out,
            "smokegate_sample_failure_ratio",
            "gauge",
            "Share of the samples of a sampled check that failed (0 to 1).",
        );
        for (c, s) in &sampled {
            f.sample("smokegate_sample_failure_ratio", &id(c), s.failure_rate);
        }
        let mut f = Family::new(
            &mut out,
            "smokegate_sample_budget_passed",
            "gauge",
            "Whether a budget of expect_samples held (1) or broke (0).",
        );
        for (c, s) in &sampled {
            for b in &s.budgets {
                let mut labels = id(c);
                labels.push(("budget", label(&b.budget, redactor)));
                f.sample(
                    "smokegate_sample_budget_passed",
                    &labels,
                    f64::from(u8::from(b.passed)),
                );
            }
        }
    }
    let mut f = Family::new(
        &mut out,
        "smokegate_run_checks",
        "gauge",
        "Checks of the run by status.",
    );
    let k = &s.counts;
    for (status, n) in [
        ("passed", k.passed),
        ("failed", k.failed),
        ("error", k.errors),
        ("skipped", k.skipped),
    ] {
        f.sample(
            "smokegate_run_checks",
            &[("status", status.into())],
            n as f64,
        );
    }
    let mut f = Family::new(
        &mut out,
        "smokegate_run_passed",
        "gauge",
        "The verdict of the run: 1 when the gate passed.",
    );
    f.sample("smokegate_run_passed", &[], f64::from(u8::from(s.passed)));
    let mut f = Family::new(
        &mut out,
        "smokegate_run_duration_seconds",
        "gauge",
        "Wall-clock duration of the run.",
    );
    f.sample(
        "smokegate_run_duration_seconds",
        &[],
        s.duration.as_secs_f64(),
    );
    let mut f = Family::new(
        &mut out,
        "smokegate_run_finished_timestamp_seconds",
        "gauge",
        "When the run finished (Unix time).",
    );
    f.sample("smokegate_run_finished_timestamp_seconds", &[], now);
    out.push_str("# EOF\n");
    out
}

/// Bake mode: rounds run and planned, whether the bake was cut short, and each check's
/// aggregates over the window (rounds, failure ratio, latency quantiles, budgets).
pub fn render_bake(
    out: &mut String,
    cases: &[Arc<CaseResult>],
    b: &crate::events::BakeRun,
    redactor: &Redactor,
) {
    for (name, help, v) in [
        (
            "smokegate_bake_rounds",
            "Rounds of the bake that ran to the end.",
            b.rounds as f64,
        ),
        (
            "smokegate_bake_planned_rounds",
            "Rounds the bake window planned.",
            b.planned_rounds as f64,
        ),
        (
            "smokegate_bake_cut_short",
            "Whether the bake stopped before its planned rounds (1: deadline, signal, fail-fast).",
            f64::from(u8::from(b.cut_short)),
        ),
    ] {
        Family::new(out, name, "gauge", help).sample(name, &[], v);
    }
    let id = |c: &CaseResult| {
        vec![
            ("suite", label(&c.suite, redactor)),
            ("case", label(&c.name, redactor)),
        ]
    };
    let baked: Vec<(&CaseResult, &crate::events::BakeCheck)> = cases
        .iter()
        .filter_map(|c| c.bake.as_deref().map(|b| (c.as_ref(), b)))
        .collect();
    let mut f = Family::new(
        out,
        "smokegate_bake_check_rounds",
        "gauge",
        "Rounds of the bake a check has a result in.",
    );
    for (c, k) in &baked {
        f.sample("smokegate_bake_check_rounds", &id(c), k.rounds as f64);
    }
    let mut f = Family::new(
        out,
        "smokegate_bake_check_failure_ratio",
        "gauge",
        "Share of its rounds a check did not pass in (0 to 1).",
    );
    for (c, k) in &baked {
        f.sample("smokegate_bake_check_failure_ratio", &id(c), k.failure_rate);
    }
    let mut f = Family::new(
        out,
        "smokegate_bake_check_latency_seconds",
        "summary",
        "Latency of a check over the bake window (every sample of a sampled check).",
    );
    for (c, k) in &baked {
        let Some(l) = &k.latency_ms else { continue };
        f.quantiles("smokegate_bake_check_latency_seconds", id(c), l);
        f.sample(
            "smokegate_bake_check_latency_seconds_sum",
            &id(c),
            l.mean * k.latency_count as f64 / 1000.0,
        );
        f.sample(
            "smokegate_bake_check_latency_seconds_count",
            &id(c),
            k.latency_count as f64,
        );
    }
    let mut f = Family::new(
        out,
        "smokegate_bake_check_budget_passed",
        "gauge",
        "Whether a budget held over the bake window (1) or broke (0).",
    );
    for (c, k) in &baked {
        for x in &k.budgets {
            let mut labels = id(c);
            labels.push(("budget", label(&x.budget, redactor)));
            f.sample(
                "smokegate_bake_check_budget_passed",
                &labels,
                f64::from(u8::from(x.passed)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped_and_redacted() {
        let r = Redactor::default();
        let _ = r.add("hunter2-secret");
        assert_eq!(
            label("a\\b \"c\"\nd hunter2-secret", &r),
            "a\\\\b \\\"c\\\"\\nd [REDACTED]"
        );
    }
}
