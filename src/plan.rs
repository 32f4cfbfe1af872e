//! Turning loaded suites into a plan: profiles and variables resolved, matrices expanded,
//! expectations compiled, dependencies linked, filters applied — and every configuration
//! error found here, before any request is sent.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::expect::dns::DnsCheck;
use crate::expect::{CompiledExpect, SchemaCache};
use crate::http::{parse_dns_server, ConnectRule, ResolveRule};
use crate::interp::{json_strings, Part, Scope, Template};
use crate::redact::Redactor;
use crate::suite::model::{
    CaptureDef, CaseDef, Redirects, RequestDef, RetryDef, Severity, WaitDef,
};
use crate::suite::{Diagnostic, Diagnostics, LoadedSuite, Pos};

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
    /// Do not require `${env.X}` variables to be set (for `validate` on a machine without
    /// the deployment's environment).
    pub allow_missing_env: bool,
}

/// A suite as the plan keeps it.
#[derive(Debug, Clone)]
pub struct SuiteInfo {
    pub name: String,
    pub path: PathBuf,
    pub profile: Option<String>,
}

/// A capture of a step.
#[derive(Debug, Clone)]
pub struct PlannedCapture {
    pub name: String,
    pub def: CaptureDef,
    pub path: Option<serde_json_path::JsonPath>,
    pub regex: Option<regex::Regex>,
}

/// Retry policy of a step.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub interval: Duration,
    pub backoff: f64,
}

/// Polling policy of a step: retry until the expectations hold or the deadline passes.
#[derive(Debug, Clone)]
pub struct WaitPolicy {
    pub timeout: Duration,
    pub interval: Duration,
}

/// One step, ready to run.
#[derive(Debug)]
pub struct PlannedStep {
    pub name: String,
    pub request: RequestDef,
    pub pos: Pos,
    pub expect: CompiledExpect,
    pub captures: Vec<PlannedCapture>,
    pub retry: Option<RetryPolicy>,
    pub wait: Option<WaitPolicy>,
    /// Set for a DNS check: the step asks DNS instead of sending `request` (a placeholder).
    pub dns: Option<Box<DnsCheck>>,
}

/// One case, ready to run.
#[derive(Debug)]
pub struct PlannedCase {
    /// Index in [`Plan::cases`].
    pub index: usize,
    pub suite: usize,
    pub name: String,
    pub tags: Vec<String>,
    pub severity: Severity,
    /// Indices of cases that must pass first.
    pub needs: Vec<usize>,
    pub steps: Vec<PlannedStep>,
    pub vars: std::sync::Arc<HashMap<String, String>>,
    pub pos: Pos,
}

/// Everything a run needs.
#[derive(Debug)]
pub struct Plan {
    pub run_id: String,
    pub suites: Vec<SuiteInfo>,
    pub cases: Vec<PlannedCase>,
    pub resolve: Vec<ResolveRule>,
    pub fallback_resolve: Vec<ResolveRule>,
    /// `connect_to` rules of the selected profiles.
    pub connect_to: Vec<ConnectRule>,
    /// `dns_servers` of the selected profiles.
    pub dns_servers: Vec<SocketAddr>,
    pub env: std::sync::Arc<HashMap<String, String>>,
    pub redactor: Redactor,
}

/// Whether a run will use TLS, as far as its plan tells before anything is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HttpsUse {
    /// Every request is plain http and follows no redirect.
    No,
    /// A URL depends on a capture, or a redirect is followed: https is possible.
    Maybe,
    /// An https URL, or TLS expectations.
    Yes,
}

impl Plan {
    /// How the run may use TLS: an https URL (rendered with the plan's variables) or TLS
    /// expectations make it certain; a URL that depends on a capture and does not start with
    /// a literal scheme, or a followed redirect, makes it possible.
    pub fn https_use(&self) -> HttpsUse {
        let scheme_is = |url: &str, scheme: &str| {
            url.trim_start()
                .get(..scheme.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(scheme))
        };
        let mut out = HttpsUse::No;
        for c in &self.cases {
            let scope = Scope {
                vars: c.vars.clone(),
                env: self.env.clone(),
                run_id: self.run_id.clone(),
                lenient_env: true,
            };
            for s in c.steps.iter().filter(|s| s.dns.is_none()) {
                let redirects = match s.request.follow_redirects {
                    Some(Redirects::Enabled(on)) => on,
                    Some(Redirects::Max(n)) => n > 0,
                    None => false,
                };
                let plain = if redirects {
                    HttpsUse::Maybe
                } else {
                    HttpsUse::No
                };
                let template = Template::parse(&s.request.url);
                let this = if s.expect.tls.is_some() {
                    HttpsUse::Yes
                } else {
                    match template.as_ref().map(|t| (t, t.render(&scope))) {
                        Ok((_, Ok(url))) if scheme_is(&url, "https:") => HttpsUse::Yes,
                        Ok((_, Ok(_))) => plain,
                        // Not renderable yet (a capture): the literal start may still tell.
                        Ok((t, Err(_))) => match t.parts.first() {
                            Some(Part::Lit(l)) if scheme_is(l, "https:") => HttpsUse::Yes,
                            Some(Part::Lit(l)) if scheme_is(l, "http:") => plain,
                            _ => HttpsUse::Maybe,
                        },
                        Err(_) => HttpsUse::Maybe,
                    }
                };
                out = out.max(this);
                if out == HttpsUse::Yes {
                    return out;
                }
            }
        }
        out
    }
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
}

impl<'a> Planner<'a> {
    /// An empty plan.
    pub fn new(opts: &'a PlanOptions) -> Self {
        let run_id = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
        let redactor = Redactor::default();
        for (_, v) in &opts.secrets {
            redactor.add(v);
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
                env: std::sync::Arc::new(opts.env.clone()),
                redactor,
            },
            schemas: SchemaCache::default(),
            diags: Vec::new(),
        }
    }

    /// Plan the cases of one suite (once per selected profile); problems are kept for
    /// [`Planner::finish`].
    pub fn add(&mut self, suite: &LoadedSuite) {
        let profiles = match select_profiles(suite, self.opts) {
            Ok(p) => p,
            Err(d) => {
                self.diags.push(d);
                return;
            }
        };
        let several = profiles.len() > 1;
        for profile in profiles {
            let si = self.plan.suites.len();
            if let Err(d) = plan_suite(
                si,
                suite,
                self.opts,
                profile,
                several,
                &mut self.plan,
                &mut self.schemas,
            ) {
                self.diags.extend(d);
            }
        }
    }

    /// The plan, or every problem found.
    pub fn finish(mut self) -> Result<Plan, Diagnostics> {
        if !self.diags.is_empty() {
            return Err(Diagnostics(self.diags));
        }
        apply_filters(&mut self.plan, self.opts);
        Ok(self.plan)
    }
}

/// The profiles a suite runs with: none for a suite without profiles, else the `--env`
/// selection (comma-separated for several environments in one run) or `default_profile`.
fn select_profiles(
    suite: &LoadedSuite,
    opts: &PlanOptions,
) -> Result<Vec<Option<String>>, Diagnostic> {
    let f = &suite.file;
    if f.profiles.is_empty() {
        return Ok(vec![None]);
    }
    let known = || {
        f.profiles
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let chosen = opts.profile.clone().or_else(|| f.default_profile.clone());
    let Some(chosen) = chosen else {
        return Err(suite.diag(
            None,
            format!(
                "suite `{}` has profiles ({}) but none was chosen: pass --env or set default_profile",
                f.name,
                known()
            ),
        ));
    };
    let mut out = Vec::new();
    for p in chosen.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if !f.profiles.contains_key(p) {
            return Err(suite.diag(
                None,
                format!(
                    "suite `{}` has no profile `{p}` (profiles: {})",
                    f.name,
                    known()
                ),
            ));
        }
        if !out.contains(&Some(p.to_string())) {
            out.push(Some(p.to_string()));
        }
    }
    if out.is_empty() {
        return Err(suite.diag(None, "--env names no profile"));
    }
    Ok(out)
}

fn plan_suite(
    si: usize,
    suite: &LoadedSuite,
    opts: &PlanOptions,
    profile_name: Option<String>,
    several: bool,
    plan: &mut Plan,
    schemas: &mut SchemaCache,
) -> Result<(), Vec<Diagnostic>> {
    let f = &suite.file;
    let mut diags = Vec::new();
    let profile = profile_name.as_ref().and_then(|p| f.profiles.get(p));
    // Variables: suite < profile < --var / --secret.
    let mut raw: BTreeMap<String, (String, Option<Pos>)> = BTreeMap::new();
    for (k, v) in &f.vars {
        raw.insert(
            k.clone(),
            (v.value.clone(), Some(Pos::from_loc(&v.referenced))),
        );
    }
    if let Some(p) = profile {
        for (k, v) in &p.vars {
            raw.insert(
                k.clone(),
                (v.value.clone(), Some(Pos::from_loc(&v.referenced))),
            );
        }
        for (list, out) in [
            (&p.resolve, &mut plan.resolve),
            (&p.fallback_resolve, &mut plan.fallback_resolve),
        ] {
            for r in list {
                match ResolveRule::parse(r) {
                    Ok(rule) => out.push(rule),
                    Err(e) => diags.push(suite.diag(None, e)),
                }
            }
        }
        for r in &p.connect_to {
            match ConnectRule::parse(r) {
                Ok(rule) => plan.connect_to.push(rule),
                Err(e) => diags.push(suite.diag(None, e)),
            }
        }
        for d in &p.dns_servers {
            match parse_dns_server(d) {
                Ok(sa) if !plan.dns_servers.contains(&sa) => plan.dns_servers.push(sa),
                Ok(_) => {}
                Err(e) => diags.push(suite.diag(None, e)),
            }
        }
    }
    let mut vars: HashMap<String, String> = HashMap::new();
    for (k, v) in opts.vars.iter().chain(opts.secrets.iter()) {
        vars.insert(k.clone(), v.clone());
        raw.remove(k);
    }
    let scope_env = Scope {
        vars: Default::default(),
        env: plan.env.clone(),
        run_id: plan.run_id.clone(),
        lenient_env: opts.allow_missing_env,
    };
    resolve_vars(suite, raw, &mut vars, &scope_env, &mut diags);
    for name in &f.secrets {
        match vars.get(name) {
            Some(v) => plan.redactor.add(v),
            None => {
                diags.push(suite.diag(None, format!("secret `{name}` is not a defined variable")))
            }
        }
    }
    plan.suites.push(SuiteInfo {
        name: match (&profile_name, several) {
            (Some(p), true) => format!("{} [{p}]", f.name),
            _ => f.name.clone(),
        },
        path: suite.path.clone(),
        profile: profile_name,
    });
    let first_case = plan.cases.len();
    // Grown a suite at a time, exactly: doubling would leave up to half of a large plan's
    // case table unused.
    plan.cases.reserve_exact(f.cases.len());
    // Cases without a matrix share one map of the suite's variables.
    let shared_vars = std::sync::Arc::new(vars.clone());
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    let mut seen_names = HashSet::new();
    for case in &f.cases {
        let pos = Pos::from_loc(&case.referenced);
        let def = &case.value;
        for combo in expand_matrix(&def.matrix) {
            let case_vars = if combo.is_empty() {
                shared_vars.clone()
            } else {
                let mut v = vars.clone();
                v.extend(combo.iter().cloned());
                std::sync::Arc::new(v)
            };
            let name = case_name(def, &combo, &case_vars, &scope_env);
            if !seen_names.insert(name.clone()) {
                diags.push(suite.diag(Some(pos), format!("duplicate case name `{name}`")));
                continue;
            }
            let mut needs = Vec::new();
            for n in &def.needs {
                match by_name.get(n) {
                    Some(ids) => needs.extend(ids.iter().copied()),
                    None => diags.push(suite.diag(
                        Some(pos),
                        format!("case `{name}` needs `{n}`, which is not a case defined earlier in this suite"),
                    )),
                }
            }
            let env_check = (!opts.allow_missing_env).then_some(&opts.env);
            match plan_steps(suite, def, pos, &case_vars, env_check, schemas) {
                Ok(steps) => {
                    let index = plan.cases.len();
                    by_name.entry(def.name.clone()).or_default().push(index);
                    if name != def.name {
                        by_name.entry(name.clone()).or_default().push(index);
                    }
                    let mut tags = f.tags.clone();
                    tags.extend(def.tags.iter().cloned());
                    plan.cases.push(PlannedCase {
                        index,
                        suite: si,
                        name,
                        tags,
                        severity: def.severity,
                        needs,
                        steps,
                        vars: case_vars,
                        pos,
                    });
                }
                Err(d) => diags.extend(d),
            }
        }
    }
    if plan.cases.len() == first_case && diags.is_empty() {
        diags.push(suite.diag(None, format!("suite `{}` has no cases", f.name)));
    }
    if diags.is_empty() {
        Ok(())
    } else {
        Err(diags)
    }
}

/// Resolve suite variables, which may reference each other, the environment and generators.
fn resolve_vars(
    suite: &LoadedSuite,
    mut raw: BTreeMap<String, (String, Option<Pos>)>,
    vars: &mut HashMap<String, String>,
    env: &Scope,
    diags: &mut Vec<Diagnostic>,
) {
    loop {
        let mut progressed = false;
        let keys: Vec<String> = raw.keys().cloned().collect();
        for k in keys {
            let (text, pos) = raw[&k].clone();
            let t = match Template::parse(&text) {
                Ok(t) => t,
                Err(e) => {
                    diags.push(suite.diag(pos, format!("in variable `{k}`: {e}")));
                    raw.remove(&k);
                    continue;
                }
            };
            if t.vars().all(|v| vars.contains_key(v)) {
                let scope = Scope {
                    vars: std::sync::Arc::new(vars.clone()),
                    ..env.clone()
                };
                match t.render(&scope) {
                    Ok(v) => {
                        vars.insert(k.clone(), v);
                    }
                    Err(e) => diags.push(suite.diag(pos, format!("in variable `{k}`: {e}"))),
                }
                raw.remove(&k);
                progressed = true;
            }
        }
        if raw.is_empty() {
            return;
        }
        if !progressed {
            for (k, (text, pos)) in raw {
                let missing: Vec<String> = Template::parse(&text)
                    .map(|t| {
                        t.vars()
                            .filter(|v| !vars.contains_key(*v))
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default();
                diags.push(suite.diag(
                    pos,
                    format!(
                        "in variable `{k}`: undefined variable `{}` (or a cycle)",
                        missing.join("`, `")
                    ),
                ));
            }
            return;
        }
    }
}

fn expand_matrix(m: &BTreeMap<String, Vec<String>>) -> Vec<Vec<(String, String)>> {
    let mut combos: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for (k, values) in m {
        let mut next = Vec::new();
        for c in &combos {
            for v in values {
                let mut c2 = c.clone();
                c2.push((k.clone(), v.clone()));
                next.push(c2);
            }
        }
        combos = next;
    }
    combos
}

fn case_name(
    def: &CaseDef,
    combo: &[(String, String)],
    vars: &HashMap<String, String>,
    env: &Scope,
) -> String {
    if combo.is_empty() {
        return def.name.clone();
    }
    let scope = Scope {
        vars: std::sync::Arc::new(vars.clone()),
        ..env.clone()
    };
    match Template::parse(&def.name).and_then(|t| t.render(&scope)) {
        Ok(n) if n != def.name => n,
        _ => {
            let tags: Vec<String> = combo.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("{} [{}]", def.name, tags.join(", "))
        }
    }
}

fn plan_steps(
    suite: &LoadedSuite,
    def: &CaseDef,
    case_pos: Pos,
    vars: &HashMap<String, String>,
    env: Option<&HashMap<String, String>>,
    schemas: &mut SchemaCache,
) -> Result<Vec<PlannedStep>, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    if let Some(dns) = &def.dns {
        return plan_dns_step(suite, def, dns, vars, env);
    }
    let single = def.request.is_some();
    if single && !def.steps.is_empty() {
        return Err(vec![suite.diag(
            Some(case_pos),
            format!(
                "case `{}` has both `request` and `steps`; use one form",
                def.name
            ),
        )]);
    }
    if !single && def.steps.is_empty() {
        return Err(vec![suite.diag(
            Some(case_pos),
            format!("case `{}` needs a `request` or a list of `steps`", def.name),
        )]);
    }
    if !single && (def.retry.is_some() || def.wait_until.is_some()) {
        return Err(vec![suite.diag(
            Some(case_pos),
            format!(
                "case `{}` uses `steps`: put `retry` and `wait_until` inside each step",
                def.name
            ),
        )]);
    }
    if !single && (def.expect.is_some() || !def.capture.is_empty()) {
        return Err(vec![suite.diag(
            Some(case_pos),
            format!(
                "case `{}` uses `steps`: put `expect` and `capture` inside each step",
                def.name
            ),
        )]);
    }
    type Parts<'a> = (
        String,
        &'a serde_saphyr::Spanned<RequestDef>,
        Option<&'a serde_saphyr::Spanned<crate::suite::model::ExpectDef>>,
        &'a BTreeMap<String, serde_saphyr::Spanned<CaptureDef>>,
        Option<&'a RetryDef>,
        Option<&'a WaitDef>,
    );
    let parts: Vec<Parts> = if let Some(req) = &def.request {
        vec![(
            def.name.clone(),
            req,
            def.expect.as_ref(),
            &def.capture,
            def.retry.as_ref(),
            def.wait_until.as_ref(),
        )]
    } else {
        def.steps
            .iter()
            .map(|s| {
                let s = &s.value;
                (
                    s.name.clone(),
                    &s.request,
                    s.expect.as_ref(),
                    &s.capture,
                    s.retry.as_ref(),
                    s.wait_until.as_ref(),
                )
            })
            .collect()
    };
    let mut known: HashSet<String> = vars.keys().cloned().collect();
    // Sized exactly: a first push would reserve room for four steps, and a run holds one
    // of these per case.
    let mut steps = Vec::with_capacity(parts.len());
    for (name, req, expect, captures, retry, wait) in parts {
        let pos = Pos::from_loc(&req.referenced);
        let r = &req.value;
        let epos = expect.map(|e| Pos::from_loc(&e.referenced));
        // Static template check: every variable is known before the step runs.
        let mut texts: Vec<(&str, String)> =
            vec![("url", r.url.clone()), ("method", r.method.clone())];
        for (k, v) in r
            .headers
            .iter()
            .chain(r.query.iter())
            .chain(suite.file.defaults.headers.iter())
        {
            texts.push(("header or query", k.clone()));
            texts.push(("header or query", v.clone()));
        }
        if let Some(j) = &r.json {
            let mut s = Vec::new();
            json_strings(j, &mut s);
            texts.extend(s.into_iter().map(|x| ("json body", x)));
        }
        if let Some(b) = &r.body {
            texts.push(("body", b.clone()));
        }
        if let Some(f) = &r.form {
            texts.extend(f.values().map(|v| ("form body", v.clone())));
        }
        let compiled =
            CompiledExpect::compile(expect.map(|e| &e.value), epos, schemas, suite.dir());
        let expect = match compiled {
            Ok(c) => {
                for t in c.headers.iter().flat_map(|h| h.templates()) {
                    check_template(suite, t, "expectation", epos, &known, env, &mut diags);
                }
                if let Some(b) = &c.body {
                    for t in b.templates() {
                        check_template(suite, t, "expectation", epos, &known, env, &mut diags);
                    }
                }
                for j in &c.jsonpath {
                    for s in j.template_strings() {
                        texts.push(("expectation", s));
                    }
                }
                Some(c)
            }
            Err((p, e)) => {
                diags.push(suite.diag(p, e));
                None
            }
        };
        for (what, text) in &texts {
            match Template::parse(text) {
                Ok(t) => check_template(suite, &t, what, Some(pos), &known, env, &mut diags),
                Err(e) => diags.push(suite.diag(Some(pos), format!("in {what}: {e}"))),
            }
        }
        if !r.method.contains("${") && r.method.parse::<reqwest::Method>().is_err() {
            diags.push(suite.diag(Some(pos), format!("invalid HTTP method `{}`", r.method)));
        }
        let bodies = [r.json.is_some(), r.body.is_some(), r.form.is_some()]
            .iter()
            .filter(|b| **b)
            .count();
        if bodies > 1 {
            diags.push(suite.diag(Some(pos), "a request takes one of `json`, `body` or `form`"));
        }
        let mut planned_captures = Vec::new();
        for (cname, c) in captures {
            let cpos = Pos::from_loc(&c.referenced);
            let c = &c.value;
            let sources = [c.jsonpath.is_some(), c.header.is_some(), c.regex.is_some()]
                .iter()
                .filter(|b| **b)
                .count();
            if sources != 1 {
                diags.push(suite.diag(
                    Some(cpos),
                    format!(
                        "capture `{cname}` needs exactly one of `jsonpath`, `header` or `regex`"
                    ),
                ));
                continue;
            }
            let path = match &c.jsonpath {
                Some(p) => match crate::expect::jsonpath::parse_path(p) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        diags.push(suite.diag(Some(cpos), e));
                        continue;
                    }
                },
                None => None,
            };
            let regex = match &c.regex {
                Some(r) => match regex::Regex::new(r) {
                    Ok(r) => Some(r),
                    Err(e) => {
                        diags.push(suite.diag(Some(cpos), format!("invalid capture regex: {e}")));
                        continue;
                    }
                },
                None => None,
            };
            planned_captures.push(PlannedCapture {
                name: cname.clone(),
                def: c.clone(),
                path,
                regex,
            });
        }
        for c in &planned_captures {
            known.insert(c.name.clone());
        }
        let retry = retry
            .or(suite.file.defaults.retry.as_ref())
            .map(|r| RetryPolicy {
                attempts: r.attempts.max(1),
                interval: r.interval.map(|d| d.0).unwrap_or(Duration::from_secs(1)),
                backoff: r.backoff.unwrap_or(1.0).max(1.0),
            });
        let wait = wait.map(|w| WaitPolicy {
            timeout: w.timeout.0,
            interval: w.interval.map(|d| d.0).unwrap_or(Duration::from_secs(2)),
        });
        let mut request = r.clone();
        for (k, v) in &suite.file.defaults.headers {
            if !request.headers.keys().any(|h| h.eq_ignore_ascii_case(k)) {
                request.headers.insert(k.clone(), v.clone());
            }
        }
        if request.timeout.is_none() {
            request.timeout = suite.file.defaults.timeout;
        }
        if let Some(expect) = expect {
            steps.push(PlannedStep {
                name,
                request,
                pos,
                expect,
                captures: planned_captures,
                retry,
                wait,
                dns: None,
            });
        }
    }
    if diags.is_empty() {
        Ok(steps)
    } else {
        Err(diags)
    }
}

fn check_template(
    suite: &LoadedSuite,
    t: &Template,
    what: &str,
    pos: Option<Pos>,
    known: &HashSet<String>,
    env: Option<&HashMap<String, String>>,
    diags: &mut Vec<Diagnostic>,
) {
    for v in t.vars() {
        if !known.contains(v) {
            let mut names: Vec<&str> = known.iter().map(String::as_str).collect();
            names.sort_unstable();
            diags.push(suite.diag(
                pos,
                format!(
                    "undefined variable `{v}` in {what} (defined here: {})",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ),
            ));
        }
    }
    let Some(env) = env else { return };
    for e in t.required_env() {
        if !env.contains_key(e) {
            diags.push(suite.diag(
                pos,
                format!("environment variable `{e}` is not set (use `${{env.{e}:-default}}` for a default)"),
            ));
        }
    }
}

fn apply_filters(plan: &mut Plan, opts: &PlanOptions) {
    let keep: Vec<bool> = plan
        .cases
        .iter()
        .map(|c| {
            let full = format!("{}/{}", plan.suites[c.suite].name, c.name);
            let name_ok =
                opts.names.is_empty() || opts.names.iter().any(|n| full.contains(n.as_str()));
            let tag_ok = opts.tags.is_empty() || c.tags.iter().any(|t| opts.tags.contains(t));
            let skip = c.tags.iter().any(|t| opts.skip_tags.contains(t));
            name_ok && tag_ok && !skip
        })
        .collect();
    if keep.iter().all(|k| *k) {
        return;
    }
    retain_cases(plan, &keep);
}

/// Keep the cases marked in `keep`, renumbered, with `needs` pointing at the new numbers (a
/// dropped prerequisite is dropped from `needs`).
fn retain_cases(plan: &mut Plan, keep: &[bool]) {
    let mut remap = vec![None; plan.cases.len()];
    let mut next = 0;
    for (i, k) in keep.iter().enumerate() {
        if *k {
            remap[i] = Some(next);
            next += 1;
        }
    }
    let cases = std::mem::take(&mut plan.cases);
    for (i, mut c) in cases.into_iter().enumerate() {
        if let Some(new) = remap[i] {
            c.index = new;
            c.needs = c.needs.iter().filter_map(|n| remap[*n]).collect();
            plan.cases.push(c);
        }
    }
}

/// A DNS check case: one step that asks DNS; `request` is a placeholder never sent.
fn plan_dns_step(
    suite: &LoadedSuite,
    def: &CaseDef,
    dns: &serde_saphyr::Spanned<crate::suite::model::DnsCheckDef>,
    vars: &HashMap<String, String>,
    env: Option<&HashMap<String, String>>,
) -> Result<Vec<PlannedStep>, Vec<Diagnostic>> {
    let pos = Pos::from_loc(&dns.referenced);
    let mut diags = Vec::new();
    if def.request.is_some()
        || !def.steps.is_empty()
        || def.expect.is_some()
        || !def.capture.is_empty()
    {
        return Err(vec![suite.diag(
            Some(pos),
            format!(
                "case `{}` is a DNS check: put its expectations under `dns.expect` (no `request`, `steps`, `expect` or `capture`)",
                def.name
            ),
        )]);
    }
    let check = match DnsCheck::compile(&dns.value, Some(pos)) {
        Ok(c) => c,
        Err(e) => return Err(vec![suite.diag(Some(pos), e)]),
    };
    let known: HashSet<String> = vars.keys().cloned().collect();
    for text in check.templates() {
        match Template::parse(&text) {
            Ok(t) => check_template(suite, &t, "dns check", Some(pos), &known, env, &mut diags),
            Err(e) => diags.push(suite.diag(Some(pos), format!("in dns check: {e}"))),
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    let request: RequestDef =
        serde_json::from_value(serde_json::json!({ "url": format!("dns:{}", check.name) }))
            .map_err(|e| vec![suite.diag(Some(pos), e.to_string())])?;
    let retry = def
        .retry
        .as_ref()
        .or(suite.file.defaults.retry.as_ref())
        .map(|r| RetryPolicy {
            attempts: r.attempts.max(1),
            interval: r.interval.map(|d| d.0).unwrap_or(Duration::from_secs(1)),
            backoff: r.backoff.unwrap_or(1.0).max(1.0),
        });
    let wait = def.wait_until.as_ref().map(|w| WaitPolicy {
        timeout: w.timeout.0,
        interval: w.interval.map(|d| d.0).unwrap_or(Duration::from_secs(2)),
    });
    Ok(vec![PlannedStep {
        name: def.name.clone(),
        request,
        pos,
        expect: CompiledExpect::default(),
        captures: Vec::new(),
        retry,
        wait,
        dns: Some(Box::new(check)),
    }])
}

/// Keep only shard `index` (1-based) of `count`: a deterministic slice of the plan.
///
/// Cases linked by `needs` (directly or through others) form a group that always lands in
/// one shard, so a prerequisite runs beside its dependents. Groups are taken in plan order
/// (suite files in the order loaded, which is sorted, then case order) and each goes to
/// the shard with the fewest cases so far (the lowest-numbered on a tie). Every shard must
/// be given the same suites, profile and filters so that all shards agree on the plan.
pub fn shard(plan: &mut Plan, index: usize, count: usize) {
    let n = plan.cases.len();
    if count <= 1 || n == 0 {
        return;
    }
    // Union-find over `needs`.
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (i, c) in plan.cases.iter().enumerate() {
        for &d in &c.needs {
            let (a, b) = (root(&mut parent, i), root(&mut parent, d));
            if a != b {
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    // Groups in order of their first case; each to the least-loaded shard.
    let mut group_shard: HashMap<usize, usize> = HashMap::new();
    let mut group_size: HashMap<usize, usize> = HashMap::new();
    for i in 0..n {
        *group_size.entry(root(&mut parent, i)).or_default() += 1;
    }
    let mut load = vec![0usize; count];
    let mut keep = vec![false; n];
    for (i, k) in keep.iter_mut().enumerate() {
        let g = root(&mut parent, i);
        let s = *group_shard.entry(g).or_insert_with(|| {
            let s = (0..count).min_by_key(|&s| (load[s], s)).unwrap_or(0);
            load[s] += group_size[&g];
            s
        });
        *k = s + 1 == index;
    }
    retain_cases(plan, &keep);
}

#[cfg(test)]
mod https_tests {
    use super::*;
    use crate::suite::load::parse_suite;

    fn plan(yaml: &str) -> Plan {
        let s = parse_suite(std::path::Path::new("s.yaml"), yaml.to_string()).unwrap();
        build(&[s], &PlanOptions::default()).unwrap()
    }

    #[test]
    fn https_is_foreseen_from_urls_variables_captures_and_tls_checks() {
        let http = "name: s\nvars: {base: 'http://x.test'}\ncases:\n  - name: a\n    request: {url: '${base}/h'}\n";
        assert_eq!(plan(http).https_use(), HttpsUse::No);
        assert_eq!(
            plan(&http.replace("http://x", "HTTPS://x")).https_use(),
            HttpsUse::Yes
        );
        let redirected = http.replace(
            "url: '${base}/h'}",
            "url: '${base}/h', follow_redirects: true}",
        );
        assert_eq!(plan(&redirected).https_use(), HttpsUse::Maybe);
        let tls = "name: s\ncases:\n  - name: a\n    request: {url: 'http://x.test/'}\n    expect: {tls: {min_days_valid: 3}}\n";
        assert_eq!(plan(tls).https_use(), HttpsUse::Yes);
        let captured = "name: s\ncases:\n  - name: a\n    steps:\n      - name: one\n        request: {url: 'http://x.test/'}\n        capture: {next: {jsonpath: '$.next'}}\n      - name: two\n        request: {url: '${next}'}\n";
        assert_eq!(plan(captured).https_use(), HttpsUse::Maybe);
        let known_scheme = captured.replace("url: '${next}'", "url: 'http://x.test/${next}'");
        assert_eq!(plan(&known_scheme).https_use(), HttpsUse::No);
        let https_prefix = captured.replace("url: '${next}'", "url: 'https://x.test/${next}'");
        assert_eq!(plan(&https_prefix).https_use(), HttpsUse::Yes);
    }
}
