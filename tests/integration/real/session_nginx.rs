//! Sessions against Debian's nginx over real TLS: an http → https upgrade to the canonical
//! host as a redirect chain, `Set-Cookie` with every attribute (`add_header`), and a `Secure`
//! cookie that the jar sends over https only. nginx runs with its own small configuration
//! (one plain port, one TLS port with the test CA's `*.tminus.test` leaf).

use std::net::SocketAddr;
use std::process::Command;

use super::nginx::NGINX;
use super::pki::pki;
use super::{require_binary, run_suite, start_with_retries, step, tcp_ready, Server};

const INSTALL: &str = "apt-get install -y nginx";
const SID: &str = "nginx-session-7788";

struct SessionNginx {
    plain: u16,
    tls: u16,
    _dir: tempfile::TempDir,
    _server: Server,
}

impl SessionNginx {
    fn start() -> SessionNginx {
        require_binary(NGINX, INSTALL);
        start_with_retries("nginx", SessionNginx::try_start)
    }

    fn try_start() -> Result<SessionNginx, String> {
        let p = pki();
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path().display().to_string();
        let [plain, tls] = std::array::from_fn(|_| super::free_port());
        let prelude = super::nginx::conf_prelude(&d, 64);
        let conf = format!(
            r#"{prelude}    ssl_protocols TLSv1.2 TLSv1.3;
    server {{
        listen 127.0.0.1:{plain};
        server_name _;
        location = /echo {{ return 200 '{{"cookie":"$http_cookie"}}'; }}
        location / {{ return 301 https://www.tminus.test:{tls}$request_uri; }}
    }}
    server {{
        listen 127.0.0.1:{tls} ssl;
        server_name www.tminus.test;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        location = /login {{
            add_header Set-Cookie "sid={SID}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=600" always;
            add_header Set-Cookie "pref=compact; Path=/" always;
            return 302 /home;
        }}
        location = /home {{ return 200 '{{"cookie":"$http_cookie"}}'; }}
        location = /health {{ return 200 '{{"ok":true}}'; }}
    }}
}}
"#,
            cert = p.leaf.cert.display(),
            key = p.leaf.key.display(),
        );
        std::fs::write(dir.path().join("nginx.conf"), conf).expect("write nginx.conf");
        let mut cmd = Command::new(NGINX);
        cmd.arg("-e")
            .arg("stderr")
            .arg("-p")
            .arg(format!("{d}/"))
            .arg("-c")
            .arg(format!("{d}/nginx.conf"));
        let mut server = Server::spawn("nginx", cmd, dir.path().join("nginx.log"), INSTALL);
        let pid_file = dir.path().join("nginx.pid");
        server.wait_ready(|| {
            pid_file.exists()
                && [plain, tls]
                    .iter()
                    .all(|p| tcp_ready(SocketAddr::from(([127, 0, 0, 1], *p))))
        })?;
        Ok(SessionNginx {
            plain,
            tls,
            _dir: dir,
            _server: server,
        })
    }
}

#[tokio::test]
async fn https_upgrade_canonical_host_and_secure_cookies() {
    let n = SessionNginx::start();
    let (plain, tls) = (n.plain, n.tls);
    let suite = format!(
        r#"name: nginx-sessions
vars: {{ https: "https://www.tminus.test:{tls}", http: "http://www.tminus.test:{plain}", apex: "http://tminus.test:{plain}" }}
cases:
  - name: upgrade to the canonical host
    request: {{ url: "${{apex}}/health?x=1", follow_redirects: 3 }}
    expect:
      redirects:
        count: 1
        hops: [{{ status: [301, 308], location: "${{https}}/health?x=1", url: "${{apex}}/health?x=1" }}]
        final_url: "${{https}}/health?x=1"
  - name: no upgrade is a finding
    request: {{ url: "${{http}}/echo", follow_redirects: 3 }}
    expect: {{ redirects: {{ count: 1, final_url: "${{https}}/echo" }} }}
  - name: session over https
    steps:
      - name: log in
        request: {{ url: "${{https}}/login", follow_redirects: true }}
        expect:
          cookies:
            sid: {{ secure: true, http_only: true, same_site: Lax, max_age: 600, path: /, domain: "" }}
            pref: {{ value: compact, secure: false }}
          body: {{ contains: ["sid={SID}", "pref=compact"] }}
      - name: secure cookie stays off plain http
        request: {{ url: "${{http}}/echo" }}
        expect: {{ body: {{ contains: ["pref=compact"], not_contains: ["sid="] }} }}
      - name: and is sent again over https
        request: {{ url: "${{https}}/home" }}
        expect: {{ body: {{ contains: ["sid={SID}"] }} }}
  - name: a cookie without Secure is caught
    request: {{ url: "${{https}}/login" }}
    expect: {{ status: 302, cookies: {{ pref: {{ secure: true }} }} }}
"#
    );
    let mut args = vec!["--cacert".to_string(), pki().cacert()];
    for (host, port) in [
        ("www.tminus.test", tls),
        ("www.tminus.test", plain),
        ("tminus.test", plain),
    ] {
        args.extend(["--resolve".to_string(), format!("{host}:{port}:127.0.0.1")]);
    }
    let r = run_suite(&suite, &args).await;
    assert_eq!(r.code, 1, "{}", r.all_output());
    for ok in ["upgrade to the canonical host", "session over https"] {
        assert_eq!(r.case(ok)["status"], "passed", "{ok}: {}", r.all_output());
    }
    let https = format!("https://www.tminus.test:{tls}");
    let http = format!("http://www.tminus.test:{plain}");
    assert_eq!(
        step(&r, "no upgrade is a finding")["message"],
        format!("expected 1 redirect(s), followed 0: no redirect followed ({http}/echo answered 200) (and 1 more failed expectations)")
    );
    let hop = &step(&r, "upgrade to the canonical host")["request"]["hops"][0];
    assert_eq!(hop["location"], format!("{https}/health?x=1"), "{hop}");
    assert_eq!(
        step(&r, "a cookie without Secure is caught")["message"],
        "cookie `pref`: expected the Secure attribute, but its Set-Cookie has none: pref=compact; Path=/"
    );
    assert!(!r.all_output().contains(SID), "{}", r.all_output());
}
