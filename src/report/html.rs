//! The HTML report (`--report-html`): one self-contained file — inline CSS and script, an
//! inline SVG timing chart, no network assets — with the verdict, a table of checks, and
//! expandable failure details. Every text is redacted, then escaped. Written atomically.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use crate::events::{CaseResult, Event, RunInfo, RunSummary, Status};
use crate::redact::Redactor;
use crate::suite::model::Severity;

use super::details::explain;
use super::json::sort_cases;
use super::{write_atomic_with, Reporter};

/// Aggregates results and writes the HTML report when the run finishes.
pub struct HtmlReporter {
    path: PathBuf,
    redactor: Redactor,
    info: Option<RunInfo>,
    cases: Vec<Arc<CaseResult>>,
    errors: Vec<String>,
    /// Bake mode: the schedule and the rounds.
    bake: Option<Arc<crate::events::BakeRun>>,
}

impl HtmlReporter {
    /// A reporter writing to `path`.
    pub fn new(path: PathBuf, redactor: Redactor) -> Self {
        HtmlReporter {
            path,
            redactor,
            info: None,
            cases: Vec::new(),
            errors: Vec::new(),
            bake: None,
        }
    }
}

/// Escape text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Passed => "passed",
        Status::Failed => "failed",
        Status::Error => "error",
        Status::Skipped => "skipped",
    }
}

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:16px 24px 48px}
header.verdict{padding:16px 24px;color:#fff}
header.passed{background:#1f7a3e}header.failed{background:#b42318}
header h1{margin:0 0 4px;font-size:22px}header p{margin:2px 0}
.meta{font-size:12px;opacity:.9}
h2{font-size:16px;margin:24px 0 8px}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e4e7eb;vertical-align:top}
th{background:#eef1f4;font-weight:600}td.num{text-align:right;white-space:nowrap}
.badge{display:inline-block;padding:0 6px;border-radius:3px;font-size:12px;font-weight:600;color:#fff}
.passed .badge,.badge.passed{background:#1f7a3e}.badge.failed{background:#b42318}
.badge.error{background:#7a1a12}.badge.skipped{background:#8a6d00}
.note{color:#6b7280;font-size:12px}
details{background:#fff;border:1px solid #e4e7eb;border-radius:4px;margin:6px 0;padding:6px 10px}
details summary{cursor:pointer;font-weight:600}
pre{white-space:pre-wrap;word-break:break-word;font:12px/1.4 ui-monospace,Menlo,Consolas,monospace;margin:6px 0 0}
#filters button{margin-right:6px;padding:3px 10px;border:1px solid #c8ced6;background:#fff;border-radius:3px;cursor:pointer}
#filters button.on{background:#1d232a;color:#fff}
td{overflow-wrap:anywhere}
#timing{background:#fff;border:1px solid #e4e7eb;border-radius:4px;padding:6px 10px}
#timing .row{display:flex;align-items:center;gap:8px;margin:2px 0;font-size:12px}
#timing .label{flex:0 0 34%;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
#timing .track{flex:1 1 auto;display:flex;align-items:center;gap:6px;min-width:0}
#timing .fill{display:inline-block;height:10px;border-radius:2px;min-width:2px}
#timing .ms{white-space:nowrap;color:#4b5563}
.fill.passed{background:#1f7a3e}.fill.failed{background:#b42318}.fill.error{background:#7a1a12}.fill.skipped{background:#c9a400}
ol.attempts{margin:6px 0 0;padding-left:20px;font:12px/1.4 ui-monospace,Menlo,Consolas,monospace}
@media (max-width:640px){
main{padding:8px 10px 32px}header.verdict{padding:12px 10px}header h1{font-size:19px}
#filters button{margin:0 4px 4px 0}
#checks thead{display:none}
#checks,#checks tbody,#checks tr,#checks td{display:block;width:auto}
#checks tr{border-bottom:1px solid #c8ced6;padding:4px 0}
#checks td{border:0;padding:1px 8px}
#checks td[data-label]::before{content:attr(data-label) ": ";color:#6b7280}
#checks td.num{text-align:left}#checks td:empty{display:none}
#timing .label{flex-basis:45%}
}
"#;

const SCRIPT: &str = r#"
(function () {
  var rows = Array.prototype.slice.call(document.querySelectorAll('#checks tbody tr'));
  var c = { total: 0, passed: 0, failed: 0, error: 0, skipped: 0, flaky: 0 };
  rows.forEach(function (r) {
    c.total++;
    c[r.getAttribute('data-status')]++;
    if (r.getAttribute('data-flaky') === 'true') c.flaky++;
  });
  document.getElementById('filters').setAttribute('data-state', 'rendered');
  var buttons = Array.prototype.slice.call(document.querySelectorAll('#filters button'));
  buttons.forEach(function (b) {
    var want = b.getAttribute('data-filter');
    var n = want === 'all' ? c.total : (want === 'problems' ? c.failed + c.error : c[want]);
    b.textContent = b.textContent + ' (' + n + ')';
    b.addEventListener('click', function () {
      buttons.forEach(function (x) { x.classList.toggle('on', x === b); });
      rows.forEach(function (r) {
        var s = r.getAttribute('data-status');
        var show = want === 'all' || s === want || (want === 'problems' && (s === 'failed' || s === 'error')) ||
          (want === 'flaky' && r.getAttribute('data-flaky') === 'true');
        r.style.display = show ? '' : 'none';
      });
    });
  });
  rows.forEach(function (r) {
    var id = r.getAttribute('data-details');
    if (!id) return;
    r.style.cursor = 'pointer';
    r.addEventListener('click', function () {
      var d = document.getElementById(id);
      if (d) { d.open = true; d.scrollIntoView(); }
    });
  });
})();
"#;

/// Render the whole page.
pub fn render(
    info: &RunInfo,
    summary: &RunSummary,
    cases: &[Arc<CaseResult>],
    redactor: &Redactor,
) -> String {
    render_bake(info, summary, cases, None, redactor)
}

/// [`render`], with the bake section when the run was a bake.
pub fn render_bake(
    info: &RunInfo,
    summary: &RunSummary,
    cases: &[Arc<CaseResult>],
    bake: Option<&crate::events::BakeRun>,
    redactor: &Redactor,
) -> String {
    let mut h = String::new();
    let _ = render_into(&mut h, info, summary, cases, bake, redactor);
    h
}

/// Write the page to `h` as it is made (a report of many thousands of checks is tens of
/// megabytes: it goes to the file, not into memory first).
fn render_into(
    h: &mut dyn std::fmt::Write,
    info: &RunInfo,
    summary: &RunSummary,
    cases: &[Arc<CaseResult>],
    bake: Option<&crate::events::BakeRun>,
    redactor: &Redactor,
) -> std::fmt::Result {
    let t = |s: &str| escape(&redactor.redact(s));
    header(h, info, summary, &t);
    if let Some(b) = bake {
        super::html_bake::section(h, b, cases, &t);
    }
    timing_chart(h, cases, &t);
    checks_table(h, cases, &t);
    failure_details(h, cases, &t);
    write!(h, "</main>\n<script>{SCRIPT}</script>\n</body></html>\n")
}

/// `fmt::Write` onto an `io::Write`, keeping the first I/O error (`fmt::Error` carries none).
struct IoText<'a> {
    out: &'a mut dyn std::io::Write,
    error: Option<std::io::Error>,
}

impl std::fmt::Write for IoText<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if self.error.is_some() {
            return Err(std::fmt::Error);
        }
        self.out.write_all(s.as_bytes()).map_err(|e| {
            self.error = Some(e);
            std::fmt::Error
        })
    }
}

/// The verdict, the counts and the run's metadata.
fn header(
    h: &mut dyn std::fmt::Write,
    info: &RunInfo,
    summary: &RunSummary,
    t: &dyn Fn(&str) -> String,
) {
    let c = &summary.counts;
    let verdict = if summary.passed { "PASSED" } else { "FAILED" };
    let class = if summary.passed { "passed" } else { "failed" };
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\
<title>smokegate: {verdict} — {} checks</title><style>{STYLE}{}</style></head><body>\n",
        c.total,
        super::html_bake::STYLE
    );
    let mut line = super::counts_line(c);
    let _ = write!(line, " in {:.2} s", summary.duration.as_secs_f64());
    if let Some(r) = summary.cancelled {
        let _ = write!(line, " — run stopped: {r}");
    }
    let mut meta: Vec<String> = info
        .metadata
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    meta.extend(info.profiles.iter().map(|p| format!("profile {p}")));
    meta.push(format!("run {}", info.run_id));
    meta.push(format!("started {}", info.started_at));
    meta.push(format!("smokegate {}", info.smokegate_version));
    if info.insecure {
        meta.push("TLS verification DISABLED (--insecure)".into());
    }
    let _ = write!(
        h,
        "<header class=\"verdict {class}\"><h1 id=\"verdict\" data-verdict=\"{}\">smokegate: {verdict}</h1>\
<p id=\"summary\" data-total=\"{}\" data-passed=\"{}\" data-failed=\"{}\" data-errors=\"{}\" data-skipped=\"{}\">{}</p>\
<p class=\"meta\">{}</p></header>\n<main>\n",
        class,
        c.total,
        c.passed,
        c.failed,
        c.errors,
        c.skipped,
        t(&line),
        t(&meta.join(" · "))
    );
}

/// One bar per check: how long it took. HTML rather than a scaled drawing, so its text keeps
/// its size on a narrow screen.
fn timing_chart(
    h: &mut dyn std::fmt::Write,
    cases: &[Arc<CaseResult>],
    t: &dyn Fn(&str) -> String,
) {
    let max = cases
        .iter()
        .map(|c| c.duration_ms)
        .max()
        .unwrap_or(0)
        .max(1);
    let _ = h.write_str(
        "<h2>Timing</h2><div id=\"timing\" role=\"img\" aria-label=\"duration of each check\">\n",
    );
    for case in cases {
        let pct = case.duration_ms as f64 / max as f64 * 85.0;
        let full = t(&format!("{} › {}", case.suite, case.name));
        // The check's name first: on a narrow screen the label is cut at its end.
        let label = t(&format!("{} · {}", case.name, case.suite));
        let _ = writeln!(
            h,
            "<div class=\"row bar {s}\" title=\"{full}: {ms} ms\"><span class=\"label\">{label}</span>\
<span class=\"track\"><span class=\"fill {s}\" style=\"width:{pct:.1}%\"></span><span class=\"ms\">{ms} ms</span></span></div>",
            s = status_word(case.status),
            ms = case.duration_ms,
        );
    }
    let _ = h.write_str("</div>\n");
}

/// The filterable table of checks.
fn checks_table(
    h: &mut dyn std::fmt::Write,
    cases: &[Arc<CaseResult>],
    t: &dyn Fn(&str) -> String,
) {
    let _ = h.write_str(
        "<h2>Checks</h2><div id=\"filters\"><button class=\"on\" data-filter=\"all\">all</button>\
<button data-filter=\"problems\">failed or error</button><button data-filter=\"passed\">passed</button>\
<button data-filter=\"skipped\">skipped</button><button data-filter=\"flaky\">flaky</button></div>\n\
<table id=\"checks\"><thead><tr><th>suite</th><th>check</th><th>status</th><th>severity</th>\
<th>where</th><th class=\"num\">time</th><th>reason</th></tr></thead><tbody>\n",
    );
    for (i, case) in cases.iter().enumerate() {
        let s = status_word(case.status);
        let has_details =
            case.status != Status::Passed || case.passed_with_warnings() || case.flaky;
        let details = if has_details {
            format!(" data-details=\"case-{i}\"")
        } else {
            String::new()
        };
        let severity = match case.severity {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
        };
        let mut note = String::new();
        if case.flaky {
            let failed: usize = case.steps.iter().map(|s| s.failed_attempts.len()).sum();
            let _ = write!(
                note,
                " <span class=\"note\">flaky: passed after {}</span>",
                super::plural(failed, "failed attempt", "failed attempts")
            );
        }
        if matches!(case.status, Status::Failed | Status::Error) && !case.blocks() {
            note.push_str(" <span class=\"note\">does not block</span>");
        }
        if case.passed_with_warnings() {
            let _ = write!(
                note,
                " <span class=\"note\">passed with {} warning(s): does not block</span>",
                case.warnings.len()
            );
        }
        let _ = writeln!(
            h,
            "<tr data-status=\"{s}\" data-severity=\"{severity}\" data-flaky=\"{}\"{details}>\
<td data-label=\"suite\">{}</td><td data-label=\"check\">{}</td><td><span class=\"badge {s}\">{}</span>{note}</td>\
<td data-label=\"severity\">{severity}</td><td data-label=\"where\">{}:{}</td><td class=\"num\" data-label=\"time\">{} ms</td>\
<td data-label=\"reason\">{}</td></tr>",
            case.flaky,
            t(&case.suite),
            t(&case.name),
            case.status.label(),
            t(&case.suite_file),
            case.line,
            case.duration_ms,
            t(&crate::expect::truncate(
                case.message.as_deref().unwrap_or(""),
                200
            )),
        );
    }
    let _ = h.write_str("</tbody></table>\n");
}

/// What went wrong, for every check that did not pass.
fn failure_details(
    h: &mut dyn std::fmt::Write,
    cases: &[Arc<CaseResult>],
    t: &dyn Fn(&str) -> String,
) {
    let problems: Vec<(usize, &Arc<CaseResult>)> = cases
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.status != Status::Passed
                || c.passed_with_warnings()
                || c.flaky
                || c.samples.is_some()
                || c.bake.is_some()
        })
        .collect();
    if !problems.is_empty() {
        let _ = h.write_str("<h2>Details</h2>\n");
        for (i, case) in problems {
            if case.status == Status::Passed && case.flaky {
                flaky_details(h, i, case, t);
                if !case.passed_with_warnings() {
                    continue;
                }
            }
            let mut text = explain(case, false);
            if text.is_empty() {
                text = case.message.clone().unwrap_or_default();
            }
            let _ = writeln!(
                h,
                "<details id=\"case-{i}\" class=\"{}\"><summary><span class=\"badge {}\">{}</span> {} › {}</summary>\
<pre>{}</pre></details>",
                status_word(case.status),
                status_word(case.status),
                case.status.label(),
                t(&case.suite),
                t(&case.name),
                t(&text)
            );
        }
    }
}

/// A check that passed after failed attempts: each failed attempt's reason, then the pass.
fn flaky_details(
    h: &mut dyn std::fmt::Write,
    i: usize,
    case: &CaseResult,
    t: &dyn Fn(&str) -> String,
) {
    let _ = write!(
        h,
        "<details id=\"case-{i}\" class=\"flaky\"><summary><span class=\"badge passed\">PASS</span> {} › {} \
<span class=\"note\">flaky</span></summary><ol class=\"attempts\">",
        t(&case.suite),
        t(&case.name)
    );
    for s in &case.steps {
        let named = case.steps.len() > 1;
        for m in &s.failed_attempts {
            let step = if named {
                format!("step `{}`: ", s.name)
            } else {
                String::new()
            };
            let _ = write!(h, "<li>failed: {}</li>", t(&format!("{step}{m}")));
        }
        if !s.failed_attempts.is_empty() {
            let _ = write!(
                h,
                "<li>passed{}</li>",
                t(&if named {
                    format!(" (step `{}`)", s.name)
                } else {
                    String::new()
                })
            );
        }
    }
    let _ = h.write_str("</ol></details>\n");
}

impl Reporter for HtmlReporter {
    fn event(&mut self, ev: &Event) {
        match ev {
            Event::RunStarted(i) => {
                self.cases.reserve_exact(i.total_cases);
                self.info = Some(i.clone());
            }
            Event::CaseFinished(c) => self.cases.push(super::kept_for_summary(c)),
            Event::BakeFinished(b) => self.bake = Some(b.clone()),
            Event::RunFinished(s) => {
                let Some(info) = &self.info else { return };
                sort_cases(&mut self.cases);
                let written = write_atomic_with(&self.path, |out| {
                    let mut page = IoText { out, error: None };
                    let bake = self.bake.as_deref();
                    let made = render_into(&mut page, info, s, &self.cases, bake, &self.redactor);
                    // A write that failed mid-page (the parts ignore their results) is kept.
                    match page.error {
                        Some(e) => Err(e),
                        None => made.map_err(|_| std::io::Error::other("formatting failed")),
                    }
                });
                if let Err(e) = written {
                    self.errors.push(format!(
                        "cannot write HTML report {}: {e}",
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

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"<script>"a" & 'b'</script>"#),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
    }
}
