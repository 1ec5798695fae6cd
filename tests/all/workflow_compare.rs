//! Run records and `kerros compare`: differing settings, the table, the page.

use kerros::report::compare::{comparison_html, differing_settings, flatten, table, Comparison};
use kerros::report::record::{load_record, load_records, record_path, save_record, RunRecord};
use kerros::report::selection::validation_metrics;
use kerros::spec::sweep::expand;
use serde_json::{json, Value};
use std::path::Path;

fn record(name: &str, epochs: u64, lr: f64, metrics: Value, history: Vec<Value>) -> RunRecord {
    RunRecord {
        name: name.into(),
        // Keys in alphabetical order, so the flattening order is the same
        // whether or not serde_json keeps insertion order.
        spec: json!({"name": name, "seed": 42, "train": {"epochs": epochs, "optimizer": {"learning_rate": lr}}}),
        metrics: serde_json::from_value(metrics).unwrap(),
        // As the runner saves them: validation metrics from the history.
        validation: validation_metrics(&history),
        hints: vec![],
        history,
        report: Some(format!("reports/{name}.html")),
        predictions: None,
    }
}

fn three() -> Vec<RunRecord> {
    vec![
        record(
            "a",
            5,
            0.001,
            json!({"accuracy": 0.8, "cohen_kappa": 0.6, "confusion_matrix": [[1]]}),
            vec![
                json!({"loss": 0.7, "accuracy": 0.6, "val_loss": 0.65, "val_accuracy": 0.62}),
                json!({"loss": 0.5, "accuracy": 0.7, "val_loss": 0.55, "val_accuracy": 0.71}),
            ],
        ),
        record(
            "bb",
            5,
            0.01,
            json!({"accuracy": 0.85, "cohen_kappa": 0.7}),
            vec![
                json!({"epoch": 1, "val_loss": 0.6, "val_accuracy": 0.66}),
                json!({"epoch": 2, "val_loss": 0.5, "val_accuracy": 0.75}),
                json!({"epoch": 3, "val_loss": 0.45, "val_accuracy": 0.8}),
            ],
        ),
        record(
            "c",
            10,
            0.1,
            json!({"accuracy": 0.75, "cohen_kappa": null}),
            vec![],
        ),
    ]
}

#[test]
fn flatten_uses_dotted_paths_and_indices() {
    let v =
        json!({"model": {"layers": [{"dense": {"units": 3}}, "flatten"]}, "tags": [], "x": null});
    let flat = flatten(&v);
    assert_eq!(
        flat,
        vec![
            ("model.layers[0].dense.units".to_string(), json!(3)),
            ("model.layers[1]".to_string(), json!("flatten")),
            ("tags".to_string(), json!([])),
            ("x".to_string(), Value::Null),
        ]
    );
}

#[test]
fn differing_settings_leave_out_the_name() {
    let rs = three();
    assert_eq!(
        differing_settings(&rs),
        ["train.epochs", "train.optimizer.learning_rate"]
    );
    assert!(differing_settings(&rs[..1]).is_empty());
    assert_eq!(
        differing_settings(&rs[..2]),
        ["train.optimizer.learning_rate"]
    );
    // A setting present in one run only differs.
    let mut extra = rs[..2].to_vec();
    extra[1].spec["data"] = json!({"limit": 10});
    assert_eq!(
        differing_settings(&extra),
        ["train.optimizer.learning_rate", "data.limit"]
    );
}

#[test]
fn table_sorted_by_kappa_descending() {
    let t = table(&three(), &[], Some("cohen_kappa"), true).unwrap();
    let want = "\
name  epochs  learning_rate  val_loss  val_accuracy  best_val_loss  best_epoch  test:accuracy  test:cohen_kappa
----  ------  -------------  --------  ------------  -------------  ----------  -------------  ----------------
bb    5       0.01             0.4500        0.8000         0.4500           3         0.8500            0.7000
a     5       0.001            0.5500        0.7100         0.5500           2         0.8000            0.6000
c     10      0.1                   -             -              -           -         0.7500               n/a
";
    assert_eq!(t, want);
}

#[test]
fn table_sorted_by_a_setting_and_chosen_metrics() {
    let rs = three();
    let t = table(&rs, &["accuracy".to_string()], Some("learning_rate"), false).unwrap();
    let names: Vec<&str> = t
        .lines()
        .skip(2)
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(names, ["a", "bb", "c"]);
    assert!(!t.contains("cohen_kappa"));
    let t = table(&rs, &["accuracy".to_string()], Some("train.epochs"), true).unwrap();
    let names: Vec<&str> = t
        .lines()
        .skip(2)
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(names, ["c", "a", "bb"], "stable for equal values");
    // Sorting by a metric not chosen adds its column.
    let c = Comparison::new(&rs, &["accuracy".to_string()], Some("cohen_kappa"), false).unwrap();
    assert_eq!(c.metrics, ["accuracy", "cohen_kappa"]);
    let order: Vec<&str> = c.records.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        order,
        ["a", "bb", "c"],
        "undefined values sort last either way"
    );
}

#[test]
fn missing_metrics_and_unknown_names() {
    let mut rs = three();
    rs[0].metrics.remove("cohen_kappa");
    let t = table(&rs, &[], None, false).unwrap();
    let a_row = t.lines().nth(2).unwrap();
    assert!(a_row.starts_with("a ") && a_row.ends_with(" -"), "{a_row}");
    let e = table(&rs, &[], Some("cohen_kapa"), true)
        .unwrap_err()
        .to_string();
    assert!(e.contains("did you mean `cohen_kappa`"), "{e}");
    assert!(e.contains("train.epochs"), "settings offered too: {e}");
    let e = table(&rs, &["f1".to_string()], None, true)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no run has a metric `f1`") && e.contains("accuracy, cohen_kappa"),
        "{e}"
    );
    assert!(table(&[], &[], None, false).is_err());
}

#[test]
fn comparison_page_is_self_contained_and_escaped() {
    let mut rs = three();
    rs[2].name = "c<script>".into();
    let h = comparison_html(&rs, &[], Some("accuracy"), true).unwrap();
    assert!(h.starts_with("<!DOCTYPE html>"));
    assert!(h.contains("c&lt;script&gt;") && !h.contains("<script"));
    assert!(!h.contains("src=") && !h.contains("<link"));
    assert_eq!(h.matches("<svg").count(), 2);
    // a and bb have curves in both charts; c has no history.
    assert_eq!(h.matches("<polyline").count(), 4);
    assert_eq!(h.matches("<circle").count(), 2 * (2 + 3));
    assert!(h.contains("Validation accuracy") && h.contains("Validation loss"));
    assert!(h.contains("<td class=\"num\">0.8500</td>"));
    assert!(h.contains("sorted by <code>accuracy</code> (descending)"));
    // Row order follows the sort: bb, a, c.
    let (bb, a) = (h.find("</span>bb<").unwrap(), h.find("</span>a<").unwrap());
    assert!(bb < a);
}

#[test]
fn sweep_variants_compare_on_their_matrix_settings() {
    let src = "name: s\nmodel:\n  layers:\n    - dense: {units: 1}\nmatrix:\n  tokenizer.num_words: [100, 200]\n  train.optimizer.learning_rate: [0.1, 0.01]\n";
    let vs = expand(src, Path::new("s.yaml")).unwrap();
    let rs: Vec<RunRecord> = vs
        .iter()
        .enumerate()
        .map(|(i, v)| RunRecord {
            name: v.name.clone(),
            spec: serde_json::to_value(&v.spec).unwrap(),
            metrics: serde_json::from_value(json!({"accuracy": 0.5 + i as f64 / 10.0})).unwrap(),
            validation: Default::default(),
            hints: vec![],
            history: vec![],
            report: None,
            predictions: None,
        })
        .collect();
    assert_eq!(
        differing_settings(&rs),
        ["tokenizer.num_words", "train.optimizer.learning_rate"]
    );
    let t = table(&rs, &[], Some("accuracy"), true).unwrap();
    assert!(
        t.lines()
            .nth(2)
            .unwrap()
            .starts_with("s[num_words=200,learning_rate=0.01]  200 "),
        "{t}"
    );
}

#[test]
fn record_file_names_are_safe_and_distinct() {
    let root = Path::new("/c");
    assert_eq!(
        record_path(root, "imdb[learning_rate=0.01,num_words=5000]"),
        Path::new("/c/runs/imdb[learning_rate=0.01,num_words=5000].json")
    );
    let names = ["a/b", "a_b", "Run", "run", "..", "é", "x y"];
    let paths: Vec<_> = names.iter().map(|n| record_path(root, n)).collect();
    for (i, p) in paths.iter().enumerate() {
        assert_eq!(p.parent().unwrap(), Path::new("/c/runs"), "{p:?}");
        let file = p.file_name().unwrap().to_str().unwrap();
        assert!(!file.starts_with('.'), "{file}");
        assert!(
            file.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.=,[]+".contains(c)),
            "{file}"
        );
        for q in &paths[..i] {
            assert_ne!(p, q);
        }
    }
    let long = "x".repeat(300);
    assert!(record_path(root, &long).file_name().unwrap().len() < 120);
}

#[test]
fn records_save_and_load() {
    let dir = tempfile::tempdir().unwrap();
    let rs = three();
    for r in rs.iter().rev() {
        let p = save_record(dir.path(), r).unwrap();
        assert_eq!(p, record_path(dir.path(), &r.name));
        assert_eq!(&load_record(&p).unwrap(), r);
    }
    // Overwriting is atomic and leaves no temporary files.
    let mut changed = rs[0].clone();
    changed.metrics.set_scalar("accuracy", Some(0.9)).unwrap();
    save_record(dir.path(), &changed).unwrap();
    let files = std::fs::read_dir(dir.path().join("runs")).unwrap().count();
    assert_eq!(files, 3);
    let all = load_records(dir.path()).unwrap();
    let names: Vec<&str> = all.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["a", "bb", "c"]);
    assert_eq!(all[0].metrics.scalar("accuracy"), Some(0.9));

    std::fs::write(dir.path().join("runs/bad.json"), "{").unwrap();
    let e = format!("{:#}", load_records(dir.path()).unwrap_err());
    assert!(e.contains("bad.json"), "{e}");
    let e = format!(
        "{:#}",
        load_records(&dir.path().join("nowhere")).unwrap_err()
    );
    assert!(e.contains("no finished runs"), "{e}");
}

/// Validation metrics sort too (losses smallest first whatever the flag),
/// `test:` names a test metric, and the page groups the two kinds.
#[test]
fn sorting_by_validation_metrics_and_the_selected_run() {
    let rs = three();
    for descending in [true, false] {
        let c = Comparison::new(&rs, &[], Some("val_loss"), descending).unwrap();
        let order: Vec<&str> = c.records.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(order, ["bb", "a", "c"], "lowest loss first, missing last");
        assert_eq!(c.sorted_by, Some(("val_loss".to_string(), false)));
    }
    let c = Comparison::new(&rs, &[], Some("val_accuracy"), false).unwrap();
    let order: Vec<&str> = c.records.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(order, ["a", "bb", "c"]);
    let c = Comparison::new(&rs, &[], Some("test:accuracy"), true).unwrap();
    let order: Vec<&str> = c.records.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(order, ["bb", "a", "c"]);
    // Only the asked columns: one validation, one test metric.
    let mut c = Comparison::new(
        &rs,
        &["val_loss".to_string(), "test:accuracy".to_string()],
        None,
        true,
    )
    .unwrap();
    assert_eq!(c.validation_metrics, ["val_loss"]);
    assert_eq!(c.metrics, ["accuracy"]);
    c.mark_selected("bb");
    let t = c.text();
    assert!(
        t.lines()
            .next()
            .unwrap()
            .ends_with("val_loss  test:accuracy"),
        "{t}"
    );
    assert!(
        t.contains("bb (selected)") && !t.contains("a (selected)"),
        "{t}"
    );
    let h = c.html().unwrap();
    assert!(
        h.contains("<th colspan=\"1\">validation</th><th colspan=\"1\">test</th>"),
        "{h}"
    );
    assert!(h.contains("bb (selected)"));
    let e = table(&rs, &[], Some("val_los"), true)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("val_loss, val_accuracy, best_val_loss, best_epoch"),
        "{e}"
    );
}
