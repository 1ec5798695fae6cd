//! Pushing a finished stage artifact to the remote and pulling one back.
//!
//! Push: every file, then [`REMOTE_MANIFEST`] (each file's blake3 digest and
//! size) last, with a conditional create. An interrupted push leaves files
//! without a manifest, which no reader trusts; of two writers of one key
//! only the first manifest lands. Pull: the manifest must be complete and
//! every file must match its size and digest, or nothing is used.

use super::{Created, RemoteCache};
use crate::cache::{StageKey, MANIFEST};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// Name of the manifest that seals an artifact on the remote.
pub const REMOTE_MANIFEST: &str = "kerros-remote-manifest.json";

/// One file of a remote artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteFile {
    /// blake3 hex digest of its bytes.
    pub blake3: String,
    /// Its size in bytes.
    pub size: u64,
}

/// What [`REMOTE_MANIFEST`] records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteManifest {
    /// Stage name.
    pub stage: String,
    /// Stage key (hex).
    pub key: String,
    /// kerros version that pushed it.
    pub kerros_version: String,
    /// Every file of the artifact.
    pub files: BTreeMap<String, RemoteFile>,
}

/// What a pull found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pull {
    /// Every file was written into the folder and matched its digest.
    Pulled,
    /// The remote has no manifest for this key (never pushed, or a push
    /// that did not finish).
    Absent,
    /// A manifest exists but the artifact is not trustworthy; why.
    Untrusted(String),
}

impl RemoteCache {
    fn manifest_path(&self, key: &StageKey) -> object_store::path::Path {
        self.path(&[&key.stage, &key.hex, REMOTE_MANIFEST])
    }

    /// Whether the remote holds a manifest for `key` (not checking files).
    pub fn has_manifest(&self, key: &StageKey) -> Result<bool> {
        self.exists(&self.manifest_path(key))
    }

    /// The remote manifest of `key`, `None` when absent or unreadable.
    fn remote_manifest(&self, key: &StageKey) -> Result<Option<RemoteManifest>> {
        Ok(self
            .get(&self.manifest_path(key))?
            .and_then(|raw| serde_json::from_slice(&raw).ok()))
    }

    /// Pull `key`'s artifact into the empty folder `dir`, checking every
    /// file. On anything but [`Pull::Pulled`] the folder's content must not
    /// be used.
    pub fn pull(&self, key: &StageKey, dir: &Path) -> Result<Pull> {
        let Some(raw) = self.get(&self.manifest_path(key))? else {
            return Ok(Pull::Absent);
        };
        let manifest: RemoteManifest = match serde_json::from_slice(&raw) {
            Ok(m) => m,
            Err(e) => return Ok(Pull::Untrusted(format!("its manifest is unreadable ({e})"))),
        };
        if manifest.stage != key.stage || manifest.key != key.hex {
            return Ok(Pull::Untrusted(
                "its manifest is for another stage or key".into(),
            ));
        }
        for (name, want) in &manifest.files {
            if !is_plain_file_name(name) {
                return Ok(Pull::Untrusted(format!(
                    "its manifest names the file `{name}`, which is not a plain file name"
                )));
            }
            let Some(bytes) = self.get(&self.path(&[&key.stage, &key.hex, name]))? else {
                return Ok(Pull::Untrusted(format!("file `{name}` is missing")));
            };
            if bytes.len() as u64 != want.size {
                return Ok(Pull::Untrusted(format!(
                    "file `{name}` has {} bytes, its manifest says {}",
                    bytes.len(),
                    want.size
                )));
            }
            if blake3::hash(&bytes).to_hex().as_str() != want.blake3 {
                return Ok(Pull::Untrusted(format!(
                    "file `{name}` does not match its blake3 digest"
                )));
            }
            let path = dir.join(name);
            fs::write(&path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(Pull::Pulled)
    }

    /// Push the verified local artifact in `dir` for `key`, unless the
    /// mode does not write or the remote already has a manifest for it —
    /// with `repair` (the remote's copy was found untrusted) its files are
    /// overwritten and its manifest replaced. Returns the bytes uploaded.
    pub fn push(&self, key: &StageKey, dir: &Path, repair: bool) -> Result<u64> {
        if !self.mode.writes() || (!repair && self.has_manifest(key)?) {
            return Ok(0);
        }
        let manifest = describe(key, dir)?;
        let mut sent = 0;
        for name in manifest.files.keys() {
            let path = dir.join(name);
            let bytes =
                fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            sent += bytes.len() as u64;
            self.put(&self.path(&[&key.stage, &key.hex, name]), bytes)?;
        }
        let body = serde_json::to_vec_pretty(&manifest)?;
        sent += body.len() as u64;
        if repair
            && self
                .remote_manifest(key)?
                .is_some_and(|m| m.files != manifest.files)
        {
            // Readers meanwhile see files that do not match the old
            // manifest and recompute; after this they see ours.
            self.delete(&self.manifest_path(key))?;
        }
        if self.create(&self.manifest_path(key), body)? == Created::AlreadyExists {
            // Another writer sealed this key between our check and now; if
            // its files differ from ours (a non-reproducible stage), the
            // files now on the remote may be a mix, and readers, who check
            // every digest, will recompute rather than trust them.
            let same = self
                .remote_manifest(key)?
                .is_some_and(|m| m.files == manifest.files);
            if !same {
                eprintln!(
                    "warning: another run pushed a different artifact for stage `{}` ({}) at the same time; readers will verify it",
                    key.stage,
                    key.short()
                );
            }
        }
        self.add_pushed(&key.stage, sent);
        Ok(sent)
    }
}

/// The remote manifest of the local artifact in `dir`: digests from its
/// local manifest (already verified), sizes from the files.
fn describe(key: &StageKey, dir: &Path) -> Result<RemoteManifest> {
    let raw = fs::read(dir.join(MANIFEST))
        .with_context(|| format!("cannot read the manifest in {}", dir.display()))?;
    let local: crate::cache::Manifest = serde_json::from_slice(&raw)
        .with_context(|| format!("the manifest in {} is unreadable", dir.display()))?;
    let mut files = BTreeMap::new();
    for (name, blake3) in local.files {
        if !is_plain_file_name(&name) {
            bail!(
                "artifact file `{name}` in {} cannot be pushed",
                dir.display()
            );
        }
        let size = fs::metadata(dir.join(&name))
            .with_context(|| format!("artifact file `{name}` is missing in {}", dir.display()))?
            .len();
        files.insert(name, RemoteFile { blake3, size });
    }
    Ok(RemoteManifest {
        stage: key.stage.clone(),
        key: key.hex.clone(),
        kerros_version: env!("CARGO_PKG_VERSION").to_string(),
        files,
    })
}

/// A name that stays inside its folder: no separators, not `.`/`..`, not
/// the manifest's own name, not hidden (leases start with a dot).
fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && name != REMOTE_MANIFEST
        && name != MANIFEST
}
