//! Plain functions behind `kerros data list | fetch | path` (the clap part
//! lives in `src/cli`): they return the text to print.

use std::path::Path;
use std::time::Duration;

use super::error::Result;
use super::install::{dataset_path, fetch, is_present};
use super::lock::{lock_path, read_lock};
use super::options::{FetchOptions, DEFAULT_TIMEOUT};
use super::registry::{lookup, REGISTRY};

/// The text of `kerros data list`: one block per dataset with its state in
/// `data_dir`, description, source, size and checksum.
pub fn list_text(data_dir: &Path) -> String {
    let mut out = String::new();
    for info in REGISTRY {
        let state = if is_present(info.name, data_dir) {
            format!("present in {}", dataset_path(info.name, data_dir).display())
        } else {
            "not downloaded".to_string()
        };
        out.push_str(&format!("{:<10} {state}\n", info.name));
        out.push_str(&format!("           {}\n", info.description));
        out.push_str(&format!("           source: {}\n", info.url));
        let size = info
            .size
            .map(|s| format!("{s} bytes"))
            .unwrap_or_else(|| "not known in advance".into());
        out.push_str(&format!("           size: {size}\n"));
        let sha = match (info.sha256, read_lock(info.name, data_dir)) {
            (Some(official), _) => official.to_string(),
            (None, Ok(Some(lock))) => format!(
                "{} (recorded in {})",
                lock.sha256,
                lock_path(info.name, data_dir).display()
            ),
            (None, Err(e)) => format!("unreadable lock: {e}"),
            (None, Ok(None)) => format!(
                "not pinned: kerros does not know the official archive's checksum, so the first fetch \
                 records it in {} and every later fetch must match it (pass --sha256 HEX to pin one)",
                lock_path(info.name, data_dir).display()
            ),
        };
        out.push_str(&format!("           sha256: {sha}\n"));
        out.push_str(&format!("           files: {}\n", info.files.join(", ")));
        out.push_str(&format!("           use: {}\n", info.usage));
    }
    out
}

/// The text of `kerros data path NAME`: the dataset folder (whether or not it
/// is present yet); an unknown name is an error listing the known ones.
pub fn path_text(name: &str, data_dir: &Path) -> Result<String> {
    lookup(name)?;
    Ok(dataset_path(name, data_dir).display().to_string())
}

/// Options for `kerros data fetch` from its flags: `--url`, `--sha256`, a
/// timeout in seconds (default 30); progress is on.
pub fn fetch_options(
    url: Option<String>,
    sha256: Option<String>,
    timeout_secs: Option<u64>,
) -> FetchOptions {
    FetchOptions {
        url,
        sha256,
        progress: true,
        timeout: timeout_secs
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_TIMEOUT),
    }
}

/// Runs `kerros data fetch NAME` and returns the line to print: the folder,
/// and whether it was already there.
pub fn fetch_text(name: &str, data_dir: &Path, opts: &FetchOptions) -> Result<String> {
    let was_present = is_present(name, data_dir);
    let path = fetch(name, data_dir, opts)?;
    Ok(if was_present {
        format!("{name} is already present in {}", path.display())
    } else {
        format!("{name} fetched into {}", path.display())
    })
}
