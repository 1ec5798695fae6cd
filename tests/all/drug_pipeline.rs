//! Druglib end to end through the binary: a small run with the exploration
//! section, `kerros predict` (--text, --json, --input/--output) for a
//! classifier and a regression, and malformed TSV rows (error or skip).

use crate::support;

use std::path::{Path, PathBuf};
use support::{druglib_data, kerros, write};

/// Tokenizer, sequence and training settings shared by the small specs.
fn model_settings(loss: &str) -> String {
    format!(
        "tokenizer: {{num_words: 3000}}\nsequence: {{maxlen: 120}}\n\
         train: {{epochs: 2, batch_size: 32, optimizer: {{name: adam, learning_rate: 0.01}}, loss: {{name: {loss}}}}}\n"
    )
}

fn rating3_spec(dir: &Path) -> PathBuf {
    let text = format!(
        r#"name: drug_tiny
seed: 5
data:
  dataset: druglib
  limit: 300
  validation: {{fraction: 0.2}}
task:
  type: multiclass
  bins: {{negative: [1, 4], neutral: [5, 6], positive: [7, 10]}}
model:
  layers:
    - embedding: {{input_dim: 3000, output_dim: 8}}
    - global_average_pooling1d
    - dense: {{units: 3}}
{}"#,
        model_settings("sparse_categorical_crossentropy")
    );
    write(dir, "drug_tiny.yaml", &text)
}

fn regression_spec(dir: &Path) -> PathBuf {
    let text = format!(
        r#"name: drug_reg_tiny
seed: 5
data:
  dataset: druglib
  limit: 300
task: {{type: regression, range: [1, 10]}}
model:
  layers:
    - embedding: {{input_dim: 3000, output_dim: 8}}
    - global_average_pooling1d
    - dense: {{units: 1}}
{}"#,
        model_settings("mse")
    );
    write(dir, "drug_reg_tiny.yaml", &text)
}

/// Common directory options, all inside the test's temporary folder.
fn dirs(dir: &Path, data: &Path) -> Vec<String> {
    vec![
        "--data-dir".into(),
        data.display().to_string(),
        "--cache-dir".into(),
        dir.join("cache").display().to_string(),
        "--reports-dir".into(),
        dir.join("reports").display().to_string(),
    ]
}

fn run_ok(dir: &Path, args: &[String]) -> String {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = kerros(dir, &a);
    assert!(
        out.status.success(),
        "kerros {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn args(first: &[&str], rest: &[String]) -> Vec<String> {
    first
        .iter()
        .map(|s| s.to_string())
        .chain(rest.iter().cloned())
        .collect()
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let head = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect();
    (head, rows)
}

#[test]
fn druglib_run_report_and_predict() {
    let Some(data) = druglib_data() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let spec = rating3_spec(dir);
    let d = dirs(dir, &data);
    let spec_s = spec.display().to_string();

    let out = run_ok(dir, &args(&["run", &spec_s, "--json"], &d));
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    for key in [
        "accuracy",
        "cohen_kappa",
        "cohen_kappa_quadratic",
        "f1_macro",
    ] {
        assert!(json["metrics"][key].is_number(), "{key} in {out}");
    }
    let html = std::fs::read_to_string(dir.join("reports/drug_tiny.html")).unwrap();
    assert!(html.contains(r#"<section id="exploration">"#));
    assert!(html.contains("Distribution of rating"), "rating histogram");
    assert!(html.contains("Most frequent: condition"));
    assert!(html.contains("Most frequent: urlDrugName"));
    assert!(html.contains("Review length per class"));
    assert!(html.contains("Most indicative words per class"));

    // --text: a header and one tab-separated line per text.
    let texts = [
        "This drug worked wonders, no side effects at all.",
        "Terrible. Severe nausea and it did nothing for my pain.",
    ];
    let out = run_ok(
        dir,
        &args(
            &["predict", &spec_s, "--text", texts[0], "--text", texts[1]],
            &d,
        ),
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "predicted\tp_negative\tp_neutral\tp_positive");
    assert_eq!(lines.len(), 3, "{out}");
    for l in &lines[1..] {
        let cells: Vec<&str> = l.split('\t').collect();
        assert!(["negative", "neutral", "positive"].contains(&cells[0]));
        let p: Vec<f64> = cells[1..].iter().map(|c| c.parse().unwrap()).collect();
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-3, "{l}");
        // The predicted class is the most probable one.
        let best = p.iter().cloned().fold(f64::MIN, f64::max);
        let k = ["negative", "neutral", "positive"]
            .iter()
            .position(|c| *c == cells[0])
            .unwrap();
        assert_eq!(p[k], best);
    }

    // --json: the same predictions with class names.
    let out = run_ok(
        dir,
        &args(&["predict", &spec_s, "--json", "--text", texts[0]], &d),
    );
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j[0]["text"], texts[0]);
    assert_eq!(j[0]["predicted"], lines[1].split('\t').next().unwrap());
    assert!(j[0]["probabilities"]["neutral"].is_number());

    // --input/--output with the spec's three review columns and an id column.
    let input = write(
        dir,
        "new.csv",
        &format!(
            "id,benefitsReview,sideEffectsReview,commentsReview\n41,\"{}\",,\n42,\"{}\",,\n",
            texts[0], texts[1]
        ),
    );
    let output = dir.join("pred.csv");
    run_ok(
        dir,
        &args(
            &[
                "predict",
                &spec_s,
                "--input",
                &input.display().to_string(),
                "--output",
                &output.display().to_string(),
            ],
            &d,
        ),
    );
    let (head, rows) = read_csv(&output);
    assert_eq!(
        head,
        ["id", "predicted", "p_negative", "p_neutral", "p_positive"]
    );
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0][0].as_str(), rows[1][0].as_str()), ("41", "42"));
    // The same texts give the same predictions as --text.
    assert_eq!(rows[0][1..].join("\t"), lines[1]);
    assert_eq!(rows[1][1..].join("\t"), lines[2]);

    // --text-column override; without an id column the row number is the id.
    let input = write(dir, "other.csv", &format!("review\n\"{}\"\n", texts[1]));
    run_ok(
        dir,
        &args(
            &[
                "predict",
                &spec_s,
                "--input",
                &input.display().to_string(),
                "--output",
                &output.display().to_string(),
                "--text-column",
                "review",
            ],
            &d,
        ),
    );
    let (_, rows) = read_csv(&output);
    assert_eq!(rows[0][0], "0");
    assert_eq!(rows[0][1..].join("\t"), lines[2]);

    // A missing text column is named with the columns there are.
    let a = args(
        &[
            "predict",
            &spec_s,
            "--input",
            &input.display().to_string(),
            "--output",
            &output.display().to_string(),
        ],
        &d,
    );
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let out = kerros(dir, &a);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("benefitsReview") && err.contains("other.csv") && err.contains("review"),
        "{err}"
    );
}

#[test]
fn druglib_regression_predict_rounds_into_range() {
    let Some(data) = druglib_data() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let spec = regression_spec(dir);
    let d = dirs(dir, &data);
    let spec_s = spec.display().to_string();
    // predict trains first when nothing is cached.
    let out = run_ok(
        dir,
        &args(
            &["predict", &spec_s, "--text", "Great, it helped a lot."],
            &d,
        ),
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "predicted\traw");
    let cells: Vec<&str> = lines[1].split('\t').collect();
    let rounded: i64 = cells[0].parse().unwrap();
    let raw: f64 = cells[1].parse().unwrap();
    assert!((1..=10).contains(&rounded));
    assert_eq!(rounded as f64, raw.round_ties_even().clamp(1.0, 10.0));

    let out = run_ok(dir, &args(&["run", &spec_s, "--json"], &d));
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let m = &json["metrics"];
    for key in [
        "mae",
        "rmse",
        "r2",
        "cohen_kappa_quadratic",
        "cohen_kappa_linear",
    ] {
        assert!(m[key].is_number(), "{key} in {m}");
    }
    let labels: Vec<String> = serde_json::from_value(m["confusion_labels"].clone()).unwrap();
    assert_eq!(labels.first().map(String::as_str), Some("1"));
    assert_eq!(labels.last().map(String::as_str), Some("10"));
    let stages = &json["stages"];
    assert_eq!(stages["train"], "cached", "the run reuses predict's model");
    let html = std::fs::read_to_string(dir.join("reports/drug_reg_tiny.html")).unwrap();
    assert!(html.contains("Distribution of rating"));
    assert!(html.contains("Quadratic-weighted kappa"));

    let input = write(dir, "in.csv", "text\nawful\nwonderful\n");
    let output = dir.join("out.csv");
    run_ok(
        dir,
        &args(
            &[
                "predict",
                &spec_s,
                "--input",
                &input.display().to_string(),
                "--output",
                &output.display().to_string(),
                "--text-column",
                "text",
            ],
            &d,
        ),
    );
    let (head, rows) = read_csv(&output);
    assert_eq!(head, ["id", "predicted", "raw"]);
    assert_eq!(rows.len(), 2);
}

/// A druglib-like TSV pair whose training file has one row with a field too many.
fn bad_tsv_spec(dir: &Path, on_bad_rows: &str) -> PathBuf {
    let head = "num\turlDrugName\trating\tcondition\treview\n";
    let mut train = String::from(head);
    for i in 0..20 {
        let (r, t) = if i % 2 == 0 {
            (9, "works great no problems")
        } else {
            (2, "awful side effects stopped it")
        };
        train.push_str(&format!("{i}\tdrug{}\t{r}\tpain\t{t}\n", i % 3));
        if i == 4 {
            // Line 7 of the file (header is line 1).
            train.push_str("99\tdrugx\t5\tpain\ttoo\tmany\n");
        }
    }
    let mut test = String::from(head);
    test.push_str("100\tdrug1\t8\tpain\tworks great\n101\tdrug2\t1\tpain\tawful\n");
    write(dir, "train.tsv", &train);
    write(dir, "test.tsv", &test);
    let spec = format!(
        r#"name: bad_tsv
data:
  train: train.tsv
  test: test.tsv
  text_column: review
  label_column: rating
  id_column: num
  on_bad_rows: {on_bad_rows}
task: {{type: binary, bins: {{low: [1, 6], high: [7, 10]}}}}
tokenizer: {{num_words: 50}}
sequence: {{maxlen: 6}}
model:
  layers:
    - embedding: {{input_dim: 50, output_dim: 4}}
    - global_average_pooling1d
    - dense: {{units: 1}}
train: {{epochs: 1, batch_size: 8}}
"#
    );
    write(dir, "bad.yaml", &spec)
}

#[test]
fn malformed_tsv_rows_error_or_skip() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let spec = bad_tsv_spec(dir, "error");
    let cache = dir.join("cache").display().to_string();
    let reports = dir.join("reports").display().to_string();
    let spec_s = spec.display().to_string();
    let run = |spec: &str| {
        kerros(
            dir,
            &[
                "run",
                spec,
                "--json",
                "--cache-dir",
                &cache,
                "--reports-dir",
                &reports,
            ],
        )
    };
    let out = run(&spec_s);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("train.tsv") && err.contains("line 7") && err.contains("expected 5 fields"),
        "{err}"
    );

    let spec = bad_tsv_spec(dir, "skip");
    let out = run(&spec.display().to_string());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The count surfaces in the report's data summary.
    let html = std::fs::read_to_string(dir.join("reports/bad_tsv.html")).unwrap();
    assert!(
        html.contains("Rows skipped while reading") && html.contains("<strong>1</strong>"),
        "skipped count in the report"
    );
}
