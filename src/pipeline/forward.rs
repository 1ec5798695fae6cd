//! The forward pass of a hand-calculation spec (fixed weights, no data):
//! every layer's W, b, Z = W·A + b and A, for the `kerros forward` command
//! and the report of `kerros run` on such a spec.

use crate::model::{Model, ModelInput};
use crate::report::{ForwardInput, ForwardLayer, ForwardPass, ForwardStep};
use crate::spec::Spec;
use anyhow::{bail, Result};

/// Trace `inputs` (rows of the input width) through the spec's network.
pub fn forward_pass(spec: &Spec, inputs: &[Vec<f64>]) -> Result<ForwardPass> {
    let Some(width) = spec.model.input_dim else {
        bail!("the spec needs `model.input_dim` (the number of inputs) for a forward pass");
    };
    if inputs.is_empty() {
        bail!("give at least one input row, e.g. --input 1,3,2 (or `inputs: [[1, 3, 2]]` in the spec)");
    }
    for (i, row) in inputs.iter().enumerate() {
        if row.len() != width {
            bail!(
                "input {} has {} values but model.input_dim is {width}",
                i + 1,
                row.len()
            );
        }
    }
    let model = Model::new(
        &spec.model.layers,
        &ModelInput::Features { width },
        spec.seed,
    )?;
    let flat: Vec<f32> = inputs.iter().flatten().map(|&v| v as f32).collect();
    let traces = model.forward_trace(&flat)?;
    let layers = traces
        .iter()
        .map(|t| ForwardLayer {
            name: t.name.clone(),
            activation: format!("{:?}", t.activation).to_lowercase(),
            weights: t.kernel.clone(),
            bias: t.bias.clone().unwrap_or_else(|| vec![0.0; t.kernel.len()]),
        })
        .collect();
    let rows = inputs
        .iter()
        .enumerate()
        .map(|(r, values)| ForwardInput {
            name: format!("input {}", r + 1),
            values: values.clone(),
            steps: traces
                .iter()
                .map(|t| ForwardStep {
                    z: t.z[r].clone(),
                    a: t.a[r].clone(),
                })
                .collect(),
        })
        .collect();
    Ok(ForwardPass {
        input_names: Vec::new(),
        layers,
        inputs: rows,
    })
}
