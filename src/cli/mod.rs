//! The command line: clap definitions, then the commands, each mapped to an exit code.

pub mod bake;
pub mod ci;
pub mod docs;
pub mod exit_codes;
pub mod progress;
pub mod serve;
pub mod varfile;

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::http::proxy::ProxyRules;
use crate::http::{parse_dns_server, ConnectRule, NetConfig, ResolveRule, RuleError};
use crate::plan::PlanOptions;
use crate::report::console::Console;
use crate::report::json::JsonReporter;
use crate::report::junit::JunitReporter;
use crate::report::Reporter;
use crate::runner::RunOptions;
use crate::suite::duration::{parse_cli_duration, DurationError};

/// Verify a deployment right after it ships, and decide whether it may be promoted.
#[derive(Debug, Parser)]
#[command(name = "smokegate", version, about, long_about = None)]
pub struct Cli {
    /// The subcommand to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
// Parsed once per process: the size of `run`'s arguments does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run suites against a deployment and print the verdict.
    Run(RunArgs),
    /// Check suites (syntax, variables, JSONPath, schemas) without sending anything.
    Validate(ValidateArgs),
    /// List the cases a run would execute (sends nothing).
    List(ListArgs),
    /// Start the bundled sample deployment on loopback and run the bundled suites against it.
    Demo(DemoArgs),
    /// Serve gates over HTTP: POST /gates/NAME runs a gate and answers 200 or 412 with its
    /// JSON report (for Flagger webhooks and other rollout controllers).
    Serve(serve::ServeArgs),
    /// Combine the JSON reports of `run --shard K/N` into one verdict (and JSON/JUnit/HTML).
    Merge(ci::MergeArgs),
    /// Print a shell completion script (e.g. `smokegate completions bash > /etc/bash_completion.d/smokegate`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `smokegate man | man -l -`.
    Man,
}

/// `validate` arguments.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Suite files or directories [default: suites/].
    pub paths: Vec<PathBuf>,
    /// Profile to validate with (as `run --env`).
    #[arg(short, long, env = "SMOKEGATE_ENV")]
    pub env: Option<String>,
    /// Variables, as `run --var`.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Variables from a file, as `run --variables-file` (repeatable).
    #[arg(long = "variables-file", value_name = "FILE")]
    pub variables_files: Vec<PathBuf>,
    /// Secret variables from a file, as `run --secrets-file` (repeatable).
    #[arg(long = "secrets-file", value_name = "FILE")]
    pub secrets_files: Vec<PathBuf>,
    /// Also fail when a `${env.X}` the suites read is not set in this environment.
    #[arg(long = "require-env")]
    pub require_env: bool,
}

/// How `list` prints the cases.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq, Default)]
#[allow(missing_docs)]
pub enum ListFormat {
    #[default]
    Text,
    Json,
}

/// `list` arguments: what selects the cases and fills their names, nothing that sends.
#[derive(Debug, Args, Clone)]
pub struct ListArgs {
    /// Suite files or directories [default: suites/].
    pub paths: Vec<PathBuf>,
    /// Environment profile to select (e.g. staging, production).
    #[arg(help_heading = "Variables", short, long, env = "SMOKEGATE_ENV")]
    pub env: Option<String>,
    /// Set a variable (repeatable), as `run --var`.
    #[arg(help_heading = "Variables", long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Only cases whose `suite/case` name contains this text (repeatable).
    #[arg(help_heading = "Selection", long = "filter", value_name = "TEXT")]
    pub filters: Vec<String>,
    /// Only cases with this tag (repeatable).
    #[arg(help_heading = "Selection", long = "tag")]
    pub tags: Vec<String>,
    /// Leave out cases with this tag (repeatable).
    #[arg(help_heading = "Selection", long = "skip-tag")]
    pub skip_tags: Vec<String>,
    /// Only slice K of N, as `run --shard K/N` would run it.
    #[arg(help_heading = "Selection", long, value_name = "K/N", value_parser = ci::Shard::parse)]
    pub shard: Option<ci::Shard>,
    /// `text`: one `suite/case  [tags]` a line; `json`: one JSON document (for scripts).
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

/// Colour choice: `auto` colours when stdout is a terminal and `NO_COLOR` is not set,
/// `always` colours even when piped, `never` never does.
// The variants carry no `///`: clap would turn each into help text for that value and switch
// `run --help` to its long layout. The enum's doc above says what they mean.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// `run` arguments (also used by `list` and `demo`).
#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    /// Suite files or directories [default: suites/].
    pub paths: Vec<PathBuf>,
    /// Environment profile to select (e.g. staging, production).
    #[arg(help_heading = "Variables", short, long, env = "SMOKEGATE_ENV")]
    pub env: Option<String>,
    /// Set a variable (repeatable); overrides suite and profile values.
    #[arg(help_heading = "Variables", long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Set a secret variable: like --var, and its value is redacted from all output.
    #[arg(help_heading = "Variables", long = "secret", value_name = "NAME=VALUE")]
    pub secrets: Vec<String>,
    /// Read variables from a file (repeatable; later files win): dotenv `KEY=VALUE` lines, or
    /// a YAML (.yaml/.yml) or JSON (.json) map. Overrides suite and profile values; --var wins.
    #[arg(long = "variables-file", value_name = "FILE")]
    pub variables_files: Vec<PathBuf>,
    /// Read secret variables from a file (as --variables-file; after the variables files):
    /// every value is redacted from all output. --var and --secret win.
    #[arg(long = "secrets-file", value_name = "FILE")]
    pub secrets_files: Vec<PathBuf>,
    /// Resolve HOST to ADDR instead of asking DNS (curl syntax, repeatable; HOST may be *.domain).
    #[arg(
        help_heading = "DNS, TLS and proxies",
        long,
        value_name = "HOST:PORT:ADDR[,ADDR]"
    )]
    pub resolve: Vec<String>,
    /// Use ADDR only when resolving HOST fails (NXDOMAIN, no records, timeout).
    #[arg(
        help_heading = "DNS, TLS and proxies",
        long = "fallback-resolve",
        value_name = "HOST:PORT:ADDR[,ADDR]"
    )]
    pub fallback_resolve: Vec<String>,
    /// Extra trusted root certificates (PEM).
    #[arg(help_heading = "DNS, TLS and proxies", long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Disable TLS certificate verification (recorded in the verdict and reports).
    #[arg(help_heading = "DNS, TLS and proxies", long)]
    pub insecure: bool,
    /// Connect to HOST2:PORT2 instead of HOST:PORT (curl syntax, repeatable); the request keeps
    /// its URL, Host header and TLS name. Empty parts: any host/port on the left, unchanged on
    /// the right.
    #[arg(
        help_heading = "DNS, TLS and proxies",
        long = "connect-to",
        value_name = "HOST:PORT:HOST2:PORT2"
    )]
    pub connect_to: Vec<String>,
    /// Resolve names by asking this DNS server (UDP, then TCP) instead of the system resolver
    /// (repeatable; port 53 by default).
    #[arg(
        help_heading = "DNS, TLS and proxies",
        long = "dns-server",
        value_name = "ADDR[:PORT]"
    )]
    pub dns_servers: Vec<String>,
    /// Send requests through this proxy (http:// or https://; `host:port` means http), for
    /// every scheme; replaces the http_proxy, https_proxy and all_proxy variables.
    #[arg(
        help_heading = "DNS, TLS and proxies",
        short = 'x',
        long,
        value_name = "URL"
    )]
    pub proxy: Option<String>,
    /// Hosts reached directly, not through a proxy: comma-separated names (with their
    /// subdomains), addresses or CIDR ranges, or `*` for all; replaces NO_PROXY.
    #[arg(help_heading = "DNS, TLS and proxies", long, value_name = "LIST")]
    pub noproxy: Option<String>,
    /// Client certificate for mTLS (PEM; may also hold the private key).
    #[arg(help_heading = "DNS, TLS and proxies", long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// Private key of --cert (PEM).
    #[arg(
        help_heading = "DNS, TLS and proxies",
        long,
        value_name = "FILE",
        requires = "cert"
    )]
    pub key: Option<PathBuf>,
    /// Cases run at once (driven by one thread; SMOKEGATE_WORKER_THREADS=N runs them on N).
    #[arg(
        help_heading = "Requests",
        short,
        long,
        default_value_t = 16,
        env = "SMOKEGATE_JOBS"
    )]
    pub jobs: usize,
    /// Overall deadline (e.g. 5m; a bare number is seconds); unfinished checks are then
    /// reported as errors.
    #[arg(help_heading = "Requests", long, value_parser = parse_dur, env = "SMOKEGATE_DEADLINE")]
    pub deadline: Option<Duration>,
    /// Default per-request timeout (e.g. 30s or 500ms; a bare number is seconds, as curl's
    /// --max-time).
    #[arg(help_heading = "Requests", long, visible_alias = "max-time", value_parser = parse_dur, default_value = "30s")]
    pub timeout: Duration,
    /// Connect timeout (a bare number is seconds, as in curl).
    #[arg(help_heading = "Requests", long = "connect-timeout", value_parser = parse_dur, default_value = "10s")]
    pub connect_timeout: Duration,
    /// Stop after the first blocking failure (`--max-fail 1`): running checks finish, the
    /// others are not started (reported as skipped).
    #[arg(
        help_heading = "Requests",
        long = "fail-fast",
        conflicts_with = "max_fail"
    )]
    pub fail_fast: bool,
    /// Stop after N blocking failures (failed or errored critical checks).
    #[arg(help_heading = "Requests", long = "max-fail", value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_fail: Option<u32>,
    /// Largest response body, in bytes, both as received and once decoded from its
    /// Content-Encoding; a larger body (or a compression bomb) is an error.
    #[arg(help_heading = "Requests", long = "max-body", default_value_t = 4 * 1024 * 1024)]
    pub max_body: usize,
    /// Only cases whose `suite/case` name contains this text (repeatable).
    #[arg(help_heading = "Selection", long = "filter", value_name = "TEXT")]
    pub filters: Vec<String>,
    /// Only cases with this tag (repeatable).
    #[arg(help_heading = "Selection", long = "tag")]
    pub tags: Vec<String>,
    /// Leave out cases with this tag (repeatable).
    #[arg(help_heading = "Selection", long = "skip-tag")]
    pub skip_tags: Vec<String>,
    /// Write the JSON report here.
    #[arg(
        help_heading = "Reports",
        long = "report-json",
        value_name = "PATH",
        env = "SMOKEGATE_REPORT_JSON"
    )]
    pub report_json: Option<PathBuf>,
    /// Write JUnit XML here.
    #[arg(
        help_heading = "Reports",
        long = "report-junit",
        value_name = "PATH",
        env = "SMOKEGATE_REPORT_JUNIT"
    )]
    pub report_junit: Option<PathBuf>,
    /// Run metadata for the reports (repeatable), e.g. git_sha=abc123.
    #[arg(help_heading = "Reports", long = "meta", value_name = "KEY=VALUE")]
    pub meta: Vec<String>,
    /// Explain passing checks too (address used, timings).
    #[arg(help_heading = "Output", short, long, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Print only the checks that did not pass and the verdict.
    #[arg(help_heading = "Output", short, long)]
    pub quiet: bool,
    /// When to use colour.
    #[arg(help_heading = "Output", long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Run metadata, HTML report, sharding.
    #[command(flatten)]
    pub ci: ci::CiArgs,
}

/// `demo` arguments.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Break the sample deployment (repeatable), e.g. d-login-fails; `--fault list` lists them.
    #[arg(long = "fault")]
    pub faults: Vec<String>,
    /// Where the JSON and JUnit reports go.
    #[arg(long = "report-dir", default_value = "smokegate-reports")]
    pub report_dir: PathBuf,
    /// Suites to run [default: the bundled suites, embedded in smokegate].
    pub paths: Vec<PathBuf>,
    /// Explain passing checks too (address used, timings).
    #[arg(short, long)]
    pub verbose: bool,
    /// Keep the sample deployment running (until Ctrl-C) instead of running the suites, and
    /// print the lines to paste into another shell to run them yourself with `smokegate run`.
    #[arg(long)]
    pub serve: bool,
}

/// Durations on the command line: a bare number is seconds, as in curl.
fn parse_dur(s: &str) -> Result<Duration, DurationError> {
    parse_cli_duration(s)
}

/// Print a line on stdout; a closed stdout (`| head -1`) is not an error and never a panic.
pub fn print_line(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}").and_then(|()| out.flush());
}

/// Print a line on stderr; a closed stderr (`2>&1 | head -1`) is never a panic.
pub fn print_err(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// Split `NAME=VALUE`.
pub fn parse_kv(s: &str, flag: &'static str) -> Result<(String, String), UsageError> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(UsageError::KeyValue {
            flag,
            value: s.to_string(),
        }),
    }
}

/// Something on the command line that stops the command before anything is sent.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    /// A `--var`, `--secret` or `--meta` value is not `NAME=VALUE` with a non-empty name.
    #[error("{flag} expects NAME=VALUE, got `{value}`")]
    KeyValue {
        /// The option given the value, e.g. `--var`.
        flag: &'static str,
        /// The value as given.
        value: String,
    },
    /// A `--secret` value too short to be masked safely.
    #[error("--secret {name}: {source}")]
    Secret {
        /// The secret's name.
        name: String,
        /// Why it cannot be masked.
        #[source]
        source: crate::redact::TooShort,
    },
    /// A malformed `--resolve`, `--fallback-resolve`, `--connect-to` or `--dns-server` value.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// A `--variables-file` or `--secrets-file` that cannot be used.
    #[error(transparent)]
    VarFile(#[from] varfile::VarFileError),
}

/// Environment seen by `${env.X}`: the process environment plus an overlay.
pub fn environment(overlay: &[(String, String)]) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = std::env::vars().collect();
    env.extend(overlay.iter().cloned());
    env
}

impl RunArgs {
    /// Plan options from the arguments.
    pub fn plan_options(&self, env: HashMap<String, String>) -> Result<PlanOptions, UsageError> {
        let vars = self
            .vars
            .iter()
            .map(|v| parse_kv(v, "--var"))
            .collect::<Result<_, _>>()?;
        let secrets: Vec<(String, String)> = self
            .secrets
            .iter()
            .map(|v| parse_kv(v, "--secret"))
            .collect::<Result<_, _>>()?;
        let (vars, secrets) =
            varfile::combine(&self.variables_files, &self.secrets_files, vars, secrets)?;
        for (name, value) in &secrets {
            crate::redact::Redactor::default()
                .add(value)
                .map_err(|source| UsageError::Secret {
                    name: name.clone(),
                    source,
                })?;
        }
        Ok(PlanOptions {
            profile: self.env.clone(),
            vars,
            secrets,
            env,
            names: self.filters.clone(),
            tags: self.tags.clone(),
            skip_tags: self.skip_tags.clone(),
            allow_missing_env: false,
        })
    }

    /// Run options from the arguments.
    pub fn run_options(&self) -> Result<RunOptions, UsageError> {
        let parse = |list: &[String]| {
            list.iter()
                .map(|r| ResolveRule::parse(r))
                .collect::<Result<Vec<_>, _>>()
        };
        let metadata = self
            .meta
            .iter()
            .map(|v| parse_kv(v, "--meta"))
            .collect::<Result<_, _>>()?;
        let metadata = self
            .ci
            .metadata(metadata, self.env.as_deref(), |k| std::env::var(k).ok());
        Ok(RunOptions {
            jobs: self.jobs.max(1),
            deadline: self.deadline,
            net: NetConfig {
                resolve: parse(&self.resolve)?,
                fallback_resolve: parse(&self.fallback_resolve)?,
                connect_to: self
                    .connect_to
                    .iter()
                    .map(|r| ConnectRule::parse(r))
                    .collect::<Result<_, _>>()?,
                dns_servers: self
                    .dns_servers
                    .iter()
                    .map(|s| parse_dns_server(s))
                    .collect::<Result<_, _>>()?,
                connect_timeout: self.connect_timeout,
                default_timeout: self.timeout,
                max_body_bytes: self.max_body,
                insecure: self.insecure,
                cacert: self.cacert.clone(),
                proxy: ProxyRules::new(self.proxy.as_deref(), self.noproxy.as_deref(), |k| {
                    std::env::var(k).ok()
                })?,
                client_cert: self.cert.clone(),
                client_key: self.key.clone(),
            },
            handle_signals: true,
            metadata,
            live: None,
            max_fail: if self.fail_fast {
                Some(1)
            } else {
                self.max_fail.map(|n| n as usize)
            },
            keep_results: false,
        })
    }

    /// Paths, defaulting to `suites/`.
    pub fn suite_paths(&self) -> Vec<PathBuf> {
        if self.paths.is_empty() {
            vec![PathBuf::from("suites")]
        } else {
            self.paths.clone()
        }
    }

    fn use_color(&self) -> bool {
        match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        }
    }
}

/// `smokegate run`: returns the exit code.
pub async fn run_command(args: &RunArgs, env_overlay: &[(String, String)]) -> i32 {
    let fail = |msg: String| {
        print_err(&msg);
        exit_codes::CONFIG_ERROR
    };
    let bake = match args.ci.bake.options() {
        Ok(b) => b,
        Err(m) => return bake::usage_error(m),
    };
    let plan_opts = match args.plan_options(environment(env_overlay)) {
        Ok(o) => o,
        Err(e) => return fail(format!("error: {e}")),
    };
    let mut run_opts = match args.run_options() {
        Ok(o) => o,
        Err(e) => return fail(format!("error: {e}")),
    };
    let mut plan = match crate::load_and_plan(&args.suite_paths(), &plan_opts) {
        Ok(p) => p,
        Err(d) => return fail(d.to_string()),
    };
    if plan.cases.is_empty() {
        return fail("error: no case matches the filters".into());
    }
    // An empty shard still runs (and writes its reports) so that `merge` sees every shard.
    if let Some(s) = args.ci.shard {
        crate::plan::shard(&mut plan, s.index, s.count);
    }
    let redactor = plan.redactor.clone();
    let sink = match crate::report::console_sink(&[
        args.report_json.as_deref(),
        args.report_junit.as_deref(),
        args.ci.report_html.as_deref(),
        args.ci.report_openmetrics.as_deref(),
    ]) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    if let Err(e) = crate::report::preflight(&[
        args.report_json.as_deref(),
        args.report_junit.as_deref(),
        args.ci.report_html.as_deref(),
        args.ci.report_openmetrics.as_deref(),
    ]) {
        return fail(e);
    }
    let mut reporters: Vec<Box<dyn Reporter>> = vec![Box::new(
        Console::new(sink, args.use_color(), args.verbose, redactor.clone()).quiet(args.quiet),
    )];
    if let Some(p) = &args.report_json {
        reporters.push(Box::new(JsonReporter::new(p.clone(), redactor.clone())));
    }
    if let Some(p) = &args.report_junit {
        reporters.push(Box::new(JunitReporter::new(p.clone(), redactor.clone())));
    }
    ci::add_reporters(&args.ci, &redactor, &mut reporters);
    // Slow checks are shown as running when the console is a terminal, never in a log.
    let console_on_stderr = [
        args.report_json.as_deref(),
        args.report_junit.as_deref(),
        args.ci.report_html.as_deref(),
        args.ci.report_openmetrics.as_deref(),
    ]
    .into_iter()
    .flatten()
    .any(crate::report::is_stdout);
    let tty = if console_on_stderr {
        std::io::stderr().is_terminal()
    } else {
        std::io::stdout().is_terminal()
    };
    let ticker = (tty && bake.is_none()).then(|| {
        let live = crate::runner::live::LiveView::default();
        run_opts.live = Some(live.clone());
        progress::Ticker::start(live, console_on_stderr, args.use_color(), redactor.clone())
    });
    let outcome = match bake {
        Some(b) => {
            let console = bake::console(args, console_on_stderr, tty);
            crate::runner::bake::run(plan, run_opts, b, console, &mut reporters).await
        }
        None => crate::runner::run(plan, run_opts, &mut reporters).await,
    };
    drop(ticker);
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => return fail(format!("error: {e}")),
    };
    let mut write_errors = Vec::new();
    for r in reporters.iter_mut() {
        write_errors.extend(r.take_errors());
    }
    for e in &write_errors {
        print_err(&format!("error: {e}"));
    }
    // Where the reports went: every file written (not standard output, not one that failed).
    let written: Vec<String> = [
        args.report_json.as_deref(),
        args.report_junit.as_deref(),
        args.ci.report_html.as_deref(),
        args.ci.report_openmetrics.as_deref(),
    ]
    .into_iter()
    .flatten()
    .filter(|p| !crate::report::is_stdout(p))
    .map(|p| p.display().to_string())
    .filter(|p| !write_errors.iter().any(|e| e.contains(p.as_str())))
    .collect();
    if !written.is_empty() {
        let line = format!("reports: {}", written.join(", "));
        let to_stdout = ![
            args.report_json.as_deref(),
            args.report_junit.as_deref(),
            args.ci.report_html.as_deref(),
            args.ci.report_openmetrics.as_deref(),
        ]
        .into_iter()
        .flatten()
        .any(crate::report::is_stdout);
        if to_stdout {
            print_line(&line);
        } else {
            print_err(&line);
        }
    }
    let s = &outcome.summary;
    if s.cancelled == Some(crate::events::CancelReason::Interrupted) {
        exit_codes::INTERRUPTED
    } else if !s.passed {
        exit_codes::CHECKS_FAILED
    } else if !write_errors.is_empty() {
        exit_codes::INTERNAL_ERROR
    } else {
        exit_codes::SUCCESS
    }
}

/// `smokegate validate`.
pub fn validate_command(args: &ValidateArgs) -> i32 {
    let vars: Result<Vec<_>, UsageError> = args
        .vars
        .iter()
        .map(|v| parse_kv(v, "--var"))
        .collect::<Result<Vec<_>, _>>()
        .and_then(|vars| {
            let (vars, secrets) =
                varfile::combine(&args.variables_files, &args.secrets_files, vars, Vec::new())?;
            // Nothing is sent or reported: secret values only have to be defined.
            Ok(vars.into_iter().chain(secrets).collect())
        });
    let vars = match vars {
        Ok(v) => v,
        Err(e) => {
            print_err(&format!("error: {e}"));
            return exit_codes::CONFIG_ERROR;
        }
    };
    let opts = PlanOptions {
        profile: args.env.clone(),
        vars,
        env: environment(&[]),
        allow_missing_env: !args.require_env,
        ..PlanOptions::default()
    };
    match crate::load_and_plan(&default_suites(&args.paths), &opts) {
        Ok(plan) => {
            print_line(&format!(
                "ok: {}, {}, nothing sent",
                crate::report::plural(plan.suites.len(), "suite", "suites"),
                crate::report::plural(plan.cases.len(), "case", "cases")
            ));
            exit_codes::SUCCESS
        }
        Err(d) => {
            print_err(&d.to_string());
            exit_codes::CONFIG_ERROR
        }
    }
}

/// `smokegate list`: sends nothing, so like `validate` it does not need the deployment's
/// environment variables (the two agree on what is an error).
pub fn list_command(args: &ListArgs) -> i32 {
    let vars: Result<Vec<_>, _> = args.vars.iter().map(|v| parse_kv(v, "--var")).collect();
    let vars = match vars {
        Ok(v) => v,
        Err(e) => {
            print_err(&format!("error: {e}"));
            return exit_codes::CONFIG_ERROR;
        }
    };
    let opts = PlanOptions {
        profile: args.env.clone(),
        vars,
        env: environment(&[]),
        names: args.filters.clone(),
        tags: args.tags.clone(),
        skip_tags: args.skip_tags.clone(),
        allow_missing_env: true,
        ..PlanOptions::default()
    };
    let paths = default_suites(&args.paths);
    match crate::load_and_plan(&paths, &opts) {
        Ok(mut plan) => {
            if let Some(s) = args.shard {
                crate::plan::shard(&mut plan, s.index, s.count);
            }
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let written = match args.format {
                ListFormat::Text => list_text(&plan, &mut out),
                ListFormat::Json => list_json(&plan, &mut out),
            };
            // A reader that stopped (`| head -1`) ends the listing quietly.
            let _ = written.and_then(|()| out.flush());
            exit_codes::SUCCESS
        }
        Err(d) => {
            print_err(&d.to_string());
            exit_codes::CONFIG_ERROR
        }
    }
}

/// Paths, defaulting to `suites/` (as `run`, `list` and `validate` all do).
fn default_suites(paths: &[PathBuf]) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from("suites")]
    } else {
        paths.to_vec()
    }
}

fn list_text(plan: &crate::plan::Plan, out: &mut dyn Write) -> std::io::Result<()> {
    for c in &plan.cases {
        let tags = if c.tags.is_empty() {
            String::new()
        } else {
            format!("  [{}]", c.tags.join(", "))
        };
        writeln!(out, "{}/{}{tags}", plan.suites[c.suite].name, c.name)?;
    }
    Ok(())
}

/// `list --format json`: `{"cases": [{id, suite, suite_file, name, line, tags, severity,
/// needs, steps}]}`, in run order.
fn list_json(plan: &crate::plan::Plan, out: &mut dyn Write) -> std::io::Result<()> {
    let cases: Vec<serde_json::Value> = plan
        .cases
        .iter()
        .map(|c| {
            let suite = &plan.suites[c.suite];
            serde_json::json!({
                "id": format!("{}/{}", suite.name, c.name),
                "suite": suite.name,
                "suite_file": crate::report::location::relative_to_cwd(&suite.path.display().to_string()),
                "name": c.name,
                "line": c.pos.line,
                "tags": c.tags,
                "severity": c.severity,
                "needs": c.needs.iter().map(|&n| plan.cases.iter().find(|x| x.index == n).map(|x| x.name.clone()).unwrap_or_default()).collect::<Vec<_>>(),
                "steps": c.steps().iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &serde_json::json!({ "cases": cases }))?;
    writeln!(out)
}
