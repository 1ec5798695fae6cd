//! `kerros init`: the files it writes, refusing to overwrite, and the example spec.

use kerros::cli::init::{init, CI_WORKFLOW, EXPERIMENT_YAML};
use kerros::spec::expect::parse_expectations;
use kerros::spec::sweep::expand;
use kerros::spec::{self, LayerSpec, TaskKind};
use std::path::Path;

#[test]
fn init_creates_the_folder_and_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("new/experiment");
    let written = init(&dir).unwrap();
    let rel: Vec<String> = written
        .iter()
        .map(|p| p.strip_prefix(&dir).unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        rel,
        [
            "experiment.yaml",
            ".gitignore",
            ".github/workflows/kerros.yml",
            "README.md"
        ]
    );
    for p in &written {
        assert!(p.is_file(), "{p:?}");
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("experiment.yaml")).unwrap(),
        EXPERIMENT_YAML
    );
    let ignore = std::fs::read_to_string(dir.join(".gitignore")).unwrap();
    let lines: Vec<&str> = ignore.lines().collect();
    assert!(
        lines.contains(&".kerros/") && lines.contains(&"reports/"),
        "{ignore}"
    );
    let ci = std::fs::read_to_string(dir.join(".github/workflows/kerros.yml")).unwrap();
    assert!(
        ci.contains("KERROS_SPECS: \"experiment.yaml\""),
        "the copy runs the folder's spec"
    );
    assert_eq!(
        ci.replace(
            "KERROS_SPECS: \"experiment.yaml\"",
            "KERROS_SPECS: \"pipelines/*.yaml\""
        ),
        CI_WORKFLOW,
        "otherwise the same as examples/ci/github-actions.yml"
    );
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    for cmd in [
        "kerros run experiment.yaml",
        "kerros compare",
        "kerros verify",
    ] {
        assert!(readme.contains(cmd), "README explains `{cmd}`");
    }
}

#[test]
fn init_refuses_to_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    init(dir).unwrap();
    std::fs::write(dir.join("experiment.yaml"), "mine").unwrap();
    let e = init(dir).unwrap_err().to_string();
    assert!(
        e.contains("experiment.yaml") && e.contains("already exists"),
        "{e}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("experiment.yaml")).unwrap(),
        "mine"
    );

    // One existing file anywhere: nothing at all is written.
    let other = tmp.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("README.md"), "keep").unwrap();
    let e = init(&other).unwrap_err().to_string();
    assert!(e.contains("README.md"), "{e}");
    assert!(!other.join("experiment.yaml").exists());
    assert!(!other.join(".gitignore").exists());
    assert_eq!(
        std::fs::read_to_string(other.join("README.md")).unwrap(),
        "keep"
    );
}

#[test]
fn the_example_spec_parses_as_described() {
    let (s, _) = spec::parse_spec(EXPERIMENT_YAML, Path::new("experiment.yaml")).unwrap();
    assert_eq!(s.name, "imdb_quick");
    let data = s.data.as_ref().unwrap();
    assert_eq!(data.dataset.as_deref(), Some("imdb"));
    assert_eq!(data.limit, Some(4000));
    assert_eq!(s.task.kind, TaskKind::Binary);
    assert_eq!(s.tokenizer.num_words, Some(5000));
    assert_eq!(s.sequence.maxlen, Some(200));
    let l = &s.model.layers;
    assert_eq!(l.len(), 4);
    let LayerSpec::Embedding(e) = &l[0] else {
        panic!("{l:?}")
    };
    assert_eq!((e.input_dim, e.output_dim), (5000, 16));
    assert_eq!(l[1], LayerSpec::GlobalAveragePooling1d);
    let LayerSpec::Dense(d) = &l[2] else {
        panic!("{l:?}")
    };
    assert_eq!((d.units, d.activation), (16, spec::Activation::Relu));
    let LayerSpec::Dense(out) = &l[3] else {
        panic!("{l:?}")
    };
    assert_eq!((out.units, out.activation), (1, spec::Activation::Linear));
    assert_eq!(s.train.optimizer.name, spec::OptimizerName::Adam);
    assert!(s.train.loss.from_logits);
    assert_eq!((s.train.epochs, s.train.batch_size), (5, 128));
    assert_eq!(s.report.author, None);
    assert!(s.matrix.is_none());
    let exp = parse_expectations(s.expect.as_ref().unwrap()).unwrap();
    assert_eq!(exp.len(), 1);
    assert_eq!(exp[0].metric, "accuracy");
    assert_eq!(exp[0].bound.to_string(), ">= 0.70");
}

#[test]
fn the_commented_sweep_works_when_uncommented() {
    let src = EXPERIMENT_YAML
        .replace("# matrix:", "matrix:")
        .replace("#   train.", "  train.")
        .replace("# author:", "author:");
    let vs = expand(&src, Path::new("experiment.yaml")).unwrap();
    let names: Vec<&str> = vs.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "imdb_quick[learning_rate=0.001,epochs=5]",
            "imdb_quick[learning_rate=0.001,epochs=10]",
            "imdb_quick[learning_rate=0.01,epochs=5]",
            "imdb_quick[learning_rate=0.01,epochs=10]",
        ]
    );
    assert_eq!(vs[0].spec.report.author.as_deref(), Some("Your Name"));
}

#[test]
fn ci_example_has_the_documented_steps() {
    let ci = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ci/github-actions.yml"),
    )
    .unwrap();
    assert_eq!(ci, CI_WORKFLOW);
    for needle in [
        "actions/checkout@",
        "actions/cache@",
        "path: .kerros/cache",
        "hashFiles(",
        "KERROS_DATA_DIR:",
        "kerros run $KERROS_SPECS",
        "actions/upload-artifact@",
        "reports/",
        "if: always()",
        "shell: bash",
        "3 an `expect:` bound was not met",
        "REPLACE https://github.com/OWNER/kerros",
    ] {
        assert!(ci.contains(needle), "the CI example lacks `{needle}`");
    }
    // It is valid YAML with a job and steps.
    let doc: serde_yaml::Value = serde_yaml::from_str(&ci).unwrap();
    let steps = doc["jobs"]["experiments"]["steps"].as_sequence().unwrap();
    assert!(steps.len() >= 8);
}
