//! Rendering a step's request templates into a request ready to send.

use std::time::Duration;

use reqwest::{Method, Url};

use crate::http::Prepared;
use crate::interp::{render_json, render_map, Scope, Template};
use crate::suite::model::{Redirects, RequestDef};

/// Render the request of a step with the current scope.
pub fn prepare(
    def: &RequestDef,
    scope: &Scope,
    default_timeout: Duration,
) -> Result<Prepared, String> {
    let r = |s: &str| Template::parse(s).and_then(|t| t.render(scope));
    let method: Method = r(&def.method)?
        .to_ascii_uppercase()
        .parse()
        .map_err(|_| format!("invalid HTTP method `{}`", def.method))?;
    let url_text = r(&def.url)?;
    let mut url = Url::parse(&url_text).map_err(|e| format!("invalid URL `{url_text}`: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "unsupported URL scheme `{}` in `{url_text}`",
            url.scheme()
        ));
    }
    if !def.query.is_empty() {
        let pairs = render_map(&def.query, scope)?
            .into_iter()
            .map(|(k, v)| Ok((Template::parse(&k)?.render(scope)?, v)))
            .collect::<Result<Vec<_>, String>>()?;
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(&k, &v);
        }
    }
    let headers = render_map(&def.headers, scope)?
        .into_iter()
        .map(|(k, v)| Ok((Template::parse(&k)?.render(scope)?, v)))
        .collect::<Result<Vec<_>, String>>()?;
    let body = if let Some(j) = &def.json {
        let v = render_json(j, scope)?;
        Some((
            serde_json::to_vec(&v).map_err(|e| e.to_string())?,
            Some("application/json"),
        ))
    } else if let Some(b) = &def.body {
        Some((r(b)?.into_bytes(), None))
    } else if let Some(f) = &def.form {
        let pairs = render_map(f, scope)?;
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        Some((
            encoded.into_bytes(),
            Some("application/x-www-form-urlencoded"),
        ))
    } else {
        None
    };
    let max_redirects = match def.follow_redirects {
        None | Some(Redirects::Enabled(false)) => 0,
        Some(Redirects::Enabled(true)) => 10,
        Some(Redirects::Max(n)) => n,
    };
    Ok(Prepared {
        method,
        url,
        headers,
        body,
        timeout: def.timeout.map(|d| d.0).unwrap_or(default_timeout),
        max_redirects,
    })
}
