//! Suite features end to end against an in-process axum server on loopback: retries and
//! flaky reporting, polling with wait_until, captures, redirects that drop credentials
//! across hosts, severity, tags and filters, form bodies and query strings.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde_json::{json, Value};

use crate::common::{smokegate, write_suite};

#[derive(Clone, Default)]
struct Counters {
    flaky: Arc<AtomicUsize>,
    eventually: Arc<AtomicUsize>,
}

async fn serve() -> (std::net::SocketAddr, Counters) {
    let counters = Counters::default();
    let app = Router::new()
        .route(
            "/flaky",
            get(|State(c): State<Counters>| async move {
                if c.flaky.fetch_add(1, Ordering::SeqCst) < 2 {
                    (StatusCode::SERVICE_UNAVAILABLE, "warming up").into_response()
                } else {
                    Json(json!({"ok": true})).into_response()
                }
            }),
        )
        .route(
            "/eventually",
            get(|State(c): State<Counters>| async move {
                let n = c.eventually.fetch_add(1, Ordering::SeqCst);
                Json(json!({"status": if n < 3 { "starting" } else { "healthy" }}))
            }),
        )
        .route(
            "/never",
            get(|| async { Json(json!({"status": "starting"})) }),
        )
        .route(
            "/echo",
            get(|h: HeaderMap, Query(q): Query<Value>| async move {
                let auth = h
                    .get("authorization")
                    .map(|v| v.to_str().unwrap_or("").to_string());
                (
                    [("x-request-id", "req-42")],
                    Json(json!({"auth": auth, "query": q, "token": "tok-abc.def.ghi"})),
                )
            }),
        )
        .route("/same-host", get(|| async { Redirect::to("/echo") }))
        .route(
            "/moved",
            get(|| async { ([("location", "/login?next=%2Fadmin\tx")], StatusCode::FOUND) }),
        )
        .route(
            "/form",
            post(|Form(f): Form<Value>| async move { Json(json!({"form": f})) }),
        )
        .route(
            "/items",
            get(|| async {
                Json(json!({"items": [{"n": 1}, {"n": 5}, {"n": 9}], "count": 3, "text5": "5"}))
            }),
        )
        .route(
            "/json-echo",
            post(|Json(v): Json<Value>| async move { Json(v) }),
        )
        .with_state(counters.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.ok() });
    (addr, counters)
}

async fn run_suite(addr: std::net::SocketAddr, body: &str, extra: &[&str]) -> crate::common::Run {
    let dir = tempfile::tempdir().unwrap();
    let text = body
        .replace("ADDR", &addr.to_string())
        .replace("PORT", &addr.port().to_string());
    let s = write_suite(dir.path(), "features.yaml", &text);
    let mut args = vec!["run".to_string(), s];
    args.extend(extra.iter().map(|s| s.to_string()));
    smokegate(&args, &[]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_pass_and_are_reported_flaky() {
    let (addr, c) = serve().await;
    let run = run_suite(
        addr,
        "name: f\ncases:\n  - name: flaky\n    request: { url: http://ADDR/flaky }\n    retry: { attempts: 4, interval: 50ms, backoff: 2 }\n    expect: { status: 200 }\n",
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(c.flaky.load(Ordering::SeqCst), 3);
    let case = run.case("flaky");
    assert_eq!(case["flaky"], true);
    assert_eq!(case["steps"][0]["attempts"], 3);
    assert_eq!(
        case["steps"][0]["failed_attempts"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(run.json.as_ref().unwrap()["counts"]["flaky"], 1);
    assert!(run.junit.unwrap().contains("<flakyFailure"));
    assert!(run.stdout.contains("flaky"), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_exhausted_fail_with_attempt_count() {
    let (addr, _) = serve().await;
    let run = run_suite(
        addr,
        "name: f\ncases:\n  - name: never\n    request: { url: http://ADDR/flaky }\n    retry: { attempts: 2, interval: 10ms }\n    expect: { status: 200 }\n",
        &[],
    )
    .await;
    assert_eq!(run.code, 1);
    let c = run.case("never");
    assert!(
        c["message"]
            .as_str()
            .unwrap()
            .contains("(after 2 attempts)"),
        "{c:#}"
    );
    assert_eq!(c["steps"][0]["attempts"], 2);
    assert!(run.stdout.contains("attempt 2"), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn wait_until_polls_until_expectations_hold_within_the_deadline() {
    let (addr, c) = serve().await;
    let run = run_suite(
        addr,
        "name: f\ncases:\n  - name: becomes healthy\n    request: { url: http://ADDR/eventually }\n    wait_until: { timeout: 10s, interval: 50ms }\n    expect:\n      jsonpath:\n        - { path: $.status, equals: healthy }\n  - name: never healthy\n    request: { url: http://ADDR/never }\n    wait_until: { timeout: 400ms, interval: 100ms }\n    expect:\n      jsonpath:\n        - { path: $.status, equals: healthy }\n",
        &[],
    )
    .await;
    assert_eq!(run.case("becomes healthy")["status"], "passed");
    assert_eq!(c.eventually.load(Ordering::SeqCst), 4);
    let never = run.case("never healthy");
    assert_eq!(never["status"], "failed");
    assert!(never["steps"][0]["attempts"].as_u64().unwrap() >= 2);
    assert!(
        never["message"]
            .as_str()
            .unwrap()
            .contains("still failing after"),
        "{never:#}"
    );
    assert_eq!(
        run.case("becomes healthy")["flaky"],
        false,
        "polling is not flakiness"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn captures_flow_between_steps() {
    let (addr, _) = serve().await;
    let run = run_suite(
        addr,
        r#"name: f
cases:
  - name: flow
    steps:
      - name: first
        request: { url: "http://ADDR/echo?x=1" }
        capture:
          rid: { header: x-request-id }
          tok: { jsonpath: $.token }
          part: { regex: '"token":"tok-([a-z]+)' }
      - name: second
        request:
          url: http://ADDR/echo
          query: { rid: "${rid}", part: "${part}" }
          headers: { Authorization: "Bearer ${tok}" }
        expect:
          jsonpath:
            - { path: $.query.rid, equals: req-42 }
            - { path: $.query.part, equals: abc }
            - { path: $.auth, equals: "Bearer ${tok}" }
      - name: form body
        request:
          method: POST
          url: http://ADDR/form
          form: { name: "${rid}", kind: smoke }
        expect:
          jsonpath:
            - { path: $.form.name, equals: req-42 }
            - { path: "$.form.*", count: 2 }
"#,
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    let caps = &run.case("flow")["steps"][0]["captures"];
    assert_eq!(caps.as_array().unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn redirects_keep_credentials_only_on_the_same_host() {
    let (addr, _) = serve().await;
    let run = run_suite(
        addr,
        r#"name: f
cases:
  - name: same host keeps auth
    request:
      url: http://ADDR/same-host
      follow_redirects: true
      headers: { Authorization: Bearer same-host-token }
    expect:
      jsonpath:
        - { path: $.auth, equals: Bearer same-host-token }
"#,
        &[],
    )
    .await;
    assert_eq!(
        run.case("same host keeps auth")["status"],
        "passed",
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cross_host_redirect_drops_authorization() {
    let (target, _) = serve().await;
    // A second server that redirects to the first under another host name.
    let tport = target.port();
    let app =
        Router::new().route(
            "/go",
            get(move || async move {
                Redirect::to(&format!("http://second.example.test:{tport}/echo"))
            }),
        );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let front = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.ok() });
    let run = run_suite(
        front,
        "name: f\ncases:\n  - name: cross\n    request:\n      url: http://ADDR/go\n      follow_redirects: true\n      headers: { Authorization: Bearer must-not-travel }\n    expect:\n      jsonpath:\n        - { path: $.auth, equals: null }\n",
        &["--resolve", &format!("second.example.test:{tport}:127.0.0.1")],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    let step = &run.case("cross")["steps"][0];
    assert_eq!(step["request"]["redirects"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn warnings_do_not_block_and_filters_select_cases() {
    let (addr, _) = serve().await;
    let suite = "name: f\ncases:\n  - name: degraded is a warning\n    severity: warning\n    tags: [soft]\n    request: { url: http://ADDR/never }\n    expect:\n      jsonpath:\n        - { path: $.status, equals: healthy }\n  - name: echo works\n    tags: [core]\n    request: { url: http://ADDR/echo }\n";
    let run = run_suite(addr, suite, &[]).await;
    assert_eq!(
        run.code, 0,
        "a warning does not fail the gate: {}",
        run.stdout
    );
    let json = run.json.as_ref().unwrap();
    assert_eq!(json["counts"]["warnings"], 1);
    assert_eq!(json["verdict"], "passed");
    assert!(run.stdout.contains("does not block"), "{}", run.stdout);
    let run = run_suite(addr, suite, &["--tag", "core"]).await;
    assert_eq!(run.json.as_ref().unwrap()["counts"]["total"], 1);
    let run = run_suite(addr, suite, &["--skip-tag", "core", "--filter", "degraded"]).await;
    assert_eq!(run.json.as_ref().unwrap()["counts"]["total"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn equals_null_is_a_real_predicate() {
    let (addr, _) = serve().await;
    let run = run_suite(
        addr,
        "name: f\ncases:\n  - name: auth is null\n    request: { url: http://ADDR/echo }\n    expect:\n      jsonpath:\n        - { path: $.auth, equals: null }\n  - name: token is not null\n    request: { url: http://ADDR/echo }\n    expect:\n      jsonpath:\n        - { path: $.query, equals: null }\n",
        &[],
    )
    .await;
    assert_eq!(
        run.case("auth is null")["status"],
        "passed",
        "{}",
        run.stdout
    );
    assert_eq!(
        run.case("token is not null")["status"],
        "failed",
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("expected null"), "{}", run.stdout);
}

/// Values keep their JSON types through variables, captures and templates (issue 9): a
/// whole-value `${x}` is the number/object itself, `equals: "${five}"` compares 5 with 5, and
/// JSONPaths and numeric bounds may be templates.
#[tokio::test(flavor = "multi_thread")]
async fn values_keep_their_types_through_variables_captures_and_templates() {
    let (addr, _) = serve().await;
    let suite = r#"
name: typed
vars:
  five: 5
  idx: 1
  flags: { debug: false }
cases:
  - name: typed values
    steps:
      - name: items
        request: { url: "http://ADDR/items" }
        expect:
          jsonpath:
            - { path: "$.items[${idx}].n", equals: "${five}" }
            - { path: "$.count", gt: "${idx}", lte: "${five}" }
        capture:
          count: { jsonpath: $.count }
          first: { jsonpath: "$.items[0]" }
      - name: echo
        request:
          method: POST
          url: "http://ADDR/json-echo"
          json: { n: "${count}", first: "${first}", flags: "${flags}", label: "n=${count}" }
        expect:
          jsonpath:
            - { path: $.n, equals: 3, type: integer }
            - { path: $.n, equals: "${count}" }
            - { path: $.first, equals: { n: 1 } }
            - { path: $.flags.debug, equals: false }
            - { path: $.label, equals: "n=3" }
"#;
    let run = run_suite(addr, suite, &[]).await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    // A string "5" is not the number 5.
    let strict = r#"
name: typed
vars: { five: 5 }
cases:
  - name: text is not a number
    request: { url: "http://ADDR/items" }
    expect:
      jsonpath:
        - { path: $.text5, equals: "${five}" }
"#;
    let run = run_suite(addr, strict, &[]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    assert!(
        run.stdout.contains(r#"expected 5, got "5""#),
        "{}",
        run.all_output()
    );
}

/// A schema in a folder whose name has a space, with a `$ref` to a sibling file: the
/// `file://` URI is percent-encoded, not built by hand.
#[tokio::test(flavor = "multi_thread")]
async fn schemas_in_a_folder_with_a_space_resolve_their_refs() {
    let (addr, _) = serve().await;
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("my suites");
    std::fs::create_dir_all(folder.join("schemas")).unwrap();
    std::fs::write(
        folder.join("schemas/items.schema.json"),
        r#"{"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": "item.schema.json"}}}}"#,
    )
    .unwrap();
    std::fs::write(
        folder.join("schemas/item.schema.json"),
        r#"{"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}}"#,
    )
    .unwrap();
    let suite = write_suite(
        &folder,
        "s.yaml",
        &format!(
            "name: s\ncases:\n  - name: items\n    request: {{ url: \"http://{addr}/items\" }}\n    expect:\n      schema: schemas/items.schema.json\n"
        ),
    );
    for cmd in ["validate", "run"] {
        let run = smokegate(&[cmd.into(), suite.clone()], &[]).await;
        assert_eq!(run.code, 0, "{cmd}: {}", run.all_output());
    }
}

/// The console tells a failure before the skips it causes (a dependent's SKIP line once came
/// before the FAIL of its prerequisite).
#[tokio::test(flavor = "multi_thread")]
async fn a_prerequisite_fails_before_its_dependents_are_skipped() {
    let (addr, _) = serve().await;
    let suite = r#"
name: order
cases:
  - name: prerequisite
    request: { url: "http://ADDR/missing" }
  - name: dependent
    needs: [prerequisite]
    request: { url: "http://ADDR/items" }
  - name: second dependent
    needs: [dependent]
    request: { url: "http://ADDR/items" }
"#;
    let run = run_suite(addr, suite, &[]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let line = |needle: &str| {
        run.stdout
            .lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no `{needle}` line:\n{}", run.stdout))
    };
    let fail = line("order › prerequisite");
    let skip = line("order › dependent");
    let skip2 = line("order › second dependent");
    assert!(run.stdout.lines().nth(fail).unwrap().starts_with("FAIL"));
    assert!(fail < skip && skip < skip2, "{}", run.stdout);
    let cases: Vec<&str> = run.json.as_ref().unwrap()["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(cases, ["failed", "skipped", "skipped"]);
}

/// A variable written as a plain YAML number or boolean keeps the text it was written with
/// when interpolated (`1.10` stays `1.10`, `007` stays `007`), while a whole-value use has
/// its typed value (review finding: `?v=1.10` had become `?v=1.1`).
#[tokio::test(flavor = "multi_thread")]
async fn plain_scalars_interpolate_as_written_and_keep_their_type_as_whole_values() {
    let (addr, _) = serve().await;
    let suite = r#"
name: scalars
vars:
  version: 1.10
  zip: 007
  flag: True
  word: yes
  big: 1_000
  copy: "${version}"
cases:
  - name: as written in a URL
    request:
      url: "http://ADDR/echo?v=${version}&z=${zip}&f=${flag}&b=${big}&c=${copy}"
    expect:
      jsonpath:
        - { path: $.query.v, equals: "1.10" }
        - { path: $.query.z, equals: "007" }
        - { path: $.query.f, equals: "True" }
        - { path: $.query.b, equals: "1_000" }
        - { path: $.query.c, equals: "1.10" }
  - name: typed as whole values
    request:
      method: POST
      url: "http://ADDR/json-echo"
      json: { v: "${version}", f: "${flag}", w: "${word}", c: "${copy}", s: "v${version}" }
    expect:
      jsonpath:
        - { path: $.v, equals: 1.1 }
        - { path: $.f, equals: true }
        # YAML 1.2: `yes` is a text, not a boolean (as editors and the schema read it).
        - { path: $.w, equals: "yes" }
        - { path: $.c, equals: 1.1 }
        - { path: $.s, equals: "v1.10" }
"#;
    let run = run_suite(addr, suite, &[]).await;
    assert_eq!(run.code, 0, "{}", run.all_output());
}

/// A secret written as a plain YAML number is masked as it is sent (`0x1F2E3D4C`), not only
/// as its numeric value (523123020).
#[tokio::test(flavor = "multi_thread")]
async fn a_numeric_secret_is_masked_as_written() {
    let (addr, _) = serve().await;
    let suite = r#"
name: numeric-secret
vars:
  pin: 0x1F2E3D4C
secrets: [pin]
cases:
  - name: echoed back
    request: { url: "http://ADDR/echo?pin=${pin}" }
    expect:
      status: 500
"#;
    let run = run_suite(addr, suite, &["--verbose"]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let all = run.all_output() + &run.junit.clone().unwrap_or_default();
    assert!(all.contains("[REDACTED]"), "{all}");
    assert!(!all.contains("1F2E3D4C"), "{all}");
    assert!(!all.contains("523123020"), "{all}");
}

/// A failing `warning` cannot hide the critical check behind it (issue 10, item 5): the
/// critical dependent is skipped, and a critical check that did not run blocks the gate.
#[tokio::test(flavor = "multi_thread")]
async fn a_warning_prerequisite_cannot_hide_a_critical_check() {
    let (addr, _) = serve().await;
    let suite = r#"
name: gate
cases:
  - name: optional probe
    severity: warning
    request: { url: "http://ADDR/missing" }
  - name: critical flow
    needs: [optional probe]
    request: { url: "http://ADDR/items" }
  - name: optional follow-up
    severity: warning
    needs: [optional probe]
    request: { url: "http://ADDR/items" }
"#;
    let run = run_suite(addr, suite, &[]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json.as_ref().unwrap();
    assert_eq!(report["verdict"], "failed");
    assert!(
        run.stdout.contains("1 critical check did not run"),
        "{}",
        run.stdout
    );
    // Only warnings and no dependents: the gate passes.
    let warn_only = r#"
name: gate
cases:
  - name: optional probe
    severity: warning
    request: { url: "http://ADDR/missing" }
  - name: optional follow-up
    severity: warning
    needs: [optional probe]
    request: { url: "http://ADDR/items" }
"#;
    let run = run_suite(addr, warn_only, &[]).await;
    assert_eq!(run.code, 0, "{}", run.all_output());
}

/// A redirect that was not followed shows where it points (a 302 where a 401 was expected is
/// a login page, not an auth check), escaped; after followed redirects the address is shown
/// beside the hop that reached it (issue 10, item 8).
#[tokio::test(flavor = "multi_thread")]
async fn redirects_show_where_they_point_and_which_hop_was_reached() {
    let (addr, _) = serve().await;
    let suite = r#"
name: redirects
cases:
  - name: protected route
    request: { url: "http://ADDR/moved" }
    expect: { status: 401 }
  - name: followed
    request: { url: "http://ADDR/same-host", follow_redirects: true }
    expect: { status: 201 }
"#;
    let run = run_suite(addr, suite, &[]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    assert!(
        run.stdout.contains("location: /login?next=%2Fadmin\\tx"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains('\t'),
        "no raw control character reaches the console"
    );
    let step = &run.case("protected route")["steps"][0];
    assert_eq!(step["response"]["location"], "/login?next=%2Fadmin\\tx");
    let reached = format!("reached:  http://{addr}/echo → {addr} (address via literal)");
    assert!(run.stdout.contains(&reached), "{}", run.stdout);
    assert!(
        run.stdout
            .contains(&format!("request:  GET http://{addr}/same-host\n")),
        "the first URL is not shown with the last hop's address:\n{}",
        run.stdout
    );
}
