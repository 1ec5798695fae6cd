//! Test predictions and their metrics.
//!
//! Classification: the arg-max class and its probability. Regression: the raw
//! model output and the prediction rounded (half to even, like numpy) and
//! clamped into the valid range, which is `task.range` or, without it, the
//! min / max of the training targets.

use super::tables::Prediction;
use crate::data::Item;
use crate::metrics::{Evaluation, FittedDecision};
use crate::spec::{Spec, TaskKind};
use anyhow::{bail, Result};

pub use crate::metrics::{CONFUSION_LABELS, PREDICTION_RANGE};

/// The valid range of a regression target: `task.range`, else the min / max
/// of the training targets. `None` when neither gives one (no training rows).
pub fn regression_range(spec: &Spec, train: &[Item]) -> Option<[f64; 2]> {
    if let Some(r) = spec.task.range {
        return Some(r);
    }
    let finite = train
        .iter()
        .map(|i| i.target as f64)
        .filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    (lo <= hi).then_some([lo, hi])
}

/// A raw regression prediction rounded half to even (numpy `np.round`) and
/// clamped into the integers of `range` (`[ceil(lo), floor(hi)]`), the same
/// rule the rounded metrics use.
pub fn round_into_range(raw: f64, range: Option<[f64; 2]>) -> f64 {
    let r = raw.round_ties_even();
    match range {
        Some([lo, hi]) if lo.ceil() <= hi.floor() => r.clamp(lo.ceil(), hi.floor()),
        _ => r,
    }
}

/// A rounded prediction as text: `7`, not `7.0`.
pub fn format_rounded(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Turn model outputs into predictions and metrics.
///
/// `probs` holds one row per test item: class probabilities, or `[value]` for
/// regression. `train` is only read for a regression without `task.range`.
pub fn score(
    spec: &Spec,
    classes: &[String],
    train: &[Item],
    test: &[Item],
    probs: &[Vec<f32>],
) -> Result<(Vec<Prediction>, Evaluation)> {
    score_with(spec, classes, train, test, probs, None)
}

/// [`score`] with a decision rule fitted on cross-validation folds
/// (`task.decision`) making the labels instead of the arg-max or rounding:
/// the rule-free metrics (errors, log loss, ROC AUC) are unchanged, those of
/// the predicted labels (kappas, accuracy, confusion matrix) follow the rule,
/// and the evaluation records it (`decision`) for `predict` and `serve`.
pub fn score_with(
    spec: &Spec,
    classes: &[String],
    train: &[Item],
    test: &[Item],
    probs: &[Vec<f32>],
    decision: Option<&FittedDecision>,
) -> Result<(Vec<Prediction>, Evaluation)> {
    if probs.len() != test.len() {
        bail!(
            "{} predictions for {} test examples",
            probs.len(),
            test.len()
        );
    }
    let (preds, mut eval) = match spec.task.kind {
        TaskKind::Regression => score_regression(spec, train, test, probs, decision)?,
        _ => score_classification(spec, classes, test, probs, decision)?,
    };
    if let Some(rule) = decision {
        eval.set_decision(rule);
    }
    Ok((preds, eval))
}

/// The labels the rule-free regression metrics round into, `[ceil lo ..= floor hi]`.
pub fn whole_labels(range: Option<[f64; 2]>) -> Vec<i64> {
    match range {
        Some([lo, hi]) if lo.ceil() <= hi.floor() && hi - lo < 1e6 => {
            (lo.ceil() as i64..=hi.floor() as i64).collect()
        }
        _ => Vec::new(),
    }
}

fn score_regression(
    spec: &Spec,
    train: &[Item],
    test: &[Item],
    probs: &[Vec<f32>],
    decision: Option<&FittedDecision>,
) -> Result<(Vec<Prediction>, Evaluation)> {
    let cut = |raw: f64| decision.and_then(|d| d.value(raw));
    let range = regression_range(spec, train);
    let mut preds = Vec::with_capacity(test.len());
    let mut y_true = Vec::with_capacity(test.len());
    let mut y_pred = Vec::with_capacity(test.len());
    for (item, p) in test.iter().zip(probs) {
        let Some(&raw) = p.first() else {
            bail!("the model gave no output for test example {}", item.id);
        };
        let raw = raw as f64;
        y_true.push(item.target as f64);
        y_pred.push(raw);
        preds.push(Prediction {
            id: item.id,
            true_label: item.label.clone(),
            predicted_label: format_rounded(cut(raw).unwrap_or(round_into_range(raw, range))),
            probability: raw,
            probabilities: Vec::new(),
        });
    }
    let mut m = crate::metrics::RegressionMetrics::compute(&y_true, &y_pred, range)?;
    if decision.is_some() {
        // The agreement metrics of the labels the rule cut (whole numbers,
        // which the rounding inside leaves as they are).
        let labelled: Vec<f64> = y_pred.iter().map(|r| cut(*r).unwrap_or(*r)).collect();
        m.rounded = crate::metrics::RegressionMetrics::compute(&y_true, &labelled, range)?.rounded;
    }
    let mut eval = Evaluation::from_map(m.metric_map())?;
    if let Some(r) = &m.rounded {
        eval.set_confusion_labels(r.labels.iter().map(|l| l.to_string()).collect());
    }
    if let Some(range) = range {
        eval.set_prediction_range(range);
    }
    eval.retain_enabled(&spec.metrics);
    // Labels without their matrix would only confuse readers of the JSON.
    if eval.confusion_matrix().is_none() {
        eval.remove(CONFUSION_LABELS);
    }
    Ok((preds, eval))
}

fn score_classification(
    spec: &Spec,
    classes: &[String],
    test: &[Item],
    probs: &[Vec<f32>],
    decision: Option<&FittedDecision>,
) -> Result<(Vec<Prediction>, Evaluation)> {
    let mut preds = Vec::with_capacity(test.len());
    let mut y_true = Vec::new();
    let mut y_pred = Vec::new();
    for (item, p) in test.iter().zip(probs) {
        let (mut best, mut pmax) =
            p.iter().enumerate().fold(
                (0, f32::MIN),
                |acc, (k, &v)| if v > acc.1 { (k, v) } else { acc },
            );
        if let Some(k) = decision.and_then(|d| d.class(p)) {
            (best, pmax) = (k, p[k]);
        }
        let Some(name) = classes.get(best) else {
            bail!(
                "the model gave {} outputs but there are {} classes",
                p.len(),
                classes.len()
            );
        };
        y_true.push(item.target as usize);
        y_pred.push(best);
        preds.push(Prediction {
            id: item.id,
            true_label: item.label.clone(),
            predicted_label: name.clone(),
            probability: pmax as f64,
            probabilities: p.clone(),
        });
    }
    let c = crate::metrics::ClassificationMetrics::compute(&y_true, &y_pred, Some(probs), classes)?;
    let mut eval = Evaluation::from_map(c.metric_map())?;
    // Weighted kappas measure how far a miss is: meaningless for unordered classes.
    if !is_ordinal(&spec.task) {
        eval.remove("cohen_kappa_linear");
        eval.remove("cohen_kappa_quadratic");
    }
    eval.retain_enabled(&spec.metrics);
    Ok((preds, eval))
}

/// The classes are ordered: regression, bins, or `task.ordinal: true`.
fn is_ordinal(task: &crate::spec::TaskSpec) -> bool {
    task.ordinal || task.bins.is_some() || task.kind == TaskKind::Regression
}
