//! `select:` beside `matrix:`: which validation metric picks the one variant
//! that `predict` uses and `run` / `compare` mark.

use super::error::Invalid;
use super::MetricName;
use serde::{Deserialize, Serialize};

/// The validation metrics a run keeps and `select:` may name: the final
/// epoch's `val_loss` and `val_accuracy`, the lowest `val_loss` over the
/// epochs (`best_val_loss`) and its 1-based epoch (`best_epoch`).
pub const VALIDATION_METRICS: &[&str] =
    &["val_loss", "val_accuracy", "best_val_loss", "best_epoch"];

/// The cross-validation metrics a run with `data.validation: {folds: K}`
/// keeps: the folds' mean final validation loss and accuracy, their standard
/// deviations, the mean of the folds' lowest validation losses and the epoch
/// count the final model trained for.
pub const CV_METRICS: &[&str] = &[
    "cv_val_loss",
    "cv_val_loss_std",
    "cv_val_accuracy",
    "cv_val_accuracy_std",
    "cv_best_val_loss",
    "cv_final_epochs",
];

/// Every metric `select:` may name and `compare` shows before the test
/// metrics: [`VALIDATION_METRICS`] then [`CV_METRICS`].
pub const SELECTION_METRICS: &[&str] = &[
    "val_loss",
    "val_accuracy",
    "best_val_loss",
    "best_epoch",
    "cv_val_loss",
    "cv_val_loss_std",
    "cv_val_accuracy",
    "cv_val_accuracy_std",
    "cv_best_val_loss",
    "cv_final_epochs",
];

/// The prefix of the mean over the folds of a metric scored on each fold's
/// validation part (`cv_val_cohen_kappa`; its standard deviation adds `_std`).
pub const CV_SCORED_PREFIX: &str = "cv_val_";

/// The catalog metric a fold-scored cross-validation metric names:
/// `cohen_kappa` for `cv_val_cohen_kappa` and `cv_val_cohen_kappa_std`;
/// `None` for any other name (and for the test `loss`, which the folds'
/// `cv_val_loss` already is).
pub fn cv_scored_metric(name: &str) -> Option<&'static str> {
    let rest = name.strip_prefix(CV_SCORED_PREFIX)?;
    let rest = rest.strip_suffix("_std").unwrap_or(rest);
    crate::metrics::catalog::find(rest)
        .filter(|m| m.scalar && m.name != "loss")
        .map(|m| m.name)
}

/// Whether `select:` may name `name` and `compare` shows it among the
/// validation metrics: one of [`SELECTION_METRICS`], or the folds' mean or
/// std of a catalog metric scored on their validation parts
/// (`cv_val_cohen_kappa`, `cv_val_f1_macro_std`, `cv_val_mae`).
pub fn is_selection_metric(name: &str) -> bool {
    SELECTION_METRICS.contains(&name) || cv_scored_metric(name).is_some()
}

/// `select: {metric: val_loss}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SelectSpec {
    /// A validation or cross-validation metric ([`is_selection_metric`]);
    /// losses, errors and standard deviations choose the lowest, the others
    /// the highest; ties go to the first variant.
    pub metric: String,
}

impl SelectSpec {
    /// The metric must be a selection metric ([`is_selection_metric`]: test
    /// metrics never choose a model), and a fold-scored one must be computed
    /// under the spec's `metrics:` list (`enabled`).
    pub fn check(&self, enabled: &[MetricName]) -> Result<(), Invalid> {
        let name = self.metric.as_str();
        if let Some(metric) = cv_scored_metric(name) {
            if crate::metrics::metric_enabled(metric, enabled) {
                return Ok(());
            }
            return Err(Invalid::new(
                "select.metric",
                format!(
                    "`{name}` is the folds' `{metric}`, which the spec's `metrics:` list does not compute; add `{}` to `metrics:`",
                    MetricName::ALL
                        .iter()
                        .find(|f| crate::metrics::metric_enabled(metric, &[**f]))
                        .map_or(metric, |f| f.as_str())
                ),
            ));
        }
        if SELECTION_METRICS.contains(&name) {
            return Ok(());
        }
        Err(Invalid::new(
            "select.metric",
            format!(
                "unknown selection metric `{name}`; valid: {}, or with `data.validation: {{folds: K}}` {CV_SCORED_PREFIX}<metric> (and its `_std`) for a metric of the spec's `metrics:` list, e.g. cv_val_cohen_kappa, cv_val_f1_macro (validation and cross-validation metrics; the test split never chooses a model)",
                SELECTION_METRICS.join(", ")
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_metrics_are_the_validation_then_the_cv_metrics() {
        let both: Vec<&str> = VALIDATION_METRICS
            .iter()
            .chain(CV_METRICS)
            .copied()
            .collect();
        assert_eq!(both, SELECTION_METRICS);
    }
}
