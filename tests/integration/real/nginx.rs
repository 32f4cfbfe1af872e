//! Debian's nginx (1.22) on loopback, one free port per server block, non-root friendly:
//! every path it writes is inside its temp dir.

use std::net::SocketAddr;
use std::process::Command;

use super::pki::{pki, CertKey};
use super::{require_binary, start_with_retries, tcp_ready, Server};

pub const NGINX: &str = "/usr/sbin/nginx";
const INSTALL: &str = "apt-get install -y nginx";

/// `/big` on the plain server, byte for byte.
pub const BIG_JSON: &str = r#"{"n": 1000000000000000000000, "b": 2, "a": 1}"#;
pub const API_HEALTH: &str = r#"{"ok":true,"data":{"worker":"tminus-api"}}"#;
pub const APP_HEALTH: &str = r#"{"ok":true,"data":{"worker":"tminus-app-gateway"}}"#;

pub struct Nginx {
    /// TLS + HTTP/2, name-based vhosts `api.tminus.test`, `app.tminus.test`, default → 404.
    pub h2: u16,
    /// TLS requiring a client certificate signed by the test CA (`ssl_verify_client on`).
    pub mtls: u16,
    /// TLS with the expired leaf.
    pub expired: u16,
    /// TLS with a leaf for `other.example` only.
    pub wrong_host: u16,
    /// TLS with a CN-only leaf (CN=cn-only.tminus.test, no SAN).
    pub cn_only: u16,
    /// TLS with the self-signed CA:TRUE certificate for `selfsigned.tminus.test`.
    pub self_signed: u16,
    /// Plain HTTP/1.1.
    pub plain: u16,
    dir: tempfile::TempDir,
    server: Server,
}

fn tls_block(port: u16, extra_listen: &str, name: &str, ck: &CertKey, body: &str) -> String {
    format!(
        r#"
    server {{
        listen 127.0.0.1:{port} ssl{extra_listen};
        server_name {name};
        ssl_certificate {cert};
        ssl_certificate_key {key};
{body}
    }}
"#,
        cert = ck.cert.display(),
        key = ck.key.display(),
    )
}

fn health(worker: &str) -> String {
    format!(
        "        location = /health {{ return 200 '{{\"ok\":true,\"data\":{{\"worker\":\"{worker}\"}}}}'; }}\n        location / {{ return 404 '{{\"ok\":false,\"error\":\"not found\"}}'; }}"
    )
}

impl Nginx {
    pub fn start() -> Nginx {
        require_binary(NGINX, INSTALL);
        start_with_retries("nginx", Nginx::try_start)
    }

    fn try_start() -> Result<Nginx, String> {
        let p = pki();
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path().display().to_string();
        let [h2, mtls, expired, wrong_host, cn_only, self_signed, plain] =
            std::array::from_fn(|_| super::free_port());
        let mut servers = String::new();
        servers += &tls_block(
            h2,
            " http2 default_server",
            "_",
            &p.leaf,
            "        return 404 '{\"ok\":false,\"error\":\"unknown host\"}';",
        );
        servers += &tls_block(
            h2,
            " http2",
            "api.tminus.test",
            &p.leaf,
            &health("tminus-api"),
        );
        servers += &tls_block(
            h2,
            " http2",
            "app.tminus.test",
            &p.leaf,
            &health("tminus-app-gateway"),
        );
        let mtls_body = format!(
            "        ssl_client_certificate {};\n        ssl_verify_client on;\n{}",
            p.ca.cert.display(),
            health("tminus-mtls")
        );
        servers += &tls_block(mtls, "", "_", &p.leaf, &mtls_body);
        servers += &tls_block(expired, "", "_", &p.expired, &health("tminus-expired"));
        servers += &tls_block(wrong_host, "", "_", &p.wrong_host, &health("tminus-wrong"));
        servers += &tls_block(cn_only, "", "_", &p.cn_only, &health("tminus-cn-only"));
        servers += &tls_block(self_signed, "", "_", &p.self_signed, &health("tminus-self"));
        let prelude = conf_prelude(&d, 256);
        let conf = format!(
            r#"{prelude}    absolute_redirect off;
    # As Debian's stock nginx.conf: nginx before 1.23.4 leaves TLSv1.3 out by default.
    ssl_protocols TLSv1.2 TLSv1.3;
{servers}
    server {{
        listen 127.0.0.1:{plain};
        server_name _;
        location = /health {{ return 200 '{API_HEALTH}'; }}
        location = /redirect {{ return 302 /health; }}
        location = /big {{ return 200 '{BIG_JSON}'; }}
        location = /gzip {{ gzip on; gzip_min_length 1; gzip_types application/json; return 200 '{BIG_JSON}'; }}
        location = /status/503 {{ return 503 '{{"ok":false,"error":"unavailable"}}'; }}
        location / {{ return 404 '{{"ok":false,"error":"not found"}}'; }}
    }}
}}
"#
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
        let ports = [h2, mtls, expired, wrong_host, cn_only, self_signed, plain];
        // nginx writes its pid file only once every listening socket is bound: until then a
        // port could still be answered by some other process.
        let pid_file = dir.path().join("nginx.pid");
        server.wait_ready(|| {
            pid_file.exists()
                && ports
                    .iter()
                    .all(|p| tcp_ready(SocketAddr::from(([127, 0, 0, 1], *p))))
        })?;
        Ok(Nginx {
            h2,
            mtls,
            expired,
            wrong_host,
            cn_only,
            self_signed,
            plain,
            dir,
            server,
        })
    }

    /// `HOST:PORT:127.0.0.1`, for `--resolve`.
    pub fn resolve(host: &str, port: u16) -> String {
        format!("{host}:{port}:127.0.0.1")
    }

    /// The access log so far (`$remote_addr … "$request" $status …`).
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }

    /// What nginx printed on stderr so far.
    pub fn log(&self) -> String {
        self.server.log()
    }
}

/// The start of an nginx configuration that runs in the foreground as the test's user, with
/// every file under the test's directory `d`: up to and inside `http {`, before its servers.
pub(super) fn conf_prelude(d: &str, worker_connections: u32) -> String {
    format!(
        "daemon off;
master_process off;
pid {d}/nginx.pid;
error_log stderr notice;
events {{ worker_connections {worker_connections}; }}
http {{
    default_type application/json;
    access_log {d}/access.log;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
"
    )
}
