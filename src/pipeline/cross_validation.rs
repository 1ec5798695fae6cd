//! k-fold cross-validation (`data.validation: {folds: K}`): each fold's
//! stages through the cache, the folds' summary, and the spec the final
//! model (the whole training split, the epochs the folds chose) trains with.

use super::epoch_printer::EpochPrinter;
use super::runner::Runner;
use super::stages::encode::{self, EncodeArtifact};
use super::stages::fold;
use super::stages::fold_evaluate::{self, FoldEvaluateArtifact};
use super::stages::split::{DataInfo, SplitArtifact};
use super::stages::train::{self, TrainArtifact, TrainInputs};
use super::stages::vocabulary::{self, VocabularyArtifact};
use super::RunOptions;
use crate::cache::StageKey;
use crate::data::Prepared;
use crate::report::cv::{CvSummary, FoldResult};
use crate::report::{CrossValidation, Series};
use crate::spec::Spec;
use anyhow::Result;
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

        let vocab_key = vocabulary::key(spec, &fold_key)?;
        let vocab = runner.stage(&vocab_key, |dir| {
            vocabulary::compute(spec, &part.items(super::stages::Split::Train)?, dir)
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
        let scored = FoldEvaluateArtifact::from_artifact(&scored).metrics()?;
        let history: Vec<serde_json::Value> = trained
            .history()?
            .iter()
            .map(serde_json::to_value)
            .collect::<std::result::Result<_, _>>()?;
        let mut result = FoldResult::from_history(history);
        result.metrics.extend(scored);
        results.push(result);
    }
    Ok(CvSummary::new(results, spec.train.epochs))
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
    }
}
