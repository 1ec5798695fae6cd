//! `embedding → flatten → dense` as one op (the course model's first layers).
//!
//! `z[b] = Σₜ table[id(b,t)] · Kₜ`, where `Kₜ` is the `dim × units` block of
//! the dense kernel that reads step `t`. Computing it from the table rows
//! directly skips the `(batch, steps · dim)` matrix of looked-up vectors and
//! its equally large gradient, which dominate the unfused layers' time.
//! Backward gives the kernel gradient (`dKₜ = Σ_b table[id(b,t)]ᵀ·dz[b]`,
//! split over steps between threads) and the table gradient (`Kₜ·dz[b]`
//! added to row `id(b,t)`), each only when that weight is trained.

use super::storage::f32_values;
use super::tokens::EmbeddedTokens;
use candle_core::{bail, CpuStorage, CustomOp2, Device, Layout, Result, Shape, Tensor};
use rayon::prelude::*;
use std::sync::Arc;

/// The pre-activation `x·K` of a dense layer whose input `x` is the flattened
/// embedding of `tokens`; `kernel` is `(steps · dim) × units`.
pub(crate) fn embedding_matmul(tokens: &EmbeddedTokens, kernel: &Tensor) -> Result<Tensor> {
    let op = EmbeddingMatmul {
        ids: Arc::clone(tokens.ids()),
        batch: tokens.batch(),
        steps: tokens.steps(),
    };
    tokens.table().apply_op2(kernel, op)
}

/// The op; `ids` is `batch × steps`, row-major.
struct EmbeddingMatmul {
    ids: Arc<Vec<u32>>,
    batch: usize,
    steps: usize,
}

/// `acc += a · s`, element-wise over equal lengths. (Plain `*` and `+`, not
/// `mul_add`: without a compile-time FMA target that is a libm call.)
#[inline(always)]
fn axpy(acc: &mut [f32], a: &[f32], s: f32) {
    for (x, y) in acc.iter_mut().zip(a) {
        *x += y * s;
    }
}

/// `acc += a ⊙ b`, element-wise over equal lengths.
#[inline(always)]
fn mul_acc(acc: &mut [f32], a: &[f32], b: &[f32]) {
    for ((x, y), z) in acc.iter_mut().zip(a).zip(b) {
        *x += y * z;
    }
}

impl EmbeddingMatmul {
    /// Check the table and kernel shapes; returns `(dim, units)`.
    fn dims(&self, table: &Shape, kernel: &Shape) -> Result<(usize, usize)> {
        let (_, dim) = table.dims2()?;
        let (rows, units) = kernel.dims2()?;
        if rows != self.steps * dim || self.ids.len() != self.batch * self.steps {
            bail!(
                "embedding-dense: kernel has {rows} rows for {} steps of {dim} values",
                self.steps
            );
        }
        Ok((dim, units))
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
            .for_each(|(z, ids)| {
                // One unit: per-lane products summed once at the end, so the
                // loop vectorises instead of reducing a short dot per token.
                let mut lanes = vec![0f32; if units == 1 { dim } else { 0 }];
                for (t, &id) in ids.iter().enumerate() {
                    let e = &table[id as usize * dim..(id as usize + 1) * dim];
                    let kt = &kernel[t * dim * units..(t + 1) * dim * units];
                    if units == 1 {
                        mul_acc(&mut lanes, e, kt);
                    } else {
                        for (d, &ed) in e.iter().enumerate() {
                            axpy(z, &kt[d * units..(d + 1) * units], ed);
                        }
                    }
                }
                if units == 1 {
                    z[0] = lanes.iter().sum();
                }
            });
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
        let dz = grad.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
        let tv = table.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
        let kv = kernel.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
        let (vocab, steps, batch) = (table.dims()[0], self.steps, self.batch);
        let ids = &self.ids;
        // Kernel: each step's block is its own, so steps split over threads freely.
        let kernel_grad = || -> Option<Vec<f32>> {
            if !kernel.track_op() {
                return None;
            }
            let mut dk = vec![0f32; steps * dim * units];
            dk.par_chunks_mut(dim * units)
                .enumerate()
                .for_each(|(t, dkt)| {
                    for b in 0..batch {
                        let id = ids[b * steps + t] as usize;
                        let e = &tv[id * dim..(id + 1) * dim];
                        let dzb = &dz[b * units..(b + 1) * units];
                        if units == 1 {
                            axpy(dkt, e, dzb[0]);
                        } else {
                            for (d, &ed) in e.iter().enumerate() {
                                axpy(&mut dkt[d * units..(d + 1) * units], dzb, ed);
                            }
                        }
                    }
                });
            Some(dk)
        };
        // Table: rows are shared between positions, so one thread adds them all.
        let table_grad = || -> Option<Vec<f32>> {
            if !table.track_op() {
                return None;
            }
            let mut dt = vec![0f32; vocab * dim];
            for (b, row) in ids.chunks_exact(steps).enumerate() {
                let dzb = &dz[b * units..(b + 1) * units];
                for (t, &id) in row.iter().enumerate() {
                    let dst = &mut dt[id as usize * dim..(id as usize + 1) * dim];
                    let kt = &kv[t * dim * units..(t + 1) * dim * units];
                    if units == 1 {
                        axpy(dst, kt, dzb[0]);
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
            Some(dt)
        };
        let (dt, dk) = rayon::join(table_grad, kernel_grad);
        let dev = Device::Cpu;
        Ok((
            dt.map(|v| Tensor::from_vec(v, (vocab, dim), &dev))
                .transpose()?,
            dk.map(|v| Tensor::from_vec(v, (steps * dim, units), &dev))
                .transpose()?,
        ))
    }
}
