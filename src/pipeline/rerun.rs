//! `kerros verify --rerun`: run a report's embedded spec again on the same
//! data and compare the metrics with the ones the report recorded.
//!
//! Relative paths in the spec (`data.train`, `data.test`,
//! `data.validation.file`, an embedding's `path`) are relative to the spec's
//! folder, which the manifest records; `spec_dir` points elsewhere (a moved
//! checkout), and the run options' data dir locates built-in datasets.

use super::{run_spec, RunOptions, RunOutcome};
use crate::cache::hash_file;
use crate::report::manifest::Manifest;
use crate::report::verify::compare_metrics;
use crate::spec::Spec;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// What a re-run found.
#[derive(Debug)]
pub struct Rerun {
    /// The new run.
    pub outcome: RunOutcome,
    /// Each metric that differs from the report's, in words (empty: reproduced).
    pub differences: Vec<String>,
    /// Data files whose content differs from the hash the report recorded.
    pub changed_files: Vec<String>,
}

/// The folder relative spec paths are resolved against: `spec_dir` when
/// given, else the folder the manifest recorded, else the current folder
/// (reports of versions that recorded none).
pub fn spec_folder(manifest: &Manifest, spec_dir: Option<&Path>) -> PathBuf {
    match (spec_dir, &manifest.spec_dir) {
        (Some(dir), _) => dir.to_path_buf(),
        (None, Some(recorded)) => PathBuf::from(recorded),
        (None, None) => PathBuf::from("."),
    }
}

/// Re-run the manifest's spec with every stage recomputed (`opts.force` is
/// set) and compare its metrics with the recorded ones (tolerance 1e-9).
///
/// Before running, each explicit data file must exist under the spec folder:
/// a missing one is an error naming the file, where it was looked for and
/// how to point elsewhere.
pub fn rerun(manifest: &Manifest, spec_dir: Option<&Path>, opts: &RunOptions) -> Result<Rerun> {
    let opts = RunOptions {
        force: true,
        ..opts.clone()
    };
    rerun_with(manifest, spec_dir, &opts)
}

/// [`rerun`] with the cache used as `opts.force` says: `kerros grade
/// --rerun` shares one cache between many reports, so a stage common to
/// several students (loading and splitting the same data) runs once.
pub fn rerun_with(
    manifest: &Manifest,
    spec_dir: Option<&Path>,
    opts: &RunOptions,
) -> Result<Rerun> {
    let mut spec = manifest.spec()?;
    // The assignment's locked keys were checked when the report was made
    // (and `kerros grade` checks them against the teacher's copy); the
    // student's assignment file need not exist where the re-run happens.
    spec.assignment = None;
    let folder = spec_folder(manifest, spec_dir);
    let changed_files = check_data_files(&spec, manifest, &folder, spec_dir.is_some())?;
    // Only its folder matters: the spec itself comes from the manifest.
    let spec_path = folder.join(format!("{}.yaml", spec.name));
    // The same checks as `kerros run`, before touching data.
    let locator = crate::spec::Locator::new(&manifest.spec_yaml);
    super::validate(&spec, &spec_path, &locator)?;
    let outcome = run_spec(&spec, &spec_path, opts)?;
    let recorded = crate::metrics::Evaluation::from_map(manifest.metrics.clone())
        .context("the report's manifest holds malformed metrics")?;
    let differences = compare_metrics(&recorded, &outcome.metrics, 1e-9);
    Ok(Rerun {
        outcome,
        differences,
        changed_files,
    })
}

/// Check the spec's explicit data files under `folder`: an error for a
/// missing one, and the list of files whose content changed since the report.
fn check_data_files(
    spec: &Spec,
    manifest: &Manifest,
    folder: &Path,
    given: bool,
) -> Result<Vec<String>> {
    let Some(data) = &spec.data else {
        return Ok(Vec::new());
    };
    let mut files = Vec::new();
    if data.dataset.is_none() {
        files.extend(data.train.iter().map(|p| ("train", p.as_path())));
        files.extend(
            data.test
                .iter()
                .filter_map(|t| t.file())
                .map(|p| ("test", p)),
        );
    }
    files.extend(
        data.validation
            .file
            .iter()
            .map(|p| ("validation", p.as_path())),
    );
    let mut changed = Vec::new();
    for (role, relative) in files {
        let path = folder.join(relative);
        if !path.is_file() {
            let whence = if given {
                "the folder given with --spec-dir".to_string()
            } else if manifest.spec_dir.is_some() {
                "the spec's folder recorded in the report".to_string()
            } else {
                "the current folder: the report records no spec folder".to_string()
            };
            bail!(
                "{role} file `{}` not found: looked for {} ({whence}); point to the folder the spec's paths are relative to with --spec-dir DIR",
                relative.display(),
                path.display()
            );
        }
        let recorded = manifest
            .data_files
            .iter()
            .find(|f| f.path.starts_with(&format!("{role}: ")));
        if let Some(recorded) = recorded {
            let now = hash_file(&path)?;
            if now != recorded.blake3 {
                changed.push(format!(
                    "{role} file {} has changed since the report was made (blake3 {} then, {} now)",
                    path.display(),
                    &recorded.blake3[..recorded.blake3.len().min(12)],
                    &now[..12]
                ));
            }
        }
    }
    Ok(changed)
}
