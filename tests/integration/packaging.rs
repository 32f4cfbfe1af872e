//! Getting smokegate without building it: what `cargo package` ships, the release archives
//! (scripts/release/package.sh), and the GitHub Action (action.yml and its shell steps in
//! scripts/action/, run here under a simulated GITHUB_* environment against loopback).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::common::{root, write_suite};

/// The files `cargo package` puts into the crates of the workspace, by crate.
fn package_list() -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(root())
        .args([
            "package",
            "--workspace",
            "--list",
            "--allow-dirty",
            "--offline",
        ])
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo package --list fails:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn cargo_package_ships_sources_suites_schemas_and_docs_only() {
    let list = package_list();
    let files: Vec<&str> = list.lines().collect();
    for must in [
        "Cargo.toml",
        "Cargo.lock",
        "README.md",
        "LICENSE-MIT",
        "LICENSE-APACHE",
        "src/main.rs",
        "src/demo.rs",
        // Embedded in the binary by `smokegate demo` (include_str!): the crate cannot build
        // without them.
        "suites/a-worker-dashboard.yaml",
        "schemas/api-health.schema.json",
        "schemas/suite.schema.json",
        "docs/suite-format.md",
        // The sample deployment's crate.
        "src/scenario_a.rs",
    ] {
        assert!(files.contains(&must), "{must} is not packaged:\n{list}");
    }
    for line in &files {
        for never in [
            "tests/",
            "bench/",
            ".github/",
            ".ci/",
            "scripts/",
            "Dockerfile",
            "action.yml",
            "node_modules",
        ] {
            assert!(
                !line.starts_with(never) && !line.contains("node_modules"),
                "{line} should stay out of the crate"
            );
        }
    }
    // Small: no fixtures, no corpus, no generated files.
    assert!(files.len() < 150, "{} files packaged:\n{list}", files.len());
}

#[test]
fn both_crates_carry_the_metadata_crates_io_shows() {
    for manifest in ["Cargo.toml", "crates/sample-deployment/Cargo.toml"] {
        let text = std::fs::read_to_string(root().join(manifest)).unwrap();
        for key in [
            "license = ",
            "repository = ",
            "homepage = ",
            "documentation = ",
            "keywords = ",
            "categories = ",
            "include = ",
        ] {
            assert!(
                text.lines().any(|l| l.starts_with(key)),
                "{manifest} has no `{key}…`"
            );
        }
        assert!(
            !text.contains("publish = false"),
            "{manifest} cannot be published"
        );
    }
    // The sample deployment is a versioned dependency, so `cargo publish --workspace` can
    // publish it first and smokegate's crate resolves it from crates.io.
    let text = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let dep = text
        .lines()
        .find(|l| l.starts_with("sample-deployment = ") && l.contains("optional"))
        .expect("the sample deployment dependency");
    assert!(dep.contains("version = \"=0.1.0\""), "{dep}");
}

/// Parse a YAML file into JSON values.
fn yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{} is YAML: {e}", path.display()))
}

/// Every `${{ inputs.NAME }}` in a text.
fn input_refs(text: &str) -> Vec<String> {
    let re = regex::Regex::new(r"inputs\.([A-Za-z0-9_-]+)").unwrap();
    re.captures_iter(text).map(|c| c[1].to_string()).collect()
}

#[test]
fn action_reads_only_inputs_it_declares_and_its_scripts_exist() {
    let action = yaml(&root().join("action.yml"));
    assert_eq!(action["runs"]["using"], "composite");
    let inputs = action["inputs"].as_object().expect("inputs");
    for want in [
        "suites",
        "env",
        "vars",
        "secrets",
        "shard",
        "reports-dir",
        "version",
    ] {
        assert!(inputs.contains_key(want), "input {want} missing");
    }
    let text = std::fs::read_to_string(root().join("action.yml")).unwrap();
    for used in input_refs(&text) {
        assert!(inputs.contains_key(&used), "inputs.{used} is not declared");
    }
    let steps = action["runs"]["steps"].as_array().unwrap();
    let run_script = std::fs::read_to_string(root().join("scripts/action/run.sh")).unwrap();
    let input_vars = regex::Regex::new(r"INPUT_[A-Z_]+").unwrap();
    for step in steps {
        if let Some(cmd) = step["run"].as_str() {
            assert_eq!(step["shell"], "bash", "{step}");
            let script = cmd
                .trim_matches(|c| c == '"' || c == '\'')
                .replace("$GITHUB_ACTION_PATH/", "");
            let path = root().join(&script);
            assert!(path.is_file(), "{script} does not exist");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&path).unwrap().permissions().mode();
                assert!(mode & 0o111 != 0, "{script} is not executable");
            }
        }
        if step["id"] == "run" {
            // Every INPUT_* variable the script reads is given by the step.
            let env = step["env"].as_object().unwrap();
            for m in input_vars.find_iter(&run_script) {
                assert!(env.contains_key(m.as_str()), "{} is not set", m.as_str());
            }
        }
    }
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/upload-artifact@"))
        })
        .expect("an upload step");
    assert!(
        upload["if"].as_str().unwrap().starts_with("always()"),
        "reports are uploaded when checks fail too"
    );
}

#[test]
fn release_workflow_builds_every_platform_and_publishes_checksums() {
    let wf = yaml(&root().join(".github/workflows/release.yml"));
    let matrix = wf["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_array()
        .unwrap();
    let targets: Vec<&str> = matrix
        .iter()
        .map(|m| m["target"].as_str().unwrap())
        .collect();
    for t in [
        "x86_64-unknown-linux-gnu",
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-gnu",
        "aarch64-unknown-linux-musl",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
    ] {
        assert!(targets.contains(&t), "{t} is not built: {targets:?}");
    }
    let text = std::fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap();
    assert!(
        text.contains("scripts/release/package.sh"),
        "packaged by the tested script"
    );
    assert!(text.contains("--profile dist"), "the shipped profile");
    assert!(
        text.contains("sha256sum --check"),
        "checksums are checked before publishing"
    );
    // The Action installs the musl builds on Linux and the Apple builds on macOS: each is built.
    let install = std::fs::read_to_string(root().join("scripts/action/install.sh")).unwrap();
    for t in targets.iter().filter(|t| !t.ends_with("-gnu")) {
        assert!(install.contains(*t), "install.sh does not know {t}");
    }
}

#[test]
fn shell_scripts_pass_shellcheck() {
    let scripts = [
        "scripts/action/install.sh",
        "scripts/action/run.sh",
        "scripts/release/package.sh",
        "scripts/test",
        "tests/progressive/argo-job.sh",
        "tests/progressive/flagger-webhook.sh",
    ];
    let out = Command::new("shellcheck")
        .current_dir(root())
        .args(scripts)
        .output()
        .expect("shellcheck is installed (Debian shellcheck; scripts/test installs it)");
    assert!(
        out.status.success(),
        "shellcheck:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// A loopback file server for `dir` (GET only, bounded to 32 connections).
fn file_server(dir: PathBuf) -> SocketAddr {
    crate::common::loopback_http(32, move |req| {
        let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
        match std::fs::read(dir.join(path.trim_start_matches('/'))) {
            Ok(body) if !path.contains("..") => ("200 OK", body),
            _ => ("404 Not Found", Vec::new()),
        }
    })
}

/// Run a script with only the given environment (plus PATH and HOME), as a runner would.
fn script(path: &str, cwd: &Path, env: &[(&str, String)]) -> Output {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_smokegate")).parent().unwrap();
    let path_var = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let mut cmd = Command::new(root().join(path));
    cmd.current_dir(cwd)
        .env_clear()
        .env("PATH", path_var)
        .env(
            "HOME",
            std::env::var("HOME").unwrap_or_else(|_| "/tmp".into()),
        )
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("script runs")
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A release as the workflow publishes it: the archive and its checksum file, under
/// `releases/download/TAG/` and `releases/latest/download/`.
fn release(dir: &Path, target: &str) -> PathBuf {
    let out = dir.join("releases/download/v9.9.9");
    let made = Command::new(root().join("scripts/release/package.sh"))
        .args([target, env!("CARGO_BIN_EXE_smokegate")])
        .arg(&out)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", text(&made));
    let latest = dir.join("releases/latest/download");
    std::fs::create_dir_all(&latest).unwrap();
    for f in std::fs::read_dir(&out).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), latest.join(f.file_name())).unwrap();
    }
    out
}

#[test]
fn release_archive_holds_the_binary_completions_man_page_and_a_matching_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let out = release(dir.path(), "x86_64-unknown-linux-musl");
    let archive = out.join("smokegate-x86_64-unknown-linux-musl.tar.gz");
    let listing = Command::new("tar")
        .arg("-tzf")
        .arg(&archive)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout).to_string();
    for f in [
        "smokegate-x86_64-unknown-linux-musl/smokegate",
        "smokegate-x86_64-unknown-linux-musl/README.md",
        "smokegate-x86_64-unknown-linux-musl/LICENSE-MIT",
        "smokegate-x86_64-unknown-linux-musl/smokegate.1",
        "smokegate-x86_64-unknown-linux-musl/completions/smokegate.bash",
    ] {
        assert!(listing.lines().any(|l| l == f), "{f} not in:\n{listing}");
    }
    let check = Command::new("sha256sum")
        .arg("--check")
        .arg("smokegate-x86_64-unknown-linux-musl.tar.gz.sha256")
        .current_dir(&out)
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", text(&check));
}

#[test]
fn action_install_checks_the_sha256_and_puts_smokegate_on_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let out = release(dir.path(), "x86_64-unknown-linux-musl");
    let addr = file_server(dir.path().to_path_buf());
    let expected_version = format!("smokegate {}", env!("CARGO_PKG_VERSION"));
    for version in ["v9.9.9", "latest"] {
        let runner = tempfile::tempdir().unwrap();
        let gh_path = runner.path().join("path");
        let gh_out = runner.path().join("output");
        let o = script(
            "scripts/action/install.sh",
            runner.path(),
            &[
                ("RUNNER_OS", "Linux".into()),
                ("RUNNER_ARCH", "X64".into()),
                ("RUNNER_TEMP", runner.path().display().to_string()),
                ("GITHUB_PATH", gh_path.display().to_string()),
                ("GITHUB_OUTPUT", gh_out.display().to_string()),
                ("SMOKEGATE_VERSION", version.into()),
                ("SMOKEGATE_DOWNLOAD_BASE", format!("http://{addr}/releases")),
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
        let bin_dir = std::fs::read_to_string(&gh_path).unwrap();
        let installed = Path::new(bin_dir.trim()).join("smokegate");
        let v = Command::new(&installed).arg("--version").output().unwrap();
        assert_eq!(String::from_utf8_lossy(&v.stdout).trim(), expected_version);
        let outputs = std::fs::read_to_string(&gh_out).unwrap();
        assert!(
            outputs.contains(&format!("version={}\n", env!("CARGO_PKG_VERSION"))),
            "{outputs}"
        );
    }

    // A tampered archive (its checksum no longer matches) is refused and not installed.
    let sum = out.join("smokegate-x86_64-unknown-linux-musl.tar.gz.sha256");
    let good = std::fs::read_to_string(&sum).unwrap();
    std::fs::write(&sum, format!("{}{}", "0".repeat(64), &good[64..])).unwrap();
    let runner = tempfile::tempdir().unwrap();
    let gh_path = runner.path().join("path");
    let o = script(
        "scripts/action/install.sh",
        runner.path(),
        &[
            ("RUNNER_OS", "Linux".into()),
            ("RUNNER_ARCH", "X64".into()),
            ("RUNNER_TEMP", runner.path().display().to_string()),
            ("GITHUB_PATH", gh_path.display().to_string()),
            ("SMOKEGATE_VERSION", "v9.9.9".into()),
            ("SMOKEGATE_DOWNLOAD_BASE", format!("http://{addr}/releases")),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("::error title=smokegate install::checksum mismatch for smokegate-x86_64-unknown-linux-musl.tar.gz: expected 0000"),
        "{}",
        text(&o)
    );
    assert!(!gh_path.exists(), "nothing added to the PATH");
    assert!(!runner.path().join("smokegate-bin/smokegate").exists());

    // A platform without a release says what to do.
    let o = script(
        "scripts/action/install.sh",
        runner.path(),
        &[
            ("RUNNER_OS", "Windows".into()),
            ("RUNNER_ARCH", "X64".into()),
            ("RUNNER_TEMP", runner.path().display().to_string()),
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("no released smokegate binary for Windows/X64: use version: build"),
        "{}",
        text(&o)
    );
}

/// A loopback HTTP server: `/ok` answers 200, anything else 503 (bounded to 16 connections).
pub(crate) fn app_server() -> SocketAddr {
    crate::common::loopback_http(16, |req| {
        if req.starts_with("GET /ok") {
            ("200 OK", b"ok".to_vec())
        } else {
            ("503 Service Unavailable", b"down".to_vec())
        }
    })
}

fn outputs(path: &Path) -> std::collections::HashMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn action_run_passes_inputs_writes_outputs_reports_and_summary() {
    let addr = app_server();
    let ws = tempfile::tempdir().unwrap();
    std::fs::create_dir(ws.path().join("smoke")).unwrap();
    write_suite(
        &ws.path().join("smoke"),
        "api.yaml",
        "name: api
cases:
  - name: health
    request:
      url: ${base}/ok
      headers: { authorization: \"Bearer ${token}\" }
    expect: { status: 200 }
  - name: orders
    tags: [slow]
    request: { url: \"${base}/orders\" }
    expect: { status: 200 }
",
    );
    let run = |extra: &[(&str, String)]| {
        let gh_out = ws.path().join("output");
        let summary = ws.path().join("summary.md");
        let _ = std::fs::remove_file(&gh_out);
        let _ = std::fs::remove_file(&summary);
        let mut env = vec![
            ("GITHUB_ACTIONS", "true".to_string()),
            ("GITHUB_WORKSPACE", ws.path().display().to_string()),
            ("GITHUB_OUTPUT", gh_out.display().to_string()),
            ("GITHUB_STEP_SUMMARY", summary.display().to_string()),
            ("INPUT_SUITES", "  smoke/api.yaml\n\n".into()),
            ("INPUT_VARS", format!("# the app\nbase=http://{addr}\n")),
            ("INPUT_SECRETS", "token=s3cr3t-action-token-42\n".into()),
            ("INPUT_REPORTS_DIR", "out".into()),
        ];
        env.extend(extra.iter().cloned());
        let o = script("scripts/action/run.sh", ws.path(), &env);
        let md = std::fs::read_to_string(&summary).unwrap_or_default();
        (o, outputs(&gh_out), md)
    };

    // Only the passing case (extra arguments, one per line): passed, exit 0.
    let (o, out, md) = run(&[("INPUT_ARGS", "--skip-tag\nslow\n".into())]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(out["verdict"], "passed");
    assert_eq!(out["exit-code"], "0");
    assert_eq!(out["report-json"], "out/report.json");
    assert_eq!(out["artifact-name"], "smokegate-reports");
    assert_eq!(
        out["reports-dir"],
        ws.path().join("out").display().to_string()
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("::add-mask::s3cr3t-action-token-42"),
        "the secret is masked in the log: {stdout}"
    );
    assert!(md.contains("## smokegate: ✅ PASSED"), "{md}");
    assert!(md.contains("smokegate exit code 0 (passed)"), "{md}");
    for f in ["report.json", "junit.xml", "report.html"] {
        let body = std::fs::read_to_string(ws.path().join("out").join(f)).unwrap();
        assert!(!body.contains("s3cr3t-action-token-42"), "secret in {f}");
    }

    // Both cases, sharded 1/1: failed, exit 1, an annotation, shard-named reports.
    let (o, out, md) = run(&[("INPUT_SHARD", "1/1".into())]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(out["verdict"], "failed");
    assert_eq!(out["exit-code"], "1");
    assert_eq!(out["report-junit"], "out/junit-shard-1-of-1.xml");
    assert_eq!(out["artifact-name"], "smokegate-reports-shard-1-of-1");
    assert!(ws.path().join("out/report-shard-1-of-1.json").is_file());
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("::error file=smoke/api.yaml,line="),
        "{stdout}"
    );
    assert!(md.contains("## smokegate: ❌ FAILED"), "{md}");
    assert!(
        md.contains("(artifact `smokegate-reports-shard-1-of-1`)"),
        "{md}"
    );

    // A malformed shard is refused before anything runs.
    let (o, out, _) = run(&[("INPUT_SHARD", "2".into())]);
    assert_eq!(o.status.code(), Some(2));
    assert!(out.is_empty(), "{out:?}");
    assert!(String::from_utf8_lossy(&o.stdout)
        .contains("::error title=smokegate::shard must be K/N (e.g. 2/4), got `2`"));
}

#[test]
fn dockerfile_builds_the_static_binary_and_ships_it_alone_as_nobody() {
    let text = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    let froms: Vec<&str> = text.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(froms.len(), 2, "multi-stage: {froms:?}");
    assert!(froms[0].ends_with(" AS build"), "{froms:?}");
    assert_eq!(
        froms[1], "FROM scratch",
        "the image holds nothing but what is copied"
    );
    for l in text.lines().filter(|l| l.contains("COPY --from=")) {
        assert!(l.starts_with("COPY --from=build "), "{l}");
    }
    for want in [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "musl-tools",
        "--profile dist",
        "--locked",
        "USER 65534:65534",
        "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
        r#"ENTRYPOINT ["/usr/local/bin/smokegate"]"#,
    ] {
        assert!(text.contains(want), "Dockerfile lacks {want}");
    }
    // The build context keeps what the build needs (tests/ holds manifest targets) and
    // leaves out build output and node_modules.
    let ignore = std::fs::read_to_string(root().join(".dockerignore")).unwrap();
    let lines: Vec<&str> = ignore.lines().collect();
    for want in ["/target", "**/node_modules"] {
        assert!(lines.contains(&want), ".dockerignore lacks {want}");
    }
    for keep in ["/tests", "/src", "/suites", "/schemas", "/crates"] {
        assert!(!lines.contains(&keep), ".dockerignore must keep {keep}");
    }
}

/// The static (musl) build `scripts/test` makes before the tests, beside the test binary's
/// own target folder.
fn musl_binary() -> PathBuf {
    let exe = Path::new(env!("CARGO_BIN_EXE_smokegate"));
    let target_dir = exe.parent().unwrap().parent().unwrap();
    let triple = format!("{}-unknown-linux-musl", std::env::consts::ARCH);
    let bin = target_dir.join(&triple).join("debug/smokegate");
    assert!(
        bin.is_file(),
        "{} is missing: the static build is made by scripts/test; by hand: \
         `rustup target add {triple} && apt-get install musl-tools && \
         cargo build --locked --target {triple} --bin smokegate`",
        bin.display()
    );
    // Not a stale leftover: built from the same sources as the binary under test.
    let age = |p: &Path| std::fs::metadata(p).unwrap().modified().unwrap();
    let newest_source = walk_sources(&root().join("src"));
    assert!(
        age(&bin) >= newest_source,
        "{} is older than the sources: rebuild it (scripts/test does)",
        bin.display()
    );
    bin
}

fn walk_sources(dir: &Path) -> std::time::SystemTime {
    let mut newest = std::time::SystemTime::UNIX_EPOCH;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let t = if p.is_dir() {
            walk_sources(&p)
        } else {
            std::fs::metadata(&p).unwrap().modified().unwrap()
        };
        newest = newest.max(t);
    }
    newest
}

/// The ELF program headers' types (`PT_INTERP` = 3 names the dynamic loader).
fn elf_program_header_types(bytes: &[u8]) -> Vec<u32> {
    assert_eq!(&bytes[..4], b"\x7fELF", "not an ELF file");
    assert_eq!(bytes[4], 2, "64-bit ELF expected");
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(bytes[0x20..0x28].try_into().unwrap()) as usize;
    let (phentsize, phnum) = (u16_at(0x36), u16_at(0x38));
    (0..phnum)
        .map(|i| {
            let o = phoff + i * phentsize;
            u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap())
        })
        .collect()
}

#[test]
fn musl_build_is_static_and_runs_the_demo() {
    let bin = musl_binary();
    let types = elf_program_header_types(&std::fs::read(&bin).unwrap());
    assert!(
        !types.contains(&3),
        "the musl binary asks for a dynamic loader (PT_INTERP): not static"
    );
    let out = Command::new(&bin)
        .arg("demo")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("passed"));
}

/// The image's filesystem as the Dockerfile's final stage assembles it, from the files its
/// build stage makes: checked against the Dockerfile's own `COPY` lines, so the two cannot
/// drift apart.
fn image_root(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    let final_stage = text
        .split("\nFROM scratch\n")
        .nth(1)
        .expect("a FROM scratch stage");
    let copies: Vec<&str> = final_stage
        .lines()
        .filter(|l| l.starts_with("COPY "))
        .collect();
    assert_eq!(
        copies,
        [
            "COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt",
            "COPY --from=build /rootfs/ /",
            "COPY --from=build /smokegate /usr/local/bin/smokegate",
        ],
        "the image emulation below copies exactly these: update both together"
    );
    assert!(final_stage.contains("WORKDIR /work") && final_stage.contains("USER 65534:65534"));
    let r = dir.join("rootfs");
    for d in ["etc/ssl/certs", "usr/local/bin", "work", "tmp"] {
        std::fs::create_dir_all(r.join(d)).unwrap();
    }
    let certs = r.join("etc/ssl/certs/ca-certificates.crt");
    match std::fs::copy("/etc/ssl/certs/ca-certificates.crt", &certs) {
        Ok(_) => {}
        Err(_) => std::fs::write(&certs, b"").unwrap(),
    }
    std::fs::copy(musl_binary(), r.join("usr/local/bin/smokegate")).unwrap();
    r
}

#[test]
fn the_image_filesystem_runs_a_suite_as_nobody_with_nothing_but_the_binary() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let rootfs = image_root(dir.path());
    std::fs::set_permissions(rootfs.join("tmp"), std::fs::Permissions::from_mode(0o1777)).unwrap();
    // The suites folder a user mounts on /work, and a writable folder for the reports.
    let server = crate::common::loopback_http(8, |_| ("200 OK", br#"{"ok":true}"#.to_vec()));
    std::fs::write(
        rootfs.join("work/gate.yaml"),
        format!(
            "name: image\ncases:\n  - name: health\n    request: {{ url: \"http://api.test:{}/health\" }}\n    expect: {{ status: 200, jsonpath: [{{ path: $.ok, equals: true }}] }}\n",
            server.port()
        ),
    )
    .unwrap();
    std::fs::create_dir_all(rootfs.join("work/out")).unwrap();
    std::fs::set_permissions(
        rootfs.join("work/out"),
        std::fs::Permissions::from_mode(0o777),
    )
    .unwrap();
    let as_root = unsafe { libc::geteuid() } == 0;
    let args = [
        "run",
        "gate.yaml",
        "--resolve",
        &format!("api.test:{}:127.0.0.1", server.port()),
        "--report-json",
        "out/report.json",
    ];
    let mut cmd = if as_root {
        // As Docker runs it: chroot into the image, WORKDIR /work, USER 65534:65534.
        let mut c = Command::new("/usr/local/bin/smokegate");
        let new_root = std::ffi::CString::new(rootfs.to_str().unwrap()).unwrap();
        unsafe {
            c.pre_exec(move || {
                let ok = libc::chroot(new_root.as_ptr()) == 0
                    && libc::chdir(c"/work".as_ptr()) == 0
                    && libc::setgroups(0, std::ptr::null()) == 0
                    && libc::setgid(65534) == 0
                    && libc::setuid(65534) == 0;
                if ok {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            });
        }
        c
    } else {
        panic!(
            "this test emulates the container image (chroot into its filesystem, USER \
             65534:65534) and needs root, as CI has: run it with sudo"
        );
    };
    let out = cmd
        .args(args)
        .env_clear()
        .env("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: Value =
        serde_json::from_slice(&std::fs::read(rootfs.join("work/out/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["counts"]["passed"], 1, "{report}");
    assert_eq!(report["verdict"], "passed", "{report}");
    let meta = std::fs::metadata(rootfs.join("work/out/report.json")).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(meta.uid(), 65534, "written as nobody");
}
