//! Leases: so that two shards do not compute the same stage key at once.
//!
//! Before computing a key that the remote lacks, a writer creates
//! `<prefix>/<stage>/<key>/.lease` with a conditional create; it holds the
//! holder's id and a timestamp, refreshed every third of the stale age while
//! the holder computes. Another writer that finds a fresh lease polls for the
//! manifest and pulls the artifact once it appears. A lease not refreshed for
//! the stale age (its holder died) is taken over. The holder deletes the
//! lease after pushing. A lease is only an optimisation: correctness rests on
//! the manifest's conditional create and the readers' digest checks.

use super::{Created, RemoteCache};
use crate::cache::StageKey;
use anyhow::{bail, Result};
use object_store::path::Path as StorePath;
use object_store::{ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Name of a key's lease object.
pub const LEASE_FILE: &str = ".lease";
/// Seconds after which a lease that was not refreshed counts as abandoned
/// (default 1800).
pub const LEASE_STALE_ENV: &str = "KERROS_REMOTE_LEASE_STALE_SECS";
/// Milliseconds between two looks at a lease held by another run (default 2000).
pub const LEASE_POLL_ENV: &str = "KERROS_REMOTE_LEASE_POLL_MS";

/// How leases age and how often a waiter looks.
#[derive(Debug, Clone, Copy)]
pub struct LeaseTiming {
    /// Age after which an unrefreshed lease is taken over.
    pub stale: Duration,
    /// Time between two polls of a waiter.
    pub poll: Duration,
}

impl LeaseTiming {
    /// From [`LEASE_STALE_ENV`] and [`LEASE_POLL_ENV`], with their defaults.
    pub fn from_env() -> Result<LeaseTiming> {
        let read = |name: &str, default: u64| -> Result<u64> {
            match std::env::var(name) {
                Err(_) => Ok(default),
                Ok(v) => match v.trim().parse::<u64>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => bail!("{name}=`{v}` is not a positive whole number"),
                },
            }
        };
        Ok(LeaseTiming {
            stale: Duration::from_secs(read(LEASE_STALE_ENV, 1800)?),
            poll: Duration::from_millis(read(LEASE_POLL_ENV, 2000)?),
        })
    }
}

/// What a lease object holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LeaseBody {
    holder: String,
    /// Seconds since the Unix epoch when it was written or last refreshed.
    written: u64,
}

/// Who this process is in a lease: host, process id and a random part.
pub fn holder_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .unwrap_or_else(|| "host".into());
    format!(
        "{host}-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A lease this run holds; refreshed in the background until released.
pub struct Lease<'a> {
    remote: &'a RemoteCache,
    path: StorePath,
    refresher: Option<tokio::task::JoinHandle<()>>,
    released: bool,
}

impl Lease<'_> {
    /// Stop refreshing and delete the lease (best effort: a lease left
    /// behind only delays others until it is stale).
    pub fn release(mut self) {
        self.stop_and_delete();
    }

    fn stop_and_delete(&mut self) {
        if let Some(r) = self.refresher.take() {
            r.abort();
        }
        if !std::mem::replace(&mut self.released, true) {
            let _ = self.remote.delete(&self.path);
        }
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        self.stop_and_delete();
    }
}

/// The outcome of [`RemoteCache::claim`].
pub enum Claim<'a> {
    /// This run holds the key's lease: compute, push, then release it.
    Mine(Lease<'a>),
    /// Another run published the key meanwhile: pull it.
    Published,
}

impl RemoteCache {
    /// Claim `key` for computing: create its lease, or wait while another
    /// run holds a fresh one (`on_wait` runs once then) until that run
    /// publishes the key, releases its lease or lets it go stale.
    pub fn claim(&self, key: &StageKey, on_wait: impl FnOnce()) -> Result<Claim<'_>> {
        let path = self.path(&[&key.stage, &key.hex, LEASE_FILE]);
        let mut on_wait = Some(on_wait);
        let started = Instant::now();
        loop {
            if self.create(&path, self.lease_body())? == Created::Created {
                // The key may have been published just before we took it.
                if self.has_manifest(key)? {
                    let _ = self.delete(&path);
                    return Ok(Claim::Published);
                }
                return Ok(Claim::Mine(Lease {
                    remote: self,
                    refresher: self.refresh_in_background(&path),
                    released: false,
                    path,
                }));
            }
            if self.has_manifest(key)? {
                return Ok(Claim::Published);
            }
            let body = self
                .get(&path)?
                .and_then(|raw| serde_json::from_slice::<LeaseBody>(&raw).ok());
            let stale = match &body {
                Some(b) => now_secs().saturating_sub(b.written) >= self.timing.stale.as_secs(),
                // Unreadable: stale once we have waited the full stale age.
                None => started.elapsed() >= self.timing.stale,
            };
            if stale {
                eprintln!(
                    "{:<10} taking over the remote lease of {} ({}): not refreshed for {}s",
                    key.stage,
                    key.short(),
                    body.map_or("unreadable".to_string(), |b| b.holder),
                    self.timing.stale.as_secs()
                );
                self.delete(&path)?;
                continue;
            }
            if let Some(f) = on_wait.take() {
                f();
            }
            std::thread::sleep(self.timing.poll);
        }
    }

    fn lease_body(&self) -> Vec<u8> {
        let body = LeaseBody {
            holder: self.holder.clone(),
            written: now_secs(),
        };
        serde_json::to_vec(&body).unwrap_or_default()
    }

    /// A task rewriting the lease at `path` every third of the stale age.
    fn refresh_in_background(&self, path: &StorePath) -> Option<tokio::task::JoinHandle<()>> {
        let (store, path) = (self.store.clone(), path.clone());
        let (holder, every) = (self.holder.clone(), self.timing.stale / 3);
        let spawn = |rt: &tokio::runtime::Runtime| {
            rt.spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    let body = LeaseBody {
                        holder: holder.clone(),
                        written: now_secs(),
                    };
                    let bytes = serde_json::to_vec(&body).unwrap_or_default();
                    let _ = store.put(&path, PutPayload::from(bytes)).await;
                }
            })
        };
        self.runtime.as_ref().map(spawn)
    }
}
