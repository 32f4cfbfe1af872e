//! HTTP: the one shared client of a run, name resolution with overrides, and error causes.

pub mod client;
pub mod error;
pub mod resolve;

pub use client::{HttpClient, NetConfig, Prepared, Sent};
pub use error::{HttpError, HttpErrorKind};
pub use resolve::{Resolution, ResolveRule, ResolvedBy, SmartResolver};
