//! Issue 13 "Whole body" and "several body regexes": exact text and byte equality,
//! JSON-semantic equality (inline and from a file), size, SHA-256 and MD5, on the decoded body
//! or (`raw: true`) on the bytes as received — each passing and failing against an in-process
//! server on loopback, failures explained with expected, actual and the suite line.

use std::net::SocketAddr;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use md5::Md5;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::common::{smokegate, write_suite, Run};
use crate::encoding::gzip;

const TEXT: &str = "hello\nworld\n";
const JSON: &str = r#"{"b":[1,2.0,3e0],"a":{"n":1.50,"s":"x"},"big":10000000000000000001}"#;
const GZ_TEXT: &str = "compressed text, compressed text, compressed text";

fn binary() -> Vec<u8> {
    (0..=255u8).collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

async fn server() -> SocketAddr {
    let app = axum::Router::new()
        .route("/text", get(|| async { TEXT }))
        .route(
            "/json",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], JSON) }),
        )
        .route("/bin", get(|| async { binary() }))
        .route(
            "/gz",
            get(|| async {
                (
                    [(header::CONTENT_ENCODING, "gzip")],
                    gzip(GZ_TEXT.as_bytes()),
                )
                    .into_response()
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    addr
}

async fn run(dir: &tempfile::TempDir, suite: &str) -> Run {
    let path = write_suite(dir.path(), "body.yaml", suite);
    smokegate(&["run".to_string(), path], &[]).await
}

fn failures(r: &Run, case: &str) -> Vec<Value> {
    r.case(case)["steps"][0]["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["passed"] == false)
        .cloned()
        .collect()
}

fn files(dir: &tempfile::TempDir) {
    std::fs::write(dir.path().join("bin.dat"), binary()).unwrap();
    let mut other = binary();
    other[100] = 0;
    std::fs::write(dir.path().join("other.dat"), other).unwrap();
    std::fs::create_dir(dir.path().join("expected")).unwrap();
    std::fs::write(
        dir.path().join("expected/doc.json"),
        r#"{"a": {"s": "x", "n": 15e-1}, "big": 10000000000000000001, "b": [1, 2, 3]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("expected/near.json"),
        r#"{"a": {"s": "x", "n": 1.5}, "big": 10000000000000000000, "b": [1, 2, 3]}"#,
    )
    .unwrap();
}

#[tokio::test]
async fn whole_body_checks_pass() {
    let addr = server().await;
    let dir = tempfile::tempdir().unwrap();
    files(&dir);
    let bin = binary();
    let gz = gzip(GZ_TEXT.as_bytes());
    let suite = format!(
        r#"name: body
vars: {{ who: world }}
cases:
  - name: text
    request: {{ url: "http://{addr}/text" }}
    expect:
      body:
        equals: "hello\n${{who}}\n"
        matches: ["^hello", "world\\n$"]
        size: 12
        sha256: {text_sha}
        md5: {text_md5}
  - name: json
    request: {{ url: "http://{addr}/json" }}
    expect:
      body:
        json_equals: {{ big: 10000000000000000001, a: {{ s: "x", n: 1.5 }}, b: [1.0, 2, 3] }}
        size: {{ min: 10, max: 100 }}
  - name: json file
    request: {{ url: "http://{addr}/json" }}
    expect:
      body: {{ json_equals_file: expected/doc.json }}
  - name: bytes
    request: {{ url: "http://{addr}/bin" }}
    expect:
      body: {{ equals_file: bin.dat, size: 256, sha256: "{bin_sha}" }}
  - name: decoded
    request: {{ url: "http://{addr}/gz" }}
    expect:
      body: {{ equals: "{GZ_TEXT}", size: {gz_len}, md5: {gz_md5} }}
  - name: raw
    request: {{ url: "http://{addr}/gz" }}
    expect:
      body: {{ raw: true, size: {gz_wire}, sha256: {gz_sha}, not_contains: [compressed] }}
"#,
        text_sha = hex(&Sha256::digest(TEXT)),
        text_md5 = hex(&Md5::digest(TEXT)).to_uppercase(),
        bin_sha = hex(&Sha256::digest(&bin)),
        gz_len = GZ_TEXT.len(),
        gz_md5 = hex(&Md5::digest(GZ_TEXT)),
        gz_wire = gz.len(),
        gz_sha = hex(&Sha256::digest(&gz)),
    );
    let r = run(&dir, &suite).await;
    assert_eq!(r.code, 0, "{}", r.all_output());
    let checks: Vec<String> = r.case("raw")["steps"][0]["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["check"].as_str().unwrap().to_string())
        .collect();
    assert!(
        checks.contains(&format!("body as received size = {} bytes", gz.len())),
        "{checks:?}"
    );
}

#[tokio::test]
async fn whole_body_failures_explain_themselves() {
    let addr = server().await;
    let dir = tempfile::tempdir().unwrap();
    files(&dir);
    let suite = format!(
        r#"name: body
cases:
  - name: text
    request: {{ url: "http://{addr}/text" }}
    expect:
      body:
        equals: "hello\nwyrld\n"
        matches: ["^hello", "^world"]
        size: 13
        sha256: "0000000000000000000000000000000000000000000000000000000000000000"
        md5: "00000000000000000000000000000000"
  - name: json
    request: {{ url: "http://{addr}/json" }}
    expect:
      body:
        json_equals: {{ a: {{ s: "x", n: "1.5" }}, b: [1, 2, 3], big: 10000000000000000001 }}
        size: {{ max: 10 }}
  - name: json file
    request: {{ url: "http://{addr}/json" }}
    expect:
      body: {{ json_equals_file: expected/near.json }}
  - name: bytes
    request: {{ url: "http://{addr}/bin" }}
    expect:
      body: {{ equals_file: other.dat, size: {{ min: 300 }} }}
  - name: raw is not JSON
    request: {{ url: "http://{addr}/gz" }}
    expect:
      body: {{ raw: true, json_equals: {{ a: 1 }} }}
"#
    );
    let r = run(&dir, &suite).await;
    assert_eq!(r.code, 1, "{}", r.all_output());
    let f = failures(&r, "text");
    let msgs: Vec<&str> = f.iter().map(|o| o["message"].as_str().unwrap()).collect();
    assert_eq!(
        msgs,
        [
            "body does not match /^world/",
            "body differs from the expected text: first difference at byte 7 (line 2, column 2): expected \"hello\\nwyrld\\n\", got \"hello\\nworld\\n\" (both 12 bytes)",
            "body is 12 bytes, expected 13 bytes",
            &format!("body sha256 is {}, expected 0000000000000000000000000000000000000000000000000000000000000000 (12 bytes)", hex(&Sha256::digest(TEXT))),
            &format!("body md5 is {}, expected 00000000000000000000000000000000 (12 bytes)", hex(&Md5::digest(TEXT))),
        ],
        "{f:#?}"
    );
    // Each failure carries the suite line of its `body` key and expected/actual values.
    assert!(f.iter().all(|o| o["line"] == 7), "{f:#?}");
    assert_eq!(f[2]["expected"], "13 bytes");
    assert_eq!(f[2]["actual"], "12 bytes");
    let f = failures(&r, "json");
    assert_eq!(
        f[0]["message"],
        "body JSON differs from the expected document at $.a.n: expected \"1.5\", got 1.50"
    );
    assert_eq!(
        f[1]["message"],
        format!("body is {} bytes, expected at most 10 bytes", JSON.len())
    );
    let f = failures(&r, "json file");
    assert_eq!(
        f[0]["message"],
        "body JSON differs from `expected/near.json` at $.big: expected 10000000000000000000, got 10000000000000000001"
    );
    let f = failures(&r, "bytes");
    assert_eq!(
        f[0]["message"],
        "body differs from `other.dat`: first difference at byte 100: expected \"…LMNOPQRSTUVWXYZ[\\\\]^_`abc\\x00efghijklmnopqrstuvwxyz{…\", got \"…LMNOPQRSTUVWXYZ[\\\\]^_`abcdefghijklmnopqrstuvwxyz{…\" (both 256 bytes)"
    );
    assert!(
        f[0]["actual"].as_str().unwrap().starts_with(
            "256 bytes, sha256 40aff2e9d2d8922e47afd4648e6967497158785fbd1da870e7110266bf944880"
        ),
        "{f:#?}"
    );
    assert_eq!(
        f[1]["message"],
        "body is 256 bytes, expected at least 300 bytes"
    );
    let f = failures(&r, "raw is not JSON");
    let m = f[0]["message"].as_str().unwrap();
    assert!(m.starts_with("body is not valid JSON"), "{m}");
    // The console shows the failures with their expected and actual values.
    assert!(
        r.stdout
            .contains("✗ body JSON differs from the expected document at $.a.n"),
        "{}",
        r.stdout
    );
}

#[tokio::test]
async fn bad_whole_body_expectations_are_refused_with_their_position() {
    let dir = tempfile::tempdir().unwrap();
    let suite = r#"name: body
cases:
  - name: a
    request: { url: "http://127.0.0.1:9/" }
    expect:
      body:
        equals_file: missing.bin
        sha256: "abc"
        size: { min: 5, max: 2 }
  - name: b
    request: { url: "http://127.0.0.1:9/" }
    expect:
      body: { equals: x, equals_file: y }
"#;
    let path = write_suite(dir.path(), "bad.yaml", suite);
    let r = smokegate(&["validate".to_string(), path], &[]).await;
    assert_eq!(r.code, 2, "{}", r.all_output());
    for needle in [
        "bad.yaml:7:9",
        "body.equals_file: file `",
        "missing.bin` cannot be read",
        "body.sha256: `abc` is not a sha256 digest: expected 64 hex digits",
        "body.size: min 5 is above max 2",
        "bad.yaml:13:",
        "body: give one of `equals` and `equals_file`, not both",
    ] {
        assert!(r.stderr.contains(needle), "{needle} in:\n{}", r.stderr);
    }
}
