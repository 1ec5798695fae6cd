//! Where the examples come from: the data dir, built-in dataset layouts,
//! explicit file paths and their formats.

use super::error::{DataError, DataErrorKind, Result};
use crate::spec::{DataSpec, FileFormat};
use std::fmt;
use std::path::{Path, PathBuf};

/// Environment variable that sets the data dir when `--data-dir` is not given.
pub const DATA_DIR_ENV: &str = "KERROS_DATA_DIR";

/// How the data dir was chosen; named in "not found" errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataDirSource {
    /// The `--data-dir` command-line option.
    Cli,
    /// The `KERROS_DATA_DIR` environment variable.
    Env,
    /// The per-user cache folder (`<cache dir>/kerros/data`).
    UserCache,
    /// No per-user cache folder is known on this system: `./kerros-data`.
    Fallback,
}

impl fmt::Display for DataDirSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DataDirSource::Cli => "given with --data-dir",
            DataDirSource::Env => "set by the KERROS_DATA_DIR environment variable",
            DataDirSource::UserCache => "the default: the per-user cache folder",
            DataDirSource::Fallback => {
                "the fallback ./kerros-data (this system has no per-user cache folder)"
            }
        })
    }
}

/// The data dir holding built-in datasets: `--data-dir`, then `KERROS_DATA_DIR`,
/// then `dirs::cache_dir()/kerros/data`.
pub fn data_dir(cli: Option<&Path>) -> (PathBuf, DataDirSource) {
    let env = std::env::var_os(DATA_DIR_ENV);
    data_dir_from(cli, env.as_deref().map(Path::new), dirs::cache_dir())
}

/// [`data_dir`] with the environment and cache folder passed in (testable without
/// touching the process environment). An empty env value counts as unset.
pub fn data_dir_from(
    cli: Option<&Path>,
    env: Option<&Path>,
    cache: Option<PathBuf>,
) -> (PathBuf, DataDirSource) {
    if let Some(p) = cli {
        return (p.to_path_buf(), DataDirSource::Cli);
    }
    if let Some(p) = env.filter(|p| !p.as_os_str().is_empty()) {
        return (p.to_path_buf(), DataDirSource::Env);
    }
    match cache {
        Some(c) => (c.join("kerros").join("data"), DataDirSource::UserCache),
        None => (PathBuf::from("kerros-data"), DataDirSource::Fallback),
    }
}

/// One input file and its format (never [`FileFormat::Auto`] once resolved).
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// The file.
    pub path: PathBuf,
    /// Its format.
    pub format: FileFormat,
}

/// The resolved input files of a spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Sources {
    /// Training file.
    pub train: Source,
    /// Test file; `None` when the test split is a part of train (`test: {fraction: F}`).
    pub test: Option<Source>,
    /// Validation file, when `validation.file` is given.
    pub validation: Option<Source>,
    /// The built-in dataset name, when `dataset` is given.
    pub dataset: Option<String>,
}

/// The files of a built-in dataset under the data dir: (train, test).
pub fn builtin_files(name: &str, data_dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let d = data_dir.join(name);
    match name {
        "imdb" => Some((d.join("train.parquet"), d.join("test.parquet"))),
        "druglib" => Some((
            d.join("drugLibTrain_raw.tsv"),
            d.join("drugLibTest_raw.tsv"),
        )),
        "drugscom" => Some((
            d.join("drugsComTrain_raw.tsv"),
            d.join("drugsComTest_raw.tsv"),
        )),
        _ => None,
    }
}

/// The format of a file from its extension (case-insensitive).
pub fn format_from_extension(path: &Path) -> Result<FileFormat> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "csv" => Ok(FileFormat::Csv),
        "tsv" | "tab" => Ok(FileFormat::Tsv),
        "parquet" | "pq" => Ok(FileFormat::Parquet),
        "jsonl" | "ndjson" => Ok(FileFormat::Jsonl),
        _ => Err(DataError::in_file(
            DataErrorKind::Format,
            path,
            format!(
                "cannot tell the format from the extension `{ext}`; use .csv, .tsv, .parquet or .jsonl, or set `data.format`"
            ),
        )),
    }
}

/// Resolve the spec's data section to files, checking that each exists.
///
/// A built-in `dataset` is looked up under `data_dir` (chosen as `dir_source`
/// says); explicit `train`, `test` and `validation.file` paths are relative to
/// `spec_dir`, the spec file's folder.
pub fn resolve_sources(
    data: &DataSpec,
    spec_dir: &Path,
    data_dir: &Path,
    dir_source: DataDirSource,
) -> Result<Sources> {
    let explicit = |p: &Path, role: &str| -> Result<Source> {
        let path = spec_dir.join(p);
        if !path.is_file() {
            return Err(DataError::in_file(
                DataErrorKind::NotFound,
                &path,
                format!(
                    "{role} file not found (the path `{}` in the spec is relative to the spec's folder {})",
                    p.display(),
                    spec_dir.display()
                ),
            ));
        }
        let format = match data.format {
            FileFormat::Auto => format_from_extension(&path)?,
            f => f,
        };
        Ok(Source { path, format })
    };
    let validation = match &data.validation.file {
        Some(p) => Some(explicit(p, "validation")?),
        None => None,
    };
    if let Some(name) = &data.dataset {
        let Some((train, test)) = builtin_files(name, data_dir) else {
            return Err(DataError::new(
                DataErrorKind::Spec,
                format!(
                    "unknown built-in dataset `{name}`; built-in datasets: {}",
                    super::BUILTIN_DATASETS.join(", ")
                ),
            ));
        };
        for f in [&train, &test] {
            if !f.is_file() {
                return Err(DataError::in_file(
                    DataErrorKind::NotFound,
                    f,
                    format!(
                        "built-in dataset `{name}` not found: looked for {} and {}; the data dir {} is {dir_source}; \
                         point elsewhere with `--data-dir DIR` or the environment variable {DATA_DIR_ENV}=DIR",
                        train.display(),
                        test.display(),
                        data_dir.display()
                    ),
                ));
            }
        }
        // A built-in layout fixes the formats; `data.format` is for explicit files.
        let format = format_from_extension;
        return Ok(Sources {
            train: Source {
                format: format(&train)?,
                path: train,
            },
            test: Some(Source {
                format: format(&test)?,
                path: test,
            }),
            validation,
            dataset: Some(name.clone()),
        });
    }
    match (&data.train, &data.test) {
        (Some(train), Some(test)) => Ok(Sources {
            train: explicit(train, "train")?,
            test: test.file().map(|t| explicit(t, "test")).transpose()?,
            validation,
            dataset: None,
        }),
        _ => Err(DataError::new(
            DataErrorKind::Spec,
            "give either `dataset: imdb` (a built-in dataset) or `train:` with `test:` (a file path or `{fraction: 0.2}`)",
        )),
    }
}
