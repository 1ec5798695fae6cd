//! Training on sparse feature rows: lazy Adam / SGD, lazy L2, learning a
//! synthetic bag-of-words task, prediction and determinism.

use crate::support;

use kerros::model::{Model, ModelInput};
use kerros::spec::{TaskKind, TrainSpec};
use kerros::train::{evaluate, fit, predict, Dataset, InputData, TaskInfo};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use support::layers;

const BINARY: TaskInfo = TaskInfo {
    kind: TaskKind::Binary,
    n_classes: 2,
};

fn train_cfg(yaml: &str) -> TrainSpec {
    serde_yaml::from_str(yaml).expect("train yaml")
}

fn weights(m: &Model) -> Vec<Vec<f32>> {
    m.named_weights()
        .iter()
        .map(|(_, w)| w.var.flatten_all().unwrap().to_vec1::<f32>().unwrap())
        .collect()
}

/// Dense rows as sparse rows (every feature listed, so every kernel row is touched).
fn to_sparse(values: &[f32], width: usize) -> Vec<Vec<(u32, f32)>> {
    values
        .chunks(width)
        .map(|r| r.iter().enumerate().map(|(i, v)| (i as u32, *v)).collect())
        .collect()
}

/// Synthetic bag of words: features 0..50 positive words, 50..100 negative,
/// the rest noise; each document has 4 words of its class and 30 noise words.
fn bag_of_words(n: usize, width: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut rows = Vec::with_capacity(n);
    let mut targets = Vec::with_capacity(n);
    for i in 0..n {
        let y = (i % 2) as u32;
        let mut row: Vec<(u32, f32)> = (0..4)
            .map(|_| (rng.random_range(0..50u32) + 50 * (1 - y), 1.0))
            .collect();
        row.extend((0..30).map(|_| (rng.random_range(100..width as u32), 1.0)));
        rows.push(row);
        targets.push(y as f32);
    }
    Dataset {
        inputs: InputData::Sparse { rows, width },
        targets,
    }
}

const LOGITS: &str = "loss: {name: binary_crossentropy, from_logits: true}\n";

#[test]
fn lazy_adam_equals_dense_adam_when_every_row_is_touched() {
    lazy_equals_dense(6, 8, 2e-5);
}

/// Wide enough that the sparse forward, backward and lazy update run on two threads.
#[test]
fn lazy_adam_equals_dense_adam_on_wide_batches() {
    lazy_equals_dense(3000, 8, 1e-4);
}

/// Train the same model on dense rows and on the same rows listed sparsely
/// (every feature present, so every kernel row is touched in every step).
fn lazy_equals_dense(width: usize, batch: usize, tol: f32) {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let values: Vec<f32> = (0..40 * width)
        .map(|_| rng.random_range(-1.0f32..1.0))
        .collect();
    let targets: Vec<f32> = (0..40).map(|i| ((i * 7) % 3 == 0) as u32 as f32).collect();
    let spec = layers(
        "- dense: {units: 4, activation: tanh, kernel_regularizer: {l2: 0.01}}\n- dense: {units: 1}\n",
    );
    let input = ModelInput::Features { width };
    for opt in ["adam", "sgd", "adamw"] {
        let cfg = train_cfg(&format!(
            "{LOGITS}optimizer: {{name: {opt}, learning_rate: 0.05, weight_decay: {}}}\nepochs: 3\nbatch_size: {batch}\n",
            if opt == "adamw" { 0.01 } else { 0.0 }
        ));
        let dense_data = Dataset {
            inputs: InputData::Features {
                values: values.clone(),
                width,
            },
            targets: targets.clone(),
        };
        let sparse_data = Dataset {
            inputs: InputData::Sparse {
                rows: to_sparse(&values, width),
                width,
            },
            targets: targets.clone(),
        };
        let mut a = Model::new(&spec, &input, 4).unwrap();
        let mut b = Model::new(&spec, &input, 4).unwrap();
        let ha = fit(&mut a, &dense_data, None, &cfg, &BINARY, 9, &mut ()).unwrap();
        let hb = fit(&mut b, &sparse_data, None, &cfg, &BINARY, 9, &mut ()).unwrap();
        for (wa, wb) in weights(&a).iter().zip(&weights(&b)) {
            for (x, y) in wa.iter().zip(wb) {
                assert!((x - y).abs() < tol, "{opt}: {x} vs {y}");
            }
        }
        for (ea, eb) in ha.epochs.iter().zip(&hb.epochs) {
            assert!(
                (ea.loss - eb.loss).abs() < 10.0 * tol as f64,
                "{opt}: {} vs {}",
                ea.loss,
                eb.loss
            );
        }
    }
}

#[test]
fn lazy_updates_touch_only_rows_in_the_batch() {
    let width = 10;
    // Only features 0..5 ever occur.
    let rows: Vec<Vec<(u32, f32)>> = (0..30)
        .map(|i| vec![((i % 5) as u32, 1.0), (((i + 2) % 5) as u32, 0.5)])
        .collect();
    let data = Dataset {
        inputs: InputData::Sparse { rows, width },
        targets: (0..30).map(|i| (i % 2) as f32).collect(),
    };
    let spec = layers("- dense: {units: 3, kernel_regularizer: {l2: 0.1}}\n- dense: {units: 1}\n");
    let cfg = train_cfg(&format!(
        "{LOGITS}optimizer: {{name: adamw, weight_decay: 0.1, learning_rate: 0.01}}\nepochs: 2\n"
    ));
    let mut m = Model::new(&spec, &ModelInput::Features { width }, 1).unwrap();
    let before = weights(&m);
    fit(&mut m, &data, None, &cfg, &BINARY, 1, &mut ()).unwrap();
    let after = weights(&m);
    // Kernel rows 5..10 (untouched) are bit-identical, despite weight decay and L2.
    assert_eq!(before[0][15..], after[0][15..]);
    for r in 0..5 {
        assert_ne!(before[0][r * 3..r * 3 + 3], after[0][r * 3..r * 3 + 3]);
    }
    // Dense weights (bias, second layer) are trained as usual.
    assert_ne!(before[1], after[1]);
    assert_ne!(before[2], after[2]);
}

#[test]
fn l2_adds_its_penalty_to_the_loss_and_its_gradient_to_touched_rows() {
    // Kernel [1, 2, -3] (one neuron), l2 = 0.01: penalty 0.14.
    let reg = layers(
        "- dense: {units: 1, kernel: [[1, 2, -3]], bias: [0], kernel_regularizer: {l2: 0.01}}\n",
    );
    let plain = layers("- dense: {units: 1, kernel: [[1, 2, -3]], bias: [0]}\n");
    let input = ModelInput::Features { width: 3 };
    let rows = vec![vec![(0u32, 1.0f32)], vec![(1, 0.5), (0, 1.0)]];
    let data = Dataset {
        inputs: InputData::Sparse { rows, width: 3 },
        targets: vec![1.0, 0.0],
    };
    let loss_spec = train_cfg(LOGITS).loss;
    let er = evaluate(
        &Model::new(&reg, &input, 1).unwrap(),
        &data,
        &loss_spec,
        &BINARY,
        2,
    )
    .unwrap();
    let ep = evaluate(
        &Model::new(&plain, &input, 1).unwrap(),
        &data,
        &loss_spec,
        &BINARY,
        2,
    )
    .unwrap();
    assert!(
        (er.loss - ep.loss - 0.14).abs() < 1e-6,
        "{} {}",
        er.loss,
        ep.loss
    );

    // One SGD step over both examples (lr 0.1): the L2 gradient 2·0.01·w moves
    // touched rows 0 and 1 by −0.1·0.02·w beyond the plain step; row 2 (not in
    // the batch) keeps −3 although the dense L2 gradient would move it.
    let cfg = train_cfg(&format!(
        "{LOGITS}optimizer: {{name: sgd, learning_rate: 0.1}}\nepochs: 1\nbatch_size: 2\nshuffle: false\n"
    ));
    let mut mr = Model::new(&reg, &input, 1).unwrap();
    let mut mp = Model::new(&plain, &input, 1).unwrap();
    let hr = fit(&mut mr, &data, None, &cfg, &BINARY, 1, &mut ()).unwrap();
    let hp = fit(&mut mp, &data, None, &cfg, &BINARY, 1, &mut ()).unwrap();
    // The training loss includes the penalty of the weights before the step.
    assert!((hr.epochs[0].loss - hp.epochs[0].loss - 0.14).abs() < 1e-6);
    let (kr, kp) = (&weights(&mr)[0], &weights(&mp)[0]);
    assert!(
        (kr[0] - (kp[0] - 0.1 * 0.02 * 1.0)).abs() < 1e-6,
        "{kr:?} {kp:?}"
    );
    assert!(
        (kr[1] - (kp[1] - 0.1 * 0.02 * 2.0)).abs() < 1e-6,
        "{kr:?} {kp:?}"
    );
    assert_eq!(kr[2], -3.0);
    // Dense inputs take the ordinary (dense) L2 gradient: row 2 moves too.
    let dense_data = Dataset {
        inputs: InputData::Features {
            values: vec![1.0, 0.0, 0.0, 1.0, 0.5, 0.0],
            width: 3,
        },
        targets: vec![1.0, 0.0],
    };
    let mut md = Model::new(&reg, &input, 1).unwrap();
    fit(&mut md, &dense_data, None, &cfg, &BINARY, 1, &mut ()).unwrap();
    let kd = &weights(&md)[0];
    assert!((kd[2] - (-3.0 + 0.1 * 0.02 * 3.0)).abs() < 1e-6, "{kd:?}");
    assert!((kd[0] - kr[0]).abs() < 1e-6 && (kd[1] - kr[1]).abs() < 1e-6);
}

#[test]
fn sparse_logistic_regression_and_hidden_layer_learn() {
    let width = 20_000;
    let train = bag_of_words(2000, width, 1);
    let test = bag_of_words(500, width, 2);
    for (spec, lr) in [
        ("- dense: {units: 1}\n", 0.01),
        (
            "- dropout: {rate: 0.2}\n- dense: {units: 16, activation: relu, kernel_regularizer: {l2: 1e-5}}\n- dense: {units: 1}\n",
            0.005,
        ),
    ] {
        let mut m = Model::new(&layers(spec), &ModelInput::Features { width }, 3).unwrap();
        let cfg = train_cfg(&format!(
            "{LOGITS}optimizer: {{learning_rate: {lr}}}\nepochs: 4\nbatch_size: 64\n"
        ));
        let h = fit(&mut m, &train, Some(&test), &cfg, &BINARY, 5, &mut ()).unwrap();
        let last = h.epochs.last().unwrap();
        assert!(
            last.val_accuracy.unwrap() > 0.95,
            "{spec}: val accuracy {:?}",
            last.val_accuracy
        );
        assert!(h.epochs[0].loss > last.loss);
    }
}

#[test]
fn predict_on_sparse_rows_matches_dense_rows() {
    let width = 8;
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let values: Vec<f32> = (0..5 * width)
        .map(|_| {
            if rng.random::<f32>() < 0.4 {
                rng.random_range(0.0f32..2.0)
            } else {
                0.0
            }
        })
        .collect();
    let sparse: Vec<Vec<(u32, f32)>> = values
        .chunks(width)
        .map(|r| {
            r.iter()
                .enumerate()
                .filter(|(_, v)| **v != 0.0)
                .map(|(i, v)| (i as u32, *v))
                .collect()
        })
        .collect();
    let m = Model::new(
        &layers("- dense: {units: 3, activation: relu}\n- dense: {units: 1}\n"),
        &ModelInput::Features { width },
        2,
    )
    .unwrap();
    let ps = predict(
        &m,
        &InputData::Sparse {
            rows: sparse,
            width,
        },
        &BINARY,
        true,
        2,
    )
    .unwrap();
    let pd = predict(&m, &InputData::Features { values, width }, &BINARY, true, 3).unwrap();
    assert_eq!(ps.len(), 5);
    for (a, b) in ps.iter().zip(&pd) {
        assert!((a[1] - b[1]).abs() < 1e-6 && (a[0] + a[1] - 1.0).abs() < 1e-6);
    }
}

#[test]
fn sparse_training_is_deterministic() {
    let width = 5_000;
    let data = bag_of_words(300, width, 4);
    let spec = layers(
        "- dropout: {rate: 0.3}\n- dense: {units: 4, activation: relu}\n- dense: {units: 1}\n",
    );
    let cfg = train_cfg(&format!("{LOGITS}epochs: 2\n"));
    let run = |seed: u64| {
        let mut m = Model::new(&spec, &ModelInput::Features { width }, 1).unwrap();
        let h = fit(&mut m, &data, None, &cfg, &BINARY, seed, &mut ()).unwrap();
        (
            weights(&m),
            h.epochs.iter().map(|e| e.loss).collect::<Vec<_>>(),
        )
    };
    let (w1, l1) = run(7);
    let (w2, l2) = run(7);
    assert_eq!(w1, w2);
    assert_eq!(l1, l2);
    let (w3, _) = run(8);
    assert_ne!(w1, w3);
}

#[test]
fn sparse_rows_are_checked_against_the_model() {
    let data = Dataset {
        inputs: InputData::Sparse {
            rows: vec![vec![(2, 1.0)], vec![(9, 1.0)]],
            width: 5,
        },
        targets: vec![0.0, 1.0],
    };
    let m = Model::new(
        &layers("- dense: {units: 1}\n"),
        &ModelInput::Features { width: 5 },
        1,
    )
    .unwrap();
    let err = data
        .check_for(&m, &BINARY, "training")
        .unwrap_err()
        .to_string();
    assert!(err.contains("example 1 has feature index 9"), "{err}");
    let wide = Model::new(
        &layers("- dense: {units: 1}\n"),
        &ModelInput::Features { width: 6 },
        1,
    )
    .unwrap();
    let err = data
        .check_for(&wide, &BINARY, "training")
        .unwrap_err()
        .to_string();
    assert!(err.contains("5 features but the model reads 6"), "{err}");
    let seq = Model::new(
        &layers("- embedding: {input_dim: 10, output_dim: 2}\n- flatten\n- dense: {units: 1}\n"),
        &ModelInput::Sequence { maxlen: 5 },
        1,
    )
    .unwrap();
    let err = data
        .check_for(&seq, &BINARY, "training")
        .unwrap_err()
        .to_string();
    assert!(err.contains("token ids"), "{err}");
    assert_eq!(data.len(), 2);
    assert_eq!(data.inputs.width(), 5);
}
