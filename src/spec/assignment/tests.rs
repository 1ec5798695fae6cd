use super::*;
use crate::spec::parse_spec;
use serde_json::json;
use std::path::Path;

const TEMPLATE: &str = "name: t\nseed: 4\ndata:\n  dataset: imdb\n  validation:\n    fraction: 0.2\n\
model:\n  layers:\n    - embedding: {input_dim: 100, output_dim: 4}\n    - flatten\n    - dense: {units: 1}\n";

fn folder(assignment: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.yaml"), TEMPLATE).unwrap();
    std::fs::write(dir.path().join("a.yaml"), assignment).unwrap();
    dir
}

#[test]
fn digest_covers_both_files_and_their_boundary() {
    assert_ne!(digest(b"ab", b"c"), digest(b"a", b"bc"));
    assert!(digest(b"a", b"b").starts_with("blake3:"));
    assert_eq!(digest(b"a", b"b"), digest(b"a", b"b"));
}

#[test]
fn points_take_the_best_bound_per_metric() {
    let dir = folder(
        "assignment: ex\ntemplate: t.yaml\nlocked: [data, seed]\ngrading:\n  accuracy: {\">= 0.86\": 2, \">= 0.88\": 3}\n  cohen_kappa: {\">= 0.72\": 1}\n",
    );
    let a = load_assignment(&dir.path().join("a.yaml")).unwrap();
    assert_eq!(a.name, "ex");
    assert_eq!(a.locked.len(), 2);
    let score = |acc: f64, kappa: Option<f64>| {
        a.points(|m| match m {
            "accuracy" => Some(acc),
            "cohen_kappa" => kappa,
            _ => None,
        })
    };
    assert_eq!(score(0.89, Some(0.8)), 4.0);
    assert_eq!(score(0.87, Some(0.7)), 2.0);
    assert_eq!(score(0.85, None), 0.0);
    assert_eq!(a.max_points(), 4.0);
}

#[test]
fn unknown_keys_and_bad_locked_keys_are_located() {
    let dir = folder("assignment: ex\ntemplate: t.yaml\nlokced: [data]\n");
    let e = load_assignment(&dir.path().join("a.yaml")).unwrap_err();
    assert_eq!(e.line, Some(3), "{e}");
    assert!(e.message.contains("did you mean `locked`"), "{e}");

    let dir = folder("assignment: ex\ntemplate: t.yaml\nlocked:\n  - data\n  - dta.validation\n");
    let e = load_assignment(&dir.path().join("a.yaml")).unwrap_err();
    assert_eq!(e.line, Some(5), "{e}");
    assert!(e.message.contains("did you mean `data`"), "{e}");

    let dir = folder("assignment: ex\ntemplate: t.yaml\nlocked: [data.validaton]\n");
    let e = load_assignment(&dir.path().join("a.yaml")).unwrap_err();
    assert!(e.message.contains("did you mean `validation`"), "{e}");

    let dir = folder("assignment: ex\ntemplate: t.yaml\ngrading:\n  acuracy: {\">= 0.8\": 1}\n");
    let e = load_assignment(&dir.path().join("a.yaml")).unwrap_err();
    assert_eq!(e.line, Some(4), "{e}");
    assert!(e.message.contains("did you mean `accuracy`"), "{e}");

    let dir = folder("assignment: ex\ntemplate: t.yaml\ngrading:\n  accuracy: {\"0.8\": 1}\n");
    let e = load_assignment(&dir.path().join("a.yaml")).unwrap_err();
    assert!(e.message.contains("no comparison operator"), "{e}");

    let dir = folder("assignment: ex\ntemplate: missing.yaml\n");
    let e = load_assignment(&dir.path().join("a.yaml")).unwrap_err();
    assert_eq!(e.line, Some(2), "{e}");
    assert!(e.message.contains("missing.yaml"), "{e}");
}

#[test]
fn differences_are_found_at_the_deepest_key() {
    let a = json!({"validation": {"fraction": 0.3, "stratify": true}});
    let b = json!({"validation": {"fraction": 0.2, "stratify": true}});
    let (path, here, want) = first_difference("data", &a, &b).unwrap();
    assert_eq!(path, "data.validation.fraction");
    assert_eq!((here, want), (json!(0.3), json!(0.2)));
    assert!(first_difference("data", &a, &a).is_none());
    let (path, _, _) = first_difference("x", &json!([1, 2]), &json!([1, 3])).unwrap();
    assert_eq!(path, "x[1]");
}

#[test]
fn a_changed_locked_key_is_refused_at_its_line() {
    let dir = folder("assignment: ex\ntemplate: t.yaml\nlocked: [data, seed]\n");
    let a = load_assignment(&dir.path().join("a.yaml")).unwrap();
    let link = format!("assignment: {{path: a.yaml, digest: \"{}\"}}\n", a.digest);
    let student = |text: &str| {
        let path = dir.path().join("s.yaml");
        std::fs::write(&path, text).unwrap();
        let (spec, locator) = parse_spec(text, Path::new(&path)).unwrap();
        check_spec(&spec, &path, &locator)
    };
    student(&format!("{TEMPLATE}{link}")).unwrap();
    let changed = TEMPLATE.replace("fraction: 0.2", "fraction: 0.3");
    let e = student(&format!("{changed}{link}")).unwrap_err();
    assert_eq!(e.line, Some(6), "{e}");
    assert_eq!(e.path.as_deref(), Some("data.validation.fraction"));
    assert!(e.message.contains("the assignment's value is 0.2"), "{e}");
    // Unlocked settings may change.
    let free = TEMPLATE.replace("output_dim: 4", "output_dim: 8");
    student(&format!("{free}{link}")).unwrap();
    // A changed assignment file is caught by its digest.
    let stale = format!("{TEMPLATE}assignment: {{path: a.yaml, digest: \"blake3:00\"}}\n");
    let e = student(&stale).unwrap_err();
    assert!(e.message.contains("has changed"), "{e}");
}
