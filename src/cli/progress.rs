//! Progress in a terminal: a check running longer than [`SLOW_AFTER`] is shown as running
//! (like nextest's SLOW), again each time its running time doubles, with the attempt a
//! `retry` or `wait_until` step is on and why the previous attempt did not pass. Nothing is
//! shown when the console is not a terminal (a CI log, a pipe).

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::redact::Redactor;
use crate::runner::live::{LiveView, Running};

/// A check running this long is shown as running.
pub const SLOW_AFTER: Duration = Duration::from_secs(5);

/// How often the running checks are looked at.
const TICK: Duration = Duration::from_millis(200);

/// The display thread; stopped (and joined) when dropped.
pub struct Ticker {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Ticker {
    /// Show slow checks of `live` on standard error (`to_stderr`) or standard output.
    pub fn start(live: LiveView, to_stderr: bool, color: bool, redactor: Redactor) -> Ticker {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("smokegate-progress".into())
            .spawn(move || {
                let mut next: HashMap<usize, Duration> = HashMap::new();
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    let running = live.snapshot();
                    next.retain(|i, _| running.iter().any(|r| r.index == *i));
                    for r in running {
                        let due = next.entry(r.index).or_insert(SLOW_AFTER);
                        if r.elapsed < *due {
                            continue;
                        }
                        while *due <= r.elapsed {
                            *due *= 2;
                        }
                        let line = redactor.redact(&slow_line(&r, color));
                        let _ = if to_stderr {
                            writeln!(std::io::stderr().lock(), "{line}")
                        } else {
                            let mut out = std::io::stdout().lock();
                            writeln!(out, "{line}").and_then(|()| out.flush())
                        };
                    }
                }
            })
            .ok();
        Ticker { stop, handle }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// `SLOW  suite › case  running 10 s, attempt 4 (last: expected status 200, got 503)`.
pub fn slow_line(r: &Running, color: bool) -> String {
    let v = |s: &str| crate::text::visible(s).into_owned();
    let label = if color {
        "\x1b[33mSLOW \x1b[0m"
    } else {
        "SLOW "
    };
    let mut line = format!(
        "{label} {} › {}  running {} s",
        v(&r.suite),
        v(&r.name),
        r.elapsed.as_secs()
    );
    if let Some((n, failed)) = r.samples {
        line.push_str(&format!(", {n} samples ({failed} failed)"));
    }
    if r.attempt > 1 {
        line.push_str(&format!(", attempt {}", r.attempt));
        if let Some(m) = &r.last_failure {
            let m = crate::expect::truncate(m.lines().next().unwrap_or(""), 120);
            line.push_str(&format!(" (last: {})", v(&m)));
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_line_names_the_check_its_time_and_attempt() {
        let r = Running {
            index: 0,
            suite: "api".into(),
            name: "ready".into(),
            elapsed: Duration::from_millis(10_400),
            attempt: 4,
            last_failure: Some("expected status 200, got 503\nmore".into()),
            samples: None,
        };
        assert_eq!(
            slow_line(&r, false),
            "SLOW  api › ready  running 10 s, attempt 4 (last: expected status 200, got 503)"
        );
        let first = Running {
            attempt: 1,
            last_failure: None,
            ..r
        };
        assert_eq!(slow_line(&first, false), "SLOW  api › ready  running 10 s");
        let sampled = Running {
            samples: Some((37, 2)),
            ..first
        };
        assert_eq!(
            slow_line(&sampled, false),
            "SLOW  api › ready  running 10 s, 37 samples (2 failed)"
        );
    }
}
