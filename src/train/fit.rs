//! The training loop.

use super::{
    check_loss, count_correct, evaluate, loss_tensor, AccuracyRule, Dataset, EpochRecord, History,
    Optimizer, SparseOptimizer, TaskInfo,
};
use crate::model::{Model, ModelError, Pass};
use crate::spec::TrainSpec;
use candle_core::{Device, Tensor};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

/// ChaCha streams of the training seed: one for shuffles, one for dropout, so
/// adding a dropout layer does not change the order examples are seen in.
const SHUFFLE_STREAM: u64 = 2;
const DROPOUT_STREAM: u64 = 3;

/// Progress callbacks from [`fit`]; both have empty defaults. `()` observes nothing.
pub trait TrainObserver {
    /// After each batch (`batch` from 1 to `n_batches`), with the epoch's mean loss so far.
    fn on_batch(&mut self, epoch: usize, batch: usize, n_batches: usize, running_loss: f64) {
        let _ = (epoch, batch, n_batches, running_loss);
    }
    /// After each epoch, validation included.
    fn on_epoch(&mut self, record: &EpochRecord) {
        let _ = record;
    }
}

impl TrainObserver for () {}

/// Train `model` for `cfg.epochs` epochs of mini-batches of `cfg.batch_size`.
///
/// Like Keras `model.fit`: examples are shuffled before each epoch when
/// `cfg.shuffle` (seeded by `seed`, so a run is reproducible), the last batch
/// may be smaller, the reported loss is the batch-size-weighted mean of the
/// batch losses, and the validation split is evaluated after each epoch in
/// inference mode. Inputs, targets and the loss / output width are checked first.
pub fn fit(
    model: &mut Model,
    train: &Dataset,
    validation: Option<&Dataset>,
    cfg: &TrainSpec,
    task: &TaskInfo,
    seed: u64,
    observer: &mut dyn TrainObserver,
) -> Result<History, ModelError> {
    check_loss(model, &cfg.loss, task)?;
    train.check_for(model, task, "training")?;
    if let Some(v) = validation {
        v.check_for(model, task, "validation")?;
    }
    let n = train.len();
    if n == 0 {
        return Err(ModelError::Input("training data has no examples".into()));
    }
    if cfg.batch_size == 0 {
        return Err(ModelError::Input(
            "train.batch_size must be at least 1".into(),
        ));
    }
    let width = model.output_width();
    let rule = AccuracyRule::for_task(task, &cfg.loss, width);
    let mut optimizer = Optimizer::new(&cfg.optimizer, model.trainable_vars())?;
    let mut sparse_optimizer = SparseOptimizer::new(&cfg.optimizer, model)?;
    let mut shuffle_rng = ChaCha8Rng::seed_from_u64(seed);
    shuffle_rng.set_stream(SHUFFLE_STREAM);
    let mut dropout_rng = ChaCha8Rng::seed_from_u64(seed);
    dropout_rng.set_stream(DROPOUT_STREAM);
    let mut order: Vec<usize> = (0..n).collect();
    let n_batches = n.div_ceil(cfg.batch_size);
    let mut history = History::default();
    for epoch in 1..=cfg.epochs {
        let start = Instant::now();
        if cfg.shuffle {
            order.shuffle(&mut shuffle_rng);
        }
        let (mut loss_sum, mut seen, mut correct) = (0.0f64, 0usize, 0usize);
        for (b, rows) in order.chunks(cfg.batch_size).enumerate() {
            let x = train.inputs.model_batch(rows)?;
            let t: Vec<f32> = rows.iter().map(|&r| train.targets[r]).collect();
            let tt = Tensor::from_slice(&t, t.len(), &Device::Cpu)?;
            let y = model.forward_batch(&x, &mut Pass::training(&mut dropout_rng))?;
            let loss = loss_tensor(&cfg.loss, &y, &tt)?;
            let loss = sparse_optimizer.with_penalties(model, loss, &x)?;
            let grads = loss.backward()?;
            optimizer.step(&grads)?;
            // The sparse-input kernel's lazy update (it has no dense gradient).
            sparse_optimizer.step(model, cfg.optimizer.learning_rate)?;
            let l = loss.to_scalar::<f32>()? as f64;
            if !l.is_finite() {
                return Err(ModelError::Input(format!(
                    "the training loss became {l} in epoch {epoch}, batch {}; lower `train.optimizer.learning_rate` or check that `train.loss.from_logits` matches the last layer's activation",
                    b + 1
                )));
            }
            loss_sum += l * rows.len() as f64;
            seen += rows.len();
            correct += count_correct(rule, &y.flatten_all()?.to_vec1::<f32>()?, width, &t);
            observer.on_batch(epoch, b + 1, n_batches, loss_sum / seen as f64);
        }
        let (val_loss, val_accuracy) = match validation {
            Some(v) if !v.is_empty() => {
                let e = evaluate(model, v, &cfg.loss, task, cfg.batch_size)?;
                (Some(e.loss), Some(e.accuracy))
            }
            _ => (None, None),
        };
        let record = EpochRecord {
            epoch,
            loss: loss_sum / n as f64,
            accuracy: correct as f64 / n as f64,
            val_loss,
            val_accuracy,
            seconds: start.elapsed().as_secs_f64(),
        };
        observer.on_epoch(&record);
        history.epochs.push(record);
    }
    Ok(history)
}
