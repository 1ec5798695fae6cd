//! Optimizers with Keras's update rules, over the model's trainable variables.
//! (candle-nn's AdamW is not used: its default weight decay differs from Keras.)

use super::schedule::exponential_decay;
use crate::model::{f32_values_mut, with_f32, GradSink};
use crate::spec::{OptimizerName, OptimizerSpec, ScheduleSpec};
use candle_core::backprop::GradStore;
use candle_core::{bail, CpuStorage, InplaceOp1, Layout, Result, Var};
use rayon::prelude::*;
use std::cell::{Cell, RefCell};
use std::sync::Arc;

/// Per-variable optimizer state (plain vectors: the update is one fused pass
/// instead of a dozen temporary tensors).
struct Slot {
    var: Var,
    /// First moment (Adam) or momentum buffer (SGD, RMSprop).
    m: Vec<f32>,
    /// Second moment (Adam), squared-gradient average (RMSprop) or accumulator (Adagrad).
    v: Vec<f32>,
    /// Where fused ops put this variable's gradient instead of the
    /// `GradStore` (see [`Optimizer::read_grad_sinks`]).
    sink: Option<Arc<GradSink>>,
}

impl Slot {
    /// `Σ g²` of this step's gradient: `combined` (the sum, when both the
    /// sink and the store had one), the sink's or the store's; `None` when
    /// the variable got none.
    fn grad_sq_norm(&self, grads: &GradStore, combined: Option<&[f32]>) -> Result<Option<f64>> {
        if let Some(c) = combined {
            return Ok(Some(sq_norm(c)));
        }
        if let Some(sq) = self.sink.as_ref().and_then(|s| s.peek(sq_norm)) {
            return Ok(Some(sq));
        }
        grads
            .get(self.var.as_tensor())
            .map(|g| with_f32(g, "gradient", sq_norm))
            .transpose()
    }
}

/// `Σ g²` in f64, over four lanes so the loop vectorises.
#[inline(always)]
fn sq_norm(g: &[f32]) -> f64 {
    let mut lanes = [0f64; 4];
    let chunks = g.chunks_exact(4);
    let rest: f64 = chunks.remainder().iter().map(|v| (*v as f64).powi(2)).sum();
    for c in chunks {
        for (l, v) in lanes.iter_mut().zip(c) {
            *l += (*v as f64) * (*v as f64);
        }
    }
    lanes.iter().sum::<f64>() + rest
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
                    sink: None,
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

    /// Read the gradients of these variables also from their sinks (the
    /// model's [`Model::grad_sinks`](crate::model::Model::grad_sinks), for
    /// passes with [`Pass::set_use_grad_sinks`](crate::model::Pass::set_use_grad_sinks)).
    /// Any gradient pending in them is dropped.
    pub fn read_grad_sinks(&mut self, sinks: Vec<(Var, Arc<GradSink>)>) {
        for (var, sink) in sinks {
            sink.clear();
            if let Some(slot) = self
                .slots
                .iter_mut()
                .find(|s| s.var.as_tensor().id() == var.as_tensor().id())
            {
                slot.sink = Some(sink);
            }
        }
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
        // A variable whose gradient came both ways (a table read by a fused
        // op and by a plain lookup) gets their sum.
        let mut combined: Vec<Option<Vec<f32>>> = vec![None; self.slots.len()];
        for (slot, sum) in self.slots.iter().zip(&mut combined) {
            if let (Some(sink), Some(g)) = (&slot.sink, grads.get(slot.var.as_tensor())) {
                if let Some(mut s) = sink.take(<[f32]>::to_vec) {
                    with_f32(g, "gradient", |g| {
                        s.iter_mut().zip(g).for_each(|(s, g)| *s += g)
                    })?;
                    *sum = Some(s);
                }
            }
        }
        // Clipping needs the norms before the update; otherwise the update
        // pass computes them (one pass over each gradient instead of two).
        let clipping = self.spec.clipnorm.is_some() || self.spec.global_clipnorm.is_some();
        if clipping {
            for ((slot, norm), sum) in self
                .slots
                .iter()
                .zip(&mut self.last_sq_norms)
                .zip(&combined)
            {
                *norm = slot.grad_sq_norm(grads, sum.as_deref())?;
            }
        }
        // Clipping factors: per tensor (clipnorm) or one for all (global_clipnorm).
        let global = self.spec.global_clipnorm.map(|c| {
            let n = self.last_sq_norms.iter().flatten().sum::<f64>().sqrt();
            c / n.max(c)
        });
        for ((slot, norm), sum) in self
            .slots
            .iter_mut()
            .zip(&mut self.last_sq_norms)
            .zip(&combined)
        {
            let scale = match (self.spec.clipnorm, global, *norm) {
                (_, _, None) if clipping => continue,
                (Some(c), _, Some(sq)) => c / sq.sqrt().max(c),
                (None, Some(s), _) => s,
                _ => 1.0,
            };
            let Slot { var, m, v, sink } = slot;
            let mut update = |g: &[f32]| -> Result<f64> {
                let op = Update {
                    spec: &self.spec,
                    lr,
                    t: self.iterations,
                    scale: scale as f32,
                    g,
                    state: RefCell::new((m.as_mut_slice(), v.as_mut_slice())),
                    sq_norm: Cell::new(0.0),
                };
                // The weights are updated in their own storage (no copies).
                var.as_tensor().inplace_op1(&op)?;
                Ok(op.sq_norm.get())
            };
            let sq = match (sum, sink.as_ref().and_then(|s| s.take(&mut update))) {
                (Some(c), _) => update(c),
                (None, Some(r)) => r,
                (None, None) => match grads.get(var.as_tensor()) {
                    Some(g) => with_f32(g, "gradient", &mut update)?,
                    None => {
                        *norm = None;
                        continue;
                    }
                },
            }?;
            if !clipping {
                *norm = Some(sq);
            }
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
    state: RefCell<(&'a mut [f32], &'a mut [f32])>,
    /// Set to `Σ g²` of the raw gradient.
    sq_norm: Cell<f64>,
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
        self.sq_norm.set(update(
            self.spec, self.lr, self.t, w, self.g, self.scale, m, v,
        ));
        Ok(())
    }
}

/// Values per block of [`update`]: above two blocks, blocks are updated in
/// parallel (an embedding table has 10⁵–10⁶ values).
const UPDATE_BLOCK: usize = 1 << 15;

/// One variable's update with learning rate `lr` at step `t` (from 1): the
/// gradient is `scale · g`; `m` and `v` are the slot's state. Returns `Σ g²`
/// (summed per block in block order, so it does not depend on the threads).
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
) -> f64 {
    if w.len() < 2 * UPDATE_BLOCK || m.len() != w.len() || v.len() != w.len() {
        return update_block(s, lr, t, w, g, scale, m, v);
    }
    let sums: Vec<f64> = w
        .par_chunks_mut(UPDATE_BLOCK)
        .zip(g.par_chunks(UPDATE_BLOCK))
        .zip(m.par_chunks_mut(UPDATE_BLOCK))
        .zip(v.par_chunks_mut(UPDATE_BLOCK))
        .map(|(((w, g), m), v)| update_block(s, lr, t, w, g, scale, m, v))
        .collect();
    sums.iter().sum()
}

/// [`update`] of one block, on this thread, compiled for the widest
/// vectors this CPU has (chosen at run time by `pulp`; element-wise, so
/// every width gives the same values).
#[allow(clippy::too_many_arguments)]
fn update_block(
    s: &OptimizerSpec,
    lr: f64,
    t: u64,
    w: &mut [f32],
    g: &[f32],
    scale: f32,
    m: &mut [f32],
    v: &mut [f32],
) -> f64 {
    /// The arguments, carried into the dispatched code.
    struct Block<'a> {
        s: &'a OptimizerSpec,
        lr: f64,
        t: u64,
        w: &'a mut [f32],
        g: &'a [f32],
        scale: f32,
        m: &'a mut [f32],
        v: &'a mut [f32],
    }
    impl pulp::WithSimd for Block<'_> {
        type Output = f64;
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, _: S) -> f64 {
            let Block {
                s,
                lr,
                t,
                w,
                g,
                scale,
                m,
                v,
            } = self;
            update_block_impl(s, lr, t, w, g, scale, m, v)
        }
    }
    pulp::Arch::new().dispatch(Block {
        s,
        lr,
        t,
        w,
        g,
        scale,
        m,
        v,
    })
}

/// [`update_block`] for the vectors it is inlined into.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn update_block_impl(
    s: &OptimizerSpec,
    lr: f64,
    t: u64,
    w: &mut [f32],
    g: &[f32],
    scale: f32,
    m: &mut [f32],
    v: &mut [f32],
) -> f64 {
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
    sq_norm(g)
}
