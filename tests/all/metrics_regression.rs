//! Regression metrics against scikit-learn documented and hand-computed values.

use kerros::metrics::{
    filter_metrics, mean_absolute_error, mean_squared_error, r2_score, Metrics, MetricsError,
    RegressionMetrics,
};
use kerros::spec::MetricName;
use serde_json::{json, Value};

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-12)
}

#[test]
fn sklearn_doc_examples() {
    // sklearn docs: y_true=[3,-0.5,2,7], y_pred=[2.5,0.0,2,8]
    // errors .5,.5,0,1 -> MAE 0.5, MSE (.25+.25+0+1)/4 = 0.375
    // mean 2.875; SS_tot = .015625+11.390625+.765625+17.015625 = 29.1875
    // R2 = 1 - 1.5/29.1875 = 0.948608...
    let t = [3.0, -0.5, 2.0, 7.0];
    let p = [2.5, 0.0, 2.0, 8.0];
    assert!(close(mean_absolute_error(&t, &p).unwrap(), 0.5));
    assert!(close(mean_squared_error(&t, &p).unwrap(), 0.375));
    assert!(close(r2_score(&t, &p).unwrap(), 1.0 - 1.5 / 29.1875));
    assert!((r2_score(&t, &p).unwrap().unwrap() - 0.948608).abs() < 1e-6);
    let m = RegressionMetrics::compute(&t, &p, None).unwrap();
    assert!(close(m.rmse, 0.375f64.sqrt()));
}

#[test]
fn r2_special_cases_from_sklearn_docs() {
    assert!(close(
        r2_score(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]).unwrap(),
        1.0
    ));
    assert!(close(
        r2_score(&[1.0, 2.0, 3.0], &[2.0, 2.0, 2.0]).unwrap(),
        0.0
    ));
    assert!(close(
        r2_score(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).unwrap(),
        -3.0
    ));
    // constant truth: perfect -> 1.0, otherwise 0.0 (force_finite)
    assert!(close(r2_score(&[-2.0; 3], &[-2.0; 3]).unwrap(), 1.0));
    assert!(close(
        r2_score(&[-2.0; 3], &[-2.0, -2.0, -2.0 + 1e-8]).unwrap(),
        0.0
    ));
    // fewer than two samples: undefined
    assert_eq!(r2_score(&[1.0], &[1.0]).unwrap(), None);
}

#[test]
fn rounded_metrics_by_hand() {
    // range [1,5]; y_pred [0.6,2.5,3.5,7.0,4.4] rounds half-to-even to
    // [1,2,4,7,4], clamped to [1,2,4,5,4]; y_true [1,2,3,4,5].
    // pairs (1,1),(2,2),(3,4),(4,5),(5,4): exact matches 2/5 = 0.4.
    // Classes 1..5; each true count 1, predicted counts [1,1,0,2,1].
    // unweighted: po .4, pe = (1+1+0+2+1)/25 = .2 -> (.4-.2)/.8 = 0.25
    // linear: observed |3-4| + |4-5| + |5-4| = 3; expected (1/5) sum_j c_j sum_i |i-j|
    //   with sum_i |i-j| = [10,7,6,7,10] -> (10+7+0+14+10)/5 = 8.2 -> 1 - 3/8.2
    // quadratic: observed 3; sum_i (i-j)^2 = [30,15,10,15,30] ->
    //   (30+15+0+30+30)/5 = 21 -> 1 - 3/21 = 6/7
    // (np.round-style ties: 2.5 -> 2 keeps idx 1 a match; rounding half away
    // from zero would give 3 and accuracy 0.2.)
    let t = [1.0, 2.0, 3.0, 4.0, 5.0];
    let p = [0.6, 2.5, 3.5, 7.0, 4.4];
    let m = RegressionMetrics::compute(&t, &p, Some([1.0, 5.0])).unwrap();
    let r = m.rounded.clone().unwrap();
    assert_eq!(r.labels, [1, 2, 3, 4, 5]);
    assert!(close(r.accuracy, 0.4));
    assert!(close(r.cohen_kappa, 0.25));
    assert!(close(r.cohen_kappa_linear, 1.0 - 3.0 / 8.2));
    assert!(close(r.cohen_kappa_quadratic, 6.0 / 7.0));
    let map = m.metric_map();
    let keys: Vec<&str> = map.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "accuracy_rounded",
            "cohen_kappa",
            "cohen_kappa_linear",
            "cohen_kappa_quadratic",
            "confusion_matrix",
            "mae",
            "mse",
            "r2",
            "rmse"
        ]
    );
    assert_eq!(
        map["confusion_matrix"],
        json!([
            [1, 0, 0, 0, 0],
            [0, 1, 0, 0, 0],
            [0, 0, 0, 1, 0],
            [0, 0, 0, 0, 1],
            [0, 0, 0, 1, 0]
        ])
    );
    // MAE = (.4 + .5 + .5 + 3 + .6)/5 = 1.0 (on the raw predictions)
    assert!((map["mae"].as_f64().unwrap() - 1.0).abs() < 1e-12);
}

#[test]
fn without_range_classes_span_the_data() {
    // y_true [2,3], y_pred [0.4, 3.2] -> rounded pred [0,3]; labels 0..3
    let m = RegressionMetrics::compute(&[2.0, 3.0], &[0.4, 3.2], None).unwrap();
    let r = m.rounded.unwrap();
    assert_eq!(r.labels, [0, 1, 2, 3]);
    assert!(close(r.accuracy, 0.5));
    // truth outside the range widens the classes instead of being altered
    let m = RegressionMetrics::compute(&[0.0, 3.0], &[0.0, 3.0], Some([1.0, 3.0])).unwrap();
    let r = m.rounded.unwrap();
    assert_eq!(r.labels, [0, 1, 2, 3]);
    // prediction 0 clamped to 1 -> one miss
    assert!(close(r.accuracy, 0.5));
}

#[test]
fn degenerate_and_bad_inputs() {
    let m = RegressionMetrics::compute(&[], &[], None).unwrap();
    let map = m.metric_map();
    for k in [
        "mae",
        "mse",
        "rmse",
        "r2",
        "accuracy_rounded",
        "cohen_kappa",
        "confusion_matrix",
    ] {
        assert_eq!(map[k], Value::Null, "{k}");
    }
    // with a range but no data: empty matrix, undefined rates
    let m = RegressionMetrics::compute(&[], &[], Some([1.0, 3.0])).unwrap();
    assert_eq!(
        m.metric_map()["confusion_matrix"],
        json!([[0, 0, 0], [0, 0, 0], [0, 0, 0]])
    );
    // huge span without a range: rounded metrics skipped, not a huge allocation
    let m = RegressionMetrics::compute(&[0.0, 1.0], &[0.0, 1e12], None).unwrap();
    assert!(m.rounded.is_none());
    assert!(matches!(
        RegressionMetrics::compute(&[1.0], &[f64::NAN], None),
        Err(MetricsError::NonFinite { .. })
    ));
    assert!(matches!(
        RegressionMetrics::compute(&[1.0], &[1.0, 2.0], None),
        Err(MetricsError::LengthMismatch { .. })
    ));
    assert!(matches!(
        RegressionMetrics::compute(&[1.0], &[1.0], Some([1.2, 1.8])),
        Err(MetricsError::InvalidRange { .. })
    ));
}

#[test]
fn filter_keeps_error_metrics() {
    let m = RegressionMetrics::compute(&[1.0, 2.0], &[1.0, 2.0], Some([1.0, 2.0])).unwrap();
    let kept = filter_metrics(Metrics::Regression(m).metric_map(), &[MetricName::Accuracy]);
    let keys: Vec<&str> = kept.keys().map(String::as_str).collect();
    assert_eq!(keys, ["accuracy_rounded", "mae", "mse", "r2", "rmse"]);
}
