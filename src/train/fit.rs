//! The training loop.

use super::{
    check_loss, class_weights, count_correct, evaluate, loss_tensor, monitored,
    weighted_loss_tensor, weighted_mean_loss_tensor, AccuracyRule, Dataset, EpochRecord, GradNorms,
    History, Monitor, Optimizer, Plateau, SparseOptimizer, TaskInfo,
};
use crate::model::{Model, ModelError, Pass};
use crate::spec::{Invalid, MonitorName, ScheduleSpec, TrainSpec};
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

/// What [`fit_with`] may need beyond the data and the train spec.
#[derive(Debug, Clone, Copy, Default)]
pub struct FitContext<'a> {
    /// Class names in index order, so `train.class_weight` may name classes
    /// (without them, only class indices are accepted as keys).
    pub class_names: Option<&'a [String]>,
    /// Per-example weights of the training rows (`data.weight_column`), in
    /// row order: the loss becomes the weighted mean `Σ wᵢ·lᵢ / Σ wᵢ` of each
    /// batch (times the class weight with `train.class_weight`), so a row
    /// of weight 0 adds nothing. Metrics (accuracy) stay unweighted.
    pub example_weights: Option<&'a [f32]>,
}

/// Train `model` for `cfg.epochs` epochs of mini-batches of `cfg.batch_size`
/// ([`fit_with`] without class names).
pub fn fit(
    model: &mut Model,
    train: &Dataset,
    validation: Option<&Dataset>,
    cfg: &TrainSpec,
    task: &TaskInfo,
    seed: u64,
    observer: &mut dyn TrainObserver,
) -> Result<History, ModelError> {
    fit_with(
        model,
        train,
        validation,
        cfg,
        task,
        seed,
        observer,
        &FitContext::default(),
    )
}

/// Train `model` for up to `cfg.epochs` epochs of mini-batches of `cfg.batch_size`.
///
/// Like Keras `model.fit`: examples are shuffled before each epoch when
/// `cfg.shuffle` (seeded by `seed`, so a run is reproducible), the last batch
/// may be smaller, the reported loss is the batch-size-weighted mean of the
/// batch losses (class-weighted when `class_weight` is set, as Keras reports
/// it), and the validation split is evaluated after each epoch in inference
/// mode. After each epoch, reduce-on-plateau may lower the learning rate and
/// early stopping may end training (restoring the best weights when asked).
/// Each epoch records the layers' mean gradient norms. Inputs, targets and the
/// loss / output width are checked first.
#[allow(clippy::too_many_arguments)]
pub fn fit_with(
    model: &mut Model,
    train: &Dataset,
    validation: Option<&Dataset>,
    cfg: &TrainSpec,
    task: &TaskInfo,
    seed: u64,
    observer: &mut dyn TrainObserver,
    ctx: &FitContext<'_>,
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
    let has_validation = validation.is_some_and(|v| !v.is_empty());
    let needs_validation = |at: &str, m: MonitorName| -> Result<(), ModelError> {
        if m.needs_validation() && !has_validation {
            return Err(Invalid::new(
                at,
                format!(
                    "monitor `{}` needs validation data, but there is none; monitor `{}` or add a validation split",
                    m.as_str(),
                    if m == MonitorName::ValAccuracy { "accuracy" } else { "loss" }
                ),
            )
            .into());
        }
        Ok(())
    };
    let mut stopper = match &cfg.early_stopping {
        Some(es) => {
            needs_validation("train.early_stopping.monitor", es.monitor)?;
            Some((es, Monitor::new(es)))
        }
        None => None,
    };
    let mut plateau = match &cfg.optimizer.schedule {
        ScheduleSpec::ReduceOnPlateau(r) => {
            needs_validation(
                "train.optimizer.schedule.reduce_on_plateau.monitor",
                r.monitor,
            )?;
            Some((r.monitor, Plateau::new(r)))
        }
        _ => None,
    };
    let mut example_weights: Option<Vec<f32>> = match &cfg.class_weight {
        Some(spec) => {
            let w = class_weights(spec, &train.targets, task, ctx.class_names)?;
            Some(
                train
                    .targets
                    .iter()
                    .map(|t| w[*t as usize] as f32)
                    .collect(),
            )
        }
        None => None,
    };
    // Data weights make the loss a weighted mean (class weights alone keep
    // Keras's `Σ wᵢ·lᵢ / batch size`).
    let weighted_mean = ctx.example_weights.is_some();
    if let Some(data) = ctx.example_weights {
        if data.len() != n {
            return Err(ModelError::Input(format!(
                "{} example weights for {n} training examples",
                data.len()
            )));
        }
        example_weights = Some(match example_weights {
            Some(c) => c.iter().zip(data).map(|(c, d)| c * d).collect(),
            None => data.to_vec(),
        });
    }
    let mut optimizer = Optimizer::new(&cfg.optimizer, model.trainable_vars())?;
    optimizer.read_grad_sinks(model.grad_sinks());
    let mut norms = GradNorms::new(model);
    let mut best_weights: Option<Vec<Tensor>> = None;
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
        let mut grad_bands: Vec<(String, Vec<f64>)> = Vec::new();
        if cfg.shuffle {
            order.shuffle(&mut shuffle_rng);
        }
        let (mut loss_sum, mut seen, mut correct) = (0.0f64, 0usize, 0usize);
        let mut lr_used = optimizer.current_learning_rate();
        for (b, rows) in order.chunks(cfg.batch_size).enumerate() {
            let x = train.inputs.model_batch(rows)?;
            let t: Vec<f32> = rows.iter().map(|&r| train.targets[r]).collect();
            let tt = Tensor::from_slice(&t, t.len(), &Device::Cpu)?;
            // The last batch of the epoch also records recurrent layers'
            // per-timestep-band input gradients (the vanishing-gradient view).
            let last_batch = b + 1 == n_batches;
            let mut pass = Pass::training(&mut dropout_rng);
            pass.set_record_grad_bands(last_batch);
            pass.set_use_grad_sinks(true);
            let y = model.forward_batch(&x, &mut pass)?;
            let loss = match &example_weights {
                Some(w) => {
                    let wb: Vec<f32> = rows.iter().map(|&r| w[r]).collect();
                    let wt = Tensor::from_slice(&wb, wb.len(), &Device::Cpu)?;
                    if weighted_mean {
                        weighted_mean_loss_tensor(&cfg.loss, &y, &tt, &wt)?
                    } else {
                        weighted_loss_tensor(&cfg.loss, &y, &tt, &wt)?
                    }
                }
                None => loss_tensor(&cfg.loss, &y, &tt)?,
            };
            let loss = sparse_optimizer.with_penalties(model, loss, &x)?;
            let grads = loss.backward()?;
            if last_batch {
                grad_bands = model
                    .layers()
                    .iter()
                    .filter_map(|l| Some((l.name().to_string(), l.timestep_grad_bands()?)))
                    .collect();
            }
            lr_used = optimizer.current_learning_rate();
            optimizer.step(&grads)?;
            norms.add_step(optimizer.last_sq_norms());
            // The sparse-input kernel's lazy update (it has no dense gradient),
            // at the rate the scheduled dense optimizer just used.
            sparse_optimizer.step(model, lr_used)?;
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
            learning_rate: Some(lr_used),
            grad_norms: norms.take_epoch(),
            grad_bands,
        };
        observer.on_epoch(&record);
        if let Some((monitor, p)) = &mut plateau {
            if let Some(v) = monitored(&record, *monitor) {
                let lr = p.on_epoch_end(v, optimizer.learning_rate());
                optimizer.set_learning_rate(lr);
            }
        }
        let stop_value = stopper
            .as_ref()
            .and_then(|(es, _)| monitored(&record, es.monitor));
        history.epochs.push(record);
        if let (Some((es, m)), Some(v)) = (&mut stopper, stop_value) {
            if es.restore_best_weights && best_weights.is_none() {
                best_weights = Some(snapshot(model)?);
            }
            let d = m.on_epoch_end(epoch - 1, v);
            history.best_epoch = m.best_epoch().map(|e| e + 1);
            if d.improved && es.restore_best_weights {
                best_weights = Some(snapshot(model)?);
            }
            if d.stop {
                history.stopped_epoch = Some(epoch);
                if let (true, Some(saved)) = (es.restore_best_weights, &best_weights) {
                    for ((_, w), t) in model.named_weights().iter().zip(saved) {
                        w.var.set(t)?;
                    }
                    history.restored_best_weights = true;
                }
                break;
            }
        }
    }
    // The gradient buffers are not needed after training (a table's worth each).
    for (_, sink) in model.grad_sinks() {
        sink.release();
    }
    Ok(history)
}

/// A deep copy of every weight, in `named_weights` order.
fn snapshot(model: &Model) -> candle_core::Result<Vec<Tensor>> {
    model
        .named_weights()
        .iter()
        .map(|(_, w)| w.var.as_tensor().copy())
        .collect()
}
