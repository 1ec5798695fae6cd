//! `Model` on sparse batches: sparse dropout, the sparse first dense layer,
//! then the rest of the stack as usual; and the models' L2 penalties.

use super::ModelBatch;
use crate::model::{Dense, Model, ModelInput, Pass};
use crate::spec::LayerSpec;
use candle_core::{bail, Result, Tensor};
use std::borrow::Cow;

impl Model {
    /// The position of the layer that reads sparse rows: the first `dense`
    /// of a `Features` model, with only `dropout` layers before it.
    pub fn sparse_entry(&self) -> Option<usize> {
        if !matches!(self.input(), ModelInput::Features { .. }) {
            return None;
        }
        let i = self
            .specs()
            .iter()
            .position(|l| !matches!(l, LayerSpec::Dropout(_)))?;
        matches!(self.specs()[i], LayerSpec::Dense(_)).then_some(i)
    }

    /// The dense layer that reads sparse rows (see [`Model::sparse_entry`]).
    pub fn sparse_dense(&self) -> Option<&Dense> {
        self.layers()[self.sparse_entry()?].as_dense()
    }

    /// Run a batch, dense or sparse, through the model in the given mode.
    ///
    /// A sparse batch goes through the leading `dropout` layers as sparse
    /// dropout ([`SparseBatch::dropout`](super::SparseBatch::dropout), drawing
    /// from the pass's RNG), then [`Dense::forward_sparse`], then the remaining
    /// layers on the dense `batch × units` output.
    pub fn forward_batch(&self, x: &ModelBatch, pass: &mut Pass<'_>) -> Result<Tensor> {
        let b = match x {
            ModelBatch::Dense(t) => return self.forward_pass(t, pass),
            ModelBatch::Sparse(b) => b,
        };
        let (Some(entry), Some(dense)) = (self.sparse_entry(), self.sparse_dense()) else {
            bail!(
                "sparse feature rows need a model that reads features and starts with `dense` (optionally after `dropout`), but this model reads {}",
                self.input().describe()
            );
        };
        let mut b = Cow::Borrowed(b);
        for spec in &self.specs()[..entry] {
            if let (LayerSpec::Dropout(d), Some(rng)) = (spec, pass.rng()) {
                b = Cow::Owned(b.dropout(d.rate, rng)?);
            }
        }
        let mut h = dense.forward_sparse(&b)?;
        for layer in &self.layers()[entry + 1..] {
            h = layer.forward(&h, pass)?;
        }
        Ok(h)
    }

    /// The sum of the dense layers' `l2 · Σ K²` as a differentiable scalar, or
    /// `None` when no layer has an L2 factor. With `skip_sparse` the layer that
    /// reads sparse rows is left out: its penalty is applied lazily by
    /// `train::SparseOptimizer` (a dense gradient would touch every row).
    pub fn l2_penalty(&self, skip_sparse: bool) -> Result<Option<Tensor>> {
        let skip = if skip_sparse {
            self.sparse_entry()
        } else {
            None
        };
        let mut total: Option<Tensor> = None;
        for (i, layer) in self.layers().iter().enumerate() {
            let Some(d) = layer.as_dense() else { continue };
            if Some(i) == skip {
                continue;
            }
            if let Some(p) = d.l2_penalty()? {
                total = Some(match total {
                    Some(t) => t.add(&p)?,
                    None => p,
                });
            }
        }
        Ok(total)
    }

    /// The sum of every dense layer's `l2 · Σ K²` as a number (0 without L2),
    /// the amount Keras adds to the loss it reports.
    pub fn l2_penalty_value(&self) -> Result<f64> {
        let mut total = 0.0;
        for layer in self.layers() {
            if let Some(d) = layer.as_dense() {
                total += d.l2_penalty_value()?;
            }
        }
        Ok(total)
    }
}
