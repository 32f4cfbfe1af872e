//! Malformed suites: an error naming file, line, column and what was expected; exit code 2;
//! and nothing sent (a tripwire listener sees no connection).

use crate::common::{smokegate, write_suite, Tripwire};

/// (file name, suite text with URL placeholder ADDR, expected `:line:column`, expected text)
const CASES: &[(&str, &str, &str, &str)] = &[
    (
        "unknown-field.yaml",
        "name: s\ncases:\n  - name: a\n    request:\n      url: http://ADDR/\n    expct:\n      status: 200\n",
        ":6:5",
        "unknown field `expct`",
    ),
    (
        "wrong-type.yaml",
        "name: s\ncases:\n  - name: a\n    request:\n      url: http://ADDR/\n    retry:\n      attempts: lots\n",
        ":7:17",
        "invalid u32",
    ),
    (
        "bad-jsonpath.yaml",
        "name: s\ncases:\n  - name: a\n    request:\n      url: http://ADDR/\n    expect:\n      jsonpath:\n        - { path: \"$.data[?\", exists: true }\n",
        ":8:11",
        "invalid JSONPath `$.data[?`",
    ),
    (
        "bad-schema.yaml",
        "name: s\ncases:\n  - name: a\n    request:\n      url: http://ADDR/\n    expect:\n      schema:\n        inline: { type: 12 }\n",
        ":8:9",
        "invalid JSON Schema",
    ),
    (
        "missing-schema.yaml",
        "name: s\ncases:\n  - name: a\n    request:\n      url: http://ADDR/\n    expect:\n      schema: nope/missing.schema.json\n",
        ":7:15",
        "schema file `",
    ),
    (
        "undefined-var.yaml",
        "name: s\nvars:\n  base: http://ADDR\ncases:\n  - name: a\n    request:\n      url: ${base}/x/${missing}\n",
        ":7:7",
        "undefined variable `missing`",
    ),
    (
        "missing-env.yaml",
        "name: s\ncases:\n  - name: a\n    request:\n      url: ${env.SMOKEGATE_TEST_SURELY_UNSET}/health\n",
        ":5:7",
        "environment variable `SMOKEGATE_TEST_SURELY_UNSET` is not set",
    ),
    (
        "bad-status.yaml",
        "name: s\ncases:\n  - name: a\n    request:\n      url: http://ADDR/\n    expect:\n      status: 2xy\n",
        ":7:7",
        "invalid status `2xy`",
    ),
    (
        "yaml-syntax.yaml",
        "name: s\ncases:\n  - name: [a\n    request:\n      url: http://ADDR/\n",
        ":3:11",
        "",
    ),
    (
        "capture-before-use.yaml",
        "name: s\ncases:\n  - name: a\n    steps:\n      - name: uses token too early\n        request:\n          url: http://ADDR/${token}\n      - name: captures it\n        request:\n          url: http://ADDR/\n        capture:\n          token: { header: x-token }\n",
        ":7:11",
        "undefined variable `token`",
    ),
];

#[tokio::test(flavor = "multi_thread")]
async fn malformed_suites_are_located_and_nothing_is_sent() {
    let trip = Tripwire::start().await;
    let dir = tempfile::tempdir().unwrap();
    for (name, text, at, what) in CASES {
        let path = write_suite(
            dir.path(),
            name,
            &text.replace("ADDR", &trip.addr.to_string()),
        );
        for cmd in ["run", "validate"] {
            let mut args = vec![cmd.to_string(), path.clone()];
            if cmd == "validate" && name.starts_with("missing-env") {
                // validate tolerates unset env variables unless asked not to.
                args.push("--require-env".into());
            }
            let run = smokegate(&args, &[]).await;
            assert_eq!(run.code, 2, "{name} ({cmd}): exit code 2\n{}", run.stderr);
            let loc = format!("{path}{at}");
            assert!(
                run.stderr.contains(&loc),
                "{name} ({cmd}): expected `{loc}` in:\n{}",
                run.stderr
            );
            assert!(
                run.stderr.contains(what),
                "{name} ({cmd}): expected `{what}` in:\n{}",
                run.stderr
            );
            assert!(
                run.stderr.contains('^'),
                "{name}: caret under the span:\n{}",
                run.stderr
            );
        }
    }
    assert_eq!(trip.count(), 0, "nothing may be sent for an invalid suite");
}

#[tokio::test(flavor = "multi_thread")]
async fn command_line_errors_exit_2() {
    let trip = Tripwire::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ok = write_suite(
        dir.path(),
        "ok.yaml",
        &format!(
            "name: s\ncases:\n  - name: a\n    request:\n      url: http://{}/\n",
            trip.addr
        ),
    );
    for args in [
        vec![
            "run".to_string(),
            ok.clone(),
            "--var".into(),
            "novalue".into(),
        ],
        vec![
            "run".to_string(),
            ok.clone(),
            "--resolve".into(),
            "bad".into(),
        ],
        vec![
            "run".to_string(),
            ok.clone(),
            "--env".into(),
            "nope".into(),
            "--bogus-flag".into(),
        ],
        vec!["run".to_string(), "/definitely/not/here.yaml".into()],
        vec![
            "run".to_string(),
            ok.clone(),
            "--filter".into(),
            "matches-nothing".into(),
        ],
    ] {
        let run = smokegate(&args, &[]).await;
        assert_eq!(run.code, 2, "{args:?}\n{}", run.stderr);
    }
    assert_eq!(trip.count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn validate_accepts_the_bundled_suites() {
    let run = smokegate(
        &[
            "validate".into(),
            crate::common::root().join("suites").display().to_string(),
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("5 suite(s)"), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn suites_beyond_the_default_yaml_budget_load() {
    // serde-saphyr's default budget (250,000 nodes) stops near 11,000 cases.
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("name: big\ncases:\n");
    for i in 0..12_000 {
        text.push_str(&format!(
            "  - name: c{i}\n    request: {{ url: \"http://127.0.0.1:9/health\" }}\n    expect:\n      status: 200\n      jsonpath:\n        - {{ path: $.ok, equals: true }}\n"
        ));
    }
    let path = write_suite(dir.path(), "big.yaml", &text);
    let run = smokegate(&["validate".into(), path], &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("12000 case(s)"), "{}", run.stdout);
}
