//! Bake mode (`run --bake WINDOW --every INTERVAL`, issue 15) against a loopback server whose
//! failures and latency are fixed by request order, per path: `/every4-*` answers 500 to
//! every 4th request, `/later-*` is fast for its first 35 requests (7 rounds of 5 samples)
//! and slow (250ms) after; `/slow*` always takes 300ms. Windows are short (2–3 s); nothing asserts on the test's own
//! duration beyond generous bounds.

use std::collections::HashMap;
use std::io::BufRead;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{loopback_http, smokegate, validate_report, write_suite, xmllint};

fn server() -> std::net::SocketAddr {
    let counts: Arc<Mutex<HashMap<String, u64>>> = Arc::default();
    loopback_http(5000, move |req| {
        let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
        let n = {
            let mut c = counts.lock().unwrap();
            let n = c.entry(path.clone()).or_default();
            *n += 1;
            *n
        };
        if path.starts_with("/every4") && n % 4 == 0 {
            return ("500 Internal Server Error", b"boom".to_vec());
        }
        if path.starts_with("/slow") {
            std::thread::sleep(Duration::from_millis(300));
        }
        if path.starts_with("/later") && n > 35 {
            std::thread::sleep(Duration::from_millis(250));
        }
        ("200 OK", b"ok".to_vec())
    })
}

fn suite(dir: &std::path::Path, port: u16, cases: &str) -> String {
    write_suite(
        dir,
        "bake.yaml",
        &format!("name: baked\nvars: {{ base: \"http://svc.test:{port}\" }}\ncases:\n{cases}"),
    )
}

fn args(path: String, port: u16, extra: &[&str]) -> Vec<String> {
    let mut a = vec![
        "run".to_string(),
        path,
        "--resolve".into(),
        format!("svc.test:{port}:127.0.0.1"),
    ];
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn bake(run: &crate::common::Run) -> &Value {
    &run.json.as_ref().expect("JSON report")["bake"]
}

fn budget<'a>(case: &'a Value, name: &str) -> &'a Value {
    case["bake"]["budgets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["budget"] == name)
        .unwrap_or_else(|| panic!("no budget {name}: {case:#}"))
}

#[tokio::test]
async fn a_healthy_bake_passes_with_aggregates_in_every_report() {
    let addr = server();
    let dir = tempfile::tempdir().unwrap();
    let path = suite(
        dir.path(),
        addr.port(),
        r#"  - name: health
    request: { url: "${base}/ok" }
    expect: { status: 200, max_latency: 5s }
  - name: sampled
    request: { url: "${base}/ok-sampled" }
    samples: { count: 3 }
    expect_samples: { p95: 5s }
"#,
    );
    let html = dir.path().join("r.html");
    let om = dir.path().join("r.prom");
    let run = smokegate(
        &args(
            path,
            addr.port(),
            &[
                "--bake",
                "2s",
                "--every",
                "200ms",
                "--report-html",
                html.to_str().unwrap(),
                "--report-openmetrics",
                om.to_str().unwrap(),
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let b = bake(&run);
    assert_eq!(b["planned_rounds"], 10, "{b:#}");
    let rounds = b["rounds"].as_u64().unwrap();
    assert!((2..=10).contains(&rounds), "{b:#}");
    assert_eq!(b["cut_short"], false);
    // One line per round on the console, then the aggregates, one run.
    let round_lines = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("round "))
        .count();
    assert_eq!(round_lines as u64, rounds, "{}", run.stdout);
    assert!(run.stdout.contains("round 1/10  at "), "{}", run.stdout);
    assert!(run.stdout.contains("worst p95 "), "{}", run.stdout);
    assert_eq!(run.stdout.matches("verdict: PASSED").count(), 1);
    assert!(
        !run.stdout.contains('\x1b'),
        "no colour, no live line off a TTY"
    );

    let health = run.case("health");
    assert_eq!(health["status"], "passed");
    assert_eq!(health["bake"]["rounds"].as_u64(), Some(rounds));
    assert_eq!(health["bake"]["failure_rate"], 0.0);
    assert_eq!(budget(health, "max_latency")["passed"], true);
    // Each round's duration (whole milliseconds) is in the histogram, never clamped: its
    // max is the slowest round of the series (within the histogram's 0.1%).
    let lat = &health["bake"]["latency_ms"];
    let slowest = health["bake"]["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["latency_ms"].as_f64().unwrap())
        .fold(0.0, f64::max);
    let max = lat["max"].as_f64().unwrap();
    assert!(
        max >= slowest && max <= slowest * 1.001 + 0.002,
        "{slowest} vs {lat:#}"
    );
    assert_eq!(health["bake"]["latency_count"].as_u64(), Some(rounds));
    let sampled = run.case("sampled");
    let sb = &sampled["bake"];
    // Every sample of every round is in the histogram.
    assert_eq!(sb["latency_count"].as_u64(), Some(3 * rounds), "{sb:#}");
    let in_buckets: u64 = sb["histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .sum();
    assert_eq!(in_buckets, 3 * rounds);
    assert_eq!(budget(sampled, "p95")["passed"], true);
    assert_eq!(sb["series"].as_array().unwrap().len() as u64, rounds);
    assert!(sampled.get("samples").is_none(), "{sampled:#}");

    let junit = run.junit.as_deref().unwrap();
    xmllint(&run.junit_path);
    assert!(
        junit.contains(&format!(
            r#"<property name="bake.rounds" value="{rounds}"/>"#
        )),
        "{junit}"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg id=\"bake-plot\""), "plot");
    assert!(page.contains("class=\"series\" data-check=\"baked/sampled\""));
    assert!(!page.contains("http://") || !page.contains("src=\"http"));
    let metrics = std::fs::read_to_string(&om).unwrap();
    assert!(
        metrics.contains(&format!("smokegate_bake_rounds {rounds}\n")),
        "{metrics}"
    );
    assert!(
        metrics.contains("smokegate_bake_check_failure_ratio{suite=\"baked\",case=\"health\"} 0\n")
    );
    assert!(metrics.ends_with("# EOF\n"));
    // The strict OpenMetrics parser reads the bake's families, and they agree with the JSON.
    let parsed = crate::openmetrics::parse_openmetrics(&om);
    let value = |name: &str, case: &str, extra: Option<(&str, &str)>| {
        parsed
            .iter()
            .find(|(_, _, n, l, _)| {
                n == name
                    && (case.is_empty() || l["case"] == case)
                    && extra.is_none_or(|(k, v)| l[k] == v)
            })
            .unwrap_or_else(|| panic!("no {name} {case}: {metrics}"))
            .4
    };
    assert_eq!(value("smokegate_bake_rounds", "", None), rounds as f64);
    assert_eq!(value("smokegate_bake_planned_rounds", "", None), 10.0);
    assert_eq!(
        value(
            "smokegate_bake_check_latency_seconds_count",
            "sampled",
            None
        ),
        (3 * rounds) as f64
    );
    assert_eq!(
        value(
            "smokegate_bake_check_budget_passed",
            "sampled",
            Some(("budget", "p95"))
        ),
        1.0
    );
}

#[tokio::test]
async fn the_failure_rate_fails_above_the_allowed_rate_and_passes_at_it() {
    let addr = server();
    let dir = tempfile::tempdir().unwrap();
    let case = |path: &str| {
        format!("  - name: flaky\n    request: {{ url: \"${{base}}/{path}\" }}\n    expect: {{ status: 200 }}\n")
    };
    // Every 4th request fails: over n ≥ 4 rounds, between 14% and 25% of rounds.
    let at = suite(dir.path(), addr.port(), &case("every4-a"));
    let run = smokegate(
        &args(
            at,
            addr.port(),
            &[
                "--bake",
                "2s",
                "--every",
                "200ms",
                "--bake-max-failure-rate",
                "25%",
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let c = run.case("flaky");
    let rounds = c["bake"]["rounds"].as_u64().unwrap();
    assert!(rounds >= 4, "{c:#}");
    assert_eq!(c["bake"]["failed"].as_u64(), Some(rounds / 4));
    assert_eq!(c["status"], "passed");
    // Failures within the allowance are reported as a warning, never hidden.
    assert!(
        c["warnings"][0]
            .as_str()
            .unwrap()
            .contains("within --bake-max-failure-rate 25%"),
        "{c:#}"
    );

    let dir2 = tempfile::tempdir().unwrap();
    let over = suite(dir2.path(), addr.port(), &case("every4-b"));
    let run = smokegate(
        &args(
            over,
            addr.port(),
            &[
                "--bake",
                "2s",
                "--every",
                "200ms",
                "--bake-max-failure-rate",
                "10%",
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let c = run.case("flaky");
    assert!(c["bake"]["rounds"].as_u64().unwrap() >= 4, "{c:#}");
    assert_eq!(c["status"], "failed");
    let rate = budget(c, "failure_rate");
    assert_eq!(rate["passed"], false);
    assert_eq!(
        rate["expected"],
        "<= 10% of rounds (--bake-max-failure-rate)"
    );
    assert!(
        c["bake"]["first_failure"]
            .as_str()
            .unwrap()
            .starts_with("round 4: "),
        "{c:#}"
    );
    assert!(run.stdout.contains("verdict: FAILED"), "{}", run.stdout);
    xmllint(&run.junit_path);
}

#[tokio::test]
async fn a_p95_breach_over_the_window_fails_when_only_later_rounds_are_slow() {
    let addr = server();
    let dir = tempfile::tempdir().unwrap();
    let path = suite(
        dir.path(),
        addr.port(),
        r#"  - name: later slow
    request: { url: "${base}/later-a" }
    samples: { count: 5, concurrency: 5 }
    expect_samples: { p95: 150ms }
"#,
    );
    // The rate allows most rounds to fail: only the window's p95 can fail the bake.
    let run = smokegate(
        &args(
            path,
            addr.port(),
            &[
                "--bake",
                "3s",
                "--every",
                "200ms",
                "--bake-max-failure-rate",
                "90%",
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let c = run.case("later slow");
    let b = &c["bake"];
    assert!(b["rounds"].as_u64().unwrap() >= 8, "{b:#}");
    // The first 7 rounds passed: the first failure is a later round.
    assert!(
        b["first_failure"]
            .as_str()
            .unwrap()
            .starts_with("round 8: "),
        "{b:#}"
    );
    assert_eq!(budget(c, "failure_rate")["passed"], true);
    let p95 = budget(c, "p95");
    assert_eq!(p95["passed"], false, "{c:#}");
    assert_eq!(p95["expected"], "<= 150ms over the window");
    assert_eq!(c["status"], "failed");
    // The plot shows the slow rounds above the fast ones.
    let series = b["series"].as_array().unwrap();
    let lat = |p: &Value| p["latency_ms"].as_f64().unwrap();
    assert!(
        lat(&series[0]) < 150.0 && lat(series.last().unwrap()) >= 200.0,
        "{b:#}"
    );
}

#[tokio::test]
async fn rounds_longer_than_every_are_followed_never_overlapped() {
    let addr = server();
    let dir = tempfile::tempdir().unwrap();
    let path = suite(
        dir.path(),
        addr.port(),
        "  - name: slow\n    request: { url: \"${base}/slow\" }\n",
    );
    let run = smokegate(
        &args(path, addr.port(), &["--bake", "1s", "--every", "100ms"]),
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let b = bake(&run);
    let rounds = b["rounds"].as_u64().unwrap();
    // 300ms rounds in a 1 s window planned for 10: at most 4 start before it ends.
    assert!((2..=4).contains(&rounds), "{b:#}");
    assert!(b["overruns"].as_u64().unwrap() >= 1, "{b:#}");
    assert!(
        b["stopped"]
            .as_str()
            .unwrap()
            .starts_with(&format!("the window ended after {rounds} of 10 rounds")),
        "{b:#}"
    );
    assert_eq!(b["cut_short"], false);
    assert!(
        run.stdout
            .contains("> --every 100ms: the next round starts when it ends)"),
        "{}",
        run.stdout
    );
    let series = b["round_series"].as_array().unwrap();
    for w in series.windows(2) {
        let end = w[0]["offset_ms"].as_u64().unwrap() + w[0]["duration_ms"].as_u64().unwrap();
        assert!(w[1]["offset_ms"].as_u64().unwrap() >= end, "overlap: {b:#}");
    }
}

#[tokio::test]
async fn bake_fail_fast_stops_at_the_first_breach() {
    let addr = server();
    let dir = tempfile::tempdir().unwrap();
    let path = suite(
        dir.path(),
        addr.port(),
        "  - name: flaky\n    request: { url: \"${base}/every4-ff\" }\n    expect: { status: 200 }\n",
    );
    let run = smokegate(
        &args(
            path,
            addr.port(),
            &["--bake", "3s", "--every", "100ms", "--bake-fail-fast"],
        ),
        &[],
    )
    .await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let b = bake(&run);
    assert_eq!(b["planned_rounds"], 30);
    assert_eq!(b["rounds"], 4, "{b:#}");
    assert_eq!(b["cut_short"], true);
    assert!(
        b["stopped"]
            .as_str()
            .unwrap()
            .starts_with("--bake-fail-fast: `baked/flaky` failed in 1 of 4 rounds"),
        "{b:#}"
    );
    assert_eq!(run.json.as_ref().unwrap()["cancelled"], Value::Null);
    assert!(
        run.stdout.contains("cut short: --bake-fail-fast"),
        "{}",
        run.stdout
    );
    xmllint(&run.junit_path);
}

#[tokio::test]
async fn the_deadline_cuts_a_bake_short_with_complete_reports() {
    let addr = server();
    let dir = tempfile::tempdir().unwrap();
    let path = suite(
        dir.path(),
        addr.port(),
        "  - name: health\n    request: { url: \"${base}/ok-deadline\" }\n",
    );
    let run = smokegate(
        &args(
            path,
            addr.port(),
            &["--bake", "60s", "--every", "100ms", "--deadline", "1s"],
        ),
        &[],
    )
    .await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let j = run.json.as_ref().unwrap();
    assert_eq!(j["cancelled"], "deadline-exceeded");
    assert_eq!(j["verdict"], "failed");
    let b = &j["bake"];
    assert_eq!(b["cut_short"], true);
    let rounds = b["rounds"].as_u64().unwrap();
    assert!((1..600).contains(&rounds), "{b:#}");
    assert_eq!(
        b["stopped"],
        format!("deadline exceeded after {rounds} of 600 rounds")
    );
    assert_eq!(run.case("health")["status"], "passed");
    xmllint(&run.junit_path);
    assert!(run
        .junit
        .as_deref()
        .unwrap()
        .contains(r#"<property name="bake.cut_short" value="true"/>"#));
}

/// A bake killed by `signal` once stdout shows `after`: exit 130, complete and valid reports.
fn spawn_bake_and_signal(
    path_in_url: &str,
    after: &str,
    signal: i32,
) -> (
    std::process::ExitStatus,
    Value,
    Vec<String>,
    std::path::PathBuf,
    tempfile::TempDir,
) {
    let addr = server();
    let dir = tempfile::tempdir().unwrap();
    let path = suite(
        dir.path(),
        addr.port(),
        &format!("  - name: health\n    request: {{ url: \"${{base}}/{path_in_url}\" }}\n"),
    );
    let json = dir.path().join("r.json");
    let junit = dir.path().join("r.xml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_smokegate"))
        .args(args(
            path,
            addr.port(),
            &["--bake", "60s", "--every", "100ms"],
        ))
        .arg("--report-json")
        .arg(&json)
        .arg("--report-junit")
        .arg(&junit)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let until = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l.starts_with(after)) {
        match rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
            Ok(l) => seen.push(l),
            Err(_) => {
                let _ = child.kill();
                panic!("no `{after}` within 30 s: {seen:#?}");
            }
        }
    }
    unsafe {
        libc::kill(child.id() as i32, signal);
    }
    let stopped_by = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > stopped_by {
            let _ = child.kill();
            panic!("the bake did not stop on signal {signal}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    seen.extend(rx.iter());
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    validate_report(&report);
    xmllint(&junit);
    (status, report, seen, junit, dir)
}

#[test]
fn a_signal_during_the_first_round_leaves_the_check_an_error_never_a_pass() {
    // Every request takes 300ms: the signal lands while round 1 is in flight.
    let (status, report, seen, _, _dir) =
        spawn_bake_and_signal("slow-first", "baking for ", libc::SIGTERM);
    assert_eq!(status.code(), Some(130), "{seen:#?}");
    assert_eq!(report["cancelled"], "interrupted");
    assert_eq!(report["bake"]["rounds"], 0, "{report:#}");
    let case = &report["cases"][0];
    assert_eq!(case["status"], "error", "{case:#}");
    assert_eq!(
        case["message"],
        "bake: no result in any round (interrupted after 0 of 600 rounds)"
    );
    assert!(
        seen.iter()
            .any(|l| l.contains("round 1/600") && l.contains("round abandoned")),
        "{seen:#?}"
    );
}

/// A bake killed by `signal` after its second round: exit 130, complete and valid reports.
fn interrupted_by(signal: i32) {
    let (status, report, seen, _, _dir) = spawn_bake_and_signal("ok-signal", "round 2/", signal);
    assert_eq!(status.code(), Some(130), "{seen:#?}");
    assert_eq!(report["cancelled"], "interrupted");
    let b = &report["bake"];
    let rounds = b["rounds"].as_u64().unwrap();
    assert!((2..600).contains(&rounds), "{b:#}");
    assert_eq!(b["cut_short"], true);
    assert_eq!(
        b["stopped"],
        format!("interrupted after {rounds} of 600 rounds")
    );
    assert_eq!(report["cases"][0]["status"], "passed");
    assert!(
        seen.iter()
            .any(|l| l.contains("cut short: interrupted after")),
        "{seen:#?}"
    );
}

#[test]
fn sigterm_mid_bake_leaves_valid_reports() {
    interrupted_by(libc::SIGTERM);
}

#[test]
fn sigint_mid_bake_leaves_valid_reports() {
    interrupted_by(libc::SIGINT);
}

#[tokio::test]
async fn bake_flags_are_checked_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    // Port 9 on loopback: nothing is sent anyway, every command below is refused first.
    let path = suite(
        dir.path(),
        9,
        "  - name: health\n    request: { url: \"${base}/\" }\n",
    );
    for (extra, says) in [
        (&["--bake", "1s"][..], "--every"),
        (&["--bake", "0", "--every", "1s"], "more than 0"),
        (&["--bake", "25h", "--every", "1s"], "at most 24h"),
        (&["--bake", "1s", "--every", "5ms"], "at least 10ms"),
        (
            &["--bake", "1s", "--every", "2s"],
            "longer than the --bake window",
        ),
        (&["--every", "1s"], "--bake"),
        (&["--bake-max-failure-rate", "5%"], "--bake"),
        (&["--bake-fail-fast"], "--bake"),
        (
            &[
                "--bake",
                "2s",
                "--every",
                "1s",
                "--bake-max-failure-rate",
                "150%",
            ],
            "between 0 and 100%",
        ),
        (
            &["--bake", "2s", "--every", "1s", "--fail-fast"],
            "--fail-fast",
        ),
    ] {
        let run = smokegate(&args(path.clone(), 9, extra), &[]).await;
        assert_eq!(run.code, 2, "{extra:?}: {}\n{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(says), "{extra:?}: {}", run.stderr);
        assert!(run.json.is_none(), "{extra:?}: nothing ran");
    }
    // `list` sends nothing: a bake there is meaningless.
    let run = smokegate(&["list".into(), path, "--bake".into(), "1s".into()], &[]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--bake"), "{}", run.stderr);
}

#[test]
fn the_bake_html_plots_latency_and_reads_at_420_px() {
    let addr = server();
    let ws = tempfile::tempdir().unwrap();
    let path = suite(
        ws.path(),
        addr.port(),
        r#"  - name: a check whose name goes on and on so that it cannot fit on one narrow line
    request: { url: "${base}/every4-html" }
    expect: { status: 200 }
  - name: sampled
    request: { url: "${base}/ok-html" }
    samples: { count: 2 }
"#,
    );
    let html = ws.path().join("report.html");
    let out = Command::new(env!("CARGO_BIN_EXE_smokegate"))
        .args(args(
            path,
            addr.port(),
            &["--bake", "1s", "--every", "100ms"],
        ))
        .arg("--report-html")
        .arg(&html)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg id=\"bake-plot\""), "{page}");
    // The rounds the flaky check failed in are marked on its line.
    assert!(page.contains("<circle class=\"failed-round\""), "{page}");
    assert!(!page.contains("src=\"http") && !page.contains("href=\"http"));
    let wrapper = ws.path().join("measure.html");
    std::fs::write(
        &wrapper,
        r#"<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" src="report.html" style="width:420px;height:900px;border:0"></iframe>
<pre id="out">pending</pre>
<script>
document.getElementById('f').addEventListener('load', function () {
  var d = document.getElementById('f').contentDocument;
  var px = function (el) { return parseFloat(d.defaultView.getComputedStyle(el).fontSize); };
  var cells = Array.prototype.map.call(d.querySelectorAll('#bake td, #bake .legend span'), px);
  var svg = d.getElementById('bake-plot');
  var wide = Array.prototype.filter.call(d.querySelectorAll('body *'), function (el) {
    return el.getBoundingClientRect().right > 421;
  }).map(function (el) { return el.tagName + '#' + el.id + '.' + el.className; });
  document.getElementById('out').textContent = JSON.stringify({
    scrollWidth: d.documentElement.scrollWidth,
    minCellPx: Math.min.apply(null, cells),
    svgTextPx: 13 * svg.getBoundingClientRect().width / 400,
    wide: wide.slice(0, 5)
  });
});
</script></body></html>"#,
    )
    .unwrap();
    let o = crate::ci_locations::chromium(
        &[
            "--allow-file-access-from-files".into(),
            "--virtual-time-budget=5000".into(),
            "--window-size=420,900".into(),
            "--dump-dom".into(),
        ],
        &wrapper,
    );
    let dom = String::from_utf8_lossy(&o.stdout);
    let json = regex::Regex::new(r#"<pre id="out">(\{.*\})</pre>"#)
        .unwrap()
        .captures(&dom)
        .unwrap_or_else(|| panic!("the wrapper measured the report:\n{dom}"))[1]
        .replace("&quot;", "\"");
    let m: Value = serde_json::from_str(&json).unwrap();
    assert!(
        m["scrollWidth"].as_f64().unwrap() <= 420.0,
        "runs off-screen: {m}"
    );
    assert_eq!(m["wide"], serde_json::json!([]), "wider than 420 px: {m}");
    assert!(
        m["minCellPx"].as_f64().unwrap() >= 12.0,
        "text too small: {m}"
    );
    assert!(
        m["svgTextPx"].as_f64().unwrap() >= 12.0,
        "plot text too small: {m}"
    );
}

/// A shell script standing in for a progressive delivery controller (Argo Rollouts' Job
/// provider: a Job that exits 0 is a Successful measurement, anything else Failed, and the
/// rollout aborts): it runs the bake and promotes or aborts on its exit code alone.
#[test]
fn a_controller_script_promotes_a_healthy_bake_and_aborts_a_failing_one() {
    let addr = server();
    let dir = tempfile::tempdir().unwrap();
    let controller = r#"
set -u
if smokegate run "$SUITE" --resolve "$RESOLVE" --bake 1s --every 100ms \
     --report-json "$REPORT" >/dev/null; then
  echo "measurement Successful: promote"
else
  echo "measurement Failed (exit $?): abort"
fi
"#;
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_smokegate"))
        .parent()
        .unwrap()
        .to_path_buf();
    let run = |path: &str, name: &str| {
        let suite = write_suite(
            dir.path(),
            &format!("{name}.yaml"),
            &format!(
                "name: {name}\ncases:\n  - name: health\n    request: {{ url: \"http://svc.test:{}/{path}\" }}\n    expect: {{ status: 200 }}\n",
                addr.port()
            ),
        );
        let report = dir.path().join(format!("{name}.json"));
        let out = Command::new("sh")
            .arg("-c")
            .arg(controller)
            .env("SUITE", &suite)
            .env("RESOLVE", format!("svc.test:{}:127.0.0.1", addr.port()))
            .env("REPORT", &report)
            .env(
                "PATH",
                format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap()),
            )
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let report: Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        (String::from_utf8_lossy(&out.stdout).into_owned(), report)
    };
    let (said, report) = run("ok-controller", "healthy");
    assert_eq!(said.trim(), "measurement Successful: promote", "{report:#}");
    assert_eq!(report["verdict"], "passed");
    // Every 4th request fails: the bake (10 rounds, no failure allowed) fails.
    let (said, report) = run("every4-controller", "broken");
    assert_eq!(
        said.trim(),
        "measurement Failed (exit 1): abort",
        "{report:#}"
    );
    assert_eq!(report["verdict"], "failed");
    assert!(report["bake"]["rounds"].as_u64().unwrap() >= 4);
}

/// In a terminal (a pseudo-terminal here) the live summary is drawn between rounds and taken
/// off the screen before the results; off a terminal nothing of it is written (asserted by
/// `a_healthy_bake_passes_with_aggregates_in_every_report`).
#[test]
fn a_terminal_gets_a_live_summary_line() {
    use std::io::Read;
    use std::os::fd::FromRawFd;
    let addr = server();
    let dir = tempfile::tempdir().unwrap();
    let path = suite(
        dir.path(),
        addr.port(),
        "  - name: health\n    request: { url: \"${base}/ok-tty\" }\n",
    );
    let (mut master, mut slave) = (-1, -1);
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty");
    let out = unsafe { std::fs::File::from_raw_fd(slave) };
    let mut child = Command::new(env!("CARGO_BIN_EXE_smokegate"))
        .args(args(
            path,
            addr.port(),
            &["--bake", "1s", "--every", "500ms"],
        ))
        .env("NO_COLOR", "1")
        .stdout(Stdio::from(out))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = unsafe { std::fs::File::from_raw_fd(master) };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = Vec::new();
        let mut buf = [0u8; 4096];
        // Ends when the child has exited and the pty reports EIO (or EOF).
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            text.extend_from_slice(&buf[..n]);
        }
        let _ = tx.send(text);
    });
    let stopped_by = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > stopped_by {
            let _ = child.kill();
            panic!("the bake did not finish within 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(child);
    let text =
        String::from_utf8_lossy(&rx.recv_timeout(Duration::from_secs(10)).unwrap()).into_owned();
    assert_eq!(status.code(), Some(0), "{text}");
    assert!(
        text.contains("\r\x1b[K  baking: 1/2 rounds done, next in "),
        "{text:?}"
    );
    assert!(text.contains("no check failing"), "{text:?}");
    // NO_COLOR: the live line clears itself, but nothing is coloured.
    assert!(!text.contains("\x1b[3"), "{text:?}");
    assert!(text.contains("verdict: PASSED"), "{text:?}");
}
