//! The first hour at the command line: `list` for scripts, `validate` with its defaults,
//! `--help` grouped under headings, run-only flags refused by `list`.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn smokegate_in(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_smokegate"));
    cmd.current_dir(dir).args(args).env("NO_COLOR", "1");
    for var in ["SMOKEGATE_ENV", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY"] {
        cmd.env_remove(var);
    }
    cmd.output().expect("smokegate runs")
}

fn out(o: &Output) -> String {
    format!(
        "exit {:?}\n{}{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A project folder with `suites/` holding a suite and a JSON Schema beside it.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("suites")).unwrap();
    std::fs::write(
        dir.path().join("suites/api.yaml"),
        "name: api
tags: [smoke]
cases:
  - name: health
    request: { url: \"https://api.example/health\" }
  - name: orders
    tags: [slow]
    needs: [health]
    severity: warning
    request: { url: \"https://api.example/orders\" }
",
    )
    .unwrap();
    // A schema kept beside the suites is not a suite.
    std::fs::write(
        dir.path().join("suites/health.schema.json"),
        r#"{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}"#,
    )
    .unwrap();
    dir
}

#[test]
fn list_format_json_describes_every_case_for_scripts() {
    let dir = project();
    let o = smokegate_in(dir.path(), &["list", "--format", "json"]);
    assert!(o.status.success(), "{}", out(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["cases"][1],
        serde_json::json!({
            "id": "api/orders",
            "suite": "api",
            "suite_file": "suites/api.yaml",
            "name": "orders",
            "line": 6,
            "tags": ["smoke", "slow"],
            "severity": "warning",
            "needs": ["health"],
            "steps": ["orders"],
        })
    );
    assert_eq!(v["cases"].as_array().unwrap().len(), 2);
    // Selection applies as in text form.
    let o = smokegate_in(
        dir.path(),
        &["list", "--format", "json", "--skip-tag", "slow"],
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["cases"].as_array().unwrap().len(), 1);
    // An unknown format is refused with the choices.
    let o = smokegate_in(dir.path(), &["list", "--format", "yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("[possible values: text, json]"),
        "{}",
        out(&o)
    );
}

#[test]
fn list_refuses_flags_that_only_a_run_uses() {
    let dir = project();
    for flag in [
        &["--report-json", "r.json"][..],
        &["--resolve", "api.example:443:127.0.0.1"],
        &["--fail-fast"],
        &["--insecure"],
    ] {
        let mut args = vec!["list"];
        args.extend_from_slice(flag);
        let o = smokegate_in(dir.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{}", out(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr)
                .contains(&format!("unexpected argument '{}'", flag[0])),
            "{}",
            out(&o)
        );
    }
    assert!(!dir.path().join("r.json").exists());
}

#[test]
fn validate_defaults_to_suites_and_skips_schema_files_in_a_folder() {
    let dir = project();
    let o = smokegate_in(dir.path(), &["validate"]);
    assert!(o.status.success(), "{}", out(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "ok: 1 suite, 2 cases, nothing sent"
    );
    let o = smokegate_in(dir.path(), &["validate", "suites"]);
    assert!(o.status.success(), "{}", out(&o));
    // Named on the command line, a schema file is read as a suite, and it is not one.
    let o = smokegate_in(dir.path(), &["validate", "suites/health.schema.json"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    // Without suites/, validate says where it looked.
    let empty = tempfile::tempdir().unwrap();
    let o = smokegate_in(empty.path(), &["validate"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("suites"),
        "{}",
        out(&o)
    );
}

#[test]
fn run_help_is_grouped_under_headings() {
    let dir = tempfile::tempdir().unwrap();
    let o = smokegate_in(dir.path(), &["run", "--help"]);
    assert!(o.status.success());
    let help = String::from_utf8_lossy(&o.stdout).to_string();
    let pos = |s: &str| {
        help.find(s)
            .unwrap_or_else(|| panic!("`{s}` not in run --help:\n{help}"))
    };
    let headings = [
        "Variables:",
        "DNS, TLS and proxies:",
        "Requests:",
        "Selection:",
        "Reports:",
        "Output:",
    ];
    for h in headings {
        pos(&format!("\n{h}\n"));
    }
    // Each option under its heading.
    for (heading, opt) in [
        ("DNS, TLS and proxies:", "--resolve"),
        ("DNS, TLS and proxies:", "--cacert"),
        ("Requests:", "--timeout"),
        ("Selection:", "--tag"),
        ("Selection:", "--shard"),
        ("Reports:", "--report-junit"),
        ("Reports:", "--report-html"),
    ] {
        let h = pos(&format!("\n{heading}\n"));
        let next = headings
            .iter()
            .map(|x| help.find(&format!("\n{x}\n")).unwrap())
            .filter(|&p| p > h)
            .min()
            .unwrap_or(help.len());
        let o = help[h..next]
            .find(&format!(" {opt} "))
            .or_else(|| help[h..next].find(&format!(" {opt}")));
        assert!(o.is_some(), "{opt} not under {heading}:\n{help}");
    }
}

/// A suite of `n` critical checks against a port nothing listens on (each an error at once),
/// then one that would pass against `ok`.
fn failing_suite(dir: &Path, n: usize) {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let ok = crate::packaging::app_server();
    let mut s = String::from("name: ff\ncases:\n");
    for i in 1..=n {
        s.push_str(&format!(
            "  - name: down-{i}\n    request: {{ url: \"http://{closed}/\", timeout: 2s }}\n"
        ));
    }
    s.push_str(&format!(
        "  - name: fine\n    request: {{ url: \"http://{ok}/ok\" }}\n"
    ));
    std::fs::write(dir.join("ff.yaml"), s).unwrap();
}

#[test]
fn fail_fast_and_max_fail_stop_starting_checks_and_report_the_rest_as_not_started() {
    let dir = tempfile::tempdir().unwrap();
    failing_suite(dir.path(), 4);
    // One at a time, so the order of starts is the plan's.
    let o = smokegate_in(
        dir.path(),
        &[
            "run",
            "ff.yaml",
            "--jobs",
            "1",
            "--max-fail",
            "2",
            "--report-json",
            "r.json",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("stopping: failure limit reached (--max-fail); 0 running checks finish, nothing more is started"),
        "{}",
        out(&o)
    );
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    assert_eq!(r["cancelled"], "max-fail");
    assert_eq!(r["verdict"], "failed");
    let statuses: Vec<(String, String)> = r["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().into(),
                c["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("down-1", "error"),
        ("down-2", "error"),
        ("down-3", "skipped"),
        ("down-4", "skipped"),
        ("fine", "skipped"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(statuses, want);
    assert_eq!(
        r["cases"][4]["message"],
        "not started: failure limit reached (--max-fail)"
    );
    crate::common::validate_report(&r);

    // --fail-fast is --max-fail 1.
    let o = smokegate_in(
        dir.path(),
        &["run", "ff.yaml", "--jobs", "1", "--fail-fast"],
    );
    assert_eq!(o.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(stdout.matches("ERROR ff › down-").count(), 1, "{stdout}");
    // Without a limit every check runs.
    let o = smokegate_in(dir.path(), &["run", "ff.yaml", "--jobs", "1"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(stdout.matches("ERROR ff › down-").count(), 4, "{stdout}");
    assert!(stdout.contains("PASS  ff › fine"), "{stdout}");
    // 0 is not a limit.
    let o = smokegate_in(dir.path(), &["run", "ff.yaml", "--max-fail", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--max-fail <N>"),
        "{}",
        out(&o)
    );
}

#[test]
fn quiet_prints_only_what_did_not_pass_and_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    failing_suite(dir.path(), 1);
    let o = smokegate_in(dir.path(), &["run", "ff.yaml", "--quiet"]);
    assert_eq!(o.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("ERROR ff › down-1"), "{stdout}");
    assert!(!stdout.contains("fine"), "{stdout}");
    assert!(!stdout.contains("smokegate 0."), "no header: {stdout}");
    assert!(
        stdout.contains("verdict: FAILED — 2 checks: 1 passed, 0 failed, 1 error, 0 skipped"),
        "{stdout}"
    );
    let o = smokegate_in(dir.path(), &["run", "ff.yaml", "-q", "-v"]);
    assert_eq!(o.status.code(), Some(2), "--quiet and --verbose conflict");
}

#[test]
fn run_names_every_report_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    failing_suite(dir.path(), 1);
    let o = smokegate_in(
        dir.path(),
        &[
            "run",
            "ff.yaml",
            "--report-json",
            "out/r.json",
            "--report-junit",
            "out/j.xml",
            "--report-html",
            "out/r.html",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout
            .trim_end()
            .ends_with("reports: out/r.json, out/j.xml, out/r.html"),
        "{stdout}"
    );
    // A report on stdout is not named; the line goes to stderr with the console.
    let o = smokegate_in(
        dir.path(),
        &[
            "run",
            "ff.yaml",
            "--report-json",
            "-",
            "--report-junit",
            "j.xml",
        ],
    );
    let v: Value = serde_json::from_slice(&o.stdout).expect("stdout is the JSON report alone");
    assert_eq!(v["verdict"], "failed");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("reports: j.xml"),
        "{}",
        out(&o)
    );
}

#[test]
fn demo_fault_list_prints_one_line_per_fault_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let o = smokegate_in(dir.path(), &["demo", "--fault", "list"]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(o.stderr.is_empty(), "{}", out(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        sample_deployment::Fault::all().len(),
        "{stdout}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("d-login-fails ")
            && l.ends_with("register works; login answers 500 (JWT_SECRET is not configured)")),
        "{stdout}"
    );
    // Nothing was started or written.
    assert!(!dir.path().join("smokegate-reports").exists());
    let o = smokegate_in(dir.path(), &["demo", "--fault", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr)
        .starts_with("error: unknown fault `nope`; known faults:\n  a-backend-binding-broken"));
}

#[test]
fn demo_serve_prints_lines_that_run_the_bundled_suites_against_it_until_ctrl_c() {
    use std::io::{BufRead, BufReader};
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_smokegate"))
        .current_dir(dir.path())
        .args(["demo", "--serve"])
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read what it prints (on a thread, so that a silent child cannot hang the test).
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let until = Instant::now() + Duration::from_secs(30);
    let mut printed = Vec::new();
    while !printed.iter().any(|l: &String| l.starts_with("Add --env")) {
        let left = until.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) => printed.push(l),
            Err(_) => {
                let _ = child.kill();
                panic!("demo --serve printed no instructions within 30 s: {printed:#?}");
            }
        }
    }
    let text = printed.join("\n");
    assert!(
        text.starts_with("sample deployment running on 127.0.0.1 (0 faults) until Ctrl-C."),
        "{text}"
    );
    assert!(
        text.contains("smokegate run \\\n    smokegate-reports/bundled/suites \\\n    --resolve "),
        "{text}"
    );
    // Paste the lines into a shell, as a user would (the binary under test as `smokegate`).
    let script: String = printed
        .iter()
        .filter(|l| {
            l.starts_with("export ") || l.starts_with("smokegate run") || l.starts_with("    ")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_smokegate")).parent().unwrap();
    let run = Command::new("sh")
        .current_dir(dir.path())
        .arg("-c")
        .arg(&script)
        .env(
            "PATH",
            format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap()),
        )
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let run_out = out(&run);
    // Ctrl-C ends the deployment.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let stopped_by = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > stopped_by {
            let _ = child.kill();
            panic!("demo --serve did not stop on SIGINT");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    assert_eq!(
        run.status.code(),
        Some(0),
        "the pasted run:\n{script}\n{run_out}"
    );
    assert!(run_out.contains("verdict: PASSED"), "{run_out}");
    let rest: Vec<String> = rx.try_iter().collect();
    assert!(
        rest.iter().any(|l| l == "sample deployment stopped"),
        "{rest:?}"
    );
}

#[test]
fn jsonpath_errors_say_what_to_write_instead() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("jp.yaml"),
        "name: jp
cases:
  - name: headers
    request: { url: \"https://api.example/echo\" }
    expect:
      jsonpath:
        - { path: $.headers.Content-Type, equals: application/json }
        - { path: data.status, equals: ok }
        - { path: \"$[?(@.a == ]\", equals: 1 }
",
    )
    .unwrap();
    let o = smokegate_in(dir.path(), &["validate", "jp.yaml"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("jp.yaml:7:"), "{err}");
    assert!(err.contains("write `$.headers['Content-Type']`"), "{err}");
    assert!(err.contains("jp.yaml:8:"), "{err}");
    assert!(
        err.contains("a JSONPath starts at the document's root `$`: write `$.data.status`"),
        "{err}"
    );
    // A mistake we have no rewrite for gets the parser's reason alone.
    assert!(err.contains("jp.yaml:9:"), "{err}");
    // Two paths with a rewrite, each quoted in the heading and under the caret.
    assert_eq!(err.matches(": write `").count(), 4, "{err}");
}

/// A loopback server: `/sleep` answers 200 after 7 s, anything else 503 at once (bounded to
/// 64 connections).
fn slow_server() -> std::net::SocketAddr {
    crate::common::loopback_http(64, |req| {
        if req.starts_with("GET /sleep") {
            std::thread::sleep(std::time::Duration::from_secs(7));
            ("200 OK", Vec::new())
        } else {
            ("503 Service Unavailable", Vec::new())
        }
    })
}

#[test]
fn a_terminal_shows_slow_checks_and_polling_attempts_a_pipe_does_not() {
    let addr = slow_server();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("slow.yaml"),
        format!(
            "name: slow
cases:
  - name: sleepy
    request: {{ url: \"http://{addr}/sleep\", timeout: 20s }}
  - name: polling
    severity: warning
    request: {{ url: \"http://{addr}/ready\" }}
    expect: {{ status: 200 }}
    wait_until: {{ timeout: 7s, interval: 1s }}
"
        ),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_smokegate");
    let dir_path = dir.path().to_path_buf();
    // In a terminal: `script` gives the run a pseudo-terminal as stdout.
    let tty = std::thread::spawn(move || {
        Command::new("script")
            .current_dir(&dir_path)
            .args(["-q", "-e", "-c"])
            .arg(format!("{bin} run slow.yaml --noproxy '*'"))
            .arg("/dev/null")
            .env("NO_COLOR", "1")
            .output()
            .expect("script (util-linux) runs")
    });
    let piped = smokegate_in(dir.path(), &["run", "slow.yaml", "--noproxy", "*"]);
    let tty = tty.join().unwrap();
    let tty_out = String::from_utf8_lossy(&tty.stdout).replace("\r\n", "\n");
    assert_eq!(tty.status.code(), Some(0), "{tty_out}");
    assert!(
        tty_out.contains("SLOW  slow › sleepy  running 5 s\n"),
        "{tty_out}"
    );
    let polling = regex::Regex::new(
        r"SLOW  slow › polling  running 5 s, attempt [4-7] \(last: expected status 200, got 503\)\n",
    )
    .unwrap();
    assert!(polling.is_match(&tty_out), "{tty_out}");
    // Shown once per doubling, not at every tick.
    assert_eq!(
        tty_out.matches("SLOW  slow › sleepy").count(),
        1,
        "{tty_out}"
    );
    let piped_out = out(&piped);
    assert_eq!(piped.status.code(), Some(0), "{piped_out}");
    assert!(!piped_out.contains("SLOW"), "{piped_out}");
    assert!(piped_out.contains("PASS  slow › sleepy"), "{piped_out}");
}
