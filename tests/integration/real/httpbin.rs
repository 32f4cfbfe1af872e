//! httpbin (PyPI, versions pinned in `tests/real/requirements.txt`) under gunicorn on a free
//! loopback port.

use std::net::SocketAddr;
use std::process::Command;

use super::{free_port, http_ready, start_with_retries, Server};

const INSTALL: &str = "python3 -m pip install -r tests/real/requirements.txt";

pub struct Httpbin {
    pub port: u16,
    _dir: tempfile::TempDir,
    server: Server,
}

impl Httpbin {
    pub fn start() -> Httpbin {
        start_with_retries("httpbin", Httpbin::try_start)
    }

    fn try_start() -> Result<Httpbin, String> {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
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
        .arg("-b")
        .arg(addr.to_string())
        .arg("httpbin:app")
        .current_dir(dir.path());
        let log = dir.path().join("gunicorn.log");
        let mut server = Server::spawn(
            "httpbin",
            cmd,
            log.clone(),
            "apt-get install -y python3 python3-pip",
        );
        // gunicorn logs `Listening at` once it has bound the port (it retries a busy one):
        // until then the port could be answered by some other process.
        let listening = format!("Listening at: http://{addr} (");
        let ready = server
            .wait_ready(|| server_log_has(&log, &listening) && http_ready(addr, "/status/200"));
        if let Err(e) = ready {
            if e.contains("No module named") || e.contains("unrecognized arguments") {
                panic!("httpbin/gunicorn are missing or too old; install them with `{INSTALL}` (or run .ci/run):\n{e}");
            }
            return Err(e);
        }
        Ok(Httpbin {
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
}

fn server_log_has(log: &std::path::Path, text: &str) -> bool {
    std::fs::read_to_string(log).is_ok_and(|l| l.contains(text))
}
