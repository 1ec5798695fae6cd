//! The report's error analysis: which test examples to show, chosen so a
//! reader learns where the model fails, not the first rows of the file.

use super::tables::Prediction;
use crate::data::{Item, Prepared};
use crate::report::Example;
use crate::spec::{Spec, TaskKind};
use std::collections::BTreeMap;

/// Examples for the error analysis: per class (true label), the most
/// confident mistakes and a few correct predictions; for regression the
/// largest errors and a few of the smallest. Returns the shown examples
/// and, for small test sets, every mistake.
pub(super) fn error_analysis(
    spec: &Spec,
    p: &Prepared,
    predictions: &[Prediction],
) -> (Vec<Example>, Vec<Example>) {
    /// Test sets up to this many mistakes list them all (folded).
    const ALL_MISTAKES_UP_TO: usize = 200;
    let per_class = spec.report.examples;
    if per_class == 0 {
        return (Vec::new(), Vec::new());
    }
    let regression = spec.task.kind == TaskKind::Regression;
    let by_id: BTreeMap<i64, &Item> = p.test.iter().map(|i| (i.id, i)).collect();
    let example = |pr: &Prediction, group: &str| {
        by_id.get(&pr.id).map(|item| Example {
            id: pr.id,
            text: item.text.clone(),
            true_label: pr.true_label.clone(),
            predicted_label: pr.predicted_label.clone(),
            confidence: pr.probability,
            predicted_value: regression.then_some(pr.probability),
            true_value: regression.then_some(item.target as f64),
            group: group.to_string(),
            words: Vec::new(),
        })
    };
    let error = |pr: &Prediction| -> f64 {
        by_id
            .get(&pr.id)
            .map(|i| (pr.probability - i.target as f64).abs())
            .unwrap_or(0.0)
    };
    let mut shown = Vec::new();
    if regression {
        let mut by_error: Vec<&Prediction> = predictions.iter().collect();
        // Largest error first; ties by id so the choice is reproducible.
        by_error.sort_by(|a, b| error(b).total_cmp(&error(a)).then(a.id.cmp(&b.id)));
        let worst = per_class.min(by_error.len());
        let best = (per_class / 2).min(by_error.len() - worst);
        shown.extend(
            by_error[..worst]
                .iter()
                .filter_map(|pr| example(pr, "largest errors")),
        );
        shown.extend(
            by_error[by_error.len() - best..]
                .iter()
                .rev()
                .filter_map(|pr| example(pr, "smallest errors")),
        );
        return (shown, Vec::new());
    }
    let mistakes = per_class.div_ceil(2);
    let correct = (per_class - mistakes).max(1);
    for class in &p.classes {
        let mut of_class: Vec<&Prediction> = predictions
            .iter()
            .filter(|pr| &pr.true_label == class)
            .collect();
        // Most confident first; ties by id so the choice is reproducible.
        of_class.sort_by(|a, b| {
            b.probability
                .total_cmp(&a.probability)
                .then(a.id.cmp(&b.id))
        });
        let group = format!("most confident mistakes, true class {class}");
        shown.extend(
            of_class
                .iter()
                .filter(|pr| pr.predicted_label != *class)
                .take(mistakes)
                .filter_map(|pr| example(pr, &group)),
        );
        let group = format!("most confident correct, true class {class}");
        shown.extend(
            of_class
                .iter()
                .filter(|pr| pr.predicted_label == *class)
                .take(correct)
                .filter_map(|pr| example(pr, &group)),
        );
    }
    let wrong: Vec<&Prediction> = predictions
        .iter()
        .filter(|pr| pr.true_label != pr.predicted_label)
        .collect();
    let all_wrong = if wrong.len() <= ALL_MISTAKES_UP_TO {
        wrong.iter().filter_map(|pr| example(pr, "")).collect()
    } else {
        Vec::new()
    };
    (shown, all_wrong)
}
