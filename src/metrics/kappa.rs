//! Cohen's kappa, unweighted and linear / quadratic weighted
//! (scikit-learn `cohen_kappa_score`).

use serde::Serialize;

use super::confusion::{confusion_matrix, total};
use super::error::MetricsError;

/// Disagreement weights between class `i` and class `j`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KappaWeights {
    /// `weights=None`: every disagreement costs 1.
    Unweighted,
    /// `weights='linear'`: cost `|i - j|`.
    Linear,
    /// `weights='quadratic'`: cost `(i - j)²`.
    Quadratic,
}

impl KappaWeights {
    fn weight(self, i: usize, j: usize) -> f64 {
        let d = i.abs_diff(j) as f64;
        match self {
            KappaWeights::Unweighted => {
                if i == j {
                    0.0
                } else {
                    1.0
                }
            }
            KappaWeights::Linear => d,
            KappaWeights::Quadratic => d * d,
        }
    }
}

/// Cohen's kappa from a confusion matrix (rows one rater, columns the other).
///
/// Same formula as sklearn: with `E = outer(col_sums, row_sums) / n`,
/// `kappa = 1 - sum(w * cm) / sum(w * E)`. Class distances for the weights are
/// the matrix indices, i.e. sklearn with `labels=range(n_classes)`.
///
/// `None` where sklearn returns NaN (its `replace_undefined_by` default): an
/// empty matrix, or expected disagreement 0 (e.g. both raters always say the
/// same single class).
pub fn cohen_kappa(cm: &[Vec<u64>], weights: KappaWeights) -> Option<f64> {
    let n = total(cm) as f64;
    if n == 0.0 {
        return None;
    }
    let k = cm.len();
    let row_sums: Vec<f64> = cm.iter().map(|r| r.iter().sum::<u64>() as f64).collect();
    let col_sums: Vec<f64> = (0..k)
        .map(|j| cm.iter().map(|r| r[j]).sum::<u64>() as f64)
        .collect();
    let mut observed = 0.0;
    let mut expected = 0.0;
    for i in 0..k {
        for j in 0..k {
            let w = weights.weight(i, j);
            observed += w * cm[i][j] as f64;
            // sklearn's E[i][j] = col_sums[i] * row_sums[j] / n; the weights
            // are symmetric so the orientation does not change the sum.
            expected += w * col_sums[i] * row_sums[j] / n;
        }
    }
    if expected == 0.0 {
        return None;
    }
    Some(1.0 - observed / expected)
}

/// Cohen's kappa of two label sequences over classes `0..n_classes`
/// (sklearn `cohen_kappa_score(y1, y2, labels=range(n_classes), weights=...)`).
pub fn cohen_kappa_score(
    y1: &[usize],
    y2: &[usize],
    n_classes: usize,
    weights: KappaWeights,
) -> Result<Option<f64>, MetricsError> {
    Ok(cohen_kappa(&confusion_matrix(y1, y2, n_classes)?, weights))
}

#[cfg(test)]
mod tests {
    use super::*;
    use KappaWeights::*;

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-12)
    }

    #[test]
    fn two_by_two_by_hand() {
        // cm = [[20,5],[10,15]], n=50. po = 35/50 = 0.7.
        // true sums 25,25; predicted sums 30,20; pe = (25*30+25*20)/2500 = 0.5
        // kappa = (0.7-0.5)/(1-0.5) = 0.4. With 2 classes every off-diagonal
        // weight is 1, so linear and quadratic give the same.
        let cm = vec![vec![20, 5], vec![10, 15]];
        for w in [Unweighted, Linear, Quadratic] {
            assert!(close(cohen_kappa(&cm, w), 0.4), "{w:?}");
        }
    }

    #[test]
    fn sklearn_doc_example() {
        // sklearn cohen_kappa_score docs: y1 = [neg,pos,neg,neu,pos],
        // y2 = [neg,pos,neg,neu,neg] -> 0.6875. Labels sorted: neg=0 neu=1 pos=2.
        // po = 4/5; y1 counts [2,1,2], y2 counts [3,1,1];
        // pe = (2*3+1*1+2*1)/25 = 0.36; (0.8-0.36)/0.64 = 0.6875
        let k = cohen_kappa_score(&[0, 2, 0, 1, 2], &[0, 2, 0, 1, 0], 3, Unweighted).unwrap();
        assert!(close(k, 0.6875));
    }

    #[test]
    fn three_by_three_weighted_by_hand() {
        // cm = [[3,1,0],[1,2,1],[1,0,1]], n=10; row sums r=[4,4,2], col sums c=[5,3,2]
        // E[i][j] = r_i c_j / 10 = [[2,1.2,0.8],[2,1.2,0.8],[1,0.6,0.4]]
        // unweighted: off-diag observed 4, expected 10-3.6 = 6.4 -> 1-4/6.4 = 0.375
        // linear: observed 1+1+1+2*1 = 5; expected 1.2+2*0.8+2+0.8+2*1+0.6 = 8.2
        //   -> 1 - 5/8.2 = 0.3902439...
        // quadratic: observed 1+1+1+4*1 = 7; expected 1.2+4*0.8+2+0.8+4*1+0.6 = 11.8
        //   -> 1 - 7/11.8 = 0.4067796...
        let y_true = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2];
        let y_pred = [0, 0, 0, 1, 0, 1, 1, 2, 0, 2];
        let cm = confusion_matrix(&y_true, &y_pred, 3).unwrap();
        assert_eq!(cm, vec![vec![3, 1, 0], vec![1, 2, 1], vec![1, 0, 1]]);
        assert!(close(cohen_kappa(&cm, Unweighted), 0.375));
        assert!(close(cohen_kappa(&cm, Linear), 1.0 - 5.0 / 8.2));
        assert!(close(cohen_kappa(&cm, Quadratic), 1.0 - 7.0 / 11.8));
        // kappa is symmetric in its two raters
        let swapped = confusion_matrix(&y_pred, &y_true, 3).unwrap();
        assert!(close(cohen_kappa(&swapped, Quadratic), 1.0 - 7.0 / 11.8));
    }

    #[test]
    fn all_predictions_one_class_gives_zero() {
        // cm = [[2,0],[2,0]]: po = 0.5, pe = (2*4+2*0)/16 = 0.5 -> kappa 0
        let k = cohen_kappa_score(&[0, 1, 0, 1], &[0, 0, 0, 0], 2, Unweighted).unwrap();
        assert_eq!(k, Some(0.0));
    }

    #[test]
    fn undefined_cases_are_none() {
        // Both raters always say class 1: pe = 1, sklearn gives NaN.
        assert_eq!(
            cohen_kappa_score(&[1, 1, 1], &[1, 1, 1], 3, Linear).unwrap(),
            None
        );
        assert_eq!(cohen_kappa_score(&[], &[], 3, Unweighted).unwrap(), None);
    }

    #[test]
    fn perfect_agreement_is_one() {
        let k = cohen_kappa_score(&[0, 1, 2, 2], &[0, 1, 2, 2], 4, Quadratic).unwrap();
        assert_eq!(k, Some(1.0));
    }
}
