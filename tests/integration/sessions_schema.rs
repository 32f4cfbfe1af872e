//! The editor schema and the parser agree on the session keys (cookies, redirects, auth,
//! cookie captures): a suite using every one is accepted by both, and each misspelt or
//! ill-typed key is rejected by both.

use serde_json::Value;

use crate::common::root;

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("schemas/suite.schema.json")).unwrap();
    jsonschema::validator_for(&serde_json::from_str::<Value>(&text).unwrap()).unwrap()
}

fn schema_ok(v: &jsonschema::Validator, text: &str) -> Result<(), String> {
    let doc: Value = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    let errs: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("; "))
    }
}

fn parser_ok(text: &str) -> Result<(), String> {
    smokegate::suite::load::parse_suite(std::path::Path::new("s.yaml"), text.into())
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
}

pub const SESSIONS: &str = r#"
name: sessions
defaults:
  auth: { basic: { user: smoke, password: "${env.PW:-secret-pw}" } }
profiles:
  prod:
    auth: { oauth2: { token_url: "https://id.test/token", client_id: c, client_secret: s3cr3t, scope: read, audience: api, client_auth: post } }
default_profile: prod
cases:
  - name: keys
    steps:
      - name: header
        request: { url: "http://a.test/", auth: { api_key: { header: X-Api-Key, value: k3y-value } } }
      - name: query
        request: { url: "http://a.test/", auth: { api_key: { query: api_key, value: k3y-value } } }
      - name: bearer
        request: { url: "http://a.test/", auth: { bearer: t0ken-value } }
      - name: none
        request: { url: "http://a.test/", auth: { none: true } }
  - name: login
    steps:
      - name: login
        request: { url: "http://a.test/login", follow_redirects: true }
        expect:
          cookies:
            sid: { present: true, value: x, matches: "^x", secure: true, http_only: true, same_site: Lax, path: /, domain: a.test, max_age: 60, max_age_lte: 3600, persistent: true }
            gone: { present: false }
            any: {}
          redirects:
            count: 1
            final_url: "http://a.test/home"
            hops: [{ status: 302, location: /home, url: "http://a.test/login" }, { status: [301, "3xx"] }]
        capture: { s: { cookie: sid, secret: true } }
"#;

#[test]
fn schema_and_parser_agree_on_the_session_keys() {
    let v = schema();
    schema_ok(&v, SESSIONS).expect("schema accepts every session key");
    parser_ok(SESSIONS).expect("parser accepts every session key");
    for (from, to) in [
        ("same_site: Lax", "same_sites: Lax"),
        ("http_only: true", "http_only: yes please"),
        ("max_age: 60", "max_age: sixty"),
        ("count: 1", "counts: 1"),
        ("location: /home", "locations: /home"),
        (
            "{ cookie: sid, secret: true }",
            "{ cookie: sid, header: x }",
        ),
        ("{ cookie: sid, secret: true }", "{ cookie: [sid] }"),
        ("client_auth: post", "client_auths: post"),
        ("{ bearer: t0ken-value }", "{ bearer: [t0ken-value] }"),
        (
            "{ query: api_key, value: k3y-value }",
            "{ query: api_key, values: k3y-value }",
        ),
        ("{ user: smoke, password", "{ usr: smoke, password"),
    ] {
        assert!(SESSIONS.contains(from), "{from}");
        let bad = SESSIONS.replace(from, to);
        assert!(schema_ok(&v, &bad).is_err(), "schema rejects `{to}`");
        // A capture with two sources parses (the plan rejects it, at its position).
        // Likewise two auth schemes, `none: false` or an API key without a place.
        if to != "{ cookie: sid, header: x }" {
            assert!(parser_ok(&bad).is_err(), "parser rejects `{to}`");
        }
    }
}

#[test]
fn the_schema_rejects_what_the_plan_rejects_in_auth_blocks() {
    let v = schema();
    for (from, to) in [
        (
            "{ bearer: t0ken-value }",
            "{ bearer: t0ken-value, none: true }",
        ),
        ("{ none: true }", "{ none: false }"),
        (
            "{ query: api_key, value: k3y-value }",
            "{ value: k3y-value }",
        ),
        (
            "{ query: api_key, value: k3y-value }",
            "{ query: api_key, header: X-Key, value: k3y-value }",
        ),
        ("client_auth: post", "client_auth: jwt"),
    ] {
        let bad = SESSIONS.replace(from, to);
        assert!(schema_ok(&v, &bad).is_err(), "schema rejects `{to}`");
    }
}
