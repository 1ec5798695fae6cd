//! Lazy optimizer updates for the kernel of the dense layer that reads sparse
//! rows (TensorFlow's `LazyAdam`, PyTorch's `SparseAdam`).
//!
//! A bag-of-n-grams kernel has hundreds of thousands of rows; a batch touches a
//! few thousand. Dense Adam would decay the moments of, and move, every row on
//! every step (untouched rows keep moving on their momentum). Lazy Adam
//! updates the moments and weights of the touched rows only: for rows touched
//! in every step it is exactly dense Adam; for the others it differs (no
//! momentum drift, no weight decay while untouched). The bias correction uses
//! the global step count, as `LazyAdam` does. The other weights keep the dense
//! [`Optimizer`](super::Optimizer): it sees no gradient for this kernel (the
//! sparse op returns none to candle), so it skips it.
//!
//! `kernel_regularizer.l2` on this layer is also lazy: its gradient `2·l2·w` is
//! added to the touched rows only; the full `l2·Σw²` is still added to the
//! reported loss (the sum is kept up to date row by row, not recomputed).

use crate::model::{f32_values_mut, Dense, Model, ModelBatch, SparseGrad};
use crate::spec::{OptimizerName, OptimizerSpec};
use candle_core::{bail, CpuStorage, InplaceOp1, Layout, Result, Tensor};
use std::cell::{Cell, RefCell};

/// Lazy SGD / Adam / AdamW state for the sparse-input layer's kernel.
pub struct SparseOptimizer {
    spec: OptimizerSpec,
    iterations: u64,
    /// First and second moments, interleaved per kernel row (`units` values of
    /// m, then `units` of v: one memory region per touched row instead of two);
    /// allocated at the first sparse Adam step.
    moments: Vec<f32>,
    /// `Σ K²` of the sparse layer's kernel, kept current through the updates.
    sq_norm: f64,
}

impl SparseOptimizer {
    /// State for `model`'s sparse-input layer (if any); drops any kernel
    /// gradient left over from earlier backward passes.
    pub fn new(spec: &OptimizerSpec, model: &Model) -> Result<SparseOptimizer> {
        let mut sq_norm = 0.0;
        if let Some(d) = model.sparse_dense() {
            d.take_sparse_grad();
            if let Some(l2) = d.l2() {
                sq_norm = d.l2_penalty_value()? / l2;
            }
        }
        Ok(SparseOptimizer {
            spec: spec.clone(),
            iterations: 0,
            moments: Vec::new(),
            sq_norm,
        })
    }

    /// Number of steps taken (sparse or not), the `t` of the bias correction.
    pub fn iterations(&self) -> u64 {
        self.iterations
    }

    /// `loss` plus the model's L2 penalties for a training batch `x`: the
    /// differentiable ones of the dense layers and, for a sparse batch, the
    /// sparse layer's `l2·Σw²` as a constant (its gradient is applied lazily).
    pub fn with_penalties(&self, model: &Model, loss: Tensor, x: &ModelBatch) -> Result<Tensor> {
        let sparse = matches!(x, ModelBatch::Sparse(_));
        let mut loss = match model.l2_penalty(sparse)? {
            Some(p) => loss.add(&p)?,
            None => loss,
        };
        if sparse {
            if let Some(l2) = model.sparse_dense().and_then(Dense::l2) {
                loss = loss.affine(1.0, l2 * self.sq_norm)?;
            }
        }
        Ok(loss)
    }

    /// Apply the sparse layer's pending kernel gradient (if a sparse batch was
    /// just back-propagated) with learning rate `lr`. Call once per training
    /// step, after the dense optimizer's step.
    pub fn step(&mut self, model: &Model, lr: f64) -> Result<()> {
        self.iterations += 1;
        let Some(dense) = model.sparse_dense() else {
            return Ok(());
        };
        let Some(grad) = dense.take_sparse_grad() else {
            return Ok(());
        };
        let s = &self.spec;
        let rule = if matches!(s.name, OptimizerName::Sgd) {
            Rule::Sgd
        } else if matches!(s.name, OptimizerName::Adam | OptimizerName::Adamw) {
            let t = self.iterations as f64;
            let alpha = lr * (1.0 - s.beta_2.powf(t)).sqrt() / (1.0 - s.beta_1.powf(t));
            Rule::Adam {
                alpha: alpha as f32,
                b1: (1.0 - s.beta_1) as f32,
                b2: (1.0 - s.beta_2) as f32,
                eps: s.epsilon as f32,
            }
        } else {
            bail!(
                "train.optimizer.name: sparse feature rows are trained with lazy sgd, adam or adamw; this optimizer has no lazy version yet"
            );
        };
        let n = dense.kernel_var().elem_count();
        if matches!(rule, Rule::Adam { .. }) && self.moments.len() != 2 * n {
            self.moments = vec![0.0; 2 * n];
        }
        let op = LazyUpdate {
            grad: &grad,
            step: Step {
                rule,
                lr: lr as f32,
                decay: (1.0 - s.weight_decay * lr) as f32,
                l2: dense.l2().unwrap_or(0.0) as f32,
                units: grad.units,
            },
            moments: RefCell::new(&mut self.moments),
            sq_delta: Cell::new(0.0),
        };
        dense.kernel_var().as_tensor().inplace_op1(&op)?;
        self.sq_norm += op.sq_delta.get();
        Ok(())
    }
}

/// The update rule with this step's constants.
#[derive(Clone, Copy)]
enum Rule {
    Sgd,
    Adam {
        alpha: f32,
        b1: f32,
        b2: f32,
        eps: f32,
    },
}

/// One step's constants.
#[derive(Clone, Copy)]
struct Step {
    rule: Rule,
    lr: f32,
    /// Decoupled weight decay factor `1 − wd·lr`.
    decay: f32,
    l2: f32,
    units: usize,
}

/// Touched rows above which the update is split over two threads.
const PARALLEL_ROWS: usize = 2048;

/// The in-place update of the touched kernel rows (the kernel is never copied).
struct LazyUpdate<'a> {
    grad: &'a SparseGrad,
    step: Step,
    moments: RefCell<&'a mut Vec<f32>>,
    /// Change of `Σ K²` over the updated rows.
    sq_delta: Cell<f64>,
}

impl InplaceOp1 for LazyUpdate<'_> {
    fn name(&self) -> &'static str {
        "lazy-sparse-update"
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> Result<()> {
        let kernel = f32_values_mut(storage, layout, "lazy update: the kernel")?;
        let units = self.step.units;
        let rows = &self.grad.rows;
        if self.grad.values.len() != rows.len() * units {
            bail!("lazy update: gradient values do not match its rows");
        }
        if let Some(r) = rows
            .iter()
            .find(|r| (**r as usize + 1) * units > kernel.len())
        {
            bail!("lazy update: kernel row {r} is out of range");
        }
        let mut moments = self.moments.borrow_mut();
        let sorted = rows.windows(2).all(|w| w[0] < w[1]);
        let delta = update_rows(
            self.step,
            rows,
            &self.grad.values,
            kernel,
            moments.as_mut_slice(),
            0,
            sorted,
        );
        self.sq_delta.set(delta);
        Ok(())
    }
}

/// Update `rows` (kernel rows from `base` on, as `kernel` / `moments` start
/// there); returns the change of `Σ K²` (0 without L2). Strictly ascending
/// rows split into two disjoint halves updated on two threads.
fn update_rows(
    st: Step,
    rows: &[u32],
    grads: &[f32],
    kernel: &mut [f32],
    moments: &mut [f32],
    base: usize,
    sorted: bool,
) -> f64 {
    let units = st.units;
    let adam = !moments.is_empty();
    if sorted && rows.len() > PARALLEL_ROWS {
        let mid = rows.len() / 2;
        let split = rows[mid] as usize;
        let (k1, k2) = kernel.split_at_mut((split - base) * units);
        let (m1, m2) = if adam {
            moments.split_at_mut((split - base) * 2 * units)
        } else {
            (&mut [][..], &mut [][..])
        };
        let (g1, g2) = grads.split_at(mid * units);
        let (a, b) = rayon::join(
            || update_rows(st, &rows[..mid], g1, k1, m1, base, true),
            || update_rows(st, &rows[mid..], g2, k2, m2, split, true),
        );
        return a + b;
    }
    let track = st.l2 != 0.0;
    let sq = |w: &[f32]| w.iter().map(|x| (*x as f64) * (*x as f64)).sum::<f64>();
    let mut delta = 0.0f64;
    for (&row, g) in rows.iter().zip(grads.chunks_exact(units)) {
        let at = (row as usize - base) * units;
        let w = &mut kernel[at..at + units];
        let old = if track { sq(w) } else { 0.0 };
        match st.rule {
            Rule::Sgd => {
                for (w, g) in w.iter_mut().zip(g) {
                    let g = g + 2.0 * st.l2 * *w;
                    *w = *w * st.decay - st.lr * g;
                }
            }
            Rule::Adam { alpha, b1, b2, eps } => {
                let (m, v) = moments[2 * at..2 * at + 2 * units].split_at_mut(units);
                for (((w, g), m), v) in w.iter_mut().zip(g).zip(m).zip(v) {
                    let g = g + 2.0 * st.l2 * *w;
                    *m += (g - *m) * b1;
                    *v += (g * g - *v) * b2;
                    *w = *w * st.decay - alpha * *m / (v.sqrt() + eps);
                }
            }
        }
        if track {
            delta += sq(w) - old;
        }
    }
    delta
}
