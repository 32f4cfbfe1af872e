//! The one place that knows what is secret.
//!
//! A [`Redactor`] holds every secret value known to the run — secret variables, `--secret`
//! values, secret captures as they happen — and every reporter passes its text through it.
//! Sensitive header values and sensitive JSON keys are masked where they are produced.

use std::sync::{Arc, RwLock};

use serde_json::Value;

/// Replacement text for a secret.
pub const MASK: &str = "[REDACTED]";

/// Headers whose values are never shown.
pub fn is_sensitive_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie" | "x-api-key"
    )
}

/// True when a header carries a credential: by name.
pub fn is_credential_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    if is_sensitive_header(&n) {
        return true;
    }
    let words: Vec<&str> = n.split(['-', '_']).filter(|w| !w.is_empty()).collect();
    // A word that names a secret wherever it stands, or a last word that does
    // (`X-Functions-Key`, `X-Auth`; not `X-Auth-Email`, `X-Keycloak-Realm`).
    const ANYWHERE: &[&str] = &[
        "token",
        "secret",
        "password",
        "passwd",
        "signature",
        "jwt",
        "credential",
        "credentials",
        "apikey",
    ];
    const LAST: &[&str] = &["key", "auth", "session", "sig", "cookie", "authorization"];
    words.iter().any(|w| ANYWHERE.contains(w))
        || words
            .last()
            .is_some_and(|w| LAST.contains(w) || ANYWHERE.contains(w))
}

/// True when a query, JSON or form field carries a credential: by its name, compared without
/// case or separators (`access_token`, `accessToken`, `Access-Token`).
pub fn is_credential_field(name: &str) -> bool {
    let n: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    const NAMES: &[&str] = &[
        "token",
        "accesstoken",
        "refreshtoken",
        "idtoken",
        "authtoken",
        "bearertoken",
        "sessiontoken",
        "csrftoken",
        "apitoken",
        "password",
        "passwd",
        "pwd",
        "pass",
        "secret",
        "clientsecret",
        "apikey",
        "key",
        "privatekey",
        "secretkey",
        "accesskey",
        "signature",
        "sig",
        "jwt",
        "credential",
        "credentials",
        "authorization",
        "auth",
        "sessionid",
        "session",
        "otp",
    ];
    NAMES.contains(&n.as_str())
}

/// JSON keys whose values are masked in body excerpts.
pub fn is_sensitive_key(key: &str) -> bool {
    let n: String = key
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    // `access_token`, `refreshToken`, `client_secret`, `password`; not `max_tokens`,
    // `total_tokens` or `token_type` (counts and kinds, not credentials).
    is_credential_field(key)
        || n.ends_with("token")
        || n.ends_with("secret")
        || n.ends_with("apikey")
        || n.ends_with("jwt")
        || n.ends_with("cookie")
        || n.contains("password")
        || n.contains("passwd")
        || n.contains("credential")
        || n == "authorization"
}

/// The shortest secret that can be masked safely: masking a shorter one would hide every
/// occurrence of a few common characters, and leave the secret guessable from the gaps.
pub const MIN_SECRET_LEN: usize = 4;

/// A secret too short to mask safely ([`MIN_SECRET_LEN`]): an error, never printed in clear.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "a secret of {len} character(s) is too short to be masked safely (at least {MIN_SECRET_LEN}); use a longer value, or do not mark it secret"
)]
pub struct TooShort {
    /// Its length in characters.
    pub len: usize,
}

/// Secret values known to the run, shared by the runner (which adds captures) and reporters.
/// Each secret is kept with the forms it takes on its way through a server and into a
/// report: URL-encoded, JSON-escaped (also as Python and PHP escape), HTML-escaped,
/// Markdown-escaped and base64.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Arc<RwLock<Secrets>>,
}

/// Every form of every secret, and matchers over all of them: masking is a pass per matcher
/// over a text, however many secrets a run holds.
///
/// Secrets keep arriving while a run goes on (each sample of a sampled login flow captures
/// a token of its own), so the matchers cover consecutive runs of `forms` whose sizes at
/// least halve from one to the next, like the digits of a binary counter: an addition builds
/// a matcher for the new forms and merges it with its neighbours while they are not much
/// larger. Every form is rebuilt O(log n) times over a run, not once per addition.
#[derive(Debug, Default)]
struct Secrets {
    forms: Vec<String>,
    known: std::collections::HashSet<String>,
    /// (first form, end of forms, matcher), covering `forms[..covered]` in order.
    matchers: Vec<(usize, usize, aho_corasick::AhoCorasick)>,
}

impl Secrets {
    fn covered(&self) -> usize {
        self.matchers.last().map_or(0, |m| m.1)
    }

    /// Build matchers for the forms not covered yet.
    fn catch_up(&mut self) {
        let end = self.forms.len();
        let mut start = self.covered();
        if start == end {
            return;
        }
        while let Some(&(s, e, _)) = self.matchers.last() {
            if (e - s) > 2 * (end - start) {
                break;
            }
            self.matchers.pop();
            start = s;
        }
        // Leftmost-longest: a secret containing another is masked whole.
        match aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(&self.forms[start..end])
        {
            Ok(m) => self.matchers.push((start, end, m)),
            // Never happens for these sizes; then nothing is covered and the next use retries.
            Err(e) => tracing::warn!("cannot build the secret matcher: {e}"),
        }
    }

    /// Where `hay` holds a form: every matcher's matches, in order, overlapping ones joined
    /// (a form inside another one from another matcher is masked with it).
    fn spans(&self, hay: &[u8]) -> Vec<std::ops::Range<usize>> {
        let mut all: Vec<std::ops::Range<usize>> = Vec::new();
        for (_, _, m) in &self.matchers {
            all.extend(m.find_iter(hay).map(|x| x.range()));
        }
        if self.matchers.len() > 1 {
            all.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
            let mut joined: Vec<std::ops::Range<usize>> = Vec::with_capacity(all.len());
            for r in all {
                match joined.last_mut() {
                    Some(last) if r.start < last.end => last.end = last.end.max(r.end),
                    _ => joined.push(r),
                }
            }
            all = joined;
        }
        all
    }

    fn is_match(&self, hay: &[u8]) -> bool {
        self.matchers.iter().any(|(_, _, m)| m.is_match(hay))
    }
}

impl Redactor {
    /// Add a secret value and its derived forms; a value shorter than [`MIN_SECRET_LEN`]
    /// characters (the empty one included) is refused.
    pub fn add(&self, value: &str) -> Result<(), TooShort> {
        let len = value.chars().count();
        if len < MIN_SECRET_LEN {
            return Err(TooShort { len });
        }
        let mut s = self.secrets.write().unwrap_or_else(|e| e.into_inner());
        if s.known.contains(value) {
            return Ok(());
        }
        for form in derived_forms(value) {
            if form.len() >= MIN_SECRET_LEN && s.known.insert(form.clone()) {
                s.forms.push(form);
            }
        }
        Ok(())
    }

    /// True when `other` is this redactor (a clone sharing its secrets).
    pub(crate) fn same(&self, other: &Redactor) -> bool {
        Arc::ptr_eq(&self.secrets, &other.secrets)
    }

    /// True when no other clone of this redactor is left.
    pub(crate) fn unshared(&self) -> bool {
        Arc::strong_count(&self.secrets) == 1
    }

    /// Run `f` with the matchers of every secret form (none when there is no secret).
    fn with_secrets<R>(&self, f: impl FnOnce(&Secrets) -> R) -> R {
        {
            let s = self.secrets.read().unwrap_or_else(|e| e.into_inner());
            if s.covered() == s.forms.len() {
                return f(&s);
            }
        }
        let mut s = self.secrets.write().unwrap_or_else(|e| e.into_inner());
        s.catch_up();
        f(&s)
    }

    /// Mask every known secret (in every derived form) in `text`.
    pub fn redact(&self, text: &str) -> String {
        let spans = self.secret_spans(text.as_bytes());
        if spans.is_empty() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for r in spans {
            // Forms are text: every match starts and ends at a character boundary.
            out.push_str(&text[at..r.start]);
            out.push_str(MASK);
            at = r.end;
        }
        out.push_str(&text[at..]);
        out
    }

    /// Where `bytes` hold a known secret (in any form): the spans [`Redactor::redact`] would
    /// mask, in order and not overlapping. A caller that shows only part of a text widens
    /// its cut to these spans and masks them, so no cut leaves part of a secret.
    pub fn secret_spans(&self, bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
        self.with_secrets(|s| s.spans(bytes))
    }

    /// True when JSON text may hold a known secret inside one of its strings (the
    /// JSON-escaped form of every secret is one of its forms).
    pub fn maybe_in_json(&self, json: &str) -> bool {
        self.contains_secret(json)
    }

    /// True when `text` contains a known secret (in any form).
    pub fn contains_secret(&self, text: &str) -> bool {
        self.with_secrets(|s| s.is_match(text.as_bytes()))
    }

    /// Redact every string of a JSON value in place.
    pub fn redact_json(&self, v: &mut Value) {
        match v {
            Value::String(s) if self.contains_secret(s) => *s = self.redact(s),
            Value::Array(a) => a.iter_mut().for_each(|x| self.redact_json(x)),
            Value::Object(o) => o.values_mut().for_each(|x| self.redact_json(x)),
            _ => {}
        }
    }
}

/// The forms a secret takes through a server and into a report.
fn derived_forms(v: &str) -> Vec<String> {
    use base64::Engine as _;
    let mut forms = vec![v.to_string()];
    // URL-encoded, as a query or form value (space as `+`) and as a path (`%20`), upper and
    // lower case hex.
    let form: String = url::form_urlencoded::byte_serialize(v.as_bytes()).collect();
    forms.push(form);
    // As each common encoder writes it: everything but unreserved, Python's `quote` (keeps
    // `/`), JavaScript's `encodeURIComponent` (keeps `!'()*`) and `encodeURI`, and the URL
    // parser's own query, path and userinfo sets (how a redirect's URL is shown again).
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
    let query_set = |b: u8| b > 0x20 && b < 0x7f && !matches!(b, b'"' | b'#' | b'<' | b'>' | b'\'');
    let keeps: [&dyn Fn(u8) -> bool; 7] = [
        &unreserved,
        &|b| unreserved(b) || b == b'/',
        &|b| unreserved(b) || matches!(b, b'!' | b'\'' | b'(' | b')' | b'*'),
        &|b| unreserved(b) || b"!'()*;,/?:@&=+$#".contains(&b),
        &query_set,
        &|b| query_set(b) && !matches!(b, b'?' | b'`' | b'{' | b'}'),
        &|b| query_set(b) && !b"?`{}/:;=@[\\]^|".contains(&b),
    ];
    for keep in keeps {
        let pct = percent_except(v, keep);
        forms.push(pct.to_ascii_lowercase_hex());
        forms.push(pct.0);
    }
    // JSON-escaped: as serde and JavaScript write it, as Python writes it (non-ASCII as
    // `\uXXXX`), and with PHP's `\/`.
    let json = Value::String(v.to_string()).to_string();
    let json = json[1..json.len() - 1].to_string();
    forms.push(json.replace('/', "\\/"));
    forms.push(ascii_json(&json));
    forms.push(json);
    // HTML- and Markdown-escaped.
    forms.push(html_escape(v));
    forms.push(html_escape(v).replace("&#39;", "&#x27;"));
    forms.push(markdown_escape(v));
    // base64, standard and URL-safe, with and without padding; and the part of the
    // encoding that only the secret's bytes decide, at each of the three alignments it can
    // have inside a longer encoded text (`Basic base64(user:secret)`, an echoed header).
    let b = v.as_bytes();
    for engine in [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ] {
        forms.push(engine.encode(b));
    }
    for engine in [
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ] {
        for k in 0..3usize {
            let mut bytes = vec![0u8; k];
            bytes.extend_from_slice(b);
            let enc = engine.encode(&bytes);
            // Characters mixing the unknown bytes before (k of them) or after the secret.
            let front = [0, 2, 3][k];
            let back = 4 * (bytes.len() / 3);
            if back >= front + 8 {
                forms.push(enc[front..back].to_string());
            }
        }
    }
    forms.dedup();
    forms
}

/// Every byte but the unreserved ones percent-encoded, upper-case hex.
struct Pct(String);

impl Pct {
    fn to_ascii_lowercase_hex(&self) -> String {
        let mut out = String::with_capacity(self.0.len());
        let mut after_pct = 0;
        for c in self.0.chars() {
            if c == '%' {
                after_pct = 2;
                out.push(c);
            } else if after_pct > 0 {
                after_pct -= 1;
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        }
        out
    }
}

/// Every byte `keep` does not keep percent-encoded, upper-case hex.
fn percent_except(v: &str, keep: &dyn Fn(u8) -> bool) -> Pct {
    let mut out = String::with_capacity(v.len() * 3);
    for b in v.bytes() {
        if keep(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Pct(out)
}

/// JSON string content with every non-ASCII character as `\uXXXX` (surrogate pairs beyond
/// the BMP), as Python's `json.dumps` writes it.
fn ascii_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

/// HTML-escaped text (`&`, `<`, `>`, `"`, `'`).
pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Markdown-escaped text: ASCII punctuation backslash-escaped.
pub fn markdown_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Mask the values of sensitive keys (tokens, passwords, …) anywhere in a JSON value.
pub fn mask_keys(v: &mut Value) {
    match v {
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                if is_sensitive_key(k) && !x.is_null() && !x.is_object() && !x.is_array() {
                    *x = Value::String(MASK.into());
                } else {
                    mask_keys(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(mask_keys),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_names_are_told_from_ordinary_ones() {
        for k in [
            "access_token",
            "refreshToken",
            "client_secret",
            "password",
            "apiKey",
            "jwt",
        ] {
            assert!(is_sensitive_key(k), "{k}");
        }
        for k in [
            "max_tokens",
            "total_tokens",
            "token_type",
            "prompt_tokens",
            "status",
        ] {
            assert!(!is_sensitive_key(k), "{k}");
        }
        for h in [
            "X-Auth-Key",
            "Ocp-Apim-Subscription-Key",
            "X-Functions-Key",
            "X-Signature",
            "X-Auth-Token",
            "X-Auth",
        ] {
            assert!(is_credential_header(h), "{h}");
        }
        for h in [
            "X-Auth-Email",
            "X-Keycloak-Realm",
            "X-Request-Key-Id",
            "Accept",
        ] {
            assert!(!is_credential_header(h), "{h}");
        }
    }

    #[test]
    fn a_secret_inside_a_longer_base64_text_is_masked_at_any_alignment() {
        use base64::Engine as _;
        let r = Redactor::default();
        r.add("hunter2-secret-value").unwrap();
        for prefix in ["", "a", "ab", "user:", "Bearer x "] {
            for suffix in ["", "!", " tail"] {
                let text = format!("{prefix}hunter2-secret-value{suffix}");
                let enc = base64::engine::general_purpose::STANDARD.encode(&text);
                let out = r.redact(&enc);
                assert!(out.contains(MASK), "{prefix:?}/{suffix:?}: {enc} -> {out}");
            }
        }
    }
    use crate::excerpt::body_excerpt;

    #[test]
    fn secrets_added_one_by_one_stay_masked_with_few_matchers() {
        let r = Redactor::default();
        r.add("abcd1234").unwrap();
        assert_eq!(r.redact("x abcd1234 y"), "x [REDACTED] y");
        // A later secret holding an earlier one is masked whole, though another matcher
        // finds the inner one; neighbours stay two masks.
        r.add("zzabcd1234zz").unwrap();
        assert_eq!(r.redact("<zzabcd1234zz>"), "<[REDACTED]>");
        r.add("qrst9876").unwrap();
        assert_eq!(r.redact("abcd1234qrst9876"), "[REDACTED][REDACTED]");
        for k in 0..600 {
            r.add(&format!("sample-token-{k:04}-f00d")).unwrap();
            if k % 7 == 0 {
                assert_eq!(
                    r.redact(&format!("a sample-token-{k:04}-f00d b")),
                    "a [REDACTED] b"
                );
            }
        }
        let text: String = (0..600)
            .map(|k| format!("sample-token-{k:04}-f00d "))
            .collect();
        assert_eq!(r.redact(&text), "[REDACTED] ".repeat(600));
        assert_eq!(r.redact("zzabcd1234zz"), "[REDACTED]");
        let s = r.secrets.read().unwrap();
        assert!(s.matchers.len() <= 16, "{} matchers", s.matchers.len());
    }

    #[test]
    fn masks_known_values_and_keys() {
        let r = Redactor::default();
        r.add("hunter2-secret").unwrap();
        assert_eq!(r.redact("pw=hunter2-secret!"), "pw=[REDACTED]!");
        let ex = body_excerpt(
            br#"{"data":{"access_token":"abc.def.ghi","id":1}}"#,
            500,
            &r,
        );
        assert!(!ex.contains("abc.def.ghi"), "{ex}");
        assert!(ex.contains("\"id\":1"));
    }

    #[test]
    fn excerpt_is_bounded() {
        let r = Redactor::default();
        let body = vec![b'x'; 10_000];
        let ex = body_excerpt(&body, 100, &r);
        assert!(ex.len() < 200);
        assert!(ex.contains("10000 bytes"));
    }
}
