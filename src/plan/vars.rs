//! Variables of a suite: precedence (suite < profile < `--var`/`--secret`), references
//! between variables resolved in dependency order with their JSON types, cycles reported
//! once, and matrices expanded.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use crate::interp::{JsonTemplate, Part, Scope, Template};
use crate::suite::Pos;

/// A variable as written: its value (templates in its strings) and where.
pub struct RawVar {
    pub value: Value,
    pub pos: Option<Pos>,
    /// For a number, boolean or null: the text as written (`1.10`, `007`, `yes`).
    pub text: Option<String>,
}

/// Resolved variables of a suite.
#[derive(Debug, Default)]
pub struct Resolved {
    /// Every variable, with its JSON type. A variable that could not be resolved is
    /// present as `null`, so that its uses do not repeat the error.
    pub values: HashMap<String, Value>,
    /// Variables whose value is not known before the run: they read an unset `${env.X}`
    /// (tolerated by `validate` and `list`) or a generator, or failed to resolve.
    pub opaque: HashSet<String>,
    /// The text as written of variables whose value is a YAML number, boolean or null, or a
    /// whole reference to one: interpolated as written (see [`Scope::texts`]).
    pub texts: HashMap<String, String>,
}

/// An error of one variable.
pub struct VarError {
    pub pos: Option<Pos>,
    pub message: String,
}

/// Resolve `raw` on top of `fixed` (the `--var`/`--secret` values, which win).
pub fn resolve(
    raw: BTreeMap<String, RawVar>,
    fixed: &[(String, String)],
    env: &Scope,
) -> (Resolved, Vec<VarError>) {
    let mut out = Resolved::default();
    let mut errors = Vec::new();
    for (k, v) in fixed {
        out.values.insert(k.clone(), Value::String(v.clone()));
    }
    // Parse every variable once; a parse error is reported and the variable is opaque.
    let mut pending: BTreeMap<String, (JsonTemplate, Option<Pos>)> = BTreeMap::new();
    for (k, v) in raw {
        if out.values.contains_key(&k) {
            continue;
        }
        if let Some(text) = v.text {
            out.texts.insert(k.clone(), text);
        }
        match JsonTemplate::compile(&v.value) {
            Ok(t) => {
                pending.insert(k, (t, v.pos));
            }
            Err(e) => {
                errors.push(VarError {
                    pos: v.pos,
                    message: format!("in variable `{k}`: {e}"),
                });
                poison(&mut out, &k);
            }
        }
    }
    loop {
        resolve_ready(&mut pending, &mut out, &mut errors, env);
        if pending.is_empty() {
            break;
        }
        // A reference to a name that is not a variable: the root error. Variables that
        // read this one resolve after it (opaque) without repeating it.
        let undefined: Vec<(String, Vec<String>)> = pending
            .iter()
            .map(|(k, (t, _))| {
                let names: Vec<String> = refs(t)
                    .filter(|r| !out.values.contains_key(*r) && !pending.contains_key(*r))
                    .map(str::to_string)
                    .collect();
                (k.clone(), names)
            })
            .filter(|(_, names)| !names.is_empty())
            .collect();
        if !undefined.is_empty() {
            for (k, names) in undefined {
                let pos = pending.remove(&k).and_then(|(_, p)| p);
                errors.push(VarError {
                    pos,
                    message: format!(
                        "in variable `{k}`: undefined variable `{}`",
                        names.join("`, `")
                    ),
                });
                poison(&mut out, &k);
            }
            continue;
        }
        // Only cycles are left: report each once, from its first variable.
        let cycle = find_cycle(&pending);
        let pos = cycle
            .first()
            .and_then(|k| pending.get(k))
            .and_then(|(_, p)| *p);
        let mut path = cycle.clone();
        path.extend(cycle.first().cloned());
        errors.push(VarError {
            pos,
            message: format!(
                "in variable `{}`: a cycle of variables: `{}`",
                cycle[0],
                path.join("` → `")
            ),
        });
        for k in &cycle {
            pending.remove(k);
            poison(&mut out, k);
        }
    }
    (out, errors)
}

type Pending = BTreeMap<String, (JsonTemplate, Option<Pos>)>;

/// Most bytes one variable may expand to (a "billion laughs" of variables doubling each other
/// is stopped here, not by the machine's memory).
pub const MAX_VAR_BYTES: usize = 1 << 20;

/// Evaluate every pending variable whose references are all resolved, in dependency order
/// (Kahn's algorithm: linear in the variables and references, however long a chain is).
fn resolve_ready(
    pending: &mut Pending,
    out: &mut Resolved,
    errors: &mut Vec<VarError>,
    env: &Scope,
) {
    // For each pending variable: how many pending variables it still waits for; for each
    // name, who waits for it. A reference to an unknown name keeps it waiting (reported by
    // the caller).
    let mut waiting: BTreeMap<String, usize> = BTreeMap::new();
    let mut waiters: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, (t, _)) in pending.iter() {
        let mut n = 0;
        let mut seen = std::collections::BTreeSet::new();
        for r in refs(t) {
            if !seen.insert(r) || out.values.contains_key(r) {
                continue;
            }
            n += 1;
            if r != k.as_str() {
                waiters.entry(r.to_string()).or_default().push(k.clone());
            }
        }
        waiting.insert(k.clone(), n);
    }
    let mut ready: Vec<String> = waiting
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(k, _)| k.clone())
        .collect();
    let mut scope = Scope {
        vars: std::sync::Arc::new(out.values.clone()),
        texts: std::sync::Arc::new(out.texts.clone()),
        ..env.clone()
    };
    while let Some(k) = ready.pop() {
        let Some((t, pos)) = pending.remove(&k) else {
            continue;
        };
        evaluate(&k, &t, pos, out, errors, &scope, env);
        if let Some(v) = out.values.get(&k) {
            std::sync::Arc::make_mut(&mut scope.vars).insert(k.clone(), v.clone());
        }
        if let Some(text) = out.texts.get(&k) {
            std::sync::Arc::make_mut(&mut scope.texts).insert(k.clone(), text.clone());
        }
        for w in waiters.remove(&k).unwrap_or_default() {
            if let Some(n) = waiting.get_mut(&w) {
                *n -= 1;
                if *n == 0 {
                    ready.push(w);
                }
            }
        }
    }
}

/// Evaluate one variable whose references are all resolved.
fn evaluate(
    k: &str,
    t: &JsonTemplate,
    pos: Option<Pos>,
    out: &mut Resolved,
    errors: &mut Vec<VarError>,
    scope: &Scope,
    env: &Scope,
) {
    // A whole reference to a variable written as a YAML scalar keeps its text too.
    if let JsonTemplate::Str(Template { parts }) = t {
        if let [Part::Var(r)] = parts.as_slice() {
            if let Some(text) = out.texts.get(r).cloned() {
                out.texts.insert(k.to_string(), text);
            }
        }
    }
    let opaque = refs(t).any(|r| out.opaque.contains(r)) || reads_unknown(t, env);
    let fail = |errors: &mut Vec<VarError>, out: &mut Resolved, message: String| {
        errors.push(VarError { pos, message });
        poison(out, k);
    };
    if let Some(n) = expanded_size(t, scope).filter(|n| *n > MAX_VAR_BYTES) {
        let message = format!(
            "in variable `{k}`: it would expand to {n} bytes, more than the limit of {MAX_VAR_BYTES} (variables that repeat each other grow exponentially)"
        );
        return fail(errors, out, message);
    }
    match t.eval(scope) {
        Ok(v) => {
            out.values.insert(k.to_string(), v);
            if opaque {
                out.opaque.insert(k.to_string());
            }
        }
        Err(e) => fail(errors, out, format!("in variable `{k}`: {e}")),
    }
}

/// How many bytes a value's templates would expand to, counted without expanding them
/// (`None` when a referenced value is not known).
fn expanded_size(t: &JsonTemplate, scope: &Scope) -> Option<usize> {
    let mut total = 0usize;
    for tpl in t.templates() {
        for p in &tpl.parts {
            let n = match p {
                Part::Lit(l) => l.len(),
                Part::Var(r) => match scope.vars.get(r.as_str())? {
                    Value::String(s) => s.len(),
                    other => other.to_string().len(),
                },
                _ => 64,
            };
            total = total.saturating_add(n);
        }
    }
    Some(total)
}

/// A cycle among pending variables that each reference only pending ones.
fn find_cycle(pending: &Pending) -> Vec<String> {
    let Some(start) = pending.keys().next() else {
        return Vec::new();
    };
    let mut path = vec![start.clone()];
    loop {
        let cur = &path[path.len() - 1];
        let next = pending
            .get(cur)
            .and_then(|(t, _)| refs(t).find(|r| pending.contains_key(*r)))
            .map(str::to_string);
        match next {
            Some(n) => match path.iter().position(|p| *p == n) {
                Some(i) => return path.split_off(i),
                None => path.push(n),
            },
            None => return path,
        }
    }
}

fn poison(out: &mut Resolved, k: &str) {
    out.values.insert(k.to_string(), Value::Null);
    out.opaque.insert(k.to_string());
}

/// The variables a value references.
fn refs(t: &JsonTemplate) -> impl Iterator<Item = &str> {
    t.templates().into_iter().flat_map(Template::vars)
}

/// True when the value reads an unset `${env.X}` (without a default, or with one in a lenient
/// scope, where the deployment's environment may set it) or a generator: its value is not
/// the one the run will see.
fn reads_unknown(t: &JsonTemplate, env: &Scope) -> bool {
    t.templates().into_iter().any(|tpl| {
        tpl.parts.iter().any(|p| match p.source() {
            Part::Env(e) => {
                !env.env.contains_key(&e.name) && (e.default.is_none() || env.lenient_env)
            }
            Part::Gen(_) => true,
            _ => false,
        })
    })
}

/// Most cases one matrix may expand to.
pub const MAX_MATRIX: usize = 10_000;
/// Most cases in one run.
pub const MAX_CASES: usize = 100_000;
/// Longest case name, in bytes.
pub const MAX_NAME_BYTES: usize = 1024;
/// Most bytes of variables all the expansions of one matrix may hold together.
pub const MAX_EXPANDED_BYTES: usize = 256 << 20;

/// How many cases a matrix expands to (saturating).
pub fn combinations(m: &BTreeMap<String, Vec<MatrixValue>>) -> usize {
    m.values()
        .fold(1usize, |n, v| n.saturating_mul(v.len().max(1)))
}

/// One value of a matrix key: a text, or named texts (`key.field` variables).
#[derive(Debug, Clone, PartialEq)]
pub enum MatrixValue {
    /// `worker: [api, oauth]`: the variable `worker`.
    Text(String),
    /// `worker: [{host: api, name: tminus-api}]`: the variables `worker.host`, `worker.name`.
    Fields(Vec<(String, String)>),
}

/// Every combination of a matrix (one empty combination without a matrix), as the
/// variables each one sets.
pub fn expand_matrix(m: &BTreeMap<String, Vec<MatrixValue>>) -> Vec<Vec<(String, String)>> {
    let mut combos: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for (k, values) in m {
        let mut next = Vec::new();
        for c in &combos {
            for v in values {
                let mut c2 = c.clone();
                match v {
                    MatrixValue::Text(t) => c2.push((k.clone(), t.clone())),
                    MatrixValue::Fields(fields) => {
                        c2.extend(fields.iter().map(|(f, t)| (format!("{k}.{f}"), t.clone())))
                    }
                }
                next.push(c2);
            }
        }
        combos = next;
    }
    combos
}

/// The matrix key a matrix variable belongs to (`worker.host` → `worker`).
fn matrix_key(var: &str) -> &str {
    var.split('.').next().unwrap_or(var)
}

/// The name of one matrix expansion: the name rendered with its values, followed by the
/// values of the matrix keys it does not use (`users health [region=eu]`), so that every
/// expansion has a name of its own; the name with every value appended when it uses none.
pub fn case_name(name: &str, combo: &[(String, String)], scope: &Scope) -> String {
    if combo.is_empty() {
        return name.to_string();
    }
    let template = Template::parse(name).ok();
    let used: Vec<&str> = template.iter().flat_map(|t| t.vars()).collect();
    let rendered = template
        .as_ref()
        .and_then(|t| t.render(scope).ok())
        .unwrap_or_else(|| name.to_string());
    // A key is used when the name reads it, or any field of it.
    let unused: Vec<String> = combo
        .iter()
        .filter(|(k, _)| !used.iter().any(|u| matrix_key(u) == matrix_key(k)))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if unused.is_empty() {
        rendered
    } else {
        format!("{rendered} [{}]", unused.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw(pairs: &[(&str, Value)]) -> BTreeMap<String, RawVar> {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    RawVar {
                        value: v.clone(),
                        pos: None,
                        text: None,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn values_keep_their_types_through_references() {
        let (r, errors) = resolve(
            raw(&[
                ("five", json!(5)),
                ("copy", json!("${five}")),
                ("text", json!("n=${five}")),
                ("obj", json!({"n": "${copy}", "flag": true})),
            ]),
            &[],
            &Scope::default(),
        );
        assert!(errors.is_empty());
        assert_eq!(r.values["copy"], json!(5));
        assert_eq!(r.values["text"], json!("n=5"));
        assert_eq!(r.values["obj"], json!({"n": 5, "flag": true}));
    }

    #[test]
    fn command_line_values_win_and_stay_strings() {
        let (r, _) = resolve(
            raw(&[("a", json!(1)), ("b", json!("${a}"))]),
            &[("a".into(), "2".into())],
            &Scope::default(),
        );
        assert_eq!(r.values["a"], json!("2"));
        assert_eq!(r.values["b"], json!("2"));
    }

    #[test]
    fn cycles_and_undefined_names_are_each_reported_once_without_cascades() {
        let (r, errors) = resolve(
            raw(&[
                ("a", json!("${b}")),
                ("b", json!("${a}")),
                ("c", json!("${nope}/x")),
                ("d", json!("${c}/y")),
                ("e", json!("${e}")),
            ]),
            &[],
            &Scope::default(),
        );
        let msgs: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        // `d` reads `c`, whose error is the root: `d` is not reported again.
        assert_eq!(
            msgs,
            [
                "in variable `c`: undefined variable `nope`",
                "in variable `a`: a cycle of variables: `a` → `b` → `a`",
                "in variable `e`: a cycle of variables: `e` → `e`",
            ]
        );
        for k in ["a", "b", "c", "d", "e"] {
            assert!(r.opaque.contains(k));
        }
    }

    #[test]
    fn unset_environment_in_a_lenient_scope_makes_a_variable_opaque() {
        let env = Scope {
            lenient_env: true,
            ..Scope::default()
        };
        let (r, errors) = resolve(
            raw(&[
                ("api", json!("${env.API_URL}")),
                ("health", json!("${api}/health")),
                ("fixed", json!("${env.NOPE:-http://x.test}")),
            ]),
            &[],
            &env,
        );
        assert!(errors.is_empty());
        assert!(r.opaque.contains("api") && r.opaque.contains("health"));
        // Unset with a default: what `validate` sees may not be what the deployment sets.
        assert!(r.opaque.contains("fixed"));
        let (r, _) = resolve(
            raw(&[("fixed", json!("${env.NOPE:-http://x.test}"))]),
            &[],
            &Scope::default(),
        );
        assert!(!r.opaque.contains("fixed"), "a run uses the default");
    }

    #[test]
    fn matrix_names_append_the_keys_they_do_not_use() {
        let combo = vec![
            ("region".to_string(), "eu".to_string()),
            ("service".to_string(), "users".to_string()),
        ];
        let mut scope = Scope::default();
        for (k, v) in &combo {
            scope.set(k, json!(v));
        }
        assert_eq!(
            case_name("${service} health", &combo, &scope),
            "users health [region=eu]"
        );
        assert_eq!(
            case_name("health", &combo, &scope),
            "health [region=eu, service=users]"
        );
        assert_eq!(
            case_name("${service} ${region}", &combo, &scope),
            "users eu"
        );
    }

    #[test]
    fn matrix_values_may_be_maps_read_field_by_field() {
        let m = BTreeMap::from([
            (
                "worker".to_string(),
                vec![
                    MatrixValue::Fields(vec![
                        ("host".into(), "api".into()),
                        ("name".into(), "tminus-api".into()),
                    ]),
                    MatrixValue::Fields(vec![
                        ("host".into(), "webhooks".into()),
                        ("name".into(), "tminus-webhook".into()),
                    ]),
                ],
            ),
            ("zone".to_string(), vec![MatrixValue::Text("eu".into())]),
        ]);
        let combos = expand_matrix(&m);
        assert_eq!(combos.len(), 2);
        assert_eq!(
            combos[1],
            vec![
                ("worker.host".to_string(), "webhooks".to_string()),
                ("worker.name".to_string(), "tminus-webhook".to_string()),
                ("zone".to_string(), "eu".to_string()),
            ]
        );
        let mut scope = Scope::default();
        for (k, v) in &combos[1] {
            scope.set(k, json!(v));
        }
        // Reading one field uses the key: its other fields are not appended.
        assert_eq!(
            case_name("health [worker=${worker.host}]", &combos[1], &scope),
            "health [worker=webhooks] [zone=eu]"
        );
    }
}
