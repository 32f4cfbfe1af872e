//! tinyproxy (Debian `tinyproxy-bin`): a real forward proxy on a free loopback port, for
//! `--proxy`, the `*_proxy` variables and CONNECT tunnels.

use std::process::Command;

use super::{free_port, require_binary, start_with_retries, tcp_ready, Server};

pub const TINYPROXY: &str = "/usr/bin/tinyproxy";
const INSTALL: &str = "apt-get install -y tinyproxy-bin";

pub struct Tinyproxy {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    dir: tempfile::TempDir,
    _server: Server,
}

impl Tinyproxy {
    pub fn start() -> Tinyproxy {
        require_binary(TINYPROXY, INSTALL);
        start_with_retries("tinyproxy", Tinyproxy::try_start)
    }

    fn try_start() -> Result<Tinyproxy, String> {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let d = dir.path().display();
        // No ConnectPort line: CONNECT is allowed to any port. As root, tinyproxy needs a
        // user to switch to; it stays root when told so.
        let user = if unsafe { libc::geteuid() } == 0 {
            "User root\nGroup root\n"
        } else {
            ""
        };
        let conf = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 10\nMaxClients 16\nAllow 127.0.0.1\n\
             LogFile \"{d}/tinyproxy.log\"\nLogLevel Connect\nPidFile \"{d}/tinyproxy.pid\"\n\
             ViaProxyName \"tinyproxy-test\"\n{user}"
        );
        let conf_path = dir.path().join("tinyproxy.conf");
        std::fs::write(&conf_path, conf).expect("write tinyproxy.conf");
        let mut cmd = Command::new(TINYPROXY);
        cmd.arg("-d").arg("-c").arg(&conf_path);
        let mut server = Server::spawn("tinyproxy", cmd, dir.path().join("stderr.log"), INSTALL);
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        server.wait_ready(|| tcp_ready(addr))?;
        Ok(Tinyproxy {
            url: format!("http://127.0.0.1:{port}"),
            dir,
            _server: server,
        })
    }

    /// What tinyproxy logged (every request and CONNECT, at level Connect).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("tinyproxy.log")).unwrap_or_default()
    }
}
