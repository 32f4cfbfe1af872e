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

    /// A diagnostic at `pos` in `file`, whose line there is `line`.
    pub fn with_line(
        file: &Path,
        line: Option<&str>,
        pos: Option<Pos>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            file: file.to_path_buf(),
            pos,
            message: message.into(),
            source_line: line.map(str::to_string),
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
            let (shown, caret) = window(line, p.column.saturating_sub(1) as usize);
            writeln!(f)?;
            writeln!(f, "{pad} |")?;
            writeln!(f, "{num} | {shown}")?;
            let caret_pad = " ".repeat(caret);
            write!(f, "{pad} | {caret_pad}^ {}", self.message)?;
        }
        Ok(())
    }
}

/// Characters of a source line shown on each side of the column.
const CONTEXT: usize = 60;

/// The part of `line` around character `col` (all of it when short), and the caret's column
/// in what is shown.
fn window(line: &str, col: usize) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= 2 * CONTEXT + 20 {
        return (line.to_string(), col);
    }
    let start = col.saturating_sub(CONTEXT).min(chars.len());
    let end = (col + CONTEXT).min(chars.len());
    let mut shown = String::new();
    let mut caret = col - start;
    if start > 0 {
        shown.push('…');
        caret += 1;
    }
    shown.extend(&chars[start..end]);
    if end < chars.len() {
        shown.push('…');
    }
    (shown, caret)
}

/// Most diagnostics shown at once (the rest are counted).
pub const MAX_SHOWN: usize = 100;

/// Several diagnostics, reported together.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().take(MAX_SHOWN).enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            writeln!(f, "{d}")?;
        }
        if self.0.len() > MAX_SHOWN {
            writeln!(
                f,
                "\n… and {} not shown (fix these first)",
                crate::report::plural(self.0.len() - MAX_SHOWN, "more error", "more errors")
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_shown_around_the_column() {
        let line = format!("{}X{}", "a".repeat(500), "b".repeat(500));
        let (shown, caret) = window(&line, 500);
        assert!(shown.chars().count() <= 2 * CONTEXT + 2, "{shown}");
        assert_eq!(shown.chars().nth(caret), Some('X'));
        let many = Diagnostics(
            (0..250)
                .map(|i| Diagnostic::file(Path::new("s.yaml"), format!("e{i}")))
                .collect(),
        );
        let text = many.to_string();
        assert!(text.contains("e99") && !text.contains("e100\n"), "{text}");
        assert!(text.contains("150 more errors not shown"), "{text}");
    }

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
