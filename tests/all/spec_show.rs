//! `kerros show` pins every default: the resolved spec of a minimal spec,
//! and of one that uses every layer type and training control with their
//! defaults, must stay exactly as recorded (a changed default changes what
//! an experiment means, and the stage keys that depend on it).

use crate::support;

use std::path::Path;
use support::kerros;

fn show(spec: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/all/snapshots");
    let o = kerros(&dir, &["show", spec]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn show_of_a_minimal_spec_prints_every_default() {
    assert_eq!(
        show("show_minimal.spec.yaml"),
        include_str!("snapshots/show_minimal.out.yaml")
    );
}

#[test]
fn show_prints_layer_and_control_defaults() {
    assert_eq!(
        show("show_layers.spec.yaml"),
        include_str!("snapshots/show_layers.out.yaml")
    );
}

#[test]
fn show_prints_the_document_vector_defaults() {
    assert_eq!(
        show("show_doc_vectors.spec.yaml"),
        include_str!("snapshots/show_doc_vectors.out.yaml")
    );
}
