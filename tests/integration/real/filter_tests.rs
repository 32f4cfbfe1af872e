//! Template filters in real flows against httpbin: Basic credentials built with `base64`, a
//! JWT claim read without verifying, URL-encoding, sha256; values derived from a secret stay
//! secret; a bad filter is a plan error at its position, a filter that cannot apply is the
//! step's error.

use sha2::Digest as _;

use super::httpbin::Httpbin;
use super::{run_suite, step};

// {"alg":"HS256","typ":"JWT"}.{"sub":"user-42","exp":1900000000,"https://x.test/roles":["a"]}.sig
const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTQyIiwiZXhwIjoxOTAwMDAwMDAwLCJodHRwczovL3gudGVzdC9yb2xlcyI6WyJhIl19.c2ln";
const PW: &str = "filter-Secret-3321";

#[tokio::test]
async fn filters_build_and_read_real_credentials() {
    let bin = Httpbin::start();
    let u = |p: &str| bin.url(p);
    let suite = format!(
        r#"name: filters
vars:
  pw: {PW}
  pair: "smoke:${{pw}}"
  digest: "${{pw | sha256}}"
  jwt: "{JWT}"
secrets: [pw]
cases:
  - name: basic by hand
    request:
      url: "{basic}"
      headers: {{ Authorization: "Basic ${{pair | base64}}" }}
    expect: {{ jsonpath: [{{ path: $.user, equals: smoke }}] }}
  - name: jwt claims and encodings
    steps:
      - name: get a token
        request: {{ url: "{anything}", json: {{ token: "${{jwt}}" }} }}
        capture: {{ tok: {{ jsonpath: $.json.token }} }}
      - name: use its claims
        request:
          url: "{anything}"
          query: {{ sub: "${{tok | jwt_claim(\"sub\")}}" }}
          json: {{ exp: "${{tok | jwt_claim('exp')}}", roles: "${{tok | jwt_claim(\"https://x.test/roles\")}}", alg: "${{tok | jwt_header(\"alg\")}}" }}
          headers: {{ X-Q: "${{env.NOPE:-a b/c | url_encode}}" }}
        expect:
          jsonpath:
            - {{ path: $.args.sub, equals: user-42 }}
            - {{ path: $.json.exp, equals: 1900000000 }}
            - {{ path: "$.json.roles[0]", equals: a }}
            - {{ path: $.json.alg, equals: HS256 }}
            - {{ path: "$.headers['X-Q']", equals: "a%20b%2Fc" }}
            - {{ path: "$.headers['X-Q']", equals: "${{env.NOPE:-a b/c | url_encode}}" }}
  - name: derived secret shown nowhere
    request: {{ url: "{anything}", headers: {{ X-Digest: "${{pw | sha256}}", X-Plan: "${{digest}}" }} }}
    expect: {{ jsonpath: [{{ path: "$.headers['X-Digest']", equals: "wrong" }}, {{ path: "$.headers['X-Plan']", equals: "wrong" }}] }}
  - name: claim missing
    request: {{ url: "{anything}?t=${{jwt | jwt_claim(\"aud\")}}" }}
"#,
        basic = u(&format!("/basic-auth/smoke/{PW}")),
        anything = u("/anything"),
    );
    let r = run_suite(&suite, &[]).await;
    assert_eq!(r.code, 1, "{}", r.all_output());
    for ok in ["basic by hand", "jwt claims and encodings"] {
        assert_eq!(r.case(ok)["status"], "passed", "{ok}: {}", r.all_output());
    }
    let s = step(&r, "derived secret shown nowhere");
    assert_eq!(s["status"], "failed", "{s}");
    assert!(s["message"].as_str().unwrap().contains("[REDACTED]"), "{s}");
    assert_eq!(
        step(&r, "claim missing")["message"],
        "cannot build request: jwt_claim: the JWT payload has no `aud` (it has: exp, https://x.test/roles, sub)"
    );
    let digest: String = sha2::Sha256::digest(PW.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("smoke:{PW}"));
    for secret in [PW, digest.as_str(), b64.as_str()] {
        assert!(
            !r.all_output().contains(secret),
            "`{secret}` leaked: {}",
            r.all_output()
        );
    }
}

#[tokio::test]
async fn a_bad_filter_is_an_error_at_its_position() {
    let suite = r#"name: bad-filter
vars: { tok: abcd }
cases:
  - name: md5
    request: { url: "http://127.0.0.1:9/?h=${tok | md5}" }
  - name: no name
    request: { url: "http://127.0.0.1:9/", headers: { X-S: "${tok | jwt_claim}" } }
"#;
    let r = run_suite(suite, &[]).await;
    assert_eq!(r.code, 2, "{}", r.all_output());
    for (at, want) in [
        ("real.yaml:5:21", "in `${tok | md5}`: unknown filter `md5`, expected one of base64, base64_decode, base64url, base64url_decode, url_encode, sha256, jwt_claim(\"NAME\"), jwt_header(\"NAME\")"),
        ("real.yaml:7:", "in `${tok | jwt_claim}`: `jwt_claim` needs the name of what to extract, e.g. jwt_claim(\"sub\")"),
    ] {
        assert!(
            r.stderr.contains(want) && r.stderr.contains(at),
            "missing `{want}` at {at} in:\n{}",
            r.stderr
        );
    }
}
