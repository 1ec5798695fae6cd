//! Accuracy, per-class precision / recall / F1 / support and their averages
//! (scikit-learn `accuracy_score` and `precision_recall_fscore_support`).

use serde::Serialize;

use super::confusion::total;
use super::error::MetricsError;

/// Precision, recall, F1 and support of one class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClassScores {
    /// `tp / (tp + fp)`; 0.0 when the class is never predicted.
    pub precision: f64,
    /// `tp / (tp + fn)`; 0.0 when the class never occurs.
    pub recall: f64,
    /// `2 tp / (2 tp + fp + fn)`; 0.0 when that denominator is 0.
    pub f1: f64,
    /// Number of examples whose true class is this one.
    pub support: u64,
}

/// Precision, recall and F1 averaged over classes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AveragedScores {
    /// Averaged precision.
    pub precision: f64,
    /// Averaged recall.
    pub recall: f64,
    /// Averaged F1 (the average of per-class F1, as sklearn does, not the F1
    /// of the averaged precision and recall).
    pub f1: f64,
}

/// `num / den`, or 0.0 when `den` is 0: sklearn's `zero_division="warn"`
/// default, which warns and returns 0.
fn ratio(num: f64, den: f64) -> f64 {
    if den == 0.0 {
        0.0
    } else {
        num / den
    }
}

/// Fraction of examples whose prediction equals the truth
/// (sklearn `accuracy_score`). `None` for empty input, where sklearn gives NaN.
pub fn accuracy(y_true: &[usize], y_pred: &[usize]) -> Result<Option<f64>, MetricsError> {
    if y_true.len() != y_pred.len() {
        return Err(MetricsError::LengthMismatch {
            left: "y_true",
            left_len: y_true.len(),
            right: "y_pred",
            right_len: y_pred.len(),
        });
    }
    if y_true.is_empty() {
        return Ok(None);
    }
    let correct = y_true.iter().zip(y_pred).filter(|(t, p)| t == p).count();
    Ok(Some(correct as f64 / y_true.len() as f64))
}

/// Accuracy from a confusion matrix: trace over total; `None` when empty.
pub fn accuracy_from_confusion(cm: &[Vec<u64>]) -> Option<f64> {
    let n = total(cm);
    if n == 0 {
        return None;
    }
    let diag: u64 = cm.iter().enumerate().map(|(i, row)| row[i]).sum();
    Some(diag as f64 / n as f64)
}

/// Per-class scores from a confusion matrix (rows true, columns predicted),
/// one entry per class in matrix order.
///
/// Matches `precision_recall_fscore_support(y_true, y_pred,
/// labels=range(n_classes), average=None)` with the default zero_division
/// (undefined ratios become 0.0).
pub fn per_class_scores(cm: &[Vec<u64>]) -> Vec<ClassScores> {
    let n = cm.len();
    (0..n)
        .map(|c| {
            let tp = cm[c][c] as f64;
            let support: u64 = cm[c].iter().sum();
            let predicted: u64 = cm.iter().map(|row| row[c]).sum();
            let fp = predicted as f64 - tp;
            let fn_ = support as f64 - tp;
            ClassScores {
                precision: ratio(tp, predicted as f64),
                recall: ratio(tp, support as f64),
                // sklearn >= 1.3 computes F from counts, so an undefined
                // precision or recall does not leak into F.
                f1: ratio(2.0 * tp, 2.0 * tp + fp + fn_),
                support,
            }
        })
        .collect()
}

/// Unweighted mean over all classes (sklearn `average='macro'` with
/// `labels=range(n_classes)`, so classes absent from both truth and
/// predictions count as 0.0). All zeros when there are no classes.
pub fn macro_average(per_class: &[ClassScores]) -> AveragedScores {
    let k = per_class.len() as f64;
    let mean = |f: fn(&ClassScores) -> f64| ratio(per_class.iter().map(f).sum(), k);
    AveragedScores {
        precision: mean(|s| s.precision),
        recall: mean(|s| s.recall),
        f1: mean(|s| s.f1),
    }
}

/// Support-weighted mean (sklearn `average='weighted'`); all zeros when the
/// total support is 0, as sklearn returns the zero_division value then.
pub fn weighted_average(per_class: &[ClassScores]) -> AveragedScores {
    let w: f64 = per_class.iter().map(|s| s.support as f64).sum();
    let mean = |f: fn(&ClassScores) -> f64| {
        ratio(per_class.iter().map(|s| f(s) * s.support as f64).sum(), w)
    };
    AveragedScores {
        precision: mean(|s| s.precision),
        recall: mean(|s| s.recall),
        f1: mean(|s| s.f1),
    }
}

/// Global counts (sklearn `average='micro'`). For single-label data over all
/// classes every score equals the accuracy; 0.0 when empty.
pub fn micro_average(cm: &[Vec<u64>]) -> AveragedScores {
    let a = accuracy_from_confusion(cm).unwrap_or(0.0);
    AveragedScores {
        precision: a,
        recall: a,
        f1: a,
    }
}

#[cfg(test)]
mod tests {
    use super::super::confusion::confusion_matrix;
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn sklearn_prfs_doc_example() {
        // sklearn precision_recall_fscore_support docs, with cat=0 dog=1 pig=2:
        // y_true = [cat,dog,pig,cat,dog,pig], y_pred = [cat,pig,dog,cat,cat,dog]
        // cat: tp=2, predicted 3, support 2 -> P=2/3, R=1, F1=4/(4+1+0)=0.8
        // dog: tp=0 -> 0,0,0 ; pig: tp=0 -> 0,0,0
        // macro (0.2222, 0.3333, 0.2667); micro (0.3333 x3); weighted = macro
        // (all supports are 2).
        let cm = confusion_matrix(&[0, 1, 2, 0, 1, 2], &[0, 2, 1, 0, 0, 1], 3).unwrap();
        let pc = per_class_scores(&cm);
        assert!(close(pc[0].precision, 2.0 / 3.0));
        assert!(close(pc[0].recall, 1.0));
        assert!(close(pc[0].f1, 0.8));
        assert_eq!(pc.iter().map(|s| s.support).collect::<Vec<_>>(), [2, 2, 2]);
        let m = macro_average(&pc);
        assert!(close(m.precision, 2.0 / 9.0)); // 0.2222...
        assert!(close(m.recall, 1.0 / 3.0));
        assert!(close(m.f1, 0.8 / 3.0)); // 0.2666...
        let mi = micro_average(&cm);
        assert!(close(mi.precision, 1.0 / 3.0) && close(mi.recall, 1.0 / 3.0));
        assert!(close(mi.f1, 1.0 / 3.0));
        let w = weighted_average(&pc);
        assert!(close(w.precision, 2.0 / 9.0));
        assert!(close(w.recall, 1.0 / 3.0));
        assert!(close(w.f1, 0.8 / 3.0));
    }

    #[test]
    fn weighted_differs_from_macro_with_unequal_support() {
        // y_true=[0,0,0,1], y_pred=[0,0,1,1]
        // class0: tp=2, pred=2, sup=3 -> P=1, R=2/3, F1=4/(4+0+1)=0.8
        // class1: tp=1, pred=2, sup=1 -> P=0.5, R=1, F1=2/(2+1+0)=2/3
        // weighted P = (3*1 + 1*0.5)/4 = 0.875; R = (3*2/3 + 1)/4 = 0.75
        // weighted F1 = (3*0.8 + 2/3)/4 = 0.7666...; macro P = 0.75
        let cm = confusion_matrix(&[0, 0, 0, 1], &[0, 0, 1, 1], 2).unwrap();
        let pc = per_class_scores(&cm);
        let w = weighted_average(&pc);
        assert!(close(w.precision, 0.875));
        assert!(close(w.recall, 0.75));
        assert!(close(w.f1, (2.4 + 2.0 / 3.0) / 4.0));
        assert!(close(macro_average(&pc).precision, 0.75));
    }

    #[test]
    fn zero_division_gives_zero_not_nan() {
        // Class 1 is never predicted and class 2 never occurs at all.
        let cm = confusion_matrix(&[0, 1, 0, 1], &[0, 0, 0, 0], 3).unwrap();
        let pc = per_class_scores(&cm);
        assert_eq!(pc[1].precision, 0.0);
        assert_eq!(pc[1].recall, 0.0);
        assert_eq!(pc[1].f1, 0.0);
        assert_eq!(
            pc[2],
            ClassScores {
                precision: 0.0,
                recall: 0.0,
                f1: 0.0,
                support: 0
            }
        );
        // class0: P = 2/4, R = 1, F1 = 4/(4+2) -> macro P = 0.5/3
        assert!(close(macro_average(&pc).precision, 0.5 / 3.0));
        assert!(close(pc[0].f1, 4.0 / 6.0));
    }

    #[test]
    fn empty_input() {
        assert_eq!(accuracy(&[], &[]).unwrap(), None);
        let cm = confusion_matrix(&[], &[], 2).unwrap();
        assert_eq!(accuracy_from_confusion(&cm), None);
        let pc = per_class_scores(&cm);
        let zero = AveragedScores {
            precision: 0.0,
            recall: 0.0,
            f1: 0.0,
        };
        assert_eq!(weighted_average(&pc), zero);
        assert_eq!(macro_average(&pc), zero);
        assert_eq!(micro_average(&cm), zero);
    }

    #[test]
    fn accuracy_counts_matches() {
        // 3 of 4 equal -> 0.75
        assert_eq!(accuracy(&[0, 1, 2, 1], &[0, 1, 2, 2]).unwrap(), Some(0.75));
        assert!(accuracy(&[0], &[0, 1]).is_err());
    }
}
