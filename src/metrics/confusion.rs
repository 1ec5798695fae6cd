//! Confusion matrix (scikit-learn `confusion_matrix`).

use super::error::MetricsError;

/// Checks that `y_true` and `y_pred` pair up and every label is below `n_classes`.
pub(crate) fn check_labels(
    y_true: &[usize],
    y_pred: &[usize],
    n_classes: usize,
) -> Result<(), MetricsError> {
    if y_true.len() != y_pred.len() {
        return Err(MetricsError::LengthMismatch {
            left: "y_true",
            left_len: y_true.len(),
            right: "y_pred",
            right_len: y_pred.len(),
        });
    }
    for (field, ys) in [("y_true", y_true), ("y_pred", y_pred)] {
        if let Some((index, &label)) = ys.iter().enumerate().find(|(_, &y)| y >= n_classes) {
            return Err(MetricsError::LabelOutOfRange {
                field,
                index,
                label,
                n_classes,
            });
        }
    }
    Ok(())
}

/// Counts of (true class, predicted class) pairs: `cm[i][j]` is the number of
/// examples of class `i` predicted as class `j`.
///
/// Matches `sklearn.metrics.confusion_matrix(y_true, y_pred,
/// labels=range(n_classes))`: rows are true classes, columns predicted ones,
/// and every class gets a row and a column even when it never occurs.
pub fn confusion_matrix(
    y_true: &[usize],
    y_pred: &[usize],
    n_classes: usize,
) -> Result<Vec<Vec<u64>>, MetricsError> {
    check_labels(y_true, y_pred, n_classes)?;
    let mut cm = vec![vec![0u64; n_classes]; n_classes];
    for (&t, &p) in y_true.iter().zip(y_pred) {
        cm[t][p] += 1;
    }
    Ok(cm)
}

/// Total number of examples counted in a confusion matrix.
pub(crate) fn total(cm: &[Vec<u64>]) -> u64 {
    cm.iter().flatten().sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sklearn_doc_example() {
        // sklearn confusion_matrix docs: y_true=[2,0,2,2,0,1], y_pred=[0,0,2,2,0,2]
        // -> [[2,0,0],[0,0,1],[1,0,2]]
        let cm = confusion_matrix(&[2, 0, 2, 2, 0, 1], &[0, 0, 2, 2, 0, 2], 3).unwrap();
        assert_eq!(cm, vec![vec![2, 0, 0], vec![0, 0, 1], vec![1, 0, 2]]);
    }

    #[test]
    fn absent_classes_get_zero_rows_and_columns() {
        let cm = confusion_matrix(&[0, 0], &[0, 0], 3).unwrap();
        assert_eq!(cm, vec![vec![2, 0, 0], vec![0, 0, 0], vec![0, 0, 0]]);
        assert_eq!(total(&cm), 2);
    }

    #[test]
    fn empty_input_gives_zero_matrix() {
        let cm = confusion_matrix(&[], &[], 2).unwrap();
        assert_eq!(cm, vec![vec![0, 0], vec![0, 0]]);
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(matches!(
            confusion_matrix(&[0, 1], &[0], 2),
            Err(MetricsError::LengthMismatch { .. })
        ));
        let err = confusion_matrix(&[0, 1], &[0, 2], 2).unwrap_err();
        assert_eq!(
            err,
            MetricsError::LabelOutOfRange {
                field: "y_pred",
                index: 1,
                label: 2,
                n_classes: 2
            }
        );
    }
}
