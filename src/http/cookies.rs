//! The cookie jar of a case (RFC 6265 storage model, by `cookie_store`) and what an exchange
//! saw of cookies.
//!
//! One jar per case, shared by its steps: every hop of an exchange (redirects included)
//! asks the jar for the cookies of its own URL and stores the `Set-Cookie`s of its own
//! response, so a cookie is only ever sent to the hosts, paths and schemes it belongs to.
//! No public suffix list is used: a suite talks to the deployment it names, and a
//! `Domain=test` cookie is accepted only from a host under `test`.

use std::sync::{Arc, Mutex};

use cookie_store::{CookieStore, RawCookie};
use reqwest::header::HeaderMap;
use reqwest::Url;

/// The cookie jar of one case.
#[derive(Debug, Clone, Default)]
pub struct CookieJar {
    store: Arc<Mutex<CookieStore>>,
}

impl CookieJar {
    /// An empty jar.
    pub fn new() -> Self {
        CookieJar::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CookieStore> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The `(name, value)` pairs the jar sends to `url` (unexpired, domain, path and
    /// `Secure` matching), most specific path first.
    pub fn for_url(&self, url: &Url) -> Vec<(String, String)> {
        let store = self.lock();
        let mut found: Vec<_> = store.matches(url);
        // RFC 6265 5.4: longer paths first.
        found.sort_by_key(|c| std::cmp::Reverse(String::from(&c.path).len()));
        found
            .into_iter()
            .map(|c| (c.name().to_string(), c.value().to_string()))
            .collect()
    }

    /// Store the `Set-Cookie`s of a response to `url`; returns them as received.
    pub fn store(&self, url: &Url, headers: &HeaderMap) -> Vec<String> {
        let raw = set_cookies(headers);
        let mut store = self.lock();
        for text in &raw {
            match RawCookie::parse(text.clone()) {
                Ok(c) => {
                    if let Err(e) = store.insert_raw(&c, url) {
                        tracing::debug!(cookie = c.name(), %url, "cookie not stored: {e}");
                    }
                }
                Err(e) => tracing::debug!(%url, "unparsable Set-Cookie: {e}"),
            }
        }
        raw
    }

    /// Every unexpired cookie in the jar: (name, value, HttpOnly).
    pub fn all(&self) -> Vec<(String, String, bool)> {
        self.lock()
            .iter_unexpired()
            .map(|c| {
                (
                    c.name().to_string(),
                    c.value().to_string(),
                    c.http_only().unwrap_or(false),
                )
            })
            .collect()
    }
}

/// The `Set-Cookie` headers of a response, as text.
pub fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect()
}

/// A `Set-Cookie` received during an exchange, with the URL whose response carried it.
#[derive(Debug, Clone)]
pub struct SeenCookie {
    /// The URL of the hop whose response set it.
    pub url: Url,
    /// The header as received.
    pub raw: String,
}

/// The `Cookie` header of one hop: the step's own `Cookie` header (when it still applies)
/// first, then the jar's cookies for `url` whose names it does not set.
pub fn cookie_header(explicit: Option<&str>, jar: &[(String, String)]) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    if let Some(e) = explicit.filter(|e| !e.trim().is_empty()) {
        for pair in e.split(';') {
            let name = pair.split('=').next().unwrap_or("").trim();
            if !name.is_empty() {
                names.push(name);
            }
        }
        parts.push(e.trim().trim_end_matches(';').to_string());
    }
    for (n, v) in jar {
        if !names.contains(&n.as_str()) {
            parts.push(format!("{n}={v}"));
        }
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderValue, SET_COOKIE};

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn set(jar: &CookieJar, at: &str, cookies: &[&str]) {
        let mut h = HeaderMap::new();
        for c in cookies {
            h.append(SET_COOKIE, HeaderValue::from_str(c).unwrap());
        }
        jar.store(&url(at), &h);
    }

    #[test]
    fn cookies_go_only_where_they_belong() {
        let jar = CookieJar::new();
        set(
            &jar,
            "https://a.test/login",
            &[
                "sid=abc123; Path=/; Secure; HttpOnly",
                "theme=dark",
                "scoped=1; Path=/admin",
                "wide=w; Domain=a.test",
            ],
        );
        let names =
            |u: &str| -> Vec<String> { jar.for_url(&url(u)).into_iter().map(|(n, _)| n).collect() };
        assert_eq!(names("https://b.test/"), Vec::<String>::new());
        assert!(names("http://a.test/").iter().all(|n| n != "sid"));
        let mut admin = names("https://a.test/admin/x");
        assert_eq!(admin[0], "scoped", "longest path first: {admin:?}");
        admin.sort();
        assert_eq!(admin, ["scoped", "sid", "theme", "wide"]);
        assert_eq!(names("https://x.a.test/"), ["wide"]);
    }

    #[test]
    fn expired_and_foreign_cookies_are_not_kept() {
        let jar = CookieJar::new();
        set(
            &jar,
            "http://a.test/",
            &["gone=1; Max-Age=0", "other=1; Domain=b.test"],
        );
        assert!(jar.for_url(&url("http://a.test/")).is_empty());
        assert!(jar.for_url(&url("http://b.test/")).is_empty());
        set(&jar, "http://a.test/", &["s=1"]);
        set(
            &jar,
            "http://a.test/",
            &["s=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT"],
        );
        assert!(jar.for_url(&url("http://a.test/")).is_empty());
    }

    #[test]
    fn the_steps_own_cookie_header_wins_by_name() {
        let jar = vec![
            ("a".to_string(), "jar".to_string()),
            ("b".into(), "2".into()),
        ];
        assert_eq!(
            cookie_header(Some("a=mine"), &jar).as_deref(),
            Some("a=mine; b=2")
        );
        assert_eq!(cookie_header(None, &[]), None);
        assert_eq!(cookie_header(None, &jar).as_deref(), Some("a=jar; b=2"));
    }
}
