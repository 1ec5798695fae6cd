//! Publishing a stage's artifact folder: written under a temporary name,
//! sealed with its manifest, then moved into place by one atomic rename.

use super::{verify, Artifact, Cache, KeyLock, LockMode, Manifest, StageKey, MANIFEST};
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Prefix of a stage's temporary folders: `.tmp-<key>-XXXXXX`. The full key
/// lets a cleaner find the lock whose holder is writing the folder.
pub(crate) const TMP_PREFIX: &str = ".tmp-";
/// Prefix of folders being deleted: `.trash-<key>-<pid>-<n>`.
pub(crate) const TRASH_PREFIX: &str = ".trash-";

impl Cache {
    /// Compute and publish `key`'s artifact: `write` fills a fresh temporary
    /// folder, the manifest is added and the folder renamed into place.
    ///
    /// The caller holds `key`'s exclusive `lock`, so nobody else writes this
    /// key meanwhile. What is already at the destination is handled so that a
    /// valid artifact is never deleted under a reader: an identical one stays
    /// and this copy is dropped; an invalid one (corrupted, half-deleted) is
    /// renamed aside before it is deleted. Only a valid but *different*
    /// artifact (a `--force` rerun that did not reproduce it) is replaced, and
    /// that only happens under the exclusive lock, i.e. while no run holds
    /// the shared lock that readers keep while they use it.
    pub fn store(
        &self,
        key: &StageKey,
        lock: &KeyLock,
        write: impl FnOnce(&Path) -> Result<()>,
    ) -> Result<Artifact> {
        debug_assert_eq!(lock.mode(), LockMode::Exclusive);
        let stage_dir = self.stage_dir(key);
        fs::create_dir_all(&stage_dir)
            .with_context(|| format!("cannot create cache folder {}", stage_dir.display()))?;
        let tmp = tempfile::Builder::new()
            .prefix(&format!("{TMP_PREFIX}{}-", key.hex))
            .tempdir_in(&stage_dir)
            .with_context(|| {
                format!(
                    "cannot create a temporary folder in {}",
                    stage_dir.display()
                )
            })?;
        write(tmp.path())?;
        let manifest = seal(tmp.path(), key)?;
        let dir = self.dir(key);
        let artifact = Artifact {
            stage: key.stage.clone(),
            key: key.hex.clone(),
            dir: dir.clone(),
        };
        if dir.exists() {
            match verify(&dir, key) {
                // Same files: keep the published folder, drop this copy.
                Ok(existing) if existing.files == manifest.files => return Ok(artifact),
                _ => move_aside(&dir, &stage_dir, &key.hex)?,
            }
        }
        let tmp_path = tmp.keep();
        if let Err(e) = fs::rename(&tmp_path, &dir) {
            let _ = fs::remove_dir_all(&tmp_path);
            // A writer that does not take locks (an older kerros) may have
            // published the same key first.
            if let Ok(a) = self.lookup(key) {
                return Ok(a);
            }
            return Err(e).with_context(|| format!("cannot move artifact into {}", dir.display()));
        }
        Ok(artifact)
    }
}

/// Hash every file of the finished folder `dir` and write its manifest.
fn seal(dir: &Path, key: &StageKey) -> Result<Manifest> {
    let mut files = BTreeMap::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            bail!(
                "stage `{}` wrote a non-file `{}` into its artifact",
                key.stage,
                entry.path().display()
            );
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        files.insert(name, super::hash_file(&entry.path())?);
    }
    let manifest = Manifest {
        stage: key.stage.clone(),
        key: key.hex.clone(),
        kerros_version: env!("CARGO_PKG_VERSION").to_string(),
        created: chrono::Utc::now().to_rfc3339(),
        files,
    };
    fs::write(dir.join(MANIFEST), serde_json::to_vec_pretty(&manifest)?)?;
    Ok(manifest)
}

/// A fresh trash name for key `hex` in `stage_dir`.
pub(crate) fn trash_name(stage_dir: &Path, hex: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    stage_dir.join(format!(
        "{TRASH_PREFIX}{hex}-{}-{nanos}-{n}",
        std::process::id()
    ))
}

/// Remove the folder `dir` of key `hex` (the caller holds the key's
/// exclusive lock): first renamed to a trash name, atomically, so nobody
/// ever sees a half-deleted artifact, then deleted. A trash folder whose
/// deletion fails is left for the next cleanup.
pub(crate) fn move_aside(dir: &Path, stage_dir: &Path, hex: &str) -> Result<()> {
    let trash = trash_name(stage_dir, hex);
    fs::rename(dir, &trash)
        .with_context(|| format!("cannot move the stale artifact {} aside", dir.display()))?;
    let _ = fs::remove_dir_all(&trash);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::Miss;
    use super::*;

    fn key(stage: &str, settings: &str) -> StageKey {
        StageKey::build(stage, &settings).finish()
    }

    fn store(
        cache: &Cache,
        k: &StageKey,
        write: impl FnOnce(&Path) -> Result<()>,
    ) -> Result<Artifact> {
        let lock = cache.lock_exclusive(k, || {})?;
        cache.store(k, &lock, write)
    }

    /// Names in a stage folder other than lock files.
    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with(".lock-"))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn store_then_lookup() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::new(tmp.path());
        let k = key("vocabulary", "a");
        assert_eq!(cache.lookup(&k).unwrap_err(), Miss::Absent);
        let a = store(&cache, &k, |dir| Ok(fs::write(dir.join("x.txt"), "hello")?)).unwrap();
        assert_eq!(fs::read_to_string(a.file("x.txt")).unwrap(), "hello");
        let again = cache.lookup(&k).unwrap();
        assert_eq!(again.dir, a.dir);
        // No temporary folders are left behind.
        assert_eq!(entries(&tmp.path().join("vocabulary")), vec![k.hex.clone()]);
    }

    #[test]
    fn corrupted_or_partial_artifacts_are_not_trusted() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::new(tmp.path());
        let k = key("train", "b");
        let a = store(&cache, &k, |dir| {
            Ok(fs::write(dir.join("w.bin"), [1u8, 2, 3])?)
        })
        .unwrap();
        fs::write(a.file("w.bin"), [1u8, 2, 4]).unwrap();
        assert!(matches!(cache.lookup(&k), Err(Miss::Invalid(m)) if m.contains("checksum")));
        // Rewriting replaces the corrupted folder, leaving no trash behind.
        store(&cache, &k, |dir| {
            Ok(fs::write(dir.join("w.bin"), [1u8, 2, 3])?)
        })
        .unwrap();
        assert!(cache.lookup(&k).is_ok());
        assert_eq!(entries(&tmp.path().join("train")), vec![k.hex.clone()]);
        fs::remove_file(a.file(MANIFEST)).unwrap();
        assert!(matches!(cache.lookup(&k), Err(Miss::Invalid(m)) if m.contains("manifest")));
    }

    #[test]
    fn a_valid_identical_artifact_is_kept_not_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::new(tmp.path());
        let k = key("encode", "same");
        let a = store(&cache, &k, |dir| {
            Ok(fs::write(dir.join("e.bin"), [7u8; 4])?)
        })
        .unwrap();
        let manifest_before = fs::read(a.file(MANIFEST)).unwrap();
        // An open reader's view must not change: same folder, same manifest.
        let b = store(&cache, &k, |dir| {
            Ok(fs::write(dir.join("e.bin"), [7u8; 4])?)
        })
        .unwrap();
        assert_eq!(a.dir, b.dir);
        assert_eq!(fs::read(b.file(MANIFEST)).unwrap(), manifest_before);
        assert_eq!(entries(&tmp.path().join("encode")), vec![k.hex.clone()]);
        // A different result (a --force rerun that did not reproduce) replaces it.
        let c = store(&cache, &k, |dir| {
            Ok(fs::write(dir.join("e.bin"), [8u8; 4])?)
        })
        .unwrap();
        assert_eq!(fs::read(c.file("e.bin")).unwrap(), [8u8; 4]);
        assert!(cache.lookup(&k).is_ok());
    }

    #[test]
    fn failed_writes_leave_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::new(tmp.path());
        let k = key("encode", "c");
        let r = store(&cache, &k, |dir| {
            fs::write(dir.join("half.parquet"), "partial")?;
            bail!("interrupted")
        });
        assert!(r.is_err());
        assert_eq!(cache.lookup(&k).unwrap_err(), Miss::Absent);
        assert!(entries(&tmp.path().join("encode")).is_empty());
    }
}
