//! `${…}` templates: suite variables, captures, `${env.NAME}` / `${env.NAME:-default}`, and
//! generators for throwaway data (`${gen.uuid}`, `${gen.email}`, `${gen.timestamp}`,
//! `${gen.unix}`, `${gen.run_id}`). `$${` writes a literal `${`.
//!
//! Templates are parsed once when the plan is built, so an undefined variable is found
//! before any request is sent.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Lit(String),
    Var(String),
    Env {
        name: String,
        default: Option<String>,
    },
    Gen(Generator),
}

/// Generators of throwaway values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generator {
    Uuid,
    Email,
    Timestamp,
    Unix,
    RunId,
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub parts: Vec<Part>,
}

impl Template {
    /// Parse `text`; errors name the offending expression.
    pub fn parse(text: &str) -> Result<Template, String> {
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
                    .ok_or_else(|| format!("unclosed `${{` in `{text}`"))?;
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
        Ok(Template { parts })
    }

    /// Names of plain variables the template references.
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) => Some(v.as_str()),
            _ => None,
        })
    }

    /// Environment variables referenced without a default.
    pub fn required_env(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Env {
                name,
                default: None,
            } => Some(name.as_str()),
            _ => None,
        })
    }

    /// True when the template has no `${…}`.
    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Lit(_)))
    }

    /// Render with `scope`; an unknown variable is an error naming it.
    pub fn render(&self, scope: &Scope) -> Result<String, String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Var(v) => out.push_str(
                    scope
                        .vars
                        .get(v)
                        .ok_or_else(|| format!("undefined variable `{v}`"))?,
                ),
                Part::Env { name, default } => match scope.env.get(name) {
                    Some(v) => out.push_str(v),
                    None => match default {
                        Some(d) => out.push_str(d),
                        None if scope.lenient_env => out.push_str(&format!("${{env.{name}}}")),
                        None => return Err(format!("environment variable `{name}` is not set")),
                    },
                },
                Part::Gen(g) => out.push_str(&generate(*g, &scope.run_id)),
            }
        }
        Ok(out)
    }
}

fn parse_expr(expr: &str) -> Result<Part, String> {
    if let Some(rest) = expr.strip_prefix("env.") {
        let (name, default) = match rest.split_once(":-") {
            Some((n, d)) => (n, Some(d.to_string())),
            None => (rest, None),
        };
        if !valid_name(name) {
            return Err(format!(
                "invalid environment variable name in `${{{expr}}}`"
            ));
        }
        return Ok(Part::Env {
            name: name.to_string(),
            default,
        });
    }
    if let Some(g) = expr.strip_prefix("gen.") {
        let gen = match g {
            "uuid" => Generator::Uuid,
            "email" => Generator::Email,
            "timestamp" => Generator::Timestamp,
            "unix" => Generator::Unix,
            "run_id" => Generator::RunId,
            other => {
                return Err(format!(
                    "unknown generator `gen.{other}`, expected one of uuid, email, timestamp, unix, run_id"
                ))
            }
        };
        return Ok(Part::Gen(gen));
    }
    if !valid_name(expr) {
        return Err(format!(
            "invalid variable reference `${{{expr}}}`, expected a name, env.NAME or gen.KIND"
        ));
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

/// What a template can see when rendered.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Shared with the plan until a capture adds a variable (copy on write).
    pub vars: std::sync::Arc<HashMap<String, String>>,
    pub env: std::sync::Arc<HashMap<String, String>>,
    pub run_id: String,
    /// Keep unset `${env.X}` as text instead of failing (used by `validate`).
    pub lenient_env: bool,
}

/// Render every string inside a JSON value.
pub fn render_json(v: &Value, scope: &Scope) -> Result<Value, String> {
    Ok(match v {
        Value::String(s) => Value::String(Template::parse(s)?.render(scope)?),
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| render_json(x, scope))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(o) => {
            let mut out = serde_json::Map::new();
            for (k, x) in o {
                out.insert(k.clone(), render_json(x, scope)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

/// Every template string inside a JSON value (for static checks).
pub fn json_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| json_strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| json_strings(x, out)),
        _ => {}
    }
}

/// Render a map of templates.
pub fn render_map(
    m: &BTreeMap<String, String>,
    scope: &Scope,
) -> Result<Vec<(String, String)>, String> {
    m.iter()
        .map(|(k, v)| Ok((k.clone(), Template::parse(v)?.render(scope)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        let mut s = Scope::default();
        std::sync::Arc::make_mut(&mut s.vars).insert("host".into(), "api.test".into());
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
    fn undefined_is_an_error() {
        let t = Template::parse("${missing}").unwrap();
        assert_eq!(
            t.render(&scope()).unwrap_err(),
            "undefined variable `missing`"
        );
        let t = Template::parse("${env.NOPE}").unwrap();
        assert!(t.render(&scope()).unwrap_err().contains("NOPE"));
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
