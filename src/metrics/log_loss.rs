//! Cross-entropy of predicted class probabilities (scikit-learn `log_loss`).

use super::error::MetricsError;

/// Probabilities are clipped into `[EPS, 1 - EPS]` before the logarithm, so a
/// confident wrong prediction costs at most `-ln(1e-15)` ≈ 34.54.
pub const LOG_LOSS_EPS: f64 = 1e-15;

/// Mean negative log probability of the true class (sklearn `log_loss(y_true,
/// probs, labels=range(n_classes))`).
///
/// Each probability of the true class is clipped into
/// `[1e-15, 1 - 1e-15]` (the fixed `eps=1e-15` of sklearn before 1.2);
/// rows are NOT renormalised afterwards (sklearn >= 1.5 only warns when rows
/// do not sum to 1). `None` for empty input. Every row must have one column
/// per class and finite entries.
pub fn log_loss(y_true: &[usize], probs: &[Vec<f64>]) -> Result<Option<f64>, MetricsError> {
    if y_true.len() != probs.len() {
        return Err(MetricsError::LengthMismatch {
            left: "y_true",
            left_len: y_true.len(),
            right: "probs",
            right_len: probs.len(),
        });
    }
    if y_true.is_empty() {
        return Ok(None);
    }
    let mut sum = 0.0;
    for (row, (&y, p)) in y_true.iter().zip(probs).enumerate() {
        let Some(&py) = p.get(y) else {
            return Err(MetricsError::LabelOutOfRange {
                field: "y_true",
                index: row,
                label: y,
                n_classes: p.len(),
            });
        };
        if !py.is_finite() {
            return Err(MetricsError::NonFinite {
                field: format!("probs[{row}][{y}]"),
                value: py,
            });
        }
        sum -= py.clamp(LOG_LOSS_EPS, 1.0 - LOG_LOSS_EPS).ln();
    }
    Ok(Some(sum / y_true.len() as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sklearn_doc_example() {
        // sklearn log_loss docs: log_loss(["spam","ham","ham","spam"],
        // [[.1,.9],[.9,.1],[.8,.2],[.35,.65]]) -> 0.21616...
        // ham=0, spam=1; true-class probs .9,.9,.8,.65;
        // -(ln .9 + ln .9 + ln .8 + ln .65)/4 = 0.2161619...
        let p = vec![
            vec![0.1, 0.9],
            vec![0.9, 0.1],
            vec![0.8, 0.2],
            vec![0.35, 0.65],
        ];
        let l = log_loss(&[1, 0, 0, 1], &p).unwrap().unwrap();
        let expected = -(0.9f64.ln() * 2.0 + 0.8f64.ln() + 0.65f64.ln()) / 4.0;
        assert!((l - expected).abs() < 1e-12);
        assert!((l - 0.216161).abs() < 1e-6);
    }

    #[test]
    fn zero_probability_is_clipped() {
        // One row, p(true) = 0 -> -ln(1e-15) = 15 ln 10 = 34.538776...
        let l = log_loss(&[0], &[vec![0.0, 1.0]]).unwrap().unwrap();
        assert!((l - 15.0 * 10f64.ln()).abs() < 1e-9);
        // p(true) = 1 -> -ln(1 - 1e-15) ~ 1e-15, not exactly 0
        let l = log_loss(&[1], &[vec![0.0, 1.0]]).unwrap().unwrap();
        assert!(l > 0.0 && l < 2e-15);
    }

    #[test]
    fn degenerate_inputs() {
        assert_eq!(log_loss(&[], &[]).unwrap(), None);
        assert!(log_loss(&[0], &[]).is_err());
        assert!(log_loss(&[2], &[vec![0.5, 0.5]]).is_err());
        assert!(log_loss(&[0], &[vec![f64::NAN, 0.5]]).is_err());
    }
}
