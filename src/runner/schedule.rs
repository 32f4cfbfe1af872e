//! Which case may start next: a synchronous state machine over `needs`, driven by the
//! dispatcher and unit-tested directly. Starting and finishing are O(1) amortized, so a
//! run of tens of thousands of checks does not rescan the plan.

use std::collections::VecDeque;

use crate::events::Status;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    Ready,
    Running,
    Done,
}

/// Tracks prerequisites and readiness of every case.
#[derive(Debug)]
pub struct Scheduler {
    state: Vec<State>,
    unmet: Vec<usize>,
    dependents: Vec<Vec<usize>>,
    ready: VecDeque<usize>,
}

impl Scheduler {
    /// `needs[i]` lists the cases case `i` waits for.
    pub fn new(needs: &[Vec<usize>]) -> Self {
        let n = needs.len();
        let mut dependents = vec![Vec::new(); n];
        let mut unmet = vec![0; n];
        for (i, ns) in needs.iter().enumerate() {
            for &d in ns {
                dependents[d].push(i);
                unmet[i] += 1;
            }
        }
        let mut state = vec![State::Waiting; n];
        let mut ready = VecDeque::new();
        for i in 0..n {
            if unmet[i] == 0 {
                state[i] = State::Ready;
                ready.push_back(i);
            }
        }
        Scheduler {
            state,
            unmet,
            dependents,
            ready,
        }
    }

    /// The next case to start, in plan order among the ready ones.
    pub fn next_ready(&mut self) -> Option<usize> {
        let i = self.ready.pop_front()?;
        self.state[i] = State::Running;
        Some(i)
    }

    /// Record that case `i` finished. Returns the cases that must now be skipped, each with
    /// the prerequisite that did not pass (cascading through chains of `needs`).
    pub fn finish(&mut self, i: usize, status: Status) -> Vec<(usize, usize)> {
        self.state[i] = State::Done;
        let mut skipped = Vec::new();
        let mut failed: VecDeque<usize> = VecDeque::new();
        if status == Status::Passed {
            for &dep in &self.dependents[i] {
                if self.state[dep] == State::Waiting {
                    self.unmet[dep] -= 1;
                    if self.unmet[dep] == 0 {
                        self.state[dep] = State::Ready;
                        self.ready.push_back(dep);
                    }
                }
            }
        } else {
            failed.push_back(i);
        }
        while let Some(f) = failed.pop_front() {
            for k in 0..self.dependents[f].len() {
                let dep = self.dependents[f][k];
                if self.state[dep] == State::Waiting {
                    self.state[dep] = State::Done;
                    skipped.push((dep, f));
                    failed.push_back(dep);
                }
            }
        }
        skipped
    }

    /// True when nothing can start any more.
    pub fn is_idle(&self) -> bool {
        self.ready.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependents_start_after_prerequisites_pass() {
        let mut s = Scheduler::new(&[vec![], vec![0], vec![1]]);
        assert_eq!(s.next_ready(), Some(0));
        assert_eq!(s.next_ready(), None);
        assert!(s.finish(0, Status::Passed).is_empty());
        assert_eq!(s.next_ready(), Some(1));
        assert!(s.finish(1, Status::Passed).is_empty());
        assert_eq!(s.next_ready(), Some(2));
    }

    #[test]
    fn failure_skips_the_whole_chain_with_reasons() {
        let mut s = Scheduler::new(&[vec![], vec![0], vec![1], vec![]]);
        assert_eq!(s.next_ready(), Some(0));
        assert_eq!(s.next_ready(), Some(3));
        assert_eq!(s.finish(0, Status::Failed), vec![(1, 0), (2, 1)]);
        assert!(s.is_idle());
    }

    #[test]
    fn a_case_waits_for_all_of_its_needs() {
        let mut s = Scheduler::new(&[vec![], vec![], vec![0, 1]]);
        s.next_ready();
        s.next_ready();
        s.finish(0, Status::Passed);
        assert_eq!(s.next_ready(), None);
        s.finish(1, Status::Passed);
        assert_eq!(s.next_ready(), Some(2));
    }
}
