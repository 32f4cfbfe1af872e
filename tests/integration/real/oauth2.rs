//! A real OAuth2 authorization server (`tests/real/oauth2_server.py`: Authlib's
//! `AuthorizationServer` with its `ClientCredentialsGrant`, and a resource behind Authlib's
//! `ResourceProtector`; pinned in `tests/real/requirements.txt`) under gunicorn on a free
//! loopback port.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

use super::{free_port, http_ready, start_with_retries, Server};

const INSTALL: &str = "python3 -m pip install -r tests/real/requirements.txt";

pub struct OAuth2Server {
    pub port: u16,
    _dir: tempfile::TempDir,
    server: Server,
}

impl OAuth2Server {
    /// Start the server; tokens live `ttl_secs` seconds.
    pub fn start(ttl_secs: u32) -> OAuth2Server {
        start_with_retries("oauth2 server", || OAuth2Server::try_start(ttl_secs))
    }

    fn try_start(ttl_secs: u32) -> Result<OAuth2Server, String> {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let app_dir = crate::common::root().join("tests/real");
        let mut cmd = Command::new("python3");
        cmd.args([
            "-m",
            "gunicorn",
            "--threads",
            "8",
            "--graceful-timeout",
            "1",
        ])
        .arg("--no-control-socket")
        .arg("--worker-tmp-dir")
        .arg(dir.path())
        .arg("--chdir")
        .arg(&app_dir)
        .arg("-b")
        .arg(addr.to_string())
        .arg("oauth2_server:app")
        .env("SMOKE_TOKEN_TTL", ttl_secs.to_string())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .current_dir(dir.path());
        let log = dir.path().join("gunicorn.log");
        let mut server = Server::spawn(
            "oauth2 server",
            cmd,
            log.clone(),
            "apt-get install -y python3 python3-pip",
        );
        let listening = format!("Listening at: http://{addr} (");
        let ready = server.wait_ready(|| {
            std::fs::read_to_string(&log).is_ok_and(|l| l.contains(&listening))
                && http_ready(addr, "/stats")
        });
        if let Err(e) = ready {
            if e.contains("No module named") {
                panic!("Authlib/Flask/gunicorn are missing; install them with `{INSTALL}` (or run scripts/test):\n{e}");
            }
            return Err(e);
        }
        Ok(OAuth2Server {
            port,
            _dir: dir,
            server,
        })
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// What gunicorn printed so far.
    pub fn log(&self) -> String {
        self.server.log()
    }

    /// The server's `/stats`: tokens issued, in order (each with its `access_token`).
    pub fn stats(&self) -> serde_json::Value {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        write!(
            s,
            "GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).expect("read /stats");
        let body = text.split_once("\r\n\r\n").expect("a body").1;
        serde_json::from_str(body).unwrap_or_else(|e| panic!("/stats is JSON ({e}): {text}"))
    }
}
