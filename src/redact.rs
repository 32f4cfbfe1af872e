//! The one place that knows what is secret.
//!
//! A [`Redactor`] holds every secret value known to the run — secret variables, `--secret`
//! values, secret captures as they happen — and every reporter passes its text through it.
//! Sensitive header values and sensitive JSON keys are masked where they are produced.

use std::sync::{Arc, RwLock};

use serde_json::Value;

/// Replacement text for a secret.
pub const MASK: &str = "[REDACTED]";

/// Headers whose values are never shown.
pub fn is_sensitive_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie" | "x-api-key"
    )
}

/// JSON keys whose values are masked in body excerpts.
pub fn is_sensitive_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "token",
        "secret",
        "password",
        "passwd",
        "api_key",
        "apikey",
        "authorization",
        "cookie",
        "jwt",
        "credential",
    ]
    .iter()
    .any(|s| k.contains(s))
}

/// Secret values known to the run, shared by the runner (which adds captures) and reporters.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Arc<RwLock<Vec<String>>>,
}

impl Redactor {
    /// Add a secret value (empty and very short values are ignored to avoid masking noise).
    pub fn add(&self, value: &str) {
        if value.len() < 4 {
            return;
        }
        let mut s = self.secrets.write().unwrap_or_else(|e| e.into_inner());
        if !s.iter().any(|x| x == value) {
            s.push(value.to_string());
            // Longest first, so a secret containing another is masked whole.
            s.sort_by_key(|x| std::cmp::Reverse(x.len()));
        }
    }

    /// Mask every known secret in `text`.
    pub fn redact(&self, text: &str) -> String {
        let s = self.secrets.read().unwrap_or_else(|e| e.into_inner());
        if !s.iter().any(|secret| text.contains(secret.as_str())) {
            return text.to_string();
        }
        let mut out = text.to_string();
        for secret in s.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
        out
    }

    /// True when JSON text may hold a known secret inside one of its strings (JSON escapes
    /// character by character, so a secret inside a string appears escaped in the text).
    pub fn maybe_in_json(&self, json: &str) -> bool {
        let s = self.secrets.read().unwrap_or_else(|e| e.into_inner());
        s.iter().any(|secret| {
            let quoted = Value::String(secret.clone()).to_string();
            json.contains(&quoted[1..quoted.len() - 1])
        })
    }

    /// True when `text` contains a known secret.
    pub fn contains_secret(&self, text: &str) -> bool {
        let s = self.secrets.read().unwrap_or_else(|e| e.into_inner());
        s.iter().any(|secret| text.contains(secret.as_str()))
    }

    /// Redact every string of a JSON value in place.
    pub fn redact_json(&self, v: &mut Value) {
        match v {
            Value::String(s) if self.contains_secret(s) => *s = self.redact(s),
            Value::Array(a) => a.iter_mut().for_each(|x| self.redact_json(x)),
            Value::Object(o) => o.values_mut().for_each(|x| self.redact_json(x)),
            _ => {}
        }
    }
}

/// Mask the values of sensitive keys (tokens, passwords, …) anywhere in a JSON value.
pub fn mask_keys(v: &mut Value) {
    match v {
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                if is_sensitive_key(k) && !x.is_null() && !x.is_object() && !x.is_array() {
                    *x = Value::String(MASK.into());
                } else {
                    mask_keys(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(mask_keys),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::excerpt::body_excerpt;

    #[test]
    fn masks_known_values_and_keys() {
        let r = Redactor::default();
        r.add("hunter2-secret");
        assert_eq!(r.redact("pw=hunter2-secret!"), "pw=[REDACTED]!");
        let ex = body_excerpt(
            br#"{"data":{"access_token":"abc.def.ghi","id":1}}"#,
            500,
            &r,
        );
        assert!(!ex.contains("abc.def.ghi"), "{ex}");
        assert!(ex.contains("\"id\":1"));
    }

    #[test]
    fn excerpt_is_bounded() {
        let r = Redactor::default();
        let body = vec![b'x'; 10_000];
        let ex = body_excerpt(&body, 100, &r);
        assert!(ex.len() < 200);
        assert!(ex.contains("10000 bytes"));
    }
}
