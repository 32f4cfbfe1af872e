//! How many runtime threads drive a run.
//!
//! A run is I/O-bound: one thread drives every connection, case and reporter without handing
//! work across threads, and a small gate pays nothing for a second thread. Full TLS handshakes
//! are the exception: each costs the client ~1 ms of CPU (signature verification, key
//! exchange), and a run that opens many connections at once over https is bound by them on
//! one core. Such a run gets a multi-threaded runtime with two workers (measured in
//! bench/PROFILE.md: "One core or two"). The other CPU-bound parts already use the cores
//! without it: a large suite file is parsed on one thread per core, and schema validation is
//! ≈ 3 % of a run.

use crate::plan::{HttpsUse, Plan};

use super::RunOptions;

/// The environment variable that overrides the choice: a number of worker threads (1 = the
/// single-threaded runtime); unset, empty, 0 or not a number = automatic.
pub const WORKER_THREADS_ENV: &str = "SMOKEGATE_WORKER_THREADS";

/// At least this many connections opened at once over https (the lesser of `--jobs` and the
/// number of cases) make the run CPU-bound enough for a second worker to pay.
pub const MIN_PARALLEL_HANDSHAKES: usize = 16;

/// The worker threads for `plan` run with `opts`: [`WORKER_THREADS_ENV`] if set, otherwise 2
/// when https is certain and at least [`MIN_PARALLEL_HANDSHAKES`] cases run at once on a
/// machine with two or more cores, otherwise 1.
pub fn worker_threads(plan: &Plan, opts: &RunOptions) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    choose(
        plan,
        opts,
        cores,
        std::env::var(WORKER_THREADS_ENV).ok().as_deref(),
    )
}

fn choose(plan: &Plan, opts: &RunOptions, cores: usize, env: Option<&str>) -> usize {
    if let Some(n) = env.and_then(|v| v.trim().parse::<usize>().ok()) {
        if n > 0 {
            return n;
        }
    }
    let parallel = opts.jobs.min(plan.cases.len());
    if cores >= 2 && parallel >= MIN_PARALLEL_HANDSHAKES && plan.https_use() == HttpsUse::Yes {
        2
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{build, PlanOptions};
    use crate::suite::load::parse_suite;

    fn plan(base: &str, cases: usize) -> Plan {
        let mut y = format!("name: s\nvars: {{base: '{base}'}}\ncases:\n");
        for i in 0..cases {
            y.push_str(&format!(
                "  - name: c{i}\n    request: {{url: '${{base}}/h'}}\n"
            ));
        }
        let s = parse_suite(std::path::Path::new("s.yaml"), y).unwrap();
        build(&[s], &PlanOptions::default()).unwrap()
    }

    fn opts(jobs: usize) -> RunOptions {
        RunOptions {
            jobs,
            ..RunOptions::default()
        }
    }

    #[test]
    fn two_workers_only_for_many_https_connections_at_once() {
        let https = plan("https://api.test", 64);
        assert_eq!(choose(&https, &opts(64), 2, None), 2);
        assert_eq!(choose(&https, &opts(64), 8, None), 2);
        // Too few at once: the gate stays on one thread.
        assert_eq!(choose(&https, &opts(4), 2, None), 1);
        assert_eq!(choose(&plan("https://api.test", 3), &opts(64), 2, None), 1);
        // Plain http, or one core.
        assert_eq!(choose(&plan("http://api.test", 64), &opts(64), 2, None), 1);
        assert_eq!(choose(&https, &opts(64), 1, None), 1);
    }

    #[test]
    fn the_environment_overrides_the_choice() {
        let http = plan("http://api.test", 64);
        assert_eq!(choose(&http, &opts(64), 2, Some("3")), 3);
        let https = plan("https://api.test", 64);
        assert_eq!(choose(&https, &opts(64), 2, Some("1")), 1);
        for automatic in ["", "0", "two", " "] {
            assert_eq!(
                choose(&https, &opts(64), 2, Some(automatic)),
                2,
                "{automatic:?}"
            );
        }
    }
}
