//! Per-class loss weights (`train.class_weight`), as Keras's `class_weight`
//! argument: each training example's loss is multiplied by its class's weight
//! and the batch loss is the sum divided by the batch size.

use super::TaskInfo;
use crate::spec::{ClassWeightSpec, Invalid, TaskKind};

/// scikit-learn's `compute_class_weight("balanced")`:
/// `n_samples / (n_classes · bincount(y))`. A class without examples is an
/// error (scikit-learn would divide by zero).
pub fn balanced_weights(targets: &[f32], n_classes: usize) -> Result<Vec<f64>, Invalid> {
    let mut counts = vec![0usize; n_classes];
    for t in targets {
        if let Some(c) = counts.get_mut(*t as usize) {
            *c += 1;
        }
    }
    if let Some(i) = counts.iter().position(|c| *c == 0) {
        return Err(Invalid::new(
            "train.class_weight",
            format!("`balanced` class weights need examples of every class, but class {i} has none in the training split"),
        ));
    }
    let n = targets.len() as f64;
    Ok(counts
        .iter()
        .map(|c| n / (n_classes as f64 * *c as f64))
        .collect())
}

/// One weight per class index. Map keys are class indices (`"0"`) or, when
/// `class_names` is given, class names; classes not listed weigh 1.
pub fn class_weights(
    spec: &ClassWeightSpec,
    targets: &[f32],
    task: &TaskInfo,
    class_names: Option<&[String]>,
) -> Result<Vec<f64>, Invalid> {
    let n =
        match task.kind {
            TaskKind::Regression => return Err(Invalid::new(
                "train.class_weight",
                "class weights are for classification; remove `class_weight` for a regression task",
            )),
            TaskKind::Binary => 2,
            TaskKind::Multiclass => task.n_classes,
        };
    match spec {
        ClassWeightSpec::Balanced => balanced_weights(targets, n),
        ClassWeightSpec::Map(m) => {
            let mut w = vec![1.0; n];
            for (key, weight) in &m.0 {
                let by_name = class_names.and_then(|names| names.iter().position(|c| c == key));
                let index = by_name.or_else(|| key.parse::<usize>().ok().filter(|i| *i < n));
                let Some(i) = index else {
                    let known = match class_names {
                        Some(names) => {
                            format!("class names {} or indices 0..{}", names.join(", "), n - 1)
                        }
                        None => format!("class indices 0..{}", n - 1),
                    };
                    return Err(Invalid::new(
                        format!("train.class_weight.{key}"),
                        format!("unknown class `{key}`; use {known}"),
                    ));
                };
                w[i] = *weight;
            }
            Ok(w)
        }
    }
}
