//! Optimizers with Keras's update rules, over the model's trainable variables.
//! (candle-nn's AdamW is not used: its default weight decay differs from Keras.)

use crate::spec::{OptimizerName, OptimizerSpec};
use candle_core::backprop::GradStore;
use candle_core::{Result, Tensor, Var};

/// Per-variable optimizer state (plain vectors: the update is one fused pass
/// instead of a dozen temporary tensors).
struct Slot {
    var: Var,
    /// First moment (Adam).
    m: Vec<f32>,
    /// Second moment (Adam).
    v: Vec<f32>,
}

/// Adam / AdamW / SGD as Keras 3 implements them.
///
/// Adam (step `t` from 1): `m ← m + (g − m)(1 − β1)`, `v ← v + (g² − v)(1 − β2)`,
/// `α = lr·√(1 − β2^t)/(1 − β1^t)`, `w ← w − α·m/(√v + ε)` (Keras's epsilon
/// placement). SGD: `w ← w − lr·g`. A non-zero `weight_decay` is applied
/// decoupled before the update, `w ← w − w·wd·lr`, as Keras 3 does for every
/// optimizer (AdamW is Adam with this decay).
pub struct Optimizer {
    spec: OptimizerSpec,
    iterations: u64,
    slots: Vec<Slot>,
}

impl Optimizer {
    /// An optimizer over `vars` with zeroed state.
    pub fn new(spec: &OptimizerSpec, vars: Vec<Var>) -> Result<Optimizer> {
        let slots = vars
            .into_iter()
            .map(|var| {
                let n = var.elem_count();
                Ok(Slot {
                    var,
                    m: vec![0.0; n],
                    v: vec![0.0; n],
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Optimizer {
            spec: spec.clone(),
            iterations: 0,
            slots,
        })
    }

    /// Number of updates applied so far.
    pub fn iterations(&self) -> u64 {
        self.iterations
    }

    /// Apply one update from the gradients of a backward pass. Variables
    /// without a gradient (not used by the loss) are left unchanged.
    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.iterations += 1;
        let s = &self.spec;
        let lr = s.learning_rate;
        let t = self.iterations as f64;
        let alpha = lr * (1.0 - s.beta_2.powf(t)).sqrt() / (1.0 - s.beta_1.powf(t));
        let decay = (1.0 - s.weight_decay * lr) as f32;
        let (b1, b2) = ((1.0 - s.beta_1) as f32, (1.0 - s.beta_2) as f32);
        let (alpha, eps, lr32) = (alpha as f32, s.epsilon as f32, lr as f32);
        for slot in &mut self.slots {
            let Some(g) = grads.get(slot.var.as_tensor()) else {
                continue;
            };
            let g = g.flatten_all()?.to_vec1::<f32>()?;
            let mut w = slot.var.flatten_all()?.to_vec1::<f32>()?;
            match s.name {
                OptimizerName::Sgd => {
                    for (w, g) in w.iter_mut().zip(&g) {
                        *w = *w * decay - lr32 * g;
                    }
                }
                OptimizerName::Adam | OptimizerName::Adamw => {
                    for (((w, g), m), v) in w.iter_mut().zip(&g).zip(&mut slot.m).zip(&mut slot.v) {
                        *m += (g - *m) * b1;
                        *v += (g * g - *v) * b2;
                        *w = *w * decay - alpha * *m / (v.sqrt() + eps);
                    }
                }
            }
            let new = Tensor::from_vec(w, slot.var.shape(), slot.var.device())?;
            slot.var.set(&new)?;
        }
        Ok(())
    }
}
