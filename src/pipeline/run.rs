//! `run_spec`: walk the stages in order through the cache.

use super::cross_validation::{self, FoldInputs};
use super::epoch_printer::EpochPrinter;
use super::outcome::RunOutcome;
use super::runner::Runner;
use super::stages::encode::{self, EncodeArtifact};
use super::stages::evaluate::{self, EvaluateArtifact};
use super::stages::hand_calculation;
use super::stages::load::{self, LoadArtifact};
use super::stages::report::{self, ReportArtifact, ReportStageInputs};
use super::stages::split::{self, SplitArtifact};
use super::stages::train::{self, TrainArtifact, TrainInputs};
use super::stages::vocabulary::{self, VocabularyArtifact};
use super::RunOptions;
use crate::cache::Cache;
use crate::data::Prepared;
use crate::report::hints::{early_stopping_hint, training_hints};
use crate::report::manifest::resolve_author;
use crate::report::record::{save_record, RunRecord};
use crate::report::selection::validation_metrics;
use crate::spec::{self, Spec};
use anyhow::Result;
use std::cell::OnceCell;
use std::path::Path;
use std::time::Instant;

/// Run every stage of the experiment in `spec_path`.
pub fn run(spec_path: &Path, opts: &RunOptions) -> Result<RunOutcome> {
    let (spec, locator) = spec::load_spec(spec_path)?;
    super::validate(&spec, spec_path, &locator)?;
    run_spec(&spec, spec_path, opts)
}

/// Run every stage of an already parsed and checked spec (`spec_path` locates
/// relative data files and names the spec in messages).
pub fn run_spec(spec: &Spec, spec_path: &Path, opts: &RunOptions) -> Result<RunOutcome> {
    let outcome = if let Some(ensemble) = &spec.ensemble {
        super::ensemble::run(spec, ensemble, spec_path, opts)?
    } else if spec.data.is_some() {
        run_data_spec(spec, spec_path, opts)?
    } else {
        hand_calculation::run(spec, spec_path, opts, Instant::now())?
    };
    if spec.report.figures {
        let dir = crate::report::figures::figures_dir(&opts.reports_dir, &spec.name);
        crate::report::figures::write_figures(&outcome.report, &dir)?;
    }
    Ok(outcome)
}

/// [`run_spec`] for a spec with data: every stage from loading to the report.
fn run_data_spec(spec: &Spec, spec_path: &Path, opts: &RunOptions) -> Result<RunOutcome> {
    let start = Instant::now();
    let Some(data_spec) = &spec.data else {
        anyhow::bail!("{}: the spec has no `data:` section", spec_path.display());
    };
    let spec_dir = spec_path.parent().unwrap_or(Path::new("."));
    let mut runner = Runner::new(Cache::new(&opts.cache_dir), opts.force, opts.quiet);
    if let Some(prefix) = &opts.log_prefix {
        runner.set_prefix(prefix);
    }
    runner.set_remote(opts.remote.clone());
    let author = resolve_author(opts.author.as_deref(), spec);

    let (resolved, files) = load::resolve(data_spec, spec_dir, opts, &runner)?;
    let load_key = load::key(data_spec, &files);
    let loaded = runner.stage(&load_key, |dir| {
        load::compute(data_spec, &resolved.sources, dir)
    })?;
    let unlabelled = vocabulary::Unlabelled::new(data_spec, resolved.unlabelled.as_ref());
    let loaded = LoadArtifact::from_artifact(&loaded);

    let split_key = split::key(spec, data_spec, &load_key);
    let splits = runner.stage(&split_key, |dir| split::compute(spec, &loaded, &files, dir))?;
    let splits = SplitArtifact::from_artifact(&splits);
    let mut info = splits.info()?;
    // The report lists every file the model learnt from: the unlabelled
    // texts too, when document vectors were trained on them.
    if let (Some((source, blake3)), spec::VectorizeMode::DocVectors) =
        (&resolved.unlabelled, spec.vectorize.mode)
    {
        info.sources
            .push((source.path.display().to_string(), blake3.clone()));
    }
    super::validate::check_classes(spec, spec_path, info.classes.len())?;
    // Read the splits once, and only if some stage needs them.
    let prepared_cell = OnceCell::new();
    let prepared = || -> Result<&Prepared> { cached(&prepared_cell, || splits.prepared(&info)) };

    // Cross-validation first: its folds choose the final model's epochs.
    let cv = match data_spec.validation.folds {
        Some(folds) => {
            let inputs = FoldInputs {
                split_key: &split_key,
                info: &info,
                spec_dir,
                opts,
                unlabelled: &unlabelled,
            };
            Some(cross_validation::run_folds(
                spec,
                folds,
                &inputs,
                &mut runner,
                prepared,
            )?)
        }
        None => None,
    };
    let final_spec = cv.as_ref().map(|cv| cross_validation::final_spec(spec, cv));
    let train_spec = final_spec.as_ref().unwrap_or(spec);

    let vocab_key = vocabulary::key(spec, &split_key, &unlabelled)?;
    let vocab = runner.stage(&vocab_key, |dir| {
        let train = splits.items(super::stages::Split::Train)?;
        vocabulary::compute(spec, &train, &unlabelled, dir)
    })?;
    let vocab = VocabularyArtifact::from_artifact(&vocab);

    let encode_key = encode::key(spec, &vocab_key, &split_key);
    let encoded = runner.stage(&encode_key, |dir| {
        encode::compute(spec, &vocab, &splits, dir)
    })?;
    let encoded = EncodeArtifact::from_artifact(&encoded);

    let train_key = train::key(train_spec, &encode_key);
    let trained = runner.stage(&train_key, |dir| {
        let inputs = TrainInputs {
            encode: &encoded,
            vocabulary: &vocab,
            info: &info,
            spec_dir,
            printer: EpochPrinter::new(
                train_spec.train.epochs,
                opts.quiet,
                opts.log_prefix.as_deref(),
            ),
            // Read the splits for weights only when there are weights.
            weights: match spec.data.as_ref().and_then(|d| d.weight_column.as_ref()) {
                Some(_) => train::example_weights(spec, &prepared()?.train)?,
                None => None,
            },
        };
        train::compute(train_spec, inputs, dir)
    })?;
    let trained = TrainArtifact::from_artifact(&trained);
    let history = trained.history()?;
    let summary = trained.summary()?;

    let decision = cv.as_ref().and_then(|cv| cv.decision.as_ref());
    let eval_key = evaluate::key(spec, &train_key, &split_key, decision);
    let evaluated = runner.stage(&eval_key, |dir| {
        evaluate::compute(spec, &encoded, &trained, &info, &splits, decision, dir)
    })?;
    let evaluated = EvaluateArtifact::from_artifact(&evaluated);
    let metrics = evaluated.metrics()?;

    let history_json: Vec<serde_json::Value> = history
        .iter()
        .map(serde_json::to_value)
        .collect::<std::result::Result<_, _>>()?;
    let early_stopping = super::report::early_stop(train_spec, &history);
    // The report shows early stopping beside its curves; the printed hints
    // and records say it too.
    let report_hints = run_hints(&history_json, cv.as_ref());
    let mut hints = report_hints.clone();
    if let Some(es) = &early_stopping {
        hints.push(early_stopping_hint(
            es.stopped_epoch,
            es.max_epochs,
            es.best_epoch,
            es.restored,
        ));
    }
    let stage_keys = runner.keys.clone();
    let notes = super::notes::load(spec, spec_path)?;
    let report_key = report::key(
        spec,
        &author,
        notes.as_ref(),
        &eval_key,
        &train_key,
        &split_key,
    );
    let reported = runner.stage(&report_key, |dir| {
        let inputs = ReportStageInputs {
            spec_path,
            spec_dir: absolute_dir(spec_dir),
            author: &author,
            files: &files,
            info: &info,
            prepared: prepared()?,
            history: &history,
            summary: &summary,
            metrics: &metrics,
            evaluate: &evaluated,
            trained: &trained,
            vocabulary: &vocab,
            encoded: &encoded,
            notes: notes.clone(),
            stage_keys: &stage_keys,
            cv: cv.as_ref(),
            hints: &report_hints,
        };
        report::compute(spec, inputs, dir)
    })?;
    let report_path =
        ReportArtifact::from_artifact(&reported).publish(&opts.reports_dir, &spec.name)?;

    let mut validation = validation_metrics(&history_json);
    if let Some(cv) = &cv {
        validation.extend(cv.record_metrics());
    }
    let record = RunRecord {
        name: spec.name.clone(),
        spec: serde_json::to_value(spec)?,
        metrics: metrics.clone(),
        validation: validation.clone(),
        hints: hints.clone(),
        history: history_json,
        report: Some(report_path.display().to_string()),
        predictions: super::test_predictions::class_predictions(
            spec,
            &evaluated.predictions()?,
            &info.classes,
        ),
    };
    publish_record(&record, opts)?;
    Ok(RunOutcome {
        hints,
        name: spec.name.clone(),
        metrics,
        stages: runner.statuses.clone(),
        history,
        report: report_path,
        artifacts: runner.artifacts.clone(),
        params: summary.total_params,
        skipped_rows: info.skipped_rows,
        seconds: start.elapsed().as_secs_f64(),
        validation,
        cv,
        early_stopping,
        positive_class: (spec.task.kind == crate::spec::TaskKind::Binary)
            .then(|| info.classes.get(1).cloned())
            .flatten(),
        ensemble: None,
    })
}

/// The run's training hints: from its own history, and with
/// cross-validation from each fold's (named by fold, once per hint).
/// Save `record` in the local cache (for `kerros compare`; a read-only
/// cache is a warning) and push it to the remote cache when there is one.
pub(super) fn publish_record(record: &RunRecord, opts: &RunOptions) -> Result<()> {
    let saved = save_record(&opts.cache_dir, record);
    crate::cache::warn_if_not_writable(saved, "the run record (for `kerros compare`)")?;
    // An unreachable remote was reported once, with its first failure.
    if let Some(remote) = opts.remote.as_ref().filter(|r| r.unreachable().is_none()) {
        if let Err(e) = remote.push_record(record) {
            eprintln!(
                "warning: cannot push the run record of `{}`: {e:#}",
                record.name
            );
        }
    }
    Ok(())
}

fn run_hints(
    history: &[serde_json::Value],
    cv: Option<&crate::report::cv::CvSummary>,
) -> Vec<String> {
    let mut hints = training_hints(history);
    if let Some(cv) = cv {
        let mut per_hint: Vec<(String, Vec<usize>)> = Vec::new();
        for (i, f) in cv.folds.iter().enumerate() {
            for h in training_hints(&f.history) {
                match per_hint.iter_mut().find(|(x, _)| *x == h) {
                    Some((_, folds)) => folds.push(i + 1),
                    None => per_hint.push((h, vec![i + 1])),
                }
            }
        }
        for (h, folds) in per_hint {
            let folds: Vec<String> = folds.iter().map(usize::to_string).collect();
            let noun = if folds.len() == 1 { "fold" } else { "folds" };
            hints.push(format!("cross-validation {noun} {}: {h}", folds.join(", ")));
        }
    }
    hints
}

/// `dir` as an absolute path (for the manifest), `None` when it cannot be made one.
fn absolute_dir(dir: &Path) -> Option<String> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    std::path::absolute(dir)
        .ok()
        .map(|p| p.display().to_string())
}

/// The value in `cell`, computed by `load` on first use.
fn cached<T>(cell: &OnceCell<T>, load: impl FnOnce() -> Result<T>) -> Result<&T> {
    if let Some(v) = cell.get() {
        return Ok(v);
    }
    let v = load()?;
    Ok(cell.get_or_init(|| v))
}
