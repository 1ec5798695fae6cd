//! A classification run's test predictions as class indices, for the
//! report's record and the run record, and the seeded bootstrap intervals
//! the report shows next to accuracy and kappa.

use super::tables::Prediction;
use crate::metrics::significance::{bootstrap_accuracy_kappa, Interval, BOOTSTRAP_RESAMPLES};
use crate::report::predictions::TestPredictions;
use crate::spec::{Spec, TaskKind};

/// The predictions as ids and class indices into `classes`; `None` for a
/// regression task or when a label is not one of `classes`.
pub fn class_predictions(
    spec: &Spec,
    predictions: &[Prediction],
    classes: &[String],
) -> Option<TestPredictions> {
    if spec.task.kind == TaskKind::Regression {
        return None;
    }
    let index = |label: &str| classes.iter().position(|c| c == label).map(|i| i as u32);
    let mut out = TestPredictions::default();
    for p in predictions {
        out.ids.push(p.id);
        out.truth.push(index(&p.true_label)?);
        out.predicted.push(index(&p.predicted_label)?);
    }
    Some(out)
}

/// 95% bootstrap intervals of `accuracy` and `cohen_kappa`, by metric key,
/// seeded with the run's seed so the report is the same on every run.
pub fn intervals(
    predictions: &TestPredictions,
    n_classes: usize,
    seed: u64,
) -> Vec<(&'static str, Interval)> {
    let truth: Vec<usize> = predictions.truth.iter().map(|&t| t as usize).collect();
    let predicted: Vec<usize> = predictions.predicted.iter().map(|&p| p as usize).collect();
    let (accuracy, kappa) =
        bootstrap_accuracy_kappa(&truth, &predicted, n_classes, BOOTSTRAP_RESAMPLES, seed);
    [("accuracy", accuracy), ("cohen_kappa", kappa)]
        .into_iter()
        .filter_map(|(k, i)| i.map(|i| (k, i)))
        .collect()
}
