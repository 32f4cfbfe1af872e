//! Loopback tests: start the deployment and hit routes over real sockets.

use super::*;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::net::SocketAddr;

struct Ctx {
    dep: SampleDeployment,
    client: Client,
}

impl Ctx {
    async fn start(faults: &[Fault]) -> Ctx {
        let dep = SampleDeployment::start(faults).await.expect("start");
        let mut builder = Client::builder()
            .no_proxy()
            .timeout(std::time::Duration::from_secs(5));
        for r in dep.resolves() {
            let mut parts = r.split(':');
            let (host, port) = (parts.next().unwrap(), parts.next().unwrap());
            let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
            builder = builder.resolve(host, addr);
        }
        Ctx {
            dep,
            client: builder.build().unwrap(),
        }
    }

    fn var(&self, name: &str) -> String {
        self.dep
            .vars()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("no var {name}"))
    }

    /// GET `url` with an optional bearer token and optional Host override.
    async fn get(&self, url: &str, token: Option<&str>, host: Option<&str>) -> Resp {
        let mut req = self.client.get(url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(h) = host {
            req = req.header("host", h);
        }
        Resp::from(req.send().await.expect("send")).await
    }

    async fn post(&self, url: &str, token: Option<&str>, body: &str) -> Resp {
        let mut req = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Resp::from(req.send().await.expect("send")).await
    }
}

struct Resp {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Resp {
    async fn from(r: reqwest::Response) -> Resp {
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        Resp {
            status,
            headers,
            text,
        }
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|_| panic!("not JSON: {}", self.text))
    }
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

#[test]
fn fault_names_round_trip() {
    assert_eq!(Fault::all().len(), 16);
    for &f in Fault::all() {
        assert_eq!(Fault::from_name(f.name()), Some(f));
        assert_eq!(
            f.name().chars().next().unwrap().to_ascii_uppercase(),
            f.scenario()
        );
    }
    assert_eq!(
        Fault::ABackendBindingBroken.name(),
        "a-backend-binding-broken"
    );
    assert_eq!(Fault::from_name("nope"), None);
}

#[tokio::test]
async fn healthy_deployment() {
    let c = Ctx::start(&[]).await;
    assert_eq!(c.dep.resolves().len(), 22);

    // A
    let dash = c.var("OWOKX_DASHBOARD_URL");
    let token = c.var("OWOKX_VERIFY_TOKEN");
    let r = c.get(&format!("{dash}/api/status"), None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-served-by"), "owokx-backend");
    assert_eq!(r.json()["data"]["served_by"], "owokx-backend");
    let r = c
        .get(&format!("{dash}/auth/session"), Some(&token), None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["data"]["handler"], "owokx-auth");
    let r = c.get(&format!("{dash}/api/agent/config"), None, None).await;
    assert_eq!(r.status, 401);
    let r = c.get(&format!("{dash}/settings"), None, None).await;
    assert!(r.header("content-type").starts_with("text/html"));
    assert_eq!(r.header("x-served-by"), "owokx-dashboard");

    // B
    let domain = c.var("PLATFORM_DOMAIN");
    let r = c
        .get(&format!("http://users-dev.{domain}/health"), None, None)
        .await;
    assert_eq!(
        r.json(),
        json!({"ok": true, "service": "users", "environment": "development"})
    );
    let r = c
        .get(
            &format!("http://billing-staging.{domain}/health"),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    let b_port = domain.rsplit(':').next().unwrap();
    let r = c
        .get(
            &format!("http://127.0.0.1:{b_port}/health"),
            None,
            Some("nope.platform.test"),
        )
        .await;
    assert_eq!(r.status, 404);

    // C
    let api = c.var("API_URL");
    let r = c.get(&format!("{api}/health"), None, None).await;
    assert_eq!(r.json()["environment"], "production");
    let r = c.get(&c.var("STOREFRONT_URL"), None, None).await;
    assert!(r.text.contains("<title>Storefront</title>"));

    // D
    let t = c.var("TMINUS_DOMAIN");
    let r = c
        .get(&format!("http://app-staging.{t}/health"), None, None)
        .await;
    let v = r.json();
    assert_eq!(v["data"]["status"], "degraded");
    assert_eq!(v["data"]["worker"], "tminus-app-gateway");
    assert_eq!(v["data"]["environment"], "staging");
    assert!(v["meta"]["timestamp"].as_str().unwrap().ends_with('Z'));
    let api_d = format!("http://api.{t}");
    let creds = r#"{"email":"a@example.test","password":"correct-horse"}"#;
    let r = c
        .post(&format!("{api_d}/v1/auth/register"), None, creds)
        .await;
    assert_eq!(r.status, 201);
    assert!(r.json()["data"]["user"]["id"]
        .as_str()
        .unwrap()
        .starts_with("usr_"));
    let r = c
        .post(&format!("{api_d}/v1/auth/register"), None, creds)
        .await;
    assert_eq!(r.status, 409);
    let r = c
        .post(&format!("{api_d}/v1/auth/register"), None, "{not json")
        .await;
    assert_eq!(r.status, 400);
    let r = c.post(&format!("{api_d}/v1/auth/login"), None, creds).await;
    assert_eq!(r.status, 200);
    let jwt = r.json()["data"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(jwt.split('.').count(), 3);
    let r = c.get(&format!("{api_d}/v1/events"), Some(&jwt), None).await;
    assert_eq!(r.json()["data"][0]["id"], "evt_1");
    let r = c.get(&format!("{api_d}/v1/events"), None, None).await;
    assert_eq!(r.status, 401);
    // Tokens are per environment.
    let r = c
        .get(
            &format!("http://api-staging.{t}/v1/events"),
            Some(&jwt),
            None,
        )
        .await;
    assert_eq!(r.status, 401);

    // E
    let deploy = c.var("DO_DEPLOY_URL");
    let key = c.var("DO_API_KEY");
    let ro = c.var("DO_READONLY_KEY");
    let r = c.get(&format!("{deploy}/health"), None, None).await;
    assert_eq!(
        (r.status, r.json()),
        (
            StatusCode::UNAUTHORIZED,
            json!({"error": "Missing API key"})
        )
    );
    let r = c
        .get(&format!("{deploy}/health"), Some("bogus"), None)
        .await;
    assert_eq!(r.json(), json!({"error": "Invalid API key"}));
    let r = c.get(&format!("{deploy}/health"), Some(&ro), None).await;
    assert_eq!(r.json()["service"], "do-deploy");
    let r = c.post(&format!("{deploy}/deploy"), Some(&ro), "{}").await;
    assert_eq!(r.status, 403);
    let r = c.post(&format!("{deploy}/deploy"), Some(&key), "{}").await;
    assert_eq!(r.status, 202);
    let disp = c.var("DO_DISPATCHER_URL");
    let r = c.get(&format!("{disp}/"), None, Some("gateway.do")).await;
    assert_eq!(
        (r.header("x-worker"), r.json()),
        ("gateway", json!({"worker": "gateway"}))
    );
    let r = c
        .get(&format!("{disp}/api/db/users"), None, Some("api.do"))
        .await;
    assert_eq!(r.json(), json!({"worker": "db", "path": "/api/db/users"}));
    let r = c.get(&format!("{disp}/"), None, Some("email.do:443")).await;
    assert_eq!(r.header("x-worker"), "email");
    let r = c.get(&format!("{disp}/"), None, Some("nope.do")).await;
    assert_eq!(r.status, 404);

    c.dep.shutdown();
}

#[tokio::test]
async fn faulty_deployment() {
    let c = Ctx::start(&[
        Fault::AAuthNotForwarded,
        Fault::BServiceDown,
        Fault::CDatabaseError,
        Fault::DWorkerDown,
        Fault::DAuthBypass,
        Fault::EForbiddenInsteadOf401,
        Fault::EDispatcherMisroute,
    ])
    .await;
    let dash = c.var("OWOKX_DASHBOARD_URL");
    let r = c.get(&format!("{dash}/auth/session"), None, None).await;
    assert_eq!(r.status, 404);
    assert!(r.text.contains("Not Found"));
    let r = c.get(&format!("{dash}/api/status"), None, None).await;
    assert_eq!(r.header("x-served-by"), "owokx-backend");

    let domain = c.var("PLATFORM_DOMAIN");
    let r = c
        .get(
            &format!("http://billing-staging.{domain}/health"),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 503);
    assert_eq!(r.json()["error"], "upstream timeout");

    let r = c
        .get(&format!("{}/health", c.var("API_URL")), None, None)
        .await;
    assert_eq!(
        (r.status, r.json()["database"].clone()),
        (StatusCode::SERVICE_UNAVAILABLE, json!("error"))
    );

    let t = c.var("TMINUS_DOMAIN");
    let r = c
        .get(&format!("http://webhooks.{t}/health"), None, None)
        .await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "no healthy upstream")
    );
    let r = c
        .get(&format!("http://api.{t}/v1/events"), None, None)
        .await;
    assert_eq!(
        (r.status, r.json()["data"].clone()),
        (StatusCode::OK, json!([]))
    );

    let r = c
        .get(&format!("{}/health", c.var("DO_DEPLOY_URL")), None, None)
        .await;
    assert_eq!(
        (r.status, r.json()),
        (StatusCode::FORBIDDEN, json!({"error": "Forbidden"}))
    );
    let r = c
        .get(
            &format!("{}/", c.var("DO_DISPATCHER_URL")),
            None,
            Some("gateway.do"),
        )
        .await;
    assert_eq!(r.header("x-worker"), "db");
}

#[tokio::test]
async fn faulty_deployment_2() {
    let c = Ctx::start(&[
        Fault::ABackendBindingBroken,
        Fault::CStorefrontDown,
        Fault::DLoginFails,
        Fault::DLegacyHealth,
        Fault::EHealthOpen,
    ])
    .await;
    let dash = c.var("OWOKX_DASHBOARD_URL");
    let r = c.get(&format!("{dash}/api/status"), None, None).await;
    assert_eq!(r.status, 502);
    assert_eq!(
        r.json()["error"],
        "service binding OWOKX_BACKEND unavailable"
    );

    let r = c.get(&c.var("STOREFRONT_URL"), None, None).await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
    );

    let t = c.var("TMINUS_DOMAIN");
    let r = c
        .get(&format!("http://mcp-staging.{t}/health"), None, None)
        .await;
    assert_eq!(r.json(), json!({"status": "ok"}));
    let creds = r#"{"email":"b@example.test","password":"12345678"}"#;
    let r = c
        .post(&format!("http://api.{t}/v1/auth/register"), None, creds)
        .await;
    assert_eq!(r.status, 201);
    let r = c
        .post(&format!("http://api.{t}/v1/auth/login"), None, creds)
        .await;
    assert_eq!(r.status, 500);
    assert_eq!(r.json()["error"], "JWT_SECRET is not configured");

    let r = c
        .get(&format!("{}/health", c.var("DO_DEPLOY_URL")), None, None)
        .await;
    assert_eq!((r.status, r.json()), (StatusCode::OK, json!({"ok": true})));
}

/// The slow storefront still answers its home page every time (the fault only delays every
/// 10th response; the suites' latency budgets judge that).
#[tokio::test]
async fn slow_storefront_still_serves_its_home_page() {
    let c = Ctx::start(&[Fault::CStorefrontSlow]).await;
    for _ in 0..10 {
        let r = c.get(&c.var("STOREFRONT_URL"), None, None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.text.contains("<html"), "{}", r.text);
    }
}
