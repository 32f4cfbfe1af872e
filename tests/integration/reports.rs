//! Reports: JUnit validates against Jenkins xUnit's junit-10.xsd with counts that match;
//! JSON reports validate against their schema (in `common`); planted secrets and captured
//! credentials appear in no output; reports are written even when checks fail.

use sample_deployment::{Fault, SampleDeployment};

use crate::common::{run_against, smokegate, write_suite, xmllint};

fn attr(xml: &str, tag: &str, name: &str) -> String {
    let start = xml.find(&format!("<{tag} ")).expect("tag present");
    let rest = &xml[start..];
    let key = format!(" {name}=\"");
    let i = rest.find(&key).expect("attribute present") + key.len();
    rest[i..i + rest[i..].find('"').unwrap()].to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn junit_validates_and_counts_match_on_pass_and_fail() {
    for faults in [
        vec![],
        vec![
            Fault::DLoginFails,
            Fault::DWorkerDown,
            Fault::CStorefrontDown,
        ],
    ] {
        let run = run_against(
            &faults,
            &["c-api-storefront.yaml", "d-staged-promotion.yaml"],
            &[],
        )
        .await;
        xmllint(&run.junit_path);
        let xml = run.junit.as_ref().unwrap();
        let counts = &run.json.as_ref().unwrap()["counts"];
        assert_eq!(
            attr(xml, "testsuites", "tests"),
            counts["total"].to_string()
        );
        assert_eq!(
            attr(xml, "testsuites", "failures"),
            counts["failed"].to_string()
        );
        assert_eq!(
            attr(xml, "testsuites", "errors"),
            counts["errors"].to_string()
        );
        assert_eq!(
            xml.matches("<testcase ").count() as u64,
            counts["total"].as_u64().unwrap()
        );
        assert_eq!(
            xml.matches("<testsuite ").count(),
            2,
            "one testsuite per suite"
        );
        assert!(xml.contains("classname=\"d-staged-promotion\""));
        if !faults.is_empty() {
            assert_eq!(run.code, 1);
            assert!(xml.contains("<failure "));
            assert!(
                xml.contains("<skipped"),
                "auth smoke skipped after the health gate failed"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn transport_errors_are_junit_errors_not_failures() {
    let dir = tempfile::tempdir().unwrap();
    // A port with nothing listening: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let s = write_suite(
        dir.path(),
        "refused.yaml",
        &format!("name: refused\ncases:\n  - name: nothing listens\n    request:\n      url: http://127.0.0.1:{port}/health\n"),
    );
    let run = smokegate(&["run".into(), s], &[]).await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    xmllint(&run.junit_path);
    let xml = run.junit.unwrap();
    assert!(xml.contains("<error "), "{xml}");
    assert!(!xml.contains("<failure "), "{xml}");
    assert!(run.stdout.contains("ERROR"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("connect — connection refused: nothing listens on that address")
            && !run.stdout.contains("os error"),
        "cause named in words: {}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_never_appear_in_any_output() {
    let dep = SampleDeployment::start(&[]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let planted = "PLANTED-s3cr3t-9f8e7d6c";
    // Register a user, capture the JWT as a secret, then put the JWT and the planted secret
    // into a failing request so they would be printed if redaction failed.
    let s = write_suite(
        dir.path(),
        "leak.yaml",
        r#"name: leak-probe
vars:
  api: ${env.TMINUS_SCHEME}://api-staging.${env.TMINUS_DOMAIN}
  email: leak+${gen.uuid}@example.test
cases:
  - name: captured token and planted secret stay hidden
    steps:
      - name: register
        request:
          method: POST
          url: ${api}/v1/auth/register
          json: { email: "${email}", password: "${planted}" }
        expect: { status: 201 }
        capture:
          token: { jsonpath: $.data.access_token, secret: true }
      - name: misuse the token
        request:
          url: ${api}/v1/events?token=${token}&k=${planted}
          headers:
            Authorization: Bearer ${token}
            X-Probe: ${planted}
        expect:
          status: 418
          jsonpath:
            - { path: $.ok, equals: "${token}" }
"#,
    );
    let mut args = vec![
        "run".to_string(),
        s,
        "--verbose".into(),
        "--secret".into(),
        format!("planted={planted}"),
    ];
    for r in dep.resolves() {
        args.push("--resolve".into());
        args.push(r);
    }
    let run = smokegate(&args, &dep.vars()).await;
    dep.shutdown();
    assert_eq!(run.code, 1, "{}", run.stdout);
    let all = run.all_output();
    assert!(!all.contains(planted), "planted secret leaked:\n{all}");
    let jwt = regex::Regex::new(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}").unwrap();
    assert!(!jwt.is_match(&all), "a JWT leaked:\n{all}");
    assert!(run.stdout.contains("token=[REDACTED]"), "{}", run.stdout);
    let step = &run.case("captured token and planted secret stay hidden")["steps"][0];
    assert_eq!(
        step["captures"][0], "token",
        "capture names are reported, values never"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn reports_are_replaced_atomically() {
    let run = run_against(&[], &["c-api-storefront.yaml"], &[]).await;
    let leftovers: Vec<_> = std::fs::read_dir(run.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    assert_eq!(run.json.as_ref().unwrap()["schema_version"], "1.0");
}

/// Issue 11: a report path is written the way its target needs — `-` is standard output (the
/// console then goes to standard error), a symbolic link's target is updated and the link
/// kept, a character device is written through, a FIFO is refused with a reason (never
/// replaced, never waited on), and a new file gets the umask's permissions, not 0600.
#[tokio::test(flavor = "multi_thread")]
async fn report_paths_are_written_as_their_targets_need() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let suite = crate::common::write_suite(
        dir.path(),
        "s.yaml",
        "name: s\ncases:\n  - name: x\n    request: { url: 'http://127.0.0.1:9/' }\n",
    );
    let run = |extra: Vec<String>| {
        let mut a = vec!["run".to_string(), suite.clone()];
        a.extend(extra);
        async move {
            let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_smokegate"));
            cmd.args(&a).env("NO_COLOR", "1").kill_on_drop(true);
            tokio::time::timeout(std::time::Duration::from_secs(30), cmd.output())
                .await
                .expect("no hang")
                .unwrap()
        }
    };
    let p = |x: &std::path::Path| x.display().to_string();
    // `-`: the JSON report alone on stdout.
    let out = run(vec!["--report-json".into(), "-".into()]).await;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is the report");
    assert_eq!(v["verdict"], "failed");
    assert!(String::from_utf8_lossy(&out.stderr).contains("verdict: FAILED"));
    // A symbolic link: its target is written, the link stays.
    let target = dir.path().join("target.json");
    std::fs::write(&target, "old").unwrap();
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    run(vec!["--report-json".into(), p(&link)]).await;
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(&target)
        .unwrap()
        .contains("\"verdict\""));
    // A character device is written through, not replaced.
    let out = run(vec!["--report-json".into(), "/dev/null".into()]).await;
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!std::fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_file());
    // A FIFO is refused at once.
    let fifo = dir.path().join("fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let out = run(vec!["--report-json".into(), p(&fifo)]).await;
    assert!(String::from_utf8_lossy(&out.stderr).contains("is a FIFO, not a regular file"));
    // A new file: 0666 less the umask.
    let umask = std::process::Command::new("sh")
        .args(["-c", "umask"])
        .output()
        .unwrap();
    let umask = u32::from_str_radix(String::from_utf8_lossy(&umask.stdout).trim(), 8).unwrap();
    let fresh = dir.path().join("new.json");
    run(vec!["--report-json".into(), p(&fresh)]).await;
    let mode = std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o666 & !umask, "{mode:o}");
    // A report written again keeps the mode it was given.
    std::fs::set_permissions(&fresh, std::fs::Permissions::from_mode(0o600)).unwrap();
    run(vec!["--report-json".into(), p(&fresh)]).await;
    let mode = std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");
    // `/dev/stdout` redirected to a file with `>>`: appended, earlier content kept (it used
    // to be replaced by the report).
    let log = dir.path().join("build.log");
    std::fs::write(&log, "PREVIOUS\n").unwrap();
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' run '{}' --report-json /dev/stdout >> '{}' 2>/dev/null",
            env!("CARGO_BIN_EXE_smokegate"),
            suite,
            log.display()
        ))
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.starts_with("PREVIOUS\n{"), "{text}");
    // An inherited descriptor (a shell's `>(…)`, here a pipe on fd 3) is written through.
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "'{}' run '{}' --report-json /dev/fd/3 3>&1 >/dev/null 2>/dev/null | wc -c",
            env!("CARGO_BIN_EXE_smokegate"),
            suite
        ))
        .output()
        .unwrap();
    let bytes: usize = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    assert!(bytes > 100, "{bytes} bytes through the pipe");
    // Two reports on stdout would interleave: refused.
    let out = run(vec![
        "--report-json".into(),
        "-".into(),
        "--report-junit".into(),
        "-".into(),
    ])
    .await;
    assert_eq!(out.status.code(), Some(2));
}

/// A report that cannot be written is known before anything is sent: a directory, a folder
/// that takes no new file. Exit 2, the server never asked.
#[test]
fn unwritable_report_paths_are_refused_before_any_request() {
    use std::os::unix::fs::PermissionsExt;
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let h = hits.clone();
    let server = crate::common::loopback_http(8, move |_| {
        h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        ("200 OK", b"ok".to_vec())
    });
    let dir = tempfile::tempdir().unwrap();
    let suite = write_suite(
        dir.path(),
        "s.yaml",
        &format!("name: s\ncases:\n  - name: x\n    request: {{ url: 'http://{server}/' }}\n"),
    );
    let adir = dir.path().join("adir");
    std::fs::create_dir(&adir).unwrap();
    // Read-only for everyone; root writes anyway, so a folder under a regular file stands in
    // for it there (no folder can be made).
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "x").unwrap();
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    let as_root = unsafe { libc::geteuid() } == 0;
    let unwritable = if as_root {
        blocker.join("sub/r.xml")
    } else {
        ro.join("r.xml")
    };
    for (flag, path, says) in [
        (
            "--report-json",
            adir.clone(),
            "it is a directory, not a regular file",
        ),
        ("--report-junit", unwritable.clone(), "cannot write report"),
        (
            "--report-html",
            adir.clone(),
            "it is a directory, not a regular file",
        ),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_smokegate"))
            .args(["run", &suite, flag])
            .arg(&path)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{flag} {}: {err}",
            path.display()
        );
        assert!(err.contains(says), "{flag}: {err}");
        assert!(
            !err.contains(".smokegate-"),
            "no temporary file named: {err}"
        );
    }
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "nothing sent"
    );
    assert_eq!(
        std::fs::read_dir(&ro).unwrap().count(),
        0,
        "nothing left behind"
    );
    assert_eq!(
        std::fs::read_dir(&adir).unwrap().count(),
        0,
        "nothing left behind"
    );
}
