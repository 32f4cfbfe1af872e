//! Body text expectations: contains, not_contains, regex, and "is JSON".

use regex::Regex;

use super::{truncate, ExpectError, Outcome, OutcomeKind, Response};
use crate::interp::{Scope, Template};
use crate::suite::model::BodyDef;
use crate::suite::Pos;

/// Compiled body expectations.
#[derive(Debug)]
pub struct BodyCheck {
    contains: Vec<Template>,
    not_contains: Vec<Template>,
    matches: Option<Regex>,
    json: bool,
    /// Where the expectation is written.
    pub pos: Option<Pos>,
}

impl BodyCheck {
    /// Compile the `body:` block.
    /// Compile; every problem of the block is returned, not only the first.
    pub fn compile(
        def: &BodyDef,
        pos: Option<Pos>,
        cache: &mut super::SchemaCache,
    ) -> Result<Self, Vec<ExpectError>> {
        let mut errs = Vec::new();
        let mut parse = |field: &'static str, v: &Vec<String>| {
            let mut out = Vec::with_capacity(v.len());
            for s in v {
                match Template::parse(s) {
                    Ok(t) => out.push(t),
                    Err(source) => errs.push(ExpectError::Template {
                        field: format!("body.{field}"),
                        source,
                    }),
                }
            }
            out
        };
        let contains = parse("contains", &def.contains);
        let not_contains = parse("not_contains", &def.not_contains);
        let matches = match def.matches.as_deref().map(|r| cache.regex(r)) {
            Some(Err(e)) => {
                errs.push(ExpectError::InBody {
                    field: "matches",
                    source: Box::new(e),
                });
                None
            }
            other => other.and_then(Result::ok),
        };
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(BodyCheck {
            contains,
            not_contains,
            matches,
            json: def.json.unwrap_or(false),
            pos,
        })
    }

    /// Templates rendered by this check.
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        self.contains.iter().chain(self.not_contains.iter())
    }

    /// Judge the body.
    pub fn evaluate(&self, resp: &Response, scope: &Scope, pos: Option<Pos>) -> Vec<Outcome> {
        let text = resp.text();
        let excerpt = truncate(&text, super::MEMORY_BOUND);
        let mut out = Vec::new();
        for t in &self.contains {
            let o = match t.render(scope) {
                Ok(want) => {
                    let o = Outcome::new(OutcomeKind::Body, format!("body contains {want:?}"), pos);
                    if text.contains(&want) {
                        o
                    } else {
                        o.fail(
                            format!("contains {want:?}"),
                            excerpt.clone(),
                            format!("body does not contain {want:?}"),
                        )
                    }
                }
                Err(e) => Outcome::new(OutcomeKind::Body, "body contains", pos).fail(
                    "",
                    "",
                    e.to_string(),
                ),
            };
            out.push(o);
        }
        for t in &self.not_contains {
            let o = match t.render(scope) {
                Ok(bad) => {
                    let o = Outcome::new(
                        OutcomeKind::Body,
                        format!("body does not contain {bad:?}"),
                        pos,
                    );
                    if text.contains(&bad) {
                        o.fail(
                            format!("no {bad:?}"),
                            excerpt.clone(),
                            format!("body contains {bad:?}"),
                        )
                    } else {
                        o
                    }
                }
                Err(e) => Outcome::new(OutcomeKind::Body, "body not_contains", pos).fail(
                    "",
                    "",
                    e.to_string(),
                ),
            };
            out.push(o);
        }
        if let Some(r) = &self.matches {
            let o = Outcome::new(
                OutcomeKind::Body,
                format!("body matches /{}/", r.as_str()),
                pos,
            );
            out.push(if r.is_match(&text) {
                o
            } else {
                o.fail(
                    format!("/{}/", r.as_str()),
                    excerpt.clone(),
                    format!("body does not match /{}/", r.as_str()),
                )
            });
        }
        if self.json {
            let o = Outcome::new(OutcomeKind::Body, "body is JSON", pos);
            out.push(match resp.json() {
                Ok(_) => o,
                Err(e) => o.fail("JSON", excerpt.clone(), e.to_string()),
            });
        }
        out
    }
}
