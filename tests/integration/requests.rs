//! Issue 12 "Requests": what smokegate puts on the wire — multipart parts with file names and
//! content types, repeated headers in order, a body file's exact bytes, custom methods —
//! checked byte for byte by an in-process echo server on loopback; and bad request fields
//! refused at load with their position.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method};
use axum::routing::any;

use crate::common::{smokegate, write_suite};

/// Echoes the method, the `x-multi` and `content-type` headers and the body, as text.
async fn echo_server() -> SocketAddr {
    let app = axum::Router::new().fallback(any(
        |method: Method, headers: HeaderMap, body: Bytes| async move {
            let multi: Vec<&str> = headers
                .get_all("x-multi")
                .iter()
                .map(|v| v.to_str().unwrap_or("?"))
                .collect();
            let ctype = headers
                .get("content-type")
                .map(|v| v.to_str().unwrap_or("?").to_string())
                .unwrap_or_default();
            let mut out = format!(
                "method={method}\nx-multi={}\ncontent-type={ctype}\n\n",
                multi.join("|")
            )
            .into_bytes();
            out.extend_from_slice(&body);
            out
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    addr
}

#[tokio::test]
async fn requests_carry_exactly_what_the_suite_says() {
    let addr = echo_server().await;
    let dir = tempfile::tempdir().unwrap();
    let blob: Vec<u8> = (0..=255u8).rev().collect();
    std::fs::write(dir.path().join("blob.bin"), &blob).unwrap();
    std::fs::write(dir.path().join("report.csv"), "a,b\n1,2\n").unwrap();
    let suite = format!(
        r#"name: requests
cases:
  - name: multipart
    request:
      method: POST
      url: "http://{addr}/upload"
      multipart:
        note: "first line\r\nsecond"
        csv: {{ file: report.csv }}
        blob: {{ file: blob.bin, filename: "renamed \"x\".bin", content_type: application/x-test }}
    expect:
      body:
        matches:
          - "content-type=multipart/form-data; boundary=smokegate-[0-9a-f]{{32}}\n"
          - "Content-Disposition: form-data; name=\"csv\"; filename=\"report.csv\"\r\nContent-Type: text/csv\r\n\r\na,b\n1,2\n\r\n"
          - "name=\"blob\"; filename=\"renamed %22x%22.bin\"\r\nContent-Type: application/x-test\r\n\r\n"
          - "Content-Disposition: form-data; name=\"note\"\r\n\r\nfirst line\r\nsecond\r\n"
  - name: repeated headers in order
    request:
      url: "http://{addr}/h"
      headers: {{ X-Multi: [three, one, two] }}
    expect:
      body: {{ contains: ["x-multi=three|one|two\n"] }}
  - name: body file bytes
    request:
      method: purge
      url: "http://{addr}/b"
      body_file: blob.bin
    expect:
      body: {{ contains: ["method=PURGE\n"], size: {size} }}
  - name: multipart credential echoed
    request:
      method: POST
      url: "http://{addr}/login"
      multipart: {{ user: smoke, password: Multi-Secret-Pass-9 }}
    expect:
      body: {{ contains: ["welcome"] }}
  - name: wrong order
    request:
      url: "http://{addr}/h"
      headers: {{ X-Multi: [one, two] }}
    expect:
      body: {{ contains: ["x-multi=two|one"] }}
"#,
        size = "method=PURGE\nx-multi=\ncontent-type=\n\n".len() + blob.len(),
    );
    let path = write_suite(dir.path(), "requests.yaml", &suite);
    let r = smokegate(&["run".to_string(), path], &[]).await;
    assert_eq!(r.code, 1, "{}", r.all_output());
    for ok in ["multipart", "repeated headers in order", "body file bytes"] {
        assert_eq!(r.case(ok)["status"], "passed", "{ok}: {}", r.all_output());
    }
    let s = &r.case("wrong order")["steps"][0];
    assert_eq!(
        s["message"], "body does not contain \"x-multi=two|one\"",
        "{s}"
    );
    // A multipart field named like a credential is a secret: the echo shows it masked.
    let all = r.all_output();
    assert!(!all.contains("Multi-Secret-Pass-9"), "{all}");
    let s = &r.case("multipart credential echoed")["steps"][0];
    let excerpt = s["response"]["body_excerpt"].as_str().unwrap();
    assert!(excerpt.contains("[REDACTED]"), "{excerpt}");
}

#[tokio::test]
async fn bad_request_bodies_are_refused_at_load_with_their_position() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("a-dir")).unwrap();
    let suite = r#"name: bad
cases:
  - name: missing body file
    request:
      url: "http://127.0.0.1:9/"
      body_file: nope.json
  - name: missing part file
    request:
      url: "http://127.0.0.1:9/"
      multipart:
        f: { file: missing.png }
  - name: two bodies
    request:
      url: "http://127.0.0.1:9/"
      body: x
      body_file: a-dir
  - name: a folder
    request:
      url: "http://127.0.0.1:9/"
      body_file: a-dir
"#;
    let path = write_suite(dir.path(), "bad.yaml", suite);
    let r = smokegate(&["validate".to_string(), path], &[]).await;
    assert_eq!(r.code, 2, "{}", r.all_output());
    for needle in [
        "bad.yaml:6:18",
        "body_file `",
        "nope.json` cannot be read: No such file or directory",
        "bad.yaml:11:12",
        "multipart field `f`: multipart file `",
        "bad.yaml:14:7",
        "a request takes one of `json`, `body`, `form`, `multipart` or `body_file`",
        "a-dir` is not a file",
    ] {
        assert!(r.stderr.contains(needle), "{needle} in:\n{}", r.stderr);
    }
    // A value of the wrong shape is a parse error at its position.
    let path = write_suite(
        dir.path(),
        "map.yaml",
        "name: bad\ncases:\n  - name: a\n    request:\n      url: \"http://127.0.0.1:9/\"\n      query: { q: { a: 1 } }\n",
    );
    let r = smokegate(&["validate".to_string(), path], &[]).await;
    assert_eq!(r.code, 2, "{}", r.all_output());
    for needle in [
        "map.yaml:6:19",
        "expected a text or a list of texts, got a map",
    ] {
        assert!(r.stderr.contains(needle), "{needle} in:\n{}", r.stderr);
    }
}
