//! Where a result came from, as CI systems want it: the suite file relative to the working
//! directory (never an absolute path of the machine that ran), and the line a reader should
//! look at first.

use std::path::{Component, Path};

use crate::events::{CaseResult, Status};

/// `file` relative to the working directory when it is under it (`./x` → `x`); an absolute
/// path elsewhere stays as it is; `/` separators on every platform.
pub fn relative_to_cwd(file: &str) -> String {
    let cwd = std::env::current_dir().ok();
    relative_to(file, cwd.as_deref())
}

/// [`relative_to_cwd`] against a given directory.
pub fn relative_to(file: &str, dir: Option<&Path>) -> String {
    let p = Path::new(file);
    let rel = match dir {
        Some(d) if p.is_absolute() => p.strip_prefix(d).unwrap_or(p),
        _ => p,
    };
    let parts: Vec<String> = rel
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| match c {
            Component::RootDir => String::new(),
            other => other.as_os_str().to_string_lossy().into_owned(),
        })
        .collect();
    if parts.is_empty() {
        return file.to_string();
    }
    parts.join("/")
}

/// The line of the first thing that went wrong in a case: its first failed expectation, else
/// the step that failed or errored, else the case itself.
pub fn first_failure_line(c: &CaseResult) -> u64 {
    // A sampled case fails on its budgets: the first broken one.
    if let Some(s) = &c.samples {
        if let Some(line) = s.budgets.iter().find(|b| !b.passed).and_then(|b| b.line) {
            return line;
        }
    }
    for s in &c.steps {
        if !matches!(s.status, Status::Failed | Status::Error) {
            continue;
        }
        if s.error.is_none() {
            if let Some(line) = s
                .expectations
                .iter()
                .find(|o| !o.passed)
                .and_then(|o| o.line)
            {
                return line;
            }
        }
        return s.line.max(1);
    }
    c.line.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_under_the_directory_become_relative() {
        let d = Path::new("/work/repo");
        assert_eq!(
            relative_to("/work/repo/suites/a.yaml", Some(d)),
            "suites/a.yaml"
        );
        assert_eq!(relative_to("./suites/a.yaml", Some(d)), "suites/a.yaml");
        assert_eq!(relative_to("suites/a.yaml", Some(d)), "suites/a.yaml");
        assert_eq!(
            relative_to("/elsewhere/a.yaml", Some(d)),
            "/elsewhere/a.yaml"
        );
        assert_eq!(relative_to("../up/a.yaml", Some(d)), "../up/a.yaml");
    }
}
