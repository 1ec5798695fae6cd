//! Content-addressed stage artifacts: keys, manifests, atomic writes.
//!
//! Each stage's output lives in `<cache-dir>/<stage>/<key>/`, where `key` is a
//! blake3 hash of the stage's resolved settings, the keys of the stages it
//! reads and the content hashes of the files it reads (DVC style). A folder is
//! written under a temporary name and renamed into place only when complete;
//! its `manifest.json` lists every file with its blake3 hash. An artifact with
//! a missing or unreadable manifest, or a file that does not match it, is
//! recomputed, never trusted.
//!
//! Many processes may share one cache (CI jobs, two terminals, a course
//! cluster over NFS): a key is computed under its exclusive [`KeyLock`],
//! published by one atomic rename, and a finished, valid artifact is never
//! deleted or replaced while a run holds its shared lock. See
//! `docs/ARCHITECTURE.md` ("Sharing a cache").

mod gc;
mod key;
mod lock;
mod publish;
mod read_only;
pub mod remote;
mod store;

pub use gc::{gc, info, parse_age, remove_stale_temporaries, CacheInfo, GcReport, StageUsage};
pub use key::{hash_file, StageKey};
pub use lock::{KeyLock, LockMode};
pub use publish::{copy_file_atomically, remove_stale_temp_files, write_file_atomically};
pub use read_only::{is_not_writable, warn_if_not_writable};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How stale a recorded last use may get before a lookup refreshes it: a
/// cached run then writes nothing into the cache within this time.
const LAST_USE_RESOLUTION: Duration = Duration::from_secs(3600);

/// Name of the manifest written last into every artifact folder.
pub const MANIFEST: &str = "manifest.json";

/// The cache root folder.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

/// A finished, verified artifact folder.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// The stage that wrote it.
    pub stage: String,
    /// The stage key (hex).
    pub key: String,
    /// The folder holding the files.
    pub dir: PathBuf,
}

impl Artifact {
    /// Path of one of the artifact's files.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// What `manifest.json` records.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Stage name.
    pub stage: String,
    /// Stage key.
    pub key: String,
    /// kerros version that wrote the artifact.
    pub kerros_version: String,
    /// When it was written (RFC 3339).
    pub created: String,
    /// Every file in the folder (but the manifest) with its blake3 hash.
    pub files: BTreeMap<String, String>,
}

/// Why a cached artifact was not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Miss {
    /// No folder for this key.
    Absent,
    /// A folder exists but is incomplete or corrupted; the reason.
    Invalid(String),
}

impl Cache {
    /// A cache rooted at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Cache {
        Cache { root: root.into() }
    }

    /// The cache root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn stage_dir(&self, key: &StageKey) -> PathBuf {
        self.root.join(&key.stage)
    }

    fn dir(&self, key: &StageKey) -> PathBuf {
        self.stage_dir(key).join(&key.hex)
    }

    fn lock_path(&self, key: &StageKey) -> PathBuf {
        KeyLock::path(&self.stage_dir(key), &key.hex)
    }

    /// The verified artifact for `key`, or why there is none. Takes no lock
    /// and writes nothing, except refreshing the artifact's last use (see
    /// [`gc`]) when that is older than an hour, where the cache is writable.
    pub fn lookup(&self, key: &StageKey) -> std::result::Result<Artifact, Miss> {
        let dir = self.dir(key);
        if !dir.is_dir() {
            return Err(Miss::Absent);
        }
        mark_used(&dir);
        verify(&dir, key).map_err(|e| Miss::Invalid(format!("{e:#}")))?;
        Ok(Artifact {
            stage: key.stage.clone(),
            key: key.hex.clone(),
            dir,
        })
    }

    /// Wait for `key`'s exclusive lock (to compute and publish it), creating
    /// the stage folder; `on_wait` runs once if another run holds it.
    pub fn lock_exclusive(&self, key: &StageKey, on_wait: impl FnOnce()) -> Result<KeyLock> {
        let stage_dir = self.stage_dir(key);
        fs::create_dir_all(&stage_dir)
            .with_context(|| format!("cannot create cache folder {}", stage_dir.display()))?;
        KeyLock::acquire(&self.lock_path(key), LockMode::Exclusive, on_wait)
    }

    /// `key`'s shared lock, held while a run uses its artifact, so nobody
    /// removes or replaces it meanwhile. Waits while a writer holds the key.
    /// `None` where there is nothing to lock: no stage folder yet, or a
    /// read-only cache without a lock file (readers then go without).
    pub fn lock_shared(&self, key: &StageKey, on_wait: impl FnOnce()) -> Option<KeyLock> {
        if !self.stage_dir(key).is_dir() {
            return None;
        }
        KeyLock::acquire(&self.lock_path(key), LockMode::Shared, on_wait).ok()
    }
}

/// Record a use of the artifact in `dir` (the manifest's modification time,
/// refreshed at most hourly); best effort, a read-only cache keeps its times.
fn mark_used(dir: &Path) {
    let manifest = dir.join(MANIFEST);
    let stale = fs::metadata(&manifest)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age > LAST_USE_RESOLUTION);
    if stale {
        if let Ok(f) = fs::OpenOptions::new().write(true).open(&manifest) {
            let _ = f.set_modified(SystemTime::now());
        }
    }
}

/// Check that a folder holds a manifest for `key` and files matching it;
/// returns the manifest.
fn verify(dir: &Path, key: &StageKey) -> Result<Manifest> {
    let raw = fs::read(dir.join(MANIFEST)).context("manifest missing")?;
    let manifest: Manifest = serde_json::from_slice(&raw).context("manifest unreadable")?;
    if manifest.stage != key.stage || manifest.key != key.hex {
        bail!("manifest is for another stage or key");
    }
    for (name, hash) in &manifest.files {
        let path = dir.join(name);
        let actual = hash_file(&path).with_context(|| format!("file `{name}` missing"))?;
        if &actual != hash {
            bail!("file `{name}` does not match its checksum");
        }
    }
    Ok(manifest)
}
