//! Test predictions and their metrics.

use super::tables::Prediction;
use crate::data::Item;
use crate::spec::{Spec, TaskKind};
use anyhow::{bail, Result};
use std::collections::BTreeMap;

/// Turn class probabilities into predictions and metrics.
pub fn score(
    spec: &Spec,
    classes: &[String],
    test: &[Item],
    probs: &[Vec<f32>],
) -> Result<(Vec<Prediction>, BTreeMap<String, serde_json::Value>)> {
    let mut preds = Vec::with_capacity(test.len());
    match spec.task.kind {
        TaskKind::Regression => bail!("regression is not available yet"),
        _ => {
            let mut y_true = Vec::new();
            let mut y_pred = Vec::new();
            for (item, p) in test.iter().zip(probs) {
                let (best, pmax) =
                    p.iter().enumerate().fold(
                        (0, f32::MIN),
                        |acc, (k, &v)| if v > acc.1 { (k, v) } else { acc },
                    );
                y_true.push(item.target as usize);
                y_pred.push(best);
                preds.push(Prediction {
                    id: item.id,
                    true_label: item.label.clone(),
                    predicted_label: classes[best].clone(),
                    probability: pmax as f64,
                    probabilities: p.clone(),
                });
            }
            let c = crate::metrics::ClassificationMetrics::compute(
                &y_true,
                &y_pred,
                Some(probs),
                classes,
            )?;
            let map = crate::metrics::filter_metrics(c.metric_map(), &spec.metrics);
            Ok((preds, map))
        }
    }
}
