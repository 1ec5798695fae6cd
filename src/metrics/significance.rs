//! Whether a score or a difference between two runs is more than chance:
//! seeded bootstrap confidence intervals (so a report stays deterministic)
//! and McNemar's test for two classifiers scored on the same test examples.

use super::{cohen_kappa, KappaWeights};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Resamples drawn for a bootstrap interval.
pub const BOOTSTRAP_RESAMPLES: usize = 1000;

/// Below this many discordant pairs McNemar's test uses the exact binomial
/// distribution; from it on, the chi-square approximation with continuity
/// correction (the usual rule of thumb, b + c >= 25).
pub const MCNEMAR_EXACT_BELOW: u64 = 25;

/// A two-sided 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Interval {
    /// Lower end (2.5th percentile).
    pub low: f64,
    /// Upper end (97.5th percentile).
    pub high: f64,
}

/// 95% percentile-bootstrap intervals of accuracy and Cohen's kappa
/// (unweighted) from true and predicted class indices: `resamples` test sets
/// of the same size drawn with replacement by a ChaCha8 generator seeded with
/// `seed`. `None` for an empty test set, and for kappa when it is undefined
/// in more than 2.5% of the resamples (all one class).
pub fn bootstrap_accuracy_kappa(
    truth: &[usize],
    predicted: &[usize],
    n_classes: usize,
    resamples: usize,
    seed: u64,
) -> (Option<Interval>, Option<Interval>) {
    let n = truth.len().min(predicted.len());
    if n == 0 || resamples == 0 || n_classes == 0 {
        return (None, None);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut accuracies, mut kappas) = (Vec::with_capacity(resamples), Vec::new());
    let mut cm = vec![vec![0u64; n_classes]; n_classes];
    for _ in 0..resamples {
        cm.iter_mut().for_each(|row| row.fill(0));
        for _ in 0..n {
            let i = rng.random_range(0..n);
            let (t, p) = (truth[i], predicted[i]);
            if t < n_classes && p < n_classes {
                cm[t][p] += 1;
            }
        }
        let correct: u64 = (0..n_classes).map(|k| cm[k][k]).sum();
        accuracies.push(correct as f64 / n as f64);
        if let Some(k) = cohen_kappa(&cm, KappaWeights::Unweighted) {
            kappas.push(k);
        }
    }
    let kappa = if kappas.len() * 40 >= resamples * 39 {
        percentile_interval(&mut kappas)
    } else {
        None
    };
    (percentile_interval(&mut accuracies), kappa)
}

/// The 2.5th and 97.5th percentiles (nearest rank) of `values`.
fn percentile_interval(values: &mut [f64]) -> Option<Interval> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let rank = (q * values.len() as f64).ceil() as usize;
        values[rank.clamp(1, values.len()) - 1]
    };
    Some(Interval {
        low: at(0.025),
        high: at(0.975),
    })
}

/// McNemar's test of two classifiers on the same examples.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct McNemar {
    /// Examples the first classifier got right and the second wrong.
    pub b: u64,
    /// Examples the first got wrong and the second right.
    pub c: u64,
    /// Two-sided p-value of "both are equally accurate".
    pub p_value: f64,
    /// True when the exact binomial test was used (few discordant pairs).
    pub exact: bool,
}

/// McNemar's test from the discordant counts `b` and `c`: the exact
/// two-sided binomial test (`p = min(1, 2·P(X <= min(b, c)))`, `X ~
/// Bin(b + c, 1/2)`) below [`MCNEMAR_EXACT_BELOW`] discordant pairs, else the
/// chi-square statistic with continuity correction, `(|b - c| - 1)² / (b +
/// c)`, on one degree of freedom. No discordant pair gives p = 1.
pub fn mcnemar(b: u64, c: u64) -> McNemar {
    let n = b + c;
    if n < MCNEMAR_EXACT_BELOW {
        let k = b.min(c);
        // P(X <= k) summed in log space would be overkill for n < 25.
        let mut term = 0.5f64.powi(n as i32); // C(n, 0) / 2^n
        let mut tail = 0.0;
        for i in 0..=k {
            if i > 0 {
                term *= (n - i + 1) as f64 / i as f64;
            }
            tail += term;
        }
        return McNemar {
            b,
            c,
            p_value: (2.0 * tail).min(1.0),
            exact: true,
        };
    }
    let diff = (b as f64 - c as f64).abs() - 1.0;
    let statistic = diff.max(0.0).powi(2) / n as f64;
    McNemar {
        b,
        c,
        // Chi-square with one degree of freedom: P(χ² > x) = erfc(√(x/2)).
        p_value: erfc((statistic / 2.0).sqrt()).min(1.0),
        exact: false,
    }
}

/// McNemar's test from per-example correctness of two classifiers on the
/// same examples in the same order; `None` when the lengths differ.
pub fn mcnemar_paired(first_correct: &[bool], second_correct: &[bool]) -> Option<McNemar> {
    if first_correct.len() != second_correct.len() {
        return None;
    }
    let (mut b, mut c) = (0, 0);
    for (&x, &y) in first_correct.iter().zip(second_correct) {
        match (x, y) {
            (true, false) => b += 1,
            (false, true) => c += 1,
            _ => {}
        }
    }
    Some(mcnemar(b, c))
}

/// The complementary error function, with relative error below 1.2e-7
/// (Numerical Recipes' `erfcc`, a Chebyshev fit).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_mcnemar_matches_the_hand_computed_binomial_tail() {
        // b = 10, c = 2: 2 · (C(12,0) + C(12,1) + C(12,2)) / 2^12 = 158 / 4096.
        let m = mcnemar(10, 2);
        assert!(m.exact);
        assert!((m.p_value - 158.0 / 4096.0).abs() < 1e-12, "{m:?}");
        assert_eq!(mcnemar(2, 10).p_value, m.p_value);
        assert_eq!(mcnemar(0, 0).p_value, 1.0);
        assert_eq!(mcnemar(3, 3).p_value, 1.0);
    }

    #[test]
    fn chi_square_mcnemar_matches_the_hand_computed_value() {
        // b = 30, c = 12: (18 - 1)² / 42 = 6.880952; P(χ²₁ > 6.880952) =
        // erfc(√3.440476) = 0.0087119 (scipy.stats.chi2.sf gives 0.00871191).
        let m = mcnemar(30, 12);
        assert!(!m.exact);
        assert!((m.p_value - 0.008_711_913).abs() < 1e-8, "{m:?}");
        // Equal counts: the corrected statistic is 0, p = 1.
        assert!((mcnemar(20, 20).p_value - 1.0).abs() < 1e-7);
    }

    #[test]
    fn erfc_matches_known_values() {
        assert!((erfc(0.0) - 1.0).abs() < 1e-7);
        assert!((erfc(1.0) - 0.157_299_207).abs() < 1e-7);
        assert!((erfc(-1.0) - 1.842_700_793).abs() < 1e-7);
    }

    #[test]
    fn paired_counts_discordant_examples() {
        let a = [true, true, false, false, true];
        let b = [true, false, true, false, false];
        let m = mcnemar_paired(&a, &b).unwrap();
        assert_eq!((m.b, m.c), (2, 1));
        assert!(mcnemar_paired(&a, &b[..3]).is_none());
    }

    #[test]
    fn bootstrap_intervals_are_seeded_and_bracket_the_estimate() {
        let truth: Vec<usize> = (0..200).map(|i| i % 2).collect();
        // 80% correct: every fifth prediction flipped.
        let pred: Vec<usize> = truth
            .iter()
            .enumerate()
            .map(|(i, &t)| if i % 5 == 0 { 1 - t } else { t })
            .collect();
        let (acc, kappa) = bootstrap_accuracy_kappa(&truth, &pred, 2, 1000, 7);
        let (acc, kappa) = (acc.unwrap(), kappa.unwrap());
        assert!(acc.low < 0.8 && 0.8 < acc.high, "{acc:?}");
        // The normal approximation: 0.8 ± 1.96·√(0.8·0.2/200) = ±0.055.
        assert!((acc.high - acc.low - 0.11).abs() < 0.03, "{acc:?}");
        assert!(kappa.low < 0.6 && 0.6 < kappa.high, "{kappa:?}");
        let again = bootstrap_accuracy_kappa(&truth, &pred, 2, 1000, 7);
        assert_eq!(again, (Some(acc), Some(kappa)));
        // Perfect predictions: the interval is the point.
        let (acc, _) = bootstrap_accuracy_kappa(&truth, &truth, 2, 100, 1);
        assert_eq!(
            acc,
            Some(Interval {
                low: 1.0,
                high: 1.0
            })
        );
        assert_eq!(bootstrap_accuracy_kappa(&[], &[], 2, 100, 1), (None, None));
    }
}
