//! Run records on the remote, `<prefix>/records/<file>.json`, so that
//! `kerros compare --remote-cache` sees the runs of every shard and machine.

use super::RemoteCache;
use crate::report::record::{record_path, RunRecord};
use anyhow::{Context, Result};
use std::path::Path;

/// Folder under the prefix holding the run records.
pub const RECORDS_DIR: &str = "records";

impl RemoteCache {
    /// Push `record` (named like its local file), when the mode writes.
    pub fn push_record(&self, record: &RunRecord) -> Result<()> {
        if !self.mode.writes() {
            return Ok(());
        }
        let name = file_name(&record.name);
        let mut bytes =
            serde_json::to_vec_pretty(record).context("cannot serialise the run record")?;
        bytes.push(b'\n');
        self.put(&self.path(&[RECORDS_DIR, &name]), bytes)
    }

    /// Every run record on the remote, sorted by name.
    pub fn records(&self) -> Result<Vec<RunRecord>> {
        let mut out = Vec::new();
        for path in self.list(&self.path(&[RECORDS_DIR]))? {
            if path.extension() != Some("json") {
                continue;
            }
            let Some(raw) = self.get(&path)? else {
                continue; // deleted since listing
            };
            let record: RunRecord = serde_json::from_slice(&raw).with_context(|| {
                format!("{}: `{path}` is not a kerros run record", self.url.text)
            })?;
            out.push(record);
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// The remote record of run `name`, `None` when there is none.
    pub fn record(&self, name: &str) -> Result<Option<RunRecord>> {
        let Some(raw) = self.get(&self.path(&[RECORDS_DIR, &file_name(name)]))? else {
            return Ok(None);
        };
        Ok(Some(serde_json::from_slice(&raw).with_context(|| {
            format!(
                "{}: the record of `{name}` is not a kerros run record",
                self.url.text
            )
        })?))
    }
}

/// The record's file name, the same as in the local cache.
fn file_name(name: &str) -> String {
    record_path(Path::new(""), name)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| format!("{name}.json"))
}
