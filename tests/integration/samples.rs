//! Sampling a check (`samples` + `expect_samples`, issue 15) against a loopback server whose
//! error rate and slow tail are fixed by request order, per path: every 20th response is a
//! 500 (5%), every 50th waits 400ms (2%: above p95, at p99). Each budget passes and fails
//! at thresholds with a wide margin; nothing asserts on the test's own duration.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::common::{loopback_http, smokegate, write_suite};

/// The server: `/mixed*` as above, `/down` answers 200 three times then 500, anything else 200.
fn server() -> std::net::SocketAddr {
    let counts: Arc<Mutex<HashMap<String, u64>>> = Arc::default();
    loopback_http(3000, move |req| {
        let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
        let n = {
            let mut c = counts.lock().unwrap();
            let n = c.entry(path.clone()).or_default();
            *n += 1;
            *n
        };
        if path.starts_with("/mixed") {
            if n % 50 == 0 {
                std::thread::sleep(Duration::from_millis(400));
            }
            if n % 20 == 0 {
                return ("500 Internal Server Error", b"boom".to_vec());
            }
        }
        if path == "/down" && n > 3 {
            return ("500 Internal Server Error", b"down".to_vec());
        }
        ("200 OK", b"ok".to_vec())
    })
}

const SUITE: &str = r#"
name: sampled
vars: { base: "http://svc.test:PORT" }
cases:
  - name: mixed within budgets
    request: { url: "${base}/mixed-a" }
    expect: { status: 200 }
    samples: { count: 200, concurrency: 10 }
    expect_samples: { p95: 250ms, max: 20s, failure_rate: "< 6%" }
  - name: p99 over budget
    request: { url: "${base}/mixed-b" }
    expect: { status: 200 }
    samples: { count: 200, concurrency: 10 }
    expect_samples: { p99: 250ms, failure_rate: "< 6%" }
  - name: failure rate over budget
    request: { url: "${base}/mixed-c" }
    expect: { status: 200 }
    samples: { count: 200, concurrency: 10 }
    expect_samples: { p95: 250ms, failure_rate: "< 4%" }
  - name: consecutive failures stop
    request: { url: "${base}/down" }
    expect: { status: 200 }
    samples: { count: 50 }
    expect_samples: { consecutive_failures: 3, failure_rate: "< 90%" }
  - name: steady for a while
    request: { url: "${base}/steady" }
    samples: { duration: 300ms, every: 50ms, concurrency: 2 }
    expect_samples: { p50: 5s }
"#;

fn samples(case: &Value) -> &Value {
    &case["samples"]
}

fn budget<'a>(case: &'a Value, name: &str) -> &'a Value {
    samples(case)["budgets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["budget"] == name)
        .unwrap_or_else(|| panic!("no budget {name}: {case:#}"))
}

fn ms(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

#[tokio::test]
async fn each_sample_budget_passes_and_fails_at_its_threshold() {
    let addr = server();
    let dir = tempfile::tempdir().unwrap();
    let path = write_suite(
        dir.path(),
        "s.yaml",
        &SUITE.replace("PORT", &addr.port().to_string()),
    );
    let html = dir.path().join("r.html");
    let run = smokegate(
        &[
            "run".into(),
            path,
            "--resolve".into(),
            format!("svc.test:{}:127.0.0.1", addr.port()),
            "--report-html".into(),
            html.display().to_string(),
        ],
        &[("GITHUB_ACTIONS".into(), "true".into())],
    )
    .await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    // The annotation names the broken budget, at its line (14), not a sample's reason.
    assert!(
        run.stdout.contains(
            ",line=14,title=smokegate%3A sampled › p99 over budget::1 of 2 sample budgets broken: p99 4"
        ),
        "{}",
        run.stdout
    );

    // 200 samples: 10 answered 500 (5%), 4 took 400ms — p95 fast, p99 slow.
    let ok = run.case("mixed within budgets");
    assert_eq!(ok["status"], "passed", "{ok:#}");
    let s = samples(ok);
    assert_eq!(s["count"], 200);
    assert_eq!(s["failed"], 10);
    assert_eq!(s["errors"], 0);
    assert_eq!(s["failure_rate"], 0.05);
    let l = &s["latency_ms"];
    assert!(ms(&l["p95"]) < 250.0, "{l}");
    assert!(ms(&l["p99"]) >= 400.0, "{l}");
    assert!(
        ms(&l["max"]) >= 400.0 && ms(&l["p50"]) <= ms(&l["p90"]),
        "{l}"
    );
    assert_eq!(budget(ok, "failure_rate")["actual"], "5% (10 of 200)");
    assert_eq!(budget(ok, "failure_rate")["expected"], "< 6%");
    assert_eq!(budget(ok, "p95")["passed"], true);
    // A sample's failure counts toward the rate and is summarised, not an immediate fail.
    let reasons = s["reasons"].as_array().unwrap();
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert_eq!(reasons[0]["count"], 10);
    assert!(
        reasons[0]["message"].as_str().unwrap().contains("500"),
        "{reasons:?}"
    );

    let p99 = run.case("p99 over budget");
    assert_eq!(p99["status"], "failed", "{p99:#}");
    let b = budget(p99, "p99");
    assert_eq!(b["passed"], false);
    assert_eq!(b["expected"], "<= 250ms");
    let msg = p99["message"].as_str().unwrap();
    assert!(
        msg.starts_with("1 of 2 sample budgets broken: p99 4")
            && msg.contains("(expected <= 250ms)"),
        "{msg}"
    );
    assert_eq!(budget(p99, "failure_rate")["passed"], true);

    let rate = run.case("failure rate over budget");
    assert_eq!(rate["status"], "failed", "{rate:#}");
    assert_eq!(budget(rate, "p95")["passed"], true);
    let msg = rate["message"].as_str().unwrap();
    assert_eq!(
        msg,
        "1 of 2 sample budgets broken: failure_rate 5% (10 of 200) (expected < 4%)"
    );

    // Three answers, then three 500s in a row: sampling stops there.
    let down = run.case("consecutive failures stop");
    assert_eq!(down["status"], "failed", "{down:#}");
    let s = samples(down);
    assert_eq!(s["count"], 6, "{s:#}");
    assert_eq!(s["max_consecutive_failures"], 3);
    assert_eq!(budget(down, "consecutive_failures")["passed"], false);
    assert_eq!(budget(down, "consecutive_failures")["actual"], "3 in a row");
    assert!(s["stopped"]
        .as_str()
        .unwrap()
        .contains("3 failed samples in a row"));

    // 300ms, one start every 50ms: at most 7 samples, never more.
    let steady = run.case("steady for a while");
    assert_eq!(steady["status"], "passed", "{steady:#}");
    let n = samples(steady)["count"].as_u64().unwrap();
    assert!((1..=7).contains(&n), "{n}");
    assert_eq!(
        samples(steady)["planned"],
        "duration 300ms, every 50ms, concurrency 2"
    );

    // Console, JUnit and HTML carry the numbers and the broken budget.
    assert!(
        run.stdout.contains("budget BROKEN p99: 4")
            && run.stdout.contains(
                "samples:  200 (count 200, concurrency 10): 190 passed, 10 failed, 0 errors"
            ),
        "{}",
        run.stdout
    );
    let junit = run.junit.as_deref().unwrap();
    assert!(
        junit.contains("failure_rate 5% (10 of 200) (expected &lt; 4%)"),
        "{junit}"
    );
    let html = std::fs::read_to_string(&html).unwrap();
    assert!(html.contains("latency:  p50 "), "{html}");
    assert!(html.contains("budget BROKEN failure_rate"), "{html}");
}

#[tokio::test]
async fn sampling_plan_errors_are_reported_at_their_positions() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_suite(
        dir.path(),
        "s.yaml",
        "name: s\ncases:\n  - name: flow\n    request: { url: \"http://a.test/\" }\n    retry: { attempts: 2 }\n    expect: { status: 200 }\n    samples: { count: 5 }\n  - name: lone\n    request: { url: \"http://a.test/\" }\n    expect_samples: { p95: 1s }\n  - name: big\n    request: { url: \"http://a.test/\" }\n    samples: { count: 20000 }\n",
    );
    let run = smokegate(&["validate".into(), path], &[]).await;
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let err = &run.stderr;
    assert!(
        err.contains("s.yaml:7:14")
            && err.contains("a sampled case cannot `retry` or `wait_until`"),
        "{err}"
    );
    assert!(
        err.contains("s.yaml:10:21") && err.contains("`expect_samples` needs `samples`"),
        "{err}"
    );
    assert!(
        err.contains("s.yaml:13:23")
            && err.contains("samples.count must be between 1 and 10000, got 20000"),
        "{err}"
    );
}

/// A server answering 200 to every request, counting them.
fn counting_server() -> (std::net::SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let h = hits.clone();
    let addr = loopback_http(5000, move |_| {
        h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        ("200 OK", b"ok".to_vec())
    });
    (addr, hits)
}

fn long_sampling(addr: std::net::SocketAddr) -> String {
    format!(
        "name: long\ncases:\n  - name: an hour of samples\n    request: {{ url: \"http://{addr}/\" }}\n    samples: {{ duration: 1h, every: 20ms }}\n    expect_samples: {{ p95: 5s }}\n"
    )
}

#[tokio::test]
async fn the_run_deadline_stops_sampling_and_reports_the_samples_so_far_as_an_error() {
    let (addr, _) = counting_server();
    let dir = tempfile::tempdir().unwrap();
    let path = write_suite(dir.path(), "s.yaml", &long_sampling(addr));
    let run = smokegate(&["run".into(), path, "--deadline".into(), "1s".into()], &[]).await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let c = run.case("an hour of samples");
    assert_eq!(c["status"], "error", "{c:#}");
    let msg = c["message"].as_str().unwrap();
    assert!(
        msg.starts_with("did not finish: deadline exceeded after ") && msg.ends_with(" samples"),
        "{msg}"
    );
    let n = c["samples"]["count"].as_u64().unwrap();
    assert!(
        (1..=51).contains(&n),
        "at most one start every 20ms for 1s: {n}"
    );
    assert_eq!(c["samples"]["failed"], 0);
    assert!(run.junit.unwrap().contains("deadline exceeded after"));
}

#[tokio::test]
async fn sigint_stops_sampling_and_the_reports_keep_the_samples_so_far() {
    use std::process::Stdio;
    let (addr, hits) = counting_server();
    let dir = tempfile::tempdir().unwrap();
    let path = write_suite(dir.path(), "s.yaml", &long_sampling(addr));
    let json = dir.path().join("report.json");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_smokegate"))
        .args(["run", &path, "--report-json"])
        .arg(&json)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("smokegate starts");
    let pid = child.id().expect("pid").to_string();
    let mut waited = 0;
    while hits.load(std::sync::atomic::Ordering::SeqCst) < 5 {
        waited += 1;
        assert!(waited < 1000, "samples reach the server");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let at_signal = hits.load(std::sync::atomic::Ordering::SeqCst);
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let out = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("smokegate stops within 20 s of the signal")
        .unwrap();
    assert_eq!(out.status.code(), Some(130));
    // The first signal stops new samples at once (not after the 2s grace period, in which
    // one start every 20ms would send about 100 more).
    let after = hits.load(std::sync::atomic::Ordering::SeqCst) - at_signal;
    assert!(after <= 10, "{after} samples started after SIGINT");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    crate::common::validate_report(&report);
    let c = &report["cases"][0];
    assert_eq!(c["status"], "error", "{c:#}");
    assert!(
        c["message"]
            .as_str()
            .unwrap()
            .starts_with("did not finish: interrupted after "),
        "{c:#}"
    );
    assert!(c["samples"]["count"].as_u64().unwrap() >= 5, "{c:#}");
    assert!(
        c["samples"]["latency_ms"]["p95"].as_f64().is_some(),
        "{c:#}"
    );
}

#[tokio::test]
async fn failure_reasons_of_samples_are_summarised_with_secrets_redacted() {
    // Nothing listens on this port: every sample is a transport error naming the URL.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let path = write_suite(
        dir.path(),
        "s.yaml",
        &format!(
            "name: s\ncases:\n  - name: refused\n    request: {{ url: \"http://127.0.0.1:{port}/?key=${{token}}\" }}\n    samples: {{ count: 4, concurrency: 2 }}\n    expect_samples: {{ failure_rate: \"< 50%\" }}\n"
        ),
    );
    let secret = "s3cr3t-sample-token-value";
    let run = smokegate(
        &[
            "run".into(),
            path,
            "--secret".into(),
            format!("token={secret}"),
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let c = run.case("refused");
    assert_eq!(c["status"], "error", "{c:#}");
    let s = &c["samples"];
    assert_eq!(s["errors"], 4);
    assert_eq!(s["failure_rate"], 1.0);
    assert!(s.get("latency_ms").is_none(), "{s:#}");
    let reasons = s["reasons"].as_array().unwrap();
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert_eq!(reasons[0]["count"], 4);
    let why = reasons[0]["message"].as_str().unwrap();
    assert!(why.contains("key=[REDACTED]"), "{why}");
    assert!(
        c["message"]
            .as_str()
            .unwrap()
            .starts_with("no sample received a response (4 samples): request to"),
        "{c:#}"
    );
    assert!(!run.all_output().contains(secret), "{}", run.all_output());
}
