//! Issue 13: facts about the certificate (nginx with `openssl`-made certificates), the
//! connection (nginx over http and https) and DNS answers (dnsmasq) — each with a passing and
//! a failing case whose message is asserted. Expected fingerprints and serials come from
//! `openssl x509`, not from smokegate.

use std::net::TcpListener;
use std::process::Command;

use serde_json::Value;

use super::dnsmasq::Dnsmasq;
use super::nginx::Nginx;
use super::pki::pki;
use super::{args, run_suite, step};

/// `openssl x509 -in PEM -noout FLAG…`, the value after `=`.
fn openssl_x509(pem: &std::path::Path, flags: &[&str]) -> String {
    let out = Command::new("openssl")
        .arg("x509")
        .arg("-in")
        .arg(pem)
        .arg("-noout")
        .args(flags)
        .output()
        .expect("openssl runs (apt-get install -y openssl)");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    text.split_once('=')
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or(text)
}

/// The outcomes of the first step of `case` whose check contains `needle`.
fn outcome<'a>(r: &'a crate::common::Run, case: &str, needle: &str) -> &'a Value {
    let s = step(r, case);
    s["expectations"]
        .as_array()
        .and_then(|os| {
            os.iter()
                .find(|o| o["check"].as_str().is_some_and(|c| c.contains(needle)))
        })
        .unwrap_or_else(|| panic!("{case}: no outcome with `{needle}` in {s}"))
}

fn message(o: &Value) -> String {
    o["message"].as_str().unwrap_or("").to_string()
}

#[tokio::test]
async fn certificate_details_pass_and_name_what_the_server_presented() {
    let ngx = Nginx::start();
    let leaf = &pki().leaf.cert;
    let pin = openssl_x509(leaf, &["-fingerprint", "-sha256"]);
    let plain_pin = pin.replace(':', "").to_ascii_lowercase();
    let serial = openssl_x509(leaf, &["-serial"]);
    // As openssl prints it (`CN = tminus.test`): spaces around `=` do not matter.
    let subject = openssl_x509(leaf, &["-subject"]);
    let other_pin = vec!["00"; 32].join(":");
    let p = ngx.h2;
    let url = format!("https://api.tminus.test:{p}/health");
    // The leaf was made moments ago: its not_before is before a minute from now.
    let now = (chrono::Utc::now() + chrono::Duration::minutes(1)).format("%Y-%m-%dT%H:%M:%SZ");
    let suite = format!(
        r#"name: real-cert-details
cases:
  - name: pass
    request: {{ url: "{url}" }}
    expect:
      tls:
        subject: "{subject}"
        issuer: {{ cn: smokegate real-servers test CA, contains: "test CA" }}
        san: {{ contains: "*.tminus.test", equals: [TMINUS.test, "*.tminus.test"] }}
        serial: "{serial_lower}"
        fingerprint_sha256: ["{other_pin}", "${{next_pin}}"]
        not_before: {{ before: "{now}" }}
        not_after: {{ after: 2026-01-01, before: 2099-01-01T00:00:00Z }}
  - name: fail
    request: {{ url: "{url}" }}
    expect:
      tls:
        subject: {{ cn: {{ matches: "^api\\." }} }}
        issuer: {{ o: Let's Encrypt }}
        san: {{ contains: [api.tminus.test, www.example.test], equals: [api.tminus.test] }}
        serial: "0a:bc"
        fingerprint_sha256: "{other_pin}"
        not_after: {{ before: 2025-01-01 }}
"#,
        serial_lower = serial.to_ascii_lowercase(),
    );
    // The accepted pin comes from a variable (as a profile would give it), in plain hex.
    let next_pin = format!("next_pin={plain_pin}");
    let mut a = args(&["--cacert", &pki().cacert(), "--var", &next_pin]);
    a.extend(args(&["--resolve", &Nginx::resolve("api.tminus.test", p)]));
    let r = run_suite(&suite, &a).await;
    assert_eq!(r.code, 1, "{}\nnginx:\n{}", r.all_output(), ngx.log());
    let pass = step(&r, "pass");
    assert_eq!(pass["status"], "passed", "{pass}");
    // The report names the certificate's serial and fingerprint as openssl prints them.
    let cert = &pass["response"]["tls"]["certificate"];
    assert_eq!(cert["sha256"], pin.as_str(), "{cert}");
    assert_eq!(cert["serial"], serial.as_str(), "{cert}");
    // A passed check records what was seen.
    assert_eq!(
        outcome(&r, "pass", "fingerprint")["actual"],
        pin.as_str(),
        "{pass}"
    );

    let fail = step(&r, "fail");
    assert_eq!(fail["status"], "failed", "{fail}");
    let failed: Vec<&Value> = fail["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["passed"] == false)
        .collect();
    assert_eq!(failed.len(), 7, "{fail}");
    let m = message(outcome(&r, "fail", "subject CN"));
    assert!(
        m.contains("has subject CN `tminus.test` (subject `CN=tminus.test`)")
            && m.contains("matches /^api\\./"),
        "{m}"
    );
    let m = message(outcome(&r, "fail", "issuer O"));
    assert!(
        m.contains("no O in its issuer `CN=smokegate real-servers test CA`")
            && m.contains("equals `Let's Encrypt`"),
        "{m}"
    );
    let m = message(outcome(&r, "fail", "SAN contains"));
    assert!(
        m.contains(
            "lacks SAN api.tminus.test, www.example.test; its SAN: *.tminus.test, tminus.test"
        ),
        "{m}"
    );
    let m = message(outcome(&r, "fail", "SAN is exactly"));
    assert!(
        m.contains("missing api.tminus.test; unexpected *.tminus.test, tminus.test"),
        "{m}"
    );
    let m = message(outcome(&r, "fail", "serial"));
    assert!(
        m.contains(&format!("has serial {serial}, expected ABC")),
        "{m}"
    );
    let o = outcome(&r, "fail", "fingerprint");
    let m = message(o);
    assert!(
        m.contains("certificate pinning failed")
            && m.contains(&format!("has SHA-256 fingerprint {pin}"))
            && m.contains("subject `CN=tminus.test`"),
        "{m}"
    );
    assert_eq!(o["expected"], other_pin.as_str());
    // The outcome names where the failing case's `tls` block starts (its first key).
    assert_eq!(o["line"], 18, "{o}");
    assert_eq!(o["actual"], pin.as_str());
    let m = message(outcome(&r, "fail", "not_after before"));
    assert!(
        m.contains("has not_after 20") && m.contains("expected before 2025-01-01"),
        "{m}"
    );
    // Each failure is shown with its line in the console output.
    assert!(
        r.stdout.contains("certificate pinning failed"),
        "{}",
        r.stdout
    );
}

#[tokio::test]
async fn a_bad_pin_or_date_is_an_error_at_its_line() {
    let suite = "name: bad-pin\ncases:\n  - name: c\n    request: { url: \"https://api.tminus.test/\" }\n    expect:\n      tls:\n        fingerprint_sha256: \"AB:CD\"\n";
    let r = run_suite(suite, &[]).await;
    assert_eq!(r.code, 2, "{}", r.all_output());
    assert!(
        r.stderr
            .contains("tls.fingerprint_sha256 `AB:CD` is not a SHA-256 fingerprint")
            && r.stderr.contains("real.yaml:7:"),
        "{}",
        r.stderr
    );
    let suite = suite.replace(
        "fingerprint_sha256: \"AB:CD\"",
        "not_after: { after: soon }",
    );
    let r = run_suite(&suite, &[]).await;
    assert_eq!(r.code, 2, "{}", r.all_output());
    assert!(
        r.stderr
            .contains("tls.not_after.after `soon` is not a date"),
        "{}",
        r.stderr
    );
}

#[tokio::test]
async fn bad_connection_and_dns_rules_are_errors_at_their_line() {
    let suite = r#"name: bad-rules
cases:
  - name: ip
    request: { url: "http://api.tminus.test/" }
    expect:
      connection: { ip: api.tminus.test }
  - name: range
    request: { url: "http://api.tminus.test/" }
    expect:
      connection: { ip_in: 10.0.0.0/33 }
  - name: version
    request: { url: "http://api.tminus.test/" }
    expect:
      connection: { http_version: HTTP/3 }
  - name: txt regex
    dns: { name: tminus.test, type: TXT, expect: { txt: { matches: "v=spf1 (" } } }
  - name: reachable on TXT
    dns: { name: tminus.test, type: TXT, expect: { reachable: { port: 443 } } }
"#;
    let r = run_suite(suite, &[]).await;
    assert_eq!(r.code, 2, "{}", r.all_output());
    for (line, text) in [
        (6, "connection.ip: `api.tminus.test` is not an IP address"),
        (10, "invalid CIDR range `10.0.0.0/33`"),
        (
            14,
            "connection.http_version `HTTP/3` is not an HTTP version",
        ),
        (16, "dns.expect.txt: invalid regex `v=spf1 (`"),
        (18, "dns.expect.reachable needs type A or AAAA, not TXT"),
    ] {
        let at = format!("real.yaml:{line}:");
        let found = r
            .stderr
            .split("error: ")
            .any(|e| e.contains(text) && e.contains(&at));
        assert!(found, "{text} at {at}:\n{}", r.stderr);
    }
}

#[tokio::test]
async fn connection_facts_on_http_and_https() {
    let ngx = Nginx::start();
    let (plain, h2) = (ngx.plain, ngx.h2);
    let suite = format!(
        r#"name: real-connection
cases:
  - name: plain pass
    request: {{ url: "http://api.tminus.test:{plain}/health" }}
    expect:
      connection: {{ ip: "${{edge}}", ip_in: [10.0.0.0/8, 127.0.0.0/8], port: {plain}, http_version: HTTP/1.1 }}
  - name: h2 pass
    request: {{ url: "https://api.tminus.test:{h2}/health" }}
    expect:
      connection: {{ ip: [192.0.2.1, 127.0.0.1], http_version: HTTP/2 }}
      tls: {{ http_version: HTTP/2 }}
  - name: plain fail
    request: {{ url: "http://api.tminus.test:{plain}/health" }}
    expect:
      connection: {{ ip: 192.0.2.10, ip_in: 192.0.2.0/24, port: 443, http_version: HTTP/2 }}
"#
    );
    let mut a = args(&["--cacert", &pki().cacert(), "--var", "edge=127.0.0.1"]);
    a.extend(args(&[
        "--resolve",
        &format!("api.tminus.test:{plain}:127.0.0.1"),
    ]));
    a.extend(args(&[
        "--resolve",
        &format!("api.tminus.test:{h2}:127.0.0.1"),
    ]));
    let r = run_suite(&suite, &a).await;
    assert_eq!(r.code, 1, "{}\nnginx:\n{}", r.all_output(), ngx.log());
    for ok in ["plain pass", "h2 pass"] {
        assert_eq!(step(&r, ok)["status"], "passed", "{ok}: {}", r.all_output());
    }
    let o = outcome(&r, "plain pass", "connected to 127.0.0.1");
    assert_eq!(o["kind"], "connection");
    assert_eq!(o["actual"], "127.0.0.1");
    assert_eq!(outcome(&r, "h2 pass", "HTTP version")["actual"], "HTTP/2");

    let fail = step(&r, "plain fail");
    assert_eq!(fail["status"], "failed", "{fail}");
    let m = message(outcome(&r, "plain fail", "connected to 192.0.2.10"));
    assert_eq!(
        m,
        format!("connected to 127.0.0.1:{plain}, expected 192.0.2.10")
    );
    let m = message(outcome(&r, "plain fail", "within"));
    assert_eq!(
        m,
        format!("connected to 127.0.0.1:{plain}, which is outside 192.0.2.0/24")
    );
    let m = message(outcome(&r, "plain fail", "port"));
    assert_eq!(
        m,
        format!("connected to 127.0.0.1:{plain}, expected port 443")
    );
    let o = outcome(&r, "plain fail", "HTTP version");
    assert_eq!(
        message(o),
        "the response came over HTTP/1.1, expected HTTP/2"
    );
    assert_eq!(o["line"], 15, "{o}");
}

#[tokio::test]
async fn dns_txt_mx_and_reachable_against_dnsmasq() {
    let dns = Dnsmasq::start();
    // Two addresses that listen (127.0.0.1 and 127.0.0.3) and one that does not (127.0.0.2).
    let live = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let port = live.local_addr().unwrap().port();
    let _live3 = TcpListener::bind(("127.0.0.3", port)).expect("bind 127.0.0.3 (loopback)");
    let suite = format!(
        r#"name: real-dns-facts
cases:
  - name: spf and verification
    dns: {{ name: tminus.test, type: TXT, server: "${{dns}}", expect: {{ txt: [{{ matches: "^v=spf1 .*-all$" }}, "site-verification=${{token}}"] }} }}
  - name: mail exchangers
    dns: {{ name: tminus.test, type: MX, server: "${{dns}}", expect: {{ mx: [{{ exchange: MAIL.tminus.test, preference: 10 }}, {{ exchange: mail2.tminus.test }}] }} }}
  - name: all alive
    dns: {{ name: pair.tminus.test, server: "${{dns}}", expect: {{ reachable: {{ port: {port}, timeout: 2s }} }} }}
  - name: spf missing
    dns: {{ name: tminus.test, type: TXT, server: "${{dns}}", expect: {{ txt: {{ contains: "include:_spf.example.test" }} }} }}
  - name: wrong mx
    dns: {{ name: tminus.test, type: MX, server: "${{dns}}", expect: {{ mx: {{ exchange: mail.tminus.test, preference: 5 }} }} }}
  - name: one dead
    dns: {{ name: multi.tminus.test, server: "${{dns}}", expect: {{ reachable: {{ port: {port}, timeout: 2s }} }} }}
"#
    );
    let a = args(&[
        "--var",
        &format!("dns={}", dns.addr),
        "--var",
        "token=abc123",
    ]);
    let started = std::time::Instant::now();
    let r = run_suite(&suite, &a).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert_eq!(r.code, 1, "{}\ndnsmasq:\n{}", r.all_output(), dns.log());
    for ok in ["spf and verification", "mail exchangers", "all alive"] {
        assert_eq!(
            r.case(ok)["status"],
            "passed",
            "{ok}: {}\ndnsmasq:\n{}",
            r.all_output(),
            dns.log()
        );
    }
    // Passing checks record the answers in the report.
    let records = outcome(&r, "spf and verification", "has TXT records");
    let answer = records["actual"].as_str().unwrap_or("");
    assert!(
        answer.contains("TXT v=spf1 -all") && answer.contains("TXT site-verification=abc123"),
        "{records}"
    );
    assert_eq!(
        outcome(&r, "spf and verification", "matches")["actual"],
        "\"v=spf1 -all\""
    );
    assert_eq!(
        outcome(&r, "mail exchangers", "MAIL.tminus.test")["actual"],
        "10 mail.tminus.test."
    );
    let alive = outcome(&r, "all alive", "accepts TCP")["actual"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        alive.contains(&format!("127.0.0.1:{port} connected in"))
            && alive.contains(&format!("127.0.0.3:{port} connected in")),
        "{alive}"
    );

    let msg = |c: &str| r.case(c)["message"].as_str().unwrap_or("").to_string();
    let m = msg("spf missing");
    assert!(
        m.contains("`tminus.test` has no TXT record that contains `include:_spf.example.test`")
            && m.contains("its TXT records: ")
            && m.contains("\"v=spf1 -all\"")
            && m.contains("\"site-verification=abc123\""),
        "{m}"
    );
    let m = msg("wrong mx");
    assert!(
        m.contains("has no MX record with exchange `mail.tminus.test` and preference 5")
            && m.contains("10 mail.tminus.test.")
            && m.contains("20 mail2.tminus.test."),
        "{m}"
    );
    let m = msg("one dead");
    assert!(
        m.contains(&format!(
            "1 of 2 addresses of `multi.tminus.test` (via {}) is not reachable on port {port}: 127.0.0.2:{port} (connection refused)",
            dns.addr
        )),
        "{m}"
    );
    let dead = outcome(&r, "one dead", "accepts TCP");
    assert!(
        dead["actual"]
            .as_str()
            .unwrap_or("")
            .contains(&format!("127.0.0.1:{port} connected in")),
        "{dead}"
    );
    drop(live);
}

#[tokio::test]
async fn dns_rules_need_the_right_record_type() {
    let suite = "name: bad-dns\ncases:\n  - name: c\n    dns: { name: tminus.test, type: A, expect: { mx: { preference: 10 } } }\n";
    let r = run_suite(suite, &[]).await;
    assert_eq!(r.code, 2, "{}", r.all_output());
    assert!(
        r.stderr.contains("dns.expect.mx needs type MX, not A")
            && r.stderr.contains("real.yaml:4:"),
        "{}",
        r.stderr
    );
}

/// Through a proxy the address connected to is the proxy's: an address expectation cannot
/// be judged and fails saying why, while the HTTP version is still checked.
#[tokio::test]
async fn connection_address_through_a_proxy_fails_naming_the_proxy() {
    let ngx = Nginx::start();
    let proxy = super::tinyproxy::Tinyproxy::start();
    let suite = format!(
        r#"name: real-connection-proxy
cases:
  - name: via proxy
    request: {{ url: "http://127.0.0.1:{}/health" }}
    expect:
      connection: {{ ip: 127.0.0.1, http_version: HTTP/1.1 }}
"#,
        ngx.plain
    );
    let r = run_suite(&suite, &args(&["--proxy", &proxy.url])).await;
    assert_eq!(r.code, 1, "{}\nproxy log:\n{}", r.all_output(), proxy.log());
    assert_eq!(
        outcome(&r, "via proxy", "HTTP version")["passed"],
        true,
        "{}",
        r.all_output()
    );
    let m = message(outcome(&r, "via proxy", "address connected to"));
    assert!(
        m.contains(&format!("the request went through proxy {}", proxy.url))
            && m.contains("not the server's")
            && m.contains("--noproxy"),
        "{m}"
    );
}

/// A passing DNS check records its answer: in the JSON report (`actual` of each outcome) and,
/// with `--verbose`, on the console.
#[tokio::test]
async fn passing_dns_checks_record_their_answer() {
    let dns = Dnsmasq::start();
    let suite = r#"name: real-dns-answers
cases:
  - name: api
    dns: { name: api.tminus.test, server: "${dns}", expect: { addresses_in: [127.0.0.1], cidr: 127.0.0.0/8 } }
  - name: www
    dns: { name: www.tminus.test, type: CNAME, server: "${dns}", expect: { cname: api.tminus.test } }
"#;
    let var = format!("dns={}", dns.addr);
    let r = run_suite(suite, &args(&["--var", &var, "--verbose"])).await;
    assert_eq!(r.code, 0, "{}\ndnsmasq:\n{}", r.all_output(), dns.log());
    assert_eq!(outcome(&r, "api", "has A records")["actual"], "A 127.0.0.1");
    assert_eq!(
        outcome(&r, "api", "resolves only to")["actual"],
        "127.0.0.1"
    );
    assert_eq!(outcome(&r, "api", "resolves within")["actual"], "127.0.0.1");
    assert_eq!(
        outcome(&r, "www", "is a CNAME")["actual"],
        "api.tminus.test."
    );
    for line in [
        "✓ `api.tminus.test` has A records: A 127.0.0.1",
        "✓ `api.tminus.test` resolves within 127.0.0.0/8: 127.0.0.1",
        "✓ `www.tminus.test` is a CNAME to `api.tminus.test`: api.tminus.test.",
    ] {
        assert!(r.stdout.contains(line), "{line}\n{}", r.stdout);
    }
    // Without --verbose a pass stays one line.
    let r = run_suite(suite, &args(&["--var", &var])).await;
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert!(!r.stdout.contains("✓ `api.tminus.test`"), "{}", r.stdout);
}

/// With several addresses for a name, the connection expectation judges the one actually
/// connected to: 127.0.0.2 refuses (nothing listens there), so the request reaches
/// 127.0.0.1, and an expectation of 127.0.0.2 fails naming 127.0.0.1.
#[tokio::test]
async fn connection_ip_is_the_address_reached_not_the_first_resolved() {
    let ngx = Nginx::start();
    let p = ngx.plain;
    let suite = format!(
        r#"name: real-connection-fallthrough
cases:
  - name: reached
    request: {{ url: "http://api.tminus.test:{p}/health" }}
    expect: {{ connection: {{ ip: 127.0.0.1 }} }}
  - name: first resolved
    request: {{ url: "http://api.tminus.test:{p}/health" }}
    expect: {{ connection: {{ ip: 127.0.0.2 }} }}
"#
    );
    let rule = format!("api.tminus.test:{p}:127.0.0.2,127.0.0.1");
    let r = run_suite(&suite, &args(&["--resolve", &rule])).await;
    assert_eq!(r.code, 1, "{}", r.all_output());
    assert_eq!(
        step(&r, "reached")["status"],
        "passed",
        "{}",
        r.all_output()
    );
    assert_eq!(
        step(&r, "reached")["request"]["connected_to"],
        format!("127.0.0.1:{p}")
    );
    let m = message(outcome(&r, "first resolved", "connected to 127.0.0.2"));
    assert_eq!(m, format!("connected to 127.0.0.1:{p}, expected 127.0.0.2"));
}

/// A listener on `127.0.0.4:port` whose accept queue is full (backlog 0, one connection
/// queued and never accepted): a further connection attempt gets no answer, as from a dead
/// host behind a firewall that drops packets. Alive as long as the returned values are.
fn full_listener(port: u16) -> (std::os::fd::OwnedFd, std::net::TcpStream) {
    use std::os::fd::FromRawFd;
    let ip = [127, 0, 0, 4];
    // SAFETY: plain socket calls on a descriptor this function owns; checked for errors.
    let fd = unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let owned = std::os::fd::OwnedFd::from_raw_fd(fd);
        let addr = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: port.to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from_ne_bytes(ip),
            },
            sin_zero: [0; 8],
        };
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let bound = libc::bind(fd, (&addr as *const libc::sockaddr_in).cast(), len);
        assert_eq!(bound, 0, "bind: {}", std::io::Error::last_os_error());
        assert_eq!(libc::listen(fd, 0), 0, "listen");
        owned
    };
    let addr = std::net::SocketAddr::from((ip, port));
    let queued = std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(2))
        .expect("the first connection fills the queue");
    (fd, queued)
}

/// An address that does not answer is named once the check's timeout passes; the check
/// takes about that long, not the system's connect timeout.
#[tokio::test]
async fn reachable_names_an_address_that_does_not_answer_within_the_timeout() {
    let dns = Dnsmasq::start();
    let live = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let port = live.local_addr().unwrap().port();
    let _full = full_listener(port);
    let suite = format!(
        r#"name: real-dns-slow
cases:
  - name: slow
    dns: {{ name: slow.tminus.test, server: "{}", expect: {{ reachable: {{ port: {port}, timeout: 500ms }} }} }}
"#,
        dns.addr
    );
    let started = std::time::Instant::now();
    let r = run_suite(&suite, &[]).await;
    let took = started.elapsed();
    assert_eq!(r.code, 1, "{}\ndnsmasq:\n{}", r.all_output(), dns.log());
    let m = r.case("slow")["message"].as_str().unwrap_or("").to_string();
    assert!(
        m.contains(&format!(
            "1 of 2 addresses of `slow.tminus.test` (via {}) is not reachable on port {port}: 127.0.0.4:{port} (no connection within 500 ms)",
            dns.addr
        )),
        "{m}"
    );
    assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    drop(live);
}

/// With `--insecure` no chain is verified, but a pin still holds the server to the one
/// certificate expected (a self-signed internal service).
#[tokio::test]
async fn a_pin_holds_even_with_insecure() {
    let ngx = Nginx::start();
    let p = ngx.self_signed;
    let pin = openssl_x509(&pki().self_signed.cert, &["-fingerprint", "-sha256"]);
    let wrong = openssl_x509(&pki().leaf.cert, &["-fingerprint", "-sha256"]);
    let suite = format!(
        r#"name: real-pin-insecure
cases:
  - name: pinned
    request: {{ url: "https://selfsigned.tminus.test:{p}/health" }}
    expect: {{ tls: {{ fingerprint_sha256: "{pin}" }} }}
  - name: other pin
    request: {{ url: "https://selfsigned.tminus.test:{p}/health" }}
    expect: {{ tls: {{ fingerprint_sha256: "{wrong}" }} }}
"#
    );
    let mut a = args(&["--insecure"]);
    a.extend(args(&[
        "--resolve",
        &Nginx::resolve("selfsigned.tminus.test", p),
    ]));
    let r = run_suite(&suite, &a).await;
    assert_eq!(r.code, 1, "{}\nnginx:\n{}", r.all_output(), ngx.log());
    assert_eq!(step(&r, "pinned")["status"], "passed", "{}", r.all_output());
    let m = message(outcome(&r, "other pin", "fingerprint"));
    assert!(
        m.contains("certificate pinning failed")
            && m.contains("subject `CN=selfsigned.tminus.test`")
            && m.contains(&format!("has SHA-256 fingerprint {pin}")),
        "{m}"
    );
}
