//! `activation(z + bias)` as one candle op, for `dense` and `conv1d`.
//!
//! As separate candle ops the bias add's backward is a strided reduction over
//! every axis but the last, and an activation's backward builds comparison
//! masks and products: several passes over the largest tensors of a
//! convolutional model. Here forward is one pass and backward is one pass
//! (`dz = dy · act'(y)`, with the derivative written in terms of the output
//! `y`) plus the bias gradient as column sums. Softmax (not element-wise)
//! keeps candle's ops after the fused bias add.

use super::activation::apply_activation;
use super::recurrent::kernels::{activate, deriv};
use super::storage::{f32_values, with_f32};
use crate::spec::Activation;
use candle_core::{bail, CpuStorage, CustomOp2, Device, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

/// Rows per parallel task: small batches are not worth splitting.
const MIN_VALUES_PER_TASK: usize = 16 * 1024;

/// `activation(z + bias)`, the bias (`units` values) added along the last axis.
pub(crate) fn bias_activation(
    z: &Tensor,
    bias: Option<&Tensor>,
    activation: Activation,
) -> Result<Tensor> {
    let fused = match activation {
        Activation::Softmax => Activation::Linear,
        other => other,
    };
    if bias.is_none() && fused == Activation::Linear {
        return apply_activation(activation, z);
    }
    let units = z.dims().last().copied().unwrap_or(1);
    let zero;
    let bias = match bias {
        Some(b) => b,
        None => {
            zero = Tensor::zeros(units, z.dtype(), z.device())?;
            &zero
        }
    };
    let y = z
        .contiguous()?
        .apply_op2(bias, BiasActivation { act: fused })?;
    if activation == Activation::Softmax {
        apply_activation(activation, &y)
    } else {
        Ok(y)
    }
}

struct BiasActivation {
    act: Activation,
}

/// Rows of `units` values handed to each parallel task.
fn rows_per_task(units: usize) -> usize {
    (MIN_VALUES_PER_TASK / units.max(1)).max(1)
}

impl CustomOp2 for BiasActivation {
    fn name(&self) -> &'static str {
        "bias-activation"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let z = f32_values(s1, l1, "bias-activation input")?;
        let b = f32_values(s2, l2, "bias")?;
        let units = b.len();
        if units == 0 || z.len() % units != 0 {
            bail!(
                "bias-activation: {} values are not rows of {units}",
                z.len()
            );
        }
        let mut y = z.to_vec();
        let act = self.act;
        y.par_chunks_mut(rows_per_task(units) * units)
            .for_each(|chunk| {
                for row in chunk.chunks_exact_mut(units) {
                    for (v, bv) in row.iter_mut().zip(b) {
                        *v += bv;
                    }
                    activate(act, row);
                }
            });
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(
        &self,
        _z: &Tensor,
        bias: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let units = bias.elem_count();
        let mut dz = grad.contiguous()?.flatten_all()?.to_vec1::<f32>()?;
        let act = self.act;
        // Each task returns the column sums of its rows; summed after.
        let partial: Vec<Vec<f32>> = with_f32(res, "bias-activation output", |y| {
            dz.par_chunks_mut(rows_per_task(units) * units)
                .zip(y.par_chunks(rows_per_task(units) * units))
                .map(|(d, yc)| {
                    let mut sums = vec![0f32; units];
                    for (drow, yrow) in d.chunks_exact_mut(units).zip(yc.chunks_exact(units)) {
                        for ((g, yv), s) in drow.iter_mut().zip(yrow).zip(sums.iter_mut()) {
                            *g *= deriv(act, *yv);
                            *s += *g;
                        }
                    }
                    sums
                })
                .collect()
        })?;
        let mut db = vec![0f32; units];
        for p in partial {
            for (s, v) in db.iter_mut().zip(&p) {
                *s += v;
            }
        }
        let dev = Device::Cpu;
        let dz = Tensor::from_vec(dz, res.shape(), &dev)?;
        let db = bias
            .track_op()
            .then(|| Tensor::from_vec(db, bias.shape(), &dev))
            .transpose()?;
        Ok((Some(dz), db))
    }
}
