//! Sweeps: `matrix:` expansion into named variants, and its errors.

use kerros::spec::sweep::{expand, Variant};
use kerros::spec::{self, LayerSpec, SpecError};
use std::path::Path;

const BASE: &str = "\
name: imdb
data:
  dataset: imdb
tokenizer:
  num_words: 10000
model:
  layers:
    - embedding: {input_dim: 10000, output_dim: 16}
    - global_average_pooling1d
    - dense: {units: 16, activation: relu}
    - dense: {units: 1}
";

fn run(matrix: &str) -> Result<Vec<Variant>, SpecError> {
    let src = format!("{BASE}{matrix}");
    expand(&src, Path::new("sweep.yaml"))
}

fn names(vs: &[Variant]) -> Vec<&str> {
    vs.iter().map(|v| v.name.as_str()).collect()
}

/// Line of the first line of `matrix` text appended to BASE (1-based).
const MATRIX_LINE: usize = 12;

#[test]
fn without_matrix_the_spec_is_the_only_variant() {
    let vs = run("").unwrap();
    let (spec, _) = spec::parse_spec(BASE, Path::new("sweep.yaml")).unwrap();
    assert_eq!(vs.len(), 1);
    assert_eq!(vs[0].name, "imdb");
    assert_eq!(vs[0].spec, spec);
    assert!(vs[0].overrides.is_empty());
}

#[test]
fn two_by_two_in_written_order_last_key_fastest() {
    let vs = run("matrix:\n  train.optimizer.learning_rate: [0.001, 0.01]\n  tokenizer.num_words: [5000, 10000]\n")
        .unwrap();
    assert_eq!(
        names(&vs),
        [
            "imdb[learning_rate=0.001,num_words=5000]",
            "imdb[learning_rate=0.001,num_words=10000]",
            "imdb[learning_rate=0.01,num_words=5000]",
            "imdb[learning_rate=0.01,num_words=10000]",
        ]
    );
    let got: Vec<(f64, Option<usize>)> = vs
        .iter()
        .map(|v| {
            (
                v.spec.train.optimizer.learning_rate,
                v.spec.tokenizer.num_words,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (0.001, Some(5000)),
            (0.001, Some(10000)),
            (0.01, Some(5000)),
            (0.01, Some(10000)),
        ]
    );
    for v in &vs {
        assert_eq!(v.spec.name, v.name);
        assert!(v.spec.matrix.is_none());
        // `train` was absent: the created maps keep every other default.
        assert_eq!(v.spec.train.epochs, 10);
        assert_eq!(v.spec.train.optimizer.beta_1, 0.9);
        assert_eq!(
            v.spec.data.as_ref().unwrap().dataset.as_deref(),
            Some("imdb")
        );
        assert_eq!(v.overrides.len(), 2);
        assert_eq!(v.overrides[0].0, "train.optimizer.learning_rate");
        assert_eq!(v.overrides[1].0, "tokenizer.num_words");
    }
    assert_eq!(vs[2].overrides[0].1, serde_yaml::Value::from(0.01));
    assert_eq!(vs[2].overrides[1].1, serde_yaml::Value::from(5000));
}

#[test]
fn list_index_paths_into_layers() {
    let vs = run(
        "matrix:\n  model.layers[2].dense.units: [8, 32]\n  model.layers[2].dense.activation: [relu, tanh]\n  model.layers[1]: [global_average_pooling1d, global_max_pooling1d]\n",
    )
    .unwrap();
    assert_eq!(vs.len(), 8);
    assert_eq!(
        vs[0].name,
        "imdb[units=8,activation=relu,layers[1]=global_average_pooling1d]"
    );
    assert_eq!(
        vs[7].name,
        "imdb[units=32,activation=tanh,layers[1]=global_max_pooling1d]"
    );
    let LayerSpec::Dense(d) = &vs[7].spec.model.layers[2] else {
        panic!("layer 2 should stay dense")
    };
    assert_eq!(d.units, 32);
    assert_eq!(d.activation, spec::Activation::Tanh);
    assert_eq!(vs[7].spec.model.layers[1], LayerSpec::GlobalMaxPooling1d);
    // Untouched layers stay as written.
    let LayerSpec::Dense(out) = &vs[7].spec.model.layers[3] else {
        panic!("layer 3 should stay dense")
    };
    assert_eq!(out.units, 1);
}

#[test]
fn clashing_last_keys_use_the_whole_path() {
    let vs = run("matrix:\n  model.layers[2].dense.units: [8]\n  model.layers[0].embedding.output_dim: [16]\n  model.layers[3].dense.units: [1]\n").unwrap();
    assert_eq!(
        vs[0].name,
        "imdb[model.layers[2].dense.units=8,output_dim=16,model.layers[3].dense.units=1]"
    );
}

#[test]
fn path_separators_in_values_do_not_reach_the_name() {
    let src = "name: own\ndata:\n  train: a/train.csv\n  test: a/test.csv\nmodel:\n  layers:\n    - dense: {units: 1}\nmatrix:\n  data.train: [a/train.csv, b/train.csv]\n";
    let vs = expand(src, Path::new("s.yaml")).unwrap();
    assert_eq!(
        names(&vs),
        ["own[train=a_train.csv]", "own[train=b_train.csv]"]
    );
    assert_eq!(
        vs[1].spec.data.as_ref().unwrap().train.as_deref(),
        Some(Path::new("b/train.csv"))
    );
}

fn err(matrix: &str) -> SpecError {
    match run(matrix) {
        Ok(vs) => panic!("expected an error, got {:?}", names(&vs)),
        Err(e) => e,
    }
}

#[test]
fn unknown_setting_is_located_and_suggested() {
    let e = err("matrix:\n  train.epochs: [1, 2]\n  train.optimizer.learning_rat: [0.1]\n");
    assert_eq!(e.line, Some(MATRIX_LINE + 2), "{e}");
    assert_eq!(
        e.path.as_deref(),
        Some("matrix.train.optimizer.learning_rat")
    );
    assert!(e.message.starts_with("not a spec setting"), "{e}");
    assert!(e.message.contains("did you mean `learning_rate`"), "{e}");
    let shown = e.to_string();
    assert!(shown.starts_with("sweep.yaml:14:3: "), "{shown}");
}

#[test]
fn unknown_top_level_section() {
    let e = err("matrix:\n  trian.epochs: [1, 2]\n");
    assert_eq!(e.line, Some(MATRIX_LINE + 1), "{e}");
    assert!(e.message.contains("did you mean `train`"), "{e}");
}

#[test]
fn unknown_layer_type_in_path() {
    let e = err("matrix:\n  model.layers[3].dens.units: [1, 2]\n");
    assert_eq!(e.line, Some(MATRIX_LINE + 1), "{e}");
    assert!(e.message.contains("did you mean `dense`"), "{e}");
}

#[test]
fn path_into_a_non_map() {
    let e = err("matrix:\n  tokenizer.num_words.max: [1, 2]\n");
    assert_eq!(e.line, Some(MATRIX_LINE + 1), "{e}");
    assert!(
        e.message
            .contains("`tokenizer.num_words` is the number `10000`, not a map"),
        "{e}"
    );
    let e = err("matrix:\n  model.layers[1].units: [1]\n");
    assert!(
        e.message
            .contains("`model.layers[1]` is the string `global_average_pooling1d`"),
        "{e}"
    );
}

#[test]
fn list_index_out_of_range() {
    let e = err("matrix:\n  model.layers[7].dense.units: [1]\n");
    assert_eq!(e.line, Some(MATRIX_LINE + 1), "{e}");
    assert!(e.message.contains("`model.layers` has 4 item(s)"), "{e}");
}

#[test]
fn empty_and_repeated_value_lists() {
    let e = err("matrix:\n  train.epochs: [1]\n  train.batch_size: []\n");
    assert_eq!(e.line, Some(MATRIX_LINE + 2), "{e}");
    assert!(e.message.contains("empty list of values"), "{e}");
    let e = err("matrix:\n  train.epochs:\n    - 1\n    - 2\n    - 1\n");
    assert_eq!(e.line, Some(MATRIX_LINE + 4), "{e}");
    assert!(e.message.contains("twice"), "{e}");
}

#[test]
fn wrong_type_names_variant_path_and_value_line() {
    let e = err("matrix:\n  train.batch_size: [32, 64]\n  train.epochs:\n    - 5\n    - ten\n");
    assert_eq!(e.line, Some(MATRIX_LINE + 4), "{e}");
    assert!(
        e.message
            .contains("variant `imdb[batch_size=32,epochs=ten]`"),
        "{e}"
    );
    assert!(e.message.contains("does not fit `train.epochs`"), "{e}");
    assert!(e.message.contains("invalid type"), "{e}");
}

#[test]
fn a_checked_value_error_names_the_variant() {
    let e = err("matrix:\n  train.epochs: [5, 0]\n");
    assert_eq!(e.line, Some(MATRIX_LINE + 1), "{e}");
    assert!(e.message.contains("variant `imdb[epochs=0]`"), "{e}");
    assert!(e.message.contains("epochs must be at least 1"), "{e}");
}

#[test]
fn name_and_overlapping_paths_are_refused() {
    let e = err("matrix:\n  name: [a, b]\n");
    assert_eq!(e.line, Some(MATRIX_LINE + 1), "{e}");
    let e =
        err("matrix:\n  train.optimizer: [{name: sgd}]\n  train.optimizer.learning_rate: [0.1]\n");
    assert_eq!(e.line, Some(MATRIX_LINE + 2), "{e}");
    assert!(e.message.contains("overlaps"), "{e}");
    let e = err("matrix:\n  train..epochs: [1]\n");
    assert!(e.message.contains("not a valid dotted path"), "{e}");
}

#[test]
fn a_matrix_entry_must_be_a_list() {
    // Caught by the spec's own parser, with its position.
    let e = err("matrix:\n  train.epochs: 5\n");
    assert_eq!(e.line, Some(MATRIX_LINE + 1), "{e}");
}

#[test]
fn invalid_base_spec_is_reported_before_the_matrix() {
    let src = "name: x\nmodel:\n  layers:\n    - dense: {units: 1}\ntrain:\n  epochs: 0\nmatrix:\n  seed: [1, 2]\n";
    let e = expand(src, Path::new("s.yaml")).unwrap_err();
    assert_eq!(e.line, Some(6), "{e}");
}

#[test]
fn seeds_sweep() {
    let vs = run("matrix:\n  seed: [1, 2, 3]\n").unwrap();
    assert_eq!(names(&vs), ["imdb[seed=1]", "imdb[seed=2]", "imdb[seed=3]"]);
    assert_eq!(vs[2].spec.seed, 3);
}

#[test]
fn a_misspelt_value_gets_a_suggestion() {
    let e = err("matrix:\n  train.optimizer.name: [adam, adamx]\n");
    assert_eq!(e.line, Some(MATRIX_LINE + 1), "{e}");
    assert!(e.message.contains("variant `imdb[name=adamx]`"), "{e}");
    assert!(e.message.contains("(did you mean `adam`?)"), "{e}");
}

#[test]
fn too_many_variants_are_refused_with_the_count() {
    let paths = [
        "seed",
        "train.epochs",
        "train.batch_size",
        "tokenizer.num_words",
        "sequence.maxlen",
        "train.optimizer.learning_rate",
        "train.optimizer.beta_1",
        "train.optimizer.beta_2",
        "train.optimizer.epsilon",
        "train.optimizer.weight_decay",
        "report.examples",
    ];
    let mut m = String::from("matrix:\n");
    for p in paths {
        m.push_str(&format!("  {p}: [2, 3]\n"));
    }
    let e = err(&m);
    assert_eq!(e.line, Some(MATRIX_LINE), "{e}");
    assert!(e.message.contains("more than 1000 variants"), "{e}");
    assert!(e.message.contains("2 × 2 × 2"), "{e}");
}
