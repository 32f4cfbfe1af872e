//! Name resolution that fails in each way a real DNS server fails — silent, port closed,
//! REFUSED, NXDOMAIN — with a pinned fallback and without: resolution has its own budget,
//! the pin is used whatever the failure, and the report says which failure it was.

use std::time::{Duration, Instant};

use sample_deployment::tls::Validity;

use crate::common::write_suite;
use crate::dns_tls::{args, lo, one_request_suite, step, DnsServer, Tls};

/// A UDP port (and a TCP listener on the same port) that receives and never answers.
struct Silent {
    addr: std::net::SocketAddr,
    _udp: std::net::UdpSocket,
    _tcp: Option<std::net::TcpListener>,
}

fn silent() -> Silent {
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = udp.local_addr().unwrap();
    let tcp = std::net::TcpListener::bind(addr).ok();
    Silent {
        addr,
        _udp: udp,
        _tcp: tcp,
    }
}

/// A loopback port with nothing listening (UDP answers "port unreachable").
fn closed() -> std::net::SocketAddr {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// One HTTPS request for `host` asking `dns` with a fallback pin to the server; returns the
/// step's request record and how long the run took.
async fn with_fallback(host: &str, dns: &str, extra: &[&str]) -> (serde_json::Value, Duration) {
    let tls = Tls::new();
    let (addr, _t) = tls.serve(&[host], Validity::Days(90), None, lo()).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("https://{host}:{}/", addr.port());
    let mut a = args(&[
        "--dns-server",
        dns,
        "--fallback-resolve",
        &format!("{host}:{}:127.0.0.1", addr.port()),
        "--cacert",
        &tls.cacert(),
    ]);
    a.extend(extra.iter().map(|s| s.to_string()));
    let started = Instant::now();
    let mut all = args(&["run", &one_request_suite(dir.path(), &url, "")]);
    all.extend(a);
    let r = crate::common::smokegate(&all, &[]).await;
    let took = started.elapsed();
    assert_eq!(r.code, 0, "the pin is used: {}", r.all_output());
    let req = step(&r)["request"].clone();
    assert_eq!(req["resolved_by"], "fallback", "{}", r.stdout);
    (req, took)
}

fn cause(req: &serde_json::Value) -> String {
    req["fallback_cause"]
        .as_str()
        .expect("fallback cause")
        .to_string()
}

#[tokio::test]
async fn a_silent_dns_server_falls_back_within_its_own_budget() {
    let s = silent();
    // Connect timeout 2 s: the lookup may take at most that, then the connection has 2 s.
    let (req, took) = with_fallback(
        "api.tminus.test",
        &s.addr.to_string(),
        &["--connect-timeout", "2s"],
    )
    .await;
    let c = cause(&req);
    assert!(c.contains("no answer within 2000 ms"), "{c}");
    assert!(c.contains(&s.addr.to_string()), "names the server: {c}");
    assert!(took < Duration::from_secs(4), "took {took:?}");
}

#[tokio::test]
async fn a_closed_dns_port_falls_back_at_once_and_says_connection_refused() {
    let port = closed();
    let (req, took) = with_fallback("api.tminus.test", &port.to_string(), &[]).await;
    let c = cause(&req);
    assert!(c.contains("connection refused"), "{c}");
    assert!(
        took < Duration::from_secs(2),
        "refused is not a timeout: {took:?}"
    );
}

#[tokio::test]
async fn refused_and_nxdomain_answers_fall_back_and_are_named() {
    let dns = DnsServer::start().await;
    // Outside every zone the server holds: it refuses to answer.
    let (req, _) = with_fallback("api.elsewhere.test", &dns.addr.to_string(), &[]).await;
    assert!(cause(&req).contains("REFUSED"), "{}", cause(&req));
    let (req, _) = with_fallback("api.tminus.test", &dns.addr.to_string(), &[]).await;
    assert!(cause(&req).contains("NXDOMAIN"), "{}", cause(&req));
}

#[tokio::test]
async fn dns_checks_name_a_closed_port_at_once_and_bound_a_silent_server() {
    let s = silent();
    let port = closed();
    let dir = tempfile::tempdir().unwrap();
    let suite = write_suite(
        dir.path(),
        "dns.yaml",
        &format!(
            "name: dnsfail\ncases:\n  - name: closed\n    dns: {{ name: api.tminus.test, server: \"{port}\", expect: {{ cidr: 127.0.0.0/8 }} }}\n  - name: silent\n    dns: {{ name: api.tminus.test, server: \"{}\", expect: {{ cidr: 127.0.0.0/8 }} }}\n",
            s.addr
        ),
    );
    let started = Instant::now();
    // The documented cap is 5 s (lower with a shorter --connect-timeout); 1 s here.
    let r = crate::common::smokegate(
        &args(&["run", &suite, "--connect-timeout", "1s", "--jobs", "2"]),
        &[],
    )
    .await;
    let took = started.elapsed();
    assert_eq!(r.code, 1, "{}", r.all_output());
    let closed_case = r.case("closed");
    assert_eq!(
        closed_case["status"], "error",
        "could not run: not a pass, not a fail"
    );
    let m = closed_case["message"].as_str().unwrap();
    assert!(m.contains("connection refused"), "{m}");
    let m = r.case("silent")["message"].as_str().unwrap();
    assert!(m.contains("no answer within 1000 ms"), "{m}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
}

/// Review fix: a request whose timeout is at or below the lookup budget still reaches its
/// pin — the lookup takes at most half of what is left of the request.
#[tokio::test]
async fn a_short_request_timeout_still_leaves_time_for_the_pin() {
    let s = silent();
    let tls = Tls::new();
    let (addr, _t) = tls
        .serve(&["api.tminus.test"], Validity::Days(90), None, lo())
        .await;
    let dir = tempfile::tempdir().unwrap();
    let suite = write_suite(
        dir.path(),
        "s.yaml",
        &format!(
            "name: short\ncases:\n  - name: get\n    request:\n      url: https://api.tminus.test:{}/\n      timeout: 3s\n",
            addr.port()
        ),
    );
    let r = crate::common::smokegate(
        &args(&[
            "run",
            &suite,
            "--dns-server",
            &s.addr.to_string(),
            "--fallback-resolve",
            &format!("api.tminus.test:{}:127.0.0.1", addr.port()),
            "--cacert",
            &tls.cacert(),
        ]),
        &[],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.all_output());
    let req = &step(&r)["request"];
    assert_eq!(req["resolved_by"], "fallback");
    assert!(cause(req).contains("no answer within 1"), "{req}");
}

/// Review fix: a DNS server's answer counts only for what was asked — records of another
/// type, or for a name outside the question's CNAME chain, are ignored (a hostile server
/// cannot steer a connection with them).
#[tokio::test]
async fn answers_for_other_names_or_types_are_ignored() {
    use hickory_server::proto::op::{Message, MessageType};
    use hickory_server::proto::rr::rdata::{A, TXT};
    use hickory_server::proto::rr::{Name, RData, Record};
    use std::str::FromStr;
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = sock.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        for _ in 0..32 {
            let Ok((n, peer)) = sock.recv_from(&mut buf).await else {
                return;
            };
            let Ok(q) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            let mut m = Message::new(q.metadata.id, MessageType::Response, q.metadata.op_code);
            m.queries = q.queries.clone();
            let qname = q.queries[0].name().clone();
            m.answers.push(Record::from_rdata(
                qname,
                60,
                RData::TXT(TXT::new(vec!["127.0.0.8".into()])),
            ));
            m.answers.push(Record::from_rdata(
                Name::from_str("unrelated.evil.").unwrap(),
                60,
                RData::A(A(std::net::Ipv4Addr::new(127, 0, 0, 7))),
            ));
            let _ = sock.send_to(&m.to_vec().unwrap(), peer).await;
        }
    });
    let (req, _) = with_fallback("api.tminus.test", &addr.to_string(), &[]).await;
    assert!(cause(&req).contains("no records"), "{req}");
}
