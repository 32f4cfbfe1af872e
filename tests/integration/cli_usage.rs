//! The first hour at the command line: `list` for scripts, `validate` with its defaults,
//! `--help` grouped under headings, run-only flags refused by `list`.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn smokegate_in(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_smokegate"));
    cmd.current_dir(dir).args(args).env("NO_COLOR", "1");
    for var in ["SMOKEGATE_ENV", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY"] {
        cmd.env_remove(var);
    }
    cmd.output().expect("smokegate runs")
}

fn out(o: &Output) -> String {
    format!(
        "exit {:?}\n{}{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A project folder with `suites/` holding a suite and a JSON Schema beside it.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("suites")).unwrap();
    std::fs::write(
        dir.path().join("suites/api.yaml"),
        "name: api
tags: [smoke]
cases:
  - name: health
    request: { url: \"https://api.example/health\" }
  - name: orders
    tags: [slow]
    needs: [health]
    severity: warning
    request: { url: \"https://api.example/orders\" }
",
    )
    .unwrap();
    // A schema kept beside the suites is not a suite.
    std::fs::write(
        dir.path().join("suites/health.schema.json"),
        r#"{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}"#,
    )
    .unwrap();
    dir
}

#[test]
fn list_format_json_describes_every_case_for_scripts() {
    let dir = project();
    let o = smokegate_in(dir.path(), &["list", "--format", "json"]);
    assert!(o.status.success(), "{}", out(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["cases"][1],
        serde_json::json!({
            "id": "api/orders",
            "suite": "api",
            "suite_file": "suites/api.yaml",
            "name": "orders",
            "line": 6,
            "tags": ["smoke", "slow"],
            "severity": "warning",
            "needs": ["health"],
            "steps": ["orders"],
        })
    );
    assert_eq!(v["cases"].as_array().unwrap().len(), 2);
    // Selection applies as in text form.
    let o = smokegate_in(dir.path(), &["list", "--format", "json", "--skip-tag", "slow"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["cases"].as_array().unwrap().len(), 1);
    // An unknown format is refused with the choices.
    let o = smokegate_in(dir.path(), &["list", "--format", "yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("[possible values: text, json]"),
        "{}",
        out(&o)
    );
}

#[test]
fn list_refuses_flags_that_only_a_run_uses() {
    let dir = project();
    for flag in [
        &["--report-json", "r.json"][..],
        &["--resolve", "api.example:443:127.0.0.1"],
        &["--fail-fast"],
        &["--insecure"],
    ] {
        let mut args = vec!["list"];
        args.extend_from_slice(flag);
        let o = smokegate_in(dir.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{}", out(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr)
                .contains(&format!("unexpected argument '{}'", flag[0])),
            "{}",
            out(&o)
        );
    }
    assert!(!dir.path().join("r.json").exists());
}

#[test]
fn validate_defaults_to_suites_and_skips_schema_files_in_a_folder() {
    let dir = project();
    let o = smokegate_in(dir.path(), &["validate"]);
    assert!(o.status.success(), "{}", out(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "ok: 1 suite, 2 cases, nothing sent"
    );
    let o = smokegate_in(dir.path(), &["validate", "suites"]);
    assert!(o.status.success(), "{}", out(&o));
    // Named on the command line, a schema file is read as a suite, and it is not one.
    let o = smokegate_in(dir.path(), &["validate", "suites/health.schema.json"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    // Without suites/, validate says where it looked.
    let empty = tempfile::tempdir().unwrap();
    let o = smokegate_in(empty.path(), &["validate"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("suites"),
        "{}",
        out(&o)
    );
}

#[test]
fn run_help_is_grouped_under_headings() {
    let dir = tempfile::tempdir().unwrap();
    let o = smokegate_in(dir.path(), &["run", "--help"]);
    assert!(o.status.success());
    let help = String::from_utf8_lossy(&o.stdout).to_string();
    let pos = |s: &str| {
        help.find(s)
            .unwrap_or_else(|| panic!("`{s}` not in run --help:\n{help}"))
    };
    let headings = [
        "Variables:",
        "DNS, TLS and proxies:",
        "Requests:",
        "Selection:",
        "Reports:",
        "Output:",
    ];
    for h in headings {
        pos(&format!("\n{h}\n"));
    }
    // Each option under its heading.
    for (heading, opt) in [
        ("DNS, TLS and proxies:", "--resolve"),
        ("DNS, TLS and proxies:", "--cacert"),
        ("Requests:", "--timeout"),
        ("Selection:", "--tag"),
        ("Selection:", "--shard"),
        ("Reports:", "--report-junit"),
        ("Reports:", "--report-html"),
    ] {
        let h = pos(&format!("\n{heading}\n"));
        let next = headings
            .iter()
            .map(|x| help.find(&format!("\n{x}\n")).unwrap())
            .filter(|&p| p > h)
            .min()
            .unwrap_or(help.len());
        let o = help[h..next].find(&format!(" {opt} ")).or_else(|| help[h..next].find(&format!(" {opt}")));
        assert!(o.is_some(), "{opt} not under {heading}:\n{help}");
    }
}
