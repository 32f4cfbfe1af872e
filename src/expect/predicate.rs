//! The predicate vocabulary shared by every expectation that judges values: JSONPath nodes,
//! header values (and, later, DNS TXT values or cookies). A [`Predicate`] is compiled once in
//! the plan from a [`PredicateDef`] and tests one value; quantifiers over several values
//! (`any`, `all`, `none`) are a [`Quantifier`]; `nth` and `count` live with the expectation.
//!
//! Vocabulary: `equals`, `not_equals`, `one_of`, `matches`, `contains`, `type`,
//! `gt`/`gte`/`lt`/`lte`, `length`, `date`, `newer_than`, `older_than`, `before`, `after`,
//! `not`. Every key given must hold.
//!
//! Reusing it for another kind of value (a DNS TXT record, a cookie attribute): put a
//! `PredicateDef` (or the fields of one) in the model, compile it with
//! [`Predicate::compile`] / [`Predicate::compile_block`] when the plan is built, and judge
//! each value with [`Predicate::test`] — or several with [`Quantifier::judge`] — under a
//! [`Ctx`] (`text: true` for values that are texts: numbers and dates are read from them).
//! A [`Miss`] carries what was expected and the reason in words for the outcome.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use regex::Regex;
use serde_json::Value;

use super::{show, ExpectError, SchemaCache};
use crate::interp::{JsonTemplate, Scope, Template};
use crate::suite::model::{DateFormat, PredicateDef, SizeDef};

/// Why a value does not satisfy a predicate: what was expected, and the reason in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Miss {
    /// What was expected (`"ok"`, `gte 5`, `newer than 10m`).
    pub expected: String,
    /// Why the value failed (`expected "ok", got "error"`).
    pub reason: String,
}

impl Miss {
    fn new(expected: impl Into<String>, reason: impl Into<String>) -> Self {
        Miss {
            expected: expected.into(),
            reason: reason.into(),
        }
    }
}

/// What a test needs besides the value.
pub struct Ctx<'a> {
    /// Variables and captures, for templated expected values.
    pub scope: &'a Scope,
    /// Values are secret: shown as `[REDACTED]`.
    pub sensitive: bool,
    /// Values are texts (header values): a number or date is read from the text, and
    /// expected values are compared as text.
    pub text: bool,
    /// The time freshness checks count from (one per response, so one response is judged
    /// against one "now").
    pub now: DateTime<Utc>,
}

impl Ctx<'_> {
    fn shown(&self, v: &Value) -> String {
        if self.sensitive {
            "[REDACTED]".into()
        } else {
            show(v)
        }
    }
}

/// An expected value: compiled (templates keep the referenced value's JSON type), and as
/// written, for descriptions.
#[derive(Debug)]
pub(crate) struct Expected {
    pub(crate) value: JsonTemplate,
    pub(crate) written: Value,
}

impl Expected {
    pub(crate) fn compile(v: &Value) -> Result<Self, ExpectError> {
        check_exact(v, "expected value")?;
        Ok(Expected {
            value: JsonTemplate::compile(v).map_err(|source| ExpectError::Template {
                field: "expected value".into(),
                source,
            })?,
            written: v.clone(),
        })
    }

    /// The expected value; as text when values are texts.
    fn eval(&self, cx: &Ctx) -> Result<Value, Miss> {
        let v = self
            .value
            .eval(cx.scope)
            .map_err(|e| Miss::new(String::new(), e.to_string()))?;
        Ok(match v {
            Value::String(_) => v,
            other if cx.text => Value::String(other.to_string()),
            other => other,
        })
    }
}

/// A numeric bound: a number, or a template that yields one.
#[derive(Debug)]
pub(crate) enum Operand {
    Num(Bound),
    Tpl(Template, String),
}

/// A bound's value: as a float, and as exact integer text when it is an integer (so integers
/// beyond 2^53 compare exactly).
#[derive(Debug, Clone)]
pub(crate) struct Bound {
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
        let f: f64 = t.parse().ok()?;
        if !f.is_finite() {
            return None;
        }
        Some(Bound {
            f,
            int: is_integer_text(t).then(|| t.trim_start_matches('+').to_string()),
        })
    }
}

impl Operand {
    pub(crate) fn compile(op: &'static str, v: &Value) -> Result<Self, ExpectError> {
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

    /// The bound's value: a number, or a numeric string; anything else is an error in words.
    pub(crate) fn value(&self, scope: &Scope) -> Result<Bound, String> {
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

/// A date to compare with: a literal (checked when the plan is built) or a template.
#[derive(Debug)]
pub(crate) struct DateOperand {
    tpl: Template,
    written: String,
}

impl DateOperand {
    fn compile(field: &'static str, s: &str) -> Result<Self, ExpectError> {
        let tpl = Template::parse(s).map_err(|source| ExpectError::Template {
            field: field.into(),
            source,
        })?;
        if tpl.is_literal() && parse_bound(&Value::String(s.into())).is_err() {
            return Err(ExpectError::Date {
                field,
                got: s.to_string(),
            });
        }
        Ok(DateOperand {
            tpl,
            written: s.to_string(),
        })
    }

    fn value(&self, scope: &Scope) -> Result<DateTime<Utc>, String> {
        let v = self.tpl.eval(scope).map_err(|e| e.to_string())?;
        parse_bound(&v).map_err(|_| {
            format!(
                "{} is {}, not a date (RFC 3339, YYYY-MM-DD, HTTP date or Unix seconds)",
                self.written,
                show(&v)
            )
        })
    }
}

/// Integers beyond 2^53 written in a suite lose digits when YAML reads them as numbers:
/// such a number cannot be compared exactly, and saying so beats a wrong verdict.
pub(crate) fn check_exact(v: &Value, field: &str) -> Result<(), ExpectError> {
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
pub(crate) fn is_integer_text(t: &str) -> bool {
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Compare two integer literals exactly, whatever their size.
pub(crate) fn cmp_integers(a: &str, b: &str) -> std::cmp::Ordering {
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

/// JSON equality where 1 == 1.0 (at any depth), integers of any size compare exactly, and
/// an integer equals a string holding the same integer literal (how a suite writes one
/// beyond 2^53).
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
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
/// the text they were received as, so an integer beyond 64 bits is still one, and `1.0` is
/// not one.
pub(crate) fn is_integer(n: &serde_json::Number) -> bool {
    n.is_i64() || n.is_u64() || !n.to_string().contains(['.', 'e', 'E'])
}

pub(crate) fn canonical_integer(n: &serde_json::Number) -> String {
    let t = n.to_string();
    if t == "-0" {
        "0".into()
    } else {
        t
    }
}

/// The JSON types `type:` accepts.
pub(crate) const TYPES: &[&str] = &[
    "string", "number", "integer", "boolean", "object", "array", "null",
];

/// The type of `v` as `type: wanted` sees it: `integer` is told by the JSON text (`1.0` is a
/// number, not an integer).
pub(crate) fn type_name<'a>(v: &Value, wanted: &'a str) -> &'a str {
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

/// A `before`/`after` bound: any date form, and Unix time also as digits (`${gen.unix}`
/// renders text), read by the same seconds-or-milliseconds rule as a number under `any`.
fn parse_bound(v: &Value) -> Result<DateTime<Utc>, &'static str> {
    match v {
        Value::String(s) if is_integer_text(s.trim()) => {
            let n: f64 = s.trim().parse().map_err(|_| "not a number")?;
            parse_date(&Value::from(n), DateFormat::Any)
        }
        _ => parse_date(v, DateFormat::Any),
    }
}

/// Under `date: any`, a number at least this large (in magnitude) is Unix milliseconds: as
/// seconds it would be after the year 5138, as milliseconds it is after March 1973.
pub const ANY_MILLIS_FROM: f64 = 1.0e11;

/// How far in the future a date may be and still pass `newer_than`: clocks of the
/// deployment and of the runner differ a little.
pub const CLOCK_SKEW: Duration = Duration::from_secs(300);

/// Read a date in the given form. A number (or, for `unix`, a digit string) is Unix time;
/// under `any` a number is seconds below [`ANY_MILLIS_FROM`], milliseconds from there.
pub(crate) fn parse_date(v: &Value, form: DateFormat) -> Result<DateTime<Utc>, &'static str> {
    use DateFormat::*;
    let unix = |secs: f64, ms: bool| {
        let millis = if ms { secs } else { secs * 1000.0 };
        if !millis.is_finite() || millis.abs() > 8.0e15 {
            return Err("out of range");
        }
        DateTime::<Utc>::from_timestamp_millis(millis as i64).ok_or("out of range")
    };
    match (v, form) {
        (Value::Number(n), Unix) => unix(n.as_f64().ok_or("not a number")?, false),
        (Value::Number(n), Any) => {
            let x = n.as_f64().ok_or("not a number")?;
            unix(x, x.abs() >= ANY_MILLIS_FROM)
        }
        (Value::Number(n), UnixMs) => unix(n.as_f64().ok_or("not a number")?, true),
        (Value::String(s), Unix | UnixMs) => {
            let t = s.trim();
            if !is_integer_text(t) {
                return Err("not Unix time");
            }
            unix(t.parse().map_err(|_| "not a number")?, form == UnixMs)
        }
        (Value::String(s), _) => {
            let t = s.trim();
            let rfc3339 = || {
                DateTime::parse_from_rfc3339(t)
                    .map(|d| d.with_timezone(&Utc))
                    .ok()
            };
            let date = || {
                NaiveDate::parse_from_str(t, "%Y-%m-%d")
                    .ok()
                    .filter(|_| t.len() == 10)
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map(|d| d.and_utc())
            };
            let http = || {
                DateTime::parse_from_rfc2822(t)
                    .map(|d| d.with_timezone(&Utc))
                    .ok()
            };
            let found = match form {
                Rfc3339 => rfc3339(),
                Date => date(),
                Http => http(),
                _ => rfc3339().or_else(date).or_else(http),
            };
            found.ok_or("not a date")
        }
        _ => Err("not a date"),
    }
}

/// How a date form is named in messages.
fn form_name(form: DateFormat) -> &'static str {
    match form {
        DateFormat::Rfc3339 => "an RFC 3339 date-time",
        DateFormat::Date => "a YYYY-MM-DD date",
        DateFormat::Http => "an HTTP date",
        DateFormat::Unix => "Unix seconds",
        DateFormat::UnixMs => "Unix milliseconds",
        DateFormat::Any => "a date",
    }
}

fn form_key(form: DateFormat) -> &'static str {
    match form {
        DateFormat::Rfc3339 => "rfc3339",
        DateFormat::Date => "date",
        DateFormat::Http => "http",
        DateFormat::Unix => "unix",
        DateFormat::UnixMs => "unix_ms",
        DateFormat::Any => "any",
    }
}

/// A duration as people write it: `2h 5m`, `45s`, `3d 4h`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s == 0 {
        return format!("{} ms", d.as_millis());
    }
    let (days, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    let parts: Vec<String> = [(days, "d"), (h, "h"), (m, "m"), (sec, "s")]
        .iter()
        .filter(|(n, _)| *n > 0)
        .take(2)
        .map(|(n, u)| format!("{n}{u}"))
        .collect();
    parts.join(" ")
}

/// One part of a predicate.
#[derive(Debug)]
enum Part {
    Equals(Expected),
    NotEquals(Expected),
    OneOf(Vec<Expected>),
    Matches(Regex),
    Contains(Expected),
    Type(String),
    Cmp(&'static str, Operand),
    Length(Box<Predicate>),
    Date(DateFormat),
    NewerThan(Duration),
    OlderThan(Duration),
    Before(DateOperand),
    After(DateOperand),
    Not(Box<Predicate>),
}

/// A compiled predicate on one value: every part must hold.
#[derive(Debug, Default)]
pub struct Predicate {
    parts: Vec<Part>,
    /// The date form freshness and date comparisons read (`date:`, else any form).
    form: Option<DateFormat>,
}

/// The value fields of a predicate, borrowed from whichever definition holds them (a
/// JSONPath entry, a header rule, or a nested `not`/`any`/… block).
#[derive(Default, Clone, Copy)]
pub struct Fields<'a> {
    /// The `equals` key.
    pub equals: Option<&'a Value>,
    /// The `not_equals` key.
    pub not_equals: Option<&'a Value>,
    /// The `one_of` key.
    pub one_of: Option<&'a [Value]>,
    /// The `matches` key.
    pub matches: Option<&'a str>,
    /// The `contains` key.
    pub contains: Option<&'a Value>,
    /// The `type` key.
    pub type_: Option<&'a str>,
    /// The `gt` key.
    pub gt: Option<&'a Value>,
    /// The `gte` key.
    pub gte: Option<&'a Value>,
    /// The `lt` key.
    pub lt: Option<&'a Value>,
    /// The `lte` key.
    pub lte: Option<&'a Value>,
    /// The `length` key.
    pub length: Option<&'a SizeDef>,
    /// The `date` key.
    pub date: Option<DateFormat>,
    /// The `newer_than` key.
    pub newer_than: Option<Duration>,
    /// The `older_than` key.
    pub older_than: Option<Duration>,
    /// The `before` key.
    pub before: Option<&'a str>,
    /// The `after` key.
    pub after: Option<&'a str>,
    /// The `not` key.
    pub not: Option<&'a PredicateDef>,
}

impl<'a> From<&'a PredicateDef> for Fields<'a> {
    fn from(d: &'a PredicateDef) -> Self {
        Fields {
            equals: d.equals.as_ref(),
            not_equals: d.not_equals.as_ref(),
            one_of: d.one_of.as_deref(),
            matches: d.matches.as_deref(),
            contains: d.contains.as_ref(),
            type_: d.type_.as_deref(),
            gt: d.gt.as_ref(),
            gte: d.gte.as_ref(),
            lt: d.lt.as_ref(),
            lte: d.lte.as_ref(),
            length: d.length.as_deref(),
            date: d.date,
            newer_than: d.newer_than.map(|d| d.0),
            older_than: d.older_than.map(|d| d.0),
            before: d.before.as_deref(),
            after: d.after.as_deref(),
            not: d.not.as_deref(),
        }
    }
}

/// Deepest nesting of `not`/`length` blocks.
pub(crate) const MAX_DEPTH: usize = 8;

impl Predicate {
    /// Compile a nested predicate block (`not`, `any`, …); it must have at least one key.
    pub fn compile_block(
        field: &'static str,
        def: &PredicateDef,
        cache: &mut SchemaCache,
    ) -> Result<Self, Vec<ExpectError>> {
        let p = Self::compile(def.into(), cache, 0)?;
        if p.is_empty() {
            return Err(vec![ExpectError::EmptyPredicate(field)]);
        }
        Ok(p)
    }

    /// Compile; every problem is returned, not only the first.
    pub fn compile(
        f: Fields<'_>,
        cache: &mut SchemaCache,
        depth: usize,
    ) -> Result<Self, Vec<ExpectError>> {
        let mut errs = Vec::new();
        let mut parts = Vec::new();
        fn take(r: Result<Part, ExpectError>, parts: &mut Vec<Part>, errs: &mut Vec<ExpectError>) {
            match r {
                Ok(p) => parts.push(p),
                Err(e) => errs.push(e),
            }
        }
        if depth > MAX_DEPTH {
            return Err(vec![ExpectError::PredicateDepth(MAX_DEPTH)]);
        }
        if let Some(v) = f.equals {
            take(
                Expected::compile(v).map(Part::Equals),
                &mut parts,
                &mut errs,
            );
        }
        if let Some(v) = f.not_equals {
            take(
                Expected::compile(v).map(Part::NotEquals),
                &mut parts,
                &mut errs,
            );
        }
        if let Some(v) = f.one_of {
            let values = v.iter().map(Expected::compile).collect::<Result<_, _>>();
            take(values.map(Part::OneOf), &mut parts, &mut errs);
        }
        if let Some(r) = f.matches {
            take(cache.regex(r).map(Part::Matches), &mut parts, &mut errs);
        }
        if let Some(v) = f.contains {
            take(
                Expected::compile(v).map(Part::Contains),
                &mut parts,
                &mut errs,
            );
        }
        if let Some(t) = f.type_ {
            if TYPES.contains(&t) {
                parts.push(Part::Type(t.to_string()));
            } else {
                errs.push(ExpectError::Type(t.to_string()));
            }
        }
        for (op, v) in [("gt", f.gt), ("gte", f.gte), ("lt", f.lt), ("lte", f.lte)] {
            if let Some(v) = v {
                take(
                    Operand::compile(op, v).map(|o| Part::Cmp(op, o)),
                    &mut parts,
                    &mut errs,
                );
            }
        }
        if let Some(l) = f.length {
            match Self::size(l, cache, depth + 1) {
                Ok(p) => parts.push(Part::Length(Box::new(p))),
                Err(es) => errs.extend(es),
            }
        }
        if let Some(form) = f.date {
            parts.push(Part::Date(form));
        }
        if let Some(d) = f.newer_than {
            parts.push(Part::NewerThan(d));
        }
        if let Some(d) = f.older_than {
            parts.push(Part::OlderThan(d));
        }
        if let Some(s) = f.before {
            take(
                DateOperand::compile("before", s).map(Part::Before),
                &mut parts,
                &mut errs,
            );
        }
        if let Some(s) = f.after {
            take(
                DateOperand::compile("after", s).map(Part::After),
                &mut parts,
                &mut errs,
            );
        }
        if let Some(n) = f.not {
            match Self::compile(n.into(), cache, depth + 1) {
                Ok(p) if p.is_empty() => errs.push(ExpectError::EmptyPredicate("not")),
                Ok(p) => parts.push(Part::Not(Box::new(p))),
                Err(es) => errs.extend(es),
            }
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        parts.shrink_to_fit();
        Ok(Predicate {
            parts,
            form: f.date,
        })
    }

    /// Compile a size (`length`, `count`): a number means `equals`.
    pub fn size(
        def: &SizeDef,
        cache: &mut SchemaCache,
        depth: usize,
    ) -> Result<Self, Vec<ExpectError>> {
        match def {
            SizeDef::Exact(n) => Ok(Predicate {
                parts: vec![Part::Equals(
                    Expected::compile(&Value::from(*n)).map_err(|e| vec![e])?,
                )],
                form: None,
            }),
            SizeDef::Rule(r) => {
                let p = Self::compile(Fields::from(&**r), cache, depth)?;
                if p.is_empty() {
                    return Err(vec![ExpectError::EmptyPredicate("length/count")]);
                }
                Ok(p)
            }
        }
    }

    /// True when nothing is checked.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// True when a part compares with an expected value (`equals`, `not_equals`, `one_of`):
    /// the failure on a missing value then says what was expected there.
    pub fn compares_values(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Equals(_) | Part::NotEquals(_) | Part::OneOf(_)))
    }

    /// Templates the predicate renders (for the plan's check of variables).
    pub fn templates(&self) -> Vec<&Template> {
        let mut out = Vec::new();
        for p in &self.parts {
            match p {
                Part::Equals(v) | Part::NotEquals(v) | Part::Contains(v) => {
                    out.extend(v.value.templates())
                }
                Part::OneOf(vs) => vs.iter().for_each(|v| out.extend(v.value.templates())),
                Part::Cmp(_, Operand::Tpl(t, _)) => out.push(t),
                Part::Before(d) | Part::After(d) => out.push(&d.tpl),
                Part::Length(p) | Part::Not(p) => out.extend(p.templates()),
                _ => {}
            }
        }
        out
    }

    /// The predicate as reports show it (`== "ok", matches /x/`); with a scope, templates
    /// show the values compared (masked when `sensitive`).
    pub fn describe(&self, scope: Option<&Scope>, sensitive: bool) -> String {
        let value = |e: &Expected| match scope.map(|s| e.value.eval(s)) {
            Some(Ok(_)) if sensitive => Value::String("[REDACTED]".into()),
            Some(Ok(v)) => v,
            _ => e.written.clone(),
        };
        let date = |d: &DateOperand| match scope.map(|s| d.value(s)) {
            Some(Ok(t)) => t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            _ => d.written.clone(),
        };
        let parts: Vec<String> = self
            .parts
            .iter()
            .map(|p| match p {
                Part::Equals(v) => format!("== {}", show(&value(v))),
                Part::NotEquals(v) => format!("!= {}", show(&value(v))),
                Part::OneOf(v) => format!(
                    "one of {}",
                    show(&Value::Array(v.iter().map(value).collect()))
                ),
                Part::Cmp(op, v) => match scope.map(|s| v.value(s)) {
                    Some(Ok(n)) => format!("{op} {n}"),
                    _ => format!("{op} {v}"),
                },
                Part::Matches(r) => format!("matches /{}/", r.as_str()),
                Part::Contains(v) => format!("contains {}", show(&value(v))),
                Part::Type(t) => format!("is {t}"),
                Part::Length(p) => format!("length {}", p.describe(scope, false)),
                Part::Date(f) => format!("is {}", form_name(*f)),
                Part::NewerThan(d) => format!("newer than {}", human(*d)),
                Part::OlderThan(d) => format!("older than {}", human(*d)),
                Part::Before(d) => format!("before {}", date(d)),
                Part::After(d) => format!("after {}", date(d)),
                Part::Not(p) => format!("not ({})", p.describe(scope, sensitive)),
            })
            .collect();
        parts.join(", ")
    }

    /// Test one value: Ok, or the first part it fails.
    pub fn test(&self, v: &Value, cx: &Ctx) -> Result<(), Miss> {
        self.parts.iter().try_for_each(|p| self.part(p, v, cx))
    }

    /// Test several values, part by part (the first part any value fails is reported): the
    /// meaning of predicates written at the top level of a JSONPath entry.
    pub fn test_all(&self, values: &[&Value], cx: &Ctx) -> Result<(), Miss> {
        for p in &self.parts {
            for v in values {
                self.part(p, v, cx)?;
            }
        }
        Ok(())
    }

    /// True when the value satisfies the predicate.
    pub fn holds(&self, v: &Value, cx: &Ctx) -> bool {
        self.test(v, cx).is_ok()
    }

    fn part(&self, p: &Part, v: &Value, cx: &Ctx) -> Result<(), Miss> {
        let shown = || cx.shown(v);
        match p {
            Part::Equals(e) => {
                let want = e.eval(cx)?;
                if !json_eq(v, &want) {
                    return Err(Miss::new(
                        show(&want),
                        format!("expected {}, got {}", show(&want), shown()),
                    ));
                }
            }
            Part::NotEquals(e) => {
                let bad = e.eval(cx)?;
                if json_eq(v, &bad) {
                    return Err(Miss::new(
                        format!("not {}", show(&bad)),
                        format!("must not be {}", show(&bad)),
                    ));
                }
            }
            Part::OneOf(es) => {
                let want: Vec<Value> = es.iter().map(|e| e.eval(cx)).collect::<Result<_, _>>()?;
                if !want.iter().any(|w| json_eq(v, w)) {
                    let w = show(&Value::Array(want));
                    return Err(Miss::new(
                        format!("one of {w}"),
                        format!("expected one of {w}, got {}", shown()),
                    ));
                }
            }
            Part::Matches(r) => {
                let s = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                if !r.is_match(&s) {
                    return Err(Miss::new(
                        format!("/{}/", r.as_str()),
                        format!("{} does not match /{}/", shown(), r.as_str()),
                    ));
                }
            }
            Part::Contains(e) => {
                let want = e.eval(cx)?;
                let ok = match (v, &want) {
                    (Value::String(s), Value::String(w)) => s.contains(w.as_str()),
                    (Value::String(s), other) => s.contains(&other.to_string()),
                    (Value::Array(a), w) => a.iter().any(|x| json_eq(x, w)),
                    (Value::Object(o), Value::String(k)) => o.contains_key(k),
                    _ => {
                        return Err(Miss::new(
                            format!("contains {}", show(&want)),
                            format!("expected a string, an array or an object, got {}", shown()),
                        ))
                    }
                };
                if !ok {
                    return Err(Miss::new(
                        format!("contains {}", show(&want)),
                        format!("{} does not contain {}", shown(), show(&want)),
                    ));
                }
            }
            Part::Type(t) => {
                let got = type_name(v, t);
                if got != t {
                    return Err(Miss::new(t.clone(), format!("expected {t}, got {got}")));
                }
            }
            Part::Cmp(op, bound) => self.cmp(op, bound, v, cx)?,
            Part::Length(p) => {
                let n = match v {
                    Value::String(s) => s.chars().count(),
                    Value::Array(a) => a.len(),
                    Value::Object(o) => o.len(),
                    _ => {
                        return Err(Miss::new(
                            format!("length {}", p.describe(Some(cx.scope), false)),
                            format!("expected a string, an array or an object, got {}", shown()),
                        ))
                    }
                };
                let inner = Ctx {
                    scope: cx.scope,
                    sensitive: false,
                    text: false,
                    now: cx.now,
                };
                if p.test(&Value::from(n), &inner).is_err() {
                    let want = p.describe(Some(cx.scope), false);
                    return Err(Miss::new(
                        format!("length {want}"),
                        format!("length of {} is {n}, expected {want}", shown()),
                    ));
                }
            }
            Part::Date(form) => {
                self.date(v, *form, cx)?;
            }
            Part::NewerThan(d) | Part::OlderThan(d) => {
                let newer = matches!(p, Part::NewerThan(_));
                let word = if newer { "newer" } else { "older" };
                let t = self.date(v, self.form.unwrap_or(DateFormat::Any), cx)?;
                let age = cx.now.signed_duration_since(t);
                let limit = chrono::Duration::from_std(*d).unwrap_or(chrono::TimeDelta::MAX);
                // A date ahead of now by more than the clock-skew allowance is not fresh: it
                // is a wrong clock or a misread unit.
                let skew = chrono::Duration::from_std(CLOCK_SKEW).unwrap_or_default();
                let ok = if newer {
                    age <= limit && age >= -skew
                } else {
                    age >= limit
                };
                if !ok {
                    let said = if age < chrono::TimeDelta::zero() {
                        format!(
                            "{} is {} in the future",
                            shown(),
                            human((-age).to_std().unwrap_or_default())
                        )
                    } else {
                        format!(
                            "{} is {} old",
                            shown(),
                            human(age.to_std().unwrap_or_default())
                        )
                    };
                    return Err(Miss::new(
                        format!("{word} than {}", human(*d)),
                        format!("{said}, expected {word} than {}", human(*d)),
                    ));
                }
            }
            Part::Before(d) | Part::After(d) => {
                let before = matches!(p, Part::Before(_));
                let word = if before { "before" } else { "after" };
                let t = self.date(v, self.form.unwrap_or(DateFormat::Any), cx)?;
                let limit = d
                    .value(cx.scope)
                    .map_err(|e| Miss::new(format!("{word} {}", d.written), e))?;
                let ok = if before { t < limit } else { t > limit };
                if !ok {
                    let l = limit.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
                    return Err(Miss::new(
                        format!("{word} {l}"),
                        format!("{} is not {word} {l}", shown()),
                    ));
                }
            }
            Part::Not(p) => {
                if p.holds(v, cx) {
                    let d = p.describe(Some(cx.scope), cx.sensitive);
                    return Err(Miss::new(
                        format!("not ({d})"),
                        format!("expected not ({d}), got {}", shown()),
                    ));
                }
            }
        }
        Ok(())
    }

    fn date(&self, v: &Value, form: DateFormat, cx: &Ctx) -> Result<DateTime<Utc>, Miss> {
        parse_date(v, form).map_err(|_| {
            Miss::new(
                form_name(form).to_string(),
                format!("{} is not {}", cx.shown(v), form_name(form)),
            )
        })
    }

    /// `gt`, `gte`, `lt`, `lte`: the value is a number on the right side of the bound (for
    /// texts, a text that holds a number).
    fn cmp(&self, op: &str, bound: &Operand, v: &Value, cx: &Ctx) -> Result<(), Miss> {
        use std::cmp::Ordering;
        let b = bound
            .value(cx.scope)
            .map_err(|e| Miss::new(format!("{op} {bound}"), e))?;
        let x = match v {
            Value::Number(n) => Bound::of_number(n),
            Value::String(s) if cx.text => Bound::of_text(s),
            _ => None,
        };
        let Some(x) = x else {
            return Err(Miss::new(
                format!("number {op} {b}"),
                format!("expected a number, got {}", cx.shown(v)),
            ));
        };
        // Integers compare exactly; anything else as floats.
        let order = match (&b.int, &x.int) {
            (Some(bi), Some(xi)) => cmp_integers(xi, bi),
            _ => x.f.partial_cmp(&b.f).unwrap_or(Ordering::Equal),
        };
        let ok = match op {
            "gt" => order == Ordering::Greater,
            "gte" => order != Ordering::Less,
            "lt" => order == Ordering::Less,
            _ => order != Ordering::Greater,
        };
        if !ok {
            let shown = if cx.sensitive {
                "[REDACTED]".to_string()
            } else {
                match v {
                    Value::String(s) => s.trim().to_string(),
                    other => other.to_string(),
                }
            };
            return Err(Miss::new(
                format!("{op} {b}"),
                format!("{shown} is not {op} {b}"),
            ));
        }
        Ok(())
    }

    /// A short key of the date form, for cache keys.
    pub fn form_key(f: Option<DateFormat>) -> &'static str {
        f.map(form_key).unwrap_or("")
    }
}

/// A quantifier over several values (the nodes a JSONPath selects, the values of a header).
#[derive(Debug)]
pub enum Quantifier {
    /// At least one value satisfies it.
    Any,
    /// Every value satisfies it, and there is at least one.
    All,
    /// No value satisfies it (no value at all passes).
    None,
}

impl Quantifier {
    /// The key as written.
    pub fn key(&self) -> &'static str {
        match self {
            Quantifier::Any => "any",
            Quantifier::All => "all",
            Quantifier::None => "none",
        }
    }

    /// Judge values: Ok, or (expected, reason).
    pub fn judge(&self, p: &Predicate, values: &[&Value], cx: &Ctx) -> Result<(), Miss> {
        // Described only when it fails: a passing check formats nothing.
        let d = || p.describe(Some(cx.scope), cx.sensitive);
        let n = values.len();
        match self {
            Quantifier::Any => {
                if values.iter().any(|v| p.holds(v, cx)) {
                    return Ok(());
                }
                let why = match values {
                    [] => "no value to test".to_string(),
                    [one] => p.test(one, cx).err().map(|m| m.reason).unwrap_or_default(),
                    _ => format!("none of the {n} values satisfies {}", d()),
                };
                Err(Miss::new(format!("any value {}", d()), why))
            }
            Quantifier::All => {
                if values.is_empty() {
                    return Err(Miss::new(
                        format!("every value {}", d()),
                        "no value to test",
                    ));
                }
                for (i, v) in values.iter().enumerate() {
                    if let Err(m) = p.test(v, cx) {
                        let at = if n > 1 {
                            format!("value {} of {n}: ", i + 1)
                        } else {
                            String::new()
                        };
                        return Err(Miss::new(format!("every value {}", d()), at + &m.reason));
                    }
                }
                Ok(())
            }
            Quantifier::None => {
                for (i, v) in values.iter().enumerate() {
                    if p.holds(v, cx) {
                        let at = if n > 1 {
                            format!(" (value {} of {n})", i + 1)
                        } else {
                            String::new()
                        };
                        let d = d();
                        return Err(Miss::new(
                            format!("no value {d}"),
                            format!("expected no value {d}, got {}{at}", cx.shown(v)),
                        ));
                    }
                }
                Ok(())
            }
        }
    }
}

/// Pick the `nth` value (negative counts from the end).
pub fn nth<T: Copy>(values: &[T], i: i64) -> Option<T> {
    let n = values.len() as i64;
    let k = if i < 0 { n + i } else { i };
    (0..n).contains(&k).then(|| values[k as usize])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pred(yaml: &str) -> Predicate {
        let def: PredicateDef = serde_saphyr::from_str(yaml).unwrap();
        Predicate::compile((&def).into(), &mut SchemaCache::default(), 0).unwrap()
    }

    fn cx(scope: &Scope) -> Ctx<'_> {
        Ctx {
            scope,
            sensitive: false,
            text: false,
            now: DateTime::parse_from_rfc3339("2026-12-03T12:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
        }
    }

    #[test]
    fn every_key_of_the_vocabulary_judges_one_value() {
        let s = Scope::default();
        let c = cx(&s);
        let j = |t: &str| -> Value { serde_json::from_str(t).unwrap() };
        assert!(pred("{length: 3}").holds(&j("\"abc\""), &c));
        assert_eq!(
            pred("{length: {gte: 4}}")
                .test(&j("[1,2]"), &c)
                .unwrap_err()
                .reason,
            "length of [1,2] is 2, expected gte 4"
        );
        assert!(pred("{not: {equals: down}}").holds(&j("\"up\""), &c));
        assert_eq!(
            pred("{not: {matches: '^x'}}")
                .test(&j("\"xy\""), &c)
                .unwrap_err()
                .reason,
            "expected not (matches /^x/), got \"xy\""
        );
        assert!(pred("{contains: b}").holds(&j("[\"a\",\"b\"]"), &c));
        assert!(pred("{newer_than: 10m}").holds(&j("\"2026-12-03T11:55:00Z\""), &c));
        assert_eq!(
            pred("{newer_than: 10m}")
                .test(&j("\"2026-12-03T10:00:00Z\""), &c)
                .unwrap_err()
                .reason,
            "\"2026-12-03T10:00:00Z\" is 2h old, expected newer than 10m"
        );
        assert!(pred("{older_than: 1h}").holds(&j("\"Thu, 03 Dec 2026 10:00:00 GMT\""), &c));
        assert!(pred("{date: rfc3339}")
            .test(&j("\"2026-12-03\""), &c)
            .is_err());
        assert!(pred("{date: date}").holds(&j("\"2026-12-03\""), &c));
        assert!(pred("{after: '2026-01-01'}").holds(&j("1796300000"), &c));
        assert!(pred("{type: integer}").test(&j("1.0"), &c).is_err());
        assert!(pred("{gt: '100000000000000000000'}")
            .test(&j("100000000000000000001"), &c)
            .is_ok());
    }

    #[test]
    fn newer_than_fails_a_date_in_the_future_beyond_clock_skew() {
        let s = Scope::default();
        let c = cx(&s);
        let j = |t: &str| -> Value { serde_json::from_str(t).unwrap() };
        // Within the 5-minute allowance: a clock a little ahead.
        assert!(pred("{newer_than: 10m}").holds(&j("\"2026-12-03T12:04:00Z\""), &c));
        assert_eq!(
            pred("{newer_than: 10m}")
                .test(&j("\"2099-01-01T00:00:00Z\""), &c)
                .unwrap_err()
                .reason,
            "\"2099-01-01T00:00:00Z\" is 26326d 12h in the future, expected newer than 10m"
        );
        assert_eq!(
            pred("{date: http, newer_than: 1d}")
                .test(&j("\"Thu, 01 Jan 2099 00:00:00 GMT\""), &c)
                .unwrap_err()
                .reason,
            "\"Thu, 01 Jan 2099 00:00:00 GMT\" is 26326d 12h in the future, expected newer than 1d"
        );
        assert!(pred("{older_than: 1h}")
            .test(&j("\"2026-12-03T12:04:00Z\""), &c)
            .is_err());
    }

    #[test]
    fn any_reads_a_number_too_large_for_seconds_as_milliseconds() {
        let s = Scope::default();
        let c = cx(&s);
        let j = |t: &str| -> Value { serde_json::from_str(t).unwrap() };
        // 2020-01-01 in milliseconds: old, not far future.
        assert_eq!(
            pred("{newer_than: 10m}")
                .test(&j("1577836800000"), &c)
                .unwrap_err()
                .reason,
            "1577836800000 is 2528d 12h old, expected newer than 10m"
        );
        // 2026-12-03T11:59:00Z in milliseconds and in seconds.
        assert!(pred("{newer_than: 10m}").holds(&j("1796299140000"), &c));
        assert!(pred("{newer_than: 10m}").holds(&j("1796299140"), &c));
        assert!(pred("{date: unix, older_than: 1d}").holds(&j("1577836800"), &c));
        // `unix` is seconds whatever the size: milliseconds read as seconds are far future.
        assert!(pred("{date: unix, newer_than: 10m}")
            .test(&j("1577836800000"), &c)
            .unwrap_err()
            .reason
            .contains("in the future"));
    }

    #[test]
    fn a_templated_bound_may_render_unix_seconds() {
        let mut s = Scope::default();
        let vars: std::collections::HashMap<String, Value> = [
            ("text".to_string(), Value::from("1796299200")),
            ("num".to_string(), Value::from(1796299200)),
            ("soon".to_string(), Value::from("soon")),
        ]
        .into();
        s.vars = vars.into();
        let c = cx(&s);
        let j = |t: &str| -> Value { serde_json::from_str(t).unwrap() };
        let v = j("\"2026-12-03T11:00:00Z\"");
        assert!(pred("{before: '${text}'}").holds(&v, &c));
        assert!(pred("{before: '${num}'}").holds(&v, &c));
        assert!(pred("{before: '1796299200'}").holds(&v, &c));
        assert_eq!(
            pred("{after: '${text}'}").test(&v, &c).unwrap_err().reason,
            "\"2026-12-03T11:00:00Z\" is not after 2026-12-03T12:00:00Z"
        );
        assert_eq!(
            pred("{after: '${soon}'}").test(&v, &c).unwrap_err().reason,
            "${soon} is \"soon\", not a date (RFC 3339, YYYY-MM-DD, HTTP date or Unix seconds)"
        );
    }

    #[test]
    fn quantifiers_say_which_value_failed() {
        let s = Scope::default();
        let c = cx(&s);
        let vals: Vec<Value> = vec![1.into(), 5.into(), 9.into()];
        let refs: Vec<&Value> = vals.iter().collect();
        let p = pred("{gt: 4}");
        assert!(Quantifier::Any.judge(&p, &refs, &c).is_ok());
        assert_eq!(
            Quantifier::All.judge(&p, &refs, &c).unwrap_err().reason,
            "value 1 of 3: 1 is not gt 4"
        );
        assert_eq!(
            Quantifier::None.judge(&p, &refs, &c).unwrap_err().reason,
            "expected no value gt 4, got 5 (value 2 of 3)"
        );
        assert!(Quantifier::None.judge(&p, &[], &c).is_ok());
        assert_eq!(nth(&refs, -1), Some(&vals[2]));
        assert_eq!(nth(&refs, 3), None);
    }
}
