//! The remote stage cache: a second cache level on object storage (S3 and
//! S3-compatible stores, Google Cloud Storage, Azure Blob Storage, or a
//! `file://` folder on a shared file system), shared by CI jobs, cluster
//! array tasks and classmates' machines.
//!
//! The local cache stays the first level. A stage missing locally is pulled
//! from the remote when the remote holds a trusted artifact for its key
//! (every file matching the digest in its manifest), computed otherwise, and
//! pushed after computing. The remote mirrors the local layout,
//! `<prefix>/<stage>/<key>/<file>`, plus the manifest
//! [`artifact::REMOTE_MANIFEST`], uploaded last with a conditional create so a
//! half-uploaded artifact is never trusted and two writers never interleave.
//! Run records go to `<prefix>/records/`.
//!
//! object_store is async; stage code is not. Every call goes through
//! [`RemoteCache::block`], which runs the request on the cache's own small
//! tokio runtime and waits for it, from any thread (also one of another
//! runtime's, such as `kerros serve`'s).

mod artifact;
mod credentials;
mod lease;
mod open;
mod records;
mod url;

pub use artifact::{Pull, REMOTE_MANIFEST};
pub use credentials::INSTANCE_CREDENTIALS_ENV;
pub use lease::{Claim, Lease, LeaseTiming, LEASE_FILE, LEASE_POLL_ENV, LEASE_STALE_ENV};
pub use url::{Provider, RemoteUrl, ENV, FLAG};

use anyhow::{anyhow, bail, Result};
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use std::collections::BTreeMap;
use std::future::Future;
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};

/// Which directions a run uses the remote in (`--remote-cache-mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RemoteMode {
    /// Pull only; never write to the remote (pull-request CI).
    Read,
    /// Push only; never pull.
    Write,
    /// Pull, and push what was computed.
    #[default]
    ReadWrite,
}

impl RemoteMode {
    /// Whether artifacts are pulled.
    pub fn reads(self) -> bool {
        matches!(self, RemoteMode::Read | RemoteMode::ReadWrite)
    }

    /// Whether artifacts, leases and run records are written.
    pub fn writes(self) -> bool {
        matches!(self, RemoteMode::Write | RemoteMode::ReadWrite)
    }
}

impl FromStr for RemoteMode {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "read" => Ok(RemoteMode::Read),
            "write" => Ok(RemoteMode::Write),
            "read-write" => Ok(RemoteMode::ReadWrite),
            other => Err(format!(
                "`{other}` is not a remote cache mode; valid: read, write, read-write"
            )),
        }
    }
}

/// Whether a conditional create made the object or found one there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// This call created it.
    Created,
    /// Something already existed at that path (another writer won).
    AlreadyExists,
}

/// An open remote cache: the store, its prefix, the mode, and the runtime
/// its requests run on.
pub struct RemoteCache {
    url: RemoteUrl,
    mode: RemoteMode,
    store: Arc<dyn ObjectStore>,
    /// `None` only while being dropped.
    runtime: Option<tokio::runtime::Runtime>,
    timing: LeaseTiming,
    holder: String,
    pushed: Mutex<BTreeMap<String, u64>>,
    /// Set by the first request that could not reach the store: the rest of
    /// the run goes without the remote instead of retrying on every stage.
    unreachable: OnceLock<String>,
}

impl std::fmt::Debug for RemoteCache {
    // The URL holds no secrets (credentials only ever come from the
    // environment); the store's own Debug might, so it is left out.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteCache")
            .field("url", &self.url.text)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl Drop for RemoteCache {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which panics inside another runtime.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl RemoteCache {
    /// Open the remote cache at `url` (named `source` in errors: the flag or
    /// the environment variable) in `mode`, with credentials and endpoint
    /// options from the provider's standard environment variables.
    pub fn open(url: &str, source: &str, mode: RemoteMode) -> Result<RemoteCache> {
        let url = RemoteUrl::parse(url, source)?;
        credentials::check(&url.provider, &url.text)?;
        let store = open::store(&url, mode)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("kerros-remote")
            .enable_all()
            .build()
            .map_err(|e| anyhow!("cannot start the remote cache's runtime: {e}"))?;
        Ok(RemoteCache {
            url,
            mode,
            store,
            runtime: Some(runtime),
            timing: LeaseTiming::from_env()?,
            holder: lease::holder_id(),
            pushed: Mutex::new(BTreeMap::new()),
            unreachable: OnceLock::new(),
        })
    }

    /// `--remote-cache URL` if given, else `KERROS_REMOTE_CACHE` if set, opened in `mode`.
    pub fn from_flag_or_env(flag: Option<&str>, mode: RemoteMode) -> Result<Option<Arc<Self>>> {
        let (text, source) = match flag {
            Some(t) => (t.to_string(), FLAG),
            None => match std::env::var(ENV) {
                Ok(t) if !t.trim().is_empty() => (t, ENV),
                _ => return Ok(None),
            },
        };
        Ok(Some(Arc::new(RemoteCache::open(
            text.trim(),
            source,
            mode,
        )?)))
    }

    /// The URL as given.
    pub fn url(&self) -> &str {
        &self.url.text
    }

    /// The mode.
    pub fn mode(&self) -> RemoteMode {
        self.mode
    }

    /// Bytes pushed so far, by stage (files and manifest).
    pub fn pushed_bytes(&self) -> BTreeMap<String, u64> {
        self.pushed.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// The store path of `parts` under the prefix.
    fn path(&self, parts: &[&str]) -> StorePath {
        let mut all: Vec<&str> = self
            .url
            .prefix
            .split('/')
            .filter(|p| !p.is_empty())
            .collect();
        all.extend(parts.iter().copied());
        StorePath::from_iter(all)
    }

    /// Why the store could not be reached, when a request of this run
    /// failed to connect (after object_store's retries); from then on every
    /// request fails at once.
    pub fn unreachable(&self) -> Option<&str> {
        self.unreachable.get().map(String::as_str)
    }

    /// Run `fut` on the cache's runtime and wait for it.
    fn block<T: Send + 'static>(
        &self,
        fut: impl Future<Output = object_store::Result<T>> + Send + 'static,
    ) -> Result<T> {
        if let Some(why) = self.unreachable() {
            bail!(
                "remote cache {} was unreachable earlier in this run ({why}); not tried again",
                self.url.text
            );
        }
        let rt = self
            .runtime
            .as_ref()
            .ok_or_else(|| anyhow!("the remote cache is closed"))?;
        let (tx, rx) = std::sync::mpsc::channel();
        rt.spawn(async move {
            let _ = tx.send(fut.await);
        });
        match rx.recv() {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                if is_transport_error(&e) {
                    let _ = self.unreachable.set(e.to_string());
                }
                Err(anyhow!("remote cache {}: {e}", self.url.text))
            }
            Err(_) => bail!("remote cache {}: the request was cancelled", self.url.text),
        }
    }

    /// The object at `path`, `None` when there is none.
    fn get(&self, path: &StorePath) -> Result<Option<Vec<u8>>> {
        let (store, path) = (self.store.clone(), path.clone());
        self.block(async move {
            match store.get(&path).await {
                Ok(r) => Ok(Some(r.bytes().await?.to_vec())),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    /// Whether an object exists at `path`.
    fn exists(&self, path: &StorePath) -> Result<bool> {
        let (store, path) = (self.store.clone(), path.clone());
        self.block(async move {
            match store.head(&path).await {
                Ok(_) => Ok(true),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(e) => Err(e),
            }
        })
    }

    /// Write `bytes` to `path`, replacing what is there.
    fn put(&self, path: &StorePath, bytes: Vec<u8>) -> Result<()> {
        let (store, path) = (self.store.clone(), path.clone());
        self.block(async move {
            store.put(&path, PutPayload::from(bytes)).await?;
            Ok(())
        })
    }

    /// Create `path` with `bytes` only if nothing is there (atomically, on
    /// the store's side).
    fn create(&self, path: &StorePath, bytes: Vec<u8>) -> Result<Created> {
        let (store, path) = (self.store.clone(), path.clone());
        self.block(async move {
            let opts = PutOptions {
                mode: PutMode::Create,
                ..Default::default()
            };
            match store.put_opts(&path, PutPayload::from(bytes), opts).await {
                Ok(_) => Ok(Created::Created),
                Err(object_store::Error::AlreadyExists { .. }) => Ok(Created::AlreadyExists),
                // Some stores answer a failed If-None-Match as a precondition error.
                Err(object_store::Error::Precondition { .. }) => Ok(Created::AlreadyExists),
                Err(e) => Err(e),
            }
        })
    }

    /// Delete `path`; deleting nothing is fine.
    fn delete(&self, path: &StorePath) -> Result<()> {
        let (store, path) = (self.store.clone(), path.clone());
        self.block(async move {
            match store.delete(&path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(e),
            }
        })
    }

    /// Paths of the objects directly under `dir`.
    fn list(&self, dir: &StorePath) -> Result<Vec<StorePath>> {
        let (store, dir) = (self.store.clone(), dir.clone());
        self.block(async move {
            let listed = store.list_with_delimiter(Some(&dir)).await?;
            Ok(listed.objects.into_iter().map(|o| o.location).collect())
        })
    }

    fn add_pushed(&self, stage: &str, bytes: u64) {
        if let Ok(mut m) = self.pushed.lock() {
            *m.entry(stage.to_string()).or_default() += bytes;
        }
    }
}

/// Whether `e` means the store could not be reached at all (no connection,
/// the request not sent, timed out or interrupted), as opposed to an answer
/// such as "forbidden": object_store keeps its [`HttpError`] in the source
/// chain for this.
///
/// [`HttpError`]: object_store::client::HttpError
fn is_transport_error(e: &object_store::Error) -> bool {
    use object_store::client::{HttpError, HttpErrorKind};
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(http) = err.downcast_ref::<HttpError>() {
            return matches!(
                http.kind(),
                HttpErrorKind::Connect
                    | HttpErrorKind::Request
                    | HttpErrorKind::Timeout
                    | HttpErrorKind::Interrupted
            );
        }
        source = err.source();
    }
    false
}
