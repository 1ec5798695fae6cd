//! The view of k-fold cross-validation: each fold's validation curves, the
//! folds' mean ± std, and how the final model's epochs were chosen.

use serde::Serialize;

use super::super::data::CrossValidation;
use super::super::format::fixed;
use super::super::svg;

/// What the template shows for the folds.
#[derive(Debug, Serialize)]
pub struct CrossValidationView {
    /// "5-fold cross-validation ...": what was done and what the test metrics are.
    pub note: String,
    /// Validation loss by epoch, one line per fold.
    pub loss_chart: String,
    /// Validation accuracy by epoch, one line per fold (when computed).
    pub accuracy_chart: Option<String>,
    /// (metric, "mean ± std") rows.
    pub summary: Vec<(String, String)>,
    /// Metric names of the per-fold table's columns.
    pub columns: Vec<String>,
    /// One row per fold: its number then the values of `columns`.
    pub folds: Vec<Vec<String>>,
}

/// The view of `cv`.
pub fn cross_validation_view(cv: &CrossValidation) -> CrossValidationView {
    let columns: Vec<String> = cv.summary.iter().map(|(n, _, _)| n.clone()).collect();
    let value = |name: &str, x: f64| {
        if name == "best_epoch" {
            format!("{x:.1}")
        } else {
            fixed(x, 4)
        }
    };
    let mut note = format!(
        "{}-fold cross-validation of the training split (seeded, stratified; each fold's vocabulary fitted on its own training part). \
         The test metrics come from one final model trained on the whole training split for {} epochs: {}.",
        cv.folds.len(),
        cv.final_epochs,
        cv.final_epochs_rule
    );
    if let Some(d) = &cv.decision {
        note.push(' ');
        note.push_str(d);
    }
    CrossValidationView {
        note,
        loss_chart: svg::line_chart(
            "Validation loss per fold",
            "epoch",
            "validation loss",
            &cv.val_loss,
        ),
        accuracy_chart: (!cv.val_accuracy.is_empty()).then(|| {
            svg::line_chart(
                "Validation accuracy per fold",
                "epoch",
                "validation accuracy",
                &cv.val_accuracy,
            )
        }),
        summary: cv
            .summary
            .iter()
            .map(|(n, m, s)| (n.clone(), format!("{} ± {}", value(n, *m), value(n, *s))))
            .collect(),
        folds: cv
            .folds
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let mut row = vec![(i + 1).to_string()];
                for c in &columns {
                    row.push(
                        f.iter()
                            .find(|(n, _)| n == c)
                            .map(|(n, x)| value(n, *x))
                            .unwrap_or_else(|| "—".into()),
                    );
                }
                row
            })
            .collect(),
        columns,
    }
}
