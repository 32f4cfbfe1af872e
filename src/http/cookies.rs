//! The cookie jar of a case (RFC 6265 storage model, by `cookie_store`) and what an exchange
//! saw of cookies.
//!
//! One jar per case, shared by its steps: every hop of an exchange (redirects included)
//! asks the jar for the cookies of its own URL and stores the `Set-Cookie`s of its own
//! response, so a cookie is only ever sent to the hosts, paths and schemes it belongs to.
//! No public suffix list is used; instead, as browsers treat a public suffix, a `Domain`
//! attribute of a single label (`Domain=test`, `Domain=com`) is not trusted to widen a
//! cookie: the cookie is ignored unless the host is exactly that name (then it is host-only).
//! A `Domain` that is an IP address other than the host's is ignored too.

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
                Ok(mut c) => {
                    match domain_scope(c.domain(), url) {
                        Scope::Keep => {}
                        Scope::HostOnly => c.unset_domain(),
                        Scope::Ignore(why) => {
                            tracing::debug!(cookie = c.name(), %url, "cookie ignored: {why}");
                            continue;
                        }
                    }
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

/// What the `Domain` attribute of a cookie set by `url` allows.
#[derive(Debug, PartialEq, Eq)]
enum Scope {
    /// As written (or no `Domain`): the cookie store applies RFC 6265 domain matching.
    Keep,
    /// `Domain` names exactly the host but is a single label: a host-only cookie.
    HostOnly,
    /// Not stored, for this reason.
    Ignore(&'static str),
}

/// RFC 6265 5.3 step 5 with "a single label" standing in for "a public suffix" (we load no
/// public suffix list): such a `Domain` would send the cookie to every host under it
/// (`Domain=test` from `h.test` to `other.test`).
fn domain_scope(domain: Option<&str>, url: &Url) -> Scope {
    let Some(d) = domain.map(|d| d.trim().trim_start_matches('.').to_ascii_lowercase()) else {
        return Scope::Keep;
    };
    if d.is_empty() {
        return Scope::Keep;
    }
    let host = match url.host() {
        Some(url::Host::Domain(h)) => h.trim_end_matches('.').to_ascii_lowercase(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        None => return Scope::Ignore("the URL has no host"),
    };
    let bare = d.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<std::net::IpAddr>() {
        return if ip.to_string() == host {
            Scope::Keep
        } else {
            Scope::Ignore("its Domain is an IP address other than the host's")
        };
    }
    if !d.contains('.') {
        return if d == host {
            Scope::HostOnly
        } else {
            Scope::Ignore("its Domain is a single label (treated as a public suffix)")
        };
    }
    Scope::Keep
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
    fn a_single_label_or_foreign_ip_domain_does_not_widen_a_cookie() {
        let jar = CookieJar::new();
        set(
            &jar,
            "http://h.test/",
            &[
                "wide=1; Domain=test",
                "dot=1; Domain=.TEST",
                "ip=1; Domain=127.0.0.2",
            ],
        );
        assert!(jar.for_url(&url("http://other.test/")).is_empty());
        assert!(jar.for_url(&url("http://h.test/")).is_empty());
        // A host that is the single label itself keeps the cookie, host-only.
        set(&jar, "http://localhost/", &["l=1; Domain=localhost"]);
        assert_eq!(jar.for_url(&url("http://localhost/")).len(), 1);
        assert!(jar.for_url(&url("http://a.localhost/")).is_empty());
        // An IP literal host may name itself.
        set(&jar, "http://127.0.0.1/", &["me=1; Domain=127.0.0.1"]);
        assert_eq!(jar.for_url(&url("http://127.0.0.1/")).len(), 1);
        assert_eq!(
            domain_scope(Some("test"), &url("http://h.test/")),
            Scope::Ignore("its Domain is a single label (treated as a public suffix)")
        );
        assert_eq!(
            domain_scope(Some("127.0.0.2"), &url("http://127.0.0.1/")),
            Scope::Ignore("its Domain is an IP address other than the host's")
        );
        assert_eq!(
            domain_scope(Some("h.test"), &url("http://a.h.test/")),
            Scope::Keep
        );
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
