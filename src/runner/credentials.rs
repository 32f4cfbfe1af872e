//! Every value a request carries in a credential position is a secret, whether or not the
//! suite marked it: the values of credential headers (`Authorization`, `Cookie`, API-key
//! headers, any header whose name says token, secret, key or password), the scheme's
//! credential inside `Authorization` (and, for `Basic`, the decoded `user:password` and the
//! password), a URL's userinfo password, and query, JSON and form fields with a sensitive
//! name. They are added to the run's redactor before the request is sent, so a server that
//! echoes them — in a body, a header, a `Location`, an error — shows `[REDACTED]`.

use serde_json::Value;

use crate::http::Prepared;
use crate::redact::{is_sensitive_header, is_sensitive_key, Redactor};

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

/// True when a header carries a credential: by name.
pub fn is_credential_header(name: &str) -> bool {
    is_sensitive_header(name) || is_sensitive_key(&name.replace('-', "_"))
}

/// Add every credential of `req` to `redactor`, and name the headers that must not follow a
/// redirect to another origin (credential headers, and any header holding a secret).
pub fn register(req: &mut Prepared, redactor: &Redactor) -> Result<(), ShortCredential> {
    for (what, value) in credentials(req) {
        redactor.add(&value).map_err(|e| ShortCredential {
            what,
            len: e.len,
            min: crate::redact::MIN_SECRET_LEN,
        })?;
    }
    req.private_headers = req
        .headers
        .iter()
        .filter(|(k, v)| is_credential_header(k) || redactor.contains_secret(v))
        .map(|(k, _)| k.clone())
        .collect();
    Ok(())
}

/// The credentials of a request: where each is sent, and its value.
fn credentials(req: &Prepared) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, value) in &req.headers {
        if !is_credential_header(name) || value.trim().is_empty() {
            continue;
        }
        out.push((format!("header `{name}`"), value.clone()));
        if name.eq_ignore_ascii_case("authorization")
            || name.eq_ignore_ascii_case("proxy-authorization")
        {
            out.extend(scheme_credentials(name, value));
        }
    }
    if let Some(p) = req.url.password() {
        let p = percent_decode(p);
        out.push(("the URL's password".into(), p));
    }
    for (k, v) in req.url.query_pairs() {
        if is_sensitive_key(&k) && !v.is_empty() {
            out.push((format!("query parameter `{k}`"), v.into_owned()));
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
                    if is_sensitive_key(&k) && !v.is_empty() {
                        out.push((format!("form field `{k}`"), v.into_owned()));
                    }
                }
            }
            _ => {}
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

fn json_credentials(v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                match x {
                    Value::String(s) if is_sensitive_key(k) && !s.is_empty() => {
                        out.push((format!("JSON field `{k}`"), s.clone()));
                    }
                    Value::Number(n) if is_sensitive_key(k) => {
                        out.push((format!("JSON field `{k}`"), n.to_string()));
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
        let values: Vec<String> = credentials(&r).into_iter().map(|(_, v)| v).collect();
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
