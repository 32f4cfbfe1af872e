//! smokegate against httpbin under gunicorn: statuses, redirects, timeouts, auth, echoes.

use std::time::Instant;

use super::httpbin::Httpbin;
use super::{args, error_message, run_suite, step};

#[tokio::test]
async fn status_redirects_auth_headers_and_json() {
    let bin = Httpbin::start();
    let u = |p: &str| bin.url(p);
    let suite = format!(
        r#"name: real-httpbin
cases:
  - name: unavailable
    request: {{ url: "{s503}" }}
    expect: {{ status: 200 }}
  - name: followed
    request: {{ url: "{r3}", follow_redirects: true }}
    expect: {{ status: 200, jsonpath: [{{ path: $.url, matches: "/get$" }}] }}
  - name: not followed
    request: {{ url: "{r3}" }}
    expect: {{ status: 302, headers: {{ location: /relative-redirect/2 }} }}
  - name: too few hops allowed
    request: {{ url: "{r3}", follow_redirects: 2 }}
  - name: basic auth
    request: {{ url: "{auth}", headers: {{ Authorization: "Basic c21va2U6czNjcmV0LXBhc3M=" }} }}
    expect: {{ status: 200, jsonpath: [{{ path: $.authenticated, equals: true }}, {{ path: $.user, equals: smoke }}] }}
  - name: basic auth missing
    request: {{ url: "{auth}" }}
    expect: {{ status: 401 }}
  - name: headers echo
    request: {{ url: "{headers}", headers: {{ X-Smoke-Run: "${{gen.run_id}}" }} }}
    expect:
      jsonpath:
        - {{ path: "$.headers['X-Smoke-Run']", equals: "${{gen.run_id}}" }}
        - {{ path: "$.headers.Host", equals: "127.0.0.1:{port}" }}
  - name: json
    request: {{ url: "{json}" }}
    expect:
      headers: {{ content-type: application/json }}
      jsonpath:
        - {{ path: $.slideshow.author, equals: Yours Truly }}
        - {{ path: "$.slideshow.slides[*].title", count: 2 }}
        - {{ path: "$.slideshow.slides[*].type", equals: all }}
"#,
        s503 = u("/status/503"),
        r3 = u("/redirect/3"),
        auth = u("/basic-auth/smoke/s3cret-pass"),
        headers = u("/headers"),
        json = u("/json"),
        port = bin.port,
    );
    let r = run_suite(&suite, &[]).await;
    assert_eq!(r.code, 1, "{}\nhttpbin:\n{}", r.all_output(), bin.log());
    for ok in [
        "followed",
        "not followed",
        "basic auth",
        "basic auth missing",
        "headers echo",
        "json",
    ] {
        assert_eq!(r.case(ok)["status"], "passed", "{ok}: {}", r.all_output());
    }
    let s = step(&r, "unavailable");
    assert_eq!(s["status"], "failed", "{s}");
    assert_eq!(s["response"]["status"], 503);
    assert_eq!(s["message"], "expected status 200, got 503", "{s}");
    let redirects = step(&r, "followed")["request"]["redirects"]
        .as_array()
        .expect("redirects listed")
        .len();
    assert_eq!(redirects, 3, "{}", step(&r, "followed"));
    let s = step(&r, "too few hops allowed");
    assert_eq!(s["status"], "error", "{s}");
    assert_eq!(s["error"]["kind"], "redirect", "{s}");
    assert_eq!(r.json.as_ref().unwrap()["counts"]["passed"], 6);
}

#[tokio::test]
async fn slow_response_is_a_timeout_error() {
    let bin = Httpbin::start();
    let suite = format!(
        "name: real-delay\ncases:\n  - name: slow\n    request: {{ url: \"{}\" }}\n",
        bin.url("/delay/3")
    );
    let start = Instant::now();
    let r = run_suite(&suite, &args(&["--timeout", "1s"])).await;
    let took = start.elapsed();
    assert_eq!(r.code, 1, "{}", r.all_output());
    let s = step(&r, "slow");
    assert_eq!(s["status"], "error", "{s}");
    assert_eq!(s["error"]["kind"], "timeout", "{s}");
    assert_eq!(
        s["request"]["connected_to"],
        format!("127.0.0.1:{}", bin.port)
    );
    assert!(s.get("response").is_none(), "{s}");
    assert!(!error_message(&r, "slow").is_empty());
    // Cut at the 1 s timeout, not after the 3 s delay (wall time includes process start).
    assert!(s["duration_ms"].as_u64().unwrap() < 2500, "{s}");
    assert!(took.as_secs() < 10, "took {took:?}");
}

#[tokio::test]
async fn redirects_drop_credentials_across_hosts_and_bodies_are_bounded() {
    let bin = Httpbin::start();
    let p = bin.port;
    let suite = format!(
        r#"name: real-httpbin-redirects
defaults:
  headers: {{ Authorization: "Bearer ${{tok}}" }}
cases:
  - name: other host
    request:
      url: "http://a.tminus.test:{p}/redirect-to?url=http%3A%2F%2Fb.tminus.test%3A{p}%2Fheaders"
      headers: {{ X-Kept: "yes" }}
      follow_redirects: true
    expect:
      jsonpath:
        - {{ path: $.headers.Authorization, exists: false }}
        - {{ path: "$.headers['X-Kept']", equals: "yes" }}
        - {{ path: $.headers.Host, equals: "b.tminus.test:{p}" }}
  - name: same host
    request: {{ url: "http://a.tminus.test:{p}/redirect-to?url=%2Fheaders", follow_redirects: true }}
    expect: {{ jsonpath: [{{ path: $.headers.Authorization, equals: "Bearer ${{tok}}" }}] }}
  - name: post then 303
    request:
      method: POST
      url: "http://a.tminus.test:{p}/redirect-to?url=%2Fget&status_code=303"
      json: {{ a: 1 }}
      follow_redirects: true
    expect: {{ jsonpath: [{{ path: $.url, equals: "http://a.tminus.test:{p}/get" }}] }}
  - name: post then 307
    request:
      method: POST
      url: "http://a.tminus.test:{p}/redirect-to?url=%2Fpost&status_code=307"
      json: {{ a: 1 }}
      follow_redirects: true
    expect: {{ jsonpath: [{{ path: $.json.a, equals: 1 }}] }}
  - name: too big
    request: {{ url: "http://a.tminus.test:{p}/bytes/65536" }}
"#
    );
    let mut a = args(&[
        "--secret",
        "tok=smoke-token-1234",
        "--max-body",
        "10000",
        "--resolve",
    ]);
    a.push(format!("*.tminus.test:{p}:127.0.0.1"));
    let r = run_suite(&suite, &a).await;
    assert_eq!(r.code, 1, "{}\nhttpbin:\n{}", r.all_output(), bin.log());
    for ok in ["other host", "same host", "post then 303", "post then 307"] {
        assert_eq!(r.case(ok)["status"], "passed", "{ok}: {}", r.all_output());
    }
    let s = step(&r, "too big");
    assert_eq!(s["status"], "error", "{s}");
    assert_eq!(s["error"]["kind"], "body-too-large", "{s}");
    assert!(error_message(&r, "too big").contains("--max-body"), "{s}");
    // The secret reached httpbin (same host) and was echoed back, yet no output shows it.
    assert!(
        !r.all_output().contains("smoke-token-1234"),
        "{}",
        r.all_output()
    );
}
