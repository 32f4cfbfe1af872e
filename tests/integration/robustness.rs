//! A hostile or broken server cannot crash or hang a run: hangs, huge bodies, invalid
//! UTF-8 / JSON, garbage instead of HTTP, redirect loops, and the global deadline.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::common::{smokegate, write_suite};

#[derive(Clone, Copy)]
enum Behaviour {
    Hang,
    Huge,
    BadUtf8,
    Garbage,
    RedirectLoop,
}

/// A raw TCP server misbehaving on purpose (bounded: at most 64 connections).
async fn hostile(b: Behaviour) -> std::net::SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        for _ in 0..64 {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                match b {
                    Behaviour::Hang => tokio::time::sleep(Duration::from_secs(60)).await,
                    Behaviour::Huge => {
                        let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 104857600\r\ncontent-type: application/json\r\n\r\n").await;
                        let chunk = vec![b'x'; 65536];
                        for _ in 0..1600 {
                            if s.write_all(&chunk).await.is_err() {
                                return;
                            }
                        }
                    }
                    Behaviour::BadUtf8 => {
                        let body = b"{\"ok\": \xff\xfe\xfd";
                        let head = format!("HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: {}\r\ncontent-type: application/json\r\n\r\n", body.len());
                        let _ = s.write_all(head.as_bytes()).await;
                        let _ = s.write_all(body).await;
                    }
                    Behaviour::Garbage => {
                        let _ = s.write_all(b"THIS IS NOT HTTP AT ALL\r\n\r\n").await;
                    }
                    Behaviour::RedirectLoop => {
                        let to = if req.starts_with("GET /a") {
                            "/b"
                        } else {
                            "/a"
                        };
                        let head = format!("HTTP/1.1 302 Found\r\nlocation: {to}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
                        let _ = s.write_all(head.as_bytes()).await;
                    }
                }
            });
        }
    });
    addr
}

async fn run_one(
    addr: std::net::SocketAddr,
    case_yaml: &str,
    extra: &[&str],
) -> crate::common::Run {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "name: hostile\ncases:\n{}",
        case_yaml.replace("ADDR", &addr.to_string())
    );
    let s = write_suite(dir.path(), "hostile.yaml", &text);
    let mut args = vec!["run".to_string(), s];
    args.extend(extra.iter().map(|s| s.to_string()));
    smokegate(&args, &[]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn hanging_server_times_out_as_an_error() {
    let addr = hostile(Behaviour::Hang).await;
    let t = Instant::now();
    let run = run_one(
        addr,
        "  - name: hang\n    request:\n      url: http://ADDR/health\n      timeout: 500ms\n",
        &[],
    )
    .await;
    assert!(t.elapsed() < Duration::from_secs(20));
    assert_eq!(run.code, 1);
    let c = run.case("hang");
    assert_eq!(c["status"], "error");
    assert_eq!(c["steps"][0]["error"]["kind"], "timeout");
    assert!(
        run.stdout.contains("no complete response within 500 ms"),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn huge_body_is_cut_off_at_the_limit() {
    let addr = hostile(Behaviour::Huge).await;
    let run = run_one(
        addr,
        "  - name: huge\n    request:\n      url: http://ADDR/\n",
        &["--max-body", "1048576"],
    )
    .await;
    assert_eq!(run.code, 1);
    let c = run.case("huge");
    assert_eq!(c["status"], "error");
    assert_eq!(c["steps"][0]["error"]["kind"], "body-too-large");
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_utf8_and_json_fail_with_the_cause() {
    let addr = hostile(Behaviour::BadUtf8).await;
    let run = run_one(
        addr,
        "  - name: bad json\n    request:\n      url: http://ADDR/\n    expect:\n      jsonpath:\n        - { path: $.ok, equals: true }\n",
        &[],
    )
    .await;
    assert_eq!(run.code, 1);
    assert_eq!(run.case("bad json")["status"], "failed");
    assert!(
        run.stdout.contains("body is not valid JSON"),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn garbage_instead_of_http_is_a_protocol_error() {
    let addr = hostile(Behaviour::Garbage).await;
    let run = run_one(
        addr,
        "  - name: garbage\n    request:\n      url: http://ADDR/\n",
        &[],
    )
    .await;
    assert_eq!(run.code, 1);
    let c = run.case("garbage");
    assert_eq!(c["status"], "error", "{c:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn redirect_loops_are_detected() {
    let addr = hostile(Behaviour::RedirectLoop).await;
    let run = run_one(
        addr,
        "  - name: loop\n    request:\n      url: http://ADDR/a\n      follow_redirects: true\n",
        &[],
    )
    .await;
    assert_eq!(run.code, 1);
    let c = run.case("loop");
    assert_eq!(c["steps"][0]["error"]["kind"], "redirect");
    assert!(run.stdout.contains("redirect loop"), "{}", run.stdout);
    // Not followed by default: the 302 itself is judged (and fails the implicit 2xx).
    let run = run_one(
        addr,
        "  - name: no follow\n    request:\n      url: http://ADDR/a\n",
        &[],
    )
    .await;
    assert!(
        run.stdout.contains("expected status 2xx, got 302"),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deadline_reports_unfinished_checks_as_errors() {
    let addr = hostile(Behaviour::Hang).await;
    let t = Instant::now();
    let run = run_one(
        addr,
        "  - name: slow one\n    request:\n      url: http://ADDR/one\n  - name: slow two\n    request:\n      url: http://ADDR/two\n",
        &["--deadline", "1s", "--timeout", "30s"],
    )
    .await;
    assert!(t.elapsed() < Duration::from_secs(15), "deadline respected");
    assert_eq!(run.code, 1);
    let json = run
        .json
        .as_ref()
        .expect("report written despite the deadline");
    assert_eq!(json["cancelled"], "deadline-exceeded");
    for name in ["slow one", "slow two"] {
        let c = run.case(name);
        assert_eq!(c["status"], "error");
        assert!(c["message"].as_str().unwrap().contains("deadline exceeded"));
    }
    assert!(run.junit.unwrap().contains("deadline exceeded"));
}

/// A request that times out still says where it connected and how that address was chosen
/// (issue 10, item 7: the record was dropped with the timed-out request).
#[tokio::test(flavor = "multi_thread")]
async fn a_timed_out_request_keeps_its_connection_record() {
    let addr = hostile(Behaviour::Hang).await;
    let port = addr.port();
    let run = run_one(
        addr,
        &format!(
            "  - name: hang\n    request:\n      url: http://hang.test:{port}/health\n      timeout: 400ms\n"
        ),
        &["--resolve", &format!("hang.test:{port}:127.0.0.1")],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let req = &run.case("hang")["steps"][0]["request"];
    assert_eq!(run.case("hang")["steps"][0]["error"]["kind"], "timeout");
    assert_eq!(req["resolved_by"], "override", "{req}");
    assert_eq!(req["connected_to"], addr.to_string(), "{req}");
    assert!(
        run.stdout.contains("address via override"),
        "{}",
        run.stdout
    );
}

/// Issue 10 item 4: a deadline that expires mid-case keeps the steps that finished as they
/// ended, names the step that was running, and reports the rest as not run.
#[tokio::test(flavor = "multi_thread")]
async fn a_deadline_mid_case_keeps_finished_steps_and_names_the_running_one() {
    use axum::routing::get;
    let app = axum::Router::new()
        .route("/fast", get(|| async { "ok" }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(20)).await;
                "late"
            }),
        );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    let run = run_one(
        addr,
        "  - name: login flow\n    steps:\n      - name: health\n        request: { url: http://ADDR/fast }\n      - name: login\n        request: { url: http://ADDR/slow }\n      - name: profile\n        request: { url: http://ADDR/fast }\n",
        &["--deadline", "1s", "--timeout", "30s"],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let c = run.case("login flow");
    assert_eq!(c["status"], "error");
    let msg = c["message"].as_str().unwrap();
    assert!(msg.contains("deadline exceeded"), "{msg}");
    assert!(msg.contains("during step `login`"), "{msg}");
    let steps = c["steps"].as_array().unwrap();
    assert_eq!(steps[0]["status"], "passed", "{c:#}");
    assert_eq!(steps[0]["response"]["status"], 200, "its response is kept");
    assert_eq!(steps[1]["status"], "error");
    let m = steps[1]["message"].as_str().unwrap();
    assert!(
        m.contains("did not finish") && m.contains("running for"),
        "{m}"
    );
    assert_eq!(steps[2]["status"], "skipped");
    assert!(
        run.stdout.contains("login") && run.stdout.contains("did not finish"),
        "{}",
        run.stdout
    );
}

/// Review fix: a redirect followed to a server that never answers reports the address of
/// that last hop, not the first one's.
#[tokio::test(flavor = "multi_thread")]
async fn a_timeout_after_a_redirect_reports_the_hop_that_timed_out() {
    use axum::routing::get;
    let hang = hostile(Behaviour::Hang).await;
    let target = format!("http://hang.test:{}/x", hang.port());
    let app = axum::Router::new().route(
        "/go",
        get(move || {
            let target = target.clone();
            async move { axum::response::Redirect::to(&target) }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let first = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    let run = run_one(
        first,
        "  - name: hop\n    request:\n      url: http://ADDR/go\n      follow_redirects: true\n      timeout: 800ms\n",
        &["--resolve", &format!("hang.test:{}:127.0.0.1", hang.port())],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let req = &run.case("hop")["steps"][0]["request"];
    assert_eq!(req["connected_to"], hang.to_string(), "{req}");
    assert_eq!(req["resolved_by"], "override", "{req}");
    assert!(
        run.stdout.contains(&format!(
            "reached:  http://hang.test:{}/x → {hang}",
            hang.port()
        )),
        "{}",
        run.stdout
    );
}
