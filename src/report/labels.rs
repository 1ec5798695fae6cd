//! Human names and one-line meanings of the metric keys, so the page never
//! shows a raw key such as `cohen_kappa` without saying what it is.
//!
//! One small table, meant to be replaced by the shared metric catalogue
//! once there is one.

/// `(key, label, meaning)` of every metric the report knows.
const METRICS: &[(&str, &str, &str)] = &[
    ("accuracy", "Accuracy", "share of test examples whose class was predicted right"),
    ("accuracy_rounded", "Accuracy of rounded predictions", "share of test examples whose prediction, rounded to a whole rating, equals the true rating"),
    ("cohen_kappa", "Cohen's kappa", "agreement beyond chance: 0 = chance, 1 = perfect; every miss counts the same"),
    ("cohen_kappa_linear", "Linear-weighted kappa", "agreement beyond chance for ordered classes: 0 = chance, 1 = perfect; a miss counts by how many classes it is off"),
    ("cohen_kappa_quadratic", "Quadratic-weighted kappa", "agreement beyond chance for ordered classes: 0 = chance, 1 = perfect; quadratic weights punish far misses more"),
    ("f1", "F1", "harmonic mean of precision and recall of the positive class"),
    ("precision", "Precision", "of the examples predicted positive, the share that are positive"),
    ("recall", "Recall", "of the positive examples, the share predicted positive"),
    ("f1_macro", "Macro F1", "F1 of each class, averaged with equal weight per class"),
    ("precision_macro", "Macro precision", "precision of each class, averaged with equal weight per class"),
    ("recall_macro", "Macro recall", "recall of each class, averaged with equal weight per class"),
    ("f1_weighted", "Weighted F1", "F1 of each class, averaged weighted by the class's test examples"),
    ("precision_weighted", "Weighted precision", "precision of each class, averaged weighted by the class's test examples"),
    ("recall_weighted", "Weighted recall", "recall of each class, averaged weighted by the class's test examples"),
    ("roc_auc", "ROC AUC", "chance that a random positive example scores higher than a random negative one (0.5 = chance)"),
    ("roc_auc_ovr", "ROC AUC (one-vs-rest)", "mean over classes of the chance that an example of the class scores higher on it than one of another class"),
    ("log_loss", "Log loss", "mean negative log of the probability given to the true class, as scikit-learn computes it (lower is better)"),
    ("loss", "Test loss", "the training loss function evaluated on the test split (lower is better)"),
    ("mae", "MAE", "mean absolute error: how far a prediction is off on average, in label units"),
    ("mse", "MSE", "mean squared error, in squared label units"),
    ("rmse", "RMSE", "root mean squared error: like MAE but large errors weigh more, in label units"),
    ("r2", "R²", "share of the label's variance the model explains: 1 = perfect, 0 = no better than predicting the mean"),
];

/// The label and meaning of a metric key; the key itself and no meaning
/// when it is unknown.
pub fn metric_label(key: &str) -> (String, String) {
    METRICS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, label, meaning)| (label.to_string(), meaning.to_string()))
        .unwrap_or_else(|| (key.to_string(), String::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_keys() {
        assert_eq!(metric_label("cohen_kappa").0, "Cohen's kappa");
        assert!(metric_label("cohen_kappa_quadratic")
            .1
            .contains("far misses"));
        assert_eq!(
            metric_label("new_metric"),
            ("new_metric".into(), String::new())
        );
    }
}
