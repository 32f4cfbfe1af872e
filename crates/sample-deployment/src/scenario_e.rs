//! Scenario E: an API-key protected deploy service and a dispatcher that
//! routes requests to workers by `Host` header and path.

use crate::http::{base_url, bearer, host_name, json, serve, with_header};
use crate::{Fault, Faults, SampleDeployment, DO_API_KEY, DO_READONLY_KEY};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use serde_json::json;

const WORKERS: [&str; 7] = [
    "db", "auth", "schedule", "webhooks", "email", "mcp", "queue",
];

/// Start the deploy API and the dispatcher; registers the DO_* vars.
pub(crate) async fn start(faults: &Faults, dep: &mut SampleDeployment) -> std::io::Result<()> {
    let deploy_router = Router::new().fallback(deploy).with_state(faults.clone());
    let (deploy_addr, task) = serve(deploy_router).await?;
    dep.add_task(task);
    let dispatcher_router = Router::new().fallback(dispatch).with_state(faults.clone());
    let (dispatch_addr, task) = serve(dispatcher_router).await?;
    dep.add_task(task);

    dep.add_var("DO_DEPLOY_URL", base_url(deploy_addr));
    dep.add_var("DO_DISPATCHER_URL", base_url(dispatch_addr));
    dep.add_var("DO_API_KEY", DO_API_KEY);
    dep.add_var("DO_READONLY_KEY", DO_READONLY_KEY);
    Ok(())
}

#[derive(PartialEq)]
enum Key {
    Full,
    ReadOnly,
}

async fn deploy(
    State(faults): State<Faults>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path();
    let key = match bearer(&headers).unwrap_or("") {
        DO_API_KEY => Ok(Key::Full),
        DO_READONLY_KEY => Ok(Key::ReadOnly),
        "" => Err("Missing API key"),
        _ => Err("Invalid API key"),
    };
    let key = match key {
        Ok(k) => k,
        Err(_) if path == "/health" && faults.has(Fault::EHealthOpen) => {
            return json(StatusCode::OK, json!({"ok": true}));
        }
        Err(_) if faults.has(Fault::EForbiddenInsteadOf401) => {
            return json(StatusCode::FORBIDDEN, json!({"error": "Forbidden"}));
        }
        Err(msg) => return json(StatusCode::UNAUTHORIZED, json!({"error": msg})),
    };
    match (path, method) {
        ("/health", Method::GET) => json(
            StatusCode::OK,
            json!({
                "ok": true,
                "service": "do-deploy",
                "namespaces": ["dotdo-production", "dotdo-staging", "dotdo-development"],
            }),
        ),
        ("/deployments", Method::GET) => json(StatusCode::OK, json!({"deployments": []})),
        ("/deploy", Method::POST) if key == Key::Full => json(
            StatusCode::ACCEPTED,
            json!({"ok": true, "deployment_id": format!("dep_{}", uuid::Uuid::new_v4())}),
        ),
        ("/deploy", Method::POST) => json(
            StatusCode::FORBIDDEN,
            json!({"error": "Forbidden: missing permission deployments.create"}),
        ),
        ("/health" | "/deployments" | "/deploy", _) => json(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"error": "Method not allowed"}),
        ),
        _ => json(StatusCode::NOT_FOUND, json!({"error": "Not found"})),
    }
}

fn worker(name: &str, body: serde_json::Value) -> Response {
    with_header(json(StatusCode::OK, body), "x-worker", name)
}

async fn dispatch(State(faults): State<Faults>, uri: Uri, headers: HeaderMap) -> Response {
    let host = host_name(&headers);
    let path = uri.path();
    let db = || worker("db", json!({"worker": "db", "path": path}));
    if path.starts_with("/api/db/") || path == "/api/db" {
        return db();
    }
    match host.as_str() {
        "gateway.do" if faults.has(Fault::EDispatcherMisroute) => db(),
        "gateway.do" | "api.do" | "do" => worker("gateway", json!({"worker": "gateway"})),
        _ => match host
            .strip_suffix(".do")
            .and_then(|n| WORKERS.iter().find(|&&w| w == n))
        {
            Some(name) => worker(name, json!({"worker": name})),
            None => json(StatusCode::NOT_FOUND, json!({"error": "Unknown worker"})),
        },
    }
}
