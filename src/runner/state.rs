//! Every decision of a run, pure and synchronous: which cases start, what a finished case
//! implies (its dependents skipped, in causal order), and how a signal, the deadline or the
//! end of the grace period cancels the run. The dispatcher feeds it what happens and does
//! what it answers; the tests drive it directly.

use std::time::Duration;

use super::schedule::Scheduler;
use crate::events::{CancelReason, Status};

/// How long cases already running may finish after a first interrupt.
pub const GRACE: Duration = Duration::from_secs(2);

/// What happened to a case, in the order reporters must hear it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseEvent {
    /// The case finished (its own result).
    Finished(usize),
    /// The case will not run: `because` (a prerequisite, directly or through others) did
    /// not pass.
    Skipped {
        /// The case that will not run (an index into the plan's cases).
        case: usize,
        /// The prerequisite that did not pass (an index into the plan's cases).
        because: usize,
    },
}

/// What the dispatcher must do about a cancellation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancel {
    /// Start nothing more; let running cases finish within `grace`.
    Drain {
        /// Why the run is cancelled.
        reason: CancelReason,
        /// How long running cases may still finish.
        grace: Duration,
    },
    /// Stop running cases now.
    Abort {
        /// Why the run is cancelled.
        reason: CancelReason,
    },
    /// Nothing changes (already aborting).
    Ignore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Running,
    Draining,
    Aborting,
}

/// The state of a run.
#[derive(Debug)]
pub struct RunState {
    sched: Scheduler,
    jobs: usize,
    running: usize,
    phase: Phase,
    reason: Option<CancelReason>,
}

impl RunState {
    /// A run of cases with these `needs`, at most `jobs` at once.
    pub fn new<N: AsRef<[usize]>>(needs: &[N], jobs: usize) -> Self {
        RunState {
            sched: Scheduler::new(needs),
            jobs: jobs.max(1),
            running: 0,
            phase: Phase::Running,
            reason: None,
        }
    }

    /// The cases to start now: ready ones, in plan order, up to `--jobs` running; none
    /// once the run is cancelled.
    pub fn start_ready(&mut self) -> Vec<usize> {
        let mut out = Vec::new();
        while self.phase == Phase::Running && self.running < self.jobs {
            let Some(i) = self.sched.next_ready() else {
                break;
            };
            self.running += 1;
            out.push(i);
        }
        out
    }

    /// Case `i` finished with `status`: the case first, then the dependents it skips.
    pub fn finish(&mut self, i: usize, status: Status) -> Vec<CaseEvent> {
        self.running = self.running.saturating_sub(1);
        let mut out = vec![CaseEvent::Finished(i)];
        out.extend(
            self.sched
                .finish(i, status)
                .into_iter()
                .map(|(case, because)| CaseEvent::Skipped { case, because }),
        );
        out
    }

    /// SIGINT or SIGTERM: the first drains, the second stops waiting.
    pub fn signal(&mut self) -> Cancel {
        let reason = self.escalate(CancelReason::Interrupted);
        match self.phase {
            Phase::Running if self.running > 0 => {
                self.phase = Phase::Draining;
                Cancel::Drain {
                    reason,
                    grace: GRACE,
                }
            }
            Phase::Aborting => Cancel::Ignore,
            _ => self.abort(reason),
        }
    }

    /// The run's `--deadline` passed: stop now.
    pub fn deadline(&mut self) -> Cancel {
        let reason = self.escalate(CancelReason::DeadlineExceeded);
        match self.phase {
            Phase::Aborting => Cancel::Ignore,
            _ => self.abort(reason),
        }
    }

    /// `--max-fail` reached: start nothing more, let running cases finish (they are bounded
    /// by their own timeouts and the deadline). Nothing changes once the run is cancelled.
    pub fn fail_limit(&mut self) -> Option<CancelReason> {
        if self.phase != Phase::Running {
            return None;
        }
        self.phase = Phase::Draining;
        Some(self.escalate(CancelReason::MaxFail))
    }

    /// The grace period after a first interrupt is over: stop now.
    pub fn grace_over(&mut self) -> Cancel {
        match (self.phase, self.reason) {
            (Phase::Draining, Some(reason)) => self.abort(reason),
            _ => Cancel::Ignore,
        }
    }

    fn abort(&mut self, reason: CancelReason) -> Cancel {
        self.phase = Phase::Aborting;
        Cancel::Abort { reason }
    }

    /// A cancellation can only escalate (an interrupt outranks the deadline).
    fn escalate(&mut self, reason: CancelReason) -> CancelReason {
        let r = self.reason.map_or(reason, |old| old.max(reason));
        self.reason = Some(r);
        r
    }

    /// Why the run was cancelled, if it was.
    pub fn cancelled(&self) -> Option<CancelReason> {
        self.reason
    }

    /// Cases running now.
    pub fn running(&self) -> usize {
        self.running
    }

    /// True when the run is over: nothing runs and nothing more will start.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Aborting
            || (self.running == 0 && (self.phase != Phase::Running || self.sched.is_idle()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_up_to_jobs_in_plan_order() {
        let mut s = RunState::new(&[vec![], vec![], vec![], vec![]], 2);
        assert_eq!(s.start_ready(), [0, 1]);
        assert!(s.start_ready().is_empty());
        assert_eq!(s.finish(1, Status::Passed), [CaseEvent::Finished(1)]);
        assert_eq!(s.start_ready(), [2]);
    }

    #[test]
    fn a_failed_prerequisite_is_reported_before_the_dependents_it_skips() {
        let mut s = RunState::new(&[vec![], vec![0], vec![1]], 4);
        assert_eq!(s.start_ready(), [0]);
        assert_eq!(
            s.finish(0, Status::Failed),
            [
                CaseEvent::Finished(0),
                CaseEvent::Skipped {
                    case: 1,
                    because: 0
                },
                CaseEvent::Skipped {
                    case: 2,
                    because: 1
                },
            ]
        );
        assert!(s.is_done());
    }

    #[test]
    fn a_first_signal_drains_and_a_second_stops_waiting() {
        let mut s = RunState::new(&[vec![], vec![], vec![0]], 2);
        assert_eq!(s.start_ready(), [0, 1]);
        assert_eq!(
            s.signal(),
            Cancel::Drain {
                reason: CancelReason::Interrupted,
                grace: GRACE
            }
        );
        // Draining: a finished case is recorded, nothing new starts (not even its
        // dependent), and the run is not over while a case still runs.
        assert_eq!(s.finish(0, Status::Passed), [CaseEvent::Finished(0)]);
        assert!(s.start_ready().is_empty());
        assert!(!s.is_done());
        assert_eq!(
            s.signal(),
            Cancel::Abort {
                reason: CancelReason::Interrupted
            }
        );
        assert!(s.is_done());
        assert_eq!(s.signal(), Cancel::Ignore);
    }

    #[test]
    fn draining_ends_when_running_cases_finish_or_the_grace_period_is_over() {
        let mut s = RunState::new(&[vec![], vec![]], 2);
        s.start_ready();
        assert!(matches!(s.signal(), Cancel::Drain { .. }));
        s.finish(0, Status::Passed);
        assert_eq!(
            s.grace_over(),
            Cancel::Abort {
                reason: CancelReason::Interrupted
            }
        );
        let mut s = RunState::new(&[vec![], vec![]], 1);
        s.start_ready();
        assert!(matches!(s.signal(), Cancel::Drain { .. }));
        s.finish(0, Status::Passed);
        assert!(s.is_done(), "the case that never started stays unstarted");
    }

    #[test]
    fn a_signal_with_nothing_running_stops_at_once() {
        let mut s = RunState::new(&[vec![]], 1);
        assert_eq!(
            s.signal(),
            Cancel::Abort {
                reason: CancelReason::Interrupted
            }
        );
    }

    #[test]
    fn the_deadline_aborts_and_a_cancel_only_escalates() {
        let mut s = RunState::new(&[vec![], vec![]], 2);
        s.start_ready();
        assert!(matches!(s.signal(), Cancel::Drain { .. }));
        assert_eq!(
            s.deadline(),
            Cancel::Abort {
                reason: CancelReason::Interrupted
            }
        );
        assert_eq!(s.cancelled(), Some(CancelReason::Interrupted));
        let mut s = RunState::new(&[vec![]], 1);
        s.start_ready();
        assert_eq!(
            s.deadline(),
            Cancel::Abort {
                reason: CancelReason::DeadlineExceeded
            }
        );
        assert_eq!(s.deadline(), Cancel::Ignore);
        assert_eq!(s.grace_over(), Cancel::Ignore);
    }
}
