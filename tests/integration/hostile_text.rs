//! Issue 11: nothing a server sends can leak a secret, forge a CI command or break a report.
//! A hostile server echoes every credential smokegate sends — raw, URL-encoded, JSON-escaped
//! (as serde and as Python write it), HTML-escaped, base64 — in its body, its headers and a
//! redirect's `Location`, and fills its body with terminal escapes, forged GitHub workflow
//! commands and characters XML forbids. Every output format is then searched for the planted
//! secrets in each of those forms: there must be none.

use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::get;
use base64::Engine as _;

use crate::common::{smokegate, write_suite};

const TOKEN: &str = "tok-Planted/Secret+é\"42";
const PASSWORD: &str = "pw-Planted-Secret-7";
const API_KEY: &str = "key-Planted-Secret-9";
const VAR_SECRET: &str = "var-Planted-Secret-3";
const AUTH_KEY: &str = "authkey-Planted-5";
/// A token written literally in a URL, `+` and `/` as sent.
const LITERAL: &str = "Lit/tok+en-Planted-8";
/// A query token with a space, a slash and a `!`.
const SPACED: &str = "Qt2 x/y!z-Planted";

/// Every form a secret is searched for in the outputs.
pub(crate) fn forms(s: &str) -> Vec<String> {
    let json = serde_json::Value::String(s.to_string()).to_string();
    let json = json[1..json.len() - 1].to_string();
    let python: String = json
        .chars()
        .map(|c| {
            if c.is_ascii() {
                c.to_string()
            } else {
                format!("\\u{:04x}", c as u32)
            }
        })
        .collect();
    let pct = |keep: &dyn Fn(u8) -> bool| -> String {
        s.bytes()
            .map(|b| {
                if keep(b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || b"-._~".contains(&b);
    vec![
        s.to_string(),
        url::form_urlencoded::byte_serialize(s.as_bytes()).collect(),
        // Python's quote, JavaScript's encodeURIComponent.
        pct(&|b| unreserved(b) || b == b'/'),
        pct(&|b| unreserved(b) || b"!'()*".contains(&b)),
        json,
        python,
        s.replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;"),
        base64::engine::general_purpose::STANDARD.encode(s),
    ]
}

/// Echo what came in, in every form, with hostile text around it.
async fn echo(headers: HeaderMap, uri: Uri) -> impl IntoResponse {
    let all: Vec<String> = headers
        .iter()
        .map(|(k, v)| format!("{k}={}", String::from_utf8_lossy(v.as_bytes())))
        .chain(std::iter::once(uri.to_string()))
        // The query decoded, as a server reads it (`+` is a space).
        .chain(
            url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
                .map(|(k, v)| format!("{k}={v}")),
        )
        .collect();
    let joined = all.join(" ");
    let b64 = base64::engine::general_purpose::STANDARD.encode(&joined);
    let body = serde_json::json!({
        "echo": joined,
        "b64": b64,
        "hostile": "\x1b[2J\x1b]0;pwned\x07\n::add-mask::x\n::error file=a,line=1::forged\n ##[error]forged\u{fffe}\u{ffff}\0",
        "md": "![p](http://evil.example/p.png) [c](http://evil.example) <img src=x>",
    });
    let body = if uri.path() == "/md" {
        body.to_string()
    } else {
        format!(
            "{}\n::stop-commands::pwned\n{}\n",
            body,
            forms(VAR_SECRET).join(" | ")
        )
    };
    let auth = headers
        .get("authorization")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let location = format!(
        "/login?next={}&raw={}",
        url::form_urlencoded::byte_serialize(auth.as_bytes()).collect::<String>(),
        VAR_SECRET
    );
    (
        StatusCode::FOUND,
        [
            ("x-echo", auth.replace(['\r', '\n'], " ")),
            ("location", location),
            ("content-type", "application/json".to_string()),
        ],
        body,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn no_planted_secret_and_no_server_command_reaches_any_output() {
    let app = axum::Router::new().fallback(get(echo));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    let dir = tempfile::tempdir().unwrap();
    let suite = write_suite(
        dir.path(),
        "hostile.yaml",
        &format!(
            r#"name: hostile
vars:
  token: '{TOKEN}'
secrets: [token]
cases:
  - name: echo
    request:
      url: "http://smoke:{PASSWORD}@{addr}/echo?token={LITERAL}"
      headers:
        Authorization: "Bearer ${{token}}"
        X-Api-Key: "{API_KEY}"
        X-Auth-Key: "{AUTH_KEY}"
      query: {{ api_key: "{API_KEY}", v: "${{var}}", access_token: "{SPACED}" }}
    expect:
      status: 200
      body: {{ contains: ["${{token}}"] }}
      headers: {{ x-echo: "Bearer ${{token}}" }}
  - name: markdown
    request:
      url: "http://{addr}/md"
    expect:
      status: 302
      jsonpath: [{{ path: $.md, equals: "x" }}]
"#
        ),
    );
    let (run, outputs) =
        run_with_every_output(&suite, &["--secret".into(), format!("var={VAR_SECRET}")]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let secrets = [
        TOKEN, PASSWORD, API_KEY, VAR_SECRET, AUTH_KEY, LITERAL, SPACED,
    ];
    let leaks = leaks(&outputs, &secrets, None);
    assert!(
        leaks.is_empty(),
        "secret bytes in outputs: {leaks:#?}\n{}",
        run.stdout
    );
    // Server text cannot act on a terminal or a CI log, and is shown, escaped, not dropped.
    let console = &outputs[0].1;
    assert!(console.contains("[REDACTED]"), "{console}");
    assert!(
        console.contains("\\x1b[2J") || console.contains("\\u001b[2J"),
        "{console}"
    );
    assert!(!console.contains('\x1b') && !console.contains('\x07') && !console.contains('\0'));
    for line in console.lines() {
        let t = line.trim_start();
        assert!(
            !t.starts_with("::add-mask") && !t.starts_with("::stop-commands") && !t.contains("##["),
            "a server line reached the log as a command: {line:?}"
        );
        assert!(
            !t.starts_with("::error file=a"),
            "forged annotation: {line:?}"
        );
    }
    // The job summary renders no link, image or HTML a server wrote.
    let summary_md = &outputs[4].1;
    assert!(summary_md.contains("evil.example"), "{summary_md}");
    for raw in ["![p](http", "[c](http", "<img"] {
        assert!(!summary_md.contains(raw), "{raw} in summary:\n{summary_md}");
    }
    // The JUnit file is well-formed XML whatever the server sent.
    let junit = run.junit.clone().unwrap();
    assert!(!junit.contains('\u{fffe}') && !junit.contains('\u{ffff}') && !junit.contains('\0'));
    crate::common::xmllint(&run.junit_path);
}

/// Where a secret of `secrets` appears in `outputs` (each must be non-empty), in any form of
/// [`forms`] — and, with `part: Some(n)`, any `n` characters of it in a row (a cut that left
/// part of a secret): `output: text found` for each.
pub(crate) fn leaks(
    outputs: &[(&'static str, String)],
    secrets: &[&str],
    part: Option<usize>,
) -> Vec<String> {
    let mut found = Vec::new();
    for (name, text) in outputs {
        assert!(!text.is_empty(), "{name} was written");
        for secret in secrets {
            let chars: Vec<char> = secret.chars().collect();
            let parts = part
                .into_iter()
                .flat_map(|n| chars.windows(n).map(|w| w.iter().collect::<String>()));
            for form in forms(secret).into_iter().chain(parts) {
                if text.contains(&form) {
                    found.push(format!("{name}: {form}"));
                }
            }
        }
    }
    found
}

/// Run a suite with `extra` arguments and every output on — the console with `--verbose`
/// and GitHub annotations, the JSON, JUnit and HTML reports, the GitHub job summary — and
/// return the run with each output's text, by name (`console`, `json`, `junit`, `html`,
/// `summary`).
pub(crate) async fn run_with_every_output(
    suite: &str,
    extra: &[String],
) -> (crate::common::Run, [(&'static str, String); 5]) {
    let out = tempfile::tempdir().unwrap();
    let html = out.path().join("report.html");
    let summary = out.path().join("summary.md");
    let mut args: Vec<String> = vec![
        "run".into(),
        suite.into(),
        "--report-html".into(),
        html.display().to_string(),
        "--verbose".into(),
    ];
    args.extend(extra.iter().cloned());
    let env = vec![
        ("GITHUB_ACTIONS".to_string(), "true".to_string()),
        (
            "GITHUB_STEP_SUMMARY".to_string(),
            summary.display().to_string(),
        ),
    ];
    let run = smokegate(&args, &env).await;
    let outputs = [
        ("console", run.stdout.clone() + &run.stderr),
        (
            "json",
            run.json.as_ref().map(|j| j.to_string()).unwrap_or_default(),
        ),
        ("junit", run.junit.clone().unwrap_or_default()),
        ("html", std::fs::read_to_string(&html).unwrap_or_default()),
        (
            "summary",
            std::fs::read_to_string(&summary).unwrap_or_default(),
        ),
    ];
    (run, outputs)
}

/// Issue 11: `merge` of shard reports whose names hold characters XML 1.0 forbids still
/// writes a well-formed JUnit file.
#[tokio::test(flavor = "multi_thread")]
async fn merged_junit_is_well_formed_whatever_the_names_hold() {
    let dir = tempfile::tempdir().unwrap();
    let report = serde_json::json!({
        "schema_version": "1.0", "smokegate_version": "0.1.0", "run_id": "r1",
        "started_at": "2026-01-01T00:00:00Z", "duration_ms": 5, "verdict": "failed",
        "insecure": false, "cancelled": null, "suites": ["s\u{fffe}"], "profiles": [],
        "metadata": {"shard": "1/1", "note": "a\u{1}b"},
        "counts": {"total": 1, "passed": 0, "failed": 1, "errors": 0, "skipped": 0, "flaky": 0, "warnings": 0},
        "cases": [{"id": "s/a", "suite": "s\u{fffe}", "suite_file": "s.yaml", "name": "a\u{ffff}\u{0}", "tags": [],
            "severity": "critical", "status": "failed", "flaky": false, "message": "bad \u{1b}[2J\n::error::forged",
            "started_at": "2026-01-01T00:00:00Z", "duration_ms": 5, "line": 3, "steps": []}]
    });
    let shard = dir.path().join("shard.json");
    std::fs::write(&shard, report.to_string()).unwrap();
    let junit = dir.path().join("merged.xml");
    let run = smokegate(
        &[
            "merge".into(),
            shard.display().to_string(),
            "--report-junit".into(),
            junit.display().to_string(),
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        !run.stdout.contains('\x1b') && !run.stdout.contains('\0'),
        "{:?}",
        run.stdout
    );
    assert!(
        !run.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("::error::forged")),
        "{}",
        run.stdout
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(!xml.contains('\u{fffe}') && !xml.contains('\u{ffff}') && !xml.contains('\0'));
    crate::common::xmllint(&junit);
}

/// Issue 11: a redirect to another origin carries no credential — not `Authorization`,
/// `Cookie` or `X-Api-Key`, not a custom header holding a secret, not an explicit `Host`.
#[tokio::test(flavor = "multi_thread")]
async fn cross_origin_redirects_carry_no_credentials() {
    use std::sync::{Arc, Mutex};
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = seen.clone();
    let other = axum::Router::new().fallback(get(move |headers: HeaderMap| {
        let record = record.clone();
        async move {
            let mut names: Vec<String> = headers.keys().map(|k| k.to_string()).collect();
            if let Some(h) = headers.get("host").and_then(|v| v.to_str().ok()) {
                names.push(format!("host={h}"));
            }
            names.sort();
            record.lock().unwrap().extend(names);
            "landed"
        }
    }));
    let l2 = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let b = l2.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l2, other).await.ok() });
    let to = format!("http://{b}/landing");
    let first = axum::Router::new().fallback(get(move || {
        let to = to.clone();
        async move { axum::response::Redirect::to(&to) }
    }));
    let l1 = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a = l1.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l1, first).await.ok() });
    let dir = tempfile::tempdir().unwrap();
    let suite = write_suite(
        dir.path(),
        "r.yaml",
        &format!(
            r#"name: r
vars: {{ sig: "sig-{VAR_SECRET}" }}
secrets: [sig]
cases:
  - name: hop
    request:
      url: "http://{a}/start"
      follow_redirects: true
      headers:
        Authorization: "Bearer {API_KEY}"
        Cookie: "session={PASSWORD}"
        X-Api-Key: "{API_KEY}"
        X-Auth-Token: "{PASSWORD}"
        X-Signature: "${{sig}}"
        X-Auth-Key: "{AUTH_KEY}"
        Ocp-Apim-Subscription-Key: "{API_KEY}"
        Host: "{a}"
        X-Plain: "kept"
"#
        ),
    );
    let run = smokegate(&["run".into(), suite], &[]).await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let names = seen.lock().unwrap().clone();
    for gone in [
        "authorization",
        "cookie",
        "x-api-key",
        "x-auth-token",
        "x-signature",
        "x-auth-key",
        "ocp-apim-subscription-key",
    ] {
        assert!(
            !names.contains(&gone.to_string()),
            "{gone} reached the other origin: {names:?}"
        );
    }
    assert!(names.contains(&"x-plain".to_string()), "{names:?}");
    assert!(
        names.contains(&"host".to_string()),
        "its own Host, not the explicit one"
    );
}
