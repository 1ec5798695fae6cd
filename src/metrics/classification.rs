//! All classification metrics of one evaluation, and their flat JSON map.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::confusion::confusion_matrix;
use super::error::MetricsError;
use super::kappa::{cohen_kappa, KappaWeights};
use super::log_loss::log_loss;
use super::roc::{roc_auc_binary, roc_auc_ovr_macro};
use super::scores::{
    accuracy_from_confusion, macro_average, micro_average, per_class_scores, weighted_average,
    AveragedScores, ClassScores,
};
use super::{matrix_value, opt_value};

/// Classification metrics over `class_names.len()` classes, all computed with
/// `labels=range(n_classes)` so that every class appears in the confusion
/// matrix, the per-class scores and the averages, even if it never occurs.
///
/// `Option` fields are `None` where scikit-learn would return NaN (or raise):
/// empty input, ROC AUC with a class missing from `y_true`, kappa with no
/// expected disagreement, and probability metrics when no probabilities were
/// given.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassificationMetrics {
    /// Class names, in class-index order.
    pub class_names: Vec<String>,
    /// Number of scored examples.
    pub n_examples: usize,
    /// `accuracy_score`; `None` when empty.
    pub accuracy: Option<f64>,
    /// `confusion_matrix`: rows true class, columns predicted class.
    pub confusion_matrix: Vec<Vec<u64>>,
    /// Precision / recall / F1 / support per class (`average=None`), parallel
    /// to `class_names`.
    pub per_class: Vec<ClassScores>,
    /// `average='macro'`.
    pub macro_avg: AveragedScores,
    /// `average='weighted'`.
    pub weighted_avg: AveragedScores,
    /// `average='micro'` (equals the accuracy for single-label data).
    pub micro_avg: AveragedScores,
    /// For exactly two classes: the scores of the positive class (index 1),
    /// i.e. `average='binary'` with `pos_label=1`.
    pub binary: Option<AveragedScores>,
    /// `cohen_kappa_score(weights=None)`.
    pub cohen_kappa: Option<f64>,
    /// `cohen_kappa_score(weights='linear')`.
    pub cohen_kappa_linear: Option<f64>,
    /// `cohen_kappa_score(weights='quadratic')`.
    pub cohen_kappa_quadratic: Option<f64>,
    /// Whether class probabilities were given (decides whether the
    /// probability metrics appear in [`Self::metric_map`]).
    pub has_probs: bool,
    /// Two classes: `roc_auc_score(y_true, probs[:, 1])`. More classes:
    /// one-vs-rest macro AUC. `None` without probabilities or when undefined.
    pub roc_auc: Option<f64>,
    /// `log_loss` with probabilities clipped to `[1e-15, 1 - 1e-15]`;
    /// `None` without probabilities or when empty.
    pub log_loss: Option<f64>,
}

impl ClassificationMetrics {
    /// Scores `y_pred` against `y_true` (class indices into `class_names`),
    /// with optional per-example class probabilities (one row per example,
    /// one column per class; for binary tasks `[p(neg), p(pos)]`).
    ///
    /// Errors on mismatched lengths, class indices out of range, probability
    /// rows of the wrong width, non-finite probabilities, no classes, or
    /// duplicate class names. Never panics and never returns NaN.
    pub fn compute(
        y_true: &[usize],
        y_pred: &[usize],
        probs: Option<&[Vec<f32>]>,
        class_names: &[String],
    ) -> Result<Self, MetricsError> {
        let n_classes = class_names.len();
        if n_classes == 0 {
            return Err(MetricsError::NoClasses);
        }
        for (second, name) in class_names.iter().enumerate() {
            if let Some(first) = class_names[..second].iter().position(|n| n == name) {
                return Err(MetricsError::DuplicateClass {
                    name: name.clone(),
                    first,
                    second,
                });
            }
        }
        let cm = confusion_matrix(y_true, y_pred, n_classes)?;
        let per_class = per_class_scores(&cm);
        let probs64 = probs
            .map(|p| check_probs(p, y_true.len(), n_classes))
            .transpose()?;
        let (roc_auc, log_loss_value) = match &probs64 {
            None => (None, None),
            Some(p) => {
                let auc = if n_classes == 2 {
                    let positive: Vec<bool> = y_true.iter().map(|&y| y == 1).collect();
                    let scores: Vec<f64> = p.iter().map(|row| row[1]).collect();
                    roc_auc_binary(&positive, &scores)?
                } else if n_classes > 2 {
                    roc_auc_ovr_macro(y_true, p, n_classes)?
                } else {
                    None // one class: no negatives, AUC undefined
                };
                (auc, log_loss(y_true, p)?)
            }
        };
        Ok(ClassificationMetrics {
            class_names: class_names.to_vec(),
            n_examples: y_true.len(),
            accuracy: accuracy_from_confusion(&cm),
            binary: (n_classes == 2).then(|| AveragedScores {
                precision: per_class[1].precision,
                recall: per_class[1].recall,
                f1: per_class[1].f1,
            }),
            macro_avg: macro_average(&per_class),
            weighted_avg: weighted_average(&per_class),
            micro_avg: micro_average(&cm),
            cohen_kappa: cohen_kappa(&cm, KappaWeights::Unweighted),
            cohen_kappa_linear: cohen_kappa(&cm, KappaWeights::Linear),
            cohen_kappa_quadratic: cohen_kappa(&cm, KappaWeights::Quadratic),
            has_probs: probs.is_some(),
            roc_auc,
            log_loss: log_loss_value,
            per_class,
            confusion_matrix: cm,
        })
    }

    /// The flat metric map the CLI prints as JSON. Undefined values are
    /// `null`; `roc_auc` / `roc_auc_ovr` and `log_loss` appear only when
    /// probabilities were given.
    ///
    /// Two classes: `accuracy`, `precision`, `recall`, `f1` (positive class),
    /// `roc_auc`, `cohen_kappa`, `log_loss`, `confusion_matrix`.
    /// Otherwise: `accuracy`, `precision_macro`, `recall_macro`, `f1_macro`,
    /// `precision_weighted`, `recall_weighted`, `f1_weighted`, `cohen_kappa`,
    /// `cohen_kappa_linear`, `cohen_kappa_quadratic`, `roc_auc_ovr`,
    /// `log_loss`, `confusion_matrix`, and `per_class` (class name →
    /// `{precision, recall, f1, support}`).
    pub fn metric_map(&self) -> BTreeMap<String, Value> {
        let mut m = BTreeMap::new();
        let mut put = |k: &str, v: Value| {
            m.insert(k.to_string(), v);
        };
        put("accuracy", opt_value(self.accuracy));
        put("cohen_kappa", opt_value(self.cohen_kappa));
        put("confusion_matrix", matrix_value(&self.confusion_matrix));
        if self.has_probs {
            put("log_loss", opt_value(self.log_loss));
        }
        if let Some(b) = self.binary {
            put("precision", opt_value(Some(b.precision)));
            put("recall", opt_value(Some(b.recall)));
            put("f1", opt_value(Some(b.f1)));
            if self.has_probs {
                put("roc_auc", opt_value(self.roc_auc));
            }
            return m;
        }
        for (suffix, avg) in [("macro", self.macro_avg), ("weighted", self.weighted_avg)] {
            put(
                &format!("precision_{suffix}"),
                opt_value(Some(avg.precision)),
            );
            put(&format!("recall_{suffix}"), opt_value(Some(avg.recall)));
            put(&format!("f1_{suffix}"), opt_value(Some(avg.f1)));
        }
        put("cohen_kappa_linear", opt_value(self.cohen_kappa_linear));
        put(
            "cohen_kappa_quadratic",
            opt_value(self.cohen_kappa_quadratic),
        );
        if self.has_probs {
            put("roc_auc_ovr", opt_value(self.roc_auc));
        }
        let per_class: serde_json::Map<String, Value> = self
            .class_names
            .iter()
            .zip(&self.per_class)
            .map(|(name, s)| {
                let mut o = serde_json::Map::new();
                o.insert("precision".into(), opt_value(Some(s.precision)));
                o.insert("recall".into(), opt_value(Some(s.recall)));
                o.insert("f1".into(), opt_value(Some(s.f1)));
                o.insert("support".into(), Value::from(s.support));
                (name.clone(), Value::Object(o))
            })
            .collect();
        put("per_class", Value::Object(per_class));
        m
    }
}

/// Validates probability rows and widens them to f64.
fn check_probs(
    probs: &[Vec<f32>],
    n: usize,
    n_classes: usize,
) -> Result<Vec<Vec<f64>>, MetricsError> {
    if probs.len() != n {
        return Err(MetricsError::LengthMismatch {
            left: "y_true",
            left_len: n,
            right: "probs",
            right_len: probs.len(),
        });
    }
    probs
        .iter()
        .enumerate()
        .map(|(row, r)| {
            if r.len() != n_classes {
                return Err(MetricsError::ProbsWidth {
                    row,
                    found: r.len(),
                    expected: n_classes,
                });
            }
            r.iter()
                .enumerate()
                .map(|(col, &v)| {
                    if v.is_finite() {
                        Ok(f64::from(v))
                    } else {
                        Err(MetricsError::NonFinite {
                            field: format!("probs[{row}][{col}]"),
                            value: f64::from(v),
                        })
                    }
                })
                .collect()
        })
        .collect()
}
