//! What runs now, for a live display in a terminal (`RunOptions::live`): the dispatcher adds
//! a case when it starts and removes it when it finishes; a display reads snapshots.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::case::Progress;

/// The running cases, shared between the dispatcher and a display.
#[derive(Debug, Clone, Default)]
pub struct LiveView(Arc<Mutex<BTreeMap<usize, Entry>>>);

#[derive(Debug)]
struct Entry {
    suite: String,
    name: String,
    progress: Arc<Mutex<Progress>>,
}

/// One running case, as a display sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    /// Index of the case in the plan.
    pub index: usize,
    /// Suite name.
    pub suite: String,
    /// Case name.
    pub name: String,
    /// How long the case has run.
    pub elapsed: Duration,
    /// The running step's attempt (1 for the first).
    pub attempt: u32,
    /// Why the previous attempt did not pass (redacted), when there was one.
    pub last_failure: Option<String>,
    /// A sampled case: samples judged so far, and how many of them failed.
    pub samples: Option<(u64, u64)>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl LiveView {
    pub(crate) fn started(&self, index: usize, suite: &str, name: &str, p: Arc<Mutex<Progress>>) {
        lock(&self.0).insert(
            index,
            Entry {
                suite: suite.to_string(),
                name: name.to_string(),
                progress: p,
            },
        );
    }

    pub(crate) fn finished(&self, index: usize) {
        lock(&self.0).remove(&index);
    }

    pub(crate) fn clear(&self) {
        lock(&self.0).clear();
    }

    /// The cases running now, in plan order.
    pub fn snapshot(&self) -> Vec<Running> {
        let now = Instant::now();
        lock(&self.0)
            .iter()
            .map(|(&index, e)| {
                let p = lock(&e.progress);
                Running {
                    index,
                    suite: e.suite.clone(),
                    name: e.name.clone(),
                    elapsed: now.saturating_duration_since(p.start),
                    attempt: p.attempt,
                    last_failure: p.last_failure.clone(),
                    samples: p.samples.as_ref().map(|t| t.counts()),
                }
            })
            .collect()
    }
}
