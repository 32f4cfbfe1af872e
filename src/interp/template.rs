//! One template string, parsed into literal text and references.

use std::borrow::Cow;

use serde_json::Value;

use super::filters::{self, Filter, FilterError};
use super::{value_text, Scope};

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Literal text (`$${` already turned into `${`).
    Lit(String),
    /// `${name}`: a variable or an earlier capture.
    Var(String),
    /// `${env.NAME}` or `${env.NAME:-default}` (boxed: rare, and the largest part; a plan
    /// holds templates for every request).
    Env(Box<EnvRef>),
    /// `${gen.KIND}`: a generated value, computed each time the template is rendered.
    Gen(Generator),
    /// `${SOURCE | filter | …}`: a variable, `env.NAME` or `gen.KIND` passed through filters
    /// (see [`super::filters`]).
    Filtered(Box<Filtered>),
}

/// A reference passed through filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filtered {
    /// The reference (a [`Part::Var`], [`Part::Env`] or [`Part::Gen`]).
    pub source: Part,
    /// The filters, applied left to right.
    pub filters: Vec<Filter>,
}

impl Part {
    /// The reference itself: for a filtered one, what it filters.
    pub fn source(&self) -> &Part {
        match self {
            Part::Filtered(f) => &f.source,
            other => other,
        }
    }
}

/// `${env.NAME}` or `${env.NAME:-default}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvRef {
    /// The environment variable's name.
    pub name: String,
    /// The text after `:-`, used when the variable is not set.
    pub default: Option<String>,
}

/// Generators of throwaway values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generator {
    /// `${gen.uuid}`: a random UUID (v4).
    Uuid,
    /// `${gen.email}`: a unique address, `smoke+<16 hex digits>@example.test`.
    Email,
    /// `${gen.timestamp}`: the current time, RFC 3339 (UTC).
    Timestamp,
    /// `${gen.unix}`: the current time in seconds since the Unix epoch.
    Unix,
    /// `${gen.run_id}`: the id of the run.
    RunId,
}

/// A template that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A `${` without its closing `}` (holds the whole text).
    #[error("unclosed `${{` in `{0}`")]
    Unclosed(String),
    /// `${env.…}` names no valid variable (holds the expression).
    #[error("invalid environment variable name in `${{{0}}}`")]
    EnvName(String),
    /// `${gen.…}` names an unknown generator (holds the name).
    #[error("unknown generator `gen.{0}`, expected one of uuid, email, timestamp, unix, run_id")]
    Generator(String),
    /// `${…}` is not a name, `env.NAME` or `gen.KIND` (holds the expression).
    #[error("invalid variable reference `${{{0}}}`, expected a name, env.NAME or gen.KIND")]
    Reference(String),
    /// A filter after `|` that does not parse.
    #[error("in `${{{expr}}}`: {why}")]
    Filter {
        /// The whole expression.
        expr: String,
        /// What is wrong.
        why: String,
    },
}

/// A template that cannot be evaluated with the scope it was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The template names a variable the scope does not have.
    #[error("undefined variable `{0}`")]
    Undefined(String),
    /// The template reads an environment variable that is not set and has no default.
    #[error("environment variable `{0}` is not set")]
    EnvUnset(String),
    /// The rendered text would be larger than [`MAX_RENDERED`].
    #[error("the text would be larger than {MAX_RENDERED} bytes")]
    TooLarge,
    /// A filter cannot be applied to its input.
    #[error(transparent)]
    Filter(#[from] FilterError),
}

/// Most bytes one template may render to (a request line, a header, a body).
pub const MAX_RENDERED: usize = 16 << 20;

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Literal text and references, in order.
    pub parts: Vec<Part>,
}

impl Template {
    /// Parse `text`; errors name the offending expression.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = text;
        while let Some(i) = rest.find('$') {
            lit.push_str(&rest[..i]);
            let after = &rest[i..];
            if let Some(tail) = after.strip_prefix("$${") {
                lit.push_str("${");
                rest = tail;
            } else if let Some(tail) = after.strip_prefix("${") {
                let end = tail
                    .find('}')
                    .ok_or_else(|| TemplateError::Unclosed(text.to_string()))?;
                let expr = tail[..end].trim();
                if !lit.is_empty() {
                    parts.push(Part::Lit(std::mem::take(&mut lit)));
                }
                parts.push(parse_expr(expr)?);
                rest = &tail[end + 1..];
            } else {
                lit.push('$');
                rest = &after[1..];
            }
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        parts.shrink_to_fit();
        Ok(Template { parts })
    }

    /// A template of literal text only.
    pub fn literal(text: impl Into<String>) -> Template {
        let text = text.into();
        Template {
            parts: if text.is_empty() {
                Vec::new()
            } else {
                vec![Part::Lit(text)]
            },
        }
    }

    /// Names of plain variables the template references.
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p.source() {
            Part::Var(v) => Some(v.as_str()),
            _ => None,
        })
    }

    /// Environment variables referenced without a default.
    pub fn required_env(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p.source() {
            Part::Env(e) if e.default.is_none() => Some(e.name.as_str()),
            _ => None,
        })
    }

    /// True when the template has no `${…}`.
    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Lit(_)))
    }

    /// The text, when the template has no `${…}`.
    pub fn as_literal(&self) -> Option<Cow<'_, str>> {
        match self.parts.as_slice() {
            [] => Some(Cow::Borrowed("")),
            [Part::Lit(s)] => Some(Cow::Borrowed(s)),
            parts if self.is_literal() => Some(Cow::Owned(
                parts
                    .iter()
                    .filter_map(|p| match p {
                        Part::Lit(s) => Some(s.as_str()),
                        _ => None,
                    })
                    .collect(),
            )),
            _ => None,
        }
    }

    /// The literal text the template starts with ("" when it starts with a reference).
    pub fn literal_prefix(&self) -> &str {
        match self.parts.first() {
            Some(Part::Lit(s)) => s,
            _ => "",
        }
    }

    /// Render as text; an unknown variable is an error naming it.
    pub fn render(&self, scope: &Scope) -> Result<String, RenderError> {
        if let [Part::Lit(s)] = self.parts.as_slice() {
            return Ok(s.clone());
        }
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Var(v) => match scope.texts.get(v) {
                    Some(text) => out.push_str(text),
                    None => out.push_str(&value_text(lookup(scope, v)?)),
                },
                Part::Env(e) => out.push_str(&env(scope, &e.name, &e.default)?),
                Part::Gen(g) => out.push_str(&generate(*g, &scope.run_id)),
                Part::Filtered(f) => out.push_str(&value_text(&f.eval(scope)?)),
            }
            // Bounded as it grows: a template repeating a large value stops here.
            if out.len() > MAX_RENDERED {
                return Err(RenderError::TooLarge);
            }
        }
        Ok(out)
    }

    /// Evaluate to a typed value: a template that is one whole variable reference yields
    /// the variable's value with its JSON type; anything else yields a string.
    pub fn eval(&self, scope: &Scope) -> Result<Value, RenderError> {
        match self.parts.as_slice() {
            [Part::Var(v)] => lookup(scope, v).cloned(),
            [Part::Filtered(f)] => f.eval(scope),
            _ => self.render(scope).map(Value::String),
        }
    }
}

fn lookup<'a>(scope: &'a Scope, name: &str) -> Result<&'a Value, RenderError> {
    scope
        .vars
        .get(name)
        .ok_or_else(|| RenderError::Undefined(name.to_string()))
}

fn env<'a>(
    scope: &'a Scope,
    name: &str,
    default: &'a Option<String>,
) -> Result<Cow<'a, str>, RenderError> {
    match (scope.env.get(name), default) {
        (Some(v), _) => Ok(Cow::Borrowed(v)),
        (None, Some(d)) => Ok(Cow::Borrowed(d)),
        (None, None) if scope.lenient_env => Ok(Cow::Owned(format!("${{env.{name}}}"))),
        (None, None) => Err(RenderError::EnvUnset(name.to_string())),
    }
}

impl Filtered {
    /// The source's value passed through the filters (a JWT claim keeps its JSON type).
    pub fn eval(&self, scope: &Scope) -> Result<Value, RenderError> {
        let value = match &self.source {
            Part::Var(v) => lookup(scope, v)?.clone(),
            Part::Env(e) => Value::String(env(scope, &e.name, &e.default)?.into_owned()),
            Part::Gen(g) => Value::String(generate(*g, &scope.run_id)),
            Part::Lit(l) => Value::String(l.clone()),
            Part::Filtered(f) => f.eval(scope)?,
        };
        Ok(filters::apply(&value, &self.filters)?)
    }
}

/// `SOURCE | filter | …`: the source and its filters; `None` without a `|` (or when what
/// follows an `env.NAME:-default` is not filters: the default may hold a `|`).
fn parse_filtered(expr: &str) -> Option<Result<Part, TemplateError>> {
    let (head, rest) = expr.split_once('|')?;
    let source = head.trim();
    let parsed: Result<Vec<Filter>, TemplateError> =
        rest.split('|').map(|f| filters::parse(f, expr)).collect();
    if parsed.is_err() && source.starts_with("env.") && source.contains(":-") {
        return None;
    }
    Some(parsed.and_then(|filters| {
        Ok(Part::Filtered(Box::new(Filtered {
            source: parse_expr(source)?,
            filters,
        })))
    }))
}

fn parse_expr(expr: &str) -> Result<Part, TemplateError> {
    if let Some(filtered) = parse_filtered(expr) {
        return filtered;
    }
    if let Some(rest) = expr.strip_prefix("env.") {
        let (name, default) = match rest.split_once(":-") {
            Some((n, d)) => (n, Some(d.to_string())),
            None => (rest, None),
        };
        if !valid_name(name) {
            return Err(TemplateError::EnvName(expr.to_string()));
        }
        return Ok(Part::Env(Box::new(EnvRef {
            name: name.to_string(),
            default,
        })));
    }
    if let Some(g) = expr.strip_prefix("gen.") {
        let gen = match g {
            "uuid" => Generator::Uuid,
            "email" => Generator::Email,
            "timestamp" => Generator::Timestamp,
            "unix" => Generator::Unix,
            "run_id" => Generator::RunId,
            other => return Err(TemplateError::Generator(other.to_string())),
        };
        return Ok(Part::Gen(gen));
    }
    if !valid_name(expr) {
        return Err(TemplateError::Reference(expr.to_string()));
    }
    Ok(Part::Var(expr.to_string()))
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

fn generate(g: Generator, run_id: &str) -> String {
    match g {
        Generator::Uuid => uuid::Uuid::new_v4().to_string(),
        Generator::Email => format!(
            "smoke+{}@example.test",
            uuid::Uuid::new_v4()
                .simple()
                .to_string()
                .get(..16)
                .unwrap_or("x")
        ),
        Generator::Timestamp => chrono::Utc::now().to_rfc3339(),
        Generator::Unix => chrono::Utc::now().timestamp().to_string(),
        Generator::RunId => run_id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scope() -> Scope {
        let mut s = Scope::default();
        s.set("host", json!("api.test"));
        s.set("five", json!(5));
        s.set("user", json!({"id": 7, "admin": false}));
        std::sync::Arc::make_mut(&mut s.env).insert("API_URL".into(), "http://127.0.0.1:1".into());
        s
    }

    #[test]
    fn renders_vars_env_and_defaults() {
        let t = Template::parse("${env.API_URL}/x?h=${host}&d=${env.NOPE:-dflt}").unwrap();
        assert_eq!(
            t.render(&scope()).unwrap(),
            "http://127.0.0.1:1/x?h=api.test&d=dflt"
        );
    }

    #[test]
    fn a_whole_reference_keeps_its_type_and_text_interpolates() {
        let s = scope();
        assert_eq!(Template::parse("${five}").unwrap().eval(&s).unwrap(), 5);
        assert_eq!(Template::parse(" ${five}").unwrap().eval(&s).unwrap(), " 5");
        assert_eq!(
            Template::parse("${user}").unwrap().eval(&s).unwrap(),
            json!({"id": 7, "admin": false})
        );
        assert_eq!(
            Template::parse("u=${user}").unwrap().render(&s).unwrap(),
            r#"u={"admin":false,"id":7}"#
        );
        assert_eq!(
            Template::parse("${host}").unwrap().eval(&s).unwrap(),
            "api.test"
        );
    }

    #[test]
    fn undefined_is_an_error() {
        let t = Template::parse("${missing}").unwrap();
        assert_eq!(
            t.render(&scope()).unwrap_err().to_string(),
            "undefined variable `missing`"
        );
        let t = Template::parse("${env.NOPE}").unwrap();
        assert!(t.render(&scope()).unwrap_err().to_string().contains("NOPE"));
    }

    #[test]
    fn escapes_and_bad_syntax() {
        let t = Template::parse("cost $5 and $${literal}").unwrap();
        assert_eq!(t.render(&scope()).unwrap(), "cost $5 and ${literal}");
        assert!(Template::parse("${unclosed").is_err());
        assert!(Template::parse("${gen.nope}").is_err());
        assert!(Template::parse("${a b}").is_err());
    }

    #[test]
    fn generated_emails_are_unique() {
        let t = Template::parse("${gen.email}").unwrap();
        let a = t.render(&scope()).unwrap();
        let b = t.render(&scope()).unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("smoke+") && a.ends_with("@example.test"));
    }
}
