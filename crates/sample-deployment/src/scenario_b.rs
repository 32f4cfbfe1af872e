//! Scenario B: four services in three environments behind one listener that
//! routes by the `Host` header (`<service><suffix>.platform.test:PORT`).

use crate::http::{host_name, json, serve};
use crate::{Fault, Faults, SampleDeployment};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use serde_json::json;

const DOMAIN: &str = "platform.test";
const SERVICES: [&str; 4] = ["users", "billing", "search", "notifications"];
/// (host suffix, environment name)
const ENVIRONMENTS: [(&str, &str); 3] = [
    ("-dev", "development"),
    ("-staging", "staging"),
    ("", "production"),
];

/// Start the Host-routed listener; registers PLATFORM_* vars and 12 resolves.
pub(crate) async fn start(faults: &Faults, dep: &mut SampleDeployment) -> std::io::Result<()> {
    let router = Router::new().fallback(handle).with_state(faults.clone());
    let (addr, task) = serve(router).await?;
    dep.add_task(task);
    let port = addr.port();
    dep.add_var("PLATFORM_DOMAIN", format!("{DOMAIN}:{port}"));
    dep.add_var("PLATFORM_SCHEME", "http");
    for service in SERVICES {
        for (suffix, _) in ENVIRONMENTS {
            dep.add_resolve(&format!("{service}{suffix}.{DOMAIN}"), port);
        }
    }
    Ok(())
}

/// Map a host name to (service, environment).
fn route(host: &str) -> Option<(&'static str, &'static str)> {
    let label = host.strip_suffix(DOMAIN)?.strip_suffix('.')?;
    SERVICES.iter().find_map(|&service| {
        let suffix = label.strip_prefix(service)?;
        ENVIRONMENTS
            .iter()
            .find(|(s, _)| *s == suffix)
            .map(|&(_, env)| (service, env))
    })
}

async fn handle(
    State(faults): State<Faults>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let Some((service, env)) = route(&host_name(&headers)) else {
        return json(
            StatusCode::NOT_FOUND,
            json!({"ok": false, "error": "no such service"}),
        );
    };
    if uri.path() != "/health" {
        return json(
            StatusCode::NOT_FOUND,
            json!({"ok": false, "error": "not found"}),
        );
    }
    if method != Method::GET && method != Method::HEAD {
        return json(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"ok": false, "error": "method not allowed"}),
        );
    }
    if faults.has(Fault::BServiceDown) && service == "billing" && env == "staging" {
        return json(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"ok": false, "status": "unhealthy", "error": "upstream timeout"}),
        );
    }
    json(
        StatusCode::OK,
        json!({"ok": true, "service": service, "environment": env}),
    )
}

#[cfg(test)]
mod tests {
    use super::route;

    #[test]
    fn routes_hosts() {
        assert_eq!(
            route("users-dev.platform.test"),
            Some(("users", "development"))
        );
        assert_eq!(
            route("billing.platform.test"),
            Some(("billing", "production"))
        );
        assert_eq!(
            route("search-staging.platform.test"),
            Some(("search", "staging"))
        );
        assert_eq!(route("search-prod.platform.test"), None);
        assert_eq!(route("platform.test"), None);
        assert_eq!(route("users.example.test"), None);
    }
}
