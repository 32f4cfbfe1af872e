//! Planning one suite with one profile: network rules of the profile, variables, secrets,
//! then each case (matrix expansions, `needs`, steps).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;

use super::step::StepCompiler;
use super::vars::{self, RawVar, Resolved};
use super::{Plan, PlanOptions, PlannedCase, SuiteInfo};
use crate::expect::SchemaCache;
use crate::http::{parse_dns_server, ConnectRule, ResolveRule};
use crate::interp::{value_text, Scope};
use crate::suite::model::CaseDef;
use crate::suite::{Diagnostic, LoadedSuite, Pos};

/// The profiles a suite runs with: none for a suite without profiles, else the `--env`
/// selection (comma-separated for several environments in one run) or `default_profile`.
pub fn select_profiles(
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

/// Plans one suite into the shared plan, collecting every problem.
pub struct SuitePlanner<'p> {
    pub suite: &'p LoadedSuite,
    pub opts: &'p PlanOptions,
    pub plan: &'p mut Plan,
    pub schemas: &'p mut SchemaCache,
    pub diags: &'p mut Vec<Diagnostic>,
    /// Bytes of variables held by the matrix expansions planned so far, in the whole run.
    pub held: &'p mut usize,
}

impl SuitePlanner<'_> {
    fn diag(&mut self, pos: Option<Pos>, message: impl Into<String>) {
        let d = self.suite.diag(pos, message);
        self.diags.push(d);
    }

    /// Plan the suite with `profile_name`.
    pub fn plan_suite(&mut self, profile_name: Option<String>, several: bool) {
        let f = &self.suite.file;
        let before = self.diags.len();
        self.profile_network(profile_name.as_deref());
        let scope_env = Scope {
            vars: Default::default(),
            texts: Default::default(),
            env: self.plan.env.clone(),
            run_id: self.plan.run_id.clone(),
            lenient_env: self.opts.allow_missing_env,
        };
        let resolved = self.variables(profile_name.as_deref(), &scope_env);
        self.plan.suites.push(SuiteInfo {
            name: match (&profile_name, several) {
                (Some(p), true) => format!("{} [{p}]", f.name),
                _ => f.name.clone(),
            },
            path: self.suite.path.clone(),
            profile: profile_name,
        });
        let si = self.plan.suites.len() - 1;
        // Grown a suite at a time, exactly: doubling would leave up to half of a large
        // plan's case table unused.
        self.plan.cases.reserve_exact(f.cases.len());
        let planned = self.plan_cases(si, &resolved, &scope_env);
        if planned == 0 && self.diags.len() == before {
            self.diag(None, format!("suite `{}` has no cases", f.name));
        }
    }

    /// `resolve`, `fallback_resolve`, `connect_to` and `dns_servers` of the profile.
    fn profile_network(&mut self, profile: Option<&str>) {
        let Some(p) = profile.and_then(|p| self.suite.file.profiles.get(p)) else {
            return;
        };
        let mut errors = Vec::new();
        for (list, out) in [
            (&p.resolve, &mut self.plan.resolve),
            (&p.fallback_resolve, &mut self.plan.fallback_resolve),
        ] {
            for r in list {
                match ResolveRule::parse(r) {
                    Ok(rule) => out.push(rule),
                    Err(e) => errors.push(e.to_string()),
                }
            }
        }
        for r in &p.connect_to {
            match ConnectRule::parse(r) {
                Ok(rule) => self.plan.connect_to.push(rule),
                Err(e) => errors.push(e.to_string()),
            }
        }
        for d in &p.dns_servers {
            match parse_dns_server(d) {
                Ok(sa) if !self.plan.dns_servers.contains(&sa) => self.plan.dns_servers.push(sa),
                Ok(_) => {}
                Err(e) => errors.push(e.to_string()),
            }
        }
        for e in errors {
            self.diag(None, e);
        }
    }

    /// Variables: suite < profile < `--var` / `--secret`; secrets registered for redaction.
    fn variables(&mut self, profile: Option<&str>, scope_env: &Scope) -> Resolved {
        let f = &self.suite.file;
        let mut raw: BTreeMap<String, RawVar> = BTreeMap::new();
        let profile_vars = profile
            .and_then(|p| f.profiles.get(p))
            .map(|p| &p.vars)
            .into_iter()
            .flatten();
        for (k, v) in f.vars.iter().chain(profile_vars) {
            let var = RawVar {
                value: v.value.clone(),
                pos: Some(Pos::from_loc(&v.referenced)),
                text: self.suite.scalar_text(&v.referenced, &v.value),
            };
            raw.insert(k.clone(), var);
        }
        let fixed: Vec<(String, String)> = self
            .opts
            .vars
            .iter()
            .chain(self.opts.secrets.iter())
            .cloned()
            .collect();
        // Variables that pass a secret through a filter (`${password | sha256}`) are secrets.
        let derived = crate::interp::filters::derived_secrets(
            raw.iter()
                .filter_map(|(k, v)| v.value.as_str().map(|t| (k.as_str(), t))),
            f.secrets
                .iter()
                .map(String::as_str)
                .chain(self.opts.secrets.iter().map(|(k, _)| k.as_str())),
        );
        let (resolved, errors) = vars::resolve(raw, &fixed, scope_env);
        for e in errors {
            self.diag(e.pos, e.message);
        }
        for name in &f.secrets {
            match resolved.values.get(name) {
                Some(Value::Null) if resolved.opaque.contains(name) => {}
                Some(v) => {
                    if let Err(e) = self.plan.redactor.add(&value_text(v)) {
                        let pos = self.var_pos(name);
                        self.diag(pos, format!("secret `{name}`: {e}"));
                    }
                    // A YAML number is interpolated as written (`pin: 0042`): mask that too.
                    if let Some(text) = resolved.texts.get(name) {
                        let _ = self.plan.redactor.add(text);
                    }
                }
                None => self.diag(None, format!("secret `{name}` is not a defined variable")),
            }
        }
        for name in &derived {
            if let Some(v) = resolved.values.get(name) {
                // Too short to mask: stays visible (documented).
                let _ = self.plan.redactor.add(&value_text(v));
            }
        }
        resolved
    }

    /// A case's matrix as texts; `None` (reported) when a value is not a text or a map of
    /// texts.
    fn matrix(
        &mut self,
        m: &BTreeMap<String, Vec<serde_saphyr::Spanned<Value>>>,
    ) -> Option<BTreeMap<String, Vec<vars::MatrixValue>>> {
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (key, values) in m {
            let mut texts = Vec::with_capacity(values.len());
            for v in values {
                let pos = Some(Pos::from_loc(&v.referenced));
                let scalar = |x: &Value| match x {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(_) | Value::Bool(_) => Some(x.to_string()),
                    _ => None,
                };
                let entry = match &v.value {
                    Value::Object(fields) => fields
                        .iter()
                        .map(|(f, x)| scalar(x).map(|t| (f.clone(), t)))
                        .collect::<Option<Vec<_>>>()
                        .filter(|f| !f.is_empty())
                        .map(vars::MatrixValue::Fields),
                    Value::Null | Value::Array(_) => None,
                    x => self
                        .suite
                        .scalar_text(&v.referenced, x)
                        .or_else(|| scalar(x))
                        .map(vars::MatrixValue::Text),
                };
                match entry {
                    Some(e) => texts.push(e),
                    None => {
                        ok = false;
                        self.diag(
                            pos,
                            format!(
                                "matrix `{key}`: a value must be a text, a number, a boolean, or a non-empty map of those (`{{host: api, name: tminus-api}}`)"
                            ),
                        );
                    }
                }
            }
            out.insert(key.clone(), texts);
        }
        let combinations = out
            .values()
            .try_fold(1usize, |n, v| n.checked_mul(v.len().max(1)));
        if ok && combinations.is_none_or(|n| n > vars::MAX_MATRIX) {
            let pos = m
                .values()
                .flat_map(|v| v.first())
                .next()
                .map(|v| Pos::from_loc(&v.referenced));
            let n = combinations.map_or_else(|| "too many".to_string(), |n| n.to_string());
            self.diag(
                pos,
                format!(
                    "the matrix has {n} combinations; the limit is {} cases per matrix (split the case, or use fewer values)",
                    vars::MAX_MATRIX
                ),
            );
            return None;
        }
        ok.then_some(out)
    }

    /// Where variable `name` is defined (the suite's, else a profile's).
    fn var_pos(&self, name: &str) -> Option<Pos> {
        let f = &self.suite.file;
        f.vars
            .get(name)
            .or_else(|| f.profiles.values().find_map(|p| p.vars.get(name)))
            .map(|v| Pos::from_loc(&v.referenced))
    }

    /// Plan every case; returns how many were planned.
    fn plan_cases(&mut self, si: usize, resolved: &Resolved, scope_env: &Scope) -> usize {
        let f = &self.suite.file;
        let mut planned = 0;
        // Cases without a matrix share one map of the suite's variables (and of their texts).
        let shared = Arc::new(resolved.values.clone());
        let shared_texts = Arc::new(resolved.texts.clone());
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        // Names of cases that exist but could not be planned: `needs` on them is not a
        // second error.
        let mut broken: HashSet<String> = HashSet::new();
        let mut seen_names = HashSet::new();
        // Cases written identically but for their names share their compiled steps: the
        // first such case's index, by its text (see `shape_key`).
        let lines: Vec<&str> = self.suite.source.lines().collect();
        let starts: Vec<u64> = f.cases.iter().map(|c| c.referenced.line()).collect();
        let mut same: HashMap<String, usize> = HashMap::new();
        let shared_bytes: usize = resolved
            .values
            .values()
            .map(|v| match v {
                Value::String(s) => s.len(),
                other => other.to_string().len(),
            })
            .sum();
        for (ci, case) in f.cases.iter().enumerate() {
            let pos = Pos::from_loc(&case.referenced);
            let def = &case.value;
            let Some(matrix) = self.matrix(&def.matrix) else {
                broken.insert(def.name.clone());
                continue;
            };
            // Each expansion keeps its own copy of the variables: bound what they add up to,
            // over the whole run.
            let combos = vars::combinations(&matrix);
            let adds = if combos > 1 {
                combos.saturating_mul(shared_bytes)
            } else {
                0
            };
            if self.held.saturating_add(adds) > vars::MAX_EXPANDED_BYTES {
                self.diag(
                    Some(pos),
                    format!(
                        "matrix cases would hold more than {} bytes of variables in all ({combos} cases × {shared_bytes} bytes here); use fewer values or smaller variables",
                        vars::MAX_EXPANDED_BYTES
                    ),
                );
                broken.insert(def.name.clone());
                continue;
            }
            *self.held += adds;
            if self.plan.cases.len().saturating_add(combos) > vars::MAX_CASES {
                self.diag(
                    Some(pos),
                    format!(
                        "more than {} cases in one run (split the suites, or select with --filter/--tag)",
                        vars::MAX_CASES
                    ),
                );
                return planned;
            }
            for combo in vars::expand_matrix(&matrix) {
                let scope = if combo.is_empty() {
                    Scope {
                        vars: shared.clone(),
                        texts: shared_texts.clone(),
                        ..scope_env.clone()
                    }
                } else {
                    let mut scope = Scope {
                        vars: shared.clone(),
                        texts: shared_texts.clone(),
                        ..scope_env.clone()
                    };
                    for (k, x) in &combo {
                        scope.set(k, Value::String(x.clone()));
                    }
                    scope
                };
                let name = vars::case_name(&def.name, &combo, &scope);
                if name.len() > vars::MAX_NAME_BYTES {
                    self.diag(
                        Some(pos),
                        format!(
                            "the case name would be {} bytes long; the limit is {} (does it render a large variable?)",
                            name.len(),
                            vars::MAX_NAME_BYTES
                        ),
                    );
                    broken.insert(def.name.clone());
                    break;
                }
                if !seen_names.insert(name.clone()) {
                    self.diag(Some(pos), format!("duplicate case name `{name}`"));
                    continue;
                }
                // Shared with the step of a single-request case (its step name).
                let name: Arc<str> = name.into();
                let needs = self.needs(def, &name, pos, &by_name, &broken);
                let key = (combo.is_empty() && def.dns.is_none() && def.samples.is_none())
                    .then(|| shape_key(&lines, &starts, ci, pos))
                    .flatten();
                if let Some(&first) = key.as_ref().and_then(|k| same.get(k)) {
                    // The steps of case `first`, shared: moved to this case's lines (and
                    // named like it) when it runs (`PlannedCase::steps`).
                    let src = &self.plan.cases[first];
                    let compiled = src.compiled.clone();
                    let line_shift = pos.line as i64 - src.pos.line as i64;
                    let index = self.plan.cases.len();
                    by_name.entry(def.name.clone()).or_default().push(index);
                    if *name != *def.name {
                        by_name.entry(name.to_string()).or_default().push(index);
                    }
                    let mut tags = f.tags.clone();
                    tags.extend(def.tags.iter().cloned());
                    self.plan.cases.push(PlannedCase {
                        index,
                        suite: si,
                        name,
                        tags: tags.into(),
                        severity: def.severity,
                        needs: needs.unwrap_or_default().into(),
                        compiled,
                        line_shift,
                        single: def.request.is_some(),
                        vars: scope.vars,
                        texts: scope.texts,
                        pos,
                        samples: None,
                    });
                    planned += 1;
                    continue;
                }
                let steps = StepCompiler {
                    suite: self.suite,
                    case_name: &name,
                    scope: &scope,
                    opaque: &resolved.opaque,
                    require_env: !self.opts.allow_missing_env,
                    schemas: self.schemas,
                    diags: self.diags,
                    profile_auth: (self.plan.suites[si].profile.as_ref())
                        .and_then(|p| f.profiles.get(p))
                        .and_then(|p| p.auth.as_ref()),
                }
                .compile_case(def, pos);
                let sampling = match super::samples::compile(self.suite, def, pos) {
                    Ok(s) => s.map(Box::new),
                    Err(d) => {
                        self.diags.extend(d);
                        broken.insert(def.name.clone());
                        broken.insert(name.to_string());
                        continue;
                    }
                };
                let Some(steps) = steps else {
                    broken.insert(def.name.clone());
                    broken.insert(name.to_string());
                    continue;
                };
                let index = self.plan.cases.len();
                by_name.entry(def.name.clone()).or_default().push(index);
                if *name != *def.name {
                    by_name.entry(name.to_string()).or_default().push(index);
                }
                let mut tags = f.tags.clone();
                tags.extend(def.tags.iter().cloned());
                self.plan.cases.push(PlannedCase {
                    index,
                    suite: si,
                    name,
                    tags: tags.into(),
                    severity: def.severity,
                    needs: needs.unwrap_or_default().into(),
                    compiled: steps.into(),
                    line_shift: 0,
                    single: def.request.is_some() || def.dns.is_some(),
                    vars: scope.vars,
                    texts: scope.texts,
                    pos,
                    samples: sampling,
                });
                if let Some(k) = key {
                    same.entry(k).or_insert(index);
                }
                planned += 1;
            }
        }
        planned
    }

    /// The indices of the cases `def` needs (`None` after an error).
    fn needs(
        &mut self,
        def: &CaseDef,
        name: &str,
        pos: Pos,
        by_name: &HashMap<String, Vec<usize>>,
        broken: &HashSet<String>,
    ) -> Option<Vec<usize>> {
        let mut needs = Vec::new();
        let mut ok = true;
        for n in &def.needs {
            match by_name.get(n) {
                Some(ids) => needs.extend(ids.iter().copied()),
                None if broken.contains(n) => ok = false,
                None => {
                    ok = false;
                    self.diag(
                        Some(pos),
                        format!(
                            "case `{name}` needs `{n}`, which is not a case defined earlier in this suite"
                        ),
                    );
                }
            }
        }
        ok.then_some(needs)
    }
}

/// The text of case `i` of a suite — its lines up to the next case's — with its `name:` line
/// blanked: two cases with the same key (same suite, same profile, no matrix) compile to the
/// same steps, but for positions and the step name of a single-request case. `None` when
/// the name's line cannot be told for sure (flow style, a name over several lines), or the
/// text uses anchors or aliases (`*a` may mean something else further down): such a case
/// is compiled on its own.
fn shape_key(lines: &[&str], starts: &[u64], i: usize, pos: Pos) -> Option<String> {
    let first = usize::try_from(starts[i]).ok()?.checked_sub(1)?;
    let end = match starts.get(i + 1) {
        Some(&next) => usize::try_from(next).ok()?.checked_sub(1)?,
        None => lines.len(),
    }
    .min(lines.len());
    if first >= end {
        return None;
    }
    let mut region = &lines[first..end];
    if region.iter().any(|l| l.contains(['&', '*'])) {
        return None;
    }
    // The case's keys start at its column; its name is the key `name:` there, after nothing
    // but indentation or the item's dash.
    let col = usize::try_from(pos.column).ok()?.checked_sub(1)?;
    // Blank lines and comments (no deeper than the case's keys) between cases are no part of
    // either — unless a block scalar keeps its trailing blank lines (`|+`).
    let keeps = region.iter().any(|l| {
        l.split_whitespace()
            .any(|w| w.len() <= 3 && w.starts_with(['|', '>']) && w.contains('+'))
    });
    while let Some((last, rest)) = region.split_last() {
        let t = last.trim_start();
        let indent = last.len() - t.len();
        if keeps || !(t.is_empty() || t.starts_with('#') && indent <= col) {
            break;
        }
        region = rest;
    }
    let k = region.iter().position(|l| {
        l.get(col..).is_some_and(|rest| rest.starts_with("name:"))
            && l.get(..col)
                .is_some_and(|lead| matches!(lead.trim(), "" | "-"))
    })?;
    // The name's value ends on its line: the next line that is not blank is not indented
    // deeper than the key (no continuation, no block scalar).
    if let Some(next) = region[k + 1..].iter().find(|l| !l.trim().is_empty()) {
        let indent = next.len() - next.trim_start_matches(' ').len();
        if indent > col {
            return None;
        }
    }
    let mut key = String::with_capacity(region.iter().map(|l| l.len() + 1).sum());
    for (j, l) in region.iter().enumerate() {
        if j != k {
            key.push_str(l);
        }
        key.push('\n');
    }
    Some(key)
}
