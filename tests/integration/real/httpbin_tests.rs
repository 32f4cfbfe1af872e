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
    request: {{ url: "{auth}", headers: {{ Authorization: "Basic dTpw" }} }}
    expect: {{ status: 200, jsonpath: [{{ path: $.authenticated, equals: true }}, {{ path: $.user, equals: u }}] }}
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
        auth = u("/basic-auth/u/p"),
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
    assert!(took.as_millis() < 2900, "took {took:?}");
}
