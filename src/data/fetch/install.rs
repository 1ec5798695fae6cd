//! Fetching a dataset into the data dir: download to a temporary file, verify
//! size and checksum, convert into a temporary folder, rename into place.
//! Any failure leaves only hidden temporary names that are never trusted
//! (and are removed on the way out, or by a later fetch once stale).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::created_dirs::CreatedDirs;
use super::download::{check_http_url, download, Limits};
use super::error::{FetchError, Result};
use super::imdb;
use super::lock::{lock_path, read_lock, write_lock, ChecksumLock};
use super::options::{normalize_sha256, resolve_source, FetchOptions};
use super::registry::{builtin, lookup, ArchiveKind, DatasetInfo};
use super::safe_path::ArchiveLimits;
use super::zip_tsv;

/// Largest download accepted when the size is not known in advance.
pub const MAX_DOWNLOAD: u64 = 2 * 1024 * 1024 * 1024;

/// Leftover temporary files untouched for this long belong to a run that died.
const STALE_AFTER: Duration = Duration::from_secs(3600);

/// The folder of dataset `name` under `data_dir` (`<data-dir>/imdb`).
pub fn dataset_path(name: &str, data_dir: &Path) -> PathBuf {
    data_dir.join(name)
}

/// Whether `name` is a built-in dataset whose folder holds all its files.
/// Never touches the network.
pub fn is_present(name: &str, data_dir: &Path) -> bool {
    match builtin(name) {
        Some(info) => missing_files(info, &dataset_path(name, data_dir)).is_empty(),
        None => false,
    }
}

/// The files of `info` absent from `dir`.
fn missing_files(info: &DatasetInfo, dir: &Path) -> Vec<&'static str> {
    info.files
        .iter()
        .filter(|f| !dir.join(f).is_file())
        .copied()
        .collect()
}

/// Makes dataset `name` present under `data_dir` and returns its folder.
///
/// When it is already present nothing is downloaded (no connection is made).
/// Otherwise the archive is downloaded from `opts.url`, else the mirror in
/// `KERROS_DATASET_MIRROR`, else the official URL; it must match
/// `opts.sha256` when given, else the official checksum (and size), else the
/// checksum recorded in `<data-dir>/<name>.lock.json`; when none is known the
/// checksum seen is recorded there after a successful conversion.
pub fn fetch(name: &str, data_dir: &Path, opts: &FetchOptions) -> Result<PathBuf> {
    let info = lookup(name)?;
    let target = dataset_path(name, data_dir);
    if is_present(name, data_dir) {
        return Ok(target);
    }
    if target.exists() {
        // An empty folder (e.g. made by hand) can be replaced; anything else
        // might be the user's and is left alone.
        let empty = std::fs::read_dir(&target)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if empty {
            std::fs::remove_dir(&target)
                .map_err(|e| FetchError::io("cannot remove the empty folder", &target, e))?;
        } else {
            return Err(FetchError::Incomplete {
                path: target,
                missing: missing_files(info, &dataset_path(name, data_dir)).join(", "),
            });
        }
    }
    let explicit = opts.sha256.as_deref().map(normalize_sha256).transpose()?;
    let source = resolve_source(info, opts);
    check_http_url(&source.url)?;
    // Dropped (removing the folders it made) on every early return below.
    let created = CreatedDirs::create(data_dir)
        .map_err(|e| FetchError::io("cannot create the data dir", data_dir, e))?;
    remove_stale_leftovers(name, data_dir);

    let lock = if info.sha256.is_none() {
        read_lock(name, data_dir)?
    } else {
        None
    };
    let (expected, origin) = match (&explicit, info.sha256, &lock) {
        (Some(x), _, _) => (Some(x.clone()), "given with --sha256".to_string()),
        (None, Some(official), _) => (Some(official.to_string()), "the official checksum".into()),
        (None, None, Some(l)) => (
            Some(l.sha256.clone()),
            format!(
                "recorded in {} on the first download",
                lock_path(name, data_dir).display()
            ),
        ),
        (None, None, None) => (None, String::new()),
    };
    // The official size goes with the official checksum; a checksum given
    // explicitly may describe a different (e.g. repacked) archive.
    let expected_size = if explicit.is_none() { info.size } else { None };
    let limits = Limits {
        expected_size,
        max_size: MAX_DOWNLOAD,
        timeout: opts.timeout,
    };
    let label = format!("{name} <- {}", source.url);
    let downloaded = download(
        &source.url,
        data_dir,
        &format!(".{name}.download-"),
        limits,
        opts.progress,
        &label,
    )?;
    if let Some(expected) = &expected {
        if &downloaded.sha256 != expected {
            return Err(FetchError::ChecksumMismatch {
                url: downloaded.final_url,
                expected: expected.clone(),
                actual: downloaded.sha256,
                origin,
            });
        }
    }
    // Status lines go to stderr like the progress bar, and only when asked.
    let say = |msg: &str| {
        if opts.progress {
            eprintln!("{msg}");
        }
    };
    say(&format!(
        "{name}: sha256 {} {}; converting",
        downloaded.sha256,
        if expected.is_some() {
            "verified"
        } else {
            "(no checksum known yet; it will be recorded)"
        }
    ));

    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}.partial-"))
        .tempdir_in(data_dir)
        .map_err(|e| FetchError::io("cannot create a temporary folder in", data_dir, e))?;
    let archive_label = downloaded.final_url.clone();
    let archive_limits = ArchiveLimits::default();
    match info.kind {
        ArchiveKind::ImdbTarGz => {
            let reviews =
                imdb::read_archive(downloaded.file.path(), &archive_label, archive_limits)?;
            imdb::write_parquet(&reviews, staging.path())?;
        }
        ArchiveKind::ZipTsv => zip_tsv::extract(
            downloaded.file.path(),
            &archive_label,
            info.files,
            staging.path(),
            archive_limits,
        )?,
    }
    let still_missing = missing_files(info, staging.path());
    if !still_missing.is_empty() {
        return Err(FetchError::archive(
            archive_label,
            format!("conversion did not produce {}", still_missing.join(", ")),
        ));
    }
    // Record the checksum before the data appears, so the dataset is never
    // present without the lock that later downloads are checked against.
    if info.sha256.is_none() && (lock.is_none() || explicit.is_some()) {
        write_lock(
            data_dir,
            &ChecksumLock {
                dataset: name.to_string(),
                url: downloaded.final_url.clone(),
                size: downloaded.size,
                sha256: downloaded.sha256.clone(),
                recorded: chrono::Utc::now().to_rfc3339(),
            },
        )?;
    }
    let staged = staging.keep();
    if let Err(e) = std::fs::rename(&staged, &target) {
        let _ = std::fs::remove_dir_all(&staged);
        // Another fetch may have finished first; its result is as good.
        if is_present(name, data_dir) {
            created.keep();
            return Ok(target);
        }
        return Err(FetchError::io(
            "cannot move the converted dataset to",
            &target,
            e,
        ));
    }
    created.keep();
    say(&format!("{name}: ready in {}", target.display()));
    Ok(target)
}

/// Removes temporary files and folders of `name` left by runs that died
/// (killed before their clean-up ran). Recent ones may belong to a fetch in
/// progress and are kept. Failures are ignored: leftovers are never trusted.
fn remove_stale_leftovers(name: &str, data_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(data_dir) else {
        return;
    };
    let prefixes = [format!(".{name}.download-"), format!(".{name}.partial-")];
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let file_name = file_name.to_string_lossy();
        if !prefixes.iter().any(|p| file_name.starts_with(p.as_str())) {
            continue;
        }
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age > STALE_AFTER);
        if stale {
            let path = entry.path();
            if path.is_dir() {
                let _ = std::fs::remove_dir_all(&path);
            } else {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}
