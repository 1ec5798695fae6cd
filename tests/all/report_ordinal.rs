//! Weighted kappas only for ordered classes: a multiclass task scores them
//! only with `task.ordinal: true` (and the class order listed), and
//! `ordinal` without that order is a spec error naming the field.

use kerros::data::Item;
use kerros::pipeline::score::score;
use kerros::spec::{parse_spec, Spec, SpecError};
use std::collections::BTreeMap;
use std::path::Path;

fn parse(task: &str) -> Result<Spec, SpecError> {
    let yaml = format!(
        "name: t\ndata: {{train: a.csv, test: b.csv}}\ntask: {task}\nmodel: {{layers: [{{dense: {{units: 3}}}}]}}\n"
    );
    parse_spec(&yaml, Path::new("t.yaml")).map(|(s, _)| s)
}

fn items(targets: &[f32], classes: &[&str]) -> Vec<Item> {
    targets
        .iter()
        .enumerate()
        .map(|(i, &t)| Item {
            id: i as i64,
            text: String::new(),
            label: classes[t as usize].to_string(),
            target: t,
            extra: BTreeMap::new(),
        })
        .collect()
}

/// Scores three classes where one miss is far (low → high) and one near.
fn metrics(spec: &Spec) -> BTreeMap<String, serde_json::Value> {
    let classes: Vec<String> = ["low", "mid", "high"].map(String::from).to_vec();
    let names: Vec<&str> = classes.iter().map(String::as_str).collect();
    let test = items(&[0.0, 1.0, 2.0, 0.0, 1.0], &names);
    let probs = vec![
        vec![0.8f32, 0.1, 0.1],
        vec![0.1, 0.8, 0.1],
        vec![0.1, 0.1, 0.8],
        vec![0.1, 0.1, 0.8],
        vec![0.1, 0.1, 0.8],
    ];
    let (_, m) = score(spec, &classes, &[], &test, &probs).unwrap();
    m.to_map()
}

#[test]
fn unordered_multiclass_has_no_weighted_kappa() {
    let m = metrics(&parse("{type: multiclass, classes: [low, mid, high]}").unwrap());
    assert!(m.contains_key("cohen_kappa"));
    assert!(!m.contains_key("cohen_kappa_linear"));
    assert!(!m.contains_key("cohen_kappa_quadratic"));
}

#[test]
fn ordinal_multiclass_has_weighted_kappas() {
    let m =
        metrics(&parse("{type: multiclass, classes: [low, mid, high], ordinal: true}").unwrap());
    let linear = m["cohen_kappa_linear"].as_f64().unwrap();
    let quadratic = m["cohen_kappa_quadratic"].as_f64().unwrap();
    assert!(linear.is_finite() && quadratic.is_finite());
    // Far misses weigh more under quadratic weights, so the kappas differ.
    assert!((linear - quadratic).abs() > 1e-6, "{linear} vs {quadratic}");
}

#[test]
fn ordinal_without_a_class_order_is_an_error() {
    let err = parse("{type: multiclass, ordinal: true}")
        .unwrap_err()
        .to_string();
    assert!(err.contains("task.ordinal"), "{err}");
    assert!(err.contains("task.classes"), "{err}");
    // Bins give the order themselves.
    assert!(parse("{type: multiclass, ordinal: true, bins: {lo: [1, 5], hi: [6, 10]}}").is_ok());
}
