//! dnsmasq (Debian `dnsmasq-base`) serving the `tminus.test` zone on a free loopback port —
//! no upstream, no /etc/hosts, no resolv.conf — and DNS ports that never answer or refuse.

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::process::Command;

use super::{free_udp_tcp_port, require_binary, start_with_retries, tcp_ready, Server};

pub const DNSMASQ: &str = "/usr/sbin/dnsmasq";
const INSTALL: &str = "apt-get install -y dnsmasq-base";

/// The records served, as dnsmasq options.
const RECORDS: &[&str] = &[
    "--local=/tminus.test/",
    "--host-record=api.tminus.test,127.0.0.1,::1",
    "--host-record=app.tminus.test,127.0.0.1",
    "--host-record=mail.tminus.test,127.0.0.1",
    "--cname=www.tminus.test,api.tminus.test",
    "--txt-record=tminus.test,v=spf1 -all",
    "--mx-host=tminus.test,mail.tminus.test,10",
    // Issue 13: a verification TXT next to SPF, a second MX, and names with two A records
    // (both loopback; a test decides which of them has a listener).
    "--txt-record=tminus.test,site-verification=abc123",
    "--mx-host=tminus.test,mail2.tminus.test,20",
    "--host-record=mail2.tminus.test,127.0.0.1",
    "--host-record=pair.tminus.test,127.0.0.1",
    "--host-record=pair.tminus.test,127.0.0.3",
    "--host-record=multi.tminus.test,127.0.0.1",
    "--host-record=multi.tminus.test,127.0.0.2",
    "--host-record=slow.tminus.test,127.0.0.1",
    "--host-record=slow.tminus.test,127.0.0.4",
];

pub struct Dnsmasq {
    /// `127.0.0.1:PORT`, UDP and TCP.
    pub addr: SocketAddr,
    _dir: tempfile::TempDir,
    server: Server,
}

impl Dnsmasq {
    pub fn start() -> Dnsmasq {
        require_binary(DNSMASQ, INSTALL);
        start_with_retries("dnsmasq", Dnsmasq::try_start)
    }

    fn try_start() -> Result<Dnsmasq, String> {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_udp_tcp_port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut cmd = Command::new(DNSMASQ);
        cmd.args([
            "--keep-in-foreground",
            "--bind-interfaces",
            "--listen-address=127.0.0.1",
            "--no-resolv",
            "--no-hosts",
            "--no-poll",
            "--conf-file=/dev/null",
            "--log-facility=-",
            "--log-queries",
        ])
        .arg(format!("--port={port}"))
        .arg(format!(
            "--pid-file={}",
            dir.path().join("dnsmasq.pid").display()
        ))
        // dnsmasq switches to `nobody` by default when started as root; stay who we are.
        .arg(format!("--user={}", current_user()))
        .args(RECORDS);
        let mut server = Server::spawn("dnsmasq", cmd, dir.path().join("dnsmasq.log"), INSTALL);
        // The pid file is written once the sockets are bound (dnsmasq exits if it cannot).
        let pid_file = dir.path().join("dnsmasq.pid");
        server.wait_ready(|| pid_file.exists() && tcp_ready(addr))?;
        Ok(Dnsmasq {
            addr,
            _dir: dir,
            server,
        })
    }

    /// dnsmasq's log (every query with `--log-queries`).
    pub fn log(&self) -> String {
        self.server.log()
    }
}

fn current_user() -> String {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        return "root".into();
    }
    let out = Command::new("id").arg("-un").output().expect("id -un");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A DNS "server" that never answers: a UDP socket and a TCP listener on one loopback port,
/// bound for as long as this value lives. Queries are queued by the kernel and never read.
pub struct SilentDns {
    pub addr: SocketAddr,
    _udp: UdpSocket,
    _tcp: TcpListener,
}

impl SilentDns {
    pub fn bind() -> SilentDns {
        for _ in 0..50 {
            let udp = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
            let addr = udp.local_addr().expect("udp addr");
            if let Ok(tcp) = TcpListener::bind(addr) {
                return SilentDns {
                    addr,
                    _udp: udp,
                    _tcp: tcp,
                };
            }
        }
        panic!("no loopback port free for both UDP and TCP after 50 tries");
    }
}

/// `127.0.0.1:PORT` with nothing bound (UDP gets ICMP port unreachable, TCP a reset).
pub fn refused_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], free_udp_tcp_port()))
}
