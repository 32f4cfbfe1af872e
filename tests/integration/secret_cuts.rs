//! Secrets in what a failing check quotes: no window, cut or quantifier shows any part of
//! one. A loopback server echoes the bearer token, answers a login with credential-named
//! JSON values (`access_token`, `password`) and sends credential-named headers; the checks
//! on them fail, and every output (console with `--verbose` and GitHub annotations, JSON,
//! JUnit, HTML, job summary) is searched for the secrets, whole, in their encoded forms, and
//! in part (any 10 characters of one).

use axum::http::HeaderMap;
use axum::routing::get;

use crate::common::write_suite;
use crate::hostile_text::{leaks, run_with_every_output};

/// The bearer token, a secret variable.
const BEARER: &str = "QzTokSecret-0123456789abcdef";
/// What the login answers: never marked secret, but named like credentials.
const LOGIN_TOKEN: &str = "LoginTok-8f3a9c2e71d4b6";
const REFRESH: &str = "RefreshTok-71d4b68f3a9c";
const NESTED_PASSWORD: &str = "NestedPw-5521-kqzx";
/// Values of credential-named response headers.
const HEADER_TOKEN: &str = "UnknownTok-111222";
const HEADER_TOKEN2: &str = "UnknownTok-333444";
const SESSION_KEY: &str = "SessKeyVal-998877";
/// Credentials in URLs a failing server quotes in its body (not secrets smokegate knows).
const DB_PASSWORD: &str = "DbPassw0rd-77-zq";
const CALLBACK_TOKEN: &str = "CbTok-4455-mnbv";

async fn server() -> std::net::SocketAddr {
    let login = serde_json::json!({
        "access_token": LOGIN_TOKEN,
        "refresh_token": REFRESH,
        "token_type": "bearer",
        "user": { "name": "ann", "password": NESTED_PASSWORD },
    })
    .to_string();
    let app = axum::Router::new()
        .route(
            "/echo-auth",
            get(|h: HeaderMap| async move {
                let auth = h
                    .get("authorization")
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    .unwrap_or_default();
                format!("authorization: {auth} and the rest of the line")
            }),
        )
        .route("/hello", get(|| async { "hello" }))
        .route(
            "/leaky",
            get(|| async {
                (
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    format!("database postgres://app:{DB_PASSWORD}@db.internal/app down; retry via https://h.test/cb?token={CALLBACK_TOKEN}&x=1"),
                )
            }),
        )
        .route(
            "/login",
            get(move || {
                let login = login.clone();
                async move { ([("content-type", "application/json")], login) }
            }),
        )
        .route(
            "/headers",
            get(|| async {
                let mut h = HeaderMap::new();
                h.append("x-auth-token", HEADER_TOKEN.parse().unwrap());
                h.append("x-auth-token", HEADER_TOKEN2.parse().unwrap());
                h.append("x-session-key", SESSION_KEY.parse().unwrap());
                h.append("x-plain", "visible-value".parse().unwrap());
                (h, "ok")
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    addr
}

/// Run `suite` (its text, `{addr}` replaced) with every output on; assert it fails and no
/// secret of `secrets` reaches any output, whole, encoded or in part. Returns the JSON
/// report.
async fn run_without_leaks(suite: &str, secrets: &[&str]) -> serde_json::Value {
    let addr = server().await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_suite(
        dir.path(),
        "cuts.yaml",
        &suite.replace("{addr}", &addr.to_string()),
    );
    let (run, outputs) = run_with_every_output(&path, &[]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let leaks = leaks(&outputs, secrets, Some(10));
    assert!(
        leaks.is_empty(),
        "secret bytes in outputs: {leaks:#?}\n{}",
        run.stdout
    );
    run.json.expect("JSON report")
}

/// The failure messages of a case's steps, joined.
fn messages(report: &serde_json::Value, case: &str) -> String {
    let c = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == case)
        .unwrap_or_else(|| panic!("no case {case}: {report}"));
    let mut out = Vec::new();
    for s in c["steps"].as_array().unwrap() {
        for e in s["expectations"].as_array().unwrap() {
            if e["passed"] == false {
                out.push(format!(
                    "{} | expected {} | actual {}",
                    e["message"].as_str().unwrap_or(""),
                    e["expected"],
                    e["actual"]
                ));
            }
        }
    }
    out.join("\n")
}

/// Defect: `body.equals` cut a window around the first difference before secrets were
/// masked, so the part of a secret inside the window was no longer recognised and shown
/// (`got "authorization: Bearer QzTokSecret-012345…"`), on either side.
#[tokio::test(flavor = "multi_thread")]
async fn a_body_difference_window_shows_no_part_of_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let want = dir.path().join("want.txt");
    std::fs::write(&want, "authorization: Bearer X").unwrap();
    let suite = format!(
        r#"name: cuts
vars: {{ tok: "{BEARER}" }}
secrets: [tok]
cases:
  - name: echoed bearer
    request: {{ url: "http://{{addr}}/echo-auth", auth: {{ bearer: "${{tok}}" }} }}
    expect:
      body: {{ equals: "authorization: Bearer X" }}
  - name: echoed bearer against a file
    request: {{ url: "http://{{addr}}/echo-auth", auth: {{ bearer: "${{tok}}" }} }}
    expect:
      body: {{ equals_file: "{}" }}
  - name: secret in the expected text
    request: {{ url: "http://{{addr}}/hello" }}
    expect:
      body: {{ equals: "hellX ${{tok}} and more text after it" }}
"#,
        want.display()
    );
    let report = run_without_leaks(&suite, &[BEARER]).await;
    let m = messages(&report, "echoed bearer");
    assert!(
        m.contains("first difference at byte 22 (line 1, column 23): expected \"authorization: Bearer X\", got \"authorization: [REDACTED]…\""),
        "{m}"
    );
    let m = messages(&report, "echoed bearer against a file");
    assert!(
        m.contains("first difference at byte 22: expected \"authorization: Bearer X\", got \"authorization: [REDACTED]…\""),
        "{m}"
    );
    let m = messages(&report, "secret in the expected text");
    assert!(
        m.contains("first difference at byte 4 (line 1, column 5): expected \"hellX [REDACTED]…\", got \"hello\""),
        "{m}"
    );
}

/// Defect: values under credential-named JSON keys were shown by body checks (the raw body
/// as `actual`), `json_equals` differences, `equals` windows, and JSONPath results selected
/// by wildcards (masking was decided from the last key written in the path). The realistic
/// case: a login step fails before its `secret: true` capture runs.
#[tokio::test(flavor = "multi_thread")]
async fn credential_named_json_values_are_masked_in_every_body_failure() {
    let suite = r#"name: cuts
cases:
  - name: login
    steps:
      - name: sign in
        request: { url: "http://{addr}/login" }
        expect:
          body:
            contains: ["welcome"]
            not_contains: ["bearer"]
            matches: "^nothing"
            json_equals: { access_token: "x", refresh_token: "y", token_type: "bearer", user: { name: "ann", password: "p" } }
        capture:
          token: { jsonpath: $.access_token, secret: true }
  - name: login equals
    request: { url: "http://{addr}/login" }
    expect:
      body: { equals: '{"access_token":"x"}' }
  - name: wildcards
    request: { url: "http://{addr}/login" }
    expect:
      jsonpath:
        - { path: "$.*", equals: "x" }
        - { path: "$.*", nth: 0, equals: "x" }
        - { path: "$.*", none: { type: string } }
        - { path: "$.*", any: { equals: "x" } }
        - { path: "$..password", equals: "x" }
        - { path: "$.user.*", all: { equals: "ann" } }
        - { path: "$.token_type", equals: "x" }
"#;
    let report = run_without_leaks(suite, &[LOGIN_TOKEN, REFRESH, NESTED_PASSWORD]).await;
    let m = messages(&report, "login");
    assert!(m.contains("body does not contain \"welcome\""), "{m}");
    assert!(
        m.contains(r#"\"access_token\":\"[REDACTED]\",\"refresh_token\":\"[REDACTED]\",\"token_type\":\"bearer\""#),
        "the body is quoted with credential values masked: {m}"
    );
    assert!(
        m.contains("body JSON differs from the expected document at $.access_token: expected [REDACTED], got [REDACTED]"),
        "{m}"
    );
    let m = messages(&report, "login equals");
    assert!(m.contains("first difference at byte 17"), "{m}");
    let m = messages(&report, "wildcards");
    // Every selected value under a credential-named key is masked; the others are shown.
    assert!(
        m.contains(r#"[[REDACTED], [REDACTED], \"bearer\", {\"name\":\"ann\",\"password\":\"[REDACTED]\"}]"#),
        "{m}"
    );
    assert!(
        m.contains("$..password: expected \"x\", got [REDACTED]"),
        "{m}"
    );
    assert!(
        m.contains("$.token_type: expected \"x\", got \"bearer\""),
        "{m}"
    );
}

/// Defect: a header check showed the value of a credential-named header the narrow list did
/// not name (`x-auth-token`): ``got UnknownTok-111222``, also with `nth` and `any`, and in
/// the JSON `actual`.
#[tokio::test(flavor = "multi_thread")]
async fn credential_named_header_values_are_never_shown() {
    let suite = r#"name: cuts
cases:
  - name: headers
    request: { url: "http://{addr}/headers" }
    expect:
      headers:
        x-auth-token: { equals: "x" }
        x-session-key: "x"
        x-plain: "x"
  - name: nth
    request: { url: "http://{addr}/headers" }
    expect:
      headers:
        x-auth-token: { nth: 1, equals: "x" }
  - name: quantifiers
    request: { url: "http://{addr}/headers" }
    expect:
      headers:
        x-auth-token: { any: { equals: "x" } }
  - name: none
    request: { url: "http://{addr}/headers" }
    expect:
      headers:
        x-auth-token: { none: { matches: "^Unknown" } }
  - name: length
    request: { url: "http://{addr}/headers" }
    expect:
      headers:
        x-auth-token: { all: { length: 3 } }
"#;
    let report = run_without_leaks(suite, &[HEADER_TOKEN, HEADER_TOKEN2, SESSION_KEY]).await;
    let m = messages(&report, "headers");
    assert!(
        m.contains("header `x-auth-token`: expected = \"x\", got [REDACTED]"),
        "{m}"
    );
    assert!(m.contains("actual \"[REDACTED]\""), "{m}");
    for case in ["nth", "quantifiers", "none", "length"] {
        let m = messages(&report, case);
        assert!(m.contains("header `x-auth-token`"), "{case}: {m}");
        assert!(m.contains("[REDACTED]"), "{case}: {m}");
    }
    // An ordinary header is still shown.
    assert!(
        m.contains("header `x-plain`: expected = \"x\", got visible-value"),
        "{m}"
    );
}

/// A failing server's body quoting URLs with credentials (its database URL, a callback with
/// a token) is shown masked in every output, as such URLs are in messages.
#[tokio::test(flavor = "multi_thread")]
async fn url_credentials_in_a_failing_body_are_masked_in_every_output() {
    let report = run_without_leaks(
        "name: cuts\ncases:\n  - name: leaky\n    request:\n      url: http://{addr}/leaky\n    expect:\n      status: 200\n",
        &[DB_PASSWORD, CALLBACK_TOKEN],
    )
    .await;
    let excerpt = report["cases"][0]["steps"][0]["response"]["body_excerpt"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        excerpt.contains("postgres://app:[REDACTED]@db.internal/app")
            && excerpt.contains("?token=[REDACTED]&x=1"),
        "{excerpt}"
    );
}
