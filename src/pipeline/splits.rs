//! The exact train / validation / test examples a run of a spec uses, through
//! the same cached load and split stages as `run_spec` (`kerros data split`).

use super::runner::Runner;
use super::stages::load::{self, LoadArtifact};
use super::stages::split::{self, SplitArtifact};
use super::RunOptions;
use crate::cache::Cache;
use crate::data::Prepared;
use crate::spec::{self, SpecError};
use anyhow::Result;
use std::path::Path;

/// Load and split the data of the spec in `spec_path` (reusing cached stages).
/// A spec without a `data` section is a [`SpecError`].
pub fn prepared_splits(spec_path: &Path, opts: &RunOptions) -> Result<Prepared> {
    let (spec, _) = spec::load_spec(spec_path)?;
    let Some(data_spec) = &spec.data else {
        return Err(SpecError {
            file: spec_path.to_path_buf(),
            line: None,
            column: None,
            path: Some("data".into()),
            message: "the spec has no `data` section, so there are no splits to write".into(),
        }
        .into());
    };
    let spec_dir = spec_path.parent().unwrap_or(Path::new("."));
    let mut runner = Runner::new(Cache::new(&opts.cache_dir), opts.force, opts.quiet);
    let (resolved, files) = load::resolve(data_spec, spec_dir, opts, &runner)?;
    let load_key = load::key(data_spec, &files);
    let loaded = runner.stage(&load_key, |dir| {
        load::compute(data_spec, &resolved.sources, dir)
    })?;
    let loaded = LoadArtifact::from_artifact(&loaded);
    let split_key = split::key(&spec, data_spec, &load_key);
    let splits = runner.stage(&split_key, |dir| {
        split::compute(&spec, &loaded, &files, dir)
    })?;
    let splits = SplitArtifact::from_artifact(&splits);
    splits.prepared(&splits.info()?)
}
