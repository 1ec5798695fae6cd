//! Unit tests of the training module: loss values against hand-computed and
//! Keras-documented numbers, optimizer steps, determinism and learning.

use super::*;
use crate::model::{Model, ModelInput};
use crate::spec::{
    Activation, DenseSpec, DropoutSpec, EmbeddingSpec, LayerSpec, LossName, LossSpec,
    OptimizerName, OptimizerSpec, TaskKind, TrainSpec,
};
use candle_core::{Device, Tensor, Var};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn t2(rows: &[&[f32]]) -> Tensor {
    let w = rows[0].len();
    let flat: Vec<f32> = rows.iter().flat_map(|r| r.iter().copied()).collect();
    Tensor::from_vec(flat, (rows.len(), w), &Device::Cpu).unwrap()
}

fn t1(v: &[f32]) -> Tensor {
    Tensor::from_slice(v, v.len(), &Device::Cpu).unwrap()
}

fn loss(name: LossName, from_logits: bool, out: &Tensor, y: &[f32]) -> f64 {
    let spec = LossSpec {
        name,
        from_logits,
        ..LossSpec::default()
    };
    loss_tensor(&spec, out, &t1(y))
        .unwrap()
        .to_scalar::<f32>()
        .unwrap() as f64
}

fn close(a: f64, b: f64, tol: f64) {
    assert!((a - b).abs() <= tol, "{a} vs {b}");
}

#[test]
fn binary_crossentropy_from_logits() {
    // ln 2, ln(1 + e^2), ln(1 + e): (0.6931472 + 2.1269280 + 1.3132617) / 3.
    let out = t2(&[&[0.0], &[2.0], &[-1.0]]);
    close(
        loss(LossName::BinaryCrossentropy, true, &out, &[1.0, 0.0, 1.0]),
        1.3777790,
        1e-6,
    );
    // Keras docs: y [0, 1, 0, 0], logits [-18.6, 0.51, 2.94, -12.8] -> 0.865.
    let out = t2(&[&[-18.6], &[0.51], &[2.94], &[-12.8]]);
    close(
        loss(
            LossName::BinaryCrossentropy,
            true,
            &out,
            &[0.0, 1.0, 0.0, 0.0],
        ),
        0.865,
        5e-4,
    );
    // Stable for large logits: -ln sigmoid(-100) = 100, not inf.
    let out = t2(&[&[-100.0], &[100.0]]);
    close(
        loss(LossName::BinaryCrossentropy, true, &out, &[1.0, 1.0]),
        50.0,
        1e-4,
    );
}

#[test]
fn binary_crossentropy_on_probabilities_clips_like_keras() {
    // -ln 0.9 and -ln 0.8.
    let out = t2(&[&[0.9], &[0.2]]);
    close(
        loss(LossName::BinaryCrossentropy, false, &out, &[1.0, 0.0]),
        (0.1053605 + 0.2231436) / 2.0,
        1e-6,
    );
    // Keras docs: y [[0, 1], [0, 0]], p [[0.6, 0.4], [0.4, 0.6]] -> 0.815.
    let out = t2(&[&[0.6], &[0.4], &[0.4], &[0.6]]);
    close(
        loss(
            LossName::BinaryCrossentropy,
            false,
            &out,
            &[0.0, 1.0, 0.0, 0.0],
        ),
        0.814925,
        1e-5,
    );
    // p = 0 for a positive: clipped to 1e-7, -ln(1e-7) = 16.118096.
    let out = t2(&[&[0.0]]);
    close(
        loss(LossName::BinaryCrossentropy, false, &out, &[1.0]),
        16.118096,
        1e-3,
    );
}

#[test]
fn categorical_crossentropy_values() {
    // -log_softmax([1, 2, 3])[2] = ln(e + e^2 + e^3) - 3 = 0.40760596.
    let out = t2(&[&[1.0, 2.0, 3.0]]);
    close(
        loss(LossName::SparseCategoricalCrossentropy, true, &out, &[2.0]),
        0.40760596,
        1e-6,
    );
    close(
        loss(LossName::CategoricalCrossentropy, true, &out, &[2.0]),
        0.40760596,
        1e-6,
    );
    // -log_softmax([1, 2, 3])[0] = 2.40760596.
    close(
        loss(LossName::SparseCategoricalCrossentropy, true, &out, &[0.0]),
        2.40760596,
        1e-6,
    );
    // Keras docs: y [1, 2], p [[0.05, 0.95, 0], [0.1, 0.8, 0.1]] -> [0.0513, 2.303], mean 1.177.
    let out = t2(&[&[0.05, 0.95, 0.0], &[0.1, 0.8, 0.1]]);
    close(
        loss(
            LossName::SparseCategoricalCrossentropy,
            false,
            &out,
            &[1.0, 2.0],
        ),
        1.1769392,
        1e-5,
    );
    close(
        loss(LossName::CategoricalCrossentropy, false, &out, &[1.0, 2.0]),
        1.1769392,
        1e-5,
    );
}

#[test]
fn regression_losses() {
    let out = t2(&[&[1.0], &[1.0], &[1.0], &[0.0]]);
    close(
        loss(LossName::Mse, true, &out, &[0.0, 1.0, 0.0, 0.0]),
        0.5,
        1e-7,
    );
    close(
        loss(LossName::Mae, true, &out, &[0.0, 1.0, 0.0, 0.0]),
        0.5,
        1e-7,
    );
    let out = t2(&[&[3.0], &[-1.0]]);
    close(
        loss(LossName::Mse, true, &out, &[1.0, 0.0]),
        (4.0 + 1.0) / 2.0,
        1e-6,
    );
    close(
        loss(LossName::Mae, true, &out, &[1.0, 0.0]),
        (2.0 + 1.0) / 2.0,
        1e-6,
    );
    // Keras docs: y [[0, 1], [0, 0]], p [[0.6, 0.4], [0.4, 0.6]] -> 0.155.
    let out = t2(&[&[0.6], &[0.4], &[0.4], &[0.6]]);
    close(
        loss(LossName::Huber, true, &out, &[0.0, 1.0, 0.0, 0.0]),
        0.155,
        1e-6,
    );
    // Beyond delta 1: |e| - 1/2: errors 3 and 0.5 -> (2.5 + 0.125) / 2.
    let out = t2(&[&[3.0], &[0.5]]);
    close(loss(LossName::Huber, true, &out, &[0.0, 0.0]), 1.3125, 1e-6);
}

/// One variable w = 1 with loss 2·w, so the gradient is 2.
fn one_step(spec: &OptimizerSpec, steps: usize) -> f64 {
    let w = Var::new(&[1.0f32], &Device::Cpu).unwrap();
    let mut opt = Optimizer::new(spec, vec![w.clone()]).unwrap();
    for _ in 0..steps {
        let l = w.as_tensor().affine(2.0, 0.0).unwrap().sum_all().unwrap();
        opt.step(&l.backward().unwrap()).unwrap();
    }
    assert_eq!(opt.iterations(), steps as u64);
    w.to_vec1::<f32>().unwrap()[0] as f64
}

#[test]
fn adam_follows_keras_update_rule() {
    let mut spec = OptimizerSpec {
        epsilon: 0.1,
        ..OptimizerSpec::default()
    };
    // Step 1: m = 0.2, v = 0.004, alpha = lr·sqrt(1 - 0.999)/(1 - 0.9); epsilon added to sqrt(v)
    // (not to the bias-corrected sqrt(v̂), which would give 1 - 0.001·2/2.1).
    let alpha = 0.001 * (0.001f64).sqrt() / 0.1;
    close(
        one_step(&spec, 1),
        1.0 - alpha * 0.2 / ((0.004f64).sqrt() + 0.1),
        1e-7,
    );
    // Step 2 with the same gradient: m = 0.38, v = 0.007996.
    let w1 = 1.0 - alpha * 0.2 / ((0.004f64).sqrt() + 0.1);
    let alpha2 = 0.001 * (1.0 - 0.999f64.powi(2)).sqrt() / (1.0 - 0.9f64.powi(2));
    close(
        one_step(&spec, 2),
        w1 - alpha2 * 0.38 / ((0.007996f64).sqrt() + 0.1),
        1e-7,
    );
    // Keras default epsilon: the first step moves by lr.
    spec.epsilon = 1e-7;
    close(one_step(&spec, 1), 0.999, 1e-6);
}

#[test]
fn sgd_and_adamw_updates() {
    let sgd = OptimizerSpec {
        name: OptimizerName::Sgd,
        learning_rate: 0.1,
        ..OptimizerSpec::default()
    };
    close(one_step(&sgd, 1), 0.8, 1e-7);
    close(one_step(&sgd, 2), 0.6, 1e-6);
    // Decoupled decay first: w·(1 - wd·lr) = 0.9999, then Adam's ~lr step.
    let adamw = OptimizerSpec {
        name: OptimizerName::Adamw,
        weight_decay: 0.1,
        ..OptimizerSpec::default()
    };
    close(one_step(&adamw, 1), 0.9999 - 0.001, 1e-6);
}

fn dense(units: usize, activation: Activation) -> DenseSpec {
    DenseSpec {
        units,
        activation,
        use_bias: true,
        kernel: None,
        bias: None,
        trainable: true,
        kernel_regularizer: None,
    }
}

/// Sequences of `len` random tokens 1..50 (never 7); positives get a 7 somewhere.
fn token7_data(n: usize, len: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut ids = Vec::with_capacity(n * len);
    let mut targets = Vec::with_capacity(n);
    for _ in 0..n {
        let mut row: Vec<u32> = (0..len)
            .map(|_| {
                let t = rng.random_range(1..49u32);
                if t >= 7 {
                    t + 1
                } else {
                    t
                }
            })
            .collect();
        let positive = rng.random_bool(0.5);
        if positive {
            let at = rng.random_range(0..len);
            row[at] = 7;
        }
        ids.extend(row);
        targets.push(if positive { 1.0 } else { 0.0 });
    }
    Dataset {
        inputs: InputData::Sequences { ids, width: len },
        targets,
    }
}

fn token7_model(seed: u64, dropout: bool) -> Model {
    let mut layers = vec![
        LayerSpec::Embedding(EmbeddingSpec::new(50, 8)),
        LayerSpec::GlobalMaxPooling1d,
    ];
    if dropout {
        layers.push(LayerSpec::Dropout(DropoutSpec { rate: 0.3 }));
    }
    layers.push(LayerSpec::Dense(dense(1, Activation::Linear)));
    Model::new(&layers, &ModelInput::Sequence { maxlen: 20 }, seed).unwrap()
}

const BINARY: TaskInfo = TaskInfo {
    kind: TaskKind::Binary,
    n_classes: 2,
};

fn cfg(epochs: usize, lr: f64) -> TrainSpec {
    TrainSpec {
        optimizer: OptimizerSpec {
            learning_rate: lr,
            ..OptimizerSpec::default()
        },
        loss: LossSpec::default(),
        epochs,
        batch_size: 32,
        shuffle: true,
        ..TrainSpec::default()
    }
}

#[derive(Default)]
struct Recorder {
    batches: usize,
    epochs: Vec<usize>,
}

impl TrainObserver for Recorder {
    fn on_batch(&mut self, _epoch: usize, batch: usize, n_batches: usize, running_loss: f64) {
        assert!(batch >= 1 && batch <= n_batches && running_loss.is_finite());
        self.batches += 1;
    }
    fn on_epoch(&mut self, record: &EpochRecord) {
        self.epochs.push(record.epoch);
    }
}

#[test]
fn training_learns_the_token_7_task() {
    let train = token7_data(1000, 20, 1);
    let val = token7_data(300, 20, 2);
    let mut model = token7_model(3, false);
    let mut rec = Recorder::default();
    let h = fit(
        &mut model,
        &train,
        Some(&val),
        &cfg(15, 0.01),
        &BINARY,
        5,
        &mut rec,
    )
    .unwrap();
    assert_eq!(rec.epochs, (1..=15).collect::<Vec<_>>());
    assert_eq!(rec.batches, 15 * 1000usize.div_ceil(32));
    let first = &h.epochs[0];
    let last = h.last().unwrap();
    assert!(
        last.loss < first.loss * 0.5,
        "{} -> {}",
        first.loss,
        last.loss
    );
    assert!(last.val_accuracy.unwrap() > 0.95, "{last:?}");
    // Same batches as fit's validation pass: the same number.
    let e = evaluate(&model, &val, &LossSpec::default(), &BINARY, 32).unwrap();
    assert_eq!(Some(e.loss), last.val_loss);
    assert_eq!(Some(e.accuracy), last.val_accuracy);
    close(
        evaluate_loss(&model, &val, &LossSpec::default(), &BINARY, 7).unwrap(),
        e.loss,
        1e-5,
    );

    let probs = predict(&model, &val.inputs, &BINARY, true, 100).unwrap();
    assert_eq!(probs.len(), 300);
    let correct = probs
        .iter()
        .zip(&val.targets)
        .filter(|(p, t)| {
            assert!((p[0] + p[1] - 1.0).abs() < 1e-6);
            (p[1] > 0.5) == (**t == 1.0)
        })
        .count();
    close(correct as f64 / 300.0, e.accuracy, 1e-12);
}

fn all_weights(m: &Model) -> Vec<Vec<f32>> {
    m.named_weights()
        .into_iter()
        .map(|(_, w)| w.var.flatten_all().unwrap().to_vec1::<f32>().unwrap())
        .collect()
}

#[test]
fn same_seed_gives_identical_weights_after_two_epochs() {
    let train = token7_data(300, 20, 9);
    let run = |seed: u64| {
        let mut m = token7_model(seed, true);
        let h = fit(&mut m, &train, None, &cfg(2, 0.01), &BINARY, seed, &mut ()).unwrap();
        (
            all_weights(&m),
            h.epochs.iter().map(|e| e.loss).collect::<Vec<_>>(),
        )
    };
    let (a, la) = run(1);
    let (b, lb) = run(1);
    let (c, _) = run(2);
    assert_eq!(a, b);
    assert_eq!(la, lb);
    assert_ne!(a, c);
}

#[test]
fn frozen_layers_are_not_updated() {
    let mut frozen = dense(4, Activation::Relu);
    frozen.trainable = false;
    let layers = vec![
        LayerSpec::Dense(frozen),
        LayerSpec::Dense(dense(1, Activation::Linear)),
    ];
    let mut model = Model::new(&layers, &ModelInput::Features { width: 3 }, 1).unwrap();
    let before = all_weights(&model);
    let data = Dataset {
        inputs: InputData::Features {
            values: (0..60).map(|i| (i % 7) as f32 / 7.0).collect(),
            width: 3,
        },
        targets: (0..20).map(|i| (i % 2) as f32).collect(),
    };
    fit(&mut model, &data, None, &cfg(3, 0.05), &BINARY, 1, &mut ()).unwrap();
    let after = all_weights(&model);
    assert_eq!(before[0], after[0]);
    assert_eq!(before[1], after[1]);
    assert_ne!(before[2], after[2]);
}

#[test]
fn regression_and_multiclass_train() {
    // y = 2·x0 − x1 + 0.5 is learnable by one dense unit.
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let values: Vec<f32> = (0..400).map(|_| rng.random_range(-1.0..1.0)).collect();
    let targets: Vec<f32> = values.chunks(2).map(|r| 2.0 * r[0] - r[1] + 0.5).collect();
    let data = Dataset {
        inputs: InputData::Features { values, width: 2 },
        targets,
    };
    let task = TaskInfo {
        kind: TaskKind::Regression,
        n_classes: 0,
    };
    let mut c = cfg(60, 0.05);
    c.loss = LossSpec {
        name: LossName::Mse,
        from_logits: true,
        ..LossSpec::default()
    };
    let mut model = Model::new(
        &[LayerSpec::Dense(dense(1, Activation::Linear))],
        &ModelInput::Features { width: 2 },
        2,
    )
    .unwrap();
    let h = fit(&mut model, &data, None, &c, &task, 2, &mut ()).unwrap();
    assert!(h.last().unwrap().loss < 1e-3, "{:?}", h.last());
    let p = predict(&model, &data.inputs, &task, true, 50).unwrap();
    assert_eq!(p[0].len(), 1);
    close(p[0][0] as f64, data.targets[0] as f64, 0.05);

    // Three classes by which feature is largest.
    let values: Vec<f32> = (0..900).map(|_| rng.random_range(0.0..1.0)).collect();
    let targets: Vec<f32> = values
        .chunks(3)
        .map(|r| (0..3).max_by(|a, b| r[*a].total_cmp(&r[*b])).unwrap_or(0) as f32)
        .collect();
    let data = Dataset {
        inputs: InputData::Features { values, width: 3 },
        targets,
    };
    let task = TaskInfo {
        kind: TaskKind::Multiclass,
        n_classes: 3,
    };
    c.epochs = 80;
    c.loss.name = LossName::SparseCategoricalCrossentropy;
    let mut model = Model::new(
        &[LayerSpec::Dense(dense(3, Activation::Linear))],
        &ModelInput::Features { width: 3 },
        2,
    )
    .unwrap();
    let h = fit(&mut model, &data, None, &c, &task, 2, &mut ()).unwrap();
    assert!(h.last().unwrap().accuracy > 0.85, "{:?}", h.last());
    let p = predict(&model, &data.inputs, &task, true, 64).unwrap();
    assert!(p
        .iter()
        .all(|r| r.len() == 3 && (r.iter().sum::<f32>() - 1.0).abs() < 1e-5));
}

#[test]
fn mismatched_loss_and_data_are_reported() {
    let model = token7_model(1, false);
    let wrong = LossSpec {
        name: LossName::SparseCategoricalCrossentropy,
        from_logits: true,
        ..LossSpec::default()
    };
    let e = check_loss(&model, &wrong, &BINARY).unwrap_err();
    assert_eq!(e.path, "model.layers[2]");
    assert!(e.message.contains("`units: 2`"), "{}", e.message);

    let mut data = token7_data(10, 20, 1);
    if let InputData::Sequences { ids, .. } = &mut data.inputs {
        ids[25] = 50;
    }
    let mut m = token7_model(1, false);
    let r = fit(&mut m, &data, None, &cfg(1, 0.01), &BINARY, 1, &mut ());
    match r {
        Err(crate::model::ModelError::Input(msg)) => {
            assert!(
                msg.contains("example 1 has token id 50") && msg.contains("input_dim is 50"),
                "{msg}"
            )
        }
        other => panic!("expected an input error, got {other:?}"),
    }
    let mut data = token7_data(10, 20, 1);
    data.targets[3] = 2.0;
    assert!(fit(&mut m, &data, None, &cfg(1, 0.01), &BINARY, 1, &mut ()).is_err());
}

#[test]
fn accuracy_rules() {
    let t = [1.0, 0.0, 1.0];
    assert_eq!(
        count_correct(AccuracyRule::Threshold(0.0), &[0.1, -0.1, -0.2], 1, &t),
        2
    );
    assert_eq!(
        count_correct(AccuracyRule::Threshold(0.5), &[0.6, 0.4, 0.5], 1, &t),
        2
    );
    assert_eq!(
        count_correct(AccuracyRule::Argmax, &[0.1, 0.9, 0.8, 0.2, 0.3, 0.7], 2, &t),
        3
    );
    assert_eq!(
        count_correct(AccuracyRule::Rounded, &[1.4, 0.6, 0.5], 1, &t),
        2
    );
    let logits = LossSpec::default();
    assert_eq!(
        AccuracyRule::for_task(&BINARY, &logits, 1),
        AccuracyRule::Threshold(0.0)
    );
    let probs = LossSpec {
        from_logits: false,
        ..LossSpec::default()
    };
    assert_eq!(
        AccuracyRule::for_task(&BINARY, &probs, 1),
        AccuracyRule::Threshold(0.5)
    );
}

#[test]
fn from_logits_must_match_the_last_activation() {
    let feat = ModelInput::Features { width: 3 };
    let sigmoid = Model::new(&[LayerSpec::Dense(dense(1, Activation::Sigmoid))], &feat, 1).unwrap();
    let linear = Model::new(
        &[
            LayerSpec::Dense(dense(4, Activation::Relu)),
            LayerSpec::Dense(dense(1, Activation::Linear)),
        ],
        &feat,
        1,
    )
    .unwrap();
    let logits = LossSpec::default();
    let probs = LossSpec {
        from_logits: false,
        ..LossSpec::default()
    };
    assert!(check_loss(&sigmoid, &probs, &BINARY).is_ok());
    assert!(check_loss(&linear, &logits, &BINARY).is_ok());
    let e = check_loss(&sigmoid, &logits, &BINARY).unwrap_err();
    assert_eq!(e.path, "train.loss.from_logits");
    assert!(e.message.contains("applies sigmoid"), "{}", e.message);
    let e = check_loss(&linear, &probs, &BINARY).unwrap_err();
    assert_eq!(e.path, "model.layers[1].dense.activation");
    assert!(
        e.message.contains("use `activation: sigmoid`"),
        "{}",
        e.message
    );

    let softmax = Model::new(&[LayerSpec::Dense(dense(3, Activation::Softmax))], &feat, 1).unwrap();
    let task = TaskInfo {
        kind: TaskKind::Multiclass,
        n_classes: 3,
    };
    let sce = |from_logits| LossSpec {
        name: LossName::SparseCategoricalCrossentropy,
        from_logits,
        ..LossSpec::default()
    };
    assert!(check_loss(&softmax, &sce(false), &task).is_ok());
    assert!(check_loss(&softmax, &sce(true), &task).is_err());
    // Regression losses take any activation.
    let mse = LossSpec {
        name: LossName::Mse,
        from_logits: true,
        ..LossSpec::default()
    };
    let reg = TaskInfo {
        kind: TaskKind::Regression,
        n_classes: 0,
    };
    assert!(check_loss(&sigmoid, &mse, &reg).is_ok());
    // Binary cross-entropy on a regression task is refused.
    assert_eq!(
        check_loss(&linear, &logits, &reg).unwrap_err().path,
        "train.loss.name"
    );
}

#[test]
fn sigmoid_output_with_probability_loss_trains() {
    // y = 1 when x0 > x1; a sigmoid unit with from_logits false learns it.
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let values: Vec<f32> = (0..600).map(|_| rng.random_range(0.0..1.0)).collect();
    let targets: Vec<f32> = values
        .chunks(2)
        .map(|r| (r[0] > r[1]) as u8 as f32)
        .collect();
    let data = Dataset {
        inputs: InputData::Features { values, width: 2 },
        targets,
    };
    let mut c = cfg(60, 0.05);
    c.loss.from_logits = false;
    let mut model = Model::new(
        &[LayerSpec::Dense(dense(1, Activation::Sigmoid))],
        &ModelInput::Features { width: 2 },
        3,
    )
    .unwrap();
    let h = fit(&mut model, &data, None, &c, &BINARY, 3, &mut ()).unwrap();
    assert!(h.last().unwrap().accuracy > 0.95, "{:?}", h.last());
    let p = predict(&model, &data.inputs, &BINARY, false, 64).unwrap();
    assert!(p
        .iter()
        .all(|r| (0.0..=1.0).contains(&r[1]) && (r[0] + r[1] - 1.0).abs() < 1e-6));
}

#[test]
fn simple_rnn_training_records_three_timestep_bands_per_epoch() {
    use crate::spec::SimpleRnnSpec;
    let train = token7_data(96, 20, 11);
    let layers = vec![
        LayerSpec::Embedding(EmbeddingSpec::new(50, 4)),
        LayerSpec::SimpleRnn(SimpleRnnSpec {
            units: 4,
            activation: Activation::Tanh,
            return_sequences: false,
            dropout: 0.0,
            go_backwards: false,
        }),
        LayerSpec::Dense(dense(1, Activation::Linear)),
    ];
    let mut model = Model::new(&layers, &ModelInput::Sequence { maxlen: 20 }, 4).unwrap();
    let rnn_name = model.layers()[1].name().to_string();
    let h = fit(&mut model, &train, None, &cfg(3, 0.01), &BINARY, 5, &mut ()).unwrap();
    assert_eq!(h.epochs.len(), 3);
    for e in &h.epochs {
        // Only the recurrent layer has bands: embedding and dense have none.
        assert_eq!(e.grad_bands.len(), 1, "{:?}", e.grad_bands);
        let (name, bands) = &e.grad_bands[0];
        assert_eq!(name, &rnn_name);
        assert_eq!(bands.len(), 3);
        assert!(bands.iter().all(|b| b.is_finite() && *b > 0.0), "{bands:?}");
    }
    // A model without recurrent layers records no bands.
    let mut plain = token7_model(3, false);
    let h = fit(&mut plain, &train, None, &cfg(1, 0.01), &BINARY, 5, &mut ()).unwrap();
    assert!(h.epochs[0].grad_bands.is_empty());
}

/// `fit` sends the table gradient of `embedding → flatten → dense` to the
/// embedding's grad sink instead of candle; the weights it trains are
/// bit-identical to steps that return that gradient to candle.
#[test]
fn grad_sink_training_equals_returning_the_table_gradient_to_candle() {
    // Every op that reads the table: embedding-dense with one unit (the
    // course model's kernels) and several, the lookup of a recurrent layer's
    // distinct tokens (both directions of a bidirectional share it), the
    // fused token convolution, and the plain lookup before a pooling.
    for body in [
        "- flatten\n- dense: {units: 1}",
        "- flatten\n- dense: {units: 3, activation: relu}\n- dense: {units: 1}",
        "- lstm: {units: 4}\n- dense: {units: 1}",
        "- bidirectional: {layer: {gru: {units: 3}}}\n- dense: {units: 1}",
        "- conv1d: {filters: 4, kernel_size: 3, activation: relu}\n- global_max_pooling1d\n- dense: {units: 1}",
        "- global_average_pooling1d\n- dense: {units: 1}",
    ] {
        let yaml = format!("- embedding: {{input_dim: 50, output_dim: 8}}\n{body}");
        let layers: Vec<LayerSpec> = serde_yaml::from_str(&yaml).unwrap();
        sink_against_candle(&layers, body);
    }
}

fn sink_against_candle(layers: &[LayerSpec], what: &str) {
    use crate::model::Pass;
    let train = token7_data(64, 20, 4);
    let build = || Model::new(layers, &ModelInput::Sequence { maxlen: 20 }, 11).unwrap();
    // One batch per epoch, in row order, so the reference needs no shuffle.
    let spec = TrainSpec {
        batch_size: 64,
        shuffle: false,
        ..cfg(3, 0.01)
    };
    let mut with_sink = build();
    fit(&mut with_sink, &train, None, &spec, &BINARY, 1, &mut ()).unwrap();

    let reference = build();
    let table = reference.named_weights()[0].1.var.as_tensor().clone();
    let mut optimizer = Optimizer::new(&spec.optimizer, reference.trainable_vars()).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let rows: Vec<usize> = (0..64).collect();
    let x = train.inputs.model_batch(&rows).unwrap();
    for _ in 0..3 {
        // As `fit` does on an epoch's last batch (each batch here).
        let mut pass = Pass::training(&mut rng);
        pass.set_record_grad_bands(true);
        let y = reference.forward_batch(&x, &mut pass).unwrap();
        let grads = loss_tensor(&spec.loss, &y, &t1(&train.targets))
            .unwrap()
            .backward()
            .unwrap();
        assert!(grads.get(&table).is_some(), "{what}: returned to candle");
        optimizer.step(&grads).unwrap();
    }
    assert_eq!(all_weights(&with_sink), all_weights(&reference), "{what}");
    assert_ne!(
        all_weights(&reference),
        all_weights(&build()),
        "{what}: trained"
    );

    // With sinks on, candle gets no table gradient and the sink holds it.
    let mut pass = Pass::training(&mut rng);
    pass.set_use_grad_sinks(true);
    let y = reference.forward_batch(&x, &mut pass).unwrap();
    let grads = loss_tensor(&spec.loss, &y, &t1(&train.targets))
        .unwrap()
        .backward()
        .unwrap();
    assert!(
        grads.get(&table).is_none(),
        "{what}: not returned to candle"
    );
    let (_, sink) = &reference.grad_sinks()[0];
    assert!(
        sink.peek(|g| g.iter().any(|v| *v != 0.0)).unwrap(),
        "{what}"
    );
}

/// A gradient from a variable's grad sink, from candle, or from both (their
/// sum) gives the same update and norm, with and without clipping; a
/// variable of two or more blocks (updated in parallel) gets the same
/// element-wise update as a small one.
#[test]
fn optimizer_reads_grad_sinks_and_updates_large_variables_in_blocks() {
    use crate::model::GradSink;
    use std::sync::Arc;
    let mut small: Option<Vec<f32>> = None;
    for n in [5usize, 70_000] {
        let c: Vec<f32> = (0..n).map(|i| ((i % 13) as f32 - 6.0) * 0.1).collect();
        let d: Vec<f32> = (0..n).map(|i| ((i % 7) as f32 - 3.0) * 0.05).collect();
        let cd: Vec<f32> = c.iter().zip(&d).map(|(a, b)| a + b).collect();
        let run = |store: Option<&[f32]>, sink_grad: Option<&[f32]>, clip: Option<f64>| {
            let w = Var::from_vec(vec![0.5f32; n], n, &Device::Cpu).unwrap();
            let spec = OptimizerSpec {
                clipnorm: clip,
                ..OptimizerSpec::default()
            };
            let mut opt = Optimizer::new(&spec, vec![w.clone()]).unwrap();
            let sink = Arc::new(GradSink::new(n));
            opt.read_grad_sinks(vec![(w.clone(), Arc::clone(&sink))]);
            if let Some(s) = sink_grad {
                sink.add(|g| g.copy_from_slice(s));
            }
            let grads = match store {
                Some(s) => w.as_tensor().mul(&t1(s)).unwrap().sum_all().unwrap(),
                None => Var::new(1f32, &Device::Cpu)
                    .unwrap()
                    .affine(2.0, 0.0)
                    .unwrap(),
            }
            .backward()
            .unwrap();
            opt.step(&grads).unwrap();
            assert_eq!(sink.peek(|_| ()), None, "the sink was emptied");
            (w.to_vec1::<f32>().unwrap(), opt.last_sq_norms()[0].unwrap())
        };
        let want_sq: f64 = cd.iter().map(|v| (*v as f64) * (*v as f64)).sum();
        for clip in [None, Some(0.5)] {
            let (w_store, sq_store) = run(Some(&cd), None, clip);
            let (w_sink, sq_sink) = run(None, Some(&cd), clip);
            let (w_both, sq_both) = run(Some(&c), Some(&d), clip);
            assert_eq!(w_store, w_sink, "n={n} clip={clip:?}");
            assert_eq!(w_store, w_both, "n={n} clip={clip:?}");
            for sq in [sq_store, sq_sink, sq_both] {
                close(sq, want_sq, 1e-9 * want_sq);
            }
            assert!(
                w_store
                    .iter()
                    .zip(&cd)
                    .all(|(w, g)| (*w != 0.5) == (*g != 0.0)),
                "exactly the values with a gradient moved"
            );
            if clip.is_none() {
                match &small {
                    None => small = Some(w_store),
                    Some(s) => assert_eq!(&w_store[..5], &s[..], "blocks update like one"),
                }
            }
        }
    }
}
