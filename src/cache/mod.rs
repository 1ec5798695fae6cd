//! Content-addressed stage artifacts: keys, manifests, atomic writes.
//!
//! Each stage's output lives in `<cache-dir>/<stage>/<key>/`, where `key` is a
//! blake3 hash of the stage's resolved settings, the keys of the stages it
//! reads and the content hashes of the files it reads (DVC style). A folder is
//! written under a temporary name and renamed into place only when complete;
//! its `manifest.json` lists every file with its blake3 hash. An artifact with
//! a missing or unreadable manifest, or a file that does not match it, is
//! recomputed, never trusted.

mod key;

pub use key::{hash_file, StageKey};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

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

    fn dir(&self, key: &StageKey) -> PathBuf {
        self.root.join(&key.stage).join(&key.hex)
    }

    /// The verified artifact for `key`, or why there is none.
    pub fn lookup(&self, key: &StageKey) -> std::result::Result<Artifact, Miss> {
        let dir = self.dir(key);
        if !dir.is_dir() {
            return Err(Miss::Absent);
        }
        verify(&dir, key).map_err(|e| Miss::Invalid(format!("{e:#}")))?;
        Ok(Artifact {
            stage: key.stage.clone(),
            key: key.hex.clone(),
            dir,
        })
    }

    /// Write an artifact: `write` fills a fresh temporary folder, then the
    /// manifest is written and the folder renamed into place.
    pub fn store(
        &self,
        key: &StageKey,
        write: impl FnOnce(&Path) -> Result<()>,
    ) -> Result<Artifact> {
        let stage_dir = self.root.join(&key.stage);
        fs::create_dir_all(&stage_dir)
            .with_context(|| format!("cannot create cache folder {}", stage_dir.display()))?;
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".tmp-{}-", &key.hex[..16]))
            .tempdir_in(&stage_dir)
            .with_context(|| {
                format!(
                    "cannot create a temporary folder in {}",
                    stage_dir.display()
                )
            })?;
        write(tmp.path())?;
        let mut files = BTreeMap::new();
        for entry in fs::read_dir(tmp.path())? {
            let entry = entry?;
            if !entry.file_type()?.is_file() {
                bail!(
                    "stage `{}` wrote a non-file `{}` into its artifact",
                    key.stage,
                    entry.path().display()
                );
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            files.insert(name, hash_file(&entry.path())?);
        }
        let manifest = Manifest {
            stage: key.stage.clone(),
            key: key.hex.clone(),
            kerros_version: env!("CARGO_PKG_VERSION").to_string(),
            created: chrono::Utc::now().to_rfc3339(),
            files,
        };
        fs::write(
            tmp.path().join(MANIFEST),
            serde_json::to_vec_pretty(&manifest)?,
        )?;
        let dir = self.dir(key);
        if dir.exists() {
            // A corrupted or partial folder from an earlier run: replace it.
            fs::remove_dir_all(&dir)
                .with_context(|| format!("cannot remove stale artifact {}", dir.display()))?;
        }
        let tmp_path = tmp.keep();
        if let Err(e) = fs::rename(&tmp_path, &dir) {
            let _ = fs::remove_dir_all(&tmp_path);
            // Another process may have finished the same stage first.
            if let Ok(a) = self.lookup(key) {
                return Ok(a);
            }
            return Err(e).with_context(|| format!("cannot move artifact into {}", dir.display()));
        }
        Ok(Artifact {
            stage: key.stage.clone(),
            key: key.hex.clone(),
            dir,
        })
    }
}

/// Check that a folder holds a manifest for `key` and files matching it.
fn verify(dir: &Path, key: &StageKey) -> Result<()> {
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
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(stage: &str, settings: &str) -> StageKey {
        StageKey::build(stage, &settings).finish()
    }

    #[test]
    fn store_then_lookup() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::new(tmp.path());
        let k = key("vocabulary", "a");
        assert_eq!(cache.lookup(&k).unwrap_err(), Miss::Absent);
        let a = cache
            .store(&k, |dir| Ok(fs::write(dir.join("x.txt"), "hello")?))
            .unwrap();
        assert_eq!(fs::read_to_string(a.file("x.txt")).unwrap(), "hello");
        let again = cache.lookup(&k).unwrap();
        assert_eq!(again.dir, a.dir);
        // No temporary folders are left behind.
        let names: Vec<_> = fs::read_dir(tmp.path().join("vocabulary"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec![k.hex.clone()]);
    }

    #[test]
    fn corrupted_or_partial_artifacts_are_not_trusted() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::new(tmp.path());
        let k = key("train", "b");
        let a = cache
            .store(&k, |dir| Ok(fs::write(dir.join("w.bin"), [1u8, 2, 3])?))
            .unwrap();
        fs::write(a.file("w.bin"), [1u8, 2, 4]).unwrap();
        assert!(matches!(cache.lookup(&k), Err(Miss::Invalid(m)) if m.contains("checksum")));
        // Rewriting replaces the corrupted folder.
        cache
            .store(&k, |dir| Ok(fs::write(dir.join("w.bin"), [1u8, 2, 3])?))
            .unwrap();
        assert!(cache.lookup(&k).is_ok());
        fs::remove_file(a.file(MANIFEST)).unwrap();
        assert!(matches!(cache.lookup(&k), Err(Miss::Invalid(m)) if m.contains("manifest")));
    }

    #[test]
    fn failed_writes_leave_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::new(tmp.path());
        let k = key("encode", "c");
        let r = cache.store(&k, |dir| {
            fs::write(dir.join("half.parquet"), "partial")?;
            bail!("interrupted")
        });
        assert!(r.is_err());
        assert_eq!(cache.lookup(&k).unwrap_err(), Miss::Absent);
        assert_eq!(fs::read_dir(tmp.path().join("encode")).unwrap().count(), 0);
    }
}
