//! GitHub Actions output: a Markdown job summary appended to `$GITHUB_STEP_SUMMARY` (verdict,
//! failing checks, timings) and, with `GITHUB_ACTIONS=true`, `::error`/`::warning` workflow
//! commands on stdout that annotate the suite line of each failing expectation. Everything
//! goes through the run's redactor.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::events::{CaseResult, Event, RunInfo, RunSummary, Status};
use crate::redact::Redactor;

use super::json::sort_cases;
use super::{plural, Reporter};

/// GitHub shows at most this many annotations of each level (error, warning) per step.
pub const MAX_ANNOTATIONS: usize = 10;

/// Rows of each table of the step summary: the rest are counted, not listed (every check is
/// in the JSON and JUnit reports). GitHub refuses a step summary over 1 MiB.
pub const MAX_SUMMARY_ROWS: usize = 200;

/// The step summary is cut at a line below this many bytes (GitHub's limit is 1 MiB).
const MAX_SUMMARY_BYTES: usize = 1_000_000;

/// `md` cut at a line to fit in `max` bytes, saying so (very long names or reasons could
/// still pass GitHub's limit): no table row is left half written.
fn cap_summary(mut md: String, max: usize) -> String {
    const NOTE: &str = "\n\n… summary cut at 1 MB (GitHub's limit is 1 MiB); every check is in the JSON and JUnit reports\n";
    if md.len() <= max {
        return md;
    }
    let mut end = max.saturating_sub(NOTE.len());
    while !md.is_char_boundary(end) {
        end -= 1;
    }
    let cut = md[..end].rfind('\n').unwrap_or(0);
    md.truncate(cut);
    md.push_str(NOTE);
    md
}

/// After a table cut at [`MAX_SUMMARY_ROWS`]: how many rows were left out.
fn more_rows(md: &mut String, total: usize) {
    if total > MAX_SUMMARY_ROWS {
        let _ = writeln!(
            md,
            "\n… and {} more (every check is in the JSON and JUnit reports)",
            total - MAX_SUMMARY_ROWS
        );
    }
}

/// Writes the job summary and annotations when the run finishes.
pub struct GithubReporter {
    summary: Option<PathBuf>,
    annotate: Option<Box<dyn Write + Send>>,
    workspace: Option<PathBuf>,
    redactor: Redactor,
    info: Option<RunInfo>,
    cases: Vec<Arc<CaseResult>>,
    errors: Vec<String>,
}

impl GithubReporter {
    /// A reporter appending the summary to `summary` (if any) and writing annotations to
    /// `annotate` (if any). Absolute suite paths under `workspace` are made relative to it.
    pub fn new(
        summary: Option<PathBuf>,
        annotate: Option<Box<dyn Write + Send>>,
        workspace: Option<PathBuf>,
        redactor: Redactor,
    ) -> Self {
        GithubReporter {
            summary,
            annotate,
            workspace,
            redactor,
            info: None,
            cases: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// The reporter the environment asks for: `GITHUB_STEP_SUMMARY` set → summary;
    /// `GITHUB_ACTIONS=true` → annotations on stdout. `None` outside GitHub Actions.
    pub fn from_env(env: impl Fn(&str) -> Option<String>, redactor: Redactor) -> Option<Self> {
        let summary = env("GITHUB_STEP_SUMMARY")
            .filter(|s| !s.is_empty())
            .map(PathBuf::from);
        let annotate = env("GITHUB_ACTIONS").is_some_and(|v| v == "true");
        if summary.is_none() && !annotate {
            return None;
        }
        let out: Option<Box<dyn Write + Send>> = if annotate {
            Some(Box::new(std::io::stdout()))
        } else {
            None
        };
        let workspace = env("GITHUB_WORKSPACE")
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::current_dir().ok());
        Some(GithubReporter::new(summary, out, workspace, redactor))
    }

    /// Keep the job summary, drop the annotations (for `merge`: the shards annotated).
    pub fn summary_only(mut self) -> Self {
        self.annotate = None;
        self
    }

    fn relative(&self, file: &str) -> String {
        let p = Path::new(file);
        if let Some(ws) = &self.workspace {
            if let Ok(rel) = p.strip_prefix(ws) {
                return rel.display().to_string();
            }
        }
        file.to_string()
    }

    /// The failing cases in the order they are annotated: those that block the gate first,
    /// then warnings; within each, by suite file and line.
    fn failing_by_importance(&self) -> Vec<&Arc<CaseResult>> {
        let mut failing: Vec<_> = self
            .cases
            .iter()
            .filter(|c| matches!(c.status, Status::Failed | Status::Error))
            .collect();
        // Stable: the cases are already sorted by file, line and name.
        failing.sort_by_key(|c| !c.blocks());
        failing
    }

    /// The cases that get an annotation: GitHub shows at most [`MAX_ANNOTATIONS`] of each
    /// level (error, warning) per step, so the others are named in the job summary instead.
    fn annotated(&self) -> (Vec<&Arc<CaseResult>>, Vec<&Arc<CaseResult>>) {
        let (mut errors, mut warnings) = (0, 0);
        let mut shown = Vec::new();
        let mut rest = Vec::new();
        for c in self.failing_by_importance() {
            let n = if c.blocks() {
                &mut errors
            } else {
                &mut warnings
            };
            if *n < MAX_ANNOTATIONS {
                *n += 1;
                shown.push(c);
            } else {
                rest.push(c);
            }
        }
        (shown, rest)
    }

    /// One workflow command per failing case (`::error`, or `::warning` for a `warning`
    /// severity case), at the line of its first failed expectation, holding every failed
    /// expectation of the case.
    pub fn annotations(&self) -> String {
        let mut out = String::new();
        for c in self.cases.iter().filter(|c| c.passed_with_warnings()) {
            self.warning_annotations(c, &mut out);
        }
        for c in self.annotated().0 {
            let level = if c.blocks() { "error" } else { "warning" };
            let title = format!("smokegate: {} › {}", c.suite, c.name);
            let mut lines: Vec<String> = Vec::new();
            // A sampled case fails on its budgets: its message names each broken one.
            let steps = if c.samples.is_some() {
                &[][..]
            } else {
                &c.steps[..]
            };
            for s in steps {
                if !matches!(s.status, Status::Failed | Status::Error) {
                    continue;
                }
                let prefix = if c.steps.len() > 1 {
                    format!("step `{}`: ", s.name)
                } else {
                    String::new()
                };
                let failed: Vec<_> = s.expectations.iter().filter(|o| !o.passed).collect();
                if let Some(e) = &s.error {
                    lines.push(format!("{prefix}{}: {}", e.kind, e.message));
                } else if !failed.is_empty() {
                    for o in failed {
                        let mut msg = o.message.clone().unwrap_or_else(|| o.check.to_string());
                        if let (false, Some(e), Some(a)) =
                            (msg.contains("expected"), &o.expected, &o.actual)
                        {
                            let _ = write!(msg, " (expected: {e}; actual: {a})");
                        }
                        let at = o.line.map(|l| format!(" [line {l}]")).unwrap_or_default();
                        lines.push(format!("{prefix}{msg}{at}"));
                    }
                } else {
                    lines.push(format!(
                        "{prefix}{}",
                        s.message.as_deref().unwrap_or("failed")
                    ));
                }
            }
            if lines.is_empty() {
                lines.push(c.message.clone().unwrap_or_else(|| "failed".into()));
            }
            let file = escape_property(&self.relative(&c.suite_file));
            let _ = writeln!(
                out,
                "::{level} file={file},line={},title={}::{}",
                super::location::first_failure_line(c),
                escape_property(&self.redactor.redact(&title)),
                escape_data(&self.redactor.redact(&lines.join("\n"))),
            );
        }
        out
    }

    /// `::warning` commands for the `severity: warning` expectations of a case that passed.
    fn warning_annotations(&self, c: &CaseResult, out: &mut String) {
        let title = format!("smokegate: {} › {}", c.suite, c.name);
        let file = escape_property(&self.relative(&c.suite_file));
        for s in &c.steps {
            let warned = s
                .expectations
                .iter()
                .filter(|o| !o.passed && o.severity == crate::suite::model::Severity::Warning);
            for o in warned {
                let msg = o.message.clone().unwrap_or_else(|| o.check.to_string());
                let _ = writeln!(
                    out,
                    "::warning file={file},line={},title={}::{}",
                    o.line.unwrap_or(s.line).max(1),
                    escape_property(&self.redactor.redact(&title)),
                    escape_data(&self.redactor.redact(&msg)),
                );
            }
        }
    }

    /// The Markdown job summary.
    pub fn summary_markdown(&self, s: &RunSummary) -> String {
        let c = &s.counts;
        let mut md = String::new();
        let verdict = if s.passed { "✅ PASSED" } else { "❌ FAILED" };
        let _ = writeln!(md, "## smokegate: {verdict}\n");
        let _ = write!(
            md,
            "**{}** {}: {} passed, {} failed, {}, {} skipped",
            c.total,
            if c.total == 1 { "check" } else { "checks" },
            c.passed,
            c.failed,
            plural(c.errors, "error", "errors"),
            c.skipped
        );
        if c.warnings > 0 {
            let _ = write!(
                md,
                " ({})",
                plural(c.warnings, "non-blocking warning", "non-blocking warnings")
            );
        }
        if c.flaky > 0 {
            let _ = write!(md, ", {} flaky", c.flaky);
        }
        let _ = write!(md, " in {:.2} s", s.duration.as_secs_f64());
        if let Some(r) = s.cancelled {
            let _ = write!(md, " — **run stopped: {r}**");
        }
        md.push_str("\n\n");
        if let Some(info) = &self.info {
            let mut facts: Vec<String> = info
                .metadata
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}: `{}`",
                        cell(&self.redactor, k),
                        code_cell(&self.redactor, v)
                    )
                })
                .collect();
            facts.extend(
                info.profiles
                    .iter()
                    .map(|p| format!("profile {}", cell(&self.redactor, p))),
            );
            if info.insecure {
                facts.push("**TLS verification disabled (--insecure)**".into());
            }
            facts.push(format!("smokegate {}", info.smokegate_version));
            let _ = writeln!(md, "{}\n", facts.join(" · "));
        }
        let failing: Vec<_> = self
            .cases
            .iter()
            .filter(|c| matches!(c.status, Status::Failed | Status::Error))
            .collect();
        if !failing.is_empty() {
            md.push_str("### Failing checks\n\n| check | status | blocks | where | reason | time |\n|---|---|---|---|---|---|\n");
            for c in failing.iter().take(MAX_SUMMARY_ROWS) {
                let _ = writeln!(
                    md,
                    "| {} › {} | {} | {} | `{}:{}` | {} | {} ms |",
                    cell(&self.redactor, &c.suite),
                    cell(&self.redactor, &c.name),
                    c.status.label(),
                    if c.blocks() { "yes" } else { "no (warning)" },
                    code_cell(&self.redactor, &self.relative(&c.suite_file)),
                    c.line,
                    cell(&self.redactor, c.message.as_deref().unwrap_or("")),
                    c.duration_ms
                );
            }
            more_rows(&mut md, failing.len());
            md.push('\n');
        }
        let warned: Vec<_> = self
            .cases
            .iter()
            .filter(|c| c.passed_with_warnings())
            .collect();
        if !warned.is_empty() {
            md.push_str("### Passed with warnings\n\n| check | where | warning |\n|---|---|---|\n");
            for c in warned.iter().take(MAX_SUMMARY_ROWS) {
                for w in &c.warnings {
                    let _ = writeln!(
                        md,
                        "| {} › {} | `{}:{}` | {} |",
                        cell(&self.redactor, &c.suite),
                        cell(&self.redactor, &c.name),
                        code_cell(&self.redactor, &self.relative(&c.suite_file)),
                        c.line,
                        cell(&self.redactor, w),
                    );
                }
            }
            more_rows(&mut md, warned.len());
            md.push('\n');
        }
        let (_, unannotated) = self.annotated();
        if self.annotate.is_some() && !unannotated.is_empty() {
            let _ = writeln!(
                md,
                "GitHub shows at most {MAX_ANNOTATIONS} error and {MAX_ANNOTATIONS} warning annotations per step: {} not annotated (blocking ones were annotated first):\n",
                plural(unannotated.len(), "failing check is", "failing checks are"),
            );
            for c in unannotated.iter().take(MAX_SUMMARY_ROWS) {
                let _ = writeln!(
                    md,
                    "- {} › {} at `{}:{}`",
                    cell(&self.redactor, &c.suite),
                    cell(&self.redactor, &c.name),
                    code_cell(&self.redactor, &self.relative(&c.suite_file)),
                    super::location::first_failure_line(c),
                );
            }
            more_rows(&mut md, unannotated.len());
            md.push('\n');
        }
        let skipped: Vec<_> = self
            .cases
            .iter()
            .filter(|c| c.status == Status::Skipped)
            .collect();
        if !skipped.is_empty() {
            let _ = writeln!(
                md,
                "### Skipped checks\n\n{} not run:\n\n| check | blocks | where | reason |\n|---|---|---|---|",
                plural(skipped.len(), "check was", "checks were"),
            );
            for c in skipped.iter().take(MAX_SUMMARY_ROWS) {
                let _ = writeln!(
                    md,
                    "| {} › {} | {} | `{}:{}` | {} |",
                    cell(&self.redactor, &c.suite),
                    cell(&self.redactor, &c.name),
                    if c.blocks() { "yes" } else { "no (warning)" },
                    code_cell(&self.redactor, &self.relative(&c.suite_file)),
                    c.line,
                    cell(&self.redactor, c.message.as_deref().unwrap_or("")),
                );
            }
            more_rows(&mut md, skipped.len());
            md.push('\n');
        }
        let flaky: Vec<_> = self.cases.iter().filter(|c| c.flaky).collect();
        if !flaky.is_empty() {
            let _ = writeln!(
                md,
                "### Flaky checks\n\n{} only after failed attempts:\n\n| check | where | failed attempts |\n|---|---|---|",
                plural(flaky.len(), "check passed", "checks passed"),
            );
            for c in flaky.iter().take(MAX_SUMMARY_ROWS) {
                let attempts: Vec<String> = c
                    .steps
                    .iter()
                    .flat_map(|s| s.failed_attempts.iter())
                    .map(|m| cell(&self.redactor, m))
                    .collect();
                let _ = writeln!(
                    md,
                    "| {} › {} | `{}:{}` | {} |",
                    cell(&self.redactor, &c.suite),
                    cell(&self.redactor, &c.name),
                    code_cell(&self.redactor, &self.relative(&c.suite_file)),
                    c.line,
                    attempts.join("<br>"),
                );
            }
            more_rows(&mut md, flaky.len());
            md.push('\n');
        }
        let mut by_time: Vec<_> = self.cases.iter().collect();
        by_time.sort_by_key(|c| std::cmp::Reverse(c.duration_ms));
        md.push_str("<details><summary>Timings (slowest first)</summary>\n\n| check | status | time |\n|---|---|---|\n");
        for c in by_time.iter().take(MAX_SUMMARY_ROWS) {
            let flaky = if c.flaky { " (flaky)" } else { "" };
            let _ = writeln!(
                md,
                "| {} › {} | {}{flaky} | {} ms |",
                cell(&self.redactor, &c.suite),
                cell(&self.redactor, &c.name),
                c.status.label(),
                c.duration_ms
            );
        }
        more_rows(&mut md, by_time.len());
        md.push_str("\n</details>\n\n");
        cap_summary(self.redactor.redact(&md), MAX_SUMMARY_BYTES)
    }
}

/// Text inside a code span of a table cell: literal there, so only what would end the span
/// (a backtick) or the cell (a pipe) is changed.
fn code_cell(r: &Redactor, s: &str) -> String {
    // Secrets first: the cut and the joined whitespace below would hide them from redaction.
    let s = r.redact(s);
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    crate::text::visible(&crate::expect::truncate(&one_line, 200))
        .replace('`', "'")
        .replace('|', "\\|")
}

/// A Markdown table cell: one line, inert — no HTML, and no Markdown a server's text could
/// use (a link, an image that loads from its host, emphasis, code), every such character
/// escaped.
fn cell(r: &Redactor, s: &str) -> String {
    // Secrets first: the cut and the joined whitespace below would hide them from redaction.
    let s = r.redact(s);
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let cut = crate::expect::truncate(&one_line, 200);
    let mut out = String::with_capacity(cut.len() + 16);
    for c in crate::text::visible(&cut).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '!' | '|'
            | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Escape the message of a workflow command.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a property value of a workflow command.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

impl Reporter for GithubReporter {
    fn event(&mut self, ev: &Event) {
        match ev {
            Event::RunStarted(i) => self.info = Some(i.clone()),
            Event::CaseFinished(c) => self.cases.push(super::kept_for_summary(c)),
            Event::RunFinished(s) => {
                sort_cases(&mut self.cases);
                let notes = self.annotations();
                if let Some(out) = self.annotate.as_mut() {
                    let _ = out.write_all(notes.as_bytes());
                    let _ = out.flush();
                }
                if let Some(path) = self.summary.clone() {
                    let md = self.summary_markdown(s);
                    let res = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&path)
                        .and_then(|mut f| f.write_all(md.as_bytes()));
                    if let Err(e) = res {
                        self.errors.push(format!(
                            "cannot append the GitHub step summary {}: {e}",
                            path.display()
                        ));
                    }
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

    #[test]
    fn a_summary_over_the_limit_is_cut_at_a_line_and_says_so() {
        let row = "| ünïcödé › näme | FAIL | 1 ms |\n";
        let md = row.repeat(100);
        assert_eq!(cap_summary(md.clone(), md.len()), md);
        let cut = cap_summary(md.clone(), 1_000);
        assert!(cut.len() <= 1_000, "{}", cut.len());
        assert!(cut.ends_with("every check is in the JSON and JUnit reports\n"));
        let kept = &cut[..cut.find("\n\n…").unwrap()];
        assert!(kept.lines().all(|l| l == row.trim_end()), "{kept}");
        assert!(kept.lines().count() > 10);
    }
    use super::*;

    #[test]
    fn workflow_commands_are_escaped() {
        assert_eq!(escape_data("50%\nnext\r"), "50%25%0Anext%0D");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
        assert_eq!(
            cell(&Redactor::default(), "a | b\n<c>"),
            "a \\| b &lt;c&gt;"
        );
    }
}
