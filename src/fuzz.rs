//! A stable-Rust fuzzing harness (no nightly, no extra crate): seeded mutation of real inputs,
//! run for a bounded number of cases in `cargo test`, and for as many as asked with
//! `SMOKEGATE_FUZZ_CASES=200000 cargo test --release --lib fuzz -- --nocapture` (the seed is
//! printed; `SMOKEGATE_FUZZ_SEED=N` replays a run). Targets:
//!
//! - the suite loader and planner (mutated bundled suites): never a panic, always a plan or
//!   located diagnostics;
//! - the template engine (token soup): parse and render never panic;
//! - expectations evaluated on arbitrary responses (status, headers, bodies, invalid UTF-8),
//!   then sanitized as the runner does: never a panic;
//! - the redactor: a secret hidden in any derived form, anywhere in server text, never
//!   survives [`crate::text::outside`] or a body excerpt;
//! - `merge` of mutated shard reports: never a panic, always a merge or an error.
//!
//! Inputs that once crashed are kept in `tests/fuzz-corpus/` and replayed by
//! [`corpus_replays_without_panics`].

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use crate::interp::{Scope, Template};
use crate::plan::{Action, PlanOptions, Planner};
use crate::redact::Redactor;

/// xorshift64*: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn cases() -> usize {
    std::env::var("SMOKEGATE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

fn rng(target: &str) -> Rng {
    let seed = std::env::var("SMOKEGATE_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5EED_0000_0000_0001 ^ target.len() as u64);
    eprintln!("fuzz {target}: seed {seed}, {} cases", cases());
    Rng(seed | 1)
}

/// Fragments that matter to the formats involved.
const TOKENS: &[&str] = &[
    "${",
    "}",
    "${env.X}",
    "${env.X:-d}",
    "${gen.uuid}",
    "$${",
    "${a}",
    "${a.b}",
    "[?(@.a",
    ")]",
    "$.",
    "[*]",
    "..",
    "{",
    "[",
    ":",
    ",",
    "- ",
    "\n",
    "\n  ",
    "\n    ",
    "'",
    "\"",
    "\\",
    "#",
    "&a",
    "*a",
    "!!str",
    "~",
    "null",
    "1e400",
    "-0",
    "18446744073709551616",
    "\u{0}",
    "\u{1b}[2J",
    "\u{202e}",
    "\u{fffe}",
    "é",
    "😀",
    "::error::x",
    "##[",
    "%",
    "%00",
    "..",
    "matrix:",
    "needs:",
    "steps:",
    "request:",
    "url:",
    "http://127.0.0.1:9/",
    "expect:",
    "jsonpath:",
    "path:",
    "status:",
    "retry:",
    "wait_until:",
    "10s",
    "0ms",
    "999999h",
    "secrets:",
    "vars:",
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut s: Vec<char> = text.chars().collect();
    for _ in 0..1 + rng.below(6) {
        let at = rng.below(s.len() + 1);
        match rng.below(5) {
            0 => s.splice(at..at, rng.pick(TOKENS).chars()).for_each(drop),
            1 if !s.is_empty() => {
                let end = (at + rng.below(40)).min(s.len());
                let at = at.min(end);
                s.drain(at..end);
            }
            2 if !s.is_empty() => {
                let end = (at + rng.below(80)).min(s.len());
                let at = at.min(end);
                let copy: Vec<char> = s[at..end].to_vec();
                let to = rng.below(s.len() + 1);
                s.splice(to..to, copy).for_each(drop);
            }
            3 if at < s.len() => s[at] = char::from_u32(rng.below(0x3000) as u32).unwrap_or('?'),
            _ => s.splice(at..at, rng.pick(TOKENS).chars()).for_each(drop),
        }
    }
    s.into_iter().collect()
}

/// Run `f`; a panic fails the test with the input that caused it.
fn no_panic(target: &str, input: &str, f: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(f)).is_err() {
        panic!("fuzz {target}: panic on input:\n{input:?}");
    }
}

fn seeds() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites");
    let mut out: Vec<String> = std::fs::read_dir(&dir)
        .map(|d| {
            d.flatten()
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Load and plan one suite text; what happens is fine, a panic is not.
fn plan_text(text: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites");
    let path = dir.join("fuzzed.yaml");
    let opts = PlanOptions {
        allow_missing_env: true,
        ..PlanOptions::default()
    };
    if let Ok(suite) = crate::suite::load::parse_suite(&path, text.to_string()) {
        let mut planner = Planner::new(&opts);
        planner.add(&suite);
        let _ = planner.finish();
    }
}

#[test]
fn fuzz_suite_loader_and_planner() {
    let seeds = seeds();
    assert!(!seeds.is_empty(), "bundled suites are the seeds");
    let mut rng = rng("suites");
    for _ in 0..cases() {
        let seed = rng.pick(&seeds).clone();
        let text = mutate(&mut rng, &seed);
        no_panic("suites", &text, || plan_text(&text));
    }
}

#[test]
fn fuzz_templates() {
    let mut rng = rng("templates");
    let mut scope = Scope::default();
    scope.set("a", serde_json::json!("x${b}"));
    scope.set("a.b", serde_json::json!({"k": [1, 2]}));
    for _ in 0..cases() {
        let text: String = (0..rng.below(12)).map(|_| *rng.pick(TOKENS)).collect();
        let text = mutate(&mut rng, &text);
        no_panic("templates", &text, || {
            if let Ok(t) = Template::parse(&text) {
                let _ = t.render(&scope);
                let _ = t.eval(&scope);
            }
            let _ = crate::interp::JsonTemplate::compile(
                &serde_json::json!({ "k": text, "l": [text] }),
            );
        });
    }
}

/// A suite with every kind of response expectation.
const EXPECTING: &str = r#"name: x
cases:
  - name: all
    request: { url: "http://127.0.0.1:9/" }
    expect:
      status: [200, 201, "2xx"]
      max_latency: 5s
      headers: { content-type: { contains: json }, x-a: { matches: "^[a-z]+$" } }
      body: { contains: ["ok"], not_contains: ["error"], matches: "o.", json: true }
      jsonpath:
        - { path: "$.data.items[*].id", count: 2 }
        - { path: "$..n", gt: 1, lte: "99999999999999999999" }
        - { path: $.a, one_of: [1, "x", null, {k: 1.5}] }
        - { path: "$.b[?@.c > 1]", exists: true }
        - { path: $.t, type: integer }
        - { path: $.s, matches: "^a" }
        - { path: "$..*", any: { newer_than: 10m }, none: { date: rfc3339, before: "2000-01-01" }, nth: -1, length: { gte: 0 } }
        - { path: "$..n", all: { not: { older_than: 36500d, after: "1970-01-01" } }, count: { lte: 9 } }
        - { path: "$..*", contains: "a", severity: warning, not: { length: { gt: 3 }, type: string } }
        - { path: "$..*", date: unix_ms, older_than: 1s }
        - { path: "$..*", date: http, newer_than: 1d }
      schema: { inline: { type: object, required: [ok], properties: { d: { format: date-time }, e: { format: email } } } }
      warn:
        headers: { content-type: { count: { gte: 1 }, nth: 0, all: { length: { lt: 200 } }, gt: 1, date: any, not: { matches: x } } }
        status: { not_in: [500, "4xx"] }
"#;

#[test]
fn fuzz_expectations_on_arbitrary_responses() {
    use crate::expect::Response;
    let opts = PlanOptions::default();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites/fuzz.yaml");
    let suite = crate::suite::load::parse_suite(&path, EXPECTING.into()).expect("parses");
    let mut planner = Planner::new(&opts);
    planner.add(&suite);
    let plan = planner.finish().expect("plans");
    let Action::Http(step) = &*plan.cases[0].compiled[0].action else {
        panic!("an http step")
    };
    let bodies = [
        r#"{"ok": true, "data": {"items": [{"id": 1}, {"id": 2}]}, "n": 5, "a": {"k": 1.50}}"#,
        r#"{"b": [{"c": 2}, {"c": "x"}], "t": 100000000000000000000000, "s": "abc"}"#,
        r#"{"d": "2026-12-03T10:00:00Z", "e": "a@b.c", "n": 1e308, "u": 99999999999999999999999, "h": "Thu, 03 Dec 2026 10:00:00 GMT"}"#,
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
        "not json at all \u{1b}[31m",
    ];
    let redactor = Redactor::default();
    let scope = Scope::default();
    let mut rng = rng("expectations");
    for _ in 0..cases() {
        let seed = *rng.pick(&bodies);
        let mut body = mutate(&mut rng, seed).into_bytes();
        if rng.below(4) == 0 {
            body.push(0xff); // invalid UTF-8
        }
        let mut headers = reqwest::header::HeaderMap::new();
        let value = mutate(&mut rng, "application/json; charset=utf-8");
        if let Ok(v) = reqwest::header::HeaderValue::from_bytes(value.as_bytes()) {
            headers.insert("content-type", v);
        }
        let status = [0u16, 100, 200, 204, 302, 404, 500, 599, 999][rng.below(9)];
        let shown = String::from_utf8_lossy(&body).into_owned();
        no_panic("expectations", &shown, || {
            let resp = Response::new(
                status,
                "HTTP/1.1".into(),
                headers,
                body.clone(),
                std::time::Duration::from_millis(rng.below(10_000) as u64),
                None,
            );
            let mut out = crate::runner::case::skipped_step(&plan.cases[0].steps()[0], "");
            out.expectations = step.expect.evaluate(&resp, &scope, &redactor);
            out.message = Some(shown.clone());
            crate::runner::sanitize::step(&mut out, &redactor);
            let _ = crate::excerpt::body_excerpt(&body, 500, &redactor);
        });
    }
}

#[test]
fn fuzz_redactor_no_secret_survives_any_form() {
    use base64::Engine as _;
    let mut rng = rng("redactor");
    let alphabet: Vec<char> = "abcXYZ019-_.~+/=%&<>\"'\\ é😀:@".chars().collect();
    for _ in 0..cases() {
        let secret: String = (0..4 + rng.below(24))
            .map(|_| *rng.pick(&alphabet))
            .collect();
        let r = Redactor::default();
        r.add(&secret).expect("long enough");
        let json = serde_json::Value::String(secret.clone()).to_string();
        let forms = [
            secret.clone(),
            url::form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>(),
            json[1..json.len() - 1].to_string(),
            crate::redact::html_escape(&secret),
            crate::redact::markdown_escape(&secret),
            base64::engine::general_purpose::STANDARD.encode(&secret),
        ];
        let form = forms[rng.below(forms.len())].clone();
        let before = mutate(&mut rng, "before ");
        let after = mutate(&mut rng, " after");
        let text = format!("{before}{form}{after}");
        let max = 1 + rng.below(200);
        let out = crate::text::outside(&text, max, &r);
        let excerpt = crate::excerpt::body_excerpt(text.as_bytes(), max, &r);
        for shown in [&out, &excerpt] {
            assert!(
                !shown.contains(&form) && !shown.contains(&secret),
                "fuzz redactor: secret {secret:?} survived as {form:?} in {shown:?}"
            );
        }
    }
}

#[test]
fn fuzz_merge_of_mutated_reports() {
    let report = serde_json::json!({
        "schema_version": "1.0", "smokegate_version": "0.1.0", "run_id": "r1",
        "started_at": "2026-01-01T00:00:00Z", "duration_ms": 5, "verdict": "failed",
        "insecure": false, "cancelled": null, "suites": ["s"], "profiles": [],
        "metadata": {"shard": "1/2"},
        "counts": {"total": 1, "passed": 0, "failed": 1, "errors": 0, "skipped": 0, "flaky": 0, "warnings": 0},
        "cases": [{"id": "s/a", "suite": "s", "suite_file": "s.yaml", "name": "a\u{fffe}", "tags": [],
            "severity": "critical", "status": "failed", "flaky": false, "message": "m",
            "started_at": "2026-01-01T00:00:00Z", "duration_ms": 5, "line": 3, "steps": []}]
    })
    .to_string();
    let mut rng = rng("merge");
    for _ in 0..cases() {
        let text = mutate(&mut rng, &report);
        no_panic("merge", &text, || {
            if let Ok(r) = serde_json::from_str::<crate::report::json::JsonReport<'static>>(&text) {
                let _ = crate::merge::merge(vec![("r.json".into(), r)], rng.below(2) == 0);
            }
        });
    }
}

/// Inputs that once crashed or hung smokegate, replayed.
#[test]
fn corpus_replays_without_panics() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-corpus");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir)
        .expect("tests/fuzz-corpus exists")
        .flatten()
    {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        no_panic("corpus", &text, || plan_text(&text));
        n += 1;
    }
    assert!(n > 0, "the corpus is not empty");
}
