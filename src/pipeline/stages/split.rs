//! split: `limit`, the validation split, classes and targets, text cleaning.

use super::load::{LoadArtifact, SourceFile};
use super::Split;
use crate::cache::{Artifact, StageKey};
use crate::data::{self, Prepared};
use crate::spec::{DataSpec, Spec, TaskSpec, ValidationSpec};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};

/// Stage name, the first part of its cache folder.
pub const NAME: &str = "split";

/// The settings the split depends on, serialised as a JSON array
/// `[seed, limit, validation, task]` (the stage key's settings bytes).
#[derive(Serialize)]
pub struct SplitSettings<'a>(
    /// `seed`.
    pub u64,
    /// `data.limit`.
    pub Option<usize>,
    /// `data.validation`.
    pub &'a ValidationSpec,
    /// `task`.
    pub &'a TaskSpec,
);

/// Facts about the loaded data, stored with the split stage.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DataInfo {
    /// Class names in output order (empty for regression).
    pub classes: Vec<String>,
    /// Rows skipped as malformed, per file.
    pub skipped_rows: data::SkippedRows,
    /// Source files with their content hashes.
    pub sources: Vec<(String, String)>,
}

/// The stage key: its settings and the load stage's key.
pub fn key(spec: &Spec, data: &DataSpec, load: &StageKey) -> StageKey {
    let settings = SplitSettings(spec.seed, data.limit, &data.validation, &spec.task);
    StageKey::build(NAME, &settings).input(load).finish()
}

/// Prepare the loaded tables into `dir`: the three splits and [`DataInfo`].
pub fn compute(spec: &Spec, load: &LoadArtifact, files: &[SourceFile], dir: &Path) -> Result<()> {
    let validation = if files.iter().any(|f| f.role == Split::Validation.name()) {
        Some(load.read_table(Split::Validation)?)
    } else {
        None
    };
    let mut prepared = data::prepare(
        load.read_table(Split::Train)?,
        load.read_table(Split::Test)?,
        validation,
        spec,
    )?;
    prepared.skipped_rows = load.skipped()?;
    let out = SplitArtifact::at(dir);
    for (split, items) in [
        (Split::Train, &prepared.train),
        (Split::Validation, &prepared.validation),
        (Split::Test, &prepared.test),
    ] {
        data::write_items(&out.items_parquet(split), items)?;
    }
    let info = DataInfo {
        classes: prepared.classes.clone(),
        skipped_rows: prepared.skipped_rows,
        sources: files
            .iter()
            .map(|f| (f.path.display().to_string(), f.blake3.clone()))
            .collect(),
    };
    fs::write(out.info_json(), serde_json::to_vec_pretty(&info)?)?;
    Ok(())
}

/// The split stage's artifact folder.
#[derive(Debug, Clone)]
pub struct SplitArtifact {
    dir: PathBuf,
}

impl SplitArtifact {
    /// The artifact in folder `dir`.
    pub fn at(dir: &Path) -> SplitArtifact {
        SplitArtifact {
            dir: dir.to_path_buf(),
        }
    }

    /// The artifact the runner returned.
    pub fn from_artifact(a: &Artifact) -> SplitArtifact {
        SplitArtifact::at(&a.dir)
    }

    /// One split's examples with targets.
    pub fn items_parquet(&self, split: Split) -> PathBuf {
        self.dir.join(format!("{}.parquet", split.name()))
    }

    /// [`DataInfo`] as JSON.
    pub fn info_json(&self) -> PathBuf {
        self.dir.join("info.json")
    }

    /// Classes, skipped rows and source hashes.
    pub fn info(&self) -> Result<DataInfo> {
        let path = self.info_json();
        let bytes = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_slice(&bytes).with_context(|| format!("{} is not valid", path.display()))
    }

    /// One split's examples (read from Parquet).
    pub fn items(&self, split: Split) -> Result<Vec<data::Item>> {
        Ok(data::read_items(&self.items_parquet(split))?)
    }

    /// All three splits (read from Parquet).
    pub fn prepared(&self, info: &DataInfo) -> Result<Prepared> {
        Ok(Prepared {
            classes: info.classes.clone(),
            train: data::read_items(&self.items_parquet(Split::Train))?,
            validation: data::read_items(&self.items_parquet(Split::Validation))?,
            test: data::read_items(&self.items_parquet(Split::Test))?,
            skipped_rows: info.skipped_rows,
        })
    }
}
