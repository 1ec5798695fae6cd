//! `embedding → flatten → dense` as one op (the course model's first layers).
//!
//! `z[b] = Σₜ table[id(b,t)] · Kₜ`, where `Kₜ` is the `dim × units` block of
//! the dense kernel that reads step `t`. Computing it from the table rows
//! directly skips the `(batch, steps · dim)` matrix of looked-up vectors and
//! its equally large gradient, which dominate the unfused layers' time.
//! Backward gives the kernel gradient (`dKₜ = Σ_b table[id(b,t)]ᵀ·dz[b]`)
//! and the table gradient (`Kₜ·dz[b]` added to row `id(b,t)`) on two threads,
//! each only when that weight is trained; in training with `fit` the table
//! gradient is added into the table's [`GradSink`] rather than returned.

use super::storage::{f32_values, with_f32};
use super::tokens::EmbeddedTokens;
use super::GradSink;
use candle_core::{bail, CpuStorage, CustomOp2, Device, Layout, Result, Shape, Tensor};
use pulp::Simd;
use rayon::prelude::*;
use std::sync::Arc;

/// The pre-activation `x·K` of a dense layer whose input `x` is the flattened
/// embedding of `tokens`; `kernel` is `(steps · dim) × units`.
pub(crate) fn embedding_matmul(tokens: &EmbeddedTokens, kernel: &Tensor) -> Result<Tensor> {
    let op = EmbeddingMatmul {
        ids: Arc::clone(tokens.ids()),
        batch: tokens.batch(),
        steps: tokens.steps(),
        sink: tokens.grad_sink().cloned(),
    };
    tokens.table().apply_op2(kernel, op)
}

/// The op; `ids` is `batch × steps`, row-major.
struct EmbeddingMatmul {
    ids: Arc<Vec<u32>>,
    batch: usize,
    steps: usize,
    /// Where the table's gradient goes instead of back to candle, if set.
    sink: Option<Arc<GradSink>>,
}

/// `acc += a · s`, element-wise over equal lengths, in `S`'s vectors
/// (explicitly: auto-vectorised, a 16-value row falls to the short tail of a
/// loop unrolled for longer ones), the rest one by one. A multiply then an
/// add, as in the scalar reference, so every path gives the same values.
#[inline(always)]
fn axpy<S: Simd>(simd: S, acc: &mut [f32], a: &[f32], s: f32) {
    let n = acc.len().min(a.len());
    let (acc_v, acc_t) = S::as_mut_simd_f32s(&mut acc[..n]);
    let (a_v, a_t) = S::as_simd_f32s(&a[..n]);
    let sv = simd.splat_f32s(s);
    for (x, y) in acc_v.iter_mut().zip(a_v) {
        *x = simd.add_f32s(*x, simd.mul_f32s(*y, sv));
    }
    for (x, y) in acc_t.iter_mut().zip(a_t) {
        *x += y * s;
    }
}

impl EmbeddingMatmul {
    /// Check the table and kernel shapes; returns `(dim, units)`.
    fn dims(&self, table: &Shape, kernel: &Shape) -> Result<(usize, usize)> {
        let (_, dim) = table.dims2()?;
        let (rows, units) = kernel.dims2()?;
        if self.steps == 0
            || units == 0
            || rows != self.steps * dim
            || self.ids.len() != self.batch * self.steps
        {
            bail!(
                "embedding-dense: kernel has {rows} rows for {} steps of {dim} values",
                self.steps
            );
        }
        Ok((dim, units))
    }
}

/// Define `$name` as `$imp` compiled for the widest vectors this CPU has
/// (AVX2/FMA, NEON or portable, chosen at run time by `pulp`), which `$imp`
/// gets as its first argument: the rows are short (`dim` values), so wider
/// vectors cut the instructions of these loops. `$imp` called with
/// `pulp::Scalar` is the scalar reference the tests compare against.
macro_rules! simd_dispatch {
    ($(#[$doc:meta])* fn $name:ident = $imp:ident($($arg:ident: $ty:ty),*)) => {
        $(#[$doc])*
        fn $name<'a>($($arg: $ty),*) {
            /// The arguments, carried into the dispatched code.
            struct Op<'a> {
                $($arg: $ty),*
            }
            impl pulp::WithSimd for Op<'_> {
                type Output = ();
                #[inline(always)]
                fn with_simd<S: Simd>(self, simd: S) {
                    $imp(simd, $(self.$arg),*)
                }
            }
            pulp::Arch::new().dispatch(Op { $($arg),* })
        }
    };
}

simd_dispatch! {
    /// `z` (`units` values) of one example with token ids `ids`.
    fn forward_example =
        forward_example_impl(z: &'a mut [f32], ids: &'a [u32], table: &'a [f32], kernel: &'a [f32], dim: usize)
}

simd_dispatch! {
    /// Add every position's kernel-gradient term into `dk`.
    fn kernel_grad =
        kernel_grad_impl(dk: &'a mut [f32], ids: &'a [u32], table: &'a [f32], dz: &'a [f32], steps: usize, dim: usize)
}

simd_dispatch! {
    /// Add every position's table-gradient term into `dt`.
    fn table_grad =
        table_grad_impl(dt: &'a mut [f32], ids: &'a [u32], kernel: &'a [f32], dz: &'a [f32], steps: usize, dim: usize)
}

/// The one unit of an example, `Σₜ table[idₜ] · Kₜ`, for `dim = V · lanes`
/// of `S`: the per-lane sums stay in `V` registers, and are added in lane
/// order at the end, as the scalar reference adds them.
#[inline(always)]
fn one_unit<S: Simd, const V: usize>(
    simd: S,
    ids: &[u32],
    table: &[f32],
    kernel: &[f32],
    dim: usize,
) -> f32 {
    let mut acc = [simd.splat_f32s(0.0); V];
    for (t, &id) in ids.iter().enumerate() {
        let (e, _) = S::as_simd_f32s(&table[id as usize * dim..(id as usize + 1) * dim]);
        let (k, _) = S::as_simd_f32s(&kernel[t * dim..(t + 1) * dim]);
        for v in 0..V {
            acc[v] = simd.add_f32s(acc[v], simd.mul_f32s(e[v], k[v]));
        }
    }
    pulp::bytemuck::cast_slice::<S::f32s, f32>(&acc)
        .iter()
        .sum()
}

#[inline(always)]
fn forward_example_impl<S: Simd>(
    simd: S,
    z: &mut [f32],
    ids: &[u32],
    table: &[f32],
    kernel: &[f32],
    dim: usize,
) {
    let units = z.len();
    if units == 1 && dim.is_multiple_of(S::F32_LANES) {
        let sum = match dim / S::F32_LANES {
            1 => Some(one_unit::<S, 1>(simd, ids, table, kernel, dim)),
            2 => Some(one_unit::<S, 2>(simd, ids, table, kernel, dim)),
            4 => Some(one_unit::<S, 4>(simd, ids, table, kernel, dim)),
            8 => Some(one_unit::<S, 8>(simd, ids, table, kernel, dim)),
            _ => None,
        };
        if let Some(sum) = sum {
            z[0] = sum;
            return;
        }
    }
    // Per-lane sums in memory (one unit), or each unit's sum.
    let mut lanes = vec![0f32; if units == 1 { dim } else { 0 }];
    for (t, &id) in ids.iter().enumerate() {
        let e = &table[id as usize * dim..(id as usize + 1) * dim];
        let kt = &kernel[t * dim * units..(t + 1) * dim * units];
        if units == 1 {
            for ((l, a), b) in lanes.iter_mut().zip(e).zip(kt) {
                *l += a * b;
            }
        } else {
            for (d, &ed) in e.iter().enumerate() {
                axpy(simd, z, &kt[d * units..(d + 1) * units], ed);
            }
        }
    }
    if units == 1 {
        z[0] = lanes.iter().sum();
    }
}

/// Example by example, like the forward pass: each example's ids and table
/// rows are read in order (a step-major loop strides through the ids and
/// runs slower).
#[inline(always)]
fn kernel_grad_impl<S: Simd>(
    simd: S,
    dk: &mut [f32],
    ids: &[u32],
    table: &[f32],
    dz: &[f32],
    steps: usize,
    dim: usize,
) {
    let units = dk.len() / (steps * dim).max(1);
    if units == 1 && dim.is_multiple_of(S::F32_LANES) {
        return kernel_grad_one_unit(simd, dk, ids, table, dz, steps, dim);
    }
    for (b, row) in ids.chunks_exact(steps).enumerate() {
        let dzb = &dz[b * units..(b + 1) * units];
        for (t, &id) in row.iter().enumerate() {
            let e = &table[id as usize * dim..(id as usize + 1) * dim];
            let dkt = &mut dk[t * dim * units..(t + 1) * dim * units];
            if units == 1 {
                axpy(simd, dkt, e, dzb[0]);
            } else {
                for (d, &ed) in e.iter().enumerate() {
                    axpy(simd, &mut dkt[d * units..(d + 1) * units], dzb, ed);
                }
            }
        }
    }
}

/// Examples per block of [`kernel_grad_one_unit`].
const KERNEL_GRAD_BLOCK: usize = 4;

/// [`kernel_grad_impl`] for one unit and `dim` a multiple of `S`'s lanes:
/// a step's kernel row stays in a register while the terms of a block of
/// examples are added to it, in example order (the order of the scalar
/// reference, so the values are the same), and is loaded and stored once per
/// block instead of once per example.
#[inline(always)]
fn kernel_grad_one_unit<S: Simd>(
    simd: S,
    dk: &mut [f32],
    ids: &[u32],
    table: &[f32],
    dz: &[f32],
    steps: usize,
    dim: usize,
) {
    let row = |id: u32| S::as_simd_f32s(&table[id as usize * dim..(id as usize + 1) * dim]).0;
    for (q, block) in ids.chunks(steps * KERNEL_GRAD_BLOCK).enumerate() {
        let n = block.len() / steps;
        let s: [S::f32s; KERNEL_GRAD_BLOCK] = std::array::from_fn(|j| {
            simd.splat_f32s(dz.get(q * KERNEL_GRAD_BLOCK + j).copied().unwrap_or(0.0))
        });
        for t in 0..steps {
            let rows: [&[S::f32s]; KERNEL_GRAD_BLOCK] = std::array::from_fn(|j| {
                if j < n {
                    row(block[j * steps + t])
                } else {
                    &[]
                }
            });
            let (acc, _) = S::as_mut_simd_f32s(&mut dk[t * dim..(t + 1) * dim]);
            for (v, acc) in acc.iter_mut().enumerate() {
                let mut a = *acc;
                for j in 0..n {
                    a = simd.add_f32s(a, simd.mul_f32s(rows[j][v], s[j]));
                }
                *acc = a;
            }
        }
    }
}

#[inline(always)]
fn table_grad_impl<S: Simd>(
    simd: S,
    dt: &mut [f32],
    ids: &[u32],
    kernel: &[f32],
    dz: &[f32],
    steps: usize,
    dim: usize,
) {
    let units = kernel.len() / (steps * dim).max(1);
    for (b, row) in ids.chunks_exact(steps).enumerate() {
        let dzb = &dz[b * units..(b + 1) * units];
        for (t, &id) in row.iter().enumerate() {
            let dst = &mut dt[id as usize * dim..(id as usize + 1) * dim];
            let kt = &kernel[t * dim * units..(t + 1) * dim * units];
            if units == 1 {
                axpy(simd, dst, kt, dzb[0]);
            } else {
                for (d, v) in dst.iter_mut().enumerate() {
                    *v += kt[d * units..(d + 1) * units]
                        .iter()
                        .zip(dzb)
                        .map(|(k, g)| k * g)
                        .sum::<f32>();
                }
            }
        }
    }
}

impl CustomOp2 for EmbeddingMatmul {
    fn name(&self) -> &'static str {
        "embedding-dense"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (dim, units) = self.dims(l1.shape(), l2.shape())?;
        let (table, kernel) = (
            f32_values(s1, l1, "embedding table")?,
            f32_values(s2, l2, "dense kernel")?,
        );
        let steps = self.steps;
        let mut out = vec![0f32; self.batch * units];
        out.par_chunks_mut(units)
            .zip(self.ids.par_chunks(steps))
            .with_min_len(16)
            .for_each(|(z, ids)| forward_example(z, ids, table, kernel, dim));
        Ok((CpuStorage::F32(out), (self.batch, units).into()))
    }

    fn bwd(
        &self,
        table: &Tensor,
        kernel: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (dim, units) = self.dims(table.shape(), kernel.shape())?;
        let (vocab, steps) = (table.dims()[0], self.steps);
        let ids = &self.ids;
        // The weights are read in place (a copy of the table per step costs
        // as much as the table gradient's arithmetic).
        let (dt, dk) = with_f32(grad, "gradient", |dz| {
            with_f32(table, "embedding table", |tv| {
                with_f32(kernel, "dense kernel", |kv| {
                    let kernel_grad = || -> Option<Vec<f32>> {
                        if !kernel.track_op() {
                            return None;
                        }
                        let mut dk = vec![0f32; steps * dim * units];
                        kernel_grad(&mut dk, ids, tv, dz, steps, dim);
                        Some(dk)
                    };
                    // Table: rows are shared between positions, so one thread adds them all.
                    let table_grad = || -> Option<Vec<f32>> {
                        if !table.track_op() {
                            return None;
                        }
                        GradSink::add_or_new(self.sink.as_deref(), vocab * dim, |dt| {
                            table_grad(dt, ids, kv, dz, steps, dim)
                        })
                    };
                    rayon::join(table_grad, kernel_grad)
                })
            })
        })???;
        let dev = Device::Cpu;
        Ok((
            dt.map(|v| Tensor::from_vec(v, (vocab, dim), &dev))
                .transpose()?,
            dk.map(|v| Tensor::from_vec(v, (steps * dim, units), &dev))
                .transpose()?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `|a - b| ≤ 1e-5 · max(1, |b|)` for every pair.
    fn assert_close(got: &[f32], want: &[f32], what: &str) {
        assert_eq!(got.len(), want.len(), "{what}");
        for (i, (a, b)) in got.iter().zip(want).enumerate() {
            assert!(
                (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                "{what}[{i}]: {a} vs {b}"
            );
        }
    }

    /// Every dispatched kernel against its scalar reference (the same code
    /// compiled without SIMD target features), for one and several units.
    #[test]
    fn simd_kernels_match_scalar_reference() {
        let (vocab, steps, batch) = (37, 11, 5);
        let ids: Vec<u32> = (0..batch * steps).map(|i| (i * 7 % vocab) as u32).collect();
        // 19: no whole vectors; 4 to 64: the one-unit path's register sums.
        for (dim, units) in [19, 4, 8, 16, 32, 64]
            .into_iter()
            .flat_map(|d| [(d, 1), (d, 3), (d, 17)])
        {
            let table: Vec<f32> = (0..vocab * dim).map(|i| (i as f32 * 0.31).sin()).collect();
            let kernel: Vec<f32> = (0..steps * dim * units)
                .map(|i| (i as f32 * 0.17).cos())
                .collect();
            let dz: Vec<f32> = (0..batch * units).map(|i| (i as f32 * 0.7).sin()).collect();
            for (b, row) in ids.chunks_exact(steps).enumerate() {
                let (mut simd, mut scalar) = (vec![0.5f32; units], vec![0.5f32; units]);
                forward_example(&mut simd, row, &table, &kernel, dim);
                forward_example_impl(pulp::Scalar::new(), &mut scalar, row, &table, &kernel, dim);
                assert_close(
                    &simd,
                    &scalar,
                    &format!("forward dim={dim} units={units} b={b}"),
                );
            }
            let (mut simd, mut scalar) = (vec![0f32; kernel.len()], vec![0f32; kernel.len()]);
            kernel_grad(&mut simd, &ids, &table, &dz, steps, dim);
            kernel_grad_impl(
                pulp::Scalar::new(),
                &mut scalar,
                &ids,
                &table,
                &dz,
                steps,
                dim,
            );
            assert_close(&simd, &scalar, &format!("kernel grad units={units}"));
            let (mut simd, mut scalar) = (vec![0f32; table.len()], vec![0f32; table.len()]);
            table_grad(&mut simd, &ids, &kernel, &dz, steps, dim);
            table_grad_impl(
                pulp::Scalar::new(),
                &mut scalar,
                &ids,
                &kernel,
                &dz,
                steps,
                dim,
            );
            assert_close(&simd, &scalar, &format!("table grad units={units}"));
            assert!(
                scalar.iter().any(|v| *v != 0.0),
                "the reference did some work"
            );
        }
    }
}
