//! Run suites under `cargo test`: each case becomes one libtest-mimic trial.
//!
//! ```no_run
//! // tests/smoke.rs, with `harness = false` in Cargo.toml
//! # #[allow(clippy::needless_doctest_main)]
//! fn main() {
//!     let args = libtest_mimic::Arguments::from_args();
//!     let trials = smokegate::testing::trials(&["suites".into()], Default::default(), Default::default())
//!         .expect("suites are valid");
//!     libtest_mimic::run(&args, trials).exit();
//! }
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use libtest_mimic::{Failed, Trial};

use crate::events::Status;
use crate::plan::PlanOptions;
use crate::runner::RunOptions;
use crate::suite::Diagnostics;

/// One trial per case. The suites run once, concurrently, the first time any trial runs;
/// each trial then reports its own case.
pub fn trials(
    paths: &[PathBuf],
    plan_opts: PlanOptions,
    run_opts: RunOptions,
) -> Result<Vec<Trial>, Diagnostics> {
    let plan = crate::load_and_plan(paths, &plan_opts)?;
    let names: Vec<(String, String)> = plan
        .cases
        .iter()
        .map(|c| (plan.suites[c.suite].name.clone(), c.name.to_string()))
        .collect();
    let shared = Arc::new(std::sync::Mutex::new(Some(plan)));
    let results = Arc::new(std::sync::OnceLock::new());
    // Each trial looks its case up in the results, so they are kept whatever the caller set.
    let run_opts = Arc::new(RunOptions {
        keep_results: true,
        ..run_opts
    });
    Ok(names
        .into_iter()
        .map(|(suite, case)| {
            let shared = shared.clone();
            let results = results.clone();
            let run_opts = run_opts.clone();
            let id = format!("{suite}/{case}");
            Trial::test(format!("{suite}::{case}"), move || {
                let all: &Result<Vec<Arc<crate::events::CaseResult>>, String> = results
                    .get_or_init(|| {
                        let plan = shared.lock().unwrap_or_else(|e| e.into_inner()).take();
                        let Some(plan) = plan else {
                            return Err("plan already taken".to_string());
                        };
                        let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
                        rt.block_on(async {
                            crate::runner::run(plan, (*run_opts).clone(), &mut [])
                                .await
                                .map(|o| o.results)
                                .map_err(|e| e.to_string())
                        })
                    });
                let all = all.as_ref().map_err(|e| Failed::from(e.as_str()))?;
                let r = all
                    .iter()
                    .find(|r| r.id == id)
                    .ok_or_else(|| Failed::from("case did not run"))?;
                match r.status {
                    Status::Passed => Ok(()),
                    Status::Skipped => Err(Failed::from(format!(
                        "skipped: {}",
                        r.message.clone().unwrap_or_default()
                    ))),
                    _ => Err(Failed::from(crate::report::details::explain(r, false))),
                }
            })
        })
        .collect())
}
