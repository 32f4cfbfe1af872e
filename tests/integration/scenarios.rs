//! Every bundled suite passes against the healthy sample deployment, and every broken
//! variant of SCENARIOS.md fails the matching suite with a message naming the cause.

use sample_deployment::Fault;

use crate::common::run_against;

const ALL: &[&str] = &[
    "a-worker-dashboard.yaml",
    "b-multi-env-health.yaml",
    "c-api-storefront.yaml",
    "d-staged-promotion.yaml",
    "e-platform-auth.yaml",
];

#[tokio::test(flavor = "multi_thread")]
async fn healthy_deployment_passes_every_bundled_suite() {
    let run = run_against(&[], ALL, &[]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("verdict: PASSED"), "{}", run.stdout);
    let counts = &run.json.as_ref().unwrap()["counts"];
    assert_eq!(counts["failed"], 0);
    assert_eq!(counts["errors"], 0);
    assert_eq!(counts["total"], counts["passed"]);
    assert!(counts["total"].as_u64().unwrap() >= 24);
    // JUnit records the address of every request, passes included.
    let junit = run.junit.as_deref().unwrap();
    assert!(
        junit.contains("<system-out>  request:  GET http://api-staging.tminus.test:"),
        "{junit}"
    );
    assert!(junit.contains("(address via override)"));
}

#[tokio::test(flavor = "multi_thread")]
async fn every_environment_of_scenario_b_and_d_passes() {
    for env in ["development", "staging", "production"] {
        let run = run_against(&[], &["b-multi-env-health.yaml"], &["--env", env]).await;
        assert_eq!(run.code, 0, "{env}: {}", run.stdout);
    }
    // Services × environments in one run: one suite instance per selected profile.
    let run = run_against(
        &[],
        &["b-multi-env-health.yaml"],
        &["--env", "development,staging,production"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.json.as_ref().unwrap()["counts"]["total"], 12);
    assert_eq!(
        run.case("billing health")["suite"],
        "b-multi-env-health [development]"
    );
    assert!(
        run.stdout
            .contains("b-multi-env-health [staging] › billing health"),
        "{}",
        run.stdout
    );
    let run = run_against(
        &[Fault::BServiceDown],
        &["b-multi-env-health.yaml"],
        &["--env", "development,staging,production"],
    )
    .await;
    assert_eq!(
        run.json.as_ref().unwrap()["counts"]["failed"],
        1,
        "only staging billing is down"
    );
    for env in ["staging", "production"] {
        let run = run_against(&[], &["d-staged-promotion.yaml"], &["--env", env]).await;
        assert_eq!(run.code, 0, "{env}: {}", run.stdout);
    }
}

/// (fault, suite, extra args, failing case, texts the failure must contain)
type Broken = (
    Fault,
    &'static str,
    &'static [&'static str],
    &'static str,
    &'static [&'static str],
);

const BROKEN: &[Broken] = &[
    (
        Fault::ABackendBindingBroken,
        "a-worker-dashboard.yaml",
        &[],
        "routed /api/status reaches the backend",
        &[
            "routed API call did not reach the backend",
            "expected status 200, got 502",
        ],
    ),
    (
        Fault::ABackendServedByUi,
        "a-worker-dashboard.yaml",
        &[],
        "routed /api/status reaches the backend",
        &[
            "routed API call did not reach the backend",
            "x-served-by",
            "owokx-dashboard",
        ],
    ),
    (
        Fault::AAuthNotForwarded,
        "a-worker-dashboard.yaml",
        &[],
        "/auth/session is forwarded to the backend auth handler",
        &[
            "auth route not forwarded to the backend",
            "expected status 200, got 404",
        ],
    ),
    (
        Fault::BServiceDown,
        "b-multi-env-health.yaml",
        &["--env", "staging"],
        "billing health",
        &["expected status 200, got 503"],
    ),
    (
        Fault::CDatabaseError,
        "c-api-storefront.yaml",
        &[],
        "api health",
        &[
            "expected status 200, got 503",
            "database unhealthy",
            "expected \"ok\", got \"error\"",
        ],
    ),
    (
        Fault::CStorefrontDown,
        "c-api-storefront.yaml",
        &[],
        "storefront home page loads",
        &["expected status 200, got 500"],
    ),
    (
        Fault::CWrongEnvironment,
        "c-api-storefront.yaml",
        &[],
        "api health",
        &[
            "wrong environment reported",
            "expected \"production\", got \"staging\"",
        ],
    ),
    (
        Fault::CStorefrontSlow,
        "c-api-storefront.yaml",
        &[],
        "storefront home page loads",
        &["budget BROKEN p95", "sample budgets broken: p95 8"],
    ),
    (
        Fault::DLoginFails,
        "d-staged-promotion.yaml",
        &[],
        "auth smoke",
        &[
            "login failed",
            "expected status 200, got 500",
            "JWT_SECRET is not configured",
        ],
    ),
    (
        Fault::DAuthBypass,
        "d-staged-promotion.yaml",
        &[],
        "auth smoke",
        &["auth bypass", "expected status 401, got 200"],
    ),
    (
        Fault::DWorkerDown,
        "d-staged-promotion.yaml",
        &[],
        "health [worker=webhooks]",
        &["expected status 200, got 503"],
    ),
    (
        Fault::DLegacyHealth,
        "d-staged-promotion.yaml",
        &[],
        "health [worker=api]",
        &["legacy format, expected enriched"],
    ),
    (
        Fault::DWorkerMisrouted,
        "d-staged-promotion.yaml",
        &[],
        "health [worker=oauth]",
        &["expected \"tminus-oauth\", got \"tminus-api\""],
    ),
    (
        Fault::EHealthOpen,
        "e-platform-auth.yaml",
        &[],
        "anonymous health is refused with 401",
        &[
            "health must require an API key",
            "expected status 401, got 200",
        ],
    ),
    (
        Fault::EForbiddenInsteadOf401,
        "e-platform-auth.yaml",
        &[],
        "anonymous health is refused with 401",
        &["expected status 401, got 403"],
    ),
    (
        Fault::EDispatcherMisroute,
        "e-platform-auth.yaml",
        &[],
        "dispatcher routes gateway.do to the gateway worker",
        &[
            "dispatcher routed the subdomain to the wrong worker",
            "x-worker",
        ],
    ),
];

#[tokio::test(flavor = "multi_thread")]
async fn every_broken_variant_fails_with_its_cause() {
    assert_eq!(BROKEN.len(), Fault::all().len(), "every fault has a row");
    for (fault, suite, extra, case, texts) in BROKEN {
        let run = run_against(&[*fault], &[suite], extra).await;
        assert_eq!(run.code, 1, "{fault}: exit code\n{}", run.stdout);
        assert!(
            run.stdout.contains("verdict: FAILED"),
            "{fault}: {}",
            run.stdout
        );
        let c = run.case(case);
        assert_eq!(
            c["status"], "failed",
            "{fault}: case `{case}` should fail: {c:#}"
        );
        for t in *texts {
            assert!(
                run.stdout.contains(t),
                "{fault}: console lacks `{t}`:\n{}",
                run.stdout
            );
            let junit = run.junit.as_deref().unwrap_or_default();
            let xml_t = t.replace('"', "&quot;");
            assert!(
                junit.contains(t) || junit.contains(&xml_t),
                "{fault}: JUnit lacks `{t}`"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_health_gate_skips_the_smoke_flow() {
    let run = run_against(&[Fault::DWorkerDown], &["d-staged-promotion.yaml"], &[]).await;
    let smoke = run.case("auth smoke");
    assert_eq!(smoke["status"], "skipped");
    assert!(
        smoke["message"]
            .as_str()
            .unwrap()
            .contains("health [worker=webhooks]"),
        "{smoke}"
    );
    assert!(run.junit.unwrap().contains("<skipped"));
}

#[tokio::test(flavor = "multi_thread")]
async fn failure_names_request_address_status_and_body() {
    let run = run_against(&[Fault::DLoginFails], &["d-staged-promotion.yaml"], &[]).await;
    let out = &run.stdout;
    assert!(
        out.contains("POST http://api-staging.tminus.test:"),
        "{out}"
    );
    assert!(
        out.contains("→ 127.0.0.1:"),
        "connected address shown: {out}"
    );
    assert!(out.contains("address via override"), "{out}");
    assert!(out.contains("response: 500"), "{out}");
    assert!(out.contains("body:"), "{out}");
    let step = &run.case("auth smoke")["steps"][2];
    assert_eq!(step["name"], "log in");
    assert_eq!(step["request"]["resolved_by"], "override");
    assert!(step["request"]["connected_to"]
        .as_str()
        .unwrap()
        .starts_with("127.0.0.1:"));
    assert_eq!(step["response"]["status"], 500);
}

/// `demo` runs the suites embedded in the binary, whatever folder it starts in: a `suites/`
/// folder there (a user's real suites, real hosts) is never read.
#[tokio::test(flavor = "multi_thread")]
async fn demo_runs_its_embedded_suites_from_any_folder() {
    let cwd = tempfile::tempdir().unwrap();
    std::fs::create_dir(cwd.path().join("suites")).unwrap();
    std::fs::write(
        cwd.path().join("suites/real.yaml"),
        "name: users-real-suite\ncases:\n  - name: prod\n    request: { url: \"http://127.0.0.1:9/\" }\n",
    )
    .unwrap();
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_smokegate"))
            .arg("demo")
            .current_dir(cwd.path())
            .env("NO_COLOR", "1")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("demo finishes")
    .expect("demo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("the bundled suites (a-worker-dashboard.yaml"),
        "{stdout}"
    );
    assert!(!stdout.contains("users-real-suite"), "{stdout}");
    assert!(stdout.contains("verdict: PASSED"), "{stdout}");
    assert!(cwd.path().join("smokegate-reports/junit.xml").is_file());
    // The reports point at the suites the demo ran, which are still there.
    let report = std::fs::read_to_string(cwd.path().join("smokegate-reports/report.json")).unwrap();
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    for case in report["cases"].as_array().unwrap() {
        let file = case["suite_file"].as_str().unwrap();
        assert!(
            std::path::Path::new(file).is_file() || cwd.path().join(file).is_file(),
            "{file}"
        );
    }
}

/// Scenario C's runbook metric, P95 under 500 ms, is judged over samples of the storefront:
/// healthy, it holds; with every 10th response delayed 800 ms (2 of 20 samples, above the
/// 95th percentile), it breaks — though each response passes its own checks.
#[tokio::test(flavor = "multi_thread")]
async fn storefront_p95_budget_holds_when_healthy_and_breaks_with_a_slow_tail() {
    let budget = |c: &serde_json::Value, name: &str| {
        c["samples"]["budgets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["budget"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no budget {name}: {c:#}"))
    };
    let healthy = run_against(&[], &["c-api-storefront.yaml"], &[]).await;
    assert_eq!(healthy.code, 0, "{}", healthy.stdout);
    for name in ["api health", "storefront home page loads"] {
        let c = healthy.case(name);
        assert_eq!(c["status"], "passed", "{c:#}");
        assert_eq!(c["samples"]["count"], 20);
        assert_eq!(c["samples"]["planned"], "count 20, concurrency 4");
        assert_eq!(budget(c, "p95")["expected"], "<= 500ms");
        assert_eq!(budget(c, "p95")["passed"], true);
    }

    let slow = run_against(&[Fault::CStorefrontSlow], &["c-api-storefront.yaml"], &[]).await;
    assert_eq!(slow.code, 1, "{}", slow.stdout);
    assert_eq!(slow.case("api health")["status"], "passed");
    let c = slow.case("storefront home page loads");
    assert_eq!(c["status"], "failed", "{c:#}");
    let s = &c["samples"];
    assert_eq!(
        (s["count"].as_u64(), s["passed"].as_u64()),
        (Some(20), Some(20))
    );
    assert!(s["latency_ms"]["p95"].as_f64().unwrap() >= 800.0, "{s:#}");
    assert_eq!(budget(c, "p95")["passed"], false);
    assert_eq!(budget(c, "failure_rate")["passed"], true);
    let msg = c["message"].as_str().unwrap();
    assert!(
        msg.starts_with("1 of 2 sample budgets broken: p95 ")
            && msg.ends_with("(expected <= 500ms)"),
        "{msg}"
    );
}
