//! `select:` beside `matrix:`: which validation metric picks the one variant
//! that `predict` uses and `run` / `compare` mark.

use super::error::Invalid;
use serde::{Deserialize, Serialize};

/// The validation metrics a run keeps and `select:` may name: the final
/// epoch's `val_loss` and `val_accuracy`, the lowest `val_loss` over the
/// epochs (`best_val_loss`) and its 1-based epoch (`best_epoch`).
pub const VALIDATION_METRICS: &[&str] =
    &["val_loss", "val_accuracy", "best_val_loss", "best_epoch"];

/// `select: {metric: val_loss}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SelectSpec {
    /// A validation metric ([`VALIDATION_METRICS`]); losses choose the
    /// lowest, the others the highest; ties go to the first variant.
    pub metric: String,
}

impl SelectSpec {
    /// The metric must be one of [`VALIDATION_METRICS`] (test metrics never
    /// choose a model).
    pub fn check(&self) -> Result<(), Invalid> {
        if VALIDATION_METRICS.contains(&self.metric.as_str()) {
            return Ok(());
        }
        Err(Invalid::new(
            "select.metric",
            format!(
                "unknown selection metric `{}`; valid: {} (validation metrics; the test split never chooses a model)",
                self.metric,
                VALIDATION_METRICS.join(", ")
            ),
        ))
    }
}
