//! What a run produced, as printed by `kerros run` (text or `--json`).

use super::runner::StageStatus;
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
}

impl RunOutcome {
    /// The `--json` object: metrics, stages, history, report, artifacts,
    /// params, skipped_rows, seconds.
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
        json!({
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
        })
    }

    /// A short human summary: scalar metrics, then the report path.
    pub fn summary_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.name);
        for (name, v) in self.metrics.defined_scalars() {
            let _ = writeln!(out, "  {name:<22} {v:.4}");
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
