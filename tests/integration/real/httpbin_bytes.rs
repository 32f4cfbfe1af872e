//! Issue 12: the bytes of requests and responses against httpbin under gunicorn — gzip,
//! deflate and brotli bodies decoded by smokegate, `decompress: false`, and what httpbin
//! echoes of the request smokegate sent.

use super::httpbin::Httpbin;
use super::{run_suite, step};

#[tokio::test]
async fn gzip_deflate_and_brotli_bodies_are_decoded() {
    let bin = Httpbin::start();
    let u = |p: &str| bin.url(p);
    let suite = format!(
        r#"name: httpbin-encodings
cases:
  - name: gzip
    request: {{ url: "{gzip}" }}
    expect:
      jsonpath:
        - {{ path: $.gzipped, equals: true }}
        - {{ path: "$.headers['Accept-Encoding']", equals: "gzip, deflate, br, zstd" }}
  - name: deflate
    request: {{ url: "{deflate}" }}
    expect: {{ jsonpath: [{{ path: $.deflated, equals: true }}] }}
  - name: brotli
    request: {{ url: "{brotli}" }}
    expect: {{ jsonpath: [{{ path: $.brotli, equals: true }}] }}
  - name: gzip kept encoded
    request: {{ url: "{gzip}", decompress: false }}
    expect:
      headers: {{ content-encoding: gzip }}
      body: {{ not_contains: ["gzipped"] }}
  - name: gzip kept encoded is no JSON
    request: {{ url: "{gzip}", decompress: false }}
    expect: {{ jsonpath: [{{ path: $.gzipped, equals: true }}] }}
"#,
        gzip = u("/gzip"),
        deflate = u("/deflate"),
        brotli = u("/brotli"),
    );
    let r = run_suite(&suite, &[]).await;
    assert_eq!(r.code, 1, "{}\nhttpbin:\n{}", r.all_output(), bin.log());
    for (case, coding) in [("gzip", "gzip"), ("deflate", "deflate"), ("brotli", "br")] {
        assert_eq!(
            r.case(case)["status"],
            "passed",
            "{case}: {}",
            r.all_output()
        );
        let resp = &step(&r, case)["response"];
        assert_eq!(resp["content_encoding"], coding, "{resp}");
        assert_eq!(resp["decoded"], true, "{resp}");
        let (wire, body) = (resp["wire_bytes"].as_u64(), resp["body_bytes"].as_u64());
        assert!(wire.unwrap() < body.unwrap(), "{resp}");
    }
    assert_eq!(r.case("gzip kept encoded")["status"], "passed");
    let resp = &step(&r, "gzip kept encoded")["response"];
    assert_eq!(resp["decoded"], false, "{resp}");
    assert_eq!(resp["wire_bytes"], resp["body_bytes"], "{resp}");
    let s = step(&r, "gzip kept encoded is no JSON");
    assert_eq!(s["status"], "failed", "{s}");
    let m = s["message"].as_str().unwrap();
    assert!(m.contains("body is not valid JSON"), "{m}");
}
