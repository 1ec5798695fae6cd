//! Publishing single files (reports, run records) so that concurrent
//! writers of one name never leave a half-written file: each writes its own
//! uniquely named temporary beside the target and renames it into place, so
//! one of them wins whole.
//!
//! A writer locks its temporary file while it exists; a temporary that
//! nobody has locked is left over from an interrupted writer and removed by
//! the next writer in that folder (or `kerros cache gc`).

use super::lock::still_linked;
use anyhow::{Context, Result};
use fs4::FileExt;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// Marks a temporary of ours: `.<target name><MARK>XXXXXX`.
const MARK: &str = ".kerros-tmp-";
/// Temporaries of kerros 0.2.0 and before carry no lock; they count as
/// stale when older than this.
const LEGACY_STALE_AFTER: Duration = Duration::from_secs(3600);

/// Write `bytes` to `target` atomically. With `skip_if_same`, a target that
/// already holds exactly these bytes is left untouched (a cached rerun then
/// writes nothing); returns whether the file was written.
pub fn write_file_atomically(target: &Path, bytes: &[u8], skip_if_same: bool) -> Result<bool> {
    if skip_if_same && fs::read(target).is_ok_and(|old| old == bytes) {
        return Ok(false);
    }
    replace(target, |f| f.write_all(bytes))?;
    Ok(true)
}

/// Copy the file `source` to `target` atomically.
pub fn copy_file_atomically(source: &Path, target: &Path) -> Result<()> {
    let mut from =
        fs::File::open(source).with_context(|| format!("cannot open {}", source.display()))?;
    replace(target, |f| std::io::copy(&mut from, f).map(|_| ()))
}

/// Fill a locked temporary beside `target` with `fill`, then rename it over
/// `target`.
fn replace(
    target: &Path,
    mut fill: impl FnMut(&mut fs::File) -> std::io::Result<()>,
) -> Result<()> {
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = target
        .file_name()
        .with_context(|| format!("{} names no file", target.display()))?
        .to_string_lossy()
        .into_owned();
    remove_stale_temp_files(dir);
    let cannot = || format!("cannot write {}", target.display());
    loop {
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}{MARK}"))
            .tempfile_in(dir)
            .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
        FileExt::lock(tmp.as_file()).with_context(cannot)?;
        if !still_linked(tmp.as_file(), tmp.path()) {
            // A cleaner took it for stale before we locked it: start over.
            continue;
        }
        fill(tmp.as_file_mut()).with_context(cannot)?;
        tmp.as_file().sync_all().ok();
        tmp.persist(target)
            .map_err(|e| e.error)
            .with_context(cannot)?;
        return Ok(());
    }
}

/// Remove temporaries in `dir` left by interrupted writers: ours when no
/// live writer holds their lock, and lock-less ones of older kerros versions
/// (`NAME.html.tmp`, `.tmp-run-*`) when older than an hour. Best effort;
/// returns the number of bytes removed.
pub fn remove_stale_temp_files(dir: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut freed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        if name.starts_with('.') && name.contains(MARK) {
            // Writers lock their temporary for as long as it exists.
            let Ok(f) = fs::OpenOptions::new().read(true).write(true).open(&path) else {
                continue;
            };
            if FileExt::try_lock(&f).is_ok() && fs::remove_file(&path).is_ok() {
                freed += meta.len();
            }
        } else if is_legacy_temp(&name)
            && older_than(&meta, LEGACY_STALE_AFTER)
            && fs::remove_file(&path).is_ok()
        {
            freed += meta.len();
        }
    }
    freed
}

fn is_legacy_temp(name: &str) -> bool {
    name.ends_with(".html.tmp") || name.starts_with(".tmp-run-")
}

pub(crate) fn older_than(meta: &fs::Metadata, age: Duration) -> bool {
    meta.modified()
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|a| a > age)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_whole_and_identical_content_is_not_rewritten() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("r.json");
        assert!(write_file_atomically(&target, b"one", true).unwrap());
        assert!(!write_file_atomically(&target, b"one", true).unwrap());
        assert!(write_file_atomically(&target, b"two", true).unwrap());
        assert_eq!(fs::read(&target).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(tmp.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "no temporaries left");
    }

    #[test]
    fn concurrent_writers_of_one_name_never_leave_a_mixed_file() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("report.html");
        let big = |c: u8| vec![c; 1 << 20];
        std::thread::scope(|s| {
            for c in [b'a', b'b', b'c', b'd'] {
                let target = &target;
                s.spawn(move || {
                    for _ in 0..5 {
                        write_file_atomically(target, &big(c), false).unwrap();
                    }
                });
            }
        });
        let bytes = fs::read(&target).unwrap();
        assert_eq!(bytes.len(), 1 << 20);
        assert!(
            bytes.iter().all(|&b| b == bytes[0]),
            "one writer wins whole"
        );
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
    }

    #[test]
    fn only_unlocked_temporaries_are_stale() {
        let tmp = tempfile::tempdir().unwrap();
        let dead = tmp.path().join(format!(".a.html{MARK}dead01"));
        fs::write(&dead, "half").unwrap();
        let live = tmp.path().join(format!(".b.html{MARK}live01"));
        fs::write(&live, "being written").unwrap();
        let holder = fs::File::open(&live).unwrap();
        FileExt::lock(&holder).unwrap();
        let legacy_new = tmp.path().join("c.html.tmp");
        fs::write(&legacy_new, "maybe an old kerros writing now").unwrap();
        let legacy_old = tmp.path().join("d.html.tmp");
        fs::write(&legacy_old, "old").unwrap();
        let f = fs::OpenOptions::new()
            .write(true)
            .open(&legacy_old)
            .unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(7200))
            .unwrap();
        assert_eq!(remove_stale_temp_files(tmp.path()), 4 + 3);
        assert!(!dead.exists() && !legacy_old.exists());
        assert!(live.exists() && legacy_new.exists());
    }
}
