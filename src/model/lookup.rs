//! The embedding lookup as one candle op, shared by the embedding's forward
//! pass and the token paths that read table rows ([`super::EmbeddedTokens`]).

use super::storage::{f32_values, with_f32};
use super::GradSink;
use candle_core::{bail, CpuStorage, CustomOp1, Layout, Result, Tensor};
use std::sync::Arc;

/// The lookup as one candle op: a row gather forward, and a backward that adds
/// each position's gradient straight into a `vocab × dim` buffer. (candle's
/// `index_select` backward builds a zero table and an `index_add` copy instead.)
/// With a [`GradSink`], backward adds into the sink and returns nothing.
pub(crate) struct Lookup {
    /// Token ids, row-major.
    ids: Arc<Vec<u32>>,
    /// Output shape: `ids.len()` rows of the table's width, in any grouping
    /// (`(batch, steps, dim)`, flat `(batch, steps · dim)` or `(n, dim)`).
    shape: candle_core::Shape,
    /// Where the table's gradient goes instead of back to candle, if set.
    sink: Option<Arc<GradSink>>,
}

impl Lookup {
    /// A gather of the table rows `ids`, shaped `shape`, whose table
    /// gradient goes to `sink` when one is given.
    pub(crate) fn new(
        ids: Arc<Vec<u32>>,
        shape: candle_core::Shape,
        sink: Option<Arc<GradSink>>,
    ) -> Lookup {
        Lookup { ids, shape, sink }
    }
}

/// Add each gradient row of `g` into row `ids[i]` of `out` (`dim` wide).
pub(super) fn scatter_add(out: &mut [f32], g: &[f32], ids: &[u32], dim: usize) {
    for (row, &id) in g.chunks_exact(dim).zip(ids) {
        let dst = &mut out[id as usize * dim..(id as usize + 1) * dim];
        for (d, s) in dst.iter_mut().zip(row) {
            *d += s;
        }
    }
}

impl CustomOp1 for Lookup {
    fn name(&self) -> &'static str {
        "embedding-lookup"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> Result<(CpuStorage, candle_core::Shape)> {
        let table = f32_values(storage, layout, "embedding table")?;
        let (vocab, dim) = layout.shape().dims2()?;
        let mut out = Vec::with_capacity(self.ids.len() * dim);
        for &id in self.ids.iter() {
            let id = id as usize;
            if id >= vocab {
                bail!("token id {id} is outside the embedding's input_dim {vocab}");
            }
            out.extend_from_slice(&table[id * dim..(id + 1) * dim]);
        }
        Ok((CpuStorage::F32(out), self.shape.clone()))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> Result<Option<Tensor>> {
        let (vocab, dim) = arg.dims2()?;
        let out = with_f32(grad_res, "embedding gradient", |g| {
            GradSink::add_or_new(self.sink.as_deref(), vocab * dim, |out| {
                scatter_add(out, g, &self.ids, dim)
            })
        })?;
        out.map(|v| Tensor::from_vec(v, (vocab, dim), arg.device()))
            .transpose()
    }
}
