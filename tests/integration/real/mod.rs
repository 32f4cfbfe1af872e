//! Tests against REAL third-party servers started on loopback: Debian's nginx, dnsmasq, and
//! httpbin under gunicorn, with certificates minted by the `openssl` CLI. Each test starts its
//! own servers on free 127.0.0.1 ports and stops them (by process-group id) when they drop.
//! A missing server binary or Python module fails the test with the command that installs it
//! (`.ci/run` installs all of them).
//!
//! # Fixture API
//!
//! - [`pki::pki()`] → `&'static Pki` (made once per test process): `ca` (`ca.pem`, `ca.key`);
//!   leaves signed by the CA, each a [`pki::CertKey`] `{ cert, key }`: `leaf` (SAN
//!   `*.tminus.test`, `tminus.test`), `expired` (same names, expired on 2025-01-31 23:59:59
//!   UTC), `wrong_host` (SAN `other.example` only), `cn_only` (CN=cn-only.tminus.test, no SAN),
//!   `client` (CN=smokegate-client, clientAuth, for `--cert`/`--key`); `self_signed`
//!   (`openssl req -x509 … -subj /CN=selfsigned.tminus.test -addext
//!   subjectAltName=DNS:selfsigned.tminus.test`, CA:TRUE as openssl sets it). `Pki::cacert()`
//!   is the CA path as a string.
//! - [`nginx::Nginx::start()`]: one nginx with a port per server block — `h2` (TLS + HTTP/2,
//!   vhosts `api.tminus.test` → `/health` `{"ok":true,"data":{"worker":"tminus-api"}}`,
//!   `app.tminus.test` → `…"tminus-app-gateway"…`, any other name → 404 JSON), `mtls`
//!   (`ssl_verify_client on` with the test CA), `expired`, `wrong_host`, `cn_only`,
//!   `self_signed` (each `/health` → 200 JSON), `plain` (HTTP/1.1: `/health`, `/redirect` →
//!   302 `/health`, `/big` → [`nginx::BIG_JSON`] byte-exact (`/gzip`: the same, gzip-encoded), `/status/503`). `Nginx::resolve(host,
//!   port)` gives the `--resolve` value; `Nginx::access_log()` what nginx saw.
//! - [`dnsmasq::Dnsmasq::start()`]: dnsmasq on `addr` (UDP+TCP), zone `tminus.test` only:
//!   `api` A 127.0.0.1 + AAAA ::1, `app` A 127.0.0.1 (no AAAA), `mail` A 127.0.0.1,
//!   `www` CNAME `api`, `tminus.test` TXT `v=spf1 -all` and TXT `site-verification=abc123`,
//!   MX 10 `mail.tminus.test` and MX 20 `mail2.tminus.test` (A 127.0.0.1); `pair` A 127.0.0.1
//!   and 127.0.0.3, `multi` A 127.0.0.1 and 127.0.0.2, `slow` A 127.0.0.1 and 127.0.0.4;
//!   any other name in the zone is NXDOMAIN, names outside it are REFUSED.
//!   [`dnsmasq::SilentDns::bind()`]: a UDP socket and a TCP listener on one port that never
//!   answer (alive until dropped). [`dnsmasq::refused_port()`]: a port with nothing bound.
//! - [`httpbin::Httpbin::start()`]: httpbin (pinned in `tests/real/requirements.txt`) under
//!   gunicorn on `port` (`url(path)` → `http://127.0.0.1:PORT/path`).
//! - [`run_suite`] writes a suite and runs the real binary with the given arguments (plus
//!   `--connect-timeout 3s --timeout 5s` unless given); [`step`] is the first step of a case.

// Fixtures are a public API for tests still to be written (see above): not every item is
// used yet.
#[allow(dead_code)]
pub mod dnsmasq;
#[allow(dead_code)]
pub mod httpbin;
#[allow(dead_code)]
pub mod nginx;
#[allow(dead_code)]
pub mod oauth2;
#[allow(dead_code)]
pub mod pki;
pub mod tinyproxy;

mod auth_tests;
mod defects;
mod dns_tests;
mod facts_tests;
mod filter_tests;
mod httpbin_assertions;
mod httpbin_bytes;
mod httpbin_tests;
mod proxy_tests;
mod session_nginx;
mod session_tests;
mod tls_tests;

use std::collections::BTreeSet;
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{smokegate, write_suite, Run};

/// How long a server may take to become ready.
pub const READY_LIMIT: Duration = Duration::from_secs(15);

/// Ports handed out by this process: never handed out twice, so that two tests starting
/// servers at once cannot pick the same port between its release and the server's bind.
fn claim(port: u16) -> bool {
    static CLAIMED: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    CLAIMED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(port)
}

/// A free TCP port on 127.0.0.1 (bound, then released), never returned twice.
pub fn free_port() -> u16 {
    for _ in 0..200 {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        if claim(port) {
            return port;
        }
    }
    panic!("no unclaimed loopback port after 200 tries");
}

/// A port on 127.0.0.1 that is free for both UDP and TCP (for DNS servers), never returned
/// twice.
pub fn free_udp_tcp_port() -> u16 {
    for _ in 0..200 {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
        let port = udp.local_addr().expect("udp addr").port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() && claim(port) {
            return port;
        }
    }
    panic!("no loopback port free for both UDP and TCP after 200 tries");
}

/// Fails the test, with the install command, when `path` is not an executable file.
pub fn require_binary(path: &str, install: &str) {
    if !Path::new(path).is_file() {
        panic!("{path} is not installed; install it with `{install}` (or run .ci/run)");
    }
}

/// A server process started by a test: its process group is killed and reaped on drop.
pub struct Server {
    pub name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Server {
    /// Spawn `cmd` in a process group of its own, stdout and stderr into `log`. The process
    /// is killed if the test process dies without dropping it.
    pub fn spawn(name: &'static str, mut cmd: Command, log: PathBuf, install: &str) -> Server {
        let out = std::fs::File::create(&log).expect("create server log");
        let err = out.try_clone().expect("clone log handle");
        cmd.stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        match cmd.spawn() {
            Ok(child) => Server { name, child, log },
            Err(e) => panic!(
                "cannot start {name} ({:?}): {e}; install it with `{install}` (or run .ci/run)",
                cmd.get_program()
            ),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the server printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Wait until `ready()` holds, for at most [`READY_LIMIT`]. `Err` carries the log when
    /// the process exited first (the caller may retry with other ports); a server that is
    /// still not ready at the limit fails the test.
    pub fn wait_ready(&mut self, ready: impl Fn() -> bool) -> Result<(), String> {
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("{} exited ({status}):\n{}", self.name, self.log()));
            }
            if ready() {
                return Ok(());
            }
            if start.elapsed() > READY_LIMIT {
                panic!(
                    "{} (pid {}) not ready after {:?}; its log:\n{}",
                    self.name,
                    self.pid(),
                    READY_LIMIT,
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let pgid = self.child.id() as i32;
        if let Ok(None) = self.child.try_wait() {
            // SAFETY: plain syscall on the process group this test created.
            unsafe { libc::kill(-pgid, libc::SIGTERM) };
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(3) {
                if let Ok(Some(_)) = self.child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        // Whatever is left of the group (a gunicorn worker, a stuck master) is killed.
        // SAFETY: as above.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// True when a TCP connection to `addr` succeeds (within 200 ms).
pub fn tcp_ready(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

/// True when `GET path` on `addr` answers with an HTTP status line (within 1 s).
pub fn http_ready(addr: SocketAddr, path: &str) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    let req = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    if std::io::Write::write_all(&mut s, req.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}

/// Start a server, retrying with fresh ports (up to 3 times) when the process exits early,
/// e.g. because another process took a port between picking and binding it.
pub fn start_with_retries<T>(name: &str, mut attempt: impl FnMut() -> Result<T, String>) -> T {
    let mut last = String::new();
    for _ in 0..3 {
        match attempt() {
            Ok(t) => return t,
            Err(e) => last = e,
        }
    }
    panic!("{name} did not start in 3 attempts; last failure:\n{last}");
}

/// Write `suite` into a temp dir and run it with the real binary: `extra`, plus
/// `--connect-timeout 3s` and `--timeout 5s` unless `extra` sets them. The temp dir lives as long as the returned [`Run`].
pub async fn run_suite(suite: &str, extra: &[String]) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_suite(dir.path(), "real.yaml", suite);
    let mut args = vec!["run".to_string(), path];
    for (flag, default) in [("--connect-timeout", "3s"), ("--timeout", "5s")] {
        if !extra.iter().any(|a| a == flag) {
            args.extend([flag.to_string(), default.to_string()]);
        }
    }
    args.extend(extra.iter().cloned());
    smokegate(&args, &[]).await
}

/// The first step of case `name`.
pub fn step<'a>(run: &'a Run, name: &str) -> &'a Value {
    &run.case(name)["steps"][0]
}

/// The error message of the first step of case `name` ("" when none).
pub fn error_message(run: &Run, name: &str) -> String {
    step(run, name)["error"]["message"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// `&[&str]` → `Vec<String>`.
pub fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}
