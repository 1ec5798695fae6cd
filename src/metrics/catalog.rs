//! The one list of metric names a run can produce: each with a human label,
//! a one-line meaning, and the kinds of scoring that compute it.
//!
//! The names are the keys of the metric maps of
//! [`super::ClassificationMetrics::metric_map`] (two classes, or more),
//! [`super::RegressionMetrics::metric_map`] and the pipeline's test `loss`;
//! a test keeps this list and those maps equal.

use crate::spec::MetricName;

/// How a run's predictions are scored, which decides the metric names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scoring {
    /// Two classes (a binary task, or a multiclass task with two classes):
    /// metrics of the positive class (the second).
    TwoClasses,
    /// Three or more classes: macro and weighted averages.
    ManyClasses,
    /// A number: errors, and agreement after rounding.
    Regression,
}

use Scoring::{ManyClasses, Regression, TwoClasses};

/// One metric of the catalog.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricInfo {
    /// The key in a run's metrics (`--json`, `expect:`, compare).
    pub name: &'static str,
    /// A short human label for reports and tables.
    pub label: &'static str,
    /// What the number means, in one line, lower case and without a final
    /// period (the report shows it after the label).
    pub meaning: &'static str,
    /// The scorings that compute it.
    pub scorings: &'static [Scoring],
    /// Whether it is one number (and so can be bounded in `expect:`).
    pub scalar: bool,
}

const ALL: &[Scoring] = &[TwoClasses, ManyClasses, Regression];
const CLASSES: &[Scoring] = &[TwoClasses, ManyClasses];

const fn metric(
    name: &'static str,
    label: &'static str,
    meaning: &'static str,
    scorings: &'static [Scoring],
) -> MetricInfo {
    MetricInfo {
        name,
        label,
        meaning,
        scorings,
        scalar: true,
    }
}

const fn table(
    name: &'static str,
    label: &'static str,
    meaning: &'static str,
    scorings: &'static [Scoring],
) -> MetricInfo {
    MetricInfo {
        scalar: false,
        ..metric(name, label, meaning, scorings)
    }
}

/// Every metric name a run can produce.
pub const METRICS: &[MetricInfo] = &[
    metric(
        "loss",
        "Test loss",
        "the training loss function evaluated on the test split (lower is better)",
        ALL,
    ),
    metric(
        "accuracy",
        "Accuracy",
        "share of test examples whose class was predicted right",
        CLASSES,
    ),
    metric(
        "precision",
        "Precision",
        "of the examples predicted positive, the share that are positive",
        &[TwoClasses],
    ),
    metric(
        "recall",
        "Recall",
        "of the positive examples, the share predicted positive",
        &[TwoClasses],
    ),
    metric(
        "f1",
        "F1",
        "harmonic mean of precision and recall of the positive class",
        &[TwoClasses],
    ),
    metric(
        "roc_auc",
        "ROC AUC",
        "chance that a random positive example scores higher than a random negative one (0.5 = chance)",
        &[TwoClasses],
    ),
    metric(
        "precision_macro",
        "Macro precision",
        "precision of each class, averaged with equal weight per class",
        &[ManyClasses],
    ),
    metric(
        "recall_macro",
        "Macro recall",
        "recall of each class, averaged with equal weight per class",
        &[ManyClasses],
    ),
    metric(
        "f1_macro",
        "Macro F1",
        "F1 of each class, averaged with equal weight per class",
        &[ManyClasses],
    ),
    metric(
        "precision_weighted",
        "Weighted precision",
        "precision of each class, averaged weighted by the class's test examples",
        &[ManyClasses],
    ),
    metric(
        "recall_weighted",
        "Weighted recall",
        "recall of each class, averaged weighted by the class's test examples",
        &[ManyClasses],
    ),
    metric(
        "f1_weighted",
        "Weighted F1",
        "F1 of each class, averaged weighted by the class's test examples",
        &[ManyClasses],
    ),
    metric(
        "roc_auc_ovr",
        "ROC AUC (one-vs-rest)",
        "mean over classes of the chance that an example of the class scores higher on it than one of another class",
        &[ManyClasses],
    ),
    metric(
        "log_loss",
        "Log loss",
        "mean negative log of the probability given to the true class, as scikit-learn computes it (lower is better)",
        CLASSES,
    ),
    metric(
        "cohen_kappa",
        "Cohen's kappa",
        "agreement beyond chance: 0 = chance, 1 = perfect; every miss counts the same",
        ALL,
    ),
    metric(
        "cohen_kappa_linear",
        "Linear-weighted kappa",
        "agreement beyond chance for ordered classes: 0 = chance, 1 = perfect; a miss counts by how many classes it is off",
        &[ManyClasses, Regression],
    ),
    metric(
        "cohen_kappa_quadratic",
        "Quadratic-weighted kappa",
        "agreement beyond chance for ordered classes: 0 = chance, 1 = perfect; quadratic weights punish far misses more",
        &[ManyClasses, Regression],
    ),
    metric(
        "mae",
        "MAE",
        "mean absolute error: how far a prediction is off on average, in label units",
        &[Regression],
    ),
    metric(
        "mse",
        "MSE",
        "mean squared error, in squared label units",
        &[Regression],
    ),
    metric(
        "rmse",
        "RMSE",
        "root mean squared error: like MAE but large errors weigh more, in label units",
        &[Regression],
    ),
    metric(
        "r2",
        "R²",
        "share of the label's variance the model explains: 1 = perfect, 0 = no better than predicting the mean",
        &[Regression],
    ),
    metric(
        "accuracy_rounded",
        "Accuracy of rounded predictions",
        "share of test examples whose prediction, rounded to a whole rating, equals the true rating",
        &[Regression],
    ),
    table(
        "confusion_matrix",
        "Confusion matrix",
        "counts of test examples, rows the true class, columns the predicted one",
        ALL,
    ),
    table(
        "per_class",
        "Per-class scores",
        "precision, recall, F1 and support of every class",
        &[ManyClasses],
    ),
    table(
        "confusion_labels",
        "Confusion-matrix labels",
        "the whole numbers a regression's confusion matrix is indexed by",
        &[Regression],
    ),
    table(
        "prediction_range",
        "Prediction range",
        "the range a regression's rounded predictions are clamped into",
        &[Regression],
    ),
];

/// The catalog entry of `name`.
pub fn find(name: &str) -> Option<&'static MetricInfo> {
    METRICS.iter().find(|m| m.name == name)
}

/// Whether `name` is computed for `scoring` when the spec asks for `enabled`
/// (the spec's `metrics:` list, applied as [`super::filter_metrics`] applies it).
pub fn computed(name: &str, scoring: Scoring, enabled: &[MetricName]) -> bool {
    find(name).is_some_and(|m| {
        m.scorings.contains(&scoring) && (m.name == "loss" || super::metric_enabled(name, enabled))
    })
}

/// The scalar metrics a run with `scoring` and `enabled` produces, in catalog order.
pub fn computed_scalars(scoring: Scoring, enabled: &[MetricName]) -> Vec<&'static str> {
    METRICS
        .iter()
        .filter(|m| m.scalar && computed(m.name, scoring, enabled))
        .map(|m| m.name)
        .collect()
}

/// Whether the spec's `metrics:` entry `family` adds any metric for
/// `scoring` (beyond those every run computes, such as `log_loss`).
pub fn family_applies(family: MetricName, scoring: Scoring) -> bool {
    METRICS.iter().any(|m| {
        m.scorings.contains(&scoring)
            && !super::metric_enabled(m.name, &[])
            && super::metric_enabled(m.name, &[family])
    })
}

/// The human label of a metric name; the name itself when it is not in the catalog.
pub fn label(name: &str) -> &str {
    find(name).map_or(name, |m| m.label)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{ClassificationMetrics, RegressionMetrics};
    use std::collections::BTreeSet;

    fn names(scoring: Scoring) -> BTreeSet<&'static str> {
        METRICS
            .iter()
            .filter(|m| m.scorings.contains(&scoring) && m.name != "loss")
            .map(|m| m.name)
            .collect()
    }

    fn keys(map: std::collections::BTreeMap<String, serde_json::Value>) -> BTreeSet<String> {
        map.into_keys().collect()
    }

    #[test]
    fn catalog_matches_the_metric_maps() {
        let two = vec!["a".to_string(), "b".to_string()];
        let probs = [vec![0.7, 0.3], vec![0.2, 0.8], vec![0.6, 0.4]];
        let m =
            ClassificationMetrics::compute(&[0, 1, 1], &[0, 1, 0], Some(&probs[..]), &two).unwrap();
        let want: BTreeSet<String> = names(TwoClasses).iter().map(|s| s.to_string()).collect();
        assert_eq!(keys(m.metric_map()), want);

        let three = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let probs = [
            vec![0.7, 0.2, 0.1],
            vec![0.2, 0.5, 0.3],
            vec![0.1, 0.1, 0.8],
        ];
        let m = ClassificationMetrics::compute(&[0, 1, 2], &[0, 1, 1], Some(&probs[..]), &three)
            .unwrap();
        let want: BTreeSet<String> = names(ManyClasses).iter().map(|s| s.to_string()).collect();
        assert_eq!(keys(m.metric_map()), want);

        let r = RegressionMetrics::compute(&[1.0, 2.0, 3.0], &[1.1, 2.2, 2.7], Some([1.0, 3.0]))
            .unwrap();
        let mut got = keys(r.metric_map());
        // Added by the pipeline's scoring next to the regression map.
        got.insert("confusion_labels".into());
        got.insert("prediction_range".into());
        let want: BTreeSet<String> = names(Regression).iter().map(|s| s.to_string()).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn computed_follows_the_metric_list() {
        use MetricName::*;
        assert!(computed("roc_auc", TwoClasses, &[RocAuc]));
        assert!(!computed("roc_auc", TwoClasses, &[Accuracy]));
        assert!(!computed("roc_auc", ManyClasses, &[RocAuc]));
        assert!(computed("loss", Regression, &[]));
        assert!(computed("rmse", Regression, &[]));
        assert!(!computed("accuracy", Regression, &[Accuracy]));
        assert!(!computed("confusion_matrix", TwoClasses, &[Accuracy]));
        assert!(!computed_scalars(TwoClasses, &[F1]).contains(&"confusion_matrix"));
        assert!(family_applies(Precision, ManyClasses));
        assert!(!family_applies(RocAuc, Regression));
        assert!(!family_applies(Accuracy, Regression));
        assert!(family_applies(CohenKappa, Regression));
    }
}
