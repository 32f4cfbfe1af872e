//! Process exit codes: the contract a pipeline gates on. Documented in the README.

/// Every blocking check passed.
pub const SUCCESS: i32 = 0;
/// At least one blocking check failed or could not run (errors count as failures),
/// or the `--deadline` passed before every check finished.
pub const CHECKS_FAILED: i32 = 1;
/// The suite, configuration or command line is invalid; nothing was sent.
pub const CONFIG_ERROR: i32 = 2;
/// smokegate itself failed (e.g. a report could not be written).
pub const INTERNAL_ERROR: i32 = 3;
/// The run was interrupted by SIGINT or SIGTERM (reports are still written).
pub const INTERRUPTED: i32 = 130;
