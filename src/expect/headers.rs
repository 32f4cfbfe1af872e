//! Header expectations: equals, contains, regex, present, absent, and the shared predicate
//! vocabulary ([`super::predicate`]) over a header's values. A header may have several values
//! (`Set-Cookie`, or a name repeated by the server): a rule written at the top level holds
//! when one value satisfies it (`any`); `all`, `none`, `nth` and `count` say otherwise.

use regex::Regex;
use serde_json::Value;

use super::predicate::{nth, Ctx, Fields, Predicate, Quantifier};
use super::{truncate, ExpectError, Outcome, OutcomeKind, Response};
use crate::interp::{Scope, Template};
use crate::redact::is_credential_header;
use crate::suite::model::{HeaderDef, Severity};
use crate::suite::Pos;

#[derive(Debug)]
enum Rule {
    Equals(Template),
    Contains(Template),
    Matches(Regex),
    Present,
    Absent,
}

/// One compiled header expectation.
#[derive(Debug)]
pub struct HeaderCheck {
    name: String,
    rules: Vec<Rule>,
    /// The newer value keys (`not_equals`, `one_of`, `gt`, `length`, dates, `not`): one value
    /// must satisfy them all.
    pred: Predicate,
    /// `any`, `all`, `none` blocks.
    quants: Vec<(Quantifier, Predicate)>,
    /// The number of values.
    count: Option<Predicate>,
    /// Judge only this value (0 = first, -1 = last).
    nth: Option<i64>,
    /// Whether a failure fails the step.
    pub severity: Severity,
    /// Where the expectation is written.
    pub pos: Option<Pos>,
}

impl HeaderCheck {
    /// Compile one `headers:` entry.
    /// Compile; every problem of the entry is returned, not only the first.
    pub fn compile(
        name: &str,
        def: &HeaderDef,
        pos: Option<Pos>,
        cache: &mut super::SchemaCache,
    ) -> Result<Self, Vec<ExpectError>> {
        let name = name.to_ascii_lowercase();
        let mut errs = Vec::new();
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            errs.push(ExpectError::HeaderName(name.clone()));
        }
        let inside = |source: ExpectError| ExpectError::InHeader {
            name: name.clone(),
            source: Box::new(source),
        };
        let mut rules = Vec::new();
        let mut pred = Predicate::default();
        let mut quants = Vec::new();
        let mut count = None;
        let mut nth_value = None;
        let mut severity = Severity::default();
        let template = |v: &str, errs: &mut Vec<ExpectError>| match Template::parse(v) {
            Ok(t) => Some(t),
            Err(source) => {
                errs.push(ExpectError::Template {
                    field: format!("header `{name}`"),
                    source,
                });
                None
            }
        };
        match def {
            HeaderDef::Equals(v) => rules.extend(template(v, &mut errs).map(Rule::Equals)),
            HeaderDef::Rule(r) => {
                if let Some(v) = &r.equals {
                    rules.extend(template(v, &mut errs).map(Rule::Equals));
                }
                if let Some(v) = &r.contains {
                    rules.extend(template(v, &mut errs).map(Rule::Contains));
                }
                if let Some(v) = &r.matches {
                    match cache.regex(v) {
                        Ok(re) => rules.push(Rule::Matches(re)),
                        Err(e) => errs.push(inside(e)),
                    }
                }
                match (r.present, r.absent) {
                    (Some(true), _) | (_, Some(false)) => rules.push(Rule::Present),
                    (Some(false), _) | (_, Some(true)) => rules.push(Rule::Absent),
                    _ => {}
                }
                let not_equals = r.not_equals.clone().map(Value::String);
                let one_of: Option<Vec<Value>> = r
                    .one_of
                    .as_ref()
                    .map(|v| v.iter().cloned().map(Value::String).collect());
                let fields = Fields {
                    not_equals: not_equals.as_ref(),
                    one_of: one_of.as_deref(),
                    gt: r.gt.as_ref(),
                    gte: r.gte.as_ref(),
                    lt: r.lt.as_ref(),
                    lte: r.lte.as_ref(),
                    length: r.length.as_deref(),
                    date: r.date,
                    newer_than: r.newer_than.map(|d| d.0),
                    older_than: r.older_than.map(|d| d.0),
                    before: r.before.as_deref(),
                    after: r.after.as_deref(),
                    not: r.not.as_deref(),
                    ..Fields::default()
                };
                match Predicate::compile(fields, cache, 0) {
                    Ok(p) => pred = p,
                    Err(es) => errs.extend(es.into_iter().map(inside)),
                }
                for (q, d, key) in [
                    (Quantifier::Any, &r.any, "any"),
                    (Quantifier::All, &r.all, "all"),
                    (Quantifier::None, &r.none, "none"),
                ] {
                    if let Some(d) = d {
                        match Predicate::compile_block(key, d, cache) {
                            Ok(p) => quants.push((q, p)),
                            Err(es) => errs.extend(es.into_iter().map(inside)),
                        }
                    }
                }
                if let Some(c) = &r.count {
                    match Predicate::size(c, cache, 0) {
                        Ok(p) => count = Some(p),
                        Err(es) => errs.extend(es.into_iter().map(inside)),
                    }
                }
                nth_value = r.nth;
                severity = r.severity.unwrap_or_default();
            }
        }
        let checks_something =
            !rules.is_empty() || !pred.is_empty() || !quants.is_empty() || count.is_some();
        if !checks_something && errs.is_empty() {
            errs.push(ExpectError::NoHeaderRule(name.clone()));
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(HeaderCheck {
            name,
            rules,
            pred,
            quants,
            count,
            nth: nth_value,
            severity,
            pos,
        })
    }

    /// Templates this check renders (for static variable checks).
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        let mut out: Vec<&Template> = self
            .rules
            .iter()
            .filter_map(|r| match r {
                Rule::Equals(t) | Rule::Contains(t) => Some(t),
                _ => None,
            })
            .collect();
        out.extend(self.pred.templates());
        for (_, p) in &self.quants {
            out.extend(p.templates());
        }
        if let Some(c) = &self.count {
            out.extend(c.templates());
        }
        out.into_iter()
    }

    /// Judge the response headers.
    pub fn evaluate(&self, resp: &Response, scope: &Scope, pos: Option<Pos>) -> Outcome {
        let mut o = self.judge(resp, scope, pos);
        o.severity = self.severity;
        o
    }

    fn judge(&self, resp: &Response, scope: &Scope, pos: Option<Pos>) -> Outcome {
        let every: Vec<String> = resp
            .headers
            .get_all(&self.name)
            .iter()
            .map(|v| crate::text::header_text(v.as_bytes()).into_owned())
            .collect();
        let values: Vec<String> = match self.nth {
            Some(i) => nth(&every.iter().collect::<Vec<_>>(), i)
                .cloned()
                .into_iter()
                .collect(),
            None => every.clone(),
        };
        let shown = if values.is_empty() {
            "(absent)".to_string()
        } else if is_credential_header(&self.name) {
            "[REDACTED]".to_string()
        } else {
            truncate(&values.join(", "), super::MEMORY_BOUND)
        };
        let n = &self.name;
        if let (Some(i), true) = (self.nth, values.is_empty()) {
            return Outcome::new(OutcomeKind::Header, format!("header {n} nth {i}"), pos).fail(
                format!("a value at index {i}"),
                shown,
                format!(
                    "header `{n}`: no value at index {i}: the header has {} value(s)",
                    every.len()
                ),
            );
        }
        for rule in &self.rules {
            let (desc, ok) = match rule {
                Rule::Present => ("present".to_string(), !values.is_empty()),
                Rule::Absent => ("absent".to_string(), values.is_empty()),
                Rule::Equals(t) => match t.render(scope) {
                    Ok(want) => (format!("= {want:?}"), values.contains(&want)),
                    Err(e) => (e.to_string(), false),
                },
                Rule::Contains(t) => match t.render(scope) {
                    Ok(want) => (
                        format!("contains {want:?}"),
                        values.iter().any(|v| v.contains(&want)),
                    ),
                    Err(e) => (e.to_string(), false),
                },
                Rule::Matches(r) => (
                    format!("matches /{}/", r.as_str()),
                    values.iter().any(|v| r.is_match(v)),
                ),
            };
            if !ok {
                let o = Outcome::new(OutcomeKind::Header, format!("header {n} {desc}"), pos);
                return o.fail(
                    desc.clone(),
                    shown.clone(),
                    format!("header `{n}`: expected {desc}, got {shown}"),
                );
            }
        }
        let cx = Ctx {
            scope,
            sensitive: is_credential_header(n),
            text: true,
            now: chrono::Utc::now(),
        };
        let as_json: Vec<Value> = values.iter().cloned().map(Value::String).collect();
        let refs: Vec<&Value> = as_json.iter().collect();
        // Quantifiers always look at every value; `nth` picks what the top-level rules judge.
        let all_json: Vec<Value> = every.iter().cloned().map(Value::String).collect();
        let all_refs: Vec<&Value> = all_json.iter().collect();
        let fail = |expected: String, why: String| {
            Outcome::new(OutcomeKind::Header, format!("header {n} {expected}"), pos).fail(
                expected,
                shown.clone(),
                format!("header `{n}`: {why}"),
            )
        };
        if !self.pred.is_empty() {
            if let Err(m) = Quantifier::Any.judge(&self.pred, &refs, &cx) {
                let d = self.pred.describe(Some(scope), cx.sensitive);
                let why = match refs.len() {
                    0 => format!("expected {d}, got (absent)"),
                    1 => m.reason,
                    _ => format!("expected one value {d}, got {shown}"),
                };
                return fail(d, why);
            }
        }
        if let Some(c) = &self.count {
            let plain = Ctx {
                scope,
                sensitive: false,
                text: false,
                now: cx.now,
            };
            if !c.holds(&Value::from(every.len()), &plain) {
                let d = c.describe(Some(scope), false);
                return fail(
                    format!("count {d}"),
                    format!("expected count {d}, got {} value(s)", every.len()),
                );
            }
        }
        for (q, p) in &self.quants {
            if let Err(m) = q.judge(p, &all_refs, &cx) {
                let why = if all_refs.is_empty() {
                    format!("{}: expected {}, got (absent)", q.key(), m.expected)
                } else {
                    format!("{}: {}", q.key(), m.reason)
                };
                return fail(m.expected, why);
            }
        }
        Outcome::new(OutcomeKind::Header, format!("header {n}"), pos)
    }
}
