//! Process exit codes: the contract a pipeline gates on. Documented in the README.

/// Every blocking check passed.
pub const SUCCESS: i32 = 0;
/// At least one blocking check failed or could not run (errors count as failures),
/// or the `--deadline` passed before every check finished. In bake mode (`--bake`): a check's
/// aggregate over the window broke its failure rate or a latency budget, or the deadline cut
/// the bake short.
pub const CHECKS_FAILED: i32 = 1;
/// The suite, configuration or command line is invalid; nothing was sent.
pub const CONFIG_ERROR: i32 = 2;
/// smokegate itself failed (e.g. a report could not be written).
pub const INTERNAL_ERROR: i32 = 3;
/// The run was interrupted by SIGINT or SIGTERM (reports are still written; a bake's say how
/// many rounds ran).
pub const INTERRUPTED: i32 = 130;
