//! Scenario D: five workers in two environments behind one listener that
//! routes by the `Host` header (`<worker><suffix>.tminus.test:PORT`). The api
//! worker has an in-memory user store and JWT-shaped tokens per environment.

use crate::http::{bearer, json, now_rfc3339, request_host, serve, text};
use crate::{jwt, Fault, Faults, SampleDeployment};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

const DOMAIN: &str = "tminus.test";
/// (host label, worker name in the envelope)
const WORKERS: [(&str, &str); 5] = [
    ("api", "tminus-api"),
    ("oauth", "tminus-oauth"),
    ("webhooks", "tminus-webhook"),
    ("app", "tminus-app-gateway"),
    ("mcp", "tminus-mcp"),
];
/// (host suffix, environment name)
const ENVIRONMENTS: [(&str, &str); 2] = [("-staging", "staging"), ("", "production")];

#[derive(Clone)]
struct User {
    id: String,
    email: String,
    password: String,
}

/// Users (by lower-cased email) and issued access tokens of one environment.
#[derive(Default)]
struct EnvStore {
    users: Mutex<HashMap<String, User>>,
    tokens: Mutex<HashSet<String>>,
}

struct D {
    faults: Faults,
    staging: EnvStore,
    production: EnvStore,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn router(faults: &Faults) -> Router {
    let state = Arc::new(D {
        faults: faults.clone(),
        staging: EnvStore::default(),
        production: EnvStore::default(),
    });
    Router::new().fallback(handle).with_state(state)
}

/// Every host name scenario D serves (`api.tminus.test`, `api-staging.tminus.test`, …).
pub fn host_names() -> Vec<String> {
    WORKERS
        .iter()
        .flat_map(|(label, _)| {
            ENVIRONMENTS
                .iter()
                .map(move |(suffix, _)| format!("{label}{suffix}.{DOMAIN}"))
        })
        .collect()
}

/// Start the Host-routed listener; registers TMINUS_* vars and 10 resolves.
pub(crate) async fn start(faults: &Faults, dep: &mut SampleDeployment) -> std::io::Result<()> {
    let (addr, task) = serve(router(faults)).await?;
    dep.add_task(task);
    register_vars(dep, addr.port(), "http");
    Ok(())
}

/// Like [`start`], over HTTPS with a certificate for every scenario D host name, signed by
/// `ca`.
pub(crate) async fn start_tls(
    faults: &Faults,
    dep: &mut SampleDeployment,
    ca: &crate::tls::TestCa,
) -> std::io::Result<()> {
    let names = host_names();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let leaf = ca
        .issue(&refs, crate::tls::Validity::Days(90))
        .map_err(std::io::Error::other)?;
    let config = crate::tls::server_config(&leaf, &[], None).map_err(std::io::Error::other)?;
    let (addr, task) =
        crate::tls::serve_tls(router(faults), config, ([127, 0, 0, 1], 0).into()).await?;
    dep.add_task(task);
    register_vars(dep, addr.port(), "https");
    Ok(())
}

fn register_vars(dep: &mut SampleDeployment, port: u16, scheme: &str) {
    dep.add_var("TMINUS_DOMAIN", format!("{DOMAIN}:{port}"));
    dep.add_var("TMINUS_SCHEME", scheme);
    for (label, _) in WORKERS {
        for (suffix, _) in ENVIRONMENTS {
            dep.add_resolve(&format!("{label}{suffix}.{DOMAIN}"), port);
        }
    }
}

/// Map a host name to (host label, worker name, environment).
fn route(host: &str) -> Option<(&'static str, &'static str, &'static str)> {
    let label = host.strip_suffix(DOMAIN)?.strip_suffix('.')?;
    WORKERS.iter().find_map(|&(name, worker)| {
        let suffix = label.strip_prefix(name)?;
        ENVIRONMENTS
            .iter()
            .find(|(s, _)| *s == suffix)
            .map(|&(_, env)| (name, worker, env))
    })
}

/// The standard response envelope: {ok, data, error, meta}.
fn envelope(status: StatusCode, data: Value, error: Option<&str>) -> Response {
    json(
        status,
        json!({
            "ok": error.is_none(),
            "data": data,
            "error": error,
            "meta": {"request_id": uuid::Uuid::new_v4().to_string(), "timestamp": now_rfc3339()},
        }),
    )
}

fn fail(status: StatusCode, error: &str) -> Response {
    envelope(status, Value::Null, Some(error))
}

async fn handle(
    State(d): State<Arc<D>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some((mut label, mut worker, env)) = route(&request_host(&headers, &uri)) else {
        return json(
            StatusCode::NOT_FOUND,
            json!({"ok": false, "error": "no such worker"}),
        );
    };
    if label == "webhooks" && d.faults.has(Fault::DWorkerDown) {
        return text(StatusCode::SERVICE_UNAVAILABLE, "no healthy upstream");
    }
    if label == "oauth" && d.faults.has(Fault::DWorkerMisrouted) {
        (label, worker) = WORKERS[0];
    }
    let store = if env == "staging" {
        &d.staging
    } else {
        &d.production
    };
    match (uri.path(), label) {
        ("/health", _) if method == Method::GET => health(&d.faults, label, worker, env),
        ("/v1/events", "api") if method == Method::GET => events(&d.faults, store, &headers),
        ("/v1/auth/register", "api") if method == Method::POST => register(store, env, &body),
        ("/v1/auth/login", "api") if method == Method::POST => login(&d.faults, store, env, &body),
        ("/health" | "/v1/events" | "/v1/auth/register" | "/v1/auth/login", "api")
        | ("/health", _) => fail(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed"),
        _ => fail(StatusCode::NOT_FOUND, "Not found"),
    }
}

fn health(faults: &Faults, label: &str, worker: &str, env: &str) -> Response {
    if faults.has(Fault::DLegacyHealth) {
        return json(StatusCode::OK, json!({"status": "ok"}));
    }
    let (status, bindings) = if label == "app" {
        ("degraded", json!({"API": "ok", "KV": "slow"}))
    } else {
        ("healthy", json!({"DB": "ok", "KV": "ok", "QUEUE": "ok"}))
    };
    envelope(
        StatusCode::OK,
        json!({
            "status": status,
            "environment": env,
            "worker": worker,
            "version": "2.3.0",
            "bindings": bindings,
        }),
        None,
    )
}

fn events(faults: &Faults, store: &EnvStore, headers: &HeaderMap) -> Response {
    let valid = bearer(headers).is_some_and(|t| lock(&store.tokens).contains(t));
    if valid {
        envelope(
            StatusCode::OK,
            json!([{"id": "evt_1", "title": "Standup"}]),
            None,
        )
    } else if faults.has(Fault::DAuthBypass) {
        envelope(StatusCode::OK, json!([]), None)
    } else {
        fail(StatusCode::UNAUTHORIZED, "Unauthorized")
    }
}

#[derive(Deserialize)]
struct Credentials {
    email: String,
    password: String,
}

fn parse_credentials(body: &[u8]) -> Result<Credentials, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(fail(
            StatusCode::BAD_REQUEST,
            &format!("Invalid request body: {e}"),
        ))
    })
}

fn user_json(user: &User) -> Value {
    json!({"id": user.id, "email": user.email})
}

fn issue_token(store: &EnvStore, user: &User, env: &str) -> String {
    let token = jwt::issue(&user.id, env);
    lock(&store.tokens).insert(token.clone());
    token
}

fn register(store: &EnvStore, env: &str, body: &[u8]) -> Response {
    let creds = match parse_credentials(body) {
        Ok(c) => c,
        Err(resp) => return *resp,
    };
    let email = creds.email.trim().to_string();
    if !email.contains('@') {
        return fail(StatusCode::BAD_REQUEST, "A valid email address is required");
    }
    if creds.password.chars().count() < 8 {
        return fail(
            StatusCode::BAD_REQUEST,
            "Password must be at least 8 characters",
        );
    }
    let user = {
        let mut users = lock(&store.users);
        let key = email.to_lowercase();
        if users.contains_key(&key) {
            return fail(StatusCode::CONFLICT, "Email already registered");
        }
        let user = User {
            id: format!("usr_{}", uuid::Uuid::new_v4()),
            email,
            password: creds.password,
        };
        users.insert(key, user.clone());
        user
    };
    let access_token = issue_token(store, &user, env);
    envelope(
        StatusCode::CREATED,
        json!({
            "user": user_json(&user),
            "access_token": access_token,
            "refresh_token": jwt::refresh_token(),
        }),
        None,
    )
}

fn login(faults: &Faults, store: &EnvStore, env: &str, body: &[u8]) -> Response {
    let creds = match parse_credentials(body) {
        Ok(c) => c,
        Err(resp) => return *resp,
    };
    let key = creds.email.trim().to_lowercase();
    let user = lock(&store.users).get(&key).cloned();
    let Some(user) = user.filter(|u| u.password == creds.password) else {
        return fail(StatusCode::UNAUTHORIZED, "Invalid credentials");
    };
    if faults.has(Fault::DLoginFails) {
        return fail(
            StatusCode::INTERNAL_SERVER_ERROR,
            "JWT_SECRET is not configured",
        );
    }
    let access_token = issue_token(store, &user, env);
    envelope(
        StatusCode::OK,
        json!({"user": user_json(&user), "access_token": access_token}),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::route;

    #[test]
    fn routes_hosts() {
        assert_eq!(
            route("api.tminus.test"),
            Some(("api", "tminus-api", "production"))
        );
        assert_eq!(
            route("webhooks-staging.tminus.test"),
            Some(("webhooks", "tminus-webhook", "staging"))
        );
        assert_eq!(route("api-dev.tminus.test"), None);
        assert_eq!(route("tminus.test"), None);
    }
}
