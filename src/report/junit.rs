//! JUnit XML (`--report-junit`): one `<testsuite>` per suite, one `<testcase>` per case
//! (classname = suite, name = case), failures distinct from errors, run metadata as
//! properties. Valid against Jenkins xUnit's `junit-10.xsd`; written atomically.

use std::path::PathBuf;
use std::time::Duration;

use quick_junit::{
    NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestRerun, TestSuite,
};

use crate::events::{CaseResult, Event, RunInfo, Status};
use crate::redact::Redactor;

use super::details::explain;
use super::json::{case_key, CaseKey};
use super::location;
use super::{write_atomic, Reporter};

/// Writes JUnit XML at the end of the run. Each case is reduced to what its `<testcase>`
/// shows when it finishes (a run of many thousands of checks does not hold every result);
/// redaction is applied at the end, with every secret the run has learnt by then.
pub struct JunitReporter {
    path: PathBuf,
    redactor: Redactor,
    info: Option<RunInfo>,
    cases: Vec<(CaseKey, Entry)>,
    errors: Vec<String>,
}

/// One `<testcase>`, not yet redacted.
struct Entry {
    suite: String,
    name: String,
    /// The suite file, relative to the working directory (`file` attribute).
    file: String,
    /// The case's line (`line` attribute).
    line: u64,
    status: Status,
    duration: Duration,
    /// Failed attempts of a case that passed in the end (`flakyFailure`).
    reruns: Vec<String>,
    message: Option<String>,
    failure_type: String,
    /// The explanation of a failure, or the request trace of a pass.
    text: String,
}

impl Entry {
    fn of(c: &CaseResult) -> Entry {
        let passed = c.status == Status::Passed;
        let file = location::relative_to_cwd(&c.suite_file);
        Entry {
            suite: c.suite.clone(),
            name: c.name.clone(),
            line: c.line.max(1),
            status: c.status,
            duration: Duration::from_millis(c.duration_ms),
            reruns: c
                .steps
                .iter()
                .flat_map(|s| {
                    s.failed_attempts
                        .iter()
                        .map(move |m| short(&format!("{}: {m}", s.name)))
                })
                .collect(),
            message: c.message.clone(),
            failure_type: if passed {
                String::new()
            } else {
                failure_type(c)
            },
            text: match c.status {
                // A flaky pass names its failed attempts in <system-out> too: readers that
                // ignore <flakyFailure> (junit2html) still show them.
                Status::Passed if c.flaky => {
                    let mut t = String::from("flaky: passed after failed attempts\n");
                    for s in &c.steps {
                        for m in &s.failed_attempts {
                            t.push_str(&format!("  failed attempt of `{}`: {m}\n", s.name));
                        }
                    }
                    t.push_str(&explain(c, true));
                    shrunk(t)
                }
                Status::Passed => shrunk(explain(c, true)),
                // `FILE:LINE` first: the JUnit reporter actions take the line from the first
                // `FILE:NUMBER` in the failure text when no attribute gives it.
                Status::Failed | Status::Error => shrunk(format!(
                    "{file}:{}\n{}",
                    location::first_failure_line(c),
                    explain(c, false)
                )),
                Status::Skipped => String::new(),
            },
            file,
        }
    }
}

impl JunitReporter {
    /// A reporter writing to `path`.
    pub fn new(path: PathBuf, redactor: Redactor) -> Self {
        JunitReporter {
            path,
            redactor,
            info: None,
            cases: Vec::new(),
            errors: Vec::new(),
        }
    }

    fn render(&self, info: &RunInfo, total: Duration) -> Result<String, String> {
        // Secrets masked, and nothing XML 1.0 forbids (names and metadata come from suites and
        // the command line; server text is escaped before it becomes an event).
        let r = |s: &str| crate::text::xml_safe(&self.redactor.redact(s)).into_owned();
        let mut report = Report::new("smokegate");
        report.set_time(total);
        let timestamp = chrono::DateTime::parse_from_rfc3339(&info.started_at).ok();
        let mut order: Vec<&str> = Vec::new();
        for (_, c) in &self.cases {
            if order.last() != Some(&c.suite.as_str()) && !order.contains(&c.suite.as_str()) {
                order.push(&c.suite);
            }
        }
        for suite_name in order {
            let mut suite = TestSuite::new(r(suite_name));
            if let Some(ts) = timestamp {
                suite.set_timestamp(ts);
            }
            let mut props = vec![
                Property::new("smokegate.version", info.smokegate_version),
                Property::new("run_id", info.run_id.as_str()),
                Property::new("insecure", info.insecure.to_string()),
            ];
            for p in &info.profiles {
                if let Some((s, prof)) = p.split_once(": ") {
                    if s == suite_name {
                        props.push(Property::new("profile", r(prof)));
                    }
                }
            }
            for (k, v) in &info.metadata {
                props.push(Property::new(r(k), r(v)));
            }
            suite.add_properties(props);
            let mut time = Duration::ZERO;
            for (_, c) in self.cases.iter().filter(|(_, c)| c.suite == suite_name) {
                let d = c.duration;
                time += d;
                let status = match c.status {
                    Status::Passed => {
                        let mut reruns = Vec::new();
                        for m in &c.reruns {
                            let mut rr = TestRerun::new(NonSuccessKind::Failure);
                            rr.set_message(r(m));
                            rr.set_type("flaky");
                            reruns.push(rr);
                        }
                        TestCaseStatus::Success { flaky_runs: reruns }
                    }
                    Status::Failed | Status::Error => {
                        let kind = if c.status == Status::Failed {
                            NonSuccessKind::Failure
                        } else {
                            NonSuccessKind::Error
                        };
                        let mut st = TestCaseStatus::non_success(kind);
                        let msg = c.message.clone().unwrap_or_else(|| "failed".into());
                        st.set_message(r(&short(&msg)));
                        st.set_type(c.failure_type.as_str());
                        st.set_description(r(&c.text));
                        st
                    }
                    Status::Skipped => {
                        let mut st = TestCaseStatus::skipped();
                        if let Some(m) = &c.message {
                            st.set_message(r(m));
                        }
                        st
                    }
                };
                let mut tc = TestCase::new(r(&c.name), status);
                tc.set_classname(r(&c.suite));
                tc.set_time(d);
                // Not in junit-10.xsd, read by the JUnit reporter actions and GitLab
                // (docs/report-format.md, "JUnit readers").
                tc.extra.insert("file".into(), r(&c.file).into());
                tc.extra.insert("line".into(), c.line.to_string().into());
                if c.status == Status::Passed && !c.text.is_empty() {
                    // Every request's address and how it was chosen, for passes too.
                    tc.set_system_out(r(&c.text));
                }
                suite.add_test_case(tc);
            }
            suite.set_time(time);
            report.add_test_suite(suite);
        }
        let xml = report.to_string().map_err(|e| e.to_string())?;
        Ok(strip_root_skipped(&xml))
    }
}

/// junit-10.xsd does not allow `skipped` on `<testsuites>` (quick-junit writes it); the
/// per-suite `skipped` counts remain.
fn strip_root_skipped(xml: &str) -> String {
    let Some(start) = xml.find("<testsuites") else {
        return xml.to_string();
    };
    let end = start + xml[start..].find('>').unwrap_or(0);
    let tag = &xml[start..end];
    let cleaned = match tag.find(" skipped=\"") {
        Some(i) => {
            let rest = &tag[i + 10..];
            let close = rest.find('"').map(|j| i + 10 + j + 1).unwrap_or(tag.len());
            format!("{}{}", &tag[..i], &tag[close..])
        }
        None => tag.to_string(),
    };
    format!("{}{}{}", &xml[..start], cleaned, &xml[end..])
}

fn failure_type(c: &CaseResult) -> String {
    let step = c
        .steps
        .iter()
        .find(|s| matches!(s.status, Status::Failed | Status::Error));
    match step {
        Some(s) => match &s.error {
            Some(e) => e.kind.to_string(),
            None => s
                .expectations
                .iter()
                .find(|o| !o.passed)
                .map(|o| o.kind.to_string())
                .unwrap_or_else(|| "check".into()),
        },
        None => match c.status {
            Status::Error => "error".into(),
            _ => "failure".into(),
        },
    }
}

/// A string with no spare capacity (one is kept per case until the report is written).
fn shrunk(mut s: String) -> String {
    s.shrink_to_fit();
    s
}

/// The `bake.*` properties of a bake run.
fn bake_properties(b: &crate::events::BakeRun) -> Vec<(String, String)> {
    let mut p = vec![
        ("bake.window_ms".to_string(), b.window_ms.to_string()),
        ("bake.every_ms".to_string(), b.every_ms.to_string()),
        (
            "bake.planned_rounds".to_string(),
            b.planned_rounds.to_string(),
        ),
        ("bake.rounds".to_string(), b.rounds.to_string()),
        (
            "bake.max_failure_rate".to_string(),
            b.max_failure_rate.to_string(),
        ),
        ("bake.cut_short".to_string(), b.cut_short.to_string()),
    ];
    if let Some(why) = &b.stopped {
        p.push(("bake.stopped".to_string(), why.clone()));
    }
    p
}

fn short(s: &str) -> String {
    crate::expect::truncate(s.lines().next().unwrap_or(s), 300)
}

impl Reporter for JunitReporter {
    fn event(&mut self, ev: &Event) {
        match ev {
            Event::RunStarted(i) => self.info = Some(i.clone()),
            Event::CaseFinished(c) => self.cases.push((case_key(c), Entry::of(c))),
            // Bake mode: the schedule and how it went, as properties of every suite.
            Event::BakeFinished(b) => {
                if let Some(i) = self.info.as_mut() {
                    i.metadata.extend(bake_properties(b));
                }
            }
            Event::RunFinished(s) => {
                let Some(info) = self.info.clone() else {
                    return;
                };
                self.cases.sort_by(|a, b| a.0.cmp(&b.0));
                match self.render(&info, s.duration) {
                    Ok(xml) => {
                        if let Err(e) = write_atomic(&self.path, xml.as_bytes()) {
                            self.errors.push(format!(
                                "cannot write JUnit report {}: {e}",
                                self.path.display()
                            ));
                        }
                    }
                    Err(e) => self.errors.push(format!("cannot encode JUnit report: {e}")),
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
    use crate::events::{Counts, RunSummary};

    #[test]
    fn cases_are_reduced_as_they_finish_and_secrets_learnt_later_are_masked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junit.xml");
        let redactor = Redactor::default();
        let mut rep = JunitReporter::new(path.clone(), redactor.clone());
        let info = run_info(Vec::new());
        rep.event(&Event::RunStarted(info));
        let cases = [
            case("b.yaml", 2, "later", "saw hunter2-token"),
            case("a.yaml", 1, "first", "fine"),
        ];
        for c in &cases {
            rep.event(&Event::CaseFinished(c.clone()));
        }
        redactor.add("hunter2-token").unwrap();
        rep.event(&Event::RunFinished(RunSummary {
            counts: Counts::of(cases.iter().map(|c| c.as_ref())),
            passed: false,
            duration: Duration::from_millis(5),
            cancelled: None,
        }));
        assert!(rep.take_errors().is_empty());
        let xml = std::fs::read_to_string(&path).unwrap();
        assert!(!xml.contains("hunter2-token"), "{xml}");
        assert!(xml.contains(crate::redact::MASK));
        // Sorted by suite file: `first` (a.yaml) before `later` (b.yaml).
        let first = xml.find("name=\"first\"").unwrap();
        let later = xml.find("name=\"later\"").unwrap();
        assert!(first < later);
        assert_eq!(xml.matches("<failure").count(), 2);
    }

    #[test]
    fn strips_only_root_skipped() {
        let xml = r#"<testsuites name="s" tests="1" skipped="0" failures="0"><testsuite name="a" skipped="1"/></testsuites>"#;
        let out = strip_root_skipped(xml);
        assert_eq!(
            out,
            r#"<testsuites name="s" tests="1" failures="0"><testsuite name="a" skipped="1"/></testsuites>"#
        );
    }
}
