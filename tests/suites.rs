//! Every bundled suite case as one `cargo test` trial, run against the healthy sample
//! deployment on loopback.

fn main() {
    let args = libtest_mimic::Arguments::from_args();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let deployment = rt
        .block_on(sample_deployment::SampleDeployment::start(&[]))
        .expect("sample deployment starts on loopback");
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut env: std::collections::HashMap<String, String> = std::env::vars().collect();
    env.extend(deployment.vars());
    let plan_opts = smokegate::plan::PlanOptions {
        env,
        ..Default::default()
    };
    let mut run_opts = smokegate::runner::RunOptions::default();
    run_opts.net.resolve = deployment
        .resolves()
        .iter()
        .map(|r| smokegate::http::ResolveRule::parse(r).expect("valid resolve rule"))
        .collect();
    run_opts.deadline = Some(std::time::Duration::from_secs(60));
    let trials = smokegate::testing::trials(&[root.join("suites")], plan_opts, run_opts)
        .unwrap_or_else(|d| panic!("bundled suites are invalid:\n{d}"));
    let conclusion = libtest_mimic::run(&args, trials);
    drop(deployment);
    drop(rt);
    conclusion.exit();
}
