//! Status expectations: exact code, a list, or a class such as `2xx`.

use super::{ExpectError, Outcome, OutcomeKind, Response};
use crate::suite::model::StatusDef;
use crate::suite::Pos;

/// One accepted status pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum One {
    Code(u16),
    Class(u16),
}

/// Compiled status expectation.
#[derive(Debug, Clone)]
pub struct StatusCheck {
    accepted: Vec<One>,
    /// `{not: …}` / `{not_in: […]}`: statuses refused (then any other is accepted).
    rejected: Vec<One>,
}

impl StatusCheck {
    /// The implicit expectation: any 2xx.
    pub fn success() -> Self {
        StatusCheck {
            accepted: vec![One::Class(2)],
            rejected: Vec::new(),
        }
    }

    /// Compile from the suite form.
    pub fn compile(def: &StatusDef) -> Result<Self, ExpectError> {
        if let StatusDef::Rule(r) = def {
            let mut rejected = Vec::new();
            if let Some(n) = &r.not {
                collect(n, &mut rejected)?;
            }
            for d in r.not_in.iter().flatten() {
                collect(d, &mut rejected)?;
            }
            if r.not.is_none() && r.not_in.is_none() {
                return Err(ExpectError::EmptyStatusRule);
            }
            if rejected.is_empty() {
                return Err(ExpectError::EmptyStatusList);
            }
            return Ok(StatusCheck {
                accepted: Vec::new(),
                rejected,
            });
        }
        let mut accepted = Vec::new();
        collect(def, &mut accepted)?;
        if accepted.is_empty() {
            return Err(ExpectError::EmptyStatusList);
        }
        Ok(StatusCheck {
            accepted,
            rejected: Vec::new(),
        })
    }

    /// Whether `code` is accepted, and the accepted codes in words (`301 or 308`).
    pub fn accepts(&self, code: u16) -> (bool, String) {
        let ok = self.accepted.iter().any(|o| match o {
            One::Code(c) => *c == code,
            One::Class(c) => code / 100 == *c,
        });
        (ok, self.describe())
    }

    fn describe(&self) -> String {
        let list = |l: &[One]| {
            l.iter()
                .map(|o| match o {
                    One::Code(c) => c.to_string(),
                    One::Class(c) => format!("{c}xx"),
                })
                .collect::<Vec<_>>()
        };
        if self.accepted.is_empty() {
            format!("not {}", list(&self.rejected).join(" nor "))
        } else {
            list(&self.accepted).join(" or ")
        }
    }

    /// Judge the response status.
    pub fn evaluate(&self, resp: &Response, pos: Option<Pos>) -> Outcome {
        let expected = self.describe();
        let is = |o: &One| match o {
            One::Code(c) => *c == resp.status,
            One::Class(c) => resp.status / 100 == *c,
        };
        let ok = (self.accepted.is_empty() || self.accepted.iter().any(is))
            && !self.rejected.iter().any(is);
        let o = Outcome::new(OutcomeKind::Status, format!("status {expected}"), pos);
        if ok {
            o
        } else {
            o.fail(
                expected.clone(),
                resp.status.to_string(),
                format!("expected status {expected}, got {}", resp.status),
            )
        }
    }
}

fn collect(def: &StatusDef, out: &mut Vec<One>) -> Result<(), ExpectError> {
    match def {
        StatusDef::Code(c) => {
            if !(100..=599).contains(c) {
                return Err(ExpectError::StatusRange(*c));
            }
            out.push(One::Code(*c));
        }
        StatusDef::List(l) => {
            for d in l {
                collect(d, out)?;
            }
        }
        StatusDef::Rule(_) => {
            return Err(ExpectError::Status(
                "{not: …} inside a list or a negation".into(),
            ))
        }
        StatusDef::Text(t) => {
            let t = t.trim();
            if let Ok(c) = t.parse::<u16>() {
                return collect(&StatusDef::Code(c), out);
            }
            let b = t.as_bytes();
            if b.len() == 3 && (b'1'..=b'5').contains(&b[0]) && t[1..].eq_ignore_ascii_case("xx") {
                out.push(One::Class(u16::from(b[0] - b'0')));
            } else {
                return Err(ExpectError::Status(t.to_string()));
            }
        }
    }
    Ok(())
}
