//! Shapes without data: each layer's Keras output shape and parameter count.

use super::{
    conv1d, dense, dropout, embedding, flatten, pooling, pooling1d, recurrent, ModelInput,
};
use crate::spec::{Invalid, LayerSpec};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// A tensor shape without its batch axis; displayed the Keras way, `(None, 200, 16)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shape(pub Vec<usize>);

impl Shape {
    /// Number of axes including the batch axis (Keras's rank: `(None, 3200)` is 2-D).
    pub fn rank(&self) -> usize {
        self.0.len() + 1
    }

    /// Number of values per example.
    pub fn size(&self) -> usize {
        self.0.iter().product()
    }

    /// The last axis, the one dense layers and pooling read features from.
    pub fn last(&self) -> usize {
        self.0.last().copied().unwrap_or(1)
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "(None")?;
        for d in &self.0 {
            write!(f, ", {d}")?;
        }
        write!(f, ")")
    }
}

/// One row of the model summary, known before any data is seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerInfo {
    /// Keras-style unique name: `embedding`, `flatten`, `dense`, `dense_1`, ...
    pub name: String,
    /// Layer type as written in the spec (`dense`, `global_average_pooling1d`).
    pub kind: String,
    /// Output shape as Keras prints it, e.g. `(None, 200, 16)`.
    pub output_shape: String,
    /// Output dimensions without the batch axis.
    pub dims: Vec<usize>,
    /// Number of parameters, counted as Keras does.
    pub params: usize,
    /// Whether the optimizer updates this layer's parameters.
    pub trainable: bool,
}

/// Keras-style unique layer names: the type name, then `_1`, `_2`, ... for repeats.
pub fn layer_names(layers: &[LayerSpec]) -> Vec<String> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    layers
        .iter()
        .map(|l| {
            let kind = l.type_name();
            let n = seen.entry(kind).or_insert(0);
            let name = if *n == 0 {
                kind.to_string()
            } else {
                format!("{kind}_{n}")
            };
            *n += 1;
            name
        })
        .collect()
}

/// Where a layer sits, for error messages: its spec path and what feeds it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Site<'a> {
    /// Position in `model.layers`.
    pub index: usize,
    /// Type name of the previous layer, or `None` for the first layer.
    pub previous: Option<&'a str>,
}

impl Site<'_> {
    /// The layer's spec path, `model.layers[2]`.
    pub fn path(&self) -> String {
        format!("model.layers[{}]", self.index)
    }

    /// A sub-path such as `model.layers[2].dense.kernel`.
    pub fn field(&self, kind: &str, field: &str) -> String {
        format!("model.layers[{}].{kind}.{field}", self.index)
    }

    /// "after embedding" / "as the first layer", for messages.
    pub fn after(&self) -> String {
        match self.previous {
            Some(p) => format!("after {p}"),
            None => "as the first layer".to_string(),
        }
    }
}

/// What shape inference found for one layer.
pub(crate) struct Inferred {
    pub shape: Shape,
    pub params: usize,
    pub trainable: bool,
}

/// Check a layer stack against its input without data and return each layer's
/// name, Keras output shape and parameter count.
///
/// Errors name the layer (`model.layers[1]`) and the fix, e.g. a `dense` fed a
/// 3-D input asks for a `flatten` or `global_average_pooling1d` before it.
/// (Keras itself would apply such a dense layer to the last axis; kerros rejects
/// it because it is almost always a forgotten flatten.)
pub fn infer_shapes(layers: &[LayerSpec], input: &ModelInput) -> Result<Vec<LayerInfo>, Invalid> {
    if layers.is_empty() {
        return Err(Invalid::new(
            "model.layers",
            "the model has no layers; add e.g. `- dense: {units: 1}`",
        ));
    }
    match *input {
        ModelInput::Sequence { maxlen: 0 } => {
            return Err(Invalid::new("sequence.maxlen", "maxlen must be at least 1"))
        }
        ModelInput::Features { width: 0 } => {
            return Err(Invalid::new(
                "model.input_dim",
                "the input has no features; input_dim must be at least 1",
            ))
        }
        _ => {}
    }
    let names = layer_names(layers);
    let mut shape = input.shape();
    let mut out = Vec::with_capacity(layers.len());
    for (index, layer) in layers.iter().enumerate() {
        let site = Site {
            index,
            previous: index.checked_sub(1).map(|p| layers[p].type_name()),
        };
        if index == 0 {
            if let (ModelInput::Sequence { .. }, false) =
                (input, matches!(layer, LayerSpec::Embedding(_)))
            {
                return Err(Invalid::new(
                    site.path(),
                    format!(
                        "the input is token ids {shape}, so the first layer must be an `embedding` (it turns ids into vectors), not `{}`; add e.g. `- embedding: {{input_dim: 10000, output_dim: 16}}` first",
                        layer.type_name()
                    ),
                ));
            }
        }
        let inferred = match layer {
            LayerSpec::Embedding(e) => embedding::infer(e, &shape, site, input)?,
            LayerSpec::Flatten => flatten::infer(&shape),
            LayerSpec::Dense(d) => dense::infer(d, &shape, site)?,
            LayerSpec::Dropout(d) => dropout::infer(d, &shape, site)?,
            LayerSpec::GlobalAveragePooling1d | LayerSpec::GlobalMaxPooling1d => {
                pooling::infer(layer.type_name(), &shape, site)?
            }
            LayerSpec::Conv1d(c) => conv1d::infer(c, &shape, site)?,
            LayerSpec::MaxPooling1d(p) | LayerSpec::AveragePooling1d(p) => {
                pooling1d::infer(layer.type_name(), p, &shape, site)?
            }
            LayerSpec::SimpleRnn(_)
            | LayerSpec::Lstm(_)
            | LayerSpec::Gru(_)
            | LayerSpec::Bidirectional(_) => recurrent::infer(
                layer,
                &shape,
                site,
                index.checked_sub(1).map(|p| &layers[p]),
            )?,
        };
        shape = inferred.shape;
        out.push(LayerInfo {
            name: names[index].clone(),
            kind: layer.type_name().to_string(),
            output_shape: shape.to_string(),
            dims: shape.0.clone(),
            params: inferred.params,
            trainable: inferred.trainable,
        });
    }
    Ok(out)
}
