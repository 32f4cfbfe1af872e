//! Gates: what `smokegate serve` runs on request. A gate is suites plus a profile, variables
//! and a selection, as a `smokegate run` command line would give them. Its suites are read
//! and planned once at start-up (a bad suite stops the server before it listens); each
//! request plans the parsed suites again, in memory, so that every run has its own run id,
//! its own generated values and its own table of secrets learnt from captures.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::plan::{Plan, PlanOptions};
use crate::suite::{Diagnostics, LoadedSuite};

/// The longest gate name (it is a URL path segment and appears in logs).
pub const MAX_NAME_LEN: usize = 64;

/// Why the gates cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// `--gate` is not `NAME=PATH[,PATH…]`.
    #[error("--gate expects NAME=PATH[,PATH...], got `{0}`")]
    Spec(String),
    /// A gate name that cannot be a path segment.
    #[error(
        "gate name `{0}`: use 1 to 64 letters, digits, `.`, `_` or `-` (it is the URL path /gates/NAME)"
    )]
    Name(String),
    /// Two gates of the same name.
    #[error("gate `{0}` is defined twice")]
    Duplicate(String),
    /// No gate at all.
    #[error("no gate to serve: give --gate NAME=PATH[,PATH...] or --gates-file FILE")]
    None,
    /// The gates file cannot be read.
    #[error("cannot read the gates file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The gates file is not the documented shape.
    #[error("gates file {path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong (the parser's words).
        message: String,
    },
    /// A gate of the gates file lists no suite.
    #[error("gate `{0}`: `suites` lists no suite file")]
    NoSuites(String),
    /// A gate variable that is not a scalar.
    #[error("gate `{gate}`: variable `{name}` must be a string, number or boolean")]
    Var {
        /// The gate.
        gate: String,
        /// The variable.
        name: String,
    },
    /// A suite of the gate does not load or plan.
    #[error("gate `{gate}`:\n{diagnostics}")]
    Suites {
        /// The gate.
        gate: String,
        /// Every problem found, at its place.
        diagnostics: Diagnostics,
    },
    /// The gate's selection keeps no case.
    #[error("gate `{0}`: no case matches the filters")]
    Empty(String),
}

/// One gate of a gates file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GateEntry {
    /// Suite files or directories, relative to the gates file.
    suites: Vec<PathBuf>,
    /// The profile (`--env`) of this gate.
    #[serde(default)]
    env: Option<String>,
    /// Variables of this gate (they win over `--var`).
    #[serde(default)]
    vars: BTreeMap<String, serde_json::Value>,
    /// `--filter` of this gate (replaces the command line's).
    #[serde(default)]
    filter: Option<Vec<String>>,
    /// `--tag` of this gate (replaces the command line's).
    #[serde(default)]
    tags: Option<Vec<String>>,
    /// `--skip-tag` of this gate (replaces the command line's).
    #[serde(default)]
    skip_tags: Option<Vec<String>>,
}

/// A gates file: `gates: { NAME: { suites: [...], env, vars, filter, tags, skip_tags } }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GatesFile {
    gates: BTreeMap<String, GateEntry>,
}

/// A gate as configured, before its suites are read.
#[derive(Debug, Clone, Default)]
pub struct GateSpec {
    /// The name, the last segment of `/gates/NAME`.
    pub name: String,
    /// Suite files or directories.
    pub paths: Vec<PathBuf>,
    /// Profile; `None` keeps the command line's `--env`.
    pub env: Option<String>,
    /// Variables added after the command line's (they win).
    pub vars: Vec<(String, String)>,
    /// Selection replacing the command line's, when given.
    pub filter: Option<Vec<String>>,
    /// Tags replacing the command line's, when given.
    pub tags: Option<Vec<String>>,
    /// Skipped tags replacing the command line's, when given.
    pub skip_tags: Option<Vec<String>>,
}

impl GateSpec {
    /// Parse `NAME=PATH[,PATH…]`.
    pub fn parse(s: &str) -> Result<GateSpec, GateError> {
        let (name, paths) = s
            .split_once('=')
            .ok_or_else(|| GateError::Spec(s.to_string()))?;
        let paths: Vec<PathBuf> = paths
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(PathBuf::from)
            .collect();
        if paths.is_empty() {
            return Err(GateError::Spec(s.to_string()));
        }
        check_name(name)?;
        Ok(GateSpec {
            name: name.to_string(),
            paths,
            ..GateSpec::default()
        })
    }

    /// The plan options of this gate: the command line's, with the gate's own on top.
    pub fn plan_options(&self, base: &PlanOptions) -> PlanOptions {
        let mut o = base.clone();
        if self.env.is_some() {
            o.profile = self.env.clone();
        }
        o.vars.extend(self.vars.iter().cloned());
        if let Some(f) = &self.filter {
            o.names = f.clone();
        }
        if let Some(t) = &self.tags {
            o.tags = t.clone();
        }
        if let Some(t) = &self.skip_tags {
            o.skip_tags = t.clone();
        }
        o
    }
}

/// A gate name: a URL path segment that needs no escaping.
fn check_name(name: &str) -> Result<(), GateError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && name != "."
        && name != "..";
    if ok {
        Ok(())
    } else {
        Err(GateError::Name(name.to_string()))
    }
}

/// Read a gates file (YAML or JSON); suite paths are relative to the file's folder.
pub fn read_gates_file(path: &Path) -> Result<Vec<GateSpec>, GateError> {
    let text = std::fs::read_to_string(path).map_err(|source| GateError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let file: GatesFile = serde_saphyr::from_str(&text).map_err(|e| GateError::Format {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let dir = path.parent().unwrap_or(Path::new(""));
    let mut out = Vec::new();
    for (name, g) in file.gates {
        check_name(&name)?;
        if g.suites.is_empty() {
            return Err(GateError::NoSuites(name));
        }
        let mut vars = Vec::new();
        for (k, v) in g.vars {
            let text = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => {
                    return Err(GateError::Var {
                        gate: name,
                        name: k,
                    })
                }
            };
            vars.push((k, text));
        }
        out.push(GateSpec {
            paths: g.suites.iter().map(|p| dir.join(p)).collect(),
            env: g.env,
            vars,
            filter: g.filter,
            tags: g.tags,
            skip_tags: g.skip_tags,
            name,
        });
    }
    Ok(out)
}

/// A gate ready to run: its suites parsed, its plan options fixed.
#[derive(Debug)]
pub struct Gate {
    /// The name.
    pub name: String,
    /// The parsed suites.
    suites: Vec<LoadedSuite>,
    /// The plan options.
    options: PlanOptions,
    /// How many cases a run of the gate has.
    pub cases: usize,
}

impl Gate {
    /// Read and plan the gate's suites: every problem is found now, before the server
    /// listens.
    pub fn load(spec: &GateSpec, base: &PlanOptions) -> Result<Gate, GateError> {
        let options = spec.plan_options(base);
        let suites = crate::load(&spec.paths).map_err(|diagnostics| GateError::Suites {
            gate: spec.name.clone(),
            diagnostics,
        })?;
        let plan =
            crate::plan::build(&suites, &options).map_err(|diagnostics| GateError::Suites {
                gate: spec.name.clone(),
                diagnostics,
            })?;
        if plan.cases.is_empty() {
            return Err(GateError::Empty(spec.name.clone()));
        }
        Ok(Gate {
            name: spec.name.clone(),
            cases: plan.cases.len(),
            suites,
            options,
        })
    }

    /// The plan of one run (a fresh run id and secrets table; the same cases as at
    /// start-up: the suites and options have not changed since).
    pub fn plan(&self) -> Result<Plan, Diagnostics> {
        crate::plan::build(&self.suites, &self.options)
    }
}

/// Every gate, checked: unique names, at least one.
pub fn load_all(specs: &[GateSpec], base: &PlanOptions) -> Result<Vec<Gate>, GateError> {
    if specs.is_empty() {
        return Err(GateError::None);
    }
    let mut gates: Vec<Gate> = Vec::new();
    for s in specs {
        if gates.iter().any(|g| g.name == s.name) {
            return Err(GateError::Duplicate(s.name.clone()));
        }
        gates.push(Gate::load(s, base)?);
    }
    Ok(gates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_specs_name_a_path_segment_and_at_least_one_suite() {
        let g = GateSpec::parse("canary=a.yaml,dir/").unwrap();
        assert_eq!(g.name, "canary");
        assert_eq!(g.paths, [PathBuf::from("a.yaml"), PathBuf::from("dir/")]);
        for bad in [
            "canary",
            "canary=",
            "=a.yaml",
            "a/b=x.yaml",
            "..=x.yaml",
            "a b=x",
        ] {
            assert!(GateSpec::parse(bad).is_err(), "{bad}");
        }
        let long = format!("{}=x.yaml", "a".repeat(MAX_NAME_LEN + 1));
        assert!(GateSpec::parse(&long).is_err());
    }

    #[test]
    fn gate_options_override_the_command_line() {
        let base = PlanOptions {
            profile: Some("staging".into()),
            vars: vec![("a".into(), "1".into())],
            tags: vec!["x".into()],
            ..PlanOptions::default()
        };
        let g = GateSpec {
            name: "g".into(),
            env: Some("production".into()),
            vars: vec![("a".into(), "2".into())],
            skip_tags: Some(vec!["slow".into()]),
            ..GateSpec::default()
        };
        let o = g.plan_options(&base);
        assert_eq!(o.profile.as_deref(), Some("production"));
        // Later variables win.
        assert_eq!(o.vars.last().unwrap(), &("a".to_string(), "2".to_string()));
        assert_eq!(o.tags, ["x"]);
        assert_eq!(o.skip_tags, ["slow"]);
    }

    #[test]
    fn a_gates_file_is_read_relative_to_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("gates.yaml");
        std::fs::write(
            &p,
            "gates:\n  canary:\n    suites: [s.yaml]\n    env: production\n    vars: { n: 3, on: true, u: x }\n    tags: [health]\n",
        )
        .unwrap();
        let g = read_gates_file(&p).unwrap();
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].paths, [dir.path().join("s.yaml")]);
        assert_eq!(g[0].env.as_deref(), Some("production"));
        assert_eq!(g[0].tags.as_deref(), Some(&["health".to_string()][..]));
        assert!(g[0].vars.contains(&("n".into(), "3".into())));
        assert!(g[0].vars.contains(&("on".into(), "true".into())));
        std::fs::write(&p, "gates:\n  canary:\n    suites: [s.yaml]\n    envv: x\n").unwrap();
        assert!(matches!(read_gates_file(&p), Err(GateError::Format { .. })));
        std::fs::write(&p, "gates:\n  canary:\n    suites: []\n").unwrap();
        assert!(matches!(read_gates_file(&p), Err(GateError::NoSuites(_))));
        std::fs::write(
            &p,
            "gates:\n  c:\n    suites: [s.yaml]\n    vars: { m: [1] }\n",
        )
        .unwrap();
        assert!(matches!(read_gates_file(&p), Err(GateError::Var { .. })));
    }
}
