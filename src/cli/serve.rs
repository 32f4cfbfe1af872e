//! `smokegate serve`: the command line of the gate endpoint ([`crate::serve`]). It takes
//! `run`'s options (variables, DNS/TLS/proxies, requests, selection, metadata) for every
//! gate, and its own for the server, the gates, authentication and limits.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Arg, Args};

use super::{environment, exit_codes, parse_dur, print_err, ColorChoice, RunArgs};
use crate::serve::gates::{self, GateSpec};
use crate::serve::{ServeConfig, ServeError};

/// The shortest token accepted (a shorter one is guessable, and could not be masked).
pub const MIN_TOKEN_LEN: usize = 16;

/// `run` options that mean nothing to a server (where its reports and console go, which
/// shard): hidden from `serve --help`, and refused when given.
const RUN_ONLY: [&str; 13] = [
    "paths",
    "bake",
    "every",
    "bake_max_failure_rate",
    "bake_fail_fast",
    "report_json",
    "report_junit",
    "report_html",
    "report_openmetrics",
    "shard",
    "verbose",
    "quiet",
    "color",
];

fn hide_run_only(a: Arg) -> Arg {
    if RUN_ONLY.contains(&a.get_id().as_str()) {
        // Not read from the environment either: SMOKEGATE_REPORT_JSON set for `run` must
        // not stop a server.
        a.hide(true).env(None::<&str>)
    } else {
        a
    }
}

/// `serve` arguments.
#[derive(Debug, Args)]
#[command(mut_args(hide_run_only))]
pub struct ServeArgs {
    /// Address and port to listen on. Loopback by default; any other address is reachable
    /// from other machines (a warning says so). Port 0 picks a free port (printed).
    #[arg(
        help_heading = "Server",
        long,
        value_name = "ADDR:PORT",
        default_value = "127.0.0.1:8089"
    )]
    pub listen: SocketAddr,
    /// A gate: its name (the URL is POST /gates/NAME) and its suite files or folders
    /// (repeatable). It runs with the options given here (--env, --var, --tag, …).
    #[arg(
        help_heading = "Gates",
        long = "gate",
        value_name = "NAME=PATH[,PATH...]"
    )]
    pub gates: Vec<String>,
    /// Gates from a YAML file: `gates: {NAME: {suites: [...], env, vars, filter, tags,
    /// skip_tags}}`; suite paths are relative to the file; a gate's own values win over the
    /// command line's.
    #[arg(help_heading = "Gates", long = "gates-file", value_name = "FILE")]
    pub gates_file: Option<PathBuf>,
    /// The environment variable holding the bearer token requests must carry
    /// (`Authorization: Bearer TOKEN`; at least 16 characters). The server does not start
    /// without it.
    #[arg(
        help_heading = "Authentication",
        long = "token-env",
        value_name = "VAR",
        default_value = "SMOKEGATE_SERVE_TOKEN"
    )]
    pub token_env: String,
    /// Also accept the token as `metadata.token` of a Flagger webhook payload (Flagger
    /// cannot send headers; the token is then in the Canary object). Only for requests without
    /// an Authorization header.
    #[arg(help_heading = "Authentication", long = "accept-payload-token")]
    pub payload_token: bool,
    /// Serve without a token: only on a loopback address.
    #[arg(help_heading = "Authentication", long = "insecure-no-auth")]
    pub insecure_no_auth: bool,
    /// Gates run at once; a request over the bound is answered 429 with Retry-After (never
    /// queued).
    #[arg(help_heading = "Limits", long = "max-concurrent", value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub max_concurrent: u16,
    /// Connections open at once; up to as many more get 1 s to send their request head (so
    /// stalled clients cannot lock out a probe), beyond that they wait in the listen queue.
    #[arg(help_heading = "Limits", long = "max-connections", value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub max_connections: u16,
    /// Largest request body (a webhook payload), in bytes; larger is answered 413.
    #[arg(
        help_heading = "Limits",
        long = "max-request-body",
        value_name = "BYTES",
        default_value_t = 64 * 1024
    )]
    pub max_request_body: usize,
    /// Time a client has to send the request line and headers (then the connection is
    /// closed).
    #[arg(help_heading = "Limits", long = "header-timeout", value_name = "DURATION", value_parser = parse_dur, default_value = "10s")]
    pub header_timeout: Duration,
    /// Time a client has to send the request body (then 408).
    #[arg(help_heading = "Limits", long = "body-timeout", value_name = "DURATION", value_parser = parse_dur, default_value = "10s")]
    pub body_timeout: Duration,
    /// A gate run's deadline (as `run --deadline`; the shorter of the two applies): checks
    /// still running then are errors, and the gate fails. Keep it below the caller's timeout.
    #[arg(help_heading = "Limits", long = "run-timeout", value_name = "DURATION", value_parser = parse_dur, default_value = "5m")]
    pub run_timeout: Duration,
    /// Seconds a 429 answer asks the client to wait (Retry-After).
    #[arg(
        help_heading = "Limits",
        long = "retry-after",
        value_name = "SECONDS",
        default_value_t = 10
    )]
    pub retry_after: u64,
    /// After SIGTERM, how long running gates get to answer before the server exits anyway.
    #[arg(help_heading = "Limits", long = "shutdown-timeout", value_name = "DURATION", value_parser = parse_dur, default_value = "15s")]
    pub shutdown_timeout: Duration,
    /// The options of `run` every gate runs with.
    #[command(flatten)]
    pub run: RunArgs,
}

/// Why `serve` does not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeSetupError {
    /// A `run` option that means nothing to a server.
    #[error("serve: {0} does not apply to serve (suites are given per gate with --gate NAME=PATH; each request answers its JSON report)")]
    RunOnly(&'static str),
    /// No token and no `--insecure-no-auth`.
    #[error("serve: set the bearer token in ${0} (at least {MIN_TOKEN_LEN} characters), or pass --insecure-no-auth on a loopback address")]
    NoToken(String),
    /// A token with leading or trailing whitespace: no `Authorization` header could carry it.
    #[error("serve: the token in ${0} starts or ends with whitespace (a file written by `echo` ends in a newline), which no Authorization header can carry: remove it")]
    SpacedToken(String),
    /// A token too short.
    #[error("serve: the token in ${0} is shorter than {MIN_TOKEN_LEN} characters")]
    ShortToken(String),
    /// `--insecure-no-auth` on an address other machines reach.
    #[error("serve: --insecure-no-auth is only allowed on a loopback address, not {0}")]
    OpenWithoutAuth(SocketAddr),
    /// A gate problem.
    #[error(transparent)]
    Gate(#[from] gates::GateError),
    /// A `run` option problem.
    #[error("serve: {0}")]
    Usage(#[from] super::UsageError),
    /// The address cannot be listened on.
    #[error("serve: cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl ServeArgs {
    /// The `run` option given that a server cannot use, if any.
    fn run_only_option(&self) -> Option<&'static str> {
        let r = &self.run;
        [
            (!r.paths.is_empty(), "a suite path argument"),
            (r.report_json.is_some(), "--report-json"),
            (r.report_junit.is_some(), "--report-junit"),
            (r.ci.report_html.is_some(), "--report-html"),
            (r.ci.report_openmetrics.is_some(), "--report-openmetrics"),
            (r.ci.shard.is_some(), "--shard"),
            (r.verbose, "--verbose"),
            (r.quiet, "--quiet"),
            (r.color != ColorChoice::Auto, "--color"),
            (
                r.ci.bake.bake.is_some(),
                "--bake (a server runs one round per request)",
            ),
        ]
        .into_iter()
        .find_map(|(given, name)| given.then_some(name))
    }
}

/// `smokegate serve`: returns the exit code (0 after SIGTERM; 2 when it cannot start).
pub async fn serve_command(args: ServeArgs) -> i32 {
    match start(args).await {
        Ok(code) => code,
        Err(e) => {
            print_err(&format!("error: {e}"));
            exit_codes::CONFIG_ERROR
        }
    }
}

async fn start(args: ServeArgs) -> Result<i32, ServeSetupError> {
    if let Some(o) = args.run_only_option() {
        return Err(ServeSetupError::RunOnly(o));
    }
    let token = match std::env::var(&args.token_env) {
        Ok(t) if !t.trim().is_empty() => {
            if t.trim() != t {
                return Err(ServeSetupError::SpacedToken(args.token_env.clone()));
            }
            if t.chars().count() < MIN_TOKEN_LEN {
                return Err(ServeSetupError::ShortToken(args.token_env.clone()));
            }
            Some(t)
        }
        _ if args.insecure_no_auth => None,
        _ => return Err(ServeSetupError::NoToken(args.token_env.clone())),
    };
    let token = if args.insecure_no_auth {
        if !args.listen.ip().is_loopback() {
            return Err(ServeSetupError::OpenWithoutAuth(args.listen));
        }
        if token.is_some() {
            print_err(&format!(
                "warning: --insecure-no-auth: the token in ${} is not asked for",
                args.token_env
            ));
        }
        None
    } else {
        token
    };
    // Suites never see the token: `${env.VAR}` of the token's variable is unset.
    let mut env = environment(&[]);
    env.remove(&args.token_env);
    let base = args.run.plan_options(env)?;
    let mut run = args.run.run_options()?;
    // Each run stops on SIGTERM/SIGINT like `run` (2 s grace, a report still written); the
    // server stops accepting on the same signal.
    run.handle_signals = true;
    run.keep_results = false;
    run.live = None;
    let mut specs = Vec::new();
    for g in &args.gates {
        specs.push(GateSpec::parse(g)?);
    }
    if let Some(f) = &args.gates_file {
        specs.extend(gates::read_gates_file(f)?);
    }
    let gates = gates::load_all(&specs, &base)?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|source| ServeSetupError::Bind {
            addr: args.listen,
            source,
        })?;
    let addr = listener.local_addr().unwrap_or(args.listen);
    if !addr.ip().is_loopback() {
        print_err(&format!(
            "warning: listening on {addr}, reachable from other machines: keep it behind a network policy"
        ));
    }
    let names: Vec<String> = gates
        .iter()
        .map(|g| {
            format!(
                "{} ({})",
                g.name,
                crate::report::plural(g.cases, "case", "cases")
            )
        })
        .collect();
    print_err(&format!(
        "serve: listening on http://{addr} (gates: {}; {} at a time; {})",
        names.join(", "),
        crate::report::plural(args.max_concurrent as usize, "run", "runs"),
        if token.is_some() {
            "bearer token required"
        } else {
            "NO authentication"
        }
    ));
    let cfg = ServeConfig {
        token,
        payload_token: args.payload_token,
        max_concurrent: args.max_concurrent as usize,
        max_connections: args.max_connections as usize,
        max_request_body: args.max_request_body,
        header_timeout: args.header_timeout,
        body_timeout: args.body_timeout,
        run_timeout: args.run_timeout,
        retry_after_secs: args.retry_after,
        shutdown_timeout: args.shutdown_timeout,
        run,
    };
    match crate::serve::serve(listener, gates, cfg).await {
        Ok(()) => Ok(exit_codes::SUCCESS),
        Err(e @ ServeError::Signals(_)) => {
            print_err(&format!("error: {e}"));
            Ok(exit_codes::INTERNAL_ERROR)
        }
    }
}
