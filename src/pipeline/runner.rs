//! Running one stage through the cache: reuse when the key matches, else
//! compute into a temporary folder and publish atomically.
//!
//! Runs in other threads or processes may share the cache: a stage is
//! computed under its key's exclusive lock (the others wait and then reuse
//! it), and every artifact a run uses stays shared-locked until the run ends,
//! so nobody removes it meanwhile (see `crate::cache::KeyLock`).
//!
//! With a remote cache (`crate::cache::remote`), a key missing locally is
//! pulled from the remote into the local cache, under the same lock and by
//! the same atomic publish, before it is computed; a computed key is pushed.

use crate::cache::remote::{Claim, Pull, RemoteCache};
use crate::cache::{Artifact, Cache, KeyLock, Miss, StageKey};
use anyhow::{anyhow, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Whether a stage ran or its cached artifact was reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StageStatus {
    /// Computed in this run.
    Ran,
    /// Reused from the local cache.
    Cached,
    /// Pulled from the remote cache into the local one.
    Pulled,
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
    remote: Option<Arc<RemoteCache>>,
    /// Keys whose remote artifact failed its checks in this run.
    untrusted: Vec<StageKey>,
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
            remote: None,
            untrusted: Vec::new(),
        }
    }

    /// Use `remote` as the second cache level.
    pub fn set_remote(&mut self, remote: Option<Arc<RemoteCache>>) {
        self.remote = remote;
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
                self.push_cached(&name, key, &artifact);
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
                    self.push_cached(&name, key, &artifact);
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
        let remote = self.reachable_remote();
        let mut lease = None;
        let mut repair = false;
        if let Some(remote) = remote
            .as_deref()
            .filter(|r| r.mode().reads() && !self.force)
        {
            let mut pulled = self.pull(remote, key, &lock)?;
            if pulled.is_none()
                && !self.untrusted_seen(key)
                && remote.mode().writes()
                && remote.unreachable().is_none()
            {
                // Nobody published it: claim it, or wait for whoever computes it.
                let waiting = || {
                    self.log(&format!(
                        "{name:<10} waiting for another machine computing {}",
                        key.short()
                    ))
                };
                match remote.claim(key, waiting) {
                    Ok(Claim::Mine(l)) => lease = Some(l),
                    Ok(Claim::Published) => pulled = self.pull(remote, key, &lock)?,
                    // Without a lease another shard may compute it too; the
                    // manifest's conditional create keeps that safe.
                    Err(e) => self.remote_warning(
                        remote,
                        &format!("cannot take the lease of stage `{name}`: {e:#}"),
                    ),
                }
            }
            if let Some(artifact) = pulled {
                self.held.insert(id, Some(lock.downgrade()?));
                self.record(&name, key, &artifact, StageStatus::Pulled);
                return Ok(artifact);
            }
            repair = self.untrusted_seen(key);
        }
        let start = Instant::now();
        self.log(&format!("{name:<10} running {}", key.short()));
        let artifact = self.cache.store(key, &lock, compute)?;
        self.log(&format!(
            "{name:<10} ran     {} in {:.2}s",
            key.short(),
            start.elapsed().as_secs_f64()
        ));
        if let Some(remote) = self.reachable_remote() {
            self.push(&remote, &name, key, &artifact, repair);
        }
        if let Some(l) = lease {
            l.release();
        }
        self.held.insert(id, Some(lock.downgrade()?));
        self.record(&name, key, &artifact, StageStatus::Ran);
        Ok(artifact)
    }

    /// The remote cache, unless there is none or it could not be reached
    /// earlier in this run (that was said once, with the first failure).
    fn reachable_remote(&self) -> Option<Arc<RemoteCache>> {
        self.remote.clone().filter(|r| r.unreachable().is_none())
    }

    /// Push a stage found in the local cache to a remote that lacks it (a
    /// cache filled before the remote was configured, or while it was
    /// unreachable), as a computed one is.
    fn push_cached(&mut self, name: &str, key: &StageKey, artifact: &Artifact) {
        if let Some(remote) = self.reachable_remote().filter(|r| r.mode().writes()) {
            self.push(&remote, name, key, artifact, false);
        }
    }

    /// Push `artifact` to `remote`; a failure is a warning, as the local
    /// result stands and only sharing it failed.
    fn push(
        &mut self,
        remote: &RemoteCache,
        name: &str,
        key: &StageKey,
        artifact: &Artifact,
        repair: bool,
    ) {
        match remote.push(key, &artifact.dir, repair) {
            Ok(0) => {}
            Ok(sent) => self.log(&format!(
                "{name:<10} pushed  {} ({sent} bytes)",
                key.short()
            )),
            Err(e) => self.remote_warning(remote, &format!("cannot push stage `{name}`: {e:#}")),
        }
    }

    /// Print a remote cache warning (also when quiet: the shared store needs
    /// attention), saying so when the remote is skipped from now on.
    fn remote_warning(&self, remote: &RemoteCache, what: &str) {
        let rest = if remote.unreachable().is_some() {
            "; the remote cache is skipped for the rest of this run"
        } else {
            ""
        };
        eprintln!("{}warning: remote cache: {what}{rest}", self.prefix);
    }

    /// Pull `key` from `remote` into the local cache (the caller holds its
    /// exclusive `lock`): the artifact when the remote held a trusted one.
    /// An untrusted one is reported and remembered, and the stage recomputed.
    fn pull(
        &mut self,
        remote: &RemoteCache,
        key: &StageKey,
        lock: &KeyLock,
    ) -> Result<Option<Artifact>> {
        let start = Instant::now();
        let mut found = Ok(Pull::Absent);
        let stored = self.cache.store(key, lock, |dir| {
            found = remote.pull(key, dir);
            match &found {
                Ok(Pull::Pulled) => Ok(()),
                // Abort the store: its temporary folder is removed.
                _ => Err(anyhow!("not pulled")),
            }
        });
        let found = match found {
            Ok(f) => f,
            Err(e) => {
                // An unreachable remote must not stop the run: compute locally.
                self.remote_warning(
                    remote,
                    &format!(
                        "cannot pull stage `{}`: {e:#}; computing it here",
                        key.stage
                    ),
                );
                return Ok(None);
            }
        };
        match (found, stored) {
            (Pull::Pulled, Ok(artifact)) => {
                self.log(&format!(
                    "{:<10} pulled  {} in {:.2}s",
                    key.stage,
                    key.short(),
                    start.elapsed().as_secs_f64()
                ));
                Ok(Some(artifact))
            }
            (Pull::Pulled, Err(e)) => Err(e),
            (Pull::Absent, _) => Ok(None),
            (Pull::Untrusted(why), _) => {
                // Always shown, also when quiet: the shared store needs attention.
                eprintln!(
                    "{}warning: the remote artifact of stage `{}` ({}) is not trusted: {why}; recomputing",
                    self.prefix,
                    key.stage,
                    key.short()
                );
                self.untrusted.push(key.clone());
                Ok(None)
            }
        }
    }

    fn untrusted_seen(&self, key: &StageKey) -> bool {
        self.untrusted.contains(key)
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
