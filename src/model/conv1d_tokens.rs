//! `conv1d` straight after an `embedding`, from the batch's tokens.
//!
//! A window's output is `Σⱼ table[id at step o+j] · Kⱼ`, so with
//! `P = table[distinct ids] · [K₀ … K_{k−1}]` (one row per distinct token of
//! the batch, `kernel_size · filters` columns) each output row is a sum of
//! `kernel_size` slices of `P`: the large im2col matrix and its matmul are
//! replaced by a matmul over the (far fewer) distinct tokens and a gather-add.
//! Backward adds each output gradient into the `P` slice it came from.

use super::conv1d_geometry::Geometry;
use super::storage::{f32_values, with_f32};
use super::tokens::EmbeddedTokens;
use candle_core::{bail, CpuStorage, CustomOp1, Device, Layout, Result, Shape, Tensor};
use rayon::prelude::*;
use std::sync::Arc;

/// The convolution (without bias) of the embedded `tokens` with `kernel`
/// (`kernel_size × channels × filters`): `(batch, out, filters)`.
pub(crate) fn token_conv(
    tokens: &EmbeddedTokens,
    kernel: &Tensor,
    geometry: Geometry,
    filters: usize,
) -> Result<Tensor> {
    let (size, channels, _) = kernel.dims3()?;
    // (channels, size · filters): column block j is Kⱼ.
    let stacked = kernel
        .permute((1, 0, 2))?
        .contiguous()?
        .reshape((channels, size * filters))?;
    let p = tokens.distinct_vectors()?.matmul(&stacked)?;
    p.apply_op1(WindowSum {
        geometry,
        filters,
        row_of: tokens.distinct().row_of,
    })
}

/// `out[b, o] = Σⱼ P[row of step (o, j) of example b][j-th block]`.
struct WindowSum {
    geometry: Geometry,
    filters: usize,
    /// Per position (`batch × steps`), the row of `P` holding its token.
    row_of: Arc<Vec<u32>>,
}

impl WindowSum {
    /// Each `(step offset j, P row, output row)` of example `b`, in window order.
    fn taps(&self, b: usize) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        let g = &self.geometry;
        (0..g.out).flat_map(move |o| {
            (0..g.size).filter_map(move |j| {
                let s = g.source(o, j)?;
                Some((j, self.row_of[b * g.steps + s] as usize, b * g.out + o))
            })
        })
    }
}

impl CustomOp1 for WindowSum {
    fn name(&self) -> &'static str {
        "conv1d-tokens"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let p = f32_values(storage, layout, "conv1d projected tokens")?;
        let (g, f) = (&self.geometry, self.filters);
        let width = g.size * f;
        if self.row_of.len() != g.batch * g.steps
            || self
                .row_of
                .iter()
                .any(|&r| (r as usize + 1) * width > p.len())
        {
            bail!("conv1d-tokens: token rows do not match the projected tokens");
        }
        let mut out = vec![0f32; g.batch * g.out * f];
        out.par_chunks_mut((g.out * f).max(1))
            .enumerate()
            .for_each(|(b, ex)| {
                for (j, r, o) in self.taps(b) {
                    let src = &p[r * width + j * f..r * width + (j + 1) * f];
                    let o = o - b * g.out;
                    for (d, v) in ex[o * f..(o + 1) * f].iter_mut().zip(src) {
                        *d += v;
                    }
                }
            });
        Ok((CpuStorage::F32(out), (g.batch, g.out, f).into()))
    }

    fn bwd(&self, p: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let (g, f) = (&self.geometry, self.filters);
        let (rows, width) = p.dims2()?;
        // One `rows × filters` block per step offset j (disjoint, so built in
        // parallel), interleaved into `rows × (size · filters)` after.
        let blocks: Vec<Vec<f32>> = with_f32(grad, "conv1d output gradient", |dy| {
            (0..g.size)
                .into_par_iter()
                .map(|j| {
                    let mut block = vec![0f32; rows * f];
                    for b in 0..g.batch {
                        for o in 0..g.out {
                            let Some(s) = g.source(o, j) else { continue };
                            let r = self.row_of[b * g.steps + s] as usize;
                            let src = &dy[(b * g.out + o) * f..(b * g.out + o + 1) * f];
                            for (d, v) in block[r * f..(r + 1) * f].iter_mut().zip(src) {
                                *d += v;
                            }
                        }
                    }
                    block
                })
                .collect()
        })?;
        let mut dp = vec![0f32; rows * width];
        for (j, block) in blocks.iter().enumerate() {
            for (r, src) in block.chunks_exact(f).enumerate() {
                dp[r * width + j * f..r * width + (j + 1) * f].copy_from_slice(src);
            }
        }
        Ok(Some(Tensor::from_vec(dp, (rows, width), &Device::Cpu)?))
    }
}
