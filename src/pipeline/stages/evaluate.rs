//! evaluate: predict the test split with the trained model and score it.

use super::encode::{into_dataset, model_input, EncodeArtifact};
use super::split::{DataInfo, SplitArtifact};
use super::train::{task_info, TrainArtifact};
use super::Split;
use crate::cache::{Artifact, StageKey};
use crate::metrics::{Evaluation, FittedDecision};
use crate::pipeline::score;
use crate::pipeline::tables::{self, Prediction};
use crate::spec::{Spec, TaskKind};
use crate::train;
use anyhow::{Context, Result};
use std::fs;
use std::path::{Path, PathBuf};

/// Stage name, the first part of its cache folder.
pub const NAME: &str = "evaluate";

/// Rows per forward pass when predicting the test split.
pub const BATCH: usize = crate::spec::EVALUATION_BATCH_SIZE;

/// The stage key: `metrics` (and a fitted `task.decision` rule, when there
/// is one), the train and split stages' keys.
pub fn key(
    spec: &Spec,
    train: &StageKey,
    split: &StageKey,
    decision: Option<&FittedDecision>,
) -> StageKey {
    let builder = match decision {
        None => StageKey::build(NAME, &spec.metrics),
        Some(rule) => StageKey::build(NAME, &(&spec.metrics, rule)),
    };
    builder.input(train).input(split).finish()
}

/// Predict the test split and write its predictions and metrics into `dir`,
/// labelling with `decision` (fitted on the folds) when given. Holds no
/// texts while predicting.
pub fn compute(
    spec: &Spec,
    encode: &EncodeArtifact,
    trained: &TrainArtifact,
    info: &DataInfo,
    splits: &SplitArtifact,
    decision: Option<&FittedDecision>,
    dir: &Path,
) -> Result<()> {
    let out = EvaluateArtifact::at(dir);
    let te = encode.read(Split::Test)?;
    let m = trained.load_model(spec, &model_input(&te))?;
    let task = task_info(spec, info);
    let ds = into_dataset(te);
    let probs = train::predict(&m, &ds.inputs, &task, spec.train.loss.from_logits, BATCH)?;
    let test_loss = train::evaluate_loss(&m, &ds, &spec.train.loss, &task, BATCH)?;
    drop(ds);
    // The texts are read only now, after the forward passes, and only the
    // splits scoring needs: the test items, and the training items for a
    // regression (its target range) only.
    let test = splits.items(Split::Test)?;
    let train = match spec.task.kind {
        TaskKind::Regression => splits.items(Split::Train)?,
        _ => Vec::new(),
    };
    let (preds, mut metrics) =
        score::score_with(spec, &info.classes, &train, &test, &probs, decision)?;
    metrics.set_scalar("loss", Some(test_loss))?;
    tables::write_predictions(&out.predictions_parquet(), &preds, &info.classes)?;
    fs::write(out.metrics_json(), serde_json::to_vec_pretty(&metrics)?)?;
    Ok(())
}

/// The evaluate stage's artifact folder.
#[derive(Debug, Clone)]
pub struct EvaluateArtifact {
    dir: PathBuf,
}

impl EvaluateArtifact {
    /// The artifact in folder `dir`.
    pub fn at(dir: &Path) -> EvaluateArtifact {
        EvaluateArtifact {
            dir: dir.to_path_buf(),
        }
    }

    /// The artifact the runner returned.
    pub fn from_artifact(a: &Artifact) -> EvaluateArtifact {
        EvaluateArtifact::at(&a.dir)
    }

    /// Test predictions in test-split order.
    pub fn predictions_parquet(&self) -> PathBuf {
        self.dir.join("predictions.parquet")
    }

    /// Test metrics by name.
    pub fn metrics_json(&self) -> PathBuf {
        self.dir.join("metrics.json")
    }

    /// Test metrics, typed.
    pub fn metrics(&self) -> Result<Evaluation> {
        let path = self.metrics_json();
        let bytes = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_slice(&bytes).with_context(|| format!("{} is not valid", path.display()))
    }

    /// Test predictions in test-split order.
    pub fn predictions(&self) -> Result<Vec<Prediction>> {
        tables::read_predictions(&self.predictions_parquet())
    }
}
