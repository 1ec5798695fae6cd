//! fold_evaluate: score one cross-validation fold's trained model on the
//! fold's own validation part with the metrics the spec lists (Cohen's
//! kappa, macro F1, MAE, ...), exactly as the evaluate stage scores the test
//! split, so the folds can choose a model by the metric a target is set on.
//!
//! It also keeps the model's outputs on those rows (out-of-fold
//! predictions), which a `task.decision` rule is fitted on.
//!
//! The model scored is the one the fold's train stage saved (with
//! `restore_best_weights`, the best epoch's weights), so these metrics can
//! differ from the last epoch's `val_accuracy` in the fold's history.

use super::encode::{into_dataset, model_input, EncodeArtifact};
use super::split::{DataInfo, SplitArtifact};
use super::train::{task_info, TrainArtifact};
use super::Split;
use crate::cache::{Artifact, StageKey};
use crate::pipeline::score;
use crate::spec::{Spec, TaskKind};
use crate::train;
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Stage name, the first part of its cache folder.
pub const NAME: &str = "fold_evaluate";

/// Prefix of a fold's scored metrics (`val_cohen_kappa`), beside the
/// history's `val_loss` and `val_accuracy`.
pub const PREFIX: &str = "val_";

/// The stage key: `metrics`, the fold's train and fold stages' keys.
pub fn key(spec: &Spec, train: &StageKey, fold: &StageKey) -> StageKey {
    StageKey::build(NAME, &spec.metrics)
        .input(train)
        .input(fold)
        .finish()
}

/// Predict the fold's validation part and write its defined scalar metrics,
/// named `val_<metric>`, into `dir`. `accuracy` is left out: the history's
/// `val_accuracy` already names it (of the last epoch).
pub fn compute(
    spec: &Spec,
    encode: &EncodeArtifact,
    trained: &TrainArtifact,
    info: &DataInfo,
    part: &SplitArtifact,
    dir: &Path,
) -> Result<()> {
    let out = FoldEvaluateArtifact::at(dir);
    let va = encode.read(Split::Validation)?;
    let mut metrics = BTreeMap::new();
    let mut outputs: Vec<Vec<f32>> = Vec::new();
    if !va.ids.is_empty() {
        let m = trained.load_model(spec, &model_input(&va))?;
        let task = task_info(spec, info);
        let ds = into_dataset(va);
        let probs = train::predict(
            &m,
            &ds.inputs,
            &task,
            spec.train.loss.from_logits,
            super::evaluate::BATCH,
        )?;
        drop(ds);
        let held = part.items(Split::Validation)?;
        // A regression without `task.range` clamps into the fold's training targets.
        let kept = match spec.task.kind {
            TaskKind::Regression if spec.task.range.is_none() => part.items(Split::Train)?,
            _ => Vec::new(),
        };
        let (_, eval) = score::score(spec, &info.classes, &kept, &held, &probs)?;
        metrics = named_metrics(eval.defined_scalars());
        outputs = probs;
    }
    fs::write(out.metrics_json(), serde_json::to_vec_pretty(&metrics)?)?;
    fs::write(out.outputs_json(), serde_json::to_vec(&outputs)?)?;
    Ok(())
}

/// `val_<name>` for each scored metric but `accuracy` (see [`compute`]).
pub fn named_metrics<'a>(scalars: impl Iterator<Item = (&'a str, f64)>) -> BTreeMap<String, f64> {
    scalars
        .filter(|(name, x)| *name != "accuracy" && x.is_finite())
        .map(|(name, x)| (format!("{PREFIX}{name}"), x))
        .collect()
}

/// The fold_evaluate stage's artifact folder.
#[derive(Debug, Clone)]
pub struct FoldEvaluateArtifact {
    dir: PathBuf,
}

impl FoldEvaluateArtifact {
    /// The artifact in folder `dir`.
    pub fn at(dir: &Path) -> FoldEvaluateArtifact {
        FoldEvaluateArtifact {
            dir: dir.to_path_buf(),
        }
    }

    /// The artifact the runner returned.
    pub fn from_artifact(a: &Artifact) -> FoldEvaluateArtifact {
        FoldEvaluateArtifact::at(&a.dir)
    }

    /// The fold's validation metrics by name.
    pub fn metrics_json(&self) -> PathBuf {
        self.dir.join("metrics.json")
    }

    /// The model's outputs on the fold's validation rows, in their order
    /// (class probabilities, or `[value]` for a regression): the
    /// out-of-fold predictions a `task.decision` rule is fitted on.
    pub fn outputs_json(&self) -> PathBuf {
        self.dir.join("outputs.json")
    }

    /// The out-of-fold outputs ([`FoldEvaluateArtifact::outputs_json`]).
    pub fn outputs(&self) -> Result<Vec<Vec<f32>>> {
        let path = self.outputs_json();
        let bytes = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_slice(&bytes).with_context(|| format!("{} is not valid", path.display()))
    }

    /// The fold's validation metrics (`val_<metric>` → value).
    pub fn metrics(&self) -> Result<BTreeMap<String, f64>> {
        let path = self.metrics_json();
        let bytes = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_slice(&bytes).with_context(|| format!("{} is not valid", path.display()))
    }
}
