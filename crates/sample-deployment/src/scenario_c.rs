//! Scenario C: an API with a health endpoint reporting its dependencies, and
//! a storefront serving HTML.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::http::{base_url, html, json, serve};
use crate::{Fault, Faults, SampleDeployment};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::json;

/// With [`Fault::CStorefrontSlow`], every `SLOW_EVERY`th home page waits `SLOW_BY`.
const SLOW_EVERY: u64 = 10;
const SLOW_BY: Duration = Duration::from_millis(800);

/// What the storefront handlers share: the faults and the home pages served so far.
#[derive(Clone)]
struct Store {
    faults: Faults,
    served: Arc<AtomicU64>,
}

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
        .with_state(Store {
            faults: faults.clone(),
            served: Arc::default(),
        });
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

async fn storefront_home(State(store): State<Store>) -> Response {
    let n = store.served.fetch_add(1, Ordering::SeqCst) + 1;
    if store.faults.has(Fault::CStorefrontSlow) && n % SLOW_EVERY == 0 {
        tokio::time::sleep(SLOW_BY).await;
    }
    if store.faults.has(Fault::CStorefrontDown) {
        html(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
    } else {
        html(StatusCode::OK, STOREFRONT_HTML)
    }
}
