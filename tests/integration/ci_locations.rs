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
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut flaky_seen = 0;
        for s in l.incoming().take(64) {
            let Ok(mut s) = s else { return };
            let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(10)));
            let mut buf = vec![0u8; 8192];
            let n = s.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            let ok = if req.starts_with("GET /flaky") {
                flaky_seen += 1;
                flaky_seen > 1
            } else {
                req.starts_with("GET /ok")
            };
            let (status, body) = if ok {
                ("200 OK", "ok")
            } else {
                ("503 Service Unavailable", "down")
            };
            let _ = s.write_all(
                format!(
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            );
        }
    });
    addr
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
