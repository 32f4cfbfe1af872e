//! CI reporting, checked by real consumers: JUnit read by the Python `junitparser` package,
//! GitHub Actions annotations and job summary, the HTML report rendered by headless Chromium,
//! `--shard` + `merge` against an unsharded run, and a real run killed by SIGTERM/SIGINT.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sample_deployment::{Fault, SampleDeployment};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{root, smokegate, suite, validate_report, write_suite, xmllint, Run};

const FAULTS: [Fault; 3] = [
    Fault::DLoginFails,
    Fault::DWorkerDown,
    Fault::CStorefrontDown,
];

/// `run SUITES --resolve … EXTRA` against a running sample deployment.
async fn run_sample(
    dep: &SampleDeployment,
    suites: &[&str],
    extra: &[&str],
    env: &[(&str, &str)],
) -> Run {
    let mut args = vec!["run".to_string()];
    args.extend(suites.iter().map(|s| suite(s)));
    for r in dep.resolves() {
        args.push("--resolve".into());
        args.push(r);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let mut vars = dep.vars();
    vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    smokegate(&args, &vars).await
}

/// (suite, name) → status of every case of a JSON report.
fn statuses(report: &Value) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = report["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| {
            (
                c["suite"].as_str().unwrap().to_string(),
                c["name"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

const JUNITPARSER: &str = r#"
import json, sys
from junitparser import JUnitXml, Failure, Error, Skipped
xml = JUnitXml.fromfile(sys.argv[1])
out = []
for suite in xml:
    s = {"name": suite.name, "tests": suite.tests, "failures": suite.failures,
         "errors": suite.errors, "skipped": suite.skipped,
         "properties": {p.name: p.value for p in suite.properties()}, "cases": []}
    for case in suite:
        results = []
        for r in case.result:
            kind = ("failure" if isinstance(r, Failure) else "error" if isinstance(r, Error)
                    else "skipped" if isinstance(r, Skipped) else type(r).__name__)
            results.append({"kind": kind, "message": r.message, "text": r.text})
        s["cases"].append({"classname": case.classname, "name": case.name, "results": results})
    out.append(s)
print(json.dumps(out))
"#;

/// Parse JUnit with the Python `junitparser` package (a third-party reader).
fn junitparser(path: &Path) -> Value {
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(JUNITPARSER)
        .arg(path)
        .output()
        .expect("python3 is installed");
    assert!(
        out.status.success(),
        "junitparser could not read {} (is `pip install junitparser` done? .ci/run does it):\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the python snippet prints JSON")
}

#[tokio::test(flavor = "multi_thread")]
async fn junit_metadata_and_a_third_party_reader_agree_with_the_json_report() {
    let dep = SampleDeployment::start(&FAULTS).await.unwrap();
    let run = run_sample(
        &dep,
        &["c-api-storefront.yaml", "d-staged-promotion.yaml"],
        &[
            "--env",
            "staging",
            "--target",
            "sample-deployment",
            "--git-sha",
            "0123abc",
            "--meta",
            "build=42",
        ],
        &[("GITHUB_SHA", "from-env-loses-to-the-flag")],
    )
    .await;
    dep.shutdown();
    assert_eq!(run.code, 1, "{}", run.stdout);
    xmllint(&run.junit_path);
    let json = run.json.as_ref().unwrap();
    assert_eq!(json["metadata"]["git_sha"], "0123abc");
    assert_eq!(json["metadata"]["target"], "sample-deployment");
    assert_eq!(json["metadata"]["build"], "42");

    let parsed = junitparser(&run.junit_path);
    let suites = parsed.as_array().unwrap();
    assert_eq!(suites.len(), 2, "one testsuite per suite");
    let sum = |k: &str| suites.iter().map(|s| s[k].as_u64().unwrap()).sum::<u64>();
    let counts = &json["counts"];
    assert_eq!(sum("tests"), counts["total"].as_u64().unwrap());
    assert_eq!(sum("failures"), counts["failed"].as_u64().unwrap());
    assert_eq!(sum("errors"), counts["errors"].as_u64().unwrap());
    assert_eq!(sum("skipped"), counts["skipped"].as_u64().unwrap());
    let mut seen = Vec::new();
    for s in suites {
        let props = &s["properties"];
        assert_eq!(props["git_sha"], "0123abc", "{props}");
        assert_eq!(props["target"], "sample-deployment");
        assert_eq!(props["build"], "42");
        assert_eq!(props["environment"], "staging");
        assert_eq!(props["smokegate.version"], env!("CARGO_PKG_VERSION"));
        if s["name"] == "d-staged-promotion" {
            assert_eq!(props["profile"], "staging", "selected profile recorded");
        }
        for c in s["cases"].as_array().unwrap() {
            assert_eq!(c["classname"], s["name"], "classname = suite");
            let kinds: Vec<&str> = c["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["kind"].as_str().unwrap())
                .collect();
            let status = match kinds.first() {
                None => "passed",
                Some(&"failure") => "failed",
                Some(&"error") => "error",
                Some(&"skipped") => "skipped",
                Some(k) => panic!("unexpected result {k}"),
            };
            for r in c["results"].as_array().unwrap() {
                if r["kind"] == "failure" || r["kind"] == "error" {
                    let m = r["message"].as_str().unwrap();
                    assert!(
                        !m.contains('\n') && m.chars().count() <= 300,
                        "short message: {m}"
                    );
                    let body = r["text"].as_str().unwrap_or("");
                    assert!(
                        body.contains("request:") && body.contains("expected"),
                        "details in the body: {body}"
                    );
                }
            }
            seen.push((
                s["name"].as_str().unwrap().to_string(),
                c["name"].as_str().unwrap().to_string(),
                status.to_string(),
            ));
        }
    }
    seen.sort();
    assert_eq!(
        seen,
        statuses(json),
        "junitparser sees the JSON report's cases"
    );
    assert!(seen.iter().any(|(_, _, s)| s == "skipped"));
    assert!(seen.iter().any(|(_, _, s)| s == "failed"));
}

/// A loopback HTTP server: `/ok…` answers 200 at once, `/hang…` never answers, anything
/// else answers 503 `down`. Bounded to 64 connections; counts the connections it accepted.
async fn server() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    tokio::spawn(async move {
        for _ in 0..64 {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            h.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                let (status, body) = if req.starts_with("GET /ok") {
                    ("200 OK", "ok")
                } else if req.starts_with("GET /hang") {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    return;
                } else {
                    ("503 Service Unavailable", "down")
                };
                let resp = format!(
                    "HTTP/1.1 {status}\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
            });
        }
    });
    (addr, hits)
}

#[tokio::test(flavor = "multi_thread")]
async fn github_annotations_point_at_suite_lines_and_the_summary_is_appended() {
    let (addr, _) = server().await;
    let dir = tempfile::tempdir().unwrap();
    let planted = "PLANTED-gh-7f3a9c";
    let text = format!(
        "name: gh-probe
cases:
  - name: healthy
    request: {{ url: \"http://{addr}/ok\" }}
    expect: {{ status: 200 }}
  - name: broken <b>page</b> & \"quotes\"
    request:
      url: http://{addr}/broken
    expect:
      status: 200
      body:
        contains: [\"${{planted}}\"]
  - name: soft
    severity: warning
    request: {{ url: \"http://{addr}/soft\" }}
    expect: {{ status: 201 }}
"
    );
    let file = write_suite(dir.path(), "probe.yaml", &text);
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "# earlier step\n").unwrap();
    let html = dir.path().join("report.html");
    let run = smokegate(
        &[
            "run".into(),
            file,
            "--secret".into(),
            format!("planted={planted}"),
            "--report-html".into(),
            html.display().to_string(),
        ],
        &[
            ("GITHUB_ACTIONS".into(), "true".into()),
            ("GITHUB_STEP_SUMMARY".into(), summary.display().to_string()),
            ("GITHUB_WORKSPACE".into(), dir.path().display().to_string()),
        ],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    let notes: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("::")).collect();
    // One annotation per failing case, at its first failed expectation (status, line 10),
    // holding every failed expectation of the case (the body one too, with its line).
    let broken = notes
        .iter()
        .find(|l| l.contains("expected status 200, got 503"))
        .unwrap_or_else(|| panic!("annotation for the status: {notes:#?}"));
    assert!(
        broken.starts_with("::error file=probe.yaml,line=10,title=smokegate%3A gh-probe › broken <b>page</b> & \"quotes\"::expected status 200, got 503 [line 10]%0A"),
        "{broken}"
    );
    let case = run.case("broken <b>page</b> & \"quotes\"");
    let failed: Vec<&Value> = case["steps"][0]["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["passed"] == false)
        .collect();
    assert_eq!(failed.len(), 2, "{case}");
    for o in failed {
        let line = o["line"].as_u64().unwrap();
        assert!(broken.contains(&format!("[line {line}]")), "{broken}");
    }
    assert!(
        notes.iter().any(|n| n.starts_with(
            "::warning file=probe.yaml,line=16,title=smokegate%3A gh-probe › soft::expected status 201, got 503"
        )),
        "warning-severity failures are warnings: {notes:#?}"
    );
    assert!(!notes.iter().any(|n| n.contains("healthy")), "{notes:#?}");
    assert_eq!(notes.len(), 2, "{notes:#?}");
    // Blocking failures are annotated before warnings.
    assert!(notes[0].starts_with("::error"), "{notes:#?}");

    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.starts_with("# earlier step\n"), "appended, not replaced");
    assert!(md.contains("## smokegate: ❌ FAILED"), "{md}");
    assert!(
        md.contains("3** checks: 1 passed, 2 failed, 0 errors"),
        "{md}"
    );
    assert!(
        md.contains("| gh-probe › broken &lt;b&gt;page&lt;/b&gt; &amp; \"quotes\" | FAIL | yes | `probe.yaml:6` |"),
        "{md}"
    );
    assert!(
        md.contains("| gh-probe › soft | FAIL | no (warning) |"),
        "{md}"
    );
    assert!(md.contains("Timings"), "{md}");

    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("broken &lt;b&gt;page&lt;/b&gt; &amp; &quot;quotes&quot;"));
    assert!(!page.contains("<b>page</b>"), "case names are escaped");
    for out in [&run.stdout, &md, &page] {
        assert!(!out.contains(planted), "secret leaked:\n{out}");
    }
    assert!(md.contains("[REDACTED]") || run.stdout.contains("[REDACTED]"));
}

#[tokio::test(flavor = "multi_thread")]
async fn no_github_output_outside_github_actions() {
    let (addr, _) = server().await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_suite(
        dir.path(),
        "p.yaml",
        &format!("name: p\ncases:\n  - name: down\n    request: {{ url: \"http://{addr}/x\" }}\n"),
    );
    let run = smokegate(
        &["run".into(), file],
        &[("GITHUB_ACTIONS".into(), "".into())],
    )
    .await;
    assert_eq!(run.code, 1);
    assert!(!run.stdout.contains("::error"), "{}", run.stdout);
}

/// Load a page in headless Chromium and return the DOM after its scripts ran.
pub(crate) async fn chromium_dom(page: &Path) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut cmd = tokio::process::Command::new("chromium");
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--no-first-run",
        "--no-default-browser-check",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .arg("--dump-dom")
    .arg(format!("file://{}", page.display()))
    .stdin(Stdio::null())
    .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(90), cmd.output())
        .await
        .expect("chromium finishes within 90 s")
        .expect("chromium is installed (Debian `chromium`; .ci/run installs it)");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn html_report_is_self_contained_and_renders_the_counts_in_chromium() {
    let dep = SampleDeployment::start(&FAULTS).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("nested/report.html");
    let html_arg = html.display().to_string();
    let run = run_sample(
        &dep,
        &["c-api-storefront.yaml", "d-staged-promotion.yaml"],
        &["--report-html", &html_arg],
        &[],
    )
    .await;
    dep.shutdown();
    assert_eq!(run.code, 1, "{}", run.stdout);
    let page = std::fs::read_to_string(&html).expect("HTML report written");
    let remote =
        regex::Regex::new(r#"(?i)(src|href)\s*=\s*["']?\s*(https?:|//)|@import|url\("#).unwrap();
    assert!(
        !remote.is_match(&page),
        "no network assets: {:?}",
        remote.find(&page)
    );
    assert!(page.contains("<div id=\"timing\"") && page.contains("<details"));
    let json = run.json.as_ref().unwrap();
    let c = &json["counts"];
    let dom = chromium_dom(&html).await;
    // The page script ran: it counted the rows into the filter buttons.
    assert!(
        dom.contains(r#"<div id="filters" data-state="rendered">"#),
        "the page script ran:\n{dom}"
    );
    for (label, n) in [
        ("all", c["total"].clone()),
        ("passed", c["passed"].clone()),
        ("skipped", c["skipped"].clone()),
        ("flaky", c["flaky"].clone()),
    ] {
        assert!(
            dom.contains(&format!(">{label} ({n})</button>")),
            "{label} ({n}) in:\n{dom}"
        );
    }
    let problems_n = c["failed"].as_u64().unwrap() + c["errors"].as_u64().unwrap();
    assert!(dom.contains(&format!(">failed or error ({problems_n})</button>")));
    // No debug output on the page.
    assert!(
        !dom.contains("rendered-counts")
            && !dom.contains("(counts are computed")
            && !dom.contains(" passed=")
            && !dom.contains("\ntotal="),
        "{dom}"
    );
    assert!(dom.contains("smokegate: FAILED"));
    // Every non-passing case has expandable details, and so has every sampled case (its
    // aggregates are its verdict).
    let problems = json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] != "passed")
        .count();
    assert!(problems > 0);
    let detailed = json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] != "passed" || c.get("samples").is_some())
        .count();
    assert_eq!(dom.matches("<details id=\"case-").count(), detailed);
}

#[tokio::test(flavor = "multi_thread")]
async fn sharded_and_merged_equals_an_unsharded_run() {
    let dep = SampleDeployment::start(&FAULTS).await.unwrap();
    let all = [
        "a-worker-dashboard.yaml",
        "b-multi-env-health.yaml",
        "c-api-storefront.yaml",
        "d-staged-promotion.yaml",
        "e-platform-auth.yaml",
    ];
    let whole = run_sample(&dep, &all, &[], &[]).await;
    let whole_json = whole.json.clone().expect("unsharded report");
    let n = 3;
    let mut shards = Vec::new();
    for k in 1..=n {
        let shard = format!("{k}/{n}");
        let run = run_sample(&dep, &all, &["--shard", &shard], &[]).await;
        let j = run.json.as_ref().expect("shard report");
        assert_eq!(j["metadata"]["shard"], shard.as_str());
        assert!(
            j["counts"]["total"].as_u64().unwrap() > 0,
            "shard {shard} is not empty"
        );
        shards.push(run);
    }
    dep.shutdown();

    // Disjoint, and together exactly the unsharded cases; `needs` groups stay together.
    let mut union = Vec::new();
    for s in &shards {
        let mine = statuses(s.json.as_ref().unwrap());
        let names: BTreeSet<&str> = mine.iter().map(|(_, n, _)| n.as_str()).collect();
        if names.contains("auth smoke") {
            for w in ["api", "app", "mcp", "oauth", "webhooks"] {
                assert!(
                    names.contains(format!("health [worker={w}]").as_str()),
                    "auth smoke needs health [worker={w}]: same shard"
                );
            }
        }
        union.extend(mine);
    }
    union.sort();
    let expected = statuses(&whole_json);
    assert_eq!(union.len(), expected.len(), "no case in two shards");

    let out = tempfile::tempdir().unwrap();
    let merged_json = out.path().join("merged.json");
    let merged_junit = out.path().join("merged.xml");
    let mut args = vec!["merge".to_string()];
    args.extend(
        shards
            .iter()
            .map(|s| s.dir.path().join("report.json").display().to_string()),
    );
    args.extend([
        "--report-json".into(),
        merged_json.display().to_string(),
        "--report-junit".into(),
        merged_junit.display().to_string(),
    ]);
    let merged = smokegate(&args, &[]).await;
    assert_eq!(
        merged.code, whole.code,
        "same exit code: {}{}",
        merged.stdout, merged.stderr
    );
    let m: Value = serde_json::from_str(&std::fs::read_to_string(&merged_json).unwrap()).unwrap();
    validate_report(&m);
    assert_eq!(statuses(&m), expected, "same cases and statuses");
    assert_eq!(m["counts"], whole_json["counts"]);
    assert_eq!(m["verdict"], whole_json["verdict"]);
    assert_eq!(m["metadata"]["shards"], "3");
    assert!(
        merged.stdout.contains("verdict: FAILED"),
        "{}",
        merged.stdout
    );
    xmllint(&merged_junit);
    let parsed = junitparser(&merged_junit);
    let tests: u64 = parsed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["tests"].as_u64().unwrap())
        .sum();
    assert_eq!(tests, whole_json["counts"]["total"].as_u64().unwrap());

    // A missing shard is refused: its checks never ran.
    let partial = smokegate(&args[..3], &[]).await;
    assert_eq!(partial.code, 2, "{}", partial.stderr);
    assert!(partial.stderr.contains("3/3 missing"), "{}", partial.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn list_shards_partition_the_plan() {
    let dep = SampleDeployment::start(&[]).await.unwrap();
    let vars = dep.vars();
    dep.shutdown();
    let list = |extra: Vec<String>| {
        let vars = vars.clone();
        async move {
            let mut args = vec![
                "list".to_string(),
                root().join("suites").display().to_string(),
            ];
            args.extend(extra);
            let r = smokegate(&args, &vars).await;
            assert_eq!(r.code, 0, "{}", r.stderr);
            r.stdout.lines().map(str::to_string).collect::<Vec<_>>()
        }
    };
    let all = list(vec![]).await;
    let mut union = Vec::new();
    for k in 1..=4 {
        let part = list(vec!["--shard".into(), format!("{k}/4")]).await;
        assert_eq!(
            part,
            list(vec!["--shard".into(), format!("{k}/4")]).await,
            "deterministic"
        );
        union.extend(part);
    }
    let mut a = all.clone();
    a.sort();
    union.sort();
    assert_eq!(union, a);
    let bad = smokegate(&["list".into(), "--shard".into(), "5/4".into()], &[]).await;
    assert_eq!(bad.code, 2);
}

/// Start a real run against a server that hangs, send `signal` mid-flight, and check the
/// files it left.
/// Interrupt a run mid-flight with `signals` (one, or several in a row).
async fn interrupted_run(signals: &[&str]) {
    let (addr, hits) = server().await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_suite(
        dir.path(),
        "hang.yaml",
        &format!(
            "name: hang
cases:
  - name: quick
    request: {{ url: \"http://{addr}/ok\" }}
  - name: stuck one
    request: {{ url: \"http://{addr}/hang/1\" }}
  - name: stuck two
    request: {{ url: \"http://{addr}/hang/2\" }}
  - name: after stuck
    needs: [stuck one]
    request: {{ url: \"http://{addr}/ok/after\" }}
"
        ),
    );
    let json = dir.path().join("out/report.json");
    let junit = dir.path().join("out/junit.xml");
    let html = dir.path().join("out/report.html");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_smokegate"))
        .arg("run")
        .arg(&file)
        .args(["--timeout", "60s", "--report-json"])
        .arg(&json)
        .arg("--report-junit")
        .arg(&junit)
        .arg("--report-html")
        .arg(&html)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("smokegate starts");
    let pid = child.id().expect("pid").to_string();
    // Mid-flight: all three first requests reached the server (two of them hang).
    let t = Instant::now();
    while hits.load(Ordering::SeqCst) < 3 {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "requests reach the server"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let signal = signals.join("+");
    for (k, sig) in signals.iter().enumerate() {
        if k > 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let killed = std::process::Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(&pid)
            .status()
            .expect("kill runs");
        assert!(killed.success());
    }
    let out = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("smokegate stops within 20 s of the signal")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The first signal lets running checks finish within a grace period; a second stops
    // waiting at once.
    assert!(
        stdout.contains("stopping: interrupted; waiting up to 2s for 2 running checks"),
        "{stdout}"
    );
    assert_eq!(
        stdout.contains("stopping now: interrupted"),
        signals.len() > 1,
        "{stdout}"
    );
    assert_eq!(
        out.status.code(),
        Some(130),
        "SIG{signal}: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap())
        .expect("the JSON report parses");
    validate_report(&report);
    assert_eq!(report["cancelled"], "interrupted");
    assert_eq!(report["verdict"], "failed");
    let case = |name: &str| {
        report["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("case {name}"))
            .clone()
    };
    assert_eq!(case("quick")["status"], "passed");
    for name in ["stuck one", "stuck two", "after stuck"] {
        let c = case(name);
        assert_eq!(c["status"], "error", "{name}: {c}");
        assert!(
            c["message"].as_str().unwrap().contains("interrupted"),
            "{name}: {c}"
        );
    }
    assert!(case("after stuck")["message"]
        .as_str()
        .unwrap()
        .contains("not started"));
    xmllint(&junit);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("interrupted"));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("run stopped: interrupted"));
    let leftovers: Vec<PathBuf> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no half-written files: {leftovers:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_mid_flight_leaves_valid_reports_and_exits_130() {
    interrupted_run(&["TERM"]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_signal_stops_waiting_for_running_checks() {
    interrupted_run(&["INT", "TERM"]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigint_mid_flight_leaves_valid_reports_and_exits_130() {
    interrupted_run(&["INT"]).await;
}
