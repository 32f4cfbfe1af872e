//! Scenario C: an API with a health endpoint reporting its dependencies, and
//! a storefront serving HTML.

use crate::http::{base_url, html, json, serve};
use crate::{Fault, Faults, SampleDeployment};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::json;

const STOREFRONT_HTML: &str =
    "<!doctype html><html><head><title>Storefront</title></head><body><h1>Shop</h1></body></html>";

/// Start the API and the storefront; registers API_URL and STOREFRONT_URL.
pub(crate) async fn start(faults: &Faults, dep: &mut SampleDeployment) -> std::io::Result<()> {
    let api = Router::new()
        .route("/health", get(api_health))
        .fallback(|| async {
            json(
                StatusCode::NOT_FOUND,
                json!({"ok": false, "error": "not found"}),
            )
        })
        .with_state(faults.clone());
    let (api_addr, task) = serve(api).await?;
    dep.add_task(task);

    let storefront = Router::new()
        .route("/", get(storefront_home))
        .fallback(|| async {
            html(
                StatusCode::NOT_FOUND,
                "<!doctype html><html><head><title>Not Found</title></head><body><h1>Not Found</h1></body></html>",
            )
        })
        .with_state(faults.clone());
    let (store_addr, task) = serve(storefront).await?;
    dep.add_task(task);

    dep.add_var("API_URL", base_url(api_addr));
    dep.add_var("STOREFRONT_URL", base_url(store_addr));
    Ok(())
}

async fn api_health(State(faults): State<Faults>) -> Response {
    let env = if faults.has(Fault::CWrongEnvironment) {
        "staging"
    } else {
        "production"
    };
    if faults.has(Fault::CDatabaseError) {
        json(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"ok": false, "database": "error", "r2": "ok", "environment": env}),
        )
    } else {
        json(
            StatusCode::OK,
            json!({"ok": true, "database": "ok", "r2": "ok", "environment": env}),
        )
    }
}

async fn storefront_home(State(faults): State<Faults>) -> Response {
    if faults.has(Fault::CStorefrontDown) {
        html(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
    } else {
        html(StatusCode::OK, STOREFRONT_HTML)
    }
}
