//! Optimizers with Keras's update rules, over the model's trainable variables.
//! (candle-nn's AdamW is not used: its default weight decay differs from Keras.)

use super::schedule::exponential_decay;
use crate::model::{f32_values_mut, with_f32};
use crate::spec::{OptimizerName, OptimizerSpec, ScheduleSpec};
use candle_core::backprop::GradStore;
use candle_core::{bail, CpuStorage, InplaceOp1, Layout, Result, Var};
use std::cell::RefCell;

/// Per-variable optimizer state (plain vectors: the update is one fused pass
/// instead of a dozen temporary tensors).
struct Slot {
    var: Var,
    /// First moment (Adam) or momentum buffer (SGD, RMSprop).
    m: Vec<f32>,
    /// Second moment (Adam), squared-gradient average (RMSprop) or accumulator (Adagrad).
    v: Vec<f32>,
}

/// Adam / AdamW / SGD / RMSprop / Adagrad as Keras 3 implements them.
///
/// Each step: the gradients are clipped (`clipnorm`: each tensor `g·c/max(‖g‖, c)`;
/// `global_clipnorm`: all tensors by their joint norm), a non-zero `weight_decay`
/// is applied decoupled, `w ← w − w·wd·lr`, then the rule with the current
/// learning rate `lr` (after the schedule):
///
/// - Adam (step `t` from 1): `m ← m + (g − m)(1 − β1)`, `v ← v + (g² − v)(1 − β2)`,
///   `α = lr·√(1 − β2^t)/(1 − β1^t)`, `w ← w − α·m/(√v + ε)`. AdamW is Adam
///   with the decay.
/// - SGD: `w ← w − lr·g`; with momentum `m ← μ·m − lr·g`, `w ← w + m`
///   (Nesterov: `w ← w + μ·m − lr·g`).
/// - RMSprop: `v ← ρ·v + (1 − ρ)·g²`, `Δ = lr·g/√(v + ε)`; with momentum
///   `m ← μ·m + Δ`, `w ← w − m`, else `w ← w − Δ`.
/// - Adagrad: `v ← v + g²` (`v` starts at `initial_accumulator_value`),
///   `w ← w − lr·g/√(v + ε)`.
pub struct Optimizer {
    spec: OptimizerSpec,
    /// The base learning rate (`learning_rate`, lowered by reduce-on-plateau).
    lr: f64,
    iterations: u64,
    slots: Vec<Slot>,
    /// Squared L2 norm of each variable's raw gradient in the last step (before clipping).
    last_sq_norms: Vec<Option<f64>>,
}

impl Optimizer {
    /// An optimizer over `vars` with zeroed state (Adagrad's accumulator at
    /// `initial_accumulator_value`).
    pub fn new(spec: &OptimizerSpec, vars: Vec<Var>) -> Result<Optimizer> {
        let v0 = match spec.name {
            OptimizerName::Adagrad => spec.initial_accumulator_value as f32,
            _ => 0.0,
        };
        let slots: Vec<Slot> = vars
            .into_iter()
            .map(|var| {
                let n = var.elem_count();
                Slot {
                    var,
                    m: vec![0.0; n],
                    v: vec![v0; n],
                }
            })
            .collect();
        Ok(Optimizer {
            spec: spec.clone(),
            lr: spec.learning_rate,
            iterations: 0,
            last_sq_norms: vec![None; slots.len()],
            slots,
        })
    }

    /// Number of updates applied so far.
    pub fn iterations(&self) -> u64 {
        self.iterations
    }

    /// The base learning rate (what reduce-on-plateau changes).
    pub fn learning_rate(&self) -> f64 {
        self.lr
    }

    /// Replace the base learning rate (Keras `optimizer.learning_rate = …`).
    pub fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }

    /// The learning rate the next update uses: the base rate after the
    /// schedule at the current iteration count (Keras's `ExponentialDecay(iterations)`).
    pub fn current_learning_rate(&self) -> f64 {
        match &self.spec.schedule {
            ScheduleSpec::ExponentialDecay(e) => exponential_decay(self.lr, e, self.iterations),
            ScheduleSpec::Constant | ScheduleSpec::ReduceOnPlateau(_) => self.lr,
        }
    }

    /// Squared L2 norm of each variable's gradient in the last step, in the
    /// order the variables were given (`None`: no gradient).
    pub fn last_sq_norms(&self) -> &[Option<f64>] {
        &self.last_sq_norms
    }

    /// Apply one update from the gradients of a backward pass. Variables
    /// without a gradient (not used by the loss) are left unchanged.
    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        let lr = self.current_learning_rate();
        self.iterations += 1;
        for (slot, norm) in self.slots.iter().zip(&mut self.last_sq_norms) {
            *norm = match grads.get(slot.var.as_tensor()) {
                Some(g) => Some(with_f32(g, "gradient", |g| {
                    g.iter().map(|v| (*v as f64) * (*v as f64)).sum()
                })?),
                None => None,
            };
        }
        // Clipping factors: per tensor (clipnorm) or one for all (global_clipnorm).
        let global = self.spec.global_clipnorm.map(|c| {
            let n = self.last_sq_norms.iter().flatten().sum::<f64>().sqrt();
            c / n.max(c)
        });
        for (slot, sq) in self.slots.iter_mut().zip(&self.last_sq_norms) {
            let (Some(g), Some(sq)) = (grads.get(slot.var.as_tensor()), sq) else {
                continue;
            };
            let scale = match (self.spec.clipnorm, global) {
                (Some(c), _) => c / sq.sqrt().max(c),
                (None, Some(s)) => s,
                (None, None) => 1.0,
            };
            let Slot { var, m, v } = slot;
            with_f32(g, "gradient", |g| {
                // The weights are updated in their own storage (no copies).
                var.as_tensor().inplace_op1(&Update {
                    spec: &self.spec,
                    lr,
                    t: self.iterations,
                    scale: scale as f32,
                    g,
                    state: RefCell::new((m, v)),
                })
            })??;
        }
        Ok(())
    }
}

/// One variable's update as an in-place op on its storage.
struct Update<'a> {
    spec: &'a OptimizerSpec,
    lr: f64,
    t: u64,
    /// Clipping factor applied to the gradient (1 without clipping).
    scale: f32,
    g: &'a [f32],
    /// The slot's first and second moment buffers.
    state: RefCell<(&'a mut Vec<f32>, &'a mut Vec<f32>)>,
}

impl InplaceOp1 for Update<'_> {
    fn name(&self) -> &'static str {
        "optimizer-update"
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> Result<()> {
        let w = f32_values_mut(storage, layout, "optimizer: weights")?;
        if w.len() != self.g.len() {
            bail!(
                "optimizer: {} weights but {} gradient values",
                w.len(),
                self.g.len()
            );
        }
        let mut state = self.state.borrow_mut();
        let (m, v) = &mut *state;
        update(self.spec, self.lr, self.t, w, self.g, self.scale, m, v);
        Ok(())
    }
}

/// One variable's update with learning rate `lr` at step `t` (from 1): the
/// gradient is `scale · g`; `m` and `v` are the slot's state.
#[allow(clippy::too_many_arguments)]
fn update(
    s: &OptimizerSpec,
    lr: f64,
    t: u64,
    w: &mut [f32],
    g: &[f32],
    scale: f32,
    m: &mut [f32],
    v: &mut [f32],
) {
    let decay = (1.0 - s.weight_decay * lr) as f32;
    let (lr32, eps) = (lr as f32, s.epsilon as f32);
    let mu = s.momentum as f32;
    let grads = g.iter().map(|g| g * scale);
    match s.name {
        OptimizerName::Sgd if s.momentum == 0.0 => {
            for (w, g) in w.iter_mut().zip(grads) {
                *w = *w * decay - lr32 * g;
            }
        }
        OptimizerName::Sgd => {
            for ((w, g), m) in w.iter_mut().zip(grads).zip(m) {
                *m = mu * *m - lr32 * g;
                let step = if s.nesterov { mu * *m - lr32 * g } else { *m };
                *w = *w * decay + step;
            }
        }
        OptimizerName::Adam | OptimizerName::Adamw => {
            let t = t as f64;
            let alpha = (lr * (1.0 - s.beta_2.powf(t)).sqrt() / (1.0 - s.beta_1.powf(t))) as f32;
            let (b1, b2) = ((1.0 - s.beta_1) as f32, (1.0 - s.beta_2) as f32);
            for (((w, g), m), v) in w.iter_mut().zip(grads).zip(m).zip(v) {
                *m += (g - *m) * b1;
                *v += (g * g - *v) * b2;
                *w = *w * decay - alpha * *m / (v.sqrt() + eps);
            }
        }
        OptimizerName::Rmsprop => {
            let rho = s.rho as f32;
            for (((w, g), m), v) in w.iter_mut().zip(grads).zip(m).zip(v) {
                *v = rho * *v + (1.0 - rho) * g * g;
                let inc = lr32 * g / (*v + eps).sqrt();
                let step = if s.momentum > 0.0 {
                    *m = mu * *m + inc;
                    *m
                } else {
                    inc
                };
                *w = *w * decay - step;
            }
        }
        OptimizerName::Adagrad => {
            for ((w, g), v) in w.iter_mut().zip(grads).zip(v) {
                *v += g * g;
                *w = *w * decay - lr32 * g / (*v + eps).sqrt();
            }
        }
    }
}
