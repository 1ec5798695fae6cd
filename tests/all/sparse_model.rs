//! Sparse feature rows through the model: the sparse first dense layer equals
//! the dense computation (forward and gradients), sparse dropout, parameter
//! counts on wide inputs, and the L2 penalty.

use crate::support;

use candle_core::{DType, Tensor};
use kerros::model::{infer_shapes, Model, ModelBatch, ModelInput, Pass, SparseBatch};
use kerros::spec::LayerSpec;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use support::layers;

/// Layers from YAML (robust to new optional spec fields).
/// Random sparse rows over `width` features, with a repeated index in row 0.
fn rows(n: usize, width: usize, per_row: usize, seed: u64) -> Vec<Vec<(u32, f32)>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out: Vec<Vec<(u32, f32)>> = (0..n)
        .map(|_| {
            (0..per_row)
                .map(|_| {
                    (
                        rng.random_range(0..width as u32),
                        rng.random_range(-1.0f32..2.0),
                    )
                })
                .collect()
        })
        .collect();
    if let Some(first) = out.first_mut() {
        if let Some(&(i, _)) = first.first() {
            first.push((i, 0.5));
        }
    }
    out
}

fn close_all(a: &[f32], b: &[f32], tol: f32) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= tol, "index {i}: {x} vs {y}");
    }
}

fn flat(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

#[test]
fn csr_batch_layout_and_dense_view() {
    let data = vec![
        vec![(3u32, 1.0f32), (0, 2.0)],
        vec![],
        vec![(3, 0.5), (1, -1.0), (3, 0.25)],
    ];
    let b = SparseBatch::gather(&data, &[2, 0, 1], 4).unwrap();
    assert_eq!(b.rows(), 3);
    assert_eq!(b.offsets(), &[0, 3, 5, 5]);
    assert_eq!(b.indices(), &[3, 1, 3, 3, 0]);
    assert_eq!(b.touched(), &[0, 1, 3]);
    let (idx, val, off) = b.to_tensors().unwrap();
    assert_eq!(idx.to_vec1::<u32>().unwrap(), vec![3, 1, 3, 3, 0]);
    assert_eq!(
        val.to_vec1::<f32>().unwrap(),
        vec![0.5, -1.0, 0.25, 1.0, 2.0]
    );
    assert_eq!(off.to_vec1::<u32>().unwrap(), vec![0, 3, 5, 5]);
    // Repeated indices within a row add up.
    assert_eq!(
        b.to_dense().unwrap().to_vec2::<f32>().unwrap(),
        vec![
            vec![0.0, -1.0, 0.0, 0.75],
            vec![2.0, 0.0, 0.0, 1.0],
            vec![0.0; 4]
        ]
    );
    let err = SparseBatch::gather(&[vec![(4u32, 1.0f32)]], &[0], 4).unwrap_err();
    assert!(err.to_string().contains("feature index 4"), "{err}");
}

#[test]
fn sparse_forward_equals_dense_forward() {
    let width = 23;
    let spec = layers("- dense: {units: 5, activation: relu}\n- dense: {units: 2}\n");
    let model = Model::new(&spec, &ModelInput::Features { width }, 7).unwrap();
    let data = rows(9, width, 6, 1);
    let order: Vec<usize> = (0..9).rev().collect();
    let b = SparseBatch::gather(&data, &order, width).unwrap();
    let dense = b.to_dense().unwrap();
    let ys = model
        .forward_batch(&ModelBatch::Sparse(b), &mut Pass::inference())
        .unwrap();
    let yd = model.forward(&dense, false).unwrap();
    assert_eq!(ys.dims(), &[9, 2]);
    close_all(&flat(&ys), &flat(&yd), 1e-5);
}

#[test]
fn sparse_gradients_equal_dense_autograd() {
    let width = 17;
    let spec = layers("- dense: {units: 3, activation: tanh}\n- dense: {units: 1}\n");
    let model = Model::new(&spec, &ModelInput::Features { width }, 3).unwrap();
    let data = rows(6, width, 4, 2);
    let b = SparseBatch::gather(&data, &[0, 1, 2, 3, 4, 5], width).unwrap();
    let dense_x = b.to_dense().unwrap();
    let weights = model.named_weights();
    let kernel = weights[0].1.var.clone();
    let bias = weights[1].1.var.clone();
    let out_kernel = weights[2].1.var.clone();
    // A loss with a non-trivial output gradient: Σ (y · c)², c = 1..6.
    let c = Tensor::arange(1f32, 7.0, &candle_core::Device::Cpu)
        .unwrap()
        .reshape((6, 1))
        .unwrap();
    let loss = |y: Tensor| y.mul(&c).unwrap().sqr().unwrap().sum_all().unwrap();

    let first = model.sparse_dense().expect("sparse entry");
    let touched = b.touched().to_vec();
    let ys = model
        .forward_batch(&ModelBatch::Sparse(b), &mut Pass::inference())
        .unwrap();
    let gs = loss(ys).backward().unwrap();
    // No dense kernel gradient reaches candle's store on the sparse path.
    assert!(gs.get(kernel.as_tensor()).is_none());
    let sparse = first.take_sparse_grad().expect("sparse kernel gradient");
    assert!(
        first.take_sparse_grad().is_none(),
        "taking empties the slot"
    );

    let yd = model.forward(&dense_x, false).unwrap();
    let gd = loss(yd).backward().unwrap();
    let dense_grad = gd
        .get(kernel.as_tensor())
        .unwrap()
        .to_vec2::<f32>()
        .unwrap();
    let mut sorted = sparse.rows.clone();
    sorted.sort_unstable();
    let mut expect_rows = touched.clone();
    expect_rows.sort_unstable();
    assert_eq!(sorted, expect_rows);
    assert_eq!(sparse.units, 3);
    for (row, dg) in dense_grad.iter().enumerate() {
        match sparse.rows.iter().position(|&r| r as usize == row) {
            Some(i) => close_all(&sparse.values[i * 3..(i + 1) * 3], dg, 1e-4),
            None => assert!(dg.iter().all(|g| *g == 0.0), "untouched row {row}: {dg:?}"),
        }
    }
    // Bias and later layers get their ordinary gradients, equal to the dense ones.
    for v in [&bias, &out_kernel] {
        close_all(
            &flat(gs.get(v.as_tensor()).unwrap()),
            &flat(gd.get(v.as_tensor()).unwrap()),
            1e-4,
        );
    }
}

#[test]
fn sparse_dropout_keeps_or_drops_whole_entries() {
    let data: Vec<Vec<(u32, f32)>> = (0..100)
        .map(|r| (0..100).map(|k| (k as u32, (r + k) as f32 + 1.0)).collect())
        .collect();
    let all: Vec<usize> = (0..100).collect();
    let b = SparseBatch::gather(&data, &all, 100).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let d = b.dropout(0.25, &mut rng).unwrap();
    assert_eq!(d.rows(), 100);
    let kept = d.nnz() as f64 / b.nnz() as f64;
    assert!((kept - 0.75).abs() < 0.02, "kept {kept}");
    // Each kept entry is its original value / (1 - rate).
    for r in 0..100 {
        for k in d.offsets()[r]..d.offsets()[r + 1] {
            let orig = (r + d.indices()[k] as usize) as f32 + 1.0;
            assert!((d.values()[k] - orig / 0.75).abs() < 1e-4);
        }
    }
    // A dropout layer before the first dense: identity at inference, masks in training.
    let spec = layers("- dropout: {rate: 0.5}\n- dense: {units: 2}\n");
    let model = Model::new(&spec, &ModelInput::Features { width: 100 }, 1).unwrap();
    let x = ModelBatch::Sparse(b.clone());
    let inf = model.forward_batch(&x, &mut Pass::inference()).unwrap();
    let plain = model.forward(&b.to_dense().unwrap(), false).unwrap();
    close_all(&flat(&inf), &flat(&plain), 1e-3);
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let tr = model
        .forward_batch(&x, &mut Pass::training(&mut rng))
        .unwrap();
    assert_ne!(flat(&tr), flat(&inf));
}

#[test]
fn dense_parameter_counts_on_wide_features() {
    let infos = infer_shapes(
        &layers("- dense: {units: 16, activation: relu}\n- dense: {units: 1}\n"),
        &ModelInput::Features { width: 800_000 },
    )
    .unwrap();
    assert_eq!(infos[0].params, 800_000 * 16 + 16);
    assert_eq!(infos[1].params, 17);
    let infos = infer_shapes(
        &layers("- dense: {units: 1, use_bias: false}\n"),
        &ModelInput::Features { width: 500_000 },
    )
    .unwrap();
    assert_eq!(infos[0].params, 500_000);
}

#[test]
fn l2_penalty_is_l2_times_sum_of_squares() {
    // Course orientation: one row per neuron; K = [[1, 2, -3], [0.5, 0, 0]].
    let spec = layers(
        "- dense: {units: 2, kernel: [[1, 2, -3], [0.5, 0, 0]], kernel_regularizer: {l2: 0.01}}\n- dense: {units: 1, kernel: [[2, 1]], kernel_regularizer: {l2: 0.1}}\n",
    );
    let model = Model::new(&spec, &ModelInput::Features { width: 3 }, 1).unwrap();
    // 0.01·(1 + 4 + 9 + 0.25) + 0.1·(4 + 1) = 0.1425 + 0.5
    let v = model.l2_penalty_value().unwrap();
    assert!((v - 0.6425).abs() < 1e-9, "{v}");
    let t = model.l2_penalty(false).unwrap().unwrap();
    assert!((t.to_dtype(DType::F64).unwrap().to_scalar::<f64>().unwrap() - 0.6425).abs() < 1e-6);
    // Skipping the sparse-input layer leaves the second layer's 0.5.
    let t = model.l2_penalty(true).unwrap().unwrap();
    assert!((t.to_dtype(DType::F64).unwrap().to_scalar::<f64>().unwrap() - 0.5).abs() < 1e-6);
    let bad: Result<Vec<LayerSpec>, _> =
        serde_yaml::from_str("- dense: {units: 1, kernel_regularizer: {l1: 0.1}}\n");
    assert!(bad.is_err());
    let neg = layers("- dense: {units: 1, kernel_regularizer: {l2: -1}}\n");
    let err = infer_shapes(&neg, &ModelInput::Features { width: 3 }).unwrap_err();
    assert!(err.path.contains("kernel_regularizer.l2"), "{}", err.path);
}
