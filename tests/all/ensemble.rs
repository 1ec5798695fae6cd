//! `ensemble:` specs: members run through the cached stages, their
//! probabilities are averaged (`mean`) or stacked on the validation split
//! (`stack`), the result is a normal run (report, record, `--json`), and bad
//! ensembles are refused with the file, line and member named.

use crate::support;

use kerros::pipeline::tables::read_predictions;
use kerros::pipeline::{self, RunOptions, RunOutcome, StageStatus};
use std::path::{Path, PathBuf};
use support::{kerros, write};

/// 120 rows: the label follows `good`/`bad`, but every fourth row has the
/// word of the other class, and noise words, so members make mistakes.
fn data(dir: &Path) {
    let mut train = String::from("id,text,label\n");
    for i in 0..120 {
        let pos = i % 2 == 0;
        let flip = i % 4 == 1;
        let word = if pos != flip {
            "good great"
        } else {
            "bad awful"
        };
        let noise: Vec<String> = (0..3)
            .map(|j| format!("n{}", (i * 7 + j * 11) % 23))
            .collect();
        let label = if pos { "pos" } else { "neg" };
        train.push_str(&format!(
            "{},a {word} film {} u{},{label}\n",
            1000 + i,
            noise.join(" "),
            i % 9
        ));
    }
    write(dir, "train.csv", &train);
}

/// A member spec `name.yaml` with `extra` vectorize settings and learning rate `lr`.
fn member(dir: &Path, name: &str, vectorize: &str, lr: f64, seed: u64) -> PathBuf {
    let text = format!(
        "name: {name}\nseed: {seed}\n\
data: {{train: train.csv, id_column: id, test: {{fraction: 0.25}}, validation: {{fraction: 0.25}}}}\n\
vectorize: {{mode: multi_hot{vectorize}}}\nmodel:\n  layers:\n    - dense: {{units: 1}}\n\
train: {{batch_size: 8, epochs: 4, optimizer: {{name: adam, learning_rate: {lr}}}, loss: {{name: binary_crossentropy, from_logits: true}}}}\n"
    );
    write(dir, &format!("{name}.yaml"), &text)
}

/// Two members and an ensemble spec `ens.yaml` combining them by `combine`.
fn setup(dir: &Path, combine: &str) -> PathBuf {
    data(dir);
    member(dir, "words", "", 0.05, 7);
    member(dir, "pairs", ", ngrams: 2", 0.01, 7);
    write(
        dir,
        "ens.yaml",
        &format!("name: ens\nseed: 3\nensemble:\n  members: [words.yaml, pairs.yaml]\n  combine: {combine}\n"),
    )
}

fn opts(dir: &Path) -> RunOptions {
    let mut opts = RunOptions::new(None);
    opts.cache_dir = dir.join("cache");
    opts.reports_dir = dir.join("reports");
    opts.quiet = true;
    opts
}

fn run(dir: &Path, spec: &Path) -> RunOutcome {
    pipeline::run(spec, &opts(dir)).expect("the ensemble runs")
}

/// The test probabilities of the positive class a member's evaluate stage stored.
fn member_test_probs(outcome: &RunOutcome, member: &str) -> Vec<f32> {
    let dir = &outcome.artifacts[&format!("{member}/evaluate")];
    read_predictions(&dir.join("predictions.parquet"))
        .unwrap()
        .iter()
        .map(|p| p.probabilities[1])
        .collect()
}

#[test]
fn mean_averages_the_members_and_a_rerun_reuses_every_stage() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let spec = setup(dir, "mean");
    let outcome = run(dir, &spec);
    assert!(outcome.report.is_file());
    let e = outcome.ensemble.as_ref().expect("the ensemble summary");
    assert_eq!(e["combine"], "mean");
    let names: Vec<&str> = e["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["words", "pairs"]);
    assert!(e["members"][0]["val_accuracy"].as_f64().is_some());
    assert_eq!(e["val_loss"], outcome.validation["val_loss"]);

    // The ensemble's test accuracy is that of the averaged probabilities.
    let (a, b) = (
        member_test_probs(&outcome, "words"),
        member_test_probs(&outcome, "pairs"),
    );
    let truth: Vec<bool> =
        read_predictions(&outcome.artifacts["words/evaluate"].join("predictions.parquet"))
            .unwrap()
            .iter()
            .map(|p| p.true_label == "pos")
            .collect();
    let right = a
        .iter()
        .zip(&b)
        .zip(&truth)
        .filter(|((x, y), t)| ((*x + *y) / 2.0 > 0.5) == **t)
        .count();
    let expected = right as f64 / truth.len() as f64;
    let accuracy = outcome.metrics.scalar("accuracy").unwrap();
    assert!(
        (accuracy - expected).abs() < 1e-9,
        "{accuracy} vs {expected}"
    );
    assert!(outcome.validation.contains_key("val_loss"));

    let again = run(dir, &spec);
    assert!(
        again.stages.iter().all(|(_, s)| *s == StageStatus::Cached),
        "{:?}",
        again.stages
    );
    assert_eq!(again.metrics, outcome.metrics);
}

#[test]
fn stack_fits_on_validation_deterministically_and_prints_one_json_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let spec = setup(dir, "stack");
    let out = kerros(dir, &["run", spec.to_str().unwrap(), "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    let line = &lines[0];
    assert_eq!(line["name"], "ens");
    assert_eq!(line["ensemble"]["combine"], "stack");
    let weights = line["ensemble"]["stacker"]["weights"].as_array().unwrap();
    assert_eq!(weights.len(), 2, "one row per class");
    assert_eq!(
        weights[0].as_array().unwrap().len(),
        4,
        "two members × two classes"
    );
    assert!(line["metrics"]["confusion_matrix"].is_array());
    assert!(line["metrics"]["accuracy"].as_f64().is_some());

    // A cold second run (fresh cache) stacks to the same weights and metrics.
    let other = tempfile::tempdir().unwrap();
    let again = pipeline::run(&spec, &opts(other.path())).unwrap();
    let e = again.ensemble.unwrap();
    assert_eq!(e["stacker"], line["ensemble"]["stacker"]);
    assert_eq!(
        again.metrics.scalar("accuracy"),
        line["metrics"]["accuracy"].as_f64()
    );

    // `compare` reads the ensemble's run record beside a member's.
    let cmp = kerros(
        dir,
        &["compare", "ens.yaml", "words.yaml", "--sort", "val_loss"],
    );
    assert_eq!(
        cmp.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&cmp.stderr)
    );
    assert!(String::from_utf8_lossy(&cmp.stdout).contains("ens"));
    // The sealed report verifies.
    let report = line["report"].as_str().unwrap();
    let v = kerros(dir, &["verify", report]);
    assert_eq!(
        v.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&v.stderr)
    );
    // `verify --rerun` runs the ensemble again from the recorded spec folder.
    let v = kerros(dir, &["verify", report, "--rerun"]);
    let out = String::from_utf8_lossy(&v.stdout);
    assert_eq!(
        v.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&v.stderr)
    );
    assert!(out.contains("metrics reproduced"), "{out}");
    // `predict` takes one model and says so.
    let p = kerros(dir, &["predict", "ens.yaml", "--text", "a good film"]);
    assert_ne!(p.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&p.stderr).contains("member specs"));
}

/// `kerros validate` on `spec`: exit 2 and a message holding every `needle`.
fn refused(dir: &Path, spec: &Path, needles: &[&str]) {
    let out = kerros(dir, &["validate", spec.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for n in needles {
        assert!(err.contains(n), "missing `{n}` in: {err}");
    }
}

#[test]
fn bad_ensembles_are_located() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let spec = setup(dir, "mean");
    let ok = kerros(dir, &["validate", spec.to_str().unwrap()]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    member(dir, "seeded", "", 0.05, 8);
    let e = write(
        dir,
        "e1.yaml",
        "name: e1\nensemble:\n  members:\n    - words.yaml\n    - seeded.yaml\n",
    );
    refused(
        dir,
        &e,
        &["e1.yaml:5", "ensemble.members[1]", "different `seed`"],
    );

    let e = write(
        dir,
        "e2.yaml",
        "name: e2\nensemble:\n  members: [words.yaml, nowhere.yaml]\n",
    );
    refused(dir, &e, &["e2.yaml:3", "nowhere.yaml", "not found"]);

    let e = write(
        dir,
        "e3.yaml",
        "name: e3\nensemble: {members: [words.yaml]}\ndata: {dataset: imdb}\n",
    );
    refused(dir, &e, &["e3.yaml:3", "`data`", "from its members"]);

    let e = write(
        dir,
        "e4.yaml",
        "name: e4\nensemble: {members: [words.yaml], combine: vote}\n",
    );
    refused(dir, &e, &["e4.yaml", "mean", "stack"]);

    let e = write(
        dir,
        "e5.yaml",
        "name: e5\nensemble: {members: [ens.yaml]}\n",
    );
    refused(dir, &e, &["ensemble.members[0]", "itself an ensemble"]);

    let e = write(dir, "e6.yaml", "name: e6\nensemble: {members: []}\n");
    refused(dir, &e, &["e6.yaml:2", "at least one member"]);

    // A member's own mistake is located in the member's file.
    write(
        dir,
        "broken.yaml",
        &std::fs::read_to_string(dir.join("words.yaml"))
            .unwrap()
            .replace("epochs: 4", "epochs: 0")
            .replace("name: words", "name: broken"),
    );
    let e = write(
        dir,
        "e7.yaml",
        "name: e7\nensemble: {members: [words.yaml, broken.yaml]}\n",
    );
    refused(dir, &e, &["broken.yaml", "epochs"]);
}

#[test]
fn stacking_members_without_a_validation_split_says_what_to_set() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    data(dir);
    for (name, lr) in [("f1", 0.05), ("f2", 0.01)] {
        let text = std::fs::read_to_string(member(dir, name, "", lr, 7))
            .unwrap()
            .replace("validation: {fraction: 0.25}", "validation: {folds: 2}");
        write(dir, &format!("{name}.yaml"), &text);
    }
    let spec = write(
        dir,
        "cv.yaml",
        "name: cv\nensemble: {members: [f1.yaml, f2.yaml], combine: stack}\n",
    );
    let err = pipeline::run(&spec, &opts(dir)).unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("data.validation"), "{text}");
    // `mean` needs no validation rows: it runs, without validation metrics.
    let mean = write(
        dir,
        "cv_mean.yaml",
        "name: cv_mean\nensemble: {members: [f1.yaml, f2.yaml]}\nexpect: {accuracy: \">= 0\"}\n",
    );
    let outcome = pipeline::run(&mean, &opts(dir)).unwrap();
    assert!(outcome.validation.is_empty());
    assert!(outcome.metrics.scalar("accuracy").is_some());
}
