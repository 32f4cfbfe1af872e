//! Redirect chain expectations (`expect.redirects`): how many redirects were followed, each
//! hop's status, `Location` and URL, and the URL of the final response — so an http → https
//! upgrade or a canonical-host redirect can be gated. Each check is its own outcome.

use super::status::StatusCheck;
use super::{ExpectError, Outcome, OutcomeKind, Response};
use crate::interp::{Scope, Template};
use crate::suite::model::RedirectsExpectDef;
use crate::suite::Pos;

#[derive(Debug)]
struct HopCheck {
    status: Option<StatusCheck>,
    location: Option<Template>,
    url: Option<Template>,
}

/// A compiled `expect.redirects` block.
#[derive(Debug)]
pub struct RedirectsCheck {
    count: Option<u32>,
    final_url: Option<Template>,
    hops: Option<Vec<HopCheck>>,
    /// Where the block is written.
    pub pos: Option<Pos>,
}

impl RedirectsCheck {
    /// Compile the block; every problem is returned.
    pub fn compile(def: &RedirectsExpectDef, pos: Option<Pos>) -> Result<Self, Vec<ExpectError>> {
        let mut errs = Vec::new();
        let mut template = |field: String, v: &Option<String>| {
            v.as_ref().and_then(|v| match Template::parse(v) {
                Ok(t) => Some(t),
                Err(source) => {
                    errs.push(ExpectError::Template {
                        field: format!("redirects.{field}"),
                        source,
                    });
                    None
                }
            })
        };
        let final_url = template("final_url".into(), &def.final_url);
        let mut hops = None;
        if let Some(list) = &def.hops {
            let mut out = Vec::with_capacity(list.len());
            for (i, h) in list.iter().enumerate() {
                out.push(HopCheck {
                    status: None,
                    location: template(format!("hops[{i}].location"), &h.location),
                    url: template(format!("hops[{i}].url"), &h.url),
                });
            }
            for (i, h) in list.iter().enumerate() {
                if let Some(s) = &h.status {
                    match StatusCheck::compile(s) {
                        Ok(c) => out[i].status = Some(c),
                        Err(e) => {
                            errs.push(ExpectError::Redirects(format!("hops[{i}].status: {e}")))
                        }
                    }
                }
            }
            hops = Some(out);
        }
        if let (Some(c), Some(h)) = (def.count, &def.hops) {
            if c as usize != h.len() {
                errs.push(ExpectError::Redirects(format!(
                    "count is {c} but {} hops are listed",
                    h.len()
                )));
            }
        }
        if def.count.is_none() && def.final_url.is_none() && def.hops.is_none() {
            errs.push(ExpectError::Redirects(
                "nothing to check: give count, final_url or hops".into(),
            ));
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(RedirectsCheck {
            count: def.count,
            final_url,
            hops,
            pos,
        })
    }

    /// Templates this block renders.
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        let hops = self.hops.iter().flatten();
        self.final_url
            .iter()
            .chain(hops.flat_map(|h| h.location.iter().chain(h.url.iter())))
    }

    /// Judge the redirect chain of the exchange.
    pub fn evaluate(&self, resp: &Response, scope: &Scope) -> Vec<Outcome> {
        let pos = self.pos;
        let o = |check: String| Outcome::new(OutcomeKind::Redirect, check, pos);
        let chain = chain_text(resp);
        let mut out = Vec::new();
        let n = resp.hops.len();
        if let Some(want) = self.count {
            let c = o(format!("redirects count = {want}"));
            out.push(if n as u32 == want {
                c
            } else {
                c.fail(
                    want.to_string(),
                    n.to_string(),
                    format!("expected {want} redirect(s), followed {n}: {chain}"),
                )
            });
        } else if let Some(hops) = &self.hops {
            let c = o(format!("redirects count = {}", hops.len()));
            out.push(if n == hops.len() {
                c
            } else {
                c.fail(
                    hops.len().to_string(),
                    n.to_string(),
                    format!("expected {} redirect(s), followed {n}: {chain}", hops.len()),
                )
            });
        }
        for (i, h) in self.hops.iter().flatten().enumerate() {
            let Some(got) = resp.hops.get(i) else {
                break;
            };
            let k = i + 1;
            if let Some(s) = &h.status {
                let (ok, want) = s.accepts(got.status);
                let c = o(format!("redirect {k} status {want}"));
                out.push(if ok {
                    c
                } else {
                    c.fail(
                        want.clone(),
                        got.status.to_string(),
                        format!(
                            "redirect {k} ({}): expected status {want}, got {} (Location: {})",
                            got.url, got.status, got.location
                        ),
                    )
                });
            }
            for (what, t, actual) in [
                ("Location", &h.location, &got.location),
                ("URL", &h.url, &got.url),
            ] {
                let Some(t) = t else { continue };
                out.push(equals(
                    o(format!("redirect {k} {what}")),
                    t,
                    scope,
                    actual,
                    &format!("redirect {k}: expected {what}"),
                    &chain,
                ));
            }
        }
        if let Some(t) = &self.final_url {
            let actual = resp
                .final_url
                .as_ref()
                .map(|u| u.to_string())
                .unwrap_or_default();
            out.push(equals(
                o("redirects final URL".into()),
                t,
                scope,
                &actual,
                "expected final URL",
                &chain,
            ));
        }
        out
    }
}

/// Compare a rendered template with a URL-like text; a URL is compared in its normal form
/// (`https://a.test` = `https://a.test/`).
fn equals(
    o: Outcome,
    t: &Template,
    scope: &Scope,
    actual: &str,
    what: &str,
    chain: &str,
) -> Outcome {
    let want = match t.render(scope) {
        Ok(w) => w,
        Err(e) => return o.fail("a value", "(not rendered)", format!("{what}: {e}")),
    };
    let norm = |s: &str| {
        reqwest::Url::parse(s)
            .map(|u| u.to_string())
            .unwrap_or_else(|_| s.to_string())
    };
    if want == actual || norm(&want) == norm(actual) {
        o
    } else {
        o.fail(
            want.clone(),
            actual.to_string(),
            format!("{what} {want:?}, got {actual:?}: {chain}"),
        )
    }
}

/// The chain in words: `http://a.test/ -301-> https://a.test/ (final 200)`.
fn chain_text(resp: &Response) -> String {
    if resp.hops.is_empty() {
        let url = resp
            .final_url
            .as_ref()
            .map(|u| u.to_string())
            .unwrap_or_default();
        return format!("no redirect followed ({url} answered {})", resp.status);
    }
    let mut s = String::new();
    for h in &resp.hops {
        s.push_str(&format!("{} -{}-> ", h.url, h.status));
    }
    let last = resp
        .final_url
        .as_ref()
        .map(|u| u.to_string())
        .unwrap_or_default();
    s.push_str(&format!("{last} ({})", resp.status));
    s
}
