//! The published JSON Schema of the suite format agrees with the parser: every bundled suite
//! and a suite using every field validate; an unknown field is rejected by both.

use serde_json::Value;

use crate::common::root;

fn suite_schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("schemas/suite.schema.json")).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).expect("suite schema compiles")
}

fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

const EVERYTHING: &str = r#"
name: every-field
description: uses every field
tags: [t]
vars: { base: "http://127.0.0.1:9" }
secrets: [base]
default_profile: staging
profiles:
  staging:
    vars: { suffix: "-staging" }
    resolve: ["api.example.test:443:127.0.0.1"]
    fallback_resolve: ["api.example.test:443:127.0.0.1"]
    connect_to: ["api.example.test:443:localhost:8443"]
    dns_servers: ["127.0.0.1:5353"]
defaults:
  headers: { accept: application/json }
  timeout: 10s
  retry: { attempts: 2, interval: 100ms, backoff: 2 }
cases:
  - name: single
    severity: warning
    matrix: { svc: [a, b] }
    request:
      method: POST
      url: ${base}/${svc}
      headers: { x-a: b }
      query: { q: "1" }
      json: { a: 1 }
      timeout: 2s
      follow_redirects: 3
    expect:
      message: broken
      status: [200, "2xx"]
      headers:
        content-type: { matches: json, present: true }
        x-b: exact
      body: { contains: [a], not_contains: [b], matches: "c", json: true }
      jsonpath:
        - { path: $.a, equals: 1, message: m }
        - { path: $.b, one_of: [1, 2], type: integer, gte: 1, lt: 3 }
        - { path: "$.c[*]", count: 2, min_count: 1 }
      schema: { inline: { type: object }, message: m }
      max_latency: 500ms
      tls: { min_days_valid: 14, covers_host: true, protocol: TLSv1.3, http_version: HTTP/2 }
    capture:
      tok: { jsonpath: $.token, secret: true }
    wait_until: { timeout: 1m, interval: 5s }
  - name: steps
    needs: [single]
    steps:
      - name: one
        request: { url: "${base}/x", form: { a: b } }
        expect: { status: 200 }
        capture: { h: { header: x-h }, r: { regex: "id=(\\d+)" } }
        retry: { attempts: 3 }
  - name: assertions
    request: { url: "${base}/a" }
    expect:
      status: { not: [500, "5xx"], not_in: [404] }
      headers:
        set-cookie: { count: { gte: 1 }, nth: 0, any: { matches: "^a=" }, all: { length: { lte: 4096 } }, none: { contains: secret }, severity: warning }
        x-n: { not_equals: 0, one_of: ["1", 2, true], gt: 0, gte: 1, lt: 10, lte: "${base}", length: 1, date: any, newer_than: 1h, older_than: 1s, before: "2100-01-01", after: "2000-01-01", not: { equals: "3" } }
        x-m: { equals: 5, contains: a, matches: a, present: true, absent: false }
        x-number: 5
      jsonpath:
        - path: "$.items[*]"
          contains: 1
          length: { gte: 1 }
          date: rfc3339
          newer_than: 10m
          older_than: 30d
          before: "${gen.timestamp}"
          after: "2020-01-01T00:00:00Z"
          not: { equals: 2, not_equals: 3, one_of: [1], matches: x, contains: y, type: string, gt: 1, gte: 1, lt: 1, lte: 1, length: 2, date: unix, newer_than: 1d, older_than: 1w, before: "2030-01-01", after: "2020-01-01", not: { equals: 1 } }
          any: { equals: 1 }
          all: { type: integer }
          none: { equals: null }
          nth: -1
          count: { gte: 1, lte: 5 }
          severity: warning
        - { path: $.n, date: unix_ms }
        - { path: $.n, date: date }
        - { path: $.n, date: http }
        - { path: $.n, date: unix }
      schema: { inline: { type: object }, severity: warning }
      warn: { status: 201, max_latency: 300ms, headers: { x-a: b }, body: { contains: [x] }, jsonpath: [ { path: $.a } ] }
    capture:
      sid: { header: set-cookie, regex: "sid=([^;]+)" }
  - name: dns
    dns:
      name: api.example.test
      type: A
      server: 127.0.0.1:5353
      expect: { addresses_in: [127.0.0.1], cidr: 127.0.0.0/8 }
"#;

#[test]
fn bundled_suites_validate_against_the_suite_schema() {
    let v = suite_schema();
    for entry in std::fs::read_dir(root().join("suites")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let doc: Value = serde_saphyr::from_str(&text).unwrap();
        let errs = errors(&v, &doc);
        assert!(errs.is_empty(), "{}: {errs:#?}", path.display());
    }
}

#[test]
fn schema_and_parser_agree_on_every_field() {
    let v = suite_schema();
    let doc: Value = serde_saphyr::from_str(EVERYTHING).unwrap();
    assert!(errors(&v, &doc).is_empty(), "{:#?}", errors(&v, &doc));
    smokegate::suite::load::parse_suite(std::path::Path::new("every.yaml"), EVERYTHING.into())
        .expect("the parser accepts every field the schema documents");
    let bad = EVERYTHING.replace("max_latency: 500ms", "max_latencyy: 500ms");
    let doc: Value = serde_saphyr::from_str(&bad).unwrap();
    assert!(
        !errors(&v, &doc).is_empty(),
        "schema rejects unknown fields"
    );
    assert!(smokegate::suite::load::parse_suite(std::path::Path::new("every.yaml"), bad).is_err());
    // Every new assertion key is known to both, and a misspelt one is refused by both.
    for (good, typo) in [
        ("newer_than: 10m", "newer_thn: 10m"),
        ("not_in: [404]", "not_inn: [404]"),
        ("nth: -1", "nht: -1"),
        ("any: { equals: 1 }", "any: { equal: 1 }"),
        ("none: { contains: secret }", "none: { contain: secret }"),
        ("older_than: 1w", "older_than: 1y"),
        ("date: rfc3339", "date: iso"),
        ("warn: { status: 201,", "warn: { statuss: 201,"),
        ("count: { gte: 1, lte: 5 }", "count: { atleast: 1 }"),
        ("severity: warning }", "severity: warn }"),
        (
            "{ inline: { type: object }, severity: warning }",
            "{ inline: { type: object }, severity: low }",
        ),
    ] {
        assert!(EVERYTHING.contains(good), "{good}");
        let bad = EVERYTHING.replacen(good, typo, 1);
        let doc: Value = serde_saphyr::from_str(&bad).unwrap();
        assert!(!errors(&v, &doc).is_empty(), "schema accepts `{typo}`");
        assert!(
            smokegate::suite::load::parse_suite(std::path::Path::new("every.yaml"), bad).is_err(),
            "parser accepts `{typo}`"
        );
    }
}

/// Every suite snippet of README.md and docs/ validates (issue 10, item 12): whole suites
/// (`name:` and `cases:`), `cases:` lists and lists of cases (given a suite around them).
/// Fragments of one case or of a profile are not suites and are not checked here. A schema
/// named relative to the bundled suites resolves as it would in `suites/`; lists of cases
/// may use `${api}`, which the suite around them defines.
#[test]
fn every_suite_snippet_in_the_docs_validates() {
    let docs = ["README.md", "docs/suite-format.md", "docs/dns-and-tls.md"];
    let fence = regex::Regex::new(r"(?s)```ya?ml\n(.*?)```").unwrap();
    let work = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(root().join("schemas"), work.path().join("schemas")).unwrap();
    std::fs::create_dir(work.path().join("suites")).unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for doc in docs {
        let text = std::fs::read_to_string(root().join(doc)).unwrap();
        for (k, m) in fence.captures_iter(&text).enumerate() {
            let block = &m[1];
            let first = block
                .lines()
                .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
                .unwrap_or("");
            let has = |key: &str| block.lines().any(|l| l.starts_with(key));
            let suite = if has("name:") && has("cases:") {
                block.to_string()
            } else if first.starts_with("cases:") {
                format!("name: snippet\nvars: {{ api: \"https://api.example.test\" }}\n{block}")
            } else if first.trim_start().starts_with("- name:") {
                format!(
                    "name: snippet\nvars: {{ api: \"https://api.example.test\" }}\ncases:\n{block}"
                )
            } else {
                continue;
            };
            let path = work.path().join("suites").join(format!("s{checked}.yaml"));
            std::fs::write(&path, &suite).unwrap();
            checked += 1;
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_smokegate"))
                .arg("validate")
                .arg(&path)
                .env("NO_COLOR", "1")
                .output()
                .unwrap();
            if !out.status.success() {
                failures.push(format!(
                    "{doc}, yaml block {}:\n{}\n{}",
                    k + 1,
                    suite,
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
    }
    assert!(checked >= 5, "only {checked} snippets found");
    assert!(failures.is_empty(), "{}", failures.join("\n----\n"));
}

/// A suite given by a bare file name (relative folder) can use an inline schema.
#[test]
fn an_inline_schema_works_in_a_suite_named_without_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("inline.yaml"),
        "name: s\ncases:\n  - name: a\n    request: { url: 'http://127.0.0.1:9/' }\n    expect: { schema: { inline: { type: object } } }\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_smokegate"))
        .args(["validate", "inline.yaml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Shell completions and the manual page come from the clap definitions: every subcommand
/// and option is in them, and the bash script parses.
#[test]
fn completions_and_man_page_cover_every_subcommand() {
    let bin = env!("CARGO_BIN_EXE_smokegate");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(bin).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = run(&["completions", shell]);
        for word in ["run", "validate", "merge", "report-json", "dns-server"] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
    }
    let bash = run(&["completions", "bash"]);
    let mut check = std::process::Command::new("bash")
        .arg("-n")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    check
        .stdin
        .take()
        .unwrap()
        .write_all(bash.as_bytes())
        .unwrap();
    assert!(
        check.wait().unwrap().success(),
        "bash cannot parse its completions"
    );
    let man = run(&["man"]);
    for page in [
        "smokegate 1",
        "smokegate-run 1",
        "smokegate-validate 1",
        "smokegate-merge 1",
    ] {
        assert!(man.contains(&format!(".TH {page}")), "no page {page}");
    }
    assert!(man.contains("connect\\-timeout"), "options are documented");
}

/// Issue 13 (facts about the connection, the certificate and DNS): every new key, in each of
/// its forms.
const FACTS: &str = r#"
name: every-fact
cases:
  - name: tls details
    request: { url: "https://api.example.test/" }
    expect:
      tls:
        subject: "CN=api.example.test"
        issuer: { equals: "CN=CA", contains: CA, matches: "^CN=", cn: { matches: "^C" }, o: Example }
        san: { contains: api.example.test, equals: [api.example.test, 127.0.0.1] }
        serial: "10:00"
        fingerprint_sha256: ["AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"]
        not_before: { before: "2030-01-01" }
        not_after: { after: "2020-01-01T00:00:00Z", before: "2040-01-01" }
  - name: tls one pin
    request: { url: "https://api.example.test/" }
    expect:
      tls:
        subject: { cn: api.example.test }
        san: { contains: [a.example.test, b.example.test] }
        fingerprint_sha256: abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789
  - name: connection
    request: { url: "http://api.example.test/" }
    expect:
      connection: { ip: 127.0.0.1, ip_in: [127.0.0.0/8, "::1"], port: 80, http_version: HTTP/1.1 }
  - name: connection lists
    request: { url: "http://api.example.test/" }
    expect:
      connection: { ip: [127.0.0.1, "::1"], ip_in: 127.0.0.0/8 }
  - name: txt
    dns:
      name: example.test
      type: TXT
      expect: { txt: [{ contains: "v=spf1", matches: "-all$" }, "verify=abc", { equals: x }] }
  - name: txt one
    dns: { name: example.test, type: TXT, expect: { txt: { contains: "v=spf1" } } }
  - name: mx
    dns: { name: example.test, type: MX, expect: { mx: [{ exchange: mx.example.test, preference: 10 }, { preference: 20 }] } }
  - name: mx one
    dns: { name: example.test, type: MX, expect: { mx: { exchange: mx.example.test } } }
  - name: reachable
    dns: { name: api.example.test, expect: { reachable: { port: 443, timeout: 2s } } }
"#;

#[test]
fn schema_and_parser_agree_on_connection_certificate_and_dns_facts() {
    let v = suite_schema();
    let path = std::path::Path::new("facts.yaml");
    let doc: Value = serde_saphyr::from_str(FACTS).unwrap();
    assert!(errors(&v, &doc).is_empty(), "{:#?}", errors(&v, &doc));
    // Parsed and compiled: some rules (an empty block) are rejected when the plan is built.
    let accepts = |text: &str| {
        let loaded = smokegate::suite::load::parse_suite(path, text.to_string())
            .map_err(|e| format!("{e:?}"))?;
        smokegate::plan::build(&[loaded], &smokegate::plan::PlanOptions::default())
            .map(|_| ())
            .map_err(|e| format!("{e:?}"))
    };
    if let Err(e) = accepts(FACTS) {
        panic!("the parser accepts every fact the schema documents: {e}");
    }
    // An unknown key inside each new block, and an empty block, are rejected by both.
    for (from, to) in [
        ("serial: \"10:00\"", "serial: \"10:00\"\n        seriall: x"),
        ("o: Example }", "o: Example, ou: x }"),
        ("{ contains: [a.example.test", "{ containz: [a.example.test"),
        ("not_before: { before:", "not_before: { befor:"),
        ("port: 80,", "port: 80, host: x,"),
        ("{ contains: \"v=spf1\" }", "{ contain: \"v=spf1\" }"),
        ("{ preference: 20 }", "{ preference: 20, weight: 1 }"),
        ("port: 443, timeout: 2s", "port: 443, timeout: 2s, tries: 2"),
        ("{ preference: 20 }", "{}"),
        ("ip: [127.0.0.1, \"::1\"], ip_in: 127.0.0.0/8", ""),
        ("port: 80,", "port: 0,"),
        ("port: 443, timeout", "port: 0, timeout"),
    ] {
        assert!(FACTS.contains(from), "{from}");
        let bad = FACTS.replacen(from, to, 1);
        let doc: Value = serde_saphyr::from_str(&bad).unwrap();
        assert!(
            !errors(&v, &doc).is_empty(),
            "the schema rejects `{to}` (for `{from}`)"
        );
        assert!(
            accepts(&bad).is_err(),
            "the parser rejects `{to}` (for `{from}`)"
        );
    }
}

/// Request and body keys of issue 12/13 (decoding, whole-body checks, request bodies): the
/// schema and the parser accept them, and both reject a misspelt one.
const BYTES: &str = r#"
name: bytes
cases:
  - name: raw
    request:
      url: http://127.0.0.1:9/
      decompress: false
    expect:
      body:
        matches: ["^a", "b$"]
        equals: "text ${x}"
        json_equals: { a: [1, 2.0], b: null }
        size: { min: 1, max: 10 }
        sha256: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        md5: 900150983cd24fb0d6963f7d28e17f72
        raw: true
  - name: repeated
    request:
      url: http://127.0.0.1:9/
      method: PURGE
      headers: { X-A: [one, 2], X-B: single }
      query: { tag: [a, b], page: 1 }
      form: { x: ["1", "2"], y: z }
  - name: multipart
    request:
      method: POST
      url: http://127.0.0.1:9/
      multipart:
        title: text
        tags: [a, b]
        upload: { file: bytes.yaml, filename: x.yaml, content_type: application/yaml }
        more: [{ file: bytes.yaml }, text]
  - name: body file
    request: { url: http://127.0.0.1:9/, body_file: bytes.yaml }
  - name: files
    request: { url: http://127.0.0.1:9/ }
    expect:
      body: { equals_file: bytes.yaml, json_equals_file: doc.json, size: 3, matches: one }
"#;

#[test]
fn schema_and_parser_agree_on_request_and_body_bytes_keys() {
    let v = suite_schema();
    let doc: Value = serde_saphyr::from_str(BYTES).unwrap();
    assert!(errors(&v, &doc).is_empty(), "{:#?}", errors(&v, &doc));
    smokegate::suite::load::parse_suite(std::path::Path::new("bytes.yaml"), BYTES.into())
        .expect("the parser accepts every field the schema documents");
    for (good, bad) in [
        ("decompress:", "decompres:"),
        ("equals:", "equal:"),
        ("json_equals:", "json_equal:"),
        ("json_equals_file:", "json_file:"),
        ("equals_file:", "file:"),
        ("max: 10", "most: 10"),
        ("size: 3", "size: -3"),
        ("sha256:", "sha265:"),
        ("md5:", "md4:"),
        ("raw:", "raws:"),
        ("matches: one", "matches: { a: 1 }"),
        ("filename:", "file_name:"),
        ("content_type:", "type:"),
        ("body_file:", "bodyfile:"),
        ("page: 1", "page: { a: 1 }"),
        ("tags: [a, b]", "tags: [[a]]"),
    ] {
        let text = BYTES.replacen(good, bad, 1);
        let doc: Value = serde_saphyr::from_str(&text).unwrap();
        assert!(!errors(&v, &doc).is_empty(), "schema rejects `{bad}`");
        assert!(
            smokegate::suite::load::parse_suite(std::path::Path::new("bytes.yaml"), text).is_err(),
            "parser rejects `{bad}`"
        );
    }
}

/// Issue 15 (sampling a check): `samples` and `expect_samples` in each form; the schema and
/// the parser (with the plan) accept them and reject the same mistakes.
const SAMPLES: &str = r#"
name: sampled
cases:
  - name: by count
    request: { url: "http://api.example.test/" }
    expect: { status: 200 }
    samples: { count: 50, concurrency: 5 }
    expect_samples: { p50: 100ms, p90: 200ms, p95: 500ms, p99: 1s, max: 2s, failure_rate: "< 1%", consecutive_failures: 3 }
  - name: by duration
    request: { url: "http://api.example.test/" }
    samples: { duration: 2m, every: 5s }
    expect_samples: { failure_rate: 0.01 }
  - name: paced count
    request: { url: "http://api.example.test/" }
    samples: { count: 10, every: 100ms }
    expect_samples: { failure_rate: "<= 0.5%" }
  - name: sampled flow
    steps:
      - name: log in
        request: { url: "http://api.example.test/login" }
        capture: { token: { jsonpath: $.token, secret: true } }
      - name: call
        request: { url: "http://api.example.test/me", auth: { bearer: "${token}" } }
    samples: { count: 20, concurrency: 4 }
    expect_samples: { p95: 1s }
"#;

#[test]
fn schema_and_parser_agree_on_samples() {
    let v = suite_schema();
    let path = std::path::Path::new("samples.yaml");
    let doc: Value = serde_saphyr::from_str(SAMPLES).unwrap();
    assert!(errors(&v, &doc).is_empty(), "{:#?}", errors(&v, &doc));
    let accepts = |text: &str| {
        let loaded = smokegate::suite::load::parse_suite(path, text.to_string())
            .map_err(|e| format!("{e:?}"))?;
        smokegate::plan::build(&[loaded], &smokegate::plan::PlanOptions::default())
            .map(|_| ())
            .map_err(|e| format!("{e:?}"))
    };
    if let Err(e) = accepts(SAMPLES) {
        panic!("the parser accepts every sampling form the schema documents: {e}");
    }
    for (from, to) in [
        ("count: 50, concurrency: 5", "count: 50, concurency: 5"),
        ("count: 50, concurrency: 5", "count: 10001"),
        ("count: 50, concurrency: 5", "count: 50, concurrency: 101"),
        ("count: 50, concurrency: 5", "count: 0"),
        (
            "count: 50, concurrency: 5",
            "count: 5, duration: 1m, every: 1s",
        ),
        ("{ duration: 2m, every: 5s }", "{ duration: 2m }"),
        ("{ duration: 2m, every: 5s }", "{ every: 5s }"),
        ("p50: 100ms,", "p75: 100ms,"),
        ("p50: 100ms,", "p50: 100,"),
        ("failure_rate: \"< 1%\"", "failure_rate: \"few\""),
        ("failure_rate: 0.01", "failure_rate: 2"),
        ("consecutive_failures: 3", "consecutive_failures: 0"),
    ] {
        assert!(SAMPLES.contains(from), "{from}");
        let bad = SAMPLES.replacen(from, to, 1);
        let doc: Value = serde_saphyr::from_str(&bad).unwrap();
        assert!(
            !errors(&v, &doc).is_empty(),
            "the schema rejects `{to}` (for `{from}`)"
        );
        assert!(
            accepts(&bad).is_err(),
            "the parser rejects `{to}` (for `{from}`)"
        );
    }
}
