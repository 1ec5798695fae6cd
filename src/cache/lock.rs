//! Per-key locks shared by every kerros process and thread using one cache.
//!
//! A key's lock is an OS file lock (`flock(2)` through the `fs4` crate) on
//! `<cache>/<stage>/.lock-<key>`, plus an in-process table, because two
//! threads of one process must exclude each other too and the file lock is
//! only guaranteed to do that between separate open file descriptions.
//!
//! Why `flock` through `fs4`: it is maintained, has no C dependency
//! (`rustix`), and `flock` locks belong to the open file, so closing some
//! other descriptor of the same file does not drop them (the trap of
//! `fcntl` locks). On Linux NFS clients (since 2.6.12) `flock` is carried out
//! as a byte-range lock on the server (NFSv4 LOCK), so processes on
//! different machines sharing a cache over NFSv4 exclude each other as well;
//! that needs the lock file opened for writing, which exclusive locks do.
//!
//! Writers hold the lock exclusively while they compute and publish a key;
//! readers hold it shared for as long as their run uses the artifact, so
//! `kerros cache gc` and a `--force` run never remove files a running
//! process is reading. Lock files may be deleted (by gc, holding the lock):
//! after locking, a holder checks that the path still names the file it
//! locked and starts over when it does not.

use anyhow::{Context, Result};
use fs4::FileExt;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, OnceLock};

/// Shared (many readers) or exclusive (one writer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// Many holders at once; excludes an exclusive holder.
    Shared,
    /// One holder; excludes everyone else.
    Exclusive,
}

/// A held key lock; released when dropped.
#[derive(Debug)]
pub struct KeyLock {
    path: PathBuf,
    file: File,
    mode: LockMode,
}

/// Holders of one lock file within this process.
#[derive(Debug, Default)]
struct Holders {
    readers: usize,
    writer: bool,
}

impl Holders {
    fn admits(&self, mode: LockMode) -> bool {
        match mode {
            LockMode::Shared => !self.writer,
            LockMode::Exclusive => !self.writer && self.readers == 0,
        }
    }
}

/// The in-process table: lock path → holders, and a condition variable to
/// wake waiters when any lock is released.
fn table() -> &'static (Mutex<HashMap<PathBuf, Holders>>, Condvar) {
    static TABLE: OnceLock<(Mutex<HashMap<PathBuf, Holders>>, Condvar)> = OnceLock::new();
    TABLE.get_or_init(Default::default)
}

/// Take the in-process side of a lock; `wait` false gives up instead of waiting.
fn enter(path: &Path, mode: LockMode, wait: bool) -> bool {
    let (map, cv) = table();
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let holders = map.entry(path.to_path_buf()).or_default();
        if holders.admits(mode) {
            match mode {
                LockMode::Shared => holders.readers += 1,
                LockMode::Exclusive => holders.writer = true,
            }
            return true;
        }
        if !wait {
            return false;
        }
        map = cv.wait(map).unwrap_or_else(|e| e.into_inner());
    }
}

/// Release the in-process side of a lock.
fn leave(path: &Path, mode: LockMode) {
    let (map, cv) = table();
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(holders) = map.get_mut(path) {
        match mode {
            LockMode::Shared => holders.readers = holders.readers.saturating_sub(1),
            LockMode::Exclusive => holders.writer = false,
        }
        if holders.readers == 0 && !holders.writer {
            map.remove(path);
        }
    }
    cv.notify_all();
}

/// Whether `file` is still the file at `path` (a lock file removed and
/// recreated by someone else is a different lock).
pub(crate) fn still_linked(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(held), Ok(now)) => held.dev() == now.dev() && held.ino() == now.ino(),
        _ => false,
    }
}

/// Open a lock file: read-write (creating it) when possible; for a shared
/// lock on a read-only cache an existing file opened read-only will do.
fn open(path: &Path, mode: LockMode) -> std::io::Result<File> {
    let rw = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path);
    match (rw, mode) {
        (Ok(f), _) => Ok(f),
        (Err(_), LockMode::Shared) => File::open(path),
        (Err(e), LockMode::Exclusive) => Err(e),
    }
}

impl KeyLock {
    /// The lock file of `hex` in the stage folder `stage_dir`.
    pub fn path(stage_dir: &Path, hex: &str) -> PathBuf {
        stage_dir.join(format!(".lock-{hex}"))
    }

    /// Wait for the lock at `path` (its folder must exist); `on_wait` is
    /// called once if someone else holds it, before waiting.
    pub fn acquire(path: &Path, mode: LockMode, on_wait: impl FnOnce()) -> Result<KeyLock> {
        let mut on_wait = Some(on_wait);
        let mut waited = || {
            if let Some(f) = on_wait.take() {
                f()
            }
        };
        if !enter(path, mode, false) {
            waited();
            enter(path, mode, true);
        }
        loop {
            let file = match open(path, mode) {
                Ok(f) => f,
                Err(e) => {
                    leave(path, mode);
                    return Err(e)
                        .with_context(|| format!("cannot open the lock file {}", path.display()));
                }
            };
            let locked = match try_file_lock(&file, mode) {
                Ok(true) => Ok(()),
                Ok(false) => {
                    waited();
                    file_lock(&file, mode)
                }
                Err(e) => Err(e),
            };
            if let Err(e) = locked {
                leave(path, mode);
                return Err(e).with_context(|| format!("cannot lock {}", path.display()));
            }
            if still_linked(&file, path) {
                return Ok(KeyLock {
                    path: path.to_path_buf(),
                    file,
                    mode,
                });
            }
            // Removed by gc while we waited: lock the new file instead.
        }
    }

    /// Take the lock at `path` only if nobody holds it; `None` when someone
    /// does (or the lock file cannot be opened, e.g. on a read-only cache).
    pub fn try_acquire(path: &Path, mode: LockMode) -> Option<KeyLock> {
        if !enter(path, mode, false) {
            return None;
        }
        let lock = open(path, mode).ok().and_then(|file| {
            (matches!(try_file_lock(&file, mode), Ok(true)) && still_linked(&file, path)).then(
                || KeyLock {
                    path: path.to_path_buf(),
                    file,
                    mode,
                },
            )
        });
        if lock.is_none() {
            leave(path, mode);
        }
        lock
    }

    /// Turn an exclusive lock into a shared one. Not atomic (`flock` may
    /// release before relocking), so what was published under the exclusive
    /// lock must be looked up again under the shared one.
    pub fn downgrade(mut self) -> Result<KeyLock> {
        if self.mode == LockMode::Shared {
            return Ok(self);
        }
        FileExt::lock_shared(&self.file)
            .with_context(|| format!("cannot lock {}", self.path.display()))?;
        let (map, cv) = table();
        {
            let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
            let holders = map.entry(self.path.clone()).or_default();
            holders.writer = false;
            holders.readers += 1;
        }
        cv.notify_all();
        self.mode = LockMode::Shared;
        Ok(self)
    }

    /// The mode held.
    pub fn mode(&self) -> LockMode {
        self.mode
    }

    /// Delete the lock file while holding it (a later locker notices and
    /// locks a fresh file); used when the key's artifact is removed.
    pub fn remove_file(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Drop for KeyLock {
    fn drop(&mut self) {
        // Closing the file releases the OS lock; unlock first so the
        // in-process side is never free while the file lock is still held.
        let _ = FileExt::unlock(&self.file);
        leave(&self.path, self.mode);
    }
}

/// Try the OS lock without waiting: `Ok(false)` when someone holds it.
fn try_file_lock(file: &File, mode: LockMode) -> std::io::Result<bool> {
    let r = match mode {
        LockMode::Shared => FileExt::try_lock_shared(file),
        LockMode::Exclusive => FileExt::try_lock(file),
    };
    match r {
        Ok(()) => Ok(true),
        Err(fs4::TryLockError::WouldBlock) => Ok(false),
        Err(fs4::TryLockError::Error(e)) => Err(e),
    }
}

/// Wait for the OS lock.
fn file_lock(file: &File, mode: LockMode) -> std::io::Result<()> {
    match mode {
        LockMode::Shared => FileExt::lock_shared(file),
        LockMode::Exclusive => FileExt::lock(file),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn shared_locks_coexist_and_exclude_a_writer() {
        let tmp = tempfile::tempdir().unwrap();
        let path = KeyLock::path(tmp.path(), "k1");
        let a = KeyLock::acquire(&path, LockMode::Shared, || {}).unwrap();
        let b = KeyLock::try_acquire(&path, LockMode::Shared).expect("second reader");
        assert!(KeyLock::try_acquire(&path, LockMode::Exclusive).is_none());
        drop(a);
        assert!(KeyLock::try_acquire(&path, LockMode::Exclusive).is_none());
        drop(b);
        let w = KeyLock::try_acquire(&path, LockMode::Exclusive).expect("free now");
        assert!(KeyLock::try_acquire(&path, LockMode::Shared).is_none());
        let r = w.downgrade().unwrap();
        assert_eq!(r.mode(), LockMode::Shared);
        assert!(KeyLock::try_acquire(&path, LockMode::Shared).is_some());
    }

    #[test]
    fn a_waiting_thread_gets_the_lock_after_release() {
        let tmp = tempfile::tempdir().unwrap();
        let path = KeyLock::path(tmp.path(), "k2");
        let held = KeyLock::acquire(&path, LockMode::Exclusive, || {}).unwrap();
        let waited = Arc::new(AtomicBool::new(false));
        let got = Arc::new(AtomicBool::new(false));
        let t = {
            let (path, waited, got) = (path.clone(), waited.clone(), got.clone());
            std::thread::spawn(move || {
                let _l = KeyLock::acquire(&path, LockMode::Exclusive, || {
                    waited.store(true, Ordering::SeqCst)
                })
                .unwrap();
                got.store(true, Ordering::SeqCst);
            })
        };
        std::thread::sleep(Duration::from_millis(200));
        assert!(waited.load(Ordering::SeqCst));
        assert!(!got.load(Ordering::SeqCst), "lock granted while held");
        drop(held);
        t.join().unwrap();
        assert!(got.load(Ordering::SeqCst));
    }

    #[test]
    fn a_removed_lock_file_is_replaced_not_shared() {
        let tmp = tempfile::tempdir().unwrap();
        let path = KeyLock::path(tmp.path(), "k3");
        let held = KeyLock::acquire(&path, LockMode::Exclusive, || {}).unwrap();
        held.remove_file();
        drop(held);
        let a = KeyLock::acquire(&path, LockMode::Exclusive, || {}).unwrap();
        assert!(path.is_file());
        assert!(KeyLock::try_acquire(&path, LockMode::Exclusive).is_none());
        drop(a);
    }
}
