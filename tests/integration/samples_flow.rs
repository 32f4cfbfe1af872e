//! Sampling a multi-step case (issue 15): each sample runs register → log in → call with the
//! session, with captures of its own, against a loopback server that checks every token is
//! one it issued and is used once. Per path prefix: `/ok/*` always works, `/flaky/login`
//! answers 500 to every 5th login (4 of 20 samples), `/slow/login` waits 2s on every 5th
//! (a slow tail above p95). Thresholds have a wide margin; nothing asserts on the test's own
//! duration.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::common::{loopback_http, smokegate, validate_report, write_suite};

#[derive(Default)]
struct Books {
    /// Requests per path.
    hits: HashMap<String, u64>,
    /// Tokens issued by a register and not yet used by a login.
    fresh: HashSet<String>,
    /// Sessions issued by a login.
    sessions: HashSet<String>,
    /// Logins that came with a token never issued or already used (a leak between samples).
    reused: u64,
}

fn header<'a>(req: &'a str, name: &str) -> Option<&'a str> {
    req.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn server() -> (std::net::SocketAddr, Arc<Mutex<Books>>) {
    let books: Arc<Mutex<Books>> = Arc::default();
    let b = books.clone();
    let addr = loopback_http(2000, move |req| {
        let path = req.split_whitespace().nth(1).unwrap_or("/");
        let path = path.split('?').next().unwrap_or("/").to_string();
        let (prefix, step) = path.rsplit_once('/').unwrap_or(("", ""));
        let (n, slow) = {
            let mut b = b.lock().unwrap();
            let n = b.hits.entry(path.clone()).or_default();
            *n += 1;
            (*n, prefix == "/slow" && step == "login" && *n % 5 == 0)
        };
        if slow {
            std::thread::sleep(Duration::from_secs(2));
        }
        let mut b = b.lock().unwrap();
        match step {
            "register" => {
                let token = format!("tok{}-{n}-f00dfeed", &prefix[1..]);
                b.fresh.insert(token.clone());
                (
                    "201 Created",
                    format!("{{\"token\":\"{token}\"}}").into_bytes(),
                )
            }
            "login" => {
                let token = header(req, "x-token").unwrap_or("").to_string();
                if !b.fresh.remove(&token) {
                    b.reused += 1;
                    return ("403 Forbidden", b"unknown or reused token".to_vec());
                }
                if prefix.starts_with("/flaky") && n % 5 == 0 {
                    return ("500 Internal Server Error", b"session store down".to_vec());
                }
                let session = format!("sess{}-{n}-c0ffee42", &prefix[1..]);
                b.sessions.insert(session.clone());
                (
                    "200 OK",
                    format!("{{\"session\":\"{session}\"}}").into_bytes(),
                )
            }
            "me" => {
                let auth = header(req, "authorization").unwrap_or("");
                match auth.strip_prefix("Bearer ") {
                    Some(s) if b.sessions.contains(s) => ("200 OK", b"{\"me\":\"ok\"}".to_vec()),
                    _ => ("401 Unauthorized", b"no session".to_vec()),
                }
            }
            _ => ("404 Not Found", b"no".to_vec()),
        }
    });
    (addr, books)
}

/// A three-step flow under `prefix`, sampled 20 times, 4 at a time.
fn flow(name: &str, prefix: &str, budgets: &str) -> String {
    format!(
        r#"  - name: {name}
    steps:
      - name: register
        request: {{ url: "${{base}}/{prefix}/register?user=${{gen.uuid}}" }}
        expect: {{ status: 201 }}
        capture: {{ token: {{ jsonpath: $.token, secret: true }} }}
      - name: login
        request: {{ url: "${{base}}/{prefix}/login", headers: {{ x-token: "${{token}}" }} }}
        expect: {{ status: 200 }}
        capture: {{ session: {{ jsonpath: $.session, secret: true }} }}
      - name: me
        request: {{ url: "${{base}}/{prefix}/me", auth: {{ bearer: "${{session}}" }} }}
        expect: {{ status: 200 }}
    samples: {{ count: 20, concurrency: 4 }}
    expect_samples: {budgets}
"#
    )
}

fn budget<'a>(case: &'a Value, name: &str) -> &'a Value {
    case["samples"]["budgets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["budget"] == name)
        .unwrap_or_else(|| panic!("no budget {name}: {case:#}"))
}

fn step_stats(case: &Value, k: usize) -> &Value {
    &case["samples"]["steps"][k]
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[tokio::test]
async fn sampled_flows_run_every_step_per_sample_and_judge_the_whole_sample() {
    let (addr, books) = server();
    let dir = tempfile::tempdir().unwrap();
    let mut suite = format!(
        "name: flows\nvars: {{ base: \"http://svc.test:{}\" }}\ncases:\n",
        addr.port()
    );
    suite.push_str(&flow("works", "ok", "{ p95: 5s, failure_rate: 0 }"));
    suite.push_str(&flow(
        "login within its rate",
        "flaky",
        "{ failure_rate: \"< 25%\" }",
    ));
    suite.push_str(&flow(
        "login over its rate",
        "flaky2",
        "{ p95: 5s, failure_rate: \"< 10%\" }",
    ));
    suite.push_str(&flow("slow login", "slow", "{ p95: 1500ms, max: 60s }"));
    // `/flaky2` fails like `/flaky` (a prefix of its own keeps its counter).
    let path = write_suite(
        dir.path(),
        "s.yaml",
        &suite.replace("/flaky2/", "/flaky/x/"),
    );
    let run = smokegate(
        &[
            "run".into(),
            path,
            "--resolve".into(),
            format!("svc.test:{}:127.0.0.1", addr.port()),
            // One flow case at a time: each has its 4 samples in flight to itself.
            "--jobs".into(),
            "1".into(),
            "--report-openmetrics".into(),
            dir.path().join("m.prom").display().to_string(),
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    validate_report(run.json.as_ref().unwrap());

    // Every sample ran its own flow: each login used a token its own register issued, once.
    {
        let b = books.lock().unwrap();
        assert_eq!(b.reused, 0, "a token was shared between samples");
        for p in ["/ok", "/flaky", "/flaky/x", "/slow"] {
            assert_eq!(b.hits[&format!("{p}/register")], 20, "{p}");
            assert_eq!(b.hits[&format!("{p}/login")], 20, "{p}");
        }
        assert_eq!(b.hits["/ok/me"], 20);
        // A sample that fails at the login does not call /me.
        assert_eq!(b.hits["/flaky/me"], 16);
        assert_eq!(b.hits["/flaky/x/me"], 16);
    }

    let ok = run.case("works");
    assert_eq!(ok["status"], "passed", "{ok:#}");
    let s = &ok["samples"];
    assert_eq!(
        (s["count"].as_u64(), s["passed"].as_u64()),
        (Some(20), Some(20))
    );
    let names: Vec<&str> = s["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["register", "login", "me"]);
    // The whole sample takes at least as long as any of its steps.
    for k in 0..3 {
        let st = step_stats(ok, k);
        assert_eq!(
            (st["failed"].as_u64(), st["errors"].as_u64()),
            (Some(0), Some(0)),
            "{st}"
        );
        assert!(
            f(&s["latency_ms"]["min"]) >= f(&st["latency_ms"]["min"]),
            "{s:#}"
        );
    }
    // The case shows one passed sample's steps, each as it ran.
    let steps = ok["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 3);
    assert!(steps.iter().all(|s| s["status"] == "passed"), "{steps:#?}");

    // 4 of 20 logins answer 500: those samples fail at the login and count toward the rate.
    let within = run.case("login within its rate");
    assert_eq!(within["status"], "passed", "{within:#}");
    let over = run.case("login over its rate");
    assert_eq!(over["status"], "failed", "{over:#}");
    for c in [within, over] {
        let s = &c["samples"];
        assert_eq!(
            (s["failed"].as_u64(), s["errors"].as_u64()),
            (Some(4), Some(0))
        );
        assert_eq!(s["failure_rate"], 0.2);
        assert_eq!(step_stats(c, 0)["failed"], 0);
        assert_eq!(step_stats(c, 1)["failed"], 4);
        assert_eq!(step_stats(c, 1)["errors"], 0);
        assert_eq!(step_stats(c, 2)["failed"], 0);
        let reasons = s["reasons"].as_array().unwrap();
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        assert_eq!(reasons[0]["count"], 4);
        assert_eq!(
            reasons[0]["message"],
            "step `login`: expected status 200, got 500"
        );
    }
    assert_eq!(
        over["message"],
        "1 of 2 sample budgets broken: failure_rate 20% (4 of 20) (expected < 10%)"
    );
    // A failed case shows its first failed sample: the login failed, /me did not run.
    let st: Vec<&str> = over["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(st, ["passed", "failed", "skipped"]);
    assert_eq!(budget(over, "p95")["passed"], true);

    // Every 5th login waits 2s (4 of 20 samples, above p95): the whole-sample p95 breaks
    // its budget though every sample passed; the `works` flow kept the same kind of budget.
    let slow = run.case("slow login");
    assert_eq!(slow["status"], "failed", "{slow:#}");
    assert_eq!(slow["samples"]["failed"], 0);
    assert_eq!(
        budget(slow, "p95")["passed"],
        false,
        "{:#}",
        slow["samples"]
    );
    assert_eq!(budget(slow, "max")["passed"], true);
    assert!(
        f(&slow["samples"]["latency_ms"]["p95"]) >= 2000.0,
        "{slow:#}"
    );
    // Per step: the login has the slow tail, the register does not.
    assert!(f(&step_stats(slow, 1)["latency_ms"]["p95"]) >= 2000.0);
    assert!(f(&step_stats(slow, 0)["latency_ms"]["p95"]) < 2000.0);
    let msg = slow["message"].as_str().unwrap();
    assert!(
        msg.starts_with("1 of 3 sample budgets broken: p95 ")
            && msg.ends_with("(expected <= 1500ms)"),
        "{msg}"
    );

    // OpenMetrics counts the samples measured: a sample cut short at the login is not.
    let prom = std::fs::read_to_string(dir.path().join("m.prom")).unwrap();
    for (case, n) in [
        ("works", 20),
        ("login over its rate", 16),
        ("slow login", 20),
    ] {
        let line = format!(
            "smokegate_sample_latency_seconds_count{{suite=\"flows\",case=\"{case}\"}} {n}"
        );
        assert!(prom.lines().any(|l| l == line), "{line}\n{prom}");
    }

    // The console gives the per-step numbers; no token or session ever shows.
    assert!(
        run.stdout.contains("    step `login`: p50 ") && run.stdout.contains(", 4 failed here"),
        "{}",
        run.stdout
    );
    let all = run.all_output();
    for secret in ["tokok-", "sessok-", "tokflaky-", "sessslow-"] {
        assert!(!all.contains(secret), "{secret} leaked:\n{all}");
    }
}

#[tokio::test]
async fn sampled_flows_reject_retries_and_keep_captures_to_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_suite(
        dir.path(),
        "s.yaml",
        r#"name: s
cases:
  - name: flow
    steps:
      - name: a
        request: { url: "http://a.test/" }
        capture: { token: { jsonpath: $.t } }
      - name: b
        request: { url: "http://a.test/${token}" }
        retry: { attempts: 3 }
    samples: { count: 5 }
  - name: polled
    steps:
      - name: a
        request: { url: "http://a.test/" }
        wait_until: { timeout: 5s, interval: 1s }
      - name: b
        request: { url: "http://a.test/" }
    samples: { count: 5 }
  - name: sampled flow
    steps:
      - name: a
        request: { url: "http://a.test/" }
        capture: { token: { jsonpath: $.t } }
      - name: b
        request: { url: "http://a.test/${token}" }
    samples: { count: 5 }
  - name: later
    request: { url: "http://a.test/${token}" }
"#,
    );
    let run = smokegate(&["validate".into(), path], &[]).await;
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let err = &run.stderr;
    assert!(
        err.contains("s.yaml:10:16") && err.contains("step `b` of a sampled case cannot `retry`"),
        "{err}"
    );
    assert!(
        err.contains("s.yaml:14:9")
            && err.contains("step `a` of a sampled case cannot `wait_until`"),
        "{err}"
    );
    // A sampled flow is valid; its captures are not variables of later cases.
    assert!(!err.contains("`sampled flow`"), "{err}");
    assert!(err.contains("undefined variable `token`"), "{err}");
    assert_eq!(err.matches("error: undefined variable").count(), 1, "{err}");
}

#[tokio::test]
async fn the_deadline_stops_a_sampled_flow_and_reports_what_finished() {
    // `/hang` holds its answer for 5 s: no sample of the flow finishes within the deadline.
    let addr = loopback_http(50, |req| {
        if req.contains("/hang") {
            std::thread::sleep(Duration::from_secs(5));
        }
        ("200 OK", b"{\"t\":\"tok-abcdef\"}".to_vec())
    });
    let dir = tempfile::tempdir().unwrap();
    let path = write_suite(
        dir.path(),
        "s.yaml",
        &format!(
            r#"name: s
cases:
  - name: hanging flow
    steps:
      - name: first
        request: {{ url: "http://{addr}/first" }}
      - name: hang
        request: {{ url: "http://{addr}/hang" }}
    samples: {{ count: 3 }}
"#
        ),
    );
    let run = smokegate(&["run".into(), path, "--deadline".into(), "1s".into()], &[]).await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    validate_report(run.json.as_ref().unwrap());
    let c = run.case("hanging flow");
    assert_eq!(c["status"], "error", "{c:#}");
    assert_eq!(
        c["message"],
        "did not finish: deadline exceeded after 0 samples"
    );
    assert_eq!(c["samples"]["count"], 0);
    let steps = c["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    assert!(
        steps
            .iter()
            .all(|s| s["status"] == "skipped" && s["message"] == "not run: no sample finished"),
        "{steps:#?}"
    );
}
