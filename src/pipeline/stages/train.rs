//! train: build the model and fit it on the encoded training split, with
//! the validation split for `val_*` metrics and early stopping.

use super::encode::{into_dataset, model_input, EncodeArtifact};
use super::split::DataInfo;
use super::vocabulary::VocabularyArtifact;
use super::Split;
use crate::cache::{Artifact, StageKey};
use crate::data::Item;
use crate::model::{self, Coverage, Model, ModelInput, Summary};
use crate::pipeline::epoch_printer::EpochPrinter;
use crate::spec::{ModelSpec, Spec, TrainSpec};
use crate::train::{self, EpochRecord, TaskInfo};
use anyhow::{Context, Result};
use serde::Serialize;
use std::fs;
use std::path::{Path, PathBuf};

/// Stage name, the first part of its cache folder.
pub const NAME: &str = "train";

/// The settings training depends on, serialised as a JSON array
/// `[model, train, seed]` (the stage key's settings bytes).
#[derive(Serialize)]
pub struct TrainSettings<'a>(
    /// `model`.
    pub &'a ModelSpec,
    /// `train`.
    pub &'a TrainSpec,
    /// `seed`.
    pub u64,
);

/// The stage key: its settings and the encode stage's key.
pub fn key(spec: &Spec, encode: &StageKey) -> StageKey {
    StageKey::build(NAME, &TrainSettings(&spec.model, &spec.train, spec.seed))
        .input(encode)
        .finish()
}

/// The task as training sees it: its kind and the number of classes.
pub fn task_info(spec: &Spec, info: &DataInfo) -> TaskInfo {
    TaskInfo {
        kind: spec.task.kind,
        n_classes: info.classes.len(),
    }
}

/// What training reads besides the spec.
pub struct TrainInputs<'a> {
    /// The encoded splits.
    pub encode: &'a EncodeArtifact,
    /// The vocabulary (words for a pretrained embedding).
    pub vocabulary: &'a VocabularyArtifact,
    /// Classes of the split stage.
    pub info: &'a DataInfo,
    /// The spec's folder: a relative embedding `path` is resolved against it.
    pub spec_dir: &'a Path,
    /// Where epoch lines go.
    pub printer: EpochPrinter,
    /// Per-example weights of the training rows (`data.weight_column`).
    pub weights: Option<Vec<f32>>,
}

/// The training rows' weights from `data.weight_column` (kept among each
/// item's extras when read); `None` without the setting. A training row
/// without the column (a file lacking it) is an error naming the column.
pub fn example_weights(spec: &Spec, train: &[Item]) -> Result<Option<Vec<f32>>> {
    let Some(column) = spec.data.as_ref().and_then(|d| d.weight_column.as_ref()) else {
        return Ok(None);
    };
    let weights = train
        .iter()
        .map(|item| {
            item.extra
                .get(column)
                .and_then(|w| crate::data::parse_weight(w))
                .with_context(|| {
                    format!(
                        "`data.weight_column` `{column}`: the training file has no such column (row id {})",
                        item.id
                    )
                })
        })
        .collect::<Result<Vec<f32>>>()?;
    Ok(Some(weights))
}

/// Build and fit the model, writing weights, history, summary and (with a
/// pretrained embedding) its vocabulary coverage into `dir`.
pub fn compute(spec: &Spec, inputs: TrainInputs, dir: &Path) -> Result<()> {
    let out = TrainArtifact::at(dir);
    let tr = inputs.encode.read(Split::Train)?;
    let va = inputs.encode.read(Split::Validation)?;
    let input = model_input(&tr);
    let words = inputs.vocabulary.embedding_words(spec)?;
    let ctx = model::BuildContext {
        vocabulary: Some(&words),
        spec_dir: Some(inputs.spec_dir),
        ..Default::default()
    };
    let mut m = Model::with_context(&spec.model.layers, &input, spec.seed, &ctx)?;
    if let Some(c) = m.embedding_coverage() {
        fs::write(out.coverage_json(), serde_json::to_vec(&c)?)?;
    }
    let task = task_info(spec, inputs.info);
    let mut observer = inputs.printer;
    let va = (!va.ids.is_empty()).then(|| into_dataset(va));
    let tr = into_dataset(tr);
    let history = train::fit_with(
        &mut m,
        &tr,
        va.as_ref(),
        &spec.train,
        &task,
        spec.seed,
        &mut observer,
        &train::FitContext {
            class_names: Some(&inputs.info.classes),
            example_weights: inputs.weights.as_deref(),
        },
    )?;
    m.save(&out.model_safetensors())?;
    fs::write(
        out.history_json(),
        serde_json::to_vec_pretty(&history.epochs)?,
    )?;
    fs::write(out.summary_json(), serde_json::to_vec_pretty(&m.summary())?)?;
    Ok(())
}

/// The train stage's artifact folder.
#[derive(Debug, Clone)]
pub struct TrainArtifact {
    dir: PathBuf,
}

impl TrainArtifact {
    /// The artifact in folder `dir`.
    pub fn at(dir: &Path) -> TrainArtifact {
        TrainArtifact {
            dir: dir.to_path_buf(),
        }
    }

    /// The artifact the runner returned.
    pub fn from_artifact(a: &Artifact) -> TrainArtifact {
        TrainArtifact::at(&a.dir)
    }

    /// The trained weights.
    pub fn model_safetensors(&self) -> PathBuf {
        self.dir.join("model.safetensors")
    }

    /// Per-epoch history as JSON.
    pub fn history_json(&self) -> PathBuf {
        self.dir.join("history.json")
    }

    /// The Keras-style model summary as JSON.
    pub fn summary_json(&self) -> PathBuf {
        self.dir.join("summary.json")
    }

    /// How many vocabulary words a pretrained embedding covered (only with one).
    pub fn coverage_json(&self) -> PathBuf {
        self.dir.join("coverage.json")
    }

    /// Per-epoch history.
    pub fn history(&self) -> Result<Vec<EpochRecord>> {
        read_json(&self.history_json())
    }

    /// The model summary.
    pub fn summary(&self) -> Result<Summary> {
        read_json(&self.summary_json())
    }

    /// The pretrained embedding's coverage, `None` without one.
    pub fn coverage(&self) -> Result<Option<Coverage>> {
        match fs::read(self.coverage_json()) {
            Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
            Err(_) => Ok(None),
        }
    }

    /// The trained model for inputs of shape `input`.
    pub fn load_model(&self, spec: &Spec, input: &ModelInput) -> Result<Model> {
        Ok(Model::load(
            &spec.model.layers,
            input,
            &self.model_safetensors(),
        )?)
    }
}

/// A JSON file of an artifact, named in errors.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{} is not valid", path.display()))
}
