//! Regression metrics (scikit-learn `mean_absolute_error`,
//! `mean_squared_error`, `r2_score`) and agreement after rounding to integers.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::error::MetricsError;
use super::kappa::{cohen_kappa, KappaWeights};
use super::scores::accuracy_from_confusion;
use super::{matrix_value, opt_value};

/// Most integer classes the rounded metrics will build a confusion matrix
/// for; a wider span (e.g. an unbounded prediction far away) skips them
/// rather than allocate a huge matrix.
pub const MAX_ROUNDED_CLASSES: usize = 1000;

fn check_pair(y_true: &[f64], y_pred: &[f64]) -> Result<(), MetricsError> {
    if y_true.len() != y_pred.len() {
        return Err(MetricsError::LengthMismatch {
            left: "y_true",
            left_len: y_true.len(),
            right: "y_pred",
            right_len: y_pred.len(),
        });
    }
    for (field, ys) in [("y_true", y_true), ("y_pred", y_pred)] {
        if let Some((i, &v)) = ys.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(MetricsError::NonFinite {
                field: format!("{field}[{i}]"),
                value: v,
            });
        }
    }
    Ok(())
}

fn mean_of(y_true: &[f64], y_pred: &[f64], f: fn(f64) -> f64) -> Result<Option<f64>, MetricsError> {
    check_pair(y_true, y_pred)?;
    if y_true.is_empty() {
        return Ok(None);
    }
    let s: f64 = y_true.iter().zip(y_pred).map(|(t, p)| f(t - p)).sum();
    Ok(Some(s / y_true.len() as f64))
}

/// sklearn `mean_absolute_error`: mean of `|y_true - y_pred|`. `None` when empty.
pub fn mean_absolute_error(y_true: &[f64], y_pred: &[f64]) -> Result<Option<f64>, MetricsError> {
    mean_of(y_true, y_pred, f64::abs)
}

/// sklearn `mean_squared_error`: mean of `(y_true - y_pred)²`. `None` when empty.
pub fn mean_squared_error(y_true: &[f64], y_pred: &[f64]) -> Result<Option<f64>, MetricsError> {
    mean_of(y_true, y_pred, |d| d * d)
}

/// sklearn `r2_score` (single output, `force_finite=True`):
/// `1 - Σ(y - ŷ)² / Σ(y - ȳ)²`. When `y_true` is constant the ratio is
/// undefined and, like sklearn, the result is 1.0 for a perfect prediction and
/// 0.0 otherwise. `None` for fewer than two examples (sklearn warns and
/// returns NaN).
pub fn r2_score(y_true: &[f64], y_pred: &[f64]) -> Result<Option<f64>, MetricsError> {
    check_pair(y_true, y_pred)?;
    if y_true.len() < 2 {
        return Ok(None);
    }
    let mean = y_true.iter().sum::<f64>() / y_true.len() as f64;
    let num: f64 = y_true
        .iter()
        .zip(y_pred)
        .map(|(t, p)| (t - p) * (t - p))
        .sum();
    let den: f64 = y_true.iter().map(|t| (t - mean) * (t - mean)).sum();
    Ok(Some(if den == 0.0 {
        if num == 0.0 {
            1.0
        } else {
            0.0
        }
    } else {
        1.0 - num / den
    }))
}

/// Agreement between the rounded truth and the rounded, clamped predictions,
/// treating each integer in the span as a class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoundedMetrics {
    /// The integer classes, ascending and consecutive; index `i` of the
    /// confusion matrix is `labels[i]`.
    pub labels: Vec<i64>,
    /// Fraction of exact matches; `None` when empty.
    pub accuracy: Option<f64>,
    /// Unweighted Cohen's kappa over `labels`.
    pub cohen_kappa: Option<f64>,
    /// Linear weighted kappa (weight = integer distance).
    pub cohen_kappa_linear: Option<f64>,
    /// Quadratic weighted kappa.
    pub cohen_kappa_quadratic: Option<f64>,
    /// Rows rounded truth, columns rounded prediction.
    pub confusion_matrix: Vec<Vec<u64>>,
}

/// Regression metrics of one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegressionMetrics {
    /// Number of scored examples.
    pub n_examples: usize,
    /// The valid range given by the task, if any.
    pub range: Option<[f64; 2]>,
    /// Mean absolute error; `None` when empty.
    pub mae: Option<f64>,
    /// Mean squared error; `None` when empty.
    pub mse: Option<f64>,
    /// Square root of the MSE; `None` when empty.
    pub rmse: Option<f64>,
    /// Coefficient of determination; `None` for fewer than two examples.
    pub r2: Option<f64>,
    /// Metrics after rounding; `None` when there is no range and no data to
    /// span, or the span exceeds [`MAX_ROUNDED_CLASSES`] integers (or 2^53
    /// in magnitude).
    pub rounded: Option<RoundedMetrics>,
}

/// Rounds half to even, like numpy's `np.round` / `np.rint`.
fn round_int(v: f64) -> f64 {
    v.round_ties_even()
}

impl RegressionMetrics {
    /// Scores `y_pred` against `y_true`, with an optional valid range
    /// `[lo, hi]`.
    ///
    /// Rounded metrics: predictions are rounded half-to-even (numpy's
    /// `np.round`) and clamped into `[ceil(lo), floor(hi)]`; the truth is
    /// rounded the same way but not clamped, so the classes are every integer
    /// from `min(ceil(lo), min rounded truth)` to `max(floor(hi), max rounded
    /// truth)`. Without a range the classes span the rounded truth and
    /// predictions. Kappa is then sklearn's `cohen_kappa_score(labels=classes)`.
    ///
    /// Errors on mismatched lengths, non-finite values or an invalid range.
    pub fn compute(
        y_true: &[f64],
        y_pred: &[f64],
        range: Option<[f64; 2]>,
    ) -> Result<Self, MetricsError> {
        check_pair(y_true, y_pred)?;
        let bounds = match range {
            None => None,
            Some([lo, hi]) => {
                let (a, b) = (lo.ceil(), hi.floor());
                if !lo.is_finite() || !hi.is_finite() || a > b {
                    return Err(MetricsError::InvalidRange { lo, hi });
                }
                Some((a, b))
            }
        };
        let mse = mean_squared_error(y_true, y_pred)?;
        Ok(RegressionMetrics {
            n_examples: y_true.len(),
            range,
            mae: mean_absolute_error(y_true, y_pred)?,
            mse,
            rmse: mse.map(f64::sqrt),
            r2: r2_score(y_true, y_pred)?,
            rounded: rounded_metrics(y_true, y_pred, bounds),
        })
    }

    /// The flat metric map the CLI prints as JSON: `mae`, `mse`, `rmse`,
    /// `r2`, `accuracy_rounded`, `cohen_kappa`, `cohen_kappa_linear`,
    /// `cohen_kappa_quadratic` (after rounding) and `confusion_matrix` of the
    /// rounded values. Undefined values are `null` (the confusion matrix is
    /// `null` when the rounded metrics were skipped).
    pub fn metric_map(&self) -> BTreeMap<String, Value> {
        let r = self.rounded.as_ref();
        let entries = [
            ("mae", opt_value(self.mae)),
            ("mse", opt_value(self.mse)),
            ("rmse", opt_value(self.rmse)),
            ("r2", opt_value(self.r2)),
            ("accuracy_rounded", opt_value(r.and_then(|r| r.accuracy))),
            ("cohen_kappa", opt_value(r.and_then(|r| r.cohen_kappa))),
            (
                "cohen_kappa_linear",
                opt_value(r.and_then(|r| r.cohen_kappa_linear)),
            ),
            (
                "cohen_kappa_quadratic",
                opt_value(r.and_then(|r| r.cohen_kappa_quadratic)),
            ),
            (
                "confusion_matrix",
                r.map_or(Value::Null, |r| matrix_value(&r.confusion_matrix)),
            ),
        ];
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }
}

fn rounded_metrics(
    y_true: &[f64],
    y_pred: &[f64],
    bounds: Option<(f64, f64)>,
) -> Option<RoundedMetrics> {
    let truth: Vec<f64> = y_true.iter().map(|&v| round_int(v)).collect();
    let pred: Vec<f64> = y_pred
        .iter()
        .map(|&v| {
            let r = round_int(v);
            bounds.map_or(r, |(a, b)| r.clamp(a, b))
        })
        .collect();
    let data = truth
        .iter()
        .chain(if bounds.is_some() { &[][..] } else { &pred[..] });
    let (mut lo, mut hi) = bounds.unwrap_or((f64::INFINITY, f64::NEG_INFINITY));
    for &v in data {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    // 2^53 keeps every integer label exact in f64 and i64.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if lo > hi || hi - lo >= MAX_ROUNDED_CLASSES as f64 || lo < -EXACT || hi > EXACT {
        return None;
    }
    let k = (hi - lo) as usize + 1;
    // Values are integers within [lo, hi], so these casts are exact.
    let index = |v: f64| (v - lo) as usize;
    let mut cm = vec![vec![0u64; k]; k];
    for (&t, &p) in truth.iter().zip(&pred) {
        cm[index(t)][index(p)] += 1;
    }
    Some(RoundedMetrics {
        labels: (0..k).map(|i| lo as i64 + i as i64).collect(),
        accuracy: accuracy_from_confusion(&cm),
        cohen_kappa: cohen_kappa(&cm, KappaWeights::Unweighted),
        cohen_kappa_linear: cohen_kappa(&cm, KappaWeights::Linear),
        cohen_kappa_quadratic: cohen_kappa(&cm, KappaWeights::Quadratic),
        confusion_matrix: cm,
    })
}
