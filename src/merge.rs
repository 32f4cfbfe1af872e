//! `smokegate merge`: combine the JSON reports of `run --shard K/N` into one run with a single
//! verdict. Shard reports are read through the very types the JSON reporter writes
//! ([`JsonReport`], [`CaseResult`]): an unknown field or value is an error, never a guess.
//! Counts and verdict are recomputed, and every report (JSON, JUnit, HTML, console) is written
//! from the merged results by the same reporters a run uses.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::events::{CancelReason, CaseResult, Counts, Event, RunInfo, RunSummary};
use crate::redact::Redactor;
use crate::report::json::{case_key, JsonReport, Verdict, REPORT_SCHEMA_VERSION};
use crate::report::Reporter;

/// Most shards a run may be split into (`--shard K/N`, and what `merge` accepts).
pub const MAX_SHARDS: usize = 1000;

/// Why shard reports cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// No report was given.
    #[error("no reports to merge")]
    Nothing,
    /// A report file cannot be read.
    #[error("cannot read report {path}: {source}")]
    Read {
        /// The report file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A report is not valid JSON, or does not fit the report model of this version (e.g. an
    /// unknown field or value).
    #[error("{path} is not a smokegate JSON report of this version: {source}")]
    Parse {
        /// The report file.
        path: PathBuf,
        /// What the JSON reader rejected.
        source: serde_json::Error,
    },
    /// A report's `schema_version` is of another major version.
    #[error("{path}: report schema_version `{found}` is not {major}.x")]
    Version {
        /// The report file.
        path: PathBuf,
        /// The `schema_version` found.
        found: String,
        /// The major version this smokegate reads.
        major: String,
    },
    /// A case id appears in two reports.
    #[error("{path}: case `{id}` is also in another report (the same shard given twice?)")]
    DuplicateCase {
        /// The report where the id was seen again.
        path: PathBuf,
        /// The case id (`suite/case`).
        id: String,
    },
    /// Reports of runs split into different numbers of shards.
    #[error("{path}: shard of {other} mixed with shards of {count}")]
    MixedShards {
        /// The report whose shard count differs.
        path: PathBuf,
        /// Its shard count.
        other: usize,
        /// The shard count of the first shard report.
        count: usize,
    },
    /// The same shard was given twice.
    #[error("{path}: shard {index}/{count} given twice")]
    DuplicateShard {
        /// The second report of that shard.
        path: PathBuf,
        /// The shard number (K of K/N).
        index: usize,
        /// The shard count (N of K/N).
        count: usize,
    },
    /// A report's `shard` metadata is not `K/N`.
    #[error(
        "{path}: metadata `shard` is `{value}`, expected K/N with 1 <= K <= N <= {MAX_SHARDS}"
    )]
    BadShard {
        /// The report file.
        path: PathBuf,
        /// The `shard` value found.
        value: String,
    },
    /// Some shards of `1..=N` are missing and `--allow-missing-shards` was not given (holds the
    /// missing `K/N`s).
    #[error("shard(s) {0} missing: their checks never ran (pass --allow-missing-shards to merge anyway; the verdict is then failed)")]
    Missing(String),
}

/// The merged run.
#[derive(Debug)]
pub struct Merged {
    /// Facts of the merged run: suites, profiles and metadata of every shard, the earliest
    /// start, a new run id.
    pub info: RunInfo,
    /// Counts and verdict recomputed from the merged results; the duration is the longest
    /// shard's.
    pub summary: RunSummary,
    /// Results in report order.
    pub cases: Vec<Arc<CaseResult>>,
}

/// Read and merge shard reports. `allow_missing`: merge even when shards are missing (the
/// verdict is then `failed`); otherwise a missing or repeated shard is an error.
pub fn merge_files(paths: &[PathBuf], allow_missing: bool) -> Result<Merged, MergeError> {
    let mut reports = Vec::new();
    for p in paths {
        let text = std::fs::read_to_string(p).map_err(|source| MergeError::Read {
            path: p.clone(),
            source,
        })?;
        reports.push((p.clone(), parse(p, &text)?));
    }
    merge(reports, allow_missing)
}

/// Parse one report, checking its major version first (a report of another major version
/// gets that message rather than a field-by-field complaint).
pub fn parse(path: &Path, text: &str) -> Result<JsonReport<'static>, MergeError> {
    let major = REPORT_SCHEMA_VERSION.split('.').next().unwrap_or("1");
    let version = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v.get("schema_version")?.as_str().map(str::to_string));
    if let Some(found) = version.filter(|v| v.split('.').next() != Some(major)) {
        return Err(MergeError::Version {
            path: path.to_path_buf(),
            found,
            major: major.to_string(),
        });
    }
    serde_json::from_str(text).map_err(|source| MergeError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

/// What the shards of one merge have in common, gathered report by report.
#[derive(Default)]
struct Gathered {
    shards: Vec<(usize, usize, PathBuf)>,
    cases: Vec<Arc<CaseResult>>,
    ids: BTreeSet<String>,
    suites: Vec<String>,
    profiles: Vec<String>,
    metadata: Vec<(String, String)>,
    run_ids: Vec<String>,
    started_at: String,
    duration_ms: u64,
    cancelled: Option<CancelReason>,
    insecure: bool,
    all_passed: bool,
}

/// A case read from a report file, with every text made inert as a run's own results are
/// (a report may have been written by anyone): control characters and workflow-command
/// markers escaped, URL credentials masked.
fn inert(c: &CaseResult) -> CaseResult {
    let none = Redactor::default();
    let text = |s: &str| crate::text::outside(s, 100_000, &none);
    let mut c = c.clone();
    c.message = c.message.as_deref().map(text);
    c.name = text(&c.name);
    c.suite = text(&c.suite);
    c.tags = c.tags.iter().map(|t| text(t)).collect();
    c.warnings = c.warnings.iter().map(|w| text(w)).collect();
    for s in &mut c.steps {
        s.name = text(&s.name);
        crate::runner::sanitize::step(s, &none);
    }
    if let Some(s) = c.samples.as_mut() {
        s.planned = text(&s.planned);
        s.stopped = s.stopped.as_deref().map(text);
        for r in &mut s.reasons {
            r.message = text(&r.message);
        }
        for b in &mut s.budgets {
            b.budget = text(&b.budget);
            b.expected = text(&b.expected);
            b.actual = text(&b.actual);
        }
    }
    c
}

impl Gathered {
    fn add(&mut self, path: PathBuf, r: JsonReport<'static>) -> Result<(), MergeError> {
        for c in r.cases.iter() {
            if !self.ids.insert(c.id.clone()) {
                return Err(MergeError::DuplicateCase {
                    path,
                    id: c.id.clone(),
                });
            }
            self.cases.push(Arc::new(inert(c)));
        }
        for (list, out) in [
            (&r.suites, &mut self.suites),
            (&r.profiles, &mut self.profiles),
        ] {
            for s in list.iter() {
                if !out.contains(s) {
                    out.push(s.clone());
                }
            }
        }
        for (k, v) in &r.metadata {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if k == "shard" {
                let parsed = text
                    .split_once('/')
                    .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
                    .filter(|(k, n): &(usize, usize)| *k >= 1 && k <= n && *n <= MAX_SHARDS);
                let Some((index, count)) = parsed else {
                    return Err(MergeError::BadShard { path, value: text });
                };
                self.shards.push((index, count, path.clone()));
            } else if !self.metadata.iter().any(|(m, _)| m == k) {
                self.metadata.push((k.clone(), text));
            }
        }
        self.run_ids.push(r.run_id.to_string());
        let s = r.started_at.as_ref();
        if self.started_at.is_empty() || (!s.is_empty() && s < self.started_at.as_str()) {
            self.started_at = s.to_string();
        }
        self.duration_ms = self.duration_ms.max(r.duration_ms);
        self.cancelled = self.cancelled.max(r.cancelled);
        self.insecure |= r.insecure;
        self.all_passed &= r.verdict == Verdict::Passed;
        Ok(())
    }

    /// The shards missing from `1..=N` (every shard given must be of the same N, once).
    fn missing_shards(&self) -> Result<Option<(usize, Vec<String>)>, MergeError> {
        let Some((_, n, _)) = self.shards.first() else {
            return Ok(None);
        };
        let n = *n;
        if let Some((_, other, p)) = self.shards.iter().find(|s| s.1 != n) {
            return Err(MergeError::MixedShards {
                path: p.clone(),
                other: *other,
                count: n,
            });
        }
        let mut seen = BTreeSet::new();
        for (k, _, p) in &self.shards {
            if !seen.insert(*k) {
                return Err(MergeError::DuplicateShard {
                    path: p.clone(),
                    index: *k,
                    count: n,
                });
            }
        }
        let missing = (1..=n)
            .filter(|k| !seen.contains(k))
            .map(|k| format!("{k}/{n}"))
            .collect();
        Ok(Some((n, missing)))
    }
}

/// Merge parsed reports (each with the path it came from, for messages).
pub fn merge(
    reports: Vec<(PathBuf, JsonReport<'static>)>,
    allow_missing: bool,
) -> Result<Merged, MergeError> {
    if reports.is_empty() {
        return Err(MergeError::Nothing);
    }
    let mut g = Gathered {
        all_passed: true,
        ..Gathered::default()
    };
    for (path, r) in reports {
        g.add(path, r)?;
    }
    let mut missing = Vec::new();
    if let Some((n, m)) = g.missing_shards()? {
        if !m.is_empty() && !allow_missing {
            return Err(MergeError::Missing(m.join(", ")));
        }
        g.metadata.push(("shards".into(), n.to_string()));
        if !m.is_empty() {
            g.metadata.push(("missing_shards".into(), m.join(",")));
        }
        missing = m;
    }
    g.metadata
        .push(("merged_run_ids".into(), g.run_ids.join(",")));
    g.metadata.sort();
    g.cases.sort_by_cached_key(|c| case_key(c));
    let counts = Counts::of(g.cases.iter().map(|c| c.as_ref()));
    let passed = g.all_passed
        && missing.is_empty()
        && g.cancelled.is_none()
        && !g.cases.iter().any(|c| c.blocks());
    let info = RunInfo {
        run_id: uuid::Uuid::new_v4().simple().to_string()[..12].to_string(),
        started_at: g.started_at,
        smokegate_version: env!("CARGO_PKG_VERSION"),
        suites: g.suites,
        profiles: g.profiles,
        total_cases: g.cases.len(),
        insecure: g.insecure,
        metadata: g.metadata,
    };
    let summary = RunSummary {
        counts,
        passed,
        duration: Duration::from_millis(g.duration_ms),
        cancelled: g.cancelled,
    };
    Ok(Merged {
        info,
        summary,
        cases: g.cases,
    })
}

/// Feed the merged run to reporters as if it had just run; returns their write errors.
pub fn replay(m: &Merged, reporters: &mut [Box<dyn Reporter>]) -> Vec<String> {
    let mut events = vec![Event::RunStarted(m.info.clone())];
    events.extend(m.cases.iter().map(|c| Event::CaseFinished(c.clone())));
    events.push(Event::RunFinished(m.summary.clone()));
    for ev in &events {
        for r in reporters.iter_mut() {
            r.event(ev);
        }
    }
    reporters.iter_mut().flat_map(|r| r.take_errors()).collect()
}

/// The redactor of a merge: inputs were redacted when written, so nothing more is known.
pub fn redactor() -> Redactor {
    Redactor::default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(extra: &str) -> String {
        format!(
            r#"{{"schema_version": "1.0", "smokegate_version": "0.1.0", "run_id": "r1",
            "started_at": "2026-01-01T00:00:00Z", "duration_ms": 5, "verdict": "passed",
            "cancelled": null, "insecure": false, "suites": ["s"], "profiles": [],
            "metadata": {{}}, "counts": {{"total": 0, "passed": 0, "failed": 0, "errors": 0,
            "skipped": 0, "warnings": 0, "flaky": 0}}, "cases": []{extra}}}"#
        )
    }

    #[test]
    fn a_report_is_read_through_the_written_types_and_unknown_fields_are_errors() {
        let p = Path::new("r.json");
        assert!(parse(p, &report("")).is_ok());
        let e = parse(p, &report(r#", "surprise": 1"#)).unwrap_err();
        assert!(e.to_string().contains("unknown field `surprise`"), "{e}");
        let bad_verdict = report("").replace(r#""verdict": "passed""#, r#""verdict": "meh""#);
        assert!(parse(p, &bad_verdict).is_err());
        let v2 = report("").replace(r#""schema_version": "1.0""#, r#""schema_version": "2.0""#);
        assert!(matches!(
            parse(p, &v2).unwrap_err(),
            MergeError::Version { .. }
        ));
    }

    #[test]
    fn unknown_values_inside_a_case_are_errors() {
        let case = r#"{"id": "s/a", "suite": "s", "suite_file": "s.yaml", "name": "a",
            "tags": [], "severity": "critical", "status": "passed", "flaky": false,
            "started_at": "x", "duration_ms": 1, "line": 3, "steps": [{"name": "a",
            "status": "failed", "attempts": 1, "duration_ms": 1, "expectations": [{"kind":
            "KIND", "check": "c", "passed": false}], "captures": [], "line": 3}]}"#;
        let good = report("").replace(r#""cases": []"#, &format!(r#""cases": [{case}]"#));
        let ok = good.replace("KIND", "jsonpath");
        assert_eq!(parse(Path::new("r"), &ok).unwrap().cases.len(), 1);
        let unknown = good.replace("KIND", "vibes");
        let e = parse(Path::new("r"), &unknown).unwrap_err().to_string();
        assert!(e.contains("vibes"), "{e}");
        let status = ok.replace(r#""status": "passed""#, r#""status": "sorta""#);
        assert!(parse(Path::new("r"), &status).is_err());
    }
}
