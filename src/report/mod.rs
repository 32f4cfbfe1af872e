//! Reporters: each is a sink of [`Event`]s. The console prints as cases finish; the JSON
//! and JUnit reports aggregate and write once, atomically, when the run finishes — also
//! when checks fail or the run is cut short.

pub mod console;
pub(crate) mod details;
pub mod github;
pub mod html;
pub mod json;
pub mod junit;

use std::io::Write;
use std::path::Path;

pub use crate::events::Reporter;

/// Write a file atomically: a temporary file in the same directory, then a rename, so a
/// reader never sees half a report.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// [`write_atomic`], with the content written by `fill` (buffered), so a large report need
/// not be held in memory whole.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".smokegate-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    {
        let mut w = std::io::BufWriter::with_capacity(256 * 1024, tmp.as_file_mut());
        fill(&mut w)?;
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
