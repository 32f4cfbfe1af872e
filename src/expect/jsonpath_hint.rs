//! What to write instead of a JSONPath that does not parse, for the two mistakes people make
//! most: leaving out the root `$`, and a dotted member name that RFC 9535 does not allow
//! unquoted (`$.headers.Content-Type`, `$.items.0`).

use serde_json_path::JsonPath;

/// A suggestion for `src`, which does not parse; `None` when no rewrite of ours parses.
pub fn hint(src: &str) -> Option<String> {
    let t = src.trim();
    if !t.starts_with('$') && !t.starts_with('@') {
        let rooted = if t.starts_with('.') || t.starts_with('[') {
            format!("${t}")
        } else {
            format!("$.{t}")
        };
        let fixed = bracket_names(&rooted).unwrap_or(rooted);
        if JsonPath::parse(&fixed).is_ok() {
            return Some(format!(
                "a JSONPath starts at the document's root `$`: write `{fixed}`"
            ));
        }
        return None;
    }
    let fixed = bracket_names(t)?;
    JsonPath::parse(&fixed).ok()?;
    Some(format!(
        "a member name with characters other than letters, digits and `_` (or starting with a digit) goes in brackets and quotes: write `{fixed}`"
    ))
}

/// `$.a.Content-Type.0` → `$.a['Content-Type'][0]`: every dotted name that is not a valid
/// shorthand, in brackets (quoted, or as an index when it is a number). `None` when there is
/// nothing to change.
fn bracket_names(src: &str) -> Option<String> {
    let mut out = String::with_capacity(src.len() + 8);
    let mut changed = false;
    let chars: Vec<char> = src.chars().collect();
    let mut i = 0;
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            out.push(c);
            if c == '\\' && i + 1 < chars.len() {
                out.push(chars[i + 1]);
                i += 2;
                continue;
            }
            if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '[' | '(' => depth += 1,
            ']' | ')' => depth = depth.saturating_sub(1),
            '.' if depth == 0
                && chars.get(i + 1) != Some(&'.')
                && chars.get(i + 1) != Some(&'*') =>
            {
                // A dotted name runs to the next `.` or `[` at this level.
                let start = i + 1;
                let mut end = start;
                while end < chars.len() && chars[end] != '.' && chars[end] != '[' {
                    end += 1;
                }
                let name: String = chars[start..end].iter().collect();
                if !name.is_empty() && !is_shorthand(&name) {
                    if name.chars().all(|d| d.is_ascii_digit()) {
                        out.push_str(&format!("[{name}]"));
                    } else {
                        out.push_str(&format!("['{}']", name.replace('\'', "\\'")));
                    }
                    changed = true;
                    i = end;
                    continue;
                }
            }
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    changed.then_some(out)
}

/// RFC 9535 member-name-shorthand: a letter, `_` or non-ASCII, then those or digits.
fn is_shorthand(name: &str) -> bool {
    let mut cs = name.chars();
    let first_ok = cs
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || !c.is_ascii());
    first_ok && cs.all(|c| c.is_ascii_alphanumeric() || c == '_' || !c.is_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_root_and_names_that_need_brackets() {
        assert_eq!(
            hint("data.status").unwrap(),
            "a JSONPath starts at the document's root `$`: write `$.data.status`"
        );
        assert_eq!(
            hint(".data").unwrap(),
            "a JSONPath starts at the document's root `$`: write `$.data`"
        );
        assert_eq!(
            hint("$.headers.Content-Type").unwrap(),
            "a member name with characters other than letters, digits and `_` (or starting with a digit) goes in brackets and quotes: write `$.headers['Content-Type']`"
        );
        assert!(hint("$.items.0.id")
            .unwrap()
            .ends_with("write `$.items[0].id`"));
        assert!(hint("headers.x-request-id")
            .unwrap()
            .ends_with("write `$.headers['x-request-id']`"));
        // Quoted and bracketed parts are left alone; nothing to suggest for other mistakes.
        assert_eq!(bracket_names("$['a-b'].c"), None);
        assert_eq!(hint("$[?(@.a == ]"), None);
    }
}
