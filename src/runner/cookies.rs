//! Cookie values are secrets when they look like one: the value of every cookie received
//! (or held by the case's jar) whose name says session, token, auth, key, … (see [`is_secret_cookie`]) or that is `HttpOnly` is added to the run's
//! redactor as soon as it is received, so reports show `[REDACTED]` wherever a server echoes
//! it. A value too short to mask is left alone (it is found by a guess, not declared).

use cookie_store::RawCookie;

use crate::http::{CookieJar, Sent};
use crate::redact::{is_credential_header, Redactor};

/// The length from which the text of a malformed `Set-Cookie` is masked as a possible token.
const MALFORMED_SECRET_LEN: usize = 12;

/// Whether a cookie's value is treated as a secret.
pub fn is_secret_cookie(name: &str, http_only: bool) -> bool {
    /// Parts of the usual names of session and login cookies (`PHPSESSID`, `connect.sid`,
    /// `__Host-auth`, `csrftoken`, `remember_me`).
    const PARTS: &[&str] = &[
        "sess", "sid", "token", "auth", "jwt", "secret", "csrf", "xsrf", "login", "remember", "key",
    ];
    let lower = name.to_ascii_lowercase();
    http_only || is_credential_header(name) || PARTS.iter().any(|p| lower.contains(p))
}

/// Add the secret cookie values an exchange received (and its jar holds) to `redactor`.
pub fn register(sent: &Sent, jar: &CookieJar, redactor: &Redactor) {
    for seen in &sent.set_cookies {
        match RawCookie::parse(seen.raw.as_str()) {
            Ok(c) => {
                if is_secret_cookie(c.name(), c.http_only().unwrap_or(false))
                    && !c.value().is_empty()
                {
                    let _ = redactor.add(c.value());
                }
            }
            // A malformed Set-Cookie (a bare token, no `name=`) is quoted in messages: text
            // as long as a token where the name=value pair should be may be a credential
            // (a short bare word such as `sidx` is shown: it is likely the intended name).
            Err(_) => {
                let first = seen.raw.split(';').next().unwrap_or("").trim();
                if first.chars().count() >= MALFORMED_SECRET_LEN {
                    let _ = redactor.add(first);
                }
            }
        }
    }
    for (name, value, http_only) in jar.all() {
        if is_secret_cookie(&name, http_only) && !value.is_empty() {
            let _ = redactor.add(&value);
        }
    }
}
