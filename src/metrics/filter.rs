//! Keeping only the metrics a spec asks for.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::spec::MetricName;

/// Metric names kept whatever the spec's list says.
const ALWAYS_KEPT: &[&str] = &["log_loss", "mae", "mse", "rmse", "r2", "accuracy_rounded"];

/// Spec metric each map key family derives from, matched as `base` or
/// `base_<suffix>` (`precision_macro` → precision, `cohen_kappa_linear` →
/// cohen_kappa, `roc_auc_ovr` → roc_auc).
const FAMILIES: &[(&str, MetricName)] = &[
    ("accuracy", MetricName::Accuracy),
    ("precision", MetricName::Precision),
    ("recall", MetricName::Recall),
    ("f1", MetricName::F1),
    ("roc_auc", MetricName::RocAuc),
    ("confusion_matrix", MetricName::ConfusionMatrix),
    ("cohen_kappa", MetricName::CohenKappa),
];

/// Whether the metric `key` of a metric map is wanted given `enabled`.
///
/// `log_loss`, `mae`, `mse`, `rmse`, `r2` and `accuracy_rounded` are always
/// kept; `per_class` is kept when any of precision / recall / f1 is enabled;
/// other keys by their base name. Unknown keys are kept, so that nothing the
/// metrics module adds later disappears silently.
pub fn metric_enabled(key: &str, enabled: &[MetricName]) -> bool {
    if ALWAYS_KEPT.contains(&key) {
        return true;
    }
    if key == "per_class" {
        return [MetricName::Precision, MetricName::Recall, MetricName::F1]
            .iter()
            .any(|m| enabled.contains(m));
    }
    let family = FAMILIES.iter().find(|(base, _)| {
        key == *base
            || key
                .strip_prefix(base)
                .is_some_and(|rest| rest.starts_with('_'))
    });
    match family {
        Some((_, metric)) => enabled.contains(metric),
        None => true,
    }
}

/// Keeps the entries of a metric map whose base metric is in `enabled`
/// (see [`metric_enabled`]).
pub fn filter_metrics(
    map: BTreeMap<String, Value>,
    enabled: &[MetricName],
) -> BTreeMap<String, Value> {
    map.into_iter()
        .filter(|(k, _)| metric_enabled(k, enabled))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use MetricName::*;

    #[test]
    fn base_names() {
        assert!(metric_enabled("precision_macro", &[Precision]));
        assert!(!metric_enabled("precision_macro", &[Recall, F1]));
        assert!(metric_enabled("cohen_kappa_linear", &[CohenKappa]));
        assert!(!metric_enabled("cohen_kappa_quadratic", &[Accuracy]));
        assert!(metric_enabled("roc_auc_ovr", &[RocAuc]));
        assert!(!metric_enabled("roc_auc", &[]));
        assert!(!metric_enabled("accuracy", &[F1]));
        assert!(!metric_enabled("confusion_matrix", &[Accuracy]));
        // "f1" must not match a key that merely starts with the letters
        assert!(!metric_enabled("f1_weighted", &[Accuracy]));
    }

    #[test]
    fn always_kept_and_per_class() {
        for k in ALWAYS_KEPT {
            assert!(metric_enabled(k, &[]), "{k}");
        }
        // accuracy_rounded is always kept even though it starts with accuracy
        assert!(metric_enabled("accuracy_rounded", &[]));
        assert!(metric_enabled("per_class", &[Recall]));
        assert!(!metric_enabled("per_class", &[Accuracy, CohenKappa]));
    }

    #[test]
    fn filter_keeps_only_enabled() {
        let map: BTreeMap<String, Value> = ["accuracy", "f1_macro", "log_loss", "cohen_kappa"]
            .iter()
            .map(|k| (k.to_string(), Value::from(1.0)))
            .collect();
        let kept = filter_metrics(map, &[Accuracy]);
        assert_eq!(
            kept.keys().map(String::as_str).collect::<Vec<_>>(),
            ["accuracy", "log_loss"]
        );
    }
}
