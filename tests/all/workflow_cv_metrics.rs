//! Metrics scored on each cross-validation fold's validation part (Cohen's
//! kappa, F1, ...): per fold, their mean ± std in `--json`, run records,
//! the report and `compare`, and `select: {metric: cv_val_cohen_kappa}`.

use crate::support;

use kerros::pipeline::stages::fold::fold_parts;
use kerros::pipeline::stages::split::SplitArtifact;
use kerros::pipeline::{self, RunOptions};
use std::path::Path;
use support::{kerros, ok, write};

/// 60 rows: `good film` (pos) or `bad film` (neg), every sixth label
/// flipped. The text is one of two bags of words, so whatever a fold learns
/// it predicts each row by its word: the word's majority label, `pos` for
/// `good`. A fold's kappa is then known by hand from its validation rows.
fn data(dir: &Path) {
    let mut train = String::from("id,text,label\n");
    for i in 0..60 {
        let good = i % 2 == 0;
        let flipped = i % 6 == 5;
        let word = if good { "good" } else { "bad" };
        let label = if good != flipped { "pos" } else { "neg" };
        train.push_str(&format!("{},{word} film,{label}\n", 100 + i));
    }
    write(dir, "train.csv", &train);
}

fn spec(dir: &Path, name: &str, metrics: &str, top: &str) -> std::path::PathBuf {
    data(dir);
    let text = format!(
        "name: {name}\nseed: 3\ndata: {{train: train.csv, id_column: id, test: {{fraction: 0.2}}, validation: {{folds: 3}}}}\n\
vectorize: {{mode: multi_hot}}\nmodel:\n  layers:\n    - dense: {{units: 1}}\n\
train: {{batch_size: 8, epochs: 15, optimizer: {{name: adam, learning_rate: 0.1}}}}\nmetrics: {metrics}\n{top}"
    );
    write(dir, &format!("{name}.yaml"), &text)
}

/// Cohen's kappa of two label lists, written out: (p_o − p_e) / (1 − p_e).
fn kappa(truth: &[&str], pred: &[&str]) -> f64 {
    let n = truth.len() as f64;
    let agree = truth.iter().zip(pred).filter(|(a, b)| a == b).count() as f64 / n;
    let share = |v: &[&str], c: &str| v.iter().filter(|x| **x == c).count() as f64 / n;
    let chance: f64 = ["neg", "pos"]
        .iter()
        .map(|c| share(truth, c) * share(pred, c))
        .sum();
    (agree - chance) / (1.0 - chance)
}

#[test]
fn each_fold_is_scored_with_the_specs_metrics_and_kappa_is_as_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let path = spec(dir, "cvk", "[accuracy, f1, cohen_kappa]", "");
    let mut opts = RunOptions::new(None);
    opts.cache_dir = dir.join("cache");
    opts.reports_dir = dir.join("reports");
    opts.quiet = true;
    let outcome = pipeline::run(&path, &opts).expect("the run succeeds");
    let cv = outcome.cv.clone().expect("a cv summary");
    let (parsed, _) = kerros::spec::load_spec(&path).unwrap();
    let split = SplitArtifact::at(&outcome.artifacts["split"]);
    let info = split.info().unwrap();
    let train = split.prepared(&info).unwrap().train;

    let mut by_hand = Vec::new();
    for (k, fold) in cv.folds.iter().enumerate() {
        let held = fold_parts(&parsed, 2, &train, k, 3).unwrap().1;
        let truth: Vec<&str> = held.iter().map(|i| i.label.as_str()).collect();
        let pred: Vec<&str> = held
            .iter()
            .map(|i| {
                if i.text.starts_with("good") {
                    "pos"
                } else {
                    "neg"
                }
            })
            .collect();
        let want = kappa(&truth, &pred);
        assert!(want > 0.2 && want < 1.0, "fold {k}: a kappa worth checking");
        let got = fold.metrics["val_cohen_kappa"];
        assert!((got - want).abs() < 1e-9, "fold {k}: {got} vs {want}");
        // The spec lists f1 (of the positive class), so the folds have it too.
        assert!(fold.metrics.contains_key("val_f1"), "{:?}", fold.metrics);
        by_hand.push(want);
    }
    let mean = by_hand.iter().sum::<f64>() / 3.0;
    let std = (by_hand.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 3.0).sqrt();
    assert!((cv.mean["val_cohen_kappa"] - mean).abs() < 1e-9);
    assert!((cv.std["val_cohen_kappa"] - std).abs() < 1e-9);

    let json = outcome.to_json();
    assert_eq!(
        json["cv"]["mean"]["val_cohen_kappa"],
        cv.mean["val_cohen_kappa"]
    );
    assert_eq!(
        json["cv"]["std"]["val_cohen_kappa"],
        cv.std["val_cohen_kappa"]
    );
    assert_eq!(
        json["cv"]["folds"][1]["val_cohen_kappa"],
        cv.folds[1].metrics["val_cohen_kappa"]
    );
    assert_eq!(
        outcome.validation["cv_val_cohen_kappa"],
        cv.mean["val_cohen_kappa"]
    );
    assert_eq!(
        outcome.validation["cv_val_cohen_kappa_std"],
        cv.std["val_cohen_kappa"]
    );
    // ROC AUC is not in the spec's list: not scored on the folds either.
    assert!(!cv.mean.contains_key("val_roc_auc"));

    let records = kerros::report::record::load_records(&dir.join("cache")).unwrap();
    assert_eq!(
        records[0].validation["cv_val_cohen_kappa"],
        cv.mean["val_cohen_kappa"]
    );
    let html = std::fs::read_to_string(&outcome.report).unwrap();
    assert!(html.contains("val_cohen_kappa"));
    assert!(
        html.contains(&format!("{mean:.4} ± {std:.4}")),
        "mean ± std in the report"
    );

    // A second run reads the folds' scores from the cache.
    let second = pipeline::run(&path, &opts).unwrap();
    assert!(second
        .stages
        .iter()
        .all(|(_, s)| *s == kerros::pipeline::StageStatus::Cached));
    assert_eq!(second.cv, outcome.cv);
}

#[test]
fn select_maximises_the_folds_kappa_and_compare_shows_and_sorts_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // A one-word vocabulary keeps only `film`, in every row: the model sees
    // the same input everywhere and predicts one class (kappa 0); with the
    // whole vocabulary it learns the words.
    let path = spec(
        dir,
        "cvsel",
        "[accuracy, cohen_kappa]",
        "matrix:\n  vectorize.max_tokens: [100, 1]\nselect: {metric: cv_val_cohen_kappa}\n",
    );
    let o = kerros(dir, &["run", path.to_str().unwrap(), "--json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    let kappas: Vec<f64> = lines
        .iter()
        .map(|l| l["cv"]["mean"]["val_cohen_kappa"].as_f64().unwrap())
        .collect();
    assert!(kappas[0] > kappas[1] + 0.2, "{kappas:?}");
    assert_eq!(lines[0]["selected"], true, "the higher kappa wins");
    assert_eq!(lines[1]["selected"], false);

    let text = ok(&kerros(
        dir,
        &[
            "compare",
            "--cache-dir",
            ".kerros/cache",
            "--sort",
            "cv_val_cohen_kappa",
        ],
    ));
    let header = text.lines().next().unwrap();
    assert!(
        header.contains("cv_val_cohen_kappa") && header.contains("cv_val_cohen_kappa_std"),
        "{text}"
    );
    let first = text.lines().nth(2).unwrap();
    assert!(
        first.starts_with(lines[0]["name"].as_str().unwrap()),
        "highest kappa first: {text}"
    );
}

#[test]
fn selecting_on_a_metric_the_spec_does_not_compute_is_a_located_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for (metrics, select, want) in [
        (
            "[accuracy]",
            "cv_val_cohen_kappa",
            "add `cohen_kappa` to `metrics:`",
        ),
        (
            "[accuracy]",
            "cv_val_kappa",
            "unknown selection metric `cv_val_kappa`",
        ),
    ] {
        let path = spec(
            dir,
            "bad",
            metrics,
            &format!("matrix:\n  seed: [1, 2]\nselect: {{metric: {select}}}\n"),
        );
        let o = kerros(dir, &["run", path.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("bad.yaml:") && err.contains(want), "{err}");
    }
}
