//! Shapes without data: a tensor shape, one summary row, and where a layer
//! sits. A leaf module: each layer type's shape rule lives in its own file
//! (the `LayerShape` trait) and `infer_shapes` walks the stack.

use crate::spec::LayerSpec;
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
