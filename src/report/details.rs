//! The explanation of a case that did not pass, shared by the console and JUnit: which
//! expectation, expected vs actual, method, URL, the address connected to and how it was
//! chosen, the status, a bounded body excerpt, and timing.

use std::fmt::Write;

use crate::events::{CaseResult, Status, StepResult};
use crate::expect::OutcomeKind;

/// Multi-line explanation of a case (empty for a pass).
pub fn explain(case: &CaseResult, verbose: bool) -> String {
    let mut out = String::new();
    // A baked check always shows its aggregates over the window: they are the verdict.
    if let Some(b) = &case.bake {
        explain_bake(&mut out, b);
        if case.status != Status::Passed {
            let _ = writeln!(out, "first round it did not pass in:");
        }
    }
    // A sampled case always shows its aggregates: they are the verdict.
    if let Some(s) = &case.samples {
        explain_samples(&mut out, s);
        // A multi-step case shows one sample's steps as they ran: a header only when one failed.
        if case.status != Status::Passed && case.steps.iter().any(|s| s.status != Status::Passed) {
            let shown = if s.failed + s.errors > 0 {
                "first failed sample:"
            } else {
                "last sample (every sample passed its own checks):"
            };
            let _ = writeln!(out, "{shown}");
        }
    }
    if case.status == Status::Passed && !verbose && case.warnings.is_empty() {
        return out;
    }
    for step in &case.steps {
        if step.status == Status::Passed && !verbose && step.warnings.is_empty() {
            continue;
        }
        explain_step(&mut out, step, case.steps.len() > 1);
    }
    if out.is_empty() {
        if let Some(m) = &case.message {
            let _ = writeln!(out, "{m}");
        }
    }
    out
}

/// The aggregates of a sampled case: counts, latency percentiles, each budget, and why
/// samples failed.
fn explain_samples(out: &mut String, s: &crate::events::SamplesSummary) {
    let _ = writeln!(
        out,
        "  samples:  {} ({}): {} passed, {} failed, {} errors",
        s.count, s.planned, s.passed, s.failed, s.errors
    );
    if let Some(l) = &s.latency_ms {
        let _ = writeln!(
            out,
            "  latency:  p50 {}ms  p90 {}ms  p95 {}ms  p99 {}ms  max {}ms",
            l.p50, l.p90, l.p95, l.p99, l.max
        );
    }
    for st in &s.steps {
        let latency = st.latency_ms.as_ref().map_or_else(
            || "no response".to_string(),
            |l| format!("p50 {}ms  p95 {}ms  max {}ms", l.p50, l.p95, l.max),
        );
        let _ = writeln!(
            out,
            "    step `{}`: {latency}, {} failed here",
            st.name,
            st.failed + st.errors
        );
    }
    for b in &s.budgets {
        let word = if b.passed { "ok    " } else { "BROKEN" };
        let at = b.line.map(|l| format!(" (line {l})")).unwrap_or_default();
        let _ = writeln!(
            out,
            "  budget {word} {}: {} (expected {}){at}",
            b.budget, b.actual, b.expected
        );
    }
    if let Some(why) = &s.stopped {
        let _ = writeln!(out, "  {why}");
    }
    for r in &s.reasons {
        let _ = writeln!(out, "  {}× {}", r.count, r.message);
    }
}

/// The aggregates of a check over a bake window: rounds, latency percentiles, each budget.
fn explain_bake(out: &mut String, b: &crate::events::BakeCheck) {
    let _ = writeln!(
        out,
        "  bake:     {}: {} passed, {} failed, {}, {} skipped",
        super::plural(b.rounds as usize, "round", "rounds"),
        b.passed,
        b.failed,
        super::plural(b.errors as usize, "error", "errors"),
        b.skipped
    );
    if let Some(l) = &b.latency_ms {
        let _ = writeln!(
            out,
            "  latency:  p50 {}ms  p90 {}ms  p95 {}ms  p99 {}ms  max {}ms  ({})",
            l.p50,
            l.p90,
            l.p95,
            l.p99,
            l.max,
            super::plural(b.latency_count as usize, "latency", "latencies")
        );
    }
    for x in &b.budgets {
        let word = if x.passed { "ok    " } else { "BROKEN" };
        let at = x.line.map(|l| format!(" (line {l})")).unwrap_or_default();
        let _ = writeln!(
            out,
            "  budget {word} {}: {} (expected {}){at}",
            x.budget, x.actual, x.expected
        );
    }
}

fn explain_step(out: &mut String, s: &StepResult, named: bool) {
    if named {
        let _ = writeln!(out, "step `{}` ({}):", s.name, s.status.label());
    }
    if let Some(req) = &s.request {
        let mut line = format!("{} {}", req.method, req.url);
        // How the address was reached; after followed redirects it is the last hop's, so it is
        // shown beside that hop rather than the first URL.
        let mut place = String::new();
        if let Some(a) = &req.connected_to {
            let _ = write!(place, " → {a}");
        }
        if let Some(c) = &req.connect_to {
            let _ = write!(place, " (connect-to {c})");
        }
        if let Some(p) = &req.proxy {
            let _ = write!(place, " (through proxy {p})");
        }
        if req.connected_to.is_none() && !req.resolved_addrs.is_empty() {
            let _ = write!(place, " → resolved to {}", req.resolved_addrs.join(", "));
        }
        if let Some(by) = &req.resolved_by {
            let _ = write!(place, " (address via {by})");
        }
        if let Some(c) = &req.fallback_cause {
            let _ = write!(place, " [fallback used because: {c}]");
        }
        if req.redirects.is_empty() {
            line.push_str(&place);
        }
        let _ = writeln!(out, "  request:  {line}");
        for r in &req.redirects {
            let _ = writeln!(out, "  redirect: {r}");
        }
        if !req.redirects.is_empty() && !place.is_empty() {
            let last = req.redirects.last().map(String::as_str).unwrap_or_default();
            let _ = writeln!(out, "  reached:  {last}{place}");
        }
    }
    if let Some(resp) = &s.response {
        let _ = writeln!(
            out,
            "  response: {} {} ({}) in {} ms{}",
            resp.status,
            resp.http_version,
            body_size(resp),
            s.duration_ms,
            if s.attempts > 1 {
                format!(", attempt {}", s.attempts)
            } else {
                String::new()
            }
        );
    }
    if let Some(loc) = s.response.as_ref().and_then(|r| r.location.as_ref()) {
        let _ = writeln!(out, "  location: {loc}");
    }
    if let Some(e) = &s.error {
        let _ = writeln!(out, "  error:    {} — {}", e.kind, e.message);
    }
    // What a DNS check saw when it held (the answer, the record that met a rule).
    for o in s
        .expectations
        .iter()
        .filter(|o| o.passed && o.kind == OutcomeKind::Dns)
    {
        if let Some(a) = &o.actual {
            let _ = writeln!(out, "  ✓ {}: {a}", o.check);
        }
    }
    for o in s.expectations.iter().filter(|o| !o.passed) {
        // A `severity: warning` expectation is marked apart: it does not fail the step.
        let mark = match o.severity {
            crate::suite::model::Severity::Warning => "⚠ warning (does not block):",
            crate::suite::model::Severity::Critical => "✗",
        };
        let _ = writeln!(out, "  {mark} {}", o.message.as_deref().unwrap_or(&o.check));
        let said = o.message.as_deref().is_some_and(|m| m.contains("expected"));
        if let (false, Some(e), Some(a)) = (said, &o.expected, &o.actual) {
            let _ = writeln!(out, "      expected: {e}");
            let _ = writeln!(out, "      actual:   {a}");
        }
    }
    if s.error.is_none() && s.expectations.iter().all(|o| o.passed) {
        if let Some(m) = &s.message {
            let _ = writeln!(out, "  ✗ {m}");
        }
    }
    if let Some(ex) = s.response.as_ref().and_then(|r| r.body_excerpt.as_ref()) {
        let _ = writeln!(out, "  body:     {ex}");
    }
}

/// The body's size, with its wire size and coding when it came encoded:
/// `5120 bytes, 312 on the wire as gzip`.
fn body_size(resp: &crate::events::ResponseSummary) -> String {
    match (&resp.content_encoding, resp.wire_bytes, resp.decoded) {
        (Some(c), Some(w), Some(true)) => {
            format!("{} bytes, {w} on the wire as {c}", resp.body_bytes)
        }
        (Some(c), _, _) => format!("{} bytes of {c}, not decoded", resp.body_bytes),
        _ => format!("{} bytes", resp.body_bytes),
    }
}
