//! The boundary between what a step saw and what reports show: every text of a step result
//! that may hold server bytes or a secret — messages, expected and actual values, the
//! request line, redirects, `Location`, certificate fields — goes through
//! [`crate::text::outside`] (secrets masked in every form, then escaped, then bounded) before
//! it becomes an event. Reporters only ever see sanitized results.

use crate::events::StepResult;
use crate::redact::{Redactor, MASK};
use crate::text::outside;

/// Longest message shown.
const MESSAGE: usize = 600;
/// Longest expected or actual value shown.
const VALUE: usize = 200;
/// Longest check description shown.
const CHECK: usize = 300;
/// Longest URL shown.
const URL: usize = 1000;

/// Sanitize every outside text of `step` in place.
pub fn step(step: &mut StepResult, redactor: &Redactor) {
    let text = |s: &mut String, max: usize| {
        if !crate::text::is_inert(s, max, redactor) {
            *s = outside(s, max, redactor);
        }
    };
    let opt = |s: &mut Option<String>, max: usize| {
        if let Some(x) = s {
            if !crate::text::is_inert(x, max, redactor) {
                *x = outside(x, max, redactor);
            }
        }
    };
    opt(&mut step.message, MESSAGE);
    step.failed_attempts
        .iter_mut()
        .for_each(|m| text(m, MESSAGE));
    step.warnings.iter_mut().for_each(|m| text(m, MESSAGE));
    if let Some(e) = &mut step.error {
        text(&mut e.message, MESSAGE);
    }
    for o in &mut step.expectations {
        if !crate::text::is_inert(&o.check, CHECK, redactor) {
            o.check = outside(&o.check, CHECK, redactor).into();
        }
        opt(&mut o.expected, VALUE);
        opt(&mut o.actual, VALUE);
        opt(&mut o.message, MESSAGE);
    }
    if let Some(r) = &mut step.request {
        if !crate::text::is_inert(&r.url, URL, redactor) {
            r.url = outside(&without_password(&r.url), URL, redactor);
        }
        r.redirects
            .iter_mut()
            .for_each(|u| *u = outside(&without_password(u), URL, redactor));
        for h in &mut r.hops {
            h.url = outside(&without_password(&h.url), URL, redactor);
            h.location = outside(&without_password(&h.location), URL, redactor);
        }
        opt(&mut r.fallback_cause, MESSAGE);
    }
    if let Some(resp) = &mut step.response {
        opt(&mut resp.location, URL);
        if let Some(tls) = &mut resp.tls {
            let c = &mut tls.certificate;
            text(&mut c.subject, MESSAGE);
            text(&mut c.issuer, MESSAGE);
            c.names.iter_mut().for_each(|n| text(n, VALUE));
            tls.alpn.iter_mut().for_each(|a| text(a, VALUE));
        }
    }
}

/// A URL with the password of its userinfo masked (`https://user:[REDACTED]@host/`).
pub fn without_password(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => match u.password() {
            Some(p) => {
                let s = u.to_string();
                s.replacen(&format!(":{p}@"), &format!(":{MASK}@"), 1)
            }
            None => url.to_string(),
        },
        Err(_) => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_passwords_are_masked() {
        assert_eq!(
            without_password("https://ann:hunter2@api.test/x?y=1"),
            "https://ann:[REDACTED]@api.test/x?y=1"
        );
        assert_eq!(without_password("https://api.test/"), "https://api.test/");
    }
}
