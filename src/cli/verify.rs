//! `kerros verify`: check a report's seal and, with `--rerun`, reproduce it.

use super::{DirArgs, EXIT_NOT_VERIFIED};
use crate::pipeline::{self, RunOptions};
use crate::report::verify::verify as verify_report;
use anyhow::{bail, Context, Result};
use clap::Args;
use std::path::PathBuf;

/// Options of `kerros verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The report (HTML) to check.
    pub report: PathBuf,
    /// Also re-run the embedded spec on the same data and compare the metrics.
    #[arg(long)]
    pub rerun: bool,
    /// With --rerun: the folder the spec's relative paths (data files, an
    /// embedding's `path`) are relative to. Default: the spec's folder
    /// recorded in the report. Built-in datasets are found with --data-dir.
    #[arg(long, value_name = "DIR", requires = "rerun")]
    pub spec_dir: Option<PathBuf>,
    #[command(flatten)]
    pub dirs: DirArgs,
}

/// `kerros verify`.
pub fn verify(args: VerifyArgs) -> Result<i32> {
    let html = std::fs::read_to_string(&args.report)
        .with_context(|| format!("cannot read {}", args.report.display()))?;
    let result = verify_report(&html);
    if !result.intact {
        println!("{}: NOT intact", args.report.display());
        for p in &result.problems {
            println!("  - {p}");
        }
        return Ok(EXIT_NOT_VERIFIED);
    }
    let Some(manifest) = result.manifest else {
        bail!("{}: no manifest found", args.report.display());
    };
    println!(
        "{}: intact (experiment `{}`, kerros {}, {}{})",
        args.report.display(),
        manifest.name,
        manifest.kerros_version,
        manifest.created,
        manifest
            .author
            .as_deref()
            .map(|a| format!(", author {a}"))
            .unwrap_or_default()
    );
    if !args.rerun {
        return Ok(0);
    }
    let tmp = tempfile::tempdir()?;
    let opts = RunOptions {
        data_dir: args.dirs.data_dir.clone(),
        cache_dir: args.dirs.cache_dir.clone(),
        reports_dir: tmp.path().join("reports"),
        force: true,
        quiet: false,
        author: manifest.author.clone(),
        log_prefix: None,
    };
    let rerun = pipeline::rerun::rerun(&manifest, args.spec_dir.as_deref(), &opts)?;
    for note in &rerun.changed_files {
        println!("note: {note}");
    }
    if rerun.differences.is_empty() {
        println!("rerun: all {} metrics reproduced", manifest.metrics.len());
        Ok(0)
    } else {
        println!("rerun: metrics differ");
        for d in rerun.differences {
            println!("  - {d}");
        }
        Ok(EXIT_NOT_VERIFIED)
    }
}
