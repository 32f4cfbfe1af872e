//! JUnit XML (`--report-junit`): one `<testsuite>` per suite, one `<testcase>` per case
//! (classname = suite, name = case), failures distinct from errors, run metadata as
//! properties. Valid against Jenkins xUnit's `junit-10.xsd`; written atomically.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use quick_junit::{
    NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestRerun, TestSuite,
};
use serde::{Deserialize, Serialize};

use crate::events::{CaseResult, Event, RunInfo, Status};
use crate::redact::Redactor;

use super::details::explain;
use super::location;
use super::spill::{Reader, Spill};
use super::{write_atomic_with, Reporter};

/// Writes JUnit XML at the end of the run. Each case is reduced to what its `<testcase>`
/// shows when it finishes and set aside in a temporary file ([`super::spill`]); memory keeps
/// where each case sorts and the tallies of each `<testsuite>`, so a run of many thousands
/// of checks holds no report text. Redaction is applied at the end, with every secret the
/// run has learnt by then.
pub struct JunitReporter {
    path: PathBuf,
    redactor: Redactor,
    info: Option<RunInfo>,
    /// Each case's [`Entry`] (JSON), not yet redacted.
    cases: Spill,
    /// The counts and time of each suite, by name.
    tallies: HashMap<String, Tally>,
    /// A case could not be encoded: no report is written (never one missing a case).
    broken: bool,
    errors: Vec<String>,
}

/// What a `<testsuite>` says of its test cases.
#[derive(Debug, Default)]
struct Tally {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
    time: Duration,
}

/// One `<testcase>`, not yet redacted.
#[derive(Serialize, Deserialize)]
struct Entry {
    suite: String,
    name: String,
    /// The suite file, relative to the working directory (`file` attribute).
    file: String,
    /// The case's line (`line` attribute).
    line: u64,
    status: Status,
    duration_ms: u64,
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
            duration_ms: c.duration_ms,
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
            cases: Spill::default(),
            tallies: HashMap::new(),
            broken: false,
            errors: Vec::new(),
        }
    }

    /// Write the report: the document without test cases (every `<testsuite>` with its
    /// properties and tallies), with each suite's `<testcase>` elements written in before its
    /// closing tag, one case read back at a time — the same bytes as rendering the whole
    /// report at once.
    fn render(
        &self,
        info: &RunInfo,
        total: Duration,
        cases: &Reader,
        out: &mut dyn std::io::Write,
    ) -> std::io::Result<()> {
        let encode = |e: String| std::io::Error::other(format!("cannot encode JUnit report: {e}"));
        // Secrets masked, and nothing XML 1.0 forbids (names and metadata come from suites and
        // the command line; server text is escaped before it becomes an event).
        let r = |s: &str| crate::text::xml_safe(&self.redactor.redact(s)).into_owned();
        let mut report = Report::new("smokegate");
        report.set_time(total);
        let timestamp = chrono::DateTime::parse_from_rfc3339(&info.started_at).ok();
        let order = cases.suites_in_order();
        for suite_name in &order {
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
                    if s == *suite_name {
                        props.push(Property::new("profile", r(prof)));
                    }
                }
            }
            for (k, v) in &info.metadata {
                props.push(Property::new(r(k), r(v)));
            }
            suite.add_properties(props);
            let t = self.tallies.get(*suite_name).ok_or_else(|| {
                std::io::Error::other(format!("no tally of suite `{suite_name}`"))
            })?;
            suite.tests = t.tests;
            suite.failures = t.failures;
            suite.errors = t.errors;
            suite.skipped = t.skipped;
            suite.set_time(t.time);
            report.add_test_suite(suite);
        }
        let skeleton = report.to_string().map_err(|e| encode(e.to_string()))?;
        let skeleton = strip_root_skipped(&skeleton);
        // Every suite has properties, so each closes on a line of its own; attribute values
        // are escaped, so the closing tag is found nowhere else.
        const CLOSE: &str = "\n    </testsuite>";
        let mut rest = skeleton.as_str();
        for suite_name in &order {
            let at = rest
                .find(CLOSE)
                .ok_or_else(|| encode("a suite without its closing tag".into()))?;
            out.write_all(&rest.as_bytes()[..at])?;
            rest = &rest[at..];
            // This suite's cases, before its closing tag.
            for i in (0..cases.len()).filter(|&i| cases.suite_of(i) == *suite_name) {
                let record = cases.get(i)?;
                let c: Entry = serde_json::from_slice(&record).map_err(std::io::Error::other)?;
                let xml = testcase_xml(self.testcase(&c, &r)).map_err(encode)?;
                out.write_all(xml.as_bytes())?;
            }
            out.write_all(CLOSE.as_bytes())?;
            rest = &rest[CLOSE.len()..];
        }
        out.write_all(rest.as_bytes())
    }

    /// The `<testcase>` of one entry, every text redacted by `r`.
    fn testcase(&self, c: &Entry, r: &dyn Fn(&str) -> String) -> TestCase {
        let d = Duration::from_millis(c.duration_ms);
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
        tc
    }
}

/// One `<testcase>` element as it appears in a whole report (at the depth of a suite's test
/// cases, from the line break before it): rendered alone in a report of one suite, and cut
/// out of it.
fn testcase_xml(tc: TestCase) -> Result<String, String> {
    let mut suite = TestSuite::new("s");
    suite.add_test_case(tc);
    let mut report = Report::new("r");
    report.add_test_suite(suite);
    let xml = report.to_string().map_err(|e| e.to_string())?;
    // Text is escaped: `<` starts only tags.
    let start = xml
        .find("<testcase")
        .and_then(|i| xml[..i].rfind('\n'))
        .ok_or("no <testcase> rendered")?;
    let end = xml
        .rfind("\n    </testsuite>")
        .filter(|&e| e > start)
        .ok_or("no </testsuite> rendered")?;
    Ok(xml[start..end].to_string())
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
            Event::RunStarted(i) => {
                self.cases.reserve(i.total_cases);
                self.info = Some(i.clone());
            }
            Event::CaseFinished(c) => {
                let t = self.tallies.entry(c.suite.clone()).or_default();
                t.tests += 1;
                match c.status {
                    Status::Passed => {}
                    Status::Failed => t.failures += 1,
                    Status::Error => t.errors += 1,
                    Status::Skipped => t.skipped += 1,
                }
                t.time += Duration::from_millis(c.duration_ms);
                match serde_json::to_vec(&Entry::of(c)) {
                    Ok(bytes) => self.cases.push(c, &bytes),
                    Err(e) => {
                        self.errors
                            .push(format!("cannot encode JUnit report: case `{}`: {e}", c.id));
                        self.broken = true;
                    }
                }
            }
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
                if self.broken {
                    return;
                }
                if let Some(why) = self.cases.error() {
                    self.errors.push(format!(
                        "JUnit report {} not written: {why}",
                        self.path.display()
                    ));
                    return;
                }
                let path = self.path.clone();
                let written = std::mem::take(&mut self.cases).finish().and_then(|cases| {
                    write_atomic_with(&path, |w| self.render(&info, s.duration, &cases, w))
                });
                if let Err(e) = written {
                    self.errors.push(format!(
                        "cannot write JUnit report {}: {e}",
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
