//! Issue 10's defects, each shown against a real server it was found with: nginx (HTTP/2,
//! openssl-made certificates), dnsmasq, and failing DNS ports. Each test failed before its fix.

use std::time::{Duration, Instant};

use super::dnsmasq::{refused_port, Dnsmasq, SilentDns};
use super::nginx::{Nginx, BIG_JSON};
use super::pki::pki;
use super::{args, error_message, run_suite, step};

/// Item 1: over HTTP/2 a `Host` override is the `:authority` alone; nginx routes by it (it
/// answered 400 "client sent duplicate host header" when both were sent).
#[tokio::test]
async fn a_host_override_over_http2_reaches_the_named_vhost() {
    let ngx = Nginx::start();
    let p = ngx.h2;
    let suite = format!(
        r#"name: dispatch
cases:
  - name: api by subdomain
    request: {{ url: "https://gw.tminus.test:{p}/health", headers: {{ Host: api.tminus.test }} }}
    expect:
      status: 200
      tls: {{ http_version: HTTP/2, covers_host: true }}
      jsonpath: [{{ path: $.data.worker, equals: tminus-api }}]
  - name: app by subdomain
    request: {{ url: "https://gw.tminus.test:{p}/health", headers: {{ host: "app.tminus.test:{p}" }} }}
    expect:
      status: 200
      jsonpath: [{{ path: $.data.worker, equals: tminus-app-gateway }}]
  - name: host naming another port
    request: {{ url: "https://api.tminus.test:{p}/health", headers: {{ Host: "api.tminus.test:443" }} }}
    expect:
      status: 200
      tls: {{ http_version: HTTP/1.1 }}
      jsonpath: [{{ path: $.data.worker, equals: tminus-api }}]
"#
    );
    let mut a = args(&["--cacert", &pki().cacert(), "--resolve"]);
    a.push(format!("gw.tminus.test:{p}:127.0.0.1"));
    a.push("--resolve".into());
    a.push(format!("api.tminus.test:{p}:127.0.0.1"));
    let r = run_suite(&suite, &a).await;
    assert_eq!(r.code, 0, "{}\nnginx:\n{}", r.all_output(), ngx.log());
    let s = step(&r, "api by subdomain");
    assert_eq!(s["response"]["http_version"], "HTTP/2.0");
    assert_eq!(
        s["request"]["resolved_by"], "override",
        "the URL's host was resolved"
    );
    assert!(!ngx.log().contains("duplicate host"), "{}", ngx.log());
}

/// One plain-HTTP check of nginx for `host`, asking `dns`, with a fallback pin; the step and
/// how long the run took.
async fn pinned(
    ngx: &Nginx,
    host: &str,
    dns: &str,
    extra: &[&str],
) -> (serde_json::Value, Duration) {
    let p = ngx.plain;
    let suite = format!(
        "name: pin\ncases:\n  - name: get\n    request: {{ url: \"http://{host}:{p}/health\" }}\n"
    );
    let mut a = args(&["--verbose", "--dns-server", dns, "--fallback-resolve"]);
    a.push(format!("{host}:{p}:127.0.0.1"));
    a.extend(args(extra));
    let started = Instant::now();
    let r = run_suite(&suite, &a).await;
    let took = started.elapsed();
    assert_eq!(r.code, 0, "the pin is used: {}", r.all_output());
    let s = step(&r, "get").clone();
    assert_eq!(s["request"]["resolved_by"], "fallback", "{s}");
    assert!(r.stdout.contains("fallback used because"), "{}", r.stdout);
    (s, took)
}

fn cause(s: &serde_json::Value) -> &str {
    s["request"]["fallback_cause"].as_str().unwrap_or("")
}

/// Item 2: resolution has its own budget and the pin is used whatever the failure — a
/// silent server, a closed port, REFUSED and NXDOMAIN from dnsmasq — and says which.
#[tokio::test]
async fn every_dns_failure_falls_back_to_the_pin_and_is_named() {
    let ngx = Nginx::start();
    let dns = Dnsmasq::start();
    let silent = SilentDns::bind();
    let (s, took) = pinned(
        &ngx,
        "api.tminus.test",
        &silent.addr.to_string(),
        &["--connect-timeout", "1s"],
    )
    .await;
    assert!(cause(&s).contains("no answer within 1000 ms"), "{s}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    let (s, took) = pinned(&ngx, "api.tminus.test", &refused_port().to_string(), &[]).await;
    assert!(cause(&s).contains("connection refused"), "{s}");
    assert!(
        took < Duration::from_secs(2),
        "refused is not a timeout: {took:?}"
    );
    let (s, _) = pinned(&ngx, "api.outside.test", &dns.addr.to_string(), &[]).await;
    assert!(cause(&s).contains("REFUSED"), "{s}");
    let (s, _) = pinned(&ngx, "gone.tminus.test", &dns.addr.to_string(), &[]).await;
    assert!(cause(&s).contains("NXDOMAIN"), "{s}");
}

/// Items 2 and 3: without a pin, a DNS failure is a `dns` error naming the server — never a
/// connect timeout — and DNS checks report a closed port at once, a silent server within
/// the budget.
#[tokio::test]
async fn dns_failures_are_dns_errors_within_the_budget() {
    let silent = SilentDns::bind();
    let closed = refused_port();
    let suite = format!(
        r#"name: dnsfail
cases:
  - name: http via silent
    request: {{ url: "http://api.tminus.test:9/health" }}
  - name: http via closed
    request: {{ url: "http://api.tminus.test:9/health" }}
    needs: []
  - name: check closed
    dns: {{ name: api.tminus.test, server: "{closed}" }}
  - name: check silent
    dns: {{ name: api.tminus.test, server: "{}" }}
"#,
        silent.addr
    );
    let started = Instant::now();
    let r = run_suite(
        &suite,
        &args(&[
            "--dns-server",
            &silent.addr.to_string(),
            "--connect-timeout",
            "1s",
            "--jobs",
            "4",
        ]),
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(r.code, 1, "{}", r.all_output());
    let s = step(&r, "http via silent");
    assert_eq!(s["error"]["kind"], "dns", "{s}");
    let m = error_message(&r, "http via silent");
    assert!(
        m.contains("no answer within 1000 ms") && m.contains(&silent.addr.to_string()),
        "{m}"
    );
    let c = r.case("check closed");
    assert_eq!(c["status"], "error");
    assert!(
        c["message"]
            .as_str()
            .unwrap()
            .contains("connection refused"),
        "{c}"
    );
    let c = r.case("check silent");
    assert!(
        c["message"]
            .as_str()
            .unwrap()
            .contains("no answer within 1000 ms"),
        "{c}"
    );
}

/// Item 6: a self-signed certificate made the usual way (CA:TRUE) is trusted when given with
/// `--cacert`, as curl does; a CN-only certificate is explained consistently by the
/// handshake and by `covers_host`, which no longer passes it under `--insecure`.
#[tokio::test]
async fn openssl_made_certificates_are_judged_like_curl_and_explained_in_words() {
    let ngx = Nginx::start();
    let suite = format!(
        r#"name: certs
cases:
  - name: self-signed
    request: {{ url: "https://selfsigned.tminus.test:{}/health" }}
  - name: cn-only
    request: {{ url: "https://cn-only.tminus.test:{}/health" }}
    expect: {{ tls: {{ covers_host: true }} }}
"#,
        ngx.self_signed, ngx.cn_only
    );
    let mut a = args(&[
        "--resolve",
        &Nginx::resolve("selfsigned.tminus.test", ngx.self_signed),
    ]);
    a.extend(args(&[
        "--resolve",
        &Nginx::resolve("cn-only.tminus.test", ngx.cn_only),
    ]));
    let mut trusted = a.clone();
    trusted.extend(args(&["--cacert", &pki().self_signed.cert_str()]));
    let r = run_suite(&suite, &trusted).await;
    assert_eq!(
        step(&r, "self-signed")["status"],
        "passed",
        "{}",
        r.all_output()
    );
    // Not trusted: the CA flag is explained, without Rust debug text.
    let r = run_suite(&suite, &a).await;
    let m = error_message(&r, "self-signed");
    assert!(
        m.contains("CA certificate") && m.contains("--cacert"),
        "{m}"
    );
    assert!(!r.all_output().contains("OtherError"), "{}", r.all_output());
    // CN-only, with its CA trusted: rejected, and the message does not call it valid.
    let mut with_ca = a.clone();
    with_ca.extend(args(&["--cacert", &pki().cacert()]));
    let r = run_suite(&suite, &with_ca).await;
    let m = error_message(&r, "cn-only");
    assert!(m.contains("no subjectAltName"), "{m}");
    assert!(!m.contains("valid for: cn-only"), "{m}");
    // Under --insecure the handshake passes, and covers_host fails with the same reason.
    let mut insecure = a.clone();
    insecure.push("--insecure".into());
    let r = run_suite(&suite, &insecure).await;
    let c = r.case("cn-only");
    assert_eq!(c["status"], "failed", "{c}");
    assert!(
        c["message"].as_str().unwrap().contains("no subjectAltName"),
        "{c}"
    );
}

/// Item 9: the report shows the bytes nginx sent (key order and number text kept), and an
/// integer beyond 64 bits is an integer.
#[tokio::test]
async fn reports_show_the_bytes_received_and_big_integers_are_integers() {
    let ngx = Nginx::start();
    let p = ngx.plain;
    let suite = format!(
        r#"name: big
cases:
  - name: big
    request: {{ url: "http://127.0.0.1:{p}/big" }}
    expect:
      jsonpath:
        - {{ path: $.n, type: integer }}
        - {{ path: $.n, equals: "1000000000000000000000" }}
        - {{ path: $.n, gt: "999999999999999999999", lt: "1000000000000000000001" }}
  - name: off by one
    request: {{ url: "http://127.0.0.1:{p}/big" }}
    expect:
      jsonpath: [{{ path: $.n, equals: "1000000000000000000001" }}]
  - name: excerpt
    request: {{ url: "http://127.0.0.1:{p}/big" }}
    expect: {{ status: 201 }}
"#
    );
    let r = run_suite(&suite, &[]).await;
    assert_eq!(r.case("big")["status"], "passed", "{}", r.all_output());
    assert_eq!(r.case("off by one")["status"], "failed", "no false pass");
    // Unquoted, YAML would read it as a float that lost digits: refused, with the fix.
    let lossy = suite.replace("\"1000000000000000000001\"", "1000000000000000000001");
    let r2 = run_suite(&lossy, &[]).await;
    assert_eq!(r2.code, 2, "{}", r2.all_output());
    assert!(
        r2.stderr.contains("cannot be compared exactly"),
        "{}",
        r2.stderr
    );
    let s = step(&r, "excerpt");
    assert_eq!(s["response"]["body_excerpt"], BIG_JSON, "{s}");
    assert!(r.stdout.contains(BIG_JSON), "{}", r.stdout);
}
