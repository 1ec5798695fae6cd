//! Choosing a model on validation: `select:` beside `matrix:` through the
//! real binary (`run --json`, `compare`, `predict`).

use crate::support;

use std::path::Path;
use support::{kerros, write};

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A small sweep over learning rates; `extra` goes at the top level.
fn sweep(dir: &Path, extra: &str) -> String {
    let train = support::film_reviews_csv(80, ("bad awful", "neg"), ("good great", "pos"));
    write(dir, "train.csv", &train);
    let spec = format!(
        "name: sel\nseed: 1\ndata: {{train: train.csv, test: {{fraction: 0.2}}, validation: {{fraction: 0.25}}}}\n\
tokenizer: {{num_words: 50}}\nsequence: {{maxlen: 6}}\nmodel:\n  layers:\n    - embedding: {{input_dim: 50, output_dim: 4}}\n    - flatten\n    - dense: {{units: 1}}\n\
train: {{epochs: 3, batch_size: 8}}\nmatrix:\n  train.optimizer.learning_rate: [0.0001, 0.01, 0.001]\n{extra}"
    );
    write(dir, "sweep.yaml", &spec).display().to_string()
}

#[test]
fn select_marks_exactly_one_variant_and_predict_uses_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let spec = sweep(dir, "select: {metric: val_loss}\n");
    let o = kerros(dir, &["run", &spec, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("every stdout line is JSON"))
        .collect();
    assert_eq!(lines.len(), 3);
    let losses: Vec<f64> = lines
        .iter()
        .map(|l| {
            l["history"].as_array().unwrap().last().unwrap()["val_loss"]
                .as_f64()
                .unwrap()
        })
        .collect();
    let flags: Vec<bool> = lines
        .iter()
        .map(|l| l["selected"].as_bool().unwrap())
        .collect();
    assert_eq!(flags.iter().filter(|f| **f).count(), 1, "{flags:?}");
    let chosen = flags.iter().position(|f| *f).unwrap();
    let lowest = (0..3)
        .min_by(|&a, &b| losses[a].partial_cmp(&losses[b]).unwrap())
        .unwrap();
    assert_eq!(chosen, lowest, "{losses:?}");
    let chosen_name = lines[chosen]["name"].as_str().unwrap().to_string();
    // Item 5: a validation loss still falling (by > 0.1%) at the last epoch
    // is a hint in the JSON and on stderr; the others have none.
    let mut hinted = 0;
    for l in &lines {
        let h: Vec<f64> = l["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["val_loss"].as_f64().unwrap())
            .collect();
        let falling = h[2] <= h[0] && h[2] <= h[1] && h[2] < h[1] * (1.0 - 1e-3);
        // Only the under-training hint is about a falling loss (a
        // train/validation gap may be a hint of its own).
        let hints: Vec<&serde_json::Value> = l["hints"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h.as_str().unwrap().contains("under-trained"))
            .collect();
        assert_eq!(!hints.is_empty(), falling, "{h:?}: {l}");
        if falling {
            hinted += 1;
            assert!(hints[0]
                .as_str()
                .unwrap()
                .contains("may be under-trained: more epochs or a higher learning rate"));
            assert!(
                stderr(&o).contains(&format!("hint: `{}", l["name"].as_str().unwrap())),
                "{}",
                stderr(&o)
            );
        }
    }
    assert!(hinted >= 1, "three epochs are too few for some variant");
    // The text summary and the comparison mark it.
    let o = kerros(dir, &["run", &spec]);
    assert!(
        stdout(&o).contains(&format!("{chosen_name} (selected by val_loss)")),
        "{}",
        stdout(&o)
    );
    let o = kerros(dir, &["compare", &spec, "--sort", "val_loss"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let table = stdout(&o);
    let first_row = table.lines().nth(2).unwrap();
    assert!(
        first_row.starts_with(&format!("{chosen_name} (selected)")),
        "{table}"
    );
    assert!(
        table.lines().next().unwrap().contains("val_loss"),
        "{table}"
    );

    // predict names the selected variant; --variant picks another; nothing
    // is written into the working folder.
    let work = dir.join("work");
    std::fs::create_dir(&work).unwrap();
    let cache = dir.join(".kerros/cache");
    let cache = cache.to_str().unwrap();
    let o = kerros(
        &work,
        &[
            "predict",
            &spec,
            "--text",
            "a good film",
            "--cache-dir",
            cache,
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!(
            "using variant {chosen_name} (selected by val_loss)"
        )),
        "{}",
        stderr(&o)
    );
    let o = kerros(
        &work,
        &[
            "predict",
            &spec,
            "--text",
            "a good film",
            "--cache-dir",
            cache,
            "--variant",
            "learning_rate=0.0001",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("using variant sel[learning_rate=0.0001] (chosen with --variant)"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read_dir(&work).unwrap().count(),
        0,
        "predict wrote into the working folder"
    );
    let o = kerros(
        &work,
        &[
            "predict",
            &spec,
            "--text",
            "x",
            "--cache-dir",
            cache,
            "--variant",
            "nope",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("sel[learning_rate=0.01]"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_matrix_without_select_or_variant_is_an_error_listing_the_variants() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let spec = sweep(dir, "");
    let o = kerros(dir, &["predict", &spec, "--text", "a good film"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("sweep.yaml:12:") && e.contains("select:") && e.contains("--variant"),
        "{e}"
    );
    for v in [
        "sel[learning_rate=0.0001]",
        "sel[learning_rate=0.01]",
        "sel[learning_rate=0.001]",
    ] {
        assert!(e.contains(v), "{v} in {e}");
    }
    // No model was trained to find that out.
    assert!(!dir.join(".kerros/cache/train").exists());
}

#[test]
fn an_unknown_selection_metric_names_the_line_and_the_valid_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let spec = sweep(dir, "select: {metric: accuracy}\n");
    let o = kerros(dir, &["validate", &spec]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("sweep.yaml:14:")
            && e.contains("select.metric")
            && e.contains("val_loss, val_accuracy, best_val_loss, best_epoch"),
        "{e}"
    );
}
