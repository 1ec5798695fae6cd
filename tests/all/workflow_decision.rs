//! `task.decision` (a decision rule fitted on the folds' out-of-fold
//! predictions) and `data.field_tags` (each word tagged with its text
//! column): the test predictions, `predict` and the records use them.

use crate::support;

use kerros::metrics::FittedDecision;
use kerros::pipeline::predict::Predictor;
use kerros::pipeline::stages::evaluate::EvaluateArtifact;
use kerros::pipeline::{self, RunOptions, RunOutcome};
use std::path::{Path, PathBuf};
use support::{kerros, write};

fn options(dir: &Path) -> RunOptions {
    let mut opts = RunOptions::new(None);
    opts.cache_dir = dir.join("cache");
    opts.reports_dir = dir.join("reports");
    opts.quiet = true;
    opts
}

fn run(dir: &Path, spec: &Path) -> RunOutcome {
    pipeline::run(spec, &options(dir)).expect("the run succeeds")
}

/// 100 rows rated 1 to 5 by their word `rK` (with a shared word and a
/// little noise: every seventh row's rating is one higher, capped at 5).
fn ratings(dir: &Path) {
    let mut train = String::from("id,text,rating\n");
    for i in 0..100 {
        let k = i % 5 + 1;
        let rating = if i % 7 == 3 { (k + 1).min(5) } else { k };
        train.push_str(&format!("{},a r{k} drug n{},{rating}\n", 100 + i, i % 4));
    }
    write(dir, "train.csv", &train);
}

fn ratings_spec(dir: &Path, task: &str, validation: &str) -> PathBuf {
    ratings(dir);
    let text = format!(
        "name: dec\nseed: 5\ndata: {{train: train.csv, id_column: id, label_column: rating, test: {{fraction: 0.2}}, validation: {validation}}}\n\
task: {task}\nvectorize: {{mode: multi_hot}}\nmodel:\n  layers:\n    - dense: {{units: OUT, kernel_regularizer: {{l2: 0.01}}}}\n\
train: {{batch_size: 8, epochs: 20, optimizer: {{name: adam, learning_rate: 0.05}}}}\nmetrics: [accuracy, cohen_kappa, confusion_matrix]\n"
    );
    let (out, loss, metrics) = if task.contains("regression") {
        ("1", "{name: mse}", "[cohen_kappa")
    } else {
        (
            "5",
            "{name: sparse_categorical_crossentropy, from_logits: true}",
            "[accuracy, cohen_kappa",
        )
    };
    write(
        dir,
        "dec.yaml",
        &text
            .replace("OUT", out)
            .replace("batch_size: 8,", &format!("batch_size: 8, loss: {loss},"))
            .replace("[accuracy, cohen_kappa", metrics),
    )
}

#[test]
fn regression_cut_points_are_fitted_on_the_folds_and_label_every_prediction() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let path = ratings_spec(
        dir,
        "{type: regression, range: [1, 5], decision: {maximise: cohen_kappa_quadratic}}",
        "{folds: 3}",
    );
    let outcome = run(dir, &path);
    let cv = outcome.cv.clone().unwrap();
    let rule = cv.decision.clone().expect("a fitted rule");
    let FittedDecision::CutPoints { labels, cuts } = &rule else {
        panic!("cut points for a regression: {rule:?}");
    };
    assert_eq!(labels, &vec![1, 2, 3, 4, 5]);
    assert_eq!(cuts.len(), 4);
    assert!(cuts.windows(2).all(|w| w[0] <= w[1]), "{cuts:?}");
    assert_eq!(outcome.metrics.decision().as_ref(), Some(&rule));
    assert_eq!(
        outcome.to_json()["cv"]["decision"],
        serde_json::to_value(&rule).unwrap()
    );
    let html = std::fs::read_to_string(&outcome.report).unwrap();
    assert!(
        html.contains("instead of rounded"),
        "the report says how labels were made"
    );
    // Every fold is scored with a rule fitted on the other folds.
    assert!(cv
        .folds
        .iter()
        .all(|f| f.metrics.contains_key("val_cohen_kappa_quadratic")));

    // Each test prediction's label is the rule's label of its raw value.
    let preds = EvaluateArtifact::at(&outcome.artifacts["evaluate"])
        .predictions()
        .unwrap();
    assert_eq!(preds.len(), 20);
    for p in &preds {
        let want = rule.value(p.probability).unwrap();
        assert_eq!(
            p.predicted_label,
            format!("{}", want as i64),
            "raw {}",
            p.probability
        );
    }
    // And so are `predict`'s.
    let predictor = Predictor::open(&path, &options(dir)).unwrap();
    for p in predictor
        .predict(&["a r1 drug", "a r5 drug n2", "a r3 drug"])
        .unwrap()
    {
        let want = rule.value(p.raw.unwrap()).unwrap();
        assert_eq!(p.predicted, format!("{}", want as i64));
    }
}

#[test]
fn class_offsets_make_the_labels_of_a_classifier() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let path = ratings_spec(
        dir,
        "{type: multiclass, ordinal: true, classes: ['1', '2', '3', '4', '5'], decision: {maximise: cohen_kappa}}",
        "{folds: 3}",
    );
    let outcome = run(dir, &path);
    let rule = outcome.cv.clone().unwrap().decision.expect("a fitted rule");
    let FittedDecision::ClassOffsets(offsets) = &rule else {
        panic!("class offsets for a classifier: {rule:?}");
    };
    assert_eq!(offsets.len(), 5);
    assert_eq!(offsets[0], 0.0);
    let preds = EvaluateArtifact::at(&outcome.artifacts["evaluate"])
        .predictions()
        .unwrap();
    for p in &preds {
        let k = rule.class(&p.probabilities).unwrap();
        assert_eq!(p.predicted_label, (k + 1).to_string());
    }
}

#[test]
fn a_decision_without_folds_is_a_located_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let path = ratings_spec(
        dir,
        "{type: regression, range: [1, 5], decision: {maximise: cohen_kappa_quadratic}}",
        "{fraction: 0.2}",
    );
    let o = kerros(dir, &["run", path.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("dec.yaml:") && err.contains("validation: {folds: 5}"),
        "{err}"
    );
}

/// Two fields where `no` means opposite things: in `benefit` the drug did
/// nothing (neg), in `side` there were no side effects (pos).
fn fields(dir: &Path) {
    let mut train = String::from("id,benefit,side,label\n");
    for i in 0..80 {
        let (benefit, side, label) = if i % 2 == 0 {
            ("no", "fine", "neg")
        } else {
            ("fine", "no", "pos")
        };
        train.push_str(&format!("{},{benefit} x{},{side},{label}\n", i, i % 3));
    }
    write(dir, "train.csv", &train);
}

fn fields_spec(dir: &Path, tags: bool) -> PathBuf {
    fields(dir);
    let text = format!(
        "name: tags\nseed: 2\ndata: {{train: train.csv, id_column: id, text_columns: [benefit, side], field_tags: {tags}, test: {{fraction: 0.25}}, validation: {{fraction: 0.2}}}}\n\
vectorize: {{mode: multi_hot}}\nmodel:\n  layers:\n    - dense: {{units: 1}}\n\
train: {{batch_size: 8, epochs: 20, optimizer: {{name: adam, learning_rate: 0.05}}}}\nmetrics: [accuracy]\n"
    );
    write(dir, "tags.yaml", &text)
}

#[test]
fn field_tags_tell_the_same_word_in_two_fields_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Untagged, both classes read `no fine`: nothing to learn.
    let plain = run(dir, &fields_spec(dir, false));
    let accuracy = plain.metrics.scalar("accuracy").unwrap();
    assert!(accuracy < 0.8, "{accuracy}");
    let path = fields_spec(dir, true);
    let tagged = run(dir, &path);
    assert_eq!(tagged.metrics.scalar("accuracy"), Some(1.0));
    let vocabulary = kerros::pipeline::stages::vocabulary::VocabularyArtifact::at(
        &tagged.artifacts["vocabulary"],
    )
    .read()
    .unwrap();
    for term in ["benefit·no", "side·no", "side·fine"] {
        assert!(vocabulary.terms.iter().any(|t| t == term), "{term}");
    }

    // `predict --input` tags the file's columns as training did.
    write(dir, "new.csv", "id,benefit,side\n1,no,fine\n2,fine,no\n");
    let o = kerros(
        dir,
        &[
            "predict",
            "tags.yaml",
            "--input",
            "new.csv",
            "--output",
            "out.csv",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = std::fs::read_to_string(dir.join("out.csv")).unwrap();
    let labels: Vec<&str> = out
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(labels, ["neg", "pos"], "{out}");
    // `--text` has no columns to tag: a clear error, not a silent guess.
    let o = kerros(dir, &["predict", "tags.yaml", "--text", "no fine"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("field_tags") && err.contains("benefit, side"),
        "{err}"
    );
    let _ = path;
}
