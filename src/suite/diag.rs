//! Diagnostics for suite files: `file:line:column`, the source line, a caret, and what was
//! expected — the same text on the console, in `validate`, and in CI annotations.

use std::fmt;
use std::path::{Path, PathBuf};

/// A position in a suite file (1-based line and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Pos {
    /// Line, from 1.
    pub line: u64,
    /// Column, from 1.
    pub column: u64,
}

impl Pos {
    /// Position from a serde-saphyr location.
    pub fn from_loc(loc: &serde_saphyr::Location) -> Pos {
        Pos {
            line: loc.line(),
            column: loc.column(),
        }
    }
}

/// An error in a suite or its configuration, located in a file.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// The file the problem is in.
    pub file: PathBuf,
    /// Where in the file, when known (`None` for a problem of the whole file).
    pub pos: Option<Pos>,
    /// What is wrong, in words.
    pub message: String,
    /// The source text, kept to render the offending line.
    source_line: Option<String>,
}

impl Diagnostic {
    /// A diagnostic at `pos` in `file`, whose text is `source`.
    pub fn at(file: &Path, source: &str, pos: Option<Pos>, message: impl Into<String>) -> Self {
        let source_line = pos.and_then(|p| {
            source
                .lines()
                .nth(p.line.saturating_sub(1) as usize)
                .map(str::to_string)
        });
        Diagnostic {
            file: file.to_path_buf(),
            pos,
            message: message.into(),
            source_line,
        }
    }

    /// A diagnostic about a whole file (e.g. it cannot be read).
    pub fn file(file: &Path, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_path_buf(),
            pos: None,
            message: message.into(),
            source_line: None,
        }
    }

    /// `file:line:column` (or just the file).
    pub fn location(&self) -> String {
        match self.pos {
            Some(p) => format!("{}:{}:{}", self.file.display(), p.line, p.column),
            None => self.file.display().to_string(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        write!(f, "  --> {}", self.location())?;
        if let (Some(p), Some(line)) = (self.pos, &self.source_line) {
            let num = p.line.to_string();
            let pad = " ".repeat(num.len());
            writeln!(f)?;
            writeln!(f, "{pad} |")?;
            writeln!(f, "{num} | {line}")?;
            let caret_pad = " ".repeat(p.column.saturating_sub(1) as usize);
            write!(f, "{pad} | {caret_pad}^ {}", self.message)?;
        }
        Ok(())
    }
}

/// Several diagnostics, reported together.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_caret_under_column() {
        let d = Diagnostic::at(
            Path::new("suites/a.yaml"),
            "name: x\ncases:\n  - nme: a\n",
            Some(Pos { line: 3, column: 5 }),
            "unknown field `nme`",
        );
        let text = d.to_string();
        assert!(text.contains("--> suites/a.yaml:3:5"), "{text}");
        assert!(text.contains("3 |   - nme: a"), "{text}");
        assert!(text.contains("  |     ^ unknown field"), "{text}");
    }
}
