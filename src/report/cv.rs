//! k-fold cross-validation results: each fold's validation metrics, their
//! mean and standard deviation, and the epoch count the final model trains
//! for (the folds choose it; the test split never does).

use super::selection::validation_metrics;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// How the final model's epoch count is chosen, as the report and `--json` say it.
pub const FINAL_EPOCHS_RULE: &str =
    "the rounded mean of the folds' best epochs (lowest validation loss)";

/// Cross-validation metrics that run records keep (beside the single-split
/// validation metrics), so `compare` shows and sorts by them and `select:`
/// may name them.
pub use crate::spec::CV_METRICS;

/// The metrics a fold's history gives (the last epoch's `val_loss` and
/// `val_accuracy`, the lowest `val_loss` and its epoch), before those scored
/// on its validation part.
pub const HISTORY_METRICS: &[&str] = &["val_loss", "val_accuracy", "best_val_loss", "best_epoch"];

/// One fold's result: its validation metrics and per-epoch history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldResult {
    /// Validation metrics of the fold: [`HISTORY_METRICS`], and the spec's
    /// metrics scored on its validation part by the model the fold kept
    /// (`val_cohen_kappa`, `val_f1_macro`, ...).
    pub metrics: BTreeMap<String, f64>,
    /// The fold's per-epoch records (for its curves).
    pub history: Vec<Value>,
}

impl FoldResult {
    /// A fold's result from its per-epoch history.
    pub fn from_history(history: Vec<Value>) -> FoldResult {
        let metrics = validation_metrics(&history)
            .into_iter()
            .filter_map(|(k, v)| v.as_f64().map(|x| (k, x)))
            .collect();
        FoldResult { metrics, history }
    }
}

/// The cross-validation summary of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvSummary {
    /// Each fold's result, in fold order.
    pub folds: Vec<FoldResult>,
    /// Per metric, the mean over the folds that have it.
    pub mean: BTreeMap<String, f64>,
    /// Per metric, the population standard deviation (divisor n, as numpy's
    /// `std`) over the folds that have it.
    pub std: BTreeMap<String, f64>,
    /// Epochs the final model (on the whole training split) trained for.
    pub final_epochs: usize,
    /// How `final_epochs` was chosen ([`FINAL_EPOCHS_RULE`]).
    pub final_epochs_rule: String,
    /// The `task.decision` rule fitted on all folds' out-of-fold
    /// predictions, which the final model's predictions use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<crate::metrics::FittedDecision>,
}

impl CvSummary {
    /// Summarise `folds`; `max_epochs` (`train.epochs`) is the final epoch
    /// count when no fold has a best epoch (no validation loss recorded).
    pub fn new(folds: Vec<FoldResult>, max_epochs: usize) -> CvSummary {
        let mut names: Vec<&String> = folds.iter().flat_map(|f| f.metrics.keys()).collect();
        names.sort();
        names.dedup();
        let (mut mean, mut std) = (BTreeMap::new(), BTreeMap::new());
        for name in names {
            let xs: Vec<f64> = folds
                .iter()
                .filter_map(|f| f.metrics.get(name).copied())
                .collect();
            let (m, s) = mean_std(&xs);
            mean.insert(name.clone(), m);
            std.insert(name.clone(), s);
        }
        let best: Vec<f64> = folds
            .iter()
            .filter_map(|f| f.metrics.get("best_epoch").copied())
            .collect();
        let final_epochs = final_epochs(&best).unwrap_or(max_epochs).max(1);
        CvSummary {
            folds,
            mean,
            std,
            final_epochs,
            final_epochs_rule: FINAL_EPOCHS_RULE.to_string(),
            decision: None,
        }
    }

    /// The folds' metric names in display order: the history's
    /// ([`HISTORY_METRICS`]) first, then the scored ones (`val_cohen_kappa`,
    /// ...) by name.
    pub fn metric_names(&self) -> Vec<String> {
        let mut names: Vec<String> = HISTORY_METRICS
            .iter()
            .filter(|n| self.mean.contains_key(**n))
            .map(|n| n.to_string())
            .collect();
        names.extend(
            self.mean
                .keys()
                .filter(|n| !HISTORY_METRICS.contains(&n.as_str()))
                .cloned(),
        );
        names
    }

    /// The cross-validation metrics this summary has, for a run record's
    /// validation metrics: [`CV_METRICS`], and for every metric scored on
    /// the folds (`val_cohen_kappa`) its mean `cv_val_cohen_kappa` and
    /// standard deviation `cv_val_cohen_kappa_std`.
    pub fn record_metrics(&self) -> BTreeMap<String, Value> {
        let mut out = BTreeMap::new();
        if let Some(x) = self.mean.get("best_val_loss") {
            out.insert("cv_best_val_loss".to_string(), Value::from(*x));
        }
        for (metric, x) in &self.mean {
            if !metric.starts_with("val_") {
                continue;
            }
            out.insert(format!("cv_{metric}"), Value::from(*x));
            if let Some(s) = self.std.get(metric) {
                out.insert(format!("cv_{metric}_std"), Value::from(*s));
            }
        }
        out.insert("cv_final_epochs".into(), Value::from(self.final_epochs));
        out
    }

    /// The `--json` object: `folds` (each fold's metrics), `mean`, `std`,
    /// `final_epochs`, `final_epochs_rule` and, with `task.decision`, the
    /// fitted `decision`.
    pub fn to_json(&self) -> Value {
        let mut v = serde_json::json!({
            "folds": self.folds.iter().map(|f| &f.metrics).collect::<Vec<_>>(),
            "mean": self.mean,
            "std": self.std,
            "final_epochs": self.final_epochs,
            "final_epochs_rule": self.final_epochs_rule,
        });
        if let Some(d) = &self.decision {
            v["decision"] = serde_json::to_value(d).unwrap_or(Value::Null);
        }
        v
    }
}

/// The mean and population standard deviation of `xs` (0 and 0 when empty).
pub fn mean_std(xs: &[f64]) -> (f64, f64) {
    if xs.is_empty() {
        return (0.0, 0.0);
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// The final model's epoch count from the folds' best epochs
/// ([`FINAL_EPOCHS_RULE`]); `None` when there are none.
pub fn final_epochs(best_epochs: &[f64]) -> Option<usize> {
    if best_epochs.is_empty() {
        return None;
    }
    let (mean, _) = mean_std(best_epochs);
    Some(mean.round() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fold(losses: &[f64]) -> FoldResult {
        FoldResult::from_history(
            losses
                .iter()
                .map(|l| json!({"val_loss": l, "val_accuracy": 1.0 - l}))
                .collect(),
        )
    }

    #[test]
    fn mean_std_and_final_epochs_follow_the_folds() {
        // Best epochs 2, 3, 3 → mean 2.67 → 3 epochs.
        let cv = CvSummary::new(
            vec![
                fold(&[0.6, 0.4, 0.5]),
                fold(&[0.6, 0.5, 0.3]),
                fold(&[0.9, 0.8, 0.2]),
            ],
            10,
        );
        assert_eq!(cv.final_epochs, 3);
        let finals = [0.5, 0.3, 0.2];
        let m = finals.iter().sum::<f64>() / 3.0;
        let s = (finals.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / 3.0).sqrt();
        assert!((cv.mean["val_loss"] - m).abs() < 1e-12);
        assert!((cv.std["val_loss"] - s).abs() < 1e-12);
        let r = cv.record_metrics();
        assert_eq!(r["cv_val_loss"], json!(cv.mean["val_loss"]));
        assert_eq!(r["cv_best_val_loss"], json!(cv.mean["best_val_loss"]));
        assert_eq!(r["cv_val_loss_std"], json!(s));
        assert_eq!(r["cv_final_epochs"], json!(3));
    }

    #[test]
    fn without_validation_losses_the_final_model_keeps_train_epochs() {
        let cv = CvSummary::new(
            vec![FoldResult::from_history(vec![json!({"loss": 0.2})])],
            7,
        );
        assert_eq!(cv.final_epochs, 7);
        assert_eq!(final_epochs(&[1.0, 2.0]), Some(2));
        assert_eq!(mean_std(&[]), (0.0, 0.0));
    }
}
