//! Predictions for new texts with an experiment's trained model.
//!
//! [`Predictor::open`] runs the experiment through the cache (a fully cached
//! run only checks keys and reads a few small files; a missing model is
//! trained first), then loads the vocabulary, the model and the class names
//! through the stages' artifact handles. New texts are cleaned with the
//! spec's `data.clean` and encoded by [`TextEncoder`], the same encoding the
//! encode stage applies to the splits.

use super::score::{format_rounded, round_into_range};
use super::stages::encode::{input_data, EncodeArtifact, TextEncoder};
use super::stages::evaluate::BATCH;
use super::stages::split::{DataInfo, SplitArtifact};
use super::stages::train::{task_info, TrainArtifact};
use super::stages::vocabulary::VocabularyArtifact;
use super::stages::{encode, split, train as train_stage, vocabulary};
use super::variant::choose_variant;
use super::RunOptions;
use crate::data;
use crate::model::Model;
use crate::model::ModelInput;
use crate::spec::{Spec, TaskKind, VectorizeMode};
use crate::train::{self, TaskInfo};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// The prediction for one text.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TextPrediction {
    /// The predicted class, or for regression the rounded value (`7`).
    pub predicted: String,
    /// One probability per class in class order; empty for regression.
    pub probabilities: Vec<f32>,
    /// The raw model output (regression only).
    pub raw: Option<f64>,
}

/// The stage artifacts a [`Predictor`] is loaded from.
pub struct PredictorArtifacts<'a> {
    /// Classes and skipped rows of the split stage.
    pub info: &'a DataInfo,
    /// The encoded input width (sequence length or number of features).
    pub width: usize,
    /// The fitted vocabulary.
    pub vocabulary: &'a VocabularyArtifact,
    /// The trained model.
    pub trained: &'a TrainArtifact,
    /// The test metrics (a regression's prediction range when the spec sets none).
    pub metrics: &'a crate::metrics::Evaluation,
}

/// An experiment's trained model, ready to predict new texts.
pub struct Predictor {
    spec: Spec,
    classes: Vec<String>,
    model: Model,
    task: TaskInfo,
    /// Loaded once: re-reading the vocabulary per call cost ~45 ms on Druglib.
    encoder: TextEncoder,
    width: usize,
    range: Option<[f64; 2]>,
    /// The `task.decision` rule fitted on the folds, recorded with the test metrics.
    decision: Option<crate::metrics::FittedDecision>,
}

impl Predictor {
    /// Run (or reuse from the cache) the experiment in `spec_path` and load
    /// its model; a `matrix:` spec's variant is the one its `select:` chooses
    /// (see [`choose_variant`]). Progress output is suppressed whatever
    /// `opts.quiet` says.
    pub fn open(spec_path: &Path, opts: &RunOptions) -> Result<Predictor> {
        let quiet = RunOptions {
            quiet: true,
            ..opts.clone()
        };
        let chosen = choose_variant(spec_path, None, &quiet)?;
        Predictor::open_spec(chosen.spec, spec_path, opts)
    }

    /// Run (or reuse from the cache) the experiment `spec` (one variant,
    /// checked; `spec_path` locates its data) and load its model.
    pub fn open_spec(spec: Spec, spec_path: &Path, opts: &RunOptions) -> Result<Predictor> {
        if spec.ensemble.is_some() {
            bail!(
                "`{}` is an `ensemble:` spec; predicting new texts takes one model: give one of its member specs",
                spec_path.display()
            );
        }
        let quiet = RunOptions {
            quiet: true,
            ..opts.clone()
        };
        let outcome = super::run_spec(&spec, spec_path, &quiet)?;
        let artifact = |stage: &str| -> Result<&PathBuf> {
            outcome
                .artifacts
                .get(stage)
                .with_context(|| format!("the run left no `{stage}` artifact"))
        };
        let info = SplitArtifact::at(artifact(split::NAME)?).info()?;
        let width = EncodeArtifact::at(artifact(encode::NAME)?).width()?;
        Predictor::from_artifacts(
            spec,
            PredictorArtifacts {
                info: &info,
                width,
                vocabulary: &VocabularyArtifact::at(artifact(vocabulary::NAME)?),
                trained: &TrainArtifact::at(artifact(train_stage::NAME)?),
                metrics: &outcome.metrics,
            },
        )
    }

    /// Load the model of a run from its stage artifacts (the report stage
    /// explains predictions with the model it has just evaluated).
    pub fn from_artifacts(spec: Spec, parts: PredictorArtifacts) -> Result<Predictor> {
        let width = parts.width;
        let input = match spec.vectorize.mode {
            VectorizeMode::Int => ModelInput::Sequence { maxlen: width },
            _ => ModelInput::Features { width },
        };
        let model = parts.trained.load_model(&spec, &input)?;
        let range = match spec.task.kind {
            TaskKind::Regression => spec.task.range.or_else(|| parts.metrics.prediction_range()),
            _ => None,
        };
        Ok(Predictor {
            task: task_info(&spec, parts.info),
            classes: parts.info.classes.clone(),
            encoder: TextEncoder::load(&spec, parts.vocabulary)?,
            spec,
            model,
            width,
            range,
            decision: parts.metrics.decision(),
        })
    }

    /// The trained model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The fitted vocabulary the texts are encoded with.
    pub fn encoder(&self) -> &TextEncoder {
        &self.encoder
    }

    /// Class names in output order (empty for regression).
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// The task kind.
    pub fn kind(&self) -> TaskKind {
        self.task.kind
    }

    /// The resolved spec.
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// Predict raw texts: cleaned as `data.clean` says, encoded like the
    /// training data, one prediction per text in order.
    pub fn predict<T: AsRef<str>>(&self, texts: &[T]) -> Result<Vec<TextPrediction>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let clean = self
            .spec
            .data
            .as_ref()
            .map(|d| d.clean.clone())
            .unwrap_or_default();
        let cleaned: Vec<String> = texts
            .iter()
            .map(|t| data::clean_text(t.as_ref(), &clean))
            .collect();
        let encoded = self.encoder.encode(&self.spec, &cleaned, Some(self.width));
        let rows = train::predict(
            &self.model,
            &input_data(encoded),
            &self.task,
            self.spec.train.loss.from_logits,
            BATCH,
        )?;
        rows.into_iter()
            .map(|p| self.interpret(p))
            .collect::<Result<_>>()
    }

    fn interpret(&self, p: Vec<f32>) -> Result<TextPrediction> {
        if self.task.kind == TaskKind::Regression {
            let raw = p.first().copied().context("the model gave no output")? as f64;
            return Ok(TextPrediction {
                predicted: format_rounded(
                    self.decision
                        .as_ref()
                        .and_then(|d| d.value(raw))
                        .unwrap_or(round_into_range(raw, self.range)),
                ),
                probabilities: Vec::new(),
                raw: Some(raw),
            });
        }
        let argmax = p
            .iter()
            .enumerate()
            .fold(
                (0, f32::MIN),
                |acc, (k, &v)| if v > acc.1 { (k, v) } else { acc },
            )
            .0;
        let best = self
            .decision
            .as_ref()
            .and_then(|d| d.class(&p))
            .unwrap_or(argmax);
        let Some(name) = self.classes.get(best) else {
            bail!(
                "the model gave {} outputs but there are {} classes",
                p.len(),
                self.classes.len()
            );
        };
        Ok(TextPrediction {
            predicted: name.clone(),
            probabilities: p,
            raw: None,
        })
    }
}
