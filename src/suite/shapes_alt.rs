//! Hand-written deserializers for the remaining two-shape values (a text or a rule object, a
//! flag or a count, one value or a list), so that a value of neither shape is reported with
//! what was expected ("expected `true`, `false` or the most redirects to follow") instead of
//! serde's "data did not match any variant of untagged enum".

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer, StrDeserializer};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::facts::{NameRuleDef, NameRuleParts, OneOrList, TextRuleDef, TextRuleParts};
use super::model::{BodySizeDef, OneOrMany, Redirects, SchemaDef, SchemaDetailed, SizeRange};

/// `Deserialize` for an enum that is a text (`$text`) or a rule object (`$rule` of `$parts`).
macro_rules! text_or_object {
    ($ty:ty, $text:path, $rule:path, $parts:ty, $expecting:literal) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$ty, E> {
                        Ok($text(v.to_string()))
                    }
                    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<$ty, A::Error> {
                        <$parts>::deserialize(MapAccessDeserializer::new(map)).map($rule)
                    }
                }
                d.deserialize_any(V)
            }
        }
    };
}

text_or_object!(
    TextRuleDef,
    TextRuleDef::Equals,
    TextRuleDef::Rule,
    TextRuleParts,
    "the text it equals, or a rule such as {contains: …} / {matches: …}"
);
text_or_object!(
    NameRuleDef,
    NameRuleDef::Equals,
    NameRuleDef::Rule,
    NameRuleParts,
    "the distinguished name it equals (\"CN=…, O=…\"), or rules such as {cn: …}"
);
text_or_object!(
    SchemaDef,
    SchemaDef::File,
    SchemaDef::Detailed,
    SchemaDetailed,
    "a schema file's path (relative to the suite) or {file: …} / {inline: {…}}"
);

impl<'de> Deserialize<'de> for Redirects {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Redirects;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`true`, `false`, or the most redirects to follow (0 to 4294967295)")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Redirects, E> {
                Ok(Redirects::Enabled(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Redirects, E> {
                u32::try_from(v)
                    .map(Redirects::Max)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for BodySizeDef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BodySizeDef;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a size in bytes (a whole number) or bounds {min: …, max: …}")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<BodySizeDef, E> {
                Ok(BodySizeDef::Exact(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<BodySizeDef, A::Error> {
                SizeRange::deserialize(MapAccessDeserializer::new(map)).map(BodySizeDef::Range)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a text or a list of texts")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<OneOrMany, A::Error> {
                Vec::<String>::deserialize(SeqAccessDeserializer::new(seq)).map(OneOrMany::Many)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrList<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = OneOrList<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("one value or a list of values")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrList<T>, E> {
                T::deserialize(StrDeserializer::<E>::new(v)).map(OneOrList::One)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<OneOrList<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(OneOrList::One)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<OneOrList<T>, A::Error> {
                Vec::<T>::deserialize(SeqAccessDeserializer::new(seq)).map(OneOrList::Many)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}
