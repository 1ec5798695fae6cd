//! k-fold cross-validation (`data.validation: {folds: K}`): the folds cut
//! the training split exactly, each fold fits its own vocabulary, the summary
//! is the folds' mean and std, and the final model trains for the epochs
//! the folds chose; `select:` and `compare` read the `cv_*` metrics.

use crate::support;

use kerros::pipeline::stages::fold::fold_parts;
use kerros::pipeline::stages::split::SplitArtifact;
use kerros::pipeline::stages::vocabulary::VocabularyArtifact;
use kerros::pipeline::{self, RunOptions, RunOutcome};
use std::collections::BTreeSet;
use std::path::Path;
use support::{kerros, ok, write};

/// 90 rows, ids 1000.., each with a word of its own (`uNNN`) so that
/// vocabularies fitted on different rows differ; every fifth label is
/// flipped, so a fast learner overfits and early stopping acts.
fn data(dir: &Path) {
    let mut train = String::from("id,text,label\n");
    for i in 0..90 {
        let (word, label) = if (i % 3 == 0) != (i % 5 == 4) {
            ("bad awful", "neg")
        } else {
            ("good great", "pos")
        };
        // Three noise words of 29 per row: something to overfit on.
        let noise: Vec<String> = (0..3)
            .map(|j| format!("n{}", (i * 7 + j * 11) % 29))
            .collect();
        train.push_str(&format!(
            "{},a {word} film {} u{i},{label}\n",
            1000 + i,
            noise.join(" ")
        ));
    }
    write(dir, "train.csv", &train);
}

fn spec(dir: &Path, name: &str, train: &str, top: &str) -> std::path::PathBuf {
    data(dir);
    let text = format!(
        "name: {name}\nseed: 7\ndata: {{train: train.csv, id_column: id, test: {{fraction: 0.2}}, validation: {{folds: 3}}}}\n\
vectorize: {{mode: multi_hot}}\nmodel:\n  layers:\n    - dense: {{units: 1}}\n\
train: {{batch_size: 8, {train}}}\n{top}"
    );
    write(dir, &format!("{name}.yaml"), &text)
}

fn run(dir: &Path, spec: &Path) -> RunOutcome {
    let mut opts = RunOptions::new(None);
    opts.cache_dir = dir.join("cache");
    opts.reports_dir = dir.join("reports");
    opts.quiet = true;
    pipeline::run(spec, &opts).expect("the run succeeds")
}

/// `kerros run SPEC --json` in `dir`, which must succeed: its JSON lines
/// (one per variant).
fn run_json(dir: &Path, spec: &Path) -> Vec<serde_json::Value> {
    let o = kerros(dir, &["run", spec.to_str().unwrap(), "--json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn folds_partition_the_training_split_and_fit_their_own_vocabularies() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let path = spec(dir, "cv", "epochs: 6", "");
    let outcome = run(dir, &path);
    let (parsed, _) = kerros::spec::load_spec(&path).unwrap();
    let split = SplitArtifact::at(&outcome.artifacts["split"]);
    let info = split.info().unwrap();
    let train = split.prepared(&info).unwrap().train;
    assert_eq!(train.len(), 72, "90 rows less the 20% test part");

    let mut seen = BTreeSet::new();
    let mut held_words: Vec<BTreeSet<String>> = Vec::new();
    for k in 0..3 {
        let (kept, held) = fold_parts(&parsed, 2, &train, k, 3).unwrap();
        assert_eq!(kept.len() + held.len(), train.len());
        let kept_ids: BTreeSet<i64> = kept.iter().map(|i| i.id).collect();
        for item in &held {
            assert!(!kept_ids.contains(&item.id), "id {} in both parts", item.id);
            assert!(
                seen.insert(item.id),
                "id {} in two validation folds",
                item.id
            );
        }
        // Stratified: a third of each class per fold (up to one row).
        let neg = held.iter().filter(|i| i.label == "neg").count();
        let all_neg = train.iter().filter(|i| i.label == "neg").count();
        assert_eq!(held.len(), 24, "fold {k}");
        assert!(
            neg.abs_diff(all_neg / 3) <= 1,
            "fold {k}: {neg} of {all_neg}"
        );
        held_words.push(
            held.iter()
                .filter_map(|i| i.text.split(' ').find(|w| w.starts_with('u')))
                .map(str::to_string)
                .collect(),
        );
    }
    let all: BTreeSet<i64> = train.iter().map(|i| i.id).collect();
    assert_eq!(seen, all, "the validation folds cover the training split");
    // The same seed gives the same folds.
    let again = fold_parts(&parsed, 2, &train, 1, 3).unwrap().1;
    let ids = |v: &[kerros::data::Item]| v.iter().map(|i| i.id).collect::<Vec<_>>();
    assert_eq!(
        ids(&again),
        ids(&fold_parts(&parsed, 2, &train, 1, 3).unwrap().1)
    );

    // Four vocabularies: three folds and the final model's; no fold's holds
    // a word found only in its own validation part.
    let full = VocabularyArtifact::at(&outcome.artifacts["vocabulary"])
        .read()
        .unwrap();
    let full: BTreeSet<String> = full.terms.into_iter().collect();
    let mut fold_vocabularies = Vec::new();
    for entry in std::fs::read_dir(dir.join("cache/vocabulary")).unwrap() {
        let d = entry.unwrap().path();
        let v = VocabularyArtifact::at(&d);
        if !v.vocabulary_parquet().exists() {
            continue;
        }
        let terms: BTreeSet<String> = v.read().unwrap().terms.into_iter().collect();
        if terms != full {
            fold_vocabularies.push(terms);
        }
    }
    assert_eq!(fold_vocabularies.len(), 3);
    for terms in &fold_vocabularies {
        assert!(terms.is_subset(&full));
        let leaked: Vec<&BTreeSet<String>> = held_words
            .iter()
            .filter(|words| words.iter().any(|w| terms.contains(w)))
            .collect();
        // Each fold vocabulary misses exactly one fold's own words.
        assert_eq!(leaked.len(), 2, "a fold vocabulary saw its validation rows");
    }
    // A second run reads every fold stage from the cache.
    let second = run(dir, &path);
    assert!(second
        .stages
        .iter()
        .all(|(_, s)| *s == kerros::pipeline::StageStatus::Cached));
    assert_eq!(second.cv, outcome.cv);
}

#[test]
fn cv_summary_is_the_folds_mean_and_std_and_chooses_the_final_epochs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let path = spec(
        dir,
        "cv_es",
        "epochs: 30, optimizer: {name: adam, learning_rate: 0.5}, early_stopping: {monitor: val_loss, patience: 2, restore_best_weights: true}",
        "",
    );
    let outcome = run(dir, &path);
    let cv = outcome
        .cv
        .clone()
        .expect("a cross-validated run has a cv summary");
    assert_eq!(cv.folds.len(), 3);
    for name in ["val_loss", "val_accuracy", "best_val_loss", "best_epoch"] {
        let xs: Vec<f64> = cv.folds.iter().map(|f| f.metrics[name]).collect();
        let mean = xs.iter().sum::<f64>() / 3.0;
        let std = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 3.0).sqrt();
        assert!((cv.mean[name] - mean).abs() < 1e-9, "{name}");
        assert!((cv.std[name] - std).abs() < 1e-9, "{name}");
    }
    let best: Vec<f64> = cv.folds.iter().map(|f| f.metrics["best_epoch"]).collect();
    let rule = (best.iter().sum::<f64>() / 3.0).round() as usize;
    assert_eq!(cv.final_epochs, rule.max(1));
    assert!(
        cv.final_epochs < 30,
        "early stopping ended the folds: {best:?}"
    );
    // The final model trains for exactly those epochs, with no validation split.
    assert_eq!(outcome.history.len(), cv.final_epochs);
    assert!(outcome.history.iter().all(|e| e.val_loss.is_none()));

    let json = outcome.to_json();
    assert_eq!(json["cv"]["folds"].as_array().unwrap().len(), 3);
    assert_eq!(json["cv"]["final_epochs"], cv.final_epochs);
    assert_eq!(json["cv"]["mean"]["val_loss"], cv.mean["val_loss"]);
    assert_eq!(json["cv"]["std"]["val_loss"], cv.std["val_loss"]);
    assert_eq!(outcome.validation["cv_val_loss"], cv.mean["val_loss"]);

    let records = kerros::report::record::load_records(&dir.join("cache")).unwrap();
    assert_eq!(records[0].validation["cv_val_loss"], cv.mean["val_loss"]);
    assert_eq!(records[0].validation["cv_val_loss_std"], cv.std["val_loss"]);
    let html = std::fs::read_to_string(&outcome.report).unwrap();
    assert!(html.contains("Validation loss per fold"));
    assert!(html.contains(&format!("for {} epochs", cv.final_epochs)));
}

#[test]
fn select_and_compare_use_the_cv_metrics() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let path = spec(
        dir,
        "cv_sweep",
        "epochs: 6",
        "matrix:\n  train.optimizer.learning_rate: [0.0001, 0.05, 0.005]\nselect: {metric: cv_val_loss}\n",
    );
    let lines = run_json(dir, &path);
    assert_eq!(lines.len(), 3);
    let losses: Vec<f64> = lines
        .iter()
        .map(|l| l["cv"]["mean"]["val_loss"].as_f64().unwrap())
        .collect();
    let lowest = (0..3)
        .min_by(|&a, &b| losses[a].total_cmp(&losses[b]))
        .unwrap();
    let flags: Vec<bool> = lines
        .iter()
        .map(|l| l["selected"].as_bool().unwrap())
        .collect();
    assert_eq!(flags.iter().filter(|f| **f).count(), 1);
    assert!(flags[lowest], "{losses:?} {flags:?}");

    let text = ok(&kerros(
        dir,
        &[
            "compare",
            "--cache-dir",
            ".kerros/cache",
            "--sort",
            "cv_val_loss",
        ],
    ));
    let header = text.lines().next().unwrap();
    assert!(header.contains("cv_val_loss") && header.contains("cv_val_loss_std"));
    let first = text.lines().nth(2).unwrap();
    assert!(
        first.starts_with(lines[lowest]["name"].as_str().unwrap()),
        "{text}"
    );
}

#[test]
fn bad_fold_settings_are_located_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    data(dir);
    for (validation, want) in [
        ("{folds: 1}", "folds must be between 2 and"),
        ("{folds: 3, fraction: 0.2}", "not several"),
    ] {
        let text = format!(
            "name: bad\ndata: {{train: train.csv, test: {{fraction: 0.2}}, validation: {validation}}}\nmodel:\n  layers:\n    - dense: {{units: 1}}\n"
        );
        let p = write(dir, "bad.yaml", &text);
        let o = kerros(dir, &["run", p.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("bad.yaml:2:") && err.contains(want), "{err}");
    }
    // More folds than rows: a clear data error, not a panic.
    let text = "name: few\ndata: {train: train.csv, limit: 12, test: {fraction: 0.2}, validation: {folds: 15}}\nvectorize: {mode: multi_hot}\nmodel:\n  layers:\n    - dense: {units: 1}\n";
    let p = write(dir, "few.yaml", text);
    let o = kerros(dir, &["run", p.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_ne!(o.status.code(), Some(0));
    assert!(err.contains("data.validation.folds"), "{err}");
}

const SEARCH: &str = "name: rs
seed: 1
data: {train: train.csv, test: {fraction: 0.2}, validation: {fraction: 0.25}}
vectorize: {mode: multi_hot}
model:
  layers:
    - dense: {units: 4, activation: relu}
    - dense: {units: 1}
train: {epochs: 3, batch_size: 8}
search:
  trials: TRIALS
  space:
    train.optimizer.learning_rate: {log_uniform: [0.0001, 0.01]}
    model.layers[0].dense.units: {int: [2, 16]}
    train.batch_size: {choice: [8, 16]}
";

#[test]
fn random_search_draws_seeded_named_variants() {
    use kerros::spec::sweep::expand;
    let file = Path::new("rs.yaml");
    let source = SEARCH.replace("TRIALS", "6");
    let a = expand(&source, file).unwrap();
    let b = expand(&source, file).unwrap();
    assert_eq!(a, b, "the same spec draws the same trials");
    assert_eq!(a.len(), 6);
    for (t, v) in a.iter().enumerate() {
        assert!(
            v.name.starts_with(&format!("rs[trial={},", t + 1)),
            "{}",
            v.name
        );
        assert_eq!(v.spec.name, v.name);
        assert!(v.spec.search.is_none() && v.spec.matrix.is_none());
        let lr = v.spec.train.optimizer.learning_rate;
        assert!((1e-4..=1e-2).contains(&lr), "{lr}");
        assert!(
            v.name.contains(&format!("learning_rate={lr}")),
            "{}",
            v.name
        );
        assert!([8, 16].contains(&v.spec.train.batch_size));
        let units = v.overrides[1].1.as_u64().unwrap();
        assert!((2..=16).contains(&units));
    }
    let other_seed = expand(&source.replace("trials: 6", "trials: 6\n  seed: 99"), file).unwrap();
    assert_ne!(
        a.iter().map(|v| &v.name).collect::<Vec<_>>(),
        other_seed.iter().map(|v| &v.name).collect::<Vec<_>>()
    );
    // More trials keep the first ones.
    let more = expand(&SEARCH.replace("TRIALS", "8"), file).unwrap();
    assert_eq!(more[..6], a[..]);
}

#[test]
fn random_search_errors_name_the_line_and_what_is_valid() {
    use kerros::spec::sweep::expand;
    let file = Path::new("rs.yaml");
    let base = SEARCH.replace("TRIALS", "3");
    for (from, to, line, want) in [
        ("log_uniform: [0.0001", "log_uniform: [0", 13, "above 0"),
        ("int: [2, 16]", "int: [20, 16]", 14, "low above high"),
        (
            "int: [2, 16]",
            "normal: [2, 16]",
            14,
            "unknown field `normal`",
        ),
        (
            "train.batch_size:",
            "train.batch_sise:",
            15,
            "did you mean `batch_size`",
        ),
        ("layers[0].dense", "layers[5].dense", 14, "no item [5]"),
        ("trials: 3", "trials: 0", 11, "trials must be between 1"),
    ] {
        let e = expand(&base.replace(from, to), file).unwrap_err();
        assert_eq!(e.line, Some(line), "{to}: {e}");
        assert!(e.message.contains(want), "{to}: {e}");
    }
    let both = format!("{base}matrix: {{seed: [1, 2]}}\n");
    let e = expand(&both, file).unwrap_err();
    assert!(e.message.contains("not both"), "{e}");
}

#[test]
fn select_chooses_among_search_trials() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    data(dir);
    let spec = write(
        dir,
        "rs.yaml",
        &format!(
            "{}select: {{metric: val_loss}}\n",
            SEARCH.replace("TRIALS", "3")
        ),
    );
    let lines = run_json(dir, &spec);
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines.iter().filter(|l| l["selected"] == true).count(),
        1,
        "{lines:?}"
    );
    let o = kerros(
        dir,
        &["predict", spec.to_str().unwrap(), "--text", "good great"],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let chosen = lines.iter().find(|l| l["selected"] == true).unwrap()["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(String::from_utf8_lossy(&o.stderr).contains(&chosen));
}

#[test]
fn early_stopping_stop_and_restored_epochs_are_a_hint_and_in_json() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let path = spec(
        dir,
        "es",
        "epochs: 30, optimizer: {name: adam, learning_rate: 0.5}, early_stopping: {monitor: val_loss, patience: 2, restore_best_weights: true}",
        "",
    );
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("validation: {folds: 3}", "validation: {fraction: 0.3}");
    std::fs::write(&path, text).unwrap();
    let outcome = run(dir, &path);
    let json = outcome.to_json();
    let es = &json["early_stopping"];
    let stopped = es["stopped_epoch"].as_u64().unwrap();
    let best = es["best_epoch"].as_u64().unwrap();
    assert_eq!(stopped as usize, outcome.history.len());
    assert!(stopped < 30 && best < stopped, "{es}");
    assert_eq!(es["restored"], true);
    let hints: Vec<&str> = json["hints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    assert!(
        hints
            .iter()
            .any(|h| h.contains(&format!("epoch {stopped} of 30"))
                && h.contains(&format!("epoch {best}'s weights were restored"))),
        "{hints:?}"
    );
}
