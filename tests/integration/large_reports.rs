//! A generated run of many checks written alike (the shape that shares compiled steps and
//! sets report text aside on disk): the JSON and JUnit reports are whole, valid, in report
//! order, agree with each other, and every check's lines are its own.

use crate::common::{loopback_http, smokegate, write_suite, xmllint};

/// Cases per file, and how many of each file fail (every third).
const PER_FILE: usize = 150;
/// Lines each generated case takes (see `case_text`).
const CASE_LINES: usize = 6;

/// A loopback server for `max` requests: `/bad` answers 500 `{"ok":false}`, anything else
/// 200 `{"ok":true}`.
fn ok_and_bad(max: usize) -> std::net::SocketAddr {
    loopback_http(max, |req| {
        if req.starts_with("GET /bad") {
            ("500 Internal Server Error", b"{\"ok\":false}".to_vec())
        } else {
            ("200 OK", b"{\"ok\":true}".to_vec())
        }
    })
}

/// Run `args` as on GitHub Actions with the step summary at `summary`; the run must fail.
/// The run and the summary it wrote.
async fn failing_run_on_github(
    args: &[String],
    summary: &std::path::Path,
) -> (crate::common::Run, String) {
    let env = [
        ("GITHUB_ACTIONS".to_string(), "true".to_string()),
        (
            "GITHUB_STEP_SUMMARY".to_string(),
            summary.display().to_string(),
        ),
    ];
    let run = smokegate(args, &env).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let md = std::fs::read_to_string(summary).unwrap();
    (run, md)
}

/// One case: `/ok` answers 200 and `/bad` 500, and every case expects 200.
fn case_text(name: &str, path: &str) -> String {
    format!(
        "  - name: {name}\n    request:\n      url: \"http://127.0.0.1:${{port}}/{path}\"\n    expect:\n      status: 200\n      jsonpath: [{{path: $.ok, equals: true}}]\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn many_checks_written_alike_give_whole_reports_with_their_own_lines() {
    let addr = ok_and_bad(4 * PER_FILE);
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    // Written in reverse name order, so report order (file, line) is not name order.
    for (f, suite) in ["b", "a"].iter().enumerate() {
        let mut text = format!("name: gen-{suite}\ncases:\n");
        for k in 0..PER_FILE {
            let path = if k % 3 == 2 { "bad" } else { "ok" };
            text.push_str(&case_text(&format!("c{:03}", PER_FILE - k), path));
        }
        files.push(write_suite(dir.path(), &format!("{f}-{suite}.yaml"), &text));
    }
    let mut args = vec!["run".to_string()];
    args.extend(files.iter().cloned());
    args.extend(["--var", &format!("port={}", addr.port()), "--jobs", "16"].map(String::from));
    let run = smokegate(&args, &[]).await;
    assert_eq!(run.code, 1, "{}", run.stdout);

    let json = run.json.as_ref().expect("JSON report");
    let cases = json["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2 * PER_FILE);
    let failing = PER_FILE / 3;
    assert_eq!(json["counts"]["failed"], 2 * failing);
    let mut names = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let (f, k) = (i / PER_FILE, i % PER_FILE);
        // In report order: file, then line.
        assert!(c["suite_file"]
            .as_str()
            .unwrap()
            .ends_with(&format!("{f}-{}.yaml", ["b", "a"][f])));
        let line = 3 + (k * CASE_LINES) as u64;
        assert_eq!(c["line"], line, "{c}");
        assert_eq!(c["name"], format!("c{:03}", PER_FILE - k));
        let step = &c["steps"][0];
        assert_eq!(step["name"], c["name"]);
        assert_eq!(step["line"], line + 2, "the step's request: {c}");
        let ex = step["expectations"].as_array().unwrap();
        assert_eq!(ex[0]["kind"], "status");
        assert_eq!(ex[0]["line"], line + 4, "status: {c}");
        let bad = k % 3 == 2;
        assert_eq!(c["status"], if bad { "failed" } else { "passed" }, "{c}");
        if !bad {
            assert_eq!(ex[1]["line"], line + 5, "jsonpath: {c}");
        }
        names.push(c["name"].as_str().unwrap().to_string());
    }

    xmllint(&run.junit_path);
    let xml = run.junit.as_ref().unwrap();
    assert_eq!(xml.matches("<testcase ").count(), 2 * PER_FILE);
    for suite in ["gen-a", "gen-b"] {
        let tag = format!("<testsuite name=\"{suite}\" tests=\"{PER_FILE}\" skipped=\"0\" errors=\"0\" failures=\"{failing}\"");
        assert_eq!(xml.matches(&tag).count(), 1, "{suite}");
    }
    // The same cases in the same order, each at its own line.
    let shown: Vec<(String, String)> = xml
        .split("<testcase name=\"")
        .skip(1)
        .map(|t| {
            let name = t[..t.find('"').unwrap()].to_string();
            let l = t.find(" line=\"").unwrap() + 7;
            (name, t[l..l + t[l..].find('"').unwrap()].to_string())
        })
        .collect();
    let expected: Vec<(String, String)> = cases
        .iter()
        .map(|c| (c["name"].as_str().unwrap().into(), c["line"].to_string()))
        .collect();
    assert_eq!(shown, expected);
    assert_eq!(names.len(), shown.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_html_report_of_many_checks_is_whole_and_a_full_disk_is_an_error() {
    // Passing checks are kept as their row only; the page is written as it is made.
    let addr = ok_and_bad(2 * PER_FILE);
    let dir = tempfile::tempdir().unwrap();
    let mut text = "name: gen\ncases:\n".to_string();
    for k in 0..PER_FILE {
        let path = if k % 3 == 2 { "bad" } else { "ok" };
        text.push_str(&case_text(&format!("c{k:03}"), path));
    }
    let suite = write_suite(dir.path(), "gen.yaml", &text);
    let html = dir.path().join("report.html");
    let args = |out: &str| -> Vec<String> {
        [
            "run",
            &suite,
            "--var",
            &format!("port={}", addr.port()),
            "--jobs",
            "8",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain(["--report-html".to_string(), out.to_string()])
        .collect()
    };
    let run = smokegate(&args(&html.display().to_string()), &[]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.ends_with("</body></html>\n"),
        "{}",
        &page[page.len() - 200..]
    );
    assert_eq!(page.matches("<tr data-status=").count(), PER_FILE);
    assert_eq!(page.matches("<div class=\"row bar ").count(), PER_FILE);
    let failing = PER_FILE / 3;
    assert_eq!(page.matches("<tr data-status=\"failed\"").count(), failing);
    assert_eq!(page.matches("<details id=\"case-").count(), failing);
    // A passing row keeps its place and line; a failing one its reason.
    assert!(
        page.contains("<td data-label=\"check\">c000</td>"),
        "row of c000"
    );
    assert!(
        page.contains(&format!("gen.yaml:{}</td>", 3 + CASE_LINES)),
        "line of c001"
    );
    assert!(page.contains("expected status 200"), "a failure's reason");

    // The page (tens of kilobytes here) does not fit: the run says the report was not written
    // (its failed checks still decide the exit code).
    let run = smokegate(&args("/dev/full"), &[]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot write HTML report /dev/full") && run.stderr.contains("space"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_github_step_summary_of_many_failures_stays_under_githubs_limit() {
    // GitHub refuses a step summary over 1 MiB: each table lists 200 rows and counts the rest.
    let n = 230;
    let addr = loopback_http(n, |_| ("500 Internal Server Error", b"{}".to_vec()));
    let dir = tempfile::tempdir().unwrap();
    let mut text = "name: gen\ncases:\n".to_string();
    for k in 0..n {
        text.push_str(&case_text(&format!("c{k:03}-{}", "x".repeat(900)), "bad"));
    }
    let suite = write_suite(dir.path(), "gen.yaml", &text);
    let summary = dir.path().join("summary.md");
    let args: Vec<String> = ["run", &suite, "--var", &format!("port={}", addr.port())]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let (run, md) = failing_run_on_github(&args, &summary).await;
    assert!(md.len() < 1_000_000, "{} bytes", md.len());
    assert!(md.contains("… and 30 more (every check is in the JSON and JUnit reports)"));
    // The failing checks in report order: the first 200 listed, the rest counted.
    let failing = md.split("### Failing checks").nth(1).unwrap();
    let failing = &failing[..failing.find("… and").unwrap()];
    let rows: Vec<&str> = failing
        .lines()
        .filter(|l| l.starts_with("| gen › "))
        .collect();
    assert_eq!(rows.len(), 200);
    assert!(rows[0].starts_with("| gen › c000-") && rows[199].starts_with("| gen › c199-"));
    // The timings too (slowest first): 200 rows.
    let timings = md.split("Timings (slowest first)").nth(1).unwrap();
    assert_eq!(
        timings
            .lines()
            .filter(|l| l.starts_with("| gen › "))
            .count(),
        200
    );
    assert_eq!(
        run.json.as_ref().unwrap()["cases"]
            .as_array()
            .unwrap()
            .len(),
        n
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secret_in_a_check_name_is_redacted_in_the_step_summary_before_cells_are_cut() {
    // Table cells are cut to 200 characters and their whitespace joined: redacting the whole
    // summary afterwards missed a secret across the cut, or one holding two spaces.
    let addr = ok_and_bad(4);
    let dir = tempfile::tempdir().unwrap();
    let long = "x".repeat(190);
    let text = format!(
        "name: sm\ncases:\n  - name: \"{long} ${{k}} ${{tok}}\"\n    matrix: {{k: [a]}}\n    request: {{url: \"http://127.0.0.1:${{port}}/bad\"}}\n  - name: \"sp ${{tok2}} ${{k}}\"\n    matrix: {{k: [d]}}\n    request: {{url: \"http://127.0.0.1:${{port}}/bad\"}}\n"
    );
    let suite = write_suite(dir.path(), "sm.yaml", &text);
    let summary = dir.path().join("summary.md");
    let args: Vec<String> = [
        "run",
        &suite,
        "--var",
        &format!("port={}", addr.port()),
        "--secret",
        "tok=TOPSECRETVALUE99",
        "--secret",
        "tok2=two  spaces_pw",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (_, md) = failing_run_on_github(&args, &summary).await;
    for part in ["TOPSECRET", "two spaces", "spaces_pw", "spaces\\_pw"] {
        assert!(!md.contains(part), "{part} in the summary:\n{md}");
    }
    assert!(md.contains(r"sp \[REDACTED\] d"), "{md}");
}
