//! Bake mode (`run --bake WINDOW --every INTERVAL`): the same compiled plan run again and
//! again on a schedule, gated on the aggregate over the window. It stays one run for the
//! reporters: they see the start, then one aggregated result per check, the bake's schedule
//! ([`Event::BakeFinished`]) and the verdict. Each round is a plain run of the plan fed to an
//! [`aggregate::Aggregator`]; the console gets one line per round (and, in a terminal, a live
//! summary line).
//!
//! Rounds never overlap: round `k` starts at `(k - 1) × every`, or when round `k - 1` ends if
//! that is later. No round starts once the window has passed. `--deadline` and SIGINT/SIGTERM
//! stop the bake at once: the round in progress is abandoned (its finished checks count, its
//! unfinished ones do not), and the reports say the bake was cut short.

pub mod aggregate;
pub mod console;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::events::{BakeRun, CancelReason, CaseResult, Counts, Event, Reporter, RunSummary};
use crate::http::SetupError;
use crate::plan::Plan;

use super::signal::Signals;
use super::{RunOptions, RunOutcome};
use aggregate::Aggregator;
use console::BakeConsole;

/// How often the live summary is redrawn while waiting for a round.
const LIVE_TICK: Duration = Duration::from_secs(1);

/// Longest bake window.
pub const MAX_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// The schedule and the gate of a bake.
#[derive(Debug, Clone)]
pub struct BakeOptions {
    /// How long to bake (`--bake`).
    pub window: Duration,
    /// Pause between the starts of two rounds (`--every`).
    pub every: Duration,
    /// Share of rounds a check may fail in (`--bake-max-failure-rate`), 0 to 1.
    pub max_failure_rate: f64,
    /// Stop at the first breach (`--bake-fail-fast`).
    pub fail_fast: bool,
}

impl BakeOptions {
    /// Rounds the window plans: ⌈window / every⌉ (at least 1).
    pub fn planned_rounds(&self) -> u64 {
        let w = self.window.as_nanos();
        let e = self.every.as_nanos().max(1);
        (w.div_ceil(e) as u64).max(1)
    }
}

/// Feeds one round's results to the aggregator.
struct RoundSink {
    agg: Arc<Mutex<Aggregator>>,
    round: u64,
    offset: Duration,
}

impl Reporter for RoundSink {
    fn event(&mut self, ev: &Event) {
        if let Event::CaseFinished(r) = ev {
            lock(&self.agg).record(self.round, self.offset, r);
        }
    }
}

fn lock(a: &Mutex<Aggregator>) -> std::sync::MutexGuard<'_, Aggregator> {
    a.lock().unwrap_or_else(|e| e.into_inner())
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

/// Bake `plan`: run it every `bake.every` for `bake.window`, feeding `reporters` one run.
pub async fn run(
    plan: Plan,
    opts: RunOptions,
    bake: BakeOptions,
    mut console: BakeConsole,
    reporters: &mut [Box<dyn Reporter>],
) -> Result<RunOutcome, SetupError> {
    // Listening first: a signal from the moment anything is printed stops the bake cleanly.
    let mut signals = Signals::new(opts.handle_signals);
    // A configuration the client cannot use is found before anything is reported.
    let insecure = super::client_for(&plan, &opts)?.config().insecure;
    super::samples::KEEP_HISTOGRAMS.store(true, std::sync::atomic::Ordering::Relaxed);
    let plan = Arc::new(plan);
    let info = super::run_info(&plan, insecure, &opts);
    emit(reporters, &Event::RunStarted(info));
    for r in reporters.iter_mut() {
        r.flush();
    }
    let planned = bake.planned_rounds();
    console.start(&bake, planned);
    let agg = Arc::new(Mutex::new(Aggregator::new(
        plan.clone(),
        bake.max_failure_rate,
    )));
    let t0 = Instant::now();
    let start = tokio::time::Instant::now();
    let window_end = start + bake.window;
    let deadline = opts.deadline.map(|d| start + d);
    let round_opts = RunOptions {
        handle_signals: false,
        deadline: None,
        live: None,
        keep_results: false,
        ..opts.clone()
    };
    let mut cancelled: Option<CancelReason> = None;
    let mut stopped: Option<String> = None;
    let mut fail_fast_stop = false;
    let mut completed = 0u64;
    let mut overruns = 0u64;
    for k in 1..=planned {
        if k > 1 {
            let now = tokio::time::Instant::now();
            if now >= window_end {
                stopped = Some(format!(
                    "the window ended after {completed} of {planned} rounds (rounds took longer than --every)"
                ));
                break;
            }
            let scheduled = start + bake.every * (k - 1) as u32;
            // Wait for the round's start; in a terminal the live line counts down each second
            // (bounded: the start is at most --every away).
            while tokio::time::Instant::now() < scheduled {
                let tick = (tokio::time::Instant::now() + LIVE_TICK).min(scheduled);
                tokio::select! {
                    _ = tokio::time::sleep_until(tick) => {}
                    _ = signals.recv() => cancelled = Some(CancelReason::Interrupted),
                    _ = sleep_until(deadline) => cancelled = Some(CancelReason::DeadlineExceeded),
                }
                if cancelled.is_some() {
                    break;
                }
                if !console.is_live() {
                    continue;
                }
                let failing = lock(&agg).failing();
                let next = scheduled.saturating_duration_since(tokio::time::Instant::now());
                if !next.is_zero() {
                    console.live(completed, planned, Some(next), failing);
                }
            }
            if cancelled.is_some() {
                break;
            }
        }
        let offset = t0.elapsed();
        let round_started = Instant::now();
        let started_at = chrono::Utc::now().to_rfc3339();
        let mut sinks: Vec<Box<dyn Reporter>> = vec![Box::new(RoundSink {
            agg: agg.clone(),
            round: k,
            offset,
        })];
        let outcome = tokio::select! {
            r = super::run_shared(plan.clone(), round_opts.clone(), &mut sinks) => Some(r),
            _ = signals.recv() => {
                cancelled = Some(CancelReason::Interrupted);
                None
            }
            _ = sleep_until(deadline) => {
                cancelled = Some(CancelReason::DeadlineExceeded);
                None
            }
        };
        drop(sinks);
        let took = round_started.elapsed();
        let tally = lock(&agg).end_round(k, started_at, offset, took);
        match outcome {
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e),
            None => {
                console.round_cut(k, planned, offset, &tally, cancelled);
                break;
            }
        }
        completed += 1;
        let overran = took > bake.every && k < planned;
        overruns += u64::from(overran);
        let failing = lock(&agg).failing();
        console.round(
            k,
            planned,
            offset,
            took,
            &tally,
            overran.then_some(bake.every),
        );
        // The next round's start, when there is one.
        let next = (k < planned).then(|| {
            (start + bake.every * k as u32).saturating_duration_since(tokio::time::Instant::now())
        });
        console.live(k, planned, next, failing);
        if bake.fail_fast {
            if let Some(b) = lock(&agg).breach(planned) {
                stopped = Some(format!("--bake-fail-fast: {b}"));
                fail_fast_stop = true;
                break;
            }
        }
    }
    console.clear_live();
    if let Some(c) = cancelled {
        stopped = Some(format!("{c} after {completed} of {planned} rounds"));
    } else if fail_fast_stop {
        stopped = stopped.map(|s| format!("{s}; stopped after {completed} of {planned} rounds"));
    }
    let cut_short = cancelled.is_some() || fail_fast_stop;
    let results: Vec<Arc<CaseResult>> = {
        let a = lock(&agg);
        a.finish(if cut_short { stopped.as_deref() } else { None })
    };
    let mut counts = Counts::default();
    let mut blocking = false;
    for r in &results {
        counts.add(r);
        blocking |= r.blocks();
        emit(reporters, &Event::CaseFinished(r.clone()));
    }
    let (round_series, rounds_stride) = lock(&agg).round_series();
    let summary_of_bake = BakeRun {
        window_ms: bake.window.as_millis() as u64,
        every_ms: bake.every.as_millis() as u64,
        planned_rounds: planned,
        rounds: completed,
        max_failure_rate: bake.max_failure_rate,
        fail_fast: bake.fail_fast,
        cut_short,
        stopped,
        overruns,
        round_series,
        rounds_stride,
    };
    emit(reporters, &Event::BakeFinished(Arc::new(summary_of_bake)));
    let summary = RunSummary {
        counts,
        passed: !blocking && cancelled.is_none(),
        duration: t0.elapsed(),
        cancelled,
    };
    emit(reporters, &Event::RunFinished(summary.clone()));
    Ok(RunOutcome {
        summary,
        results: if opts.keep_results {
            results
        } else {
            Vec::new()
        },
    })
}

fn emit(reporters: &mut [Box<dyn Reporter>], ev: &Event) {
    for r in reporters.iter_mut() {
        r.event(ev);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planned_rounds_cover_the_window() {
        let b = |w: u64, e: u64| BakeOptions {
            window: Duration::from_millis(w),
            every: Duration::from_millis(e),
            max_failure_rate: 0.0,
            fail_fast: false,
        };
        assert_eq!(b(600_000, 30_000).planned_rounds(), 20);
        assert_eq!(b(2000, 200).planned_rounds(), 10);
        assert_eq!(b(2100, 200).planned_rounds(), 11);
        assert_eq!(b(200, 200).planned_rounds(), 1);
    }
}
