//! Loss functions with Keras's definitions, as differentiable candle graphs.

use crate::spec::{LossName, LossSpec};
use candle_core::{DType, Result, Tensor, D};

/// Keras's fuzz factor `backend.epsilon()`: probabilities are clipped to
/// `[eps, 1 - eps]` before taking logs.
pub const KERAS_EPSILON: f64 = 1e-7;

/// Mean loss over a batch, as a scalar tensor.
///
/// `output` is the model output (batch × width); `targets` holds one `f32`
/// per example: 0/1 for binary, the class index for the categorical losses
/// (categorical and sparse categorical cross-entropy have the same value when
/// the one-hot target is built from that index), the number for regression.
///
/// - `binary_crossentropy`, `from_logits`: `max(z,0) − z·y + ln(1 + e^−|z|)`
///   (stable); otherwise the output is a probability clipped to `[eps, 1−eps]`
///   and `−(y ln p + (1−y) ln(1−p))`.
/// - categorical: `−log_softmax(z)[y]`; on probabilities, rows are renormalised,
///   clipped to `[eps, 1−eps]` and `−ln p[y]` (Keras).
/// - `mse` `(ŷ−y)²`, `mae` `|ŷ−y|`, `huber` (`delta` d): `½e²` for `|e| ≤ d`,
///   `d·|e| − ½d²` beyond.
pub fn loss_tensor(spec: &LossSpec, output: &Tensor, targets: &Tensor) -> Result<Tensor> {
    per_example_loss(spec, output, targets)?.mean_all()
}

/// Keras's loss with per-example weights (`class_weight`): `Σ wᵢ·lᵢ / batch size`.
pub fn weighted_loss_tensor(
    spec: &LossSpec,
    output: &Tensor,
    targets: &Tensor,
    weights: &Tensor,
) -> Result<Tensor> {
    let per = per_example_loss(spec, output, targets)?;
    per.mul(&weights.flatten_all()?.to_dtype(per.dtype())?)?
        .mean_all()
}

/// The weighted mean of the per-example losses, `Σ wᵢ·lᵢ / Σ wᵢ`
/// (`data.weight_column`); 0 for a batch whose weights are all 0, so such
/// rows move nothing.
pub fn weighted_mean_loss_tensor(
    spec: &LossSpec,
    output: &Tensor,
    targets: &Tensor,
    weights: &Tensor,
) -> Result<Tensor> {
    let per = per_example_loss(spec, output, targets)?;
    let w = weights.flatten_all()?.to_dtype(per.dtype())?;
    let total: f64 = w
        .sum_all()?
        .to_dtype(candle_core::DType::F64)?
        .to_scalar()?;
    per.mul(&w)?.sum_all()?.affine(1.0 / total.max(1e-12), 0.0)
}

/// The loss of each example of the batch (see [`loss_tensor`]), shape `(batch,)`.
pub fn per_example_loss(spec: &LossSpec, output: &Tensor, targets: &Tensor) -> Result<Tensor> {
    let eps = KERAS_EPSILON;
    match spec.name {
        LossName::BinaryCrossentropy => {
            let z = output.flatten_all()?;
            let y = targets.flatten_all()?.to_dtype(z.dtype())?;
            let per = if spec.from_logits {
                let softplus = z.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?;
                z.relu()?.sub(&z.mul(&y)?)?.add(&softplus)?
            } else {
                let p = z.clamp(eps, 1.0 - eps)?;
                let one_minus_y = y.affine(-1.0, 1.0)?;
                let one_minus_p = p.affine(-1.0, 1.0)?;
                y.mul(&p.log()?)?
                    .add(&one_minus_y.mul(&one_minus_p.log()?)?)?
                    .neg()?
            };
            Ok(per)
        }
        LossName::SparseCategoricalCrossentropy | LossName::CategoricalCrossentropy => {
            let idx = targets.flatten_all()?.to_dtype(DType::U32)?.unsqueeze(1)?;
            let log_p = if spec.from_logits {
                candle_nn::ops::log_softmax(output, D::Minus1)?
            } else {
                let p = output.broadcast_div(&output.sum_keepdim(D::Minus1)?)?;
                p.clamp(eps, 1.0 - eps)?.log()?
            };
            log_p.gather(&idx, 1)?.neg()?.flatten_all()
        }
        LossName::Mse | LossName::Mae | LossName::Huber => {
            let yhat = output.flatten_all()?;
            let y = targets.flatten_all()?.to_dtype(yhat.dtype())?;
            let e = yhat.sub(&y)?;
            match spec.name {
                LossName::Mse => e.sqr(),
                LossName::Mae => e.abs(),
                _ => {
                    // q = min(|e|, d): ½q² + d(|e| − q) is ½e² inside, d|e| − ½d² outside.
                    let d = spec.delta;
                    let a = e.abs()?;
                    let q = a.clamp(0.0, d)?;
                    q.sqr()?.affine(0.5, 0.0)?.add(&a.sub(&q)?.affine(d, 0.0)?)
                }
            }
        }
    }
}
