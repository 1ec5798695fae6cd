//! Tests of the fused convolution + max pooling: against the unfused layers
//! (values and every gradient), and the SIMD path against the portable one.

use super::conv1d::output_length;
use super::conv1d_geometry::Geometry;
use super::conv1d_pool::{conv_pool, MaxWindows};
use super::conv1d_pool_tokens::token_conv_pool;
use super::tokens::EmbeddedTokens;
use super::{Model, ModelInput, Pass};
use crate::spec::{Activation, LayerSpec, Padding};
use candle_core::{Device, Tensor, Var};
use pulp::Arch;
use std::sync::Arc;

/// Token ids of `batch` examples of `steps`, with padding (0) in front of some.
fn ids(batch: usize, steps: usize, vocab: usize) -> Tensor {
    let v: Vec<u32> = (0..batch * steps)
        .map(|i| {
            let (b, t) = (i / steps, i % steps);
            if t < b % 4 {
                0
            } else {
                ((i * 7919 + 13) % vocab) as u32
            }
        })
        .collect();
    Tensor::from_vec(v, (batch, steps), &Device::Cpu).unwrap()
}

/// `Σ y · w` for fixed pseudo-random weights `w`, so every output gets its own gradient.
fn weighted_sum(y: &Tensor) -> Tensor {
    let y = y.flatten_all().unwrap();
    let n = y.dims1().unwrap();
    let w: Vec<f32> = (0..n).map(|i| ((i * 7 % 11) as f32 - 5.0) / 5.0).collect();
    let w = Tensor::from_vec(w, n, &Device::Cpu).unwrap();
    (&y * &w).unwrap().sum_all().unwrap()
}

/// Output and every weight gradient, through `forward_pass` (fused pairs) or
/// through the looked-up vectors and each layer's own `forward` (unfused).
fn run(model: &Model, x: &Tensor, fused: bool) -> (Vec<f32>, Vec<Vec<f32>>) {
    let mut pass = Pass::inference();
    let y = if fused {
        model.forward_pass(x, &mut pass).unwrap()
    } else {
        let embedding = model.layers()[0].as_embedding().unwrap();
        let mut h = embedding
            .tokens(x, &mut pass)
            .unwrap()
            .materialize()
            .unwrap();
        for layer in &model.layers()[1..] {
            h = layer.forward(&h, &mut pass).unwrap();
        }
        h
    };
    let grads = weighted_sum(&y).backward().unwrap();
    let g = model
        .named_weights()
        .iter()
        .map(|(name, w)| {
            let g = grads
                .get(w.var.as_tensor())
                .unwrap_or_else(|| panic!("no gradient for {name}"));
            g.flatten_all().unwrap().to_vec1::<f32>().unwrap()
        })
        .collect();
    (y.flatten_all().unwrap().to_vec1::<f32>().unwrap(), g)
}

fn assert_close(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= 1e-5 * (1.0 + y.abs()),
            "{what}[{i}]: {x} vs {y}"
        );
    }
}

#[test]
fn fused_convolution_and_max_pooling_match_the_separate_layers() {
    let emb = "{embedding: {input_dim: 50, output_dim: 6}}";
    let stacks = [
        // The benchmark's shape, small: both pairs fuse (tokens, then vectors).
        format!("[{emb}, {{conv1d: {{filters: 8, kernel_size: 3, activation: relu}}}}, {{max_pooling1d: {{pool_size: 3}}}}, {{conv1d: {{filters: 16, kernel_size: 3, activation: relu}}}}, global_max_pooling1d, {{dense: {{units: 1}}}}]"),
        // Same padding, strides, overlapping and gapped pool windows, other activations.
        format!("[{emb}, {{conv1d: {{filters: 5, kernel_size: 4, strides: 2, padding: same, activation: tanh}}}}, {{max_pooling1d: {{pool_size: 2, strides: 1}}}}, {{conv1d: {{filters: 3, kernel_size: 2, padding: same}}}}, {{max_pooling1d: {{pool_size: 2, strides: 3}}}}, flatten]"),
        format!("[{emb}, {{conv1d: {{filters: 4, kernel_size: 5, activation: sigmoid}}}}, global_max_pooling1d]"),
        // A convolution after another layer than the embedding, on vectors.
        format!("[{emb}, {{conv1d: {{filters: 4, kernel_size: 2}}}}, {{conv1d: {{filters: 7, kernel_size: 3, strides: 2, activation: relu}}}}, global_max_pooling1d]"),
    ];
    let x = ids(5, 23, 50);
    for yaml in &stacks {
        let layers: Vec<LayerSpec> = serde_yaml::from_str(yaml).unwrap();
        let model = Model::new(&layers, &ModelInput::Sequence { maxlen: 23 }, 4).unwrap();
        // Non-zero biases, so the bias gradient and the pooling after it are exercised.
        for (name, w) in model.named_weights() {
            if name.ends_with("/bias") {
                let n = w.var.elem_count();
                let b: Vec<f32> = (0..n).map(|i| (i as f32 - 2.0) / 10.0).collect();
                w.var
                    .set(&Tensor::from_vec(b, n, &Device::Cpu).unwrap())
                    .unwrap();
            }
        }
        let (y_fused, g_fused) = run(&model, &x, true);
        let (y_ref, g_ref) = run(&model, &x, false);
        assert_close(&y_fused, &y_ref, yaml);
        for ((a, b), (name, _)) in g_fused.iter().zip(&g_ref).zip(model.named_weights()) {
            assert_close(a, b, &format!("{yaml}: {name}"));
            assert!(
                a.iter().any(|v| *v != 0.0),
                "{yaml}: {name} has no gradient"
            );
        }
    }
}

#[test]
fn the_pair_after_the_embedding_takes_the_fused_token_path() {
    let yaml = "[{embedding: {input_dim: 30, output_dim: 4}}, {conv1d: {filters: 3, kernel_size: 3}}, {max_pooling1d: {pool_size: 2}}]";
    let layers: Vec<LayerSpec> = serde_yaml::from_str(yaml).unwrap();
    let model = Model::new(&layers, &ModelInput::Sequence { maxlen: 9 }, 1).unwrap();
    let mut pass = Pass::inference();
    let tokens = model.layers()[0]
        .as_embedding()
        .unwrap()
        .tokens(&ids(2, 9, 30), &mut pass)
        .unwrap();
    let (conv, pool) = (&model.layers()[1], &model.layers()[2]);
    assert!(conv
        .forward_tokens_pair(&tokens, pool.as_ref(), &mut pass)
        .is_some());
    // Average pooling has no fused path.
    let avg = "[{embedding: {input_dim: 30, output_dim: 4}}, {conv1d: {filters: 3, kernel_size: 3}}, {average_pooling1d: {pool_size: 2}}]";
    let layers: Vec<LayerSpec> = serde_yaml::from_str(avg).unwrap();
    let model = Model::new(&layers, &ModelInput::Sequence { maxlen: 9 }, 1).unwrap();
    let (conv, pool) = (&model.layers()[1], &model.layers()[2]);
    assert!(conv
        .forward_tokens_pair(&tokens, pool.as_ref(), &mut pass)
        .is_none());
}

/// Values of `n` pseudo-random numbers in about ±1.
fn values(n: usize, seed: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (((i + seed) * 2_654_435_761 % 1000) as f32 / 500.0) - 1.0)
        .collect()
}

/// Output and the gradients of (input, kernel, bias) of one fused op run with `arch`.
fn op_run(arch: Arch, tokens: bool, padding: Padding, windows: (usize, usize)) -> Vec<Vec<f32>> {
    let (batch, steps, channels, size, filters) = (6, 29, 16, 5, 24);
    let (out, pad_left) = output_length(steps, size, 1, padding);
    let g = Geometry {
        batch,
        steps,
        channels,
        size,
        stride: 1,
        out,
        pad_left,
    };
    let (wsize, wstride) = windows;
    let w = MaxWindows {
        size: wsize,
        stride: wstride,
        out: (out - wsize) / wstride + 1,
        squeeze: false,
    };
    let dev = Device::Cpu;
    let kernel = Var::from_vec(
        values(size * channels * filters, 1),
        (size, channels, filters),
        &dev,
    )
    .unwrap();
    let bias = Var::from_vec(values(filters, 2), filters, &dev).unwrap();
    let (y, input) = if tokens {
        let table = Var::from_vec(values(40 * channels, 3), (40, channels), &dev).unwrap();
        let ids: Vec<u32> = (0..batch * steps).map(|i| (i * 31 % 40) as u32).collect();
        let t = EmbeddedTokens::new(
            Arc::new(ids),
            batch,
            steps,
            table.as_tensor().clone(),
            false,
        )
        .unwrap();
        let y = token_conv_pool(
            &t,
            kernel.as_tensor(),
            bias.as_tensor(),
            g,
            w,
            Activation::Relu,
            arch,
        )
        .unwrap();
        (y, table)
    } else {
        let x = Var::from_vec(
            values(batch * steps * channels, 4),
            (batch, steps, channels),
            &dev,
        )
        .unwrap();
        let y = conv_pool(
            x.as_tensor(),
            kernel.as_tensor(),
            bias.as_tensor(),
            g,
            w,
            Activation::Relu,
            arch,
        )
        .unwrap();
        (y, x)
    };
    let grads = weighted_sum(&y).backward().unwrap();
    let mut out = vec![y.flatten_all().unwrap().to_vec1::<f32>().unwrap()];
    for v in [&input, &kernel, &bias] {
        out.push(
            grads
                .get(v.as_tensor())
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap(),
        );
    }
    out
}

#[test]
fn simd_fused_convolution_matches_the_scalar_reference() {
    for tokens in [false, true] {
        for padding in [Padding::Valid, Padding::Same] {
            for windows in [(5, 5), (3, 2)] {
                let want = op_run(Arch::Scalar, tokens, padding, windows);
                let got = op_run(Arch::new(), tokens, padding, windows);
                for (i, (a, b)) in got.iter().zip(&want).enumerate() {
                    assert_close(
                        a,
                        b,
                        &format!("tokens {tokens}, {padding:?}, {windows:?}, part {i}"),
                    );
                }
            }
        }
    }
}

/// Timing of the benchmark model's two fused ops (`cargo test --release --lib
/// conv1d_pool_timing -- --ignored --nocapture`): not a correctness test.
#[test]
#[ignore]
fn conv1d_pool_timing() {
    let dev = Device::Cpu;
    let (batch, steps) = (128, 200);
    let reps = 20;
    let time = |label: &str, f: &dyn Fn() -> Tensor| {
        let start = std::time::Instant::now();
        let mut fwd = 0.0;
        for _ in 0..reps {
            let t0 = std::time::Instant::now();
            let y = f();
            fwd += t0.elapsed().as_secs_f64();
            weighted_sum(&y).backward().unwrap();
        }
        let all = start.elapsed().as_secs_f64();
        eprintln!(
            "{label}: forward {:.2} ms, forward+backward {:.2} ms",
            fwd / reps as f64 * 1e3,
            all / reps as f64 * 1e3
        );
    };
    let kernel = Var::from_vec(values(7 * 16 * 32, 1), (7, 16, 32), &dev).unwrap();
    let bias = Var::from_vec(values(32, 2), 32, &dev).unwrap();
    let table = Var::from_vec(values(10_000 * 16, 3), (10_000, 16), &dev).unwrap();
    let ids: Vec<u32> = (0..batch * steps)
        .map(|i| ((i * 2_654_435_761usize) >> 7) as u32 % 10_000)
        .collect();
    let ids = Arc::new(ids);
    let g1 = Geometry {
        batch,
        steps,
        channels: 16,
        size: 7,
        stride: 1,
        out: 194,
        pad_left: 0,
    };
    let w1 = MaxWindows {
        size: 5,
        stride: 5,
        out: 38,
        squeeze: false,
    };
    time("conv1 tokens + maxpool(5)", &|| {
        let t = EmbeddedTokens::new(
            Arc::clone(&ids),
            batch,
            steps,
            table.as_tensor().clone(),
            false,
        )
        .unwrap();
        token_conv_pool(
            &t,
            kernel.as_tensor(),
            bias.as_tensor(),
            g1,
            w1,
            Activation::Relu,
            Arch::new(),
        )
        .unwrap()
    });
    let kernel2 = Var::from_vec(values(7 * 32 * 32, 4), (7, 32, 32), &dev).unwrap();
    let x = Var::from_vec(values(batch * 38 * 32, 5), (batch, 38, 32), &dev).unwrap();
    let g2 = Geometry {
        batch,
        steps: 38,
        channels: 32,
        size: 7,
        stride: 1,
        out: 32,
        pad_left: 0,
    };
    let w2 = MaxWindows {
        size: 32,
        stride: 32,
        out: 1,
        squeeze: true,
    };
    time("conv2 + global max", &|| {
        conv_pool(
            x.as_tensor(),
            kernel2.as_tensor(),
            bias.as_tensor(),
            g2,
            w2,
            Activation::Relu,
            Arch::new(),
        )
        .unwrap()
    });
}
