//! CI-facing options of `run` (run metadata, the HTML report, GitHub Actions output,
//! sharding) and the arguments of `merge`.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;

use super::exit_codes;
use crate::events::CancelReason;
use crate::redact::Redactor;
use crate::report::console::Console;
use crate::report::github::GithubReporter;
use crate::report::html::HtmlReporter;
use crate::report::json::JsonReporter;
use crate::report::junit::JunitReporter;
use crate::report::Reporter;

/// `--shard K/N`: run the K-th (1-based) of N deterministic slices of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based index of this shard.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl Shard {
    /// Parse `K/N` with 1 ≤ K ≤ N.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let max = crate::merge::MAX_SHARDS;
        let bad = || format!("--shard expects K/N with 1 <= K <= N <= {max} (e.g. 2/4), got `{s}`");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = k.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count || count > max {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Options of `run` for CI systems.
#[derive(Debug, Args, Clone, Default)]
pub struct CiArgs {
    /// What is being verified, recorded in the reports as `target` (e.g. a URL or release name).
    #[arg(
        help_heading = "Reports",
        long,
        value_name = "TEXT",
        env = "SMOKEGATE_TARGET"
    )]
    pub target: Option<String>,
    /// Git commit being verified, recorded as `git_sha` [default: $GITHUB_SHA, then $CI_COMMIT_SHA].
    #[arg(help_heading = "Reports", long = "git-sha", value_name = "SHA")]
    pub git_sha: Option<String>,
    /// Write a self-contained HTML report here (no network assets).
    #[arg(
        help_heading = "Reports",
        long = "report-html",
        value_name = "PATH",
        env = "SMOKEGATE_REPORT_HTML"
    )]
    pub report_html: Option<PathBuf>,
    /// Run only slice K of N: cases linked by `needs` stay together; merge the shards'
    /// JSON reports with `smokegate merge`.
    #[arg(help_heading = "Selection", long, value_name = "K/N", value_parser = Shard::parse)]
    pub shard: Option<Shard>,
    /// Write an OpenMetrics text file here (node-exporter textfile style): per-check
    /// pass/fail, latency quantiles of sampled checks, run totals.
    #[arg(
        help_heading = "Reports",
        long = "report-openmetrics",
        value_name = "PATH"
    )]
    pub report_openmetrics: Option<PathBuf>,
    /// Bake mode (`--bake`, `--every`, …).
    #[command(flatten)]
    pub bake: super::bake::BakeArgs,
}

impl CiArgs {
    /// Add the CI facts to `--meta` pairs: `environment` (the `--env` selection), `target`,
    /// `git_sha` (flag, else `GITHUB_SHA`, else `CI_COMMIT_SHA`) and `shard`. A key given
    /// with `--meta` keeps its `--meta` value; a repeated `--meta` key keeps its last value.
    pub fn metadata(
        &self,
        meta: Vec<(String, String)>,
        profile: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for (k, v) in meta {
            match out.iter_mut().find(|(ok, _)| *ok == k) {
                Some(slot) => slot.1 = v,
                None => out.push((k, v)),
            }
        }
        let non_empty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        let git_sha = non_empty(self.git_sha.clone())
            .or_else(|| non_empty(env("GITHUB_SHA")))
            .or_else(|| non_empty(env("CI_COMMIT_SHA")));
        let facts = [
            ("environment", profile.map(str::to_string)),
            ("target", non_empty(self.target.clone())),
            ("git_sha", git_sha),
            ("shard", self.shard.map(|s| s.to_string())),
        ];
        for (k, v) in facts {
            if let Some(v) = v {
                if !out.iter().any(|(ok, _)| ok == k) {
                    out.push((k.to_string(), v));
                }
            }
        }
        out
    }
}

/// `merge` arguments.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// JSON reports of the shards (`run --shard K/N --report-json …`).
    #[arg(required = true, value_name = "REPORT.json")]
    pub reports: Vec<PathBuf>,
    /// Write the merged JSON report here.
    #[arg(long = "report-json", value_name = "PATH")]
    pub report_json: Option<PathBuf>,
    /// Write JUnit XML regenerated from the merged results here.
    #[arg(long = "report-junit", value_name = "PATH")]
    pub report_junit: Option<PathBuf>,
    /// Write the HTML report of the merged results here.
    #[arg(long = "report-html", value_name = "PATH")]
    pub report_html: Option<PathBuf>,
    /// Merge even when shards are missing (the verdict is then `failed`).
    #[arg(long = "allow-missing-shards")]
    pub allow_missing: bool,
}

/// Add the reporters these options ask for: HTML, and GitHub Actions output when the
/// environment is GitHub Actions.
pub fn add_reporters(args: &CiArgs, redactor: &Redactor, reporters: &mut Vec<Box<dyn Reporter>>) {
    if let Some(p) = &args.report_html {
        reporters.push(Box::new(HtmlReporter::new(p.clone(), redactor.clone())));
    }
    if let Some(p) = &args.report_openmetrics {
        reporters.push(Box::new(
            crate::report::openmetrics::OpenMetricsReporter::new(p.clone(), redactor.clone()),
        ));
    }
    if let Some(g) = GithubReporter::from_env(|k| std::env::var(k).ok(), redactor.clone()) {
        reporters.push(Box::new(g));
    }
}

/// `smokegate merge`: returns the exit code (as `run`: 0 passed, 1 failed, 2 unusable
/// input, 3 a report could not be written, 130 a shard was interrupted).
pub fn merge_command(args: &MergeArgs) -> i32 {
    let merged = match crate::merge::merge_files(&args.reports, args.allow_missing) {
        Ok(m) => m,
        Err(e) => {
            super::print_err(&format!("error: {e}"));
            return exit_codes::CONFIG_ERROR;
        }
    };
    let redactor = crate::merge::redactor();
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal();
    let sink = match crate::report::console_sink(&[
        args.report_json.as_deref(),
        args.report_junit.as_deref(),
        args.report_html.as_deref(),
    ]) {
        Ok(s) => s,
        Err(e) => {
            super::print_err(&e);
            return exit_codes::CONFIG_ERROR;
        }
    };
    let mut reporters: Vec<Box<dyn Reporter>> =
        vec![Box::new(Console::new(sink, color, false, redactor.clone()))];
    if let Some(p) = &args.report_junit {
        reporters.push(Box::new(JunitReporter::new(p.clone(), redactor.clone())));
    }
    if let Some(p) = &args.report_html {
        reporters.push(Box::new(HtmlReporter::new(p.clone(), redactor.clone())));
    }
    // The shards annotated their failures already; the merge adds the combined summary.
    if let Some(g) = GithubReporter::from_env(|k| std::env::var(k).ok(), redactor.clone()) {
        reporters.push(Box::new(g.summary_only()));
    }
    if let Some(p) = &args.report_json {
        reporters.push(Box::new(JsonReporter::new(p.clone(), redactor.clone())));
    }
    let errors = crate::merge::replay(&merged, &mut reporters);
    for e in &errors {
        super::print_err(&format!("error: {e}"));
    }
    let s = &merged.summary;
    if s.cancelled == Some(CancelReason::Interrupted) {
        exit_codes::INTERRUPTED
    } else if !s.passed {
        exit_codes::CHECKS_FAILED
    } else if !errors.is_empty() {
        exit_codes::INTERNAL_ERROR
    } else {
        exit_codes::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_parses_and_rejects() {
        assert_eq!(Shard::parse("2/3").unwrap(), Shard { index: 2, count: 3 });
        for bad in ["0/3", "4/3", "1/0", "x/2", "3", "1/2/3"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn meta_wins_and_git_sha_falls_back() {
        let ci = CiArgs {
            target: Some("https://api.example".into()),
            ..CiArgs::default()
        };
        let env = |k: &str| match k {
            "GITHUB_SHA" => Some(String::new()),
            "CI_COMMIT_SHA" => Some("c0ffee".into()),
            _ => None,
        };
        let m = ci.metadata(
            vec![("target".into(), "a".into()), ("target".into(), "b".into())],
            Some("staging"),
            env,
        );
        assert_eq!(
            m,
            vec![
                ("target".to_string(), "b".to_string()),
                ("environment".into(), "staging".into()),
                ("git_sha".into(), "c0ffee".into()),
            ]
        );
    }
}
