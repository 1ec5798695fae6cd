//! Inference: raw outputs, class probabilities, loss and accuracy on a split.

use super::{check_loss, count_correct, loss_tensor, AccuracyRule, Dataset, InputData, TaskInfo};
use crate::model::{Model, ModelError, Pass};
use crate::spec::{LossSpec, TaskKind};
use candle_core::{Device, Tensor};

/// Raw model outputs in inference mode, row-major (`examples × output width`).
pub fn outputs(
    model: &Model,
    inputs: &InputData,
    batch_size: usize,
) -> Result<Vec<f32>, ModelError> {
    inputs.check_for(model, "prediction")?;
    let n = inputs.len();
    let mut out = Vec::with_capacity(n * model.output_width());
    let bs = batch_size.max(1);
    let rows: Vec<usize> = (0..n).collect();
    for chunk in rows.chunks(bs) {
        let y = model.forward_batch(&inputs.model_batch(chunk)?, &mut Pass::inference())?;
        out.extend(y.flatten_all()?.to_vec1::<f32>()?);
    }
    Ok(out)
}

/// Class probabilities or values, one row per example: binary `[1 − p, p]`
/// (from one output; a two-output model gives its softmax row), multiclass the
/// softmax row, regression `[value]`. `from_logits` says whether the model's
/// last layer gives logits (then sigmoid / softmax is applied here).
pub fn predict(
    model: &Model,
    inputs: &InputData,
    task: &TaskInfo,
    from_logits: bool,
    batch_size: usize,
) -> Result<Vec<Vec<f32>>, ModelError> {
    let width = model.output_width().max(1);
    let raw = outputs(model, inputs, batch_size)?;
    let rows = raw.chunks(width).map(|row| {
        if task.kind == TaskKind::Regression {
            return vec![row[0]];
        }
        if row.len() == 1 {
            let p = if from_logits {
                1.0 / (1.0 + (-row[0]).exp())
            } else {
                row[0].clamp(0.0, 1.0)
            };
            return vec![1.0 - p, p];
        }
        if from_logits {
            let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let e: Vec<f32> = row.iter().map(|v| (v - m).exp()).collect();
            let s: f32 = e.iter().sum();
            e.into_iter().map(|v| v / s).collect()
        } else {
            let s: f32 = row.iter().sum();
            row.iter()
                .map(|v| if s > 0.0 { v / s } else { *v })
                .collect()
        }
    });
    Ok(rows.collect())
}

/// Loss and accuracy on a split.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// Mean loss (inference mode), weighted by batch size.
    pub loss: f64,
    /// Fraction correct (see [`AccuracyRule`]).
    pub accuracy: f64,
}

/// Loss and accuracy of `model` on `data` in inference mode.
pub fn evaluate(
    model: &Model,
    data: &Dataset,
    loss: &LossSpec,
    task: &TaskInfo,
    batch_size: usize,
) -> Result<Evaluation, ModelError> {
    data.check_for(model, task, "evaluation")?;
    check_loss(model, loss, task)?;
    let n = data.len();
    if n == 0 {
        return Err(ModelError::Input("evaluation data has no examples".into()));
    }
    let width = model.output_width();
    let rule = AccuracyRule::for_task(task, loss, width);
    let rows: Vec<usize> = (0..n).collect();
    let (mut loss_sum, mut correct) = (0.0f64, 0usize);
    // Keras reports the loss with the kernel regularisers' penalties included.
    let penalty = model.l2_penalty_value()?;
    for chunk in rows.chunks(batch_size.max(1)) {
        let y = model.forward_batch(&data.inputs.model_batch(chunk)?, &mut Pass::inference())?;
        let t: Vec<f32> = chunk.iter().map(|&r| data.targets[r]).collect();
        let tt = Tensor::from_slice(&t, t.len(), &Device::Cpu)?;
        let l = loss_tensor(loss, &y, &tt)?.to_scalar::<f32>()? as f64;
        loss_sum += l * chunk.len() as f64;
        correct += count_correct(rule, &y.flatten_all()?.to_vec1::<f32>()?, width, &t);
    }
    Ok(Evaluation {
        loss: loss_sum / n as f64 + penalty,
        accuracy: correct as f64 / n as f64,
    })
}

/// The mean loss of `model` on `data` (the test loss).
pub fn evaluate_loss(
    model: &Model,
    data: &Dataset,
    loss: &LossSpec,
    task: &TaskInfo,
    batch_size: usize,
) -> Result<f64, ModelError> {
    Ok(evaluate(model, data, loss, task, batch_size)?.loss)
}
