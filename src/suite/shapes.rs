//! Deserializers for the model's values that take several shapes (a status code, a text, a
//! list or a rule object; a header's text or rule; a size or bounds). Written by hand rather
//! than as `#[serde(untagged)]`: an untagged enum can only say "data did not match any
//! variant", while a misspelt key inside a rule must be named (`unknown field `nwer_than`,
//! expected one of …`) at its line and column.

use std::fmt;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::model::{HeaderDef, HeaderRule, PredicateDef, SizeDef, StatusDef, StatusRule};

impl<'de> Deserialize<'de> for StatusDef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StatusDef;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a status code (200), a class (\"2xx\"), a list of them, or {not: …} / {not_in: […]}")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<StatusDef, E> {
                u16::try_from(v)
                    .map(StatusDef::Code)
                    .map_err(|_| E::custom(format!("status {v} is not an HTTP status (100-599)")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<StatusDef, E> {
                Err(E::custom(format!(
                    "status {v} is not an HTTP status (100-599)"
                )))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StatusDef, E> {
                Ok(StatusDef::Text(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<StatusDef, A::Error> {
                Vec::<StatusDef>::deserialize(SeqAccessDeserializer::new(seq)).map(StatusDef::List)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<StatusDef, A::Error> {
                StatusRule::deserialize(MapAccessDeserializer::new(map)).map(StatusDef::Rule)
            }
        }
        d.deserialize_any(V)
    }
}

/// A scalar as the text a header is compared with.
fn scalar<E: de::Error>(v: impl fmt::Display) -> Result<HeaderDef, E> {
    Ok(HeaderDef::Equals(v.to_string()))
}

impl<'de> Deserialize<'de> for HeaderDef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = HeaderDef;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("the header's value (a text) or a rule such as {matches: …}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<HeaderDef, E> {
                scalar(v)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<HeaderDef, E> {
                scalar(v)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<HeaderDef, E> {
                scalar(v)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<HeaderDef, E> {
                scalar(v)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<HeaderDef, E> {
                scalar(v)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<HeaderDef, A::Error> {
                HeaderRule::deserialize(MapAccessDeserializer::new(map)).map(HeaderDef::Rule)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for SizeDef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SizeDef;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number (exactly that many) or bounds such as {gte: 1, lte: 10}")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<SizeDef, E> {
                Ok(SizeDef::Exact(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<SizeDef, E> {
                u64::try_from(v)
                    .map(SizeDef::Exact)
                    .map_err(|_| E::custom(format!("a size cannot be negative: {v}")))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<SizeDef, A::Error> {
                PredicateDef::deserialize(MapAccessDeserializer::new(map))
                    .map(|p| SizeDef::Rule(Box::new(p)))
            }
        }
        d.deserialize_any(V)
    }
}
