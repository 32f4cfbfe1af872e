//! DNS and TLS controls against real loopback servers: an in-process DNS server
//! (hickory-server, UDP and TCP on one ephemeral port) serving a test zone, and HTTPS servers
//! with certificates minted at test time (rcgen). Every name is resolved through smokegate's
//! own controls (`--resolve`, `--connect-to`, `--dns-server`, fallbacks) — never through the
//! machine's resolver.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use hickory_server::proto::rr::rdata::{A, AAAA, CNAME, SOA};
use hickory_server::proto::rr::{LowerName, Name, RData, Record};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};
use hickory_server::Server;
use sample_deployment::tls::{serve_tls_echo, server_config, TestCa, Validity};
use sample_deployment::SampleDeployment;
use serde_json::Value;
use tokio::task::JoinHandle;

use crate::common::{smokegate, suite, write_suite, Run};

// ---------------------------------------------------------------------------------------
// A loopback DNS server.

/// A DNS server on 127.0.0.1 (UDP and TCP, same port) serving `example.test.` and an empty
/// `tminus.test.` (every name there is NXDOMAIN).
pub(crate) struct DnsServer {
    pub(crate) addr: SocketAddr,
    /// The `tminus.test.` zone, to publish a name while a run is under way.
    tminus: Arc<InMemoryZoneHandler>,
    _server: Server<Catalog>,
}

fn name(s: &str) -> Name {
    Name::from_str(s).expect("valid name")
}

fn zone(origin: &str, records: Vec<Record>) -> Arc<InMemoryZoneHandler> {
    let mut z = InMemoryZoneHandler::empty(name(origin), ZoneType::Primary, AxfrPolicy::Deny);
    let soa = SOA::new(
        name(&format!("ns.{origin}")),
        name(&format!("hostmaster.{origin}")),
        1,
        3600,
        600,
        86_400,
        60,
    );
    z.upsert_mut(Record::from_rdata(name(origin), 60, RData::SOA(soa)), 1);
    for r in records {
        z.upsert_mut(r, 1);
    }
    Arc::new(z)
}

impl DnsServer {
    pub(crate) async fn start() -> DnsServer {
        let rec = |n: &str, d: RData| Record::from_rdata(name(n), 60, d);
        let example = zone(
            "example.test.",
            vec![
                rec("api.example.test.", RData::A(A(Ipv4Addr::LOCALHOST))),
                rec("edge.example.test.", RData::A(A(Ipv4Addr::LOCALHOST))),
                rec(
                    "multi.example.test.",
                    RData::A(A(Ipv4Addr::new(127, 0, 0, 1))),
                ),
                rec(
                    "multi.example.test.",
                    RData::A(A(Ipv4Addr::new(127, 0, 0, 2))),
                ),
                rec("v6.example.test.", RData::AAAA(AAAA(Ipv6Addr::LOCALHOST))),
                rec(
                    "www.example.test.",
                    RData::CNAME(CNAME(name("edge.example.test."))),
                ),
            ],
        );
        let tminus = zone("tminus.test.", vec![]);
        let mut catalog = Catalog::new();
        catalog.upsert(LowerName::new(&name("example.test.")), vec![example]);
        catalog.upsert(LowerName::new(&name("tminus.test.")), vec![tminus.clone()]);
        let mut server = Server::new(catalog);
        // UDP and TCP must share the port: bind UDP first, then TCP on the same port.
        let mut bound = None;
        for _ in 0..20 {
            let udp = tokio::net::UdpSocket::bind("127.0.0.1:0")
                .await
                .expect("bind udp");
            let addr = udp.local_addr().expect("udp addr");
            if let Ok(tcp) = tokio::net::TcpListener::bind(addr).await {
                bound = Some((udp, tcp, addr));
                break;
            }
        }
        let (udp, tcp, addr) = bound.expect("a free UDP+TCP port on loopback");
        server.register_socket(udp);
        server.register_listener(tcp, Duration::from_secs(5), 64);
        DnsServer {
            addr,
            tminus,
            _server: server,
        }
    }
}

// ---------------------------------------------------------------------------------------
// HTTPS servers and helpers.

pub(crate) struct Tls {
    pub(crate) ca: TestCa,
    dir: tempfile::TempDir,
}

impl Tls {
    pub(crate) fn new() -> Tls {
        Tls {
            ca: TestCa::new("smokegate test CA").expect("CA"),
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub(crate) fn cacert(&self) -> String {
        let p = self.dir.path().join("ca.pem");
        std::fs::write(&p, self.ca.pem()).expect("write CA");
        p.display().to_string()
    }

    /// An HTTPS echo server on `bind` presenting a certificate for `names`.
    pub(crate) async fn serve(
        &self,
        names: &[&str],
        validity: Validity,
        client_ca: Option<&TestCa>,
        bind: SocketAddr,
    ) -> (SocketAddr, JoinHandle<()>) {
        let leaf = self.ca.issue(names, validity).expect("leaf certificate");
        let config = server_config(&leaf, &[], client_ca).expect("server config");
        serve_tls_echo(config, bind).await.expect("serve")
    }
}

pub(crate) fn lo() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// A one-case suite GETting `url`, with optional extra expectation lines.
pub(crate) fn one_request_suite(dir: &std::path::Path, url: &str, expect: &str) -> String {
    write_suite(
        dir,
        "s.yaml",
        &format!(
            "name: dnstls\ncases:\n  - name: get\n    request:\n      url: {url}\n      timeout: 10s\n    expect:\n      status: 200\n{expect}"
        ),
    )
}

pub(crate) async fn run(suite: String, extra: &[String]) -> Run {
    let mut args = vec![
        "run".to_string(),
        suite,
        "--connect-timeout".into(),
        "5s".into(),
    ];
    args.extend(extra.iter().cloned());
    smokegate(&args, &[]).await
}

pub(crate) fn step(run: &Run) -> &Value {
    &run.case("get")["steps"][0]
}

pub(crate) fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------------------------------
// Resolution controls.

#[tokio::test]
async fn dns_server_answers_and_is_reported() {
    let dns = DnsServer::start().await;
    let tls = Tls::new();
    let (addr, _t) = tls
        .serve(&["api.example.test"], Validity::Days(90), None, lo())
        .await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("https://api.example.test:{}/", addr.port());
    let r = run(
        one_request_suite(dir.path(), &url, ""),
        &args(&[
            "--dns-server",
            &dns.addr.to_string(),
            "--cacert",
            &tls.cacert(),
            "--verbose",
        ]),
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.all_output());
    let req = &step(&r)["request"];
    assert_eq!(req["resolved_by"], "dns-server");
    assert_eq!(req["connected_to"], format!("127.0.0.1:{}", addr.port()));
    assert!(req.get("fallback_cause").is_none());
    assert!(r.stdout.contains("address via dns-server"), "{}", r.stdout);
}

#[tokio::test]
async fn nxdomain_from_dns_server_uses_fallback_and_keeps_the_cause() {
    let dns = DnsServer::start().await;
    let tls = Tls::new();
    let (addr, _t) = tls
        .serve(&["gone.example.test"], Validity::Days(90), None, lo())
        .await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("https://gone.example.test:{}/", addr.port());
    let r = run(
        one_request_suite(dir.path(), &url, ""),
        &args(&[
            "--dns-server",
            &dns.addr.to_string(),
            "--fallback-resolve",
            &format!("gone.example.test:{}:127.0.0.1", addr.port()),
            "--cacert",
            &tls.cacert(),
            "--verbose",
        ]),
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.all_output());
    let req = &step(&r)["request"];
    assert_eq!(req["resolved_by"], "fallback");
    let cause = req["fallback_cause"].as_str().expect("fallback cause");
    assert!(cause.contains("NXDOMAIN"), "{cause}");
    assert!(cause.contains(&dns.addr.to_string()), "{cause}");
    assert!(r.stdout.contains("fallback used because"), "{}", r.stdout);
}

#[tokio::test]
async fn failed_request_shows_address_and_fallback_in_console_and_junit() {
    let dns = DnsServer::start().await;
    // Nothing listens on 127.0.0.1:9 (discard): the fallback is used, the connection fails.
    let dir = tempfile::tempdir().unwrap();
    let r = run(
        one_request_suite(dir.path(), "https://gone.example.test:9/", ""),
        &args(&[
            "--dns-server",
            &dns.addr.to_string(),
            "--fallback-resolve",
            "gone.example.test:9:127.0.0.1",
        ]),
    )
    .await;
    assert_ne!(r.code, 0);
    let req = &step(&r)["request"];
    assert_eq!(req["resolved_by"], "fallback");
    assert_eq!(req["resolved_addrs"][0], "127.0.0.1");
    for text in [&r.stdout, r.junit.as_ref().unwrap()] {
        assert!(text.contains("address via fallback"), "{text}");
        assert!(text.contains("NXDOMAIN"), "{text}");
        assert!(text.contains("127.0.0.1"), "{text}");
    }
}

#[tokio::test]
async fn fallback_is_not_used_when_resolution_works() {
    let dns = DnsServer::start().await;
    let tls = Tls::new();
    let (addr, _t) = tls
        .serve(&["api.example.test"], Validity::Days(90), None, lo())
        .await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("https://api.example.test:{}/", addr.port());
    // The pin points at an address where nothing listens: using it would fail the case.
    let r = run(
        one_request_suite(dir.path(), &url, ""),
        &args(&[
            "--dns-server",
            &dns.addr.to_string(),
            "--fallback-resolve",
            &format!("api.example.test:{}:127.0.0.9", addr.port()),
            "--cacert",
            &tls.cacert(),
        ]),
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.all_output());
    let req = &step(&r)["request"];
    assert_eq!(req["resolved_by"], "dns-server");
    assert!(req.get("fallback_cause").is_none());
}

#[tokio::test]
async fn nxdomain_without_fallback_is_a_dns_error_naming_the_server() {
    let dns = DnsServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let r = run(
        one_request_suite(dir.path(), "https://gone.example.test:9/", ""),
        &args(&["--dns-server", &dns.addr.to_string()]),
    )
    .await;
    assert_ne!(r.code, 0);
    let s = step(&r);
    assert_eq!(s["status"], "error");
    assert_eq!(s["error"]["kind"], "dns", "{s}");
    let msg = s["error"]["message"].as_str().unwrap();
    assert!(msg.contains("NXDOMAIN"), "{msg}");
}

#[tokio::test]
async fn resolve_rule_applies_only_to_its_port() {
    let dns = DnsServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    // The rule is for port 8443; the request goes to port 9, so the rule must not apply and
    // the name is asked of the loopback DNS server (which answers NXDOMAIN).
    let r = run(
        one_request_suite(dir.path(), "https://gone.example.test:9/", ""),
        &args(&[
            "--resolve",
            "gone.example.test:8443:127.0.0.1",
            "--dns-server",
            &dns.addr.to_string(),
        ]),
    )
    .await;
    let s = step(&r);
    assert_eq!(s["error"]["kind"], "dns", "{s}");
}

#[tokio::test]
async fn connect_to_changes_the_destination_but_keeps_host_and_sni() {
    let tls = Tls::new();
    let (addr, _t) = tls
        .serve(&["api.example.test"], Validity::Days(90), None, lo())
        .await;
    let dir = tempfile::tempdir().unwrap();
    // Explicit port in the URL: 8443 → the real port, through a second name.
    let r = run(
        one_request_suite(
            dir.path(),
            "https://api.example.test:8443/",
            "      jsonpath:\n        - { path: $.host, equals: \"api.example.test:8443\" }\n",
        ),
        &args(&[
            "--connect-to",
            &format!("api.example.test:8443:edge.example.test:{}", addr.port()),
            "--resolve",
            &format!("edge.example.test:{}:127.0.0.1", addr.port()),
            "--cacert",
            &tls.cacert(),
        ]),
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.all_output());
    let req = &step(&r)["request"];
    assert_eq!(req["connected_to"], format!("127.0.0.1:{}", addr.port()));
    assert_eq!(
        req["connect_to"],
        format!("edge.example.test:{}", addr.port())
    );
    assert_eq!(req["resolved_by"], "override");

    // Implicit port (443) → an IP literal and the real port.
    let dir = tempfile::tempdir().unwrap();
    let r = run(
        one_request_suite(dir.path(), "https://api.example.test/", ""),
        &args(&[
            "--connect-to",
            &format!("api.example.test:443:127.0.0.1:{}", addr.port()),
            "--cacert",
            &tls.cacert(),
        ]),
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_eq!(
        step(&r)["request"]["connected_to"],
        format!("127.0.0.1:{}", addr.port())
    );
}

/// Issue 10 item 1: over HTTP/2 a `Host` override is the request's `:authority`, never a
/// second `host` field beside it (nginx answers 400 to that); TLS names it too.
#[tokio::test]
async fn a_host_override_over_http2_is_the_authority_alone() {
    let tls = Tls::new();
    let (addr, _t) = tls
        .serve(
            &["gw.example.test", "api.example.test"],
            Validity::Days(90),
            None,
            lo(),
        )
        .await;
    let port = addr.port();
    let dir = tempfile::tempdir().unwrap();
    let suite = write_suite(
        dir.path(),
        "s.yaml",
        &format!(
            "name: h2host\ncases:\n  - name: get\n    request:\n      url: https://gw.example.test:{port}/health\n      headers: {{ Host: api.example.test }}\n    expect:\n      status: 200\n      jsonpath:\n        - {{ path: $.authority, equals: api.example.test }}\n        - {{ path: $.host_header, equals: null }}\n      tls: {{ http_version: HTTP/2, covers_host: true }}\n"
        ),
    );
    let r = run(
        suite,
        &args(&[
            "--resolve",
            &format!("gw.example.test:{port}:127.0.0.1"),
            "--cacert",
            &tls.cacert(),
        ]),
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.all_output());
    let req = &step(&r)["request"];
    assert_eq!(req["connected_to"], format!("127.0.0.1:{port}"));
    assert_eq!(
        req["resolved_by"], "override",
        "the URL's host was resolved"
    );
}

#[tokio::test]
async fn resolve_to_ipv6_loopback() {
    let tls = Tls::new();
    let bind: SocketAddr = "[::1]:0".parse().unwrap();
    // Never a silent skip: a machine without IPv6 loopback fails here, saying so.
    if let Err(e) = std::net::TcpListener::bind(bind) {
        panic!("this test needs IPv6 loopback (::1): {e}; enable it (sysctl net.ipv6.conf.lo.disable_ipv6=0)");
    }
    let (addr, _t) = tls
        .serve(&["api.example.test"], Validity::Days(90), None, bind)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("https://api.example.test:{}/", addr.port());
    let r = run(
        one_request_suite(dir.path(), &url, ""),
        &args(&[
            "--resolve",
            &format!("api.example.test:{}:[::1]", addr.port()),
            "--cacert",
            &tls.cacert(),
        ]),
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.all_output());
    let req = &step(&r)["request"];
    assert_eq!(req["connected_to"], format!("[::1]:{}", addr.port()));
    assert_eq!(req["resolved_by"], "override");
}

// ---------------------------------------------------------------------------------------
// DNS checks.

#[tokio::test]
async fn dns_checks_report_what_was_returned() {
    let dns = DnsServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let s = write_suite(
        dir.path(),
        "dns.yaml",
        r#"name: dns-checks
cases:
  - name: a in set
    dns: { name: multi.example.test, server: "${dns}", expect: { addresses_in: [127.0.0.1, 127.0.0.2] } }
  - name: a in range
    dns: { name: multi.example.test, server: "${dns}", expect: { cidr: 127.0.0.0/8 } }
  - name: aaaa
    dns: { name: v6.example.test, type: AAAA, server: "${dns}", expect: { addresses_in: "::1" } }
  - name: cname
    dns: { name: www.example.test, type: CNAME, server: "${dns}", expect: { cname: edge.example.test } }
  - name: cname via A
    dns: { name: www.example.test, server: "${dns}", expect: { cname: edge.example.test } }
  - name: a not in set
    dns: { name: multi.example.test, server: "${dns}", expect: { addresses_in: [127.0.0.1] } }
  - name: wrong cname
    dns: { name: www.example.test, type: CNAME, server: "${dns}", expect: { cname: other.example.test } }
  - name: missing
    dns: { name: gone.example.test, server: "${dns}" }
"#,
    );
    let r = smokegate(
        &args(&["run", &s, "--var", &format!("dns={}", dns.addr)]),
        &[],
    )
    .await;
    for ok in ["a in set", "a in range", "aaaa", "cname", "cname via A"] {
        assert_eq!(r.case(ok)["status"], "passed", "{ok}: {}", r.all_output());
    }
    let msg = |c: &str| r.case(c)["message"].as_str().unwrap_or("").to_string();
    assert_eq!(r.case("a not in set")["status"], "failed");
    let m = msg("a not in set");
    assert!(m.contains("127.0.0.2") && m.contains("returned"), "{m}");
    let m = msg("wrong cname");
    assert!(
        m.contains("edge.example.test") && m.contains("other.example.test"),
        "{m}"
    );
    let m = msg("missing");
    assert!(m.contains("NXDOMAIN"), "{m}");
    assert_eq!(r.code, 1, "{}", r.all_output());
}

#[tokio::test]
async fn dns_check_uses_the_run_dns_server_when_none_is_named() {
    let dns = DnsServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let s = write_suite(
        dir.path(),
        "dns.yaml",
        "name: dns-default\ncases:\n  - name: api\n    dns: { name: api.example.test, expect: { addresses_in: 127.0.0.1 } }\n",
    );
    let r = smokegate(
        &args(&["run", &s, "--dns-server", &dns.addr.to_string()]),
        &[],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.all_output());
}

// ---------------------------------------------------------------------------------------
// TLS.

#[tokio::test]
async fn override_with_correct_sni_passes_tls_expectations() {
    let tls = Tls::new();
    let (addr, _t) = tls
        .serve(&["api.example.test"], Validity::Days(90), None, lo())
        .await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("https://api.example.test:{}/", addr.port());
    let r = run(
        one_request_suite(
            dir.path(),
            &url,
            "      tls: { min_days_valid: 30, covers_host: true, protocol: TLSv1.3, http_version: HTTP/2 }\n",
        ),
        &args(&[
            "--resolve",
            &format!("api.example.test:{}:127.0.0.1", addr.port()),
            "--cacert",
            &tls.cacert(),
        ]),
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.all_output());
    let s = step(&r);
    let tls_kinds = s["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["kind"] == "tls")
        .count();
    assert_eq!(tls_kinds, 4, "{s}");
    assert_eq!(s["response"]["tls"]["protocol"], "TLSv1.3");
    assert_eq!(s["response"]["tls"]["alpn"], "h2");
}

#[tokio::test]
async fn expiry_expectation_fails_when_too_close() {
    let tls = Tls::new();
    let (addr, _t) = tls
        .serve(&["api.example.test"], Validity::Days(10), None, lo())
        .await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("https://api.example.test:{}/", addr.port());
    let common = args(&[
        "--resolve",
        &format!("api.example.test:{}:127.0.0.1", addr.port()),
        "--cacert",
        &tls.cacert(),
    ]);
    let r = run(
        one_request_suite(dir.path(), &url, "      tls: { min_days_valid: 30 }\n"),
        &common,
    )
    .await;
    assert_eq!(r.code, 1, "{}", r.all_output());
    let m = r.case("get")["message"].as_str().unwrap();
    assert!(m.contains("expires in") && m.contains("at least 30"), "{m}");
    let r = run(
        one_request_suite(dir.path(), &url, "      tls: { min_days_valid: 5 }\n"),
        &common,
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.all_output());
}

/// Run one https GET to api.example.test on `addr` and return the step's error message.
async fn tls_error(tls: &Tls, addr: SocketAddr, extra: &[&str]) -> (Run, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("https://api.example.test:{}/", addr.port());
    let mut a = args(&[
        "--resolve",
        &format!("api.example.test:{}:127.0.0.1", addr.port()),
    ]);
    a.extend(args(extra));
    let _ = tls;
    let r = run(one_request_suite(dir.path(), &url, ""), &a).await;
    let msg = step(&r)["error"]["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    (r, msg)
}

#[tokio::test]
async fn wrong_host_certificate_names_what_it_covers() {
    let tls = Tls::new();
    let (addr, _t) = tls
        .serve(&["other.example.test"], Validity::Days(90), None, lo())
        .await;
    let (r, msg) = tls_error(&tls, addr, &["--cacert", &tls.cacert()]).await;
    assert_eq!(step(&r)["error"]["kind"], "tls", "{}", r.all_output());
    assert!(
        msg.contains("hostname mismatch") && msg.contains("other.example.test"),
        "{msg}"
    );
    assert!(r.stdout.contains("hostname mismatch"), "{}", r.stdout);
}

#[tokio::test]
async fn expired_certificate_names_the_date() {
    let tls = Tls::new();
    let (addr, _t) = tls
        .serve(
            &["api.example.test"],
            Validity::ExpiredDaysAgo(3),
            None,
            lo(),
        )
        .await;
    let (r, msg) = tls_error(&tls, addr, &["--cacert", &tls.cacert()]).await;
    assert_eq!(step(&r)["error"]["kind"], "tls");
    assert!(
        msg.contains("expired on") && msg.contains("days ago"),
        "{msg}"
    );
}

#[tokio::test]
async fn unknown_issuer_fails_and_cacert_makes_it_pass() {
    let tls = Tls::new();
    let (addr, _t) = tls
        .serve(&["api.example.test"], Validity::Days(90), None, lo())
        .await;
    let (r, msg) = tls_error(&tls, addr, &[]).await;
    assert_eq!(step(&r)["error"]["kind"], "tls");
    assert!(
        msg.contains("unknown authority") && msg.contains("--cacert"),
        "{msg}"
    );
    let (r, _) = tls_error(&tls, addr, &["--cacert", &tls.cacert()]).await;
    assert_eq!(r.code, 0, "{}", r.all_output());
}

/// A system trust store made of files: `SSL_CERT_FILE` holding `bundle`'s CA and
/// `SSL_CERT_DIR` holding `dir`'s (each `None`: an empty file / an empty directory).
fn system_store(
    root: &std::path::Path,
    bundle: Option<&TestCa>,
    dir: Option<&TestCa>,
) -> Vec<(String, String)> {
    let file = root.join("ca-certificates.crt");
    std::fs::write(&file, bundle.map(|c| c.pem()).unwrap_or_default()).unwrap();
    let certs = root.join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    if let Some(ca) = dir {
        std::fs::write(certs.join("internal-root.pem"), ca.pem()).unwrap();
    }
    vec![
        ("SSL_CERT_FILE".into(), file.display().to_string()),
        ("SSL_CERT_DIR".into(), certs.display().to_string()),
    ]
}

/// One https GET to api.example.test on `addr` with `env`; the run and the step's error.
async fn get_with_store(
    addr: SocketAddr,
    extra: &[&str],
    env: &[(String, String)],
) -> (Run, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("https://api.example.test:{}/", addr.port());
    let mut a = args(&[
        "run",
        &one_request_suite(dir.path(), &url, ""),
        "--connect-timeout",
        "5s",
        "--resolve",
        &format!("api.example.test:{}:127.0.0.1", addr.port()),
    ]);
    a.extend(args(extra));
    let r = smokegate(&a, env).await;
    let msg = r
        .json
        .as_ref()
        .and_then(|j| j["cases"][0]["steps"][0]["error"]["message"].as_str())
        .unwrap_or("")
        .to_string();
    (r, msg)
}

#[tokio::test]
async fn roots_are_the_bundle_the_certificate_directory_and_cacert_together() {
    // The roots are read in tiers (--cacert, the bundle file, then the directories too), but
    // what is trusted is their union: a root found only in the directory, or only in the
    // system bundle while --cacert names another CA, still verifies.
    let tls = Tls::new();
    let (addr, _t) = tls
        .serve(&["api.example.test"], Validity::Days(90), None, lo())
        .await;
    let other = TestCa::new("some other CA").unwrap();
    let other_pem = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(other_pem.path(), other.pem()).unwrap();
    let other_pem = other_pem.path().display().to_string();

    let root = tempfile::tempdir().unwrap();
    let in_dir = system_store(root.path(), Some(&other), Some(&tls.ca));
    let (r, msg) = get_with_store(addr, &[], &in_dir).await;
    assert_eq!(
        r.code,
        0,
        "root in the certificate directory only: {msg}\n{}",
        r.all_output()
    );
    let (r, msg) = get_with_store(addr, &["--cacert", &other_pem], &in_dir).await;
    assert_eq!(
        r.code,
        0,
        "--cacert of another CA, root in the directory: {msg}\n{}",
        r.all_output()
    );

    let root = tempfile::tempdir().unwrap();
    let in_bundle = system_store(root.path(), Some(&tls.ca), None);
    let (r, msg) = get_with_store(addr, &["--cacert", &other_pem], &in_bundle).await;
    assert_eq!(
        r.code,
        0,
        "--cacert of another CA, root in the bundle: {msg}\n{}",
        r.all_output()
    );

    // Nowhere: rejected, in words, after every tier was tried.
    let root = tempfile::tempdir().unwrap();
    let nowhere = system_store(root.path(), Some(&other), Some(&other));
    let (r, msg) = get_with_store(addr, &["--cacert", &other_pem], &nowhere).await;
    assert_eq!(r.code, 1, "{}", r.all_output());
    assert!(
        msg.contains("unknown authority") && msg.contains("--cacert"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_bundle_that_can_be_read_only_once_is_read_once() {
    // SSL_CERT_FILE a pipe (`<(cat ca.pem)` in a shell): a certificate every tier rejects
    // must get the whole store's reason, not "no root anchors" from a second, empty read —
    // and a second read of a FIFO would block the run for good.
    let tls = Tls::new();
    let (addr, _t) = tls
        .serve(&["other.example.test"], Validity::Days(90), None, lo())
        .await;
    let root = tempfile::tempdir().unwrap();
    let fifo = root.path().join("ca.fifo");
    let c = std::ffi::CString::new(fifo.display().to_string()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    let pem = tls.ca.pem();
    let writer_path = fifo.clone();
    // Opening blocks until smokegate opens the pipe; the thread ends with the test process
    // if it never does.
    std::thread::spawn(move || {
        if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&writer_path) {
            let _ = std::io::Write::write_all(&mut f, pem.as_bytes());
        }
    });
    let empty = root.path().join("certs");
    std::fs::create_dir(&empty).unwrap();
    let env = vec![
        ("SSL_CERT_FILE".to_string(), fifo.display().to_string()),
        ("SSL_CERT_DIR".to_string(), empty.display().to_string()),
    ];
    let started = std::time::Instant::now();
    let (r, msg) = tokio::time::timeout(Duration::from_secs(30), get_with_store(addr, &[], &env))
        .await
        .expect("the run ends");
    assert_eq!(r.code, 1, "{}", r.all_output());
    assert!(
        msg.contains("hostname mismatch") && msg.contains("other.example.test"),
        "{msg}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test]
async fn an_empty_trust_store_is_a_configuration_error_unless_cacert_is_given() {
    let tls = Tls::new();
    let (addr, _t) = tls
        .serve(&["api.example.test"], Validity::Days(90), None, lo())
        .await;
    let root = tempfile::tempdir().unwrap();
    let empty = system_store(root.path(), None, None);
    let (r, _) = get_with_store(addr, &[], &empty).await;
    assert_eq!(r.code, 2, "{}", r.all_output());
    assert!(
        r.stderr.contains("certificate verification"),
        "{}",
        r.stderr
    );
    let (r, msg) = get_with_store(addr, &["--cacert", &tls.cacert()], &empty).await;
    assert_eq!(r.code, 0, "{msg}\n{}", r.all_output());
}

#[tokio::test]
async fn insecure_is_recorded_in_the_verdict_and_reports() {
    let tls = Tls::new();
    let (addr, _t) = tls
        .serve(&["other.example.test"], Validity::Days(90), None, lo())
        .await;
    let (r, _) = tls_error(&tls, addr, &["--insecure"]).await;
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_eq!(r.json.as_ref().unwrap()["insecure"], true);
    assert!(r.stdout.contains("--insecure"), "{}", r.stdout);
}

#[tokio::test]
async fn mtls_needs_a_client_certificate() {
    let tls = Tls::new();
    let clients = TestCa::new("client CA").unwrap();
    let (addr, _t) = tls
        .serve(
            &["api.example.test"],
            Validity::Days(90),
            Some(&clients),
            lo(),
        )
        .await;
    let (r, msg) = tls_error(&tls, addr, &["--cacert", &tls.cacert()]).await;
    assert_ne!(r.code, 0);
    assert!(msg.contains("client certificate"), "{msg}");
    let id = clients.issue_client("smokegate").unwrap();
    let (cert, key) = id.write_to(tls.dir.path(), "client").unwrap();
    let (r, _) = tls_error(
        &tls,
        addr,
        &[
            "--cacert",
            &tls.cacert(),
            "--cert",
            &cert.display().to_string(),
            "--key",
            &key.display().to_string(),
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.all_output());
}

#[tokio::test]
async fn handshake_timeout_is_named() {
    // Accepts TCP connections and never answers the ClientHello.
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let _t = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            held.push(s);
            if held.len() > 16 {
                break;
            }
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let url = format!("https://api.example.test:{}/", addr.port());
    let mut args = vec![
        "run".to_string(),
        one_request_suite(dir.path(), &url, ""),
        "--connect-timeout".into(),
        "1s".into(),
        "--resolve".into(),
        format!("api.example.test:{}:127.0.0.1", addr.port()),
    ];
    args.push("--timeout".into());
    args.push("5s".into());
    let r = smokegate(&args, &[]).await;
    let s = step(&r);
    assert_eq!(s["status"], "error");
    let msg = s["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("handshake") && msg.contains("timeout"),
        "{msg}"
    );
}

// ---------------------------------------------------------------------------------------
// The sample deployment's TLS mode with the bundled scenario D suite.

async fn scenario_d_tls(extra: impl Fn(&SampleDeployment, &DnsServer) -> Vec<String>) -> Run {
    let dns = DnsServer::start().await;
    let dep = SampleDeployment::start_tls(&[])
        .await
        .expect("sample deployment starts");
    let dir = tempfile::tempdir().unwrap();
    let ca: PathBuf = dir.path().join("ca.pem");
    std::fs::write(&ca, dep.ca_pem().expect("TLS mode has a CA")).unwrap();
    let mut a = args(&[
        "run",
        &suite("d-staged-promotion.yaml"),
        "--env",
        "staging",
        "--cacert",
        &ca.display().to_string(),
    ]);
    a.extend(extra(&dep, &dns));
    let r = smokegate(&a, &dep.vars()).await;
    dep.shutdown();
    r
}

#[tokio::test]
async fn sample_deployment_over_tls_through_resolve() {
    let r = scenario_d_tls(|dep, _| {
        dep.resolves()
            .into_iter()
            .flat_map(|r| ["--resolve".to_string(), r])
            .collect()
    })
    .await;
    assert_eq!(r.code, 0, "{}", r.all_output());
    let json = r.json.as_ref().unwrap();
    for c in json["cases"].as_array().unwrap() {
        for s in c["steps"].as_array().unwrap() {
            assert!(s["request"]["url"]
                .as_str()
                .unwrap()
                .starts_with("https://"));
            assert_eq!(s["request"]["resolved_by"], "override", "{s}");
        }
    }
}

#[tokio::test]
async fn sample_deployment_over_tls_through_dns_fallback() {
    let r = scenario_d_tls(|dep, dns| {
        let mut a = vec!["--dns-server".to_string(), dns.addr.to_string()];
        for r in dep.resolves() {
            a.push("--fallback-resolve".into());
            a.push(r);
        }
        a
    })
    .await;
    assert_eq!(r.code, 0, "{}", r.all_output());
    let json = r.json.as_ref().unwrap();
    let mut steps = 0;
    for c in json["cases"].as_array().unwrap() {
        for s in c["steps"].as_array().unwrap() {
            steps += 1;
            let req = &s["request"];
            assert_eq!(req["resolved_by"], "fallback", "{s}");
            assert!(
                req["fallback_cause"].as_str().unwrap().contains("NXDOMAIN"),
                "{s}"
            );
        }
    }
    assert!(steps >= 5);
}

/// Scenario D's broken variant "DNS not propagated and no fallback configured": every
/// health check is an error naming the DNS failure, and the smoke flow is skipped.
#[tokio::test]
async fn sample_deployment_dns_not_propagated_without_fallback_fails() {
    let r = scenario_d_tls(|_, dns| vec!["--dns-server".to_string(), dns.addr.to_string()]).await;
    assert_eq!(r.code, 1, "{}", r.all_output());
    let json = r.json.as_ref().unwrap();
    for c in json["cases"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        if name.starts_with("health") {
            assert_eq!(c["status"], "error", "{c}");
            let msg = c["message"].as_str().unwrap();
            assert!(msg.contains("NXDOMAIN") && msg.contains("(dns)"), "{msg}");
        } else {
            assert_eq!(c["status"], "skipped", "{c}");
        }
    }
    assert!(r.stdout.contains("NXDOMAIN"), "{}", r.stdout);
}

/// The address shown for a request says how the connection *it* used was chosen. Case A's
/// name is not yet in DNS, so its connection goes to the pinned fallback; while A waits for
/// its response the name is published and case B opens a second connection through DNS.
/// A's record must still say "fallback" (it once said what the last lookup of the host did).
#[tokio::test]
async fn each_request_reports_how_its_own_connection_was_resolved() {
    use axum::routing::get;
    use tokio::sync::Notify;
    let dns = DnsServer::start().await;
    let slow_arrived = Arc::new(Notify::new());
    let fast_done = Arc::new(Notify::new());
    let wait = |n: Arc<Notify>| async move {
        let _ = tokio::time::timeout(Duration::from_secs(10), n.notified()).await;
    };
    let zone = dns.tminus.clone();
    let app = axum::Router::new()
        .route(
            "/slow",
            get({
                let (arrived, done) = (slow_arrived.clone(), fast_done.clone());
                move || async move {
                    arrived.notify_one();
                    wait(done).await;
                    "slow"
                }
            }),
        )
        .route(
            "/publish",
            get({
                let arrived = slow_arrived.clone();
                move || async move {
                    wait(arrived).await;
                    let a = RData::A(A(Ipv4Addr::LOCALHOST));
                    zone.upsert(Record::from_rdata(name("late.tminus.test."), 0, a), 2)
                        .await;
                    "published"
                }
            }),
        )
        .route(
            "/fast",
            get({
                let done = fast_done.clone();
                move || async move {
                    done.notify_one();
                    "fast"
                }
            }),
        );
    let l = tokio::net::TcpListener::bind(lo()).await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.ok() });
    let port = addr.port();
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "name: s\ncases:\n  - name: a\n    request: {{ url: \"http://late.tminus.test:{port}/slow\" }}\n  - name: b\n    steps:\n      - name: publish\n        request: {{ url: \"http://127.0.0.1:{port}/publish\" }}\n      - name: fast\n        request: {{ url: \"http://late.tminus.test:{port}/fast\" }}\n"
    );
    let suite = write_suite(dir.path(), "pool.yaml", &text);
    let r = run(
        suite,
        &args(&[
            "--dns-server",
            &dns.addr.to_string(),
            "--fallback-resolve",
            &format!("late.tminus.test:{port}:127.0.0.1"),
        ]),
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.all_output());
    let a = &r.case("a")["steps"][0]["request"];
    let b = &r.case("b")["steps"][1]["request"];
    assert_eq!(a["resolved_by"], "fallback", "{a}");
    assert!(
        a["fallback_cause"]
            .as_str()
            .unwrap_or("")
            .contains("NXDOMAIN"),
        "{a}"
    );
    assert_eq!(b["resolved_by"], "dns-server", "{b}");
    assert!(b.get("fallback_cause").is_none(), "{b}");
}
