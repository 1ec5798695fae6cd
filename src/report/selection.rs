//! Validation metrics of a run (from its per-epoch history) and choosing one
//! run of several by such a metric (`select: {metric: ...}`), so models are
//! chosen on validation data and never on the test split.

use serde_json::Value;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// The validation metrics a run record keeps and `select:` may name: the
/// final epoch's `val_loss` and `val_accuracy`, the lowest `val_loss` over
/// the epochs (`best_val_loss`) and its 1-based epoch (`best_epoch`); with
/// cross-validation also [`crate::spec::CV_METRICS`] (all:
/// [`SELECTION_METRICS`]).
pub use crate::spec::{is_selection_metric, SELECTION_METRICS, VALIDATION_METRICS};

/// Error metrics scored on the folds for which smaller is better, besides
/// the losses (`cv_val_mae`).
const ERRORS: &[&str] = &["mae", "mse", "rmse"];

/// Whether smaller values of validation metric `name` are better (losses,
/// errors such as `cv_val_mae`, and the folds' standard deviations); the
/// others (accuracy, kappa, F1, R², ...) are better higher.
pub fn lower_is_better(name: &str) -> bool {
    name.contains("loss")
        || name.ends_with("_std")
        || crate::spec::cv_scored_metric(name).is_some_and(|m| ERRORS.contains(&m))
}

/// [`VALIDATION_METRICS`] from per-epoch records (`val_loss`, `val_accuracy`,
/// optional `epoch`); empty when the run had no validation data.
pub fn validation_metrics(history: &[Value]) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let number = |e: &Value, k: &str| e.get(k).and_then(Value::as_f64).filter(|x| x.is_finite());
    if let Some(last) = history.last() {
        for k in ["val_loss", "val_accuracy"] {
            if let Some(x) = number(last, k) {
                out.insert(k.to_string(), Value::from(x));
            }
        }
    }
    // The first epoch with the lowest loss, as early stopping restores it.
    let mut best: Option<(f64, f64)> = None;
    for (i, e) in history.iter().enumerate() {
        if let Some(loss) = number(e, "val_loss") {
            if best.is_none_or(|(b, _)| loss < b) {
                let epoch = number(e, "epoch").unwrap_or((i + 1) as f64);
                best = Some((loss, epoch));
            }
        }
    }
    if let Some((loss, epoch)) = best {
        out.insert("best_val_loss".into(), Value::from(loss));
        out.insert("best_epoch".into(), Value::from(epoch as u64));
    }
    out
}

/// The index of the best of `values` by `metric` (lowest for losses, highest
/// otherwise); ties go to the earliest, runs without the value never win.
/// `None` when no run has it.
pub fn select_best(values: &[Option<f64>], metric: &str) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, v) in values.iter().enumerate() {
        let Some(x) = v.filter(|x| x.is_finite()) else {
            continue;
        };
        let better = match best {
            None => true,
            Some((_, b)) => {
                let o = x.partial_cmp(&b).unwrap_or(Ordering::Equal);
                if lower_is_better(metric) {
                    o == Ordering::Less
                } else {
                    o == Ordering::Greater
                }
            }
        };
        if better {
            best = Some((i, x));
        }
    }
    best.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn final_and_best_epoch_from_history() {
        let h = vec![
            json!({"val_loss": 0.6, "val_accuracy": 0.7}),
            json!({"val_loss": 0.4, "val_accuracy": 0.8}),
            json!({"val_loss": 0.5, "val_accuracy": 0.82}),
        ];
        let m = validation_metrics(&h);
        assert_eq!(m["val_loss"], json!(0.5));
        assert_eq!(m["val_accuracy"], json!(0.82));
        assert_eq!(m["best_val_loss"], json!(0.4));
        assert_eq!(m["best_epoch"], json!(2));
        assert!(validation_metrics(&[json!({"loss": 0.3})]).is_empty());
    }

    #[test]
    fn losses_pick_the_lowest_others_the_highest_ties_the_first() {
        let v = [Some(0.5), None, Some(0.3), Some(0.3), Some(0.9)];
        assert_eq!(select_best(&v, "val_loss"), Some(2));
        assert_eq!(select_best(&v, "val_accuracy"), Some(4));
        assert_eq!(select_best(&[None, None], "val_loss"), None);
        assert_eq!(select_best(&v, "cv_val_cohen_kappa"), Some(4));
        assert_eq!(select_best(&v, "cv_val_log_loss"), Some(2));
        assert_eq!(select_best(&v, "cv_val_mae"), Some(2));
        assert_eq!(select_best(&v, "cv_val_cohen_kappa_std"), Some(2));
        assert_eq!(select_best(&v, "cv_val_r2"), Some(4));
        assert_eq!(
            select_best(&[Some(0.7), Some(0.7)], "val_accuracy"),
            Some(0)
        );
    }
}
