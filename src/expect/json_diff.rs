//! JSON-semantic equality of two documents, with the first difference named by its path:
//! object keys in any order, numbers compared by value exactly (`1`, `1.0`, `1e0` and `10e-1`
//! are equal; `10000000000000000001` is not `10000000000000000000`), everything else strictly
//! (a string never equals a number).

use serde_json::{Number, Value};

use crate::redact::is_sensitive_key;

/// The first place two documents differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// JSONPath of the place, e.g. `$.data.items[2].id` (`$` for the whole document).
    pub path: String,
    /// What the expected document has there.
    pub expected: String,
    /// What the body has there.
    pub actual: String,
}

/// `None` when `actual` equals `expected`, else the first difference (depth first, in the
/// expected document's order).
pub fn first_difference(expected: &Value, actual: &Value) -> Option<Difference> {
    let mut path = String::from("$");
    diff(expected, actual, &mut path, false)
}

/// `sensitive`: the values here are those of a credential-named key (`access_token`,
/// `password`, …, or an item of its array), shown masked on both sides, as body excerpts
/// mask them.
fn diff(e: &Value, a: &Value, path: &mut String, sensitive: bool) -> Option<Difference> {
    let shown = |v: &Value| {
        if sensitive && !v.is_null() {
            crate::redact::MASK.to_string()
        } else {
            short(v)
        }
    };
    let differ = |path: &String, exp: String, act: String| {
        Some(Difference {
            path: path.clone(),
            expected: exp,
            actual: act,
        })
    };
    match (e, a) {
        (Value::Number(x), Value::Number(y)) => {
            if numbers_equal(x, y) {
                None
            } else {
                differ(path, shown(e), shown(a))
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            for (k, ev) in x {
                let len = path.len();
                push_key(path, k);
                let d = match y.get(k) {
                    Some(av) => diff(ev, av, path, is_sensitive_key(k)),
                    None => differ(path, shown_under(k, ev), "(absent)".into()),
                };
                path.truncate(len);
                if d.is_some() {
                    return d;
                }
            }
            for (k, av) in y {
                if !x.contains_key(k) {
                    let len = path.len();
                    push_key(path, k);
                    let d = differ(path, "(absent)".into(), shown_under(k, av));
                    path.truncate(len);
                    return d;
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) => {
            for (i, (ev, av)) in x.iter().zip(y).enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let d = diff(ev, av, path, sensitive);
                path.truncate(len);
                if d.is_some() {
                    return d;
                }
            }
            if x.len() != y.len() {
                return differ(
                    path,
                    format!("an array of {} items", x.len()),
                    format!("an array of {} items", y.len()),
                );
            }
            None
        }
        _ if e == a => None,
        _ => differ(path, shown(e), shown(a)),
    }
}

/// A value as shown in a difference: scalars whole, containers by their JSON text (the
/// caller bounds the length).
fn short(v: &Value) -> String {
    super::show(v)
}

/// The value of key `k` as shown in a difference: masked when the key names a credential.
fn shown_under(k: &str, v: &Value) -> String {
    if is_sensitive_key(k) && !v.is_null() {
        crate::redact::MASK.to_string()
    } else {
        short(v)
    }
}

fn push_key(path: &mut String, key: &str) {
    let plain = !key.is_empty()
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !key.starts_with(|c: char| c.is_ascii_digit());
    if plain {
        path.push('.');
        path.push_str(key);
    } else {
        path.push_str("['");
        for c in key.chars() {
            match c {
                '\'' => path.push_str("\\'"),
                '\\' => path.push_str("\\\\"),
                c => path.push(c),
            }
        }
        path.push_str("']");
    }
}

/// Two JSON numbers are equal in value: compared as exact decimals from their text.
pub fn numbers_equal(a: &Number, b: &Number) -> bool {
    let (ta, tb) = (a.to_string(), b.to_string());
    match (Decimal::parse(&ta), Decimal::parse(&tb)) {
        (Some(x), Some(y)) => x == y,
        _ => ta == tb,
    }
}

/// A decimal number as sign, significant digits (no leading or trailing zeros) and the
/// exponent of the last digit; zero is `(false, "", 0)`.
#[derive(Debug, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    digits: String,
    exponent: i64,
}

impl Decimal {
    fn parse(text: &str) -> Option<Decimal> {
        let (negative, rest) = match text.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (mantissa, exp) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
            None => (rest, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if !(int.chars().chain(frac.chars())).all(|c| c.is_ascii_digit()) {
            return None;
        }
        let mut digits = format!("{int}{frac}");
        let mut exponent = exp.checked_sub(i64::try_from(frac.len()).ok()?)?;
        let trailing = digits.len() - digits.trim_end_matches('0').len();
        digits.truncate(digits.len() - trailing);
        exponent = exponent.checked_add(i64::try_from(trailing).ok()?)?;
        let digits = digits.trim_start_matches('0').to_string();
        if digits.is_empty() {
            return Some(Decimal {
                negative: false,
                digits,
                exponent: 0,
            });
        }
        Some(Decimal {
            negative,
            digits,
            exponent,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn numbers_compare_by_exact_value() {
        let eq = |a: &str, b: &str| first_difference(&v(a), &v(b)).is_none();
        assert!(eq("1", "1.0"));
        assert!(eq("1", "1e0"));
        assert!(eq("1.50", "15e-1"));
        assert!(eq("100", "1E2"));
        assert!(eq("-0", "0.0"));
        assert!(eq("0.1", "1e-1"));
        assert!(!eq("10000000000000000001", "10000000000000000000"));
        assert!(!eq("1", "-1"));
        assert!(!eq("1", "\"1\""));
        assert!(!eq("0.30000000000000004", "0.3"));
    }

    #[test]
    fn keys_in_any_order_and_the_first_difference_is_named() {
        assert!(
            first_difference(&v(r#"{"a":1,"b":[1,2]}"#), &v(r#"{"b":[1,2.0],"a":1}"#)).is_none()
        );
        let d = first_difference(
            &v(r#"{"data":{"items":[{"id":1},{"id":2}]}}"#),
            &v(r#"{"data":{"items":[{"id":1},{"id":"2"}]}}"#),
        )
        .unwrap();
        assert_eq!(d.path, "$.data.items[1].id");
        assert_eq!((d.expected.as_str(), d.actual.as_str()), ("2", "\"2\""));
        let d = first_difference(&v(r#"{"a":1}"#), &v(r#"{"a":1,"b c":2}"#)).unwrap();
        assert_eq!(d.path, "$['b c']");
        assert_eq!(d.expected, "(absent)");
        let d = first_difference(&v("[1,2]"), &v("[1,2,3]")).unwrap();
        assert_eq!(
            (d.path.as_str(), d.expected.as_str(), d.actual.as_str()),
            ("$", "an array of 2 items", "an array of 3 items")
        );
    }

    #[test]
    fn values_of_credential_named_keys_are_masked() {
        let d = first_difference(
            &v(r#"{"access_token":"x"}"#),
            &v(r#"{"access_token":"LoginTok-1"}"#),
        )
        .unwrap();
        assert_eq!(d.path, "$.access_token");
        assert_eq!(
            (d.expected.as_str(), d.actual.as_str()),
            ("[REDACTED]", "[REDACTED]")
        );
        let d =
            first_difference(&v(r#"{"a":{"pin":1}}"#), &v(r#"{"a":{"password":123456}}"#)).unwrap();
        assert_eq!(d.path, "$.a.pin");
        let d = first_difference(&v(r#"{"a":{}}"#), &v(r#"{"a":{"password":123456}}"#)).unwrap();
        assert_eq!(
            (d.path.as_str(), d.actual.as_str()),
            ("$.a.password", "[REDACTED]")
        );
        let d = first_difference(&v(r#"{"secret":[1,2]}"#), &v(r#"{"secret":[1,3]}"#)).unwrap();
        assert_eq!(
            (d.expected.as_str(), d.actual.as_str()),
            ("[REDACTED]", "[REDACTED]")
        );
        let d = first_difference(&v(r#"{"token_type":"a"}"#), &v(r#"{"token_type":"b"}"#)).unwrap();
        assert_eq!(d.actual, "\"b\"");
    }
}
