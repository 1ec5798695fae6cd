//! Helpers shared by the integration tests: locating the real data (one
//! rule for every test), running the binary, writing files, parsing specs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Folders that may hold the real data, in order: `../shared/data` beside the
/// checkout, then `/work/shared/data`; only `$KERROS_TEST_DATA` when that is
/// set (to try a fresh clone's behaviour: point it at an empty folder).
pub fn data_candidates() -> Vec<PathBuf> {
    if let Some(dir) = std::env::var_os("KERROS_TEST_DATA").filter(|d| !d.is_empty()) {
        return vec![PathBuf::from(dir)];
    }
    vec![
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"),
        PathBuf::from("/work/shared/data"),
    ]
}

/// The first real-data folder holding every one of `files` (paths relative
/// to it). The data counts as present only when the files are there: an
/// empty or partial folder is skipped. When none has them the test is
/// skipped with a printed reason, except under `CI=true`, where it fails.
pub fn real_data(files: &[&str]) -> Option<PathBuf> {
    let candidates = data_candidates();
    if let Some(dir) = candidates
        .iter()
        .find(|d| files.iter().all(|f| d.join(f).is_file()))
    {
        return Some(dir.clone());
    }
    let looked = candidates
        .iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(" and ");
    let reason = format!(
        "the real data files {} are not in {looked}",
        files.join(", ")
    );
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{reason} (required when CI=true)");
    }
    eprintln!("note: {reason}; test skipped outside CI");
    None
}

/// The IMDB Parquet files a fetch produces.
pub const IMDB_FILES: [&str; 3] = [
    "imdb/train.parquet",
    "imdb/test.parquet",
    "imdb/unsup.parquet",
];

/// The Druglib TSV files a fetch produces.
pub const DRUGLIB_FILES: [&str; 2] = [
    "druglib/drugLibTrain_raw.tsv",
    "druglib/drugLibTest_raw.tsv",
];

/// The GloVe vectors used by the pretrained-embedding tests.
pub const GLOVE_FILE: &str = "glove/glove.6B.50d.txt.gz";

/// The real-data folder holding IMDB and Druglib, or `None` (see [`real_data`]).
pub fn shared_data() -> Option<PathBuf> {
    let files: Vec<&str> = IMDB_FILES.iter().chain(&DRUGLIB_FILES).copied().collect();
    real_data(&files)
}

/// The real-data folder holding Druglib, or `None` (see [`real_data`]).
pub fn druglib_data() -> Option<PathBuf> {
    real_data(&DRUGLIB_FILES)
}

/// The real-data folder holding IMDB, or `None` (see [`real_data`]).
pub fn imdb_data() -> Option<PathBuf> {
    real_data(&IMDB_FILES)
}

/// The GloVe file, or `None` (see [`real_data`]).
pub fn glove_file() -> Option<PathBuf> {
    real_data(&[GLOVE_FILE]).map(|d| d.join(GLOVE_FILE))
}

/// Run the kerros binary with `args` in `cwd`.
pub fn kerros(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kerros"))
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("the kerros binary runs")
}

/// Assert that a kerros run `o` exited 0 (showing its output when not) and
/// return its standard output.
pub fn ok(o: &Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Write `text` to `dir/name` and return the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A two-class training CSV (`text,label`) of `rows` film reviews: row `i`
/// reads `a WORDS film number i` with the words and label of `even` for even
/// `i` and of `odd` for odd `i` (e.g. `("good", "pos")`, `("bad", "neg")`).
pub fn film_reviews_csv(rows: usize, even: (&str, &str), odd: (&str, &str)) -> String {
    let mut csv = String::from("text,label\n");
    for i in 0..rows {
        let (words, label) = if i % 2 == 0 { even } else { odd };
        csv.push_str(&format!("a {words} film number {i},{label}\n"));
    }
    csv
}

/// A layer list from YAML (`[{dense: {units: 1}}]`).
pub fn layers(yaml: &str) -> Vec<kerros::spec::LayerSpec> {
    serde_yaml::from_str(yaml).unwrap_or_else(|e| panic!("layer yaml: {e}\n{yaml}"))
}

/// A whole spec from YAML, checked as `kerros validate` checks it.
pub fn parse(yaml: &str) -> kerros::spec::Spec {
    kerros::spec::parse_spec(yaml, Path::new("t.yaml"))
        .unwrap_or_else(|e| panic!("test spec invalid: {e}\n{yaml}"))
        .0
}

/// A spec's `data` section from YAML (the spec's own defaults apply).
pub fn data_spec(yaml: &str) -> kerros::spec::DataSpec {
    serde_yaml::from_str(yaml).expect("test YAML is valid")
}

/// The column plan a `data` section in YAML gives.
pub fn plan(yaml: &str) -> kerros::data::ColumnPlan {
    kerros::data::ColumnPlan::from_spec(&data_spec(yaml))
}

/// Write raw bytes to `dir/name` and return the path.
pub fn write_bytes(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write test file");
    p
}

/// A data file whose format follows from its extension.
pub fn source(path: &Path) -> kerros::data::Source {
    kerros::data::Source {
        path: path.to_path_buf(),
        format: kerros::spec::FileFormat::Auto,
    }
}
