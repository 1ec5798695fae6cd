//! Points of the ROC, precision-recall and calibration curves of a binary
//! classifier (scikit-learn `roc_curve`, `precision_recall_curve`,
//! `calibration_curve` with uniform bins).

/// The ROC curve as `(false positive rate, true positive rate)` points from
/// `(0, 0)` to `(1, 1)`, one per distinct score threshold (highest first).
/// Empty when a class is missing or the lengths differ.
pub fn roc_points(positive: &[bool], scores: &[f64]) -> Vec<(f64, f64)> {
    let Some(steps) = threshold_steps(positive, scores) else {
        return Vec::new();
    };
    let (p, n) = totals(positive);
    let mut out = vec![(0.0, 0.0)];
    out.extend(steps.iter().map(|&(tp, fp)| (fp / n, tp / p)));
    out
}

/// The precision-recall curve as `(recall, precision)` points, one per
/// distinct score threshold (highest first), starting at recall 0 with the
/// first threshold's precision. Empty without positives or on bad input.
pub fn precision_recall_points(positive: &[bool], scores: &[f64]) -> Vec<(f64, f64)> {
    let Some(steps) = threshold_steps(positive, scores) else {
        return Vec::new();
    };
    let (p, _) = totals(positive);
    let mut out = Vec::with_capacity(steps.len() + 1);
    if let Some(&(tp, fp)) = steps.first() {
        out.push((0.0, tp / (tp + fp)));
    }
    out.extend(steps.iter().map(|&(tp, fp)| (tp / p, tp / (tp + fp))));
    out
}

/// Reliability diagram: `bins` equal-width bins of the predicted
/// probability of the positive class; per non-empty bin its mean predicted
/// probability, the observed share of positives and the example count.
pub fn calibration_bins(positive: &[bool], probs: &[f64], bins: usize) -> Vec<(f64, f64, u64)> {
    if positive.len() != probs.len() || bins == 0 {
        return Vec::new();
    }
    let mut sum_p = vec![0.0; bins];
    let mut hits = vec![0u64; bins];
    let mut count = vec![0u64; bins];
    for (&y, &p) in positive.iter().zip(probs) {
        if !p.is_finite() {
            continue;
        }
        let b = ((p.clamp(0.0, 1.0) * bins as f64) as usize).min(bins - 1);
        sum_p[b] += p;
        hits[b] += u64::from(y);
        count[b] += 1;
    }
    (0..bins)
        .filter(|&b| count[b] > 0)
        .map(|b| {
            let c = count[b] as f64;
            (sum_p[b] / c, hits[b] as f64 / c, count[b])
        })
        .collect()
}

fn totals(positive: &[bool]) -> (f64, f64) {
    let p = positive.iter().filter(|&&y| y).count() as f64;
    (p, positive.len() as f64 - p)
}

/// Cumulative `(true positives, false positives)` after each distinct score,
/// scores taken from the highest down; `None` when a class is missing, the
/// lengths differ or a score is not finite.
fn threshold_steps(positive: &[bool], scores: &[f64]) -> Option<Vec<(f64, f64)>> {
    let (p, n) = totals(positive);
    if positive.len() != scores.len() || p == 0.0 || n == 0.0 {
        return None;
    }
    if scores.iter().any(|s| !s.is_finite()) {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut out = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        if positive[i] {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        let last_of_tie = order
            .get(k + 1)
            .is_none_or(|&next| scores[next] != scores[i]);
        if last_of_tie {
            out.push((tp, fp));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roc_and_pr_by_hand() {
        // sklearn: roc_curve([0,0,1,1], [0.1,0.4,0.35,0.8]) →
        // fpr [0, 0, 0.5, 0.5, 1], tpr [0, 0.5, 0.5, 1, 1].
        let y = [false, false, true, true];
        let s = [0.1, 0.4, 0.35, 0.8];
        assert_eq!(
            roc_points(&y, &s),
            vec![(0.0, 0.0), (0.0, 0.5), (0.5, 0.5), (0.5, 1.0), (1.0, 1.0)]
        );
        // Thresholds 0.8, 0.4, 0.35, 0.1: precision 1, 1/2, 2/3, 2/4.
        assert_eq!(
            precision_recall_points(&y, &s),
            vec![
                (0.0, 1.0),
                (0.5, 1.0),
                (0.5, 0.5),
                (1.0, 2.0 / 3.0),
                (1.0, 0.5)
            ]
        );
        assert!(roc_points(&[true, true], &[0.2, 0.3]).is_empty());
    }

    #[test]
    fn ties_make_one_step() {
        let pts = roc_points(&[true, false], &[0.5, 0.5]);
        assert_eq!(pts, vec![(0.0, 0.0), (1.0, 1.0)]);
    }

    #[test]
    fn calibration_by_hand() {
        let y = [false, true, true, true];
        let p = [0.1, 0.2, 0.8, 0.9];
        // Two bins: [0, 0.5) holds 0.1 and 0.2 (one positive), [0.5, 1] holds 0.8 and 0.9.
        let bins = calibration_bins(&y, &p, 2);
        assert_eq!(bins.len(), 2);
        assert!((bins[0].0 - 0.15).abs() < 1e-12 && bins[0].1 == 0.5 && bins[0].2 == 2);
        assert!((bins[1].0 - 0.85).abs() < 1e-12 && bins[1].1 == 1.0);
    }
}
