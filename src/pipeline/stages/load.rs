//! load: read the source files as they are, one Parquet table per file.
//!
//! Keyed by the spec's `data` section and the content hash of every source
//! file, so an edited CSV re-runs everything after it.

use super::Split;
use crate::cache::{hash_file, Artifact, StageKey};
use crate::data::{self, Item, Sources};
use crate::pipeline::runner::Runner;
use crate::pipeline::RunOptions;
use crate::spec::DataSpec;
use anyhow::Result;
use serde::Serialize;
use std::fs;
use std::path::{Path, PathBuf};

/// Stage name, the first part of its cache folder.
pub const NAME: &str = "load";

/// What the load stage's output depends on besides the files' content.
#[derive(Serialize)]
pub struct LoadSettings<'a> {
    /// The spec's `data` section.
    pub data: &'a DataSpec,
    /// Changes when the readers count or store rows differently.
    pub reader: u32,
}

/// One source file of the run: its role, path and content hash.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// `train`, `test` or `validation`.
    pub role: &'static str,
    /// The file as resolved.
    pub path: PathBuf,
    /// blake3 hash of its bytes (hex).
    pub blake3: String,
}

/// Resolve the spec's data files (fetching a missing built-in dataset once,
/// like `keras.datasets`) and hash them.
pub fn resolve(
    data_spec: &DataSpec,
    spec_dir: &Path,
    opts: &RunOptions,
    runner: &Runner,
) -> Result<(Resolved, Vec<SourceFile>)> {
    let (data_dir, dir_source) = data::data_dir(opts.data_dir.as_deref());
    if let Some(name) = &data_spec.dataset {
        let needed = data::builtin_files(name, &data_dir);
        if needed.is_some_and(|(train, test)| !train.is_file() || !test.is_file()) {
            runner.log(&format!(
                "dataset `{name}` not found in {}; fetching it",
                data_dir.display()
            ));
            let fetch = data::fetch::FetchOptions {
                progress: !opts.quiet,
                ..Default::default()
            };
            data::fetch::fetch(name, &data_dir, &fetch)?;
        }
    }
    let sources = data::resolve_sources(data_spec, spec_dir, &data_dir, dir_source)?;
    let mut files = vec![("train", sources.train.path.clone())];
    if let Some(t) = &sources.test {
        files.push(("test", t.path.clone()));
    }
    if let Some(v) = &sources.validation {
        files.push(("validation", v.path.clone()));
    }
    // Not a load input: the splits do not depend on it (so an ensemble's
    // members with and without it share their splits). The stage that reads
    // it (`vocabulary`, for document vectors) is keyed by this hash.
    let unlabelled = data::resolve_unlabelled(data_spec, spec_dir, &data_dir)?
        .map(|source| -> Result<_> {
            let blake3 = hash_file(&source.path)?;
            Ok((source, blake3))
        })
        .transpose()?;
    let files = files
        .into_iter()
        .map(|(role, path)| {
            Ok(SourceFile {
                role,
                blake3: hash_file(&path)?,
                path,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((
        Resolved {
            sources,
            unlabelled,
        },
        files,
    ))
}

/// The spec's resolved files: the labelled sources and `data.unlabelled`.
pub struct Resolved {
    /// Train, test and validation files.
    pub sources: Sources,
    /// The unlabelled texts' file and its blake3 hash, when `data.unlabelled` is set.
    pub unlabelled: Option<(data::Source, String)>,
}

/// The stage key: the `data` settings (but `unlabelled`, which this stage
/// does not read) and every source file's content.
pub fn key(data_spec: &DataSpec, files: &[SourceFile]) -> StageKey {
    let labelled = data_spec.without_unlabelled();
    let mut key = StageKey::build(
        NAME,
        &LoadSettings {
            data: &labelled,
            reader: data::READER_REVISION,
        },
    );
    for f in files {
        key = key.file(f.role, &f.blake3);
    }
    key.finish()
}

/// Read every source file into `dir` (targets not assigned yet), one file at
/// a time: each table is written out and dropped before the next is read.
pub fn compute(data_spec: &DataSpec, sources: &Sources, dir: &Path) -> Result<()> {
    let out = LoadArtifact::at(dir);
    let mut skipped = data::SkippedRows::default();
    data::read_sources_each(data_spec, sources, |role, table| {
        let split = match role {
            "train" => Split::Train,
            "test" => Split::Test,
            _ => Split::Validation,
        };
        match split {
            Split::Train => skipped.train = table.skipped,
            Split::Test => skipped.test = table.skipped,
            Split::Validation => skipped.validation = table.skipped,
        }
        let items: Vec<Item> = table
            .rows
            .into_iter()
            .map(|r| Item {
                id: r.id,
                text: r.text,
                label: r.label,
                target: f32::NAN,
                extra: r.extra,
            })
            .collect();
        data::write_items(&out.table_parquet(split), &items)
    })?;
    fs::write(out.skipped_json(), serde_json::to_string(&skipped)?)?;
    Ok(())
}

/// The load stage's artifact folder.
#[derive(Debug, Clone)]
pub struct LoadArtifact {
    dir: PathBuf,
}

impl LoadArtifact {
    /// The artifact in folder `dir`.
    pub fn at(dir: &Path) -> LoadArtifact {
        LoadArtifact {
            dir: dir.to_path_buf(),
        }
    }

    /// The artifact the runner returned.
    pub fn from_artifact(a: &Artifact) -> LoadArtifact {
        LoadArtifact::at(&a.dir)
    }

    /// One source file's rows as read (`validation` only with a validation file).
    pub fn table_parquet(&self, split: Split) -> PathBuf {
        self.dir.join(format!("{}.parquet", split.name()))
    }

    /// The number of malformed rows skipped, per file.
    pub fn skipped_json(&self) -> PathBuf {
        self.dir.join("skipped.json")
    }

    /// One source file's rows as a table.
    pub fn read_table(&self, split: Split) -> Result<data::Table> {
        let items = data::read_items(&self.table_parquet(split))?;
        Ok(data::Table {
            rows: items
                .into_iter()
                .map(|i| data::Row {
                    id: i.id,
                    text: i.text,
                    label: i.label,
                    extra: i.extra,
                })
                .collect(),
            ..data::Table::default()
        })
    }

    /// The number of malformed rows skipped while reading.
    pub fn skipped(&self) -> Result<data::SkippedRows> {
        Ok(serde_json::from_slice(&fs::read(self.skipped_json())?)?)
    }
}
