//! Helpers shared by the pipeline and CLI tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The shared real-data folder (`../shared/data`), or `None` when it is
/// missing outside CI. Under `CI=true` missing data is a failure, not a skip.
pub fn shared_data() -> Option<PathBuf> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    let dir = if here.join("imdb").is_dir() {
        here
    } else {
        PathBuf::from("/work/shared/data")
    };
    if dir.join("imdb/train.parquet").is_file()
        && dir.join("druglib/drugLibTrain_raw.tsv").is_file()
    {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("the real data is missing under {} (CI=true)", dir.display());
    }
    eprintln!("note: {} missing; test skipped outside CI", dir.display());
    None
}

/// Run the kerros binary with `args` in `cwd`.
pub fn kerros(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kerros"))
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("the kerros binary runs")
}

/// Write `text` to `dir/name` and return the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}
