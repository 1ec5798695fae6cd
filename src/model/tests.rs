//! Unit tests of the model module: Keras parameter counts and shapes, located
//! shape errors, seeded initialisation, dropout, traces and weight files.

use super::*;
use crate::spec::{Activation, DenseSpec, DropoutSpec, EmbeddingSpec, LayerSpec};
use candle_core::{DType, Device, Tensor};

fn emb(input_dim: usize, output_dim: usize) -> LayerSpec {
    LayerSpec::Embedding(EmbeddingSpec::new(input_dim, output_dim))
}

fn dense(units: usize) -> DenseSpec {
    DenseSpec {
        units,
        activation: Activation::Linear,
        use_bias: true,
        kernel: None,
        bias: None,
        trainable: true,
        kernel_regularizer: None,
    }
}

fn course() -> Vec<LayerSpec> {
    vec![
        emb(10000, 16),
        LayerSpec::Flatten,
        LayerSpec::Dense(dense(1)),
    ]
}

fn seq(maxlen: usize) -> ModelInput {
    ModelInput::Sequence { maxlen }
}

fn feat(width: usize) -> ModelInput {
    ModelInput::Features { width }
}

fn err(layers: &[LayerSpec], input: ModelInput) -> crate::spec::Invalid {
    match infer_shapes(layers, &input) {
        Ok(i) => panic!("expected an error, got {i:?}"),
        Err(e) => e,
    }
}

#[test]
fn course_model_has_keras_shapes_and_163201_params() {
    let infos = infer_shapes(&course(), &seq(200)).unwrap();
    let rows: Vec<(&str, &str, usize)> = infos
        .iter()
        .map(|i| (i.name.as_str(), i.output_shape.as_str(), i.params))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("embedding", "(None, 200, 16)", 160_000),
            ("flatten", "(None, 3200)", 0),
            ("dense", "(None, 1)", 3201),
        ]
    );
    let s = Summary::from_infos(&infos);
    assert_eq!(s.total_params, 163_201);
    assert_eq!(s.trainable_params, 163_201);
    assert_eq!(s.non_trainable_params, 0);
    assert_eq!(s.size_bytes, 652_804);
    let text = s.to_string();
    assert!(text.contains("Total params: 163,201 (637.50 KB)"), "{text}");
    assert!(text.contains("embedding (Embedding)"), "{text}");
}

#[test]
fn dense_params_with_and_without_bias() {
    let mut d = dense(2);
    let with = infer_shapes(&[LayerSpec::Dense(d.clone())], &feat(3)).unwrap();
    assert_eq!(with[0].params, 3 * 2 + 2);
    d.use_bias = false;
    let without = infer_shapes(&[LayerSpec::Dense(d)], &feat(3)).unwrap();
    assert_eq!(without[0].params, 3 * 2);
    assert_eq!(without[0].output_shape, "(None, 2)");
}

#[test]
fn pooling_and_dropout_have_no_params_and_names_repeat_keras_style() {
    let layers = vec![
        emb(1000, 8),
        LayerSpec::GlobalAveragePooling1d,
        LayerSpec::Dropout(DropoutSpec { rate: 0.5 }),
        LayerSpec::Dense(dense(4)),
        LayerSpec::Dropout(DropoutSpec { rate: 0.2 }),
        LayerSpec::Dense(dense(1)),
    ];
    let infos = infer_shapes(&layers, &seq(50)).unwrap();
    let got: Vec<(&str, &str, usize)> = infos
        .iter()
        .map(|i| (i.name.as_str(), i.output_shape.as_str(), i.params))
        .collect();
    assert_eq!(
        got,
        vec![
            ("embedding", "(None, 50, 8)", 8000),
            ("global_average_pooling1d", "(None, 8)", 0),
            ("dropout", "(None, 8)", 0),
            ("dense", "(None, 4)", 36),
            ("dropout_1", "(None, 4)", 0),
            ("dense_1", "(None, 1)", 5),
        ]
    );
    let max = infer_shapes(&[emb(10, 3), LayerSpec::GlobalMaxPooling1d], &seq(7)).unwrap();
    assert_eq!(max[1].output_shape, "(None, 3)");
    assert_eq!(max[1].params, 0);
}

#[test]
fn frozen_dense_counts_as_non_trainable() {
    let mut d = dense(2);
    d.trainable = false;
    let infos = infer_shapes(&[LayerSpec::Dense(d), LayerSpec::Dense(dense(1))], &feat(3)).unwrap();
    let s = Summary::from_infos(&infos);
    assert_eq!(
        (s.total_params, s.trainable_params, s.non_trainable_params),
        (11, 3, 8)
    );
    let model = Model::new(
        &[
            LayerSpec::Dense(DenseSpec {
                trainable: false,
                ..dense(2)
            }),
            LayerSpec::Dense(dense(1)),
        ],
        &feat(3),
        1,
    )
    .unwrap();
    // Only the second layer's kernel and bias are optimised.
    assert_eq!(model.trainable_vars().len(), 2);
    assert_eq!(model.summary(), s);
}

#[test]
fn dense_after_embedding_is_rejected_with_the_fix() {
    let e = err(&[emb(10000, 16), LayerSpec::Dense(dense(1))], seq(200));
    assert_eq!(e.path, "model.layers[1]");
    assert!(
        e.message.contains(
            "dense after embedding gets a 3-D input (None, 200, 16); add `- flatten` or `- global_average_pooling1d` before it"
        ),
        "{}",
        e.message
    );
}

#[test]
fn embedding_must_be_first_and_read_token_ids() {
    let e = err(&[LayerSpec::Dense(dense(1))], seq(20));
    assert_eq!(e.path, "model.layers[0]");
    assert!(
        e.message.contains("first layer must be an `embedding`"),
        "{}",
        e.message
    );

    let e = err(&[emb(100, 4), emb(100, 4)], seq(20));
    assert_eq!(e.path, "model.layers[1]");
    assert!(
        e.message.contains("embedding must be the first layer"),
        "{}",
        e.message
    );

    let e = err(
        &[emb(100, 4), LayerSpec::Flatten, LayerSpec::Dense(dense(1))],
        feat(30),
    );
    assert_eq!(e.path, "model.layers[0]");
    assert!(
        e.message.contains("embedding reads token ids"),
        "{}",
        e.message
    );
}

#[test]
fn pooling_on_a_2d_input_is_rejected_and_flatten_on_2d_is_a_no_op() {
    let e = err(
        &[
            emb(100, 4),
            LayerSpec::Flatten,
            LayerSpec::GlobalAveragePooling1d,
        ],
        seq(10),
    );
    assert_eq!(e.path, "model.layers[2]");
    assert!(
        e.message
            .contains("global_average_pooling1d after flatten gets a 2-D input (None, 40)"),
        "{}",
        e.message
    );
    let e = err(&[LayerSpec::GlobalMaxPooling1d], feat(5));
    assert_eq!(e.path, "model.layers[0]");

    let infos = infer_shapes(&[LayerSpec::Flatten, LayerSpec::Dense(dense(2))], &feat(5)).unwrap();
    assert_eq!(infos[0].output_shape, "(None, 5)");
    assert_eq!(infos[1].params, 12);
}

#[test]
fn fixed_kernel_and_bias_shapes_are_checked() {
    let mut d = dense(2);
    d.kernel = Some(vec![vec![1.0; 4], vec![1.0; 4]]);
    let e = err(&[LayerSpec::Dense(d)], feat(3));
    assert_eq!(e.path, "model.layers[0].dense.kernel");
    assert_eq!(
        e.message,
        "layer model.layers[0] (dense): kernel is 2×4 but units=2 and the previous layer gives 3 values: expected 2×3 (one row per output neuron)"
    );

    // The Keras orientation (inputs × units) is the classic mistake.
    let mut d = dense(2);
    d.kernel = Some(vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![2.0, 1.0]]);
    let e = err(&[LayerSpec::Dense(d)], feat(3));
    assert!(e.message.contains("kernel is 3×2"), "{}", e.message);

    let mut d = dense(2);
    d.kernel = Some(vec![vec![1.0; 3], vec![1.0; 2]]);
    let e = err(&[LayerSpec::Dense(d)], feat(3));
    assert!(e.message.contains("row 1 has 2"), "{}", e.message);

    let mut d = dense(2);
    d.bias = Some(vec![0.0; 3]);
    let e = err(&[LayerSpec::Dense(dense(4)), LayerSpec::Dense(d)], feat(3));
    assert_eq!(e.path, "model.layers[1].dense.bias");
    assert!(
        e.message.contains("bias has 3 values but units=2"),
        "{}",
        e.message
    );

    let mut d = dense(2);
    d.use_bias = false;
    d.bias = Some(vec![0.0; 2]);
    let e = err(&[LayerSpec::Dense(d)], feat(3));
    assert_eq!(e.path, "model.layers[0].dense.bias");
    assert!(e.message.contains("use_bias is false"), "{}", e.message);
}

#[test]
fn model_new_reports_shape_errors() {
    let r = Model::new(&[emb(10, 2), LayerSpec::Dense(dense(1))], &seq(5), 0);
    match r {
        Err(ModelError::Spec(e)) => assert_eq!(e.path, "model.layers[1]"),
        other => panic!("expected a spec error, got {other:?}"),
    }
}

fn weights_of(m: &Model) -> Vec<(String, Vec<f32>)> {
    m.named_weights()
        .into_iter()
        .map(|(n, w)| (n, w.var.flatten_all().unwrap().to_vec1::<f32>().unwrap()))
        .collect()
}

#[test]
fn initialisation_is_seeded_and_follows_keras_ranges() {
    let layers = vec![emb(500, 8), LayerSpec::Flatten, LayerSpec::Dense(dense(3))];
    let a = weights_of(&Model::new(&layers, &seq(10), 7).unwrap());
    let b = weights_of(&Model::new(&layers, &seq(10), 7).unwrap());
    let c = weights_of(&Model::new(&layers, &seq(10), 8).unwrap());
    assert_eq!(a, b);
    assert_ne!(a, c);
    let names: Vec<&str> = a.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        vec!["embedding/embeddings", "dense/kernel", "dense/bias"]
    );
    let emb_w = &a[0].1;
    assert!(emb_w.iter().all(|v| (-0.05..0.05).contains(v)));
    assert!(emb_w.iter().any(|v| *v > 0.04) && emb_w.iter().any(|v| *v < -0.04));
    // Glorot uniform limit sqrt(6 / (80 + 3)).
    let limit = (6.0f32 / 83.0).sqrt();
    let k = &a[1].1;
    assert!(k.iter().all(|v| v.abs() <= limit));
    assert!(k.iter().any(|v| v.abs() > 0.8 * limit));
    assert!(a[2].1.iter().all(|v| *v == 0.0));
}

#[test]
fn course_model_forward_gives_one_value_per_example() {
    let model = Model::new(&course(), &seq(200), 1).unwrap();
    let ids: Vec<u32> = (0..3 * 200).map(|i| (i * 37 % 10000) as u32).collect();
    let x = Tensor::from_vec(ids, (3, 200), &Device::Cpu).unwrap();
    let y = model.forward(&x, false).unwrap();
    assert_eq!(y.dims(), &[3, 1]);
    assert_eq!(model.output_width(), 1);
    assert_eq!(model.vocab_size(), Some(10000));
}

fn hand_layers(relu_bias: bool) -> Vec<LayerSpec> {
    let mut l1 = dense(2);
    l1.kernel = Some(vec![vec![1.0, 0.0, 2.0], vec![0.0, 1.0, 1.0]]);
    if relu_bias {
        l1.activation = Activation::Relu;
        l1.bias = Some(vec![-6.0, 0.0]);
    } else {
        l1.use_bias = false;
    }
    let mut l2 = dense(1);
    l2.kernel = Some(vec![vec![1.0, -1.0]]);
    l2.use_bias = false;
    vec![LayerSpec::Dense(l1), LayerSpec::Dense(l2)]
}

#[test]
fn hand_calculation_trace_without_bias() {
    let model = Model::new(&hand_layers(false), &feat(3), 0).unwrap();
    let t = model.forward_trace(&[1.0, 3.0, 2.0]).unwrap();
    assert_eq!(t.len(), 2);
    assert_eq!(t[0].name, "dense");
    assert_eq!(t[0].kernel, vec![vec![1.0, 0.0, 2.0], vec![0.0, 1.0, 1.0]]);
    assert_eq!(t[0].bias, None);
    assert_eq!(t[0].a, vec![vec![5.0, 5.0]]);
    assert_eq!(t[1].name, "dense_1");
    assert_eq!(t[1].a, vec![vec![0.0]]);
    // The candle forward pass agrees (kernel orientation round trip).
    let x = Tensor::from_vec(vec![1.0f32, 3.0, 2.0], (1, 3), &Device::Cpu).unwrap();
    let y = model.forward(&x, false).unwrap().to_vec2::<f32>().unwrap();
    assert_eq!(y, vec![vec![0.0]]);
}

#[test]
fn hand_calculation_trace_with_relu_and_bias() {
    let model = Model::new(&hand_layers(true), &feat(3), 0).unwrap();
    let t = model
        .forward_trace(&[1.0, 3.0, 2.0, 4.0, 0.0, 1.0])
        .unwrap();
    assert_eq!(t[0].activation, Activation::Relu);
    assert_eq!(t[0].bias, Some(vec![-6.0, 0.0]));
    assert_eq!(t[0].z[0], vec![-1.0, 5.0]);
    assert_eq!(t[0].a[0], vec![0.0, 5.0]);
    assert_eq!(t[1].a[0], vec![-5.0]);
    // Second row (4, 0, 1): z1 = (6 - 6, 1) = (0, 1), a2 = 0 - 1.
    assert_eq!(t[0].a[1], vec![0.0, 1.0]);
    assert_eq!(t[1].a[1], vec![-1.0]);
    let x = Tensor::from_vec(vec![1.0f32, 3.0, 2.0, 4.0, 0.0, 1.0], (2, 3), &Device::Cpu).unwrap();
    let y = model.forward(&x, false).unwrap().to_vec2::<f32>().unwrap();
    assert_eq!(y, vec![vec![-5.0], vec![-1.0]]);
}

#[test]
fn trace_rejects_wrong_width_and_sequence_models() {
    let model = Model::new(&hand_layers(false), &feat(3), 0).unwrap();
    assert!(matches!(
        model.forward_trace(&[1.0, 2.0]),
        Err(ModelError::Input(_))
    ));
    let seqm = Model::new(&course(), &seq(4), 0).unwrap();
    assert!(matches!(
        seqm.forward_trace(&[1.0; 4]),
        Err(ModelError::Input(_))
    ));
}

#[test]
fn dropout_is_inverted_and_seeded() {
    let layers = vec![LayerSpec::Dropout(DropoutSpec { rate: 0.25 })];
    let model = Model::new(&layers, &feat(1000), 3).unwrap();
    let x = Tensor::ones((4, 1000), DType::F32, &Device::Cpu).unwrap();
    let inference = model
        .forward(&x, false)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    assert!(inference.iter().all(|v| *v == 1.0));
    let y = model
        .forward(&x, true)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let zeros = y.iter().filter(|v| **v == 0.0).count();
    assert!(y
        .iter()
        .all(|v| *v == 0.0 || (*v - 1.0 / 0.75).abs() < 1e-6));
    // 4000 draws at rate 0.25: 1000 expected, sd ≈ 27.
    assert!((880..1120).contains(&zeros), "{zeros} zeros");
    // Same seed, same masks.
    let again = Model::new(&layers, &feat(1000), 3).unwrap();
    let y2 = again
        .forward(&x, true)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    assert_eq!(y, y2);
    // Next call draws a fresh mask.
    let y3 = again
        .forward(&x, true)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    assert_ne!(y2, y3);
}

#[test]
fn pooling_forward_values() {
    // Embedding rows are uniform ±0.05; pool two known steps by hand.
    let model = Model::new(&[emb(5, 2), LayerSpec::GlobalAveragePooling1d], &seq(2), 4).unwrap();
    let table = model.named_weights()[0].1.var.to_vec2::<f32>().unwrap();
    let x = Tensor::from_vec(vec![1u32, 3], (1, 2), &Device::Cpu).unwrap();
    let y = model.forward(&x, false).unwrap().to_vec2::<f32>().unwrap();
    for d in 0..2 {
        assert!((y[0][d] - (table[1][d] + table[3][d]) / 2.0).abs() < 1e-7);
    }
    let maxm = Model::new(&[emb(5, 2), LayerSpec::GlobalMaxPooling1d], &seq(2), 4).unwrap();
    let y = maxm.forward(&x, false).unwrap().to_vec2::<f32>().unwrap();
    for d in 0..2 {
        assert_eq!(y[0][d], table[1][d].max(table[3][d]));
    }
}

#[test]
fn save_and_load_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weights.safetensors");
    let layers = vec![emb(100, 4), LayerSpec::Flatten, LayerSpec::Dense(dense(3))];
    let model = Model::new(&layers, &seq(6), 11).unwrap();
    model.save(&path).unwrap();
    let loaded = Model::load(&layers, &seq(6), &path).unwrap();
    assert_eq!(weights_of(&model), weights_of(&loaded));
    let x = Tensor::from_vec((0..12u32).collect::<Vec<_>>(), (2, 6), &Device::Cpu).unwrap();
    let a = model.forward(&x, false).unwrap().to_vec2::<f32>().unwrap();
    let b = loaded.forward(&x, false).unwrap().to_vec2::<f32>().unwrap();
    assert_eq!(a, b);

    // A different model cannot load these weights.
    let other = vec![emb(100, 4), LayerSpec::Flatten, LayerSpec::Dense(dense(2))];
    match Model::load(&other, &seq(6), &path) {
        Err(ModelError::Weights { message, .. }) => {
            assert!(message.contains("dense/kernel"), "{message}")
        }
        r => panic!("expected a weights error, got {r:?}"),
    }
    let missing = dir.path().join("nope.safetensors");
    assert!(matches!(
        Model::load(&layers, &seq(6), &missing),
        Err(ModelError::Weights { .. })
    ));
}

#[test]
fn embedding_gradient_matches_candle_index_select() {
    // Repeated ids must accumulate; flat output (flatten next) and 3-D output agree.
    let layers = vec![emb(10, 3), LayerSpec::Flatten, LayerSpec::Dense(dense(1))];
    let model = Model::new(&layers, &seq(4), 5).unwrap();
    let ids = vec![1u32, 2, 1, 9, 0, 1, 1, 3];
    let x = Tensor::from_vec(ids.clone(), (2, 4), &Device::Cpu).unwrap();
    let y = model.forward(&x, false).unwrap();
    let grads = y.sum_all().unwrap().backward().unwrap();
    let w = model.named_weights();
    let (table, kernel) = (w[0].1.var, w[1].1.var);
    let got = grads.get(table).unwrap().to_vec2::<f32>().unwrap();

    let idx = Tensor::from_vec(ids, 8, &Device::Cpu).unwrap();
    let reference = table
        .as_tensor()
        .index_select(&idx, 0)
        .unwrap()
        .reshape((2, 12))
        .unwrap()
        .matmul(kernel.as_tensor())
        .unwrap();
    // The model reads the tokens directly (embedding-dense op): equal up to rounding.
    let (r, f) = (
        reference.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
        y.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
    );
    for (a, b) in r.iter().zip(&f) {
        assert!((a - b).abs() < 1e-6, "{r:?} vs {f:?}");
    }
    let want = reference.sum_all().unwrap().backward().unwrap();
    let want = want.get(table).unwrap().to_vec2::<f32>().unwrap();
    for (a, b) in got.iter().flatten().zip(want.iter().flatten()) {
        assert!((a - b).abs() < 1e-6, "{got:?} vs {want:?}");
    }
    // Id 1 appears four times, so its row's gradient is four kernel slices summed.
    assert!(got[1].iter().any(|v| *v != 0.0));
    assert!(got[4].iter().all(|v| *v == 0.0));

    // Without a flatten after it, the embedding gives (batch, steps, dim).
    let pooled = Model::new(&[emb(10, 3), LayerSpec::GlobalMaxPooling1d], &seq(4), 5).unwrap();
    let h = pooled.layers()[0]
        .forward(&x, &mut Pass::inference())
        .unwrap();
    assert_eq!(h.dims(), &[2, 4, 3]);
}

#[test]
fn out_of_range_token_id_is_an_error_not_a_panic() {
    let model = Model::new(&[emb(10, 3), LayerSpec::GlobalMaxPooling1d], &seq(2), 5).unwrap();
    let x = Tensor::from_vec(vec![1u32, 10], (1, 2), &Device::Cpu).unwrap();
    let e = model.forward(&x, false).unwrap_err().to_string();
    assert!(
        e.contains("token id 10 is outside the embedding's input_dim 10"),
        "{e}"
    );
}

/// Output and every weight gradient of `model` on `x`, through `forward_pass`
/// (which hands the layer after the embedding its tokens) or, with
/// `materialize`, through the looked-up vectors and each layer's `forward`.
fn outputs_and_grads(model: &Model, x: &Tensor, materialize: bool) -> (Vec<f32>, Vec<Vec<f32>>) {
    let mut pass = Pass::inference();
    let y = if materialize {
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
    } else {
        model.forward_pass(x, &mut pass).unwrap()
    };
    let y = y.flatten_all().unwrap();
    let n = y.dims1().unwrap();
    let w: Vec<f32> = (0..n).map(|i| ((i * 7 % 11) as f32 - 5.0) / 5.0).collect();
    let w = Tensor::from_vec(w, n, &Device::Cpu).unwrap();
    let grads = (&y * &w).unwrap().sum_all().unwrap().backward().unwrap();
    let g = model
        .named_weights()
        .iter()
        .map(|(name, w)| {
            grads
                .get(w.var.as_tensor())
                .unwrap_or_else(|| panic!("no gradient for {name}"))
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        })
        .collect();
    (y.to_vec1::<f32>().unwrap(), g)
}

#[test]
fn layers_reading_tokens_match_the_looked_up_vectors() {
    // Repeated ids, padding (id 0) in front, one example without padding.
    let ids = vec![0u32, 0, 3, 5, 3, 12, 0, 7, 7, 7, 1, 2, 4, 6, 8, 3, 9, 11];
    let x = Tensor::from_vec(ids, (3, 6), &Device::Cpu).unwrap();
    let stacks = [
        "[{embedding: {input_dim: 13, output_dim: 3}}, flatten, {dense: {units: 2, activation: tanh}}]",
        "[{embedding: {input_dim: 13, output_dim: 3}}, flatten, {dense: {units: 1}}]",
        "[{embedding: {input_dim: 13, output_dim: 3, mask_zero: true}}, {lstm: {units: 4}}]",
        "[{embedding: {input_dim: 13, output_dim: 3}}, {lstm: {units: 4, return_sequences: true}}, flatten, {dense: {units: 1}}]",
        "[{embedding: {input_dim: 13, output_dim: 3, mask_zero: true}}, {gru: {units: 4, return_sequences: true}}, {lstm: {units: 2}}]",
        "[{embedding: {input_dim: 13, output_dim: 3}}, {simple_rnn: {units: 5, go_backwards: true}}]",
        "[{embedding: {input_dim: 13, output_dim: 3}}, {conv1d: {filters: 4, kernel_size: 3, activation: relu}}, global_max_pooling1d]",
        "[{embedding: {input_dim: 13, output_dim: 3}}, {conv1d: {filters: 2, kernel_size: 4, strides: 2, padding: same}}, flatten, {dense: {units: 1}}]",
        "[{embedding: {input_dim: 13, output_dim: 3, mask_zero: true}}, {bidirectional: {layer: {lstm: {units: 3, return_sequences: true}}}}, {global_max_pooling1d}]",
    ];
    for yaml in stacks {
        let layers: Vec<LayerSpec> = serde_yaml::from_str(yaml).unwrap();
        let model = Model::new(&layers, &seq(6), 3).unwrap();
        // The layer after the embedding (and flatten) does take the token path.
        let mut pass = Pass::inference();
        let embedding = model.layers()[0].as_embedding().unwrap();
        let tokens = embedding.tokens(&x, &mut pass).unwrap();
        let reader = &model.layers()[if tokens.flat() { 2 } else { 1 }];
        assert!(
            reader.forward_tokens(&tokens, &mut pass).is_some(),
            "{yaml}"
        );
        let (y_tok, g_tok) = outputs_and_grads(&model, &x, false);
        let (y_ref, g_ref) = outputs_and_grads(&model, &x, true);
        for (a, b) in y_tok.iter().zip(&y_ref) {
            assert!(
                (a - b).abs() < 1e-5,
                "{yaml}: output {y_tok:?} vs {y_ref:?}"
            );
        }
        for ((gt, gr), (name, _)) in g_tok.iter().zip(&g_ref).zip(model.named_weights()) {
            assert_eq!(gt.len(), gr.len(), "{yaml}: {name}");
            for (a, b) in gt.iter().zip(gr) {
                assert!((a - b).abs() < 1e-5, "{yaml}: {name}: {gt:?} vs {gr:?}");
            }
            assert!(
                gt.iter().any(|v| *v != 0.0),
                "{yaml}: {name} has no gradient"
            );
        }
    }
}

/// A model whose embedding row `i` is `[2i, 2i + 1]` (10 ids, 2 values).
fn counting_embedding_model(yaml: &str, maxlen: usize) -> Model {
    let layers: Vec<LayerSpec> = serde_yaml::from_str(yaml).unwrap();
    let model = Model::new(&layers, &seq(maxlen), 1).unwrap();
    let rows: Vec<f32> = (0..20).map(|v| v as f32).collect();
    let table = Tensor::from_vec(rows, (10, 2), &Device::Cpu).unwrap();
    model.named_weights()[0].1.var.set(&table).unwrap();
    model
}

#[test]
fn padding_mask_reaches_global_average_pooling_as_in_keras() {
    // Values printed by Keras 3.15 for the same table and ids: the average
    // skips padding right after the embedding; max pooling ignores the mask;
    // a conv1d or local pooling in between drops it.
    let x = Tensor::from_vec(vec![0u32, 0, 3, 4, 1, 2, 3, 4], (2, 4), &Device::Cpu).unwrap();
    let run = |yaml: &str| -> Vec<Vec<f32>> {
        let m = counting_embedding_model(yaml, 4);
        m.forward(&x, false).unwrap().to_vec2::<f32>().unwrap()
    };
    let emb = "{embedding: {input_dim: 10, output_dim: 2, mask_zero: true}}";
    assert_eq!(
        run(&format!("[{emb}, global_average_pooling1d]")),
        [[7.0, 8.0], [5.0, 6.0]]
    );
    assert_eq!(
        run(&format!("[{emb}, global_max_pooling1d]")),
        [[8.0, 9.0], [8.0, 9.0]]
    );
    assert_eq!(
        run(&format!(
            "[{emb}, {{average_pooling1d: {{pool_size: 1}}}}, global_average_pooling1d]"
        )),
        [[3.5, 4.5], [5.0, 6.0]]
    );
    let m = counting_embedding_model(
        &format!("[{emb}, {{conv1d: {{filters: 2, kernel_size: 1}}}}, global_average_pooling1d]"),
        4,
    );
    // Identity kernel, zero bias: the conv passes the vectors through.
    let conv_layer = m.layers()[1].weights()[0].var;
    conv_layer
        .set(&Tensor::from_vec(vec![1f32, 0.0, 0.0, 1.0], (1, 2, 2), &Device::Cpu).unwrap())
        .unwrap();
    let y = m.forward(&x, false).unwrap().to_vec2::<f32>().unwrap();
    assert_eq!(y, [[3.5, 4.5], [5.0, 6.0]]);
    // Without mask_zero the average counts the padding too.
    let plain = "{embedding: {input_dim: 10, output_dim: 2}}";
    assert_eq!(
        run(&format!("[{plain}, global_average_pooling1d]")),
        [[3.5, 4.5], [5.0, 6.0]]
    );
}

#[test]
fn pooling_op_matches_candle_reductions_forward_and_backward() {
    // Distinct values, so the maximum of every window is unique.
    let n = 2 * 9 * 3;
    let v: Vec<f32> = (0..n)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) / 10.0)
        .collect();
    let x = candle_core::Var::from_vec(v, (2, 9, 3), &Device::Cpu).unwrap();
    let w_for = |y: &Tensor| {
        let k = y.elem_count();
        let w: Vec<f32> = (0..k).map(|i| (i % 5) as f32 - 2.0).collect();
        Tensor::from_vec(w, y.shape(), &Device::Cpu).unwrap()
    };
    let grad_of = |y: &Tensor| {
        let g = (y * w_for(y))
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        g.get(x.as_tensor())
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
    };
    for kind in [PoolKind::Max, PoolKind::Average] {
        for (size, stride) in [(2usize, 2usize), (3, 1), (4, 3), (9, 9)] {
            let out = (9 - size) / stride + 1;
            let got = pool_op::pool(x.as_tensor(), kind, size, stride, out, None).unwrap();
            // Reference: stack the windows with narrow and reduce with candle.
            let windows: Vec<Tensor> = (0..out)
                .map(|o| {
                    let w = x.as_tensor().narrow(1, o * stride, size).unwrap();
                    match kind {
                        PoolKind::Max => w.max_keepdim(1).unwrap(),
                        PoolKind::Average => w.mean_keepdim(1).unwrap(),
                    }
                })
                .collect();
            let want = Tensor::cat(&windows, 1).unwrap();
            let (a, b) = (
                got.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
                want.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            );
            for (p, q) in a.iter().zip(&b) {
                assert!(
                    (p - q).abs() < 1e-6,
                    "{kind:?} {size}/{stride}: {a:?} vs {b:?}"
                );
            }
            let (ga, gb) = (grad_of(&got), grad_of(&want));
            for (p, q) in ga.iter().zip(&gb) {
                assert!(
                    (p - q).abs() < 1e-6,
                    "{kind:?} {size}/{stride} grad: {ga:?} vs {gb:?}"
                );
            }
        }
    }
}

#[test]
fn bias_activation_op_matches_candle_ops_forward_and_backward() {
    let z_values: Vec<f32> = (0..4 * 3 * 5)
        .map(|i| ((i * 29 % 23) as f32 - 11.0) / 4.0)
        .collect();
    for act in [
        Activation::Linear,
        Activation::Relu,
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Softmax,
    ] {
        let run = |fused: bool| {
            let z = candle_core::Var::from_vec(z_values.clone(), (4, 3, 5), &Device::Cpu).unwrap();
            // No sum is exactly 0, where relu's derivative is a convention
            // (0 here as in JAX, 1 in candle's relu backward).
            let b =
                candle_core::Var::from_vec(vec![0.3f32, -1.1, 0.07, 1.9, 0.21], 5, &Device::Cpu)
                    .unwrap();
            let y = if fused {
                bias_activation::bias_activation(z.as_tensor(), Some(b.as_tensor()), act).unwrap()
            } else {
                let s = z.as_tensor().broadcast_add(b.as_tensor()).unwrap();
                apply_activation(act, &s).unwrap()
            };
            let w: Vec<f32> = (0..60).map(|i| (i % 7) as f32 - 3.0).collect();
            let w = Tensor::from_vec(w, (4, 3, 5), &Device::Cpu).unwrap();
            let g = (&y * &w).unwrap().sum_all().unwrap().backward().unwrap();
            let flat = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            (
                flat(&y),
                flat(g.get(z.as_tensor()).unwrap()),
                flat(g.get(b.as_tensor()).unwrap()),
            )
        };
        let (got, want) = (run(true), run(false));
        for (name, a, b) in [
            ("y", &got.0, &want.0),
            ("dz", &got.1, &want.1),
            ("db", &got.2, &want.2),
        ] {
            for (p, q) in a.iter().zip(b.iter()) {
                assert!((p - q).abs() < 1e-5, "{act:?} {name}: {a:?} vs {b:?}");
            }
        }
    }
}
