//! Training hints from a run's per-epoch history: things a student should
//! look at before trusting (or tuning on) the numbers.

use serde_json::Value;

/// The hint for a validation loss still falling at the last epoch.
pub const UNDER_TRAINED: &str =
    "validation loss was still falling at the last epoch: the model may be under-trained: more epochs or a higher learning rate";

/// Hints for a run with this history (`val_loss` per epoch). Under-training:
/// the last epoch has the lowest validation loss and improved on the epoch
/// before by more than 0.1% (so a flat curve does not count).
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
    hints
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
}
