//! Conv1d, local pooling and embedding initialisation (one_hot, pretrained):
//! Keras shapes and parameter counts, hand-computed forward values, gradient
//! checks, located shape errors and word-vector loading.

use crate::support;

use candle_core::{Device, Tensor, Var};
use kerros::model::{infer_shapes, BuildContext, Model, ModelError, ModelInput};
use kerros::spec::{
    Conv1dSpec, DenseSpec, EmbeddingInit, EmbeddingSpec, LayerSpec, Padding, Pooling1dSpec,
};
use std::io::Write;
use std::path::Path;

fn emb(input_dim: usize, output_dim: usize) -> LayerSpec {
    LayerSpec::Embedding(EmbeddingSpec::new(input_dim, output_dim))
}

fn one_hot(n: usize) -> LayerSpec {
    LayerSpec::Embedding(EmbeddingSpec {
        init: EmbeddingInit::OneHot,
        ..EmbeddingSpec::new(n, n)
    })
}

fn conv(filters: usize, kernel_size: usize, strides: usize, padding: Padding) -> LayerSpec {
    LayerSpec::Conv1d(Conv1dSpec {
        filters,
        kernel_size,
        strides,
        padding,
        activation: Default::default(),
    })
}

fn pool(pool_size: usize, strides: Option<usize>) -> Pooling1dSpec {
    Pooling1dSpec { pool_size, strides }
}

fn dense(units: usize) -> LayerSpec {
    LayerSpec::Dense(DenseSpec {
        units,
        activation: Default::default(),
        use_bias: true,
        kernel: None,
        bias: None,
        trainable: true,
        kernel_regularizer: None,
    })
}

fn seq(maxlen: usize) -> ModelInput {
    ModelInput::Sequence { maxlen }
}

/// (output shape, params) per layer.
fn shapes(layers: &[LayerSpec], maxlen: usize) -> Vec<(String, usize)> {
    infer_shapes(layers, &seq(maxlen))
        .unwrap()
        .into_iter()
        .map(|i| (i.output_shape, i.params))
        .collect()
}

#[test]
fn conv1d_and_pooling_shapes_and_params_follow_keras() {
    // Keras: Embedding(10000, 16), Conv1D(128, 5), MaxPooling1D() on maxlen 500:
    // (None, 496, 128) with 5·16·128 + 128 = 10368 params, then (None, 248, 128).
    let layers = [
        emb(10000, 16),
        conv(128, 5, 1, Padding::Valid),
        LayerSpec::MaxPooling1d(Pooling1dSpec::default()),
        LayerSpec::GlobalMaxPooling1d,
        dense(1),
    ];
    let s = shapes(&layers, 500);
    assert_eq!(s[1], ("(None, 496, 128)".to_string(), 10368));
    assert_eq!(s[2], ("(None, 248, 128)".to_string(), 0));
    assert_eq!(s[3], ("(None, 128)".to_string(), 0));
    // valid: ⌊(L − k)/s⌋ + 1; same: ⌈L/s⌉.
    for (k, st, pad, want) in [
        (3, 1, Padding::Valid, 18),
        (3, 2, Padding::Valid, 9),
        (4, 3, Padding::Valid, 6),
        (3, 1, Padding::Same, 20),
        (3, 3, Padding::Same, 7),
        (5, 2, Padding::Same, 10),
        (20, 1, Padding::Valid, 1),
    ] {
        let s = shapes(&[emb(100, 8), conv(4, k, st, pad)], 20);
        assert_eq!(s[1].0, format!("(None, {want}, 4)"), "k={k} s={st} {pad:?}");
        assert_eq!(s[1].1, k * 8 * 4 + 4);
    }
    // Pooling: pool 3 strides 2 on 18 steps: ⌊(18 − 3)/2⌋ + 1 = 8; default strides = pool_size.
    let s = shapes(
        &[
            emb(100, 8),
            conv(4, 3, 1, Padding::Valid),
            LayerSpec::AveragePooling1d(pool(3, Some(2))),
            LayerSpec::MaxPooling1d(pool(3, None)),
        ],
        20,
    );
    assert_eq!(s[2].0, "(None, 8, 4)");
    assert_eq!(s[3].0, "(None, 2, 4)");
    // The built model agrees with the inferred shapes.
    let m = Model::new(&layers, &seq(500), 1).unwrap();
    let y = m
        .forward(
            &Tensor::zeros((2, 500), candle_core::DType::U32, &Device::Cpu).unwrap(),
            false,
        )
        .unwrap();
    assert_eq!(y.dims(), &[2, 1]);
    assert_eq!(m.summary().layers.len(), 5);
}

#[test]
fn conv1d_after_flatten_names_both_layers_and_the_fix() {
    let layers = [
        emb(10000, 32),
        LayerSpec::Flatten,
        conv(8, 3, 1, Padding::Valid),
    ];
    let e = infer_shapes(&layers, &seq(100)).unwrap_err();
    assert_eq!(e.path, "model.layers[2]");
    assert_eq!(
        e.message,
        "model.layers[2] (conv1d) needs a 3-D input (batch, steps, channels) but model.layers[1] (flatten) outputs (None, 3200); remove the flatten or move it after the convolution"
    );
    let e = infer_shapes(
        &[
            emb(100, 8),
            LayerSpec::GlobalAveragePooling1d,
            LayerSpec::MaxPooling1d(pool(2, None)),
        ],
        &seq(10),
    )
    .unwrap_err();
    assert!(
        e.message
            .contains("model.layers[2] (max_pooling1d) needs a 3-D input"),
        "{}",
        e.message
    );
    assert!(e
        .message
        .contains("model.layers[1] (global_average_pooling1d) outputs (None, 8)"));
    // Feature input (no embedding).
    let e = infer_shapes(
        &[conv(2, 2, 1, Padding::Valid)],
        &ModelInput::Features { width: 5 },
    )
    .unwrap_err();
    assert!(
        e.message.contains("the model input is (None, 5)"),
        "{}",
        e.message
    );
    // Kernel longer than the sequence.
    let e = infer_shapes(&[emb(10, 4), conv(2, 6, 1, Padding::Valid)], &seq(5)).unwrap_err();
    assert_eq!(e.path, "model.layers[1].conv1d.kernel_size");
    let e = infer_shapes(&[emb(10, 4), conv(0, 2, 1, Padding::Valid)], &seq(5)).unwrap_err();
    assert_eq!(e.path, "model.layers[1].conv1d.filters");
    // Model::new reports the same problem as a spec error.
    assert!(matches!(
        Model::new(&layers, &seq(100), 0),
        Err(ModelError::Spec(_))
    ));
}

fn set(model: &Model, name: &str, values: &[f32]) {
    let w = model
        .named_weights()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no weight {name}"))
        .1;
    let t = Tensor::from_slice(values, w.var.shape(), &Device::Cpu).unwrap();
    w.var.set(&t).unwrap();
}

fn run(model: &Model, ids: &[u32]) -> Vec<f32> {
    let x = Tensor::from_slice(ids, (1, ids.len()), &Device::Cpu).unwrap();
    model
        .forward(&x, false)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

#[test]
fn conv1d_forward_matches_hand_computation() {
    // A one_hot embedding of 3 tokens makes the channels the token's unit vector,
    // so each window's value is K[0][id_t] + K[1][id_t+1] + b.
    // Kernel (k=2, channels=3, filters=1): K[0] = [1, 2, 3], K[1] = [4, 5, 6], b = 0.5.
    // Ids [1, 2, 0, 1]: windows (1,2) 2+6, (2,0) 3+4, (0,1) 1+5 → 8.5, 7.5, 6.5.
    let kernel = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let cases = [
        (1, Padding::Valid, vec![8.5, 7.5, 6.5]),
        (2, Padding::Valid, vec![8.5, 6.5]),
        // same: one zero step appended (Keras pads the extra step at the end): (1, pad) → 2.5.
        (1, Padding::Same, vec![8.5, 7.5, 6.5, 2.5]),
    ];
    for (strides, padding, want) in cases {
        let m = Model::new(&[one_hot(3), conv(1, 2, strides, padding)], &seq(4), 0).unwrap();
        set(&m, "conv1d/kernel", &kernel);
        set(&m, "conv1d/bias", &[0.5]);
        assert_eq!(
            run(&m, &[1, 2, 0, 1]),
            want,
            "strides {strides} {padding:?}"
        );
    }
    // same with k = 3: padding one step before and one after:
    // (pad,1,2) = K1[1] + K2[2], (1,2,0), (2,0,1), (0,1,pad).
    let k3 = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
    let m = Model::new(&[one_hot(3), conv(1, 3, 1, Padding::Same)], &seq(4), 0).unwrap();
    set(&m, "conv1d/kernel", &k3);
    set(&m, "conv1d/bias", &[0.0]);
    assert_eq!(
        run(&m, &[1, 2, 0, 1]),
        vec![5.0 + 9.0, 2.0 + 6.0 + 7.0, 3.0 + 4.0 + 8.0, 1.0 + 5.0]
    );
    // Two filters are independent columns of the kernel.
    let m = Model::new(&[one_hot(2), conv(2, 1, 1, Padding::Valid)], &seq(2), 0).unwrap();
    set(&m, "conv1d/kernel", &[1.0, 10.0, 2.0, 20.0]);
    set(&m, "conv1d/bias", &[0.0, 1.0]);
    assert_eq!(run(&m, &[0, 1]), vec![1.0, 11.0, 2.0, 21.0]);
}

#[test]
fn local_pooling_forward_matches_hand_computation() {
    // Ids → one-hot rows; a conv with k=1 maps token i to value v[i] (one filter).
    let values = [0.0, 3.0, -1.0, 5.0];
    let build = |p: LayerSpec| {
        let m = Model::new(&[one_hot(4), conv(1, 1, 1, Padding::Valid), p], &seq(5), 0).unwrap();
        set(&m, "conv1d/kernel", &values);
        set(&m, "conv1d/bias", &[0.0]);
        m
    };
    let ids = [1, 2, 3, 0, 2]; // → 3, -1, 5, 0, -1
    let m = build(LayerSpec::MaxPooling1d(pool(2, None)));
    assert_eq!(run(&m, &ids), vec![3.0, 5.0]);
    let m = build(LayerSpec::AveragePooling1d(pool(2, Some(1))));
    assert_eq!(run(&m, &ids), vec![1.0, 2.0, 2.5, -0.5]);
    let m = build(LayerSpec::MaxPooling1d(pool(3, Some(2))));
    assert_eq!(run(&m, &ids), vec![5.0, 5.0]);
}

/// Sum of `c_i · tanh(y_i)` over the model output, as a differentiable scalar.
fn objective(model: &Model, ids: &Tensor, coeffs: &Tensor) -> Tensor {
    let y = model.forward(ids, false).unwrap().flatten_all().unwrap();
    y.tanh().unwrap().mul(coeffs).unwrap().sum_all().unwrap()
}

#[test]
fn conv1d_and_pooling_gradients_match_finite_differences() {
    for tail in [
        vec![],
        vec![LayerSpec::AveragePooling1d(pool(2, Some(1)))],
        vec![LayerSpec::MaxPooling1d(pool(2, None))],
    ] {
        for (strides, padding) in [(1, Padding::Valid), (2, Padding::Same), (1, Padding::Same)] {
            let mut layers = vec![emb(7, 3), conv(2, 3, strides, padding)];
            layers.extend(tail.clone());
            let m = Model::new(&layers, &seq(6), 5).unwrap();
            // Spread the embedding values so max pooling has clear winners.
            let e = m.named_weights()[0].1.var.clone();
            let scaled = e.as_tensor().affine(20.0, 0.0).unwrap();
            e.set(&scaled).unwrap();
            let ids = Tensor::from_slice(
                &[1u32, 4, 2, 6, 3, 5, 2, 2, 0, 1, 6, 4],
                (2, 6),
                &Device::Cpu,
            )
            .unwrap();
            let n_out = m.forward(&ids, false).unwrap().elem_count();
            let coeffs: Vec<f32> = (0..n_out)
                .map(|i| ((i * 7 % 5) as f32 - 2.0) * 0.3)
                .collect();
            let coeffs = Tensor::from_vec(coeffs, n_out, &Device::Cpu).unwrap();
            let grads = objective(&m, &ids, &coeffs).backward().unwrap();
            for (name, w) in m.named_weights() {
                let var: &Var = w.var;
                let g = grads
                    .get(var.as_tensor())
                    .unwrap()
                    .flatten_all()
                    .unwrap()
                    .to_vec1::<f32>()
                    .unwrap();
                let base = var.flatten_all().unwrap().to_vec1::<f32>().unwrap();
                for (i, gi) in g.iter().enumerate() {
                    let h = 1e-2f32;
                    let mut plus = base.clone();
                    plus[i] += h;
                    var.set(&Tensor::from_slice(&plus, var.shape(), &Device::Cpu).unwrap())
                        .unwrap();
                    let fp = objective(&m, &ids, &coeffs).to_scalar::<f32>().unwrap();
                    let mut minus = base.clone();
                    minus[i] -= h;
                    var.set(&Tensor::from_slice(&minus, var.shape(), &Device::Cpu).unwrap())
                        .unwrap();
                    let fm = objective(&m, &ids, &coeffs).to_scalar::<f32>().unwrap();
                    var.set(&Tensor::from_slice(&base, var.shape(), &Device::Cpu).unwrap())
                        .unwrap();
                    let fd = (fp - fm) / (2.0 * h);
                    assert!(
                        (fd - gi).abs() <= 2e-2 * (1.0 + gi.abs()),
                        "{name}[{i}] ({strides}, {padding:?}, {tail:?}): backward {gi}, finite difference {fd}"
                    );
                }
            }
        }
    }
}

#[test]
fn layers_parse_with_keras_defaults() {
    let yaml = "- embedding: {input_dim: 100, output_dim: 8}\n- conv1d: {filters: 4, kernel_size: 3}\n- max_pooling1d\n- average_pooling1d: {pool_size: 3}\n- conv1d: {filters: 2, kernel_size: 2, strides: 2, padding: same, activation: relu}\n- max_pooling1d: {}\n";
    let layers: Vec<LayerSpec> = serde_yaml::from_str(yaml).unwrap();
    let LayerSpec::Conv1d(c) = &layers[1] else {
        panic!("{:?}", layers[1])
    };
    assert_eq!((c.strides, c.padding), (1, Padding::Valid));
    assert_eq!(layers[2], LayerSpec::MaxPooling1d(pool(2, None)));
    assert_eq!(layers[3], LayerSpec::AveragePooling1d(pool(3, None)));
    let LayerSpec::Embedding(e) = &layers[0] else {
        panic!()
    };
    assert_eq!(
        (e.init, e.trainable, e.path.clone()),
        (EmbeddingInit::Random, true, None)
    );
    // Round trip through the resolved form.
    let back: Vec<LayerSpec> =
        serde_yaml::from_str(&serde_yaml::to_string(&layers).unwrap()).unwrap();
    assert_eq!(back, layers);
    assert!(serde_yaml::from_str::<Vec<LayerSpec>>("- conv1d: {filters: 4}").is_err());
    assert!(serde_yaml::from_str::<Vec<LayerSpec>>("- conv1d").is_err());
    assert!(serde_yaml::from_str::<Vec<LayerSpec>>("- max_pooling1d: {pool: 2}").is_err());
}

#[test]
fn one_hot_embedding_is_a_fixed_identity() {
    let m = Model::new(&[one_hot(4), LayerSpec::Flatten, dense(1)], &seq(2), 3).unwrap();
    assert_eq!(
        run_embedding(&m, &[2, 0]),
        vec![0., 0., 1., 0., 1., 0., 0., 0.]
    );
    // Not trained: only the dense layer's kernel and bias are optimizer variables.
    assert_eq!(m.trainable_vars().len(), 2);
    let info = &m.layer_infos()[0];
    assert!(!info.trainable);
    assert_eq!(info.params, 16);
    // output_dim must equal input_dim.
    let bad = LayerSpec::Embedding(EmbeddingSpec {
        init: EmbeddingInit::OneHot,
        ..EmbeddingSpec::new(4, 3)
    });
    let e = infer_shapes(&[bad], &seq(2)).unwrap_err();
    assert_eq!(e.path, "model.layers[0].embedding.output_dim");
    assert!(
        e.message
            .contains("output_dim must equal input_dim (4), got 3"),
        "{}",
        e.message
    );
}

fn run_embedding(m: &Model, ids: &[u32]) -> Vec<f32> {
    let x = Tensor::from_slice(ids, (1, ids.len()), &Device::Cpu).unwrap();
    let mut pass = kerros::model::Pass::inference();
    m.layers()[0]
        .forward(&x, &mut pass)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

fn pretrained(input_dim: usize, dim: usize, path: &Path, trainable: bool) -> Vec<LayerSpec> {
    vec![
        LayerSpec::Embedding(EmbeddingSpec {
            init: EmbeddingInit::Pretrained,
            path: Some(path.to_path_buf()),
            trainable,
            ..EmbeddingSpec::new(input_dim, dim)
        }),
        LayerSpec::GlobalAveragePooling1d,
        dense(1),
    ]
}

fn vocab(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

fn write_file(path: &Path, text: &str) {
    if path.extension().is_some_and(|e| e == "gz") {
        let f = std::fs::File::create(path).unwrap();
        let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::default());
        gz.write_all(text.as_bytes()).unwrap();
        gz.finish().unwrap();
    } else {
        std::fs::write(path, text).unwrap();
    }
}

const GLOVE: &str = "the 0.1 0.2 0.3\ndog 1 1 1\nsat -0.5 0.25 2\nthe 9 9 9\n";
const WORD2VEC: &str = "3 3\nthe 0.1 0.2 0.3\r\ndog 1 1 1\r\nsat -0.5 0.25 2\r\n";

#[test]
fn pretrained_vectors_load_from_glove_and_word2vec_plain_and_gz() {
    let dir = tempfile::tempdir().unwrap();
    // Vocabulary: ids 1..4; input_dim 4 keeps the, cat, sat (zebra has id 4).
    let words = vocab(&["the", "cat", "sat", "zebra"]);
    for (file, text) in [
        ("v.txt", GLOVE),
        ("v.txt.gz", GLOVE),
        ("w2v.txt", WORD2VEC),
        ("w2v.txt.gz", WORD2VEC),
    ] {
        let path = dir.path().join(file);
        write_file(&path, text);
        let ctx = BuildContext {
            vocabulary: Some(&words),
            ..Default::default()
        };
        let m = Model::with_context(&pretrained(4, 3, &path, true), &seq(3), 7, &ctx).unwrap();
        let cov = m.embedding_coverage().unwrap();
        assert_eq!((cov.found, cov.total), (2, 3), "{file}");
        assert_eq!(cov.source, path.display().to_string());
        let table = run_embedding(&m, &[0, 1, 3]);
        assert_eq!(
            &table[..3],
            &[0.0, 0.0, 0.0],
            "padding row is zero ({file})"
        );
        assert_eq!(&table[3..6], &[0.1, 0.2, 0.3], "first `the` wins ({file})");
        assert_eq!(&table[6..], &[-0.5, 0.25, 2.0]);
        // `cat` is missing: a seeded random row in [-0.05, 0.05).
        let cat = run_embedding(&m, &[2]);
        assert!(cat.iter().all(|v| v.abs() <= 0.05 && *v != 0.0), "{cat:?}");
        let again = Model::with_context(&pretrained(4, 3, &path, true), &seq(3), 7, &ctx).unwrap();
        assert_eq!(run_embedding(&again, &[2]), cat, "seeded");
        assert_eq!(m.trainable_vars().len(), 3);
    }
    // trainable: false freezes the vectors.
    let path = dir.path().join("v.txt");
    let ctx = BuildContext {
        vocabulary: Some(&words),
        ..Default::default()
    };
    let frozen = Model::with_context(&pretrained(4, 3, &path, false), &seq(3), 7, &ctx).unwrap();
    assert_eq!(frozen.trainable_vars().len(), 2);
    assert!(!frozen.layer_infos()[0].trainable);
    // A relative path is resolved against the spec's folder.
    let rel = pretrained(4, 3, Path::new("v.txt"), true);
    let ctx_dir = BuildContext {
        vocabulary: Some(&words),
        spec_dir: Some(dir.path()),
        ..Default::default()
    };
    let m = Model::with_context(&rel, &seq(3), 7, &ctx_dir).unwrap();
    assert_eq!(m.embedding_coverage().unwrap().found, 2);
}

#[test]
fn pretrained_errors_name_the_file_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.txt");
    write_file(&path, GLOVE);
    let words = vocab(&["the", "cat"]);
    let ctx = BuildContext {
        vocabulary: Some(&words),
        ..Default::default()
    };
    // Vector size 3 in the file, output_dim 5.
    let err = Model::with_context(&pretrained(3, 5, &path, true), &seq(3), 0, &ctx).unwrap_err();
    let ModelError::Spec(inv) = err else {
        panic!("{err}")
    };
    assert_eq!(inv.path, "model.layers[0].embedding.path");
    assert!(
        inv.message.contains(&path.display().to_string()),
        "{}",
        inv.message
    );
    assert!(
        inv.message
            .contains("3-dimensional vectors but the embedding's output_dim is 5"),
        "{}",
        inv.message
    );
    // The word2vec header is checked too.
    let w2v = dir.path().join("w.txt");
    write_file(&w2v, "2 4\nthe 1 2 3 4\ncat 1 2 3 4\n");
    let err = Model::with_context(&pretrained(3, 3, &w2v, true), &seq(3), 0, &ctx).unwrap_err();
    assert!(err.to_string().contains("4-dimensional vectors"), "{err}");
    // No vocabulary (Model::new) → a clear error.
    let err = Model::new(&pretrained(3, 3, &path, true), &seq(3), 0).unwrap_err();
    assert!(
        err.to_string().contains("needs the tokenizer vocabulary"),
        "{err}"
    );
    // Missing file.
    let missing = dir.path().join("nope.txt");
    let err = Model::with_context(&pretrained(3, 3, &missing, true), &seq(3), 0, &ctx).unwrap_err();
    assert!(
        err.to_string().contains("cannot open word-vector file"),
        "{err}"
    );
    // init: pretrained without path, and path without pretrained.
    let no_path = LayerSpec::Embedding(EmbeddingSpec {
        init: EmbeddingInit::Pretrained,
        ..EmbeddingSpec::new(3, 3)
    });
    assert_eq!(
        infer_shapes(&[no_path], &seq(2)).unwrap_err().path,
        "model.layers[0].embedding.path"
    );
    let stray = LayerSpec::Embedding(EmbeddingSpec {
        path: Some(path.clone()),
        ..EmbeddingSpec::new(3, 3)
    });
    assert!(infer_shapes(&[stray], &seq(2))
        .unwrap_err()
        .message
        .contains("init: pretrained"));
    // Model::load rebuilds a pretrained model without the vocabulary.
    let m = Model::with_context(&pretrained(3, 3, &path, true), &seq(3), 0, &ctx).unwrap();
    let saved = dir.path().join("w.safetensors");
    m.save(&saved).unwrap();
    let loaded = Model::load(&pretrained(3, 3, &path, true), &seq(3), &saved).unwrap();
    assert_eq!(run_embedding(&loaded, &[1]), vec![0.1, 0.2, 0.3]);
}

#[test]
fn real_glove_file_loads_quickly_with_coverage() {
    let Some(path) = support::glove_file() else {
        return;
    };
    let words = vocab(&["the", ",", "movie", "qqzxqv", "film", "notawordzz"]);
    let ctx = BuildContext {
        vocabulary: Some(&words),
        ..Default::default()
    };
    let start = std::time::Instant::now();
    // input_dim 6: ids 1..5 (the, ",", movie, qqzxqv, film); notawordzz has id 6.
    let m = Model::with_context(&pretrained(6, 50, &path, true), &seq(4), 1, &ctx).unwrap();
    let secs = start.elapsed().as_secs_f64();
    let cov = m.embedding_coverage().unwrap();
    assert_eq!((cov.found, cov.total), (4, 5));
    // The file's first line: "the 0.418 0.24968 -0.41242 ...".
    let the = run_embedding(&m, &[1]);
    assert_eq!(&the[..3], &[0.418, 0.24968, -0.41242]);
    assert!(secs < 10.0, "loading took {secs:.1} s");
    eprintln!("GloVe 6B.50d streamed in {secs:.2} s");
}

/// Rough speed of a text CNN step (run with `--ignored --nocapture`).
#[test]
#[ignore]
fn conv1d_training_step_speed() {
    let layers = [
        emb(10000, 50),
        conv(64, 5, 1, Padding::Valid),
        LayerSpec::MaxPooling1d(Pooling1dSpec::default()),
        LayerSpec::GlobalMaxPooling1d,
        dense(1),
    ];
    let m = Model::new(&layers, &seq(200), 1).unwrap();
    let ids: Vec<u32> = (0..32 * 200).map(|i| (i * 7919 % 9999) as u32).collect();
    let x = Tensor::from_vec(ids, (32, 200), &Device::Cpu).unwrap();
    let start = std::time::Instant::now();
    for _ in 0..20 {
        let y = m.forward(&x, true).unwrap();
        let g = y.sum_all().unwrap().backward().unwrap();
        assert!(g.get(m.named_weights()[1].1.var.as_tensor()).is_some());
    }
    eprintln!(
        "conv1d step (batch 32 × 200 × 50 → 64 filters): {:.1} ms",
        start.elapsed().as_secs_f64() * 50.0
    );
}
