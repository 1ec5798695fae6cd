//! `select:` beside `matrix:`: which validation metric picks the one variant
//! that `predict` uses and `run` / `compare` mark.

use super::error::Invalid;
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

/// `select: {metric: val_loss}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SelectSpec {
    /// A validation or cross-validation metric ([`SELECTION_METRICS`]); losses choose the
    /// lowest, the others the highest; ties go to the first variant.
    pub metric: String,
}

impl SelectSpec {
    /// The metric must be one of [`SELECTION_METRICS`] (test metrics never
    /// choose a model).
    pub fn check(&self) -> Result<(), Invalid> {
        if SELECTION_METRICS.contains(&self.metric.as_str()) {
            return Ok(());
        }
        Err(Invalid::new(
            "select.metric",
            format!(
                "unknown selection metric `{}`; valid: {} (validation and cross-validation metrics; the test split never chooses a model)",
                self.metric,
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
