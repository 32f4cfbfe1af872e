//! Issue 12: `--variables-file` (dotenv, YAML, JSON; repeatable) and `--secrets-file`, with
//! their precedence, redaction of every secret-file value, and errors naming file and line.

use axum::http::HeaderMap;
use axum::routing::get;

use crate::common::{smokegate, write_suite};

const SECRET: &str = "s3cr3t-From-File-77";

#[tokio::test]
async fn variables_files_layer_in_order_and_secrets_files_are_redacted() {
    let app = axum::Router::new().fallback(get(|h: HeaderMap| async move {
        // Echo the credential back, as a careless server would.
        format!(
            "token={}",
            h.get("x-token").and_then(|v| v.to_str().ok()).unwrap_or("")
        )
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(
        p.join("base.env"),
        format!(
            "# defaults\nexport BASE=http://{addr}\nWHO='from env file'\nLEVEL=env\nVERSION=0.9\n"
        ),
    )
    .unwrap();
    std::fs::write(p.join("stage.yaml"), "LEVEL: yaml\nVERSION: 1.10\n").unwrap();
    std::fs::write(p.join("more.json"), r#"{"LEVEL": "json"}"#).unwrap();
    std::fs::write(p.join("ci.secrets"), format!("TOKEN=\"{SECRET}\"\n")).unwrap();
    let suite = r#"name: varfiles
vars: { LEVEL: suite, WHO: suite, CLI: suite }
cases:
  - name: layered
    request:
      url: "${BASE}/x"
      headers: { X-Token: "${TOKEN}" }
    expect:
      body: { contains: ["token=${TOKEN}"] }
  - name: values
    request: { url: "${BASE}/y" }
    expect:
      body: { contains: ["${LEVEL} ${WHO} ${VERSION} ${CLI}"] }
"#;
    let path = write_suite(p, "varfiles.yaml", suite);
    let arg = |s: &str| s.to_string();
    let file = |n: &str| p.join(n).display().to_string();
    let args = vec![
        arg("run"),
        path,
        arg("--variables-file"),
        file("base.env"),
        arg("--variables-file"),
        file("stage.yaml"),
        arg("--variables-file"),
        file("more.json"),
        arg("--secrets-file"),
        file("ci.secrets"),
        arg("--var"),
        arg("CLI=cli"),
    ];
    let r = smokegate(&args, &[]).await;
    assert_eq!(r.code, 1, "{}", r.all_output());
    assert_eq!(r.case("layered")["status"], "passed", "{}", r.all_output());
    // The failing case shows which value won for each name: json > yaml > env > suite;
    // --var > suite; VERSION as written in YAML.
    let s = &r.case("values")["steps"][0];
    assert_eq!(
        s["message"], "body does not contain \"json from env file 1.10 cli\"",
        "{s}"
    );
    let all = r.all_output();
    assert!(!all.contains(SECRET), "secret leaked:\n{all}");
    // A failing check on the echoed secret shows it redacted.
    let path = write_suite(
        p,
        "leak.yaml",
        "name: leak\ncases:\n  - name: echo\n    request:\n      url: \"${BASE}/z\"\n      headers: { X-Token: \"${TOKEN}\" }\n    expect: { body: { contains: [nothing-like-this] } }\n",
    );
    let r = smokegate(
        &[
            arg("run"),
            path,
            arg("--variables-file"),
            file("base.env"),
            arg("--secrets-file"),
            file("ci.secrets"),
        ],
        &[],
    )
    .await;
    assert_eq!(r.code, 1, "{}", r.all_output());
    let all = r.all_output();
    assert!(!all.contains(SECRET), "secret leaked:\n{all}");
    assert!(all.contains("token=[REDACTED]"), "{all}");
}

#[tokio::test]
async fn bad_variables_files_are_usage_errors_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(
        p.join("bad.env"),
        "A=1\n# fine\nthis line has no equals sign\n",
    )
    .unwrap();
    std::fs::write(p.join("short.env"), "K=abc\n").unwrap();
    let suite = write_suite(
        p,
        "s.yaml",
        "name: s\ncases:\n  - name: a\n    request: { url: \"http://127.0.0.1:9/${A}\" }\n",
    );
    let bad = p.join("bad.env").display().to_string();
    for cmd in ["run", "validate"] {
        let r = smokegate(
            &[
                cmd.into(),
                suite.clone(),
                "--variables-file".into(),
                bad.clone(),
            ],
            &[],
        )
        .await;
        assert_eq!(r.code, 2, "{cmd}: {}", r.all_output());
        assert!(
            r.stderr.contains(&format!(
                "error: {bad}:3: expected KEY=VALUE, got `this line has no equals sign`"
            )),
            "{cmd}: {}",
            r.stderr
        );
    }
    let r = smokegate(
        &[
            "run".into(),
            suite.clone(),
            "--secrets-file".into(),
            p.join("short.env").display().to_string(),
        ],
        &[],
    )
    .await;
    assert_eq!(r.code, 2, "{}", r.all_output());
    assert!(
        r.stderr.contains(&format!(
            "error: --secrets-file {}: secret `K`: ",
            p.join("short.env").display()
        )),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("abc"), "{}", r.stderr);
    let r = smokegate(
        &[
            "validate".into(),
            suite,
            "--variables-file".into(),
            p.join("missing.env").display().to_string(),
        ],
        &[],
    )
    .await;
    assert_eq!(r.code, 2, "{}", r.all_output());
    assert!(
        r.stderr.contains("--variables-file ") && r.stderr.contains("missing.env: cannot be read"),
        "{}",
        r.stderr
    );
}
