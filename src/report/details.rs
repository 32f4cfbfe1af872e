//! The explanation of a case that did not pass, shared by the console and JUnit: which
//! expectation, expected vs actual, method, URL, the address connected to and how it was
//! chosen, the status, a bounded body excerpt, and timing.

use std::fmt::Write;

use crate::events::{CaseResult, Status, StepResult};

/// Multi-line explanation of a case (empty for a pass).
pub fn explain(case: &CaseResult, verbose: bool) -> String {
    let mut out = String::new();
    if case.status == Status::Passed && !verbose {
        return out;
    }
    for step in &case.steps {
        if step.status == Status::Passed && !verbose {
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

fn explain_step(out: &mut String, s: &StepResult, named: bool) {
    if named {
        let _ = writeln!(out, "step `{}` ({}):", s.name, s.status.label());
    }
    if let Some(req) = &s.request {
        let mut line = format!("{} {}", req.method, req.url);
        if let Some(a) = &req.connected_to {
            let _ = write!(line, " → {a}");
        }
        if let Some(by) = &req.resolved_by {
            let _ = write!(line, " (address via {by})");
        }
        if let Some(c) = &req.fallback_cause {
            let _ = write!(line, " [fallback used because: {c}]");
        }
        let _ = writeln!(out, "  request:  {line}");
        for r in &req.redirects {
            let _ = writeln!(out, "  redirect: {r}");
        }
    }
    if let Some(resp) = &s.response {
        let _ = writeln!(
            out,
            "  response: {} {} ({} bytes) in {} ms{}",
            resp.status,
            resp.http_version,
            resp.body_bytes,
            s.duration_ms,
            if s.attempts > 1 {
                format!(", attempt {}", s.attempts)
            } else {
                String::new()
            }
        );
    }
    if let Some(e) = &s.error {
        let _ = writeln!(out, "  error:    {} — {}", e.kind, e.message);
    }
    for o in s.expectations.iter().filter(|o| !o.passed) {
        let _ = writeln!(out, "  ✗ {}", o.message.as_deref().unwrap_or(&o.check));
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
