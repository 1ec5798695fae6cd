//! The view of a hand calculation's forward pass: its matrices as rows of
//! cells and the network diagram.

use serde::Serialize;

use super::super::data::ForwardPass;
use super::super::format::compact;
use super::super::ReportError;

#[derive(Debug, Serialize)]
pub struct ForwardView {
    pub diagram: String,
    pub inputs: Vec<ForwardInputView>,
}

#[derive(Debug, Serialize)]
pub struct ForwardInputView {
    pub name: String,
    pub values: String,
    pub layers: Vec<ForwardLayerView>,
}

/// The matrices of one layer for one input, each as rows of cells.
#[derive(Debug, Serialize)]
pub struct ForwardLayerView {
    pub index: usize,
    pub prev_index: usize,
    pub name: String,
    pub activation: String,
    pub w: Vec<Vec<String>>,
    pub a_prev: Vec<Vec<String>>,
    pub b: Vec<Vec<String>>,
    pub z: Vec<Vec<String>>,
    pub a: Vec<Vec<String>>,
}

fn column(values: &[f64]) -> Vec<Vec<String>> {
    values.iter().map(|v| vec![compact(*v, 4)]).collect()
}

fn invalid(field: String, message: String) -> ReportError {
    ReportError::Invalid { field, message }
}

/// Checks that every matrix of the forward pass has matching dimensions and
/// returns the input names (generated `x1…xn` when none were given).
pub fn check_forward(fp: &ForwardPass) -> Result<Vec<String>, ReportError> {
    let n_in = match fp.layers.first() {
        Some(l) => l.weights.first().map(Vec::len).unwrap_or(0),
        None => {
            return Err(invalid(
                "forward_pass.layers".into(),
                "at least one layer is needed".into(),
            ))
        }
    };
    let names = if fp.input_names.is_empty() {
        (1..=n_in).map(|i| format!("x{i}")).collect()
    } else {
        fp.input_names.clone()
    };
    let mut prev = names.len();
    for (l, layer) in fp.layers.iter().enumerate() {
        let units = layer.bias.len();
        if layer.weights.len() != units {
            return Err(invalid(
                format!("forward_pass.layers[{l}].weights"),
                format!(
                    "has {} rows but the layer has {units} biases; W must be units × inputs",
                    layer.weights.len()
                ),
            ));
        }
        if let Some((j, row)) = layer
            .weights
            .iter()
            .enumerate()
            .find(|(_, r)| r.len() != prev)
        {
            return Err(invalid(
                format!("forward_pass.layers[{l}].weights[{j}]"),
                format!("has {} values but the layer has {prev} inputs", row.len()),
            ));
        }
        prev = units;
    }
    for (k, input) in fp.inputs.iter().enumerate() {
        if input.values.len() != names.len() {
            return Err(invalid(
                format!("forward_pass.inputs[{k}].values"),
                format!(
                    "has {} values; the network has {} inputs",
                    input.values.len(),
                    names.len()
                ),
            ));
        }
        if input.steps.len() != fp.layers.len() {
            return Err(invalid(
                format!("forward_pass.inputs[{k}].steps"),
                format!(
                    "has {} steps; expected one per layer ({})",
                    input.steps.len(),
                    fp.layers.len()
                ),
            ));
        }
        for (l, (step, layer)) in input.steps.iter().zip(&fp.layers).enumerate() {
            if step.z.len() != layer.bias.len() || step.a.len() != layer.bias.len() {
                return Err(invalid(
                    format!("forward_pass.inputs[{k}].steps[{l}]"),
                    format!(
                        "z has {} and a has {} values; the layer has {} units",
                        step.z.len(),
                        step.a.len(),
                        layer.bias.len()
                    ),
                ));
            }
        }
    }
    Ok(names)
}

pub fn forward_view(fp: &ForwardPass) -> Result<ForwardView, ReportError> {
    let names = check_forward(fp)?;
    let inputs = fp
        .inputs
        .iter()
        .map(|input| {
            let mut prev: Vec<f64> = input.values.clone();
            let layers = fp
                .layers
                .iter()
                .zip(&input.steps)
                .enumerate()
                .map(|(l, (layer, step))| {
                    let view = ForwardLayerView {
                        index: l + 1,
                        prev_index: l,
                        name: layer.name.clone(),
                        activation: layer.activation.clone(),
                        w: layer
                            .weights
                            .iter()
                            .map(|row| row.iter().map(|v| compact(*v, 4)).collect())
                            .collect(),
                        a_prev: column(&prev),
                        b: column(&layer.bias),
                        z: column(&step.z),
                        a: column(&step.a),
                    };
                    prev = step.a.clone();
                    view
                })
                .collect();
            ForwardInputView {
                name: input.name.clone(),
                values: names
                    .iter()
                    .zip(&input.values)
                    .map(|(n, v)| format!("{n} = {}", compact(*v, 4)))
                    .collect::<Vec<_>>()
                    .join(", "),
                layers,
            }
        })
        .collect();
    Ok(ForwardView {
        diagram: super::super::network::network_diagram(fp, &names),
        inputs,
    })
}
