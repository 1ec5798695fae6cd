//! The served model: the trained predictor of one experiment, its test
//! metrics and its sealed report, loaded once and shared by every request.

use super::variant;
use crate::data::ColumnPlan;
use crate::pipeline::predict::Predictor;
use crate::pipeline::{self, RunOptions};
use crate::spec::TaskKind;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// One text field of a request: a text column of the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextField {
    /// The column name, as in the spec (`benefitsReview`).
    pub name: String,
    /// Other accepted spellings (the data readers' aliases).
    pub aliases: Vec<String>,
}

/// The text fields of a request and how they are joined for the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextFields {
    /// The fields in the order they are joined.
    pub fields: Vec<TextField>,
    /// Placed between non-blank fields when several are joined.
    pub separator: String,
    /// `data.field_tags`: each word is tagged with its field when joined.
    pub tags: bool,
}

impl TextFields {
    /// The fields of a spec's data section (its text columns and their aliases).
    pub fn from_plan(plan: &ColumnPlan) -> TextFields {
        TextFields {
            fields: plan
                .text
                .iter()
                .map(|name| TextField {
                    name: name.clone(),
                    aliases: plan
                        .aliases
                        .iter()
                        .filter(|(_, canonical)| canonical == name)
                        .map(|(alias, _)| alias.clone())
                        .collect(),
                })
                .collect(),
            separator: plan.separator.clone(),
            tags: plan.field_tags,
        }
    }

    /// One request's field texts (in field order) as the text the model
    /// reads: joined, and tagged with `data.field_tags`, as in training.
    pub fn join<S: AsRef<str>>(&self, texts: &[S]) -> String {
        let names: Vec<String> = self.fields.iter().map(|f| f.name.clone()).collect();
        crate::data::join_fields(&names, texts, &self.separator, self.tags)
    }

    /// The field `name` is given as (its own name or an alias), if any.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.fields
            .iter()
            .position(|f| f.name == name || f.aliases.iter().any(|a| a == name))
    }
}

/// Everything the server knows about its model.
pub struct ServedModel {
    /// The trained model.
    pub predictor: Predictor,
    /// The experiment's name (a variant's full name for a sweep).
    pub name: String,
    /// The chosen variant of a `matrix:` spec.
    pub variant: Option<String>,
    /// The text fields a request gives.
    pub text: TextFields,
    /// Test metrics of the run (as `kerros run --json` prints them).
    pub metrics: crate::metrics::Evaluation,
    /// For regression: the range predictions are rounded into.
    pub range: Option<[f64; 2]>,
    /// Path of the run's sealed HTML report.
    pub report_path: PathBuf,
    /// The report's bytes, read at start-up (`None` when it is missing).
    pub report: Option<Vec<u8>>,
}

impl ServedModel {
    /// Load the model of `spec_path` (the variant `variant` of a sweep):
    /// stages missing from the cache run first, with their progress on
    /// stderr, as in `kerros run`.
    pub fn open(spec_path: &Path, variant: Option<&str>, opts: &RunOptions) -> Result<ServedModel> {
        let chosen = variant::choose(spec_path, variant)?;
        let label = chosen.variant.as_deref().unwrap_or("the spec");
        eprintln!(
            "loading the model of {} ({label}); stages missing from the cache {} run first",
            spec_path.display(),
            opts.cache_dir.display()
        );
        // The run reuses every cached stage (training only when needed) and
        // gives the test metrics and the report; the predictor then opens the
        // same, now cached, artifacts.
        let outcome = pipeline::run(&chosen.path, opts)?;
        let predictor = Predictor::open(&chosen.path, opts)?;
        let spec = predictor.spec();
        let data = spec
            .data
            .as_ref()
            .context("the spec has no `data` section, so it has no model to serve")?;
        let text = TextFields::from_plan(&ColumnPlan::from_spec(data));
        let range = match predictor.kind() {
            TaskKind::Regression => spec
                .task
                .range
                .or_else(|| outcome.metrics.prediction_range()),
            _ => None,
        };
        let report = std::fs::read(&outcome.report).ok();
        if report.is_none() {
            eprintln!(
                "warning: the report {} cannot be read; GET /report will answer 404",
                outcome.report.display()
            );
        }
        Ok(ServedModel {
            name: spec.name.clone(),
            variant: chosen.variant.clone(),
            text,
            metrics: outcome.metrics,
            range,
            report_path: outcome.report,
            report,
            predictor,
        })
    }

    /// The task kind as written in specs (`binary`, `multiclass`, `regression`).
    pub fn task(&self) -> &'static str {
        match self.predictor.kind() {
            TaskKind::Binary => "binary",
            TaskKind::Multiclass => "multiclass",
            TaskKind::Regression => "regression",
        }
    }

    /// The test metrics that are single numbers, in name order, without the
    /// bookkeeping entry for the regression range.
    pub fn scalar_metrics(&self) -> Vec<(String, f64)> {
        self.metrics
            .defined_scalars()
            .map(|(name, x)| (name.to_string(), x))
            .collect()
    }
}
