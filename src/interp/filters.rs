//! Filters of a template reference: `${token | jwt_claim("sub")}`, `${pair | base64}`,
//! `${x | url_encode}`, `${body | sha256}`, chained left to right. Parsed with the template
//! (an unknown filter or a bad argument is an error at the template's position); applied when
//! it is rendered.
//!
//! A value derived from a secret stays secret: when the run has a redactor
//! ([`set_secret_sink`]) and the filtered input is (or holds) a known secret, the result is
//! added to it — so `${password | sha256}` or `${token | jwt_claim("sub")}` is redacted
//! wherever it appears (a result under 4 characters cannot be masked and stays visible).

use std::sync::RwLock;

use base64::Engine as _;
use serde_json::Value;

use super::template::TemplateError;
use super::value_text;
use crate::redact::Redactor;

/// One filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// Standard base64 (with padding) of the text's UTF-8 bytes.
    Base64,
    /// Decode standard base64 (padding optional) into UTF-8 text.
    Base64Decode,
    /// URL-safe base64 without padding (RFC 4648 §5, as JWTs use it).
    Base64Url,
    /// Decode URL-safe base64 (padding optional) into UTF-8 text.
    Base64UrlDecode,
    /// Percent-encode every byte but the RFC 3986 unreserved characters.
    UrlEncode,
    /// Lower-case hex SHA-256 of the text's UTF-8 bytes.
    Sha256,
    /// The claim of this name in a JWT's payload, with its JSON type (the signature is not
    /// verified).
    JwtClaim(String),
    /// The parameter of this name in a JWT's header (`alg`, `kid`, …).
    JwtHeader(String),
}

impl Filter {
    fn name(&self) -> &'static str {
        match self {
            Filter::Base64 => "base64",
            Filter::Base64Decode => "base64_decode",
            Filter::Base64Url => "base64url",
            Filter::Base64UrlDecode => "base64url_decode",
            Filter::UrlEncode => "url_encode",
            Filter::Sha256 => "sha256",
            Filter::JwtClaim(_) => "jwt_claim",
            Filter::JwtHeader(_) => "jwt_header",
        }
    }
}

/// The names of every filter, for messages.
pub const FILTERS: &str = "base64, base64_decode, base64url, base64url_decode, url_encode, sha256, jwt_claim(\"NAME\"), jwt_header(\"NAME\")";

/// Parse one filter as written after `|` (`sha256`, `jwt_claim("sub")`).
pub fn parse(text: &str, expr: &str) -> Result<Filter, TemplateError> {
    let text = text.trim();
    let bad = |why: String| TemplateError::Filter {
        expr: expr.to_string(),
        why,
    };
    let (name, arg) = match text.split_once('(') {
        Some((n, rest)) => {
            let inner = rest
                .strip_suffix(')')
                .ok_or_else(|| bad(format!("`{text}` lacks its closing `)`")))?
                .trim();
            let unquoted = inner
                .strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .or_else(|| inner.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
                .filter(|s| !s.is_empty())
                .ok_or_else(|| {
                    bad(format!(
                        "the argument of `{}` must be a quoted, non-empty name, e.g. (\"sub\")",
                        n.trim()
                    ))
                })?;
            (n.trim(), Some(unquoted.to_string()))
        }
        None => (text, None),
    };
    let plain = |f: Filter| match &arg {
        None => Ok(f),
        Some(_) => Err(bad(format!("`{name}` takes no argument"))),
    };
    let named = |f: fn(String) -> Filter| match &arg {
        Some(a) => Ok(f(a.clone())),
        None => Err(bad(format!(
            "`{name}` needs the name of what to extract, e.g. {name}(\"sub\")"
        ))),
    };
    match name {
        "base64" => plain(Filter::Base64),
        "base64_decode" => plain(Filter::Base64Decode),
        "base64url" => plain(Filter::Base64Url),
        "base64url_decode" => plain(Filter::Base64UrlDecode),
        "url_encode" => plain(Filter::UrlEncode),
        "sha256" => plain(Filter::Sha256),
        "jwt_claim" => named(Filter::JwtClaim),
        "jwt_header" => named(Filter::JwtHeader),
        "" => Err(bad("a `|` is followed by no filter".into())),
        other => Err(bad(format!(
            "unknown filter `{other}`, expected one of {FILTERS}"
        ))),
    }
}

/// Why a filter could not be applied (the text of the value is never part of it: it may be
/// a secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{filter}: {why}")]
pub struct FilterError {
    /// The filter's name.
    pub filter: &'static str,
    /// What is wrong with its input.
    pub why: String,
}

/// Apply `filters` in order to `value`.
pub fn apply(value: &Value, filters: &[Filter]) -> Result<Value, FilterError> {
    let mut cur = value.clone();
    for f in filters {
        let input = value_text(&cur).into_owned();
        let out = apply_one(f, &input)?;
        derived(&input, &out);
        cur = out;
    }
    Ok(cur)
}

fn apply_one(f: &Filter, input: &str) -> Result<Value, FilterError> {
    let err = |why: String| FilterError {
        filter: f.name(),
        why,
    };
    let utf8 = |bytes: Vec<u8>| {
        String::from_utf8(bytes).map_err(|_| err("the decoded bytes are not UTF-8 text".into()))
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64_lenient = base64::engine::general_purpose::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::general_purpose::NO_PAD
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let url_lenient = base64::engine::general_purpose::GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::general_purpose::NO_PAD
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    Ok(Value::String(match f {
        Filter::Base64 => b64.encode(input),
        Filter::Base64Decode => utf8(
            b64_lenient
                .decode(input.trim())
                .map_err(|e| err(format!("the value is not base64 ({e})")))?,
        )?,
        Filter::Base64Url => base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(input),
        Filter::Base64UrlDecode => utf8(
            url_lenient
                .decode(input.trim())
                .map_err(|e| err(format!("the value is not base64url ({e})")))?,
        )?,
        Filter::UrlEncode => url_encode(input),
        Filter::Sha256 => {
            use sha2::Digest as _;
            sha2::Sha256::digest(input.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        }
        Filter::JwtClaim(name) | Filter::JwtHeader(name) => {
            let part = if matches!(f, Filter::JwtClaim(_)) {
                1
            } else {
                0
            };
            let segments: Vec<&str> = input.trim().split('.').collect();
            if segments.len() != 3 {
                return Err(err(format!(
                    "the value is not a JWT (header.payload.signature): it has {} part(s)",
                    segments.len()
                )));
            }
            let which = if part == 1 { "payload" } else { "header" };
            let json = url_lenient
                .decode(segments[part])
                .map_err(|e| err(format!("the JWT {which} is not base64url ({e})")))?;
            let obj: Value = serde_json::from_slice(&json)
                .map_err(|e| err(format!("the JWT {which} is not JSON ({e})")))?;
            let Some(map) = obj.as_object() else {
                return Err(err(format!("the JWT {which} is not a JSON object")));
            };
            return map.get(name).cloned().ok_or_else(|| {
                let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
                keys.sort_unstable();
                err(format!(
                    "the JWT {which} has no `{name}` (it has: {})",
                    keys.join(", ")
                ))
            });
        }
    }))
}

/// Percent-encoding of everything but `A-Z a-z 0-9 - . _ ~` (RFC 3986 unreserved).
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The redactors of the runs under way (one for a `run`; one per gate running for `serve`).
static SINK: RwLock<Vec<Redactor>> = RwLock::new(Vec::new());

/// The redactor of a run: values derived from its secrets by a filter become secrets too.
/// Runs at once in one process (`serve`) each keep theirs; the redactor of a finished run
/// (held by no one else any more) is let go.
pub fn set_secret_sink(redactor: Redactor) {
    let mut sinks = SINK.write().unwrap_or_else(|e| e.into_inner());
    sinks.retain(|r| !r.unshared());
    if !sinks.iter().any(|r| r.same(&redactor)) {
        sinks.push(redactor);
    }
}

/// Record `output` as a secret of every run whose secrets `input` holds.
fn derived(input: &str, output: &Value) {
    let sinks = SINK.read().unwrap_or_else(|e| e.into_inner());
    for r in sinks.iter() {
        if r.contains_secret(input) {
            // Too short to mask: nothing can be done (documented).
            let _ = r.add(&value_text(output));
        }
    }
}

/// The names of variables (name, template text) that pass a secret variable through a
/// filter, directly or through another such variable.
pub fn derived_secrets<'a>(
    vars: impl Iterator<Item = (&'a str, &'a str)>,
    secrets: impl Iterator<Item = &'a str>,
) -> std::collections::BTreeSet<String> {
    use super::template::{Part, Template};
    let filtered_sources: Vec<(&str, Vec<String>)> = vars
        .filter(|(_, t)| t.contains('|'))
        .filter_map(|(k, t)| {
            let parsed = Template::parse(t).ok()?;
            let sources: Vec<String> = parsed
                .parts
                .iter()
                .filter_map(|p| match p {
                    Part::Filtered(f) => match &f.source {
                        Part::Var(v) => Some(v.clone()),
                        _ => None,
                    },
                    _ => None,
                })
                .collect();
            (!sources.is_empty()).then_some((k, sources))
        })
        .collect();
    let mut secret: std::collections::BTreeSet<String> = secrets.map(str::to_string).collect();
    let mut out = std::collections::BTreeSet::new();
    loop {
        let before = out.len();
        for (k, sources) in &filtered_sources {
            if !secret.contains(*k) && sources.iter().any(|s| secret.contains(s)) {
                secret.insert(k.to_string());
                out.insert(k.to_string());
            }
        }
        if out.len() == before {
            return out;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(v: &str, f: &[&str]) -> Result<Value, String> {
        let filters: Vec<Filter> = f
            .iter()
            .map(|t| parse(t, "x").map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?;
        apply(&json!(v), &filters).map_err(|e| e.to_string())
    }

    // {"alg":"HS256","typ":"JWT"} . {"sub":"user-42","exp":1900000000,"https://x.test/roles":["a"]} . sig
    const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTQyIiwiZXhwIjoxOTAwMDAwMDAwLCJodHRwczovL3gudGVzdC9yb2xlcyI6WyJhIl19.c2ln";

    #[test]
    fn encodings_round_trip_and_match_known_values() {
        assert_eq!(run("smoke:pw", &["base64"]).unwrap(), "c21va2U6cHc=");
        assert_eq!(run("c21va2U6cHc", &["base64_decode"]).unwrap(), "smoke:pw");
        assert_eq!(run("??>", &["base64url"]).unwrap(), "Pz8-");
        assert_eq!(run("Pz8-", &["base64url_decode"]).unwrap(), "??>");
        assert_eq!(
            run("a b&c=d/é~", &["url_encode"]).unwrap(),
            "a%20b%26c%3Dd%2F%C3%A9~"
        );
        assert_eq!(
            run("abc", &["sha256"]).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(run("x", &["base64", "base64_decode"]).unwrap(), "x");
    }

    #[test]
    fn runs_at_once_each_learn_the_values_derived_from_their_own_secrets() {
        // Two runs under way in one process (`serve` with --max-concurrent 2): the second
        // run's sink does not replace the first's.
        let (a, b) = (Redactor::default(), Redactor::default());
        a.add("first-run-secret-value").unwrap();
        b.add("second-run-secret-value").unwrap();
        set_secret_sink(a.clone());
        set_secret_sink(b.clone());
        let ha = run("first-run-secret-value", &["sha256"]).unwrap();
        let hb = run("second-run-secret-value", &["sha256"]).unwrap();
        let (ha, hb) = (ha.as_str().unwrap(), hb.as_str().unwrap());
        assert!(a.contains_secret(ha) && !a.contains_secret(hb));
        assert!(b.contains_secret(hb) && !b.contains_secret(ha));
        // A finished run's redactor (held by no one else) is let go at the next run.
        let weak = a.clone();
        drop(a);
        drop(weak);
        let c = Redactor::default();
        set_secret_sink(c.clone());
        assert!(SINK
            .read()
            .unwrap()
            .iter()
            .all(|r| !r.contains_secret("first-run-secret-value")));
    }

    #[test]
    fn jwt_claims_keep_their_type() {
        assert_eq!(run(JWT, &["jwt_claim(\"sub\")"]).unwrap(), "user-42");
        assert_eq!(run(JWT, &["jwt_claim('exp')"]).unwrap(), 1900000000);
        assert_eq!(
            run(JWT, &["jwt_claim(\"https://x.test/roles\")"]).unwrap(),
            json!(["a"])
        );
        assert_eq!(run(JWT, &["jwt_header(\"alg\")"]).unwrap(), "HS256");
        assert_eq!(
            run(JWT, &["jwt_claim(\"aud\")"]).unwrap_err(),
            "jwt_claim: the JWT payload has no `aud` (it has: exp, https://x.test/roles, sub)"
        );
        assert_eq!(
            run("not-a-jwt", &["jwt_claim(\"sub\")"]).unwrap_err(),
            "jwt_claim: the value is not a JWT (header.payload.signature): it has 1 part(s)"
        );
    }

    #[test]
    fn bad_filters_are_named() {
        let e = |t: &str| parse(t, "tok | ...").unwrap_err().to_string();
        assert!(e("md5").contains("unknown filter `md5`, expected one of base64"));
        assert!(e("jwt_claim").contains("`jwt_claim` needs the name"));
        assert!(e("sha256(\"x\")").contains("`sha256` takes no argument"));
        assert!(e("jwt_claim(sub)").contains("must be a quoted, non-empty name"));
        assert_eq!(
            run("%%%", &["base64_decode"]).unwrap_err(),
            "base64_decode: the value is not base64 (Invalid symbol 37, offset 0.)"
        );
    }
}
