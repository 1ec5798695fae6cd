//! The machine-readable manifest a submission report embeds: what was run,
//! on which data, where, by whom, and what it measured.

use crate::spec::Spec;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Everything needed to check a report and re-run its experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// kerros version that wrote the report.
    pub kerros_version: String,
    /// Experiment (or variant) name.
    pub name: String,
    /// The run's seed.
    pub seed: u64,
    /// The fully resolved spec as YAML (every default filled in); re-running
    /// it on the same data reproduces the run.
    pub spec_yaml: String,
    /// Content hashes of the data files read.
    pub data_files: Vec<DataFile>,
    /// Where it ran.
    pub platform: Platform,
    /// Test metrics, as in `kerros run --json`.
    pub metrics: BTreeMap<String, Value>,
    /// When the report was written (RFC 3339).
    pub created: String,
    /// Who submitted it (`report.author` or `--author`).
    #[serde(default)]
    pub author: Option<String>,
    /// Stage name → cache key of the artifact used.
    #[serde(default)]
    pub stage_keys: BTreeMap<String, String>,
    /// The spec file's folder as an absolute path: relative data and
    /// embedding paths in the spec are relative to it, so `kerros verify
    /// --rerun` resolves them there (absent in reports of older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_dir: Option<String>,
    /// The assignment the spec was handed out for, when it names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment: Option<AssignmentStamp>,
}

/// What a report records of its assignment: enough for `kerros grade` to
/// tell which assignment it was made for and what the locked keys held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssignmentStamp {
    /// The assignment's name.
    pub name: String,
    /// Its digest ([`crate::spec::assignment::digest`]).
    pub digest: String,
    /// Each locked key and its resolved value in the run's spec.
    pub locked: BTreeMap<String, Value>,
}

impl AssignmentStamp {
    /// The stamp for `spec`, whose spec file lies in `spec_dir`: `None`
    /// without `assignment:`; an error when the assignment cannot be read
    /// (validation checked it before the run, so only a file changed
    /// meanwhile gets here).
    pub fn for_spec(spec: &Spec, spec_dir: &Path) -> Result<Option<AssignmentStamp>> {
        let Some(link) = &spec.assignment else {
            return Ok(None);
        };
        let assignment = crate::spec::assignment::load_assignment(&spec_dir.join(&link.path))?;
        Ok(Some(AssignmentStamp {
            name: assignment.name.clone(),
            digest: link.digest.clone(),
            locked: crate::spec::assignment::locked_values(spec, &assignment.locked),
        }))
    }
}

/// One data file and its content hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFile {
    /// The path as the run named it (relative to the data dir for built-in
    /// datasets, e.g. `imdb/train.parquet`, so a re-run can find it elsewhere).
    pub path: String,
    /// blake3 hash of the file's bytes (hex).
    pub blake3: String,
}

impl DataFile {
    /// Hash the file at `file`, recording it under the name `label`.
    pub fn hash(label: &str, file: &Path) -> Result<DataFile> {
        let blake3 = crate::cache::hash_file(file)
            .with_context(|| format!("cannot hash data file {}", file.display()))?;
        Ok(DataFile {
            path: label.to_string(),
            blake3,
        })
    }
}

/// The machine a run happened on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    /// Operating system (`linux`, `macos`, `windows`, ...).
    pub os: String,
    /// CPU architecture (`x86_64`, `aarch64`, ...).
    pub arch: String,
    /// Logical CPUs available to the process.
    pub cpus: usize,
}

impl Platform {
    /// The platform this process runs on.
    pub fn current() -> Platform {
        Platform {
            os: std::env::consts::OS.to_string(),
            arch: std::env::consts::ARCH.to_string(),
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

impl Manifest {
    /// A manifest for a finished run of `spec`, stamped now with this kerros
    /// version and platform. `author` (from `--author`) wins over
    /// `report.author`; data files and stage keys are filled in by the caller.
    pub fn new(
        spec: &Spec,
        metrics: BTreeMap<String, Value>,
        author: Option<&str>,
    ) -> Result<Manifest> {
        let spec_yaml =
            serde_yaml::to_string(spec).context("cannot serialise the resolved spec")?;
        Ok(Manifest {
            kerros_version: env!("CARGO_PKG_VERSION").to_string(),
            name: spec.name.clone(),
            seed: spec.seed,
            spec_yaml,
            data_files: Vec::new(),
            platform: Platform::current(),
            metrics,
            created: chrono::Utc::now().to_rfc3339(),
            author: resolve_author(author, spec),
            stage_keys: BTreeMap::new(),
            spec_dir: None,
            assignment: None,
        })
    }

    /// The embedded spec, parsed and checked (for `kerros verify --rerun`).
    pub fn spec(&self) -> Result<Spec, crate::spec::SpecError> {
        let file = Path::new("<report manifest>");
        crate::spec::parse_spec(&self.spec_yaml, file).map(|(s, _)| s)
    }
}

/// The report's author: `--author` when given, else `report.author`; blank
/// names count as none.
pub fn resolve_author(cli: Option<&str>, spec: &Spec) -> Option<String> {
    cli.or(spec.report.author.as_deref())
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_string)
}
