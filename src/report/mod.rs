//! Reporters: each is a sink of [`Event`]s. The console prints as cases finish; the JSON
//! and JUnit reports set each finished case aside on disk (`spill`) and write once,
//! atomically, when the run finishes — also when checks fail or the run is cut short.

pub mod console;
pub(crate) mod details;
pub mod github;
pub mod html;
mod html_bake;
pub mod json;
pub mod junit;
pub mod location;
pub mod openmetrics;
mod spill;

use std::io::Write;
use std::path::Path;

use crate::events::{CaseResult, Status};

pub use crate::events::Reporter;

/// `24 checks: 22 passed, 1 failed, 1 error, 0 skipped (1 non-blocking warning), 2 flaky`:
/// the tally as the console and the HTML report state it.
pub fn counts_line(c: &crate::events::Counts) -> String {
    let mut line = format!(
        "{}: {} passed, {} failed, {}, {} skipped",
        plural(c.total, "check", "checks"),
        c.passed,
        c.failed,
        plural(c.errors, "error", "errors"),
        c.skipped
    );
    if c.warnings > 0 {
        line.push_str(&format!(
            " ({})",
            plural(c.warnings, "non-blocking warning", "non-blocking warnings")
        ));
    }
    if c.flaky > 0 {
        line.push_str(&format!(", {} flaky", c.flaky));
    }
    line
}

/// `1 check`, `2 checks`: the count and the words that agree with it.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Write a file atomically: a temporary file in the same directory, then a rename, so a
/// reader never sees half a report.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Where the console goes: standard output, or standard error when a report is written to
/// standard output (`-`) — at most one may be.
pub fn console_sink(reports: &[Option<&Path>]) -> Result<Box<dyn Write + Send>, String> {
    match reports.iter().flatten().filter(|p| is_stdout(p)).count() {
        0 => Ok(Box::new(std::io::stdout())),
        1 => Ok(Box::new(std::io::stderr())),
        _ => Err("error: only one report can be written to standard output (-)".into()),
    }
}

/// Check, before anything is sent, that every report path can be written: not a directory
/// or a FIFO, in a folder that exists (or can be made) and takes a new file. A run whose
/// reports cannot be written would otherwise send every request first and fail at the end.
pub fn preflight(reports: &[Option<&Path>]) -> Result<(), String> {
    for path in reports.iter().flatten() {
        if is_stdout(path) || is_stderr(path) || is_inherited(path) {
            continue;
        }
        let cannot = |why: String| format!("error: cannot write report {}: {why}", path.display());
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() || is_char_device(&m) => {}
            Ok(m) => {
                return Err(cannot(format!(
                    "it is {}, not a regular file (write reports to a file, or to - for standard output)",
                    kind(&m)
                )))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(cannot(e.to_string())),
        }
        let m = std::fs::metadata(path).ok();
        if m.as_ref().is_some_and(is_char_device) {
            continue;
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        std::fs::create_dir_all(dir)
            .map_err(|e| cannot(format!("its folder {} cannot be made: {e}", dir.display())))?;
        tempfile::Builder::new()
            .prefix(".smokegate-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|e| {
                cannot(format!(
                    "its folder {} takes no new file: {}",
                    dir.display(),
                    e.kind()
                ))
            })?;
    }
    Ok(())
}

/// True when `path` means standard output (`-`, `/dev/stdout`, `/dev/fd/1`).
pub fn is_stdout(path: &Path) -> bool {
    matches!(
        path.to_str(),
        Some("-" | "/dev/stdout" | "/dev/fd/1" | "/proc/self/fd/1")
    )
}

/// True when `path` means standard error.
fn is_stderr(path: &Path) -> bool {
    matches!(
        path.to_str(),
        Some("/dev/stderr" | "/dev/fd/2" | "/proc/self/fd/2")
    )
}

/// True when `path` names a descriptor this process inherited (`/dev/fd/N`, a shell's
/// `>(…)`): written through, appending, whatever it is.
fn is_inherited(path: &Path) -> bool {
    path.starts_with("/dev/fd/") || path.starts_with("/proc/self/fd/")
}

/// Write `fill` through an already open writer.
fn through(
    w: impl Write,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(w);
    fill(&mut w)?;
    w.flush()
}

/// [`write_atomic`], with the content written by `fill` (buffered), so a large report need
/// not be held in memory whole. What is at `path` decides how:
/// - `-`: standard output;
/// - nothing, or a regular file: a temporary file, then a rename (a reader never sees half a
///   report), with the usual permissions (0666 less the umask, like any new file);
/// - a symbolic link to a regular file: the same, to the link's target (the link stays);
/// - a character device (`/dev/stdout`, `/dev/null`, a terminal): written through, never
///   replaced by a file;
/// - anything else (a directory, a FIFO, a socket, a dangling link): an error that says so.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    // Our own standard streams are written to as they are: a shell's `>> build.log` keeps
    // its earlier content and its append mode.
    if is_stdout(path) {
        return through(std::io::stdout().lock(), fill);
    }
    if is_stderr(path) {
        return through(std::io::stderr().lock(), fill);
    }
    if is_inherited(path) {
        let f = std::fs::OpenOptions::new().append(true).open(path)?;
        return through(f, fill);
    }
    let link = std::fs::symlink_metadata(path).ok();
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {
            if link.is_some_and(|l| l.file_type().is_symlink()) {
                return replace(&std::fs::canonicalize(path)?, fill);
            }
            replace(path, fill)
        }
        Ok(m) if is_char_device(&m) => {
            let f = std::fs::OpenOptions::new().write(true).open(path)?;
            let mut w = std::io::BufWriter::new(f);
            fill(&mut w)?;
            w.flush()
        }
        Ok(m) => Err(std::io::Error::other(format!(
            "{} is {}, not a regular file: write reports to a file, or to - for standard output",
            path.display(),
            kind(&m)
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && link.is_some() => {
            Err(std::io::Error::other(format!(
                "{} is a symbolic link to nothing: write reports to a file, or to - for standard output",
                path.display()
            )))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => replace(path, fill),
        Err(e) => Err(e),
    }
}

#[cfg(unix)]
fn is_char_device(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    m.file_type().is_char_device()
}

#[cfg(not(unix))]
fn is_char_device(_: &std::fs::Metadata) -> bool {
    false
}

fn kind(m: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = m.file_type();
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() {
            return "a block device";
        }
    }
    if m.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Write a regular file by a temporary file in its directory and a rename.
fn replace(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".smokegate-").suffix(".tmp");
    #[cfg(unix)]
    {
        // Like any new file: 0666 less the umask (a temporary file would be 0600).
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    // A report written again keeps the permissions it was given.
    if let Ok(m) = std::fs::metadata(path) {
        let _ = tmp.as_file().set_permissions(m.permissions());
    }
    {
        let mut w = std::io::BufWriter::with_capacity(256 * 1024, tmp.as_file_mut());
        fill(&mut w)?;
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// What a reporter that lists every check (HTML, OpenMetrics, the GitHub summary) keeps of a
/// finished one: the whole result when it has more to show than its row — a failure, a skip,
/// warnings, failed attempts, samples or bake figures — else only the row (suite, name,
/// place, status, severity, time). A passing check's steps, requests and responses are
/// kilobytes each: the HTML reporter held 150 MB for a run of 20,000 checks.
pub(crate) fn kept_for_summary(c: &std::sync::Arc<CaseResult>) -> std::sync::Arc<CaseResult> {
    let details = c.status != Status::Passed
        || c.passed_with_warnings()
        || c.flaky
        || c.samples.is_some()
        || c.bake.is_some();
    if details {
        return c.clone();
    }
    std::sync::Arc::new(CaseResult {
        id: c.id.clone(),
        suite: c.suite.clone(),
        suite_file: c.suite_file.clone(),
        name: c.name.clone(),
        tags: Vec::new(),
        severity: c.severity,
        status: c.status,
        flaky: c.flaky,
        message: c.message.clone(),
        started_at: String::new(),
        duration_ms: c.duration_ms,
        line: c.line,
        steps: Vec::new(),
        warnings: Vec::new(),
        samples: None,
        bake: None,
    })
}
