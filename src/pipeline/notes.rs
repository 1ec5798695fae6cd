//! `report.notes`: the author's Markdown discussion, read from a file next
//! to the spec and sealed into the report (its text lives in the report's
//! record, so `kerros verify` covers it).

use crate::report::Notes;
use crate::spec::{read_spec_file, Invalid, Locator, Spec, SpecError};
use std::path::Path;

/// Largest notes file accepted: a discussion, not a data set.
pub const MAX_NOTES_BYTES: u64 = 1024 * 1024;

/// The notes `spec` names (relative to the spec's folder), or `None` when
/// it names none. A missing, unreadable, non-UTF-8 or oversized file is an
/// error located at `report.notes` in `spec_path`.
pub fn load(spec: &Spec, spec_path: &Path) -> Result<Option<Notes>, SpecError> {
    let Some(name) = &spec.report.notes else {
        return Ok(None);
    };
    let dir = spec_path.parent().unwrap_or(Path::new("."));
    let path = dir.join(name);
    let fail = |message: String| {
        let locator = read_spec_file(spec_path)
            .map(|s| Locator::new(&s))
            .unwrap_or_default();
        Invalid::new("report.notes", message).at(spec_path, &locator)
    };
    let meta = std::fs::metadata(&path).map_err(|e| {
        fail(format!(
            "cannot read the notes file {}: {e}; write it (Markdown) or remove `report.notes`",
            path.display()
        ))
    })?;
    if !meta.is_file() {
        return Err(fail(format!(
            "the notes file {} is not a file; `report.notes` names a Markdown file, relative to the spec's folder",
            path.display()
        )));
    }
    if meta.len() > MAX_NOTES_BYTES {
        return Err(fail(format!(
            "the notes file {} has {} bytes; at most {MAX_NOTES_BYTES} are accepted",
            path.display(),
            meta.len()
        )));
    }
    let bytes = std::fs::read(&path).map_err(|e| {
        fail(format!(
            "cannot read the notes file {}: {e}",
            path.display()
        ))
    })?;
    let markdown = String::from_utf8(bytes).map_err(|e| {
        fail(format!(
            "the notes file {} is not UTF-8 text (invalid byte at offset {}); save it as UTF-8",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })?;
    Ok(Some(Notes {
        // An absolute path would show the author's folders in the page.
        source: if name.is_absolute() {
            name.file_name()
                .map_or_else(String::new, |f| f.to_string_lossy().into_owned())
        } else {
            name.display().to_string()
        },
        markdown,
    }))
}

/// A short content hash of the notes, for the report stage's cache key.
pub fn fingerprint(notes: Option<&Notes>) -> String {
    notes.map_or_else(String::new, |n| {
        blake3::hash(n.markdown.as_bytes()).to_hex().to_string()
    })
}
