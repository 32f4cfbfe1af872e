//! Excerpts of response bodies for reports: the bytes the server sent (never a re-serialised
//! value: key order, number text and spacing as received), with the values of sensitive JSON
//! keys masked in place, known secrets redacted, then bounded.

use crate::redact::{is_sensitive_key, Redactor, MASK};

/// Most bytes of a body looked at for an excerpt (an excerpt shows far fewer characters).
const MAX_SCANNED: usize = 64 * 1024;

/// A bounded, redacted excerpt of a body: sensitive JSON keys masked, then known secrets,
/// then the credentials of any URL in it (a password in `scheme://user:pw@host`, a
/// credential-named query parameter: a health page quoting its database URL).
pub fn body_excerpt(body: &[u8], max: usize, redactor: &Redactor) -> String {
    let head = &body[..body.len().min(MAX_SCANNED)];
    let text = String::from_utf8_lossy(head);
    let text = if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() {
        mask_sensitive_values(&text)
    } else {
        text.into_owned()
    };
    // Secrets first, then what a terminal or log parser would act on, then the cut.
    let text = redactor.redact(&text);
    let text = crate::text::mask_url_credentials(&text);
    let text = crate::text::visible(&text);
    let mut cut: String = text.chars().take(max).collect();
    if cut.len() < text.len() || head.len() < body.len() {
        cut.push_str(&format!("… ({} bytes in all)", body.len()));
    }
    cut
}

/// The JSON text with every scalar value (string, number, boolean) of a sensitive key
/// replaced by a masked string, everything else byte for byte. `text` is valid JSON.
pub fn mask_sensitive_values(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in sensitive_value_spans(text) {
        out.push_str(&text[at..span.start]);
        out.push('"');
        out.push_str(MASK);
        out.push('"');
        at = span.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Where the JSON text holds the scalar value (string with its quotes, number, boolean) of
/// a sensitive key: the spans [`mask_sensitive_values`] masks, in order. `text` is valid
/// JSON; on other text the spans are a best guess.
pub fn sensitive_value_spans(text: &str) -> Vec<std::ops::Range<usize>> {
    let b = text.as_bytes();
    let mut spans = Vec::new();
    // The key whose value comes next is sensitive.
    let mut masking = false;
    let mut i = 0;
    while i < b.len() {
        let start = i;
        match b[i] {
            b'"' => {
                i = string_end(b, i);
                if next_is_colon(b, i) {
                    let key: String = serde_json::from_str(&text[start..i]).unwrap_or_default();
                    masking = is_sensitive_key(&key);
                    continue;
                }
                if masking {
                    spans.push(start..i);
                }
                masking = false;
            }
            b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => {
                while i < b.len()
                    && !matches!(b[i], b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
                {
                    i += 1;
                }
                if masking && &text[start..i] != "null" {
                    spans.push(start..i);
                }
                masking = false;
            }
            b'{' | b'[' => {
                masking = false;
                i += 1;
            }
            // Punctuation, whitespace, or any other byte (not in valid JSON outside a
            // string): nothing to mask.
            _ => i += 1,
        }
    }
    spans
}

/// The index just past the string that starts at `i` (a `"`).
fn string_end(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

fn next_is_colon(b: &[u8], mut i: usize) -> bool {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i < b.len() && b[i] == b':'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_excerpt_is_the_bytes_received() {
        let body = br#"{"n": 1000000000000000000000, "b": 2, "a": 1.50}"#;
        let e = body_excerpt(body, 500, &Redactor::default());
        assert_eq!(e, r#"{"n": 1000000000000000000000, "b": 2, "a": 1.50}"#);
    }

    #[test]
    fn sensitive_values_are_masked_in_place() {
        let body = r#"{ "user": {"name":"ann", "access_token" : "abc.def", "password": 1234,
  "apiKey": null, "tokens": ["x"], "note": "\"token\": \"not a key\"" }, "ok": true}"#;
        let masked = mask_sensitive_values(body);
        assert_eq!(
            masked,
            r#"{ "user": {"name":"ann", "access_token" : "[REDACTED]", "password": "[REDACTED]",
  "apiKey": null, "tokens": ["x"], "note": "\"token\": \"not a key\"" }, "ok": true}"#
        );
        assert!(serde_json::from_str::<serde_json::Value>(&masked).is_ok());
    }

    #[test]
    fn non_json_is_shown_as_text_and_bounded() {
        let r = Redactor::default();
        r.add("hunter2-secret").unwrap();
        let e = body_excerpt(b"oops hunter2-secret trailing", 10, &r);
        assert_eq!(e, "oops [REDA… (28 bytes in all)");
    }
}
