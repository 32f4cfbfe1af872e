//! Whether a run will use TLS, foreseen from the plan before anything is sent (the trust
//! store is read ahead only when it may be needed).

use super::request::literal_scheme;
use super::{Action, Plan};
use crate::interp::Scope;

/// Whether a run will use TLS, as far as its plan tells before anything is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HttpsUse {
    /// Every request is plain http and follows no redirect.
    No,
    /// A URL depends on a capture, or a redirect is followed: https is possible.
    Maybe,
    /// An https URL, or TLS expectations.
    Yes,
}

impl Plan {
    /// How the run may use TLS: an https URL (rendered with the plan's variables) or TLS
    /// expectations make it certain; a URL that depends on a capture and does not start with
    /// a literal scheme, or a followed redirect, makes it possible.
    pub fn https_use(&self) -> HttpsUse {
        let mut out = HttpsUse::No;
        for c in &self.cases {
            let scope = Scope {
                vars: c.vars.clone(),
                texts: c.texts.clone(),
                env: self.env.clone(),
                run_id: self.run_id.clone(),
                lenient_env: true,
            };
            for s in c.compiled.iter() {
                let Action::Http(h) = &*s.action else {
                    continue;
                };
                let plain = if h.request.max_redirects > 0 {
                    HttpsUse::Maybe
                } else {
                    HttpsUse::No
                };
                let is_https = |scheme: &str| scheme.eq_ignore_ascii_case("https");
                let this = if h.expect.tls_check().is_some() {
                    HttpsUse::Yes
                } else {
                    match h.request.url.render(&scope) {
                        Ok(url) => match url.trim_start().split_once(':') {
                            Some((scheme, _)) if is_https(scheme) => HttpsUse::Yes,
                            _ => plain,
                        },
                        // Not renderable yet (a capture): the literal start may still tell.
                        Err(_) => match literal_scheme(&h.request.url) {
                            Some(scheme) if is_https(scheme) => HttpsUse::Yes,
                            Some(_) => plain,
                            None => HttpsUse::Maybe,
                        },
                    }
                };
                // An OAuth2 token endpoint may be https whatever the step's URL.
                let token = match h.auth.as_deref() {
                    Some(super::auth::AuthTemplate::OAuth2(_)) => HttpsUse::Maybe,
                    _ => HttpsUse::No,
                };
                out = out.max(this).max(token);
                if out == HttpsUse::Yes {
                    return out;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod https_tests {
    use super::*;
    use crate::plan::build;
    use crate::plan::PlanOptions;
    use crate::suite::load::parse_suite;

    fn plan(yaml: &str) -> Plan {
        let s = parse_suite(std::path::Path::new("s.yaml"), yaml.to_string()).unwrap();
        build(&[s], &PlanOptions::default()).unwrap()
    }

    #[test]
    fn https_is_foreseen_from_urls_variables_captures_and_tls_checks() {
        let http = "name: s\nvars: {base: 'http://x.test'}\ncases:\n  - name: a\n    request: {url: '${base}/h'}\n";
        assert_eq!(plan(http).https_use(), HttpsUse::No);
        assert_eq!(
            plan(&http.replace("http://x", "HTTPS://x")).https_use(),
            HttpsUse::Yes
        );
        let redirected = http.replace(
            "url: '${base}/h'}",
            "url: '${base}/h', follow_redirects: true}",
        );
        assert_eq!(plan(&redirected).https_use(), HttpsUse::Maybe);
        let tls = "name: s\ncases:\n  - name: a\n    request: {url: 'http://x.test/'}\n    expect: {tls: {min_days_valid: 3}}\n";
        assert_eq!(plan(tls).https_use(), HttpsUse::Yes);
        let captured = "name: s\ncases:\n  - name: a\n    steps:\n      - name: one\n        request: {url: 'http://x.test/'}\n        capture: {next: {jsonpath: '$.next'}}\n      - name: two\n        request: {url: '${next}'}\n";
        assert_eq!(plan(captured).https_use(), HttpsUse::Maybe);
        let known_scheme = captured.replace("url: '${next}'", "url: 'http://x.test/${next}'");
        assert_eq!(plan(&known_scheme).https_use(), HttpsUse::No);
        let https_prefix = captured.replace("url: '${next}'", "url: 'https://x.test/${next}'");
        assert_eq!(plan(&https_prefix).https_use(), HttpsUse::Yes);
    }
}
