//! The runner: a dispatcher that starts cases (up to `--jobs` at once, respecting `needs`),
//! owns one `select!` loop over case completions, the global deadline, the grace period and
//! signals, and turns everything into [`Event`]s for the reporters. Every decision is made by
//! the pure [`state::RunState`]; the loop only waits and does what it answers.

pub(crate) mod auth;
pub mod bake;
pub(crate) mod case;
pub(crate) mod cookies;
pub(crate) mod credentials;
pub mod live;
pub(crate) mod multipart;
pub(crate) mod oauth2;
pub(crate) mod request;
pub(crate) mod samples;
pub(crate) mod sanitize;
pub(crate) mod schedule;
mod signal;
pub(crate) mod state;
mod threads;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::events::Reporter;
use crate::events::{CancelReason, CaseResult, Counts, Event, RunInfo, RunSummary, Status};
use crate::http::{HttpClient, NetConfig, SetupError};
use crate::plan::{HttpsUse, Plan};

use case::{finish_case, interrupted, run_case, skipped_step, Ctx, Progress};
use signal::Signals;
use state::{Cancel, CaseEvent, RunState};
pub use threads::{worker_threads, WORKER_THREADS_ENV};

/// How to run a plan.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Cases run at once.
    pub jobs: usize,
    /// Overall deadline; unfinished checks are reported as errors when it passes.
    pub deadline: Option<Duration>,
    /// Network settings: resolution rules, DNS servers, timeouts, TLS; the plan's profile rules
    /// are added to them.
    pub net: NetConfig,
    /// Stop on SIGINT / SIGTERM (the CLI sets this; library callers usually do not).
    pub handle_signals: bool,
    /// Run metadata for reports (`--meta k=v`, CI facts).
    pub metadata: Vec<(String, String)>,
    /// Stop starting cases after this many blocking failures (`--max-fail N`; `--fail-fast`
    /// is 1); the cases not started are reported as skipped.
    pub max_fail: Option<usize>,
    /// Where a live display reads what runs now (the CLI's progress in a terminal).
    pub live: Option<live::LiveView>,
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
            max_fail: None,
            live: None,
            keep_results: true,
        }
    }
}

/// The results of a run, in plan order.
#[derive(Debug)]
pub struct RunOutcome {
    /// Counts, verdict, duration and cancellation of the run.
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
) -> Result<RunOutcome, SetupError> {
    run_shared(Arc::new(plan), opts, reporters).await
}

/// [`run`] a plan that is shared (bake mode runs the same plan round after round).
pub async fn run_shared(
    plan: Arc<Plan>,
    opts: RunOptions,
    reporters: &mut [Box<dyn Reporter>],
) -> Result<RunOutcome, SetupError> {
    let client = client_for(&plan, &opts)?;
    let insecure = client.config().insecure;
    // Values a template filter derives from a secret become secrets.
    crate::interp::filters::set_secret_sink(plan.redactor.clone());
    let ctx = Arc::new(Ctx {
        plan: plan.clone(),
        client,
        tokens: Default::default(),
        stopping: Default::default(),
    });
    let info = run_info(&plan, insecure, &opts);
    // The scheduler keeps its own copy of the links: this one is gone before the run starts.
    let state = {
        let needs: Vec<&[usize]> = plan.cases.iter().map(|c| &*c.needs).collect();
        RunState::new(&needs, opts.jobs)
    };
    let mut d = Dispatcher {
        plan: plan.clone(),
        ctx,
        reporters,
        state,
        set: JoinSet::new(),
        task_index: HashMap::new(),
        results: Finished::new(plan.cases.len(), opts.keep_results),
        started: vec![false; plan.cases.len()],
        progress: HashMap::new(),
        start: Instant::now(),
        max_fail: opts.max_fail,
        failures: 0,
        live: opts.live.clone(),
    };
    d.emit(Event::RunStarted(info));
    d.run_loop(opts.deadline, opts.handle_signals).await;
    Ok(d.finish())
}

/// The HTTP client of a run, with the plan's network rules; the trust store is read ahead
/// when the run may use https.
fn client_for(plan: &Plan, opts: &RunOptions) -> Result<HttpClient, SetupError> {
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
    let reads_roots = net.cacert.is_some() || net.client_cert.is_some();
    let client = HttpClient::new(net)?;
    // The trust store is read before the first request when the run may use https — what the
    // first handshake is expected to need (see `http::tls`) — so that reading it rarely stalls
    // a handshake (the run is single-threaded); a plain-http run never reads it. A missing store is a configuration error when https is certain; when it
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
    Ok(client)
}

/// The dispatcher of one run: the case tasks, the run state, and the reporters.
struct Dispatcher<'r> {
    plan: Arc<Plan>,
    ctx: Arc<Ctx>,
    reporters: &'r mut [Box<dyn Reporter>],
    state: RunState,
    set: JoinSet<(usize, CaseResult)>,
    task_index: HashMap<tokio::task::Id, usize>,
    results: Finished,
    started: Vec<bool>,
    /// What each running case has done so far (only running cases).
    progress: HashMap<usize, Arc<std::sync::Mutex<Progress>>>,
    start: Instant,
    /// `--max-fail`, and the blocking failures so far.
    max_fail: Option<usize>,
    failures: usize,
    live: Option<live::LiveView>,
}

impl Dispatcher<'_> {
    fn emit(&mut self, ev: Event) {
        for r in self.reporters.iter_mut() {
            r.event(&ev);
        }
    }

    /// The one loop: start what the state allows, then wait for a case, the deadline, the
    /// end of the grace period or a signal, and hand it to the state.
    async fn run_loop(&mut self, deadline: Option<Duration>, handle_signals: bool) {
        let deadline = deadline.map(|d| tokio::time::Instant::now() + d);
        let mut grace_until: Option<tokio::time::Instant> = None;
        let mut signals = Signals::new(handle_signals);
        loop {
            for i in self.state.start_ready() {
                self.start_case(i);
            }
            if self.state.is_done() {
                break;
            }
            // Output written since the last wait goes out now, in one piece: live whenever
            // the run waits, without a write per line while cases finish in bursts.
            for r in self.reporters.iter_mut() {
                r.flush();
            }
            // The end of the grace period was announced with the first signal: stopping then
            // is not news.
            let mut announce = true;
            let cancel = tokio::select! {
                joined = self.set.join_next_with_id(), if !self.set.is_empty() => {
                    let mut done = Vec::new();
                    done.extend(joined.map(|j| self.collect(j)));
                    // Everything else that has finished meanwhile is handled in this round.
                    while let Some(j) = self.set.try_join_next_with_id() {
                        done.push(self.collect(j));
                    }
                    for (i, r) in done {
                        self.finished(i, r);
                    }
                    Cancel::Ignore
                }
                _ = sleep_until(deadline) => self.state.deadline(),
                _ = sleep_until(grace_until) => {
                    announce = false;
                    self.state.grace_over()
                }
                _ = signals.recv() => self.state.signal(),
            };
            match cancel {
                Cancel::Ignore => {}
                Cancel::Drain { reason, grace } => {
                    grace_until = Some(tokio::time::Instant::now() + grace);
                    self.ctx.stopping.stop(reason.to_string());
                    let running = self.state.running();
                    self.emit(Event::RunCancelling {
                        reason,
                        running,
                        grace: Some(grace),
                    });
                }
                Cancel::Abort { reason } => {
                    let running = self.state.running();
                    if announce {
                        self.emit(Event::RunCancelling {
                            reason,
                            running,
                            grace: None,
                        });
                    }
                    self.set.abort_all();
                    while self.set.join_next().await.is_some() {}
                    break;
                }
            }
        }
    }

    fn start_case(&mut self, i: usize) {
        self.started[i] = true;
        let name = self.plan.cases[i].name.clone();
        self.emit(Event::CaseStarted { index: i, name });
        let ctx = self.ctx.clone();
        let progress = Progress::starting();
        self.progress.insert(i, progress.clone());
        if let Some(l) = &self.live {
            let suite = &self.plan.suites[self.plan.cases[i].suite].name;
            l.started(i, suite, &self.plan.cases[i].name, progress.clone());
        }
        let h = self
            .set
            .spawn(async move { (i, run_case(ctx, i, progress).await) });
        self.task_index.insert(h.id(), i);
    }

    /// Case `i` finished: report it, then the dependents it skips (causal order).
    fn finished(&mut self, i: usize, result: CaseResult) {
        let mut result = Some(result);
        for ev in self
            .state
            .finish(i, result.as_ref().map_or(Status::Error, |r| r.status))
        {
            let r = match ev {
                CaseEvent::Finished(_) => match result.take() {
                    Some(r) => Arc::new(r),
                    None => continue,
                },
                CaseEvent::Skipped { case, because } => {
                    self.started[case] = true;
                    let why = format!(
                        "skipped: needs `{}`, which did not pass",
                        self.plan.cases[because].name
                    );
                    Arc::new(self.unrun(case, Status::Skipped, why, Duration::ZERO))
                }
            };
            let index = match ev {
                CaseEvent::Finished(i) => {
                    self.progress.remove(&i);
                    if let Some(l) = &self.live {
                        l.finished(i);
                    }
                    i
                }
                CaseEvent::Skipped { case, .. } => case,
            };
            self.emit(Event::CaseFinished(r.clone()));
            self.results.record(index, &r);
            if matches!(r.status, Status::Failed | Status::Error) && r.blocks() {
                self.failures += 1;
                if self.max_fail.is_some_and(|n| self.failures >= n) {
                    if let Some(reason) = self.state.fail_limit() {
                        let running = self.state.running();
                        self.emit(Event::RunCancelling {
                            reason,
                            running,
                            grace: None,
                        });
                    }
                }
            }
        }
    }

    /// The result of a case whose steps did not run.
    fn unrun(&self, i: usize, status: Status, why: String, elapsed: Duration) -> CaseResult {
        let case = &self.plan.cases[i];
        let steps = case.steps().iter().map(|s| skipped_step(s, &why)).collect();
        finish_case(
            &self.plan,
            case,
            status,
            Some(why),
            chrono::Utc::now().to_rfc3339(),
            elapsed,
            steps,
            false,
        )
    }

    /// Take a finished case task's result (a task that panicked is an error of its case).
    fn collect(
        &mut self,
        joined: Result<(tokio::task::Id, (usize, CaseResult)), tokio::task::JoinError>,
    ) -> (usize, CaseResult) {
        match joined {
            Ok((id, (i, r))) => {
                self.task_index.remove(&id);
                (i, r)
            }
            Err(e) => {
                let i = self.task_index.remove(&e.id()).unwrap_or_default();
                let why = format!("internal error: the case task failed: {e}");
                (i, self.unrun(i, Status::Error, why, Duration::ZERO))
            }
        }
    }

    /// Report every case that did not finish as an error (a check that could not run never
    /// passes), then the verdict.
    fn finish(mut self) -> RunOutcome {
        if let Some(l) = &self.live {
            l.clear();
        }
        let cancelled = self.state.cancelled();
        for i in 0..self.plan.cases.len() {
            if self.results.done[i] {
                continue;
            }
            let reason = cancelled.map_or_else(|| "not run".into(), |c| c.to_string());
            let r = match self.progress.remove(&i) {
                // Not started because of --max-fail: not run, so never a pass, but not an
                // error of its own either.
                None if !self.started[i] && cancelled == Some(CancelReason::MaxFail) => {
                    let why = format!("not started: {reason}");
                    self.unrun(i, Status::Skipped, why, Duration::ZERO)
                }
                Some(p) => interrupted(&self.plan, &self.plan.cases[i], &p, &reason),
                None if self.started[i] => {
                    let why = format!("did not finish: {reason}");
                    self.unrun(i, Status::Error, why, self.start.elapsed())
                }
                None => {
                    let why = format!("not started: {reason}");
                    self.unrun(i, Status::Error, why, self.start.elapsed())
                }
            };
            let r = Arc::new(r);
            self.emit(Event::CaseFinished(r.clone()));
            self.results.record(i, &r);
        }
        let summary = RunSummary {
            counts: self.results.counts.clone(),
            passed: !self.results.blocking && cancelled.is_none(),
            duration: self.start.elapsed(),
            cancelled,
        };
        self.emit(Event::RunFinished(summary.clone()));
        let results = self
            .results
            .kept
            .take()
            .map(|k| k.into_iter().flatten().collect())
            .unwrap_or_default();
        RunOutcome { summary, results }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// What a run announces when it starts (`Event::RunStarted`): the plan's suites and
/// profiles, this build, the options' metadata.
pub(crate) fn run_info(plan: &Plan, insecure: bool, opts: &RunOptions) -> RunInfo {
    RunInfo {
        run_id: plan.run_id.to_string(),
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
    }
}
