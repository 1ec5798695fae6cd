//! Max and average pooling over windows of the time axis as one candle op.
//!
//! Used by local pooling (`max_pooling1d`, `average_pooling1d`: windows of
//! `pool_size` steps, `strides` apart) and global pooling (one window over all
//! steps). Max keeps the index of each window's maximum, so its backward is a
//! scatter; average divides by the window's step count, or, with a padding
//! mask (`global_average_pooling1d` after `mask_zero`, as Keras does), by the
//! number of real steps, leaving padding steps out of the sum (an all-padding
//! example averages to zero rather than Keras's 0/0).

use super::storage::{f32_values, with_f32};
use super::PoolKind;
use candle_core::{bail, CpuStorage, CustomOp1, Device, Layout, Result, Shape, Tensor};
use rayon::prelude::*;
use std::sync::{Arc, Mutex};

/// Pool `x` (`batch × steps × channels`) over `out` windows of `size` steps,
/// `stride` apart, from step 0: `batch × out × channels`. `mask` (`batch ×
/// steps`, `true` = real step) only affects average pooling.
pub(crate) fn pool(
    x: &Tensor,
    kind: PoolKind,
    size: usize,
    stride: usize,
    out: usize,
    mask: Option<Arc<Vec<bool>>>,
) -> Result<Tensor> {
    let (batch, steps, channels) = x.dims3()?;
    if size == 0 || (out > 0 && (out - 1) * stride + size > steps) {
        bail!("pooling: {out} windows of {size} steps, {stride} apart, do not fit {steps} steps");
    }
    let mask = mask.filter(|m| kind == PoolKind::Average && m.len() == batch * steps);
    x.contiguous()?.apply_op1(Pool {
        kind,
        batch,
        steps,
        channels,
        size,
        stride,
        out,
        mask,
        argmax: Mutex::new(Vec::new()),
    })
}

struct Pool {
    kind: PoolKind,
    batch: usize,
    steps: usize,
    channels: usize,
    size: usize,
    stride: usize,
    out: usize,
    mask: Option<Arc<Vec<bool>>>,
    /// Max pooling: the step of each output value's maximum (`batch × out × channels`).
    argmax: Mutex<Vec<u32>>,
}

impl Pool {
    /// Whether step `t` of example `b` counts (always, without a mask).
    fn live(&self, b: usize, t: usize) -> bool {
        self.mask.as_ref().is_none_or(|m| m[b * self.steps + t])
    }

    /// The steps of window `o` that count for example `b`, and how many there are.
    fn window(&self, b: usize, o: usize) -> (std::ops::Range<usize>, usize) {
        let start = o * self.stride;
        let steps = start..start + self.size;
        let n = steps.clone().filter(|&t| self.live(b, t)).count();
        (steps, n)
    }
}

impl CustomOp1 for Pool {
    fn name(&self) -> &'static str {
        "pool1d"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = f32_values(storage, layout, "pooling input")?;
        let c = self.channels;
        let per_in = self.steps * c;
        let per_out = self.out * c;
        let mut y = vec![0f32; self.batch * per_out];
        let mut arg = vec![
            0u32;
            if self.kind == PoolKind::Max {
                y.len()
            } else {
                0
            }
        ];
        let arg_chunks: Vec<&mut [u32]> = if arg.is_empty() {
            (0..self.batch).map(|_| &mut [][..]).collect()
        } else {
            arg.chunks_mut(per_out.max(1)).collect()
        };
        y.par_chunks_mut(per_out.max(1))
            .zip(arg_chunks)
            .enumerate()
            .for_each(|(b, (yb, ab))| {
                let xb = &x[b * per_in..(b + 1) * per_in];
                for o in 0..self.out {
                    let yo = &mut yb[o * c..(o + 1) * c];
                    let (steps, n) = self.window(b, o);
                    match self.kind {
                        PoolKind::Max => {
                            let ao = &mut ab[o * c..(o + 1) * c];
                            let first = steps.start;
                            yo.copy_from_slice(&xb[first * c..(first + 1) * c]);
                            ao.fill(first as u32);
                            for t in steps.skip(1) {
                                for ((m, i), v) in yo
                                    .iter_mut()
                                    .zip(ao.iter_mut())
                                    .zip(&xb[t * c..(t + 1) * c])
                                {
                                    if *v > *m {
                                        *m = *v;
                                        *i = t as u32;
                                    }
                                }
                            }
                        }
                        PoolKind::Average => {
                            for t in steps.filter(|&t| self.live(b, t)) {
                                for (m, v) in yo.iter_mut().zip(&xb[t * c..(t + 1) * c]) {
                                    *m += v;
                                }
                            }
                            let scale = 1.0 / n.max(1) as f32;
                            yo.iter_mut().for_each(|v| *v *= scale);
                        }
                    }
                }
            });
        if self.kind == PoolKind::Max {
            *self
                .argmax
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = arg;
        }
        Ok((CpuStorage::F32(y), (self.batch, self.out, c).into()))
    }

    fn bwd(&self, _x: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        with_f32(grad, "pooling output gradient", |dy| self.backward(dy))?
    }
}

impl Pool {
    /// The input gradient for the output gradient `dy`.
    fn backward(&self, dy: &[f32]) -> Result<Option<Tensor>> {
        let c = self.channels;
        let (per_in, per_out) = (self.steps * c, self.out * c);
        let argmax = self
            .argmax
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.kind == PoolKind::Max && argmax.len() != dy.len() {
            bail!("pooling: backward without a forward pass");
        }
        let mut dx = vec![0f32; self.batch * per_in];
        dx.par_chunks_mut(per_in.max(1))
            .enumerate()
            .for_each(|(b, dxb)| {
                let dyb = &dy[b * per_out..(b + 1) * per_out];
                for o in 0..self.out {
                    let dyo = &dyb[o * c..(o + 1) * c];
                    match self.kind {
                        PoolKind::Max => {
                            let ao = &argmax[b * per_out + o * c..b * per_out + (o + 1) * c];
                            for (ch, (&t, g)) in ao.iter().zip(dyo).enumerate() {
                                dxb[t as usize * c + ch] += g;
                            }
                        }
                        PoolKind::Average => {
                            let (steps, n) = self.window(b, o);
                            let scale = 1.0 / n.max(1) as f32;
                            for t in steps.filter(|&t| self.live(b, t)) {
                                for (d, g) in dxb[t * c..(t + 1) * c].iter_mut().zip(dyo) {
                                    *d += g * scale;
                                }
                            }
                        }
                    }
                }
            });
        let dx = Tensor::from_vec(dx, (self.batch, self.steps, c), &Device::Cpu)?;
        Ok(Some(dx))
    }
}
