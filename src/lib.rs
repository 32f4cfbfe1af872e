//! smokegate: verify a deployment right after it ships and decide whether it may be promoted.
//!
//! Data flows one way: suite files ([`suite`]) → a [`plan`] (variables, profiles, compiled
//! expectations) → the [`runner`] (real HTTP through [`http`]) → [`events`] → [`report`]ers.
//! [`testing`] runs suites as `cargo test` trials.

#![warn(missing_docs)]

pub mod cli;
pub mod events;
pub mod excerpt;
pub mod expect;
#[cfg(test)]
mod fuzz;
pub mod http;
pub mod interp;
pub mod merge;
pub mod plan;
pub mod redact;
pub mod report;
pub mod runner;
pub mod serve;
pub mod suite;
pub mod testing;
pub mod text;

use std::path::{Path, PathBuf};

use suite::{Diagnostic, Diagnostics, LoadedSuite};

/// Expand paths (files or directories of `*.yaml`, `*.yml`, `*.json`) into suite files,
/// sorted for a stable order.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Diagnostics> {
    let mut out = Vec::new();
    let mut diags = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = match std::fs::read_dir(p) {
                Ok(rd) => rd
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|f| f.is_file() && is_suite_file(f))
                    .collect(),
                Err(e) => {
                    diags.push(Diagnostic::file(p, format!("cannot read directory: {e}")));
                    continue;
                }
            };
            found.sort();
            if found.is_empty() {
                diags.push(Diagnostic::file(
                    p,
                    "no suite files (*.yaml, *.yml, *.json) in this directory",
                ));
            }
            out.extend(found);
        } else if p.exists() {
            out.push(p.clone());
        } else {
            diags.push(Diagnostic::file(p, "no such file or directory"));
        }
    }
    if diags.is_empty() {
        Ok(out)
    } else {
        Err(Diagnostics(diags))
    }
}

/// A suite file found in a directory: `*.yaml`, `*.yml` or `*.json`, but not a JSON Schema
/// kept beside the suites (`*.schema.json`, as the bundled `schemas/` names them). A file
/// named on the command line is always loaded.
fn is_suite_file(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    ) && !name.ends_with(".schema.json")
}

/// Discover, parse and plan suites in one pass, one file at a time: each parsed file is
/// planned and dropped before the next is read, so a run of many large files holds the plan
/// and one file's syntax tree, never all of them. (A large file is itself parsed on two
/// threads, see [`suite::load_suite`].) All parse errors are reported together, and nothing
/// is planned once one is found.
pub fn load_and_plan(
    paths: &[PathBuf],
    opts: &plan::PlanOptions,
) -> Result<plan::Plan, Diagnostics> {
    let files = discover(paths)?;
    let mut planner = plan::Planner::new(opts);
    let mut diags = Vec::new();
    for f in &files {
        match suite::load_suite(f) {
            Ok(s) if diags.is_empty() => planner.add(&s),
            Ok(_) => {}
            Err(d) => diags.extend(d),
        }
    }
    if diags.is_empty() {
        planner.finish()
    } else {
        Err(Diagnostics(diags))
    }
}

/// Load every suite; all parse errors are reported together.
pub fn load(paths: &[PathBuf]) -> Result<Vec<LoadedSuite>, Diagnostics> {
    let files = discover(paths)?;
    let mut suites = Vec::new();
    let mut diags = Vec::new();
    for f in files {
        match suite::load_suite(&f) {
            Ok(s) => suites.push(s),
            Err(d) => diags.extend(d),
        }
    }
    if diags.is_empty() {
        Ok(suites)
    } else {
        Err(Diagnostics(diags))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suite(name: &str, cases: usize) -> String {
        let mut s = format!("name: {name}\ncases:\n");
        for i in 0..cases {
            s.push_str(&format!(
                "  - name: c{i}\n    request:\n      url: http://x.test/{i}\n"
            ));
        }
        s
    }

    #[test]
    fn files_are_planned_in_file_order() {
        let dir = tempfile::tempdir().unwrap();
        for k in 0..6 {
            let p = dir.path().join(format!("s{k}.yaml"));
            std::fs::write(p, suite(&format!("s{k}"), 3 + k)).unwrap();
        }
        let plan = load_and_plan(&[dir.path().to_path_buf()], &Default::default()).unwrap();
        let names: Vec<&str> = plan.suites.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["s0", "s1", "s2", "s3", "s4", "s5"]);
        assert_eq!(plan.cases.len(), (3..9).sum::<usize>());
        for (i, c) in plan.cases.iter().enumerate() {
            assert_eq!(c.index, i);
        }
        let sequential = plan::build(
            &load(&[dir.path().to_path_buf()]).unwrap(),
            &Default::default(),
        )
        .unwrap();
        let ids = |p: &plan::Plan| {
            p.cases
                .iter()
                .map(|c| format!("{}/{}", p.suites[c.suite].name, c.name))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&plan), ids(&sequential));
    }

    #[test]
    fn every_parse_error_of_every_file_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.yaml"), suite("a", 2)).unwrap();
        std::fs::write(dir.path().join("b.yaml"), "name: b\ncases:\n  - nme: x\n").unwrap();
        std::fs::write(dir.path().join("c.yaml"), suite("c", 2)).unwrap();
        std::fs::write(dir.path().join("d.yaml"), "name: d\ncases: [\n").unwrap();
        let err = load_and_plan(&[dir.path().to_path_buf()], &Default::default()).unwrap_err();
        let files: Vec<String> = err.0.iter().map(|d| d.to_string()).collect();
        assert_eq!(files.len(), 2, "{files:?}");
        assert!(
            files[0].contains("b.yaml") && files[0].contains(":3:"),
            "{}",
            files[0]
        );
        assert!(files[1].contains("d.yaml"), "{}", files[1]);
    }
}
