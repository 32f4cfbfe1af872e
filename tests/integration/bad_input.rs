//! Malformed suites: an error naming file, line, column and what was expected; exit code 2;
//! and nothing sent (a tripwire listener sees no connection).

use crate::common::{smokegate, write_suite, Tripwire};

/// The `error: …` lines of a command's stderr (one per diagnostic).
fn error_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.starts_with("error")).collect()
}

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
        ":7:12",
        "undefined variable `missing`",
    ),
    (
        "missing-env.yaml",
        "name: s\ncases:\n  - name: a\n    request:\n      url: ${env.SMOKEGATE_TEST_SURELY_UNSET}/health\n",
        ":5:12",
        "environment variable `SMOKEGATE_TEST_SURELY_UNSET` is not set",
    ),
    (
        "bad-status.yaml",
        "name: s\ncases:\n  - name: a\n    request:\n      url: http://ADDR/\n    expect:\n      status: 2xy\n",
        ":7:15",
        "invalid status `2xy`",
    ),
    (
        "bad-matrix-value.yaml",
        "name: s\ncases:\n  - name: a ${w.x}\n    matrix:\n      w:\n        - { x: 1 }\n        - { x: [1, 2] }\n    request:\n      url: http://ADDR/\n",
        ":7:11",
        "matrix `w`: a value must be a text",
    ),
    (
        "secret-in-bad-url.yaml",
        "name: s\nvars: { t: s3cret-v4lue }\nsecrets: [t]\ncases:\n  - name: a\n    request:\n      url: ftp://x/${t}\n",
        ":7:12",
        "`ftp://x/[REDACTED]`",
    ),
    (
        "connect-method.yaml",
        "name: s\ncases:\n  - name: a\n    request:\n      method: CONNECT\n      url: http://ADDR/path\n",
        ":5:15",
        "CONNECT opens a tunnel",
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
        ":7:16",
        "undefined variable `token`",
    ),
    // Regressions (issue 9): each of these passed `validate` and failed, or panicked, at
    // run time.
    (
        "not-a-url.yaml",
        "name: s\ncases:\n  - name: a\n    request:\n      url: not a url at all\n",
        ":5:12",
        "invalid URL `not a url at all`: expected an absolute http:// or https:// URL",
    ),
    (
        "ftp-url.yaml",
        "name: s\ncases:\n  - name: a\n    request:\n      url: ftp://x.test/\n",
        ":5:12",
        "unsupported URL scheme `ftp` in `ftp://x.test/`: expected http or https",
    ),
    (
        "ftp-url-with-capture.yaml",
        "name: s\ncases:\n  - name: a\n    steps:\n      - name: one\n        request: { url: http://ADDR/ }\n        capture: { p: { header: x-p } }\n      - name: two\n        request:\n          url: ftp://x.test/${p}\n",
        ":10:16",
        "unsupported URL scheme `ftp`: expected http or https",
    ),
    (
        "huge-backoff.yaml",
        "name: s\ncases:\n  - name: a\n    request:\n      url: http://ADDR/\n    retry: {attempts: 3, interval: 10ms, backoff: 1e300}\n",
        ":6:51",
        "retry.backoff multiplies the interval after each attempt: it must be between 1 and 10, got 1e300",
    ),
    (
        "bare-duration.yaml",
        "name: s\ncases:\n  - name: a\n    request:\n      url: http://ADDR/\n      timeout: 5000\n",
        ":6:16",
        "duration `5000` has no unit: write `5000ms` or `5000s`",
    ),
    (
        "bad-method.yaml",
        "name: s\ncases:\n  - name: a\n    request:\n      url: http://ADDR/\n      method: \"GE T\"\n",
        ":6:15",
        "invalid HTTP method `GE T`",
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
    assert!(run.stdout.contains("5 suites"), "{}", run.stdout);
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
    assert!(run.stdout.contains("12000 cases"), "{}", run.stdout);
}

/// Every problem of one `expect` block is reported, each at its own key, and a bad regex is
/// one error (not the regex crate's multi-line drawing, which read as two).
#[tokio::test(flavor = "multi_thread")]
async fn every_error_of_an_expect_block_is_reported_at_its_own_key() {
    let dir = tempfile::tempdir().unwrap();
    let text = "name: s\ncases:\n  - name: a\n    request: { url: http://127.0.0.1:9/ }\n    expect:\n      status: 2xy\n      headers:\n        x-a: { matches: \"(\" }\n      body: { matches: \"[\", contains: [\"${x\"] }\n      jsonpath:\n        - { path: \"$.a\", matches: \"([\", type: text }\n        - { path: \"$..[\", equals: 1 }\n      tls: { protocol: SSLv3 }\n";
    let path = write_suite(dir.path(), "many.yaml", text);
    let run = smokegate(&["validate".into(), path.clone()], &[]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    let expected = [
        (":6:15", "invalid status `2xy`"),
        (":8:14", "header `x-a`: invalid regex `(`: unclosed group"),
        (
            ":9:13",
            "body.matches: invalid regex `[`: unclosed character class",
        ),
        (":9:13", "body.contains: unclosed `${`"),
        // Every problem of one entry is reported, at the entry.
        (":11:11", "invalid regex `([`"),
        (":11:11", "unknown type `text`"),
        (":12:11", "invalid JSONPath `$..[`"),
        (":13:12", "SSLv3"),
    ];
    for (at, what) in expected {
        let loc = format!("{path}{at}");
        assert!(
            run.stderr.contains(&loc),
            "expected {loc} in:\n{}",
            run.stderr
        );
        assert!(
            run.stderr.contains(what),
            "expected {what} in:\n{}",
            run.stderr
        );
    }
    let errors = error_lines(&run.stderr).len();
    assert_eq!(errors, expected.len(), "one error each:\n{}", run.stderr);
}

/// One root error (an unset environment variable) is reported once: the variables, secrets,
/// URLs and `needs` that depend on it do not cascade into more errors.
#[tokio::test(flavor = "multi_thread")]
async fn one_root_error_does_not_cascade() {
    let dir = tempfile::tempdir().unwrap();
    let text = "name: s\nvars:\n  api: ${env.SMOKEGATE_TEST_SURELY_UNSET}\n  health: ${api}/health\n  token: ${env.SMOKEGATE_TEST_SURELY_UNSET}\nsecrets: [token]\ncases:\n  - name: backend health\n    request: { url: \"${health}\" }\n  - name: routed\n    needs: [backend health]\n    request: { url: \"${api}/api\", headers: { authorization: \"Bearer ${token}\" } }\n";
    let path = write_suite(dir.path(), "cascade.yaml", text);
    let run = smokegate(&["run".into(), path.clone()], &[]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    let errors = error_lines(&run.stderr);
    assert_eq!(
        errors,
        [
            "error: in variable `api`: environment variable `SMOKEGATE_TEST_SURELY_UNSET` is not set",
            "error: in variable `token`: environment variable `SMOKEGATE_TEST_SURELY_UNSET` is not set",
        ],
        "{}",
        run.stderr
    );
    // validate and list send nothing and tolerate the unset variable: both accept the suite.
    for cmd in ["validate", "list"] {
        let run = smokegate(&[cmd.into(), path.clone()], &[]).await;
        assert_eq!(run.code, 0, "{cmd}: {}", run.stderr);
        assert!(run.stderr.is_empty(), "{cmd}: {}", run.stderr);
    }
}

/// `list` and `validate` agree on the bundled suites in an environment without their
/// variables (list printed 36 cascading errors while validate said ok). The environment is
/// emptied, so variables set on the machine running the tests cannot hide a regression.
#[test]
fn list_and_validate_agree_on_the_bundled_suites() {
    let suites = crate::common::root().join("suites");
    let run = |cmd: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_smokegate"))
            .arg(cmd)
            .arg(&suites)
            .env_clear()
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    let (code, stdout, stderr) = run("validate");
    assert_eq!(code, Some(0), "{stderr}");
    let cases = stdout
        .split(", ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse::<usize>().ok())
        .expect("validate prints the case count");
    let (code, stdout, stderr) = run("list");
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(stdout.lines().count(), cases, "{stdout}");
}

/// A closed stdout or stderr (`smokegate list | head -1`, `validate … 2>&1 | head -1`) ends the
/// command quietly with its usual exit code, never with a panic (exit 101).
#[test]
fn closed_output_pipes_are_not_a_panic() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let bad = write_suite(
        dir.path(),
        "bad.yaml",
        "name: s\ncases:\n  - name: a\n    request: { url: ftp://x.test/ }\n  - name: b\n    request: { url: ftp://y.test/ }\n",
    );
    let suites = crate::common::root().join("suites").display().to_string();
    let cwd = tempfile::tempdir().unwrap();
    let cases: [(&[&str], bool, i32); 5] = [
        (&["validate", &suites], false, 0),
        (&["list", &suites], false, 0),
        (&["demo"], false, 0),
        (&["validate", &bad], true, 2),
        (&["list", &bad], true, 2),
    ];
    for (args, close_stderr, code) in cases {
        let mut child = Command::new(env!("CARGO_BIN_EXE_smokegate"))
            .args(args)
            .current_dir(cwd.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close the reading end (smokegate is still starting when this happens).
        drop(child.stdout.take());
        let mut stderr = String::new();
        if close_stderr {
            drop(child.stderr.take());
        } else if let Some(mut e) = child.stderr.take() {
            std::io::Read::read_to_string(&mut e, &mut stderr).unwrap();
        }
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

/// Review findings (issue 9): a step with an error still defines its captures for later
/// steps; a bad header does not hide the URL check of the same request; `validate` does not
/// judge a URL built from an unset `${env.X:-default}` (the deployment may set it).
#[tokio::test(flavor = "multi_thread")]
async fn errors_do_not_hide_or_invent_other_errors() {
    let dir = tempfile::tempdir().unwrap();
    let text = "name: s\ncases:\n  - name: a\n    steps:\n      - name: one\n        request: { url: \"http://x.test/\", method: \"GE T\" }\n        capture: { token: { header: x-token } }\n      - name: two\n        request:\n          url: ftp://x.test/${token}\n          headers: { \"bad header\": v }\n";
    let path = write_suite(dir.path(), "hide.yaml", text);
    let run = smokegate(&["validate".into(), path.clone()], &[]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    let errors = error_lines(&run.stderr);
    assert_eq!(errors.len(), 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("invalid HTTP method `GE T`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("unsupported URL scheme `ftp`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("invalid header name `bad header`"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("undefined variable"), "{}", run.stderr);

    let env_default = "name: s\nvars:\n  base: \"${env.SMOKEGATE_TEST_SURELY_UNSET:-}\"\ncases:\n  - name: a\n    request: { url: \"${base}/health\" }\n";
    let path = write_suite(dir.path(), "env-default.yaml", env_default);
    let run = smokegate(&["validate".into(), path.clone()], &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    // A run uses the default: the empty base makes the URL invalid, before anything is sent.
    let run = smokegate(&["run".into(), path], &[]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("invalid URL `/health`"),
        "{}",
        run.stderr
    );
}

/// A file that does not parse shows the first problem of every case (the case list is cut
/// into parts, each parsed on its own), not only the first problem of the file.
#[tokio::test(flavor = "multi_thread")]
async fn shape_errors_of_several_cases_are_reported_together() {
    let dir = tempfile::tempdir().unwrap();
    let text = "name: s\ncases:\n  - name: a\n    request: { url: \"http://x.test/\" }\n    expct: { status: 200 }\n  - name: b\n    request: { url: \"http://x.test/\", timeout: 5000 }\n  - name: c\n    request: { url: \"http://x.test/\" }\n    retry: { attempts: lots }\n";
    let path = write_suite(dir.path(), "shape.yaml", text);
    for cmd in ["validate", "run"] {
        let run = smokegate(&[cmd.into(), path.clone()], &[]).await;
        assert_eq!(run.code, 2, "{}", run.stderr);
        for (at, what) in [
            (":5:5", "unknown field `expct`"),
            (":7:48", "duration `5000` has no unit"),
            (":10:24", "invalid u32"),
        ] {
            assert!(
                run.stderr.contains(&format!("{path}{at}")),
                "{at}: {}",
                run.stderr
            );
            assert!(run.stderr.contains(what), "{what}: {}", run.stderr);
        }
        let errors = error_lines(&run.stderr).len();
        assert_eq!(errors, 3, "{}", run.stderr);
    }
}

/// A `not` nested past the limit is refused with the same plain words at every depth (at
/// 100 levels YAML's own depth budget stops first; its message once leaked a debug string).
#[tokio::test(flavor = "multi_thread")]
async fn deep_predicate_nesting_is_refused_in_words_at_every_depth() {
    let dir = tempfile::tempdir().unwrap();
    let suite = |levels: usize| {
        format!(
            "name: deep\ncases:\n  - name: c\n    request: {{ url: \"http://127.0.0.1:9/\" }}\n    expect:\n      jsonpath:\n        - {{ path: $.ok, {}equals: true{} }}\n",
            "not: { ".repeat(levels),
            " }".repeat(levels)
        )
    };
    let ok = write_suite(dir.path(), "deep8.yaml", &suite(7));
    let run = smokegate(&["validate".into(), ok], &[]).await;
    assert_eq!(run.code, 0, "8 levels are allowed: {}", run.stderr);
    for levels in [9, 20, 40, 100, 5000] {
        let path = write_suite(dir.path(), &format!("deep{levels}.yaml"), &suite(levels));
        let run = smokegate(&["validate".into(), path.clone()], &[]).await;
        assert_eq!(run.code, 2, "{levels} levels: {}", run.stderr);
        let lines = error_lines(&run.stderr);
        assert_eq!(lines.len(), 1, "{levels} levels: {}", run.stderr);
        assert!(
            lines[0] == "error: predicates nest more than 8 deep"
                || lines[0]
                    == "error: values nest more than 64 deep (predicates nest at most 8 deep)",
            "{levels} levels: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains(&format!("{path}:7:")),
            "{levels} levels: file:line:col in {}",
            run.stderr
        );
        assert!(!run.stderr.contains("budget"), "{}", run.stderr);
    }
}
