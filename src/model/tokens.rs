//! `EmbeddedTokens`: an embedding's output before it is materialised.
//!
//! The layer right after an `embedding` often does not need the
//! `(batch, steps, dim)` tensor of looked-up vectors: a `dense` after
//! `flatten` can read the table rows directly (`embedding_dense.rs`),
//! and a recurrent layer only needs the input projection of each distinct
//! token, `table[id]·W`, which is far fewer rows than positions in a batch.
//! Such layers implement [`Layer::forward_tokens`](super::Layer::forward_tokens);
//! every other layer gets [`EmbeddedTokens::materialize`].

use super::lookup::Lookup;
use super::GradSink;
use candle_core::{Result, Tensor};
use std::sync::{Arc, OnceLock};

/// The batch's token ids plus the embedding table they index.
pub struct EmbeddedTokens {
    /// Token ids, `batch × steps`, row-major; every id is below the table's rows.
    ids: Arc<Vec<u32>>,
    batch: usize,
    steps: usize,
    /// The table as the forward pass sees it (tracked when trainable).
    table: Tensor,
    /// Vector size.
    dim: usize,
    /// The embedding emits flat `(batch, steps · dim)` rows because a `flatten` follows.
    flat: bool,
    /// The batch's distinct ids, computed on first use.
    distinct: OnceLock<Distinct>,
    /// Their table rows, looked up once (both directions of a `bidirectional` read them).
    vectors: OnceLock<Tensor>,
    /// Where the ops that read the table (the lookups here, the fused
    /// embedding-dense and token convolution ops) put the table's gradient
    /// instead of returning it to candle (training with `fit`).
    grad_sink: Option<Arc<GradSink>>,
}

/// The distinct ids of a batch and where each position's id is among them.
#[derive(Debug, Clone)]
pub struct Distinct {
    /// Distinct ids in first-seen order.
    pub ids: Arc<Vec<u32>>,
    /// Per position (`batch × steps`), the index of its id in `ids`.
    pub row_of: Arc<Vec<u32>>,
}

impl EmbeddedTokens {
    /// Tokens of a `batch × steps` batch over `table` (`vocab × dim`).
    pub(crate) fn new(
        ids: Arc<Vec<u32>>,
        batch: usize,
        steps: usize,
        table: Tensor,
        flat: bool,
    ) -> Result<EmbeddedTokens> {
        let (_, dim) = table.dims2()?;
        Ok(EmbeddedTokens {
            ids,
            batch,
            steps,
            table,
            dim,
            flat,
            distinct: OnceLock::new(),
            vectors: OnceLock::new(),
            grad_sink: None,
        })
    }

    /// These tokens with the table gradient's sink set.
    pub(crate) fn with_grad_sink(mut self, sink: Arc<GradSink>) -> EmbeddedTokens {
        self.grad_sink = Some(sink);
        self
    }

    /// The sink for the table's gradient, when the optimizer reads it from
    /// there (ops that do not support sinks return the gradient to candle).
    pub fn grad_sink(&self) -> Option<&Arc<GradSink>> {
        self.grad_sink.as_ref()
    }

    /// Token ids, `batch × steps`, row-major.
    pub fn ids(&self) -> &Arc<Vec<u32>> {
        &self.ids
    }

    /// Batch size.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Steps per example.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Vector size of the embedding.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Whether a `flatten` follows the embedding (the vectors of an example are one row).
    pub fn flat(&self) -> bool {
        self.flat
    }

    /// The embedding table as the forward pass sees it.
    pub fn table(&self) -> &Tensor {
        &self.table
    }

    /// The looked-up vectors: `(batch, steps, dim)`, or `(batch, steps · dim)` when flat.
    pub fn materialize(&self) -> Result<Tensor> {
        let shape: candle_core::Shape = if self.flat {
            (self.batch, self.steps * self.dim).into()
        } else {
            (self.batch, self.steps, self.dim).into()
        };
        self.table.apply_op1(Lookup::new(
            Arc::clone(&self.ids),
            shape,
            self.grad_sink.clone(),
        ))
    }

    /// The distinct ids of the batch in first-seen order, and for each
    /// position the index of its id in that list (computed once per batch).
    pub fn distinct(&self) -> Distinct {
        self.distinct
            .get_or_init(|| {
                // A dense id → index array: ids are checked to be below the table's rows.
                let rows = self.table.dims()[0];
                let mut index = vec![u32::MAX; rows];
                let mut distinct = Vec::new();
                let positions = self
                    .ids
                    .iter()
                    .map(|&id| {
                        let slot = &mut index[id as usize];
                        if *slot == u32::MAX {
                            *slot = distinct.len() as u32;
                            distinct.push(id);
                        }
                        *slot
                    })
                    .collect();
                Distinct {
                    ids: Arc::new(distinct),
                    row_of: Arc::new(positions),
                }
            })
            .clone()
    }

    /// The table rows of the distinct ids, `(distinct, dim)`, tracked for
    /// gradients (one lookup per batch, however many layers read them).
    pub fn distinct_vectors(&self) -> Result<Tensor> {
        if let Some(v) = self.vectors.get() {
            return Ok(v.clone());
        }
        let ids = self.distinct().ids;
        let n = ids.len();
        let v = self.table.apply_op1(Lookup::new(
            ids,
            (n, self.dim).into(),
            self.grad_sink.clone(),
        ))?;
        Ok(self.vectors.get_or_init(|| v).clone())
    }
}
