//! Rendering a step's compiled request with the step's scope into a request ready to send.
//! Nothing is parsed here but what a template produced.

use std::time::Duration;

use reqwest::Method;

use crate::http::Prepared;
use crate::interp::{RenderError, Scope};
use crate::plan::request::{parse_url, UrlError};
use crate::plan::{BodyTemplate, MethodSpec, RequestTemplate};

/// Why a request could not be built from its templates.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// A template names an undefined variable or an unset environment variable.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// The rendered method is not a valid HTTP method.
    #[error("invalid HTTP method `{0}`")]
    Method(String),
    /// The rendered method is CONNECT.
    #[error("{}", crate::plan::request::CONNECT)]
    Connect,
    /// The rendered URL cannot be requested.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// A rendered header name is not valid.
    #[error("invalid header name `{0}`")]
    HeaderName(String),
    /// A rendered header value has a character a header cannot carry (holds the header name).
    #[error("header `{0}`: the value has a character a header cannot carry")]
    HeaderValue(String),
    /// The JSON body cannot be encoded.
    #[error("json body cannot be encoded: {0}")]
    Json(#[source] serde_json::Error),
}

/// Render the request of a step with the current scope.
pub fn prepare(
    def: &RequestTemplate,
    scope: &Scope,
    default_timeout: Duration,
) -> Result<Prepared, PrepareError> {
    let method = match &def.method {
        MethodSpec::Fixed(m) => m.clone(),
        MethodSpec::Template(t) => {
            let text = t.render(scope)?;
            text.to_ascii_uppercase()
                .parse::<Method>()
                .ok()
                .filter(|_| !text.is_empty())
                .ok_or(PrepareError::Method(text))?
        }
    };
    if method == Method::CONNECT {
        return Err(PrepareError::Connect);
    }
    let mut url = parse_url(&def.url.render(scope)?)?;
    if !def.query.is_empty() {
        let pairs = def
            .query
            .iter()
            .map(|(k, v)| Ok((k.render(scope)?, v.render(scope)?)))
            .collect::<Result<Vec<_>, RenderError>>()?;
        url.query_pairs_mut().extend_pairs(pairs);
    }
    let mut headers = Vec::with_capacity(def.headers.len());
    for (k, v) in &def.headers {
        let (name, value) = (k.render(scope)?, v.render(scope)?);
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(PrepareError::HeaderName(name));
        }
        if reqwest::header::HeaderValue::from_str(&value).is_err() {
            return Err(PrepareError::HeaderValue(name));
        }
        headers.push((name, value));
    }
    let body = match &def.body {
        None => None,
        Some(BodyTemplate::Json(j)) => Some((
            serde_json::to_vec(&j.eval(scope)?).map_err(PrepareError::Json)?,
            Some("application/json"),
        )),
        Some(BodyTemplate::Text(t)) => Some((t.render(scope)?.into_bytes(), None)),
        Some(BodyTemplate::Form(fields)) => {
            let pairs = fields
                .iter()
                .map(|(k, v)| Ok((k.as_str(), v.render(scope)?)))
                .collect::<Result<Vec<_>, RenderError>>()?;
            let encoded = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish();
            Some((
                encoded.into_bytes(),
                Some("application/x-www-form-urlencoded"),
            ))
        }
    };
    Ok(Prepared {
        method,
        url,
        headers,
        body,
        timeout: def.timeout.unwrap_or(default_timeout),
        max_redirects: def.max_redirects,
        private_headers: Vec::new(),
        decompress: def.decompress,
    })
}
