//! `run --bake WINDOW --every INTERVAL`: the bake mode flags, their bounds, and the options
//! they make (the loop itself is [`crate::runner::bake`]).

use std::time::Duration;

use clap::Args;

use crate::plan::samples::fmt_dur;
use crate::runner::bake::console::BakeConsole;
use crate::runner::bake::{BakeOptions, MAX_WINDOW};
use crate::suite::duration::parse_cli_duration;

/// Shortest `--every`.
pub const MIN_EVERY: Duration = Duration::from_millis(10);

/// Bake mode: re-run the selected suites on a schedule and gate on the aggregate.
#[derive(Debug, Args, Clone, Default)]
pub struct BakeArgs {
    /// Bake: re-run the selected suites every --every for this long (e.g. 10m; at most 24h)
    /// and gate on the aggregate over the window; reports hold per-check aggregates.
    #[arg(
        help_heading = "Bake (rollouts)",
        long,
        value_name = "WINDOW",
        value_parser = parse_window,
        requires = "every",
        conflicts_with_all = ["fail_fast", "max_fail"]
    )]
    pub bake: Option<Duration>,
    /// With --bake: the pause between the starts of two rounds (at least 10ms, at most the
    /// window). A round that takes longer is followed at once, never overlapped.
    #[arg(
        help_heading = "Bake (rollouts)",
        long,
        value_name = "INTERVAL",
        value_parser = parse_every,
        requires = "bake"
    )]
    pub every: Option<Duration>,
    /// With --bake: the share of rounds a check may fail in, e.g. 1% or 0.01 [default: 0,
    /// any blocking failure fails the bake].
    #[arg(
        help_heading = "Bake (rollouts)",
        long = "bake-max-failure-rate",
        value_name = "RATE",
        value_parser = parse_rate,
        requires = "bake"
    )]
    pub bake_max_failure_rate: Option<f64>,
    /// With --bake: stop at the first breach (a check that can no longer keep the failure
    /// rate, or a latency budget broken over the rounds so far).
    #[arg(
        help_heading = "Bake (rollouts)",
        long = "bake-fail-fast",
        requires = "bake"
    )]
    pub bake_fail_fast: bool,
}

impl BakeArgs {
    /// The bake's options (`None` without `--bake`), or why the flags do not go together.
    pub fn options(&self) -> Result<Option<BakeOptions>, String> {
        let Some(window) = self.bake else {
            return Ok(None);
        };
        let Some(every) = self.every else {
            return Err("--bake needs --every (the pause between the starts of two rounds)".into());
        };
        if every > window {
            return Err(format!(
                "--every {} is longer than the --bake window {}: no second round could start",
                fmt_dur(every),
                fmt_dur(window)
            ));
        }
        Ok(Some(BakeOptions {
            window,
            every,
            max_failure_rate: self.bake_max_failure_rate.unwrap_or(0.0),
            fail_fast: self.bake_fail_fast,
        }))
    }
}

/// A `--bake` flag combination clap cannot check alone: reported the way clap reports the
/// others (exit code 2, nothing sent).
pub fn usage_error(message: String) -> i32 {
    use clap::CommandFactory;
    let mut cmd = super::Cli::command();
    // The usage line of `run`, as clap's own errors for `run` show it.
    let run = cmd
        .find_subcommand_mut("run")
        .map(|r| r.clone().bin_name(format!("{} run", cmd_name())));
    let e = match run {
        Some(mut r) => r.error(clap::error::ErrorKind::ArgumentConflict, message),
        None => cmd.error(clap::error::ErrorKind::ArgumentConflict, message),
    };
    let _ = e.print();
    super::exit_codes::CONFIG_ERROR
}

/// The name this program was called by (`smokegate`), as clap shows it in usage lines.
fn cmd_name() -> String {
    std::env::args_os()
        .next()
        .and_then(|a| {
            std::path::Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "smokegate".into())
}

/// The bake's console: where the run's console goes, coloured and quiet as it is.
pub fn console(args: &super::RunArgs, to_stderr: bool, tty: bool) -> BakeConsole {
    let out: Box<dyn std::io::Write + Send> = if to_stderr {
        Box::new(std::io::stderr())
    } else {
        Box::new(std::io::stdout())
    };
    BakeConsole::new(out, args.use_color(), args.quiet, tty)
}

fn parse_window(s: &str) -> Result<Duration, String> {
    let d = parse_cli_duration(s).map_err(|e| e.to_string())?;
    if d.is_zero() || d > MAX_WINDOW {
        return Err(format!(
            "the bake window must be more than 0 and at most 24h, got {}",
            fmt_dur(d)
        ));
    }
    Ok(d)
}

fn parse_every(s: &str) -> Result<Duration, String> {
    let d = parse_cli_duration(s).map_err(|e| e.to_string())?;
    if d < MIN_EVERY {
        return Err(format!(
            "--every must be at least {}ms, got {}",
            MIN_EVERY.as_millis(),
            fmt_dur(d)
        ));
    }
    Ok(d)
}

/// `1%`, `0.5%`, `0.01` or `0`: a share between 0 and 1.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (num, scale) = match t.strip_suffix('%') {
        Some(n) => (n.trim(), 100.0),
        None => (t, 1.0),
    };
    let bad = || {
        format!("expected a share of rounds like 1%, 0.5% or 0.01 (between 0 and 100%), got `{s}`")
    };
    let n: f64 = num.parse().map_err(|_| bad())?;
    let x = n / scale;
    if !x.is_finite() || !(0.0..=1.0).contains(&x) {
        return Err(bad());
    }
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_windows_and_intervals_have_bounds() {
        assert_eq!(parse_rate("1%"), Ok(0.01));
        assert_eq!(parse_rate("0.25"), Ok(0.25));
        assert_eq!(parse_rate("0"), Ok(0.0));
        assert!(parse_rate("101%").is_err());
        assert!(parse_rate("-1%").is_err());
        assert!(parse_rate("x").is_err());
        assert!(parse_window("0").is_err());
        assert!(parse_window("25h").is_err());
        assert_eq!(parse_window("10m"), Ok(Duration::from_secs(600)));
        assert!(parse_every("5ms").is_err());
        assert_eq!(parse_every("30s"), Ok(Duration::from_secs(30)));
        let args = BakeArgs {
            bake: Some(Duration::from_secs(1)),
            every: Some(Duration::from_secs(2)),
            ..Default::default()
        };
        assert!(args.options().unwrap_err().contains("longer than"));
    }
}
