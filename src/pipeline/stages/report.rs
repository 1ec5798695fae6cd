//! report: render the sealed HTML report with its embedded manifest, and
//! publish it to the reports folder.

use super::encode::EncodeArtifact;
use super::evaluate::EvaluateArtifact;
use super::load::SourceFile;
use super::split::DataInfo;
use super::train::TrainArtifact;
use super::vocabulary::VocabularyArtifact;
use crate::cache::{Artifact, StageKey};
use crate::data::Prepared;
use crate::model::Summary;
use crate::pipeline::explain_report::explain_report;
use crate::pipeline::predict::{Predictor, PredictorArtifacts};
use crate::pipeline::report::{self as report_data, ReportInputs};
use crate::report::manifest::{AssignmentStamp, DataFile, Manifest};
use crate::report::{self, verify::seal, Notes};
use crate::spec::Spec;
use crate::train::EpochRecord;
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Stage name, the first part of its cache folder.
pub const NAME: &str = "report";

/// The stage key: the whole spec and the author, the page template, the
/// notes' text, and the evaluate, train and split stages' keys.
pub fn key(
    spec: &Spec,
    author: &Option<String>,
    notes: Option<&Notes>,
    evaluate: &StageKey,
    train: &StageKey,
    split: &StageKey,
) -> StageKey {
    StageKey::build(NAME, &(spec, author))
        .file("template", &report::template_fingerprint())
        .file("notes", &crate::pipeline::notes::fingerprint(notes))
        .input(evaluate)
        .input(train)
        .input(split)
        .finish()
}

/// What the report shows, read from the earlier stages.
pub struct ReportStageInputs<'a> {
    /// The spec file (its path is shown as the command that made the report).
    pub spec_path: &'a Path,
    /// The spec's folder as an absolute path, recorded in the manifest so
    /// `kerros verify --rerun` finds relative data files.
    pub spec_dir: Option<String>,
    /// The report's author.
    pub author: &'a Option<String>,
    /// The source files with their hashes.
    pub files: &'a [SourceFile],
    /// Classes and sources.
    pub info: &'a DataInfo,
    /// The prepared splits.
    pub prepared: &'a Prepared,
    /// Training history.
    pub history: &'a [EpochRecord],
    /// Model summary.
    pub summary: &'a Summary,
    /// Test metrics.
    pub metrics: &'a crate::metrics::Evaluation,
    /// The evaluate stage (predictions).
    pub evaluate: &'a EvaluateArtifact,
    /// The train stage (embedding coverage, the model for explanations).
    pub trained: &'a TrainArtifact,
    /// The vocabulary stage (the encoder for explanations).
    pub vocabulary: &'a VocabularyArtifact,
    /// The encode stage (the input width for explanations).
    pub encoded: &'a EncodeArtifact,
    /// The author's discussion (`report.notes`), already read.
    pub notes: Option<Notes>,
    /// Stage name → key of the stages before the report.
    pub stage_keys: &'a BTreeMap<String, String>,
    /// The cross-validation folds, when the run had them.
    pub cv: Option<&'a crate::report::cv::CvSummary>,
    /// Training hints.
    pub hints: &'a [String],
}

/// Render and seal the report into `dir`.
pub fn compute(spec: &Spec, inputs: ReportStageInputs, dir: &Path) -> Result<()> {
    let preds = inputs.evaluate.predictions()?;
    let gathered = ReportInputs {
        spec,
        spec_path: inputs.spec_path,
        prepared: inputs.prepared,
        sources: &inputs.info.sources,
        history: inputs.history,
        summary: inputs.summary,
        metrics: inputs.metrics,
        predictions: &preds,
        stage_keys: inputs.stage_keys,
        coverage: inputs.trained.coverage()?,
        cv: inputs.cv,
        hints: inputs.hints,
    };
    let mut data = report_data::build(&gathered);
    data.header.author = inputs.author.clone();
    data.notes = inputs.notes;
    if spec.report.explain.enabled(inputs.prepared.test.len()) && !data.examples.is_empty() {
        let predictor = Predictor::from_artifacts(
            spec.clone(),
            PredictorArtifacts {
                info: inputs.info,
                width: inputs.encoded.width()?,
                vocabulary: inputs.vocabulary,
                trained: inputs.trained,
                metrics: inputs.metrics,
            },
        )?;
        explain_report(&predictor, &mut data)?;
    }
    let mut manifest = Manifest::new(spec, inputs.metrics.to_map(), inputs.author.as_deref())?;
    manifest.data_files = inputs
        .files
        .iter()
        .map(|f| DataFile {
            path: format!("{}: {}", f.role, f.path.display()),
            blake3: f.blake3.clone(),
        })
        .collect();
    manifest.assignment =
        AssignmentStamp::for_spec(spec, inputs.spec_path.parent().unwrap_or(Path::new("")))?;
    manifest.spec_dir = inputs.spec_dir;
    manifest.stage_keys = inputs.stage_keys.clone();
    data.manifest_json = Some(serde_json::to_string(&manifest)?);
    let html = seal(&report::render(&data)?);
    fs::write(ReportArtifact::at(dir).report_html(), html)?;
    Ok(())
}

/// The report stage's artifact folder.
#[derive(Debug, Clone)]
pub struct ReportArtifact {
    dir: PathBuf,
}

impl ReportArtifact {
    /// The artifact in folder `dir`.
    pub fn at(dir: &Path) -> ReportArtifact {
        ReportArtifact {
            dir: dir.to_path_buf(),
        }
    }

    /// The artifact the runner returned.
    pub fn from_artifact(a: &Artifact) -> ReportArtifact {
        ReportArtifact::at(&a.dir)
    }

    /// The sealed report.
    pub fn report_html(&self) -> PathBuf {
        self.dir.join("report.html")
    }

    /// Copy the report to `<reports_dir>/<name>.html` atomically (a
    /// concurrent run publishing the same name never leaves it half-written); returns
    /// the published path.
    pub fn publish(&self, reports_dir: &Path, name: &str) -> Result<PathBuf> {
        let target = published_path(reports_dir, name)?;
        // Concurrent runs publishing one name: one wins whole.
        crate::cache::copy_file_atomically(&self.report_html(), &target)?;
        Ok(target)
    }
}

/// `<reports_dir>/<name>.html` (the name made safe as a file name on every
/// system, see [`report::file_name`]), creating the folder.
pub fn published_path(reports_dir: &Path, name: &str) -> Result<PathBuf> {
    fs::create_dir_all(reports_dir)
        .with_context(|| format!("cannot create reports folder {}", reports_dir.display()))?;
    Ok(reports_dir.join(report::file_name(name)))
}
