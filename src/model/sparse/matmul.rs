//! `x·K` for a sparse batch `x` as one candle op: gather the kernel rows of the
//! active features forward; backward, the kernel gradient of the touched rows only.

use super::SparseBatch;
use candle_core::{bail, CpuStorage, CustomOp1, Layout, Result, Shape, Storage, Tensor};
use rayon::prelude::*;
use std::sync::{Arc, Mutex};

/// Multiply-adds (entries × units) above which forward and backward use two threads.
const PARALLEL_WORK: usize = 1 << 16;

/// The kernel gradient of a sparse batch: only the rows of features the batch
/// touched (all other rows' gradient is zero).
#[derive(Debug, Clone, PartialEq)]
pub struct SparseGrad {
    /// Kernel row (feature index) of each gradient row, distinct.
    pub rows: Vec<u32>,
    /// `rows.len() × units` gradient values, row-major.
    pub values: Vec<f32>,
    /// Kernel columns (the layer's units).
    pub units: usize,
}

/// Where the op's backward pass leaves its [`SparseGrad`] for the optimizer.
pub(crate) type SparseGradSlot = Arc<Mutex<Option<SparseGrad>>>;

/// `z = x·K` (`rows × units`) for a sparse `x`, applied to the kernel `K`
/// (`width × units`). Its backward returns no dense kernel gradient: it writes
/// the touched rows' gradient `Σ_entries value · ∂L/∂z[row]` into `slot`, so
/// candle's gradient store never holds a `width × units` tensor.
pub(crate) struct SparseMatmul {
    pub batch: Arc<SparseBatch>,
    pub units: usize,
    pub slot: SparseGradSlot,
}

impl CustomOp1 for SparseMatmul {
    fn name(&self) -> &'static str {
        "sparse-matmul"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let CpuStorage::F32(kernel) = storage else {
            bail!("sparse dense: the kernel must be f32");
        };
        let Some((start, end)) = layout.contiguous_offsets() else {
            bail!("sparse dense: the kernel must be contiguous");
        };
        let units = self.units;
        let b = &*self.batch;
        if layout.dims() != [b.width(), units] {
            bail!(
                "sparse dense: kernel is {:?} but the batch has width {} and the layer {units} units",
                layout.dims(),
                b.width()
            );
        }
        let kernel = &kernel[start..end];
        let (offsets, indices, values) = (b.offsets(), b.indices(), b.values());
        let mut out = vec![0f32; b.rows() * units];
        let row = |(r, z): (usize, &mut [f32])| {
            for k in offsets[r]..offsets[r + 1] {
                let i = indices[k] as usize;
                let v = values[k];
                for (z, w) in z.iter_mut().zip(&kernel[i * units..(i + 1) * units]) {
                    *z += v * w;
                }
            }
        };
        // Examples are independent: large batches use the thread pool.
        if b.nnz() * units >= PARALLEL_WORK {
            out.par_chunks_exact_mut(units).enumerate().for_each(row);
        } else {
            out.chunks_exact_mut(units).enumerate().for_each(row);
        }
        Ok((CpuStorage::F32(out), Shape::from((b.rows(), units))))
    }

    fn bwd(&self, _arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> Result<Option<Tensor>> {
        let grad_res = grad_res.contiguous()?;
        let (storage, layout) = grad_res.storage_and_layout();
        let (Storage::Cpu(CpuStorage::F32(g)), Some((start, end))) =
            (&*storage, layout.contiguous_offsets())
        else {
            bail!("sparse dense: the output gradient must be a contiguous f32 cpu tensor");
        };
        let g = &g[start..end];
        let units = self.units;
        let b = &*self.batch;
        let (offsets, slots, values) = (b.offsets(), b.slots(), b.values());
        let mut out = vec![0f32; b.touched().len() * units];
        // Each half of the touched rows is summed by its own thread (every
        // thread reads all entries and keeps those of its rows).
        let accumulate = |out: &mut [f32], first: usize| {
            let n = out.len() / units;
            for (r, gr) in g.chunks_exact(units).enumerate() {
                for k in offsets[r]..offsets[r + 1] {
                    let s = (slots[k] as usize).wrapping_sub(first);
                    if s >= n {
                        continue;
                    }
                    let v = values[k];
                    for (o, g) in out[s * units..(s + 1) * units].iter_mut().zip(gr) {
                        *o += v * g;
                    }
                }
            }
        };
        if b.nnz() * units >= PARALLEL_WORK {
            let half = b.touched().len() / 2;
            let (lo, hi) = out.split_at_mut(half * units);
            rayon::join(|| accumulate(lo, 0), || accumulate(hi, half));
        } else {
            accumulate(&mut out, 0);
        }
        let grad = SparseGrad {
            rows: b.touched().to_vec(),
            values: out,
            units,
        };
        let mut slot = self
            .slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Two sparse forwards before one backward add up, like dense gradients.
        match slot.as_mut() {
            Some(prev) => merge(prev, grad),
            None => *slot = Some(grad),
        }
        Ok(None)
    }
}

/// Add `more` into `acc` (rows of `more` that `acc` lacks are appended).
fn merge(acc: &mut SparseGrad, more: SparseGrad) {
    let units = acc.units;
    let pos: std::collections::HashMap<u32, usize> =
        acc.rows.iter().enumerate().map(|(i, &r)| (r, i)).collect();
    for (i, &r) in more.rows.iter().enumerate() {
        let src = &more.values[i * units..(i + 1) * units];
        match pos.get(&r) {
            Some(&p) => {
                for (a, s) in acc.values[p * units..(p + 1) * units].iter_mut().zip(src) {
                    *a += s;
                }
            }
            None => {
                acc.rows.push(r);
                acc.values.extend_from_slice(src);
            }
        }
    }
}
