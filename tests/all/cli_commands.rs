//! The kerros binary as a user meets it: spec errors, `--json`, CI gates,
//! sweeps with `compare`, `verify`, `init`, `forward` and `show`.

use crate::support;

use std::path::Path;
use support::{kerros, shared_data, write};

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const SMALL: &str = r#"name: small
seed: 5
data: {dataset: imdb, limit: 300}
tokenizer: {num_words: 3000}
sequence: {maxlen: 60}
model:
  layers:
    - embedding: {input_dim: 3000, output_dim: 8}
    - global_average_pooling1d
    - dense: {units: 1}
train: {epochs: 2, batch_size: 32}
"#;

#[test]
fn misspelt_key_names_line_and_suggestion() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = SMALL.replace("epochs: 2", "epocs: 2");
    let p = write(tmp.path(), "typo.yaml", &spec);
    let o = kerros(tmp.path(), &["validate", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("typo.yaml:11:"), "{e}");
    assert!(e.contains("did you mean `epochs`"), "{e}");
}

#[test]
fn a_wrong_typed_value_is_answered_with_what_is_valid_there() {
    let tmp = tempfile::tempdir().unwrap();
    // (spec change, what the error must say); none may name a Rust type.
    let cases = [
        (
            SMALL.replace("limit: 300}", "limit: 300, validation: yes}"),
            "keys among `fraction`, `file`, `folds`",
        ),
        (
            SMALL.replace(
                "train: {epochs: 2, batch_size: 32}",
                "train: {epochs: 2, optimizer: adam}",
            ),
            "keys among `name`, `learning_rate`",
        ),
        (
            SMALL.replace(
                "- dense: {units: 1}",
                "- dense: {units: 1, activation: [relu]}",
            ),
            "expected one name: `linear`, `relu`, `sigmoid`, `tanh`, `softmax`",
        ),
        (
            SMALL.replace("seed: 5", "seed: five"),
            "expected a whole number, 0 or more",
        ),
        (
            SMALL.replace("{maxlen: 60}", "{maxlen: 60, padding: {pre: 1}}"),
            "expected one name: `pre` or `post`",
        ),
    ];
    for (i, (spec, want)) in cases.iter().enumerate() {
        let p = write(tmp.path(), &format!("wrong{i}.yaml"), spec);
        let o = kerros(tmp.path(), &["validate", p.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let e = stderr(&o);
        assert!(e.contains(&format!("wrong{i}.yaml:")), "{e}");
        assert!(e.contains(want), "case {i}: {e}");
        for jargon in ["struct ", "Spec`", "u64", "YAML tag"] {
            assert!(!e.contains(jargon), "case {i} says `{jargon}`: {e}");
        }
    }
}

#[test]
fn malformed_specs_never_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        "",
        "name: [unclosed",
        "- a\n- b\n",
        "name: x\n",
        "name: x\nmodel: {layers: []}\n",
        "name: x\nmodel: {layers: [dense]}\n",
        "name: x\nmodel: {layers: [{conv9: {}}]}\n",
        "name: x\nmodel: {layers: [{dense: {units: -1}}]}\n",
        "name: x\nmodel: {layers: [{dense: {units: 1}, flatten: {}}]}\n",
        "name: x\ndata: {dataset: imdb}\nmodel: {layers: [{embedding: {input_dim: 10, output_dim: 2}}, {dense: {units: 1}}]}\nsequence: {maxlen: 5}\n",
        "name: x\ndata: {dataset: imdb, validation: {fraction: 1.5}}\nmodel: {layers: [{dense: {units: 1}}]}\n",
        "name: x\ntask: {type: multiclass, bins: {a: [1, 4], b: [3, 6]}}\nmodel: {layers: [{dense: {units: 2}}]}\n",
        "name: x\ntrain: {epochs: 0}\nmodel: {layers: [{dense: {units: 1}}]}\n",
        "name: x\nmodel: {layers: [{dense: {units: 2, kernel: [[1, 2]]}}], input_dim: 3}\n",
        "name: x\nseed: 99999999999999999999999\nmodel: {layers: [flatten]}\n",
        "\u{0}\u{1}binary",
    ];
    for (i, case) in cases.iter().enumerate() {
        let p = write(tmp.path(), &format!("bad{i}.yaml"), case);
        let o = kerros(tmp.path(), &["validate", p.to_str().unwrap()]);
        assert_eq!(
            o.status.code(),
            Some(2),
            "case {i} {case:?}: {}",
            stderr(&o)
        );
        assert!(
            stderr(&o).starts_with("error: "),
            "case {i}: {}",
            stderr(&o)
        );
        assert!(
            stderr(&o).contains(&format!("bad{i}.yaml")),
            "case {i}: {}",
            stderr(&o)
        );
    }
}

#[test]
fn dense_after_embedding_is_a_shape_error_naming_the_layer() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = SMALL.replace("    - global_average_pooling1d\n", "");
    let p = write(tmp.path(), "shape.yaml", &spec);
    let o = kerros(tmp.path(), &["validate", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("model.layers[1]"), "{e}");
    assert!(e.contains("flatten"), "{e}");
    assert!(e.contains("shape.yaml:9:"), "{e}");
}

#[test]
fn show_prints_every_default() {
    let tmp = tempfile::tempdir().unwrap();
    let p = write(tmp.path(), "s.yaml", SMALL);
    let o = kerros(tmp.path(), &["show", p.to_str().unwrap()]);
    assert!(o.status.success());
    let out = stdout(&o);
    for key in [
        "filters:",
        "padding: pre",
        "truncating: pre",
        "learning_rate: 0.001",
        "from_logits: true",
        "shuffle: true",
        "examples: 5",
    ] {
        assert!(out.contains(key), "missing {key} in\n{out}");
    }
}

#[test]
fn json_gates_verify_and_rerun() {
    let Some(data) = shared_data() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let data = data.to_str().unwrap();
    let met = format!("{SMALL}expect:\n  accuracy: \">= 0.0\"\n");
    let p = write(dir, "small.yaml", &met);
    let o = kerros(
        dir,
        &[
            "run",
            p.to_str().unwrap(),
            "--data-dir",
            data,
            "--json",
            "--author",
            "A. Student",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 1, "exactly one JSON object: {out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for key in [
        "metrics",
        "stages",
        "history",
        "report",
        "artifacts",
        "params",
        "seconds",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["history"].as_array().unwrap().len(), 2);
    assert!(v["metrics"]["confusion_matrix"].is_array());
    let report = dir.join(v["report"].as_str().unwrap());
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("A. Student"));

    // An untouched report verifies; an edited accuracy is caught.
    let o = kerros(dir, &["verify", report.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let acc = format!("{:.4}", v["metrics"]["accuracy"].as_f64().unwrap());
    let forged = if acc.starts_with("0.9") {
        "0.8888"
    } else {
        "0.9999"
    };
    let edited = html.replacen(&format!(">{acc}<"), &format!(">{forged}<"), 1);
    assert_ne!(edited, html, "the accuracy {acc} is shown in the report");
    let edited_path = write(dir, "edited.html", &edited);
    let o = kerros(dir, &["verify", edited_path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(4), "{}", stdout(&o));
    assert!(stdout(&o).contains("NOT intact"));

    // --rerun re-runs the embedded spec and confirms the metrics.
    let o = kerros(
        dir,
        &[
            "verify",
            report.to_str().unwrap(),
            "--rerun",
            "--data-dir",
            data,
            "--cache-dir",
            "other-cache",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("reproduced"), "{}", stdout(&o));

    // An unmet gate exits 3 and names metric, value and bound.
    let unmet = format!("{SMALL}expect:\n  accuracy: \">= 0.999\"\n");
    let p = write(dir, "small.yaml", &unmet);
    let o = kerros(dir, &["run", p.to_str().unwrap(), "--data-dir", data]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("accuracy = ") && e.contains(">= 0.999"), "{e}");
}

#[test]
fn sweep_shares_vocabularies_and_compare_lists_variants() {
    let Some(data) = shared_data() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let spec = SMALL.replace("limit: 300", "limit: 5000").replace("epochs: 2", "epochs: 1")
        + "matrix:\n  train.optimizer.learning_rate: [0.001, 0.01]\n  tokenizer.num_words: [2000, 3000]\n";
    let p = write(dir, "sweep.yaml", &spec);
    let o = kerros(
        dir,
        &[
            "run",
            p.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
            "--jobs",
            "2",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 4);
    let e = stderr(&o);
    assert_eq!(e.matches("vocabulary ran").count(), 2, "{e}");
    assert_eq!(e.matches("vocabulary cached").count(), 2, "{e}");
    let o = kerros(
        dir,
        &[
            "compare",
            p.to_str().unwrap(),
            "--sort",
            "cohen_kappa",
            "--html",
            "cmp.html",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let table = stdout(&o);
    for name in [
        "small[learning_rate=0.001,num_words=2000]",
        "small[learning_rate=0.001,num_words=3000]",
        "small[learning_rate=0.01,num_words=2000]",
        "small[learning_rate=0.01,num_words=3000]",
    ] {
        assert!(table.contains(name), "{name} missing from\n{table}");
    }
    assert!(table.contains("cohen_kappa") && table.contains("learning_rate"));
    assert!(dir.join("cmp.html").is_file());
}

#[test]
fn init_creates_a_runnable_experiment() {
    let Some(data) = shared_data() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let o = kerros(tmp.path(), &["init", "exp"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let exp = tmp.path().join("exp");
    for f in [
        "experiment.yaml",
        ".gitignore",
        ".github/workflows/kerros.yml",
    ] {
        assert!(exp.join(f).is_file(), "{f}");
    }
    let o = kerros(
        &exp,
        &[
            "run",
            "experiment.yaml",
            "--data-dir",
            data.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(Path::new(&exp).join("reports").read_dir().unwrap().count() >= 1);
    // Running init again refuses to overwrite.
    let o = kerros(tmp.path(), &["init", "exp"]);
    assert!(!o.status.success());
}

#[test]
fn forward_shows_the_hand_calculation() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = kerros(
        root,
        &[
            "forward",
            "pipelines/hand_calculation.yaml",
            "--input",
            "1,3,2",
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let steps = &v["inputs"][0]["steps"];
    assert_eq!(steps[0]["a"], serde_json::json!([5.0, 5.0]));
    assert_eq!(steps[1]["a"], serde_json::json!([0.0]));
    let o = kerros(
        root,
        &[
            "forward",
            "pipelines/hand_calculation_relu_bias.yaml",
            "--input",
            "1,3,2",
            "--json",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let steps = &v["inputs"][0]["steps"];
    assert_eq!(steps[0]["z"], serde_json::json!([-1.0, 5.0]));
    assert_eq!(steps[0]["a"], serde_json::json!([0.0, 5.0]));
    assert_eq!(steps[1]["a"], serde_json::json!([-5.0]));
    // The text form prints the matrices with their names.
    let o = kerros(
        root,
        &[
            "forward",
            "pipelines/hand_calculation.yaml",
            "--input",
            "1,3,2",
        ],
    );
    let text = stdout(&o);
    assert!(
        text.contains("W1 =") && text.contains("A3 = [ 0 ]"),
        "{text}"
    );
}

#[test]
fn kernel_shape_mismatch_names_the_layer() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = "name: bad\nmodel:\n  input_dim: 3\n  layers:\n    - dense: {units: 2, kernel: [[1, 0, 2], [0, 1, 1]]}\n    - dense: {units: 1, kernel: [[1, -1, 4]]}\n";
    let p = write(tmp.path(), "bad.yaml", spec);
    let o = kerros(
        tmp.path(),
        &["forward", p.to_str().unwrap(), "--input", "1,3,2"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("model.layers[1]") && e.contains("bad.yaml:6:"),
        "{e}"
    );
    assert!(e.contains("1×3") || e.contains("1x3"), "{e}");
}

#[test]
fn run_without_data_reports_the_forward_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let spec = root.join("pipelines/hand_calculation.yaml");
    let o = kerros(tmp.path(), &["run", spec.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(tmp.path().join("reports/hand_calculation.html")).unwrap();
    assert!(html.contains("Forward pass"));
    assert!(html.contains("<svg"), "the network diagram is drawn");
}

#[test]
fn json_reports_skipped_rows() {
    // Rows without a label or with the wrong number of fields are malformed;
    // `skip` drops them (an empty text is a valid, empty review).
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut train = support::film_reviews_csv(40, ("good", "pos"), ("bad", "neg"));
    train.push_str("no label here,\n,pos\nthree,fields,here\n");
    write(dir, "train.csv", &train);
    write(
        dir,
        "test.csv",
        "text,label\na good film,pos\na bad film,neg\nno comma\n",
    );
    let spec = r#"name: skipping
seed: 1
data: {train: train.csv, test: test.csv, on_bad_rows: skip, validation: {fraction: 0.25}}
tokenizer: {num_words: 50}
sequence: {maxlen: 6}
model:
  layers:
    - embedding: {input_dim: 50, output_dim: 4}
    - flatten
    - dense: {units: 1}
train: {epochs: 1, batch_size: 8}
"#;
    let p = write(dir, "skipping.yaml", spec);
    let o = kerros(dir, &["run", p.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["skipped_rows"]["total"], 3, "{}", stdout(&o));
    // Per file: two in train.csv, one in test.csv.
    assert_eq!(
        v["skipped_rows"],
        serde_json::json!({"train": 2, "validation": 0, "test": 1, "total": 3})
    );
    // The text summary says it too.
    let o = kerros(dir, &["run", p.to_str().unwrap()]);
    assert!(
        stdout(&o).contains("skipped rows           3 (train 2, validation 0, test 1)"),
        "{}",
        stdout(&o)
    );
}

/// A missing spec file is an invalid argument: exit 2 (it used to be 1 for
/// `run`, `validate` and `compare`), with the file named.
#[test]
fn missing_spec_or_bad_arguments_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for args in [
        &["run", "no_such.yaml"][..],
        &["validate", "no_such.yaml"],
        &["show", "no_such.yaml"],
        &["compare", "no_such.yaml"],
        &["predict", "no_such.yaml", "--text", "fine"],
    ] {
        let o = kerros(dir, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("no_such.yaml") && stderr(&o).contains("cannot read"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    // predict with neither --text nor --input cannot work: exit 2 too.
    let p = write(dir, "small.yaml", SMALL);
    let o = kerros(dir, &["predict", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--text"), "{}", stderr(&o));
}

/// `verify --rerun` on an untouched report of a spec with relative CSV paths
/// resolves them against the spec's folder recorded in the report (it used
/// to re-run from a temporary folder: "train file not found"); a moved data
/// folder is named with where it was looked for, and `--spec-dir` points to
/// the new place.
#[test]
fn verify_rerun_resolves_relative_data_paths() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let exp = dir.join("exp");
    std::fs::create_dir_all(exp.join("data")).unwrap();
    std::fs::create_dir_all(dir.join("elsewhere")).unwrap();
    let train = support::film_reviews_csv(40, ("good", "pos"), ("bad", "neg"));
    write(&exp, "data/train.csv", &train);
    write(
        &exp,
        "data/test.csv",
        "text,label\na good film,pos\na bad film,neg\n",
    );
    let spec = r#"name: relative
seed: 3
data: {train: data/train.csv, test: data/test.csv}
tokenizer: {num_words: 50}
sequence: {maxlen: 6}
model:
  layers:
    - embedding: {input_dim: 50, output_dim: 4}
    - flatten
    - dense: {units: 1}
train: {epochs: 2, batch_size: 8}
"#;
    write(&exp, "relative.yaml", spec);
    let o = kerros(dir, &["run", "exp/relative.yaml", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let report = dir.join(v["report"].as_str().unwrap());
    let report = report.to_str().unwrap();
    let cache = dir.join(".kerros/cache");
    let cache = cache.to_str().unwrap();

    // From another folder, the recorded spec folder still finds the data.
    let elsewhere = dir.join("elsewhere");
    let o = kerros(
        &elsewhere,
        &["verify", report, "--rerun", "--cache-dir", cache],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("reproduced"), "{}", stdout(&o));

    // Moved data: the error names the file and where it looked.
    std::fs::rename(&exp, dir.join("moved")).unwrap();
    let o = kerros(
        &elsewhere,
        &["verify", report, "--rerun", "--cache-dir", cache],
    );
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("train file `data/train.csv` not found")
            && e.contains(&exp.join("data/train.csv").display().to_string())
            && e.contains("--spec-dir"),
        "{e}"
    );
    let moved = dir.join("moved");
    let args = [
        "verify",
        report,
        "--rerun",
        "--cache-dir",
        cache,
        "--spec-dir",
    ];
    let mut args = args.to_vec();
    args.push(moved.to_str().unwrap());
    let o = kerros(&elsewhere, &args);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("reproduced"), "{}", stdout(&o));

    // A changed data file is named before the metrics are compared.
    write(
        &moved,
        "data/test.csv",
        "text,label\na bad film,neg\na good film,pos\n",
    );
    let o = kerros(&elsewhere, &args);
    assert!(
        stdout(&o).contains("test file") && stdout(&o).contains("has changed"),
        "{}",
        stdout(&o)
    );
}
