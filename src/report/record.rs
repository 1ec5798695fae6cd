//! Run records: what `kerros compare` needs from one finished run, saved by
//! the runner under `<cache-dir>/runs/` (one JSON file per experiment name).

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Folder under the cache dir holding one record per run.
pub const RUNS_DIR: &str = "runs";

/// What `kerros compare` needs from one finished run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Experiment (or variant) name.
    pub name: String,
    /// The resolved spec, as JSON.
    pub spec: Value,
    /// Test metrics, as in `kerros run --json`.
    pub metrics: crate::metrics::Evaluation,
    /// Validation metrics ([`super::selection::VALIDATION_METRICS`]); records
    /// written before they were kept get them from `history` on loading.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub validation: BTreeMap<String, Value>,
    /// Per-epoch records (`loss`, `accuracy`, `val_loss`, `val_accuracy`, ...).
    #[serde(default)]
    pub history: Vec<Value>,
    /// Training hints ([`super::hints::training_hints`]), e.g. under-training.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<String>,
    /// Path of the run's HTML report.
    #[serde(default)]
    pub report: Option<String>,
    /// A classification run's test predictions (for McNemar's test in
    /// `kerros compare`); absent for regression and older records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predictions: Option<super::predictions::TestPredictions>,
}

/// Where the record of run `name` lives: `<cache-dir>/runs/<file>.json`. The
/// file name keeps ASCII letters, digits and `-_.=,[]+` of the lower-cased
/// name; when anything had to change, a short hash of the exact name is
/// appended, so distinct names never share a file (also on case-insensitive
/// file systems).
pub fn record_path(cache_dir: &Path, name: &str) -> PathBuf {
    let mut safe: String = name
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() || "-_.=,[]+".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.starts_with('.') {
        safe.replace_range(0..1, "_");
    }
    if safe != name || safe.len() > 100 {
        let hash = blake3::hash(name.as_bytes()).to_hex();
        safe = format!("{}-{}", &safe[..safe.len().min(100)], &hash[..8]);
    }
    cache_dir.join(RUNS_DIR).join(format!("{safe}.json"))
}

/// Write `record` to [`record_path`] atomically (a temporary file renamed into
/// place), creating `runs/`; an identical file is left as it is. Returns the
/// path.
pub fn save_record(cache_dir: &Path, record: &RunRecord) -> Result<PathBuf> {
    let path = record_path(cache_dir, &record.name);
    let dir = cache_dir.join(RUNS_DIR);
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the run records folder {}", dir.display()))?;
    let mut bytes = serde_json::to_vec_pretty(record).context("cannot serialise the run record")?;
    bytes.push(b'\n');
    // Unchanged (a cached rerun): leave the file alone, so such a run
    // writes nothing into the cache.
    crate::cache::write_file_atomically(&path, &bytes, true)
        .with_context(|| format!("cannot write the run record {}", path.display()))?;
    Ok(path)
}

/// Read one run record.
pub fn load_record(path: &Path) -> Result<RunRecord> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the run record {}", path.display()))?;
    let mut record: RunRecord = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a kerros run record", path.display()))?;
    if record.validation.is_empty() {
        record.validation = super::selection::validation_metrics(&record.history);
    }
    Ok(record)
}

/// Every run record under `<cache-dir>/runs/`, sorted by name. A missing
/// folder gives an error saying that no run has finished there yet.
pub fn load_records(cache_dir: &Path) -> Result<Vec<RunRecord>> {
    let dir = cache_dir.join(RUNS_DIR);
    let entries = std::fs::read_dir(&dir).with_context(|| {
        format!(
            "no finished runs in {} (run `kerros run` with the same --cache-dir first)",
            dir.display()
        )
    })?;
    let mut out = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if !hidden && path.extension().is_some_and(|e| e == "json") {
            out.push(load_record(&path)?);
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}
