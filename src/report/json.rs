//! The JSON report (`--report-json`): versioned, documented by `schemas/report.schema.json`,
//! redacted, written atomically when the run finishes.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::events::{CancelReason, CaseResult, Counts, Event, RunInfo, RunSummary};
use crate::redact::Redactor;

use super::spill::{Reader, Spill};
use super::{write_atomic_with, Reporter};

/// Version of the report format; bumped on incompatible changes.
pub const REPORT_SCHEMA_VERSION: &str = "1.0";

/// The verdict of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// No critical case failed or errored, and the run was not cancelled.
    Passed,
    /// A critical case failed or errored, or the run was cancelled (or, for a merge, a shard is
    /// missing).
    Failed,
}

/// The whole report: what the JSON reporter writes (borrowing the run's data; `cases` is
/// spliced in, see [`JsonReporter`]) and what `merge` reads back (owning it) — one model.
/// Unknown fields are errors.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonReport<'a> {
    /// Version of the report format, `MAJOR.MINOR` ([`REPORT_SCHEMA_VERSION`] when written).
    pub schema_version: Cow<'a, str>,
    /// Version of the smokegate that wrote the report.
    pub smokegate_version: Cow<'a, str>,
    /// Random id of the run (12 hex characters).
    pub run_id: Cow<'a, str>,
    /// When the run started (RFC 3339, UTC).
    pub started_at: Cow<'a, str>,
    /// Wall-clock duration of the run in milliseconds.
    pub duration_ms: u64,
    /// The verdict of the run.
    pub verdict: Verdict,
    /// Why the run stopped early (`deadline-exceeded` or `interrupted`), or null.
    pub cancelled: Option<CancelReason>,
    /// True when the run used `--insecure` (TLS certificates not verified).
    pub insecure: bool,
    /// Names of the suites of the run, in load order.
    pub suites: Cow<'a, [String]>,
    /// The profile selected in each suite that has profiles, as `suite: profile`.
    pub profiles: Cow<'a, [String]>,
    /// `--meta KEY=VALUE` pairs and CI facts (`environment`, `target`, `git_sha`, `shard`);
    /// values are strings.
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// Tally of the case results.
    pub counts: Cow<'a, Counts>,
    /// One result per case, ordered by suite file, suite, line, then name.
    pub cases: Cow<'a, [Arc<CaseResult>]>,
    /// Bake mode (`run --bake`): the schedule, how many rounds ran and why fewer than
    /// planned, and the rounds (each case then holds its aggregates in `bake`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bake: Option<Cow<'a, crate::events::BakeRun>>,
}

impl<'a> JsonReport<'a> {
    /// The report of a finished run.
    pub fn of(info: &'a RunInfo, s: &'a RunSummary, cases: &'a [Arc<CaseResult>]) -> Self {
        JsonReport {
            schema_version: Cow::Borrowed(REPORT_SCHEMA_VERSION),
            smokegate_version: Cow::Borrowed(info.smokegate_version),
            run_id: Cow::Borrowed(&info.run_id),
            started_at: Cow::Borrowed(&info.started_at),
            duration_ms: s.duration.as_millis() as u64,
            verdict: if s.passed {
                Verdict::Passed
            } else {
                Verdict::Failed
            },
            cancelled: s.cancelled,
            insecure: info.insecure,
            suites: Cow::Borrowed(&info.suites),
            profiles: Cow::Borrowed(&info.profiles),
            metadata: info
                .metadata
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect(),
            counts: Cow::Borrowed(&s.counts),
            cases: Cow::Borrowed(cases),
            bake: None,
        }
    }
}

/// The order of cases in reports: suite file, suite, line, name.
pub type CaseKey = (String, String, u64, String);

/// The sort key of a case.
pub fn case_key(c: &CaseResult) -> CaseKey {
    (
        c.suite_file.clone(),
        c.suite.clone(),
        c.line,
        c.name.clone(),
    )
}

/// Writes the JSON report at the end of the run. Each case is encoded when it finishes and
/// its text set aside in a temporary file ([`super::spill`]): memory keeps only where each
/// case sorts, so a run of many thousands of checks holds no report text; redaction is
/// applied at the end, with every secret the run has learnt by then.
pub struct JsonReporter {
    path: PathBuf,
    redactor: Redactor,
    info: Option<RunInfo>,
    /// Each case as compact JSON (keys in the order the whole report uses), not yet redacted;
    /// indented when the report is written.
    cases: Spill,
    /// A case that could not be encoded: no report is written (never one missing a case).
    broken: Option<String>,
    errors: Vec<String>,
    /// Bake mode: the schedule and the rounds.
    bake: Option<Arc<crate::events::BakeRun>>,
}

impl JsonReporter {
    /// A reporter writing to `path`.
    pub fn new(path: PathBuf, redactor: Redactor) -> Self {
        JsonReporter {
            path,
            redactor,
            info: None,
            cases: Spill::default(),
            broken: None,
            errors: Vec::new(),
            bake: None,
        }
    }

    /// One case, as it will be written: compact JSON of its value (object keys sorted, as in
    /// the rest of the report).
    fn encode(c: &CaseResult) -> Result<String, serde_json::Error> {
        serde_json::to_string(&serde_json::to_value(c)?)
    }

    /// The case text with every secret known now masked.
    fn redacted(&self, text: &str) -> Result<String, serde_json::Error> {
        if !self.redactor.maybe_in_json(text) {
            return Ok(text.to_string());
        }
        let mut v: serde_json::Value = serde_json::from_str(text)?;
        self.redactor.redact_json(&mut v);
        serde_json::to_string(&v)
    }

    fn render(
        &self,
        info: &RunInfo,
        s: &RunSummary,
        cases: &Reader,
        out: &mut dyn std::io::Write,
    ) -> std::io::Result<()> {
        let mut report = JsonReport::of(info, s, &[]);
        report.bake = self.bake.as_deref().map(Cow::Borrowed);
        let mut value = serde_json::to_value(report)?;
        self.redactor.redact_json(&mut value);
        let doc = serde_json::to_string_pretty(&value)?;
        let encode =
            |e: serde_json::Error| std::io::Error::other(format!("cannot encode JSON report: {e}"));
        // Splice the cases into `"cases": []`: top-level keys are the only ones indented by
        // two spaces, and each case is indented as pretty-printing the whole report would.
        const EMPTY: &str = "\n  \"cases\": []";
        let at = doc.find(EMPTY).unwrap_or(doc.len());
        out.write_all(&doc.as_bytes()[..at])?;
        if cases.len() == 0 || at == doc.len() {
            out.write_all(&doc.as_bytes()[at..])?;
        } else {
            out.write_all(b"\n  \"cases\": [")?;
            for i in 0..cases.len() {
                out.write_all(if i == 0 { b"\n    " } else { b",\n    " })?;
                let record = cases.get(i)?;
                let text = std::str::from_utf8(&record).map_err(std::io::Error::other)?;
                let text = self.redacted(text).map_err(encode)?;
                write_pretty(&text, 2, out)?;
            }
            out.write_all(b"\n  ]")?;
            out.write_all(&doc.as_bytes()[at + EMPTY.len()..])?;
        }
        out.write_all(b"\n")
    }
}

/// Write compact JSON (as `serde_json::to_string` writes it: no whitespace outside strings)
/// the way `serde_json::to_string_pretty` would, nested `depth` levels deep, without parsing
/// it again.
fn write_pretty(compact: &str, depth: usize, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let b = compact.as_bytes();
    let mut depth = depth;
    let newline = |out: &mut dyn std::io::Write, depth: usize| -> std::io::Result<()> {
        out.write_all(b"\n")?;
        for _ in 0..depth {
            out.write_all(b"  ")?;
        }
        Ok(())
    };
    let (mut i, mut run) = (0, 0);
    let mut in_string = false;
    while i < b.len() {
        let c = b[i];
        if in_string {
            match c {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        match c {
            b'"' => {
                in_string = true;
                i += 1;
                continue;
            }
            b'{' | b'[' | b'}' | b']' | b',' | b':' => {}
            _ => {
                i += 1;
                continue;
            }
        }
        out.write_all(&b[run..i])?;
        match c {
            b'{' | b'[' if matches!(b.get(i + 1), Some(b'}' | b']')) => {
                out.write_all(&b[i..i + 2])?;
                i += 1;
            }
            b'{' | b'[' => {
                out.write_all(&[c])?;
                depth += 1;
                newline(out, depth)?;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                newline(out, depth)?;
                out.write_all(&[c])?;
            }
            b',' => {
                out.write_all(b",")?;
                newline(out, depth)?;
            }
            _ => out.write_all(b": ")?,
        }
        i += 1;
        run = i;
    }
    out.write_all(&b[run..])
}

/// Put results in a stable order: suite file, then line, then name.
pub fn sort_cases(cases: &mut [Arc<CaseResult>]) {
    cases.sort_by_cached_key(|c| case_key(c));
}

impl Reporter for JsonReporter {
    fn event(&mut self, ev: &Event) {
        match ev {
            Event::RunStarted(i) => {
                self.cases.reserve(i.total_cases);
                self.info = Some(i.clone());
            }
            Event::CaseFinished(c) => match Self::encode(c) {
                Ok(text) => self.cases.push(c, text.as_bytes()),
                Err(e) => {
                    self.broken
                        .get_or_insert_with(|| format!("cannot encode case `{}`: {e}", c.id));
                }
            },
            Event::BakeFinished(b) => self.bake = Some(b.clone()),
            Event::RunFinished(s) => {
                let Some(info) = self.info.clone() else {
                    return;
                };
                if let Some(why) = self.broken.take() {
                    self.errors.push(format!(
                        "JSON report {} not written: {why}",
                        self.path.display()
                    ));
                    return;
                }
                if let Some(why) = self.cases.error() {
                    self.errors.push(format!(
                        "JSON report {} not written: {why}",
                        self.path.display()
                    ));
                    return;
                }
                let path = self.path.clone();
                let written = std::mem::take(&mut self.cases).finish().and_then(|cases| {
                    write_atomic_with(&path, |w| self.render(&info, s, &cases, w))
                });
                if let Err(e) = written {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::test_support::{case, run_info};
    use crate::events::{RunInfo, RunSummary};

    /// The report as pretty-printing the whole value at once writes it (the format before
    /// cases were encoded one by one).
    fn whole(info: &RunInfo, s: &RunSummary, cases: &[Arc<CaseResult>], r: &Redactor) -> String {
        let mut v = serde_json::to_value(JsonReport::of(info, s, cases)).unwrap();
        r.redact_json(&mut v);
        serde_json::to_string_pretty(&v).unwrap() + "\n"
    }

    #[test]
    fn cases_encoded_one_by_one_give_the_whole_report_and_late_secrets_are_masked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        let redactor = Redactor::default();
        let mut rep = JsonReporter::new(path.clone(), redactor.clone());
        let info = run_info(vec![("cases".into(), "not the cases key".into())]);
        rep.event(&Event::RunStarted(info.clone()));
        // Finished out of order, and the secret becomes known only after they finished.
        let cases = [
            case("b.yaml", 2, "later", "saw hunter2-token"),
            case("a.yaml", 9, "second", "fine"),
            case("a.yaml", 1, "first", "also hunter2-token"),
        ];
        for c in &cases {
            rep.event(&Event::CaseFinished(c.clone()));
        }
        redactor.add("hunter2-token").unwrap();
        let summary = RunSummary {
            counts: Counts::of(cases.iter().map(|c| c.as_ref())),
            passed: false,
            duration: std::time::Duration::from_millis(12),
            cancelled: None,
        };
        rep.event(&Event::RunFinished(summary.clone()));
        assert!(rep.take_errors().is_empty());
        let written = std::fs::read_to_string(&path).unwrap();
        let mut sorted = cases.to_vec();
        sort_cases(&mut sorted);
        assert_eq!(written, whole(&info, &summary, &sorted, &redactor));
        assert!(!written.contains("hunter2-token"));
        assert_eq!(written.matches(crate::redact::MASK).count(), 4);

        // No cases at all: the empty list stays as it is.
        let path2 = dir.path().join("empty.json");
        let mut empty = JsonReporter::new(path2.clone(), redactor.clone());
        empty.event(&Event::RunStarted(info.clone()));
        let none = RunSummary {
            counts: Counts::default(),
            ..summary
        };
        empty.event(&Event::RunFinished(none.clone()));
        assert_eq!(
            std::fs::read_to_string(&path2).unwrap(),
            whole(&info, &none, &[], &redactor)
        );
    }
}

#[cfg(test)]
mod pretty_tests {
    use super::write_pretty;
    use serde_json::json;

    #[test]
    fn re_indenting_compact_json_matches_serde_pretty_printing() {
        let values = [
            json!({}),
            json!([]),
            json!({"a": [], "b": {}, "c": [1, 2.5, -3e-7, null, true], "d": {"e": [{}]}}),
            json!({"s": "with {braces}, [brackets], commas: and \"quotes\" \\ and \n newlines"}),
            json!([[["deep"]], {"k": "v", "l": [{"m": "n"}]}]),
            json!("just a string"),
            json!(42),
        ];
        for v in values {
            let compact = serde_json::to_string(&v).unwrap();
            let mut out = Vec::new();
            write_pretty(&compact, 0, &mut out).unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string_pretty(&v).unwrap()
            );
            // Nested: as an element of an array two levels down.
            let nested = json!({"x": [v.clone()]});
            let mut out = Vec::new();
            write_pretty(&compact, 2, &mut out).unwrap();
            let whole = serde_json::to_string_pretty(&nested).unwrap();
            assert!(whole.contains(&String::from_utf8(out).unwrap()), "{whole}");
        }
    }
}
