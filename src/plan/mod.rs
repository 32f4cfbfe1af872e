//! The plan: the compiled program of a run. Profiles and variables are resolved, matrices
//! expanded, every template parsed once, URLs, methods, headers, durations, retries,
//! regexes, JSONPaths and schemas checked, dependencies linked and filters applied — every
//! configuration error of every file is found here, at its position, before anything is
//! sent. The runner only evaluates what the plan compiled.
//!
//! One job per file: [`suite`] plans one suite (profiles, variables, cases), [`vars`]
//! resolves variables and matrices, [`step`] compiles the steps of a case, [`request`] the
//! request of a step, [`select`] applies filters and shards, [`https`] foresees TLS use.

pub mod auth;
mod https;
pub mod request;
pub mod samples;
mod select;
mod step;
mod suite;
mod vars;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::expect::dns::DnsCheck;
use crate::expect::{CompiledExpect, SchemaCache};
use crate::http::{ConnectRule, ResolveRule};
use crate::redact::Redactor;
use crate::suite::model::Severity;
use crate::suite::{Diagnostic, Diagnostics, LoadedSuite, Pos};

pub use https::HttpsUse;
pub use request::{BodyTemplate, MethodSpec, RequestTemplate};
pub use select::shard;

/// Options that shape a plan (from the command line or a library caller).
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// `--env`: the profile to select in every suite that has profiles.
    pub profile: Option<String>,
    /// `--var k=v`, highest precedence.
    pub vars: Vec<(String, String)>,
    /// `--secret k=v`: like `--var`, and the value is redacted everywhere.
    pub secrets: Vec<(String, String)>,
    /// The environment `${env.X}` reads (normally the process environment).
    pub env: HashMap<String, String>,
    /// Only cases whose `suite/case` name contains one of these (empty = all).
    pub names: Vec<String>,
    /// Only cases carrying one of these tags (empty = all).
    pub tags: Vec<String>,
    /// Drop cases carrying any of these tags.
    pub skip_tags: Vec<String>,
    /// Do not require `${env.X}` variables to be set (`validate` and `list`, which send
    /// nothing, on a machine without the deployment's environment).
    pub allow_missing_env: bool,
}

/// A suite as the plan keeps it.
#[derive(Debug, Clone)]
pub struct SuiteInfo {
    /// Suite name, followed by ` [profile]` when the run selected several of its profiles.
    pub name: String,
    /// Path of the suite file.
    pub path: PathBuf,
    /// The profile this suite runs with (`None` for a suite without profiles).
    pub profile: Option<String>,
}

/// Where a capture takes its value from.
#[derive(Debug, Clone)]
pub enum CaptureSource {
    /// The first node of a JSONPath, with its JSON type.
    JsonPath(Arc<serde_json_path::JsonPath>, String),
    /// A response header (text).
    Header(String),
    /// A regex over the body: the first group, else the whole match (text).
    Regex(regex::Regex),
    /// A regex over the values of a response header, in order: from the first value that
    /// matches, the first group, else the whole match (one cookie out of `Set-Cookie`).
    HeaderRegex(String, regex::Regex),
    /// The value of the cookie of this name the exchange set (text).
    Cookie(String),
}

/// A capture of a step.
#[derive(Debug, Clone)]
pub struct PlannedCapture {
    /// Variable name the value is stored under.
    pub name: String,
    /// Where the value comes from.
    pub source: CaptureSource,
    /// Redact the captured value everywhere.
    pub secret: bool,
}

/// Retry policy of a step (checked at plan time: 1–100 attempts, backoff 1–10).
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1–100).
    pub attempts: u32,
    /// Pause before the second attempt (default 1s).
    pub interval: Duration,
    /// Multiplier applied to the pause after each attempt (1–10; the pause is capped at 300s).
    pub backoff: f64,
}

/// Polling policy of a step: retry until the expectations hold or the deadline passes.
#[derive(Debug, Clone)]
pub struct WaitPolicy {
    /// Deadline of the polling, counted from the start of the step.
    pub timeout: Duration,
    /// Pause between attempts (default 2s).
    pub interval: Duration,
}

/// An HTTP exchange: the request to send, what the response must look like, what to keep.
#[derive(Debug)]
pub struct HttpStep {
    /// The request, rendered with the step's scope when it runs.
    pub request: RequestTemplate,
    /// What the response must look like.
    pub expect: CompiledExpect,
    /// Values to take from the response once the expectations hold.
    pub captures: Vec<PlannedCapture>,
    /// How the request authenticates (its own `auth`, else the profile's, else the suite's
    /// `defaults.auth`).
    pub auth: Option<Arc<auth::AuthTemplate>>,
}

/// What a step does.
#[derive(Debug)]
// The large variant is the common one: boxing it would add an allocation and a pointer chase
// per step of a plan (measurably slower at 20,000 checks), to save room only in rare DNS steps.
#[allow(clippy::large_enum_variant)]
pub enum Action {
    /// Send an HTTP request and judge the response.
    Http(HttpStep),
    /// Ask DNS and judge the answer.
    Dns(Box<DnsCheck>),
}

/// One step, ready to run.
#[derive(Debug, Clone)]
pub struct PlannedStep {
    /// Step name (the case name, the same allocation, for a single-request or DNS check
    /// case).
    pub name: Arc<str>,
    /// Where the step's request (or `dns:` block) is written.
    pub pos: Pos,
    /// What the step does. Cases written identically but for their names (thousands of
    /// generated checks often are) share one compiled action; see `line_shift`.
    pub action: Arc<Action>,
    /// Retry policy, when the step (or the suite's `defaults`) sets one (boxed, like the other
    /// rare parts: a plan holds a step per case).
    pub retry: Option<Box<RetryPolicy>>,
    /// Polling policy, when the step has `wait_until`.
    pub wait: Option<Box<WaitPolicy>>,
    /// Lines to add to the lines the action's expectations report: a shared action keeps the
    /// positions of the case it was compiled for (0 for that case).
    pub line_shift: i64,
}

/// One case, ready to run.
#[derive(Debug)]
pub struct PlannedCase {
    /// Index in [`Plan::cases`].
    pub index: usize,
    /// Index of the case's suite in [`Plan::suites`].
    pub suite: usize,
    /// Case name (matrix expansions have their expanded name).
    pub name: Arc<str>,
    /// Suite tags followed by the case's own tags. (Boxed slices here: a plan holds one
    /// case per check, and each `Vec`'s capacity word is 800 KB at 100,000 checks.)
    pub tags: Box<[String]>,
    /// Whether a failure of this case fails the run.
    pub severity: Severity,
    /// Indices of cases that must pass first.
    pub needs: Box<[usize]>,
    /// The steps, in order, as compiled for the case that first had this text: cases written
    /// identically but for their names share them (a plan of generated checks holds one copy,
    /// not one per case). Read them through [`PlannedCase::steps`].
    pub(crate) compiled: Arc<[PlannedStep]>,
    /// Lines from the case `compiled` was compiled for down to this one (0: its own steps).
    pub(crate) line_shift: i64,
    /// A single-request or DNS check case: its step is named like the case.
    pub(crate) single: bool,
    /// The case's variables, with their JSON types.
    pub vars: Arc<HashMap<String, Value>>,
    /// The text as written of variables whose YAML value is a number, boolean or null
    /// (see [`crate::interp::Scope::texts`]).
    pub texts: Arc<HashMap<String, String>>,
    /// Where the case is written.
    pub pos: Pos,
    /// `samples` + `expect_samples`: send the request many times and judge the samples
    /// together.
    pub samples: Option<Box<samples::SamplePolicy>>,
}

impl PlannedCase {
    /// The case's steps, in order: named and placed for this case (made while the case runs
    /// when its steps are shared with an earlier case written alike).
    pub fn steps(&self) -> std::borrow::Cow<'_, [PlannedStep]> {
        let renamed = self.single && self.compiled.first().is_some_and(|s| s.name != self.name);
        if self.line_shift == 0 && !renamed {
            return std::borrow::Cow::Borrowed(&self.compiled);
        }
        let shift = self.line_shift;
        std::borrow::Cow::Owned(
            self.compiled
                .iter()
                .map(|s| PlannedStep {
                    name: if self.single {
                        self.name.clone()
                    } else {
                        s.name.clone()
                    },
                    pos: Pos {
                        line: s.pos.line.saturating_add_signed(shift),
                        column: s.pos.column,
                    },
                    line_shift: s.line_shift + shift,
                    ..s.clone()
                })
                .collect(),
        )
    }
}

/// Everything a run needs.
#[derive(Debug)]
pub struct Plan {
    /// Random id of the run (12 hex characters), the value of `${gen.run_id}`.
    pub run_id: Arc<str>,
    /// Every planned suite, once per selected profile.
    pub suites: Vec<SuiteInfo>,
    /// Every case to run, in plan order.
    pub cases: Vec<PlannedCase>,
    /// `resolve` rules of the selected profiles.
    pub resolve: Vec<ResolveRule>,
    /// `fallback_resolve` rules of the selected profiles.
    pub fallback_resolve: Vec<ResolveRule>,
    /// `connect_to` rules of the selected profiles.
    pub connect_to: Vec<ConnectRule>,
    /// `dns_servers` of the selected profiles.
    pub dns_servers: Vec<SocketAddr>,
    /// The environment `${env.X}` reads.
    pub env: Arc<HashMap<String, String>>,
    /// Masks every secret value known so far (`--secret`, suite `secrets`, and secret captures
    /// added during the run).
    pub redactor: Redactor,
}

/// Diagnostics in file order (files as planned), then by position; each problem once (a
/// `defaults` header added to every request, a matrix case or a suite planned for several
/// profiles would otherwise repeat the same error at the same place).
fn ordered(diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    for d in &diags {
        if !files.contains(&d.file) {
            files.push(d.file.clone());
        }
    }
    let mut keyed: Vec<(usize, Option<Pos>, usize, Diagnostic)> = diags
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            let f = files.iter().position(|f| *f == d.file).unwrap_or(0);
            (f, d.pos, i, d)
        })
        .collect();
    keyed.sort_by_key(|(f, pos, i, _)| (*f, pos.map(|p| (p.line, p.column)), *i));
    let mut seen = std::collections::HashSet::new();
    keyed
        .into_iter()
        .filter(|(f, pos, _, d)| {
            // The names listed as defined differ between matrix cases or steps; the error
            // is the same.
            let what = d
                .message
                .split(" (defined here:")
                .next()
                .unwrap_or_default();
            seen.insert((*f, pos.map(|p| (p.line, p.column)), what.to_string()))
        })
        .map(|(_, _, _, d)| d)
        .collect()
}

/// Build the plan; every problem found is reported, each with its file position.
pub fn build(suites: &[LoadedSuite], opts: &PlanOptions) -> Result<Plan, Diagnostics> {
    let mut planner = Planner::new(opts);
    for suite in suites {
        planner.add(suite);
    }
    planner.finish()
}

/// Builds a plan one suite at a time, so a caller can drop each parsed suite once it is
/// planned (see [`crate::load_and_plan`]).
pub struct Planner<'a> {
    opts: &'a PlanOptions,
    plan: Plan,
    schemas: SchemaCache,
    diags: Vec<Diagnostic>,
    /// Bytes of variables held by matrix expansions (see `suite::SuitePlanner::held`).
    held: usize,
}

impl<'a> Planner<'a> {
    /// An empty plan.
    pub fn new(opts: &'a PlanOptions) -> Self {
        let run_id: Arc<str> = Arc::from(&uuid::Uuid::new_v4().simple().to_string()[..12]);
        let redactor = Redactor::default();
        for (_, v) in &opts.secrets {
            // Checked by the command line: a value too short to mask never gets here.
            let _ = redactor.add(v);
        }
        Planner {
            opts,
            plan: Plan {
                run_id,
                suites: Vec::new(),
                cases: Vec::new(),
                resolve: Vec::new(),
                fallback_resolve: Vec::new(),
                connect_to: Vec::new(),
                dns_servers: Vec::new(),
                env: Arc::new(opts.env.clone()),
                redactor,
            },
            schemas: SchemaCache::default(),
            diags: Vec::new(),
            held: 0,
        }
    }

    /// Plan the cases of one suite (once per selected profile); problems are kept for
    /// [`Planner::finish`].
    pub fn add(&mut self, loaded: &LoadedSuite) {
        let profiles = match suite::select_profiles(loaded, self.opts) {
            Ok(p) => p,
            Err(d) => {
                self.diags.push(d);
                return;
            }
        };
        let several = profiles.len() > 1;
        for profile in profiles {
            let mut ctx = suite::SuitePlanner {
                suite: loaded,
                opts: self.opts,
                plan: &mut self.plan,
                schemas: &mut self.schemas,
                diags: &mut self.diags,
                held: &mut self.held,
            };
            ctx.plan_suite(profile, several);
        }
    }

    /// The plan, or every problem found (sorted by file, then position).
    pub fn finish(mut self) -> Result<Plan, Diagnostics> {
        if !self.diags.is_empty() {
            // A message may quote a rendered value (a URL built from a secret variable).
            let redactor = &self.plan.redactor;
            let diags = ordered(self.diags)
                .into_iter()
                .map(|mut d| {
                    d.message = redactor.redact(&d.message);
                    d
                })
                .collect();
            return Err(Diagnostics(diags));
        }
        select::apply_filters(&mut self.plan, self.opts);
        Ok(self.plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::load::parse_suite;
    use serde_json::json;

    fn plan(yaml: &str, opts: &PlanOptions) -> Result<Plan, Diagnostics> {
        let s = parse_suite(std::path::Path::new("s.yaml"), yaml.to_string()).unwrap();
        build(&[s], opts)
    }

    const SUITE: &str = "name: s\nvars: {who: suite, url: 'http://${who}.test', n: 5}\nprofiles:\n  p: {vars: {who: profile}}\ndefault_profile: p\ncases:\n  - name: a\n    request: {url: '${url}/'}\n";

    #[test]
    fn precedence_is_suite_then_profile_then_command_line() {
        let p = plan(SUITE, &PlanOptions::default()).unwrap();
        let vars = &p.cases[0].vars;
        assert_eq!(vars["url"], json!("http://profile.test"));
        assert_eq!(vars["n"], json!(5), "a YAML number stays a number");
        let opts = PlanOptions {
            vars: vec![("who".into(), "cli".into())],
            ..PlanOptions::default()
        };
        let p = plan(SUITE, &opts).unwrap();
        assert_eq!(p.cases[0].vars["url"], json!("http://cli.test"));
    }

    #[test]
    fn cases_written_alike_share_their_compiled_steps_at_their_own_lines() {
        let case = |name: &str| {
            format!("  - name: {name}\n    request: {{url: 'http://a.test/'}}\n    expect:\n      status: 200\n      jsonpath:\n        - {{path: $.ok, equals: true}}\n")
        };
        let yaml = format!(
            "name: s\ncases:\n{}{}\n{}  - name: >-\n      folded\n    request: {{url: 'http://a.test/'}}\n    expect:\n      status: 200\n      jsonpath:\n        - {{path: $.ok, equals: true}}\n  - name: m ${{n}}\n    matrix: {{n: ['1', '2']}}\n{}",
            case("a"),
            case("b"),
            case("c &x"),
            &case("x")[12..]
        );
        let p = plan(&yaml, &PlanOptions::default()).unwrap();
        let names: Vec<&str> = p.cases.iter().map(|c| &*c.name).collect();
        assert_eq!(names, ["a", "b", "c &x", "folded", "m 1", "m 2"]);
        let (a, b) = (p.cases[0].steps(), p.cases[1].steps());
        let (a, b) = (&a[0], &b[0]);
        assert!(Arc::ptr_eq(&p.cases[0].compiled, &p.cases[1].compiled));
        assert!(Arc::ptr_eq(&a.action, &b.action));
        assert_eq!((&*b.name, b.pos.line, b.line_shift), ("b", 10, 6));
        assert_eq!((&*a.name, a.pos.line, a.line_shift), ("a", 4, 0));
        // An anchor-like `&`, a folded name and matrix cases are compiled on their own.
        for k in 2..6 {
            assert!(
                !Arc::ptr_eq(&a.action, &p.cases[k].steps()[0].action),
                "{k}"
            );
            assert_eq!(p.cases[k].steps()[0].line_shift, 0);
            assert_eq!(p.cases[k].steps()[0].name, p.cases[k].name);
        }
    }

    #[test]
    fn the_same_error_at_the_same_place_is_reported_once_in_position_order() {
        // A `defaults` header is added to every request; a matrix expands a case.
        let yaml = "name: s\ndefaults:\n  headers: {x-a: '${nope}'}\ncases:\n  - name: b\n    request: {url: 'ftp://b.test/'}\n  - name: a ${n}\n    matrix: {n: ['1', '2']}\n    request: {url: 'http://a.test/${missing}'}\n";
        let e = plan(yaml, &PlanOptions::default()).unwrap_err();
        let lines: Vec<(u64, &str)> =
            e.0.iter()
                .map(|d| (d.pos.map_or(0, |p| p.line), d.message.as_str()))
                .collect();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(lines.windows(2).all(|w| w[0].0 <= w[1].0), "{lines:?}");
        assert!(
            lines[0].1.contains("undefined variable `nope`"),
            "{lines:?}"
        );
        assert!(lines[1].1.contains("ftp"), "{lines:?}");
        assert!(
            lines[2].1.contains("undefined variable `missing`"),
            "{lines:?}"
        );
    }
}
