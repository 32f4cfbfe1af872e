//! Human durations: `500ms`, `1.5s`, `5m`, `1h`, at most 7 days.
//!
//! In a suite a duration always carries its unit: a bare number is an error that says which
//! unit to add (is `500` milliseconds or seconds?). On the command line a bare number means
//! seconds, as in curl (`--max-time 10`, `--connect-timeout 5`).

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// The longest duration accepted anywhere (a guard against typos such as `5000h`).
pub const MAX_DURATION: Duration = Duration::from_secs(7 * 86_400);

/// A duration written with a unit: `500ms`, `1.5s`, `5m`, `1h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dur(pub Duration);

/// Why a duration was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DurationError {
    /// A number without a unit (in a suite).
    #[error("duration `{0}` has no unit: write `{0}ms` or `{0}s`")]
    NoUnit(String),
    /// Not a number followed by a unit.
    #[error("invalid duration `{0}`, expected e.g. 500ms, 10s, 5m")]
    Invalid(String),
    /// A unit other than ms, s, m, min, h.
    #[error("invalid duration unit `{unit}` in `{text}`, expected ms, s, m or h")]
    Unit {
        /// The unit found.
        unit: String,
        /// The whole duration as written.
        text: String,
    },
    /// Negative, not finite, or longer than [`MAX_DURATION`].
    #[error("duration `{0}` is out of range (0 to 7 days)")]
    OutOfRange(String),
    /// An age (`newer_than`, `older_than`) that is negative or longer than [`MAX_AGE`].
    #[error("age `{0}` is out of range (0 to 36500d)")]
    AgeOutOfRange(String),
    /// An age without a unit.
    #[error("age `{0}` has no unit: write e.g. `{0}m`, `{0}h` or `{0}d`")]
    AgeNoUnit(String),
}

/// What a number without a unit means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BareNumber {
    /// Refused (suites).
    Error,
    /// Seconds (the command line, as curl).
    Seconds,
}

/// Parse a duration of a suite: the unit is required.
pub fn parse_duration(s: &str) -> Result<Duration, DurationError> {
    parse_with(s, BareNumber::Error)
}

/// Parse a duration given on the command line: a bare number is seconds, as in curl.
pub fn parse_cli_duration(s: &str) -> Result<Duration, DurationError> {
    parse_with(s, BareNumber::Seconds)
}

/// Parse a duration; `bare` says what a number without a unit means.
pub fn parse_with(s: &str, bare: BareNumber) -> Result<Duration, DurationError> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    if num.is_empty() && s.starts_with('-') {
        return Err(DurationError::OutOfRange(s.to_string()));
    }
    let n: f64 = num
        .parse()
        .map_err(|_| DurationError::Invalid(s.to_string()))?;
    let secs = match (unit.trim(), bare) {
        ("", BareNumber::Error) => return Err(DurationError::NoUnit(s.to_string())),
        ("", BareNumber::Seconds) | ("s", _) => n,
        ("ms", _) => n / 1000.0,
        ("m" | "min", _) => n * 60.0,
        ("h", _) => n * 3600.0,
        (other, _) => {
            return Err(DurationError::Unit {
                unit: other.to_string(),
                text: s.to_string(),
            })
        }
    };
    if !secs.is_finite() || !(0.0..=MAX_DURATION.as_secs_f64()).contains(&secs) {
        return Err(DurationError::OutOfRange(s.to_string()));
    }
    Ok(Duration::from_secs_f64(secs))
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration with a unit, such as 500ms, 10s or 5m")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dur, E> {
                Err(E::custom(DurationError::NoUnit(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dur, E> {
                Err(E::custom(DurationError::NoUnit(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dur, E> {
                Err(E::custom(DurationError::NoUnit(v.to_string())))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Dur, E> {
                parse_duration(v).map(Dur).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// The longest age a freshness check accepts (`newer_than`, `older_than`): 100 years.
pub const MAX_AGE: Duration = Duration::from_secs(36_500 * 86_400);

/// An age for freshness checks (`newer_than: 10m`, `older_than: 30d`): the units of a
/// duration plus `d` (days) and `w` (weeks), up to [`MAX_AGE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Age(pub Duration);

/// Parse an age: a number and a unit (`ms`, `s`, `m`, `min`, `h`, `d`, `w`).
pub fn parse_age(s: &str) -> Result<Duration, DurationError> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let days = match unit.trim() {
        "d" => 1.0,
        "w" => 7.0,
        "" => return Err(DurationError::AgeNoUnit(t.to_string())),
        _ => {
            // Same units as a duration, without its 7-day cap.
            let n: f64 = num
                .parse()
                .map_err(|_| DurationError::Invalid(t.to_string()))?;
            let one =
                parse_with(&format!("1{}", unit.trim()), BareNumber::Error).map_err(|_| {
                    DurationError::Unit {
                        unit: unit.trim().to_string(),
                        text: t.to_string(),
                    }
                })?;
            return age_of(n * one.as_secs_f64(), t);
        }
    };
    let n: f64 = num
        .parse()
        .map_err(|_| DurationError::Invalid(t.to_string()))?;
    age_of(n * days * 86_400.0, t)
}

fn age_of(secs: f64, text: &str) -> Result<Duration, DurationError> {
    if !secs.is_finite() || !(0.0..=MAX_AGE.as_secs_f64()).contains(&secs) {
        return Err(DurationError::AgeOutOfRange(text.to_string()));
    }
    Ok(Duration::from_secs_f64(secs))
}

impl<'de> Deserialize<'de> for Age {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Age;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an age with a unit, such as 10m, 6h, 30d or 2w")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Age, E> {
                Err(E::custom(DurationError::AgeNoUnit(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Age, E> {
                Err(E::custom(DurationError::AgeNoUnit(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Age, E> {
                Err(E::custom(DurationError::AgeNoUnit(v.to_string())))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Age, E> {
                parse_age(v).map(Age).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_take_days_and_weeks() {
        assert_eq!(parse_age("30d").unwrap(), Duration::from_secs(30 * 86_400));
        assert_eq!(parse_age("2w").unwrap(), Duration::from_secs(14 * 86_400));
        assert_eq!(parse_age("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_age("200h").unwrap(), Duration::from_secs(200 * 3600));
        assert!(parse_age("10").is_err());
        assert!(parse_age("5y").is_err());
    }

    #[test]
    fn parses_units() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("8d").is_err());
        assert!(parse_duration("169h").is_err());
    }

    #[test]
    fn a_bare_number_needs_a_unit_in_suites_and_is_seconds_on_the_command_line() {
        assert_eq!(
            parse_duration("250").unwrap_err().to_string(),
            "duration `250` has no unit: write `250ms` or `250s`"
        );
        assert_eq!(parse_cli_duration("10").unwrap(), Duration::from_secs(10));
        assert_eq!(
            parse_cli_duration("250ms").unwrap(),
            Duration::from_millis(250)
        );
        assert!(parse_cli_duration("999999999").is_err(), "past the cap");
    }

    #[test]
    fn a_bare_yaml_number_is_refused_not_read_as_milliseconds() {
        #[derive(Deserialize, Debug)]
        struct T {
            #[allow(dead_code)]
            t: Dur,
        }
        for yaml in ["t: 5000", "t: 99999999999999", "t: 1.5", "t: -3"] {
            let e = serde_saphyr::from_str::<T>(yaml).unwrap_err().to_string();
            assert!(e.contains("has no unit"), "{yaml}: {e}");
        }
    }
}
