//! Per-layer gradient norms, averaged over an epoch's steps (for the report's
//! vanishing / exploding-gradient plot).

use crate::model::Model;

/// Accumulates each layer's gradient L2 norm (over all its trainable weights)
/// step by step.
#[derive(Debug, Clone)]
pub struct GradNorms {
    /// Layer names, in layer order (layers with trainable weights only).
    layers: Vec<String>,
    /// For each trainable variable (optimizer order): its layer's position in `layers`.
    owner: Vec<usize>,
    sums: Vec<f64>,
    steps: Vec<usize>,
}

impl GradNorms {
    /// For `model`'s trainable variables, in the order of `Model::trainable_vars`.
    pub fn new(model: &Model) -> GradNorms {
        let mut layers = Vec::new();
        let mut owner = Vec::new();
        for layer in model.layers() {
            let n = layer.weights().iter().filter(|w| w.trainable).count();
            if n > 0 {
                owner.extend(std::iter::repeat_n(layers.len(), n));
                layers.push(layer.name().to_string());
            }
        }
        let k = layers.len();
        GradNorms {
            layers,
            owner,
            sums: vec![0.0; k],
            steps: vec![0; k],
        }
    }

    /// Add one step: the squared norm of each variable's gradient (`None`: none).
    pub fn add_step(&mut self, sq_norms: &[Option<f64>]) {
        let mut per_layer: Vec<Option<f64>> = vec![None; self.layers.len()];
        for (sq, &l) in sq_norms.iter().zip(&self.owner) {
            if let Some(sq) = sq {
                *per_layer[l].get_or_insert(0.0) += sq;
            }
        }
        for (l, sq) in per_layer.into_iter().enumerate() {
            if let Some(sq) = sq {
                self.sums[l] += sq.sqrt();
                self.steps[l] += 1;
            }
        }
    }

    /// Mean norm per layer since the last call (layers without gradients left
    /// out), and reset for the next epoch.
    pub fn take_epoch(&mut self) -> Vec<(String, f64)> {
        let out = self
            .layers
            .iter()
            .zip(&self.sums)
            .zip(&self.steps)
            .filter(|(_, n)| **n > 0)
            .map(|((name, s), n)| (name.clone(), s / *n as f64))
            .collect();
        self.sums.iter_mut().for_each(|s| *s = 0.0);
        self.steps.iter_mut().for_each(|n| *n = 0);
        out
    }
}
