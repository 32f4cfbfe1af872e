//! `--variables-file` and `--secrets-file`: variables read from files, like Hurl's
//! `--variables-file` and Newman's `-e`. A file is dotenv (`KEY=VALUE` lines), YAML
//! (`.yaml`/`.yml`) or JSON (`.json`): a map of names to texts, numbers or booleans.
//!
//! Precedence, lowest first: suite `vars` < profile `vars` < `--variables-file`s in the
//! order given < `--secrets-file`s in the order given < `--var` < `--secret`. A name is secret
//! when any source marks it secret, whichever value wins.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// Largest variables file read.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Why a variables file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum VarFileError {
    /// The file cannot be read.
    #[error("{flag} {path}: cannot be read: {source}")]
    Read {
        /// `--variables-file` or `--secrets-file`.
        flag: &'static str,
        /// The file.
        path: PathBuf,
        /// The read error.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_FILE_BYTES`].
    #[error("{flag} {path}: larger than {MAX_FILE_BYTES} bytes")]
    TooLarge {
        /// The option.
        flag: &'static str,
        /// The file.
        path: PathBuf,
    },
    /// A dotenv line that is not `KEY=VALUE`.
    #[error("{path}:{line}: {reason}")]
    Dotenv {
        /// The file.
        path: PathBuf,
        /// Line number, from 1.
        line: usize,
        /// What is wrong, in words.
        reason: String,
    },
    /// A value of a secrets file too short to be masked safely.
    #[error("--secrets-file {path}: secret `{name}`: {source}")]
    ShortSecret {
        /// The file.
        path: PathBuf,
        /// The variable.
        name: String,
        /// Why it cannot be masked.
        #[source]
        source: crate::redact::TooShort,
    },
    /// A YAML or JSON file that does not parse, or is not a map of scalars.
    #[error("{path}: {reason}")]
    Document {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the position when the parser gives one.
        reason: String,
    },
}

/// `(name, value)` pairs.
pub type Pairs = Vec<(String, String)>;

/// The `(name, value)` pairs of one file, in the file's order.
pub fn read(flag: &'static str, path: &Path) -> Result<Vec<(String, String)>, VarFileError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|source| VarFileError::Read {
        flag,
        path: path.to_path_buf(),
        source,
    })?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| VarFileError::Read {
            flag,
            path: path.to_path_buf(),
            source,
        })?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(VarFileError::TooLarge {
            flag,
            path: path.to_path_buf(),
        });
    }
    let text = String::from_utf8(bytes).map_err(|e| VarFileError::Document {
        path: path.to_path_buf(),
        reason: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
    })?;
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "yaml" | "yml" => {
            // Read as texts, so that numbers stay as written (`1.10`, `007`).
            let doc: std::collections::BTreeMap<String, String> = serde_saphyr::from_str(&text)
                .map_err(|e| VarFileError::Document {
                    path: path.to_path_buf(),
                    reason: format!(
                        "expected a map of variable names to texts, numbers or booleans: {}",
                        e.to_string()
                            .replace("<input>", &path.display().to_string())
                    ),
                })?;
            let mut out = Vec::with_capacity(doc.len());
            for (k, v) in doc {
                check_name(&k).map_err(|r| VarFileError::Document {
                    path: path.to_path_buf(),
                    reason: format!("variable `{k}`: {r}"),
                })?;
                out.push((k, v));
            }
            Ok(out)
        }
        "json" => {
            let doc: Value = serde_json::from_str(&text).map_err(|e| VarFileError::Document {
                path: path.to_path_buf(),
                reason: format!("not valid JSON: {e}"),
            })?;
            map_entries(path, doc)
        }
        _ => dotenv(path, &text),
    }
}

/// A YAML/JSON document's entries: a map of names to texts, numbers (as written) or booleans.
fn map_entries(path: &Path, doc: Value) -> Result<Vec<(String, String)>, VarFileError> {
    let fail = |reason: String| VarFileError::Document {
        path: path.to_path_buf(),
        reason,
    };
    let Value::Object(map) = doc else {
        return Err(fail(
            "expected a map of variable names to values, e.g. `api: https://api.example.test`"
                .into(),
        ));
    };
    let mut out = Vec::with_capacity(map.len());
    for (k, v) in map {
        check_name(&k).map_err(|r| fail(format!("variable `{k}`: {r}")))?;
        let text = match v {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => {
                let kind = match other {
                    Value::Null => "null",
                    Value::Array(_) => "a list",
                    _ => "a map",
                };
                return Err(fail(format!(
                    "variable `{k}`: expected a text, a number or a boolean, got {kind}"
                )));
            }
        };
        out.push((k, text));
    }
    Ok(out)
}

fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
        Ok(())
    } else {
        Err("a name starts with a letter or `_` and holds letters, digits, `_`, `-` or `.`".into())
    }
}

/// A dotenv file: `KEY=VALUE` lines (an optional `export ` before the key), blank lines and
/// `#` comments; values unquoted (trimmed, ` #…` comment dropped), single-quoted (literal) or
/// double-quoted (`\n`, `\t`, `\r`, `\"`, `\\`, `\$` escapes); quoted values may span lines.
/// Nothing is expanded: `${…}` stays as written.
pub fn dotenv(path: &Path, text: &str) -> Result<Vec<(String, String)>, VarFileError> {
    let mut out = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let start = i + 1;
        let fail = |line: usize, reason: String| VarFileError::Dotenv {
            path: path.to_path_buf(),
            line,
            reason,
        };
        let line = lines[i].trim_start_matches('\u{feff}').trim();
        i += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").map_or(line, str::trim_start);
        let Some((key, rest)) = line.split_once('=') else {
            return Err(fail(start, format!("expected KEY=VALUE, got `{line}`")));
        };
        let key = key.trim();
        check_name(key).map_err(|r| fail(start, format!("`{key}`: {r}")))?;
        let rest = rest.trim_start();
        let value = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => {
                // The value runs to the closing quote, maybe on a later line.
                let mut raw = rest[1..].to_string();
                let (body, after) = loop {
                    if let Some(end) = closing_quote(&raw, q) {
                        break (raw[..end].to_string(), raw[end + 1..].to_string());
                    }
                    if i >= lines.len() {
                        return Err(fail(
                            start,
                            format!("`{key}`: the {q} quote is never closed"),
                        ));
                    }
                    raw.push('\n');
                    raw.push_str(lines[i]);
                    i += 1;
                };
                let after = after.trim();
                if !(after.is_empty() || after.starts_with('#')) {
                    return Err(fail(
                        i,
                        format!("`{key}`: unexpected `{after}` after the closing quote"),
                    ));
                }
                if q == '"' {
                    unescape(&body)
                } else {
                    body
                }
            }
            _ => {
                let v = match rest.find(" #").or_else(|| rest.find("\t#")) {
                    Some(c) => &rest[..c],
                    None => rest,
                };
                v.trim().to_string()
            }
        };
        out.push((key.to_string(), value));
    }
    Ok(out)
}

/// Byte index of the closing `q` in `s` (a `\` escapes the next character inside `"…"`).
fn closing_quote(s: &str, q: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' && q == '"' {
            escaped = true;
        } else if c == q {
            return Some(i);
        }
    }
    None
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(c @ ('"' | '\\' | '$' | '\'')) => out.push(c),
            Some(c) => {
                out.push('\\');
                out.push(c);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// The variables and secrets of a run, after precedence (see the module doc): `(vars,
/// secrets)`, each name once, a name secret when any source marks it so.
pub fn combine(
    var_files: &[PathBuf],
    secret_files: &[PathBuf],
    vars: Vec<(String, String)>,
    secrets: Vec<(String, String)>,
) -> Result<(Pairs, Pairs), VarFileError> {
    // (name, value, secret), later entries win.
    let mut all: Vec<(String, String, bool)> = Vec::new();
    for f in var_files {
        all.extend(
            read("--variables-file", f)?
                .into_iter()
                .map(|(k, v)| (k, v, false)),
        );
    }
    for f in secret_files {
        for (k, v) in read("--secrets-file", f)? {
            if let Err(source) = crate::redact::Redactor::default().add(&v) {
                return Err(VarFileError::ShortSecret {
                    path: f.clone(),
                    name: k,
                    source,
                });
            }
            all.push((k, v, true));
        }
    }
    all.extend(vars.into_iter().map(|(k, v)| (k, v, false)));
    all.extend(secrets.into_iter().map(|(k, v)| (k, v, true)));
    let secret_names: std::collections::HashSet<String> = all
        .iter()
        .filter(|(_, _, s)| *s)
        .map(|(k, _, _)| k.clone())
        .collect();
    let mut last: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (i, (k, _, _)) in all.iter().enumerate() {
        last.insert(k.clone(), i);
    }
    let (mut out_vars, mut out_secrets) = (Vec::new(), Vec::new());
    for (i, (k, v, _)) in all.into_iter().enumerate() {
        if last.get(&k) != Some(&i) {
            continue;
        }
        if secret_names.contains(&k) {
            out_secrets.push((k, v));
        } else {
            out_vars.push((k, v));
        }
    }
    Ok((out_vars, out_secrets))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<(String, String)>, String> {
        dotenv(Path::new("x.env"), text).map_err(|e| e.to_string())
    }

    #[test]
    fn dotenv_lines_quotes_and_comments() {
        let got = parse(
            "# comment\n\nexport API=https://api.test # trailing\nEMPTY=\nS='a # b ${x}'\nD=\"line1\\nline2 \\\"q\\\"\" # c\nM=\"two\nlines\"\nSP = spaced value \nHASH=a#b\n",
        )
        .unwrap();
        let want = [
            ("API", "https://api.test"),
            ("EMPTY", ""),
            ("S", "a # b ${x}"),
            ("D", "line1\nline2 \"q\""),
            ("M", "two\nlines"),
            ("SP", "spaced value"),
            ("HASH", "a#b"),
        ];
        let got: Vec<(&str, &str)> = got.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn bad_dotenv_lines_are_named_by_file_and_line() {
        assert_eq!(
            parse("A=1\n\nnot a pair\n").unwrap_err(),
            "x.env:3: expected KEY=VALUE, got `not a pair`"
        );
        assert_eq!(
            parse("A=1\nB=\"open\nstill open\n").unwrap_err(),
            "x.env:2: `B`: the \" quote is never closed"
        );
        assert_eq!(
            parse("1X=2\n").unwrap_err(),
            "x.env:1: `1X`: a name starts with a letter or `_` and holds letters, digits, `_`, `-` or `.`"
        );
        assert_eq!(
            parse("A='x' y\n").unwrap_err(),
            "x.env:1: `A`: unexpected `y` after the closing quote"
        );
    }

    #[test]
    fn later_sources_win_and_secret_names_stay_secret() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.env");
        let b = dir.path().join("b.yaml");
        let s = dir.path().join("s.json");
        std::fs::write(&a, "X=from-a\nY=from-a\nT=public\n").unwrap();
        std::fs::write(&b, "Y: from-b\nN: 1.10\nB: true\n").unwrap();
        std::fs::write(&s, r#"{"T": "secret-from-file", "K": "key-1234"}"#).unwrap();
        let (vars, secrets) = combine(
            &[a, b],
            &[s],
            vec![("X".into(), "cli".into()), ("T".into(), "cli-wins".into())],
            vec![],
        )
        .unwrap();
        let v: std::collections::HashMap<_, _> = vars.into_iter().collect();
        assert_eq!(v["X"], "cli");
        assert_eq!(v["Y"], "from-b");
        assert_eq!(v["N"], "1.10");
        assert_eq!(v["B"], "true");
        assert!(!v.contains_key("T"), "T is secret: {v:?}");
        let s: std::collections::HashMap<_, _> = secrets.into_iter().collect();
        assert_eq!(s["T"], "cli-wins");
        assert_eq!(s["K"], "key-1234");
    }

    #[test]
    fn documents_must_be_maps_of_scalars() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.yaml");
        std::fs::write(&p, "a: [1, 2]\n").unwrap();
        let e = read("--variables-file", &p).unwrap_err().to_string();
        assert!(
            e.contains("expected a map of variable names to texts, numbers or booleans"),
            "{e}"
        );
        assert!(e.contains("line 1 column 4"), "{e}");
        assert!(e.contains(&format!("{}:1:4", p.display())), "{e}");
        let j = dir.path().join("v.json");
        std::fs::write(&j, r#"{"a": {"b": 1}}"#).unwrap();
        let e = read("--variables-file", &j).unwrap_err().to_string();
        assert!(
            e.ends_with("variable `a`: expected a text, a number or a boolean, got a map"),
            "{e}"
        );
        std::fs::write(&j, "[1]").unwrap();
        let e = read("--variables-file", &j).unwrap_err().to_string();
        assert!(e.contains("expected a map of variable names"), "{e}");
    }
}
