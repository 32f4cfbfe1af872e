//! `smokegate demo`: start the bundled sample deployment on loopback (healthy, or with the
//! faults asked for) and run the bundled suites against it, as a user's real run would.
//!
//! The bundled suites and the schemas they name are embedded in the binary, so the demo
//! works after `cargo install`, from any folder, and never runs a `suites/` folder it happens
//! to start in (a user's real suites, against real hosts).

use std::path::{Path, PathBuf};

use sample_deployment::{Fault, SampleDeployment};
use smokegate::cli::{
    exit_codes, print_err, print_line, run_command, ColorChoice, DemoArgs, RunArgs,
};

pub async fn demo(args: DemoArgs) -> i32 {
    let mut faults = Vec::new();
    let width = Fault::all()
        .iter()
        .map(|f| f.name().len())
        .max()
        .unwrap_or(0);
    let listing = || {
        Fault::all()
            .iter()
            .map(|f| format!("{:width$}  {}", f.name(), f.description()))
            .collect::<Vec<_>>()
    };
    for f in &args.faults {
        match Fault::from_name(f) {
            Some(x) => faults.push(x),
            // `--fault list`: one line per fault on stdout, for reading or for scripts.
            None if f == "list" => {
                for line in listing() {
                    print_line(&line);
                }
                return exit_codes::SUCCESS;
            }
            None => {
                print_err(&format!("error: unknown fault `{f}`; known faults:"));
                for line in listing() {
                    print_err(&format!("  {line}"));
                }
                return exit_codes::CONFIG_ERROR;
            }
        }
    }
    let deployment = match SampleDeployment::start(&faults).await {
        Ok(d) => d,
        Err(e) => {
            print_err(&format!(
                "error: cannot start the sample deployment on loopback: {e}"
            ));
            return exit_codes::INTERNAL_ERROR;
        }
    };
    if args.serve {
        return serve(deployment, &faults, &args).await;
    }
    // The bundled suites are written next to the reports, so the paths the reports give for
    // each check lead to the suite that holds it.
    let bundled_dir = args.report_dir.join("bundled");
    let bundled = match args
        .paths
        .is_empty()
        .then(|| write_bundled(&bundled_dir))
        .transpose()
    {
        Ok(b) => b,
        Err(e) => {
            print_err(&format!(
                "error: cannot write the bundled suites to {}: {e}",
                bundled_dir.display()
            ));
            return exit_codes::INTERNAL_ERROR;
        }
    };
    let paths = match &bundled {
        Some(dir) => vec![dir.join("suites")],
        None => args.paths.clone(),
    };
    let json = args.report_dir.join("report.json");
    let junit = args.report_dir.join("junit.xml");
    let running = match &bundled {
        Some(_) => format!(
            "the bundled suites ({})",
            BUNDLED
                .iter()
                .filter_map(|(p, _)| p.strip_prefix("suites/"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
    };
    print_line(&format!(
        "sample deployment running on 127.0.0.1 ({} faults); running {running}",
        faults.len(),
    ));
    let run = RunArgs {
        paths,
        env: None,
        vars: Vec::new(),
        secrets: Vec::new(),
        variables_files: Vec::new(),
        secrets_files: Vec::new(),
        resolve: deployment.resolves(),
        fallback_resolve: Vec::new(),
        cacert: None,
        insecure: false,
        connect_to: Vec::new(),
        dns_servers: Vec::new(),
        // The sample runs on loopback here: never through a proxy of the environment.
        proxy: None,
        noproxy: Some("*".into()),
        cert: None,
        key: None,
        jobs: 16,
        deadline: Some(std::time::Duration::from_secs(120)),
        timeout: std::time::Duration::from_secs(10),
        connect_timeout: std::time::Duration::from_secs(5),
        max_body: 4 * 1024 * 1024,
        fail_fast: false,
        max_fail: None,
        filters: Vec::new(),
        tags: Vec::new(),
        skip_tags: Vec::new(),
        report_json: Some(json.clone()),
        report_junit: Some(junit.clone()),
        meta: vec!["target=sample-deployment".into()],
        verbose: args.verbose,
        quiet: false,
        color: ColorChoice::Auto,
        ci: smokegate::cli::ci::CiArgs {
            report_html: Some(args.report_dir.join("report.html")),
            ..Default::default()
        },
    };
    // `run` names every report it wrote (JSON, JUnit, HTML).
    let code = run_command(&run, &deployment.vars()).await;
    deployment.shutdown();
    code
}

/// `demo --serve`: keep the deployment up and print what to paste into another shell: the
/// environment variables the suites read, and the `smokegate run` line with every
/// `--resolve` (the bundled suites are written where the line says). Ends on Ctrl-C or
/// SIGTERM.
async fn serve(deployment: SampleDeployment, faults: &[Fault], args: &DemoArgs) -> i32 {
    let bundled_dir = args.report_dir.join("bundled");
    let suites = if args.paths.is_empty() {
        match write_bundled(&bundled_dir) {
            Ok(dir) => vec![dir.join("suites")],
            Err(e) => {
                print_err(&format!(
                    "error: cannot write the bundled suites to {}: {e}",
                    bundled_dir.display()
                ));
                return exit_codes::INTERNAL_ERROR;
            }
        }
    } else {
        args.paths.clone()
    };
    let mut lines = vec![format!(
        "sample deployment running on 127.0.0.1 ({} faults) until Ctrl-C. In another shell, from this folder:",
        faults.len()
    )];
    lines.push(String::new());
    for (k, v) in deployment.vars() {
        lines.push(format!("export {k}={}", shell_quote(&v)));
    }
    let mut run = vec!["smokegate run".to_string()];
    run.extend(suites.iter().map(|p| shell_quote(&p.display().to_string())));
    for r in deployment.resolves() {
        run.push(format!("--resolve {}", shell_quote(&r)));
    }
    // The sample is on loopback: never through a proxy of the environment.
    run.push("--noproxy '*'".into());
    lines.push(run.join(" \\\n    "));
    lines.push(String::new());
    lines.push(
        "Add --env staging (or production) to pick a profile, --report-html out.html for a report."
            .into(),
    );
    for l in &lines {
        print_line(l);
    }
    wait_for_stop().await;
    print_line("sample deployment stopped");
    deployment.shutdown();
    exit_codes::SUCCESS
}

/// A word for a POSIX shell: unchanged when it is plain, else in single quotes.
fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Ctrl-C (SIGINT) or SIGTERM.
async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The bundled suites and the schemas they name, as `(path, text)` relative to one folder.
const BUNDLED: &[(&str, &str)] = &[
    (
        "suites/a-worker-dashboard.yaml",
        include_str!("../suites/a-worker-dashboard.yaml"),
    ),
    (
        "suites/b-multi-env-health.yaml",
        include_str!("../suites/b-multi-env-health.yaml"),
    ),
    (
        "suites/c-api-storefront.yaml",
        include_str!("../suites/c-api-storefront.yaml"),
    ),
    (
        "suites/d-staged-promotion.yaml",
        include_str!("../suites/d-staged-promotion.yaml"),
    ),
    (
        "suites/e-platform-auth.yaml",
        include_str!("../suites/e-platform-auth.yaml"),
    ),
    (
        "schemas/api-health.schema.json",
        include_str!("../schemas/api-health.schema.json"),
    ),
    (
        "schemas/common.schema.json",
        include_str!("../schemas/common.schema.json"),
    ),
    (
        "schemas/enriched-health.schema.json",
        include_str!("../schemas/enriched-health.schema.json"),
    ),
];

/// Write the bundled suites and schemas into `dir` (replacing what an earlier demo wrote).
fn write_bundled(dir: &Path) -> std::io::Result<PathBuf> {
    for (rel, text) in BUNDLED {
        let path = dir.join(Path::new(rel));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, text)?;
    }
    Ok(dir.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_suite_and_schema_is_embedded() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for dir in ["suites", "schemas"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let name = entry.unwrap().file_name().into_string().unwrap();
                let rel = format!("{dir}/{name}");
                // The report and suite schemas are for editors and tools, not the demo.
                if matches!(name.as_str(), "report.schema.json" | "suite.schema.json") {
                    continue;
                }
                assert!(
                    BUNDLED.iter().any(|(p, _)| *p == rel),
                    "{rel} is not embedded in the demo"
                );
            }
        }
    }
}
