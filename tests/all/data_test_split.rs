//! `data.test: {fraction: F}` (a seeded, stratified test part of the training
//! file) and `kerros data split`, through the real binary.

use crate::support;

use std::collections::BTreeSet;
use std::path::Path;
use support::{kerros, write};

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// 100 rows, a third `neg`, in one file; a spec with a test fraction.
fn experiment(dir: &Path, test: &str, task: &str) -> String {
    let mut train = String::from("text,label\n");
    for i in 0..100 {
        let (word, label) = if i % 3 == 0 {
            ("bad awful", "neg".to_string())
        } else {
            ("good great", "pos".to_string())
        };
        let label = if task.contains("regression") {
            format!("{}", i % 10)
        } else {
            label
        };
        train.push_str(&format!("a {word} film number {i},{label}\n"));
    }
    write(dir, "train.csv", &train);
    let spec = format!(
        "name: frac\nseed: 1\n{task}data: {{train: train.csv, test: {test}, validation: {{fraction: 0.25}}}}\n\
tokenizer: {{num_words: 50}}\nsequence: {{maxlen: 6}}\nmodel:\n  layers:\n    - embedding: {{input_dim: 50, output_dim: 4}}\n    - flatten\n    - dense: {{units: 1}}\ntrain: {{epochs: 2, batch_size: 8}}\n"
    );
    write(dir, "s.yaml", &spec).display().to_string()
}

/// The rows of a split CSV written by `kerros data split`: (id, label).
fn rows(path: &Path) -> Vec<(i64, String)> {
    let mut r = csv::Reader::from_path(path).unwrap();
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        ["id", "text", "label"]
    );
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            (rec[0].parse().unwrap(), rec[2].to_string())
        })
        .collect()
}

#[test]
fn a_test_fraction_of_one_file_runs_and_data_split_writes_the_three_parts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let spec = experiment(dir, "{fraction: 0.2}", "");
    let o = kerros(dir, &["run", &spec, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert!(v["metrics"]["accuracy"].is_number(), "{v}");

    let o = kerros(dir, &["data", "split", &spec, "--out", "splits"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = dir.join("splits");
    let names: BTreeSet<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["train.csv", "validation.csv", "test.csv"].map(String::from))
    );
    let (train, val, test) = (
        rows(&out.join("train.csv")),
        rows(&out.join("validation.csv")),
        rows(&out.join("test.csv")),
    );
    // 20 test rows drawn first, then a quarter of the remaining 80 for validation.
    assert_eq!((train.len(), val.len(), test.len()), (60, 20, 20));
    let ids: BTreeSet<i64> = train.iter().chain(&val).chain(&test).map(|r| r.0).collect();
    assert_eq!(ids.len(), 100, "every row in exactly one split");
    // Stratified: a third of the test part is `neg` (ceil(20/3) or floor).
    let neg = test.iter().filter(|r| r.1 == "neg").count();
    assert!((6..=7).contains(&neg), "{neg} neg rows in test");
    let printed = stdout(&o);
    for line in [
        "train            60 rows",
        "validation       20 rows",
        "test             20 rows",
        "total           100 rows",
    ] {
        assert!(printed.contains(line), "{line:?} in\n{printed}");
    }

    // Seeded: the same files again, in Parquet this time.
    let o = kerros(
        dir,
        &[
            "data", "split", &spec, "--out", "again", "--format", "parquet",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(dir.join("again/test.parquet").is_file());
    let o = kerros(dir, &["data", "split", &spec, "--out", "again2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(rows(&dir.join("again2/test.csv")), test);

    // A folder holding other files is refused.
    let o = kerros(dir, &["data", "split", &spec, "--out", "splits"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("must not exist yet or be empty"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_regression_test_fraction_is_stratified_by_quantile_bins() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let spec = experiment(dir, "{fraction: 0.2}", "task: {type: regression}\n");
    let o = kerros(dir, &["data", "split", &spec, "--out", "splits"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let test = rows(&dir.join("splits/test.csv"));
    assert_eq!(test.len(), 20);
    // Targets 0..9 in five quantile bins of 20 rows: four test rows per bin.
    for bin in 0..5 {
        let n = test
            .iter()
            .filter(|r| r.1.parse::<i64>().unwrap() / 2 == bin)
            .count();
        assert_eq!(n, 4, "bin {bin}: {test:?}");
    }
}

#[test]
fn a_test_fraction_out_of_range_names_the_field_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for bad in ["{fraction: 1.5}", "{fraction: 0}", "{fraction: -0.1}"] {
        let spec = experiment(dir, bad, "");
        let o = kerros(dir, &["validate", &spec]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.contains("s.yaml:3:")
                && e.contains("data.test.fraction must be between 0 and 1 exclusive"),
            "{bad}: {e}"
        );
    }
    let spec = experiment(dir, "{share: 0.2}", "");
    let o = kerros(dir, &["validate", &spec]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("share"), "{}", stderr(&o));
}
