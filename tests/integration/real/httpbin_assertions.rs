//! The assertion language (issue 13) against httpbin under gunicorn: a header the server
//! repeats (`/response-headers?k=v&k=w`), a JSON echo (`/anything`) for node lists, lengths and
//! freshness, and a status negation.

use super::httpbin::Httpbin;
use super::run_suite;

#[tokio::test]
async fn repeated_headers_node_lists_dates_and_negations_on_httpbin() {
    let bin = Httpbin::start();
    let suite = format!(
        r#"name: real-assertions
cases:
  - name: repeated headers
    request: {{ url: "{rh}" }}
    expect:
      headers:
        x-tag: {{ count: 2, all: {{ one_of: [a, b] }}, any: {{ equals: b }}, nth: 0, equals: a }}
        x-count: {{ gte: 5, lt: 10, not: {{ equals: "8" }} }}
  - name: echo
    request: {{ method: POST, url: "{anything}", json: {{ ts: "${{gen.timestamp}}", n: [1, 2, 3], ratio: 1.0 }} }}
    expect:
      status: {{ not_in: [500, "4xx"] }}
      jsonpath:
        - {{ path: $.json.ts, date: rfc3339, newer_than: 1m, after: "2026-01-01" }}
        - {{ path: $.json.n, length: 3 }}
        - {{ path: "$.json.n[*]", count: {{ gte: 3 }}, all: {{ type: integer }}, none: {{ gt: 3 }} }}
        - {{ path: $.json.ratio, type: number, equals: 1 }}
  - name: repeated headers fail
    request: {{ url: "{rh}" }}
    expect:
      headers:
        x-tag: {{ none: {{ equals: b }} }}
  - name: echo fail
    request: {{ method: POST, url: "{anything}", json: {{ n: [1, 2, 3] }} }}
    expect:
      jsonpath:
        - {{ path: "$.json.n[*]", any: {{ gt: 3 }} }}
  - name: status negation fails
    request: {{ url: "{s503}" }}
    expect: {{ status: {{ not: "5xx" }} }}
"#,
        rh = bin.url("/response-headers?x-tag=a&x-tag=b&x-count=7"),
        anything = bin.url("/anything"),
        s503 = bin.url("/status/503"),
    );
    let r = run_suite(&suite, &[]).await;
    assert_eq!(r.code, 1, "{}\nhttpbin:\n{}", r.all_output(), bin.log());
    for ok in ["repeated headers", "echo"] {
        assert_eq!(r.case(ok)["status"], "passed", "{ok}: {}", r.stdout);
    }
    for (case, msg) in [
        (
            "repeated headers fail",
            r#"header `x-tag`: none: expected no value == "b", got "b" (value 2 of 2)"#,
        ),
        (
            "echo fail",
            "$.json.n[*]: any: none of the 3 values satisfies gt 3",
        ),
        ("status negation fails", "expected status not 5xx, got 503"),
    ] {
        assert_eq!(r.case(case)["status"], "failed", "{case}: {}", r.stdout);
        assert_eq!(r.case(case)["message"], msg, "{case}: {}", r.stdout);
    }
}
