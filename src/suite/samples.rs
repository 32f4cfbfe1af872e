//! The suite model of sampling a check: `samples` (how many times, how fast) and
//! `expect_samples` (budgets over all samples). Checked and compiled by `plan::samples`.

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::duration::Dur;

/// `samples:` — send the case's request many times.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamplesDef {
    /// Send exactly this many samples (1–10,000).
    #[serde(default)]
    pub count: Option<Spanned<u64>>,
    /// Or keep starting samples for this long (at most 1h; needs `every`).
    #[serde(default)]
    pub duration: Option<Spanned<Dur>>,
    /// Pause between the starts of two samples (at least 10ms). Required with `duration`.
    #[serde(default)]
    pub every: Option<Spanned<Dur>>,
    /// Samples in flight at once (1–100, default 1).
    #[serde(default)]
    pub concurrency: Option<Spanned<u64>>,
}

/// `expect_samples:` — budgets over the samples of a case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectSamplesDef {
    /// The median latency is at most this.
    #[serde(default)]
    pub p50: Option<Spanned<Dur>>,
    /// The 90th percentile latency is at most this.
    #[serde(default)]
    pub p90: Option<Spanned<Dur>>,
    /// The 95th percentile latency is at most this.
    #[serde(default)]
    pub p95: Option<Spanned<Dur>>,
    /// The 99th percentile latency is at most this.
    #[serde(default)]
    pub p99: Option<Spanned<Dur>>,
    /// The slowest sample took at most this.
    #[serde(default)]
    pub max: Option<Spanned<Dur>>,
    /// Share of samples allowed to fail: `"< 1%"`, `"<= 0.5%"`, or a fraction (`0.01`, meaning
    /// at most 1%). Default 0: every sample must pass.
    #[serde(default)]
    pub failure_rate: Option<Spanned<RateDef>>,
    /// Stop and fail when this many samples in a row fail (1 stops at the first failure).
    #[serde(default)]
    pub consecutive_failures: Option<Spanned<u64>>,
}

/// A failure-rate budget as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RateDef {
    /// A fraction between 0 and 1: at most this share may fail.
    Fraction(f64),
    /// `"< 1%"`, `"<= 1%"`, `"1%"` (at most), or `"< 0.01"`.
    Text(String),
}
