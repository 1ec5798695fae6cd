//! Running one stage through the cache: reuse when the key matches, else
//! compute into a temporary folder and publish atomically.
//!
//! Runs in other threads or processes may share the cache: a stage is
//! computed under its key's exclusive lock (the others wait and then reuse
//! it), and every artifact a run uses stays shared-locked until the run ends,
//! so nobody removes it meanwhile (see `crate::cache::KeyLock`).

use crate::cache::{Artifact, Cache, KeyLock, Miss, StageKey};
use anyhow::Result;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Whether a stage ran or its cached artifact was reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StageStatus {
    /// Computed in this run.
    Ran,
    /// Reused from the cache.
    Cached,
}

/// Executes stages against the cache and records what happened.
pub struct Runner {
    cache: Cache,
    force: bool,
    quiet: bool,
    prefix: String,
    /// Stage name → status, in execution order.
    pub statuses: Vec<(String, StageStatus)>,
    /// Stage name → artifact folder.
    pub artifacts: BTreeMap<String, PathBuf>,
    /// Stage name → stage key.
    pub keys: BTreeMap<String, String>,
    /// Shared locks on the artifacts this run uses, by stage and key.
    held: BTreeMap<(String, String), Option<KeyLock>>,
}

impl Runner {
    /// A runner over `cache`; `force` recomputes every stage.
    pub fn new(cache: Cache, force: bool, quiet: bool) -> Runner {
        crate::cache::remove_stale_temporaries(cache.root());
        Runner {
            cache,
            force,
            quiet,
            prefix: String::new(),
            statuses: Vec::new(),
            artifacts: BTreeMap::new(),
            keys: BTreeMap::new(),
            held: BTreeMap::new(),
        }
    }

    /// Prefix every progress line with `prefix` (used when experiments run in parallel).
    pub fn set_prefix(&mut self, prefix: &str) {
        self.prefix = format!("[{prefix}] ");
    }

    /// The cache root.
    pub fn cache_root(&self) -> &Path {
        self.cache.root()
    }

    /// Reuse the artifact for `key` or run `compute` to make it.
    pub fn stage(
        &mut self,
        key: &StageKey,
        compute: impl FnOnce(&Path) -> Result<()>,
    ) -> Result<Artifact> {
        let name = key.stage.clone();
        let id = (key.stage.clone(), key.hex.clone());
        let (quiet, prefix) = (self.quiet, self.prefix.clone());
        let wait_line = format!("{name:<10} waiting for another run using {}", key.short());
        let waiting = || {
            if !quiet {
                eprintln!("{prefix}{wait_line}");
            }
        };
        // Fast path: no writing, and no lock needed where none can be taken.
        if !self.force || self.held.contains_key(&id) {
            let shared = match self.held.remove(&id) {
                Some(held) => held,
                None => self.cache.lock_shared(key, waiting),
            };
            if let Ok(artifact) = self.cache.lookup(key) {
                self.log(&format!("{name:<10} cached  {}", key.short()));
                self.held.insert(id, shared);
                self.record(&name, key, &artifact, StageStatus::Cached);
                return Ok(artifact);
            }
        }
        let lock = self.cache.lock_exclusive(key, waiting)?;
        if !self.force {
            match self.cache.lookup(key) {
                Ok(artifact) => {
                    // Another run finished it while we waited.
                    self.log(&format!("{name:<10} cached  {}", key.short()));
                    self.held.insert(id, Some(lock.downgrade()?));
                    self.record(&name, key, &artifact, StageStatus::Cached);
                    return Ok(artifact);
                }
                Err(Miss::Invalid(why)) => {
                    self.log(&format!(
                        "{name:<10} cached artifact not trusted ({why}); recomputing"
                    ));
                }
                Err(Miss::Absent) => {}
            }
        }
        let start = Instant::now();
        self.log(&format!("{name:<10} running {}", key.short()));
        let artifact = self.cache.store(key, &lock, compute)?;
        self.log(&format!(
            "{name:<10} ran     {} in {:.2}s",
            key.short(),
            start.elapsed().as_secs_f64()
        ));
        self.held.insert(id, Some(lock.downgrade()?));
        self.record(&name, key, &artifact, StageStatus::Ran);
        Ok(artifact)
    }

    fn record(&mut self, name: &str, key: &StageKey, artifact: &Artifact, status: StageStatus) {
        self.statuses.push((name.to_string(), status));
        self.artifacts
            .insert(name.to_string(), artifact.dir.clone());
        self.keys.insert(name.to_string(), key.hex.clone());
    }

    /// A progress line on stderr (suppressed when quiet).
    pub fn log(&self, line: &str) {
        if !self.quiet {
            eprintln!("{}{line}", self.prefix);
        }
    }

    /// Whether progress output is suppressed.
    pub fn quiet(&self) -> bool {
        self.quiet
    }
}
