//! OAuth2 client credentials (RFC 6749 4.4): a token is fetched once per run for each
//! distinct set of credentials (token URL, client id and secret, scope, audience), shared by
//! every case — concurrent cases wait for the one fetch in flight instead of fetching again —
//! and kept until it expires, less a margin (a tenth of its lifetime, at most 30 s). A failed
//! fetch is not kept: the step's next attempt (its retry policy) asks again.
//!
//! The client authenticates with HTTP Basic (`client_secret_basic`, id and secret
//! form-URL-encoded first, as RFC 6749 2.3.1 asks) or in the form body
//! (`client_secret_post`). The secret, the Basic credential and the token are secrets.
//! A failure of the token endpoint is its own cause, worded so it cannot be mistaken for the
//! step's: ``OAuth2 token endpoint http://…/oauth/token answered 401: invalid_client
//! (Client authentication failed)``.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

use crate::http::{HttpClient, Prepared, Sent};
use crate::interp::{RenderError, Scope};
use crate::plan::auth::{ClientAuth, OAuth2Template};
use crate::redact::Redactor;

/// Longest margin taken off a token's lifetime.
const MAX_MARGIN: Duration = Duration::from_secs(30);

/// Why no token was obtained.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// A template of the `oauth2` block cannot be rendered.
    #[error("auth.oauth2: {0}")]
    Render(#[from] RenderError),
    /// The token URL is not an absolute http(s) URL.
    #[error("auth.oauth2.token_url: {0}")]
    Url(String),
    /// The token endpoint could not be reached.
    #[error("OAuth2 token endpoint {url} could not be reached ({kind}): {message}")]
    Transport {
        /// The token URL.
        url: String,
        /// The kind of transport error.
        kind: String,
        /// What happened.
        message: String,
    },
    /// The token endpoint answered with an error status.
    #[error("OAuth2 token endpoint {url} answered {status}: {detail}")]
    Status {
        /// The token URL.
        url: String,
        /// The status.
        status: u16,
        /// The server's `error` and `error_description`, or an excerpt of its body.
        detail: String,
    },
    /// The token endpoint answered 2xx without a usable token.
    #[error("OAuth2 token endpoint {url} answered {status} without a usable token: {detail}")]
    NoToken {
        /// The token URL.
        url: String,
        /// The status.
        status: u16,
        /// What is wrong with the answer.
        detail: String,
    },
    /// A credential too short to be masked in reports.
    #[error("auth.oauth2: {0}")]
    Short(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    token_url: String,
    client_id: String,
    client_secret: String,
    scope: Option<String>,
    audience: Option<String>,
    client_auth: ClientAuth,
}

#[derive(Debug, Clone)]
struct Token {
    access_token: String,
    /// When to stop using it (`None`: the server gave no lifetime; kept for the run).
    use_until: Option<Instant>,
}

type Slot = Arc<tokio::sync::Mutex<Option<Token>>>;

/// The tokens of a run, by credentials.
#[derive(Debug, Default)]
pub struct TokenCache {
    slots: Mutex<HashMap<Key, Slot>>,
}

impl TokenCache {
    /// A valid token for the credentials of `o` rendered with `scope`: the cached one, or a
    /// new one from the token endpoint (one fetch at a time per credentials).
    pub async fn token(
        &self,
        o: &OAuth2Template,
        scope: &Scope,
        timeout: Duration,
        redactor: &Redactor,
        client: &HttpClient,
    ) -> Result<String, TokenError> {
        let key = Key {
            token_url: o.token_url.render(scope)?,
            client_id: o.client_id.render(scope)?,
            client_secret: o.client_secret.render(scope)?,
            scope: o.scope.as_ref().map(|t| t.render(scope)).transpose()?,
            audience: o.audience.as_ref().map(|t| t.render(scope)).transpose()?,
            client_auth: o.client_auth,
        };
        redactor.add(&key.client_secret).map_err(|e| {
            TokenError::Short(format!(
                "the client secret is {} character(s) long: too short to be masked safely in reports (at least {})",
                e.len,
                crate::redact::MIN_SECRET_LEN
            ))
        })?;
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots.entry(key.clone()).or_default().clone()
        };
        let mut held = slot.lock().await;
        if let Some(t) = held.as_ref() {
            if t.use_until.is_none_or(|u| Instant::now() < u) {
                return Ok(t.access_token.clone());
            }
        }
        *held = None;
        let token = fetch(&key, timeout, redactor, client).await?;
        let access = token.access_token.clone();
        *held = Some(token);
        Ok(access)
    }
}

/// `application/x-www-form-urlencoded` encoding of one value (RFC 6749 2.3.1 asks for it on
/// the Basic credentials too).
fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn fetch(
    key: &Key,
    timeout: Duration,
    redactor: &Redactor,
    client: &HttpClient,
) -> Result<Token, TokenError> {
    let url = crate::plan::request::parse_url(&key.token_url)
        .map_err(|e| TokenError::Url(e.to_string()))?;
    let shown = crate::runner::sanitize::without_password(url.as_str());
    let mut form: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
    if let Some(s) = &key.scope {
        form.push(("scope", s));
    }
    if let Some(a) = &key.audience {
        form.push(("audience", a));
    }
    let mut headers = vec![("Accept".to_string(), "application/json".to_string())];
    match key.client_auth {
        ClientAuth::Basic => {
            let pair = format!(
                "{}:{}",
                form_encode(&key.client_id),
                form_encode(&key.client_secret)
            );
            let b64 = base64::engine::general_purpose::STANDARD.encode(pair);
            headers.push(("Authorization".into(), format!("Basic {b64}")));
        }
        ClientAuth::Post => {
            form.push(("client_id", &key.client_id));
            form.push(("client_secret", &key.client_secret));
        }
    }
    let mut req = Prepared {
        method: reqwest::Method::POST,
        url,
        headers,
        body: Some((
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form)
                .finish()
                .into_bytes(),
            Some("application/x-www-form-urlencoded"),
        )),
        timeout,
        max_redirects: 0,
        private_headers: Vec::new(),
        decompress: true,
    };
    super::credentials::register(&mut req, redactor)
        .map_err(|e| TokenError::Short(e.to_string()))?;
    let mut sent = Sent::default();
    let started = Instant::now();
    let resp = client
        .send(&req, &mut sent)
        .await
        .map_err(|e| TokenError::Transport {
            url: shown.clone(),
            kind: e.kind.to_string(),
            message: e.message.clone(),
        })?;
    let json = resp.json().ok();
    let excerpt = || crate::excerpt::body_excerpt(&resp.body, 200, redactor);
    if !(200..300).contains(&resp.status) {
        let detail = match json.and_then(|j| j.get("error")).and_then(Value::as_str) {
            Some(err) => match json
                .and_then(|j| j.get("error_description"))
                .and_then(Value::as_str)
            {
                Some(d) => format!("{err} ({d})"),
                None => err.to_string(),
            },
            None if resp.body.is_empty() => "empty body".into(),
            None => format!("body: {}", excerpt()),
        };
        return Err(TokenError::Status {
            url: shown,
            status: resp.status,
            detail,
        });
    }
    let no_token = |detail: String| TokenError::NoToken {
        url: shown.clone(),
        status: resp.status,
        detail,
    };
    let Some(obj) = json.and_then(Value::as_object) else {
        return Err(no_token(if resp.body.is_empty() {
            "the body is empty".into()
        } else {
            format!("the body is not a JSON object: {}", excerpt())
        }));
    };
    let Some(access) = obj.get("access_token").and_then(Value::as_str) else {
        let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        return Err(no_token(format!(
            "no `access_token` string in the JSON (keys: {})",
            keys.join(", ")
        )));
    };
    if let Some(tt) = obj.get("token_type").and_then(Value::as_str) {
        if !tt.eq_ignore_ascii_case("bearer") {
            return Err(no_token(format!(
                "token_type `{tt}` is not Bearer, the only type smokegate sends"
            )));
        }
    }
    redactor.add(access).map_err(|e| {
        no_token(format!(
            "the access token is {} character(s) long: too short to be masked safely",
            e.len
        ))
    })?;
    if reqwest::header::HeaderValue::from_str(access).is_err() {
        return Err(no_token(
            "the access token has a character a header cannot carry".into(),
        ));
    }
    let lifetime = match obj.get("expires_in") {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|s| s.is_finite() && *s >= 0.0)
    .map(|s| Duration::from_secs_f64(s.min(1e9)));
    let use_until = lifetime.map(|l| started + l - (l / 10).min(MAX_MARGIN));
    tracing::debug!(url = %shown, ?lifetime, "OAuth2 token obtained");
    Ok(Token {
        access_token: access.to_string(),
        use_until,
    })
}
