//! Text from outside — a server's body, headers and `Location`, DNS answers, certificate
//! fields — on its way into a report: made visible and inert before any reporter sees it.
//!
//! [`visible`] escapes everything a terminal, a CI log parser, an XML file or a reader could
//! act on or be fooled by: control characters (C0, DEL, C1: colour, clear-screen, OSC titles,
//! NUL, BEL, and line breaks, so server text never starts a line of its own), Unicode line
//! separators and bidirectional overrides, the noncharacters XML 1.0 forbids (U+FFFE, U+FFFF,
//! …), and the `##[` marker GitHub Actions honours anywhere in a line. [`outside`] is the one
//! order every such text goes through: secrets masked first (in every derived form), then
//! escaped, then bounded — so a cut never leaves half a secret.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::redact::Redactor;

/// The characters [`visible`] escapes.
fn needs_escape(c: char) -> bool {
    let u = c as u32;
    c.is_control()
        || matches!(u, 0x2028 | 0x2029 | 0x200E | 0x200F | 0x061C)
        || (0x202A..=0x202E).contains(&u)
        || (0x2066..=0x2069).contains(&u)
        || (0xFDD0..=0xFDEF).contains(&u)
        || (u & 0xFFFE) == 0xFFFE
}

/// `s` with every character a terminal, log parser or XML reader could act on written as an
/// escape (`\n`, `\x1b`, `\u{202e}`), and GitHub's `##[` command marker broken (`#\x23[`).
pub fn visible(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) && !s.contains("##[") {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) && (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out.replace("##[", "#\\x23["))
}

/// `s` with every character XML 1.0 forbids (control characters other than tab and line
/// breaks, U+FFFE, U+FFFF) written as an escape, so an XML file stays well-formed whatever a
/// name or message holds.
pub fn xml_safe(s: &str) -> Cow<'_, str> {
    let forbidden = |c: char| {
        let u = c as u32;
        (u < 0x20 && !matches!(c, '\t' | '\n' | '\r')) || u == 0xFFFE || u == 0xFFFF
    };
    if !s.chars().any(forbidden) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if forbidden(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A header value as text: UTF-8 when it is, else ISO-8859-1 (what HTTP headers were, and
/// what servers such as Python's send), so no byte is lost before secrets are looked for.
pub fn header_text(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(bytes.iter().map(|&b| b as char).collect()),
    }
}

/// Truncate text to `max` characters, marking the cut.
pub fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((at, _)) => format!("{}…", &s[..at]),
    }
}

/// True when [`outside`] would return `s` unchanged (no secret, no URL credential, nothing to
/// escape, short enough): the common case, answered without allocating.
pub fn is_inert(s: &str, max: usize, redactor: &Redactor) -> bool {
    s.len() <= max
        && !s.contains('@')
        && !s.contains('=')
        && !s.chars().any(needs_escape)
        && !s.contains("##[")
        && !redactor.contains_secret(s)
}

/// Text from outside, ready for a report: secrets masked (known ones, and credentials any
/// URL in it carries), then made [`visible`], then cut to `max` characters.
pub fn outside(s: &str, max: usize, redactor: &Redactor) -> String {
    let masked = redactor.redact(s);
    let masked = mask_url_credentials(&masked);
    truncate(&visible(&masked), max)
}

/// Credentials a URL carries, masked wherever a URL appears in text: a userinfo password
/// (`://user:[REDACTED]@`) and the values of query parameters named like a credential
/// (`?token=[REDACTED]`) — also in a URL smokegate could not send (an error message quotes
/// it before its credentials could be known).
pub fn mask_url_credentials(s: &str) -> Cow<'_, str> {
    // Cheap tests first: compiling the two patterns costs more than a whole one-check run's
    // other work, and almost every text (a `charset=utf-8` header included) has nothing to
    // mask.
    let has_userinfo = s.contains("://") && s.contains('@');
    let has_query = has_credential_parameter(s);
    if !has_userinfo && !has_query {
        return Cow::Borrowed(s);
    }
    mask_with_patterns(s, has_userinfo, has_query)
}

/// [`mask_url_credentials`] by its two patterns (the userinfo one if `has_userinfo`, the
/// query one if `has_query`).
fn mask_with_patterns(s: &str, has_userinfo: bool, has_query: bool) -> Cow<'_, str> {
    use std::sync::OnceLock;
    static USERINFO: OnceLock<regex::Regex> = OnceLock::new();
    static QUERY: OnceLock<regex::Regex> = OnceLock::new();
    let userinfo = USERINFO.get_or_init(|| {
        // Greedy up to the last `@` before the path: a password may hold a raw `@`.
        regex::Regex::new(r#"(://[^/\s:@"'<>`]*:)[^\s/"'<>`]*@"#).expect("valid regex")
    });
    let query = QUERY.get_or_init(|| {
        regex::Regex::new(r#"([?&;])([A-Za-z0-9_.\-]+)=([^&;\s#"'<>`]+)"#).expect("valid regex")
    });
    let once = if has_userinfo {
        userinfo.replace_all(s, "${1}[REDACTED]@")
    } else {
        Cow::Borrowed(s)
    };
    if !has_query {
        return match once {
            Cow::Borrowed(_) => Cow::Borrowed(s),
            Cow::Owned(o) => Cow::Owned(o),
        };
    }
    let twice = query.replace_all(&once, |c: &regex::Captures<'_>| {
        if crate::redact::is_credential_field(&c[2]) {
            // What follows an already masked secret is not the secret, and a `)` with no
            // `(` before it in the value closes the prose around the URL (`… (x?token=v)`).
            let v = &c[3];
            let rest = match v.strip_prefix(crate::redact::MASK) {
                Some(rest) => rest,
                None if v.ends_with(')') && !v.contains('(') => &v[v.trim_end_matches(')').len()..],
                None => "",
            };
            format!("{}{}=[REDACTED]{rest}", &c[1], &c[2])
        } else {
            c[0].to_string()
        }
    });
    let unchanged = matches!(once, Cow::Borrowed(_)) && matches!(twice, Cow::Borrowed(_));
    if unchanged {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(twice.into_owned())
    }
}

/// Whether `s` has a `?name=`, `&name=` or `;name=` whose name is a credential's — the only
/// parameters [`mask_url_credentials`] changes (its pattern's name is the whole run of name
/// characters between the separator and the `=`, as found here).
fn has_credential_parameter(s: &str) -> bool {
    let name_char = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-');
    let bytes = s.as_bytes();
    bytes.iter().enumerate().any(|(eq, &b)| {
        if b != b'=' {
            return false;
        }
        let start = bytes[..eq]
            .iter()
            .rposition(|&c| !name_char(c))
            .map_or(0, |i| i + 1);
        start > 0
            && start < eq
            && matches!(bytes[start - 1], b'?' | b'&' | b';')
            && crate::redact::is_credential_field(&s[start..eq])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_markers_are_made_visible() {
        assert_eq!(visible("plain text"), "plain text");
        assert_eq!(
            visible("a\x1b[2J\x07\0b\r\n::error::x"),
            "a\\x1b[2J\\x07\\x00b\\r\\n::error::x"
        );
        assert_eq!(visible("x ##[error]forged"), "x #\\x23[error]forged");
        assert_eq!(
            visible("\u{202e}evil\u{fffe}\u{ffff}"),
            "\\u{202e}evil\\u{fffe}\\u{ffff}"
        );
        assert_eq!(visible("\u{85}\u{9b}31m"), "\\x85\\x9b31m");
        assert_eq!(visible("Grüße, 日本"), "Grüße, 日本");
    }

    #[test]
    fn xml_forbidden_characters_are_escaped_and_line_breaks_kept() {
        assert_eq!(xml_safe("a\nb\tc"), "a\nb\tc");
        assert_eq!(xml_safe("x\u{fffe}\u{1}y"), "x\\u{fffe}\\u{1}y");
    }

    #[test]
    fn header_bytes_that_are_not_utf8_are_read_as_latin1() {
        assert_eq!(header_text("é".as_bytes()), "é");
        assert_eq!(header_text(&[b'a', 0xE9, b'x']), "aéx");
    }

    #[test]
    fn url_credentials_are_masked_in_any_text() {
        assert_eq!(
            mask_url_credentials("invalid URL `http://ann:Pw-42@h.test:x/p?token=T0k&v=1`"),
            "invalid URL `http://ann:[REDACTED]@h.test:x/p?token=[REDACTED]&v=1`"
        );
        assert_eq!(mask_url_credentials("a=b c"), "a=b c");
        assert_eq!(
            mask_url_credentials("`http://ann:Pw@With-46@h.test/x?token=T`: bad"),
            "`http://ann:[REDACTED]@h.test/x?token=[REDACTED]`: bad"
        );
        assert_eq!(
            mask_url_credentials("http://h.test/?max_tokens=5"),
            "http://h.test/?max_tokens=5"
        );
    }

    #[test]
    fn the_cheap_tests_skip_only_texts_the_patterns_leave_alone() {
        // Every text over an alphabet of URL pieces (all 4-piece sequences): skipping the
        // patterns when the cheap tests say so changes nothing.
        let pieces = [
            "?", "&", ";", "=", "@", "://", ":", "/", " ", "token", "charset", "a.b", "x", "(",
            ")", "#", "utf-8", "api_key", "-",
        ];
        let mut checked = 0;
        let n = pieces.len();
        for i in 0..n.pow(4) {
            let s: String = (0..4).map(|k| pieces[(i / n.pow(k)) % n]).collect();
            assert_eq!(
                mask_url_credentials(&s),
                mask_with_patterns(&s, true, true),
                "{s:?}"
            );
            checked += 1;
        }
        assert_eq!(checked, 130_321);
        assert!(!has_credential_parameter(
            "content-type: application/json; charset=utf-8"
        ));
        assert!(has_credential_parameter("GET /x?a=1&token=2"));
        assert!(!has_credential_parameter("token=2"));
    }

    #[test]
    fn a_masked_query_credential_keeps_the_closing_parenthesis_after_it() {
        let r = Redactor::default();
        r.add("Cl1ent-Secr3t+/=&x%Y!").unwrap();
        let said = "invalid_client (bad credentials: body=grant_type=client_credentials&client_id=cli2&client_secret=Cl1ent-Secr3t%2B%2F%3D%26x%25Y%21)";
        assert_eq!(
            outside(said, 500, &r),
            "invalid_client (bad credentials: body=grant_type=client_credentials&client_id=cli2&client_secret=[REDACTED])"
        );
        // An unknown credential value in prose: the `)` closes the prose.
        assert_eq!(
            mask_url_credentials("denied (see http://h.test/?token=T0k3n)"),
            "denied (see http://h.test/?token=[REDACTED])"
        );
        // A `(` in the value makes its `)` part of it.
        assert_eq!(mask_url_credentials("x?token=a(b)"), "x?token=[REDACTED]");
    }

    #[test]
    fn secrets_are_masked_before_the_cut() {
        let r = Redactor::default();
        r.add("s3cret-token-value").unwrap();
        // The cut falls inside the secret: it is masked first, so no part of it survives.
        let text = format!("{}s3cret-token-value tail", "x".repeat(10));
        let out = outside(&text, 15, &r);
        assert!(!out.contains("s3cr"), "{out}");
        assert_eq!(out, "xxxxxxxxxx[REDA…");
    }
}
