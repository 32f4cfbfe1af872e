//! The runner: a dispatcher that starts cases (up to `--jobs` at once, respecting `needs`),
//! owns one `select!` loop over case completions, the global deadline and signals, and
//! turns everything into [`Event`]s for the reporters.

pub mod case;
pub mod request;
pub mod schedule;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::events::{CancelReason, CaseResult, Counts, Event, RunInfo, RunSummary, Status};
use crate::http::{HttpClient, NetConfig};
use crate::plan::{HttpsUse, Plan};
use crate::report::Reporter;

use case::{finish_case, run_case, skipped_step, Ctx};
use schedule::Scheduler;

/// How to run a plan.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Cases run at once.
    pub jobs: usize,
    /// Overall deadline; unfinished checks are reported as errors when it passes.
    pub deadline: Option<Duration>,
    pub net: NetConfig,
    /// Stop on SIGINT / SIGTERM (the CLI sets this; library callers usually do not).
    pub handle_signals: bool,
    /// Run metadata for reports (`--meta k=v`, CI facts).
    pub metadata: Vec<(String, String)>,
    /// Return every case result in [`RunOutcome::results`]. The CLI turns this off: its
    /// reporters keep what they need, and a run of many thousands of checks then holds
    /// only a tally.
    pub keep_results: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            jobs: 8,
            deadline: None,
            net: NetConfig::default(),
            handle_signals: false,
            metadata: Vec::new(),
            keep_results: true,
        }
    }
}

/// The results of a run, in plan order.
#[derive(Debug)]
pub struct RunOutcome {
    pub summary: RunSummary,
    /// Every case result, in plan order (empty unless [`RunOptions::keep_results`]).
    pub results: Vec<Arc<CaseResult>>,
}

/// What the dispatcher remembers of finished cases: a tally, and the results themselves
/// only when the caller wants them back.
struct Finished {
    done: Vec<bool>,
    kept: Option<Vec<Option<Arc<CaseResult>>>>,
    counts: Counts,
    blocking: bool,
}

impl Finished {
    fn new(n: usize, keep: bool) -> Self {
        Finished {
            done: vec![false; n],
            kept: keep.then(|| vec![None; n]),
            counts: Counts::default(),
            blocking: false,
        }
    }

    fn record(&mut self, i: usize, r: &Arc<CaseResult>) {
        self.done[i] = true;
        self.counts.add(r);
        self.blocking |= r.blocks();
        if let Some(k) = self.kept.as_mut() {
            k[i] = Some(r.clone());
        }
    }
}

/// Run a plan, feeding every reporter.
pub async fn run(
    plan: Plan,
    opts: RunOptions,
    reporters: &mut [Box<dyn Reporter>],
) -> Result<RunOutcome, String> {
    let mut net = opts.net.clone();
    net.resolve.extend(plan.resolve.iter().cloned());
    net.fallback_resolve
        .extend(plan.fallback_resolve.iter().cloned());
    net.connect_to.extend(plan.connect_to.iter().cloned());
    for d in &plan.dns_servers {
        if !net.dns_servers.contains(d) {
            net.dns_servers.push(*d);
        }
    }
    let insecure = net.insecure;
    let reads_roots = net.cacert.is_some() || net.client_cert.is_some();
    let client = HttpClient::new(net)?;
    // The trust store is read before the first request when the run may use https, so that
    // reading it never stalls a handshake (the run is single-threaded); a plain-http run
    // never reads it. A missing store is a configuration error when https is certain; when it
    // is only possible, an https request (if one happens) reports it instead.
    match plan.https_use() {
        _ if reads_roots => client.load_trust_roots()?,
        HttpsUse::Yes => client.load_trust_roots()?,
        HttpsUse::Maybe => {
            if let Err(e) = client.load_trust_roots() {
                tracing::debug!("trust roots not loaded ahead: {e}");
            }
        }
        HttpsUse::No => {}
    }
    let plan = Arc::new(plan);
    let ctx = Arc::new(Ctx {
        plan: plan.clone(),
        client,
    });
    let start = Instant::now();
    let info = RunInfo {
        run_id: plan.run_id.clone(),
        started_at: chrono::Utc::now().to_rfc3339(),
        smokegate_version: env!("CARGO_PKG_VERSION"),
        suites: plan.suites.iter().map(|s| s.name.clone()).collect(),
        profiles: plan
            .suites
            .iter()
            .filter_map(|s| s.profile.as_ref().map(|p| format!("{}: {p}", s.name)))
            .collect(),
        total_cases: plan.cases.len(),
        insecure,
        metadata: opts.metadata.clone(),
    };
    let emit = |reporters: &mut [Box<dyn Reporter>], ev: Event| {
        for r in reporters.iter_mut() {
            r.event(&ev);
        }
    };
    emit(reporters, Event::RunStarted(info));

    let n = plan.cases.len();
    let mut results = Finished::new(n, opts.keep_results);
    let mut started = vec![false; n];
    let mut set: JoinSet<(usize, CaseResult)> = JoinSet::new();
    let mut task_index: HashMap<tokio::task::Id, usize> = HashMap::new();
    let jobs = opts.jobs.max(1);
    let deadline = opts.deadline.map(|d| tokio::time::Instant::now() + d);
    let mut cancelled = None;
    let mut signals = Signals::new(opts.handle_signals);
    let needs: Vec<Vec<usize>> = plan.cases.iter().map(|c| c.needs.clone()).collect();
    let mut sched = Scheduler::new(&needs);
    let mut finished: Vec<(usize, CaseResult)> = Vec::new();

    loop {
        // Record finished cases (in the order they finished); skip dependents of those that
        // did not pass.
        for (i, r) in std::mem::take(&mut finished) {
            for (skip, because) in sched.finish(i, r.status) {
                started[skip] = true;
                let case = &plan.cases[skip];
                let why = format!(
                    "skipped: needs `{}`, which did not pass",
                    plan.cases[because].name
                );
                let steps = case.steps.iter().map(|s| skipped_step(s, &why)).collect();
                let sr = Arc::new(finish_case(
                    &plan,
                    case,
                    Status::Skipped,
                    Some(why),
                    chrono::Utc::now().to_rfc3339(),
                    Duration::ZERO,
                    steps,
                    false,
                ));
                emit(reporters, Event::CaseFinished(sr.clone()));
                results.record(skip, &sr);
            }
            let r = Arc::new(r);
            emit(reporters, Event::CaseFinished(r.clone()));
            results.record(i, &r);
        }
        // Start what is ready, up to --jobs at once.
        while set.len() < jobs {
            let Some(i) = sched.next_ready() else { break };
            started[i] = true;
            emit(
                reporters,
                Event::CaseStarted {
                    index: i,
                    name: plan.cases[i].name.clone(),
                },
            );
            let ctx = ctx.clone();
            let h = set.spawn(async move { (i, run_case(ctx, i).await) });
            task_index.insert(h.id(), i);
        }
        if set.is_empty() {
            break;
        }
        // Output written since the last wait goes out now, in one piece: live whenever the
        // run waits, without a write per line while cases finish in bursts.
        for r in reporters.iter_mut() {
            r.flush();
        }
        tokio::select! {
            joined = set.join_next_with_id() => {
                let Some(joined) = joined else { break };
                collect(joined, &plan, &mut task_index, &mut finished);
                // Everything else that has finished meanwhile is handled in the same round.
                while let Some(joined) = set.try_join_next_with_id() {
                    collect(joined, &plan, &mut task_index, &mut finished);
                }
            }
            _ = sleep_until(deadline) => {
                cancelled = Some(CancelReason::DeadlineExceeded);
            }
            _ = signals.recv() => {
                cancelled = Some(CancelReason::Interrupted);
            }
        }
        if let Some(reason) = cancelled {
            emit(reporters, Event::RunCancelling(reason));
            set.abort_all();
            while set.join_next().await.is_some() {}
            break;
        }
    }

    // Anything not finished is an error: a check that could not run never passes.
    for (i, case) in plan.cases.iter().enumerate() {
        if !results.done[i] {
            let reason = cancelled
                .map(|c| c.to_string())
                .unwrap_or_else(|| "not run".into());
            let msg = if started[i] {
                format!("did not finish: {reason}")
            } else {
                format!("not started: {reason}")
            };
            let steps = case.steps.iter().map(|s| skipped_step(s, &msg)).collect();
            let r = Arc::new(finish_case(
                &plan,
                case,
                Status::Error,
                Some(msg),
                chrono::Utc::now().to_rfc3339(),
                start.elapsed(),
                steps,
                false,
            ));
            emit(reporters, Event::CaseFinished(r.clone()));
            results.record(i, &r);
        }
    }
    let passed = !results.blocking && cancelled.is_none();
    let summary = RunSummary {
        counts: results.counts,
        passed,
        duration: start.elapsed(),
        cancelled,
    };
    emit(reporters, Event::RunFinished(summary.clone()));
    let results = results
        .kept
        .map(|k| k.into_iter().flatten().collect())
        .unwrap_or_default();
    Ok(RunOutcome { summary, results })
}

/// Take a finished case task's result (a task that panicked is an error of its case).
fn collect(
    joined: Result<(tokio::task::Id, (usize, CaseResult)), tokio::task::JoinError>,
    plan: &Plan,
    task_index: &mut HashMap<tokio::task::Id, usize>,
    finished: &mut Vec<(usize, CaseResult)>,
) {
    match joined {
        Ok((id, (i, r))) => {
            task_index.remove(&id);
            finished.push((i, r));
        }
        Err(e) => {
            let i = task_index.remove(&e.id()).unwrap_or_default();
            let case = &plan.cases[i];
            let msg = format!("internal error: the case task failed: {e}");
            finished.push((
                i,
                finish_case(
                    plan,
                    case,
                    Status::Error,
                    Some(msg),
                    chrono::Utc::now().to_rfc3339(),
                    Duration::ZERO,
                    Vec::new(),
                    false,
                ),
            ));
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// SIGINT and SIGTERM, when enabled.
struct Signals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    enabled: bool,
}

impl Signals {
    fn new(enabled: bool) -> Self {
        Signals {
            #[cfg(unix)]
            term: if enabled {
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok()
            } else {
                None
            },
            enabled,
        }
    }

    async fn recv(&mut self) {
        if !self.enabled {
            return std::future::pending().await;
        }
        #[cfg(unix)]
        {
            if let Some(term) = self.term.as_mut() {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
                return;
            }
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
