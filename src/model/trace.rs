//! Layer-by-layer values of a dense model, for the hand-calculation exercise
//! (`kerros forward`).

use super::activation::activate_row;
use super::{Model, ModelError, ModelInput};
use crate::spec::Activation;
use serde::Serialize;

/// What one dense layer computed for the given rows (course orientation).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerTrace {
    /// Layer name (`dense`, `dense_1`).
    pub name: String,
    /// The activation applied to `z`.
    pub activation: Activation,
    /// Weights, one row per output neuron (`units × inputs`).
    pub kernel: Vec<Vec<f64>>,
    /// Bias, one value per output neuron, when the layer has one.
    pub bias: Option<Vec<f64>>,
    /// Pre-activations `z = W·a + b`, one row per input row.
    pub z: Vec<Vec<f64>>,
    /// Activations `a = activation(z)`, one row per input row.
    pub a: Vec<Vec<f64>>,
}

impl Model {
    /// Trace `x` (one or more rows of the input width, concatenated) through a
    /// dense model on feature input, in `f64` from the stored weights. Flatten
    /// and dropout are the identity at inference and get no entry.
    pub fn forward_trace(&self, x: &[f32]) -> Result<Vec<LayerTrace>, ModelError> {
        let ModelInput::Features { width } = *self.input() else {
            return Err(ModelError::Input(
                "a layer-by-layer trace needs a dense model on feature rows (no embedding)".into(),
            ));
        };
        if x.is_empty() || !x.len().is_multiple_of(width) {
            return Err(ModelError::Input(format!(
                "the input has {} values but the model reads rows of {width}; give {width} values per row",
                x.len()
            )));
        }
        let mut rows: Vec<Vec<f64>> = x
            .chunks(width)
            .map(|r| r.iter().map(|v| *v as f64).collect())
            .collect();
        let mut out = Vec::new();
        for layer in self.layers() {
            let Some(dense) = layer.as_dense() else {
                match layer.kind() {
                    "flatten" | "dropout" => continue,
                    other => {
                        return Err(ModelError::Input(format!(
                            "layer {} ({other}) cannot be traced by hand; traces cover dense, flatten and dropout layers",
                            layer.name()
                        )))
                    }
                }
            };
            let kernel = dense.kernel_rows()?;
            let bias = dense.bias_values()?;
            let z: Vec<Vec<f64>> = rows
                .iter()
                .map(|a| {
                    kernel
                        .iter()
                        .enumerate()
                        .map(|(j, w)| {
                            let dot: f64 = w.iter().zip(a).map(|(w, a)| w * a).sum();
                            dot + bias.as_ref().map_or(0.0, |b| b[j])
                        })
                        .collect()
                })
                .collect();
            let a: Vec<Vec<f64>> = z
                .iter()
                .map(|z| activate_row(dense.activation(), z))
                .collect();
            rows = a.clone();
            out.push(LayerTrace {
                name: layer.name().to_string(),
                activation: dense.activation(),
                kernel,
                bias,
                z,
                a,
            });
        }
        Ok(out)
    }
}
