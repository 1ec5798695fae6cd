//! `task.positive_class` (which class binary precision / recall / F1 are
//! of) and `data.weight_column` (per-example weights in the training loss).

use crate::support;

use kerros::model::{Model, ModelInput};
use kerros::pipeline::stages::evaluate::EvaluateArtifact;
use kerros::pipeline::{self, RunOptions, RunOutcome};
use kerros::spec::{TaskKind, TrainSpec};
use kerros::train::{fit_with, Dataset, FitContext, InputData, TaskInfo};
use std::path::Path;
use support::{kerros, layers, write};

/// 80 rows: mostly separable, with a few confusing ones so precision and
/// recall differ between the classes; a `w` column of weights.
fn data(dir: &Path) {
    let mut train = String::from("text,label,w\n");
    for i in 0..80 {
        let label = if i % 2 == 0 { "neg" } else { "pos" };
        let word = match (i % 2 == 0, i % 7 == 0) {
            (true, false) => "bad awful",
            (false, false) => "good great",
            (_, true) => "good bad",
        };
        train.push_str(&format!("a {word} film,{label},{}\n", i % 3));
    }
    write(dir, "train.csv", &train);
}

fn spec(dir: &Path, name: &str, extra: &str) -> std::path::PathBuf {
    data(dir);
    let text = format!(
        "name: {name}\nseed: 3\ndata: {{train: train.csv, test: {{fraction: 0.3}}{extra}}}\n\
task: {{type: binary{task}}}\nvectorize: {{mode: multi_hot}}\nmodel:\n  layers:\n    - dense: {{units: 1}}\n\
train: {{epochs: 8, batch_size: 8, optimizer: {{name: adam, learning_rate: 0.05}}}}\n",
        extra = extra.split('|').next().unwrap(),
        task = extra.split('|').nth(1).unwrap_or("")
    );
    write(dir, &format!("{name}.yaml"), &text)
}

fn run(dir: &Path, spec: &Path) -> RunOutcome {
    let mut opts = RunOptions::new(None);
    opts.cache_dir = dir.join("cache");
    opts.reports_dir = dir.join("reports");
    opts.quiet = true;
    pipeline::run(spec, &opts).expect("the run succeeds")
}

/// Precision, recall and F1 of `positive` from the test predictions.
fn by_hand(o: &RunOutcome, positive: &str) -> (f64, f64, f64) {
    let preds = EvaluateArtifact::at(&o.artifacts["evaluate"])
        .predictions()
        .unwrap();
    let (mut tp, mut fp, mut fneg) = (0.0, 0.0, 0.0);
    for p in &preds {
        match (p.true_label == positive, p.predicted_label == positive) {
            (true, true) => tp += 1.0,
            (false, true) => fp += 1.0,
            (true, false) => fneg += 1.0,
            _ => {}
        }
    }
    let precision: f64 = tp / (tp + fp);
    let recall: f64 = tp / (tp + fneg);
    (
        precision,
        recall,
        2.0 * precision * recall / (precision + recall),
    )
}

#[test]
fn positive_class_chooses_the_class_precision_recall_and_f1_are_of() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let default = run(dir, &spec(dir, "pos_default", ""));
    assert_eq!(default.positive_class.as_deref(), Some("pos"));
    let neg = run(dir, &spec(dir, "pos_neg", "|, positive_class: neg"));
    assert_eq!(neg.positive_class.as_deref(), Some("neg"));
    for (o, positive) in [(&default, "pos"), (&neg, "neg")] {
        let (p, r, f) = by_hand(o, positive);
        let m = &o.metrics;
        assert!(
            (m.scalar("precision").unwrap() - p).abs() < 1e-9,
            "{positive}"
        );
        assert!((m.scalar("recall").unwrap() - r).abs() < 1e-9, "{positive}");
        assert!(
            (m.scalar("f1").unwrap() - f).abs() < 1e-9,
            "{positive}: {:?} {p} {r} {f}",
            m.to_map()
        );
        assert_eq!(o.to_json()["positive_class"], positive);
        assert!(o
            .summary_text()
            .contains(&format!("precision (positive: {positive})")));
        let html = std::fs::read_to_string(&o.report).unwrap();
        assert!(html.contains(&format!("(positive: {positive})")));
    }
    // The two runs score different classes of (nearly) the same predictions.
    assert_ne!(
        default.metrics.scalar("recall"),
        neg.metrics.scalar("recall")
    );
}

#[test]
fn a_positive_class_that_is_not_a_class_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Classes from the data: found when the data is read.
    let p = spec(dir, "bad_pos", "|, positive_class: Pos");
    let o = kerros(dir, &["run", p.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_ne!(o.status.code(), Some(0));
    assert!(
        err.contains("task.positive_class") && err.contains("`neg`, `pos`"),
        "{err}"
    );
    // Classes listed in the spec: a located spec error.
    let p = spec(
        dir,
        "bad_listed",
        "|, classes: [neg, pos], positive_class: Pos",
    );
    let o = kerros(dir, &["validate", p.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bad_listed.yaml:4:") && err.contains("did you mean `pos`"),
        "{err}"
    );
    let text = "name: m\ndata: {train: train.csv, test: {fraction: 0.3}}\ntask: {type: multiclass, positive_class: pos}\nmodel:\n  layers:\n    - dense: {units: 2}\n";
    let p = write(dir, "multi.yaml", text);
    let o = kerros(dir, &["validate", p.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("only a binary task"), "{err}");
}

#[test]
fn weight_column_changes_training_and_bad_cells_name_file_row_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let plain = run(dir, &spec(dir, "unweighted", ""));
    let weighted = run(dir, &spec(dir, "weighted", ", weight_column: w"));
    assert_ne!(
        plain.history.last().unwrap().loss,
        weighted.history.last().unwrap().loss,
        "weights change the training loss"
    );
    // A negative weight: the file, line and column are named.
    let mut text = std::fs::read_to_string(dir.join("train.csv")).unwrap();
    text = text.replacen("a good bad film,neg,0\n", "a good bad film,neg,-1\n", 1);
    write(dir, "train.csv", &text);
    let bad = dir.join("bad_w.yaml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(dir.join("weighted.yaml"))
            .unwrap()
            .replace("name: weighted", "name: bad_w"),
    )
    .unwrap();
    let o = kerros(dir, &["run", bad.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_ne!(o.status.code(), Some(0));
    assert!(
        err.contains("train.csv") && err.contains("line 2") && err.contains("`w`"),
        "{err}"
    );
    assert!(err.contains("found `-1`"), "{err}");
}

/// Rows of weight 0 leave training exactly as if they were dropped (one
/// full batch, no shuffling: the same batches either way).
#[test]
fn zero_weight_rows_train_like_dropped_rows() {
    let width = 6;
    let rows: Vec<Vec<(u32, f32)>> = (0..10)
        .map(|i| {
            vec![
                ((i % width) as u32, 1.0),
                (((i * 5 + 1) % width) as u32, 0.5),
            ]
        })
        .collect();
    let targets: Vec<f32> = (0..10).map(|i| (i % 2) as f32).collect();
    let weights: Vec<f32> = (0..10)
        .map(|i| {
            if i % 3 == 0 {
                0.0
            } else {
                1.0 + i as f32 / 10.0
            }
        })
        .collect();
    let kept: Vec<usize> = (0..10).filter(|i| weights[*i] > 0.0).collect();
    let all = Dataset {
        inputs: InputData::Sparse {
            rows: rows.clone(),
            width,
        },
        targets: targets.clone(),
    };
    let dropped = Dataset {
        inputs: InputData::Sparse {
            rows: kept.iter().map(|&i| rows[i].clone()).collect(),
            width,
        },
        targets: kept.iter().map(|&i| targets[i]).collect(),
    };
    let kept_weights: Vec<f32> = kept.iter().map(|&i| weights[i]).collect();
    let cfg: TrainSpec = serde_yaml::from_str(
        "epochs: 5\nbatch_size: 64\nshuffle: false\noptimizer: {name: adam, learning_rate: 0.1}\nloss: {name: binary_crossentropy, from_logits: true}\n",
    )
    .unwrap();
    let task = TaskInfo {
        kind: TaskKind::Binary,
        n_classes: 2,
    };
    let spec = layers("- dense: {units: 1}");
    let input = ModelInput::Features { width };
    let train = |data: &Dataset, w: &[f32]| {
        let mut m = Model::new(&spec, &input, 4).unwrap();
        let ctx = FitContext {
            example_weights: Some(w),
            ..FitContext::default()
        };
        fit_with(&mut m, data, None, &cfg, &task, 9, &mut (), &ctx).unwrap();
        m.named_weights()
            .iter()
            .flat_map(|(_, w)| w.var.flatten_all().unwrap().to_vec1::<f32>().unwrap())
            .collect::<Vec<f32>>()
    };
    let a = train(&all, &weights);
    let b = train(&dropped, &kept_weights);
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() < 1e-5, "{a:?} vs {b:?}");
    }
    // And the weights matter: equal weights train differently.
    let c = train(&dropped, &vec![1.0; kept.len()]);
    assert!(a.iter().zip(&c).any(|(x, y)| (x - y).abs() > 1e-4));
}
