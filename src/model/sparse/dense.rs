//! The sparse path of `dense`: `activation(x·K + b)` for a [`SparseBatch`] `x`,
//! and the layer's L2 penalty.

use super::{SparseBatch, SparseMatmul};
use crate::model::activation::apply_activation;
use crate::model::layer::live;
use crate::model::Dense;
use candle_core::{bail, DType, Result, Tensor};
use std::sync::Arc;

impl Dense {
    /// The layer applied to sparse rows: the kernel rows of the active features
    /// are gathered and summed per example (cost `nnz × units`, not
    /// `rows × width × units`). Backward gives no dense kernel gradient: the
    /// touched rows' gradient goes to the layer's sparse slot, where
    /// `train::SparseOptimizer` picks it up. The bias gets its usual gradient.
    pub fn forward_sparse(&self, x: &SparseBatch) -> Result<Tensor> {
        if x.width() != self.inputs() {
            bail!(
                "{}: sparse rows have width {} but the layer reads {} values",
                crate::model::Layer::name(self),
                x.width(),
                self.inputs()
            );
        }
        let trainable = crate::model::Layer::trainable(self);
        let op = SparseMatmul {
            batch: Arc::new(x.clone()),
            units: self.units(),
            slot: self.sparse_grad_slot().clone(),
        };
        let z = live(self.kernel_var(), trainable).apply_op1(op)?;
        let z = match self.bias_var() {
            Some(b) => z.broadcast_add(&live(b, trainable))?,
            None => z,
        };
        apply_activation(self.activation(), &z)
    }

    /// Take the kernel gradient left by the backward passes of sparse
    /// forwards since the last take (summed), or `None`.
    pub fn take_sparse_grad(&self) -> Option<super::SparseGrad> {
        self.sparse_grad_slot()
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }

    /// `l2 · Σ K²` as a differentiable scalar, when the layer has an L2 factor.
    pub fn l2_penalty(&self) -> Result<Option<Tensor>> {
        let Some(l2) = self.l2() else {
            return Ok(None);
        };
        let k = live(self.kernel_var(), crate::model::Layer::trainable(self));
        Ok(Some(k.sqr()?.sum_all()?.affine(l2, 0.0)?))
    }

    /// `l2 · Σ K²` as a number (0 without an L2 factor), summed in f64.
    pub fn l2_penalty_value(&self) -> Result<f64> {
        let Some(l2) = self.l2() else {
            return Ok(0.0);
        };
        let k = self
            .kernel_var()
            .as_detached_tensor()
            .flatten_all()?
            .to_dtype(DType::F32)?
            .to_vec1::<f32>()?;
        Ok(l2 * k.iter().map(|w| (*w as f64) * (*w as f64)).sum::<f64>())
    }
}
