//! Shared helpers: run the real binary against the sample deployment and collect what it
//! printed and wrote. Every JSON report written here is validated against its schema.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use sample_deployment::{Fault, SampleDeployment};
use serde_json::Value;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A suite bundled under `suites/`.
pub fn suite(name: &str) -> String {
    root().join("suites").join(name).display().to_string()
}

/// What one run of the binary produced.
#[allow(dead_code)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub json: Option<Value>,
    pub junit: Option<String>,
    pub junit_path: PathBuf,
    pub dir: tempfile::TempDir,
}

impl Run {
    /// Everything the run showed a user or wrote to disk.
    pub fn all_output(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}",
            self.stdout,
            self.stderr,
            self.json
                .as_ref()
                .map(|j| j.to_string())
                .unwrap_or_default(),
            self.junit.clone().unwrap_or_default()
        )
    }

    /// The JSON result of a case by name.
    pub fn case(&self, name: &str) -> &Value {
        let cases = self.json.as_ref().expect("JSON report")["cases"]
            .as_array()
            .expect("cases");
        cases
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no case `{name}` in report: {}", self.stdout))
    }
}

/// Run `smokegate` with `args`, plus reports into a temp dir. `env` is added to the
/// process environment; NO_COLOR is set, and the machine's proxy variables are removed (every
/// test server is on loopback; proxy tests pass their own).
pub async fn smokegate(args: &[String], env: &[(String, String)]) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("report.json");
    let junit = dir.path().join("junit.xml");
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_smokegate"));
    cmd.args(args);
    if args.first().map(String::as_str) == Some("run") {
        cmd.arg("--report-json")
            .arg(&json)
            .arg("--report-junit")
            .arg(&junit);
    }
    for var in ["http_proxy", "https_proxy", "all_proxy", "no_proxy"] {
        cmd.env_remove(var).env_remove(var.to_ascii_uppercase());
    }
    cmd.env("NO_COLOR", "1")
        .envs(env.iter().cloned())
        .kill_on_drop(true);
    let out = tokio::time::timeout(std::time::Duration::from_secs(90), cmd.output())
        .await
        .expect("smokegate finishes within 90 s")
        .expect("smokegate runs");
    let json_value = std::fs::read_to_string(&json).ok().map(|t| {
        let v: Value = serde_json::from_str(&t).expect("JSON report parses");
        validate_report(&v);
        v
    });
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        json: json_value,
        junit: std::fs::read_to_string(&junit).ok(),
        junit_path: junit,
        dir,
    }
}

/// Run suites against a sample deployment with these faults.
pub async fn run_against(faults: &[Fault], suites: &[&str], extra: &[&str]) -> Run {
    let dep = SampleDeployment::start(faults)
        .await
        .expect("sample deployment starts");
    let mut args = vec!["run".to_string()];
    args.extend(suites.iter().map(|s| suite(s)));
    for r in dep.resolves() {
        args.push("--resolve".into());
        args.push(r);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let run = smokegate(&args, &dep.vars()).await;
    dep.shutdown();
    run
}

/// Validate a JSON report against `schemas/report.schema.json`.
pub fn validate_report(report: &Value) {
    let schema_path = root().join("schemas/report.schema.json");
    let text = std::fs::read_to_string(&schema_path).expect("schemas/report.schema.json exists");
    let schema: Value = serde_json::from_str(&text).expect("report schema is JSON");
    let v = jsonschema::validator_for(&schema).expect("report schema compiles");
    let errors: Vec<String> = v
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "JSON report does not match its schema: {errors:#?}"
    );
}

/// Write a suite file into `dir`.
pub fn write_suite(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write suite");
    p.display().to_string()
}

/// A loopback listener that counts connections and never answers: proves nothing was sent.
pub struct Tripwire {
    pub addr: std::net::SocketAddr,
    pub hits: Arc<AtomicUsize>,
}

impl Tripwire {
    pub async fn start() -> Tripwire {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = l.local_addr().expect("addr");
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        tokio::spawn(async move {
            while let Ok((_s, _)) = l.accept().await {
                h.fetch_add(1, Ordering::SeqCst);
            }
        });
        Tripwire { addr, hits }
    }

    pub fn count(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// Validate a JUnit file against the vendored junit-10.xsd with xmllint, extended by exactly
/// the two optional `<testcase>` attributes smokegate adds for CI readers (`file`, `line`;
/// docs/report-format.md, "JUnit readers"): everything else must be as the XSD says.
pub fn xmllint(path: &Path) {
    // Vendored copy of Jenkins xUnit's junit-10.xsd (MIT), identical to ../shared/junit/.
    let xsd = std::fs::read_to_string(root().join("tests/fixtures/junit-10.xsd"))
        .expect("tests/fixtures/junit-10.xsd");
    let group = r#"<xs:attribute name="group" type="xs:string"/>"#;
    assert_eq!(xsd.matches(group).count(), 1, "junit-10.xsd changed");
    let extended = xsd.replace(
        group,
        &format!(
            r#"{group}<xs:attribute name="file" type="xs:string"/><xs:attribute name="line" type="xs:positiveInteger"/>"#
        ),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let xsd_path = dir.path().join("junit-10-located.xsd");
    std::fs::write(&xsd_path, extended).expect("write xsd");
    let out = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd_path)
        .arg(path)
        .output()
        .expect("xmllint is installed (Debian libxml2-utils)");
    assert!(
        out.status.success(),
        "{} does not validate against junit-10.xsd (+ testcase file/line):\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A loopback HTTP/1.1 server on its own threads for tests that need no async runtime: each
/// of at most `max` connections gets one request, `answer(request head)` gives the status
/// line's code and reason and the body (it may sleep: every connection has its own thread),
/// and the connection closes. Reads wait at most 10 s.
pub fn loopback_http(
    max: usize,
    answer: impl Fn(&str) -> (&'static str, Vec<u8>) + Send + Sync + 'static,
) -> std::net::SocketAddr {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for s in l.incoming().take(max) {
            let Ok(mut s) = s else { return };
            let answer = answer.clone();
            std::thread::spawn(move || {
                let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(10)));
                let mut buf = vec![0u8; 8192];
                let n = s.read(&mut buf).unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                let (status, body) = answer(&req);
                let mut resp = format!(
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                resp.extend(body);
                let _ = s.write_all(&resp);
            });
        }
    });
    addr
}
