//! Gradient checks of the fused recurrent ops: forward values and gradients
//! against a naive per-step candle-autograd implementation of the Keras
//! equations (SimpleRNN, LSTM, GRU reset_after, Bidirectional; with and
//! without masks, return_sequences and go_backwards), and central finite
//! differences of the fused forward itself.

use candle_core::{DType, Device, Tensor, Var};
use kerros::model::recurrent::build_layer;
use kerros::model::{Layer, Pass};
use kerros::spec::LayerSpec;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

const B: usize = 3;
const T: usize = 6;
const F: usize = 4;
const U: usize = 3;

fn spec(yaml: &str) -> LayerSpec {
    serde_yaml::from_str(yaml).expect("layer spec")
}

fn randn(rng: &mut ChaCha8Rng, n: usize, scale: f32) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-scale..scale)).collect()
}

/// Row 0: pre-padded (2 pads), row 1: post-padded (1 pad), row 2: a hole in the middle.
fn mask() -> Vec<bool> {
    let rows = [
        [false, false, true, true, true, true],
        [true, true, true, true, true, false],
        [true, true, false, true, true, true],
    ];
    rows.iter().flat_map(|r| r.iter().copied()).collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Simple,
    Lstm,
    Gru,
}

struct Dir<'a> {
    kernel: &'a Var,
    rec: &'a Var,
    bias: &'a Var,
}

/// The Keras equations step by step with ordinary candle ops.
#[allow(clippy::too_many_arguments)]
fn naive(
    kind: Kind,
    x: &Tensor,
    w: &Dir,
    mask: Option<&[bool]>,
    return_sequences: bool,
    reverse: bool,
    aligned: bool,
    zero_masked: bool,
) -> Tensor {
    let sig = |t: &Tensor| candle_nn::ops::sigmoid(t).unwrap();
    let (k, r, b) = (w.kernel.as_tensor(), w.rec.as_tensor(), w.bias.as_tensor());
    let mut h = Tensor::zeros((B, U), DType::F32, &Device::Cpu).unwrap();
    let mut c = h.clone();
    let mut outs: Vec<Option<Tensor>> = vec![None; T];
    for s in 0..T {
        let t = if reverse { T - 1 - s } else { s };
        let xt = x.narrow(1, t, 1).unwrap().squeeze(1).unwrap();
        let m: Vec<f32> = (0..B)
            .map(|i| mask.map_or(1.0, |m| m[i * T + t] as u8 as f32))
            .collect();
        let m = Tensor::from_vec(m, (B, 1), &Device::Cpu).unwrap();
        let (hn, cn) = match kind {
            Kind::Simple => {
                let z = (xt.matmul(k).unwrap().broadcast_add(b).unwrap() + h.matmul(r).unwrap())
                    .unwrap();
                (z.tanh().unwrap(), c.clone())
            }
            Kind::Lstm => {
                let z = (xt.matmul(k).unwrap().broadcast_add(b).unwrap() + h.matmul(r).unwrap())
                    .unwrap();
                let g = |i: usize| z.narrow(1, i * U, U).unwrap();
                let (ig, fg, cg, og) = (sig(&g(0)), sig(&g(1)), g(2).tanh().unwrap(), sig(&g(3)));
                let cn = ((fg * &c).unwrap() + (ig * cg).unwrap()).unwrap();
                let hn = (og * cn.tanh().unwrap()).unwrap();
                (hn, cn)
            }
            Kind::Gru => {
                let xz = xt
                    .matmul(k)
                    .unwrap()
                    .broadcast_add(&b.get(0).unwrap())
                    .unwrap();
                let rz = h
                    .matmul(r)
                    .unwrap()
                    .broadcast_add(&b.get(1).unwrap())
                    .unwrap();
                let xg = |i: usize| xz.narrow(1, i * U, U).unwrap();
                let rg = |i: usize| rz.narrow(1, i * U, U).unwrap();
                let z = sig(&(xg(0) + rg(0)).unwrap());
                let rr = sig(&(xg(1) + rg(1)).unwrap());
                let hh = (xg(2) + (rr * rg(2)).unwrap()).unwrap().tanh().unwrap();
                let one_minus = z.affine(-1.0, 1.0).unwrap();
                let hn = ((z * &h).unwrap() + (one_minus * hh).unwrap()).unwrap();
                (hn, c.clone())
            }
        };
        let keep = m.affine(-1.0, 1.0).unwrap();
        h = (hn.broadcast_mul(&m).unwrap() + h.broadcast_mul(&keep).unwrap()).unwrap();
        c = (cn.broadcast_mul(&m).unwrap() + c.broadcast_mul(&keep).unwrap()).unwrap();
        let out = if zero_masked {
            h.broadcast_mul(&m).unwrap()
        } else {
            h.clone()
        };
        let pos = if reverse && !aligned { s } else { t };
        outs[pos] = Some(out);
    }
    if return_sequences {
        let outs: Vec<Tensor> = outs.into_iter().map(|o| o.unwrap()).collect();
        Tensor::stack(&outs, 1).unwrap()
    } else {
        h
    }
}

fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

fn run_fused(layer: &dyn Layer, x: &Tensor, mask: Option<&[bool]>) -> Tensor {
    let mut pass = Pass::inference();
    pass.set_record_grad_bands(true);
    if let Some(m) = mask {
        pass.set_mask(Some(Arc::new(m.to_vec())));
    }
    layer.forward(x, &mut pass).unwrap()
}

/// Compare the fused layer with the naive one: outputs, and the gradients of
/// `sum(out ⊙ R)` for the input and every weight; then the band norms.
fn check(kind: Kind, yaml: &str, masked: bool) {
    let layer_spec = spec(yaml);
    let layer = build_layer(&layer_spec, T, F, 7).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let x = Var::from_vec(randn(&mut rng, B * T * F, 1.0), (B, T, F), &Device::Cpu).unwrap();
    let m = mask();
    let mask = masked.then_some(m.as_slice());
    let weights = layer.weights();
    let fused = run_fused(layer.as_ref(), x.as_tensor(), mask);
    let (rs, go_back, bidi) = match &layer_spec {
        LayerSpec::Bidirectional(b) => {
            let s = serde_yaml::to_value(&*b.layer).unwrap();
            let inner = s.as_mapping().unwrap().values().next().unwrap().clone();
            (inner["return_sequences"].as_bool().unwrap(), false, true)
        }
        other => {
            let s = serde_yaml::to_value(other).unwrap();
            let inner = s.as_mapping().unwrap().values().next().unwrap().clone();
            (
                inner["return_sequences"].as_bool().unwrap(),
                inner["go_backwards"].as_bool().unwrap(),
                false,
            )
        }
    };
    let dir = |i: usize| Dir {
        kernel: weights[3 * i].var,
        rec: weights[3 * i + 1].var,
        bias: weights[3 * i + 2].var,
    };
    let reference = if bidi {
        let f = naive(kind, x.as_tensor(), &dir(0), mask, rs, false, true, rs);
        let b = naive(kind, x.as_tensor(), &dir(1), mask, rs, true, true, rs);
        Tensor::cat(&[&f, &b], f.rank() - 1).unwrap()
    } else {
        naive(
            kind,
            x.as_tensor(),
            &dir(0),
            mask,
            rs,
            go_back,
            false,
            false,
        )
    };
    assert_eq!(fused.dims(), reference.dims(), "{yaml}");
    let d = max_diff(&fused, &reference);
    assert!(d < 1e-5, "{yaml} masked={masked}: forward differs by {d}");

    let r = Tensor::from_vec(
        randn(&mut rng, fused.elem_count(), 1.0),
        fused.dims(),
        &Device::Cpu,
    )
    .unwrap();
    let gf = (&fused * &r)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    let gn = (&reference * &r)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    let mut vars: Vec<(&str, &Var)> = vec![("input", &x)];
    vars.extend(weights.iter().map(|w| (w.name, w.var)));
    for (name, v) in vars {
        let a = gf
            .get(v)
            .unwrap_or_else(|| panic!("{yaml}: no fused gradient for {name}"));
        let b = gn.get(v).unwrap();
        let scale = b.abs().unwrap().flatten_all().unwrap().max(0).unwrap();
        let scale = scale.to_scalar::<f32>().unwrap().max(1e-3);
        let d = max_diff(a, b);
        assert!(
            d / scale < 2e-5,
            "{yaml} masked={masked}: gradient of {name} differs by {d} (scale {scale})"
        );
    }
    // The recorded input gradient bands match the naive input gradient.
    let bands = layer.timestep_grad_bands().expect("bands after backward");
    let dx = gn.get(&x).unwrap();
    let per_step: Vec<f64> = (0..T)
        .map(|t| {
            let v = dx
                .narrow(1, t, 1)
                .unwrap()
                .sqr()
                .unwrap()
                .sum_all()
                .unwrap();
            (v.to_scalar::<f32>().unwrap() as f64).sqrt()
        })
        .collect();
    // T = 6: quarter = 1 step; first = step 0, middle = step 2, last = step 5.
    let want = [per_step[0], per_step[2], per_step[5]];
    for (g, w) in bands.iter().zip(want) {
        assert!(
            (g - w).abs() <= 1e-4 * w.max(1e-3),
            "{yaml}: band {g} vs {w}"
        );
    }
}

fn all_configs(kind: Kind, name: &str) {
    for rs in [false, true] {
        for gb in [false, true] {
            let yaml =
                format!("{name}: {{units: {U}, return_sequences: {rs}, go_backwards: {gb}}}");
            check(kind, &yaml, false);
            check(kind, &yaml, true);
        }
        let yaml =
            format!("bidirectional: {{layer: {{{name}: {{units: {U}, return_sequences: {rs}}}}}}}");
        check(kind, &yaml, false);
        check(kind, &yaml, true);
    }
}

#[test]
fn simple_rnn_matches_naive_autograd() {
    all_configs(Kind::Simple, "simple_rnn");
}

#[test]
fn lstm_matches_naive_autograd() {
    all_configs(Kind::Lstm, "lstm");
}

#[test]
fn gru_matches_naive_autograd() {
    all_configs(Kind::Gru, "gru");
}

/// Central finite differences (f64 loss accumulation) of the fused forward
/// against its own backward, for every weight entry of tiny LSTM/GRU/SimpleRNN layers.
#[test]
fn fused_backward_matches_finite_differences() {
    for yaml in [
        "lstm: {units: 3, return_sequences: true}",
        "gru: {units: 3}",
        "simple_rnn: {units: 3, return_sequences: true}",
    ] {
        let layer = build_layer(&spec(yaml), T, F, 5).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let x = Tensor::from_vec(randn(&mut rng, B * T * F, 1.0), (B, T, F), &Device::Cpu).unwrap();
        let m = mask();
        let out = run_fused(layer.as_ref(), &x, Some(&m));
        let r: Vec<f32> = randn(&mut rng, out.elem_count(), 1.0);
        let rt = Tensor::from_vec(r.clone(), out.dims(), &Device::Cpu).unwrap();
        let loss = |layer: &dyn Layer| -> f64 {
            let o = run_fused(layer, &x, Some(&m))
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            o.iter().zip(&r).map(|(a, b)| *a as f64 * *b as f64).sum()
        };
        let grads = (&out * &rt).unwrap().sum_all().unwrap().backward().unwrap();
        for w in layer.weights() {
            let g = grads
                .get(w.var)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            let base = w
                .var
                .as_tensor()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            let eps = 1e-2f32;
            for i in 0..base.len() {
                let mut v = base.clone();
                v[i] = base[i] + eps;
                w.var
                    .set(&Tensor::from_vec(v.clone(), w.var.dims(), &Device::Cpu).unwrap())
                    .unwrap();
                let up = loss(layer.as_ref());
                v[i] = base[i] - eps;
                w.var
                    .set(&Tensor::from_vec(v, w.var.dims(), &Device::Cpu).unwrap())
                    .unwrap();
                let down = loss(layer.as_ref());
                w.var
                    .set(&Tensor::from_vec(base.clone(), w.var.dims(), &Device::Cpu).unwrap())
                    .unwrap();
                let numeric = (up - down) / (2.0 * eps as f64);
                let analytic = g[i] as f64;
                assert!(
                    (numeric - analytic).abs() < 2e-3 + 2e-2 * analytic.abs(),
                    "{yaml}: d/d{}[{i}] numeric {numeric} vs backward {analytic}",
                    w.name
                );
            }
        }
    }
}
