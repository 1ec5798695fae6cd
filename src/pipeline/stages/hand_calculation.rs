//! The hand-calculation report: a spec without `data` shows its network and
//! the forward pass of `spec.inputs` instead of training.

use super::report::published_path;
use crate::model::{Model, ModelInput};
use crate::pipeline::{forward, report as report_data, RunOptions, RunOutcome};
use crate::report::{self, manifest::Manifest, verify::seal};
use crate::spec::Spec;
use anyhow::{bail, Result};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// Render the hand-calculation report of `spec` to the reports folder.
pub fn run(spec: &Spec, spec_path: &Path, opts: &RunOptions, start: Instant) -> Result<RunOutcome> {
    if spec.inputs.is_empty() {
        bail!(
            "{}: a spec without `data` is a hand calculation; add `inputs: [[1, 3, 2]]` (one row per input vector) to report its forward pass, or use `kerros forward {} --input 1,3,2`",
            spec_path.display(),
            spec_path.display()
        );
    }
    let pass = forward::forward_pass(spec, &spec.inputs)?;
    let width = spec.model.input_dim.unwrap_or_default();
    let summary = Model::new(
        &spec.model.layers,
        &ModelInput::Features { width },
        spec.seed,
    )?
    .summary();
    let mut data =
        report_data::forward_report_data(spec, spec_path, &summary, pass, opts.author.as_deref());
    // The manifest (no metrics, no data files) makes the page a kerros
    // report that `kerros verify` checks like any other.
    let mut manifest = Manifest::new(spec, BTreeMap::new(), opts.author.as_deref())?;
    manifest.spec_dir = spec_path
        .parent()
        .and_then(|d| std::path::absolute(d).ok())
        .map(|d| d.display().to_string());
    data.manifest_json = Some(serde_json::to_string(&manifest)?);
    let html = seal(&report::render(&data)?);
    let report_path = published_path(&opts.reports_dir, &spec.name)?;
    crate::cache::write_file_atomically(&report_path, html.as_bytes(), false)?;
    Ok(RunOutcome {
        hints: Vec::new(),
        name: spec.name.clone(),
        metrics: crate::metrics::Evaluation::default(),
        stages: Vec::new(),
        history: Vec::new(),
        report: report_path,
        artifacts: BTreeMap::new(),
        params: summary.total_params,
        skipped_rows: crate::data::SkippedRows::default(),
        seconds: start.elapsed().as_secs_f64(),
        validation: BTreeMap::new(),
        cv: None,
        positive_class: None,
        early_stopping: None,
        ensemble: None,
    })
}
