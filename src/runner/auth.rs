//! Applying a step's `auth` to its rendered request: Basic (`user:password` base64-encoded
//! here, never by hand), Bearer, an API key in a header or the query, or an OAuth2 token (see
//! [`super::oauth2`]). Every credential it adds is registered as a secret before the request
//! is sent (by [`super::credentials::register`], and here for an API key in a header whose
//! name does not say it is one).

use base64::Engine as _;

use crate::http::Prepared;
use crate::interp::{RenderError, Scope};
use crate::plan::auth::{AuthTemplate, KeyPlace};
use crate::redact::Redactor;

use super::oauth2::{TokenCache, TokenError};

/// Why a step's authentication could not be added.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// A template of the `auth` block cannot be rendered.
    #[error("auth: {0}")]
    Render(#[from] RenderError),
    /// A rendered credential cannot be sent in a header.
    #[error("auth: {0} has a character a header cannot carry")]
    HeaderValue(&'static str),
    /// A credential too short to be masked in reports.
    #[error("auth: {0}")]
    Short(String),
    /// The OAuth2 token endpoint did not give a token.
    #[error(transparent)]
    Token(#[from] TokenError),
}

/// Add the credentials of `auth` to `req`. A request's own `Authorization` header (or one
/// from `defaults.headers`) wins over an inherited scheme that would set it.
pub async fn apply(
    auth: &AuthTemplate,
    req: &mut Prepared,
    scope: &Scope,
    redactor: &Redactor,
    tokens: &TokenCache,
    client: &crate::http::HttpClient,
) -> Result<(), AuthError> {
    let has_authorization = req
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("authorization"));
    if auth.sets_authorization() && has_authorization {
        return Ok(());
    }
    let value = match auth {
        AuthTemplate::None => return Ok(()),
        AuthTemplate::Basic { user, password } => {
            let pair = format!("{}:{}", user.render(scope)?, password.render(scope)?);
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        }
        AuthTemplate::Bearer(t) => format!("Bearer {}", t.render(scope)?),
        AuthTemplate::ApiKey { place, value } => {
            let key = value.render(scope)?;
            redactor
                .add(&key)
                .map_err(|e| AuthError::Short(format!("the API key is {} character(s) long: too short to be masked safely in reports (at least {})", e.len, crate::redact::MIN_SECRET_LEN)))?;
            match place {
                KeyPlace::Header(h) => {
                    if reqwest::header::HeaderValue::from_str(&key).is_err() {
                        return Err(AuthError::HeaderValue("the API key"));
                    }
                    req.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(h));
                    req.headers.push((h.clone(), key));
                }
                KeyPlace::Query(q) => {
                    req.url.query_pairs_mut().append_pair(q, &key);
                }
            }
            return Ok(());
        }
        AuthTemplate::OAuth2(o) => {
            let token = tokens
                .token(o, scope, req.timeout, redactor, client)
                .await?;
            format!("Bearer {token}")
        }
    };
    if reqwest::header::HeaderValue::from_str(&value).is_err() {
        return Err(AuthError::HeaderValue("the credential"));
    }
    req.headers.push(("Authorization".into(), value));
    Ok(())
}
