//! Authentication blocks against httpbin (Basic, Bearer, API keys; suite, profile and step
//! precedence; credentials redacted and never sent to another origin) and OAuth2 client
//! credentials against a real Authlib authorization server.

use super::httpbin::Httpbin;
use super::oauth2::OAuth2Server;
use super::{run_suite, step};

const PASSWORD: &str = "pw-Basic-7781";
const TOKEN: &str = "tok-Bearer-5521";
const KEY: &str = "key-Api-9930";

#[tokio::test]
async fn basic_bearer_and_api_keys_with_precedence_and_no_leak() {
    let bin = Httpbin::start();
    let p = bin.port;
    let suite = format!(
        r#"name: auth
vars: {{ a: "http://a.test:{p}", b: "http://b.test:{p}", pw: {PASSWORD}, token: {TOKEN}, key: {KEY} }}
defaults:
  auth: {{ basic: {{ user: smoke, password: "${{pw}}" }} }}
profiles:
  plain: {{}}
  bearer:
    auth: {{ bearer: "${{token}}" }}
default_profile: plain
cases:
  - name: basic from defaults
    request: {{ url: "${{a}}/basic-auth/smoke/${{pw}}" }}
    expect: {{ jsonpath: [{{ path: $.user, equals: smoke }}] }}
  - name: bearer on the step
    request: {{ url: "${{a}}/bearer", auth: {{ bearer: "${{token}}" }} }}
    expect: {{ jsonpath: [{{ path: $.token, equals: "${{token}}" }}] }}
  - name: wrong password
    request: {{ url: "${{a}}/basic-auth/smoke/${{pw}}", auth: {{ basic: {{ user: smoke, password: not-the-password }} }} }}
  - name: api key header
    request: {{ url: "${{a}}/headers", auth: {{ api_key: {{ header: X-Custom-Thing, value: "${{key}}" }} }} }}
    expect: {{ jsonpath: [{{ path: "$.headers['X-Custom-Thing']", equals: "${{key}}" }}, {{ path: $.headers.Authorization, exists: false }}] }}
  - name: api key query
    request: {{ url: "${{a}}/anything?page=2", auth: {{ api_key: {{ query: api_key, value: "${{key}}" }} }} }}
    expect: {{ jsonpath: [{{ path: $.args.api_key, equals: "${{key}}" }}, {{ path: $.args.page, equals: "2" }}] }}
  - name: none turns it off
    request: {{ url: "${{a}}/bearer", auth: {{ none: true }} }}
    expect: {{ status: 401 }}
  - name: not sent to another origin
    request: {{ url: "${{a}}/redirect-to?url=${{b}}/headers", follow_redirects: true, auth: {{ bearer: "${{token}}" }} }}
    expect: {{ jsonpath: [{{ path: $.headers.Authorization, exists: false }}] }}
  - name: api key not sent to another origin
    request: {{ url: "${{a}}/redirect-to?url=${{b}}/headers", follow_redirects: true, auth: {{ api_key: {{ header: X-Custom-Thing, value: "${{key}}" }} }} }}
    expect: {{ jsonpath: [{{ path: "$.headers['X-Custom-Thing']", exists: false }}] }}
  - name: kept on the same origin
    request: {{ url: "${{a}}/redirect-to?url=/headers", follow_redirects: true, auth: {{ bearer: "${{token}}" }} }}
    expect: {{ jsonpath: [{{ path: $.headers.Authorization, equals: "Bearer ${{token}}" }}] }}
"#
    );
    let resolve: Vec<String> = ["a.test", "b.test"]
        .iter()
        .flat_map(|h| ["--resolve".to_string(), format!("{h}:{p}:127.0.0.1")])
        .collect();
    let r = run_suite(&suite, &resolve).await;
    assert_eq!(r.code, 1, "{}\nhttpbin:\n{}", r.all_output(), bin.log());
    for ok in [
        "basic from defaults",
        "bearer on the step",
        "api key header",
        "api key query",
        "none turns it off",
        "not sent to another origin",
        "api key not sent to another origin",
        "kept on the same origin",
    ] {
        assert_eq!(r.case(ok)["status"], "passed", "{ok}: {}", r.all_output());
    }
    assert!(
        step(&r, "wrong password")["message"]
            .as_str()
            .unwrap()
            .starts_with("expected status 2xx, got 401"),
        "{}",
        step(&r, "wrong password")
    );
    // The profile's bearer wins over the suite's basic.
    let mut with_profile = resolve.clone();
    with_profile.extend(["--env".to_string(), "bearer".to_string()]);
    let r2 = run_suite(&suite, &with_profile).await;
    assert_eq!(r2.case("basic from defaults")["status"], "failed");
    assert!(
        step(&r2, "basic from defaults")["message"]
            .as_str()
            .unwrap()
            .starts_with("expected status 2xx, got 401"),
        "{}",
        step(&r2, "basic from defaults")
    );
    assert_eq!(
        r2.case("none turns it off")["status"],
        "passed",
        "{}",
        r2.all_output()
    );
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("smoke:{PASSWORD}"));
    for secret in [PASSWORD, TOKEN, KEY, b64.as_str()] {
        assert!(
            !r.all_output().contains(secret),
            "`{secret}` leaked: {}",
            r.all_output()
        );
    }
    // With the profile's bearer, the Basic password is never sent (the URL shows it: it is
    // not a credential of that run).
    for secret in [TOKEN, KEY, b64.as_str()] {
        assert!(
            !r2.all_output().contains(secret),
            "`{secret}` leaked: {}",
            r2.all_output()
        );
    }
}

#[tokio::test]
async fn auth_blocks_are_checked_when_the_plan_is_built() {
    let suite = r#"name: bad-auth
cases:
  - name: two schemes
    request: { url: "http://127.0.0.1:9/", auth: { bearer: abcd, basic: { user: u, password: p } } }
  - name: both
    request: { url: "http://127.0.0.1:9/", headers: { Authorization: "Bearer abcd" }, auth: { bearer: abcd } }
  - name: no place
    request: { url: "http://127.0.0.1:9/", auth: { api_key: { value: abcd } } }
  - name: undefined
    request: { url: "http://127.0.0.1:9/", auth: { oauth2: { token_url: "http://127.0.0.1:9/t", client_id: c, client_secret: "${nope}" } } }
  - name: token url
    request: { url: "http://127.0.0.1:9/", auth: { oauth2: { token_url: "ftp://id.test/t", client_id: c, client_secret: abcd } } }
"#;
    let r = run_suite(suite, &[]).await;
    assert_eq!(r.code, 2, "{}", r.all_output());
    for (at, want) in [
        (
            "real.yaml:4:50",
            "auth needs exactly one of `basic`, `bearer`, `api_key`, `oauth2` or `none: true`",
        ),
        (
            "real.yaml:6:93",
            "the request has both `auth` and an `Authorization` header: keep one",
        ),
        (
            "real.yaml:8:50",
            "auth.api_key needs exactly one of `header` or `query` (a non-empty name)",
        ),
        (
            "real.yaml:10:50",
            "undefined variable `nope` in auth.oauth2.client_secret",
        ),
        ("real.yaml:12:50", "unsupported URL scheme `ftp`"),
    ] {
        assert!(
            r.stderr.contains(&format!("error: {want}")) && r.stderr.contains(at),
            "missing `{want}` at {at} in:\n{}",
            r.stderr
        );
    }
}

const SECRET: &str = "smoke-client-secret-123";
const POST_SECRET: &str = "post-client-secret-456";

fn oauth2_block(server: &OAuth2Server, secret: &str) -> String {
    format!(
        r#"{{ oauth2: {{ token_url: "{}", client_id: smoke-client, client_secret: "{secret}", scope: read }} }}"#,
        server.url("/oauth/token")
    )
}

#[tokio::test]
async fn oauth2_tokens_are_fetched_once_per_credentials_and_never_shown() {
    let s = OAuth2Server::start(3600);
    let me = s.url("/api/me");
    let mut cases = String::new();
    for k in 1..=6 {
        cases.push_str(&format!(
            "  - name: case {k}\n    request: {{ url: \"{me}\" }}\n    expect: {{ jsonpath: [{{ path: $.client_id, equals: smoke-client }}, {{ path: $.scope, equals: read }}, {{ path: $.token_number, equals: 1 }}] }}\n"
        ));
    }
    let suite = format!(
        r#"name: oauth2
defaults:
  auth: {auth}
cases:
{cases}  - name: post client
    request:
      url: "{me}"
      auth: {{ oauth2: {{ token_url: "{token_url}", client_id: post-client, client_secret: {POST_SECRET}, client_auth: post, scope: "read write", audience: "https://api.example.test" }} }}
    expect:
      jsonpath:
        - {{ path: $.client_id, equals: post-client }}
        - {{ path: $.scope, equals: read write }}
        - {{ path: $.audience, equals: "https://api.example.test" }}
  - name: unprotected without auth
    request: {{ url: "{me}", auth: {{ none: true }} }}
    expect: {{ status: 401 }}
"#,
        auth = oauth2_block(&s, SECRET),
        token_url = s.url("/oauth/token"),
    );
    let r = run_suite(&suite, &["--jobs".into(), "6".into()]).await;
    assert_eq!(r.code, 0, "{}\nserver:\n{}", r.all_output(), s.log());
    let stats = s.stats();
    assert_eq!(stats["issued"], 2, "one token per credentials: {stats}");
    let out = r.all_output();
    for t in stats["tokens"].as_array().unwrap() {
        let token = t["access_token"].as_str().unwrap();
        assert!(!out.contains(token), "token leaked: {out}");
    }
    for secret in [SECRET, POST_SECRET] {
        assert!(!out.contains(secret), "secret leaked: {out}");
    }
}

#[tokio::test]
async fn a_token_endpoint_failure_is_its_own_cause() {
    let s = OAuth2Server::start(3600);
    let bin = Httpbin::start();
    let me = s.url("/api/me");
    let refused = super::free_port();
    let with = |url: &str, secret: &str| {
        format!(
            r#"{{ oauth2: {{ token_url: "{url}", client_id: smoke-client, client_secret: "{secret}" }} }}"#
        )
    };
    let suite = format!(
        r#"name: oauth2-failures
cases:
  - name: wrong secret
    request: {{ url: "{me}", auth: {wrong} }}
    retry: {{ attempts: 2, interval: 10ms }}
  - name: refused
    request: {{ url: "{me}", auth: {refused} }}
  - name: not json
    request: {{ url: "{me}", auth: {empty} }}
  - name: no access token
    request: {{ url: "{me}", auth: {anything} }}
  - name: the step's own failure
    request: {{ url: "{me}", auth: {good} }}
    expect: {{ status: 204 }}
"#,
        wrong = with(&s.url("/oauth/token"), "wrong-secret-0000"),
        refused = with(&format!("http://127.0.0.1:{refused}/oauth/token"), SECRET),
        empty = with(&bin.url("/status/200"), SECRET),
        anything = with(&bin.url("/post"), SECRET),
        good = with(&s.url("/oauth/token"), SECRET),
    );
    let r = run_suite(&suite, &[]).await;
    assert_eq!(r.code, 1, "{}\nserver:\n{}", r.all_output(), s.log());
    let token_url = s.url("/oauth/token");
    let m = |c: &str| step(&r, c)["message"].as_str().unwrap_or("").to_string();
    assert_eq!(step(&r, "wrong secret")["status"], "error");
    assert_eq!(
        m("wrong secret"),
        format!("OAuth2 token endpoint {token_url} answered 401: invalid_client (The client cannot authenticate with methods: ['client_secret_basic', 'client_secret_post']) (after 2 attempts)")
    );
    assert!(
        m("refused").starts_with(&format!(
            "OAuth2 token endpoint http://127.0.0.1:{refused}/oauth/token could not be reached (connect"
        )),
        "{}",
        m("refused")
    );
    assert_eq!(
        m("not json"),
        format!(
            "OAuth2 token endpoint {} answered 200 without a usable token: the body is empty",
            bin.url("/status/200")
        )
    );
    assert!(
        m("no access token").starts_with(&format!(
            "OAuth2 token endpoint {} answered 200 without a usable token: no `access_token` string in the JSON (keys: args, data, files, form, headers, json",
            bin.url("/post")
        )),
        "{}",
        m("no access token")
    );
    assert_eq!(step(&r, "the step's own failure")["status"], "failed");
    assert_eq!(m("the step's own failure"), "expected status 204, got 200");
    assert_eq!(s.stats()["issued"], 1);
    let out = r.all_output();
    for secret in [SECRET, "wrong-secret-0000"] {
        assert!(!out.contains(secret), "secret leaked: {out}");
    }
}

#[tokio::test]
async fn an_expired_token_is_fetched_again() {
    // Tokens live 3 s: smokegate uses one for at most 2.7 s.
    let s = OAuth2Server::start(3);
    let me = s.url("/api/me");
    let suite = format!(
        r#"name: oauth2-expiry
defaults:
  auth: {auth}
cases:
  - name: first
    request: {{ url: "{me}" }}
    expect: {{ jsonpath: [{{ path: $.token_number, equals: 1 }}] }}
  - name: after expiry
    needs: [first]
    request: {{ url: "{me}" }}
    retry: {{ attempts: 3, interval: 3s }}
    expect: {{ jsonpath: [{{ path: $.token_number, equals: 2 }}] }}
"#,
        auth = oauth2_block(&s, SECRET),
    );
    let r = run_suite(&suite, &["--timeout".into(), "20s".into()]).await;
    assert_eq!(r.code, 0, "{}\nserver:\n{}", r.all_output(), s.log());
    assert_eq!(s.stats()["issued"], 2, "{}", s.stats());
}
