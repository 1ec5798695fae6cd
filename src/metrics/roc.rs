//! Area under the ROC curve (scikit-learn `roc_auc_score`).

use super::error::MetricsError;

/// Binary ROC AUC of `scores` for the labels `positive` (true = positive class).
///
/// Computed as the Mann–Whitney U statistic with average ranks for tied
/// scores, which equals sklearn's trapezoidal area under `roc_curve`
/// (a tied positive/negative pair counts one half).
///
/// `None` when only one class is present (sklearn warns and returns NaN) or
/// the input is empty. Scores must be finite.
pub fn roc_auc_binary(positive: &[bool], scores: &[f64]) -> Result<Option<f64>, MetricsError> {
    if positive.len() != scores.len() {
        return Err(MetricsError::LengthMismatch {
            left: "y_true",
            left_len: positive.len(),
            right: "scores",
            right_len: scores.len(),
        });
    }
    if let Some((i, &s)) = scores.iter().enumerate().find(|(_, s)| !s.is_finite()) {
        return Err(MetricsError::NonFinite {
            field: format!("scores[{i}]"),
            value: s,
        });
    }
    let n_pos = positive.iter().filter(|&&p| p).count();
    let n_neg = positive.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return Ok(None);
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Sum of the (1-based, tie-averaged) ranks of the positives.
    let mut rank_sum_pos = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        // Ranks start+1 ..= end share their mean.
        let avg_rank = (start + 1 + end) as f64 / 2.0;
        let pos_in_group = order[start..end].iter().filter(|&&i| positive[i]).count();
        rank_sum_pos += avg_rank * pos_in_group as f64;
        start = end;
    }
    let (p, q) = (n_pos as f64, n_neg as f64);
    let u = rank_sum_pos - p * (p + 1.0) / 2.0;
    Ok(Some(u / (p * q)))
}

/// One-vs-rest macro ROC AUC over `n_classes` columns of `probs`
/// (sklearn `roc_auc_score(y_true, probs, multi_class='ovr', average='macro',
/// labels=range(n_classes))`): the mean of the binary AUC of column `c`
/// for "class c vs the rest".
///
/// `None` when any class is absent from (or is all of) `y_true`: that class's
/// AUC is undefined (NaN in sklearn), so the mean is too. Unlike sklearn it
/// does not require rows to sum to 1, since each column's AUC only uses the
/// order of that column.
pub fn roc_auc_ovr_macro(
    y_true: &[usize],
    probs: &[Vec<f64>],
    n_classes: usize,
) -> Result<Option<f64>, MetricsError> {
    if n_classes == 0 {
        return Ok(None);
    }
    if let Some((row, r)) = probs.iter().enumerate().find(|(_, r)| r.len() != n_classes) {
        return Err(MetricsError::ProbsWidth {
            row,
            found: r.len(),
            expected: n_classes,
        });
    }
    let mut sum = 0.0;
    for c in 0..n_classes {
        let positive: Vec<bool> = y_true.iter().map(|&y| y == c).collect();
        let scores: Vec<f64> = probs.iter().map(|row| row[c]).collect();
        match roc_auc_binary(&positive, &scores)? {
            Some(a) => sum += a,
            None => return Ok(None),
        }
    }
    Ok(Some(sum / n_classes as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-12)
    }

    #[test]
    fn sklearn_doc_example() {
        // sklearn roc_auc_score docs: y=[0,0,1,1], scores=[0.1,0.4,0.35,0.8] -> 0.75
        // (pairs pos>neg: 0.35>0.1, 0.8>0.1, 0.8>0.4 = 3 of 4)
        let a = roc_auc_binary(&[false, false, true, true], &[0.1, 0.4, 0.35, 0.8]).unwrap();
        assert!(close(a, 0.75));
    }

    #[test]
    fn ties_count_one_half() {
        // y=[0,0,1,1], scores=[0.1,0.5,0.5,0.9]. Pairs (pos,neg):
        // 0.5 vs 0.1 -> 1, 0.5 vs 0.5 -> 0.5, 0.9 vs both -> 2; 3.5/4 = 0.875
        let a = roc_auc_binary(&[false, false, true, true], &[0.1, 0.5, 0.5, 0.9]).unwrap();
        assert!(close(a, 0.875));
        // All scores equal: every pair a tie -> 0.5
        let a = roc_auc_binary(&[true, false, true, false, false], &[0.3; 5]).unwrap();
        assert!(close(a, 0.5));
    }

    #[test]
    fn perfect_and_reversed() {
        assert!(close(
            roc_auc_binary(&[false, true], &[0.2, 0.7]).unwrap(),
            1.0
        ));
        assert!(close(
            roc_auc_binary(&[false, true], &[0.7, 0.2]).unwrap(),
            0.0
        ));
    }

    #[test]
    fn one_class_is_none() {
        assert_eq!(roc_auc_binary(&[true, true], &[0.1, 0.9]).unwrap(), None);
        assert_eq!(roc_auc_binary(&[], &[]).unwrap(), None);
    }

    #[test]
    fn non_finite_score_is_error() {
        assert!(roc_auc_binary(&[true, false], &[f64::NAN, 0.1]).is_err());
    }

    #[test]
    fn ovr_macro_by_hand() {
        // rows (true class: probs):
        // 0:[.7,.2,.1] 1:[.2,.5,.3] 2:[.2,.3,.5] 0:[.3,.4,.3] 1:[.5,.3,.2] 2:[.1,.6,.3]
        // class 0: pos .7,.3 vs neg .2,.2,.5,.1 -> 4 + 3 = 7/8
        // class 1: pos .5,.3 vs neg .2,.3,.4,.6 -> 3 + (1 + .5) = 4.5/8
        // class 2: pos .5,.3 vs neg .1,.3,.3,.2 -> 4 + (1+.5+.5+1) = 7/8
        // macro = (0.875 + 0.5625 + 0.875)/3
        let y = [0, 1, 2, 0, 1, 2];
        let p = vec![
            vec![0.7, 0.2, 0.1],
            vec![0.2, 0.5, 0.3],
            vec![0.2, 0.3, 0.5],
            vec![0.3, 0.4, 0.3],
            vec![0.5, 0.3, 0.2],
            vec![0.1, 0.6, 0.3],
        ];
        let a = roc_auc_ovr_macro(&y, &p, 3).unwrap();
        assert!(close(a, (0.875 + 0.5625 + 0.875) / 3.0));
    }

    #[test]
    fn ovr_with_absent_class_is_none() {
        let p = vec![vec![0.6, 0.3, 0.1], vec![0.2, 0.7, 0.1]];
        assert_eq!(roc_auc_ovr_macro(&[0, 1], &p, 3).unwrap(), None);
        // a short row is an error, not a panic
        assert!(roc_auc_ovr_macro(&[0, 1], &[vec![0.5, 0.5], vec![0.5]], 2).is_err());
    }
}
