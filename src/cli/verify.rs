//! `kerros verify`: check a report's seal and, with `--rerun`, reproduce it.

use super::{DirArgs, EXIT_NOT_VERIFIED, EXIT_VERSION_MISMATCH};
use crate::pipeline::{self, RunOptions};
use crate::report::rerender::printable;
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
    // Everything printed from the report goes through `printable`: a forged
    // name with terminal escapes must not rewrite the line it is on.
    let path = printable(&args.report.display().to_string());
    if let Some(v) = &result.version_mismatch {
        println!("{path}: {}", printable(v));
    }
    if !result.intact {
        println!("{path}: NOT intact");
        for p in &result.problems {
            println!("  - {}", printable(p));
        }
        return Ok(EXIT_NOT_VERIFIED);
    }
    let Some(manifest) = result.manifest else {
        bail!("{}: no manifest found", args.report.display());
    };
    let checked = if result.version_mismatch.is_some() {
        "digest and record intact, page not re-rendered"
    } else {
        "intact"
    };
    println!(
        "{path}: {checked} (experiment `{}`, kerros {}, {}{})",
        printable(&manifest.name),
        printable(&manifest.kerros_version),
        printable(&manifest.created),
        manifest
            .author
            .as_deref()
            .map(|a| format!(", author {}", printable(a)))
            .unwrap_or_default()
    );
    let intact_code = if result.version_mismatch.is_some() {
        EXIT_VERSION_MISMATCH
    } else {
        0
    };
    if !args.rerun {
        return Ok(intact_code);
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
        remote: None,
    };
    let rerun = pipeline::rerun::rerun(&manifest, args.spec_dir.as_deref(), &opts)?;
    for note in &rerun.changed_files {
        println!("note: {}", printable(note));
    }
    if rerun.differences.is_empty() {
        println!("rerun: all {} metrics reproduced", manifest.metrics.len());
        Ok(intact_code)
    } else {
        println!("rerun: metrics differ");
        for d in rerun.differences {
            println!("  - {}", printable(&d));
        }
        Ok(EXIT_NOT_VERIFIED)
    }
}
