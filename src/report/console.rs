//! The console: one line per case as it finishes, failures explained beneath it, and a
//! final verdict. Colour only on a terminal, never with `NO_COLOR`.

use std::io::Write;

use crate::events::{CaseResult, Event, RunSummary, Status};
use crate::redact::Redactor;

use super::details::explain;
use super::Reporter;

/// Console reporter.
pub struct Console {
    /// Buffered: the runner flushes whenever it waits, and a run's end flushes.
    out: std::io::BufWriter<Box<dyn Write + Send>>,
    color: bool,
    verbose: bool,
    redactor: Redactor,
    insecure: bool,
    /// Critical cases that did not run (a prerequisite did not pass): they block the gate.
    skipped_critical: usize,
    /// `--quiet`: only the checks that did not pass, and the verdict.
    quiet: bool,
}

impl Console {
    /// A console reporter writing to `out`.
    pub fn new(out: Box<dyn Write + Send>, color: bool, verbose: bool, redactor: Redactor) -> Self {
        Console {
            out: std::io::BufWriter::with_capacity(64 * 1024, out),
            color,
            verbose,
            redactor,
            insecure: false,
            skipped_critical: 0,
            quiet: false,
        }
    }

    /// `--quiet`: print only the checks that did not pass (failures, errors, skipped
    /// checks that block) and the verdict; no header, no passing checks.
    pub fn quiet(mut self, quiet: bool) -> Self {
        self.quiet = quiet;
        self
    }

    fn paint(&self, text: &str, code: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn case_block(&self, c: &CaseResult) -> String {
        let (label, code) = match c.status {
            Status::Passed => ("PASS ", "32"),
            Status::Failed => ("FAIL ", "31"),
            Status::Error => ("ERROR", "31;1"),
            Status::Skipped => ("SKIP ", "33"),
        };
        // Everything but our own colours is made visible: a report given to `merge` may have
        // been written by anyone.
        let v = |s: &str| crate::text::visible(s).into_owned();
        let mut line = format!(
            "{} {} › {}  ({} ms)",
            self.paint(label, code),
            v(&c.suite),
            v(&c.name),
            c.duration_ms
        );
        if c.flaky {
            line.push_str(&self.paint("  [flaky: passed after retries]", "33"));
        }
        if matches!(c.status, Status::Failed | Status::Error) && !c.blocks() {
            line.push_str(&self.paint("  [warning: does not block]", "33"));
        }
        if c.passed_with_warnings() {
            line.push_str(&self.paint(
                &format!(
                    "  [passed with {} warning(s): does not block]",
                    c.warnings.len()
                ),
                "33",
            ));
        }
        line.push('\n');
        if c.status == Status::Skipped {
            if let Some(m) = &c.message {
                line.push_str(&format!("      {}\n", v(m)));
            }
            return line;
        }
        let details = explain(c, self.verbose);
        for l in details.lines() {
            line.push_str("      ");
            line.push_str(&v(l));
            line.push('\n');
        }
        line
    }

    fn verdict(&self, s: &RunSummary) -> String {
        let c = &s.counts;
        let word = if s.passed {
            self.paint("PASSED", "32;1")
        } else {
            self.paint("FAILED", "31;1")
        };
        let mut text = format!("\nverdict: {word} — {}", super::counts_line(c));
        text.push_str(&format!(" in {:.2} s", s.duration.as_secs_f64()));
        if self.skipped_critical > 0 {
            text.push_str(&format!(
                " — {} did not run",
                super::plural(self.skipped_critical, "critical check", "critical checks")
            ));
        }
        if let Some(r) = s.cancelled {
            text.push_str(&format!(" — run stopped: {r}"));
        }
        if self.insecure {
            text.push_str(" — TLS verification DISABLED (--insecure)");
        }
        text.push('\n');
        text
    }
}

/// Bake mode: how many rounds ran, and why fewer than planned.
fn bake_line(b: &crate::events::BakeRun) -> String {
    let mut t = format!(
        "\nbake: {} of {} rounds, one every {}",
        b.rounds,
        b.planned_rounds,
        crate::plan::samples::fmt_dur(std::time::Duration::from_millis(b.every_ms))
    );
    if b.overruns > 0 {
        t.push_str(&format!(
            ", {} took longer than that",
            super::plural(b.overruns as usize, "round", "rounds")
        ));
    }
    if let Some(why) = &b.stopped {
        let cut = if b.cut_short { "cut short" } else { "ended" };
        t.push_str(&format!(" — {cut}: {why}"));
    }
    t.push('\n');
    t
}

impl Reporter for Console {
    fn event(&mut self, ev: &Event) {
        let text = match ev {
            Event::RunStarted(info) => {
                self.insecure = info.insecure;
                if self.quiet {
                    return;
                }
                let mut t = format!(
                    "smokegate {} — {} from {}",
                    info.smokegate_version,
                    super::plural(info.total_cases, "check", "checks"),
                    super::plural(info.suites.len(), "suite", "suites")
                );
                if !info.profiles.is_empty() {
                    t.push_str(&format!(" [{}]", info.profiles.join(", ")));
                }
                if info.insecure {
                    t.push_str(" — WARNING: TLS verification disabled");
                }
                t.push('\n');
                t
            }
            Event::CaseStarted { .. } => return,
            Event::CaseFinished(c) => {
                if c.status == Status::Skipped && c.blocks() {
                    self.skipped_critical += 1;
                }
                let shown = matches!(c.status, Status::Failed | Status::Error)
                    || (c.status == Status::Skipped && c.blocks());
                if self.quiet && !shown {
                    return;
                }
                self.case_block(c)
            }
            Event::RunCancelling {
                reason,
                running,
                grace: Some(g),
            } => format!(
                "\nstopping: {reason}; waiting up to {}s for {} to finish (interrupt again to stop now); unfinished checks are reported as errors\n",
                g.as_secs(),
                super::plural(*running, "running check", "running checks")
            ),
            Event::RunCancelling {
                reason: reason @ crate::events::CancelReason::MaxFail,
                running,
                ..
            } => format!(
                "\nstopping: {reason}; {} finish, nothing more is started\n",
                super::plural(*running, "running check", "running checks")
            ),
            Event::RunCancelling { reason, .. } => {
                format!("\nstopping now: {reason}; unfinished checks are reported as errors\n")
            }
            Event::BakeFinished(b) => {
                if self.quiet && !b.cut_short {
                    return;
                }
                bake_line(b)
            }
            Event::RunFinished(s) => self.verdict(s),
        };
        let text = self.redactor.redact(&text);
        let _ = self.out.write_all(text.as_bytes());
        if matches!(ev, Event::RunFinished(_) | Event::RunCancelling { .. }) {
            let _ = self.out.flush();
        }
    }

    fn flush(&mut self) {
        let _ = self.out.flush();
    }
}
