//! Text rules on the facts of a connection, a certificate or a DNS answer: `equals`,
//! `contains`, `matches` (all given must hold).
//!
//! Kept apart from the body, header and JSONPath predicates so that it can be switched to
//! the shared predicate vocabulary in one place.

use regex::Regex;

use super::schema::compile_regex;
use super::ExpectError;
use crate::interp::{Scope, Template};
use crate::suite::facts::{TextRuleDef, TextRuleParts};

/// A compiled text rule.
#[derive(Debug, Clone)]
pub struct TextRule {
    equals: Option<Template>,
    contains: Option<Template>,
    matches: Option<Regex>,
}

/// A text rule with its templates rendered.
#[derive(Debug, Clone)]
pub struct Rendered<'a> {
    equals: Option<String>,
    contains: Option<String>,
    matches: Option<&'a Regex>,
}

impl TextRule {
    /// Compile a rule written at `field` (named in errors, e.g. `tls.subject.cn`).
    pub fn compile(field: &str, def: &TextRuleDef) -> Result<TextRule, ExpectError> {
        match def {
            TextRuleDef::Equals(s) => Ok(TextRule {
                equals: Some(template(field, s)?),
                contains: None,
                matches: None,
            }),
            TextRuleDef::Rule(p) => TextRule::compile_parts(field, p),
        }
    }

    /// Compile `equals` / `contains` / `matches`; at least one must be given.
    pub fn compile_parts(field: &str, p: &TextRuleParts) -> Result<TextRule, ExpectError> {
        TextRule::from_parts(
            field,
            p.equals.as_deref(),
            p.contains.as_deref(),
            p.matches.as_deref(),
        )?
        .ok_or_else(|| ExpectError::NoTextRule(field.to_string()))
    }

    /// A rule of the given parts, `None` when none is given.
    pub fn from_parts(
        field: &str,
        equals: Option<&str>,
        contains: Option<&str>,
        matches: Option<&str>,
    ) -> Result<Option<TextRule>, ExpectError> {
        if equals.is_none() && contains.is_none() && matches.is_none() {
            return Ok(None);
        }
        Ok(Some(TextRule {
            equals: equals.map(|s| template(field, s)).transpose()?,
            contains: contains.map(|s| template(field, s)).transpose()?,
            matches: matches
                .map(|m| {
                    compile_regex(m).map_err(|e| ExpectError::InField {
                        field: field.to_string(),
                        source: Box::new(e),
                    })
                })
                .transpose()?,
        }))
    }

    /// The templates of the rule.
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        self.equals.iter().chain(self.contains.iter())
    }

    /// Render the templates of the rule.
    pub fn render(&self, scope: &Scope) -> Result<Rendered<'_>, String> {
        let r = |t: &Template| t.render(scope).map_err(|e| e.to_string());
        Ok(Rendered {
            equals: self.equals.as_ref().map(r).transpose()?,
            contains: self.contains.as_ref().map(r).transpose()?,
            matches: self.matches.as_ref(),
        })
    }
}

impl Rendered<'_> {
    /// The rule with `f` applied to its `equals` and `contains` texts (a regex is kept).
    pub fn map_texts(mut self, f: impl Fn(&str) -> String) -> Self {
        self.equals = self.equals.map(|e| f(&e));
        self.contains = self.contains.map(|c| f(&c));
        self
    }

    /// True when `text` satisfies every part of the rule.
    pub fn holds(&self, text: &str) -> bool {
        self.equals.as_deref().is_none_or(|e| e == text)
            && self.contains.as_deref().is_none_or(|c| text.contains(c))
            && self.matches.is_none_or(|m| m.is_match(text))
    }

    /// The rule in words: ``equals `a` and matches /b/``.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(e) = &self.equals {
            parts.push(format!("equals `{e}`"));
        }
        if let Some(c) = &self.contains {
            parts.push(format!("contains `{c}`"));
        }
        if let Some(m) = self.matches {
            parts.push(format!("matches /{}/", m.as_str()));
        }
        parts.join(" and ")
    }
}

fn template(field: &str, s: &str) -> Result<Template, ExpectError> {
    Template::parse(s).map_err(|source| ExpectError::Template {
        field: field.to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_must_hold() {
        let parts = TextRuleParts {
            equals: None,
            contains: Some("spf1".into()),
            matches: Some("-all$".into()),
        };
        let rule = TextRule::compile_parts("txt", &parts).unwrap();
        let scope = Scope::default();
        let r = rule.render(&scope).unwrap();
        assert!(r.holds("v=spf1 -all"));
        assert!(!r.holds("v=spf1 ~all"));
        assert_eq!(r.describe(), "contains `spf1` and matches /-all$/");
        let empty = TextRule::compile_parts("txt", &TextRuleParts::default());
        assert!(matches!(empty, Err(ExpectError::NoTextRule(_))));
    }
}
