//! `smokegate serve` as a real process on loopback: gates answered 200/412 with the JSON
//! report, the bearer token (never printed), 404/405/401, the concurrency bound (429),
//! request limits (413, 408, a slow client closed without blocking others), SIGTERM, and
//! the scripts standing in for Argo Rollouts and Flagger (tests/progressive/).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sample_deployment::{Fault, SampleDeployment};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

use crate::common::{root, smokegate, suite, validate_report, write_suite};

const TOKEN: &str = "serve-test-token-4f9d2a7c1e";

/// A running `smokegate serve` and everything it printed so far.
struct Server {
    child: tokio::process::Child,
    addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// Start `smokegate serve --listen 127.0.0.1:0 ARGS` and wait for its listening line.
    async fn start(args: &[String], env: &[(String, String)]) -> Server {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_smokegate"));
        cmd.arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(args);
        for var in ["http_proxy", "https_proxy", "all_proxy", "no_proxy"] {
            cmd.env_remove(var).env_remove(var.to_ascii_uppercase());
        }
        cmd.env("NO_COLOR", "1")
            .envs(env.iter().cloned())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("smokegate serve starts");
        let log = Arc::new(Mutex::new(String::new()));
        let out = child.stdout.take().unwrap();
        let err = child.stderr.take().unwrap();
        for pipe in [
            Box::new(out) as Box<dyn tokio::io::AsyncRead + Unpin + Send>,
            Box::new(err),
        ] {
            let log = log.clone();
            tokio::spawn(async move {
                let mut lines = tokio::io::BufReader::new(pipe).lines();
                while let Ok(Some(l)) = lines.next_line().await {
                    let mut g = log.lock().unwrap();
                    g.push_str(&l);
                    g.push('\n');
                }
            });
        }
        let mut addr = None;
        for _ in 0..600 {
            let text = log.lock().unwrap().clone();
            if let Some(rest) = text.split("listening on http://").nth(1) {
                let a = rest.split_whitespace().next().unwrap();
                addr = Some(a.parse().expect("an address"));
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("serve exited with {status}:\n{text}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let addr = addr.unwrap_or_else(|| {
            panic!("serve did not listen within 30 s:\n{}", log.lock().unwrap())
        });
        Server { child, addr, log }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Send SIGTERM and wait (bounded) for the exit code.
    async fn terminate(&mut self) -> i32 {
        let pid = self.child.id().expect("still running") as libc::pid_t;
        // SAFETY: kill(2) on the pid of our own child process.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .unwrap_or_else(|_| {
                panic!("serve did not exit within 30 s of SIGTERM:\n{}", self.log())
            })
            .expect("wait");
        // Let the readers take the last lines.
        tokio::time::sleep(Duration::from_millis(200)).await;
        status.code().unwrap_or(-1)
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

fn flagger_payload(extra_metadata: Value) -> Value {
    json!({
        "name": "podinfo",
        "namespace": "test",
        "phase": "Progressing",
        "checksum": "6d5c7b9f",
        "metadata": extra_metadata,
    })
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }
}

async fn send(req: reqwest::RequestBuilder) -> Answer {
    let r = req.send().await.expect("the server answers");
    Answer {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        body: r.text().await.unwrap(),
    }
}

#[tokio::test]
async fn gates_answer_200_or_412_with_the_json_report_and_only_to_the_token() {
    let ok = SampleDeployment::start(&[]).await.unwrap();
    let bad = SampleDeployment::start(&[Fault::CDatabaseError])
        .await
        .unwrap();
    let var = |d: &SampleDeployment, k: &str| {
        d.vars()
            .into_iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v)
            .unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let gates = dir.path().join("gates.yaml");
    std::fs::write(
        &gates,
        format!(
            "gates:\n  healthy:\n    suites: [{c}]\n  broken:\n    suites: [{c}]\n    vars:\n      api: {api}\n      storefront: {store}\n",
            c = suite("c-api-storefront.yaml"),
            api = var(&bad, "API_URL"),
            store = var(&bad, "STOREFRONT_URL"),
        ),
    )
    .unwrap();
    let mut env = ok.vars();
    env.push(("SMOKEGATE_SERVE_TOKEN".into(), TOKEN.into()));
    let mut server =
        Server::start(&["--gates-file".into(), gates.display().to_string()], &env).await;
    let c = client();
    let auth = format!("Bearer {TOKEN}");
    let mut bodies = String::new();

    // Healthy: 200, the JSON report of `run --report-json`, the webhook fields as metadata.
    let secret_meta = "metadata-value-never-shown-8c1";
    let a = send(
        c.post(server.url("/gates/healthy"))
            .header("authorization", &auth)
            .json(&flagger_payload(json!({ "cmd": secret_meta }))),
    )
    .await;
    bodies.push_str(&a.body);
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.header("x-smokegate-verdict"), "passed");
    assert_eq!(a.header("content-type"), "application/json");
    let report = a.json();
    validate_report(&report);
    assert_eq!(report["verdict"], "passed");
    assert_eq!(report["counts"]["passed"], 2);
    assert_eq!(report["metadata"]["gate"], "healthy");
    assert_eq!(report["metadata"]["webhook_name"], "podinfo");
    assert_eq!(report["metadata"]["webhook_namespace"], "test");
    assert_eq!(report["metadata"]["webhook_phase"], "Progressing");
    assert_eq!(report["metadata"]["webhook_metadata_keys"], "cmd");
    assert_eq!(a.header("x-smokegate-run-id"), report["run_id"]);
    // The same cases and results as `smokegate run` of the same suite.
    let run = smokegate(&["run".into(), suite("c-api-storefront.yaml")], &ok.vars()).await;
    let ids = |r: &Value| {
        r["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| format!("{} {}", c["id"], c["status"]))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&report), ids(run.json.as_ref().unwrap()));
    // A caller echoing the token in the payload does not get it printed or reported.
    let echo = send(
        c.post(server.url("/gates/healthy"))
            .header("authorization", &auth)
            .json(&json!({ "name": TOKEN, "phase": format!("x{TOKEN}y") })),
    )
    .await;
    bodies.push_str(&echo.body);
    assert_eq!(echo.status, 200, "{}", echo.body);
    assert!(echo.json()["metadata"]["webhook_name"].is_string());
    // Each request is its own run.
    let again = send(
        c.post(server.url("/gates/healthy"))
            .header("authorization", &auth),
    )
    .await;
    assert_eq!(again.status, 200);
    assert_ne!(again.json()["run_id"], report["run_id"]);

    // Broken: 412 with the report saying why.
    let b = send(
        c.post(server.url("/gates/broken"))
            .header("authorization", &auth)
            .json(&flagger_payload(json!({}))),
    )
    .await;
    bodies.push_str(&b.body);
    assert_eq!(b.status, 412, "{}", b.body);
    assert_eq!(b.header("x-smokegate-verdict"), "failed");
    let report = b.json();
    validate_report(&report);
    assert_eq!(report["verdict"], "failed");
    let health = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "api health")
        .unwrap();
    assert_eq!(health["status"], "failed");
    assert!(
        health.to_string().contains("database unhealthy"),
        "{health}"
    );

    // The list of gates, and the health probe (no token needed).
    let l = send(c.get(server.url("/gates")).header("authorization", &auth)).await;
    assert_eq!(l.status, 200);
    assert_eq!(l.json(), json!({ "gates": ["broken", "healthy"] }));
    let h = send(c.get(server.url("/healthz"))).await;
    assert_eq!((h.status, h.body.as_str()), (200, "ok\n"));

    // No token, a wrong one, a token in the payload (not accepted without
    // --accept-payload-token), another scheme: 401 with a Bearer challenge.
    for (req, error) in [
        (c.post(server.url("/gates/healthy")), false),
        (c.get(server.url("/gates")), false),
        (
            c.post(server.url("/gates/healthy"))
                .header("authorization", format!("Bearer {TOKEN}x")),
            true,
        ),
        (
            c.post(server.url("/gates/healthy"))
                .header("authorization", format!("Basic {TOKEN}")),
            true,
        ),
        (
            c.post(server.url("/gates/healthy"))
                .json(&flagger_payload(json!({ "token": TOKEN }))),
            false,
        ),
    ] {
        let r = send(req).await;
        bodies.push_str(&r.body);
        assert_eq!(r.status, 401, "{}", r.body);
        let challenge = r.header("www-authenticate");
        assert!(
            challenge.starts_with("Bearer realm=\"smokegate\""),
            "{challenge}"
        );
        assert_eq!(challenge.contains("invalid_token"), error, "{challenge}");
    }
    // Unknown gate (after the token), wrong method, unknown path.
    let n = send(
        c.post(server.url("/gates/nope"))
            .header("authorization", &auth),
    )
    .await;
    assert_eq!(n.status, 404, "{}", n.body);
    let m = send(
        c.get(server.url("/gates/healthy"))
            .header("authorization", &auth),
    )
    .await;
    assert_eq!((m.status, m.header("allow").as_str()), (405, "POST"));
    let p = send(c.get(server.url("/metrics"))).await;
    assert_eq!(p.status, 404);
    // Not a webhook payload.
    let j = send(
        c.post(server.url("/gates/healthy"))
            .header("authorization", &auth)
            .body("[1, 2"),
    )
    .await;
    assert_eq!(j.status, 400, "{}", j.body);

    assert_eq!(server.terminate().await, 0);
    let log = server.log();
    assert!(log.contains("serve: stopped"), "{log}");
    assert!(
        log.contains("POST /gates/healthy 200 gate healthy: passed"),
        "{log}"
    );
    assert!(
        log.contains("POST /gates/broken 412 gate broken: failed"),
        "{log}"
    );
    assert!(
        log.contains("webhook name=podinfo namespace=test phase=Progressing"),
        "{log}"
    );
    assert!(
        log.contains("401 (no token)") && log.contains("401 (wrong token)"),
        "{log}"
    );
    for (what, text) in [("the log", &log), ("the answers", &bodies)] {
        assert!(!text.contains(TOKEN), "the token is in {what}:\n{text}");
        assert!(
            !text.contains(secret_meta),
            "a metadata value is in {what}:\n{text}"
        );
    }
}

/// A loopback backend: `/ok` answers 200, `/broken` 500, `/slow` waits until released
/// (counting the requests it holds).
struct Backend {
    addr: SocketAddr,
    held: Arc<AtomicUsize>,
    release: tokio::sync::watch::Sender<bool>,
}

impl Backend {
    async fn start() -> Backend {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let held = Arc::new(AtomicUsize::new(0));
        let (release, rx) = tokio::sync::watch::channel(false);
        let h = held.clone();
        tokio::spawn(async move {
            for _ in 0..500 {
                let Ok((mut s, _)) = l.accept().await else {
                    return;
                };
                let (h, mut rx) = (h.clone(), rx.clone());
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16384 {
                        match tokio::time::timeout(Duration::from_secs(30), s.read(&mut buf)).await
                        {
                            Ok(Ok(n)) if n > 0 => head.extend_from_slice(&buf[..n]),
                            _ => return,
                        }
                    }
                    let text = String::from_utf8_lossy(&head).to_string();
                    let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
                    let status = match path.as_str() {
                        "/ok" => "200 OK",
                        "/slow" => {
                            h.fetch_add(1, Ordering::SeqCst);
                            let _ = tokio::time::timeout(
                                Duration::from_secs(60),
                                rx.wait_for(|released| *released),
                            )
                            .await;
                            "200 OK"
                        }
                        _ => "500 Internal Server Error",
                    };
                    let _ = s
                        .write_all(
                            format!("HTTP/1.1 {status}\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
                                .as_bytes(),
                        )
                        .await;
                });
            }
        });
        Backend {
            addr,
            held,
            release,
        }
    }

    /// Wait (bounded) until `n` requests are held at `/slow`.
    async fn wait_held(&self, n: usize) {
        for _ in 0..600 {
            if self.held.load(Ordering::SeqCst) >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{n} request(s) never reached /slow");
    }
}

/// Suites `ok`, `broken` and `slow` against the backend (`${base}`).
fn backend_suites(dir: &std::path::Path) -> Vec<String> {
    ["ok", "broken", "slow"]
        .iter()
        .map(|name| {
            let path = if *name == "broken" { "broken" } else { name };
            write_suite(
                dir,
                &format!("{name}.yaml"),
                &format!(
                    "name: {name}\ncases:\n  - name: {name} answers\n    request: {{ url: \"${{base}}/{path}\" }}\n    expect: {{ status: 200 }}\n"
                ),
            )
        })
        .collect()
}

/// Send raw bytes and read what comes back (bounded), as a hostile client would.
async fn raw(addr: SocketAddr, bytes: &[u8], hold: bool) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(bytes).await.unwrap();
    if !hold {
        let _ = s.shutdown().await;
    }
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out))
        .await
        .expect("the server answers or closes within 20 s");
    String::from_utf8_lossy(&out).to_string()
}

#[tokio::test]
async fn over_the_bound_is_429_slow_clients_do_not_block_and_sigterm_cuts_running_gates() {
    let backend = Backend::start().await;
    let dir = tempfile::tempdir().unwrap();
    let suites = backend_suites(dir.path());
    let env = vec![("SMOKEGATE_SERVE_TOKEN".to_string(), TOKEN.to_string())];
    let mut args: Vec<String> = vec![
        "--var".into(),
        format!("base=http://{}", backend.addr),
        "--header-timeout".into(),
        "1s".into(),
        "--body-timeout".into(),
        "1s".into(),
        "--max-request-body".into(),
        "1024".into(),
        "--retry-after".into(),
        "7".into(),
        "--accept-payload-token".into(),
    ];
    for (name, path) in ["ok", "broken", "slow"].iter().zip(&suites) {
        args.push("--gate".into());
        args.push(format!("{name}={path}"));
    }
    let mut server = Server::start(&args, &env).await;
    let c = client();
    let auth = format!("Bearer {TOKEN}");

    // A gate held at the backend takes the one run allowed.
    let slow = tokio::spawn(
        c.post(server.url("/gates/slow"))
            .header("authorization", &auth)
            .send(),
    );
    backend.wait_held(1).await;
    // A client that never finishes its headers, meanwhile.
    let slowloris = tokio::spawn(raw(
        server.addr,
        b"POST /gates/ok HTTP/1.1\r\nHost: gate.test\r\nAuthorization: Bear",
        true,
    ));
    // Over the bound: 429 at once, with Retry-After.
    let busy = send(
        c.post(server.url("/gates/ok"))
            .header("authorization", &auth),
    )
    .await;
    assert_eq!(busy.status, 429, "{}", busy.body);
    assert_eq!(busy.header("retry-after"), "7");
    // Others are still served: the health probe, a 404, a 401.
    assert_eq!(send(c.get(server.url("/healthz"))).await.status, 200);
    assert_eq!(
        send(
            c.post(server.url("/gates/none"))
                .header("authorization", &auth)
        )
        .await
        .status,
        404
    );
    // The slow client is closed after --header-timeout, without an answer.
    let answered = slowloris.await.unwrap();
    assert!(
        answered.is_empty() || answered.starts_with("HTTP/1.1 408"),
        "{answered}"
    );
    // A client that connects and sends nothing is closed after --header-timeout too.
    let silent = raw(server.addr, b"", true).await;
    assert!(
        silent.is_empty() || silent.starts_with("HTTP/1.1 408"),
        "{silent}"
    );
    // Headers over the 16 KiB bound: refused (431) or closed, never read on.
    let huge = raw(
        server.addr,
        format!(
            "POST /gates/ok HTTP/1.1\r\nHost: gate.test\r\nX-Pad: {}\r\n\r\n",
            "a".repeat(64 * 1024)
        )
        .as_bytes(),
        true,
    )
    .await;
    assert!(
        huge.is_empty() || huge.starts_with("HTTP/1.1 431"),
        "{huge}"
    );
    // A body over --max-request-body: 413 before it is read.
    let big = raw(
        server.addr,
        format!("POST /gates/ok HTTP/1.1\r\nHost: gate.test\r\nAuthorization: {auth}\r\nContent-Length: 1000000\r\n\r\n").as_bytes(),
        true,
    )
    .await;
    assert!(big.starts_with("HTTP/1.1 413"), "{big}");
    // A body that stops arriving: 408 after --body-timeout.
    let drip = raw(
        server.addr,
        format!("POST /gates/ok HTTP/1.1\r\nHost: gate.test\r\nAuthorization: {auth}\r\nContent-Length: 100\r\n\r\n{{\"na").as_bytes(),
        true,
    )
    .await;
    assert!(drip.starts_with("HTTP/1.1 408"), "{drip}");

    // Released: the held gate passes, and the bound frees.
    backend.release.send(true).unwrap();
    let r = slow.await.unwrap().unwrap();
    assert_eq!(r.status(), 200);
    let ok = send(
        c.post(server.url("/gates/ok"))
            .header("authorization", &auth),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let broken = send(
        c.post(server.url("/gates/broken"))
            .header("authorization", &auth),
    )
    .await;
    assert_eq!(broken.status, 412, "{}", broken.body);
    // The token in a Flagger payload, with --accept-payload-token.
    let p = send(
        c.post(server.url("/gates/ok"))
            .json(&flagger_payload(json!({ "token": TOKEN }))),
    )
    .await;
    assert_eq!(p.status, 200, "{}", p.body);
    let p = send(
        c.post(server.url("/gates/ok"))
            .json(&flagger_payload(json!({ "token": "not-the-token-at-all" }))),
    )
    .await;
    assert_eq!(p.status, 401, "{}", p.body);
    // A wrong Authorization header is refused even when the payload carries the token.
    let p = send(
        c.post(server.url("/gates/ok"))
            .header("authorization", "Bearer not-the-token-at-all")
            .json(&flagger_payload(json!({ "token": TOKEN }))),
    )
    .await;
    assert_eq!(p.status, 401, "{}", p.body);

    // SIGTERM while a gate runs: the run is cut as `run` cuts it, its report answered (412,
    // interrupted), and the server exits 0.
    backend.release.send(false).unwrap();
    let held = backend.held.load(Ordering::SeqCst);
    let cut = tokio::spawn(
        c.post(server.url("/gates/slow"))
            .header("authorization", &auth)
            .send(),
    );
    backend.wait_held(held + 1).await;
    assert_eq!(server.terminate().await, 0);
    let r = cut.await.unwrap().expect("the running gate is answered");
    assert_eq!(r.status(), 412);
    let report: Value = r.json().await.unwrap();
    validate_report(&report);
    assert_eq!(report["cancelled"], "interrupted", "{report}");
    let log = server.log();
    assert!(log.contains("SIGTERM: no longer accepting"), "{log}");
    assert!(log.contains("serve: stopped"), "{log}");
    assert!(!log.contains(TOKEN), "{log}");
}

#[tokio::test]
async fn max_concurrent_runs_that_many_gates_at_once_and_refuses_one_more() {
    let backend = Backend::start().await;
    let dir = tempfile::tempdir().unwrap();
    let suites = backend_suites(dir.path());
    let args: Vec<String> = vec![
        "--var".into(),
        format!("base=http://{}", backend.addr),
        "--max-concurrent".into(),
        "2".into(),
        "--gate".into(),
        format!("slow={}", suites[2]),
    ];
    let env = vec![("SMOKEGATE_SERVE_TOKEN".to_string(), TOKEN.to_string())];
    let mut server = Server::start(&args, &env).await;
    let c = client();
    let auth = format!("Bearer {TOKEN}");
    let post = || {
        c.post(server.url("/gates/slow"))
            .header("authorization", &auth)
            .send()
    };
    let (first, second) = (tokio::spawn(post()), tokio::spawn(post()));
    // Both run at once: both are held at the backend together.
    backend.wait_held(2).await;
    let third = send(
        c.post(server.url("/gates/slow"))
            .header("authorization", &auth),
    )
    .await;
    assert_eq!(third.status, 429, "{}", third.body);
    assert_eq!(third.header("retry-after"), "10");
    backend.release.send(true).unwrap();
    for r in [first, second] {
        assert_eq!(r.await.unwrap().unwrap().status(), 200);
    }
    assert_eq!(server.terminate().await, 0);
}

#[test]
fn serve_help_groups_its_options_and_hides_what_only_run_uses() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_smokegate"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for heading in [
        "\nServer:\n",
        "\nGates:\n",
        "\nAuthentication:\n",
        "\nLimits:\n",
        "\nVariables:\n",
        "\nDNS, TLS and proxies:\n",
    ] {
        assert!(help.contains(heading), "no {heading:?} in:\n{help}");
    }
    for hidden in [
        "--report-json",
        "--report-junit",
        "--shard",
        "--quiet",
        "--color",
    ] {
        assert!(!help.contains(hidden), "{hidden} in:\n{help}");
    }
    let top = std::process::Command::new(env!("CARGO_BIN_EXE_smokegate"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&top.stdout).contains("serve"));
}

#[tokio::test]
async fn serve_does_not_start_without_a_token_or_with_a_bad_gate() {
    let dir = tempfile::tempdir().unwrap();
    let good = write_suite(
        dir.path(),
        "good.yaml",
        "name: good\ncases:\n  - name: up\n    request: { url: \"http://127.0.0.1:9/\" }\n",
    );
    let bad = write_suite(
        dir.path(),
        "bad.yaml",
        "name: bad\ncases:\n  - name: up\n    request: { url: \"http://127.0.0.1:9/\" }\n    expect: { status: 2000 }\n",
    );
    let gate = format!("g={good}");
    let token = vec![("SERVE_TEST_TOKEN".to_string(), TOKEN.to_string())];
    let short = vec![("SERVE_TEST_TOKEN".to_string(), "short".to_string())];
    let spaced = vec![("SERVE_TEST_TOKEN".to_string(), format!("{TOKEN}\n"))];
    let none: Vec<(String, String)> = Vec::new();
    let bad_gate = format!("b={bad}");
    let base = ["serve", "--token-env", "SERVE_TEST_TOKEN"];
    type Env = Vec<(String, String)>;
    // (arguments, environment, what stderr says)
    let cases: Vec<(Vec<&str>, &Env, &str)> = vec![
        (vec!["--gate", &gate], &none, "$SERVE_TEST_TOKEN"),
        (vec!["--gate", &gate], &short, "shorter than 16"),
        (vec!["--gate", &gate], &spaced, "ends with whitespace"),
        (
            vec!["--gate", &gate, "--bake", "1m", "--every", "10s"],
            &token,
            "--bake (a server runs one round per request) does not apply",
        ),
        (
            vec![
                "--gate",
                &gate,
                "--insecure-no-auth",
                "--listen",
                "0.0.0.0:0",
            ],
            &none,
            "only allowed on a loopback address",
        ),
        (vec![], &token, "no gate to serve"),
        (vec!["--gate", "a/b=x.yaml"], &token, "gate name `a/b`"),
        (
            vec!["--gate", &gate, "--gate", &gate],
            &token,
            "defined twice",
        ),
        (vec!["--gate", &bad_gate], &token, "gate `b`:"),
        (
            vec!["--gate", &gate, "--tag", "nothing"],
            &token,
            "no case matches",
        ),
        (
            vec!["--gate", &gate, &good],
            &token,
            "a suite path argument",
        ),
        (
            vec!["--gate", &gate, "--report-json", "r.json"],
            &token,
            "--report-json does not apply",
        ),
    ];
    for (extra, env, expect) in cases {
        let listen = if extra.contains(&"--listen") {
            vec![]
        } else {
            vec!["--listen", "127.0.0.1:0"]
        };
        let args: Vec<String> = base
            .iter()
            .chain(&listen)
            .chain(&extra)
            .map(|s| s.to_string())
            .collect();
        let r = smokegate(&args, env).await;
        assert_eq!(r.code, 2, "{args:?}\n{}", r.stderr);
        assert!(r.stderr.contains(expect), "{args:?}: {}", r.stderr);
        assert!(!r.stderr.contains(TOKEN));
    }
    // The bad suite's problem is shown at its place.
    let r = smokegate(
        &base
            .iter()
            .map(|s| s.to_string())
            .chain(["--gate".into(), format!("b={bad}")])
            .collect::<Vec<_>>(),
        &token,
    )
    .await;
    assert!(r.stderr.contains("bad.yaml:5"), "{}", r.stderr);
}

/// The YAML of docs/progressive-delivery.md parses, and says what the tests check.
#[test]
fn progressive_delivery_yaml_snippets_parse() {
    let text = std::fs::read_to_string(root().join("docs/progressive-delivery.md")).unwrap();
    let mut blocks = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("```yaml\n") {
        let body = &rest[start + 8..];
        let end = body.find("\n```").expect("a closed yaml block");
        blocks.push(&body[..end]);
        rest = &body[end + 4..];
    }
    assert!(blocks.len() >= 3, "{} yaml blocks", blocks.len());
    let mut kinds = Vec::new();
    for b in &blocks {
        for doc in b.split("\n---\n") {
            let v: Value =
                serde_saphyr::from_str(doc).unwrap_or_else(|e| panic!("not YAML ({e}):\n{doc}"));
            if let Some(k) = v["kind"].as_str() {
                kinds.push(k.to_string());
            }
            if v["kind"] == "Canary" {
                let hooks = v["spec"]["analysis"]["webhooks"].as_array().unwrap();
                assert!(hooks
                    .iter()
                    .all(|h| h["url"].as_str().unwrap().contains("/gates/")));
                assert!(hooks.iter().any(|h| h["type"] == "pre-rollout"));
                assert!(hooks.iter().any(|h| h["type"] == "rollout"));
            }
            if v["kind"] == "AnalysisTemplate" {
                let job = &v["spec"]["metrics"][0]["provider"]["job"];
                let container = &job["spec"]["template"]["spec"]["containers"][0];
                assert_eq!(container["args"][0], "run", "{container}");
                assert_eq!(job["spec"]["backoffLimit"], 0);
            }
        }
    }
    for k in ["AnalysisTemplate", "Canary", "Deployment"] {
        assert!(kinds.iter().any(|x| x == k), "no {k} in {kinds:?}");
    }
}

/// Run a script of tests/progressive/ with a bounded time.
async fn script(name: &str, args: &[String], env: &[(&str, String)]) -> (i32, String) {
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_smokegate"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let mut cmd = tokio::process::Command::new(root().join("tests/progressive").join(name));
    cmd.args(args)
        .env_clear()
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(Duration::from_secs(90), cmd.output())
        .await
        .expect("the script finishes within 90 s")
        .expect("the script runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[tokio::test]
async fn scripts_drive_smokegate_as_argo_rollouts_and_flagger_would() {
    let backend = Backend::start().await;
    let dir = tempfile::tempdir().unwrap();
    let suites = backend_suites(dir.path());
    let base = format!("base=http://{}", backend.addr);

    // Argo Rollouts, Job provider: each measurement is a Job running `smokegate run`; its
    // exit code is the measurement.
    let argo = |suite: &str| {
        vec![
            "--count".to_string(),
            "3".into(),
            "--interval".into(),
            "0".into(),
            "--failure-limit".into(),
            "1".into(),
            "--".into(),
            "run".into(),
            suite.to_string(),
            "--var".into(),
            base.clone(),
        ]
    };
    let (code, out) = script("argo-job.sh", &argo(&suites[0]), &[]).await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches("measurement").count(), 3, "{out}");
    assert!(out.contains("AnalysisRun Successful"), "{out}");
    let (code, out) = script("argo-job.sh", &argo(&suites[1]), &[]).await;
    assert_eq!(code, 1, "{out}");
    // failureLimit 1: the second failed measurement fails the analysis.
    assert_eq!(out.matches("Failed (exit 1)").count(), 2, "{out}");
    assert!(out.contains("AnalysisRun Failed"), "{out}");
    // A configuration error fails its Job too: never a success.
    let (code, out) = script(
        "argo-job.sh",
        &[
            "--count".into(),
            "1".into(),
            "--".into(),
            "run".into(),
            "/nonexistent.yaml".into(),
        ],
        &[],
    )
    .await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Failed (exit 2)"), "{out}");

    // Flagger: webhooks POST the payload; 2xx advances, anything else is a failed check;
    // `threshold` failed checks roll back. Flagger sends no headers: the token goes in the
    // webhook metadata (--accept-payload-token).
    let mut args: Vec<String> = vec![
        "--var".into(),
        base.clone(),
        "--accept-payload-token".into(),
    ];
    for (name, path) in ["ok", "broken"].iter().zip(&suites) {
        args.push("--gate".into());
        args.push(format!("{name}={path}"));
    }
    let env = vec![("SMOKEGATE_SERVE_TOKEN".to_string(), TOKEN.to_string())];
    let mut server = Server::start(&args, &env).await;
    let flagger = |gate: &str| {
        vec![
            "--url".to_string(),
            server.url(&format!("/gates/{gate}")),
            "--iterations".into(),
            "3".into(),
            "--threshold".into(),
            "2".into(),
            "--interval".into(),
            "0".into(),
            "--timeout".into(),
            "30".into(),
        ]
    };
    let tok = [("FLAGGER_WEBHOOK_TOKEN", TOKEN.to_string())];
    let (code, out) = script("flagger-webhook.sh", &flagger("ok"), &tok).await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches("advance").count(), 3, "{out}");
    assert!(out.contains("Canary promoted"), "{out}");
    let (code, out) = script("flagger-webhook.sh", &flagger("broken"), &tok).await;
    assert_eq!(code, 1, "{out}");
    assert_eq!(out.matches("failed check (HTTP 412)").count(), 2, "{out}");
    assert!(out.contains("rolling back"), "{out}");
    assert!(!out.contains(TOKEN), "{out}");
    // Without the token, every check fails (401).
    let (code, out) = script("flagger-webhook.sh", &flagger("ok"), &[]).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("failed check (HTTP 401)"), "{out}");
    assert_eq!(server.terminate().await, 0);
    assert!(!server.log().contains(TOKEN));
}

/// Clients stalling in their request head in every slot (and every overflow slot) do not
/// lock out a prompt client: `/healthz` is answered in about a second, not after the
/// 30 s header timeout the stalled clients were given.
#[tokio::test]
async fn stalled_clients_in_every_slot_leave_room_for_a_probe() {
    let backend = Backend::start().await;
    let dir = tempfile::tempdir().unwrap();
    let suites = backend_suites(dir.path());
    let env = vec![("SMOKEGATE_SERVE_TOKEN".to_string(), TOKEN.to_string())];
    let args: Vec<String> = vec![
        "--var".into(),
        format!("base=http://{}", backend.addr),
        "--max-connections".into(),
        "2".into(),
        "--header-timeout".into(),
        "30s".into(),
        "--gate".into(),
        format!("ok={}", suites[0]),
    ];
    let mut server = Server::start(&args, &env).await;
    let mut stalled = Vec::new();
    for _ in 0..4 {
        let mut s = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        s.write_all(b"POST /gates/ok HTTP/1.1\r\n").await.unwrap();
        stalled.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let c = client();
    for _ in 0..3 {
        let probe =
            tokio::time::timeout(Duration::from_secs(8), send(c.get(server.url("/healthz"))))
                .await
                .expect("a probe gets in while stalled clients hold every slot");
        assert_eq!(probe.status, 200, "{}", probe.body);
    }
    drop(stalled);
    assert_eq!(server.terminate().await, 0);
}
