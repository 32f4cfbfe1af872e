//! The parser and the editor schema refuse what would check nothing or read a text as a
//! boolean: empty check lists and maps (`body: {matches: []}`, `cookies: {}`), an empty
//! `multipart`, and YAML 1.1 booleans (`decompress: off`, `"yes"`).

use serde_json::Value;

use crate::common::{root, smokegate, write_suite};

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("schemas/suite.schema.json")).unwrap();
    jsonschema::validator_for(&serde_json::from_str::<Value>(&text).unwrap()).unwrap()
}

/// What an editor sees: YAML 1.2, where `off` is a text.
fn schema_ok(v: &jsonschema::Validator, text: &str) -> bool {
    let mut o = serde_saphyr::Options::default();
    o.strict_booleans = true;
    let doc: Value = serde_saphyr::from_str_with_options(text, o).unwrap();
    let ok = v.iter_errors(&doc).next().is_none();
    ok
}

fn parse(text: &str) -> Result<(), String> {
    smokegate::suite::load::parse_suite(std::path::Path::new("s.yaml"), text.into())
        .map(|_| ())
        .map_err(|e| {
            format!(
                "{}:{} {}",
                e.pos.unwrap().line,
                e.pos.unwrap().column,
                e.message
            )
        })
}

const GOOD: &str = r#"
name: s
cases:
  - name: a
    request: { url: "http://127.0.0.1:9/", decompress: false, follow_redirects: true }
    expect:
      body: { matches: ["^a"], contains: [x], not_contains: [y] }
      cookies: { sid: { secure: true } }
  - name: b
    request: { url: "http://127.0.0.1:9/", method: POST, multipart: { f: v } }
"#;

#[test]
fn parser_and_schema_refuse_empty_checks_and_yaml_1_1_booleans() {
    let v = schema();
    assert!(schema_ok(&v, GOOD), "schema accepts the good suite");
    parse(GOOD).expect("parser accepts the good suite");
    for (from, to, says) in [
        (
            r#"matches: ["^a"]"#,
            "matches: []",
            "7:24 `body.matches` is an empty list: it would check nothing; give a regex or leave the key out",
        ),
        (
            "contains: [x]",
            "contains: []",
            "7:42 `body.contains` is empty: it would check nothing; give at least one item or leave the key out",
        ),
        (
            "not_contains: [y]",
            "not_contains: []",
            "7:61 `body.not_contains` is empty: it would check nothing; give at least one item or leave the key out",
        ),
        (
            "cookies: { sid: { secure: true } }",
            "cookies: {}",
            "8:16 `cookies` is empty: give at least one entry or leave the key out",
        ),
        (
            "multipart: { f: v }",
            "multipart: {}",
            "10:69 `multipart` is empty: give at least one field (a multipart body needs a part)",
        ),
        (
            "decompress: false",
            "decompress: off",
            "invalid boolean (strict mode expects true/false)",
        ),
        (
            "decompress: false",
            r#"decompress: "yes""#,
            "invalid boolean (strict mode expects true/false)",
        ),
        (
            "follow_redirects: true",
            "follow_redirects: yes",
            "invalid type: string \"yes\", expected `true`, `false`, or the most redirects to follow (0 to 4294967295)",
        ),
    ] {
        assert!(GOOD.contains(from), "{from}");
        let bad = GOOD.replace(from, to);
        assert!(!schema_ok(&v, &bad), "schema rejects `{to}`");
        let err = parse(&bad).expect_err(to);
        assert!(err.ends_with(says), "`{to}`: {err}");
    }
}

/// End to end: `validate` exits 2 at the key's position, and nothing passes vacuously.
#[tokio::test(flavor = "multi_thread")]
async fn an_empty_body_matches_list_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_suite(
        dir.path(),
        "e.yaml",
        &GOOD.replace(r#"matches: ["^a"]"#, "matches: []"),
    );
    let run = smokegate(&["validate".into(), path.clone()], &[]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("{path}:7:24"))
            && run.stderr.contains("`body.matches` is an empty list"),
        "{}",
        run.stderr
    );
}

/// A value of neither accepted shape names what was expected, never serde's "did not match
/// any variant of untagged enum".
#[test]
fn two_shape_values_say_what_they_expected() {
    let case = |extra: &str| {
        format!(
            "name: s\ncases:\n  - name: a\n    request: {{ url: \"http://127.0.0.1:9/\" }}\n    expect:\n{extra}\n"
        )
    };
    for (extra, says) in [
        (
            "      body: { size: \"big\" }",
            "expected a size in bytes (a whole number) or bounds {min: …, max: …}",
        ),
        (
            "      body: { size: { min: 1, most: 2 } }",
            "unknown field `most`, expected one of min, max",
        ),
        (
            "      schema: 5",
            "expected a schema file's path (relative to the suite) or {file: …} / {inline: {…}}",
        ),
        (
            "      body: { matches: { a: 1 } }",
            "expected a text or a list of texts",
        ),
        ("      tls: { subject: [1] }", "rules such as {cn: …}"),
    ] {
        let text = case(extra);
        let err = parse(&text).expect_err(extra);
        assert!(err.contains(says), "`{extra}`: {err}");
        assert!(!err.contains("untagged"), "`{extra}`: {err}");
    }
}
