//! End-to-end checks of `ClassificationMetrics` and its metric map against
//! hand-computed and scikit-learn documented values.

use kerros::metrics::{filter_metrics, ClassificationMetrics, Metrics, MetricsError};
use kerros::spec::MetricName;
use serde_json::{json, Value};

fn names(n: &[&str]) -> Vec<String> {
    n.iter().map(|s| s.to_string()).collect()
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn assert_close(v: &Value, expected: f64) {
    let x = num(v);
    assert!((x - expected).abs() < 1e-9, "{x} != {expected}");
}

#[test]
fn binary_by_hand() {
    // y_true = [0,1,1,0,1,1,0,0], y_pred = [0,1,0,0,1,1,1,0]
    // tp = 3 (idx 1,4,5), fn = 1 (idx 2), fp = 1 (idx 6), tn = 3 (idx 0,3,7)
    // accuracy 6/8; P = 3/4, R = 3/4, F1 = 6/(6+1+1) = 0.75
    // cm [[3,1],[1,3]]: po = .75, pe = (4*4+4*4)/64 = .5 -> kappa 0.5
    // p(pos) = [.1,.8,.4,.3,.9,.6,.7,.2]: positives .8,.4,.9,.6 vs negatives
    // .1,.3,.7,.2 -> .8:4, .4:3, .9:4, .6:3 = 14/16 = 0.875
    // log loss = -mean(ln .9,.8,.4,.7,.9,.6,.3,.8)
    let y_true = [0, 1, 1, 0, 1, 1, 0, 0];
    let y_pred = [0, 1, 0, 0, 1, 1, 1, 0];
    let pos = [0.1f32, 0.8, 0.4, 0.3, 0.9, 0.6, 0.7, 0.2];
    let probs: Vec<Vec<f32>> = pos.iter().map(|&p| vec![1.0 - p, p]).collect();
    let m = ClassificationMetrics::compute(&y_true, &y_pred, Some(&probs), &names(&["neg", "pos"]))
        .unwrap();
    let map = m.metric_map();
    let keys: Vec<&str> = map.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "accuracy",
            "cohen_kappa",
            "confusion_matrix",
            "f1",
            "log_loss",
            "precision",
            "recall",
            "roc_auc"
        ]
    );
    assert_close(&map["accuracy"], 0.75);
    assert_close(&map["precision"], 0.75);
    assert_close(&map["recall"], 0.75);
    assert_close(&map["f1"], 0.75);
    assert_close(&map["cohen_kappa"], 0.5);
    assert_close(&map["roc_auc"], 0.875);
    assert_eq!(map["confusion_matrix"], json!([[3, 1], [1, 3]]));
    // probabilities of the true class, widened from f32 as the code does
    let true_p: Vec<f64> = y_true
        .iter()
        .zip(&probs)
        .map(|(&y, r)| f64::from(r[y]))
        .collect();
    let ll = -true_p.iter().map(|p| p.ln()).sum::<f64>() / 8.0;
    assert_close(&map["log_loss"], ll);
    // in exact decimals: .10536+.22314+.91629+.35667+.10536+.51083+1.20397+.22314
    // = 3.64477, / 8 = 0.455596
    assert!((ll - 0.455596).abs() < 1e-5, "{ll}");
}

#[test]
fn binary_positive_class_differs_from_macro() {
    // y_true = [0,0,0,1], y_pred = [0,0,1,1]: positive class (1):
    // P = 1/2, R = 1/1, F1 = 2/(2+1+0) = 2/3; macro P would be (1 + .5)/2 = .75
    let m = ClassificationMetrics::compute(&[0, 0, 0, 1], &[0, 0, 1, 1], None, &names(&["a", "b"]))
        .unwrap();
    let map = m.metric_map();
    assert_close(&map["precision"], 0.5);
    assert_close(&map["recall"], 1.0);
    assert_close(&map["f1"], 2.0 / 3.0);
    // no probabilities: no roc_auc / log_loss keys at all
    assert!(!map.contains_key("roc_auc") && !map.contains_key("log_loss"));
    assert_eq!(m.macro_avg.precision, 0.75);
}

#[test]
fn multiclass_sklearn_prfs_example_and_map() {
    // sklearn precision_recall_fscore_support docs example (cat=0, dog=1, pig=2)
    // macro (0.2222, 0.3333, 0.2667), weighted the same (equal supports).
    // cm = [[2,0,0],[1,0,1],[0,2,0]]; kappa: po = 2/6, true counts [2,2,2],
    // predicted counts [3,2,1]; pe = (2*3+2*2+2*1)/36 = 12/36 -> kappa 0
    // linear: observed |i-j|: (1,0)=1,(1,2)=1,(2,1)=2*1 -> 4;
    //   expected E = outer(pred=[3,2,1], true=[2,2,2])/6 -> row i = pred_i/3:
    //   [[1,1,1],[2/3,2/3,2/3],[1/3,1/3,1/3]];
    //   sum |i-j| E = 1*(1+2) + 2/3*(1+1) + 1/3*(2+1) = 3 + 4/3 + 1 = 16/3
    //   -> 1 - 4/(16/3) = 0.25
    // quadratic: observed 1+1+2 = 4; expected 1*(1+4) + 2/3*(1+1) + 1/3*(4+1)
    //   = 5 + 4/3 + 5/3 = 8 -> 1 - 4/8 = 0.5
    let y_true = [0, 1, 2, 0, 1, 2];
    let y_pred = [0, 2, 1, 0, 0, 1];
    let m = ClassificationMetrics::compute(&y_true, &y_pred, None, &names(&["cat", "dog", "pig"]))
        .unwrap();
    let map = m.metric_map();
    let keys: Vec<&str> = map.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "accuracy",
            "cohen_kappa",
            "cohen_kappa_linear",
            "cohen_kappa_quadratic",
            "confusion_matrix",
            "f1_macro",
            "f1_weighted",
            "per_class",
            "precision_macro",
            "precision_weighted",
            "recall_macro",
            "recall_weighted"
        ]
    );
    assert_close(&map["precision_macro"], 2.0 / 9.0);
    assert_close(&map["recall_macro"], 1.0 / 3.0);
    assert_close(&map["f1_macro"], 0.8 / 3.0);
    assert_close(&map["precision_weighted"], 2.0 / 9.0);
    assert_close(&map["accuracy"], 1.0 / 3.0);
    assert_close(&map["cohen_kappa"], 0.0);
    assert_close(&map["cohen_kappa_linear"], 0.25);
    assert_close(&map["cohen_kappa_quadratic"], 0.5);
    assert_eq!(
        map["confusion_matrix"],
        json!([[2, 0, 0], [1, 0, 1], [0, 2, 0]])
    );
    let cat = &map["per_class"]["cat"];
    assert_close(&cat["precision"], 2.0 / 3.0);
    assert_close(&cat["recall"], 1.0);
    assert_close(&cat["f1"], 0.8);
    assert_eq!(cat["support"], json!(2));
    assert_eq!(map["per_class"]["pig"]["f1"], json!(0.0));
    assert!((m.micro_avg.f1 - 1.0 / 3.0).abs() < 1e-12);
}

#[test]
fn multiclass_with_probs_has_ovr_auc() {
    // Same probabilities as the roc.rs hand example: macro OVR AUC
    // (0.875 + 0.5625 + 0.875) / 3.
    let y = [0, 1, 2, 0, 1, 2];
    let probs = vec![
        vec![0.7f32, 0.2, 0.1],
        vec![0.2, 0.5, 0.3],
        vec![0.2, 0.3, 0.5],
        vec![0.3, 0.4, 0.3],
        vec![0.5, 0.3, 0.2],
        vec![0.1, 0.6, 0.3],
    ];
    let pred = [0, 1, 2, 1, 0, 1];
    let m =
        ClassificationMetrics::compute(&y, &pred, Some(&probs), &names(&["a", "b", "c"])).unwrap();
    let map = m.metric_map();
    assert_close(&map["roc_auc_ovr"], (0.875 + 0.5625 + 0.875) / 3.0);
    assert!(!map.contains_key("roc_auc"));
    // log loss: true-class probs .7,.5,.5,.3,.3,.3
    let ll = -[0.7f32, 0.5, 0.5, 0.3, 0.3, 0.3]
        .iter()
        .map(|&p| f64::from(p).ln())
        .sum::<f64>()
        / 6.0;
    assert_close(&map["log_loss"], ll);
}

#[test]
fn degenerate_inputs_do_not_panic_or_nan() {
    let cls = names(&["neg", "pos"]);
    // empty
    let m = ClassificationMetrics::compute(&[], &[], Some(&[]), &cls).unwrap();
    let map = m.metric_map();
    assert_eq!(map["accuracy"], Value::Null);
    assert_eq!(map["cohen_kappa"], Value::Null);
    assert_eq!(map["roc_auc"], Value::Null);
    assert_eq!(map["log_loss"], Value::Null);
    assert_eq!(map["precision"], json!(0.0));
    assert_eq!(map["confusion_matrix"], json!([[0, 0], [0, 0]]));
    // only one class in y_true, all predictions that class: AUC and kappa undefined
    let probs = vec![vec![0.8f32, 0.2], vec![0.6, 0.4]];
    let m = ClassificationMetrics::compute(&[0, 0], &[0, 0], Some(&probs), &cls).unwrap();
    assert_eq!(m.roc_auc, None);
    assert_eq!(m.cohen_kappa, None);
    assert_eq!(m.accuracy, Some(1.0));
    assert_eq!(m.binary.map(|b| b.precision), Some(0.0));
    // a class never present in a 3-class task: macro includes its zeros
    let m =
        ClassificationMetrics::compute(&[0, 1], &[0, 1], None, &names(&["a", "b", "c"])).unwrap();
    assert!((m.macro_avg.recall - 2.0 / 3.0).abs() < 1e-12);
    assert_eq!(m.weighted_avg.recall, 1.0);
    assert_eq!(m.cohen_kappa, Some(1.0));
    // every JSON value is finite or null
    for (k, v) in m.metric_map() {
        if let Some(x) = v.as_f64() {
            assert!(x.is_finite(), "{k}");
        }
    }
}

#[test]
fn bad_inputs_are_errors() {
    let cls = names(&["neg", "pos"]);
    assert!(matches!(
        ClassificationMetrics::compute(&[0], &[0, 1], None, &cls),
        Err(MetricsError::LengthMismatch { .. })
    ));
    assert!(matches!(
        ClassificationMetrics::compute(&[0, 2], &[0, 1], None, &cls),
        Err(MetricsError::LabelOutOfRange {
            field: "y_true",
            index: 1,
            label: 2,
            ..
        })
    ));
    assert!(matches!(
        ClassificationMetrics::compute(&[0], &[0], Some(&[vec![1.0]]), &cls),
        Err(MetricsError::ProbsWidth {
            row: 0,
            found: 1,
            expected: 2
        })
    ));
    let err =
        ClassificationMetrics::compute(&[0], &[0], Some(&[vec![f32::NAN, 1.0]]), &cls).unwrap_err();
    assert!(err.to_string().contains("probs[0][0]"), "{err}");
    assert!(matches!(
        ClassificationMetrics::compute(&[0], &[0], None, &[]),
        Err(MetricsError::NoClasses)
    ));
    assert!(matches!(
        ClassificationMetrics::compute(&[0], &[0], None, &names(&["x", "x"])),
        Err(MetricsError::DuplicateClass {
            first: 0,
            second: 1,
            ..
        })
    ));
}

#[test]
fn filter_by_spec_list_and_serialize() {
    let m = ClassificationMetrics::compute(
        &[0, 1, 2, 2],
        &[0, 1, 2, 1],
        None,
        &names(&["a", "b", "c"]),
    )
    .unwrap();
    let kept = filter_metrics(
        m.metric_map(),
        &[MetricName::Accuracy, MetricName::CohenKappa],
    );
    let keys: Vec<&str> = kept.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "accuracy",
            "cohen_kappa",
            "cohen_kappa_linear",
            "cohen_kappa_quadratic"
        ]
    );
    let all = Metrics::Classification(m);
    let j = serde_json::to_value(&all).unwrap();
    assert_eq!(j["task"], json!("classification"));
    assert_eq!(j["per_class"][2]["support"], json!(2));
    assert_eq!(all.metric_map()["per_class"]["c"]["support"], json!(2));
}
