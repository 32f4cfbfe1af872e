//! Body expectations: contains, not_contains, regexes, "is JSON", and whole-body checks —
//! exact equality with a text or a file's bytes, JSON-semantic equality with a document
//! (inline or a file), the size in bytes, SHA-256 and MD5. They judge the decoded body, or
//! the bytes as received with `raw: true`.

use std::path::Path;
use std::sync::Arc;

use md5::Md5;
use regex::Regex;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::error::BodyError;
use super::json_diff::first_difference;
use super::{truncate, ExpectError, Outcome, OutcomeKind, Response};
use crate::interp::{JsonTemplate, Scope, Template};
use crate::redact::{Redactor, MASK};
use crate::suite::model::{BodyDef, BodySizeDef};
use crate::suite::Pos;

/// Largest file a body is compared with (`equals_file`, `json_equals_file`).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Characters shown on each side of the first difference.
const CONTEXT: usize = 24;

/// Compiled body expectations.
#[derive(Debug)]
pub struct BodyCheck {
    contains: Vec<Template>,
    not_contains: Vec<Template>,
    matches: Vec<Regex>,
    json: bool,
    equals: Option<Template>,
    /// The file as written in the suite, and its bytes.
    equals_file: Option<(String, Arc<[u8]>)>,
    json_equals: Option<JsonTemplate>,
    /// The file as written in the suite, and its document.
    json_equals_file: Option<(String, Value)>,
    size: Option<(Option<u64>, Option<u64>)>,
    sha256: Option<Template>,
    md5: Option<Template>,
    /// Judge the bytes as received instead of the decoded body.
    raw: bool,
    /// Where the expectation is written.
    pub pos: Option<Pos>,
}

impl BodyCheck {
    /// Compile the `body:` block (files are read relative to `suite_dir`); every problem of
    /// the block is returned, not only the first.
    pub fn compile(
        def: &BodyDef,
        pos: Option<Pos>,
        cache: &mut super::SchemaCache,
        suite_dir: &Path,
    ) -> Result<Self, Vec<ExpectError>> {
        let mut errs = Vec::new();
        let template =
            |field: &'static str, s: &str, errs: &mut Vec<ExpectError>| match Template::parse(s) {
                Ok(t) => Some(t),
                Err(source) => {
                    errs.push(ExpectError::Template {
                        field: format!("body.{field}"),
                        source,
                    });
                    None
                }
            };
        let contains = def
            .contains
            .iter()
            .filter_map(|s| template("contains", s, &mut errs))
            .collect();
        let not_contains = def
            .not_contains
            .iter()
            .filter_map(|s| template("not_contains", s, &mut errs))
            .collect();
        let mut matches = Vec::new();
        for r in def
            .matches
            .clone()
            .map(|m| m.into_vec())
            .unwrap_or_default()
        {
            match cache.regex(&r) {
                Ok(r) => matches.push(r),
                Err(e) => errs.push(ExpectError::InBody {
                    field: "matches",
                    source: Box::new(e),
                }),
            }
        }
        let equals = def
            .equals
            .as_deref()
            .and_then(|s| template("equals", s, &mut errs));
        if def.equals.is_some() && def.equals_file.is_some() {
            errs.push(BodyError::Both("equals", "equals_file").into());
        }
        if def.json_equals.is_some() && def.json_equals_file.is_some() {
            errs.push(BodyError::Both("json_equals", "json_equals_file").into());
        }
        let equals_file = def.equals_file.as_ref().and_then(|f| {
            read_file("equals_file", suite_dir, f)
                .map(|b| (f.clone(), Arc::from(b)))
                .map_err(|e| errs.push(e.into()))
                .ok()
        });
        let json_equals = def.json_equals.as_ref().and_then(|v| {
            JsonTemplate::compile(v)
                .map_err(|source| {
                    errs.push(ExpectError::Template {
                        field: "body.json_equals".into(),
                        source,
                    })
                })
                .ok()
        });
        let json_equals_file = def.json_equals_file.as_ref().and_then(|f| {
            let bytes = read_file("json_equals_file", suite_dir, f)
                .map_err(|e| errs.push(e.into()))
                .ok()?;
            serde_json::from_slice(&bytes)
                .map(|v| (f.clone(), v))
                .map_err(|e| {
                    errs.push(
                        BodyError::Json {
                            path: suite_dir.join(f),
                            source: Arc::new(e),
                        }
                        .into(),
                    )
                })
                .ok()
        });
        let size = match &def.size {
            None => None,
            Some(BodySizeDef::Exact(n)) => Some((Some(*n), Some(*n))),
            Some(BodySizeDef::Range(r)) => match (r.min, r.max) {
                (None, None) => {
                    errs.push(BodyError::Size("give `min`, `max` or both".into()).into());
                    None
                }
                (Some(lo), Some(hi)) if lo > hi => {
                    errs.push(BodyError::Size(format!("min {lo} is above max {hi}")).into());
                    None
                }
                (lo, hi) => Some((lo, hi)),
            },
        };
        let mut digest = |field: &'static str, len: usize, s: &Option<String>| {
            let t = template(field, s.as_deref()?, &mut errs)?;
            if let Some(text) = t.as_literal() {
                if !is_hex(&text, len) {
                    errs.push(
                        BodyError::Digest {
                            field,
                            got: text.into_owned(),
                            len,
                        }
                        .into(),
                    );
                    return None;
                }
            }
            Some(t)
        };
        let sha256 = digest("sha256", 64, &def.sha256);
        let md5 = digest("md5", 32, &def.md5);
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(BodyCheck {
            contains,
            not_contains,
            matches,
            json: def.json.unwrap_or(false),
            equals,
            equals_file,
            json_equals,
            json_equals_file,
            size,
            sha256,
            md5,
            raw: def.raw.unwrap_or(false),
            pos,
        })
    }

    /// Templates rendered by this check.
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        self.contains
            .iter()
            .chain(self.not_contains.iter())
            .chain(self.equals.iter())
            .chain(self.sha256.iter())
            .chain(self.md5.iter())
            .chain(self.json_equals.iter().flat_map(|j| j.templates()))
    }

    /// Judge the body; outcomes carry `pos` (the line of the `expect` block, like the other
    /// expectations of the block). What a failure quotes of the body or of an expected text
    /// is masked with `redactor` before it is cut: a cut never leaves part of a secret.
    pub fn evaluate(
        &self,
        resp: &Response,
        scope: &Scope,
        pos: Option<Pos>,
        redactor: &Redactor,
    ) -> Vec<Outcome> {
        let bytes: &[u8] = if self.raw {
            resp.wire_body()
        } else {
            &resp.body
        };
        // What the checks call the bytes they judge.
        let body = if self.raw { "body as received" } else { "body" };
        let text = String::from_utf8_lossy(bytes);
        // The body as a failure quotes it: credential-named JSON values and known secrets
        // masked, then bounded.
        let excerpt = crate::excerpt::body_excerpt(bytes, super::MEMORY_BOUND, redactor);
        let new = |check: String| Outcome::new(OutcomeKind::Body, check, pos);
        let render_failed = |what: &str, e: crate::interp::RenderError| {
            new(format!("{body} {what}")).fail("", "", e.to_string())
        };
        let mut out = Vec::new();
        for t in &self.contains {
            let o = match t.render(scope) {
                Ok(want) => {
                    let o = new(format!("{body} contains {want:?}"));
                    if text.contains(&want) {
                        o
                    } else {
                        o.fail(
                            format!("contains {want:?}"),
                            excerpt.clone(),
                            format!("{body} does not contain {want:?}"),
                        )
                    }
                }
                Err(e) => render_failed("contains", e),
            };
            out.push(o);
        }
        for t in &self.not_contains {
            let o = match t.render(scope) {
                Ok(bad) => {
                    let o = new(format!("{body} does not contain {bad:?}"));
                    if text.contains(&bad) {
                        o.fail(
                            format!("no {bad:?}"),
                            excerpt.clone(),
                            format!("{body} contains {bad:?}"),
                        )
                    } else {
                        o
                    }
                }
                Err(e) => render_failed("not_contains", e),
            };
            out.push(o);
        }
        for r in &self.matches {
            let o = new(format!("{body} matches /{}/", r.as_str()));
            out.push(if r.is_match(&text) {
                o
            } else {
                o.fail(
                    format!("/{}/", r.as_str()),
                    excerpt.clone(),
                    format!("{body} does not match /{}/", r.as_str()),
                )
            });
        }
        if self.json {
            let o = new(format!("{body} is JSON"));
            let parsed = if self.raw {
                parse_json(bytes).map(|_| ())
            } else {
                resp.json().map(|_| ()).map_err(str::to_string)
            };
            out.push(match parsed {
                Ok(()) => o,
                Err(e) => o.fail("JSON", excerpt.clone(), e),
            });
        }
        if let Some(t) = &self.equals {
            out.push(match t.render(scope) {
                Ok(want) => {
                    let masked = redactor.redact(&want);
                    let o = new(format!("{body} equals {:?}", truncate(&masked, 60)));
                    match describe_difference(want.as_bytes(), bytes, false, redactor) {
                        None => o,
                        Some(d) => o.fail(
                            truncate(&masked, super::MEMORY_BOUND),
                            excerpt.clone(),
                            format!("{body} differs from the expected text: {d}"),
                        ),
                    }
                }
                Err(e) => render_failed("equals", e),
            });
        }
        if let Some((file, want)) = &self.equals_file {
            let o = new(format!("{body} equals the bytes of `{file}`"));
            out.push(match describe_difference(want, bytes, true, redactor) {
                None => o,
                Some(d) => o.fail(
                    format!("{} bytes, sha256 {}", want.len(), sha256_hex(want)),
                    format!("{} bytes, sha256 {}", bytes.len(), sha256_hex(bytes)),
                    format!("{body} differs from `{file}`: {d}"),
                ),
            });
        }
        if let Some(t) = &self.json_equals {
            out.push(match t.eval(scope) {
                Ok(want) => self.json_equality(
                    new(format!("{body} is JSON equal to {}", super::show(&want))),
                    &want,
                    resp,
                    bytes,
                    "the expected document",
                    redactor,
                ),
                Err(e) => render_failed("json_equals", e),
            });
        }
        if let Some((file, want)) = &self.json_equals_file {
            out.push(self.json_equality(
                new(format!("{body} is JSON equal to `{file}`")),
                want,
                resp,
                bytes,
                &format!("`{file}`"),
                redactor,
            ));
        }
        if let Some((lo, hi)) = self.size {
            let n = bytes.len() as u64;
            let (check, want) = match (lo, hi) {
                (Some(a), Some(b)) if a == b => {
                    (format!("{body} size = {a} bytes"), format!("{a} bytes"))
                }
                (Some(a), Some(b)) => (
                    format!("{body} size in {a}..={b} bytes"),
                    format!("{a} to {b} bytes"),
                ),
                (Some(a), None) => (
                    format!("{body} size ≥ {a} bytes"),
                    format!("at least {a} bytes"),
                ),
                (None, Some(b)) => (
                    format!("{body} size ≤ {b} bytes"),
                    format!("at most {b} bytes"),
                ),
                (None, None) => unreachable!("refused at compile time"),
            };
            let o = new(check);
            let ok = lo.is_none_or(|a| n >= a) && hi.is_none_or(|b| n <= b);
            out.push(if ok {
                o
            } else {
                o.fail(
                    want.clone(),
                    format!("{n} bytes"),
                    format!("{body} is {n} bytes, expected {want}"),
                )
            });
        }
        for (name, t, digest) in [
            ("sha256", &self.sha256, sha256_hex as fn(&[u8]) -> String),
            ("md5", &self.md5, md5_hex),
        ] {
            let Some(t) = t else { continue };
            out.push(match t.render(scope) {
                Ok(want) => {
                    let want = want.trim().to_ascii_lowercase();
                    let got = digest(bytes);
                    let o = new(format!("{body} {name} = {want}"));
                    let len = if name == "md5" { 32 } else { 64 };
                    if !is_hex(&want, len) {
                        o.fail(
                            want.clone(),
                            got,
                            format!("`{want}` is not a {name} digest: expected {len} hex digits"),
                        )
                    } else if got == want {
                        o
                    } else {
                        o.fail(
                            want.clone(),
                            got.clone(),
                            format!(
                                "{body} {name} is {got}, expected {want} ({} bytes)",
                                bytes.len()
                            ),
                        )
                    }
                }
                Err(e) => render_failed(name, e),
            });
        }
        out
    }

    /// JSON-semantic equality of the body with `want`.
    fn json_equality(
        &self,
        o: Outcome,
        want: &Value,
        resp: &Response,
        bytes: &[u8],
        other: &str,
        redactor: &Redactor,
    ) -> Outcome {
        let body = if self.raw { "body as received" } else { "body" };
        let excerpt = || crate::excerpt::body_excerpt(bytes, super::MEMORY_BOUND, redactor);
        let parsed;
        let got = if self.raw {
            match parse_json(bytes) {
                Ok(v) => {
                    parsed = v;
                    &parsed
                }
                Err(e) => return o.fail(super::show(want), excerpt(), e),
            }
        } else {
            match resp.json() {
                Ok(v) => v,
                Err(e) => return o.fail(super::show(want), excerpt(), e.to_string()),
            }
        };
        match first_difference(want, got) {
            None => o,
            Some(d) => o.fail(
                d.expected.clone(),
                d.actual.clone(),
                format!(
                    "{body} JSON differs from {other} at {}: expected {}, got {}",
                    d.path, d.expected, d.actual
                ),
            ),
        }
    }
}

fn parse_json(bytes: &[u8]) -> Result<Value, String> {
    if bytes.is_empty() {
        return Err("body is empty, expected JSON".into());
    }
    serde_json::from_slice(bytes).map_err(|e| format!("body is not valid JSON: {e}"))
}

/// Read a file the body is compared with, bounded.
fn read_file(field: &'static str, dir: &Path, name: &str) -> Result<Vec<u8>, BodyError> {
    use std::io::Read;
    let path = dir.join(name);
    let read = |source| BodyError::Read {
        field,
        path: path.clone(),
        source: Arc::new(source),
    };
    let file = std::fs::File::open(&path).map_err(read)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(BodyError::TooLarge {
            field,
            path,
            limit: MAX_FILE_BYTES,
        });
    }
    Ok(bytes)
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// MD5 of `bytes`, lower-case hex.
pub fn md5_hex(bytes: &[u8]) -> String {
    hex(&Md5::digest(bytes))
}

/// Where `actual` first differs from `expected`, in words (`None` when equal): the byte
/// offset, the line and column for text, both sizes, and the bytes around the difference.
///
/// A window cut from a text can start or end inside a secret, and the part it keeps would
/// no longer be recognised later: so each window is widened to whole secret occurrences
/// (known secrets in every form, and the values of credential-named JSON keys) and those
/// are masked here, before anything is cut.
fn describe_difference(
    expected: &[u8],
    actual: &[u8],
    binary: bool,
    redactor: &Redactor,
) -> Option<String> {
    if expected == actual {
        return None;
    }
    let at = expected
        .iter()
        .zip(actual)
        .position(|(a, b)| a != b)
        .unwrap_or(expected.len().min(actual.len()));
    let around = |b: &[u8]| {
        let hidden = hidden_spans(b, redactor);
        let (mut start, mut end) = (at.saturating_sub(CONTEXT), (at + CONTEXT).min(b.len()));
        for h in &hidden {
            if h.start < start && start < h.end {
                start = h.start;
            }
            if h.start < end && end < h.end {
                end = h.end;
            }
        }
        let lead = if start > 0 { "…" } else { "" };
        let tail = if end < b.len() { "…" } else { "" };
        // The window with every hidden span inside it masked.
        let mut part = Vec::with_capacity(end.saturating_sub(start) + 16);
        let mut i = start;
        for h in hidden.iter().filter(|h| h.start < end && h.end > start) {
            part.extend_from_slice(b.get(i..h.start.max(i)).unwrap_or_default());
            part.extend_from_slice(MASK.as_bytes());
            i = h.end;
        }
        part.extend_from_slice(b.get(i.min(end)..end).unwrap_or_default());
        let shown = if binary {
            part.escape_ascii().to_string()
        } else {
            let s = format!("{:?}", String::from_utf8_lossy(&part));
            s[1..s.len() - 1].to_string()
        };
        format!("\"{lead}{shown}{tail}\"")
    };
    let line = actual[..at.min(actual.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1;
    let column = at
        - actual[..at.min(actual.len())]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |p| p + 1)
        + 1;
    let place = if binary {
        format!("at byte {at}")
    } else {
        format!("at byte {at} (line {line}, column {column})")
    };
    let sizes = if expected.len() == actual.len() {
        format!("both {} bytes", actual.len())
    } else {
        format!("expected {} bytes, got {}", expected.len(), actual.len())
    };
    Some(format!(
        "first difference {place}: expected {}, got {} ({sizes})",
        around(expected),
        around(actual)
    ))
}

/// What a window of `bytes` must not show in part: known secrets (any form), and, when the
/// bytes are JSON, the values of credential-named keys (as body excerpts mask them). Sorted,
/// not overlapping.
fn hidden_spans(bytes: &[u8], redactor: &Redactor) -> Vec<std::ops::Range<usize>> {
    let mut spans = redactor.secret_spans(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
            spans.extend(crate::excerpt::sensitive_value_spans(text));
        }
    }
    spans.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
    // Merge overlapping spans into one.
    let mut merged: Vec<std::ops::Range<usize>> = Vec::with_capacity(spans.len());
    for r in spans {
        match merged.last_mut() {
            Some(last) if r.start < last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_difference_is_placed_and_shown_in_context() {
        let r = Redactor::default();
        let d = describe_difference(b"hello\nworld", b"hello\nwyrld!", false, &r).unwrap();
        assert_eq!(
            d,
            "first difference at byte 7 (line 2, column 2): expected \"hello\\nworld\", got \"hello\\nwyrld!\" (expected 11 bytes, got 12)"
        );
        let d = describe_difference(b"abc", b"ab", true, &r).unwrap();
        assert_eq!(
            d,
            "first difference at byte 2: expected \"abc\", got \"ab\" (expected 3 bytes, got 2)"
        );
        assert!(describe_difference(b"same", b"same", false, &r).is_none());
    }

    #[test]
    fn a_window_never_shows_part_of_a_secret() {
        let r = Redactor::default();
        r.add("BearerTokenSecret-0123456789abcdef").unwrap();
        // The difference is just before the secret: the window would end inside it.
        let got = b"authorization: Bearer BearerTokenSecret-0123456789abcdef tail";
        let d = describe_difference(b"authorization: Bearer X", got, false, &r).unwrap();
        assert!(!d.contains("BearerTok"), "{d}");
        assert!(
            d.contains(r#"got "authorization: Bearer [REDACTED]…""#),
            "{d}"
        );
        // The secret starts before the window on the expected side, and in binary.
        let want = b"0123456789BearerTokenSecret-0123456789abcdef0123456789012345!";
        let got = b"0123456789BearerTokenSecret-0123456789abcdef0123456789012345?";
        for binary in [false, true] {
            let d = describe_difference(want, got, binary, &r).unwrap();
            assert!(!d.contains("abcdef") && !d.contains("Secret"), "{d}");
            assert!(
                d.contains(r#"expected "…[REDACTED]0123456789012345!""#),
                "{d}"
            );
        }
    }

    #[test]
    fn a_window_masks_credential_named_json_values() {
        let r = Redactor::default();
        let want = br#"{"access_token":"x","n":1}"#;
        let got = br#"{"access_token":"LoginTok-5566778899","n":1}"#;
        let d = describe_difference(want, got, false, &r).unwrap();
        assert!(!d.contains("LoginTok"), "{d}");
        assert!(
            d.contains(r#"got "{\"access_token\":[REDACTED],\"n\"…""#),
            "{d}"
        );
    }

    #[test]
    fn digests_are_lower_case_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert!(is_hex("900150983CD24FB0D6963F7D28E17F72", 32));
        assert!(!is_hex("90015098", 32));
    }
}
