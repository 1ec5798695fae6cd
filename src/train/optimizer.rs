//! Optimizers with Keras's update rules, over the model's trainable variables.
//! (candle-nn's AdamW is not used: its default weight decay differs from Keras.)

use super::schedule::exponential_decay;
use crate::spec::{OptimizerName, OptimizerSpec, ScheduleSpec};
use candle_core::backprop::GradStore;
use candle_core::{Result, Tensor, Var};

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
        let mut all: Vec<Option<Vec<f32>>> = Vec::with_capacity(self.slots.len());
        for (slot, norm) in self.slots.iter().zip(&mut self.last_sq_norms) {
            let g = match grads.get(slot.var.as_tensor()) {
                Some(g) => Some(g.flatten_all()?.to_vec1::<f32>()?),
                None => None,
            };
            *norm = g
                .as_ref()
                .map(|g| g.iter().map(|v| (*v as f64) * (*v as f64)).sum());
            all.push(g);
        }
        // Clipping factors: per tensor (clipnorm) or one for all (global_clipnorm).
        let global = self.spec.global_clipnorm.map(|c| {
            let n = self.last_sq_norms.iter().flatten().sum::<f64>().sqrt();
            c / n.max(c)
        });
        for ((slot, g), sq) in self.slots.iter_mut().zip(all).zip(&self.last_sq_norms) {
            let (Some(mut g), Some(sq)) = (g, sq) else {
                continue;
            };
            let scale = match (self.spec.clipnorm, global) {
                (Some(c), _) => c / sq.sqrt().max(c),
                (None, Some(s)) => s,
                (None, None) => 1.0,
            };
            if scale != 1.0 {
                let s = scale as f32;
                g.iter_mut().for_each(|v| *v *= s);
            }
            update(&self.spec, lr, self.iterations, slot, &g)?;
        }
        Ok(())
    }
}

/// One variable's update with learning rate `lr` at step `t` (from 1).
fn update(s: &OptimizerSpec, lr: f64, t: u64, slot: &mut Slot, g: &[f32]) -> Result<()> {
    let mut w = slot.var.flatten_all()?.to_vec1::<f32>()?;
    let decay = (1.0 - s.weight_decay * lr) as f32;
    let (lr32, eps) = (lr as f32, s.epsilon as f32);
    let mu = s.momentum as f32;
    match s.name {
        OptimizerName::Sgd if s.momentum == 0.0 => {
            for (w, g) in w.iter_mut().zip(g) {
                *w = *w * decay - lr32 * g;
            }
        }
        OptimizerName::Sgd => {
            for ((w, g), m) in w.iter_mut().zip(g).zip(&mut slot.m) {
                *m = mu * *m - lr32 * g;
                let step = if s.nesterov { mu * *m - lr32 * g } else { *m };
                *w = *w * decay + step;
            }
        }
        OptimizerName::Adam | OptimizerName::Adamw => {
            let t = t as f64;
            let alpha = (lr * (1.0 - s.beta_2.powf(t)).sqrt() / (1.0 - s.beta_1.powf(t))) as f32;
            let (b1, b2) = ((1.0 - s.beta_1) as f32, (1.0 - s.beta_2) as f32);
            for (((w, g), m), v) in w.iter_mut().zip(g).zip(&mut slot.m).zip(&mut slot.v) {
                *m += (g - *m) * b1;
                *v += (g * g - *v) * b2;
                *w = *w * decay - alpha * *m / (v.sqrt() + eps);
            }
        }
        OptimizerName::Rmsprop => {
            let rho = s.rho as f32;
            for (((w, g), m), v) in w.iter_mut().zip(g).zip(&mut slot.m).zip(&mut slot.v) {
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
            for ((w, g), v) in w.iter_mut().zip(g).zip(&mut slot.v) {
                *v += g * g;
                *w = *w * decay - lr32 * g / (*v + eps).sqrt();
            }
        }
    }
    let new = Tensor::from_vec(w, slot.var.shape(), slot.var.device())?;
    slot.var.set(&new)
}
