//! The pipeline stages and the runner that executes them with the cache.
//!
//! load → split → vocabulary → encode → train → evaluate → report, one file
//! each under [`stages`]. Each stage is keyed by its own resolved settings,
//! its inputs' keys and the content of the files it reads, so a re-run reuses
//! every stage whose inputs did not change. `run_spec` walks them in order;
//! the [`predict::Predictor`] reads the same artifacts through the stages'
//! typed handles.

pub mod cross_validation;
pub mod ensemble;
pub mod ensemble_combine;
mod ensemble_members;
mod epoch_printer;
mod error_analysis;
pub mod explain;
pub mod explain_report;
pub mod explore;
pub mod forward;
pub mod grade;
pub mod memory;
pub mod notes;
mod outcome;
pub mod predict;
mod report;
pub mod rerun;
mod run;
mod runner;
pub mod schedule;
pub mod score;
pub mod splits;
pub mod stages;
pub mod tables;
mod test_predictions;
pub mod validate;
pub mod variant;

pub use outcome::RunOutcome;
pub use run::run_spec;
pub use runner::{Runner, StageStatus};
pub use validate::{validate, validate_with};

use anyhow::Result;
use std::path::{Path, PathBuf};

/// Options of one run, from the command line.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// `--data-dir`, when given.
    pub data_dir: Option<PathBuf>,
    /// Cache root.
    pub cache_dir: PathBuf,
    /// Where the report is written.
    pub reports_dir: PathBuf,
    /// Recompute every stage.
    pub force: bool,
    /// No progress output on stderr.
    pub quiet: bool,
    /// Author for the report, overriding `report.author`.
    pub author: Option<String>,
    /// Prefix for progress lines (the experiment name when several run at once).
    pub log_prefix: Option<String>,
    /// The remote stage cache (`--remote-cache`), second level after `cache_dir`.
    pub remote: Option<std::sync::Arc<crate::cache::remote::RemoteCache>>,
}

impl RunOptions {
    /// Options with the default folders (`.kerros/cache`, `reports`).
    pub fn new(data_dir: Option<PathBuf>) -> RunOptions {
        RunOptions {
            data_dir,
            cache_dir: PathBuf::from(crate::spec::DEFAULT_CACHE_DIR),
            reports_dir: PathBuf::from(crate::spec::DEFAULT_REPORTS_DIR),
            force: false,
            quiet: false,
            author: None,
            log_prefix: None,
            remote: None,
        }
    }
}

/// Run the experiment in `spec_path`.
pub fn run(spec_path: &Path, opts: &RunOptions) -> Result<RunOutcome> {
    run::run(spec_path, opts)
}
