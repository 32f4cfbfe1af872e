//! Scenario A: a backend worker and a dashboard gateway that forwards
//! `/api/*` and `/auth/*` to the backend over real loopback HTTP.

use crate::http::{base_url, bearer, html, json, serve, with_header};
use crate::{Fault, Faults, SampleDeployment, OWOKX_VERIFY_TOKEN};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::json;
use std::time::Duration;

const DASHBOARD_HTML: &str = "<!doctype html><html><head><title>Owokx Dashboard</title></head><body><div id=\"root\"></div></body></html>";
const NOT_FOUND_HTML: &str = "<!doctype html><html><head><title>Not Found</title></head><body><h1>Not Found</h1></body></html>";

/// Start the backend and the dashboard; registers their URLs and the verify token.
pub(crate) async fn start(faults: &Faults, dep: &mut SampleDeployment) -> std::io::Result<()> {
    let (backend_addr, task) = serve(backend_router()).await?;
    dep.add_task(task);
    let backend_url = base_url(backend_addr);

    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(std::io::Error::other)?;
    let state = Dashboard {
        backend_url: backend_url.clone(),
        client,
        faults: faults.clone(),
    };
    let (dash_addr, task) = serve(Router::new().fallback(dashboard).with_state(state)).await?;
    dep.add_task(task);

    dep.add_var("OWOKX_WORKER_URL", backend_url);
    dep.add_var("OWOKX_DASHBOARD_URL", base_url(dash_addr));
    dep.add_var("OWOKX_VERIFY_TOKEN", OWOKX_VERIFY_TOKEN);
    Ok(())
}

fn authorized(headers: &HeaderMap) -> bool {
    bearer(headers) == Some(OWOKX_VERIFY_TOKEN)
}

fn backend_router() -> Router {
    Router::new()
        .route(
            "/health",
            get(|| async {
                json(
                    StatusCode::OK,
                    json!({"ok": true, "service": "owokx-backend", "version": "1.4.2"}),
                )
            }),
        )
        .route(
            "/api/status",
            get(|| async {
                json(
                    StatusCode::OK,
                    json!({"ok": true, "data": {"status": "running", "served_by": "owokx-backend"}}),
                )
            }),
        )
        .route(
            "/api/swarm/health",
            get(|| async {
                json(
                    StatusCode::OK,
                    json!({"ok": true, "data": {"healthy": true, "agents": 3, "served_by": "owokx-backend"}}),
                )
            }),
        )
        .route(
            "/api/agent/config",
            get(|headers: HeaderMap| async move {
                if authorized(&headers) {
                    json(StatusCode::OK, json!({"ok": true, "data": {"mode": "paper"}}))
                } else {
                    json(
                        StatusCode::UNAUTHORIZED,
                        json!({"ok": false, "error": "unauthorized"}),
                    )
                }
            }),
        )
        .route(
            "/auth/session",
            get(|headers: HeaderMap| async move {
                if authorized(&headers) {
                    json(
                        StatusCode::OK,
                        json!({"ok": true, "data": {"user": "verifier", "handler": "owokx-auth"}}),
                    )
                } else {
                    json(
                        StatusCode::UNAUTHORIZED,
                        json!({"ok": false, "error": "no session", "handler": "owokx-auth"}),
                    )
                }
            }),
        )
        .fallback(|| async { json(StatusCode::NOT_FOUND, json!({"ok": false, "error": "not found"})) })
        .layer(axum::middleware::map_response(|resp: Response| async move {
            with_header(resp, "x-served-by", "owokx-backend")
        }))
}

#[derive(Clone)]
struct Dashboard {
    backend_url: String,
    client: reqwest::Client,
    faults: Faults,
}

fn under(path: &str, prefix: &str) -> bool {
    path == prefix || path.starts_with(&format!("{prefix}/"))
}

async fn dashboard(
    State(s): State<Dashboard>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let is_api = under(path, "/api");
    let is_auth = under(path, "/auth");
    let resp = if path == "/health" && method == Method::GET {
        json(
            StatusCode::OK,
            json!({"ok": true, "service": "owokx-dashboard"}),
        )
    } else if (is_api || is_auth) && s.faults.has(Fault::ABackendBindingBroken) {
        json(
            StatusCode::BAD_GATEWAY,
            json!({"error": "service binding OWOKX_BACKEND unavailable"}),
        )
    } else if is_api && s.faults.has(Fault::ABackendServedByUi) {
        html(StatusCode::OK, DASHBOARD_HTML)
    } else if is_auth && s.faults.has(Fault::AAuthNotForwarded) {
        html(StatusCode::NOT_FOUND, NOT_FOUND_HTML)
    } else if is_api || is_auth {
        // Forwarded responses keep the backend's headers (x-served-by included).
        return forward(&s, method, &uri, &headers, body).await;
    } else {
        html(StatusCode::OK, DASHBOARD_HTML)
    };
    with_header(resp, "x-served-by", "owokx-dashboard")
}

/// Forward the request to the backend and relay its status, headers and body.
async fn forward(
    s: &Dashboard,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let path_and_query = uri.path_and_query().map_or("/", |pq| pq.as_str());
    let mut req = s
        .client
        .request(method, format!("{}{}", s.backend_url, path_and_query))
        .body(body);
    for name in [header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT] {
        if let Some(v) = headers.get(&name) {
            req = req.header(name, v.clone());
        }
    }
    let upstream = match req.send().await {
        Ok(r) => r,
        Err(e) => {
            let resp = json(
                StatusCode::BAD_GATEWAY,
                json!({"error": format!("upstream request failed: {e}")}),
            );
            return with_header(resp, "x-served-by", "owokx-dashboard");
        }
    };
    let status = upstream.status();
    let mut out_headers = upstream.headers().clone();
    for hop in [
        header::CONNECTION,
        header::TRANSFER_ENCODING,
        header::CONTENT_LENGTH,
    ] {
        out_headers.remove(hop);
    }
    let bytes = match upstream.bytes().await {
        Ok(b) => b,
        Err(e) => {
            let resp = json(
                StatusCode::BAD_GATEWAY,
                json!({"error": format!("upstream body failed: {e}")}),
            );
            return with_header(resp, "x-served-by", "owokx-dashboard");
        }
    };
    let mut resp = Response::new(axum::body::Body::from(bytes));
    *resp.status_mut() = status;
    *resp.headers_mut() = out_headers;
    resp
}
