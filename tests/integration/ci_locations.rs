//! Where CI systems place results: JUnit `file`/`line` on every `<testcase>` (read back by
//! junitparser and by the location logic of mikepenz/action-junit-report, tests/ci/
//! junit_locations.py), failure texts that start with `FILE:LINE`, and report paths relative
//! to the working directory.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::{root, xmllint};
use crate::packaging::app_server;

/// A suite in `ws/suites/api.yaml` with a passing case (line 3), a failing one (line 6, its
/// first failed expectation on line 11) and one that cannot connect (line 12, request on 13).
fn workspace() -> tempfile::TempDir {
    let ok = app_server();
    // A port nothing listens on: bound, then closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let ws = tempfile::tempdir().unwrap();
    std::fs::create_dir(ws.path().join("suites")).unwrap();
    std::fs::write(
        ws.path().join("suites/api.yaml"),
        format!(
            "name: api
cases:
  - name: health
    request: {{ url: \"http://{ok}/ok\" }}
    expect: {{ status: 200 }}
  - name: orders
    request: {{ url: \"http://{ok}/orders\" }}
    expect:
      body:
        contains: [\"down\"]
      status: 200
  - name: down
    request: {{ url: \"http://{closed}/\", timeout: 5s }}
    expect: {{ status: 200 }}
"
        ),
    )
    .unwrap();
    ws
}

fn run_in(ws: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_smokegate"));
    cmd.current_dir(ws).args(args).env("NO_COLOR", "1");
    for var in [
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "no_proxy",
        "GITHUB_ACTIONS",
    ] {
        cmd.env_remove(var).env_remove(var.to_ascii_uppercase());
    }
    cmd.env_remove("GITHUB_STEP_SUMMARY");
    cmd.output().expect("smokegate runs")
}

#[test]
fn junit_testcases_carry_file_and_line_that_reporter_actions_read() {
    let ws = workspace();
    // The suite is named by an absolute path; the reports still say `suites/api.yaml`.
    let suite = ws.path().join("suites/api.yaml");
    let out = run_in(
        ws.path(),
        &[
            "run",
            suite.to_str().unwrap(),
            "--report-junit",
            "out/junit.xml",
            "--report-json",
            "out/report.json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let junit = ws.path().join("out/junit.xml");
    xmllint(&junit);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        !xml.contains(ws.path().to_str().unwrap()),
        "absolute path in:\n{xml}"
    );

    let py = Command::new("python3")
        .arg(root().join("tests/ci/junit_locations.py"))
        .arg(&junit)
        .output()
        .expect("python3 runs (junitparser: scripts/test installs it)");
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    let cases: Value = serde_json::from_slice(&py.stdout).unwrap();
    let want = [
        ("health", 3, None),
        ("orders", 6, Some(11)),
        ("down", 12, Some(13)),
    ];
    for (name, line, fail_line) in want {
        let c = cases
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {cases}"));
        assert_eq!(
            c["junitparser"],
            serde_json::json!({"file": "suites/api.yaml", "line": line.to_string()}),
            "{name}: {c}"
        );
        assert_eq!(
            c["action_junit_report"],
            serde_json::json!({"file": "suites/api.yaml", "line": line}),
            "{name}: {c}"
        );
        if let Some(fl) = fail_line {
            let text = c["text"].as_str().unwrap();
            assert!(
                text.starts_with(&format!("suites/api.yaml:{fl}\n")),
                "{name}: the failure text starts with its location: {text}"
            );
        }
    }

    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(ws.path().join("out/report.json")).unwrap())
            .unwrap();
    for c in report["cases"].as_array().unwrap() {
        assert_eq!(c["suite_file"], "suites/api.yaml", "{c}");
    }
}

#[test]
fn without_the_attributes_the_reporter_action_would_not_find_the_line() {
    // What the attributes fix: the same report with `file`/`line` removed lands on line 1
    // (or on whatever `NAME…:NUMBER` the text holds, such as a URL's port).
    let ws = workspace();
    let out = run_in(
        ws.path(),
        &["run", "suites/api.yaml", "--report-junit", "j.xml"],
    );
    assert_eq!(out.status.code(), Some(1));
    let xml = std::fs::read_to_string(ws.path().join("j.xml")).unwrap();
    let re = regex::Regex::new(r#" (file|line)="[^"]*""#).unwrap();
    let stripped = re.replace_all(&xml, "");
    std::fs::write(ws.path().join("stripped.xml"), stripped.as_bytes()).unwrap();
    let py = Command::new("python3")
        .arg(root().join("tests/ci/junit_locations.py"))
        .arg(ws.path().join("stripped.xml"))
        .output()
        .unwrap();
    let cases: Value = serde_json::from_slice(&py.stdout).unwrap();
    let orders = cases
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "orders")
        .unwrap();
    assert_ne!(orders["action_junit_report"]["line"], 6, "{orders}");
    assert_eq!(orders["action_junit_report"]["file"], "api", "{orders}");
}

/// A loopback server: `/flaky` fails its first request and then answers 200, `/ok` answers
/// 200, anything else 503 (bounded to 64 connections).
fn flaky_server() -> std::net::SocketAddr {
    let flaky_seen = std::sync::atomic::AtomicUsize::new(0);
    crate::common::loopback_http(64, move |req| {
        let ok = if req.starts_with("GET /flaky") {
            flaky_seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) > 0
        } else {
            req.starts_with("GET /ok")
        };
        if ok {
            ("200 OK", b"ok".to_vec())
        } else {
            ("503 Service Unavailable", b"down".to_vec())
        }
    })
}

/// A workflow command as GitHub reads it: `::LEVEL k=v,k=v::DATA`, with its escapes undone
/// (`%25`, `%0D`, `%0A` everywhere; `%3A` and `%2C` in properties).
fn parse_command(line: &str) -> (String, std::collections::BTreeMap<String, String>, String) {
    let unescape = |s: &str| {
        s.replace("%0D", "\r")
            .replace("%0A", "\n")
            .replace("%25", "%")
    };
    let rest = line.strip_prefix("::").expect("a workflow command");
    let (head, data) = rest.split_once("::").expect("::DATA");
    let (level, props) = head.split_once(' ').unwrap_or((head, ""));
    let props = props
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').expect("k=v");
            (
                k.to_string(),
                unescape(&v.replace("%3A", ":").replace("%2C", ",")),
            )
        })
        .collect();
    (level.to_string(), props, unescape(data))
}

#[test]
fn at_most_ten_annotations_blocking_first_the_rest_skipped_and_flaky_named_in_the_summary() {
    let addr = flaky_server();
    let ws = tempfile::tempdir().unwrap();
    let mut suite = String::from("name: many\ncases:\n");
    // A warning first in the file: annotated, but after the blocking failures.
    suite.push_str(&format!(
        "  - name: soft\n    severity: warning\n    request: {{ url: \"http://{addr}/soft\" }}\n"
    ));
    for i in 1..=12 {
        suite.push_str(&format!(
            "  - name: down-{i:02}\n    request: {{ url: \"http://{addr}/down\" }}\n    expect: {{ status: 200 }}\n"
        ));
    }
    suite.push_str(&format!(
        "  - name: after\n    needs: [down-01]\n    request: {{ url: \"http://{addr}/ok\" }}
  - name: wobbly
    request: {{ url: \"http://{addr}/flaky\" }}
    retry: {{ attempts: 3, interval: 50ms }}
"
    ));
    std::fs::write(ws.path().join("many.yaml"), &suite).unwrap();
    let summary = ws.path().join("summary.md");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_smokegate"));
    cmd.current_dir(ws.path())
        .args(["run", "many.yaml", "--jobs", "4"])
        .env("NO_COLOR", "1")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_WORKSPACE", ws.path());
    for var in ["http_proxy", "https_proxy", "all_proxy", "no_proxy"] {
        cmd.env_remove(var).env_remove(var.to_ascii_uppercase());
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let notes: Vec<_> = stdout
        .lines()
        .filter(|l| l.starts_with("::error") || l.starts_with("::warning"))
        .map(parse_command)
        .collect();
    let errors: Vec<_> = notes.iter().filter(|n| n.0 == "error").collect();
    let warnings: Vec<_> = notes.iter().filter(|n| n.0 == "warning").collect();
    assert_eq!(errors.len(), 10, "{stdout}");
    assert_eq!(warnings.len(), 1, "{stdout}");
    for (i, n) in errors.iter().enumerate() {
        assert_eq!(n.1["file"], "many.yaml");
        assert_eq!(n.1["title"], format!("smokegate: many › down-{:02}", i + 1));
        assert_eq!(
            n.2,
            format!("expected status 200, got 503 [line {}]", 8 + 3 * i)
        );
        assert_eq!(n.1["line"], (8 + 3 * i).to_string());
    }
    assert_eq!(
        notes.last().unwrap().0,
        "warning",
        "blocking failures come first"
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.contains("GitHub shows at most 10 error and 10 warning annotations per step: 2 failing checks are not annotated"),
        "{md}"
    );
    assert!(md.contains("- many › down-11 at `many.yaml:38`"), "{md}");
    assert!(md.contains("- many › down-12 at `many.yaml:41`"), "{md}");
    assert!(
        md.contains("### Skipped checks\n\n1 check was not run:"),
        "{md}"
    );
    assert!(
        md.contains("| many › after | yes | `many.yaml:42` | skipped: needs \\`down-01\\`, which did not pass |"),
        "{md}"
    );
    assert!(
        md.contains("### Flaky checks\n\n1 check passed only after failed attempts:"),
        "{md}"
    );
    assert!(md.contains("| many › wobbly | `many.yaml:45` | "), "{md}");
}

/// Chromium, headless, no network, no telemetry: `extra` arguments, then the page.
pub(crate) fn chromium(extra: &[String], page: &Path) -> std::process::Output {
    let profile = tempfile::tempdir().unwrap();
    let mut cmd = Command::new("chromium");
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-breakpad",
        "--metrics-recording-only",
        "--no-first-run",
        "--no-default-browser-check",
        "--no-proxy-server",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(extra)
    .arg(format!("file://{}", page.display()))
    .stdin(std::process::Stdio::null());
    cmd.output()
        .expect("chromium is installed (Debian `chromium`; scripts/test installs it)")
}

#[test]
fn html_report_reads_at_420_px_and_shows_a_flaky_checks_failed_attempts() {
    let addr = flaky_server();
    let ws = tempfile::tempdir().unwrap();
    std::fs::write(
        ws.path().join("narrow.yaml"),
        format!(
            "name: a-suite-with-a-rather-long-name-for-a-phone
cases:
  - name: wobbly
    request: {{ url: \"http://{addr}/flaky\" }}
    retry: {{ attempts: 3, interval: 50ms }}
  - name: a check whose name goes on and on and on so that it cannot fit on one narrow line
    request: {{ url: \"http://{addr}/down/with/a/very/long/path/segment/that/would/push/the/table/wider\" }}
  - name: fine
    request: {{ url: \"http://{addr}/ok\" }}
"
        ),
    )
    .unwrap();
    let out = run_in(
        ws.path(),
        &[
            "run",
            "narrow.yaml",
            "--report-html",
            "report.html",
            "--report-junit",
            "junit.xml",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    // JUnit: the flaky case passed, its failed attempt is a <flakyFailure> and is also named
    // in <system-out> (junit2html shows only that).
    let junit = std::fs::read_to_string(ws.path().join("junit.xml")).unwrap();
    assert!(
        junit.contains("<system-out>flaky: passed after failed attempts\n  failed attempt of `wobbly`: expected status 2xx, got 503\n"),
        "{junit}"
    );
    assert!(
        junit.contains(
            "<flakyFailure message=\"wobbly: expected status 2xx, got 503\" type=\"flaky\">"
        ),
        "{junit}"
    );
    xmllint(&ws.path().join("junit.xml"));
    let html = ws.path().join("report.html");
    let page = std::fs::read_to_string(&html).unwrap();
    // The flaky check's failed attempt, then its pass.
    assert!(
        page.contains("<ol class=\"attempts\"><li>failed: expected status 2xx, got 503</li><li>passed</li></ol>"),
        "{page}"
    );
    assert!(
        page.contains("flaky: passed after 1 failed attempt"),
        "{page}"
    );

    // Laid out 420 px wide: nothing wider than the viewport, the chart's text as large as the
    // rest. A wrapper page frames the report at 420 px and writes what it measured into its
    // own DOM (file pages may read each other only with --allow-file-access-from-files).
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
  var labels = Array.prototype.map.call(d.querySelectorAll('#timing .label'), px);
  var cells = Array.prototype.map.call(d.querySelectorAll('#checks td'), px);
  var wide = Array.prototype.filter.call(d.querySelectorAll('body *'), function (el) {
    return el.getBoundingClientRect().right > 421;
  }).map(function (el) { return el.tagName + '#' + el.id + '.' + el.className; });
  document.getElementById('out').textContent = JSON.stringify({
    scrollWidth: d.documentElement.scrollWidth,
    minLabelPx: Math.min.apply(null, labels),
    minCellPx: Math.min.apply(null, cells),
    wide: wide.slice(0, 5)
  });
});
</script></body></html>"#,
    )
    .unwrap();
    let o = chromium(
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
        .unwrap_or_else(|| {
            panic!(
                "the wrapper measured the report:\n{dom}\n{}",
                String::from_utf8_lossy(&o.stderr)
            )
        })[1]
        .replace("&quot;", "\"");
    let m: Value = serde_json::from_str(&json).unwrap();
    assert!(
        m["scrollWidth"].as_f64().unwrap() <= 420.0,
        "runs off-screen: {m}"
    );
    assert_eq!(m["wide"], serde_json::json!([]), "wider than 420 px: {m}");
    assert!(
        m["minLabelPx"].as_f64().unwrap() >= 12.0,
        "timing labels too small: {m}"
    );
    assert!(
        m["minCellPx"].as_f64().unwrap() >= 12.0,
        "table text too small: {m}"
    );

    // A screenshot at 420 px, for a person to look at (kept in the temp dir).
    let shot = ws.path().join("narrow.png");
    let o = chromium(
        &[
            "--window-size=420,900".into(),
            format!("--screenshot={}", shot.display()),
        ],
        &html,
    );
    assert!(o.status.success() && shot.is_file(), "{o:?}");
    if let Ok(dir) = std::env::var("SMOKEGATE_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, Path::new(&dir).join("report-420px.png")).unwrap();
    }
}
