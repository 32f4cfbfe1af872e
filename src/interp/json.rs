//! A JSON value whose strings are templates, parsed once.

use serde_json::{Map, Value};

use super::{RenderError, Scope, Template, TemplateError};

/// A JSON document with templates in its strings (request bodies, expected values,
/// variables). Parts without templates are kept as they are and cloned when evaluated.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonTemplate {
    /// A value with no template anywhere inside.
    Lit(Value),
    /// A string with `${…}`: a whole reference keeps the referenced value's type.
    Str(Template),
    /// An array with a template somewhere inside.
    Array(Vec<JsonTemplate>),
    /// An object with a template somewhere among its values, as (key, value) pairs in
    /// order; keys are not templates.
    Object(Vec<(String, JsonTemplate)>),
}

impl JsonTemplate {
    /// Parse every string of `v` as a template.
    pub fn compile(v: &Value) -> Result<JsonTemplate, TemplateError> {
        if !has_template(v) {
            return Ok(JsonTemplate::Lit(v.clone()));
        }
        Ok(match v {
            Value::String(s) => match Template::parse(s)? {
                t if t.is_literal() => JsonTemplate::Lit(Value::String(
                    t.as_literal().unwrap_or_default().into_owned(),
                )),
                t => JsonTemplate::Str(t),
            },
            Value::Array(a) => {
                JsonTemplate::Array(a.iter().map(Self::compile).collect::<Result<_, _>>()?)
            }
            Value::Object(o) => JsonTemplate::Object(
                o.iter()
                    .map(|(k, v)| Ok((k.clone(), Self::compile(v)?)))
                    .collect::<Result<_, TemplateError>>()?,
            ),
            other => JsonTemplate::Lit(other.clone()),
        })
    }

    /// About how many bytes the value would take once evaluated, counted without
    /// evaluating it (unknown variables count nothing): what [`JsonTemplate::eval`] is
    /// bounded by.
    pub fn size_hint(&self, scope: &Scope) -> usize {
        use super::template::Part;
        let mut total = 0usize;
        for tpl in self.templates() {
            for p in &tpl.parts {
                let n = match p {
                    Part::Lit(l) => l.len(),
                    Part::Var(r) => match scope.vars.get(r.as_str()) {
                        Some(Value::String(s)) => s.len(),
                        Some(other) => other.to_string().len(),
                        None => 0,
                    },
                    _ => 64,
                };
                total = total.saturating_add(n);
            }
        }
        total
    }

    /// Evaluate, refusing a value larger than [`super::template::MAX_RENDERED`] before
    /// building it.
    pub fn eval(&self, scope: &Scope) -> Result<Value, RenderError> {
        if self.size_hint(scope) > super::template::MAX_RENDERED {
            return Err(RenderError::TooLarge);
        }
        self.eval_unbounded(scope)
    }

    fn eval_unbounded(&self, scope: &Scope) -> Result<Value, RenderError> {
        Ok(match self {
            JsonTemplate::Lit(v) => v.clone(),
            JsonTemplate::Str(t) => t.eval(scope)?,
            JsonTemplate::Array(a) => Value::Array(
                a.iter()
                    .map(|x| x.eval_unbounded(scope))
                    .collect::<Result<_, _>>()?,
            ),
            JsonTemplate::Object(o) => {
                let mut m = Map::new();
                for (k, v) in o {
                    m.insert(k.clone(), v.eval_unbounded(scope)?);
                }
                Value::Object(m)
            }
        })
    }

    /// The value, when it holds no template.
    pub fn as_literal(&self) -> Option<&Value> {
        match self {
            JsonTemplate::Lit(v) => Some(v),
            _ => None,
        }
    }

    /// Every template inside (for static checks of the variables they use).
    pub fn templates(&self) -> Vec<&Template> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a Template>) {
        match self {
            JsonTemplate::Lit(_) => {}
            JsonTemplate::Str(t) => out.push(t),
            JsonTemplate::Array(a) => a.iter().for_each(|x| x.collect(out)),
            JsonTemplate::Object(o) => o.iter().for_each(|(_, x)| x.collect(out)),
        }
    }
}

fn has_template(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('$'),
        Value::Array(a) => a.iter().any(has_template),
        Value::Object(o) => o.values().any(has_template),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn typed_values_go_through_bodies() {
        let mut s = Scope::default();
        s.set("n", json!(5));
        s.set("tags", json!(["a", "b"]));
        let t = JsonTemplate::compile(&json!({
            "count": "${n}", "label": "n=${n}", "tags": "${tags}", "fixed": [1, "x"], "esc": "$${n}"
        }))
        .unwrap();
        assert_eq!(
            t.eval(&s).unwrap(),
            json!({"count": 5, "label": "n=5", "tags": ["a", "b"], "fixed": [1, "x"], "esc": "${n}"})
        );
        assert_eq!(t.templates().len(), 3);
        assert!(JsonTemplate::compile(&json!({"a": [1, "plain"]}))
            .unwrap()
            .as_literal()
            .is_some());
    }
}
