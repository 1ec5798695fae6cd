//! Decision rules fitted on out-of-fold predictions (`task.decision`): how
//! model outputs become a label when the target metric is a kappa.
//!
//! A regression's raw outputs shrink towards the mean, so rounding them
//! predicts the extreme ratings too rarely; cut points between the whole
//! ratings, placed to maximise a kappa, undo that. A classifier's arg-max
//! favours the frequent classes; adding an offset to each class's
//! log-probability before the arg-max trades them for the rare ones. Both are
//! fitted by coordinate ascent on predictions the models did not train on
//! (cross-validation folds), never on the test split.

use super::confusion::confusion_matrix;
use super::kappa::{cohen_kappa, KappaWeights};
use serde::{Deserialize, Serialize};

/// Passes of coordinate ascent over the parameters.
const PASSES: usize = 6;
/// Candidate values tried per parameter and pass.
const STEPS: usize = 60;
/// Class offsets are searched in `[-OFFSET_SPAN, OFFSET_SPAN]` (log-probability units).
const OFFSET_SPAN: f64 = 3.0;

/// A fitted decision rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FittedDecision {
    /// Regression: a raw output below `cuts[0]` is `labels[0]`, one from
    /// `cuts[i - 1]` up to below `cuts[i]` is `labels[i]`, and one at or
    /// above the last cut the last label (`labels` has one more entry).
    CutPoints {
        /// The whole-number labels, ascending.
        labels: Vec<i64>,
        /// The ascending thresholds between consecutive labels.
        cuts: Vec<f64>,
    },
    /// Classification: added to each class's log-probability (class order)
    /// before the arg-max; the first is 0.
    ClassOffsets(Vec<f64>),
}

impl FittedDecision {
    /// The label (as a number) of a raw regression output; `None` for a
    /// classification rule.
    pub fn value(&self, raw: f64) -> Option<f64> {
        match self {
            FittedDecision::CutPoints { labels, cuts } => {
                Some(labels[cuts.iter().filter(|c| raw >= **c).count()] as f64)
            }
            FittedDecision::ClassOffsets(_) => None,
        }
    }

    /// The class index of one row of class probabilities (the first of
    /// equal scores); `None` for a regression rule or a row of another width.
    pub fn class(&self, probs: &[f32]) -> Option<usize> {
        match self {
            FittedDecision::ClassOffsets(offsets) if offsets.len() == probs.len() => {
                Some(offset_argmax(probs, offsets))
            }
            _ => None,
        }
    }
}

fn offset_argmax(probs: &[f32], offsets: &[f64]) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for (k, (&p, &b)) in probs.iter().zip(offsets).enumerate() {
        let score = (p as f64).max(1e-12).ln() + b;
        if score > best.1 {
            best = (k, score);
        }
    }
    best.0
}

/// Kappa of label indices `pred` against `truth` over `n` classes; chance
/// level (0) where it is undefined.
fn kappa_of(truth: &[usize], pred: &[usize], n: usize, weights: KappaWeights) -> f64 {
    confusion_matrix(truth, pred, n)
        .ok()
        .and_then(|cm| cohen_kappa(&cm, weights))
        .unwrap_or(0.0)
}

/// Cut points between the consecutive whole-number `labels` that maximise
/// the `weights` kappa of the cut raw outputs `raw` against the targets
/// `truth` (rounded into `labels`). Starts from plain rounding (the
/// midpoints) and keeps it where nothing beats it; empty `labels` or data
/// give the midpoints.
pub fn fit_cut_points(
    truth: &[f64],
    raw: &[f64],
    labels: &[i64],
    weights: KappaWeights,
) -> FittedDecision {
    let mut cuts: Vec<f64> = labels.windows(2).map(|w| w[0] as f64 + 0.5).collect();
    let rule = |cuts: &[f64]| FittedDecision::CutPoints {
        labels: labels.to_vec(),
        cuts: cuts.to_vec(),
    };
    if labels.len() < 2 || truth.is_empty() || truth.len() != raw.len() {
        return rule(&cuts);
    }
    let (lo, hi) = (labels[0], labels[labels.len() - 1]);
    let index = |v: f64| (v.round().clamp(lo as f64, hi as f64) as i64 - lo) as usize;
    let truth: Vec<usize> = truth.iter().map(|t| index(*t)).collect();
    let score = |cuts: &[f64]| {
        let pred: Vec<usize> = raw
            .iter()
            .map(|r| cuts.iter().filter(|c| *r >= **c).count())
            .collect();
        kappa_of(&truth, &pred, labels.len(), weights)
    };
    let (rmin, rmax) = raw
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), r| {
            (a.min(*r), b.max(*r))
        });
    let mut best = score(&cuts);
    for _ in 0..PASSES {
        let mut improved = false;
        for i in 0..cuts.len() {
            let low = if i == 0 {
                rmin.min(cuts[0]) - 0.5
            } else {
                cuts[i - 1]
            };
            let high = if i + 1 == cuts.len() {
                rmax.max(cuts[i]) + 0.5
            } else {
                cuts[i + 1]
            };
            for s in 1..STEPS {
                let candidate = low + (high - low) * s as f64 / STEPS as f64;
                let mut trial = cuts.clone();
                trial[i] = candidate;
                let k = score(&trial);
                if k > best + 1e-12 {
                    best = k;
                    cuts = trial;
                    improved = true;
                }
            }
        }
        if !improved {
            break;
        }
    }
    rule(&cuts)
}

/// Offsets for the log-probabilities of `n` classes (the first fixed at 0)
/// that maximise the `weights` kappa of the offset arg-max of `probs`
/// against the class indices `truth`. Starts from the plain arg-max (all 0)
/// and keeps it where nothing beats it.
pub fn fit_class_offsets(
    truth: &[usize],
    probs: &[Vec<f32>],
    n: usize,
    weights: KappaWeights,
) -> FittedDecision {
    let mut offsets = vec![0.0; n];
    if n < 2 || truth.is_empty() || truth.len() != probs.len() {
        return FittedDecision::ClassOffsets(offsets);
    }
    let score = |offsets: &[f64]| {
        let pred: Vec<usize> = probs.iter().map(|p| offset_argmax(p, offsets)).collect();
        kappa_of(truth, &pred, n, weights)
    };
    let mut best = score(&offsets);
    for _ in 0..PASSES {
        let mut improved = false;
        for c in 1..n {
            for s in 0..=STEPS {
                let candidate = -OFFSET_SPAN + 2.0 * OFFSET_SPAN * s as f64 / STEPS as f64;
                let mut trial = offsets.clone();
                trial[c] = candidate;
                let k = score(&trial);
                if k > best + 1e-12 {
                    best = k;
                    offsets = trial;
                    improved = true;
                }
            }
        }
        if !improved {
            break;
        }
    }
    FittedDecision::ClassOffsets(offsets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_points_undo_predictions_shrunk_towards_the_mean() {
        // Truth 1..=5; the model predicts 3 + (t - 3) / 3: rounding gives
        // 2, 3, 3, 3, 4 (kappa well below 1), cut points can separate all.
        let truth: Vec<f64> = (0..50).map(|i| (i % 5 + 1) as f64).collect();
        let raw: Vec<f64> = truth.iter().map(|t| 3.0 + (t - 3.0) / 3.0).collect();
        let labels = [1, 2, 3, 4, 5];
        let plain = fit_cut_points(&truth, &raw, &labels, KappaWeights::Quadratic);
        let FittedDecision::CutPoints { cuts, .. } = &plain else {
            panic!("a regression rule");
        };
        assert_eq!(cuts.len(), 4);
        assert!(cuts.windows(2).all(|w| w[0] < w[1]), "{cuts:?}");
        for (t, r) in truth.iter().zip(&raw) {
            assert_eq!(plain.value(*r), Some(*t), "{r} → {cuts:?}");
        }
        assert_eq!(plain.class(&[0.5, 0.5]), None);
    }

    #[test]
    fn cut_points_start_from_rounding_and_keep_it_when_it_is_perfect() {
        let truth = [1.0, 2.0, 3.0];
        let raw = [1.1, 2.0, 2.9];
        let rule = fit_cut_points(&truth, &raw, &[1, 2, 3], KappaWeights::Quadratic);
        assert_eq!(
            rule,
            FittedDecision::CutPoints {
                labels: vec![1, 2, 3],
                cuts: vec![1.5, 2.5]
            }
        );
        assert_eq!(rule.value(0.0), Some(1.0));
        assert_eq!(rule.value(2.5), Some(3.0));
        assert_eq!(rule.value(99.0), Some(3.0));
    }

    #[test]
    fn class_offsets_bring_back_a_class_the_arg_max_never_predicts() {
        // Class 1 is never the arg-max but its probability is highest on
        // exactly its own rows.
        let mut truth = Vec::new();
        let mut probs = Vec::new();
        for i in 0..30 {
            let c = i % 3;
            truth.push(c);
            probs.push(match c {
                0 => vec![0.7, 0.2, 0.1],
                1 => vec![0.45, 0.35, 0.2],
                _ => vec![0.1, 0.2, 0.7],
            });
        }
        let plain: Vec<usize> = probs.iter().map(|p| offset_argmax(p, &[0.0; 3])).collect();
        assert!(!plain.contains(&1));
        let rule = fit_class_offsets(&truth, &probs, 3, KappaWeights::Unweighted);
        let FittedDecision::ClassOffsets(offsets) = &rule else {
            panic!("a classification rule");
        };
        assert_eq!(offsets[0], 0.0);
        for (t, p) in truth.iter().zip(&probs) {
            assert_eq!(rule.class(p), Some(*t), "{offsets:?}");
        }
        assert_eq!(rule.value(1.0), None);
        assert_eq!(rule.class(&[0.5, 0.5]), None, "another width");
    }
}
