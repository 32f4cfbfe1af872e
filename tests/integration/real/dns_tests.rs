//! smokegate against dnsmasq: `--dns-server` for HTTP requests, and `dns:` checks.

use std::time::Instant;

use super::dnsmasq::{Dnsmasq, SilentDns};
use super::httpbin::Httpbin;
use super::nginx::Nginx;
use super::{args, error_message, run_suite, step};

#[tokio::test]
async fn dns_server_resolves_names_for_http_requests() {
    let dns = Dnsmasq::start();
    let ngx = Nginx::start();
    let suite = format!(
        r#"name: real-dns-http
cases:
  - name: api
    request: {{ url: "http://api.tminus.test:{p}/health" }}
    expect: {{ status: 200, jsonpath: [{{ path: $.data.worker, equals: tminus-api }}] }}
  - name: app
    request: {{ url: "http://app.tminus.test:{p}/health" }}
  - name: via cname
    request: {{ url: "http://www.tminus.test:{p}/health" }}
  - name: redirect kept
    request: {{ url: "http://api.tminus.test:{p}/redirect" }}
    expect: {{ status: 302, headers: {{ location: /health }} }}
  - name: redirect followed
    request: {{ url: "http://api.tminus.test:{p}/redirect", follow_redirects: true }}
    expect: {{ status: 200, jsonpath: [{{ path: $.ok, equals: true }}] }}
"#,
        p = ngx.plain
    );
    let r = run_suite(&suite, &args(&["--dns-server", &dns.addr.to_string()])).await;
    assert_eq!(r.code, 0, "{}\ndnsmasq:\n{}", r.all_output(), dns.log());
    let followed = &step(&r, "redirect followed")["request"]["redirects"];
    assert_eq!(
        followed[0],
        format!("http://api.tminus.test:{}/health", ngx.plain),
        "{followed}"
    );
    for case in [
        "api",
        "app",
        "via cname",
        "redirect kept",
        "redirect followed",
    ] {
        let req = &step(&r, case)["request"];
        assert_eq!(req["resolved_by"], "dns-server", "{case}: {req}");
        assert_eq!(req["connected_to"], format!("127.0.0.1:{}", ngx.plain));
    }
    let log = dns.log();
    assert!(
        log.contains("query[A] api.tminus.test from 127.0.0.1"),
        "{log}"
    );
    assert!(log.contains("query[A] www.tminus.test"), "{log}");
}

#[tokio::test]
async fn dns_server_also_serves_httpbin_names() {
    let dns = Dnsmasq::start();
    let bin = Httpbin::start();
    let suite = format!(
        "name: real-dns-httpbin\ncases:\n  - name: get\n    request: {{ url: \"http://api.tminus.test:{}/get\" }}\n    expect: {{ jsonpath: [{{ path: $.headers.Host, equals: \"api.tminus.test:{}\" }}] }}\n",
        bin.port, bin.port
    );
    let r = run_suite(&suite, &args(&["--dns-server", &dns.addr.to_string()])).await;
    assert_eq!(r.code, 0, "{}\nhttpbin:\n{}", r.all_output(), bin.log());
    assert_eq!(step(&r, "get")["request"]["resolved_by"], "dns-server");
}

#[tokio::test]
async fn unknown_name_is_a_dns_error_naming_nxdomain() {
    let dns = Dnsmasq::start();
    let suite = "name: real-nx\ncases:\n  - name: get\n    request: { url: \"http://gone.tminus.test:9/\" }\n";
    let r = run_suite(suite, &args(&["--dns-server", &dns.addr.to_string()])).await;
    assert_eq!(r.code, 1, "{}", r.all_output());
    let s = step(&r, "get");
    assert_eq!(s["status"], "error", "{s}");
    assert_eq!(s["error"]["kind"], "dns", "{s}");
    let m = error_message(&r, "get");
    assert!(
        m.contains("NXDOMAIN") && m.contains(&dns.addr.to_string()),
        "{m}"
    );
}

#[tokio::test]
async fn dns_checks_against_dnsmasq() {
    let dns = Dnsmasq::start();
    let suite = r#"name: real-dns-checks
cases:
  - name: a
    dns: { name: api.tminus.test, server: "${dns}", expect: { addresses_in: [127.0.0.1] } }
  - name: a in range
    dns: { name: api.tminus.test, server: "${dns}", expect: { cidr: 127.0.0.0/8 } }
  - name: aaaa
    dns: { name: api.tminus.test, type: AAAA, server: "${dns}", expect: { addresses_in: "::1" } }
  - name: cname
    dns: { name: www.tminus.test, type: CNAME, server: "${dns}", expect: { cname: api.tminus.test } }
  - name: txt
    dns: { name: tminus.test, type: TXT, server: "${dns}" }
  - name: mx
    dns: { name: tminus.test, type: MX, server: "${dns}" }
  - name: a not in set
    dns: { name: api.tminus.test, server: "${dns}", expect: { addresses_in: [10.0.0.1] } }
  - name: wrong cname
    dns: { name: www.tminus.test, type: CNAME, server: "${dns}", expect: { cname: app.tminus.test } }
  - name: no aaaa
    dns: { name: app.tminus.test, type: AAAA, server: "${dns}" }
  - name: nxdomain
    dns: { name: gone.tminus.test, server: "${dns}" }
"#;
    let r = run_suite(suite, &args(&["--var", &format!("dns={}", dns.addr)])).await;
    assert_eq!(r.code, 1, "{}", r.all_output());
    for ok in ["a", "a in range", "aaaa", "cname", "txt", "mx"] {
        assert_eq!(
            r.case(ok)["status"],
            "passed",
            "{ok}: {}\ndnsmasq:\n{}",
            r.all_output(),
            dns.log()
        );
    }
    let msg = |c: &str| r.case(c)["message"].as_str().unwrap_or("").to_string();
    for bad in ["a not in set", "wrong cname", "no aaaa", "nxdomain"] {
        assert_eq!(r.case(bad)["status"], "failed", "{bad}: {}", r.all_output());
    }
    let m = msg("a not in set");
    assert!(m.contains("127.0.0.1") && m.contains("10.0.0.1"), "{m}");
    let m = msg("wrong cname");
    assert!(
        m.contains("api.tminus.test") && m.contains("app.tminus.test"),
        "{m}"
    );
    let m = msg("nxdomain");
    assert!(m.contains("NXDOMAIN"), "{m}");
    assert_eq!(r.json.as_ref().unwrap()["counts"]["failed"], 4);
}

#[tokio::test]
async fn dns_check_against_a_silent_server_is_a_bounded_error() {
    let silent = SilentDns::bind();
    let suite = "name: real-silent\ncases:\n  - name: check\n    dns: { name: api.tminus.test, server: \"${dns}\" }\n";
    let start = Instant::now();
    let r = run_suite(
        suite,
        &args(&[
            "--var",
            &format!("dns={}", silent.addr),
            "--connect-timeout",
            "1s",
        ]),
    )
    .await;
    let took = start.elapsed();
    assert_eq!(r.code, 1, "{}", r.all_output());
    let c = r.case("check");
    assert_eq!(c["status"], "error", "{c}");
    let m = c["message"].as_str().unwrap_or("");
    assert!(
        m.contains(&silent.addr.to_string()) && m.contains("timed out"),
        "{m}"
    );
    // Bounded by the connect timeout (one UDP and one TCP try of 1 s each).
    assert!(c["duration_ms"].as_u64().unwrap() < 4000, "{c}");
    assert!(took.as_secs() < 10, "took {took:?}: {}", r.all_output());
}
