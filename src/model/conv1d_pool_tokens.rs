//! `conv1d` + bias + activation + max pooling right after an `embedding`, as
//! one candle op on the batch's tokens.
//!
//! Forward as `conv1d_tokens.rs`: `P = vectors · [K₀ … K_{k−1}]` (one row
//! per distinct token of the batch), each convolution step the sum of
//! `kernel_size` slices of `P`; then, per example in a small buffer, the
//! pooling epilogue of `conv1d_pool.rs` (only the maxima and their steps
//! are kept). Backward touches only the maxima, as `conv1d_pool.rs` does on
//! a gathered copy of each example's token vectors: a pooled value with
//! gradient `g` at step `t` adds `g ·` the window at `t` (`kernel_size ·
//! channels` contiguous values) to its filter's kernel column, and `g ·`
//! that column to the window's gradient; each step's gradient then goes to
//! its token's row of a per-task gradient over the batch's distinct tokens
//! (a few thousand rows, not the whole table), added into the table's
//! gradient at the end. The op reads the table itself, so no lookup op and
//! no gradient of the looked-up rows sit in between; no `P`-sized gradient
//! is built and no matmul runs backward.

use super::conv1d_geometry::Geometry;
use super::conv1d_pool::{
    examples_per_task, pool_examples, MaxWindows, PaddedWindows, PooledSteps, WindowGrads,
};
use super::conv1d_pool_kernels::{add_into, windows_times};
use super::lookup::scatter_add;
use super::recurrent::kernels::transpose;
use super::storage::{f32_values, with_f32};
use super::tokens::{Distinct, EmbeddedTokens};
use super::GradSink;
use crate::spec::Activation;
use candle_core::{bail, CpuStorage, CustomOp3, Device, Layout, Result, Shape, Tensor};
use pulp::{Arch, Simd, WithSimd};
use rayon::prelude::*;
use std::sync::Arc;

/// Filters whose window sums stay in registers: up to this many vectors.
const MAX_SUM_VECTORS: usize = 8;

/// Rows of `P` per parallel task.
const P_ROWS_PER_TASK: usize = 256;

/// `maxpool(activation(conv1d(embedded tokens) + bias))`: `(batch, windows,
/// filters)`, or `(batch, filters)` for a global pooling. `kernel`:
/// `kernel_size × channels × filters`; `arch` as [`super::conv1d_pool::conv_pool`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn token_conv_pool(
    tokens: &EmbeddedTokens,
    kernel: &Tensor,
    bias: &Tensor,
    geometry: Geometry,
    windows: MaxWindows,
    act: Activation,
    arch: Arch,
) -> Result<Tensor> {
    if !windows.fit(geometry.out) || act == Activation::Softmax {
        bail!(
            "conv1d-pool: {windows:?} do not fit {} convolution steps",
            geometry.out
        );
    }
    let op = TokenConvPool {
        geometry,
        windows,
        act,
        filters: bias.elem_count(),
        distinct: tokens.distinct(),
        ids: Arc::clone(tokens.ids()),
        arch,
        argmax: PooledSteps::default(),
        sink: tokens.grad_sink().cloned(),
    };
    // The table itself is the input: backward writes its gradient directly
    // (no per-batch lookup op and no gradient of the looked-up rows).
    let y = tokens.table().apply_op3(kernel, bias, op)?;
    if windows.squeeze {
        y.squeeze(1)
    } else {
        Ok(y)
    }
}

struct TokenConvPool {
    geometry: Geometry,
    windows: MaxWindows,
    act: Activation,
    filters: usize,
    /// The batch's distinct tokens: `P` has one row per distinct token.
    distinct: Distinct,
    /// Token id per position (`batch × steps`).
    ids: Arc<Vec<u32>>,
    arch: Arch,
    /// The convolution step of each pooled value's maximum (`batch × windows × filters`).
    argmax: PooledSteps,
    /// Where the table's gradient goes instead of back to candle, if set.
    sink: Option<Arc<GradSink>>,
}

impl TokenConvPool {
    /// Each tap `(j, P row of the token at step t + j)` of step `t` of example `b`.
    #[inline(always)]
    fn taps(&self, b: usize, t: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        let (g, row_of) = (&self.geometry, &self.distinct.row_of);
        (0..g.size).filter_map(move |j| Some((j, row_of[b * g.steps + g.source(t, j)?] as usize)))
    }
}

impl CustomOp3 for TokenConvPool {
    fn name(&self) -> &'static str {
        "conv1d-pool-tokens"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let table = f32_values(s1, l1, "embedding table")?;
        let kernel = f32_values(s2, l2, "conv1d kernel")?;
        let bias = f32_values(s3, l3, "conv1d bias")?;
        let (g, w, f) = (&self.geometry, &self.windows, self.filters);
        let (c, pw) = (g.channels, g.size * f);
        let vocab = table.len() / c.max(1);
        let (row_of, distinct) = (&self.distinct.row_of, &self.distinct.ids);
        let rows = distinct.len();
        if kernel.len() != g.size * c * f
            || row_of.len() != g.batch * g.steps
            || self.ids.len() != g.batch * g.steps
            || row_of.iter().any(|&r| r as usize >= rows)
            || distinct.iter().any(|&id| id as usize >= vocab)
        {
            bail!("conv1d-pool-tokens: token rows or kernel do not match the layer");
        }
        let mut v = vec![0f32; rows * c];
        for (dst, &id) in v.chunks_exact_mut(c).zip(distinct.iter()) {
            dst.copy_from_slice(&table[id as usize * c..(id as usize + 1) * c]);
        }
        // (channels, size · filters): column block j is Kⱼ.
        let mut stacked = vec![0f32; c * pw];
        for (j, kj) in kernel.chunks_exact(c * f).enumerate() {
            for (ch, krow) in kj.chunks_exact(f).enumerate() {
                stacked[ch * pw + j * f..ch * pw + (j + 1) * f].copy_from_slice(krow);
            }
        }
        let mut p = vec![0f32; rows * pw];
        p.par_chunks_mut(P_ROWS_PER_TASK * pw)
            .zip(v.par_chunks(P_ROWS_PER_TASK * c))
            .for_each(|(pc, vc)| {
                let m = vc.len() / c;
                self.arch.dispatch(Product {
                    c: pc,
                    a: vc,
                    b: &stacked,
                    dims: (m, c, pw),
                });
            });
        let (y, steps) = pool_examples(self.arch, g.batch, w, f, bias, self.act, |b, z, _| {
            self.arch.dispatch(WindowSums {
                op: self,
                b,
                p: &p,
                z,
            });
        });
        self.argmax.keep(steps);
        Ok((CpuStorage::F32(y), (g.batch, w.out, f).into()))
    }

    fn bwd(
        &self,
        table: &Tensor,
        kernel: &Tensor,
        bias: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (g, f) = (&self.geometry, self.filters);
        let (c, width) = (g.channels, g.size * g.channels);
        let (argmax, gz) =
            self.argmax
                .take_with_gradient("conv1d-pool-tokens", grad, res, self.act)?;
        let kt = with_f32(kernel, "conv1d kernel", |k| transpose(k, width, f))?;
        let (vocab, rows) = (table.dim(0)?, self.distinct.ids.len());
        let padded = PaddedWindows::new(g, &self.windows);
        let per_out = self.windows.out * f;
        let per_task = examples_per_task(g.batch);
        let tasks = g.batch.div_ceil(per_task);
        // Per task: the gradient of each distinct token's row (not of the
        // whole table: a batch reads a few thousand of its rows), the
        // kernel's (as `[filter][tap · channel]`) and the bias's.
        let partial: Vec<(Vec<f32>, Vec<f32>, Vec<f32>)> =
            with_f32(table, "embedding table", |v| {
                (0..tasks)
                    .into_par_iter()
                    .map(|task| {
                        let (mut drows, mut dkt, mut db) =
                            (vec![0f32; rows * c], vec![0f32; f * width], vec![0f32; f]);
                        let mut xp = vec![0f32; padded.len() * c];
                        let mut dxp = vec![0f32; padded.len() * c];
                        for b in task * per_task..((task + 1) * per_task).min(g.batch) {
                            let positions = b * g.steps..(b + 1) * g.steps;
                            // The example's token vectors, as the windows read them.
                            padded.fill(&mut xp, c, |s| {
                                let id = self.ids[positions.start + s] as usize;
                                &v[id * c..(id + 1) * c]
                            });
                            dxp.fill(0.0);
                            let span = b * per_out..(b + 1) * per_out;
                            self.arch.dispatch(WindowGrads {
                                gz: &gz[span.clone()],
                                argmax: &argmax[span],
                                xp: &xp,
                                kt: &kt,
                                g,
                                f,
                                dkt: &mut dkt,
                                db: &mut db,
                                dxp: &mut dxp,
                            });
                            // Each real step's gradient to its token's row.
                            let row_of = &self.distinct.row_of[positions];
                            for (&r, gs) in row_of
                                .iter()
                                .zip(padded.real_steps(&dxp, c).chunks_exact(c))
                            {
                                let r = r as usize;
                                add_into(&mut drows[r * c..(r + 1) * c], gs);
                            }
                        }
                        (drows, dkt, db)
                    })
                    .collect()
            })?;
        let mut parts = partial.into_iter();
        let Some((mut drows, mut dkt, mut db)) = parts.next() else {
            bail!("conv1d-pool-tokens: empty batch");
        };
        for (r, k, b) in parts {
            add_into(&mut drows, &r);
            add_into(&mut dkt, &k);
            add_into(&mut db, &b);
        }
        let dev = Device::Cpu;
        let dk = kernel
            .track_op()
            .then(|| Tensor::from_vec(transpose(&dkt, f, width), kernel.shape(), &dev))
            .transpose()?;
        let db = bias
            .track_op()
            .then(|| Tensor::from_vec(db, bias.shape(), &dev))
            .transpose()?;
        let dv = if table.track_op() {
            GradSink::add_or_new(self.sink.as_deref(), vocab * c, |t| {
                scatter_add(t, &drows, &self.distinct.ids, c)
            })
            .map(|t| Tensor::from_vec(t, (vocab, c), &dev))
            .transpose()?
        } else {
            None
        };
        Ok((dv, dk, db))
    }
}

/// `P = vectors · stacked` for a chunk of rows, run under `pulp`'s dispatch.
struct Product<'a> {
    c: &'a mut [f32],
    a: &'a [f32],
    b: &'a [f32],
    dims: (usize, usize, usize),
}

impl WithSimd for Product<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let (m, k, n) = self.dims;
        windows_times(simd, self.c, self.a, k, self.b, m, k, n)
    }
}

/// The convolution steps of example `b` as sums of `P` slices, run under `pulp`'s dispatch.
struct WindowSums<'a> {
    op: &'a TokenConvPool,
    b: usize,
    /// `rows × (size · filters)`.
    p: &'a [f32],
    /// `used steps × filters`, overwritten.
    z: &'a mut [f32],
}

impl WithSimd for WindowSums<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let WindowSums { op, b, p, z } = self;
        let f = op.filters;
        let pw = op.geometry.size * f;
        let vectors = f / S::F32_LANES;
        if f % S::F32_LANES != 0 || vectors > MAX_SUM_VECTORS {
            z.fill(0.0);
            for (t, zt) in z.chunks_exact_mut(f).enumerate() {
                for (j, r) in op.taps(b, t) {
                    add_into(zt, &p[r * pw + j * f..r * pw + (j + 1) * f]);
                }
            }
            return;
        }
        // A step's sum stays in registers over its taps (same order as above).
        for (t, zt) in z.chunks_exact_mut(f).enumerate() {
            let mut acc = [simd.splat_f32s(0.0); MAX_SUM_VECTORS];
            for (j, r) in op.taps(b, t) {
                let (pv, _) = S::as_simd_f32s(&p[r * pw + j * f..r * pw + (j + 1) * f]);
                for (a, v) in acc.iter_mut().zip(pv) {
                    *a = simd.add_f32s(*a, *v);
                }
            }
            let (zv, _) = S::as_mut_simd_f32s(zt);
            zv.copy_from_slice(&acc[..vectors]);
        }
    }
}
