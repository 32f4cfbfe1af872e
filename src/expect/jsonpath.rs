//! JSONPath (RFC 9535) assertions: equals, not_equals, one_of, regex, exists, type,
//! numeric comparisons and counts. With several matches, every match must satisfy the
//! predicate.

use std::sync::Arc;

use regex::Regex;
use serde_json::Value;
use serde_json_path::JsonPath;

use super::{show, ExpectError, Outcome, OutcomeKind, Response};
use crate::interp::{JsonTemplate, Scope, Template};
use crate::redact::is_sensitive_key;
use crate::suite::model::JsonPathDef;
use crate::suite::Pos;

#[derive(Debug)]
enum Pred {
    Equals(Expected),
    NotEquals(Expected),
    OneOf(Vec<Expected>),
    Matches(Regex),
    Exists(bool),
    Type(String),
    Cmp(&'static str, Operand),
    Count(usize),
    MinCount(usize),
}

/// An expected value: compiled (templates keep the referenced value's JSON type), and as
/// written, for descriptions.
#[derive(Debug)]
struct Expected {
    value: JsonTemplate,
    written: Value,
}

impl Expected {
    fn compile(v: &Value) -> Result<Self, ExpectError> {
        check_exact(v, "expected value")?;
        Ok(Expected {
            value: JsonTemplate::compile(v).map_err(|source| ExpectError::Template {
                field: "expected value".into(),
                source,
            })?,
            written: v.clone(),
        })
    }
}

/// A numeric bound: a number, or a template that yields one.
#[derive(Debug)]
enum Operand {
    Num(Bound),
    Tpl(Template, String),
}

/// A bound's value: as a float, and as exact integer text when it is an integer (so integers
/// beyond 2^53 compare exactly).
#[derive(Debug, Clone)]
struct Bound {
    f: f64,
    int: Option<String>,
}

impl std::fmt::Display for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.int {
            Some(i) => f.write_str(i),
            None => write!(f, "{}", self.f),
        }
    }
}

impl Bound {
    fn of_number(n: &serde_json::Number) -> Option<Bound> {
        Some(Bound {
            f: n.as_f64()?,
            int: is_integer(n).then(|| canonical_integer(n)),
        })
    }

    fn of_text(s: &str) -> Option<Bound> {
        let t = s.trim();
        Some(Bound {
            f: t.parse().ok()?,
            int: is_integer_text(t).then(|| t.trim_start_matches('+').to_string()),
        })
    }
}

impl Operand {
    fn compile(op: &'static str, v: &Value) -> Result<Self, ExpectError> {
        let bad = |got: String| ExpectError::Bound { op, got };
        check_exact(v, op)?;
        match v {
            Value::Number(n) => Bound::of_number(n)
                .map(Operand::Num)
                .ok_or_else(|| bad(n.to_string())),
            Value::String(s) => match Template::parse(s) {
                Ok(t) if t.is_literal() => Bound::of_text(s)
                    .map(Operand::Num)
                    .ok_or_else(|| bad(format!("\"{s}\""))),
                Ok(t) => Ok(Operand::Tpl(t, s.clone())),
                Err(source) => Err(ExpectError::Template {
                    field: op.to_string(),
                    source,
                }),
            },
            other => Err(bad(other.to_string())),
        }
    }

    /// The bound's value: a number, or a numeric string.
    fn value(&self, scope: &Scope) -> Result<Bound, String> {
        match self {
            Operand::Num(n) => Ok(n.clone()),
            Operand::Tpl(t, src) => match t.eval(scope).map_err(|e| e.to_string())? {
                Value::Number(n) => {
                    Bound::of_number(&n).ok_or_else(|| format!("{src} is not a number"))
                }
                Value::String(s) => {
                    Bound::of_text(&s).ok_or_else(|| format!("{src} is \"{s}\", not a number"))
                }
                other => Err(format!("{src} is {other}, not a number")),
            },
        }
    }
}

impl std::fmt::Display for Operand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Operand::Num(n) => write!(f, "{n}"),
            Operand::Tpl(_, src) => f.write_str(src),
        }
    }
}

/// Integers beyond 2^53 written in a suite lose digits when YAML reads them as numbers:
/// such a number cannot be compared exactly, and saying so beats a wrong verdict.
fn check_exact(v: &Value, field: &str) -> Result<(), ExpectError> {
    match v {
        Value::Number(n) if !is_integer(n) => {
            let f = n.as_f64().unwrap_or_default();
            if f.fract() == 0.0 && f.abs() >= 9_007_199_254_740_992.0 {
                return Err(ExpectError::Inexact {
                    field: field.to_string(),
                    number: n.to_string(),
                });
            }
            Ok(())
        }
        Value::Array(a) => a.iter().try_for_each(|x| check_exact(x, field)),
        Value::Object(o) => o.values().try_for_each(|x| check_exact(x, field)),
        _ => Ok(()),
    }
}

/// True when `t` is an integer literal (`-12`, `42`, `+7`).
fn is_integer_text(t: &str) -> bool {
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Compare two integer literals exactly, whatever their size.
fn cmp_integers(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let norm = |s: &str| -> (bool, String) {
        let neg = s.starts_with('-');
        let d = s.trim_start_matches(['-', '+']).trim_start_matches('0');
        (neg && !d.is_empty(), d.to_string())
    };
    let ((na, da), (nb, db)) = (norm(a), norm(b));
    let mag = da.len().cmp(&db.len()).then_with(|| da.cmp(&db));
    match (na, nb) {
        (false, false) => mag,
        (true, true) => mag.reverse(),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
    }
}

/// The path: compiled once, or, when it holds a template, compiled after rendering.
#[derive(Debug)]
enum PathSpec {
    Fixed(Arc<JsonPath>),
    Templated(Template),
}

/// One compiled JSONPath assertion: the compiled part, shared by every step that writes the
/// same assertion (thousands of cases often check the same `$.ok`), and where it is written.
#[derive(Debug)]
pub struct JsonPathCheck {
    core: Arc<Core>,
    /// Where the assertion is written.
    pub pos: Option<Pos>,
}

/// What a JSONPath assertion checks, compiled.
#[derive(Debug)]
pub struct Core {
    source: String,
    path: PathSpec,
    preds: Vec<Pred>,
    message: Option<String>,
    sensitive: bool,
    /// `path predicate, …`, as reports show it.
    described: Arc<str>,
    /// The path or a compared value is a template: the description is made per evaluation.
    templated: bool,
}

const TYPES: &[&str] = &[
    "string", "number", "integer", "boolean", "object", "array", "null",
];

/// Deepest nesting of brackets and parentheses a JSONPath may have (the parser's time grows
/// exponentially with nested filters, and its stack with any nesting).
pub const MAX_PATH_NESTING: usize = 8;
/// Longest JSONPath, in bytes.
pub const MAX_PATH_LEN: usize = 4096;
/// Deepest nesting of filters (`[?…]` inside `[?…]`): evaluating nested filters with
/// descendant segments over a deep body grows about 25-fold per level.
pub const MAX_FILTER_NESTING: usize = 3;

/// Parse a JSONPath, with an error that says what is wrong.
pub fn parse_path(src: &str) -> Result<JsonPath, ExpectError> {
    let invalid = |reason: String| ExpectError::JsonPath {
        path: crate::text::truncate(src, 120),
        reason,
    };
    if src.len() > MAX_PATH_LEN {
        return Err(invalid(format!(
            "{} bytes long; the limit is {MAX_PATH_LEN}",
            src.len()
        )));
    }
    let (depth, filters) = nesting(src);
    if depth > MAX_PATH_NESTING {
        return Err(invalid(format!(
            "brackets and filters nest {depth} deep; the limit is {MAX_PATH_NESTING}"
        )));
    }
    if filters > MAX_FILTER_NESTING {
        return Err(invalid(format!(
            "filters nest {filters} deep; the limit is {MAX_FILTER_NESTING}"
        )));
    }
    JsonPath::parse(src).map_err(|e| match super::jsonpath_hint::hint(src) {
        Some(h) => invalid(format!("{e}; {h}")),
        None => invalid(e.to_string()),
    })
}

/// The deepest nesting of `[` and `(` outside quoted strings, and of filters (`[?`).
fn nesting(src: &str) -> (usize, usize) {
    let (mut depth, mut max) = (0usize, 0usize);
    // For each open bracket: whether it opened a filter.
    let mut open: Vec<bool> = Vec::new();
    let mut max_filters = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let chars: Vec<char> = src.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '[' | '(' => {
                depth += 1;
                max = max.max(depth);
                let filter =
                    c == '[' && chars[i + 1..].iter().find(|x| !x.is_whitespace()) == Some(&'?');
                open.push(filter);
                max_filters = max_filters.max(open.iter().filter(|f| **f).count());
            }
            ']' | ')' => {
                depth = depth.saturating_sub(1);
                open.pop();
            }
            _ => {}
        }
    }
    (max, max_filters)
}

impl JsonPathCheck {
    /// Compile one `jsonpath:` entry (or share the compiled form of an identical one).
    pub fn compile(
        def: &JsonPathDef,
        pos: Option<Pos>,
        cache: &mut super::SchemaCache,
    ) -> Result<Self, Vec<ExpectError>> {
        let key = cache_key(def);
        let core = match cache.jsonpaths.get(&key) {
            Some(c) => c.clone(),
            None => {
                let c = Arc::new(Core::compile(def, cache)?);
                cache.jsonpaths.insert(key, c.clone());
                c
            }
        };
        Ok(JsonPathCheck { core, pos })
    }

    /// Templates in the path and expected values (for static variable checks).
    pub fn templates(&self) -> Vec<&Template> {
        self.core.templates()
    }

    /// Judge the response body.
    pub fn evaluate(&self, resp: &Response, scope: &Scope) -> Outcome {
        self.core.evaluate(resp, scope, self.pos)
    }
}

/// The value, or `None` with its error kept in `errs`.
fn take<T>(r: Result<T, ExpectError>, errs: &mut Vec<ExpectError>) -> Option<T> {
    r.map_err(|e| errs.push(e)).ok()
}

/// Every field of a definition, written compactly: two definitions with the same key compile
/// to the same assertion. (Written by hand: the `Debug` form was a measurable part of
/// planning thousands of cases.)
fn cache_key(def: &JsonPathDef) -> String {
    use std::fmt::Write;
    let JsonPathDef {
        path,
        message,
        equals,
        not_equals,
        one_of,
        matches,
        exists,
        type_,
        gt,
        gte,
        lt,
        lte,
        count,
        min_count,
    } = def;
    // Strings are written with `{:?}` and JSON values as JSON: both quote and escape, so
    // no value can fake a separator.
    let mut k = format!("{path:?}");
    let mut put = |tag: &str, v: Option<String>| {
        if let Some(v) = v {
            let _ = write!(k, "\u{0}{tag}{v}");
        }
    };
    put("m", message.as_ref().map(|m| format!("{m:?}")));
    put("e", equals.as_ref().map(Value::to_string));
    put("n", not_equals.as_ref().map(Value::to_string));
    put(
        "o",
        one_of.as_ref().map(|v| Value::Array(v.clone()).to_string()),
    );
    put("r", matches.as_ref().map(|m| format!("{m:?}")));
    put("x", exists.map(|b| b.to_string()));
    put("t", type_.as_ref().map(|t| format!("{t:?}")));
    for (tag, v) in [("gt", gt), ("ge", gte), ("lt", lt), ("le", lte)] {
        put(tag, v.as_ref().map(Value::to_string));
    }
    put("c", count.map(|c| c.to_string()));
    put("C", min_count.map(|c| c.to_string()));
    k
}

impl Core {
    /// Compile; every problem of the entry is returned, not only the first.
    fn compile(
        def: &JsonPathDef,
        cache: &mut super::SchemaCache,
    ) -> Result<Self, Vec<ExpectError>> {
        let mut errs = Vec::new();
        let path = match Template::parse(&def.path) {
            Ok(t) if t.is_literal() => take(cache.path(&def.path), &mut errs).map(PathSpec::Fixed),
            Ok(t) => Some(PathSpec::Templated(t)),
            Err(source) => {
                errs.push(ExpectError::Template {
                    field: "path".into(),
                    source,
                });
                None
            }
        };
        let mut preds = Vec::new();
        if let Some(v) = &def.equals {
            preds.extend(take(Expected::compile(v), &mut errs).map(Pred::Equals));
        }
        if let Some(v) = &def.not_equals {
            preds.extend(take(Expected::compile(v), &mut errs).map(Pred::NotEquals));
        }
        if let Some(v) = &def.one_of {
            let values = v.iter().map(Expected::compile).collect::<Result<_, _>>();
            preds.extend(take(values, &mut errs).map(Pred::OneOf));
        }
        if let Some(r) = &def.matches {
            preds.extend(take(cache.regex(r), &mut errs).map(Pred::Matches));
        }
        if let Some(e) = def.exists {
            preds.push(Pred::Exists(e));
        }
        if let Some(t) = &def.type_ {
            if TYPES.contains(&t.as_str()) {
                preds.push(Pred::Type(t.clone()));
            } else {
                errs.push(ExpectError::Type(t.clone()));
            }
        }
        for (op, v) in [
            ("gt", &def.gt),
            ("gte", &def.gte),
            ("lt", &def.lt),
            ("lte", &def.lte),
        ] {
            if let Some(v) = v {
                preds.extend(take(Operand::compile(op, v), &mut errs).map(|o| Pred::Cmp(op, o)));
            }
        }
        if let Some(c) = def.count {
            preds.push(Pred::Count(c));
        }
        if let Some(c) = def.min_count {
            preds.push(Pred::MinCount(c));
        }
        if preds.is_empty() {
            preds.push(Pred::Exists(true));
        }
        let Some(path) = path.filter(|_| errs.is_empty()) else {
            return Err(errs);
        };
        preds.shrink_to_fit();
        let last_key = def
            .path
            .rsplit(['.', '['])
            .next()
            .unwrap_or("")
            .trim_matches(|c| c == '\'' || c == '"' || c == ']');
        let mut core = Core {
            source: def.path.clone(),
            path,
            preds,
            message: def.message.clone(),
            sensitive: is_sensitive_key(last_key),
            described: Arc::from(""),
            templated: false,
        };
        core.described = core.describe().into();
        core.templated = !core.templates().is_empty();
        Ok(core)
    }

    fn templates(&self) -> Vec<&Template> {
        let mut out = Vec::new();
        if let PathSpec::Templated(t) = &self.path {
            out.push(t);
        }
        for p in &self.preds {
            match p {
                Pred::Equals(v) | Pred::NotEquals(v) => out.extend(v.value.templates()),
                Pred::OneOf(vs) => vs.iter().for_each(|v| out.extend(v.value.templates())),
                Pred::Cmp(_, Operand::Tpl(t, _)) => out.push(t),
                _ => {}
            }
        }
        out
    }

    fn evaluate(&self, resp: &Response, scope: &Scope, pos: Option<Pos>) -> Outcome {
        let mut o = Outcome::new(OutcomeKind::JsonPath, self.described.clone(), pos);
        let json = match resp.json() {
            Ok(j) => j,
            Err(e) => {
                let msg = self.wrap(format!("{}: {e}", self.source));
                return o.fail("JSON body", "not JSON", msg);
            }
        };
        let rendered;
        let path = match &self.path {
            PathSpec::Fixed(p) => p.as_ref(),
            PathSpec::Templated(t) => {
                let text = match t.render(scope) {
                    Ok(text) => text,
                    Err(e) => {
                        let msg = self.wrap(format!("{}: {e}", self.source));
                        return o.fail("a JSONPath", "cannot render", msg);
                    }
                };
                rendered = match parse_path(&text) {
                    Ok(p) => p,
                    Err(e) => {
                        let msg = self.wrap(format!("{}: {e}", self.source));
                        return o.fail("a JSONPath", "invalid", msg);
                    }
                };
                &rendered
            }
        };
        let nodes = path.query(json).all();
        let show_val = |v: &Value| {
            if self.sensitive {
                "[REDACTED]".to_string()
            } else {
                show(v)
            }
        };
        let actual = || match nodes.as_slice() {
            [] => "no match".to_string(),
            [one] => show_val(one),
            many => format!(
                "[{}]",
                many.iter()
                    .map(|v| show_val(v))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        if self.templated {
            // The values compared, not the templates that named them.
            let shown_path = match &self.path {
                PathSpec::Templated(t) => t.render(scope).unwrap_or_else(|_| self.source.clone()),
                PathSpec::Fixed(_) => self.source.clone(),
            };
            o.check = self.describe_with(Some(scope), &shown_path).into();
        }
        for p in &self.preds {
            if let Err((expected, why)) = self.check(p, &nodes, scope) {
                let msg = self.wrap(format!("{}: {why}", self.source));
                o = o.fail(expected, actual(), msg);
                return o;
            }
        }
        // A passed check says what it found, as the report format promises.
        o.actual = Some(actual());
        o
    }

    fn wrap(&self, generic: String) -> String {
        match &self.message {
            Some(m) => format!("{m} ({generic})"),
            None => generic,
        }
    }

    fn describe(&self) -> String {
        self.describe_with(None, &self.source)
    }

    /// The check as reports show it; with a scope, templates show the values compared.
    fn describe_with(&self, scope: Option<&Scope>, path: &str) -> String {
        let value = |e: &Expected| match scope.map(|s| e.value.eval(s)) {
            Some(Ok(_)) if self.sensitive => Value::String("[REDACTED]".into()),
            Some(Ok(v)) => v,
            _ => e.written.clone(),
        };
        let preds: Vec<String> = self
            .preds
            .iter()
            .map(|p| match p {
                Pred::Equals(v) => format!("== {}", show(&value(v))),
                Pred::NotEquals(v) => format!("!= {}", show(&value(v))),
                Pred::OneOf(v) => format!(
                    "one of {}",
                    show(&Value::Array(v.iter().map(value).collect()))
                ),
                Pred::Cmp(op, v) => match scope.map(|s| v.value(s)) {
                    Some(Ok(n)) => format!("{op} {n}"),
                    _ => format!("{op} {v}"),
                },
                Pred::Matches(r) => format!("matches /{}/", r.as_str()),
                Pred::Exists(true) => "exists".into(),
                Pred::Exists(false) => "does not exist".into(),
                Pred::Type(t) => format!("is {t}"),
                Pred::Count(c) => format!("count == {c}"),
                Pred::MinCount(c) => format!("count ≥ {c}"),
            })
            .collect();
        format!("{path} {}", preds.join(", "))
    }

    /// Ok, or (expected, reason).
    fn check(&self, p: &Pred, nodes: &[&Value], scope: &Scope) -> Result<(), (String, String)> {
        let need_nodes = || {
            if nodes.is_empty() {
                Err(("a match".to_string(), "no value at this path".to_string()))
            } else {
                Ok(())
            }
        };
        match p {
            Pred::Exists(want) => {
                let has = !nodes.is_empty();
                if has != *want {
                    let exp = if *want { "present" } else { "absent" };
                    let why = if *want {
                        "missing, expected it to exist"
                    } else {
                        "present, expected it to be absent"
                    };
                    return Err((exp.into(), why.into()));
                }
            }
            Pred::Count(c) if nodes.len() != *c => {
                return Err((
                    format!("{c} matches"),
                    format!("expected {c} matches, got {}", nodes.len()),
                ))
            }
            Pred::MinCount(c) if nodes.len() < *c => {
                return Err((
                    format!("at least {c} matches"),
                    format!("expected at least {c} matches, got {}", nodes.len()),
                ))
            }
            Pred::Count(_) | Pred::MinCount(_) => {}
            Pred::Equals(_) | Pred::NotEquals(_) | Pred::OneOf(_) => {
                if nodes.is_empty() {
                    // Say what was expected there, not just "a match".
                    let wanted = self.describe_with(Some(scope), "");
                    return Err((
                        wanted.trim().to_string(),
                        "no value at this path".to_string(),
                    ));
                }
                self.check_expected(p, nodes, scope)?;
            }
            Pred::Matches(r) => {
                need_nodes()?;
                for n in nodes {
                    let s = match n {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    if !r.is_match(&s) {
                        return Err((
                            format!("/{}/", r.as_str()),
                            format!("{} does not match /{}/", self.shown(n), r.as_str()),
                        ));
                    }
                }
            }
            Pred::Type(t) => {
                need_nodes()?;
                if let Some(bad) = nodes.iter().find(|n| type_name(n, t) != t) {
                    return Err((
                        t.clone(),
                        format!("expected {t}, got {}", type_name(bad, t)),
                    ));
                }
            }
            Pred::Cmp(op, bound) => {
                need_nodes()?;
                self.check_cmp(op, bound, nodes, scope)?;
            }
        }
        Ok(())
    }

    /// `equals`, `not_equals`, `one_of`: the expected values are evaluated with the scope
    /// (templates keep their types) and compared by JSON value.
    fn check_expected(
        &self,
        p: &Pred,
        nodes: &[&Value],
        scope: &Scope,
    ) -> Result<(), (String, String)> {
        let render = |v: &Expected| {
            v.value
                .eval(scope)
                .map_err(|e| (String::new(), e.to_string()))
        };
        match p {
            Pred::Equals(v) => {
                let want = render(v)?;
                if let Some(bad) = nodes.iter().find(|n| !json_eq(n, &want)) {
                    return Err((
                        show(&want),
                        format!("expected {}, got {}", show(&want), self.shown(bad)),
                    ));
                }
            }
            Pred::NotEquals(v) => {
                let bad = render(v)?;
                if nodes.iter().any(|n| json_eq(n, &bad)) {
                    return Err((
                        format!("not {}", show(&bad)),
                        format!("must not be {}", show(&bad)),
                    ));
                }
            }
            Pred::OneOf(vs) => {
                let want: Vec<Value> = vs.iter().map(render).collect::<Result<_, _>>()?;
                if let Some(bad) = nodes.iter().find(|n| !want.iter().any(|w| json_eq(n, w))) {
                    let w = show(&Value::Array(want.clone()));
                    return Err((
                        format!("one of {w}"),
                        format!("expected one of {w}, got {}", self.shown(bad)),
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// `gt`, `gte`, `lt`, `lte`: every node is a number on the right side of the bound.
    fn check_cmp(
        &self,
        op: &str,
        bound: &Operand,
        nodes: &[&Value],
        scope: &Scope,
    ) -> Result<(), (String, String)> {
        use std::cmp::Ordering;
        let v = &bound
            .value(scope)
            .map_err(|e| (format!("{op} {bound}"), e))?;
        for n in nodes {
            let (Value::Number(num), Some(x)) = (n, n.as_f64()) else {
                return Err((
                    format!("number {op} {v}"),
                    format!("expected a number, got {}", self.shown(n)),
                ));
            };
            // Integers compare exactly; anything else as floats.
            let order = match (&v.int, is_integer(num)) {
                (Some(b), true) => cmp_integers(&canonical_integer(num), b),
                _ => x.partial_cmp(&v.f).unwrap_or(Ordering::Equal),
            };
            let ok = match op {
                "gt" => order == Ordering::Greater,
                "gte" => order != Ordering::Less,
                "lt" => order == Ordering::Less,
                _ => order != Ordering::Greater,
            };
            if !ok {
                return Err((format!("{op} {v}"), format!("{num} is not {op} {v}")));
            }
        }
        Ok(())
    }

    fn shown(&self, v: &Value) -> String {
        if self.sensitive {
            "[REDACTED]".into()
        } else {
            show(v)
        }
    }
}

/// JSON equality where 1 == 1.0 (at any depth), integers of any size compare exactly, and
/// an integer equals a string holding the same integer literal (how a suite writes one
/// beyond 2^53).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if is_integer(x) && is_integer(y) => {
            canonical_integer(x) == canonical_integer(y)
        }
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Number(x), Value::String(s)) | (Value::String(s), Value::Number(x))
            if is_integer(x) && is_integer_text(s.trim()) && s.trim().len() > 15 =>
        {
            cmp_integers(&canonical_integer(x), s.trim()) == std::cmp::Ordering::Equal
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, p)| y.get(k).is_some_and(|q| json_eq(p, q)))
        }
        _ => a == b,
    }
}

/// True when the number was written as an integer (no fraction, no exponent): numbers keep
/// the text they were received as, so an integer beyond 64 bits is still one.
pub(crate) fn is_integer(n: &serde_json::Number) -> bool {
    n.is_i64() || n.is_u64() || !n.to_string().contains(['.', 'e', 'E'])
}

fn canonical_integer(n: &serde_json::Number) -> String {
    let t = n.to_string();
    if t == "-0" {
        "0".into()
    } else {
        t
    }
}

fn type_name<'a>(v: &Value, wanted: &'a str) -> &'a str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if wanted == "integer" && is_integer(n) => "integer",
        Value::Number(_) if wanted == "integer" => "number",
        Value::Number(n) if wanted == "number" || !is_integer(n) => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod cache_tests {
    use super::*;

    #[test]
    fn numbers_are_judged_by_their_text() {
        let v: Value =
            serde_json::from_str(r#"[1000000000000000000000, 1.0, 7, -0, 10000000000000000001]"#)
                .unwrap();
        assert_eq!(type_name(&v[0], "integer"), "integer", "beyond 64 bits");
        assert_eq!(
            type_name(&v[1], "integer"),
            "number",
            "1.0 is written as a float"
        );
        assert_eq!(type_name(&v[2], "integer"), "integer");
        assert_eq!(v[0].to_string(), "1000000000000000000000", "text kept");
        assert!(json_eq(&v[3], &serde_json::json!(0)));
        assert!(json_eq(&v[2], &serde_json::json!(7.0)), "1 == 1.0 still");
        let near: Value = serde_json::from_str("10000000000000000000").unwrap();
        assert!(
            !json_eq(&v[4], &near),
            "integers compared exactly, not as floats"
        );
        // A big integer written as a string in the suite.
        assert!(json_eq(&v[0], &serde_json::json!("1000000000000000000000")));
        assert!(!json_eq(
            &v[0],
            &serde_json::json!("1000000000000000000001")
        ));
        // Nested numbers compare by value too.
        let a: Value = serde_json::from_str(r#"{"a": 1.50, "b": [2]}"#).unwrap();
        assert!(json_eq(&a, &serde_json::json!({"a": 1.5, "b": [2.0]})));
        // Integers of any size are ordered exactly.
        use std::cmp::Ordering::*;
        assert_eq!(
            cmp_integers("1000000000000000000000", "999999999999999999999"),
            Greater
        );
        assert_eq!(cmp_integers("-5", "-12"), Greater);
        assert_eq!(cmp_integers("-0", "0"), Equal);
        // A YAML number that lost digits is refused at plan time.
        let lossy: Value = serde_json::from_str("1e21").unwrap();
        assert!(check_exact(&lossy, "equals").is_err());
        assert!(check_exact(&serde_json::json!(1.5), "equals").is_ok());
    }

    fn def(yaml: &str) -> JsonPathDef {
        serde_saphyr::from_str(yaml).unwrap()
    }

    #[test]
    fn the_cache_key_tells_every_field_apart() {
        let defs = [
            "path: $.a",
            "path: $.b",
            "{path: $.a, equals: 1}",
            "{path: $.a, equals: '1'}",
            "{path: $.a, not_equals: 1}",
            "{path: $.a, one_of: [1]}",
            "{path: $.a, matches: '1'}",
            "{path: $.a, exists: true}",
            "{path: $.a, exists: false}",
            "{path: $.a, type: string}",
            "{path: $.a, gt: 1}",
            "{path: $.a, gte: 1}",
            "{path: $.a, lt: 1}",
            "{path: $.a, lte: 1}",
            "{path: $.a, count: 1}",
            "{path: $.a, min_count: 1}",
            "{path: $.a, equals: 1, message: m}",
            "{path: $.a, equals: null}",
        ];
        let keys: std::collections::HashSet<String> =
            defs.iter().map(|d| cache_key(&def(d))).collect();
        assert_eq!(keys.len(), defs.len());
        assert_eq!(
            cache_key(&def("{path: $.a, equals: 1}")),
            cache_key(&def("{equals: 1, path: $.a}"))
        );
    }

    #[test]
    fn identical_assertions_share_one_compiled_form() {
        let mut cache = crate::expect::SchemaCache::default();
        let a =
            JsonPathCheck::compile(&def("{path: $.ok, equals: true}"), None, &mut cache).unwrap();
        let b =
            JsonPathCheck::compile(&def("{path: $.ok, equals: true}"), None, &mut cache).unwrap();
        let c =
            JsonPathCheck::compile(&def("{path: $.ok, equals: false}"), None, &mut cache).unwrap();
        assert!(Arc::ptr_eq(&a.core, &b.core));
        assert!(!Arc::ptr_eq(&a.core, &c.core));
    }
}
