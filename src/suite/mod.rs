//! Suites: the file model, loading with positions, and diagnostics.

pub mod diag;
pub mod duration;
pub mod facts;
pub mod load;
pub mod model;
mod nonempty;
pub mod samples;
mod shapes;
mod shapes_alt;
mod split;

pub use diag::{Diagnostic, Diagnostics, Pos};
pub use load::{load_suite, LoadedSuite};
pub use model::SuiteFile;
