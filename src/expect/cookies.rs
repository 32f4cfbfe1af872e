//! Cookie expectations (`expect.cookies.NAME`): the cookie was set (or not), its value, and
//! its attributes — `Secure`, `HttpOnly`, `SameSite`, `Path`, `Domain`, `Max-Age`/`Expires`.
//! The `Set-Cookie` judged is the last one of that name received during the exchange
//! (redirect hops included). Each attribute is its own outcome, so one report names every
//! missing attribute; a failure quotes the `Set-Cookie` seen (secret values are masked by the
//! run's redactor before any report shows it).

use cookie_store::RawCookie;
use regex::Regex;

use super::{ExpectError, Outcome, OutcomeKind, Response};
use crate::interp::{Scope, Template};
use crate::suite::model::CookieExpectDef;
use crate::suite::Pos;

#[derive(Debug)]
enum Rule {
    Value(Template),
    Matches(Regex),
    Secure(bool),
    HttpOnly(bool),
    SameSite(String),
    Path(String),
    Domain(String),
    MaxAge(i64),
    MaxAgeLte(i64),
    Persistent(bool),
}

/// One compiled `expect.cookies` entry.
#[derive(Debug)]
pub struct CookieCheck {
    name: String,
    present: bool,
    rules: Vec<Rule>,
    /// Where the entry is written.
    pub pos: Option<Pos>,
}

/// The last `Set-Cookie` of `name` received during the exchange, parsed, with its text.
pub fn last_set_cookie<'a>(resp: &'a Response, name: &str) -> Option<(RawCookie<'a>, &'a str)> {
    resp.set_cookies.iter().rev().find_map(|seen| {
        let c = RawCookie::parse(seen.raw.as_str()).ok()?;
        (c.name() == name).then_some((c, seen.raw.as_str()))
    })
}

/// The names of every cookie set during the exchange, for messages.
pub fn names_set(resp: &Response) -> String {
    let mut names: Vec<String> = Vec::new();
    for c in resp
        .set_cookies
        .iter()
        .filter_map(|s| RawCookie::parse(s.raw.as_str()).ok())
    {
        if !names.iter().any(|n| n == c.name()) {
            names.push(c.name().to_string());
        }
    }
    let malformed: Vec<String> = resp
        .set_cookies
        .iter()
        .filter(|s| RawCookie::parse(s.raw.as_str()).is_err())
        .map(|s| {
            format!(
                "`{}`",
                crate::text::truncate(&crate::text::visible(&s.raw), 120)
            )
        })
        .collect();
    let ignored = match malformed.len() {
        0 => String::new(),
        1 => format!("a Set-Cookie was ignored as malformed: {}", malformed[0]),
        n => format!(
            "{n} Set-Cookies were ignored as malformed: {}",
            malformed.join(", ")
        ),
    };
    match (names.is_empty(), ignored.is_empty()) {
        (true, true) => "no Set-Cookie at all".to_string(),
        (true, false) => ignored,
        (false, true) => format!("Set-Cookie received for: {}", names.join(", ")),
        (false, false) => format!("Set-Cookie received for: {}; {ignored}", names.join(", ")),
    }
}

impl CookieCheck {
    /// Compile one entry; every problem of it is returned.
    pub fn compile(
        name: &str,
        def: &CookieExpectDef,
        pos: Option<Pos>,
        cache: &mut super::SchemaCache,
    ) -> Result<Self, Vec<ExpectError>> {
        let err = |reason: String| ExpectError::Cookie {
            name: name.to_string(),
            reason,
        };
        let mut errs = Vec::new();
        let mut rules = Vec::new();
        if let Some(v) = &def.value {
            match Template::parse(v) {
                Ok(t) => rules.push(Rule::Value(t)),
                Err(e) => errs.push(err(format!("value: {e}"))),
            }
        }
        if let Some(m) = &def.matches {
            match cache.regex(m) {
                Ok(r) => rules.push(Rule::Matches(r)),
                Err(e) => errs.push(err(e.to_string())),
            }
        }
        rules.extend(def.secure.map(Rule::Secure));
        rules.extend(def.http_only.map(Rule::HttpOnly));
        if let Some(s) = &def.same_site {
            match s.to_ascii_lowercase().as_str() {
                "strict" | "lax" | "none" => rules.push(Rule::SameSite(s.to_ascii_lowercase())),
                _ => errs.push(err(format!(
                    "same_site `{s}` is not a SameSite value: use Strict, Lax or None"
                ))),
            }
        }
        rules.extend(def.path.clone().map(Rule::Path));
        rules.extend(
            def.domain
                .as_ref()
                .map(|d| Rule::Domain(d.trim_start_matches('.').to_ascii_lowercase())),
        );
        rules.extend(def.max_age.map(Rule::MaxAge));
        rules.extend(def.max_age_lte.map(Rule::MaxAgeLte));
        rules.extend(def.persistent.map(Rule::Persistent));
        let present = def.present.unwrap_or(true);
        if !present && !rules.is_empty() {
            errs.push(err(
                "`present: false` cannot be combined with checks of the cookie's value or attributes"
                    .into(),
            ));
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(CookieCheck {
            name: name.to_string(),
            present,
            rules,
            pos,
        })
    }

    /// Templates this check renders.
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        self.rules.iter().filter_map(|r| match r {
            Rule::Value(t) => Some(t),
            _ => None,
        })
    }

    /// Judge the cookies the exchange set.
    pub fn evaluate(&self, resp: &Response, scope: &Scope) -> Vec<Outcome> {
        let n = &self.name;
        let pos = self.pos;
        let found = last_set_cookie(resp, n);
        let outcome = |check: String| Outcome::new(OutcomeKind::Cookie, check, pos);
        let Some((cookie, raw)) = found else {
            let o = outcome(format!("cookie {n} set"));
            return vec![if self.present {
                o.fail(
                    "Set-Cookie present",
                    "(absent)",
                    format!(
                        "cookie `{n}`: the response did not set it ({})",
                        names_set(resp)
                    ),
                )
            } else {
                outcome(format!("cookie {n} not set"))
            }];
        };
        if !self.present {
            let o = outcome(format!("cookie {n} not set"));
            return vec![o.fail(
                "no Set-Cookie",
                raw.to_string(),
                format!("cookie `{n}`: expected not to be set, got Set-Cookie: {raw}"),
            )];
        }
        if self.rules.is_empty() {
            return vec![outcome(format!("cookie {n} set"))];
        }
        let lifetime = lifetime_secs(&cookie);
        let mut out = Vec::with_capacity(self.rules.len());
        for rule in &self.rules {
            let flag = |attr: &str, want: bool, has: bool| {
                let o = outcome(format!(
                    "cookie {n} {}{attr}",
                    if want { "" } else { "without " }
                ));
                if want == has {
                    o
                } else if want {
                    o.fail(
                        attr.to_string(),
                        format!("no {attr}"),
                        format!(
                            "cookie `{n}`: expected the {attr} attribute, but its Set-Cookie has none: {raw}"
                        ),
                    )
                } else {
                    o.fail(
                        format!("no {attr}"),
                        attr.to_string(),
                        format!(
                            "cookie `{n}`: expected no {attr} attribute, got Set-Cookie: {raw}"
                        ),
                    )
                }
            };
            let compare = |what: &str, want: String, got: String| {
                let o = outcome(format!("cookie {n} {what} = {want:?}"));
                if want == got {
                    o
                } else {
                    o.fail(
                        want.clone(),
                        got.clone(),
                        format!(
                            "cookie `{n}`: expected {what} {want:?}, got {got:?} (Set-Cookie: {raw})"
                        ),
                    )
                }
            };
            out.push(match rule {
                Rule::Secure(w) => flag("Secure", *w, cookie.secure().unwrap_or(false)),
                Rule::HttpOnly(w) => flag("HttpOnly", *w, cookie.http_only().unwrap_or(false)),
                Rule::Value(t) => match t.render(scope) {
                    Ok(want) => compare("value", want, cookie.value().to_string()),
                    Err(e) => outcome(format!("cookie {n} value")).fail(
                        "a value",
                        "(not rendered)",
                        format!("cookie `{n}`: {e}"),
                    ),
                },
                Rule::Matches(r) => {
                    let o = outcome(format!("cookie {n} value matches /{}/", r.as_str()));
                    if r.is_match(cookie.value()) {
                        o
                    } else {
                        o.fail(
                            format!("/{}/", r.as_str()),
                            cookie.value().to_string(),
                            format!(
                                "cookie `{n}`: value does not match /{}/ (Set-Cookie: {raw})",
                                r.as_str()
                            ),
                        )
                    }
                }
                Rule::SameSite(want) => compare(
                    "SameSite",
                    capitalize(want),
                    cookie
                        .same_site()
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "(absent)".into()),
                ),
                Rule::Path(want) => compare(
                    "Path",
                    want.clone(),
                    cookie.path().unwrap_or("(absent)").to_string(),
                ),
                Rule::Domain(want) => compare(
                    "Domain",
                    want.clone(),
                    cookie
                        .domain()
                        .map(|d| d.trim_start_matches('.').to_ascii_lowercase())
                        .unwrap_or_default(),
                ),
                Rule::MaxAge(want) => compare(
                    "Max-Age",
                    want.to_string(),
                    cookie
                        .max_age()
                        .map(|d| d.whole_seconds().to_string())
                        .unwrap_or_else(|| "(absent)".into()),
                ),
                Rule::MaxAgeLte(max) => {
                    let o = outcome(format!("cookie {n} lives ≤ {max}s"));
                    match lifetime {
                        Some(s) if s > *max => o.fail(
                            format!("≤ {max}s"),
                            format!("{s}s"),
                            format!(
                                "cookie `{n}`: lives {s}s, more than the {max}s allowed (Set-Cookie: {raw})"
                            ),
                        ),
                        _ => o,
                    }
                }
                Rule::Persistent(w) => {
                    let has = cookie.max_age().is_some() || cookie.expires().is_some_and(|e| e.is_datetime());
                    let o = outcome(format!(
                        "cookie {n} {}",
                        if *w { "persistent" } else { "session cookie" }
                    ));
                    if has == *w {
                        o
                    } else if *w {
                        o.fail(
                            "Max-Age or Expires",
                            "neither",
                            format!("cookie `{n}`: expected a persistent cookie (Max-Age or Expires), got a session cookie: {raw}"),
                        )
                    } else {
                        o.fail(
                            "a session cookie",
                            "Max-Age or Expires",
                            format!("cookie `{n}`: expected a session cookie (no Max-Age, no Expires), got Set-Cookie: {raw}"),
                        )
                    }
                }
            });
        }
        out
    }
}

/// Seconds the cookie lives: `Max-Age` wins over `Expires`; `None` for a session cookie.
fn lifetime_secs(c: &RawCookie) -> Option<i64> {
    if let Some(m) = c.max_age() {
        return Some(m.whole_seconds());
    }
    let at = c.expires_datetime()?;
    Some(at.unix_timestamp() - chrono::Utc::now().timestamp())
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    }
}
