//! Extraction of named TSV files from a zip archive (the UCI drug review
//! datasets). The wanted files are found by file name wherever they are in the
//! zip, also inside one nested zip (UCI sometimes wraps the original archive).
//! Every entry's path is validated and sizes are capped; files are written
//! under their fixed names into the output folder, never under archive paths.

use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek, Write};
use std::path::Path;

use super::error::{FetchError, Result};
use super::safe_path::{safe_components, ArchiveLimits};

/// Extracts `wanted` file names from the zip at `path` into `out_dir`.
pub fn extract(
    path: &Path,
    archive: &str,
    wanted: &[&str],
    out_dir: &Path,
    limits: ArchiveLimits,
) -> Result<()> {
    let file = File::open(path).map_err(|e| FetchError::io("cannot open", path, e))?;
    let mut found = vec![false; wanted.len()];
    let mut budget = Budget {
        total: 0,
        entries: 0,
    };
    extract_from(
        BufReader::new(file),
        archive,
        wanted,
        out_dir,
        limits,
        &mut found,
        &mut budget,
        true,
    )?;
    let missing: Vec<&str> = wanted
        .iter()
        .zip(&found)
        .filter(|(_, f)| !**f)
        .map(|(w, _)| *w)
        .collect();
    if !missing.is_empty() {
        return Err(FetchError::archive(
            archive,
            format!("it does not contain {}", missing.join(", ")),
        ));
    }
    Ok(())
}

/// Bytes and entries seen so far, across nested archives.
struct Budget {
    total: u64,
    entries: u64,
}

#[allow(clippy::too_many_arguments)]
fn extract_from<R: Read + Seek>(
    reader: R,
    archive: &str,
    wanted: &[&str],
    out_dir: &Path,
    limits: ArchiveLimits,
    found: &mut [bool],
    budget: &mut Budget,
    allow_nested: bool,
) -> Result<()> {
    let bad = |message: String| FetchError::archive(archive, message);
    let mut zip = zip::ZipArchive::new(reader)
        .map_err(|e| bad(format!("not a readable zip archive: {e}")))?;
    let mut nested: Vec<Vec<u8>> = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| bad(format!("entry {i} cannot be read: {e}")))?;
        budget.entries += 1;
        if budget.entries > limits.max_entries {
            return Err(bad(format!("more than {} entries", limits.max_entries)));
        }
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        let parts = safe_components(&name).map_err(|why| bad(format!("entry `{name}` {why}")))?;
        if entry.enclosed_name().is_none() {
            return Err(bad(format!("entry `{name}` escapes the target folder")));
        }
        if entry.is_dir() {
            continue;
        }
        if entry.is_symlink() {
            // Links are never created; one standing where a wanted file should be is refused.
            if parts.last().is_some_and(|n| wanted.contains(n)) {
                return Err(bad(format!(
                    "entry `{name}` is a symbolic link, not a file"
                )));
            }
            continue;
        }
        let size = entry.size();
        if size > limits.max_entry {
            return Err(bad(format!(
                "entry `{name}` announces {size} bytes, more than the {} allowed",
                limits.max_entry
            )));
        }
        budget.total = budget.total.saturating_add(size);
        if budget.total > limits.max_total {
            return Err(bad(format!(
                "entries add up to more than {} bytes",
                limits.max_total
            )));
        }
        // macOS resource forks (`__MACOSX/._name`) are not data.
        if parts.first() == Some(&"__MACOSX") {
            continue;
        }
        let file_name = parts.last().copied().unwrap_or_default();
        if let Some(k) = wanted.iter().position(|w| *w == file_name) {
            if found[k] {
                return Err(bad(format!(
                    "`{file_name}` appears more than once (again as `{name}`)"
                )));
            }
            let target = out_dir.join(file_name);
            let mut out =
                File::create(&target).map_err(|e| FetchError::io("cannot create", &target, e))?;
            let written = copy_capped(&mut entry, &mut out, limits.max_entry)
                .map_err(|e| bad(format!("entry `{name}` cannot be extracted: {e}")))?;
            if written != size {
                return Err(bad(format!(
                    "entry `{name}` holds {written} bytes, its header says {size}"
                )));
            }
            out.sync_all()
                .map_err(|e| FetchError::io("cannot flush", &target, e))?;
            found[k] = true;
        } else if allow_nested && file_name.to_ascii_lowercase().ends_with(".zip") {
            let mut bytes = Vec::new();
            (&mut entry)
                .take(limits.max_entry + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| bad(format!("entry `{name}` cannot be read: {e}")))?;
            if bytes.len() as u64 != size {
                return Err(bad(format!(
                    "entry `{name}` holds {} bytes, its header says {size}",
                    bytes.len()
                )));
            }
            nested.push(bytes);
        }
    }
    for bytes in nested {
        if found.iter().all(|f| *f) {
            break;
        }
        extract_from(
            Cursor::new(bytes),
            archive,
            wanted,
            out_dir,
            limits,
            found,
            budget,
            false,
        )?;
    }
    Ok(())
}

/// Copies at most `cap + 1` bytes (so a lying header is noticed), returning
/// the count.
fn copy_capped<R: Read, W: Write>(from: &mut R, to: &mut W, cap: u64) -> std::io::Result<u64> {
    let mut limited = from.take(cap + 1);
    std::io::copy(&mut limited, to)
}
