//! Checksum lock files: for a dataset whose checksum is not known in
//! advance, the sha256 seen on the first successful fetch is recorded in
//! `<data-dir>/<name>.lock.json` (beside the data, so deleting the dataset
//! folder keeps it) and later downloads must match it.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{FetchError, Result};
use super::options::normalize_sha256;

/// The content of a lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecksumLock {
    /// The dataset name.
    pub dataset: String,
    /// The URL the recorded archive came from.
    pub url: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its sha256 (lowercase hex).
    pub sha256: String,
    /// When it was recorded (RFC 3339).
    pub recorded: String,
}

/// Path of the lock file of `name` under `data_dir`.
pub fn lock_path(name: &str, data_dir: &Path) -> PathBuf {
    data_dir.join(format!("{name}.lock.json"))
}

/// Reads the lock of `name`, `None` when there is none.
pub fn read_lock(name: &str, data_dir: &Path) -> Result<Option<ChecksumLock>> {
    let path = lock_path(name, data_dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(FetchError::io("cannot read", &path, e)),
    };
    let mut lock: ChecksumLock = serde_json::from_str(&text).map_err(|e| FetchError::Lock {
        path: path.clone(),
        message: format!(
            "{e}; expected JSON with dataset, url, size, sha256, recorded (delete it to record a new checksum)"
        ),
    })?;
    lock.sha256 = normalize_sha256(&lock.sha256).map_err(|_| FetchError::Lock {
        path: path.clone(),
        message: format!("`sha256` is `{}`, not 64 hexadecimal digits", lock.sha256),
    })?;
    Ok(Some(lock))
}

/// Writes the lock atomically (temporary file, then rename).
pub fn write_lock(data_dir: &Path, lock: &ChecksumLock) -> Result<()> {
    let path = lock_path(&lock.dataset, data_dir);
    let json = serde_json::to_string_pretty(lock).map_err(|e| FetchError::Lock {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{}.lock-", lock.dataset))
        .tempfile_in(data_dir)
        .map_err(|e| FetchError::io("cannot create a temporary file in", data_dir, e))?;
    tmp.write_all(json.as_bytes())
        .and_then(|_| tmp.write_all(b"\n"))
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| FetchError::io("cannot write", tmp.path(), e))?;
    tmp.persist(&path)
        .map_err(|e| FetchError::io("cannot write", &path, e.error))?;
    Ok(())
}
