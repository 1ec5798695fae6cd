//! Element-wise activations of dense layers.

use crate::spec::Activation;
use candle_core::{Result, Tensor, D};

/// Apply `activation` to a batch of pre-activations (softmax over the last axis).
pub fn apply_activation(activation: Activation, z: &Tensor) -> Result<Tensor> {
    match activation {
        Activation::Linear => Ok(z.clone()),
        Activation::Relu => z.relu(),
        Activation::Sigmoid => candle_nn::ops::sigmoid(z),
        Activation::Tanh => z.tanh(),
        // Built from primitive ops (max-shifted), so it has a gradient.
        Activation::Softmax => candle_nn::ops::softmax(z, D::Minus1),
    }
}

/// The same activation on one row of `f64` values, for exact hand-calculation traces.
pub(crate) fn activate_row(activation: Activation, z: &[f64]) -> Vec<f64> {
    match activation {
        Activation::Linear => z.to_vec(),
        Activation::Relu => z.iter().map(|v| v.max(0.0)).collect(),
        Activation::Sigmoid => z.iter().map(|v| 1.0 / (1.0 + (-v).exp())).collect(),
        Activation::Tanh => z.iter().map(|v| v.tanh()).collect(),
        Activation::Softmax => {
            let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
            let s: f64 = e.iter().sum();
            e.iter().map(|v| v / s).collect()
        }
    }
}
