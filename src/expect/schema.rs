//! JSON Schema expectations (draft 2020-12, 2019-09, 7, 6, 4 — taken from `$schema`).
//!
//! Schemas are compiled once per run and shared by every step that names them. Local
//! `$ref`s between schema files resolve through `file://` URIs; remote references are never
//! fetched (jsonschema is built without its HTTP resolver), so they are a configuration error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use super::{ExpectError, Outcome, OutcomeKind, Response};
use crate::suite::model::SchemaDef;
use crate::suite::Pos;

/// Compile a regex; the error is one line (`invalid regex `(`: unclosed group`), not the
/// regex crate's multi-line drawing, which reads like several errors.
pub fn compile_regex(src: &str) -> Result<regex::Regex, ExpectError> {
    regex::Regex::new(src).map_err(|e| {
        let why = match &e {
            regex::Error::Syntax(text) => text
                .lines()
                .rev()
                .find(|l| l.starts_with("error: "))
                .map(|l| l.trim_start_matches("error: ").to_string())
                .unwrap_or_else(|| text.lines().last().unwrap_or_default().to_string()),
            other => other.to_string(),
        };
        ExpectError::Regex {
            pattern: src.to_string(),
            reason: why,
        }
    })
}

/// A compiled schema with a name for messages.
#[derive(Debug)]
pub struct CompiledSchema {
    /// How messages name the schema: its title and file, or `(inline)`.
    pub label: String,
    validator: jsonschema::Validator,
}

/// Compiles each schema file once per run.
#[derive(Debug, Default)]
pub struct SchemaCache {
    files: HashMap<PathBuf, Arc<CompiledSchema>>,
    /// Compiled JSONPaths, shared by every step that uses the same path text.
    paths: HashMap<String, Arc<serde_json_path::JsonPath>>,
    /// Compiled JSONPath assertions, keyed by their definition.
    pub(super) jsonpaths: HashMap<String, Arc<super::jsonpath::Core>>,
    /// Compiled regexes (header, body and JSONPath `matches`), shared the same way; a
    /// `Regex` clone shares its compiled program.
    regexes: HashMap<String, regex::Regex>,
    /// Parsed request templates, shared by every request with the same text.
    templates: HashMap<String, Arc<crate::interp::Template>>,
    /// URL templates already found valid with a given map of variables (and texts): the
    /// thousands of cases sharing both are checked once. The values pin what the keys'
    /// addresses point at, so an address cannot be reused by another map meanwhile.
    pub(crate) urls_ok: HashMap<(usize, usize, usize), UrlPins>,
    /// Schema paths as written (joined to the suite directory) → canonical path, so that
    /// thousands of steps naming one schema do not each ask the file system.
    canonical: HashMap<PathBuf, PathBuf>,
}

/// What a checked URL's key points at (see `SchemaCache::urls_ok`).
pub(crate) type UrlPins = (
    Arc<crate::interp::Template>,
    Arc<HashMap<String, Value>>,
    Arc<HashMap<String, String>>,
);

/// A schema expectation of one step.
#[derive(Debug)]
pub struct SchemaCheck {
    schema: Arc<CompiledSchema>,
    message: Option<String>,
    pos: Option<Pos>,
    severity: crate::suite::model::Severity,
}

/// The `file://` URI of an absolute path, percent-encoded (a folder named `my suites`
/// becomes `my%20suites`), as `$ref` resolution expects.
fn file_uri(path: &Path) -> Result<String, ExpectError> {
    // A suite given by a bare file name has a relative folder.
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    url::Url::from_file_path(&absolute)
        .map(String::from)
        .map_err(|()| ExpectError::FileUri(path.to_path_buf()))
}

/// Reads `$ref`s to local files. jsonschema's own file retriever takes the URI's path
/// without percent-decoding it, so `my%20suites/a.schema.json` was looked up literally; this
/// one turns the URI back into a path. Remote references are never fetched.
struct FileRetriever;

impl jsonschema::Retrieve for FileRetriever {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let url = url::Url::parse(uri.as_str())?;
        if url.scheme() != "file" {
            return Err(format!("remote references are not fetched: {uri}").into());
        }
        let path = url
            .to_file_path()
            .map_err(|()| format!("not a local file: {uri}"))?;
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        Ok(serde_json::from_str(&text)
            .map_err(|e| format!("`{}` is not valid JSON: {e}", path.display()))?)
    }
}

/// `format` values JSON Schema defines (jsonschema validates each of them).
const FORMATS: &[&str] = &[
    "date",
    "date-time",
    "time",
    "duration",
    "email",
    "idn-email",
    "hostname",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "iri",
    "iri-reference",
    "uri",
    "uri-reference",
    "uri-template",
    "json-pointer",
    "relative-json-pointer",
    "regex",
    "uuid",
];

/// OpenAPI's format names: accepted and not checked (they describe numbers or opaque text).
const OPENAPI_FORMATS: &[&str] = &[
    "int32", "int64", "float", "double", "byte", "binary", "password",
];

/// The first `format` of a schema that no validator knows: a typo (`datetime`) would otherwise
/// be ignored silently, and the check it names would never run.
fn unknown_format(v: &Value) -> Option<String> {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(f)) = o.get("format") {
                if !FORMATS.contains(&f.as_str()) && !OPENAPI_FORMATS.contains(&f.as_str()) {
                    return Some(f.clone());
                }
            }
            o.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "enum" | "const" | "examples" | "default"))
                .find_map(|(_, v)| unknown_format(v))
        }
        Value::Array(a) => a.iter().find_map(unknown_format),
        _ => None,
    }
}

fn compile(schema: &Value, base: &Path, label: String) -> Result<CompiledSchema, ExpectError> {
    if let Some(f) = unknown_format(schema) {
        return Err(ExpectError::SchemaInvalid {
            label,
            reason: format!(
                "unknown format `{f}`: smokegate checks {} (and accepts OpenAPI's {} unchecked)",
                FORMATS.join(", "),
                OPENAPI_FORMATS.join(", ")
            ),
        });
    }
    let mut options = jsonschema::options()
        // `format` is an assertion, whatever the draft: a gate that ignored
        // `"format": "date-time"` would pass a body it was written to refuse.
        .should_validate_formats(true)
        .with_format("uuid", |s: &str| {
            s.len() == 36 && uuid::Uuid::try_parse(s).is_ok()
        });
    for f in OPENAPI_FORMATS {
        options = options.with_format(*f, |_: &str| true);
    }
    let validator = options
        .with_retriever(FileRetriever)
        .with_base_uri(file_uri(base)?)
        .build(schema)
        .map_err(|e| ExpectError::SchemaInvalid {
            label: label.clone(),
            reason: e.to_string(),
        })?;
    Ok(CompiledSchema { label, validator })
}

impl SchemaCache {
    /// Compile (or reuse) a JSONPath.
    pub fn path(&mut self, src: &str) -> Result<Arc<serde_json_path::JsonPath>, ExpectError> {
        if let Some(p) = self.paths.get(src) {
            return Ok(p.clone());
        }
        let p = Arc::new(super::jsonpath::parse_path(src)?);
        self.paths.insert(src.to_string(), p.clone());
        Ok(p)
    }

    /// Parse (or reuse) a template: identical templates of many requests share one.
    pub fn template(
        &mut self,
        src: &str,
    ) -> Result<Arc<crate::interp::Template>, crate::interp::TemplateError> {
        if let Some(t) = self.templates.get(src) {
            return Ok(t.clone());
        }
        let t = Arc::new(crate::interp::Template::parse(src)?);
        self.templates.insert(src.to_string(), t.clone());
        Ok(t)
    }

    /// Compile (or reuse) a regex; the error is one line naming the pattern.
    pub fn regex(&mut self, src: &str) -> Result<regex::Regex, ExpectError> {
        if let Some(r) = self.regexes.get(src) {
            return Ok(r.clone());
        }
        let r = compile_regex(src)?;
        self.regexes.insert(src.to_string(), r.clone());
        Ok(r)
    }

    /// Compile (or reuse) the schema a step names.
    pub fn check(
        &mut self,
        def: &SchemaDef,
        suite_dir: &Path,
        pos: Option<Pos>,
    ) -> Result<SchemaCheck, ExpectError> {
        let (file, inline, message, severity) = match def {
            SchemaDef::File(f) => (Some(f.as_str()), None, None, None),
            SchemaDef::Detailed(d) => (
                d.file.as_deref(),
                d.inline.as_ref(),
                d.message.clone(),
                d.severity,
            ),
        };
        let schema = match (file, inline) {
            (Some(f), None) => self.file(&suite_dir.join(f), f)?,
            (None, Some(v)) => {
                let base = std::path::absolute(suite_dir)
                    .unwrap_or_else(|_| suite_dir.to_path_buf())
                    .join("inline.schema.json");
                Arc::new(compile(v, &base, "(inline)".into())?)
            }
            _ => return Err(ExpectError::SchemaSource),
        };
        Ok(SchemaCheck {
            schema,
            message,
            pos,
            severity: severity.unwrap_or_default(),
        })
    }

    fn file(&mut self, path: &Path, shown: &str) -> Result<Arc<CompiledSchema>, ExpectError> {
        let unreadable = |e| ExpectError::SchemaRead {
            path: path.to_path_buf(),
            source: Arc::new(e),
        };
        let abs = match self.canonical.get(path) {
            Some(abs) => abs.clone(),
            None => {
                let abs = std::fs::canonicalize(path).map_err(unreadable)?;
                self.canonical.insert(path.to_path_buf(), abs.clone());
                abs
            }
        };
        if let Some(s) = self.files.get(&abs) {
            return Ok(s.clone());
        }
        let text = std::fs::read_to_string(&abs).map_err(unreadable)?;
        let value: Value = serde_json::from_str(&text).map_err(|e| ExpectError::SchemaJson {
            path: path.to_path_buf(),
            source: Arc::new(e),
        })?;
        let title = value.get("title").and_then(Value::as_str);
        let label = match title {
            Some(t) => format!("`{t}` ({shown})"),
            None => format!("`{shown}`"),
        };
        let compiled = Arc::new(compile(&value, &abs, label)?);
        self.files.insert(abs, compiled.clone());
        Ok(compiled)
    }
}

impl SchemaCheck {
    /// Validate the body against the schema; report up to five violations.
    pub fn evaluate(&self, resp: &Response) -> Outcome {
        let mut o = self.judge(resp);
        o.severity = self.severity;
        o
    }

    fn judge(&self, resp: &Response) -> Outcome {
        let label = &self.schema.label;
        let o = Outcome::new(
            OutcomeKind::Schema,
            format!("body matches schema {label}"),
            self.pos,
        );
        let json = match resp.json() {
            Ok(j) => j,
            Err(e) => {
                return o.fail(
                    format!("JSON matching {label}"),
                    "not JSON",
                    self.wrap(format!("body does not match schema {label}: {e}")),
                )
            }
        };
        let errors: Vec<String> = self
            .schema
            .validator
            .iter_errors(json)
            .take(5)
            .map(|e| {
                let at = e.instance_path().to_string();
                let at = if at.is_empty() { "/".to_string() } else { at };
                format!("at {at}: {}", e.masked())
            })
            .collect();
        if errors.is_empty() {
            o
        } else {
            o.fail(
                format!("body valid against {label}"),
                errors.join("; "),
                self.wrap(format!(
                    "body does not match schema {label}: {}",
                    errors.join("; ")
                )),
            )
        }
    }

    fn wrap(&self, generic: String) -> String {
        match &self.message {
            Some(m) => format!("{m}: {generic}"),
            None => generic,
        }
    }
}
