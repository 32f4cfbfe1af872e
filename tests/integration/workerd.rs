//! The bundled suites A and D against Cloudflare's real `workerd` runtime.
//!
//! `tests/real/workers/serve.mjs` starts Miniflare (which runs workerd from npm) with the
//! scenario A backend and dashboard workers (a real service binding between them, users in
//! KV, HMAC-signed tokens) and the ten scenario D workers, all on one loopback port and
//! routed by host name. The real smokegate binary runs the bundled suites against it with
//! `--resolve` pointing every host name at 127.0.0.1: the healthy deployment passes, and each
//! broken variant fails the case that should catch it, with its cause.
//!
//! Needs `node` and the packages of `tests/real/workers` (`.ci/run` installs both). When they
//! are missing the tests fail with the command that installs them.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{root, smokegate, suite, Run};

const INSTALL: &str = "npm ci --prefix tests/real/workers --no-audit --no-fund";
const READY_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

fn workers_dir() -> PathBuf {
    root().join("tests/real/workers")
}

/// The exact version `package.json` pins for `name`.
fn pinned(name: &str) -> String {
    let text = std::fs::read_to_string(workers_dir().join("package.json"))
        .expect("tests/real/workers/package.json");
    let json: Value = serde_json::from_str(&text).expect("package.json is JSON");
    json["dependencies"][name]
        .as_str()
        .unwrap_or_else(|| panic!("package.json pins {name}"))
        .to_string()
}

/// Fails (never skips) with the install command when node or the npm packages are missing.
fn check_prerequisites() {
    let node = Command::new("node").arg("--version").output();
    match node {
        Ok(out) if out.status.success() => {
            let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
            let major: u32 = version
                .trim_start_matches('v')
                .split('.')
                .next()
                .and_then(|m| m.parse().ok())
                .unwrap_or(0);
            assert!(
                major >= 18,
                "node {version} is too old: Miniflare {} needs Node.js >= 18",
                pinned("miniflare")
            );
        }
        _ => panic!(
            "`node` is not installed or does not run: the workerd tests need Node.js >= 18 and \
             npm (Debian: `apt-get install -y nodejs npm`; `.ci/run` does it), then `{INSTALL}`"
        ),
    }
    let installed = workers_dir().join("node_modules/miniflare/package.json");
    let version = std::fs::read_to_string(&installed)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|j| j["version"].as_str().map(str::to_string));
    let want = pinned("miniflare");
    match version {
        Some(v) if v == want => {}
        Some(v) => panic!(
            "tests/real/workers/node_modules has miniflare {v}, package.json pins {want}: \
             run `{INSTALL}` (from the repository root)"
        ),
        None => panic!(
            "the npm packages of tests/real/workers are not installed ({} is missing): run \
             `{INSTALL}` (from the repository root; needs npm)",
            installed.display()
        ),
    }
}

/// A running `serve.mjs` (node, Miniflare and workerd in their own process group). Dropping it
/// stops the whole group and reaps node.
struct Workerd {
    child: Child,
    // Held open: serve.mjs stops when its stdin closes (if this process dies without Drop).
    stdin: Option<ChildStdin>,
    port: u16,
    verify_token: String,
    a_hosts: Vec<String>,
    d_hosts: Vec<String>,
    d_domain: String,
    log: tempfile::NamedTempFile,
    started_in: Duration,
}

impl Workerd {
    fn start(variant: &str) -> Workerd {
        check_prerequisites();
        let log = tempfile::NamedTempFile::new().expect("log file");
        let begun = Instant::now();
        let mut child = Command::new("node")
            .arg(workers_dir().join("serve.mjs"))
            .arg(variant)
            .current_dir(workers_dir())
            .env("npm_config_update_notifier", "false")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log.reopen().expect("log file"))
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start node serve.mjs: {e}; install: {INSTALL}"));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            // Keep reading so that serve.mjs never blocks on a full pipe.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let mut w = Workerd {
            child,
            stdin,
            port: 0,
            verify_token: String::new(),
            a_hosts: Vec::new(),
            d_hosts: Vec::new(),
            d_domain: String::new(),
            log,
            started_in: Duration::ZERO,
        };
        let line = match rx.recv_timeout(READY_TIMEOUT) {
            Ok(line) if !line.trim().is_empty() => line,
            Ok(_) => panic!(
                "serve.mjs {variant} exited before it was ready:\n{}",
                w.log_text()
            ),
            Err(_) => panic!(
                "serve.mjs {variant} was not ready within {READY_TIMEOUT:?}:\n{}",
                w.log_text()
            ),
        };
        let ready: Value = serde_json::from_str(line.trim())
            .unwrap_or_else(|e| panic!("serve.mjs printed `{line}`, not JSON: {e}"));
        assert_eq!(ready["ready"], true, "{ready}");
        assert_eq!(ready["variant"], variant, "{ready}");
        assert_eq!(ready["address"], "127.0.0.1", "loopback only: {ready}");
        w.port = ready["port"].as_u64().expect("port") as u16;
        w.verify_token = ready["verify_token"].as_str().expect("token").to_string();
        w.a_hosts = ["backend", "dashboard"]
            .iter()
            .map(|k| ready["a_hosts"][k].as_str().expect("a host").to_string())
            .collect();
        w.d_hosts = ready["d_hosts"]
            .as_array()
            .expect("d_hosts")
            .iter()
            .map(|h| h.as_str().expect("d host").to_string())
            .collect();
        w.d_domain = ready["d_domain"].as_str().expect("d_domain").to_string();
        w.started_in = begun.elapsed();
        eprintln!(
            "workerd ({variant}) ready on 127.0.0.1:{} in {:?}",
            w.port, w.started_in
        );
        w
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    fn url(&self, host: &str) -> String {
        format!("http://{host}:{}", self.port)
    }

    /// `--resolve HOST:PORT:127.0.0.1` for every host name of the deployment.
    fn resolves(&self) -> Vec<String> {
        self.a_hosts
            .iter()
            .chain(&self.d_hosts)
            .flat_map(|h| {
                [
                    "--resolve".to_string(),
                    format!("{h}:{}:127.0.0.1", self.port),
                ]
            })
            .collect()
    }

    /// The variables suites A and D read.
    fn vars(&self) -> Vec<(String, String)> {
        vec![
            ("OWOKX_WORKER_URL".into(), self.url(&self.a_hosts[0])),
            ("OWOKX_DASHBOARD_URL".into(), self.url(&self.a_hosts[1])),
            ("OWOKX_VERIFY_TOKEN".into(), self.verify_token.clone()),
            ("TMINUS_SCHEME".into(), "http".into()),
            (
                "TMINUS_DOMAIN".into(),
                format!("{}:{}", self.d_domain, self.port),
            ),
        ]
    }

    /// Run bundled suites against this deployment with the real binary.
    async fn run(&self, suites: &[&str], extra: &[&str]) -> Run {
        let mut args = vec!["run".to_string()];
        args.extend(suites.iter().map(|s| suite(s)));
        args.extend(self.resolves());
        args.extend(extra.iter().map(|s| s.to_string()));
        let begun = Instant::now();
        let run = smokegate(&args, &self.vars()).await;
        eprintln!(
            "smokegate {suites:?} {extra:?}: exit {} in {:?}",
            run.code,
            begun.elapsed()
        );
        run
    }

    /// Send `signal` to the whole process group (node, and workerd under it), by its id.
    fn signal_group(&self, signal: &str) {
        let _ = Command::new("bash")
            .arg("-c")
            .arg(format!(
                "kill -s {signal} -- -{} 2>/dev/null",
                self.child.id()
            ))
            .status();
    }
}

impl Drop for Workerd {
    fn drop(&mut self) {
        // Closing its stdin makes serve.mjs dispose Miniflare, which stops and reaps workerd.
        self.stdin.take();
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Whatever is still running in the group (a hung node, an orphaned workerd) is killed.
        if group_members(self.child.id()).iter().any(|m| m.2 != "Z") {
            self.signal_group("KILL");
        }
        let _ = self.child.wait();
    }
}

/// The processes of group `pgid`: (pid, command name, state; `Z` for a zombie).
fn group_members(pgid: u32) -> Vec<(u32, String, String)> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp …; comm may hold spaces, so split after the last ')'.
        let Some((head, tail)) = stat.rsplit_once(')') else {
            continue;
        };
        let comm = head.split_once('(').map_or("", |(_, c)| c).to_string();
        let fields: Vec<&str> = tail.split_whitespace().collect();
        if fields.len() > 2 && fields[2] == pgid.to_string() {
            out.push((pid, comm, fields[0].to_string()));
        }
    }
    out
}

/// Every string in a JSON value, one per line: what a JSON report says about a case.
fn words(v: &Value) -> String {
    fn walk(v: &Value, out: &mut String) {
        match v {
            Value::String(s) => {
                out.push_str(s);
                out.push('\n');
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            Value::Object(o) => o.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = String::new();
    walk(v, &mut out);
    out
}

fn assert_passed(run: &Run, what: &str) {
    assert_eq!(
        run.code, 0,
        "{what}: exit code\n{}\n{}",
        run.stdout, run.stderr
    );
    let report = run.json.as_ref().expect("JSON report");
    assert_eq!(report["verdict"], "passed", "{what}");
    let cases = report["cases"].as_array().expect("cases");
    assert!(!cases.is_empty(), "{what}: no case ran");
    for c in cases {
        assert_eq!(c["status"], "passed", "{what}: case {}: {c:#}", c["name"]);
    }
}

/// The gate fails, `case` fails, and its JSON result carries every text of `causes`.
fn assert_caught(run: &Run, what: &str, case: &str, causes: &[&str]) {
    assert_eq!(
        run.code, 1,
        "{what}: the gate must fail\n{}\n{}",
        run.stdout, run.stderr
    );
    assert_eq!(run.json.as_ref().expect("JSON report")["verdict"], "failed");
    let c = run.case(case);
    assert_eq!(c["status"], "failed", "{what}: case `{case}`: {c:#}");
    let said = words(c);
    for cause in causes {
        assert!(
            said.contains(cause),
            "{what}: case `{case}` does not say `{cause}`: {c:#}"
        );
    }
}

fn assert_status(run: &Run, case: &str, status: &str) {
    let c = run.case(case);
    assert_eq!(c["status"], status, "case `{case}`: {c:#}");
}

const A: &str = "a-worker-dashboard.yaml";
const D: &str = "d-staged-promotion.yaml";
const D_WORKERS: [&str; 5] = ["api", "oauth", "webhooks", "app", "mcp"];

#[tokio::test(flavor = "multi_thread")]
async fn healthy_deployment_passes_suites_a_and_d() {
    let w = Workerd::start("healthy");
    let run = w.run(&[A], &[]).await;
    assert_passed(&run, "A");
    assert_eq!(run.json.as_ref().unwrap()["counts"]["total"], 7);
    for env in ["staging", "production"] {
        let run = w.run(&[D], &["--env", env]).await;
        assert_passed(&run, &format!("D --env {env}"));
        assert_eq!(run.json.as_ref().unwrap()["counts"]["total"], 6);
        // The register/login flow ran against workerd (users in KV, HMAC-signed tokens).
        let smoke = run.case("auth smoke");
        assert_eq!(smoke["steps"].as_array().unwrap().len(), 4, "{smoke:#}");
        let step = &smoke["steps"][0];
        assert_eq!(step["request"]["resolved_by"], "override", "{step:#}");
        assert!(
            step["request"]["connected_to"]
                .as_str()
                .unwrap()
                .starts_with("127.0.0.1:"),
            "{step:#}"
        );
        // Captured tokens and the suite's password never appear.
        assert!(!run.all_output().contains("Smoke-"), "password leaked");
    }
    assert!(
        !run.all_output().contains(&w.verify_token),
        "verify token leaked"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_service_binding_is_caught_by_suite_a() {
    let w = Workerd::start("no-binding");
    let run = w.run(&[A], &[]).await;
    for case in [
        "routed /api/status reaches the backend",
        "routed /api/swarm/health reaches the backend",
    ] {
        assert_caught(
            &run,
            "no-binding",
            case,
            &[
                "routed API call did not reach the backend",
                "expected status 200, got 502",
                "service binding BACKEND is not configured",
            ],
        );
    }
    assert_caught(
        &run,
        "no-binding",
        "/auth/session is forwarded to the backend auth handler",
        &[
            "auth route not forwarded to the backend",
            "expected status 200, got 502",
        ],
    );
    // The dashboard itself is up: its own health passes, so the cause is the routing.
    assert_status(&run, "dashboard health", "passed");
    assert_status(&run, "backend health", "passed");
    // Scenario D does not go through the dashboard.
    let run = w.run(&[D], &[]).await;
    assert_passed(&run, "D with no-binding");
}

#[tokio::test(flavor = "multi_thread")]
async fn backend_exception_is_caught_by_suites_a_and_d() {
    let w = Workerd::start("backend-throws");
    let run = w.run(&[A], &[]).await;
    assert_caught(
        &run,
        "backend-throws",
        "backend health",
        &["expected status 200, got 500", "is not valid JSON"],
    );
    assert_status(&run, "dashboard health", "passed");
    assert_status(&run, "routed /api/status reaches the backend", "skipped");
    // Through the service binding, the backend's exception reaches the caller as a 500 too.
    assert_caught(
        &run,
        "backend-throws",
        "protected route accepts the verify token",
        &["expected status 200, got 500"],
    );
    let run = w.run(&[D], &[]).await;
    assert_caught(
        &run,
        "backend-throws",
        "health [worker=api]",
        &["expected status 200, got 500", "is not valid JSON"],
    );
    for other in ["oauth", "webhooks", "app", "mcp"] {
        assert_status(&run, &format!("health [worker={other}]"), "passed");
    }
    assert_status(&run, "auth smoke", "skipped");
}

#[tokio::test(flavor = "multi_thread")]
async fn legacy_health_format_is_rejected_by_suite_d() {
    let w = Workerd::start("legacy-health");
    let run = w.run(&[D], &[]).await;
    for worker in D_WORKERS {
        assert_caught(
            &run,
            "legacy-health",
            &format!("health [worker={worker}]"),
            &["legacy format, expected enriched"],
        );
    }
    assert_status(&run, "auth smoke", "skipped");
    // Suite A only asks the backend for `ok: true`, which the legacy body lacks.
    let run = w.run(&[A], &[]).await;
    assert_caught(&run, "legacy-health", "backend health", &["$.ok"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn staging_build_on_production_names_is_caught_by_suite_d() {
    let w = Workerd::start("staging-on-prod");
    let run = w.run(&[D], &["--env", "production"]).await;
    for worker in D_WORKERS {
        assert_caught(
            &run,
            "staging-on-prod",
            &format!("health [worker={worker}]"),
            &[
                "$.data.environment",
                "expected \"production\", got \"staging\"",
            ],
        );
    }
    assert_status(&run, "auth smoke", "skipped");
    // On its own names the staging build is fine.
    let run = w.run(&[D], &["--env", "staging"]).await;
    assert_passed(&run, "D --env staging with staging-on-prod");
}

/// Dropping the handle stops node and workerd, and nothing of them is left running.
#[test]
fn stopping_leaves_no_process_behind() {
    let w = Workerd::start("healthy");
    let pgid = w.child.id();
    let members = group_members(pgid);
    assert!(
        members.iter().any(|(_, comm, _)| comm == "workerd"),
        "workerd runs in the group of serve.mjs: {members:?}"
    );
    let begun = Instant::now();
    drop(w);
    eprintln!("serve.mjs stopped in {:?}", begun.elapsed());
    // Not even a zombie: serve.mjs waited for workerd, and Drop reaped serve.mjs.
    assert_eq!(group_members(pgid), vec![], "left behind");
}
