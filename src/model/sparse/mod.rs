//! Sparse feature rows (bags of n-grams over hundreds of thousands of
//! features) and the sparse path through the first `dense` layer.
//!
//! A batch of sparse rows is kept CSR-like ([`SparseBatch`]: row offsets,
//! feature indices, values) and never expanded to a dense `batch × width`
//! matrix. The first dense layer computes `x·K + b` by gathering the kernel
//! rows of the active features ([`Dense::forward_sparse`](super::Dense::forward_sparse));
//! its backward pass yields a [`SparseGrad`] holding only the touched kernel
//! rows, which the training loop applies with a lazy optimizer
//! (`train::SparseOptimizer`) instead of a dense kernel gradient.

mod batch;
mod dense;
mod matmul;
mod model;

pub use batch::{ModelBatch, SparseBatch};
pub use matmul::SparseGrad;
pub(crate) use matmul::{SparseGradSlot, SparseMatmul};
