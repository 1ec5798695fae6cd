//! `kerros validate` as the one gate before data: huge counts, odd spec
//! files, output layers that cannot fit the task, `expect:` on metrics the
//! run does not compute, and the memory a run would need. Each is refused
//! fast with exit 2 and the file:line of the setting; nothing aborts.

use crate::support;

use std::path::Path;
use std::time::{Duration, Instant};
use support::{kerros, write};

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const BASE: &str = r#"name: bounds
data: {train: train.csv, test: test.csv}
tokenizer: {num_words: 1000}
sequence: {maxlen: 50}
model:
  layers:
    - embedding: {input_dim: 1000, output_dim: 8}
    - global_average_pooling1d
    - dense: {units: 4, activation: relu}
    - dense: {units: 1}
train: {epochs: 2, batch_size: 32}
"#;

/// Validate `spec` written as `name` in `dir`; returns the output and how long it took.
fn validate(
    dir: &Path,
    name: &str,
    spec: &str,
    extra: &[&str],
) -> (std::process::Output, Duration) {
    let p = write(dir, name, spec);
    let mut args = vec!["validate", p.to_str().unwrap()];
    args.extend_from_slice(extra);
    let start = Instant::now();
    let o = kerros(dir, &args);
    (o, start.elapsed())
}

/// Exit 2 within a second, naming `file:line` and containing every `needle`.
fn refused(dir: &Path, name: &str, spec: &str, line: usize, needles: &[&str]) {
    let (o, took) = validate(dir, name, spec, &[]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{name}: {e}");
    assert!(took < Duration::from_secs(1), "{name} took {took:?}");
    assert!(e.contains(&format!("{name}:{line}:")), "{name}: {e}");
    for n in needles {
        assert!(e.contains(n), "{name}: expected `{n}` in: {e}");
    }
}

#[test]
fn the_base_spec_is_valid() {
    let tmp = tempfile::tempdir().unwrap();
    let (o, _) = validate(tmp.path(), "base.yaml", BASE, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn huge_counts_fail_fast_with_the_bound() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    refused(
        d,
        "maxlen.yaml",
        &BASE.replace("maxlen: 50", "maxlen: 1000000000"),
        4,
        &["sequence.maxlen", "100000"],
    );
    refused(
        d,
        "vocab.yaml",
        &BASE.replace(
            "{input_dim: 1000, output_dim: 8}",
            "{input_dim: 10000000000, output_dim: 8}",
        ),
        7,
        &["input_dim", "10000000"],
    );
    refused(
        d,
        "units.yaml",
        &BASE.replace(
            "{units: 4, activation: relu}",
            "{units: 1000000000, activation: relu}",
        ),
        9,
        &["units", "1000000"],
    );
    refused(
        d,
        "epochs.yaml",
        &BASE.replace("epochs: 2", "epochs: 1000000000000"),
        11,
        &["train.epochs", "100000"],
    );
}

#[test]
fn ten_thousand_layers_fail_fast() {
    let tmp = tempfile::tempdir().unwrap();
    let mut spec = String::from("name: deep\ndata: {train: t.csv, test: t.csv}\nsequence: {maxlen: 5}\nmodel:\n  layers:\n    - embedding: {input_dim: 10, output_dim: 2}\n    - flatten\n");
    for _ in 0..10_000 {
        spec.push_str("    - dense: {units: 2, activation: relu}\n");
    }
    spec.push_str("    - dense: {units: 1}\n");
    refused(
        tmp.path(),
        "deep.yaml",
        &spec,
        5,
        &["number of layers", "500"],
    );
}

#[test]
fn deep_nesting_fails_fast() {
    let tmp = tempfile::tempdir().unwrap();
    let n = 200_000;
    let deep = format!("name: x\nmodel: {}{}\n", "[".repeat(n), "]".repeat(n));
    let (o, took) = validate(tmp.path(), "deep.yaml", &deep, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("levels deep; at most 32"),
        "{}",
        stderr(&o)
    );
    assert!(took < Duration::from_secs(1), "{took:?}");
    let unclosed = format!("name: x\nmodel: {}\n", "{a: ".repeat(n));
    let (o, took) = validate(tmp.path(), "open.yaml", &unclosed, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[test]
fn memory_estimate_refuses_what_does_not_fit() {
    let tmp = tempfile::tempdir().unwrap();
    // 5,000,000 × 300 embedding weights: 6 GiB, and Adam keeps two more copies.
    let spec = BASE
        .replace("num_words: 1000", "num_words: 5000000")
        .replace(
            "{input_dim: 1000, output_dim: 8}",
            "{input_dim: 5000000, output_dim: 300}",
        );
    let (o, took) = validate(tmp.path(), "big.yaml", &spec, &["--max-memory", "4G"]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert!(e.contains("big.yaml:7:"), "{e}");
    assert!(e.contains("needs about"), "{e}");
    assert!(e.contains("1,500,001,209 parameters"), "{e}");
    assert!(e.contains("the limit is 4.0 GiB"), "{e}");
    assert!(e.contains("model.layers[0] (embedding"), "{e}");
    // A generous limit lets it pass.
    let (o, _) = validate(tmp.path(), "big.yaml", &spec, &["--max-memory", "1T"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // A bad size is an argument error.
    let (o, _) = validate(tmp.path(), "big.yaml", &spec, &["--max-memory", "lots"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn spec_files_must_be_small_regular_files() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let start = Instant::now();
    let o = kerros(d, &["validate", "/dev/zero"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("not a regular file"), "{}", stderr(&o));
    assert!(start.elapsed() < Duration::from_secs(1));

    let o = kerros(d, &["validate", d.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("not a regular file"), "{}", stderr(&o));

    let fifo = d.join("pipe.yaml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        let o = kerros(d, &["validate", fifo.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("not a regular file"), "{}", stderr(&o));
    }

    // A 6 MB hand-written kernel is refused by its size, at once.
    let mut big = String::from("name: big\nmodel:\n  input_dim: 3\n  layers:\n    - dense:\n        units: 1\n        kernel: [[");
    while big.len() < 6_000_000 {
        big.push_str("0.123456789, ");
    }
    big.push_str("1]]\n");
    let (o, took) = validate(d, "kernel.yaml", &big, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("largest allowed"), "{}", stderr(&o));
    assert!(took < Duration::from_secs(1), "{took:?}");

    // A missing spec is an invalid argument (exit 2), not a failed run.
    let o = kerros(d, &["validate", "missing.yaml"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = kerros(d, &["run", "missing.yaml"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn output_layer_loss_metrics_and_inputs_are_checked_before_data() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // (a) an `expect:` on a metric the task does not compute.
    refused(
        d,
        "expect.yaml",
        &format!("{BASE}expect:\n  f1_macro: \">= 0.5\"\n"),
        13,
        &[
            "expect.f1_macro",
            "not computed for a binary task",
            "this run computes: loss, accuracy",
        ],
    );
    refused(
        d,
        "expect_typo.yaml",
        &format!("{BASE}expect:\n  acuracy: \">= 0.5\"\n"),
        13,
        &["no metric `acuracy`", "did you mean `accuracy`"],
    );
    refused(
        d,
        "expect_list.yaml",
        &format!("{BASE}metrics: [accuracy]\nexpect:\n  f1: \">= 0.5\"\n"),
        14,
        &["expect.f1", "`metrics:` list leaves it out"],
    );
    // (b) a last layer that is not dense.
    refused(
        d,
        "flatten.yaml",
        &BASE.replace(
            "    - dense: {units: 1}\n",
            "    - dense: {units: 1}\n    - flatten\n",
        ),
        11,
        &["model.layers[4]", "must be `dense`"],
    );
    // (c) one unit for three classes.
    let three = BASE.replace(
        "data: {train: train.csv, test: test.csv}",
        "data: {train: train.csv, test: test.csv}\ntask: {type: multiclass, classes: [a, b, c]}\ntrain: {loss: {name: sparse_categorical_crossentropy}}",
    );
    let three = three.replace("train: {epochs: 2, batch_size: 32}\n", "");
    refused(
        d,
        "units.yaml",
        &three,
        12,
        &[
            "model.layers[3].dense.units",
            "one output unit per class",
            "the number of classes (3)",
        ],
    );
    // (d) binary cross-entropy on a multiclass task.
    let bce = three
        .replace("sparse_categorical_crossentropy", "binary_crossentropy")
        .replace("- dense: {units: 1}", "- dense: {units: 3}");
    refused(
        d,
        "bce.yaml",
        &bce,
        4,
        &["train.loss.name", "binary_crossentropy"],
    );
    // (e) hand-calculation inputs of the wrong width.
    let hand = "name: hand\ninputs: [[1, 3, 2], [1, 2]]\nmodel:\n  input_dim: 3\n  layers:\n    - dense: {units: 1, use_bias: false, kernel: [[1, 0, 2]]}\n";
    refused(
        d,
        "hand.yaml",
        hand,
        2,
        &["inputs[1]", "2 values", "input_dim` is 3"],
    );
    // A `metrics:` entry the task never computes.
    let reg = BASE
        .replace("data: {train: train.csv, test: test.csv}", "data: {train: train.csv, test: test.csv}\ntask: {type: regression}\nmetrics: [roc_auc]")
        .replace("train: {epochs: 2, batch_size: 32}", "train: {epochs: 2, batch_size: 32, loss: {name: mse}}");
    refused(
        d,
        "metrics.yaml",
        &reg,
        4,
        &[
            "metrics[0]",
            "`roc_auc` is not computed for a regression task",
            "confusion_matrix, cohen_kappa",
        ],
    );
}

#[test]
fn every_bundled_pipeline_validates() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut seen = 0;
    for entry in std::fs::read_dir(root.join("pipelines")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let o = kerros(root, &["validate", p.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}: {}", p.display(), stderr(&o));
        seen += 1;
    }
    assert!(seen >= 10, "only {seen} pipelines found");
}

#[test]
fn two_unit_softmax_runs_a_binary_task_with_binary_metrics() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let train = support::film_reviews_csv(60, ("good great", "pos"), ("bad awful", "neg"));
    write(dir, "train.csv", &train);
    let mut test = String::from("text,label\n");
    for i in 0..20 {
        let (word, label) = if i % 2 == 0 {
            ("good", "pos")
        } else {
            ("awful", "neg")
        };
        test.push_str(&format!("one {word} movie {i},{label}\n"));
    }
    write(dir, "test.csv", &test);
    let spec = r#"name: softmax2
seed: 3
data: {train: train.csv, test: test.csv, validation: {fraction: 0.25}}
tokenizer: {num_words: 100}
sequence: {maxlen: 6}
model:
  layers:
    - embedding: {input_dim: 100, output_dim: 4}
    - flatten
    - dense: {units: 2}
train: {epochs: 3, batch_size: 8, loss: {name: sparse_categorical_crossentropy}}
"#;
    let p = write(dir, "softmax2.yaml", spec);
    let o = kerros(dir, &["validate", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = kerros(dir, &["run", p.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let m = &v["metrics"];
    for key in [
        "accuracy",
        "cohen_kappa",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "loss",
    ] {
        assert!(m[key].is_number(), "{key} missing: {m}");
    }
    assert!(m.get("f1_macro").is_none(), "{m}");
    assert!(dir.join("reports/softmax2.html").is_file());
}

#[test]
fn classes_found_in_the_data_are_checked_against_the_last_layer() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut rows = String::from("text,label\n");
    for i in 0..30 {
        let label = ["red", "green", "blue"][i % 3];
        rows.push_str(&format!("a {label} thing {i},{label}\n"));
    }
    write(dir, "train.csv", &rows);
    write(dir, "test.csv", &rows);
    let spec = r#"name: colours
data: {train: train.csv, test: test.csv}
task: {type: multiclass}
tokenizer: {num_words: 100}
sequence: {maxlen: 5}
model:
  layers:
    - embedding: {input_dim: 100, output_dim: 4}
    - flatten
    - dense: {units: 2}
train: {epochs: 1, loss: {name: sparse_categorical_crossentropy}}
"#;
    let p = write(dir, "colours.yaml", spec);
    // The spec alone cannot know there are three classes.
    let o = kerros(dir, &["validate", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = kerros(dir, &["run", p.to_str().unwrap()]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("colours.yaml:10:"), "{e}");
    assert!(e.contains("the training data has 3 classes"), "{e}");
    assert!(!dir.join(".kerros/cache/train").exists(), "no training ran");
}
