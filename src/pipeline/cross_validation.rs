//! k-fold cross-validation (`data.validation: {folds: K}`): each fold's
//! stages through the cache, the folds' summary, and the spec the final
//! model (the whole training split, the epochs the folds chose) trains with.

use super::epoch_printer::EpochPrinter;
use super::runner::Runner;
use super::score::{score_with, whole_labels};
use super::stages::encode::{self, EncodeArtifact};
use super::stages::fold;
use super::stages::fold_evaluate::{self, FoldEvaluateArtifact};
use super::stages::split::{DataInfo, SplitArtifact};
use super::stages::train::{self, TrainArtifact, TrainInputs};
use super::stages::vocabulary::{self, VocabularyArtifact};
use super::stages::Split;
use super::RunOptions;
use crate::cache::StageKey;
use crate::data::Item;
use crate::data::Prepared;
use crate::metrics::{fit_class_offsets, fit_cut_points, FittedDecision};
use crate::report::cv::{CvSummary, FoldResult};
use crate::report::{CrossValidation, Series};
use crate::spec::Spec;
use crate::spec::TaskKind;
use anyhow::{Context, Result};
use std::path::Path;

/// What the folds read from the run.
pub struct FoldInputs<'a> {
    /// The split stage's key (each fold's key builds on it).
    pub split_key: &'a StageKey,
    /// Classes and sources of the split stage.
    pub info: &'a DataInfo,
    /// The spec's folder (pretrained embeddings are resolved against it).
    pub spec_dir: &'a Path,
    /// Quiet / log prefix for the epoch lines.
    pub opts: &'a RunOptions,
    /// `data.unlabelled`, for document vectors (no labels, so no leak).
    pub unlabelled: &'a vocabulary::Unlabelled<'a>,
}

/// Run the `folds` folds: for each, the fold, vocabulary, encode, train and
/// fold_evaluate stages (each cached under a key holding the fold's index and
/// count), and summarise their validation metrics: the history's losses and
/// the spec's metrics scored on each fold's validation part. `prepared` reads the split stage's
/// examples (only when a fold stage has to be computed).
pub fn run_folds<'p>(
    spec: &Spec,
    folds: usize,
    inputs: &FoldInputs,
    runner: &mut Runner,
    prepared: impl Fn() -> Result<&'p Prepared>,
) -> Result<CvSummary> {
    let mut results = Vec::with_capacity(folds);
    let mut out_of_fold = Vec::new();
    for index in 0..folds {
        let fold_key = fold::key(index, folds, inputs.split_key);
        let part = runner.stage(&fold_key, |dir| {
            fold::compute(spec, inputs.info, prepared()?, index, folds, dir)
        })?;
        let part = SplitArtifact::from_artifact(&part);
        let part_cell = std::cell::OnceCell::new();
        let part_prepared = || -> Result<&Prepared> {
            if let Some(p) = part_cell.get() {
                return Ok(p);
            }
            let p = part.prepared(inputs.info)?;
            Ok(part_cell.get_or_init(|| p))
        };

        let vocab_key = vocabulary::key(spec, &fold_key, inputs.unlabelled)?;
        let vocab = runner.stage(&vocab_key, |dir| {
            let train = part.items(super::stages::Split::Train)?;
            vocabulary::compute(spec, &train, inputs.unlabelled, dir)
        })?;
        let vocab = VocabularyArtifact::from_artifact(&vocab);

        let encode_key = encode::key(spec, &vocab_key, &fold_key);
        let encoded = runner.stage(&encode_key, |dir| encode::compute(spec, &vocab, &part, dir))?;
        let encoded = EncodeArtifact::from_artifact(&encoded);

        let train_key = train::key(spec, &encode_key);
        let label = fold_label(index, folds, inputs.opts.log_prefix.as_deref());
        let trained = runner.stage(&train_key, |dir| {
            let train_inputs = TrainInputs {
                encode: &encoded,
                vocabulary: &vocab,
                info: inputs.info,
                spec_dir: inputs.spec_dir,
                printer: EpochPrinter::new(spec.train.epochs, inputs.opts.quiet, Some(&label)),
                // Read the splits for weights only when there are weights.
                weights: match spec.data.as_ref().and_then(|d| d.weight_column.as_ref()) {
                    Some(_) => train::example_weights(spec, &part_prepared()?.train)?,
                    None => None,
                },
            };
            train::compute(spec, train_inputs, dir)
        })?;
        let trained = TrainArtifact::from_artifact(&trained);
        let scored_key = fold_evaluate::key(spec, &train_key, &fold_key);
        let scored = runner.stage(&scored_key, |dir| {
            fold_evaluate::compute(spec, &encoded, &trained, inputs.info, &part, dir)
        })?;
        let scored = FoldEvaluateArtifact::from_artifact(&scored);
        if spec.task.decision.is_some() {
            out_of_fold.push(OutOfFold::read(spec, &part, &scored)?);
        }
        let scored = scored.metrics()?;
        let history: Vec<serde_json::Value> = trained
            .history()?
            .iter()
            .map(serde_json::to_value)
            .collect::<std::result::Result<_, _>>()?;
        let mut result = FoldResult::from_history(history);
        result.metrics.extend(scored);
        results.push(result);
    }
    let decision = match spec.task.decision {
        Some(_) => Some(cross_fit(
            spec,
            &inputs.info.classes,
            &out_of_fold,
            &mut results,
        )?),
        None => None,
    };
    let mut summary = CvSummary::new(results, spec.train.epochs);
    summary.decision = decision;
    Ok(summary)
}

/// One fold's out-of-fold predictions: its validation rows, the model's
/// outputs on them, and its training rows when a regression's range comes
/// from the data.
struct OutOfFold {
    held: Vec<Item>,
    outputs: Vec<Vec<f32>>,
    kept: Vec<Item>,
}

impl OutOfFold {
    fn read(spec: &Spec, part: &SplitArtifact, scored: &FoldEvaluateArtifact) -> Result<OutOfFold> {
        let kept = match spec.task.kind {
            TaskKind::Regression if spec.task.range.is_none() => part.items(Split::Train)?,
            _ => Vec::new(),
        };
        Ok(OutOfFold {
            held: part.items(Split::Validation)?,
            outputs: scored.outputs()?,
            kept,
        })
    }
}

/// The `task.decision` rule fitted on the out-of-fold predictions of
/// `folds` (all given ones). A regression's labels are the whole numbers of
/// its range (`task.range`, else the targets' span).
fn fit_rule(spec: &Spec, classes: &[String], folds: &[&OutOfFold]) -> Option<FittedDecision> {
    let weights = spec.task.decision?.maximise.weights();
    let rows = || folds.iter().flat_map(|f| f.held.iter().zip(&f.outputs));
    Some(match spec.task.kind {
        TaskKind::Regression => {
            let truth: Vec<f64> = rows().map(|(i, _)| i.target as f64).collect();
            let raw: Vec<f64> = rows()
                .map(|(_, p)| p.first().copied().unwrap_or(0.0) as f64)
                .collect();
            let range = spec.task.range.or_else(|| {
                let (lo, hi) = truth
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), t| {
                        (a.min(*t), b.max(*t))
                    });
                (lo <= hi).then_some([lo, hi])
            });
            fit_cut_points(&truth, &raw, &whole_labels(range), weights)
        }
        _ => {
            let truth: Vec<usize> = rows().map(|(i, _)| i.target as usize).collect();
            let probs: Vec<Vec<f32>> = rows().map(|(_, p)| p.clone()).collect();
            fit_class_offsets(&truth, &probs, classes.len(), weights)
        }
    })
}

/// Cross-fitting: each fold's label metrics are re-scored with a rule
/// fitted on the other folds' out-of-fold predictions only (so the folds'
/// kappa measures the rule on rows it was not fitted on); the rule the
/// final model uses is fitted on all of them.
fn cross_fit(
    spec: &Spec,
    classes: &[String],
    folds: &[OutOfFold],
    results: &mut [FoldResult],
) -> Result<FittedDecision> {
    for (k, (fold, result)) in folds.iter().zip(results.iter_mut()).enumerate() {
        let others: Vec<&OutOfFold> = folds
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != k)
            .map(|(_, f)| f)
            .collect();
        let Some(rule) = fit_rule(spec, classes, &others) else {
            continue;
        };
        if fold.held.is_empty() {
            continue;
        }
        let (_, eval) = score_with(
            spec,
            classes,
            &fold.kept,
            &fold.held,
            &fold.outputs,
            Some(&rule),
        )?;
        result
            .metrics
            .extend(fold_evaluate::named_metrics(eval.defined_scalars()));
    }
    let all: Vec<&OutOfFold> = folds.iter().collect();
    fit_rule(spec, classes, &all).context("`task.decision` is set but no rule could be fitted")
}

/// `fold 2/5`, after the run's own log prefix when it has one.
fn fold_label(index: usize, folds: usize, prefix: Option<&str>) -> String {
    match prefix {
        Some(p) => format!("{p} fold {}/{folds}", index + 1),
        None => format!("fold {}/{folds}", index + 1),
    }
}

/// The spec the final model trains with: the whole training split for the
/// epochs the folds chose, without early stopping (there is no validation
/// data left to watch; the folds already chose when to stop).
pub fn final_spec(spec: &Spec, cv: &CvSummary) -> Spec {
    let mut out = spec.clone();
    out.train.epochs = cv.final_epochs;
    out.train.early_stopping = None;
    out
}

/// The report's view of the folds: each fold's validation curves and the
/// folds' metrics with their mean and std.
pub fn report_data(cv: &CvSummary) -> CrossValidation {
    let curve = |key: &str| -> Vec<Series> {
        let series: Vec<Series> = cv
            .folds
            .iter()
            .enumerate()
            .map(|(i, f)| Series {
                name: format!("fold {}", i + 1),
                points: f
                    .history
                    .iter()
                    .enumerate()
                    .filter_map(|(e, r)| {
                        let x = r.get(key)?.as_f64().filter(|x| x.is_finite())?;
                        Some(((e + 1) as f64, x))
                    })
                    .collect(),
            })
            .collect();
        if series.iter().all(|s| s.points.is_empty()) {
            Vec::new()
        } else {
            series
        }
    };
    let names = cv.metric_names();
    CrossValidation {
        val_loss: curve("val_loss"),
        val_accuracy: curve("val_accuracy"),
        summary: names
            .iter()
            .filter_map(|n| Some((n.clone(), *cv.mean.get(n)?, *cv.std.get(n)?)))
            .collect(),
        folds: cv
            .folds
            .iter()
            .map(|f| {
                names
                    .iter()
                    .filter_map(|n| Some((n.clone(), *f.metrics.get(n)?)))
                    .collect()
            })
            .collect(),
        final_epochs: cv.final_epochs,
        final_epochs_rule: cv.final_epochs_rule.clone(),
        decision: cv.decision.as_ref().map(decision_note),
    }
}

/// The fitted `task.decision` rule in words, for the report.
pub fn decision_note(rule: &FittedDecision) -> String {
    let list = |xs: &[f64]| {
        xs.iter()
            .map(|x| format!("{x:.3}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let what = match rule {
        FittedDecision::CutPoints { cuts, .. } => format!(
            "the test predictions are cut into whole ratings at {} instead of rounded",
            list(cuts)
        ),
        FittedDecision::ClassOffsets(offsets) => format!(
            "the predicted class is the arg-max of the log-probabilities plus the offsets {} (class order)",
            list(offsets)
        ),
    };
    format!("With `task.decision`, {what}: fitted on the folds' out-of-fold predictions to maximise the kappa; each fold's own scores above use a rule fitted on the other folds only.")
}
