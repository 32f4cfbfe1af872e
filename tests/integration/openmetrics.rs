//! `--report-openmetrics FILE` (issue 15): the file is parsed by the strict OpenMetrics parser
//! of the Python `prometheus_client` (pinned in tests/real/requirements.txt, installed by
//! scripts/test), and its values agree with the JSON report.

use serde_json::Value;

use crate::common::{loopback_http, smokegate, write_suite};

/// Parse an OpenMetrics text file with `prometheus_client`'s strict parser: a list of
/// `[family, type, sample name, labels, value]`.
pub(crate) fn parse_openmetrics(
    path: &std::path::Path,
) -> Vec<(String, String, String, Value, f64)> {
    let script = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
text = open(sys.argv[1], encoding="utf-8").read()
out = []
for fam in text_string_to_metric_families(text):
    for s in fam.samples:
        out.append([fam.name, fam.type, s.name, s.labels, s.value])
print(json.dumps(out))
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .output()
        .expect("python3 runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("No module named 'prometheus_client'"),
        "the OpenMetrics parser is missing: install it with `python3 -m pip install --user -r tests/real/requirements.txt` (scripts/test does)"
    );
    assert!(
        out.status.success(),
        "the strict OpenMetrics parser rejects the file: {stderr}\n{}",
        std::fs::read_to_string(path).unwrap_or_default()
    );
    let v: Vec<(String, String, String, Value, f64)> =
        serde_json::from_slice(&out.stdout).expect("parser output is JSON");
    v
}

#[tokio::test]
async fn openmetrics_report_parses_strictly_and_carries_checks_samples_and_totals() {
    let counter = std::sync::atomic::AtomicUsize::new(0);
    let addr = loopback_http(200, move |req| {
        if req.starts_with("GET /broken") {
            return ("503 Service Unavailable", b"no".to_vec());
        }
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        if n % 10 == 0 {
            return ("500 Internal Server Error", b"boom".to_vec());
        }
        ("200 OK", b"ok".to_vec())
    });
    let dir = tempfile::tempdir().unwrap();
    let path = write_suite(
        dir.path(),
        "s.yaml",
        &format!(
            "name: om \"suite\"\ncases:\n  - name: sampled\n    request: {{ url: \"http://{addr}/s\" }}\n    samples: {{ count: 40, concurrency: 4 }}\n    expect_samples: {{ p95: 5s, failure_rate: \"< 20%\" }}\n  - name: broken om-secret-token-42\n    request: {{ url: \"http://{addr}/broken\" }}\n"
        ),
    );
    let om = dir.path().join("metrics.prom");
    let secret = "om-secret-token-42";
    let run = smokegate(
        &[
            "run".into(),
            path,
            "--secret".into(),
            format!("token={secret}"),
            "--report-openmetrics".into(),
            om.display().to_string(),
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let text = std::fs::read_to_string(&om).expect("OpenMetrics file written");
    assert!(!text.contains(secret), "{text}");
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert!(!text.contains("000000001"), "no binary-float tails: {text}");
    let samples = parse_openmetrics(&om);
    let find = |name: &str, case: Option<&str>, extra: Option<(&str, &str)>| -> f64 {
        samples
            .iter()
            .find(|(_, _, n, l, _)| {
                n == name
                    && case.is_none_or(|c| l["case"] == c)
                    && extra.is_none_or(|(k, v)| l[k] == v)
            })
            .unwrap_or_else(|| panic!("no {name} {case:?} {extra:?} in {text}"))
            .4
    };
    // A name holding a secret value is masked in the labels too.
    let broken = "broken [REDACTED]";
    assert_eq!(find("smokegate_check_passed", Some("sampled"), None), 1.0);
    assert_eq!(find("smokegate_check_passed", Some(broken), None), 0.0);
    assert!(samples
        .iter()
        .any(|(_, _, n, l, _)| n == "smokegate_check_passed" && l["suite"] == "om \"suite\""));
    assert_eq!(find("smokegate_sample_count", Some("sampled"), None), 40.0);
    assert_eq!(
        find("smokegate_sample_failure_ratio", Some("sampled"), None),
        0.1
    );
    assert_eq!(
        find(
            "smokegate_sample_latency_seconds_count",
            Some("sampled"),
            None
        ),
        40.0
    );
    let json = run.case("sampled");
    let p95 = json["samples"]["latency_ms"]["p95"].as_f64().unwrap();
    let om_p95 = find(
        "smokegate_sample_latency_seconds",
        Some("sampled"),
        Some(("quantile", "0.95")),
    );
    assert!((om_p95 * 1000.0 - p95).abs() < 1e-6, "{om_p95} vs {p95}");
    assert_eq!(
        find(
            "smokegate_sample_budget_passed",
            Some("sampled"),
            Some(("budget", "failure_rate"))
        ),
        1.0
    );
    assert_eq!(
        find("smokegate_run_checks", None, Some(("status", "passed"))),
        1.0
    );
    assert_eq!(
        find("smokegate_run_checks", None, Some(("status", "failed"))),
        1.0
    );
    assert_eq!(find("smokegate_run_passed", None, None), 0.0);
    let family = samples
        .iter()
        .find(|(_, _, n, _, _)| n == "smokegate_sample_latency_seconds")
        .unwrap();
    assert_eq!(family.1, "summary");
}
