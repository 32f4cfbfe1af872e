//! Golden outputs: the console and JSON report of the bundled suites against the sample
//! deployment, healthy and with every fault, compared with `tests/golden/`. Timings (sampled
//! latency percentiles included), ports, run ids and temporary paths are normalised. `SMOKEGATE_BLESS=1 cargo test golden`
//! rewrites the files (review the diff: the output is a contract).

use regex::Regex;
use sample_deployment::Fault;
use serde_json::Value;

use crate::common::{root, run_against};

/// Replace what changes from run to run.
fn normalise(text: &str) -> String {
    let rules = [
        (r"\(\d+ ms\)", "(N ms)"),
        (r"\b\d+ ms\b", "N ms"),
        (r"in \d+\.\d+ s", "in N s"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:PORT"),
        (r"(\.test|\.example|localhost):\d+", "$1:PORT"),
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "UUID",
        ),
        (r"smoke\+[0-9a-f]{16}@", "smoke+ID@"),
        (
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
            "TIMESTAMP",
        ),
        (r"\b1\d{9}\b", "UNIX"),
        (r"/[^\s:]*/suites/", "SUITES/"),
        // The reports a run names are in a temporary folder.
        (r"(?m)^reports: .*$", "reports: REPORTS"),
        // Latency percentiles of sampled checks (`p95 0.512ms`, `p95: 801.4ms`); budgets as
        // written (`expected <= 500ms`) stay.
        (r"\b(p50|p90|p95|p99|max)(:?) \d+(?:\.\d+)?ms\b", "$1$2 Nms"),
    ];
    let mut out = text.to_string();
    for (pat, with) in rules {
        out = Regex::new(pat)
            .unwrap()
            .replace_all(&out, with)
            .into_owned();
    }
    out
}

/// The JSON report without the fields that change from run to run.
fn stable(mut v: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for k in ["duration_ms", "started_at", "run_id", "smokegate_version"] {
                    m.remove(k);
                }
                // Sampled latencies: the keys stay, the measured values do not.
                if let Some(Value::Object(l)) = m.get_mut("latency_ms") {
                    l.values_mut().for_each(|x| *x = Value::from("N"));
                }
                let latency_budget = m
                    .get("budget")
                    .and_then(Value::as_str)
                    .is_some_and(|b| matches!(b, "p50" | "p90" | "p95" | "p99" | "max"));
                if latency_budget {
                    m.insert("actual".into(), Value::from("Nms"));
                }
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

/// Compare with the golden file `name`; the difference, if any.
fn check(name: &str, actual: &str) -> Option<String> {
    let path = root().join("tests/golden").join(name);
    if std::env::var_os("SMOKEGATE_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return None;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (SMOKEGATE_BLESS=1 cargo test golden writes it)",
            path.display()
        )
    });
    if expected == actual {
        return None;
    }
    let diff: Vec<String> = expected
        .lines()
        .zip(actual.lines())
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .take(10)
        .map(|(i, (a, b))| format!("line {}:\n  - {a}\n  + {b}", i + 1))
        .collect();
    Some(format!(
        "{name} differs from the golden file ({} vs {} lines):\n{}",
        expected.lines().count(),
        actual.lines().count(),
        diff.join("\n")
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn bundled_suites_match_their_golden_outputs() {
    let suites = root().join("suites").display().to_string();
    let mut faults: Vec<Option<Fault>> = vec![None];
    faults.extend(Fault::all().iter().copied().map(Some));
    let mut differences = Vec::new();
    for fault in faults {
        let name = fault.map_or("healthy", Fault::name);
        let list: Vec<Fault> = fault.into_iter().collect();
        // One case at a time: the console order is then the plan's.
        let run = run_against(&list, &[suites.as_str()], &["--jobs", "1"]).await;
        differences.extend(check(
            &format!("{name}.console.txt"),
            &normalise(&run.stdout),
        ));
        if matches!(name, "healthy" | "d-login-fails" | "b-service-down") {
            let report = stable(run.json.clone().expect("JSON report"));
            let text = serde_json::to_string_pretty(&report).unwrap() + "\n";
            differences.extend(check(&format!("{name}.report.json"), &normalise(&text)));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n\n"));
}
