//! Every value a request carries in a credential position is a secret, whether or not the
//! suite marked it: the values of credential headers (`Authorization`, `Cookie`, and any
//! header whose name says key, token, secret, password, signature, auth, session,
//! credential or jwt), the scheme's credential inside `Authorization` (and, for `Basic`, the
//! decoded `user:password` and the password), a URL's userinfo password, and the string
//! values of query, JSON and form fields named like a credential (`token`, `access_token`,
//! `password`, `api_key`, `client_secret`, …; not `max_tokens`). They are added to the run's
//! redactor before the request is sent, so a server that echoes them — in a body, a header,
//! a `Location`, an error — shows `[REDACTED]`.
//!
//! A declared credential too short to mask (an `Authorization` credential, `X-Api-Key`, a
//! URL password) is an error; a value found by name only (a cookie `a=1`, `?next_token=0`)
//! that is too short is left alone.

use serde_json::Value;

use crate::http::Prepared;
use crate::redact::Redactor;
pub use crate::redact::{is_credential_field, is_credential_header};

/// A credential too short to be masked safely.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{what} is {len} character(s) long: too short to be masked safely in reports (at least {min}); use a longer value")]
pub struct ShortCredential {
    /// Where it is sent, e.g. ``header `X-Api-Key` ``.
    pub what: String,
    /// Its length in characters.
    pub len: usize,
    /// The shortest maskable length.
    pub min: usize,
}

/// Headers whose credential must be long enough to mask (they are credentials by
/// definition, not by a guess from their name).
fn is_declared_credential_header(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "authorization" | "proxy-authorization" | "x-api-key"
    )
}

/// Add every credential of `req` to `redactor`, and name the headers that must not follow a
/// redirect to another origin (credential headers, and any header holding a secret).
pub fn register(req: &mut Prepared, redactor: &Redactor) -> Result<(), ShortCredential> {
    for Credential {
        what,
        value,
        declared,
    } in credentials(req)
    {
        match redactor.add(&value) {
            Err(e) if declared => {
                return Err(ShortCredential {
                    what,
                    len: e.len,
                    min: crate::redact::MIN_SECRET_LEN,
                })
            }
            _ => {}
        }
    }
    req.private_headers = req
        .headers
        .iter()
        .filter(|(k, v)| is_credential_header(k) || redactor.contains_secret(v))
        .map(|(k, _)| k.clone())
        .collect();
    Ok(())
}

/// A value sent in a credential position.
struct Credential {
    /// Where it is sent.
    what: String,
    /// The value.
    value: String,
    /// A credential by definition (too short is an error), not by a name's look.
    declared: bool,
}

fn cred(what: String, value: String, declared: bool) -> Credential {
    Credential {
        what,
        value,
        declared,
    }
}

/// The credentials of a request.
fn credentials(req: &Prepared) -> Vec<Credential> {
    let mut out = Vec::new();
    for (name, value) in &req.headers {
        if !is_credential_header(name) || value.trim().is_empty() {
            continue;
        }
        let declared = is_declared_credential_header(name);
        out.push(cred(format!("header `{name}`"), value.clone(), declared));
        if name.eq_ignore_ascii_case("authorization")
            || name.eq_ignore_ascii_case("proxy-authorization")
        {
            out.extend(
                scheme_credentials(name, value)
                    .into_iter()
                    .map(|(w, v)| cred(w, v, true)),
            );
        }
    }
    if let Some(p) = req.url.password() {
        out.push(cred("the URL's password".into(), percent_decode(p), true));
    }
    // Query values both as sent (`a+b%2F`) and decoded.
    for pair in req.url.query().unwrap_or("").split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let name = percent_decode(k);
        if is_credential_field(&name) && !v.is_empty() {
            // As sent, decoded as a form value (`+` is a space, as servers read it), and
            // decoded keeping `+`.
            let form = url::form_urlencoded::parse(format!("v={v}").as_bytes())
                .next()
                .map(|(_, x)| x.into_owned())
                .unwrap_or_default();
            let what = format!("query parameter `{name}`");
            out.push(cred(what.clone(), v.to_string(), false));
            out.push(cred(what.clone(), form, false));
            out.push(cred(what, percent_decode(v), false));
        }
    }
    if let Some((bytes, ctype)) = &req.body {
        match *ctype {
            Some("application/json") => {
                if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
                    json_credentials(&v, &mut out);
                }
            }
            Some("application/x-www-form-urlencoded") => {
                for (k, v) in url::form_urlencoded::parse(bytes) {
                    if is_credential_field(&k) && !v.is_empty() {
                        out.push(cred(format!("form field `{k}`"), v.into_owned(), false));
                    }
                }
            }
            _ => {
                let ctype = req
                    .headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                    .map(|(_, v)| v.as_str())
                    .unwrap_or_default();
                for (k, v) in super::multipart::text_fields(bytes, ctype) {
                    if is_credential_field(&k) && !v.is_empty() {
                        out.push(cred(format!("multipart field `{k}`"), v, false));
                    }
                }
            }
        }
    }
    out
}

/// `Bearer TOKEN` → the token; `Basic B64` → the base64, `user:password` and the password.
fn scheme_credentials(name: &str, value: &str) -> Vec<(String, String)> {
    use base64::Engine as _;
    let mut out = Vec::new();
    let Some((scheme, cred)) = value.trim().split_once(' ') else {
        return out;
    };
    let cred = cred.trim();
    if cred.is_empty() {
        return out;
    }
    out.push((
        format!("the credential of header `{name}`"),
        cred.to_string(),
    ));
    if scheme.eq_ignore_ascii_case("basic") {
        if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(cred) {
            let text = String::from_utf8_lossy(&decoded).into_owned();
            if let Some((_, password)) = text.split_once(':') {
                if !password.is_empty() {
                    out.push((
                        format!("the Basic password of header `{name}`"),
                        password.to_string(),
                    ));
                }
            }
            out.push((format!("the Basic credentials of header `{name}`"), text));
        }
    }
    out
}

/// String values of JSON fields named like a credential (numbers are not credentials).
fn json_credentials(v: &Value, out: &mut Vec<Credential>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                match x {
                    Value::String(s) if is_credential_field(k) && !s.is_empty() => {
                        out.push(cred(format!("JSON field `{k}`"), s.clone(), false));
                    }
                    other => json_credentials(other, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| json_credentials(x, out)),
        _ => {}
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn req(url: &str, headers: &[(&str, &str)], body: Option<(&str, &'static str)>) -> Prepared {
        Prepared {
            method: reqwest::Method::POST,
            url: reqwest::Url::parse(url).unwrap(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.map(|(b, t)| (b.as_bytes().to_vec(), Some(t))),
            timeout: Duration::from_secs(1),
            max_redirects: 0,
            private_headers: Vec::new(),
            decompress: true,
        }
    }

    #[test]
    fn every_credential_position_is_found() {
        let r = req(
            "https://ann:pa%24%24word@api.test/x?api_key=qk-123456&page=2",
            &[
                ("Authorization", "Basic YW5uOmh1bnRlcjItYmFzaWM="),
                ("X-Auth-Token", "tok-abcdef"),
                ("Accept", "application/json"),
            ],
            Some((
                r#"{"email":"a@b.test","user":{"password":"Pw-987654"}}"#,
                "application/json",
            )),
        );
        let values: Vec<String> = credentials(&r).into_iter().map(|c| c.value).collect();
        for want in [
            "Basic YW5uOmh1bnRlcjItYmFzaWM=",
            "YW5uOmh1bnRlcjItYmFzaWM=",
            "ann:hunter2-basic",
            "hunter2-basic",
            "tok-abcdef",
            "pa$$word",
            "qk-123456",
            "Pw-987654",
        ] {
            assert!(values.iter().any(|v| v == want), "{want} in {values:?}");
        }
        assert!(!values
            .iter()
            .any(|v| v.contains("application/json") || v == "2"));
    }

    #[test]
    fn ordinary_fields_are_not_credentials_and_short_guesses_are_left_alone() {
        let mut r = req(
            "https://api.test/x?next_token=0&max_tokens=5",
            &[("Cookie", "a=1"), ("Accept", "application/json")],
            Some((
                r#"{"max_tokens": 1000, "token_type_hint": "access_token", "token": 7}"#,
                "application/json",
            )),
        );
        let red = Redactor::default();
        register(&mut r, &red).expect("nothing here is a declared credential");
        for shown in ["1000", "access_token", "max_tokens", "5", "a=1"] {
            assert_eq!(red.redact(shown), shown, "{shown} must stay visible");
        }
    }

    #[test]
    fn a_short_credential_is_an_error_naming_where_it_is_sent() {
        let r = req("https://api.test/", &[("X-Api-Key", "k1")], None);
        let mut r = r;
        let e = register(&mut r, &Redactor::default()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("header `X-Api-Key` is 2 character(s) long"),
            "{e}"
        );
    }
}
