//! Rendering a step's compiled request with the step's scope into a request ready to send.
//! Nothing is parsed here but what a template produced.

use std::time::Duration;

use reqwest::Method;

use crate::http::Prepared;
use crate::interp::{RenderError, Scope};
use crate::plan::request::{parse_url, UrlError};
use crate::plan::request::{BodyFile, PartValue, MAX_BODY_FILE_BYTES};
use crate::plan::{BodyTemplate, MethodSpec, RequestTemplate};

use super::multipart;

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
    /// A file the request sends cannot be read (or grew past the limit).
    #[error("cannot send `{file}`: {reason}")]
    File {
        /// The file as the suite names it.
        file: String,
        /// Why, in words.
        reason: String,
    },
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
        Some(BodyTemplate::File(f)) => Some((read_file(f)?, None)),
        Some(BodyTemplate::Multipart(parts)) => {
            let mut rendered = Vec::with_capacity(parts.len());
            for p in parts {
                rendered.push(match &p.value {
                    PartValue::Text(t) => multipart::Part {
                        name: p.name.clone(),
                        file: None,
                        bytes: t.render(scope)?.into_bytes(),
                    },
                    PartValue::File {
                        file,
                        filename,
                        content_type,
                    } => multipart::Part {
                        name: p.name.clone(),
                        file: Some((filename.clone(), content_type.clone())),
                        bytes: read_file(file)?,
                    },
                });
            }
            let (bytes, ctype) = multipart::encode(&rendered);
            if !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            {
                headers.push(("content-type".to_string(), ctype));
            }
            Some((bytes, None))
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

/// The bytes of a file the request sends, bounded (the file was checked when the suite was
/// loaded, but may have changed since).
fn read_file(f: &BodyFile) -> Result<Vec<u8>, PrepareError> {
    use std::io::Read;
    let fail = |reason: String| PrepareError::File {
        file: f.shown.clone(),
        reason,
    };
    let file = std::fs::File::open(&f.path).map_err(|e| fail(e.to_string()))?;
    let mut bytes = Vec::new();
    file.take(MAX_BODY_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(e.to_string()))?;
    if bytes.len() as u64 > MAX_BODY_FILE_BYTES {
        return Err(fail(format!(
            "larger than the {MAX_BODY_FILE_BYTES}-byte limit"
        )));
    }
    Ok(bytes)
}
