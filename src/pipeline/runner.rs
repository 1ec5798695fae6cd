//! Running one stage through the cache: reuse when the key matches, else
//! compute into a temporary folder and publish atomically.

use crate::cache::{Artifact, Cache, Miss, StageKey};
use anyhow::Result;
use serde::Serialize;
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

/// One lock per stage key, so experiments running side by side compute a
/// shared stage (say, one vocabulary for two learning rates) once: the second
/// waits and then finds the first one's artifact in the cache.
fn key_lock(key: &str) -> Arc<Mutex<()>> {
    static LOCKS: OnceLock<Mutex<HashMap<String, Arc<Mutex<()>>>>> = OnceLock::new();
    let mut map = LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    map.entry(key.to_string()).or_default().clone()
}

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
}

impl Runner {
    /// A runner over `cache`; `force` recomputes every stage.
    pub fn new(cache: Cache, force: bool, quiet: bool) -> Runner {
        Runner {
            cache,
            force,
            quiet,
            prefix: String::new(),
            statuses: Vec::new(),
            artifacts: BTreeMap::new(),
            keys: BTreeMap::new(),
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
        let lock = key_lock(&key.hex);
        let _held = lock.lock().unwrap_or_else(|e| e.into_inner());
        if !self.force {
            match self.cache.lookup(key) {
                Ok(artifact) => {
                    self.log(&format!("{name:<10} cached  {}", key.short()));
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
        let artifact = self.cache.store(key, compute)?;
        self.log(&format!(
            "{name:<10} ran     {} in {:.2}s",
            key.short(),
            start.elapsed().as_secs_f64()
        ));
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
