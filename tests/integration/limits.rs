//! Issue 11: tiny hostile inputs that used to hang smokegate, exhaust its memory or flood its
//! error output — nested JSONPath filters, variables doubling each other ("billion laughs"),
//! a huge matrix, a long variable chain, errors on thousands of lines, a shard report
//! claiming 10^8 shards — now get exit 0 or 2 at once, with a message naming the limit.
//! (The time bound here only guards against a hang; speed is measured in `bench/`.)

use std::time::{Duration, Instant};

use crate::common::{smokegate, write_suite};

const HEAD: &str = "name: s\ncases:\n  - name: a\n    request: { url: 'http://127.0.0.1:9/' }\n";

fn nested_filters(depth: usize) -> String {
    format!("$.x{}{}", "[?(@.a".repeat(depth), ")]".repeat(depth))
}

/// Every hostile suite, the exit code it must get and words its errors must contain.
fn cases() -> Vec<(&'static str, String, i32, &'static str)> {
    let jp = |p: String| {
        format!("{HEAD}    expect:\n      jsonpath:\n        - {{ path: \"{p}\", exists: true }}\n")
    };
    let mut laughs = String::from("name: s\nvars:\n  a0: 'lolololololololololo'\n");
    for i in 1..30 {
        let p = i - 1;
        laughs.push_str(&format!("  a{i}: '${{a{p}}}${{a{p}}}${{a{p}}}${{a{p}}}'\n"));
    }
    laughs.push_str("cases:\n  - name: a\n    request: { url: 'http://127.0.0.1:9/${a29}' }\n");
    let mut matrix = String::from("name: s\ncases:\n  - name: a\n    matrix:\n");
    for k in 0..10 {
        matrix.push_str(&format!("      k{k}: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n"));
    }
    matrix.push_str("    request: { url: 'http://127.0.0.1:9/' }\n");
    let mut chain = String::from("name: s\nvars:\n  v0: x\n");
    for i in 1..8000 {
        chain.push_str(&format!("  v{i}: '${{v{}}}'\n", i - 1));
    }
    chain.push_str("cases:\n  - name: a\n    request: { url: 'http://127.0.0.1:9/${v7999}' }\n");
    let mut undefined = String::from("name: s\ncases:\n");
    for i in 0..2000 {
        undefined.push_str(&format!(
            "  - name: c{i}\n    request: {{ url: 'http://127.0.0.1:9/{}' }}\n",
            "${nope}".repeat(40)
        ));
    }
    // v10 doubles a 1000-character value to just under 1 MiB (within the variable limit).
    let mut doubling = String::from("vars:\n  v0: '");
    doubling.push_str(&"x".repeat(1000));
    doubling.push_str("'\n");
    for i in 1..=10 {
        doubling.push_str(&format!("  v{i}: '${{v{p}}}${{v{p}}}'\n", p = i - 1));
    }
    let big_name = format!(
        "name: s\n{doubling}cases:\n  - name: '${{v10}} ${{a}}'\n    matrix: {{ a: [1, 2] }}\n    request: {{ url: 'http://127.0.0.1:9/' }}\n"
    );
    let values: Vec<String> = (0..20).map(|i| i.to_string()).collect();
    let held = format!(
        "name: s\n{doubling}cases:\n  - name: c\n    matrix: {{ a: [{0}], b: [{0}] }}\n    request: {{ url: 'http://127.0.0.1:9/' }}\n",
        values.join(", ")
    );
    // Two matrices of 100 cases holding ~2 MB each: each under the budget, together over it.
    let values: Vec<String> = (0..100).map(|i| i.to_string()).collect();
    let mut held_twice = format!("name: s\n{doubling}cases:\n");
    for c in 0..2 {
        held_twice.push_str(&format!(
            "  - name: c{c}\n    matrix: {{ a: [{}] }}\n    request: {{ url: 'http://127.0.0.1:9/' }}\n",
            values.join(", ")
        ));
    }
    let values: Vec<String> = (0..99).map(|i| i.to_string()).collect();
    let mut many = String::from("name: s\ncases:\n");
    for c in 0..11 {
        many.push_str(&format!(
            "  - name: c{c}\n    matrix: {{ a: [{0}], b: [{0}] }}\n    request: {{ url: 'http://127.0.0.1:9/' }}\n",
            values.join(", ")
        ));
    }
    vec![
        ("huge case name", big_name, 2, "the case name would be"),
        (
            "matrix holding big variables",
            held,
            2,
            "would hold more than",
        ),
        (
            "matrices holding big variables together",
            held_twice,
            2,
            "would hold more than",
        ),
        ("too many cases", many, 2, "more than 100000 cases"),
        (
            "filters 4 deep",
            jp("$..[?@..[?@..[?@..[?@ == 2]]]]".into()),
            2,
            "filters nest 4 deep",
        ),
        (
            "filters 22 deep",
            jp(nested_filters(22)),
            2,
            "the limit is 8",
        ),
        (
            "filters 3000 deep",
            jp(nested_filters(3000)),
            2,
            "the limit is 4096",
        ),
        (
            "billion laughs",
            laughs,
            2,
            "more than the limit of 1048576",
        ),
        (
            "10x10 matrix",
            matrix,
            2,
            "the limit is 10000 cases per matrix",
        ),
        ("8000-deep chain", chain, 0, "ok: 1 suite,"),
        ("2000 errors", undefined, 2, "more errors not shown"),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_suites_get_a_quick_bounded_answer_naming_the_limit() {
    for (name, text, code, words) in cases() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_suite(dir.path(), "s.yaml", &text);
        let started = Instant::now();
        let run = smokegate(&["validate".into(), path], &[]).await;
        let took = started.elapsed();
        assert_eq!(
            run.code,
            code,
            "{name}: {}",
            &run.stderr[..run.stderr.len().min(2000)]
        );
        assert!(
            (run.stdout.clone() + &run.stderr).contains(words),
            "{name}: {}",
            &run.stderr[..run.stderr.len().min(2000)]
        );
        assert!(took < Duration::from_secs(10), "{name}: took {took:?}");
        assert!(
            run.stderr.len() < 100_000,
            "{name}: {} bytes of errors",
            run.stderr.len()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_report_claiming_a_hundred_million_shards_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let report = serde_json::json!({
        "schema_version": "1.0", "smokegate_version": "0.1.0", "run_id": "abc", "started_at": "2026-01-01T00:00:00Z",
        "duration_ms": 1, "verdict": "passed", "insecure": false, "cancelled": null, "suites": [], "profiles": [],
        "metadata": {"shard": "1/100000000"},
        "counts": {"total": 0, "passed": 0, "failed": 0, "errors": 0, "skipped": 0, "flaky": 0, "warnings": 0},
        "cases": []
    });
    let path = dir.path().join("r.json");
    std::fs::write(&path, report.to_string()).unwrap();
    let run = smokegate(
        &[
            "merge".into(),
            path.display().to_string(),
            "--report-json".into(),
            dir.path().join("m.json").display().to_string(),
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("N <= 1000"), "{}", run.stderr);
}

/// A JSON body repeating a large variable is refused before it is built, not after
/// gigabytes of memory.
#[tokio::test(flavor = "multi_thread")]
async fn a_body_that_would_be_huge_is_refused_before_it_is_built() {
    let mut suite = String::from("name: s\nvars:\n  v0: '");
    suite.push_str(&"x".repeat(1000));
    suite.push_str("'\n");
    for i in 1..=10 {
        suite.push_str(&format!("  v{i}: '${{v{p}}}${{v{p}}}'\n", p = i - 1));
    }
    let refs: Vec<&str> = (0..40).map(|_| "'${v10}'").collect();
    suite.push_str(&format!(
        "cases:\n  - name: big\n    request: {{ method: POST, url: 'http://127.0.0.1:9/', json: [{}] }}\n",
        refs.join(", ")
    ));
    let dir = tempfile::tempdir().unwrap();
    let path = write_suite(dir.path(), "s.yaml", &suite);
    let run = smokegate(&["run".into(), path], &[]).await;
    let shown = &run.stdout[..run.stdout.len().min(2000)];
    assert_eq!(run.code, 1, "{shown}");
    assert!(run.stdout.contains("larger than"), "{shown}");
}
