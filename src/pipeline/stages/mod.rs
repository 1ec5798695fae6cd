//! The stages of a run, one file each, in order: [`load`] → [`split`] →
//! [`vocabulary`] → [`encode`] → [`train`] → [`evaluate`] → [`report`]
//! ([`hand_calculation`] replaces them for a spec without `data`).
//!
//! Each stage file owns its settings (what its cache key hashes), `key()`,
//! `compute()` (which writes the stage's files into a fresh folder) and a
//! typed handle on its artifact folder (`VocabularyArtifact::vocabulary_parquet()`,
//! ...): no other file names a stage's files. Stages import only earlier
//! stages and the pipeline's helpers (tables, score, report data), never the
//! runner or the predictor.

pub mod encode;
pub mod evaluate;
pub mod hand_calculation;
pub mod load;
pub mod report;
pub mod split;
pub mod train;
pub mod vocabulary;

use crate::model::{self, Model, ModelInput};
use crate::spec::{Invalid, LayerSpec, Locator, Spec, SpecError, TaskKind, VectorizeMode};
use crate::train::TaskInfo;
use anyhow::{bail, Result};
use std::path::Path;

/// One of the three example splits; also names the split's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// The training examples.
    Train,
    /// The validation examples.
    Validation,
    /// The test examples.
    Test,
}

impl Split {
    /// `train`, `validation` or `test`.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Validation => "validation",
            Split::Test => "test",
        }
    }
}

/// Check the layer stack's shapes against the spec's input without data.
pub fn check_model(spec: &Spec, file: &Path, locator: &Locator) -> Result<(), SpecError> {
    let input = model_input_without_data(spec).map_err(|i| i.at(file, locator))?;
    model::infer_shapes(&spec.model.layers, &input).map_err(|i| i.at(file, locator))?;
    if let (Some(n), Some(LayerSpec::Embedding(e))) =
        (spec.tokenizer.num_words, spec.model.layers.first())
    {
        if spec.vectorize.mode == VectorizeMode::Int && e.input_dim < n {
            return Err(Invalid::new(
                "model.layers[0].embedding.input_dim",
                format!(
                    "input_dim {} is smaller than tokenizer.num_words {n}: token indices go up to {}; set input_dim to at least {n}",
                    e.input_dim,
                    n - 1
                ),
            )
            .at(file, locator));
        }
    }
    Ok(())
}

fn model_input_without_data(spec: &Spec) -> Result<ModelInput, Invalid> {
    if spec.data.is_none() {
        return match spec.model.input_dim {
            Some(width) => Ok(ModelInput::Features { width }),
            None => Err(Invalid::new(
                "model.input_dim",
                "a spec without `data` needs `model.input_dim` (the number of inputs, e.g. 3)",
            )),
        };
    }
    match spec.vectorize.mode {
        VectorizeMode::Int => match spec.sequence.maxlen {
            Some(maxlen) => Ok(ModelInput::Sequence { maxlen }),
            None => Err(Invalid::new(
                "sequence.maxlen",
                "set `sequence.maxlen` (e.g. 200): the model's shapes depend on it",
            )),
        },
        // The feature count is known only after fitting; any width checks ranks.
        _ => Ok(ModelInput::Features {
            width: spec.vectorize.max_tokens.unwrap_or(1),
        }),
    }
}

/// The last layer must match the task: one logit / probability for binary,
/// one unit per class for multi-class, one linear unit for regression.
pub(crate) fn check_output_layer(spec: &Spec, m: &Model, task: &TaskInfo) -> Result<()> {
    let last = spec.model.layers.len() - 1;
    let Some(LayerSpec::Dense(d)) = spec.model.layers.last() else {
        bail!("the last layer (model.layers[{last}]) must be `dense`, the model's output");
    };
    let want = match task.kind {
        TaskKind::Binary | TaskKind::Regression => 1,
        TaskKind::Multiclass => task.n_classes,
    };
    if d.units != want {
        bail!(
            "model.layers[{last}] (dense) has {} units but the task needs {want} output(s){}",
            d.units,
            if task.kind == TaskKind::Multiclass {
                format!(" (one per class: {})", spec.task.classes.join(", "))
            } else {
                String::new()
            }
        );
    }
    let _ = m;
    Ok(())
}
