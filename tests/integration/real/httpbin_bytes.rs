//! Issue 12: the bytes of requests and responses against httpbin under gunicorn — gzip,
//! deflate and brotli bodies decoded by smokegate, `decompress: false`, and what httpbin
//! echoes of the request smokegate sent.

use super::httpbin::Httpbin;
use super::nginx::{Nginx, BIG_JSON};
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

/// Multipart bodies, repeated query/form fields and headers, a body from a file, and every
/// method, as httpbin's parsers understand them.
#[tokio::test]
async fn multipart_repeated_fields_body_files_and_methods() {
    let bin = Httpbin::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("data/hello.txt"), "hello file\n").unwrap();
    std::fs::write(
        dir.path().join("data/payload.json"),
        r#"{"from": "file", "n": 3}"#,
    )
    .unwrap();
    let u = |p: &str| bin.url(p);
    let suite = format!(
        r#"name: httpbin-requests
cases:
  - name: multipart
    request:
      method: POST
      url: "{post}"
      multipart:
        title: "Release ${{v}}"
        tags: [alpha, beta]
        upload: {{ file: data/hello.txt }}
    expect:
      jsonpath:
        - {{ path: $.form.title, equals: "Release 1.10" }}
        - {{ path: $.form.tags, equals: [alpha, beta] }}
        - {{ path: $.files.upload, equals: "hello file\n" }}
        - {{ path: "$.headers['Content-Type']", matches: "^multipart/form-data; boundary=smokegate-" }}
  - name: repeated query form and headers
    request:
      method: POST
      url: "{anything}"
      query: {{ tag: [b, a, b], page: 1 }}
      form: {{ x: ["1", "2"], y: solo }}
      headers: {{ X-Multi: [one, two] }}
    expect:
      jsonpath:
        - {{ path: $.args.tag, equals: [b, a, b] }}
        - {{ path: $.args.page, equals: "1" }}
        - {{ path: $.form.x, equals: ["1", "2"] }}
        - {{ path: $.form.y, equals: solo }}
        - {{ path: "$.headers['X-Multi']", equals: "one,two" }}
  - name: body from a file
    request:
      method: PUT
      url: "{put}"
      headers: {{ Content-Type: application/json }}
      body_file: data/payload.json
    expect:
      jsonpath: [{{ path: $.json, equals: {{ from: file, n: 3 }} }}]
  - name: head reads no body
    request: {{ method: HEAD, url: "{get}" }}
    expect:
      status: 200
      headers: {{ content-length: {{ matches: "^[1-9]" }} }}
      body: {{ size: 0 }}
  - name: options
    request: {{ method: OPTIONS, url: "{get}" }}
    expect: {{ status: 200, headers: {{ allow: {{ contains: GET }} }} }}
  - name: patch
    request: {{ method: patch, url: "{patch}", json: {{ a: 1 }} }}
    expect: {{ jsonpath: [{{ path: $.json.a, equals: 1 }}] }}
  - name: delete
    request: {{ method: DELETE, url: "{delete}" }}
    expect: {{ jsonpath: [{{ path: $.url, equals: "{delete}" }}] }}
  - name: custom method
    request: {{ method: PURGE, url: "{anything}" }}
    expect: {{ status: 405 }}
  - name: order matters
    request:
      url: "{anything}"
      query: {{ tag: [b, a] }}
    expect:
      jsonpath: [{{ path: $.args.tag, equals: [a, b] }}]
"#,
        post = u("/post"),
        put = u("/put"),
        get = u("/get"),
        patch = u("/patch"),
        delete = u("/delete"),
        anything = u("/anything"),
    );
    let path = crate::common::write_suite(dir.path(), "requests.yaml", &suite);
    let mut args = vec!["run".to_string(), path, "--var".into(), "v=1.10".into()];
    args.extend(["--timeout".to_string(), "5s".to_string()]);
    let r = crate::common::smokegate(&args, &[]).await;
    assert_eq!(r.code, 1, "{}\nhttpbin:\n{}", r.all_output(), bin.log());
    for ok in [
        "multipart",
        "repeated query form and headers",
        "body from a file",
        "head reads no body",
        "options",
        "patch",
        "delete",
        "custom method",
    ] {
        assert_eq!(r.case(ok)["status"], "passed", "{ok}: {}", r.all_output());
    }
    let s = step(&r, "order matters");
    assert_eq!(s["status"], "failed", "{s}");
    assert_eq!(
        s["message"], "$.args.tag: expected [\"a\",\"b\"], got [\"b\",\"a\"]",
        "{s}"
    );
    assert_eq!(step(&r, "custom method")["request"]["method"], "PURGE");
}

/// nginx's own gzip filter: decoded, byte-exact, both sizes reported; `raw: true` sees the
/// gzip bytes.
#[tokio::test]
async fn nginx_gzip_is_decoded_byte_exact() {
    let ng = Nginx::start();
    let url = format!("http://127.0.0.1:{}/gzip", ng.plain);
    let suite = format!(
        r#"name: nginx-gzip
cases:
  - name: decoded
    request: {{ url: "{url}" }}
    expect:
      headers: {{ content-encoding: gzip }}
      body: {{ equals: '{BIG_JSON}', size: {len} }}
  - name: raw bytes are gzip
    request: {{ url: "{url}" }}
    expect:
      body: {{ raw: true, matches: "^\\x1f" }}
  - name: raw bytes are not the text
    request: {{ url: "{url}" }}
    expect:
      body: {{ raw: true, equals: '{BIG_JSON}' }}
"#,
        len = BIG_JSON.len(),
    );
    let r = run_suite(&suite, &[]).await;
    assert_eq!(r.code, 1, "{}\nnginx:\n{}", r.all_output(), ng.log());
    for ok in ["decoded", "raw bytes are gzip"] {
        assert_eq!(r.case(ok)["status"], "passed", "{ok}: {}", r.all_output());
    }
    let resp = &step(&r, "decoded")["response"];
    assert_eq!(resp["content_encoding"], "gzip", "{resp}");
    assert_eq!(resp["body_bytes"], BIG_JSON.len(), "{resp}");
    let s = step(&r, "raw bytes are not the text");
    let m = s["message"].as_str().unwrap();
    assert!(
        m.starts_with("body as received differs from the expected text: first difference at byte 0 (line 1, column 1)"),
        "{m}"
    );
}
