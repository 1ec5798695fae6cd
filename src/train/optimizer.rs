//! Optimizers with Keras's update rules, over the model's trainable variables.
//! (candle-nn's AdamW is not used: its default weight decay differs from Keras.)

use crate::spec::{OptimizerName, OptimizerSpec};
use candle_core::backprop::GradStore;
use candle_core::{Result, Tensor, Var};

/// Per-variable optimizer state.
struct Slot {
    var: Var,
    /// First moment (Adam).
    m: Tensor,
    /// Second moment (Adam).
    v: Tensor,
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
                let m = var.as_tensor().zeros_like()?;
                let v = m.clone();
                Ok(Slot { var, m, v })
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
        for slot in &mut self.slots {
            let Some(g) = grads.get(slot.var.as_tensor()) else {
                continue;
            };
            let mut w = slot.var.as_detached_tensor();
            if s.weight_decay != 0.0 {
                w = w.affine(1.0 - s.weight_decay * lr, 0.0)?;
            }
            let new = match s.name {
                OptimizerName::Sgd => w.sub(&g.affine(lr, 0.0)?)?,
                OptimizerName::Adam | OptimizerName::Adamw => {
                    slot.m = slot.m.add(&g.sub(&slot.m)?.affine(1.0 - s.beta_1, 0.0)?)?;
                    slot.v = slot
                        .v
                        .add(&g.sqr()?.sub(&slot.v)?.affine(1.0 - s.beta_2, 0.0)?)?;
                    let denom = slot.v.sqrt()?.affine(1.0, s.epsilon)?;
                    w.sub(&slot.m.div(&denom)?.affine(alpha, 0.0)?)?
                }
            };
            slot.var.set(&new)?;
        }
        Ok(())
    }
}
