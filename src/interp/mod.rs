//! `${…}` templates: suite variables, captures, `${env.NAME}` / `${env.NAME:-default}`, and
//! generators for throwaway data (`${gen.uuid}`, `${gen.email}`, `${gen.timestamp}`,
//! `${gen.unix}`, `${gen.run_id}`). `$${` writes a literal `${`.
//!
//! Templates are parsed once when the plan is built ([`Template`], [`JsonTemplate`]); the
//! runner only evaluates them. Values keep their JSON type: a template that is one whole
//! reference (`"${count}"`) yields the variable's value as it is (a number, a boolean, an
//! object); inside a longer string a value is interpolated (strings as they are, anything
//! else as its JSON text).

pub mod filters;
mod json;
mod scope;
mod template;

pub use json::JsonTemplate;
pub use scope::Scope;
pub use template::{EnvRef, Filtered, Generator, Part, RenderError, Template, TemplateError};

/// A value as it is interpolated into text: a string as it is, anything else as JSON.
pub fn value_text(v: &serde_json::Value) -> std::borrow::Cow<'_, str> {
    match v {
        serde_json::Value::String(s) => std::borrow::Cow::Borrowed(s),
        other => std::borrow::Cow::Owned(other.to_string()),
    }
}
