//! `vectorize.mode: doc_vectors` with `data.unlabelled`, through the real
//! binary: document vectors trained on the training split plus unlabelled
//! texts, cached and keyed by the unlabelled file, used by `predict`, and
//! the spec errors around them.

use crate::support::{kerros, ok, write};
use std::path::Path;

const POSITIVE: [&str; 5] = ["great", "wonderful", "superb", "moving", "brilliant"];
const NEGATIVE: [&str; 5] = ["awful", "boring", "dull", "terrible", "weak"];

/// A review of `len` words: sentiment words of one side among neutral ones.
fn review(i: usize, positive: bool) -> String {
    let words = if positive { POSITIVE } else { NEGATIVE };
    let neutral = ["the", "film", "plot", "actor", "scene", "story"];
    (0..12)
        .map(|k| {
            if k % 3 == 0 {
                words[(i + k) % words.len()]
            } else {
                neutral[(i * 7 + k) % neutral.len()]
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn labelled(rows: std::ops::Range<usize>) -> String {
    let mut csv = String::from("text,label\n");
    for i in rows {
        let positive = i % 2 == 0;
        csv.push_str(&format!(
            "{},{}\n",
            review(i, positive),
            if positive { "pos" } else { "neg" }
        ));
    }
    csv
}

/// Unlabelled texts: reviews of both sides, no label column.
fn unlabelled(rows: usize) -> String {
    let mut csv = String::from("id,text\n");
    for i in 0..rows {
        csv.push_str(&format!("{i},{}\n", review(i + 1000, i % 3 == 0)));
    }
    csv
}

fn spec(extra_data: &str, vectorize: &str) -> String {
    format!(
        "name: dv\nseed: 3\ndata:\n  train: train.csv\n  test: test.csv\n  validation: {{fraction: 0.2}}\n{extra_data}\
vectorize:\n{vectorize}\
model:\n  layers:\n    - dense: {{units: 1}}\n\
train:\n  optimizer: {{name: adam, learning_rate: 0.05}}\n  loss: {{name: binary_crossentropy, from_logits: true}}\n  epochs: 30\n  batch_size: 16\n"
    )
}

const DOC_VECTORS: &str =
    "  mode: doc_vectors\n  ngrams: 2\n  doc_vectors: {dim: 16, epochs: 20, sample: 0}\n";

fn project(dir: &Path) -> String {
    write(dir, "train.csv", &labelled(0..120));
    write(dir, "test.csv", &labelled(500..560));
    write(dir, "unlabelled.csv", &unlabelled(300));
    write(
        dir,
        "dv.yaml",
        &spec("  unlabelled: unlabelled.csv\n", DOC_VECTORS),
    )
    .display()
    .to_string()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn document_vectors_learn_from_unlabelled_texts_and_are_cached_by_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let spec = project(dir);
    let out = ok(&kerros(dir, &["run", &spec, "--json"]));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let accuracy = v["metrics"]["accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.9, "test accuracy {accuracy}");

    // The report does not read vector dimensions as n-grams.
    let page = std::fs::read_to_string(dir.join("reports/dv.html")).unwrap();
    assert!(
        page.contains("whose dimensions stand for no single word"),
        "explanation note missing"
    );
    assert!(
        page.contains("unlabelled.csv"),
        "the unlabelled file is not among the report's sources"
    );

    // Unchanged: every stage is reused.
    let o = kerros(dir, &["run", &spec]);
    let log = format!("{}{}", ok(&o), stderr(&o));
    assert!(log.contains("stages: 0 ran"), "{log}");

    // Another unlabelled text: the vocabulary (the vectors' training) runs again.
    write(dir, "unlabelled.csv", &unlabelled(301));
    let o = kerros(dir, &["run", &spec]);
    ok(&o);
    let log = format!("{}{}", stderr(&o), String::from_utf8_lossy(&o.stdout));
    assert!(log.contains("vocabulary ran"), "{log}");

    // `predict` infers a new text's vector with the stored model.
    let o = kerros(
        dir,
        &[
            "predict",
            &spec,
            "--json",
            "--text",
            "a great superb wonderful film",
            "--text",
            "dull awful boring",
        ],
    );
    let p: serde_json::Value = serde_json::from_str(ok(&o).trim()).unwrap();
    assert_eq!(p[0]["predicted"], "pos", "{p}");
    assert_eq!(p[1]["predicted"], "neg", "{p}");
}

#[test]
fn doc_vector_spec_errors_name_the_key_and_what_is_valid() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    project(dir);
    let cases = [
        (
            spec("  unlabelled: unlabelled.csv\n", "  mode: multi_hot\n"),
            "data.unlabelled",
        ),
        (
            spec("  unlabelled: true\n", DOC_VECTORS),
            "names no `dataset`",
        ),
        (
            spec("", "  mode: doc_vectors\n  doc_vectors: {dim: 0}\n"),
            "vectorize.doc_vectors.dim",
        ),
        (
            spec("", "  mode: doc_vectors\n  doc_vectors: {dims: 8}\n"),
            "dims",
        ),
        (
            spec("  unlabelled: missing.csv\n", DOC_VECTORS),
            "missing.csv",
        ),
        (spec("  unlabelled: false\n", DOC_VECTORS), "remove the key"),
    ];
    for (i, (yaml, expected)) in cases.iter().enumerate() {
        let path = write(dir, &format!("bad{i}.yaml"), yaml);
        let o = kerros(dir, &["run", &path.display().to_string()]);
        assert_ne!(o.status.code(), Some(0), "case {i} should fail");
        let err = stderr(&o);
        assert!(
            err.contains(expected),
            "case {i}: {expected:?} not in\n{err}"
        );
        assert!(!err.contains("panicked"), "case {i}: {err}");
    }
    // An unlabelled file without the text column names what it has.
    write(dir, "no_text.csv", "id,body\n1,a great film\n");
    let path = write(
        dir,
        "bad_col.yaml",
        &spec("  unlabelled: no_text.csv\n", DOC_VECTORS),
    );
    let o = kerros(dir, &["run", &path.display().to_string()]);
    let err = stderr(&o);
    assert!(err.contains("no_text.csv") && err.contains("body"), "{err}");
}

#[test]
fn an_ensemble_may_mix_members_with_and_without_unlabelled_texts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    project(dir);
    let bag = spec("", "  mode: multi_hot\n  ngrams: 2\n").replace("name: dv", "name: bag");
    write(dir, "bag.yaml", &bag);
    let ensemble = write(
        dir,
        "both.yaml",
        "name: both\nseed: 3\nensemble:\n  members: [dv.yaml, bag.yaml]\n  combine: mean\n",
    );
    let out = ok(&kerros(
        dir,
        &["run", &ensemble.display().to_string(), "--json"],
    ));
    let v: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert!(v["metrics"]["accuracy"].as_f64().unwrap() >= 0.9, "{v}");
}

#[test]
fn validate_counts_the_document_vector_table_against_the_memory_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    project(dir);
    let big = "  mode: doc_vectors\n  max_tokens: 1000000\n  doc_vectors: {dim: 100}\n";
    let path = write(
        dir,
        "big.yaml",
        &spec("  unlabelled: unlabelled.csv\n", big),
    );
    let path = path.display().to_string();
    // 1,000,000 terms × 100 floats = 400 MB: refused under 100M, at its key.
    let o = kerros(dir, &["validate", &path, "--max-memory", "100M"]);
    assert_ne!(o.status.code(), Some(0));
    let err = stderr(&o);
    assert!(
        err.contains("big.yaml:10:3") && err.contains("vectorize.max_tokens"),
        "{err}"
    );
    assert!(err.contains("document-vector table 381.5 MiB"), "{err}");
    ok(&kerros(dir, &["validate", &path, "--max-memory", "1G"]));
}
