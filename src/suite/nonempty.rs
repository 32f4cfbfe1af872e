//! Lists and maps that must not be empty when written: an empty check list (`body: {matches:
//! []}`, `cookies: {}`) checks nothing and would pass, so the parser refuses it at its
//! position. Each reader is used with `#[serde(default, deserialize_with = …)]`: a key left
//! out stays empty, a key written empty is an error.

use std::collections::BTreeMap;

use serde::de::{Deserialize, Deserializer, Error};
use serde_saphyr::Spanned;

use super::model::{CookieExpectDef, OneOrMany, Parts};

/// A list read as `T` that must have at least one item; `what` names the key.
fn list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
    what: &str,
) -> Result<Vec<T>, D::Error> {
    let v = Vec::<T>::deserialize(d)?;
    if v.is_empty() {
        return Err(D::Error::custom(format!(
            "`{what}` is empty: it would check nothing; give at least one item or leave the key out"
        )));
    }
    Ok(v)
}

/// A map that must have at least one entry; `what` names the key.
fn map<'de, D: Deserializer<'de>, V: Deserialize<'de>>(
    d: D,
    what: &str,
) -> Result<BTreeMap<String, V>, D::Error> {
    let m = BTreeMap::<String, V>::deserialize(d)?;
    if m.is_empty() {
        return Err(D::Error::custom(format!(
            "`{what}` is empty: give at least one entry or leave the key out"
        )));
    }
    Ok(m)
}

/// `expect.body.contains`.
pub(crate) fn body_contains<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    list(d, "body.contains")
}

/// `expect.body.not_contains`.
pub(crate) fn body_not_contains<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    list(d, "body.not_contains")
}

/// `expect.body.matches`: one regex or a non-empty list.
pub(crate) fn body_matches<'de, D: Deserializer<'de>>(d: D) -> Result<Option<OneOrMany>, D::Error> {
    match OneOrMany::deserialize(d)? {
        OneOrMany::Many(v) if v.is_empty() => Err(D::Error::custom(
            "`body.matches` is an empty list: it would check nothing; give a regex or leave the key out",
        )),
        m => Ok(Some(m)),
    }
}

/// `expect.cookies`.
pub(crate) fn cookies<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Spanned<CookieExpectDef>>, D::Error> {
    map(d, "cookies")
}

/// A multipart form as written: field name → parts.
type Form = Spanned<BTreeMap<String, Spanned<Parts>>>;

/// `request.multipart`: a form with no field is not a multipart body (RFC 2046 needs a part).
pub(crate) fn multipart<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Form>, D::Error> {
    let m = Form::deserialize(d)?;
    if m.value.is_empty() {
        return Err(D::Error::custom(
            "`multipart` is empty: give at least one field (a multipart body needs a part)",
        ));
    }
    Ok(Some(m))
}
