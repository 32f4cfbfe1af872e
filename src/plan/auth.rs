//! The `auth` block of a request, a profile or the suite's `defaults`, compiled: exactly one
//! scheme, its templates parsed once. Precedence: the request's own `auth`, else the selected
//! profile's, else `defaults.auth`; `none: true` turns an inherited one off.

use std::sync::Arc;

use serde_saphyr::Spanned;

use crate::interp::Template;
use crate::suite::model::AuthDef;
use crate::suite::Pos;

/// Where an API key goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyPlace {
    /// In this header.
    Header(String),
    /// In this query parameter.
    Query(String),
}

/// How the client authenticates to an OAuth2 token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientAuth {
    /// `client_secret_basic`: HTTP Basic with the URL-encoded id and secret.
    Basic,
    /// `client_secret_post`: `client_id` and `client_secret` in the form body.
    Post,
}

/// OAuth2 client credentials, templates.
#[derive(Debug, Clone)]
pub struct OAuth2Template {
    /// The token endpoint.
    pub token_url: Arc<Template>,
    /// The client id.
    pub client_id: Arc<Template>,
    /// The client secret.
    pub client_secret: Arc<Template>,
    /// Scopes requested.
    pub scope: Option<Arc<Template>>,
    /// The `audience` parameter.
    pub audience: Option<Arc<Template>>,
    /// How the client authenticates to the token endpoint.
    pub client_auth: ClientAuth,
}

/// A compiled `auth` block.
#[derive(Debug, Clone)]
pub enum AuthTemplate {
    /// No authentication (turns an inherited one off).
    None,
    /// HTTP Basic.
    Basic {
        /// The user name.
        user: Arc<Template>,
        /// The password.
        password: Arc<Template>,
    },
    /// `Authorization: Bearer …`.
    Bearer(Arc<Template>),
    /// An API key in a header or a query parameter.
    ApiKey {
        /// Where it goes.
        place: KeyPlace,
        /// The key.
        value: Arc<Template>,
    },
    /// OAuth2 client credentials.
    OAuth2(Arc<OAuth2Template>),
}

impl AuthTemplate {
    /// Every template of the block, with what it is.
    pub fn templates(&self) -> Vec<(&'static str, &Arc<Template>)> {
        match self {
            AuthTemplate::None => Vec::new(),
            AuthTemplate::Basic { user, password } => {
                vec![("auth.basic.user", user), ("auth.basic.password", password)]
            }
            AuthTemplate::Bearer(t) => vec![("auth.bearer", t)],
            AuthTemplate::ApiKey { value, .. } => vec![("auth.api_key.value", value)],
            AuthTemplate::OAuth2(o) => {
                let mut v = vec![
                    ("auth.oauth2.token_url", &o.token_url),
                    ("auth.oauth2.client_id", &o.client_id),
                    ("auth.oauth2.client_secret", &o.client_secret),
                ];
                v.extend(o.scope.iter().map(|t| ("auth.oauth2.scope", t)));
                v.extend(o.audience.iter().map(|t| ("auth.oauth2.audience", t)));
                v
            }
        }
    }

    /// Whether the scheme sends an `Authorization` header.
    pub fn sets_authorization(&self) -> bool {
        matches!(
            self,
            AuthTemplate::Basic { .. } | AuthTemplate::Bearer(_) | AuthTemplate::OAuth2(_)
        )
    }
}

/// Compile an `auth` block written at `def`'s position; problems are returned with it.
pub fn compile(def: &Spanned<AuthDef>) -> Result<AuthTemplate, (Pos, String)> {
    let pos = Pos::from_loc(&def.referenced);
    let d = &def.value;
    let fail = |m: String| (pos, m);
    let t = |field: &str, v: &str| -> Result<Arc<Template>, (Pos, String)> {
        Template::parse(v)
            .map(Arc::new)
            .map_err(|e| fail(format!("auth.{field}: {e}")))
    };
    let given = [
        d.basic.is_some(),
        d.bearer.is_some(),
        d.api_key.is_some(),
        d.oauth2.is_some(),
        d.none.is_some(),
    ]
    .iter()
    .filter(|g| **g)
    .count();
    if given != 1 {
        return Err(fail(
            "auth needs exactly one of `basic`, `bearer`, `api_key`, `oauth2` or `none: true`"
                .into(),
        ));
    }
    if let Some(n) = d.none {
        return if n {
            Ok(AuthTemplate::None)
        } else {
            Err(fail(
                "auth.none can only be `true` (to turn off an inherited auth)".into(),
            ))
        };
    }
    if let Some(b) = &d.basic {
        if b.user.contains(':') {
            return Err(fail(
                "auth.basic.user cannot contain `:` (HTTP Basic separates user and password with it)"
                    .into(),
            ));
        }
        return Ok(AuthTemplate::Basic {
            user: t("basic.user", &b.user)?,
            password: t("basic.password", &b.password)?,
        });
    }
    if let Some(b) = &d.bearer {
        return Ok(AuthTemplate::Bearer(t("bearer", b)?));
    }
    if let Some(k) = &d.api_key {
        let place = match (&k.header, &k.query) {
            (Some(h), None) => {
                if reqwest::header::HeaderName::from_bytes(h.as_bytes()).is_err() {
                    return Err(fail(format!(
                        "auth.api_key.header: invalid header name `{h}`"
                    )));
                }
                KeyPlace::Header(h.clone())
            }
            (None, Some(q)) if !q.is_empty() => KeyPlace::Query(q.clone()),
            _ => {
                return Err(fail(
                    "auth.api_key needs exactly one of `header` or `query` (a non-empty name)"
                        .into(),
                ))
            }
        };
        return Ok(AuthTemplate::ApiKey {
            place,
            value: t("api_key.value", &k.value)?,
        });
    }
    let o = d.oauth2.as_ref().expect("one scheme is given");
    let client_auth = match o.client_auth.as_deref() {
        None | Some("basic") => ClientAuth::Basic,
        Some("post") => ClientAuth::Post,
        Some(other) => {
            return Err(fail(format!(
                "auth.oauth2.client_auth `{other}`: expected `basic` (client_secret_basic) or `post` (client_secret_post)"
            )))
        }
    };
    Ok(AuthTemplate::OAuth2(Arc::new(OAuth2Template {
        token_url: t("oauth2.token_url", &o.token_url)?,
        client_id: t("oauth2.client_id", &o.client_id)?,
        client_secret: t("oauth2.client_secret", &o.client_secret)?,
        scope: o
            .scope
            .as_deref()
            .map(|s| t("oauth2.scope", s))
            .transpose()?,
        audience: o
            .audience
            .as_deref()
            .map(|s| t("oauth2.audience", s))
            .transpose()?,
        client_auth,
    })))
}
