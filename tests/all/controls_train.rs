//! Training controls: optimizer updates against hand-computed Keras values,
//! gradient clipping, learning-rate schedules, early stopping, class weights,
//! the Huber delta, per-layer gradient norms and the spec keys behind them.

use candle_core::{Device, Tensor, Var};
use kerros::model::{Model, ModelInput};
use kerros::spec::{
    parse_spec, Activation, ClassWeightSpec, Conv1dSpec, DenseSpec, EarlyStoppingSpec,
    EmbeddingInit, EmbeddingSpec, ExponentialDecaySpec, LayerSpec, LossName, LossSpec, MonitorMode,
    MonitorName, OptimizerName, OptimizerSpec, OrderedMap, Padding, ReduceOnPlateauSpec,
    ScheduleSpec, TaskKind, TrainSpec,
};
use kerros::train::{
    balanced_weights, class_weights, evaluate, exponential_decay, fit, fit_with, loss_tensor,
    per_example_loss, weighted_loss_tensor, Dataset, EpochRecord, FitContext, History, InputData,
    Monitor, Optimizer, Plateau, TaskInfo,
};
use std::path::Path;

fn close(a: f64, b: f64, tol: f64) {
    assert!((a - b).abs() <= tol, "{a} vs {b}");
}

/// w = 1 with loss 2·w (gradient 2), after each of `steps` updates.
fn trajectory(spec: &OptimizerSpec, steps: usize) -> Vec<f64> {
    let w = Var::new(&[1.0f32], &Device::Cpu).unwrap();
    let mut opt = Optimizer::new(spec, vec![w.clone()]).unwrap();
    (0..steps)
        .map(|_| {
            let l = w.as_tensor().affine(2.0, 0.0).unwrap().sum_all().unwrap();
            opt.step(&l.backward().unwrap()).unwrap();
            w.to_vec1::<f32>().unwrap()[0] as f64
        })
        .collect()
}

fn opt(name: OptimizerName, lr: f64) -> OptimizerSpec {
    OptimizerSpec {
        name,
        learning_rate: lr,
        ..OptimizerSpec::default()
    }
}

fn assert_steps(spec: &OptimizerSpec, want: [f64; 2]) {
    let got = trajectory(spec, 2);
    close(got[0], want[0], 2e-6);
    close(got[1], want[1], 2e-6);
}

#[test]
fn optimizers_first_two_steps_match_keras_update_rules() {
    // SGD lr 0.1: w ← w − 0.2.
    assert_steps(&opt(OptimizerName::Sgd, 0.1), [0.8, 0.6]);
    // SGD momentum 0.9: m = −0.2 → w 0.8; m = 0.9·(−0.2) − 0.2 = −0.38 → w 0.42.
    let sgd_m = OptimizerSpec {
        momentum: 0.9,
        ..opt(OptimizerName::Sgd, 0.1)
    };
    assert_steps(&sgd_m, [0.8, 0.42]);
    // Nesterov: w += 0.9·m − 0.2: step 1 m = −0.2 → −0.38 (w 0.62); step 2 m = −0.38 → −0.542.
    let nesterov = OptimizerSpec {
        nesterov: true,
        ..sgd_m.clone()
    };
    assert_steps(&nesterov, [0.62, 0.62 - 0.542]);
    // RMSprop lr 0.1, rho 0.9, eps 1e-7 inside the sqrt:
    // v = 0.4, Δ = 0.2/√0.4000001; v = 0.76, Δ = 0.2/√0.7600001.
    let d1 = 0.2 / (0.4f64 + 1e-7).sqrt();
    let d2 = 0.2 / (0.76f64 + 1e-7).sqrt();
    assert_steps(&opt(OptimizerName::Rmsprop, 0.1), [1.0 - d1, 1.0 - d1 - d2]);
    // RMSprop momentum 0.5: m = Δ1, then m = 0.5·Δ1 + Δ2.
    let rms_m = OptimizerSpec {
        momentum: 0.5,
        ..opt(OptimizerName::Rmsprop, 0.1)
    };
    assert_steps(&rms_m, [1.0 - d1, 1.0 - d1 - (0.5 * d1 + d2)]);
    // Adagrad lr 0.1, accumulator from 0.1: 4.1 then 8.1.
    let a1 = 0.2 / (4.1f64 + 1e-7).sqrt();
    let a2 = 0.2 / (8.1f64 + 1e-7).sqrt();
    assert_steps(&opt(OptimizerName::Adagrad, 0.1), [1.0 - a1, 1.0 - a1 - a2]);
    // Adam lr 0.1: m 0.2 / v 0.004, then m 0.38 / v 0.007996; α_t = lr·√(1−β2^t)/(1−β1^t).
    let al1 = 0.1 * (1.0 - 0.999f64).sqrt() / 0.1;
    let al2 = 0.1 * (1.0 - 0.999f64.powi(2)).sqrt() / (1.0 - 0.81);
    let w1 = 1.0 - al1 * 0.2 / (0.004f64.sqrt() + 1e-7);
    assert_steps(
        &opt(OptimizerName::Adam, 0.1),
        [w1, w1 - al2 * 0.38 / (0.007996f64.sqrt() + 1e-7)],
    );
    // AdamW weight decay 0.004: w·(1 − 0.004·0.1) before each Adam step.
    let adamw = OptimizerSpec {
        weight_decay: 0.004,
        ..opt(OptimizerName::Adamw, 0.1)
    };
    let w1 = 1.0 * (1.0 - 0.0004) - al1 * 0.2 / (0.004f64.sqrt() + 1e-7);
    let w2 = w1 * (1.0 - 0.0004) - al2 * 0.38 / (0.007996f64.sqrt() + 1e-7);
    assert_steps(&adamw, [w1, w2]);
}

/// Two variables a (2 values) and b (1 value) with loss 3a₀ + 4a₁ + 12b.
fn clip_step(spec: &OptimizerSpec) -> (Vec<f32>, Vec<f32>, Vec<Option<f64>>) {
    let a = Var::new(&[0.0f32, 0.0], &Device::Cpu).unwrap();
    let b = Var::new(&[0.0f32], &Device::Cpu).unwrap();
    let mut o = Optimizer::new(spec, vec![a.clone(), b.clone()]).unwrap();
    let c = Tensor::new(&[3.0f32, 4.0], &Device::Cpu).unwrap();
    let l = a
        .as_tensor()
        .mul(&c)
        .unwrap()
        .sum_all()
        .unwrap()
        .add(&b.as_tensor().affine(12.0, 0.0).unwrap().sum_all().unwrap())
        .unwrap();
    o.step(&l.backward().unwrap()).unwrap();
    (
        a.to_vec1().unwrap(),
        b.to_vec1().unwrap(),
        o.last_sq_norms().to_vec(),
    )
}

#[test]
fn clipnorm_clips_each_tensor_and_global_clipnorm_all_together() {
    let sgd = opt(OptimizerName::Sgd, 1.0);
    let (a, b, sq) = clip_step(&sgd);
    assert_eq!((a, b), (vec![-3.0, -4.0], vec![-12.0]));
    assert_eq!(
        sq,
        vec![Some(25.0), Some(144.0)],
        "norms are of the raw gradients"
    );
    // clipnorm 1: a's gradient (3, 4) has norm 5 → (0.6, 0.8); b's 12 → 1.
    let (a, b, _) = clip_step(&OptimizerSpec {
        clipnorm: Some(1.0),
        ..sgd.clone()
    });
    assert_eq!(a, vec![-0.6, -0.8]);
    assert_eq!(b, vec![-1.0]);
    // A norm below clipnorm is left alone.
    let (a, _, _) = clip_step(&OptimizerSpec {
        clipnorm: Some(10.0),
        ..sgd.clone()
    });
    assert_eq!(a, vec![-3.0, -4.0]);
    // global_clipnorm 1: joint norm √(9 + 16 + 144) = 13 → every gradient / 13.
    let (a, b, _) = clip_step(&OptimizerSpec {
        global_clipnorm: Some(1.0),
        ..sgd
    });
    close(a[0] as f64, -3.0 / 13.0, 1e-6);
    close(a[1] as f64, -4.0 / 13.0, 1e-6);
    close(b[0] as f64, -12.0 / 13.0, 1e-6);
}

#[test]
fn exponential_decay_values() {
    let spec = ExponentialDecaySpec {
        decay_steps: 10,
        decay_rate: 0.5,
        staircase: false,
    };
    close(exponential_decay(0.1, &spec, 0), 0.1, 1e-12);
    close(exponential_decay(0.1, &spec, 5), 0.1 * 0.5f64.sqrt(), 1e-12);
    close(exponential_decay(0.1, &spec, 20), 0.025, 1e-12);
    let stairs = ExponentialDecaySpec {
        staircase: true,
        ..spec.clone()
    };
    close(exponential_decay(0.1, &stairs, 9), 0.1, 1e-12);
    close(exponential_decay(0.1, &stairs, 10), 0.05, 1e-12);
    close(exponential_decay(0.1, &stairs, 25), 0.025, 1e-12);
    // The optimizer's first update uses step 0 (the undecayed rate), then step 1, ...
    let o = OptimizerSpec {
        schedule: ScheduleSpec::ExponentialDecay(spec),
        ..opt(OptimizerName::Sgd, 0.1)
    };
    let w = trajectory(&o, 2);
    close(w[0], 1.0 - 0.2, 1e-6);
    close(w[1], 0.8 - 2.0 * 0.1 * 0.5f64.powf(0.1), 1e-6);
}

#[test]
fn reduce_on_plateau_follows_keras_on_a_scripted_sequence() {
    let spec = ReduceOnPlateauSpec {
        factor: 0.5,
        patience: 2,
        cooldown: 1,
        min_lr: 0.2,
        min_delta: 0.0,
        ..ReduceOnPlateauSpec::default()
    };
    let values = [
        1.0, 0.9, 0.95, 0.92, 0.91, 0.85, 0.86, 0.87, 0.88, 0.89, 0.9, 0.9,
    ];
    // e3: 2 epochs without improvement → 0.5 (cooldown 1); e4 is the cooldown epoch
    // (wait reset, then counts: Keras checks the cooldown after decrementing it);
    // e5 improves; e7 → 0.25; e9 → max(0.125, 0.2) = 0.2; at min_lr it stays.
    let want = [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2, 0.2];
    let mut p = Plateau::new(&spec);
    let mut lr = 1.0;
    for (i, (v, w)) in values.iter().zip(want).enumerate() {
        lr = p.on_epoch_end(*v, lr);
        close(lr, w, 1e-12);
        let _ = i;
    }
    // min_delta: an improvement smaller than 1e-4 (the default) does not count.
    let mut p = Plateau::new(&ReduceOnPlateauSpec {
        patience: 1,
        ..ReduceOnPlateauSpec::default()
    });
    assert_eq!(p.on_epoch_end(1.0, 1.0), 1.0);
    close(p.on_epoch_end(0.99995, 1.0), 0.1, 1e-12);
    // val_accuracy is maximised in auto mode.
    let mut p = Plateau::new(&ReduceOnPlateauSpec {
        monitor: MonitorName::ValAccuracy,
        patience: 1,
        ..ReduceOnPlateauSpec::default()
    });
    assert_eq!(p.on_epoch_end(0.5, 1.0), 1.0);
    assert_eq!(p.on_epoch_end(0.6, 1.0), 1.0);
    close(p.on_epoch_end(0.55, 1.0), 0.1, 1e-12);
}

fn stop_epoch(spec: &EarlyStoppingSpec, values: &[f64]) -> (Option<usize>, Option<usize>) {
    let mut m = Monitor::new(spec);
    for (e, v) in values.iter().enumerate() {
        if m.on_epoch_end(e, *v).stop {
            assert_eq!(m.stopped_epoch(), Some(e));
            return (Some(e), m.best_epoch());
        }
    }
    (None, m.best_epoch())
}

#[test]
fn early_stopping_follows_keras_on_scripted_sequences() {
    let es = |patience, min_delta| EarlyStoppingSpec {
        patience,
        min_delta,
        ..EarlyStoppingSpec::default()
    };
    // patience 2: epochs 2 and 3 do not improve on 0.8 → stop after epoch 3 (0-based).
    assert_eq!(
        stop_epoch(&es(2, 0.0), &[1.0, 0.8, 0.85, 0.9, 0.7]),
        (Some(3), Some(1))
    );
    // Keras quirk: patience 0 and 1 both stop at the first epoch without improvement.
    assert_eq!(
        stop_epoch(&es(0, 0.0), &[1.0, 0.9, 1.1]),
        (Some(2), Some(1))
    );
    assert_eq!(
        stop_epoch(&es(1, 0.0), &[1.0, 0.9, 1.1]),
        (Some(2), Some(1))
    );
    // Never stops on epoch 0; keeps going while it improves.
    assert_eq!(stop_epoch(&es(0, 0.0), &[3.0, 2.0, 1.0]), (None, Some(2)));
    // min_delta: 0.95 is not 0.1 better than 1.0.
    assert_eq!(stop_epoch(&es(0, 0.1), &[1.0, 0.95]), (Some(1), Some(0)));
    // Equal values do not improve.
    assert_eq!(stop_epoch(&es(0, 0.0), &[1.0, 1.0]), (Some(1), Some(0)));
    // Accuracy is maximised in auto mode; mode min overrides.
    let acc = EarlyStoppingSpec {
        monitor: MonitorName::ValAccuracy,
        ..es(0, 0.0)
    };
    assert_eq!(stop_epoch(&acc, &[0.5, 0.6, 0.55]), (Some(2), Some(1)));
    let acc_min = EarlyStoppingSpec {
        mode: MonitorMode::Min,
        ..acc
    };
    assert_eq!(stop_epoch(&acc_min, &[0.5, 0.6]), (Some(1), Some(0)));
}

fn dense(units: usize, activation: Activation) -> LayerSpec {
    LayerSpec::Dense(DenseSpec {
        units,
        activation,
        use_bias: true,
        kernel: None,
        bias: None,
        trainable: true,
        kernel_regularizer: None,
    })
}

const BINARY: TaskInfo = TaskInfo {
    kind: TaskKind::Binary,
    n_classes: 2,
};

fn features(values: &[f32], targets: &[f32]) -> Dataset {
    Dataset {
        inputs: InputData::Features {
            values: values.to_vec(),
            width: 1,
        },
        targets: targets.to_vec(),
    }
}

/// Training pushes w up; the validation labels are flipped, so val_loss rises every epoch.
fn flipped() -> (Model, Dataset, Dataset) {
    let model = Model::new(
        &[dense(1, Activation::Linear)],
        &ModelInput::Features { width: 1 },
        3,
    )
    .unwrap();
    let train = features(&[1.0, -1.0, 1.0, -1.0], &[1.0, 0.0, 1.0, 0.0]);
    let val = features(&[1.0, -1.0], &[0.0, 1.0]);
    (model, train, val)
}

fn train_cfg(epochs: usize, lr: f64) -> TrainSpec {
    TrainSpec {
        optimizer: opt(OptimizerName::Sgd, lr),
        epochs,
        batch_size: 4,
        ..TrainSpec::default()
    }
}

#[test]
fn early_stopping_in_fit_records_epochs_and_restores_best_weights() {
    for restore in [false, true] {
        let (mut model, train, val) = flipped();
        let cfg = TrainSpec {
            early_stopping: Some(EarlyStoppingSpec {
                restore_best_weights: restore,
                ..EarlyStoppingSpec::default()
            }),
            ..train_cfg(10, 0.5)
        };
        let h = fit(&mut model, &train, Some(&val), &cfg, &BINARY, 1, &mut ()).unwrap();
        assert_eq!(
            h.epochs.len(),
            2,
            "stops after the first epoch that is worse"
        );
        assert_eq!((h.stopped_epoch, h.best_epoch), (Some(2), Some(1)));
        assert_eq!(h.restored_best_weights, restore);
        let now = evaluate(&model, &val, &cfg.loss, &BINARY, 4).unwrap().loss;
        let want = h.epochs[if restore { 0 } else { 1 }].val_loss.unwrap();
        close(now, want, 1e-9);
        assert!(h.epochs[1].val_loss > h.epochs[0].val_loss);
    }
    // val_loss without validation data is an error up front.
    let (mut model, train, _) = flipped();
    let cfg = TrainSpec {
        early_stopping: Some(EarlyStoppingSpec::default()),
        ..train_cfg(3, 0.5)
    };
    let e = fit(&mut model, &train, None, &cfg, &BINARY, 1, &mut ()).unwrap_err();
    assert!(
        e.to_string().contains("train.early_stopping.monitor"),
        "{e}"
    );
}

#[test]
fn schedules_in_fit_record_the_learning_rate() {
    // reduce_on_plateau on a val_loss that always rises: patience 1 halves from epoch 2 on.
    let (mut model, train, val) = flipped();
    let mut cfg = train_cfg(4, 0.1);
    cfg.optimizer.schedule = ScheduleSpec::ReduceOnPlateau(ReduceOnPlateauSpec {
        factor: 0.5,
        patience: 1,
        ..ReduceOnPlateauSpec::default()
    });
    let h = fit(&mut model, &train, Some(&val), &cfg, &BINARY, 1, &mut ()).unwrap();
    let lrs: Vec<f64> = h.epochs.iter().map(|e| e.learning_rate.unwrap()).collect();
    assert_eq!(lrs, vec![0.1, 0.1, 0.05, 0.025]);
    // exponential decay, 2 steps per epoch: the epoch's last step is step 1, then 3.
    let (mut model, train, _) = flipped();
    let mut cfg = train_cfg(2, 0.1);
    cfg.batch_size = 2;
    cfg.optimizer.schedule = ScheduleSpec::ExponentialDecay(ExponentialDecaySpec {
        decay_steps: 2,
        decay_rate: 0.5,
        staircase: true,
    });
    let h = fit(&mut model, &train, None, &cfg, &BINARY, 1, &mut ()).unwrap();
    let lrs: Vec<f64> = h.epochs.iter().map(|e| e.learning_rate.unwrap()).collect();
    assert_eq!(lrs, vec![0.1, 0.05]);
}

#[test]
fn class_weights_balanced_and_by_name_or_index() {
    // scikit-learn: n_samples / (n_classes · bincount(y)).
    let w = balanced_weights(&[0.0, 0.0, 0.0, 1.0], 2).unwrap();
    close(w[0], 4.0 / 6.0, 1e-12);
    close(w[1], 2.0, 1e-12);
    let w = balanced_weights(&[0.0, 1.0, 1.0, 2.0, 2.0, 2.0], 3).unwrap();
    assert_eq!(w, vec![2.0, 1.0, 6.0 / 9.0]);
    assert!(
        balanced_weights(&[0.0, 0.0], 2).is_err(),
        "a class without examples"
    );
    let names = vec!["neg".to_string(), "pos".to_string()];
    let map = ClassWeightSpec::Map(OrderedMap(vec![("pos".into(), 3.0)]));
    assert_eq!(
        class_weights(&map, &[0.0], &BINARY, Some(&names)).unwrap(),
        vec![1.0, 3.0]
    );
    let by_index = ClassWeightSpec::Map(OrderedMap(vec![("0".into(), 0.5)]));
    assert_eq!(
        class_weights(&by_index, &[0.0], &BINARY, None).unwrap(),
        vec![0.5, 1.0]
    );
    let e = class_weights(&map, &[0.0], &BINARY, None).unwrap_err();
    assert_eq!(e.path, "train.class_weight.pos");
    let reg = TaskInfo {
        kind: TaskKind::Regression,
        n_classes: 0,
    };
    assert!(class_weights(&ClassWeightSpec::Balanced, &[1.0], &reg, None).is_err());
}

#[test]
fn weighted_loss_and_huber_delta() {
    let mse = LossSpec {
        name: LossName::Mse,
        ..LossSpec::default()
    };
    let out = Tensor::new(&[[1.0f32], [2.0]], &Device::Cpu).unwrap();
    let y = Tensor::new(&[0.0f32, 0.0], &Device::Cpu).unwrap();
    let w = Tensor::new(&[1.0f32, 3.0], &Device::Cpu).unwrap();
    // Keras: Σ wᵢ·lᵢ / batch size = (1·1 + 3·4) / 2.
    let l = weighted_loss_tensor(&mse, &out, &y, &w).unwrap();
    close(l.to_scalar::<f32>().unwrap() as f64, 6.5, 1e-6);
    assert_eq!(
        per_example_loss(&mse, &out, &y)
            .unwrap()
            .to_vec1::<f32>()
            .unwrap(),
        vec![1.0, 4.0]
    );
    // Huber delta 2: |e| = 1 → ½; |e| = 3 → 2·3 − ½·4 = 4; mean 2.25.
    let huber = LossSpec {
        name: LossName::Huber,
        delta: 2.0,
        ..LossSpec::default()
    };
    let out = Tensor::new(&[[1.0f32], [-3.0]], &Device::Cpu).unwrap();
    let l = loss_tensor(&huber, &out, &y).unwrap();
    close(l.to_scalar::<f32>().unwrap() as f64, 2.25, 1e-6);
}

#[test]
fn class_weighted_fit_reports_the_weighted_loss() {
    let (mut model, train, _) = flipped();
    let (reference, _, _) = flipped();
    let cfg = TrainSpec {
        class_weight: Some(ClassWeightSpec::Map(OrderedMap(vec![("1".into(), 3.0)]))),
        shuffle: false,
        ..train_cfg(1, 0.1)
    };
    let h = fit_with(
        &mut model,
        &train,
        None,
        &cfg,
        &BINARY,
        1,
        &mut (),
        &FitContext::default(),
    )
    .unwrap();
    // One batch: the reported loss is the weighted loss at the initial weights.
    let x = Tensor::new(&[[1.0f32], [-1.0], [1.0], [-1.0]], &Device::Cpu).unwrap();
    let y = reference.forward(&x, false).unwrap();
    let t = Tensor::new(&[1.0f32, 0.0, 1.0, 0.0], &Device::Cpu).unwrap();
    let per = per_example_loss(&cfg.loss, &y, &t)
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let want = (3.0 * per[0] + per[1] + 3.0 * per[2] + per[3]) as f64 / 4.0;
    close(h.epochs[0].loss, want, 1e-6);
}

fn token_data(n: usize, len: usize) -> Dataset {
    let ids: Vec<u32> = (0..n * len)
        .map(|i| ((i * 7 + i / len) % 19 + 1) as u32)
        .collect();
    let targets = (0..n).map(|i| (i % 2) as f32).collect();
    Dataset {
        inputs: InputData::Sequences { ids, width: len },
        targets,
    }
}

#[test]
fn grad_norms_are_recorded_per_layer_and_epoch() {
    let conv = LayerSpec::Conv1d(Conv1dSpec {
        filters: 3,
        kernel_size: 2,
        strides: 1,
        padding: Padding::Valid,
        activation: Activation::Relu,
    });
    let layers = vec![
        LayerSpec::Embedding(EmbeddingSpec::new(20, 4)),
        conv.clone(),
        LayerSpec::GlobalMaxPooling1d,
        dense(1, Activation::Linear),
    ];
    let input = ModelInput::Sequence { maxlen: 6 };
    let mut model = Model::new(&layers, &input, 2).unwrap();
    let data = token_data(16, 6);
    let cfg = TrainSpec {
        optimizer: opt(OptimizerName::Adam, 0.01),
        epochs: 2,
        batch_size: 8,
        ..TrainSpec::default()
    };
    let h = fit(&mut model, &data, None, &cfg, &BINARY, 1, &mut ()).unwrap();
    for e in &h.epochs {
        let names: Vec<&str> = e.grad_norms.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, vec!["embedding", "conv1d", "dense"]);
        assert!(
            e.grad_norms.iter().all(|(_, v)| *v > 0.0 && v.is_finite()),
            "{:?}",
            e.grad_norms
        );
    }
    // A frozen (one_hot) embedding has no gradient and no entry.
    let frozen = vec![
        LayerSpec::Embedding(EmbeddingSpec {
            init: EmbeddingInit::OneHot,
            ..EmbeddingSpec::new(20, 20)
        }),
        conv,
        LayerSpec::GlobalMaxPooling1d,
        dense(1, Activation::Linear),
    ];
    let mut model = Model::new(&frozen, &input, 2).unwrap();
    let h = fit(&mut model, &data, None, &cfg, &BINARY, 1, &mut ()).unwrap();
    let names: Vec<&str> = h.epochs[0]
        .grad_norms
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(names, vec!["conv1d", "dense"]);
    // One step per epoch: the norm is that of the gradient at the initial weights.
    let (mut model, train, _) = flipped();
    let (reference, _, _) = flipped();
    let cfg = TrainSpec {
        shuffle: false,
        ..train_cfg(1, 0.1)
    };
    let h = fit(&mut model, &train, None, &cfg, &BINARY, 1, &mut ()).unwrap();
    let x = Tensor::new(&[[1.0f32], [-1.0], [1.0], [-1.0]], &Device::Cpu).unwrap();
    let t = Tensor::new(&[1.0f32, 0.0, 1.0, 0.0], &Device::Cpu).unwrap();
    let l = loss_tensor(&cfg.loss, &reference.forward(&x, false).unwrap(), &t).unwrap();
    let grads = l.backward().unwrap();
    let sq: f64 = reference
        .trainable_vars()
        .iter()
        .map(|v| {
            let g = grads.get(v.as_tensor()).unwrap().flatten_all().unwrap();
            g.sqr()
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap() as f64
        })
        .sum();
    assert_eq!(h.epochs[0].grad_norms[0].0, "dense");
    close(h.epochs[0].grad_norms[0].1, sq.sqrt(), 1e-6);
}

#[test]
fn old_history_json_still_loads() {
    let json = r#"{"epochs":[{"epoch":1,"loss":0.5,"accuracy":0.8,"val_loss":null,"val_accuracy":null,"seconds":1.0}]}"#;
    let h: History = serde_json::from_str(json).unwrap();
    let e: &EpochRecord = &h.epochs[0];
    assert!(e.grad_norms.is_empty());
    assert_eq!(
        (e.learning_rate, h.stopped_epoch, h.best_epoch),
        (None, None, None)
    );
}

fn spec(train: &str) -> Result<TrainSpec, String> {
    let src = format!("name: t\nmodel:\n  layers:\n    - dense: {{units: 1}}\ntrain:\n{train}");
    parse_spec(&src, Path::new("t.yaml"))
        .map(|(s, _)| s.train)
        .map_err(|e| e.to_string())
}

#[test]
fn train_control_keys_parse_with_defaults_and_are_validated() {
    let t = spec("  epochs: 3\n").unwrap();
    let o = &t.optimizer;
    assert_eq!(
        (
            o.momentum,
            o.nesterov,
            o.rho,
            o.initial_accumulator_value,
            o.epsilon
        ),
        (0.0, false, 0.9, 0.1, 1e-7)
    );
    assert_eq!((o.clipnorm, o.global_clipnorm), (None, None));
    assert_eq!(o.schedule, ScheduleSpec::Constant);
    assert_eq!(
        (t.early_stopping.clone(), t.class_weight.clone()),
        (None, None)
    );
    assert_eq!(t.loss.delta, 1.0);

    let t = spec(
        "  optimizer:\n    name: rmsprop\n    clipnorm: 1.0\n    schedule:\n      reduce_on_plateau: {patience: 2}\n  early_stopping: {patience: 3, restore_best_weights: true}\n  class_weight: balanced\n",
    )
    .unwrap();
    assert_eq!(t.optimizer.name, OptimizerName::Rmsprop);
    let ScheduleSpec::ReduceOnPlateau(r) = &t.optimizer.schedule else {
        panic!()
    };
    assert_eq!(
        (
            r.monitor,
            r.factor,
            r.patience,
            r.min_delta,
            r.min_lr,
            r.cooldown
        ),
        (MonitorName::ValLoss, 0.1, 2, 1e-4, 0.0, 0)
    );
    let es = t.early_stopping.clone().unwrap();
    assert_eq!(
        (
            es.monitor,
            es.patience,
            es.min_delta,
            es.restore_best_weights
        ),
        (MonitorName::ValLoss, 3, 0.0, true)
    );
    assert_eq!(t.class_weight, Some(ClassWeightSpec::Balanced));
    // The resolved form (`kerros show`) reads back to the same settings.
    let back: TrainSpec = serde_yaml::from_str(&serde_yaml::to_string(&t).unwrap()).unwrap();
    assert_eq!(back, t);
    assert_eq!(
        serde_yaml::from_str::<ScheduleSpec>("reduce_on_plateau").unwrap(),
        ScheduleSpec::ReduceOnPlateau(ReduceOnPlateauSpec::default())
    );
    assert!(serde_yaml::from_str::<ScheduleSpec>("exponential_decay").is_err());
    assert!(serde_yaml::from_str::<ScheduleSpec>("cosine")
        .unwrap_err()
        .to_string()
        .contains("constant"));

    let t = spec("  optimizer:\n    schedule: {exponential_decay: {decay_steps: 100, decay_rate: 0.9}}\n  class_weight: {0: 1.0, pos: 2.5}\n").unwrap();
    assert_eq!(
        t.optimizer.schedule,
        ScheduleSpec::ExponentialDecay(ExponentialDecaySpec {
            decay_steps: 100,
            decay_rate: 0.9,
            staircase: false
        })
    );
    assert_eq!(
        t.class_weight,
        Some(ClassWeightSpec::Map(OrderedMap(vec![
            ("0".into(), 1.0),
            ("pos".into(), 2.5)
        ])))
    );
    let t = spec("  optimizer:\n    name: sgd\n    momentum: 0.9\n    nesterov: true\n  loss: {name: huber, delta: 2.0}\n").unwrap();
    assert_eq!(
        (t.optimizer.momentum, t.optimizer.nesterov, t.loss.delta),
        (0.9, true, 2.0)
    );
    let back: TrainSpec = serde_yaml::from_str(&serde_yaml::to_string(&t).unwrap()).unwrap();
    assert_eq!(back, t);

    // Validation with located messages.
    for (yaml, path) in [
        ("  optimizer: {momentum: 1.0}\n", "train.optimizer.momentum"),
        (
            "  optimizer: {nesterov: true}\n",
            "train.optimizer.nesterov",
        ),
        (
            "  optimizer: {clipnorm: 1, global_clipnorm: 1}\n",
            "train.optimizer.global_clipnorm",
        ),
        ("  optimizer: {clipnorm: 0}\n", "train.optimizer.clipnorm"),
        (
            "  optimizer: {schedule: {reduce_on_plateau: {factor: 1.5}}}\n",
            "train.optimizer.schedule.reduce_on_plateau.factor",
        ),
        (
            "  optimizer: {schedule: {exponential_decay: {decay_steps: 0, decay_rate: 0.5}}}\n",
            "train.optimizer.schedule.exponential_decay.decay_steps",
        ),
        (
            "  early_stopping: {min_delta: -1}\n",
            "train.early_stopping.min_delta",
        ),
        ("  class_weight: {pos: -2}\n", "train.class_weight.pos"),
        ("  loss: {name: huber, delta: 0}\n", "train.loss.delta"),
    ] {
        let e = spec(yaml).unwrap_err();
        assert!(e.contains(&format!("`{path}`")), "{yaml}: {e}");
    }
    // Parse errors: negative patience, unknown monitor, unknown class_weight word.
    assert!(spec("  early_stopping: {patience: -1}\n").is_err());
    assert!(spec("  early_stopping: {monitor: val_auc}\n")
        .unwrap_err()
        .contains("val_loss"));
    assert!(spec("  class_weight: balance\n")
        .unwrap_err()
        .contains("balanced"));
}
