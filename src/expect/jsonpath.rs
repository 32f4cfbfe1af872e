//! JSONPath (RFC 9535) assertions: the value predicates of [`super::predicate`] on the
//! selected nodes, plus what only a node list has: `exists`, `count`, `min_count`, `nth` and
//! the quantifiers `any`, `all`, `none`. The predicates written at the top level of an entry
//! must hold for every selected value (an explicit `all`).

use std::sync::Arc;

use serde_json::Value;
use serde_json_path::JsonPath;

#[cfg(test)]
use super::predicate::{check_exact, cmp_integers, json_eq, type_name};
use super::predicate::{nth, Ctx, Fields, Miss, Predicate, Quantifier};
use super::{show, ExpectError, Outcome, OutcomeKind, Response};
use crate::interp::{Scope, Template};
use crate::redact::is_sensitive_key;
use crate::suite::model::{JsonPathDef, Severity, SizeDef};
use crate::suite::Pos;

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
    /// Top-level value predicates: every selected value (or the `nth`) must satisfy them.
    each: Predicate,
    exists: Option<bool>,
    count: Option<Count>,
    min_count: Option<usize>,
    /// `any`, `all`, `none` blocks, in that order.
    quants: Vec<(Quantifier, Predicate)>,
    /// Judge only this node with the value predicates and quantifiers.
    nth: Option<i64>,
    severity: Severity,
    message: Option<String>,
    sensitive: bool,
    /// `path predicate, …`, as reports show it.
    described: Arc<str>,
    /// The path or a compared value is a template: the description is made per evaluation.
    templated: bool,
}

/// `count`: exactly N (the message says "matches"), or a predicate on the number.
#[derive(Debug)]
enum Count {
    Exact(usize),
    Rule(Predicate),
}

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

/// True when the node at `at` is the value of a credential-named key (`access_token`,
/// `password`, …), or an item of such a value's array.
fn is_secret_location(at: &serde_json_path::NormalizedPath<'_>) -> bool {
    at.iter()
        .rev()
        .find_map(|e| e.as_name())
        .is_some_and(is_sensitive_key)
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
        contains,
        length,
        date,
        newer_than,
        older_than,
        before,
        after,
        not,
        any,
        all,
        none,
        nth,
        severity,
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
    put(
        "c",
        count.as_ref().map(|c| match c {
            SizeDef::Exact(n) => n.to_string(),
            rule => format!("{rule:?}"),
        }),
    );
    put("C", min_count.map(|c| c.to_string()));
    // The newer keys, by their (quoting, unambiguous) debug form.
    put("i", contains.as_ref().map(Value::to_string));
    put("l", length.as_ref().map(|v| format!("{v:?}")));
    put("d", date.map(|v| format!("{v:?}")));
    put("N", newer_than.map(|v| format!("{:?}", v.0)));
    put("O", older_than.map(|v| format!("{:?}", v.0)));
    put("b", before.as_ref().map(|v| format!("{v:?}")));
    put("a", after.as_ref().map(|v| format!("{v:?}")));
    put("!", not.as_ref().map(|v| format!("{v:?}")));
    put("A", any.as_ref().map(|v| format!("{v:?}")));
    put("L", all.as_ref().map(|v| format!("{v:?}")));
    put("0", none.as_ref().map(|v| format!("{v:?}")));
    put("#", nth.map(|v| v.to_string()));
    put("s", severity.map(|v| format!("{v:?}")));
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
        let fields = Fields {
            equals: def.equals.as_ref(),
            not_equals: def.not_equals.as_ref(),
            one_of: def.one_of.as_deref(),
            matches: def.matches.as_deref(),
            contains: def.contains.as_ref(),
            type_: def.type_.as_deref(),
            gt: def.gt.as_ref(),
            gte: def.gte.as_ref(),
            lt: def.lt.as_ref(),
            lte: def.lte.as_ref(),
            length: def.length.as_deref(),
            date: def.date,
            newer_than: def.newer_than.map(|d| d.0),
            older_than: def.older_than.map(|d| d.0),
            before: def.before.as_deref(),
            after: def.after.as_deref(),
            not: def.not.as_deref(),
        };
        let each = Predicate::compile(fields, cache, 0)
            .map_err(|es| errs.extend(es))
            .unwrap_or_default();
        let count = match &def.count {
            Some(SizeDef::Exact(n)) => Some(Count::Exact(*n as usize)),
            Some(rule) => Predicate::size(rule, cache, 0)
                .map(Count::Rule)
                .map_err(|es| errs.extend(es))
                .ok(),
            None => None,
        };
        let mut quants = Vec::new();
        for (q, d, key) in [
            (Quantifier::Any, &def.any, "any"),
            (Quantifier::All, &def.all, "all"),
            (Quantifier::None, &def.none, "none"),
        ] {
            if let Some(d) = d {
                match Predicate::compile_block(key, d, cache) {
                    Ok(p) => quants.push((q, p)),
                    Err(es) => errs.extend(es),
                }
            }
        }
        let mut exists = def.exists;
        if each.is_empty()
            && exists.is_none()
            && def.count.is_none()
            && def.min_count.is_none()
            && quants.is_empty()
        {
            exists = Some(true);
        }
        let Some(path) = path.filter(|_| errs.is_empty()) else {
            return Err(errs);
        };
        let last_key = def
            .path
            .rsplit(['.', '['])
            .next()
            .unwrap_or("")
            .trim_matches(|c| c == '\'' || c == '"' || c == ']');
        let mut core = Core {
            source: def.path.clone(),
            path,
            each,
            exists,
            count,
            min_count: def.min_count,
            quants,
            nth: def.nth,
            severity: def.severity.unwrap_or_default(),
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
        out.extend(self.each.templates());
        if let Some(Count::Rule(p)) = &self.count {
            out.extend(p.templates());
        }
        for (_, p) in &self.quants {
            out.extend(p.templates());
        }
        out
    }

    fn evaluate(&self, resp: &Response, scope: &Scope, pos: Option<Pos>) -> Outcome {
        let mut o = Outcome::new(OutcomeKind::JsonPath, self.described.clone(), pos);
        o.severity = self.severity;
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
        // Whether a value is secret is decided per node, by the key it is found under (a
        // wildcard or a filter can select `access_token` from a path that names no key).
        let located = path.query_located(json);
        let nodes: Vec<&Value> = located.iter().map(|n| n.node()).collect();
        let secret: Vec<bool> = located
            .iter()
            .map(|n| self.sensitive || is_secret_location(n.location()))
            .collect();
        let show_val = |v: &Value, secret: bool| {
            if secret {
                "[REDACTED]".to_string()
            } else {
                show(v)
            }
        };
        let actual = || match nodes.as_slice() {
            [] => "no match".to_string(),
            [one] => show_val(one, secret[0]),
            many => format!(
                "[{}]",
                many.iter()
                    .zip(&secret)
                    .map(|(v, s)| show_val(v, *s))
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
        let cx = Ctx {
            scope,
            // A failure may quote any selected value: all are masked when one is secret.
            sensitive: secret.iter().any(|s| *s),
            text: false,
            now: chrono::Utc::now(),
        };
        if let Err(m) = self.check(&nodes, &cx) {
            let msg = self.wrap(format!("{}: {}", self.source, m.reason));
            return o.fail(m.expected, actual(), msg);
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
        let mut parts = Vec::new();
        if let Some(i) = self.nth {
            parts.push(format!("nth {i}"));
        }
        if !self.each.is_empty() {
            parts.push(self.each.describe(scope, self.sensitive));
        }
        match self.exists {
            Some(true) => parts.push("exists".into()),
            Some(false) => parts.push("does not exist".into()),
            None => {}
        }
        match &self.count {
            Some(Count::Exact(c)) => parts.push(format!("count == {c}")),
            Some(Count::Rule(p)) => parts.push(format!("count {}", p.describe(scope, false))),
            None => {}
        }
        if let Some(c) = self.min_count {
            parts.push(format!("count ≥ {c}"));
        }
        for (q, p) in &self.quants {
            parts.push(format!(
                "{} ({})",
                q.key(),
                p.describe(scope, self.sensitive)
            ));
        }
        format!("{path} {}", parts.join(", "))
    }

    /// Ok, or what was expected and why the nodes fail.
    fn check(&self, all: &[&Value], cx: &Ctx) -> Result<(), Miss> {
        let picked;
        let nodes = match self.nth {
            Some(i) => {
                picked = nth(all, i).into_iter().collect::<Vec<_>>();
                if picked.is_empty() && !self.each.is_empty() {
                    return Err(Miss {
                        expected: format!("a value at index {i}"),
                        reason: format!(
                            "no value at index {i}: the path selects {} value(s)",
                            all.len()
                        ),
                    });
                }
                picked.as_slice()
            }
            None => all,
        };
        if !self.each.is_empty() {
            if nodes.is_empty() {
                // Say what was expected there, not just "a match".
                let expected = if self.each.compares_values() {
                    self.each.describe(Some(cx.scope), self.sensitive)
                } else {
                    "a match".to_string()
                };
                return Err(Miss {
                    expected,
                    reason: "no value at this path".into(),
                });
            }
            self.each.test_all(nodes, cx)?;
        }
        if let Some(want) = self.exists {
            let has = !all.is_empty();
            if has != want {
                let (exp, why) = if want {
                    ("present", "missing, expected it to exist")
                } else {
                    ("absent", "present, expected it to be absent")
                };
                return Err(Miss {
                    expected: exp.into(),
                    reason: why.into(),
                });
            }
        }
        match &self.count {
            Some(Count::Exact(c)) if all.len() != *c => {
                return Err(Miss {
                    expected: format!("{c} matches"),
                    reason: format!("expected {c} matches, got {}", all.len()),
                })
            }
            Some(Count::Rule(p)) => {
                let n = Value::from(all.len());
                let plain = Ctx {
                    scope: cx.scope,
                    sensitive: false,
                    text: false,
                    now: cx.now,
                };
                if p.test(&n, &plain).is_err() {
                    let d = p.describe(Some(cx.scope), false);
                    return Err(Miss {
                        expected: format!("count {d}"),
                        reason: format!("expected count {d}, got {} matches", all.len()),
                    });
                }
            }
            _ => {}
        }
        if let Some(c) = self.min_count {
            if all.len() < c {
                return Err(Miss {
                    expected: format!("at least {c} matches"),
                    reason: format!("expected at least {c} matches, got {}", all.len()),
                });
            }
        }
        for (q, p) in &self.quants {
            q.judge(p, all, cx).map_err(|m| Miss {
                expected: m.expected,
                reason: format!("{}: {}", q.key(), m.reason),
            })?;
        }
        Ok(())
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
