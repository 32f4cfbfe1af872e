//! A test CA and its certificates, made with the `openssl` CLI the way an operator would
//! (`openssl req`, `openssl ca`), once per test process, under `CARGO_TARGET_TMPDIR`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// A certificate (PEM) and its private key (PEM).
pub struct CertKey {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl CertKey {
    pub fn cert_str(&self) -> String {
        self.cert.display().to_string()
    }
    pub fn key_str(&self) -> String {
        self.key.display().to_string()
    }
}

pub struct Pki {
    pub dir: PathBuf,
    pub ca: CertKey,
    /// SAN `*.tminus.test`, `tminus.test`.
    pub leaf: CertKey,
    /// Same names as `leaf`; valid 2024-01-01 to 2025-01-31 23:59:59 UTC.
    pub expired: CertKey,
    /// SAN `other.example` only.
    pub wrong_host: CertKey,
    /// CN=cn-only.tminus.test and no subjectAltName.
    pub cn_only: CertKey,
    /// Self-signed with CA:TRUE, SAN `selfsigned.tminus.test`.
    pub self_signed: CertKey,
    /// A client certificate (CN=smokegate-client) signed by the CA, for mTLS.
    pub client: CertKey,
}

impl Pki {
    /// The CA certificate, for `--cacert`.
    pub fn cacert(&self) -> String {
        self.ca.cert_str()
    }
}

/// The process-wide PKI (made on first use).
pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(make)
}

const INSTALL: &str = "apt-get install -y openssl";

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl ({e}); install it with `{INSTALL}`"));
    assert!(
        out.status.success(),
        "openssl {} failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

const CA_CONFIG: &str = r#"[ca]
default_ca = test_ca
[test_ca]
dir = .
database = index.txt
new_certs_dir = newcerts
serial = serial
certificate = ca.pem
private_key = ca.key
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
[server_common]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:*.tminus.test, DNS:tminus.test
[wrong_host]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:other.example
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"#;

/// A fresh directory for this process; directories of earlier test processes are removed.
fn fresh_dir() -> PathBuf {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("real-pki");
    if let Ok(entries) = std::fs::read_dir(&base) {
        for e in entries.flatten() {
            let pid = e.file_name().to_string_lossy().to_string();
            if !Path::new("/proc").join(&pid).exists() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let dir = base.join(std::process::id().to_string());
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("newcerts")).expect("create PKI dir");
    std::fs::write(dir.join("index.txt"), "").expect("index.txt");
    std::fs::write(dir.join("serial"), "1000\n").expect("serial");
    std::fs::write(dir.join("ca.cnf"), CA_CONFIG).expect("ca.cnf");
    dir
}

fn pair(dir: &Path, name: &str) -> CertKey {
    CertKey {
        cert: dir.join(format!("{name}.pem")),
        key: dir.join(format!("{name}.key")),
    }
}

/// Sign a CSR for `subject` with the shared server key (or `key`), using extension section
/// `ext`, valid for 30 days or between `dates`.
fn sign(dir: &Path, name: &str, key: &str, subject: &str, ext: &str, dates: Option<(&str, &str)>) {
    let csr = format!("{name}.csr");
    openssl(
        dir,
        &["req", "-new", "-key", key, "-subj", subject, "-out", &csr],
    );
    let out = format!("{name}.pem");
    let mut a = vec![
        "ca",
        "-batch",
        "-notext",
        "-config",
        "ca.cnf",
        "-extensions",
        ext,
        "-in",
        &csr,
        "-out",
        &out,
    ];
    match dates {
        Some((start, end)) => a.extend(["-startdate", start, "-enddate", end]),
        None => a.extend(["-days", "30"]),
    }
    openssl(dir, &a);
    if key != format!("{name}.key") {
        std::fs::copy(dir.join(key), dir.join(format!("{name}.key"))).expect("copy key");
    }
}

fn make() -> Pki {
    let dir = fresh_dir();
    let d = dir.as_path();
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "30",
            "-subj",
            "/CN=smokegate real-servers test CA",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    // One RSA key serves every server leaf (as one host would reuse it); the client has its own.
    openssl(d, &["genrsa", "-out", "server.key", "2048"]);
    openssl(d, &["genrsa", "-out", "client.key", "2048"]);
    sign(d, "leaf", "server.key", "/CN=tminus.test", "leaf", None);
    sign(
        d,
        "expired",
        "server.key",
        "/CN=tminus.test",
        "leaf",
        Some(("20240101000000Z", "20250131235959Z")),
    );
    sign(
        d,
        "wrong_host",
        "server.key",
        "/CN=other.example",
        "wrong_host",
        None,
    );
    sign(
        d,
        "cn_only",
        "server.key",
        "/CN=cn-only.tminus.test",
        "server_common",
        None,
    );
    sign(
        d,
        "client",
        "client.key",
        "/CN=smokegate-client",
        "client",
        None,
    );
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "self_signed.key",
            "-out",
            "self_signed.pem",
            "-days",
            "30",
            "-subj",
            "/CN=selfsigned.tminus.test",
            "-addext",
            "subjectAltName=DNS:selfsigned.tminus.test",
        ],
    );
    Pki {
        ca: pair(d, "ca"),
        leaf: pair(d, "leaf"),
        expired: pair(d, "expired"),
        wrong_host: pair(d, "wrong_host"),
        cn_only: pair(d, "cn_only"),
        self_signed: pair(d, "self_signed"),
        client: pair(d, "client"),
        dir,
    }
}
