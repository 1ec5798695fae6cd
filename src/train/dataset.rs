//! Examples the model trains on: inputs, targets and the task they belong to.

use crate::model::{Model, ModelBatch, ModelError, ModelInput, SparseBatch};
use crate::spec::{Activation, Invalid, LayerSpec, LossName, LossSpec, TaskKind};
use candle_core::{Device, Tensor};

/// Model inputs, row-major.
#[derive(Debug, Clone, PartialEq)]
pub enum InputData {
    /// Padded token-id sequences, `width` ids per example.
    Sequences {
        /// All ids, example after example.
        ids: Vec<u32>,
        /// Ids per example (`maxlen`).
        width: usize,
    },
    /// Dense feature rows, `width` values per example.
    Features {
        /// All values, example after example.
        values: Vec<f32>,
        /// Values per example.
        width: usize,
    },
    /// Sparse feature rows (bags of n-grams): per example the `(feature, value)`
    /// pairs that are not zero, features `< width`. Batches stay sparse (CSR),
    /// for a model whose input is `Features { width }` and whose first layer
    /// (after optional `dropout`) is `dense`.
    Sparse {
        /// One list of `(feature index, value)` per example.
        rows: Vec<Vec<(u32, f32)>>,
        /// Number of features (the model's input width).
        width: usize,
    },
}

impl InputData {
    /// Values per example.
    pub fn width(&self) -> usize {
        match self {
            InputData::Sequences { width, .. }
            | InputData::Features { width, .. }
            | InputData::Sparse { width, .. } => *width,
        }
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        let (n, w) = match self {
            InputData::Sequences { ids, width } => (ids.len(), *width),
            InputData::Features { values, width } => (values.len(), *width),
            InputData::Sparse { rows, .. } => return rows.len(),
        };
        n.checked_div(w).unwrap_or(0)
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The batch tensor of the given example rows: `u32` ids or `f32` values.
    pub(crate) fn batch(&self, rows: &[usize]) -> candle_core::Result<Tensor> {
        let w = self.width();
        match self {
            InputData::Sequences { ids, .. } => {
                let mut out = Vec::with_capacity(rows.len() * w);
                for &r in rows {
                    out.extend_from_slice(&ids[r * w..(r + 1) * w]);
                }
                Tensor::from_vec(out, (rows.len(), w), &Device::Cpu)
            }
            InputData::Features { values, .. } => {
                let mut out = Vec::with_capacity(rows.len() * w);
                for &r in rows {
                    out.extend_from_slice(&values[r * w..(r + 1) * w]);
                }
                Tensor::from_vec(out, (rows.len(), w), &Device::Cpu)
            }
            InputData::Sparse { .. } => candle_core::bail!(
                "sparse rows are batched with `model_batch`, never as a dense batch × {w} matrix"
            ),
        }
    }

    /// The batch of the given example rows as the model reads it: a dense
    /// tensor for sequences and feature rows, CSR arrays for sparse rows.
    pub fn model_batch(&self, rows: &[usize]) -> candle_core::Result<ModelBatch> {
        match self {
            InputData::Sparse { rows: data, width } => {
                Ok(ModelBatch::Sparse(SparseBatch::gather(data, rows, *width)?))
            }
            _ => Ok(ModelBatch::Dense(self.batch(rows)?)),
        }
    }

    /// Check that these inputs fit `model`: kind, width and token-id range.
    /// `what` names the split in messages (`training`, `test`).
    pub fn check_for(&self, model: &Model, what: &str) -> Result<(), ModelError> {
        let bad = |m: String| Err(ModelError::Input(format!("{what} data: {m}")));
        match (self, model.input()) {
            (InputData::Sequences { ids, width }, ModelInput::Sequence { maxlen }) => {
                if width != maxlen {
                    return bad(format!(
                        "sequences have {width} ids but the model reads maxlen {maxlen}"
                    ));
                }
                if ids.len() % width.max(&1) != 0 {
                    return bad(format!(
                        "{} ids do not make whole rows of {width}",
                        ids.len()
                    ));
                }
                if let Some(vocab) = model.vocab_size() {
                    if let Some((i, id)) = ids
                        .iter()
                        .enumerate()
                        .find(|(_, id)| **id as usize >= vocab)
                    {
                        return bad(format!(
                            "example {} has token id {id} but the embedding's input_dim is {vocab} (ids 0..{}); raise `input_dim` or set `tokenizer.num_words: {vocab}`",
                            i / width,
                            vocab - 1
                        ));
                    }
                }
            }
            (InputData::Features { values, width }, ModelInput::Features { width: w }) => {
                if width != w {
                    return bad(format!("rows have {width} values but the model reads {w}"));
                }
                if values.len() % width.max(&1) != 0 {
                    return bad(format!(
                        "{} values do not make whole rows of {width}",
                        values.len()
                    ));
                }
                if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                    return bad(format!(
                        "example {} has a value that is not a finite number",
                        i / width
                    ));
                }
            }
            (InputData::Sparse { rows, width }, ModelInput::Features { width: w }) => {
                if width != w {
                    return bad(format!(
                        "sparse rows have {width} features but the model reads {w}"
                    ));
                }
                if model.sparse_entry().is_none() {
                    return bad("sparse feature rows need `dense` as the first layer (optionally after `dropout`)".into());
                }
                for (r, row) in rows.iter().enumerate() {
                    if let Some((i, _)) = row.iter().find(|(i, _)| *i as usize >= *width) {
                        return bad(format!(
                            "example {r} has feature index {i} but the width is {width} (indices 0..{})",
                            width - 1
                        ));
                    }
                    if row.iter().any(|(_, v)| !v.is_finite()) {
                        return bad(format!(
                            "example {r} has a value that is not a finite number"
                        ));
                    }
                }
            }
            (InputData::Sparse { .. }, ModelInput::Sequence { .. }) => {
                return bad("sparse feature rows given to a model that reads token ids".into())
            }
            (InputData::Sequences { .. }, ModelInput::Features { .. }) => {
                return bad("token-id sequences given to a model that reads feature rows".into())
            }
            (InputData::Features { .. }, ModelInput::Sequence { .. }) => {
                return bad("feature rows given to a model that reads token ids".into())
            }
        }
        Ok(())
    }
}

/// What is being predicted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskInfo {
    /// Binary, multiclass or regression.
    pub kind: TaskKind,
    /// Number of classes (2 for binary; ignored for regression).
    pub n_classes: usize,
}

/// Inputs with one target each: a class index (0/1 for binary) or a number.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// The model inputs.
    pub inputs: InputData,
    /// One target per example.
    pub targets: Vec<f32>,
}

impl Dataset {
    /// Number of examples.
    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty()
    }

    /// Check inputs against the model and targets against the task.
    pub fn check_for(&self, model: &Model, task: &TaskInfo, what: &str) -> Result<(), ModelError> {
        self.inputs.check_for(model, what)?;
        let bad = |m: String| Err(ModelError::Input(format!("{what} data: {m}")));
        if self.targets.len() != self.inputs.len() {
            return bad(format!(
                "{} examples but {} targets",
                self.inputs.len(),
                self.targets.len()
            ));
        }
        let classes = match task.kind {
            TaskKind::Binary => 2,
            TaskKind::Multiclass => task.n_classes,
            TaskKind::Regression => 0,
        };
        for (i, t) in self.targets.iter().enumerate() {
            let ok = if classes > 0 {
                t.fract() == 0.0 && *t >= 0.0 && (*t as usize) < classes
            } else {
                t.is_finite()
            };
            if !ok {
                return bad(if classes > 0 {
                    format!(
                        "example {i} has target {t}; class targets must be whole numbers 0..{}",
                        classes - 1
                    )
                } else {
                    format!("example {i} has a target that is not a finite number")
                });
            }
        }
        Ok(())
    }
}

/// Check that the loss fits the task and the model's output width (binary
/// cross-entropy and the regression losses need one output, the categorical
/// losses one output per class), and that `from_logits` matches the last
/// dense layer's activation: logits come from a linear layer, probabilities
/// from `sigmoid` (binary) or `softmax` (categorical).
pub fn check_loss(model: &Model, loss: &LossSpec, task: &TaskInfo) -> Result<(), Invalid> {
    check_loss_layers(model.specs(), model.output_width(), loss, task)
}

/// [`check_loss`] on a layer stack without weights: `width` is the last
/// layer's output width (from shape inference), so a spec is checked before
/// any model is built.
pub fn check_loss_layers(
    layers: &[LayerSpec],
    width: usize,
    loss: &LossSpec,
    task: &TaskInfo,
) -> Result<(), Invalid> {
    check_width(layers.len(), width, loss, task)?;
    let last_dense = layers.iter().enumerate().rev().find_map(|(i, l)| match l {
        LayerSpec::Dense(d) => Some((i, d.activation)),
        _ => None,
    });
    let Some((i, act)) = last_dense else {
        return Ok(());
    };
    let act_name = serde_plain(act);
    let at = format!("model.layers[{i}].dense.activation");
    let probability = match loss.name {
        LossName::BinaryCrossentropy => Some(Activation::Sigmoid),
        LossName::SparseCategoricalCrossentropy | LossName::CategoricalCrossentropy => {
            Some(Activation::Softmax)
        }
        _ => None,
    };
    let Some(probability) = probability else {
        return Ok(());
    };
    let squashing = matches!(act, Activation::Sigmoid | Activation::Softmax);
    if loss.from_logits && squashing {
        return Err(Invalid::new(
            "train.loss.from_logits",
            format!(
                "the last dense layer (model.layers[{i}]) applies {act_name}, so it outputs probabilities, but `from_logits` is true; set `train.loss.from_logits: false`, or remove the activation and keep logits"
            ),
        ));
    }
    if !loss.from_logits && act != probability {
        return Err(Invalid::new(
            at,
            format!(
                "`train.loss.from_logits` is false, so the model must output probabilities, but the last dense layer's activation is {act_name}; use `activation: {}` or set `from_logits: true`",
                serde_plain(probability)
            ),
        ));
    }
    Ok(())
}

/// The loss / task / output-width part of [`check_loss`].
fn check_width(
    n_layers: usize,
    width: usize,
    loss: &LossSpec,
    task: &TaskInfo,
) -> Result<(), Invalid> {
    let last = format!("model.layers[{}]", n_layers.saturating_sub(1));
    let name = serde_plain(loss.name);
    match loss.name {
        LossName::BinaryCrossentropy => {
            if task.kind != TaskKind::Binary {
                return Err(Invalid::new(
                    "train.loss.name",
                    format!(
                        "binary_crossentropy is for two classes, but the task is {}; use {}",
                        serde_plain(task.kind),
                        if task.kind == TaskKind::Regression {
                            "mse, mae or huber"
                        } else {
                            "sparse_categorical_crossentropy"
                        }
                    ),
                ));
            }
            if width != 1 {
                return Err(Invalid::new(
                    last,
                    format!("binary_crossentropy needs one output per example, but the last layer gives {width}; set its `units: 1`"),
                ));
            }
        }
        LossName::SparseCategoricalCrossentropy | LossName::CategoricalCrossentropy => {
            if task.kind == TaskKind::Regression {
                return Err(Invalid::new(
                    "train.loss.name",
                    format!(
                        "{name} is for classes, but the task is regression; use mse, mae or huber"
                    ),
                ));
            }
            let n = if task.kind == TaskKind::Binary {
                2
            } else {
                task.n_classes
            };
            if width != n {
                return Err(Invalid::new(
                    last,
                    format!("{name} needs one output per class ({n}), but the last layer gives {width}; set its `units: {n}`"),
                ));
            }
        }
        LossName::Mse | LossName::Mae | LossName::Huber => {
            if width != 1 {
                return Err(Invalid::new(
                    last,
                    format!("{name} needs one output per example, but the last layer gives {width}; set its `units: 1`"),
                ));
            }
        }
    }
    Ok(())
}

/// A unit enum's spec spelling (`binary_crossentropy`).
fn serde_plain<T: serde::Serialize>(v: T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
