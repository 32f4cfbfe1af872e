//! `smokegate demo`: start the bundled sample deployment on loopback (healthy, or with the
//! faults asked for) and run the bundled suites against it, as a user's real run would.

use std::path::PathBuf;

use sample_deployment::{Fault, SampleDeployment};
use smokegate::cli::{exit_codes, run_command, ColorChoice, DemoArgs, RunArgs};

pub async fn demo(args: DemoArgs) -> i32 {
    let mut faults = Vec::new();
    for f in &args.faults {
        match Fault::from_name(f) {
            Some(x) => faults.push(x),
            None => {
                eprintln!("known faults:");
                for f in Fault::all() {
                    eprintln!("  {}", f.name());
                }
                if f == "list" {
                    return exit_codes::SUCCESS;
                }
                eprintln!("error: unknown fault `{f}`");
                return exit_codes::CONFIG_ERROR;
            }
        }
    }
    let deployment = match SampleDeployment::start(&faults).await {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot start the sample deployment on loopback: {e}");
            return exit_codes::INTERNAL_ERROR;
        }
    };
    let paths = if args.paths.is_empty() {
        let local = PathBuf::from("suites");
        if local.is_dir() {
            vec![local]
        } else {
            vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("suites")]
        }
    } else {
        args.paths.clone()
    };
    let json = args.report_dir.join("report.json");
    let junit = args.report_dir.join("junit.xml");
    println!(
        "sample deployment running on 127.0.0.1 ({} faults); running {}",
        faults.len(),
        paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let run = RunArgs {
        paths,
        env: None,
        vars: Vec::new(),
        secrets: Vec::new(),
        resolve: deployment.resolves(),
        fallback_resolve: Vec::new(),
        cacert: None,
        insecure: false,
        connect_to: Vec::new(),
        dns_servers: Vec::new(),
        cert: None,
        key: None,
        jobs: 16,
        deadline: Some(std::time::Duration::from_secs(120)),
        timeout: std::time::Duration::from_secs(10),
        connect_timeout: std::time::Duration::from_secs(5),
        max_body: 4 * 1024 * 1024,
        filters: Vec::new(),
        tags: Vec::new(),
        skip_tags: Vec::new(),
        report_json: Some(json.clone()),
        report_junit: Some(junit.clone()),
        meta: vec!["target=sample-deployment".into()],
        verbose: args.verbose,
        color: ColorChoice::Auto,
        ci: smokegate::cli::ci::CiArgs {
            report_html: Some(args.report_dir.join("report.html")),
            ..Default::default()
        },
    };
    let code = run_command(&run, &deployment.vars()).await;
    println!("reports: {} and {}", json.display(), junit.display());
    deployment.shutdown();
    code
}
