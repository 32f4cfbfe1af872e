//! Reading suite files (YAML or JSON) into the model, with `file:line:column` errors.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::diag::{Diagnostic, Pos};
use super::model::SuiteFile;

/// A parsed suite with its path and source text (kept for later diagnostics).
#[derive(Debug)]
pub struct LoadedSuite {
    /// Path of the suite file.
    pub path: PathBuf,
    /// The file's text.
    pub source: String,
    /// The parsed suite.
    pub file: SuiteFile,
    /// Where each line of `source` starts, built at the first diagnostic.
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

impl LoadedSuite {
    /// A diagnostic located in this suite.
    pub fn diag(&self, pos: Option<Pos>, message: impl Into<String>) -> Diagnostic {
        let line = pos.and_then(|p| self.line(p.line));
        Diagnostic::with_line(&self.path, line, pos, message)
    }

    /// Line `n` (from 1) of the source, found through an index of line starts built once (a
    /// suite with thousands of errors must not rescan the file for each).
    pub fn line(&self, n: u64) -> Option<&str> {
        let starts = self.line_starts.get_or_init(|| {
            let mut v = vec![0];
            v.extend(self.source.match_indices('\n').map(|(i, _)| i + 1));
            v
        });
        let i = usize::try_from(n.checked_sub(1)?).ok()?;
        let start = *starts.get(i)?;
        if start >= self.source.len() && i > 0 {
            return None;
        }
        let end = starts.get(i + 1).map_or(self.source.len(), |e| e - 1);
        Some(self.source[start..end].trim_end_matches('\r'))
    }

    /// The text a plain YAML scalar was written as (`1.10`, `007`, `yes`, `~`), found at `loc`
    /// in the source, when `value` is a number, boolean or null and that text reads back as
    /// the same value. (Line and column locate it: byte offsets move in a split parse.)
    pub fn scalar_text(&self, loc: &serde_saphyr::Location, value: &Value) -> Option<String> {
        if !matches!(value, Value::Number(_) | Value::Bool(_) | Value::Null) {
            return None;
        }
        let line = self.line(loc.line())?;
        let start = line
            .char_indices()
            .nth(loc.column().checked_sub(1)? as usize)
            .map(|(i, _)| i)?;
        let rest = &line[start..];
        let end = rest
            .find([',', '}', ']'])
            .into_iter()
            .chain(rest.find(" #"))
            .min()
            .unwrap_or(rest.len());
        let text = rest[..end].trim();
        if text.is_empty() {
            return None;
        }
        let back: Value = serde_saphyr::from_str(text).ok()?;
        (back == *value).then(|| text.to_string())
    }

    /// The directory relative paths in the suite are resolved against.
    pub fn dir(&self) -> &Path {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        }
    }
}

/// Largest suite file accepted (a guard against pointing smokegate at the wrong file).
const MAX_SUITE_BYTES: u64 = 8 * 1024 * 1024;

/// Read and parse one suite file (a large one on several threads, see [`parse_suite`]). A
/// file that does not parse reports the first error of each part of its case list too (see
/// [`errors_by_part`]), not only the first of the file.
pub fn load_suite(path: &Path) -> Result<LoadedSuite, Vec<Diagnostic>> {
    let meta = std::fs::metadata(path)
        .map_err(|e| vec![Diagnostic::file(path, format!("cannot read suite: {e}"))])?;
    if meta.len() > MAX_SUITE_BYTES {
        return Err(vec![Diagnostic::file(
            path,
            format!("suite is {} bytes, larger than the 8 MiB limit", meta.len()),
        )]);
    }
    let source = std::fs::read_to_string(path)
        .map_err(|e| vec![Diagnostic::file(path, format!("cannot read suite: {e}"))])?;
    match parse_suite(path, source.clone()) {
        Ok(s) => Ok(s),
        Err(first) => {
            let mut all = errors_by_part(path, &source);
            if !all.iter().any(|d| d.pos == first.pos) {
                all.push(first);
            }
            all.sort_by_key(|d| d.pos.map(|p| (p.line, p.column)));
            Err(all)
        }
    }
}

/// Most parts a failed file's case list is cut into to find more errors.
const MAX_ERROR_PARTS: usize = 64;

/// After a failed parse: the first error of each part of the `cases:` list (cut into up to
/// 64 parts at item boundaries, positions kept; see `split`) and of the rest of the file. A
/// deserializer stops at its first error; this way one `validate` shows the problems of many
/// cases. Empty when the file's shape does not allow the cut.
fn errors_by_part(path: &Path, source: &str) -> Vec<Diagnostic> {
    let Some(split) = super::split::split(source, MAX_ERROR_PARTS) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    // Positions are the file's: the parts keep every line.
    let mut keep = |e: serde_saphyr::Error| {
        let pos = e.location().map(|l| Pos::from_loc(&l));
        let message = message_of(&e);
        out.push(Diagnostic::at(path, source, pos, message));
    };
    let (head, parts) = match split.texts.split_first() {
        Some(x) => x,
        None => return Vec::new(),
    };
    if let Err(e) = serde_saphyr::from_str_with_options::<SuiteFile>(head, options()) {
        keep(e);
    }
    for part in parts {
        type Cases = Vec<serde_saphyr::Spanned<super::model::CaseDef>>;
        if let Err(e) = serde_saphyr::from_str_with_options::<Cases>(part, options()) {
            keep(e);
        }
    }
    out
}

/// Parse suite text that claims to come from `path`. A large file whose shape allows it is
/// parsed in parts at once, one per core, with the same result (see `split`).
pub fn parse_suite(path: &Path, source: String) -> Result<LoadedSuite, Diagnostic> {
    // A large file is parsed in parts at once when its shape allows (see `split`); any
    // problem there falls through to the ordinary parse, which reports it.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if source.len() >= super::split::MIN_SPLIT_BYTES && cores > 1 {
        // At most one part per core (and 8 in all), and no part smaller than the threshold.
        let parts = cores
            .min(8)
            .min(source.len() / super::split::MIN_SPLIT_BYTES);
        if let Some(split) = super::split::split(&source, parts) {
            if let Some(file) = super::split::parse_split(&split, options) {
                return Ok(LoadedSuite {
                    path: path.to_path_buf(),
                    source,
                    file,
                    line_starts: Default::default(),
                });
            }
        }
    }
    match serde_saphyr::from_str_with_options::<SuiteFile>(&source, options()) {
        Ok(file) => Ok(LoadedSuite {
            path: path.to_path_buf(),
            source,
            file,
            line_starts: Default::default(),
        }),
        Err(e) => {
            let pos = e.location().map(|l| Pos::from_loc(&l));
            let message = message_of(&e);
            Err(Diagnostic::at(path, &source, pos, message))
        }
    }
}

/// Parser options: the 8 MiB file limit bounds the work, so the node budget is sized to it
/// rather than to serde-saphyr's default (250,000 nodes, about 11,000 cases).
fn options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_NESTING;
    budget.max_nodes = 8_000_000;
    budget.max_events = 16_000_000;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    // Booleans are YAML 1.2's `true`/`false` (any case), as editors and the schema read
    // them: `yes`/`off` are texts, and a text (`"yes"`) is not a boolean.
    options.strict_booleans = true;
    options
}

/// Deepest nesting of YAML/JSON values a suite may have (serde-saphyr's depth budget, which
/// guards the stack).
const MAX_NESTING: usize = 64;

/// The message of a parse error: serde-saphyr's, except where it would show its internals.
fn message_of(e: &serde_saphyr::Error) -> String {
    use serde_saphyr::budget::BudgetBreach;
    match e.without_snippet() {
        serde_saphyr::Error::Budget {
            breach: BudgetBreach::Depth { .. },
            ..
        } => format!(
            "values nest more than {MAX_NESTING} deep (predicates nest at most {} deep)",
            crate::expect::predicate::MAX_DEPTH
        ),
        _ => short_message(&e.to_string()),
    }
}

/// serde-saphyr renders `error: line N column M: <message>` followed by a snippet; keep the
/// message (our own renderer prints the location and snippet).
fn short_message(rendered: &str) -> String {
    let first = rendered.lines().next().unwrap_or(rendered);
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let msg = match first.strip_prefix("line ") {
        Some(rest) => match rest.find(": ") {
            Some(i) => &rest[i + 2..],
            None => first,
        },
        None => first,
    };
    msg.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_field_has_line_and_column() {
        let src = "name: x\ncases:\n  - name: a\n    expct:\n      status: 200\n";
        let err = parse_suite(Path::new("s.yaml"), src.into()).unwrap_err();
        assert_eq!(err.pos, Some(Pos { line: 4, column: 5 }));
        assert!(
            err.message.starts_with("unknown field `expct`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn json_is_accepted() {
        let src =
            r#"{"name": "j", "cases": [{"name": "a", "request": {"url": "http://x.test/"}}]}"#;
        let s = parse_suite(Path::new("s.json"), src.into()).unwrap();
        assert_eq!(s.file.cases.len(), 1);
    }
}
