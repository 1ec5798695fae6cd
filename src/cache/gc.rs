//! Cache housekeeping: removing what interrupted runs left behind, unused
//! artifacts (`kerros cache gc`), and the size per stage (`kerros cache info`).
//!
//! Nothing here removes what a live process is using: a temporary folder is
//! stale only when its key's lock is free (its writer holds the lock while
//! the folder exists), and an artifact is removed only under its key's
//! exclusive lock, which no run holds shared at that moment.

use super::lock::{KeyLock, LockMode};
use super::publish::{older_than, remove_stale_temp_files};
use super::store::{move_aside, TMP_PREFIX, TRASH_PREFIX};
use super::MANIFEST;
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Folder of run records under the cache root (not a stage).
const RUNS_DIR: &str = "runs";
/// Temporary folders of kerros 0.2.0 and before carry only 16 key digits and
/// no lock; they count as stale when older than this.
const LEGACY_STALE_AFTER: Duration = Duration::from_secs(3600);

/// One stage folder's usage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StageUsage {
    /// Stage name (the folder name).
    pub stage: String,
    /// Artifact folders.
    pub artifacts: usize,
    /// Their size in bytes.
    pub bytes: u64,
    /// Temporary and trash folders (in progress or left by interrupted runs).
    pub temporaries: usize,
    /// Their size in bytes.
    pub temp_bytes: u64,
}

/// What `kerros cache info` reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheInfo {
    /// Per stage, sorted by name.
    pub stages: Vec<StageUsage>,
    /// Run records under `runs/`.
    pub runs: usize,
    /// Their size in bytes.
    pub run_bytes: u64,
}

impl CacheInfo {
    /// Bytes of everything counted.
    pub fn total_bytes(&self) -> u64 {
        self.run_bytes
            + self
                .stages
                .iter()
                .map(|s| s.bytes + s.temp_bytes)
                .sum::<u64>()
    }
}

/// What `kerros cache gc` removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Temporary and trash folders and files removed.
    pub temporaries: usize,
    /// Artifacts removed for not being used within `--older-than`.
    pub artifacts: usize,
    /// Bytes freed.
    pub bytes: u64,
    /// Old artifacts kept because a running process uses them.
    pub in_use: usize,
}

/// An entry of a stage folder.
enum Entry {
    /// A finished artifact of this key.
    Artifact(String),
    /// A temporary or trash folder of this key.
    Temporary(String),
    /// A temporary of an older kerros (no full key, no lock).
    LegacyTemporary,
    /// A lock file, or something kerros did not write.
    Other,
}

fn is_key(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn classify(name: &str, is_dir: bool) -> Entry {
    if !is_dir {
        return Entry::Other;
    }
    if is_key(name) {
        return Entry::Artifact(name.to_string());
    }
    for prefix in [TMP_PREFIX, TRASH_PREFIX] {
        if let Some(rest) = name.strip_prefix(prefix) {
            let hex = rest.split('-').next().unwrap_or_default();
            return if is_key(hex) {
                Entry::Temporary(hex.to_string())
            } else {
                Entry::LegacyTemporary
            };
        }
    }
    Entry::Other
}

/// Stage folders under `root` (every folder but `runs/`).
fn stage_dirs(root: &Path) -> Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", root.display())),
    };
    let mut dirs = Vec::new();
    for entry in entries {
        let entry = entry?;
        if entry.file_type()?.is_dir() && entry.file_name() != RUNS_DIR {
            dirs.push(entry.path());
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// Size in bytes of everything under `path` (not following links).
fn size_of(path: &Path) -> u64 {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    fs::read_dir(path)
        .map(|es| es.flatten().map(|e| size_of(&e.path())).sum())
        .unwrap_or(0)
}

/// Remove a temporary folder of key `hex` if no live writer holds the key;
/// returns the bytes freed.
fn remove_if_stale(stage_dir: &Path, path: &Path, hex: &str) -> Option<u64> {
    let _lock = KeyLock::try_acquire(&KeyLock::path(stage_dir, hex), LockMode::Exclusive)?;
    let bytes = size_of(path);
    fs::remove_dir_all(path).ok().map(|_| bytes)
}

/// Remove every stale temporary under the cache `root` (stage folders'
/// temporary and trash folders, unfinished run record files); cheap, done at
/// the start of each run. Best effort: what cannot be removed (a read-only
/// cache) stays. Returns (count, bytes) removed.
pub fn remove_stale_temporaries(root: &Path) -> (usize, u64) {
    let (mut count, mut bytes) = (0, 0);
    for stage_dir in stage_dirs(root).unwrap_or_default() {
        let Ok(entries) = fs::read_dir(&stage_dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            let freed = match classify(&entry.file_name().to_string_lossy(), is_dir) {
                Entry::Temporary(hex) => remove_if_stale(&stage_dir, &path, &hex),
                Entry::LegacyTemporary => entry
                    .metadata()
                    .ok()
                    .filter(|m| older_than(m, LEGACY_STALE_AFTER))
                    .and_then(|_| {
                        let b = size_of(&path);
                        fs::remove_dir_all(&path).ok().map(|_| b)
                    }),
                _ => None,
            };
            if let Some(b) = freed {
                count += 1;
                bytes += b;
            }
        }
    }
    let runs = remove_stale_temp_files(&root.join(RUNS_DIR));
    if runs > 0 {
        count += 1;
    }
    (count, bytes + runs)
}

/// `kerros cache gc`: remove stale temporaries and, with `older_than`, the
/// artifacts whose last use (their manifest's modification time, refreshed
/// by lookups) is older than that. Artifacts a running process holds are
/// kept and counted in [`GcReport::in_use`].
pub fn gc(root: &Path, older_than: Option<Duration>) -> Result<GcReport> {
    if !root.is_dir() {
        bail!(
            "{} is not a cache folder (no such folder; pass the one given to `kerros run --cache-dir`)",
            root.display()
        );
    }
    let (temporaries, bytes) = remove_stale_temporaries(root);
    let mut report = GcReport {
        temporaries,
        bytes,
        ..GcReport::default()
    };
    let Some(age) = older_than else {
        return Ok(report);
    };
    let now = SystemTime::now();
    for stage_dir in stage_dirs(root)? {
        for entry in fs::read_dir(&stage_dir)?.flatten() {
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            let Entry::Artifact(hex) = classify(&entry.file_name().to_string_lossy(), is_dir)
            else {
                continue;
            };
            let dir = entry.path();
            if !unused_for(&dir, age, now) {
                continue;
            }
            let lock_path = KeyLock::path(&stage_dir, &hex);
            let Some(lock) = KeyLock::try_acquire(&lock_path, LockMode::Exclusive) else {
                report.in_use += 1;
                continue;
            };
            // Used between the check and the lock: keep it.
            if !unused_for(&dir, age, now) {
                continue;
            }
            let size = size_of(&dir);
            move_aside(&dir, &stage_dir, &hex)?;
            lock.remove_file();
            report.artifacts += 1;
            report.bytes += size;
        }
    }
    Ok(report)
}

/// Whether the artifact in `dir` was last used longer than `age` before `now`.
fn unused_for(dir: &Path, age: Duration, now: SystemTime) -> bool {
    let used = fs::metadata(dir.join(MANIFEST))
        .or_else(|_| fs::metadata(dir))
        .and_then(|m| m.modified());
    used.ok()
        .and_then(|t| now.duration_since(t).ok())
        .is_some_and(|a| a >= age)
}

/// `kerros cache info`: artifacts, temporaries and sizes per stage.
pub fn info(root: &Path) -> Result<CacheInfo> {
    if !root.is_dir() {
        bail!(
            "{} is not a cache folder (no such folder; pass the one given to `kerros run --cache-dir`)",
            root.display()
        );
    }
    let mut out = CacheInfo::default();
    for stage_dir in stage_dirs(root)? {
        let mut usage = StageUsage {
            stage: stage_dir
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
            ..StageUsage::default()
        };
        for entry in fs::read_dir(&stage_dir)?.flatten() {
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            match classify(&entry.file_name().to_string_lossy(), is_dir) {
                Entry::Artifact(_) => {
                    usage.artifacts += 1;
                    usage.bytes += size_of(&entry.path());
                }
                Entry::Temporary(_) | Entry::LegacyTemporary => {
                    usage.temporaries += 1;
                    usage.temp_bytes += size_of(&entry.path());
                }
                Entry::Other => {}
            }
        }
        out.stages.push(usage);
    }
    if let Ok(entries) = fs::read_dir(root.join(RUNS_DIR)) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with('.') && name.ends_with(".json") {
                out.runs += 1;
                out.run_bytes += size_of(&entry.path());
            }
        }
    }
    Ok(out)
}

/// Parse an age such as `30d`, `12h`, `45m`, `90s` or `2w` (a whole number
/// and one unit).
pub fn parse_age(text: &str) -> std::result::Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let seconds_per = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => 0,
    };
    match digits.parse::<u64>() {
        Ok(n) if seconds_per > 0 => n
            .checked_mul(seconds_per)
            .map(Duration::from_secs)
            .ok_or_else(|| format!("`{text}` is too long an age")),
        _ => Err(format!(
            "`{text}` is not an age: a whole number and one unit, s, m, h, d or w (e.g. 30d, 12h)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Cache, StageKey};
    use super::*;

    fn store(cache: &Cache, k: &StageKey, bytes: &[u8]) {
        let lock = cache.lock_exclusive(k, || {}).unwrap();
        let data = bytes.to_vec();
        cache
            .store(k, &lock, |d| Ok(fs::write(d.join("x.bin"), data)?))
            .unwrap();
    }

    fn age(dir: &Path, secs: u64) {
        let f = fs::OpenOptions::new()
            .write(true)
            .open(dir.join(MANIFEST))
            .unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(secs))
            .unwrap();
    }

    #[test]
    fn ages_parse_and_bad_ones_say_what_is_valid() {
        assert_eq!(parse_age("30d").unwrap(), Duration::from_secs(30 * 86_400));
        assert_eq!(parse_age("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_age("2w").unwrap(), Duration::from_secs(14 * 86_400));
        for bad in ["", "30", "d", "3.5d", "-1d", "30 days", "1y"] {
            let e = parse_age(bad).unwrap_err();
            assert!(e.contains("30d"), "{bad}: {e}");
        }
        assert!(parse_age("99999999999999999999w").is_err());
    }

    #[test]
    fn stale_temporaries_go_live_ones_stay() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::new(tmp.path());
        let k = StageKey::build("encode", &1).finish();
        store(&cache, &k, b"abc");
        let stage = tmp.path().join("encode");
        let stale = stage.join(format!("{TMP_PREFIX}{}-dead01", k.hex));
        fs::create_dir(&stale).unwrap();
        fs::write(stale.join("half.parquet"), [0u8; 100]).unwrap();
        let k2 = StageKey::build("encode", &2).finish();
        let live = stage.join(format!("{TMP_PREFIX}{}-live01", k2.hex));
        fs::create_dir(&live).unwrap();
        let writer = cache.lock_exclusive(&k2, || {}).unwrap();
        let legacy = stage.join(".tmp-0123456789abcdef-x1y2z3");
        fs::create_dir(&legacy).unwrap();

        let info_before = info(tmp.path()).unwrap();
        assert_eq!(info_before.stages[0].artifacts, 1);
        assert_eq!(info_before.stages[0].temporaries, 3);

        let (n, bytes) = remove_stale_temporaries(tmp.path());
        assert_eq!((n, bytes), (1, 100));
        assert!(!stale.exists() && live.exists() && legacy.exists());
        drop(writer);
        assert_eq!(remove_stale_temporaries(tmp.path()).0, 1);
        assert!(!live.exists());
        assert!(cache.lookup(&k).is_ok(), "the artifact itself stays");
    }

    #[test]
    fn gc_removes_unused_artifacts_but_not_recent_or_held_ones() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::new(tmp.path());
        let old = StageKey::build("train", &"old").finish();
        let held = StageKey::build("train", &"held").finish();
        let recent = StageKey::build("train", &"recent").finish();
        for k in [&old, &held, &recent] {
            store(&cache, k, k.hex.as_bytes());
        }
        let day = 86_400;
        age(&cache.dir(&old), 40 * day);
        age(&cache.dir(&held), 40 * day);
        let reader = cache.lock_shared(&held, || {}).expect("lockable");

        let r = gc(tmp.path(), None).unwrap();
        assert_eq!(r.artifacts, 0, "without --older-than only temporaries go");
        let r = gc(tmp.path(), Some(Duration::from_secs(30 * day))).unwrap();
        assert_eq!((r.artifacts, r.in_use), (1, 1));
        assert!(r.bytes > 0);
        assert!(cache.lookup(&old).is_err());
        assert!(!KeyLock::path(&tmp.path().join("train"), &old.hex).exists());
        assert!(cache.lookup(&held).is_ok() && cache.lookup(&recent).is_ok());
        drop(reader);
        let info = info(tmp.path()).unwrap();
        assert_eq!(info.stages.len(), 1);
        assert_eq!(info.stages[0].artifacts, 2);
        assert_eq!(info.stages[0].temporaries, 0);
        assert!(gc(&tmp.path().join("nope"), None).is_err());
    }
}
