//! Training hints from a run's per-epoch history: things a student should
//! look at before trusting (or tuning on) the numbers.

use serde_json::Value;

/// The hint for a validation loss still falling at the last epoch.
pub const UNDER_TRAINED: &str =
    "validation loss was still falling at the last epoch: the model may be under-trained: more epochs or a higher learning rate";

/// How far training accuracy may exceed validation accuracy at the last
/// epoch before the gap is a hint.
pub const GAP_ACCURACY: f64 = 0.1;

/// How much validation loss may rise above its lowest (relative) while the
/// training loss falls before it is a hint.
pub const GAP_LOSS_RISE: f64 = 0.05;

/// Hints for a run with this history (`loss`, `accuracy`, `val_loss`,
/// `val_accuracy` per epoch).
///
/// - Under-training: the last epoch has the lowest validation loss and
///   improved on the epoch before by more than 0.1% (so a flat curve does
///   not count).
/// - A large train/validation gap: at the last epoch training accuracy
///   exceeds validation accuracy by more than [`GAP_ACCURACY`], or the
///   validation loss ended more than [`GAP_LOSS_RISE`] above its lowest
///   while the training loss kept falling after that epoch (overfitting).
pub fn training_hints(history: &[Value]) -> Vec<String> {
    let losses: Vec<f64> = history
        .iter()
        .filter_map(|e| e.get("val_loss").and_then(Value::as_f64))
        .filter(|x| x.is_finite())
        .collect();
    let mut hints = Vec::new();
    if let [.., before, last] = losses[..] {
        let lowest = losses.iter().all(|&x| last <= x);
        if lowest && last < before * (1.0 - 1e-3) {
            hints.push(UNDER_TRAINED.to_string());
        }
    }
    hints.extend(gap_hint(history));
    hints
}

/// The train/validation gap hint, if any (see [`training_hints`]).
fn gap_hint(history: &[Value]) -> Option<String> {
    let number = |e: &Value, k: &str| e.get(k).and_then(Value::as_f64).filter(|x| x.is_finite());
    let last = history.last()?;
    if let (Some(acc), Some(val)) = (number(last, "accuracy"), number(last, "val_accuracy")) {
        if acc - val > GAP_ACCURACY {
            return Some(format!(
                "large train/validation gap: training accuracy {acc:.3} vs validation accuracy {val:.3} at the last epoch: the model may be overfitting: fewer epochs (early stopping), more dropout or regularization, or a smaller model"
            ));
        }
    }
    let (best_i, best) = history
        .iter()
        .enumerate()
        .filter_map(|(i, e)| Some((i, number(e, "val_loss")?)))
        .min_by(|a, b| a.1.total_cmp(&b.1))?;
    let end = number(last, "val_loss")?;
    let train_then = number(&history[best_i], "loss")?;
    let train_end = number(last, "loss")?;
    if end > best * (1.0 + GAP_LOSS_RISE) && train_end < train_then {
        return Some(format!(
            "validation loss rose from {best:.4} (epoch {}) to {end:.4} while the training loss kept falling ({train_then:.4} to {train_end:.4}): the model is overfitting; fewer epochs (early stopping with restore_best_weights), more dropout or regularization",
            best_i + 1
        ));
    }
    None
}

/// The hint saying what early stopping did: the epoch it stopped at and,
/// when the best epoch's weights were restored, which.
pub fn early_stopping_hint(stopped: u32, max_epochs: u32, best: u32, restored: bool) -> String {
    let mut s = if stopped < max_epochs {
        format!(
            "early stopping ended training at epoch {stopped} of {max_epochs} (best epoch {best})"
        )
    } else {
        format!("early stopping ran all {max_epochs} epochs (best epoch {best})")
    };
    if restored {
        s.push_str(&format!(
            "; epoch {best}'s weights were restored for the test metrics"
        ));
    } else {
        s.push_str("; the last epoch's weights were used for the test metrics");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn h(losses: &[f64]) -> Vec<Value> {
        losses.iter().map(|l| json!({"val_loss": l})).collect()
    }

    #[test]
    fn still_falling_at_the_end_is_a_hint_flat_or_rising_is_not() {
        assert_eq!(training_hints(&h(&[0.7, 0.6, 0.5])), [UNDER_TRAINED]);
        assert!(training_hints(&h(&[0.7, 0.5, 0.6])).is_empty());
        assert!(training_hints(&h(&[0.5, 0.5, 0.49999])).is_empty());
        assert!(training_hints(&h(&[0.5])).is_empty());
        assert!(training_hints(&[json!({"loss": 0.3}), json!({"loss": 0.2})]).is_empty());
    }

    #[test]
    fn a_large_gap_or_a_rising_validation_loss_is_a_hint() {
        let acc = |a: f64, v: f64| {
            vec![json!({"loss": 0.5, "accuracy": a, "val_loss": 0.6, "val_accuracy": v})]
        };
        let hints = training_hints(&acc(0.95, 0.80));
        assert_eq!(hints.len(), 1);
        assert!(hints[0].contains("large train/validation gap"), "{hints:?}");
        assert!(training_hints(&acc(0.85, 0.80)).is_empty());
        let rising = |v: [f64; 3], t: [f64; 3]| -> Vec<Value> {
            (0..3)
                .map(|i| json!({"loss": t[i], "val_loss": v[i]}))
                .collect()
        };
        let hints = training_hints(&rising([0.5, 0.4, 0.5], [0.6, 0.4, 0.2]));
        assert!(hints[0].contains("rose from 0.4000 (epoch 2)"), "{hints:?}");
        // Within 5% of the lowest, or the training loss not falling: no hint.
        assert!(training_hints(&rising([0.5, 0.4, 0.41], [0.6, 0.4, 0.2])).is_empty());
        assert!(training_hints(&rising([0.5, 0.4, 0.5], [0.6, 0.4, 0.45])).is_empty());
    }

    #[test]
    fn early_stopping_hint_names_the_stop_and_restored_epochs() {
        let h = early_stopping_hint(7, 30, 4, true);
        assert!(h.contains("epoch 7 of 30") && h.contains("epoch 4's weights were restored"));
        assert!(early_stopping_hint(30, 30, 30, false).contains("ran all 30 epochs"));
    }
}
