//! The assertion language of issue 13 end to end, against an in-process axum server on
//! loopback: several values (header values and JSONPath node lists: count, nth, any/all/none,
//! length), negations (`not`, status not/not_in), severity per expectation, dates and
//! freshness (and JSON Schema formats), numbers, and regex captures from headers. Each
//! feature has a passing case and a failing one whose failure text is asserted.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use serde_json::Value;

use crate::common::{smokegate, write_suite, Run};

/// The health envelope: repeated headers, dates relative to now, numbers written as the
/// JSON text says (an integer beyond 64 bits, `1.0`).
fn health() -> impl IntoResponse {
    let now = chrono::Utc::now();
    let two_hours_ago = now - chrono::Duration::hours(2);
    let body = format!(
        r#"{{"ok": true, "data": {{"status": "degraded", "environment": "staging"}},
 "timestamp": "{ts}", "stale": "{stale}", "build_date": "2020-01-15", "unix": {unix},
 "items": [{{"id": 1, "tags": ["a", "b"], "price": 5}}, {{"id": 2, "tags": [], "price": 12}}],
 "name": "smokegate", "big": 123456789012345678901234567890, "float_one": 1.0,
 "int_one": 1, "min": 5, "contact": "ops@example.test",
 "id": "6f1c2a52-7d0e-4b4a-9a8e-3f1b2c4d5e6f", "docs": "https://docs.example.test/x"}}"#,
        ts = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        stale = two_hours_ago.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        unix = now.timestamp(),
    );
    let mut h = HeaderMap::new();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    h.append("set-cookie", HeaderValue::from_static("theme=dark; Path=/"));
    h.append(
        "set-cookie",
        HeaderValue::from_static("sid=abc123XYZ; HttpOnly; Path=/"),
    );
    h.append("x-tag", HeaderValue::from_static("one"));
    h.append("x-tag", HeaderValue::from_static("two"));
    h.insert("x-remaining", HeaderValue::from_static("42"));
    h.insert("x-env", HeaderValue::from_static("staging"));
    let lm = two_hours_ago
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    h.insert("last-modified", HeaderValue::from_str(&lm).unwrap());
    (h, body)
}

async fn serve() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let app = Router::new()
        .route("/health", get(|| async { health() }))
        .route(
            "/counted",
            get(move || {
                let c = counted.clone();
                async move {
                    c.fetch_add(1, Ordering::SeqCst);
                    health()
                }
            }),
        )
        .route(
            "/status/{code}",
            get(|Path(code): Path<u16>| async move { StatusCode::from_u16(code).unwrap() }),
        )
        .route(
            "/bad-formats",
            get(|| async {
                axum::Json(serde_json::json!({
                    "timestamp": "yesterday", "contact": "not-an-email",
                    "id": "1234", "docs": "no scheme"
                }))
            }),
        )
        .route(
            "/echo-session",
            get(|h: HeaderMap| async move {
                let s = h
                    .get("x-session")
                    .map(|v| v.to_str().unwrap_or("").to_string());
                axum::Json(serde_json::json!({ "session": s }))
            }),
        );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.ok() });
    (addr, hits)
}

async fn run(addr: std::net::SocketAddr, suite: &str, extra: &[String]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let s = write_suite(
        dir.path(),
        "assertions.yaml",
        &suite.replace("ADDR", &addr.to_string()),
    );
    let mut args = vec!["run".to_string(), s];
    args.extend(extra.iter().cloned());
    smokegate(&args, &[]).await
}

/// The message of case `name`.
fn message(r: &Run, name: &str) -> String {
    r.case(name)["message"].as_str().unwrap_or("").to_string()
}

/// Every named case failed with exactly this message.
fn assert_messages(r: &Run, want: &[(&str, &str)]) {
    for (case, msg) in want {
        assert_eq!(
            r.case(case)["status"],
            "failed",
            "{case}: {}",
            r.all_output()
        );
        assert_eq!(&message(r, case), msg, "{case}: {}", r.stdout);
    }
}

fn assert_all_passed(r: &Run) {
    assert_eq!(r.code, 0, "{}", r.all_output());
    for c in r.json.as_ref().unwrap()["cases"].as_array().unwrap() {
        assert_eq!(c["status"], "passed", "{c}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn several_values_pass_with_quantifiers_counts_nth_and_lengths() {
    let (addr, _) = serve().await;
    let r = run(
        addr,
        r#"name: several
cases:
  - name: headers
    request: { url: "http://ADDR/health" }
    expect:
      headers:
        x-tag: two
        set-cookie: { count: 2, any: { matches: "^sid=" }, all: { matches: "Path=/" }, none: { contains: Secure } }
        x-remaining: { nth: -1, gte: 10, equals: 42, one_of: [41, 42], not_equals: 7 }
        x-env: { length: { gte: 3, lte: 10 } }
  - name: nodes
    request: { url: "http://ADDR/health" }
    expect:
      jsonpath:
        - { path: "$.items[*].price", count: { gte: 2, lte: 5 }, any: { gt: 10 }, none: { lt: 0 } }
        - { path: "$.items[*].id", nth: -1, equals: 2 }
        - { path: "$.items[0].tags", length: 2 }
        - { path: $.name, length: { gte: 3, lt: 64 } }
        - { path: "$.items[*].tags", all: { type: array } }
        - { path: "$.items[*].tags", contains: a, nth: 0 }
"#,
        &[],
    )
    .await;
    assert_all_passed(&r);
}

#[tokio::test(flavor = "multi_thread")]
async fn several_values_fail_naming_the_value_that_broke_them() {
    let (addr, _) = serve().await;
    let r = run(
        addr,
        r#"name: several-fail
cases:
  - name: header all
    request: { url: "http://ADDR/health" }
    expect: { headers: { x-tag: { all: { equals: one } } } }
  - name: sensitive header
    request: { url: "http://ADDR/health" }
    expect: { headers: { set-cookie: { all: { matches: "^sid=" } } } }
  - name: header count
    request: { url: "http://ADDR/health" }
    expect: { headers: { set-cookie: { count: { gte: 3 } } } }
  - name: header nth
    request: { url: "http://ADDR/health" }
    expect: { headers: { x-tag: { nth: 2, equals: one } } }
  - name: nodes any
    request: { url: "http://ADDR/health" }
    expect: { jsonpath: [ { path: "$.items[*].price", any: { gt: 100 } } ] }
  - name: nodes none
    request: { url: "http://ADDR/health" }
    expect: { jsonpath: [ { path: "$.items[*].price", none: { gt: 10 } } ] }
  - name: length
    request: { url: "http://ADDR/health" }
    expect: { jsonpath: [ { path: "$.items[0].tags", length: { gte: 3 } } ] }
  - name: count bounds
    request: { url: "http://ADDR/health" }
    expect: { jsonpath: [ { path: "$.items[*]", count: { lte: 1 } } ] }
  - name: nth
    request: { url: "http://ADDR/health" }
    expect: { jsonpath: [ { path: "$.items[*].id", nth: 5, equals: 1 } ] }
  - name: every value by default
    request: { url: "http://ADDR/health" }
    expect: { jsonpath: [ { path: "$.items[*].price", lt: 10 } ] }
"#,
        &[],
    )
    .await;
    assert_eq!(r.code, 1);
    assert_messages(
        &r,
        &[
            (
                "header all",
                r#"header `x-tag`: all: value 2 of 2: expected "one", got "two""#,
            ),
            (
                "sensitive header",
                "header `set-cookie`: all: value 1 of 2: [REDACTED] does not match /^sid=/",
            ),
            (
                "header count",
                "header `set-cookie`: expected count gte 3, got 2 value(s)",
            ),
            (
                "header nth",
                "header `x-tag`: no value at index 2: the header has 2 value(s)",
            ),
            (
                "nodes any",
                "$.items[*].price: any: none of the 2 values satisfies gt 100",
            ),
            (
                "nodes none",
                "$.items[*].price: none: expected no value gt 10, got 12 (value 2 of 2)",
            ),
            (
                "length",
                r#"$.items[0].tags: length of ["a","b"] is 2, expected gte 3"#,
            ),
            (
                "count bounds",
                "$.items[*]: expected count lte 1, got 2 matches",
            ),
            (
                "nth",
                "$.items[*].id: no value at index 5: the path selects 2 value(s)",
            ),
            (
                "every value by default",
                "$.items[*].price: 12 is not lt 10",
            ),
        ],
    );
    // Expected and actual are reported beside the message, with the entry's line.
    let o = &r.case("nodes none")["steps"][0]["expectations"][1];
    assert_eq!(o["expected"], "no value gt 10", "{o}");
    assert_eq!(o["actual"], "[5, 12]", "{o}");
    assert_eq!(o["line"], 20, "{o}");
    assert!(
        r.stdout
            .contains("✗ $.items[*].price: none: expected no value gt 10, got 12 (value 2 of 2)"),
        "{}",
        r.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn negations_hold_and_fail_with_what_was_refused() {
    let (addr, _) = serve().await;
    let r = run(
        addr,
        r#"name: negations
cases:
  - name: negations hold
    request: { url: "http://ADDR/health" }
    expect:
      status: { not: [500, "4xx"] }
      headers:
        x-env: { not: { equals: production } }
        set-cookie: { none: { matches: "(?i)secure" } }
      jsonpath:
        - { path: $.data.status, not: { one_of: [down, failing] } }
        - { path: "$.items[*].price", not: { gt: 100 } }
        - { path: $.name, not: { length: 0 } }
  - name: status not in holds
    request: { url: "http://ADDR/status/204" }
    expect: { status: { not_in: [500, 502, 503] } }
"#,
        &[],
    )
    .await;
    assert_all_passed(&r);
    let r = run(
        addr,
        r#"name: negations-fail
cases:
  - name: status not
    request: { url: "http://ADDR/status/503" }
    expect: { status: { not: "5xx" } }
  - name: status not in
    request: { url: "http://ADDR/status/502" }
    expect: { status: { not_in: [500, 502] } }
  - name: jsonpath not
    request: { url: "http://ADDR/health" }
    expect: { jsonpath: [ { path: $.data.status, not: { equals: degraded } } ] }
  - name: header not
    request: { url: "http://ADDR/health" }
    expect: { headers: { x-env: { not: { matches: "^stag" } } } }
  - name: header none
    request: { url: "http://ADDR/health" }
    expect: { headers: { x-tag: { none: { equals: two } } } }
"#,
        &[],
    )
    .await;
    assert_eq!(r.code, 1);
    assert_messages(
        &r,
        &[
            ("status not", "expected status not 5xx, got 503"),
            ("status not in", "expected status not 500 nor 502, got 502"),
            (
                "jsonpath not",
                r#"$.data.status: expected not (== "degraded"), got "degraded""#,
            ),
            (
                "header not",
                r#"header `x-env`: expected not (matches /^stag/), got "staging""#,
            ),
            (
                "header none",
                r#"header `x-tag`: none: expected no value == "two", got "two" (value 2 of 2)"#,
            ),
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_warning_expectation_lets_the_case_pass_with_warnings_on_one_request() {
    let (addr, hits) = serve().await;
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    let html = dir.path().join("report.html");
    let suite = r#"name: sev
cases:
  - name: soft health
    request: { url: "http://ADDR/counted" }
    expect:
      jsonpath:
        - { path: $.ok, equals: true }
        - { path: $.data.status, equals: healthy, severity: warning }
      headers:
        x-env: { equals: production, severity: warning }
"#;
    let r = run(
        addr,
        suite,
        &[
            "--report-html".into(),
            html.display().to_string(),
            "--verbose".into(),
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_eq!(hits.load(Ordering::SeqCst), 1, "one response, judged once");
    let case = r.case("soft health");
    assert_eq!(case["status"], "passed");
    assert_eq!(
        case["warnings"],
        serde_json::json!([
            "header `x-env`: expected = \"production\", got staging",
            "$.data.status: expected \"healthy\", got \"degraded\""
        ])
    );
    let outcomes = case["steps"][0]["expectations"].as_array().unwrap();
    let warned: Vec<&Value> = outcomes
        .iter()
        .filter(|o| o["severity"] == "warning")
        .collect();
    assert_eq!(warned.len(), 2, "{outcomes:#?}");
    assert!(warned.iter().all(|o| o["passed"] == false));
    assert_eq!(r.json.as_ref().unwrap()["counts"]["warnings"], 1);
    // Console: the case line and each warning, marked apart from failures.
    assert!(
        r.stdout.contains("PASS  sev › soft health")
            && r.stdout
                .contains("[passed with 2 warning(s): does not block]"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(
            "⚠ warning (does not block): $.data.status: expected \"healthy\", got \"degraded\""
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("(1 non-blocking warning)"),
        "{}",
        r.stdout
    );
    // JUnit: a passing testcase whose output lists the warnings.
    let junit = r.junit.as_deref().unwrap();
    assert!(!junit.contains("<failure"), "{junit}");
    assert!(
        junit.contains("⚠ warning (does not block): header `x-env`"),
        "{junit}"
    );
    // HTML: the row says so and the details are there.
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("passed with 2 warning(s): does not block"),
        "{page}"
    );
    assert!(page.contains("⚠ warning (does not block)"), "{page}");

    // GitHub: `::warning` annotations at each expectation, and a table in the job summary.
    let file = write_suite(
        dir.path(),
        "sev.yaml",
        &suite.replace("ADDR", &addr.to_string()),
    );
    let gh = smokegate(
        &["run".into(), file],
        &[
            ("GITHUB_ACTIONS".into(), "true".into()),
            ("GITHUB_STEP_SUMMARY".into(), summary.display().to_string()),
            ("GITHUB_WORKSPACE".into(), dir.path().display().to_string()),
        ],
    )
    .await;
    assert_eq!(gh.code, 0, "{}", gh.all_output());
    assert!(
        gh.stdout.lines().any(|l| l.starts_with(
            "::warning file=sev.yaml,line=8,title=smokegate%3A sev › soft health::$.data.status: expected \"healthy\", got \"degraded\""
        )),
        "{}",
        gh.stdout
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("### Passed with warnings"), "{md}");
    assert!(md.contains("✅ PASSED"), "{md}");

    // A blocking failure still fails the case; the warning is listed beside it, and the
    // step's message counts only the blocking failures.
    let r = run(
        addr,
        r#"name: sev-hard
cases:
  - name: hard failure
    request: { url: "http://ADDR/counted" }
    expect:
      jsonpath:
        - { path: $.ok, equals: false }
        - { path: $.data.status, equals: healthy, severity: warning }
"#,
        &[],
    )
    .await;
    assert_eq!(r.code, 1, "{}", r.all_output());
    assert_eq!(
        message(&r, "hard failure"),
        "$.ok: expected false, got true"
    );
    assert_eq!(
        r.case("hard failure")["warnings"][0],
        "$.data.status: expected \"healthy\", got \"degraded\""
    );
    assert!(
        r.stdout.contains("✗ $.ok: expected false, got true"),
        "{}",
        r.stdout
    );
    assert_eq!(hits.load(Ordering::SeqCst), 3, "one request per run");
}

/// `warn:` makes any expectation a warning (status, body, latency, headers…), judged on the
/// same response; without `status` inside, it checks no status.
#[tokio::test(flavor = "multi_thread")]
async fn a_warn_block_turns_any_expectation_into_a_warning() {
    let (addr, hits) = serve().await;
    let r = run(
        addr,
        r#"name: warn-block
cases:
  - name: soft
    request: { url: "http://ADDR/counted" }
    expect:
      jsonpath: [ { path: $.ok, equals: true } ]
      warn:
        status: 201
        body: { contains: [healthy] }
        max_latency: 30s
  - name: hard
    request: { url: "http://ADDR/status/503" }
    expect:
      status: 503
      warn: { max_latency: 30s }
"#,
        &[],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert_eq!(r.case("soft")["status"], "passed");
    assert_eq!(
        r.case("soft")["warnings"],
        serde_json::json!([
            "expected status 201, got 200",
            "body does not contain \"healthy\""
        ])
    );
    let hard = r.case("hard");
    assert_eq!(hard["status"], "passed", "{hard}");
    assert!(
        hard.get("warnings").is_none(),
        "no implicit 2xx in warn: {hard}"
    );
    assert!(
        r.stdout
            .contains("⚠ warning (does not block): expected status 201, got 200"),
        "{}",
        r.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn dates_and_freshness_and_schema_formats() {
    let (addr, _) = serve().await;
    let r = run(
        addr,
        r#"name: dates
cases:
  - name: fresh
    request: { url: "http://ADDR/health" }
    expect:
      headers:
        last-modified: { date: http, older_than: 1h, newer_than: 1d }
      jsonpath:
        - { path: $.timestamp, date: rfc3339, newer_than: 10m }
        - { path: $.build_date, date: date, older_than: 30d, before: "${gen.timestamp}", after: "2019-12-31" }
        - { path: $.unix, date: unix, newer_than: 1m }
      schema:
        inline:
          type: object
          properties:
            timestamp: { type: string, format: date-time }
            contact: { type: string, format: email }
            id: { type: string, format: uuid }
            docs: { type: string, format: uri }
"#,
        &[],
    )
    .await;
    assert_all_passed(&r);
    let r = run(
        addr,
        r#"name: dates-fail
vars: { cutoff: "2030-01-01T00:00:00Z" }
cases:
  - name: stale
    request: { url: "http://ADDR/health" }
    expect: { jsonpath: [ { path: $.stale, newer_than: 10m } ] }
  - name: old build
    request: { url: "http://ADDR/health" }
    expect: { jsonpath: [ { path: $.build_date, newer_than: 30d } ] }
  - name: not a date
    request: { url: "http://ADDR/health" }
    expect: { jsonpath: [ { path: $.name, date: rfc3339 } ] }
  - name: after a templated date
    request: { url: "http://ADDR/health" }
    expect: { jsonpath: [ { path: $.build_date, after: "${cutoff}" } ] }
  - name: stale header
    request: { url: "http://ADDR/health" }
    expect: { headers: { last-modified: { newer_than: 5m } } }
  - name: formats
    request: { url: "http://ADDR/bad-formats" }
    expect:
      schema:
        inline:
          type: object
          properties:
            timestamp: { type: string, format: date-time }
            contact: { type: string, format: email }
            id: { type: string, format: uuid }
            docs: { type: string, format: uri }
"#,
        &[],
    )
    .await;
    assert_eq!(r.code, 1);
    let m = message(&r, "stale");
    assert!(
        m.starts_with("$.stale: \"")
            && m.contains(" is 2h")
            && m.ends_with(" old, expected newer than 10m"),
        "{m}"
    );
    let m = message(&r, "old build");
    assert!(
        m.starts_with("$.build_date: \"2020-01-15\" is ")
            && m.ends_with(" old, expected newer than 30d"),
        "{m}"
    );
    assert_eq!(
        message(&r, "not a date"),
        "$.name: \"smokegate\" is not an RFC 3339 date-time"
    );
    assert_eq!(
        message(&r, "after a templated date"),
        "$.build_date: \"2020-01-15\" is not after 2030-01-01T00:00:00Z"
    );
    let m = message(&r, "stale header");
    assert!(
        m.starts_with("header `last-modified`: \"") && m.ends_with(" old, expected newer than 5m"),
        "{m}"
    );
    let m = message(&r, "formats");
    for part in [
        r#"at /timestamp: value is not a "date-time""#,
        r#"at /contact: value is not a "email""#,
        r#"at /id: value is not a "uuid""#,
        r#"at /docs: value is not a "uri""#,
    ] {
        assert!(m.contains(part), "{part} in {m}");
    }

    // A format no validator knows is a configuration error, not a check silently skipped.
    let dir = tempfile::tempdir().unwrap();
    let s = write_suite(
        dir.path(),
        "typo.yaml",
        "name: typo\ncases:\n  - name: c\n    request: { url: \"http://127.0.0.1:9/\" }\n    expect:\n      schema: { inline: { properties: { t: { format: datetime } } } }\n",
    );
    let v = smokegate(&["validate".into(), s], &[]).await;
    assert_eq!(v.code, 2, "{}", v.all_output());
    assert!(
        v.stderr.contains("unknown format `datetime`") && v.stderr.contains("typo.yaml:6:"),
        "{}",
        v.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn numbers_integers_of_any_size_and_templated_bounds() {
    let (addr, _) = serve().await;
    let r = run(
        addr,
        r#"name: numbers
cases:
  - name: numbers
    steps:
      - name: read min
        request: { url: "http://ADDR/health" }
        capture: { min: { jsonpath: $.min } }
      - name: compare
        request: { url: "http://ADDR/health" }
        expect:
          jsonpath:
            - { path: $.int_one, type: integer }
            - { path: $.float_one, type: number, equals: 1 }
            - { path: $.big, type: integer, equals: "123456789012345678901234567890", gt: "123456789012345678901234567889" }
            - { path: "$.items[*].price", gte: "${min}" }
          # JSON Schema's own meaning: 1.0 is an integer there.
          schema: { inline: { properties: { float_one: { type: integer } } } }
"#,
        &[],
    )
    .await;
    assert_all_passed(&r);
    let r = run(
        addr,
        r#"name: numbers-fail
cases:
  - name: float is not integer
    request: { url: "http://ADDR/health" }
    expect: { jsonpath: [ { path: $.float_one, type: integer } ] }
  - name: big integer compared exactly
    request: { url: "http://ADDR/health" }
    expect: { jsonpath: [ { path: $.big, gt: "123456789012345678901234567890" } ] }
  - name: templated bound
    steps:
      - name: read
        request: { url: "http://ADDR/health" }
        capture: { min: { jsonpath: $.min }, label: { jsonpath: $.name } }
      - name: above min
        request: { url: "http://ADDR/health" }
        expect: { jsonpath: [ { path: "$.items[0].price", gt: "${min}" } ] }
  - name: bound that is not a number
    steps:
      - name: read
        request: { url: "http://ADDR/health" }
        capture: { label: { jsonpath: $.name } }
      - name: compare
        request: { url: "http://ADDR/health" }
        expect: { jsonpath: [ { path: $.min, gt: "${label}" } ] }
"#,
        &[],
    )
    .await;
    assert_eq!(r.code, 1);
    assert_messages(
        &r,
        &[
            (
                "float is not integer",
                "$.float_one: expected integer, got number",
            ),
            (
                "big integer compared exactly",
                "$.big: 123456789012345678901234567890 is not gt 123456789012345678901234567890",
            ),
            (
                "templated bound",
                "step `above min`: $.items[0].price: 5 is not gt 5",
            ),
            (
                "bound that is not a number",
                "step `compare`: $.min: ${label} is \"smokegate\", not a number",
            ),
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_regex_capture_picks_one_cookie_out_of_set_cookie() {
    let (addr, _) = serve().await;
    let r = run(
        addr,
        r#"name: captures
cases:
  - name: session flows
    steps:
      - name: log in
        request: { url: "http://ADDR/health" }
        capture: { sid: { header: set-cookie, regex: "^sid=([^;]+)" } }
      - name: use it
        request: { url: "http://ADDR/echo-session", headers: { X-Session: "${sid}" } }
        expect: { jsonpath: [ { path: $.session, equals: abc123XYZ } ] }
  - name: no such cookie
    request: { url: "http://ADDR/health" }
    capture: { csrf: { header: set-cookie, regex: "^csrf=([^;]+)" } }
  - name: no such header
    request: { url: "http://ADDR/health" }
    capture: { csrf: { header: x-csrf, regex: "(.+)" } }
"#,
        &[],
    )
    .await;
    assert_eq!(r.code, 1, "{}", r.all_output());
    assert_eq!(r.case("session flows")["status"], "passed", "{}", r.stdout);
    assert_messages(
        &r,
        &[
            (
                "no such cookie",
                "capture `csrf`: none of the 2 value(s) of header `set-cookie` matches /^csrf=([^;]+)/",
            ),
            ("no such header", "capture `csrf`: no header `x-csrf`"),
        ],
    );
}

/// Mistakes in the new keys are configuration errors at their position, found before anything
/// is sent.
#[tokio::test(flavor = "multi_thread")]
async fn mistakes_in_assertions_are_reported_at_their_position() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write_suite(
        dir.path(),
        "bad.yaml",
        r#"name: bad
cases:
  - name: a
    request: { url: "http://127.0.0.1:9/" }
    expect:
      status: {}
      headers:
        x-a: { any: {} }
      jsonpath:
        - { path: $.a, before: soon }
        - { path: $.b, not: { type: strng } }
        - { path: $.c, count: { gte: x } }
"#,
    );
    let r = smokegate(&["validate".into(), bad], &[]).await;
    assert_eq!(r.code, 2, "{}", r.all_output());
    // A misspelt key inside a header rule or a status rule is named, not "no variant matched".
    let typo = write_suite(
        dir.path(),
        "typo.yaml",
        "name: t\ncases:\n  - name: a\n    request: { url: \"http://127.0.0.1:9/\" }\n    expect:\n      headers:\n        x-a: { nwer_than: 1h }\n  - name: b\n    request: { url: \"http://127.0.0.1:9/\" }\n    expect:\n      status: { nott: 500 }\n",
    );
    let t = smokegate(&["validate".into(), typo], &[]).await;
    assert_eq!(t.code, 2, "{}", t.all_output());
    assert!(
        t.stderr
            .contains("unknown field `nwer_than`, expected one of equals")
            && t.stderr.contains("typo.yaml:7:16"),
        "{}",
        t.stderr
    );
    assert!(
        t.stderr
            .contains("unknown field `nott`, expected one of not, not_in")
            && t.stderr.contains("typo.yaml:11:17"),
        "{}",
        t.stderr
    );
    for (at, what) in [
        ("bad.yaml:6:15", "status rule needs `not` or `not_in`"),
        (
            "bad.yaml:8:14",
            "header `x-a`: `any` needs at least one predicate",
        ),
        (
            "bad.yaml:10:11",
            "before: `soon` is not a date, expected RFC 3339",
        ),
        ("bad.yaml:11:11", "unknown type `strng`"),
        ("bad.yaml:12:11", "`gte` expects a number or a template"),
    ] {
        let i = r
            .stderr
            .find(what)
            .unwrap_or_else(|| panic!("{what}: {}", r.stderr));
        assert!(r.stderr[i..].contains(at), "{what} at {at}: {}", r.stderr);
    }
    for (text, at, what) in [
        (
            "newer_than: 10",
            "7:36",
            "age `10` has no unit: write e.g. `10m`, `10h` or `10d`",
        ),
        (
            "date: iso",
            "7:30",
            "unknown variant `iso`, expected one of rfc3339, date, http, unix, unix_ms, any",
        ),
        (
            "length: { gtee: 1 }",
            "7:34",
            "unknown field `gtee`, expected one of equals, not_equals",
        ),
        ("count: -1", "7:31", "a size cannot be negative: -1"),
    ] {
        let s = write_suite(
            dir.path(),
            "bad2.yaml",
            &format!("name: bad2\ncases:\n  - name: a\n    request: {{ url: \"http://127.0.0.1:9/\" }}\n    expect:\n      jsonpath:\n        - {{ path: $.a, {text} }}\n"),
        );
        let r = smokegate(&["validate".into(), s], &[]).await;
        assert_eq!(r.code, 2, "{}", r.all_output());
        assert!(
            r.stderr.contains(what) && r.stderr.contains(&format!("bad2.yaml:{at}")),
            "{text}: {}",
            r.stderr
        );
    }
}
