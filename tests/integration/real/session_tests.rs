//! Sessions against httpbin under gunicorn: the case's cookie jar (per host, through
//! redirects, never to another host), cookie captures and attribute checks, and the redirect
//! chain as data.

use super::httpbin::Httpbin;
use super::{run_suite, step};
use crate::common::Run;

fn resolves(port: u16) -> Vec<String> {
    ["a.test", "b.test"]
        .iter()
        .flat_map(|h| ["--resolve".to_string(), format!("{h}:{port}:127.0.0.1")])
        .collect()
}

fn steps(r: &Run, case: &str) -> Vec<serde_json::Value> {
    r.case(case)["steps"].as_array().expect("steps").clone()
}

#[tokio::test]
async fn a_cases_cookies_follow_it_to_their_host_only() {
    let bin = Httpbin::start();
    let p = bin.port;
    let suite = format!(
        r#"name: jar
vars: {{ a: "http://a.test:{p}", b: "http://b.test:{p}" }}
cases:
  - name: login flow
    steps:
      - name: login
        request: {{ url: "${{a}}/cookies/set?sessionid=s3cr3t-sess-42&theme=dark", follow_redirects: true }}
        expect:
          jsonpath: [{{ path: $.cookies.theme, equals: dark }}]
          cookies: {{ sessionid: {{ value: s3cr3t-sess-42, path: / }}, theme: {{}} }}
          redirects: {{ count: 1, final_url: "${{a}}/cookies", hops: [{{ status: 302, location: /cookies }}] }}
        capture: {{ sid: {{ cookie: sessionid }} }}
      - name: later step, same host
        request: {{ url: "${{a}}/cookies" }}
        expect: {{ jsonpath: [{{ path: $.cookies.sessionid, equals: "${{sid}}" }}] }}
      - name: other host gets nothing
        request: {{ url: "${{b}}/cookies" }}
        expect: {{ jsonpath: [{{ path: $.cookies, equals: {{}} }}] }}
      - name: redirect to other host drops them
        request: {{ url: "${{a}}/redirect-to?url=${{b}}/cookies", follow_redirects: true }}
        expect:
          jsonpath: [{{ path: $.cookies, equals: {{}} }}]
          redirects: {{ final_url: "${{b}}/cookies" }}
      - name: redirect back to their host brings them
        request: {{ url: "${{b}}/redirect-to?url=${{a}}/cookies&status_code=307", follow_redirects: true }}
        expect:
          jsonpath: [{{ path: $.cookies.theme, equals: dark }}]
          redirects: {{ hops: [{{ status: 307, url: "${{b}}/redirect-to?url=${{a}}/cookies&status_code=307" }}] }}
      - name: own Cookie header wins by name
        request: {{ url: "${{a}}/cookies", headers: {{ Cookie: "theme=light" }} }}
        expect:
          jsonpath:
            - {{ path: $.cookies.theme, equals: light }}
            - {{ path: $.cookies.sessionid, equals: "${{sid}}" }}
  - name: another case has its own jar
    needs: [login flow]
    request: {{ url: "${{a}}/cookies" }}
    expect: {{ jsonpath: [{{ path: $.cookies, equals: {{}} }}] }}
"#
    );
    let r = run_suite(&suite, &resolves(p)).await;
    assert_eq!(r.code, 0, "{}\nhttpbin:\n{}", r.all_output(), bin.log());
    let login = &steps(&r, "login flow")[0];
    assert_eq!(
        login["request"]["hops"][0]["location"], "/cookies",
        "{login}"
    );
    assert_eq!(login["request"]["hops"][0]["status"], 302, "{login}");
    assert!(
        !r.all_output().contains("s3cr3t-sess-42"),
        "a session cookie's value is a secret: {}",
        r.all_output()
    );
}

#[tokio::test]
async fn an_insecure_session_cookie_is_a_finding_that_explains_itself() {
    let bin = Httpbin::start();
    let set = |c: &str| bin.url(&format!("/response-headers?Set-Cookie={c}"));
    let suite = format!(
        r#"name: cookie-findings
cases:
  - name: insecure session
    request: {{ url: "{insecure}" }}
    expect:
      cookies: {{ session: {{ secure: true, http_only: true, same_site: Strict, persistent: false }} }}
  - name: hardened session
    request: {{ url: "{hardened}" }}
    expect:
      cookies:
        session: {{ secure: true, http_only: true, same_site: strict, max_age: 600, max_age_lte: 3600, persistent: true, domain: "", path: /app }}
        tracking: {{ present: false }}
  - name: missing cookie
    request: {{ url: "{insecure}" }}
    expect: {{ cookies: {{ sid: {{}} }} }}
  - name: missing capture
    steps:
      - name: get
        request: {{ url: "{insecure}" }}
        capture: {{ s: {{ cookie: sid }} }}
"#,
        insecure = set("session%3Dinsecure-value-77%3B%20Path%3D%2F"),
        hardened = set(
            "session%3Dhardened-value-88%3B%20Path%3D%2Fapp%3B%20Secure%3B%20HttpOnly%3B%20SameSite%3DStrict%3B%20Max-Age%3D600"
        ),
    );
    let r = run_suite(&suite, &[]).await;
    assert_eq!(r.code, 1, "{}", r.all_output());
    assert_eq!(
        r.case("hardened session")["status"],
        "passed",
        "{}",
        r.all_output()
    );
    let s = step(&r, "insecure session");
    assert_eq!(s["status"], "failed", "{s}");
    let failed: Vec<String> = s["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["passed"] == false)
        .map(|o| o["message"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        failed,
        [
            "cookie `session`: expected the Secure attribute, but its Set-Cookie has none: session=[REDACTED]; Path=/",
            "cookie `session`: expected the HttpOnly attribute, but its Set-Cookie has none: session=[REDACTED]; Path=/",
            "cookie `session`: expected SameSite \"Strict\", got \"(absent)\" (Set-Cookie: session=[REDACTED]; Path=/)",
        ],
        "{s}"
    );
    assert_eq!(
        step(&r, "missing cookie")["message"],
        "cookie `sid`: the response did not set it (Set-Cookie received for: session)"
    );
    assert_eq!(
        step(&r, "missing capture")["message"],
        "capture `s`: the response set no cookie `sid` (Set-Cookie received for: session)"
    );
    for secret in ["insecure-value-77", "hardened-value-88"] {
        assert!(!r.all_output().contains(secret), "{}", r.all_output());
    }
}

#[tokio::test]
async fn the_redirect_chain_is_data_a_gate_can_check() {
    let bin = Httpbin::start();
    let u = |p: &str| bin.url(p);
    let suite = format!(
        r#"name: chains
cases:
  - name: two hops
    request: {{ url: "{r2}", follow_redirects: true }}
    expect:
      redirects:
        count: 2
        final_url: "{get}"
        hops:
          - {{ status: 302, location: /relative-redirect/1, url: "{r2}" }}
          - {{ status: 3xx, location: /get }}
  - name: wrong count
    request: {{ url: "{r2}", follow_redirects: true }}
    expect: {{ redirects: {{ count: 1 }} }}
  - name: wrong hop
    request: {{ url: "{to}", follow_redirects: true }}
    expect: {{ redirects: {{ hops: [{{ status: 301, location: /anything }}] }} }}
  - name: no redirect
    request: {{ url: "{get}", follow_redirects: true }}
    expect: {{ redirects: {{ count: 1, final_url: "{anything}" }} }}
"#,
        r2 = u("/redirect/2"),
        get = u("/get"),
        anything = u("/anything"),
        to = u("/redirect-to?url=/get&status_code=302"),
    );
    let r = run_suite(&suite, &[]).await;
    assert_eq!(r.code, 1, "{}", r.all_output());
    assert_eq!(r.case("two hops")["status"], "passed", "{}", r.all_output());
    let hops = &step(&r, "two hops")["request"]["hops"];
    assert_eq!(hops.as_array().map(Vec::len), Some(2), "{hops}");
    assert_eq!(hops[1]["location"], "/get");
    let get = u("/get");
    let r2 = u("/redirect/2");
    let rel = u("/relative-redirect/1");
    assert_eq!(
        step(&r, "wrong count")["message"],
        format!("expected 1 redirect(s), followed 2: {r2} -302-> {rel} -302-> {get} (200) (and 0 more failed expectations)").replace(" (and 0 more failed expectations)", "")
    );
    let m = step(&r, "wrong hop")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        m.starts_with("redirect 1 (")
            && m.contains("expected status 301, got 302 (Location: /get)"),
        "{m}"
    );
    let m = step(&r, "no redirect")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        m,
        format!("expected 1 redirect(s), followed 0: no redirect followed ({get} answered 200) (and 1 more failed expectations)")
    );
}

#[tokio::test]
async fn cookie_and_redirect_checks_are_checked_when_the_plan_is_built() {
    let suite = r#"name: bad-session-checks
cases:
  - name: not followed
    request: { url: "http://127.0.0.1:9/" }
    expect: { redirects: { count: 1 } }
  - name: bad same site
    request: { url: "http://127.0.0.1:9/" }
    expect: { cookies: { sid: { same_site: sometimes } } }
  - name: absent with checks
    request: { url: "http://127.0.0.1:9/" }
    expect: { cookies: { sid: { present: false, secure: true } } }
  - name: count and hops disagree
    request: { url: "http://127.0.0.1:9/", follow_redirects: true }
    expect: { redirects: { count: 2, hops: [{ status: 301 }] } }
  - name: two sources
    steps:
      - name: s
        request: { url: "http://127.0.0.1:9/" }
        capture: { c: { cookie: sid, header: x-sid } }
"#;
    let r = run_suite(suite, &[]).await;
    assert_eq!(r.code, 2, "{}", r.all_output());
    for (at, want) in [
        ("real.yaml:5:26", "expect.redirects checks the redirects followed, but this request follows none: set `follow_redirects` on it"),
        ("real.yaml:8:", "cookie `sid`: same_site `sometimes` is not a SameSite value: use Strict, Lax or None"),
        ("real.yaml:11:", "cookie `sid`: `present: false` cannot be combined with checks of the cookie's value or attributes"),
        ("real.yaml:14:", "redirects: count is 2 but 1 hops are listed"),
        ("real.yaml:19:", "capture `c`: capture `c` needs exactly one of `jsonpath`, `header`, `regex` or `cookie`"),
    ] {
        assert!(
            r.stderr.contains(&format!("error: {want}")) && r.stderr.contains(at),
            "missing `{want}` at {at} in:\n{}",
            r.stderr
        );
    }
}

/// `Domain=test` set by `a.test` would reach every `*.test` host (we load no public suffix
/// list): a single-label Domain is ignored as browsers ignore a public suffix, so `b.test`
/// never receives it; a Domain naming the host's own domain still works.
#[tokio::test]
async fn a_single_label_cookie_domain_does_not_reach_other_hosts() {
    let bin = Httpbin::start();
    let p = bin.port;
    let suite = format!(
        r#"name: scope
vars: {{ a: "http://a.test:{p}", b: "http://b.test:{p}" }}
cases:
  - name: scope
    steps:
      - name: set
        request: {{ url: "${{a}}/response-headers?Set-Cookie=wide%3D1%3B%20Domain%3Dtest&Set-Cookie=own%3D1%3B%20Domain%3Da.test" }}
      - name: own host keeps its own-domain cookie only
        request: {{ url: "${{a}}/cookies" }}
        expect: {{ jsonpath: [{{ path: $.cookies, equals: {{ own: "1" }} }}] }}
      - name: other host
        request: {{ url: "${{b}}/cookies" }}
        expect: {{ jsonpath: [{{ path: $.cookies.wide, equals: "1" }}] }}
"#
    );
    let r = run_suite(&suite, &resolves(p)).await;
    assert_eq!(r.code, 1, "{}\nhttpbin:\n{}", r.all_output(), bin.log());
    let s = steps(&r, "scope");
    assert_eq!(s[1]["status"], "passed", "{}", s[1]);
    assert_eq!(s[2]["status"], "failed", "{}", s[2]);
    assert!(
        r.all_output().contains("step `other host` (FAIL):")
            && r.all_output()
                .contains("✗ $.cookies.wide: no value at this path"),
        "{}",
        r.all_output()
    );
}

/// A `Set-Cookie` without `name=value` is ignored (RFC 6265 5.2), and a check of the cookie
/// says so, quoting it, instead of claiming no Set-Cookie came; a long malformed value (it may
/// be a bare token) is redacted.
#[tokio::test]
async fn a_malformed_set_cookie_is_named_in_the_message() {
    let bin = Httpbin::start();
    let set = |c: &str| bin.url(&format!("/response-headers?Set-Cookie={c}"));
    let suite = format!(
        r#"name: malformed
cases:
  - name: bare name
    request: {{ url: "{bare}" }}
    expect: {{ cookies: {{ sidx: {{}} }} }}
  - name: bare token
    request: {{ url: "{token}" }}
    expect: {{ cookies: {{ sid: {{}} }} }}
  - name: well formed
    request: {{ url: "{good}" }}
    expect: {{ cookies: {{ sidx: {{ value: "1" }} }} }}
"#,
        bare = set("sidx"),
        token = set("eyJhbGciOi-bare-token-4242%3B%20Path%3D%2F"),
        good = set("sidx%3D1"),
    );
    let r = run_suite(&suite, &[]).await;
    assert_eq!(r.code, 1, "{}", r.all_output());
    assert_eq!(
        r.case("well formed")["status"],
        "passed",
        "{}",
        r.all_output()
    );
    assert_eq!(
        step(&r, "bare name")["message"],
        "cookie `sidx`: the response did not set it (a Set-Cookie was ignored as malformed: `sidx`)"
    );
    assert_eq!(
        step(&r, "bare token")["message"],
        "cookie `sid`: the response did not set it (a Set-Cookie was ignored as malformed: `[REDACTED]; Path=/`)"
    );
    assert!(
        !r.all_output().contains("bare-token-4242"),
        "{}",
        r.all_output()
    );
}
