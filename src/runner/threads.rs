//! How many runtime threads drive a run.
//!
//! A run is I/O-bound: one thread drives every connection, case and reporter without handing
//! work across threads, and that is the default. Measured for issue 16 (bench/PROFILE.md, "One
//! core or two"): on 2 cores shared with the server, one thread beat two in every workload,
//! 64 full TLS handshakes at once included (W2 over HTTPS 297 vs 346 ms, 220 vs 292 ms of
//! CPU), so nothing switches to two on its own. A machine whose server is elsewhere and whose
//! cores are idle may do better with more: `SMOKEGATE_WORKER_THREADS=N`. The CPU-bound parts
//! that pay already use the cores: a large suite file is parsed on one thread per core.

/// The environment variable that asks for a multi-threaded runtime with that many worker
/// threads; unset, empty, 0, 1 or not a number = the single-threaded runtime.
pub const WORKER_THREADS_ENV: &str = "SMOKEGATE_WORKER_THREADS";

/// The worker threads of a run: [`WORKER_THREADS_ENV`] if it names more than one, else 1.
pub fn worker_threads() -> usize {
    parse(std::env::var(WORKER_THREADS_ENV).ok().as_deref())
}

fn parse(value: Option<&str>) -> usize {
    value
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 1)
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn one_thread_unless_more_are_asked_for() {
        for one in [
            None,
            Some(""),
            Some(" "),
            Some("0"),
            Some("1"),
            Some("two"),
            Some("-2"),
        ] {
            assert_eq!(parse(one), 1, "{one:?}");
        }
        assert_eq!(parse(Some("2")), 2);
        assert_eq!(parse(Some(" 4 ")), 4);
    }
}
