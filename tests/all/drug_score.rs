//! Regression scoring: raw and rounded predictions, metrics and confusion
//! labels, against values computed by hand.

use crate::support;

use kerros::data::Item;
use kerros::pipeline::score::{
    format_rounded, regression_range, round_into_range, score, CONFUSION_LABELS, PREDICTION_RANGE,
};
use kerros::spec::Spec;
use serde_json::json;
use std::collections::BTreeMap;

fn spec(task: &str, metrics: &str) -> Spec {
    let yaml = format!(
        "name: t\ndata: {{train: a.csv, test: b.csv}}\ntask: {task}\n{metrics}\nmodel: {{layers: [{{dense: {{units: 1}}}}]}}\n"
    );
    support::parse(&yaml)
}

fn items(targets: &[f32]) -> Vec<Item> {
    targets
        .iter()
        .enumerate()
        .map(|(i, &t)| Item {
            id: 10 + i as i64,
            text: String::new(),
            label: format_rounded(t as f64),
            target: t,
            extra: BTreeMap::new(),
        })
        .collect()
}

fn close(a: &serde_json::Value, b: f64) {
    let a = a.as_f64().unwrap_or(f64::NAN);
    assert!((a - b).abs() < 1e-6, "{a} != {b}");
}

#[test]
fn regression_scores_by_hand() {
    let s = spec("{type: regression, range: [1, 5]}", "");
    let test = items(&[1.0, 3.0, 5.0, 2.0]);
    let raw = [1.4f32, 3.5, 6.2, 2.5];
    let probs: Vec<Vec<f32>> = raw.iter().map(|&v| vec![v]).collect();
    let (preds, m) = score(&s, &[], &[], &test, &probs).unwrap();
    let m = m.to_map();
    // Half to even: 3.5 -> 4, 2.5 -> 2; 6.2 -> 6 clamped to 5.
    let rounded: Vec<&str> = preds.iter().map(|p| p.predicted_label.as_str()).collect();
    assert_eq!(rounded, ["1", "4", "5", "2"]);
    for (p, r) in preds.iter().zip(raw) {
        assert!((p.probability - r as f64).abs() < 1e-9);
        assert!(p.probabilities.is_empty());
    }
    assert_eq!(preds[2].id, 12);
    assert_eq!(preds[2].true_label, "5");
    // Errors 0.4, 0.5, 1.2, 0.5 (in f32, hence the tolerance).
    close(&m["mae"], 0.65);
    close(&m["mse"], 0.525);
    close(&m["rmse"], 0.525f64.sqrt());
    // mean 2.75, SS_tot 8.75, SS_res 2.1: 1 - 0.24.
    close(&m["r2"], 0.76);
    // Rounded truth 1 3 5 2 vs 1 4 5 2 over labels 1..5.
    close(&m["accuracy_rounded"], 0.75);
    // p_e = 3/16: (0.75 - 0.1875) / 0.8125.
    close(&m["cohen_kappa"], 0.5625 / 0.8125);
    // Sum of |i-j| over truth x prediction supports 28 -> expected 7, observed 1.
    close(&m["cohen_kappa_linear"], 1.0 - 1.0 / 7.0);
    // Sum of (i-j)^2 is 76 -> expected 19, observed 1.
    close(&m["cohen_kappa_quadratic"], 1.0 - 1.0 / 19.0);
    assert_eq!(
        m[CONFUSION_LABELS],
        json!(["1", "2", "3", "4", "5"]),
        "the integer classes label the matrix"
    );
    assert_eq!(m["confusion_matrix"][2], json!([0, 0, 0, 1, 0]));
    assert_eq!(m[PREDICTION_RANGE], json!([1.0, 5.0]));
}

#[test]
fn range_from_training_targets_without_task_range() {
    let s = spec("{type: regression}", "");
    let train = items(&[2.0, 4.0, 3.0]);
    assert_eq!(regression_range(&s, &train), Some([2.0, 4.0]));
    assert_eq!(regression_range(&s, &[]), None);
    let test = items(&[2.0, 4.0]);
    let probs = vec![vec![1.4f32], vec![9.0]];
    let (preds, m) = score(&s, &[], &train, &test, &probs).unwrap();
    let m = m.to_map();
    assert_eq!(preds[0].predicted_label, "2");
    assert_eq!(preds[1].predicted_label, "4");
    assert_eq!(m[PREDICTION_RANGE], json!([2.0, 4.0]));
    close(&m["accuracy_rounded"], 1.0);
    // The raw values still drive MAE: (0.6 + 5) / 2.
    close(&m["mae"], 2.8);
}

#[test]
fn spec_metric_list_filters_regression_metrics() {
    let s = spec("{type: regression, range: [1, 10]}", "metrics: [accuracy]");
    let test = items(&[1.0, 10.0]);
    let probs = vec![vec![1.0f32], vec![8.6]];
    let (_, m) = score(&s, &[], &[], &test, &probs).unwrap();
    let m = m.to_map();
    assert!(m.contains_key("mae") && m.contains_key("r2"));
    assert!(!m.contains_key("cohen_kappa_quadratic"));
    assert!(!m.contains_key("confusion_matrix"));
    assert!(
        !m.contains_key(CONFUSION_LABELS),
        "labels go with the matrix"
    );
}

#[test]
fn rounding_rule() {
    assert_eq!(round_into_range(0.5, None), 0.0);
    assert_eq!(round_into_range(1.5, None), 2.0);
    assert_eq!(round_into_range(-3.7, Some([1.0, 10.0])), 1.0);
    assert_eq!(round_into_range(10.49, Some([1.0, 10.0])), 10.0);
    // Fractional bounds: the integers inside, [2, 3].
    assert_eq!(round_into_range(1.2, Some([1.5, 3.5])), 2.0);
    assert_eq!(format_rounded(7.0), "7");
    assert_eq!(format_rounded(-2.0), "-2");
}

#[test]
fn classification_still_scores() {
    let s = spec("{type: multiclass, classes: [a, b, c]}", "");
    let mut test = items(&[0.0, 2.0]);
    test[0].label = "a".into();
    test[1].label = "c".into();
    let probs = vec![vec![0.7, 0.2, 0.1], vec![0.1, 0.5, 0.4]];
    let classes: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
    let (preds, m) = score(&s, &classes, &[], &test, &probs).unwrap();
    let m = m.to_map();
    assert_eq!(preds[1].predicted_label, "b");
    assert!((preds[1].probability - 0.5).abs() < 1e-6);
    close(&m["accuracy"], 0.5);
    // A mismatch between outputs and test rows is an error, not a panic.
    assert!(score(&s, &classes, &[], &test, &probs[..1]).is_err());
}
