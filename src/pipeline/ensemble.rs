//! Running an `ensemble:` spec: each member runs through the normal cached
//! stages, then their validation and test probabilities are combined
//! (`combine: mean` or `stack`) and scored like one model's, with a report
//! and a run record of its own (so `compare`, `verify` and `grade` read it).

use super::ensemble_combine::{self as combine, Probabilities, Stacker};
use super::ensemble_members::{load_members, Member};
use super::memory::MemoryLimit;
use super::outcome::RunOutcome;
use super::runner::Runner;
use super::stages::encode::{into_dataset, model_input, EncodeArtifact};
use super::stages::evaluate::{EvaluateArtifact, BATCH};
use super::stages::report::ReportArtifact;
use super::stages::split::{DataInfo, SplitArtifact};
use super::stages::train::{task_info, TrainArtifact};
use super::stages::Split;
use super::{score, RunOptions};
use crate::cache::{Cache, StageKey};
use crate::data::Item;
use crate::pipeline::report::{self as report_data, ReportInputs};
use crate::report::manifest::{resolve_author, DataFile, Manifest};
use crate::report::record::RunRecord;
use crate::report::{self, verify::seal, Notes};
use crate::spec::ensemble::{Combine, EnsembleSpec};
use crate::spec::{self, Invalid, Locator, Spec, TaskKind};
use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::Instant;

/// Stage name of the ensemble's own step (combining and the report).
pub const NAME: &str = "ensemble";

/// One member after its run: its outcome and its two splits' probabilities.
struct MemberResult {
    member: Member,
    outcome: RunOutcome,
    validation: Probabilities,
    test: Probabilities,
}

/// Run the ensemble spec `spec` (read from `spec_path`): every member, then
/// the combination, its report and its run record.
pub fn run(
    spec: &Spec,
    ensemble: &EnsembleSpec,
    spec_path: &Path,
    opts: &RunOptions,
) -> Result<RunOutcome> {
    let start = Instant::now();
    let source = spec::read_spec_file(spec_path)?;
    let locator = Locator::new(&source);
    let members = load_members(ensemble, spec_path, &locator, &MemoryLimit::for_machine())?;
    let mut results: Vec<MemberResult> = Vec::new();
    for (i, member) in members.into_iter().enumerate() {
        let member_opts = RunOptions {
            log_prefix: Some(member.spec.name.clone()),
            ..opts.clone()
        };
        let outcome = super::run_spec(&member.spec, &member.path, &member_opts)
            .with_context(|| format!("ensemble member `{}`", member.path.display()))?;
        let split_dir = artifact(&outcome, "split")?;
        if let Some(first) = results.first() {
            if artifact(&first.outcome, "split")? != split_dir {
                let message = format!(
                    "`{}` was split into other rows than `{}` (their data files differ, e.g. relative paths from different folders); members must share their splits",
                    ensemble.members[i].display(),
                    ensemble.members[0].display()
                );
                return Err(Invalid::new(format!("ensemble.members[{i}]"), message)
                    .at(spec_path, &locator)
                    .into());
            }
        }
        let splits = SplitArtifact::at(split_dir);
        let info = splits.info()?;
        let validation = validation_probabilities(&member.spec, &outcome, &info)?;
        let test = test_probabilities(&outcome, &splits)?;
        results.push(MemberResult {
            member,
            outcome,
            validation,
            test,
        });
    }
    let first = results.first().ok_or_else(|| anyhow!("no members"))?;
    let splits = SplitArtifact::at(artifact(&first.outcome, "split")?);
    let info = splits.info()?;
    let effective = effective_spec(spec, &first.member.spec);
    let val_items = splits.items(Split::Validation)?;
    let test_items = splits.items(Split::Test)?;
    let val_members: Vec<Probabilities> = results.iter().map(|r| r.validation.clone()).collect();
    let test_members: Vec<Probabilities> = results.iter().map(|r| r.test.clone()).collect();
    let val_targets = targets(&val_items);
    let (val_probs, test_probs, stacker) = match ensemble.combine {
        Combine::Mean => (
            combine::mean(&val_members)?,
            combine::mean(&test_members)?,
            None,
        ),
        Combine::Stack => {
            let stacker = Stacker::fit(&val_members, &val_targets)
                .context("cannot fit the stacking model on the validation split")?;
            (
                stacker.apply(&val_members)?,
                stacker.apply(&test_members)?,
                Some(stacker),
            )
        }
    };
    let (preds, mut metrics) =
        score::score(&effective, &info.classes, &[], &test_items, &test_probs)?;
    let (test_loss, _) = combine::loss_and_accuracy(&test_probs, &targets(&test_items));
    metrics.set_scalar("loss", Some(test_loss))?;
    let mut validation = BTreeMap::new();
    if !val_items.is_empty() {
        let (loss, accuracy) = combine::loss_and_accuracy(&val_probs, &val_targets);
        validation.insert("val_loss".to_string(), json!(loss));
        validation.insert("val_accuracy".to_string(), json!(accuracy));
    }
    let mut summary_json = ensemble_json(ensemble, &results, stacker.as_ref(), &val_targets)?;
    for (k, v) in &validation {
        summary_json[k.as_str()] = v.clone();
    }

    // The combination itself is cheap; its report goes through the cache
    // like every stage, keyed by the members' evaluate and train artifacts.
    let author = resolve_author(opts.author.as_deref(), spec);
    let user_notes = super::notes::load(spec, spec_path)?;
    let notes = Notes {
        source: "ensemble".into(),
        markdown: notes_markdown(ensemble, &summary_json, user_notes.as_ref()),
    };
    let mut member_keys = Vec::new();
    for r in &results {
        for stage in ["evaluate", "train"] {
            let dir = artifact(&r.outcome, stage)?;
            member_keys.push(dir.file_name().map(|n| n.to_string_lossy().to_string()));
        }
    }
    let key = StageKey::build(NAME, &(spec, &author, &member_keys))
        .file("template", &report::template_fingerprint())
        .file("notes", &super::notes::fingerprint(Some(&notes)))
        .finish();
    let mut runner = Runner::new(Cache::new(&opts.cache_dir), opts.force, opts.quiet);
    if let Some(prefix) = &opts.log_prefix {
        runner.set_prefix(prefix);
    }
    let prepared = splits.prepared(&info)?;
    let stage_keys: BTreeMap<String, String> = results
        .iter()
        .flat_map(|r| {
            r.outcome.artifacts.iter().filter_map(move |(stage, dir)| {
                let key = dir.file_name()?.to_string_lossy().to_string();
                Some((format!("{}/{stage}", r.member.spec.name), key))
            })
        })
        .collect();
    let reported = runner.stage(&key, |dir| {
        let summary = member_summary(&results)?;
        let hints: Vec<String> = Vec::new();
        let inputs = ReportInputs {
            spec: &effective,
            spec_path,
            prepared: &prepared,
            sources: &info.sources,
            history: &[],
            summary: &summary,
            metrics: &metrics,
            predictions: &preds,
            stage_keys: &stage_keys,
            coverage: None,
            cv: None,
            hints: &hints,
        };
        let mut data = report_data::build(&inputs);
        data.header.author = author.clone();
        data.notes = Some(notes.clone());
        let mut manifest = Manifest::new(spec, metrics.to_map(), author.as_deref())?;
        manifest.data_files = info
            .sources
            .iter()
            .map(|(path, blake3)| DataFile {
                path: path.clone(),
                blake3: blake3.clone(),
            })
            .collect();
        manifest.spec_dir = spec_path
            .parent()
            .and_then(|d| std::path::absolute(d).ok())
            .map(|d| d.display().to_string());
        manifest.stage_keys = stage_keys.clone();
        data.manifest_json = Some(serde_json::to_string(&manifest)?);
        let html = seal(&report::render(&data)?);
        fs::write(ReportArtifact::at(dir).report_html(), html)?;
        Ok(())
    })?;
    let report_path =
        ReportArtifact::from_artifact(&reported).publish(&opts.reports_dir, &spec.name)?;

    let hints: Vec<String> = results
        .iter()
        .flat_map(|r| {
            r.outcome
                .hints
                .iter()
                .map(move |h| format!("member `{}`: {h}", r.member.spec.name))
        })
        .collect();
    let record = RunRecord {
        name: spec.name.clone(),
        spec: serde_json::to_value(spec)?,
        metrics: metrics.clone(),
        validation: validation.clone(),
        hints: hints.clone(),
        history: Vec::new(),
        report: Some(report_path.display().to_string()),
        predictions: super::test_predictions::class_predictions(&effective, &preds, &info.classes),
    };
    super::run::publish_record(&record, opts)?;
    let mut stages = Vec::new();
    let mut artifacts = BTreeMap::new();
    for r in &results {
        let name = &r.member.spec.name;
        stages.extend(
            r.outcome
                .stages
                .iter()
                .map(|(s, st)| (format!("{name}/{s}"), *st)),
        );
        artifacts.extend(
            r.outcome
                .artifacts
                .iter()
                .map(|(s, d)| (format!("{name}/{s}"), d.clone())),
        );
    }
    stages.extend(runner.statuses.iter().cloned());
    artifacts.extend(runner.artifacts.clone());
    Ok(RunOutcome {
        hints,
        name: spec.name.clone(),
        metrics,
        stages,
        history: Vec::new(),
        report: report_path,
        artifacts,
        params: results.iter().map(|r| r.outcome.params).sum(),
        skipped_rows: info.skipped_rows,
        seconds: start.elapsed().as_secs_f64(),
        validation,
        cv: None,
        early_stopping: None,
        positive_class: (effective.task.kind == TaskKind::Binary)
            .then(|| info.classes.get(1).cloned())
            .flatten(),
        ensemble: Some(summary_json),
    })
}

/// The spec the ensemble is scored and reported as: its own name, seed,
/// metrics and report settings, with the members' shared data and task.
pub(crate) fn effective_spec(spec: &Spec, first_member: &Spec) -> Spec {
    Spec {
        name: spec.name.clone(),
        seed: spec.seed,
        metrics: spec.metrics.clone(),
        report: spec.report.clone(),
        expect: spec.expect.clone(),
        ensemble: spec.ensemble.clone(),
        model: Default::default(),
        ..first_member.clone()
    }
}

/// The folder of stage `stage` of a member's run.
fn artifact<'a>(outcome: &'a RunOutcome, stage: &str) -> Result<&'a Path> {
    outcome
        .artifacts
        .get(stage)
        .map(|p| p.as_path())
        .ok_or_else(|| anyhow!("member `{}` has no `{stage}` stage", outcome.name))
}

/// The class indices of `items`.
fn targets(items: &[Item]) -> Vec<usize> {
    items.iter().map(|i| i.target as usize).collect()
}

/// The member's class probabilities on the validation split: its trained
/// model over its encoded validation rows (one forward pass).
fn validation_probabilities(
    spec: &Spec,
    outcome: &RunOutcome,
    info: &DataInfo,
) -> Result<Probabilities> {
    let encoded = EncodeArtifact::at(artifact(outcome, "encode")?).read(Split::Validation)?;
    if encoded.ids.is_empty() {
        return Ok(Vec::new());
    }
    let trained = TrainArtifact::at(artifact(outcome, "train")?);
    let model = trained.load_model(spec, &model_input(&encoded))?;
    let ds = into_dataset(encoded);
    Ok(crate::train::predict(
        &model,
        &ds.inputs,
        &task_info(spec, info),
        spec.train.loss.from_logits,
        BATCH,
    )?)
}

/// The member's test probabilities as its evaluate stage stored them,
/// checked to be in the split's row order.
fn test_probabilities(outcome: &RunOutcome, splits: &SplitArtifact) -> Result<Probabilities> {
    let preds = EvaluateArtifact::at(artifact(outcome, "evaluate")?).predictions()?;
    let test = splits.items(Split::Test)?;
    if preds.len() != test.len() || preds.iter().zip(&test).any(|(p, t)| p.id != t.id) {
        bail!(
            "member `{}`: its test predictions are not in the test split's order",
            outcome.name
        );
    }
    Ok(preds.into_iter().map(|p| p.probabilities).collect())
}

/// The model summary the report shows: every member's layers, named by member.
fn member_summary(results: &[MemberResult]) -> Result<crate::model::Summary> {
    let mut layers = Vec::new();
    for r in results {
        let summary = TrainArtifact::at(artifact(&r.outcome, "train")?).summary()?;
        for mut layer in summary.layers {
            layer.name = format!("{} / {}", r.member.spec.name, layer.name);
            layers.push(layer);
        }
    }
    Ok(crate::model::Summary::from_infos(&layers))
}

/// The `ensemble` object of `--json` and the report: how the members were
/// combined, each member's file, validation loss and accuracy, test
/// accuracy, and the stacking weights (the caller adds the combination's
/// own `val_loss` and `val_accuracy`).
fn ensemble_json(
    ensemble: &EnsembleSpec,
    results: &[MemberResult],
    stacker: Option<&Stacker>,
    val_targets: &[usize],
) -> Result<Value> {
    let members: Vec<Value> = results
        .iter()
        .zip(&ensemble.members)
        .map(|(r, entry)| {
            let (val_loss, val_accuracy) = combine::loss_and_accuracy(&r.validation, val_targets);
            json!({
                "name": r.member.spec.name,
                "spec": entry.display().to_string(),
                "val_loss": finite(val_loss),
                "val_accuracy": finite(val_accuracy),
                "test_accuracy": r.outcome.metrics.scalar("accuracy"),
            })
        })
        .collect();
    let mut out = json!({
        "combine": ensemble.combine.as_str(),
        "members": members,
    });
    if let Some(s) = stacker {
        out["stacker"] = serde_json::to_value(s)?;
    }
    Ok(out)
}

/// `v` as JSON, `null` when not finite (no validation rows).
fn finite(v: f64) -> Value {
    if v.is_finite() {
        json!(v)
    } else {
        Value::Null
    }
}

/// The report's "Discussion": the members and how they were combined, then
/// the spec's own `report.notes`.
fn notes_markdown(ensemble: &EnsembleSpec, summary: &Value, user: Option<&Notes>) -> String {
    let how = match ensemble.combine {
        Combine::Mean => "the mean of the members' class probabilities".to_string(),
        Combine::Stack => "a logistic regression on the members' log-probabilities, fitted on the validation split (so the ensemble's own validation loss is optimistic; the test split was not used)".to_string(),
    };
    let mut md = format!(
        "**Ensemble** of {} members, combined by {how}.\n\n",
        ensemble.members.len()
    );
    md.push_str("| member | spec | validation loss | validation accuracy | test accuracy |\n|---|---|---|---|---|\n");
    let cell = |v: &Value| v.as_f64().map_or("–".to_string(), |x| format!("{x:.4}"));
    for m in summary["members"].as_array().into_iter().flatten() {
        md.push_str(&format!(
            "| {} | `{}` | {} | {} | {} |\n",
            m["name"].as_str().unwrap_or(""),
            m["spec"].as_str().unwrap_or(""),
            cell(&m["val_loss"]),
            cell(&m["val_accuracy"]),
            cell(&m["test_accuracy"]),
        ));
    }
    if let Some(user) = user {
        md.push('\n');
        md.push_str(&user.markdown);
    }
    md
}
