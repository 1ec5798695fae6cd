//! End-to-end runs on a few hundred real IMDB reviews: report contents, the
//! stage cache (hits, partial re-runs, corrupted artifacts) and determinism.

use crate::support;

use kerros::pipeline::{self, RunOptions, RunOutcome, StageStatus};
use std::collections::BTreeMap;
use std::path::Path;
use support::{shared_data, write};

const SPEC: &str = r#"
name: imdb_tiny
seed: 3
data:
  dataset: imdb
  limit: 400
  validation: {fraction: 0.25}
tokenizer: {num_words: 2000}
sequence: {maxlen: 80}
model:
  layers:
    - embedding: {input_dim: 2000, output_dim: 8}
    - flatten
    - dense: {units: 1}
train: {epochs: EPOCHS, batch_size: 32}
report: {examples: 4, author: "Test Student"}
"#;

fn spec(dir: &Path, epochs: usize, num_words: usize) -> std::path::PathBuf {
    let text = SPEC
        .replace("EPOCHS", &epochs.to_string())
        .replace("num_words: 2000", &format!("num_words: {num_words}"));
    write(dir, "tiny.yaml", &text)
}

fn run(dir: &Path, data: &Path, spec: &Path, force: bool) -> RunOutcome {
    let opts = RunOptions {
        data_dir: Some(data.to_path_buf()),
        cache_dir: dir.join("cache"),
        reports_dir: dir.join("reports"),
        force,
        quiet: true,
        author: None,
        log_prefix: None,
        remote: None,
    };
    pipeline::run(spec, &opts).expect("the run succeeds")
}

fn statuses(o: &RunOutcome) -> BTreeMap<String, StageStatus> {
    o.stages.iter().cloned().collect()
}

#[test]
fn run_writes_a_report_and_reuses_stages() {
    let Some(data) = shared_data() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let first = run(dir, &data, &spec(dir, 2, 2000), false);
    assert!(first.stages.iter().all(|(_, s)| *s == StageStatus::Ran));
    assert_eq!(
        first
            .stages
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        [
            "load",
            "split",
            "vocabulary",
            "encode",
            "train",
            "evaluate",
            "report"
        ]
    );
    // Embedding(2000, 8) on 80 steps -> Flatten (640) -> Dense(1): 16,000 + 641.
    assert_eq!(first.params, 16_641);
    assert_eq!(first.history.len(), 2);
    for key in [
        "accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "cohen_kappa",
    ] {
        let v = first.metrics.scalar(key).unwrap();
        assert!((-1.0..=1.0).contains(&v), "{key} = {v}");
    }
    let cm = first.metrics.confusion_matrix().unwrap();
    // limit 400 applies to the test split too.
    assert_eq!(cm.iter().flatten().sum::<u64>(), 400);

    let html = std::fs::read_to_string(&first.report).unwrap();
    assert!(html.contains("Confusion matrix"));
    assert!(html.contains("Cohen"));
    assert!(html.contains("16,641"));
    assert!(html.contains("Test Student"));
    // Reviews contain `<br />`: the examples show it as a line break, never
    // as markup from the review (the page's own markup has no `<br`).
    assert!(!html.contains("<br"));
    assert!(!html.contains("&lt;br &#x2F;&gt;") && !html.contains("&lt;br /&gt;"));
    assert!(
        !html.contains("<script")
            || html.matches("<script").count() == html.matches("application/json").count()
    );

    // Same spec again: everything cached, same numbers.
    let again = run(dir, &data, &spec(dir, 2, 2000), false);
    assert!(again.stages.iter().all(|(_, s)| *s == StageStatus::Cached));
    assert_eq!(again.metrics, first.metrics);

    // Only epochs changed: data stages stay cached.
    let more = run(dir, &data, &spec(dir, 3, 2000), false);
    let s = statuses(&more);
    for stage in ["load", "split", "vocabulary", "encode"] {
        assert_eq!(s[stage], StageStatus::Cached, "{stage}");
    }
    for stage in ["train", "evaluate", "report"] {
        assert_eq!(s[stage], StageStatus::Ran, "{stage}");
    }
    assert_eq!(more.history.len(), 3);

    // num_words changed: from the vocabulary on.
    let words = run(dir, &data, &spec(dir, 3, 1500), false);
    let s = statuses(&words);
    assert_eq!(s["load"], StageStatus::Cached);
    assert_eq!(s["split"], StageStatus::Cached);
    assert_eq!(s["vocabulary"], StageStatus::Ran);
    assert_eq!(s["encode"], StageStatus::Ran);
}

#[test]
fn corrupted_artifacts_are_recomputed() {
    let Some(data) = shared_data() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let path = spec(dir, 1, 2000);
    let first = run(dir, &data, &path, false);
    // Flip bytes in the trained weights: the checksum no longer matches.
    let weights = Path::new(&first.artifacts["train"]).join("model.safetensors");
    let mut bytes = std::fs::read(&weights).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 0xff;
    std::fs::write(&weights, bytes).unwrap();
    // Remove the vocabulary's manifest: a half-written artifact.
    std::fs::remove_file(Path::new(&first.artifacts["vocabulary"]).join("manifest.json")).unwrap();
    let second = run(dir, &data, &path, false);
    let s = statuses(&second);
    assert_eq!(s["load"], StageStatus::Cached);
    assert_eq!(s["vocabulary"], StageStatus::Ran);
    assert_eq!(s["train"], StageStatus::Ran);
    assert_eq!(
        second.metrics, first.metrics,
        "recomputed stages give the same result"
    );
}

#[test]
fn forced_runs_are_identical() {
    let Some(data) = shared_data() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let path = spec(dir, 2, 2000);
    let a = run(dir, &data, &path, true);
    let b = run(dir, &data, &path, true);
    assert!(b.stages.iter().all(|(_, s)| *s == StageStatus::Ran));
    assert_eq!(a.metrics, b.metrics);
    let losses = |o: &RunOutcome| o.history.iter().map(|e| e.loss).collect::<Vec<f64>>();
    assert_eq!(losses(&a), losses(&b));
}
