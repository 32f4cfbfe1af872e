//! Issue 12 "Responses": smokegate decodes `Content-Encoding` itself. A loopback server of
//! our own (a real socket) serves what httpbin cannot: zstd, stacked codings, a compression
//! bomb, a corrupt stream, an unknown coding, and what `Accept-Encoding` arrived.

use std::io::Write;
use std::net::SocketAddr;

use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::common::{smokegate, write_suite, Run};

const JSON: &str = r#"{"ok":true,"service":"encoded","note":"hello from the encoded body"}"#;

/// `data` gzip-encoded (also used by `body_checks`).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        w.write_all(data).unwrap();
    }
    out
}

/// A gzip bomb: `members` concatenated gzip members of 1 MiB of zeros each (about 1 KiB
/// each on the wire).
fn bomb(members: usize) -> Vec<u8> {
    gzip(&vec![0u8; 1 << 20]).repeat(members)
}

fn encoded(coding: &'static str, body: Vec<u8>) -> axum::response::Response {
    (
        [
            (header::CONTENT_ENCODING, coding),
            (header::CONTENT_TYPE, "application/json"),
        ],
        body,
    )
        .into_response()
}

/// The server: one route per kind of encoded body.
pub async fn server() -> SocketAddr {
    let zstd_body = zstd::encode_all(JSON.as_bytes(), 3).unwrap();
    let stacked = brotli(&gzip(JSON.as_bytes()));
    let bomb = bomb(64);
    let mut corrupt = gzip(JSON.repeat(20).as_bytes());
    corrupt.truncate(corrupt.len() / 2);
    let app = axum::Router::new()
        .route(
            "/zstd",
            get(move || {
                let b = zstd_body.clone();
                async move { encoded("zstd", b) }
            }),
        )
        .route(
            "/stacked",
            get(move || {
                let b = stacked.clone();
                async move { encoded("gzip, br", b) }
            }),
        )
        .route(
            "/bomb",
            get(move || {
                let b = bomb.clone();
                async move { encoded("gzip", b) }
            }),
        )
        .route(
            "/corrupt",
            get(move || {
                let b = corrupt.clone();
                async move { encoded("gzip", b) }
            }),
        )
        .route(
            "/unknown",
            get(|| async { encoded("compress", b"\x1f\x9d\x90data".to_vec()) }),
        )
        .route(
            "/accept",
            get(|h: HeaderMap| async move {
                h.get(header::ACCEPT_ENCODING)
                    .map(|v| format!("accept-encoding=[{}]", v.to_str().unwrap_or("?")))
                    .unwrap_or_else(|| "accept-encoding absent".into())
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    addr
}

async fn run(suite: &str, extra: &[&str]) -> (Run, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = write_suite(dir.path(), "encoding.yaml", suite);
    let mut args = vec!["run".to_string(), path, "--timeout".into(), "10s".into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    (smokegate(&args, &[]).await, dir)
}

fn step<'a>(r: &'a Run, case: &str) -> &'a serde_json::Value {
    &r.case(case)["steps"][0]
}

#[tokio::test]
async fn zstd_and_stacked_codings_are_decoded_and_both_sizes_reported() {
    let addr = server().await;
    let suite = format!(
        r#"name: encoding
cases:
  - name: zstd
    request: {{ url: "http://{addr}/zstd" }}
    expect:
      body: {{ contains: ["hello from the encoded body"] }}
      jsonpath: [{{ path: $.service, equals: encoded }}]
  - name: stacked
    request: {{ url: "http://{addr}/stacked" }}
    expect:
      jsonpath: [{{ path: $.ok, equals: true }}]
  - name: default accept-encoding
    request: {{ url: "http://{addr}/accept" }}
    expect:
      body: {{ contains: ["accept-encoding=[gzip, deflate, br, zstd]"] }}
  - name: own accept-encoding
    request: {{ url: "http://{addr}/accept", headers: {{ Accept-Encoding: identity }} }}
    expect:
      body: {{ contains: ["accept-encoding=[identity]"] }}
  - name: wrong text in a zstd body
    request: {{ url: "http://{addr}/zstd" }}
    expect:
      body: {{ contains: ["goodbye"] }}
"#
    );
    let (r, _d) = run(&suite, &[]).await;
    assert_eq!(r.code, 1, "{}", r.all_output());
    for ok in [
        "zstd",
        "stacked",
        "default accept-encoding",
        "own accept-encoding",
    ] {
        assert_eq!(r.case(ok)["status"], "passed", "{ok}: {}", r.all_output());
    }
    let s = step(&r, "zstd");
    assert_eq!(s["response"]["content_encoding"], "zstd", "{s}");
    assert_eq!(s["response"]["decoded"], true, "{s}");
    assert_eq!(s["response"]["body_bytes"], JSON.len(), "{s}");
    let wire = s["response"]["wire_bytes"].as_u64().unwrap();
    assert!(wire > 0 && wire != JSON.len() as u64, "{s}");
    assert_eq!(
        step(&r, "stacked")["response"]["content_encoding"],
        "gzip, br"
    );
    let s = step(&r, "wrong text in a zstd body");
    assert_eq!(s["status"], "failed", "{s}");
    assert_eq!(
        s["expectations"][1]["message"], "body does not contain \"goodbye\"",
        "{s}"
    );
    // The console names both sizes of a failing step's encoded body.
    let line = format!("({} bytes, {wire} on the wire as zstd)", JSON.len());
    assert!(r.stdout.contains(&line), "{line} in:\n{}", r.stdout);
}

#[tokio::test]
async fn a_bomb_a_corrupt_stream_and_an_unknown_coding_are_errors_in_words() {
    let addr = server().await;
    let suite = format!(
        r#"name: encoding
cases:
  - name: bomb
    request: {{ url: "http://{addr}/bomb" }}
  - name: corrupt
    request: {{ url: "http://{addr}/corrupt" }}
  - name: unknown
    request: {{ url: "http://{addr}/unknown" }}
  - name: unknown, not decoded
    request: {{ url: "http://{addr}/unknown", decompress: false }}
    expect:
      headers: {{ content-encoding: compress }}
  - name: bomb, not decoded
    request: {{ url: "http://{addr}/bomb", decompress: false }}
"#
    );
    let (r, _d) = run(&suite, &["--max-body", "1000000"]).await;
    assert_eq!(r.code, 1, "{}", r.all_output());
    let s = step(&r, "bomb");
    assert_eq!(s["status"], "error", "{s}");
    assert_eq!(s["error"]["kind"], "body-too-large", "{s}");
    let wire = bomb(64).len();
    assert_eq!(
        s["error"]["message"],
        format!("the decoded body exceeds the 1000000-byte limit (--max-body): {wire} bytes of `gzip` on the wire decode to more; decoding stopped at the limit"),
        "{s}"
    );
    let s = step(&r, "corrupt");
    assert_eq!(s["status"], "error", "{s}");
    assert_eq!(s["error"]["kind"], "decode", "{s}");
    let m = s["error"]["message"].as_str().unwrap();
    assert!(
        m.starts_with("the body is not valid `gzip` data (") && m.contains("truncated"),
        "{m}"
    );
    let s = step(&r, "unknown");
    assert_eq!(s["error"]["kind"], "decode", "{s}");
    assert_eq!(
        s["error"]["message"],
        "unknown Content-Encoding `compress` (smokegate decodes gzip, deflate, br and zstd); set `decompress: false` on the request to check the raw bytes"
    );
    assert_eq!(r.case("unknown, not decoded")["status"], "passed");
    let s = step(&r, "unknown, not decoded");
    assert_eq!(s["response"]["decoded"], false, "{s}");
    assert_eq!(s["response"]["content_encoding"], "compress", "{s}");
    // Not decoded, the bomb is its wire bytes: small, and a pass.
    let s = step(&r, "bomb, not decoded");
    assert_eq!(s["status"], "passed", "{s}");
    assert_eq!(s["response"]["body_bytes"], wire, "{s}");
    assert!(
        r.stdout
            .contains("error:    decode — unknown Content-Encoding `compress`"),
        "{}",
        r.stdout
    );
}

#[tokio::test]
async fn the_wire_bytes_are_bounded_too() {
    let addr = server().await;
    let suite = format!(
        "name: encoding\ncases:\n  - name: bomb\n    request: {{ url: \"http://{addr}/bomb\" }}\n"
    );
    // 64 KiB on the wire, more than the limit before any decoding.
    let (r, _d) = run(&suite, &["--max-body", "10000"]).await;
    let s = step(&r, "bomb");
    assert_eq!(s["error"]["kind"], "body-too-large", "{s}");
    assert_eq!(
        s["error"]["message"],
        "response body exceeds the 10000-byte limit (--max-body) on the wire, still `gzip`-encoded"
    );
}
