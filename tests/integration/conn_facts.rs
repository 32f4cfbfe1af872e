//! Issue 13 with in-process HTTPS servers (rcgen certificates): subjectAltName entries that
//! are IP addresses, a certificate's fingerprint computed by `openssl` from its PEM, and the
//! address connected to over IPv6 loopback.

use std::net::SocketAddr;

use sample_deployment::tls::{serve_tls_echo, server_config, TestCa, Validity};
use serde_json::Value;

use crate::common::{smokegate, write_suite, Run};

async fn run(dir: &std::path::Path, suite: &str, extra: &[String]) -> Run {
    let path = write_suite(dir, "facts.yaml", suite);
    let mut a = vec![
        "run".to_string(),
        path,
        "--connect-timeout".into(),
        "5s".into(),
    ];
    a.extend(extra.iter().cloned());
    smokegate(&a, &[]).await
}

fn failures(r: &Run, case: &str) -> Vec<String> {
    r.case(case)["steps"][0]["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["passed"] == false)
        .map(|o| o["message"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn ip_san_entries_fingerprint_and_ipv6_connection() {
    let ca = TestCa::new("facts test CA").expect("CA");
    let leaf = ca
        .issue(
            &["api.example.test", "127.0.0.1", "::1"],
            Validity::Days(90),
        )
        .expect("leaf");
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, _) = leaf.write_to(dir.path(), "leaf").expect("write leaf");
    let ca_path = dir.path().join("ca.pem");
    std::fs::write(&ca_path, ca.pem()).unwrap();
    let out = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(&cert_path)
        .output()
        .expect("openssl runs (apt-get install -y openssl)");
    let pin = String::from_utf8_lossy(&out.stdout)
        .trim()
        .split_once('=')
        .map(|(_, v)| v.to_string())
        .expect("openssl prints a fingerprint");
    let config = server_config(&leaf, &[], None).expect("server config");
    let v4: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let (a4, _t4) = serve_tls_echo(config.clone(), v4).await.expect("serve v4");
    let v6: SocketAddr = "[::1]:0".parse().unwrap();
    let (a6, _t6) = serve_tls_echo(config, v6)
        .await
        .expect("IPv6 loopback (::1) must be available for this test");
    let suite = format!(
        r#"name: facts-in-process
cases:
  - name: v4
    request: {{ url: "https://api.example.test:{p4}/" }}
    expect:
      tls:
        subject: {{ cn: api.example.test }}
        issuer: "CN=facts test CA"
        san: {{ equals: [api.example.test, 127.0.0.1, "0:0:0:0:0:0:0:1"], contains: "[::1]" }}
        fingerprint_sha256: "{pin}"
      connection: {{ ip_in: 127.0.0.0/8 }}
  - name: v6
    request: {{ url: "https://api.example.test:{p6}/" }}
    expect:
      connection: {{ ip: "::1", ip_in: "::1/128", port: {p6}, http_version: HTTP/2 }}
  - name: v6 fail
    request: {{ url: "https://api.example.test:{p6}/" }}
    expect:
      connection: {{ ip_in: 127.0.0.0/8 }}
      tls:
        san: {{ equals: [api.example.test] }}
"#,
        p4 = a4.port(),
        p6 = a6.port(),
    );
    let extra: Vec<String> = [
        "--cacert".to_string(),
        ca_path.display().to_string(),
        "--resolve".into(),
        format!("api.example.test:{}:127.0.0.1", a4.port()),
        "--resolve".into(),
        format!("api.example.test:{}:[::1]", a6.port()),
    ]
    .into();
    let r = run(dir.path(), &suite, &extra).await;
    assert_eq!(r.code, 1, "{}", r.all_output());
    for ok in ["v4", "v6"] {
        assert_eq!(r.case(ok)["status"], "passed", "{ok}: {}", r.all_output());
    }
    let cert: &Value = &r.case("v4")["steps"][0]["response"]["tls"]["certificate"];
    assert_eq!(cert["sha256"], pin.as_str(), "{cert}");
    let f = failures(&r, "v6 fail");
    assert_eq!(
        f,
        vec![
            "the certificate for `api.example.test` has SAN api.example.test, 127.0.0.1, ::1; unexpected 127.0.0.1, ::1".to_string(),
            format!("connected to [::1]:{}, which is outside 127.0.0.0/8", a6.port()),
        ],
        "{}",
        r.all_output()
    );
}
