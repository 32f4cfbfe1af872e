//! The JSON report (`--report-json`): versioned, documented by `schemas/report.schema.json`,
//! redacted, written atomically when the run finishes.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use crate::events::{CancelReason, CaseResult, Counts, Event, RunInfo};
use crate::redact::Redactor;

use super::{write_atomic, Reporter};

/// Version of the report format; bumped on incompatible changes.
pub const REPORT_SCHEMA_VERSION: &str = "1.0";

/// The whole report, as written.
#[derive(Debug, Serialize)]
pub struct JsonReport<'a> {
    pub schema_version: &'static str,
    pub smokegate_version: &'static str,
    pub run_id: &'a str,
    pub started_at: &'a str,
    pub duration_ms: u64,
    pub verdict: &'static str,
    pub cancelled: Option<CancelReason>,
    pub insecure: bool,
    pub suites: &'a [String],
    pub profiles: &'a [String],
    pub metadata: serde_json::Map<String, serde_json::Value>,
    pub counts: &'a Counts,
    pub cases: &'a [Arc<CaseResult>],
}

/// Aggregates results and writes the JSON report at the end of the run.
pub struct JsonReporter {
    path: PathBuf,
    redactor: Redactor,
    info: Option<RunInfo>,
    cases: Vec<Arc<CaseResult>>,
    errors: Vec<String>,
}

impl JsonReporter {
    /// A reporter writing to `path`.
    pub fn new(path: PathBuf, redactor: Redactor) -> Self {
        JsonReporter {
            path,
            redactor,
            info: None,
            cases: Vec::new(),
            errors: Vec::new(),
        }
    }
}

/// Put results in a stable order: suite file, then line, then name.
pub fn sort_cases(cases: &mut [Arc<CaseResult>]) {
    cases.sort_by(|a, b| {
        let key = |c: &Arc<CaseResult>| {
            (
                c.suite_file.clone(),
                c.suite.clone(),
                c.line,
                c.name.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
}

impl Reporter for JsonReporter {
    fn event(&mut self, ev: &Event) {
        match ev {
            Event::RunStarted(i) => self.info = Some(i.clone()),
            Event::CaseFinished(c) => self.cases.push(c.clone()),
            Event::RunFinished(s) => {
                let Some(info) = &self.info else { return };
                sort_cases(&mut self.cases);
                let report = JsonReport {
                    schema_version: REPORT_SCHEMA_VERSION,
                    smokegate_version: info.smokegate_version,
                    run_id: &info.run_id,
                    started_at: &info.started_at,
                    duration_ms: s.duration.as_millis() as u64,
                    verdict: if s.passed { "passed" } else { "failed" },
                    cancelled: s.cancelled,
                    insecure: info.insecure,
                    suites: &info.suites,
                    profiles: &info.profiles,
                    metadata: info
                        .metadata
                        .iter()
                        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                        .collect(),
                    counts: &s.counts,
                    cases: &self.cases,
                };
                let mut value = match serde_json::to_value(&report) {
                    Ok(v) => v,
                    Err(e) => {
                        self.errors.push(format!("cannot encode JSON report: {e}"));
                        return;
                    }
                };
                self.redactor.redact_json(&mut value);
                let mut bytes = serde_json::to_vec_pretty(&value).unwrap_or_default();
                bytes.push(b'\n');
                if let Err(e) = write_atomic(&self.path, &bytes) {
                    self.errors.push(format!(
                        "cannot write JSON report {}: {e}",
                        self.path.display()
                    ));
                }
            }
            _ => {}
        }
    }

    fn take_errors(&mut self) -> Vec<String> {
        std::mem::take(&mut self.errors)
    }
}
