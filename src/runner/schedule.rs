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

/// Tracks prerequisites and readiness of every case. Compact, as it holds an entry per case
/// for the whole run: 32-bit indices, and the dependents of every case in one array
/// (`dependents[first[i]..first[i + 1]]`) instead of a list per case.
#[derive(Debug)]
pub struct Scheduler {
    state: Vec<State>,
    unmet: Vec<u32>,
    first: Vec<u32>,
    dependents: Vec<u32>,
    ready: VecDeque<u32>,
}

impl Scheduler {
    /// `needs[i]` lists the cases case `i` waits for.
    pub fn new<N: AsRef<[usize]>>(needs: &[N]) -> Self {
        let n = needs.len();
        let index = |i: usize| u32::try_from(i).expect("fewer than 2^32 cases");
        let mut first = vec![0u32; n + 1];
        let mut unmet = vec![0u32; n];
        for (i, ns) in needs.iter().enumerate() {
            for &d in ns.as_ref() {
                first[d + 1] += 1;
                unmet[i] += 1;
            }
        }
        for i in 0..n {
            first[i + 1] += first[i];
        }
        let mut dependents = vec![0u32; first[n] as usize];
        let mut next = first.clone();
        for (i, ns) in needs.iter().enumerate() {
            for &d in ns.as_ref() {
                dependents[next[d] as usize] = index(i);
                next[d] += 1;
            }
        }
        let mut state = vec![State::Waiting; n];
        let mut ready = VecDeque::new();
        for i in 0..n {
            if unmet[i] == 0 {
                state[i] = State::Ready;
                ready.push_back(index(i));
            }
        }
        Scheduler {
            state,
            unmet,
            first,
            dependents,
            ready,
        }
    }

    /// The cases waiting for case `i`, in plan order.
    fn dependents_of(&self, i: usize) -> std::ops::Range<usize> {
        self.first[i] as usize..self.first[i + 1] as usize
    }

    /// The next case to start, in plan order among the ready ones.
    pub fn next_ready(&mut self) -> Option<usize> {
        let i = self.ready.pop_front()? as usize;
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
            for k in self.dependents_of(i) {
                let dep = self.dependents[k];
                let d = dep as usize;
                if self.state[d] == State::Waiting {
                    self.unmet[d] -= 1;
                    if self.unmet[d] == 0 {
                        self.state[d] = State::Ready;
                        self.ready.push_back(dep);
                    }
                }
            }
        } else {
            failed.push_back(i);
        }
        while let Some(f) = failed.pop_front() {
            for k in self.dependents_of(f) {
                let dep = self.dependents[k] as usize;
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
    fn dependents_are_found_in_plan_order_across_many_cases() {
        // 0 ← 2, 4; 1 ← 3; 2 ← 4; 3 has none waiting.
        let mut s = Scheduler::new(&[vec![], vec![], vec![0], vec![1], vec![2, 0]]);
        assert_eq!(
            (s.next_ready(), s.next_ready(), s.next_ready()),
            (Some(0), Some(1), None)
        );
        assert!(s.finish(0, Status::Passed).is_empty());
        assert_eq!(s.next_ready(), Some(2));
        assert_eq!(s.finish(1, Status::Failed), vec![(3, 1)]);
        assert_eq!(s.next_ready(), None);
        assert!(s.finish(2, Status::Passed).is_empty());
        assert_eq!(s.next_ready(), Some(4));
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
