//! What a run produced, as printed by `kerros run` (text or `--json`).

use super::runner::StageStatus;
use crate::report::cv::CvSummary;
use crate::train::EpochRecord;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;

/// The result of one experiment run.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// Experiment name.
    pub name: String,
    /// Test metrics by name (confusion matrix as nested arrays).
    pub metrics: crate::metrics::Evaluation,
    /// Stage name → ran, cached or pulled, in execution order.
    pub stages: Vec<(String, StageStatus)>,
    /// Per-epoch training history.
    pub history: Vec<EpochRecord>,
    /// Path of the HTML report.
    pub report: PathBuf,
    /// Stage name → its artifact folder.
    pub artifacts: BTreeMap<String, PathBuf>,
    /// Total parameter count.
    pub params: usize,
    /// Data rows skipped as malformed (`data.on_bad_rows: skip`), per file.
    pub skipped_rows: crate::data::SkippedRows,
    /// Wall time of the whole run in seconds.
    pub seconds: f64,
    /// Training hints (e.g. under-training), printed after the run.
    pub hints: Vec<String>,
    /// Validation metrics as the run record keeps them (from the history,
    /// and with cross-validation the `cv_*` metrics): what `select:` reads.
    pub validation: BTreeMap<String, Value>,
    /// The cross-validation summary (`data.validation: {folds: K}`).
    pub cv: Option<CvSummary>,
    /// Binary tasks: the class precision, recall, F1 and ROC AUC are of.
    pub positive_class: Option<String>,
    /// What early stopping did (stop epoch, best epoch, whether restored).
    pub early_stopping: Option<crate::report::EarlyStop>,
    /// An `ensemble:` spec's members and how they were combined.
    pub ensemble: Option<Value>,
}

impl RunOutcome {
    /// The `--json` object: metrics, stages, history, report, artifacts,
    /// params, skipped_rows, seconds, hints, `positive_class` (binary
    /// tasks), `early_stopping` (`stopped_epoch`, `max_epochs`, `best_epoch`,
    /// `monitor`, `restored`) when it was set, and with cross-validation `cv`
    /// (each fold's validation metrics, their mean and std, the final
    /// model's epochs and how they were chosen), and for an `ensemble:` spec
    /// `ensemble` (`combine`, the `members` with their validation metrics,
    /// and a stack's fitted weights).
    pub fn to_json(&self) -> Value {
        let stages: Map<String, Value> = self
            .stages
            .iter()
            .map(|(n, s)| (n.clone(), serde_json::to_value(s).unwrap_or(Value::Null)))
            .collect();
        let artifacts: Map<String, Value> = self
            .artifacts
            .iter()
            .map(|(n, p)| (n.clone(), Value::String(p.display().to_string())))
            .collect();
        let mut out = json!({
            "name": self.name,
            "metrics": self.metrics,
            "stages": stages,
            "history": self.history,
            "report": self.report.display().to_string(),
            "artifacts": artifacts,
            "params": self.params,
            "skipped_rows": self.skipped_rows.to_json(),
            "seconds": self.seconds,
            "hints": self.hints,
        });
        if let Some(map) = out.as_object_mut() {
            if let Some(cv) = &self.cv {
                map.insert("cv".into(), cv.to_json());
            }
            if let Some(e) = &self.ensemble {
                map.insert("ensemble".into(), e.clone());
            }
            if let Some(p) = &self.positive_class {
                map.insert("positive_class".into(), Value::from(p.as_str()));
            }
            if let Some(es) = &self.early_stopping {
                map.insert(
                    "early_stopping".into(),
                    serde_json::to_value(es).unwrap_or(Value::Null),
                );
            }
        }
        out
    }

    /// A short human summary: scalar metrics, then the report path.
    pub fn summary_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.name);
        if let Some(cv) = &self.cv {
            let _ = writeln!(
                out,
                "  cross-validation, {} folds (mean ± std):",
                cv.folds.len()
            );
            for name in ["val_loss", "val_accuracy", "best_epoch"] {
                if let (Some(m), Some(s)) = (cv.mean.get(name), cv.std.get(name)) {
                    let _ = writeln!(out, "    {name:<20} {m:.4} ± {s:.4}");
                }
            }
            let _ = writeln!(
                out,
                "  final model: the whole training split for {} epochs ({})",
                cv.final_epochs, cv.final_epochs_rule
            );
            let _ = writeln!(out, "  test metrics of the final model:");
        }
        for (name, v) in self.metrics.defined_scalars() {
            match &self.positive_class {
                Some(p) if ["precision", "recall", "f1", "roc_auc"].contains(&name) => {
                    let label = format!("{name} (positive: {p})");
                    let _ = writeln!(out, "  {label:<22} {v:.4}");
                }
                _ => {
                    let _ = writeln!(out, "  {name:<22} {v:.4}");
                }
            }
        }
        let count = |status| self.stages.iter().filter(|(_, s)| *s == status).count();
        let (ran, pulled) = (count(StageStatus::Ran), count(StageStatus::Pulled));
        let skipped = &self.skipped_rows;
        if skipped.total() > 0 {
            let _ = writeln!(
                out,
                "  skipped rows           {} (train {}, validation {}, test {})",
                skipped.total(),
                skipped.train,
                skipped.validation,
                skipped.test
            );
        }
        let pulled = if pulled > 0 {
            format!(", {pulled} pulled")
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "  stages: {ran} ran, {} cached{pulled}; {:.2}s",
            count(StageStatus::Cached),
            self.seconds
        );
        let _ = writeln!(out, "  report: {}", self.report.display());
        for h in &self.hints {
            let _ = writeln!(out, "  hint: {h}");
        }
        out
    }
}
