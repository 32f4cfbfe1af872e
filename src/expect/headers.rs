//! Header expectations: equals, contains, regex, present, absent.

use regex::Regex;

use super::{truncate, ExpectError, Outcome, OutcomeKind, Response};
use crate::interp::{Scope, Template};
use crate::redact::is_sensitive_header;
use crate::suite::model::HeaderDef;
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
            }
        }
        if rules.is_empty() && errs.is_empty() {
            errs.push(ExpectError::NoHeaderRule(name.clone()));
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(HeaderCheck { name, rules, pos })
    }

    /// Templates this check renders (for static variable checks).
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        self.rules.iter().filter_map(|r| match r {
            Rule::Equals(t) | Rule::Contains(t) => Some(t),
            _ => None,
        })
    }

    /// Judge the response headers.
    pub fn evaluate(&self, resp: &Response, scope: &Scope, pos: Option<Pos>) -> Outcome {
        let values: Vec<String> = resp
            .headers
            .get_all(&self.name)
            .iter()
            .map(|v| crate::text::header_text(v.as_bytes()).into_owned())
            .collect();
        let shown = if values.is_empty() {
            "(absent)".to_string()
        } else if is_sensitive_header(&self.name) {
            "[REDACTED]".to_string()
        } else {
            truncate(&values.join(", "), super::MEMORY_BOUND)
        };
        let n = &self.name;
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
        Outcome::new(OutcomeKind::Header, format!("header {n}"), pos)
    }
}
