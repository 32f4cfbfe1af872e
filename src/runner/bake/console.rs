//! The console of a bake: one compact line per round (`round 3/10 …`), and in a terminal a
//! live summary line rewritten in place. Nothing else: when the console is not a terminal,
//! only the round lines; with `--quiet`, only the rounds where a check did not pass.

use std::io::Write;
use std::time::Duration;

use crate::events::CancelReason;
use crate::plan::samples::fmt_dur;

use super::aggregate::RoundTally;
use super::BakeOptions;

/// Where and how the bake's own lines are written.
pub struct BakeConsole {
    out: Box<dyn Write + Send>,
    color: bool,
    quiet: bool,
    tty: bool,
    /// A live line is on screen (to clear before the next line).
    live_shown: bool,
}

impl BakeConsole {
    /// Lines go to `out`; `tty` enables the live summary.
    pub fn new(out: Box<dyn Write + Send>, color: bool, quiet: bool, tty: bool) -> Self {
        BakeConsole {
            out,
            color,
            quiet,
            tty,
            live_shown: false,
        }
    }

    /// Write nowhere (library callers, tests).
    pub fn silent() -> Self {
        BakeConsole::new(Box::new(std::io::sink()), false, true, false)
    }

    fn paint(&self, text: &str, code: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn line(&mut self, text: &str) {
        self.clear_live();
        let _ = writeln!(self.out, "{text}").and_then(|()| self.out.flush());
    }

    /// The schedule, before the first round.
    pub fn start(&mut self, bake: &BakeOptions, planned: u64) {
        if self.quiet {
            return;
        }
        let mut t = format!(
            "baking for {} every {}: {}",
            fmt_dur(bake.window),
            fmt_dur(bake.every),
            crate::report::plural(planned as usize, "round", "rounds")
        );
        if bake.max_failure_rate > 0.0 {
            t.push_str(&format!(
                ", a check may fail in {} of them",
                super::aggregate::percent(bake.max_failure_rate)
            ));
        }
        if bake.fail_fast {
            t.push_str(", stopping at the first breach");
        }
        self.line(&t);
    }

    fn counts(&self, t: &RoundTally) -> String {
        let failed = format!("{} failed", t.failed);
        let failed = if t.failed > 0 {
            self.paint(&failed, "31;1")
        } else {
            failed
        };
        let mut s = format!("{} passed, {failed}", t.passed);
        if let Some(w) = t.worst_ms {
            s.push_str(&format!("  worst p95 {}", ms(w)));
        }
        s
    }

    /// Round `k` of `planned` finished; `overran` is `--every` when it took longer.
    pub fn round(
        &mut self,
        k: u64,
        planned: u64,
        offset: Duration,
        took: Duration,
        t: &RoundTally,
        overran: Option<Duration>,
    ) {
        if self.quiet && t.failed == 0 {
            return;
        }
        let mut line = format!(
            "round {k}/{planned}  at {}  {}",
            secs(offset),
            self.counts(t)
        );
        if let Some(every) = overran {
            line.push_str(&format!(
                "  (took {} > --every {}: the next round starts when it ends)",
                secs(took),
                fmt_dur(every)
            ));
        }
        self.line(&line);
    }

    /// Round `k` was abandoned (deadline, signal).
    pub fn round_cut(
        &mut self,
        k: u64,
        planned: u64,
        offset: Duration,
        t: &RoundTally,
        why: Option<CancelReason>,
    ) {
        let why = why.map_or_else(|| "stopped".to_string(), |c| c.to_string());
        let line = format!(
            "round {k}/{planned}  at {}  {}  — {why}: round abandoned, the bake stops",
            secs(offset),
            self.counts(t)
        );
        self.line(&line);
    }

    /// In a terminal: the live summary after round `k`, with the time to the next round.
    pub fn live(&mut self, k: u64, planned: u64, next: Option<Duration>, failing: usize) {
        if !self.tty || self.quiet {
            return;
        }
        let failing = if failing == 0 {
            "no check failing".to_string()
        } else {
            self.paint(
                &crate::report::plural(failing, "check failing", "checks failing"),
                "31;1",
            )
        };
        let next = next.map_or_else(String::new, |d| format!(", next in {}", secs(d)));
        let _ = write!(
            self.out,
            "\r\x1b[K  baking: {k}/{planned} rounds done{next}, {failing}"
        )
        .and_then(|()| self.out.flush());
        self.live_shown = true;
    }

    /// Whether a live line is drawn at all (a terminal, not `--quiet`).
    pub fn is_live(&self) -> bool {
        self.tty && !self.quiet
    }

    /// Take the live line off the screen.
    pub fn clear_live(&mut self) {
        if self.live_shown {
            let _ = write!(self.out, "\r\x1b[K").and_then(|()| self.out.flush());
            self.live_shown = false;
        }
    }
}

/// `0.40 s`, `12 s`, `3 m 05 s`.
fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 10.0 {
        format!("{s:.2} s")
    } else if s < 120.0 {
        format!("{s:.0} s")
    } else {
        format!("{} m {:02} s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

/// `84 ms`, `3.2 ms`: enough digits to compare rounds at a glance.
fn ms(x: f64) -> String {
    if x >= 10.0 {
        format!("{x:.0} ms")
    } else {
        format!(
            "{} ms",
            crate::plan::samples::trim_float((x * 10.0).round() / 10.0)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(secs(Duration::from_millis(400)), "0.40 s");
        assert_eq!(secs(Duration::from_secs(12)), "12 s");
        assert_eq!(secs(Duration::from_secs(185)), "3 m 05 s");
        assert_eq!(ms(15.559), "16 ms");
        assert_eq!(ms(3.25), "3.3 ms");
        assert_eq!(ms(2.0), "2 ms");
    }
}
