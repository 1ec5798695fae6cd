//! Classification and regression metrics with scikit-learn definitions.
//!
//! All maths is in f64. Each function names the scikit-learn function it
//! matches. Undefined results (empty input, a class never present, no
//! expected disagreement for kappa, ...) are `None` where scikit-learn would
//! return NaN or raise, and 0.0 where scikit-learn's default `zero_division`
//! returns 0; nothing here panics on bad input or returns NaN.
//!
//! Entry points: [`ClassificationMetrics::compute`],
//! [`RegressionMetrics::compute`], their `metric_map` (the flat JSON map the
//! CLI prints), [`Evaluation`] (that map, typed, as the pipeline passes it on)
//! and [`filter_metrics`] (apply the spec's metric list).
//!
//! The hand-computed test values were also checked against scikit-learn 1.9.1.

mod baselines;
pub mod catalog;
mod classification;
mod confusion;
mod curves;
mod decision;
mod error;
mod evaluation;
mod filter;
mod kappa;
mod log_loss;
mod regression;
mod roc;
mod scores;
pub mod significance;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

pub use baselines::{classification_baselines, regression_baselines, Baselines};
pub use classification::ClassificationMetrics;
pub use confusion::confusion_matrix;
pub use curves::{calibration_bins, precision_recall_points, roc_points};
pub use decision::{fit_class_offsets, fit_cut_points, FittedDecision};
pub use error::MetricsError;
pub use evaluation::{
    ClassEntry, Evaluation, ShapeError, CONFUSION_LABELS, CONFUSION_MATRIX, PER_CLASS,
    PREDICTION_RANGE,
};
pub use filter::{filter_metrics, metric_enabled};
pub use kappa::{cohen_kappa, cohen_kappa_score, KappaWeights};
pub use log_loss::{log_loss, LOG_LOSS_EPS};
pub use regression::{
    mean_absolute_error, mean_squared_error, r2_score, RegressionMetrics, RoundedMetrics,
    MAX_ROUNDED_CLASSES,
};
pub use roc::{roc_auc_binary, roc_auc_ovr_macro};
pub use scores::{
    accuracy, accuracy_from_confusion, macro_average, micro_average, per_class_scores,
    weighted_average, AveragedScores, ClassScores,
};

/// The metrics of one evaluation, whichever kind of task it was.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "task", rename_all = "snake_case")]
pub enum Metrics {
    /// Binary or multi-class classification.
    Classification(ClassificationMetrics),
    /// Regression.
    Regression(RegressionMetrics),
}

impl Metrics {
    /// The flat metric map of the inner metrics (see
    /// [`ClassificationMetrics::metric_map`], [`RegressionMetrics::metric_map`]).
    pub fn metric_map(&self) -> BTreeMap<String, Value> {
        match self {
            Metrics::Classification(m) => m.metric_map(),
            Metrics::Regression(m) => m.metric_map(),
        }
    }
}

/// A number or `null`; non-finite values (never produced here) become `null`
/// rather than invalid JSON.
fn opt_value(v: Option<f64>) -> Value {
    v.and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

/// A matrix of counts as nested JSON arrays of integers.
fn matrix_value(cm: &[Vec<u64>]) -> Value {
    Value::Array(
        cm.iter()
            .map(|row| Value::Array(row.iter().map(|&c| Value::from(c)).collect()))
            .collect(),
    )
}
