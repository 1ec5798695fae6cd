//! `kerros compare`, `kerros verify` and `kerros init`.

use super::{DirArgs, EXIT_NOT_VERIFIED};
use crate::pipeline::{self, RunOptions};
use crate::workflow::{self, Comparison, RunRecord};
use anyhow::{bail, Context, Result};
use clap::Args;
use std::path::{Path, PathBuf};

/// Options of `kerros compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Spec files (their variants' latest runs) or run records (`.json`);
    /// every recorded run in the cache when none are given.
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub dirs: DirArgs,
    /// Sort by this metric or setting (largest first unless --ascending).
    #[arg(long)]
    pub sort: Option<String>,
    /// Sort smallest first.
    #[arg(long)]
    pub ascending: bool,
    /// Metrics to show, comma-separated (default: accuracy, cohen_kappa, f1 / f1_macro).
    #[arg(long, value_delimiter = ',')]
    pub metrics: Vec<String>,
    /// Also write a self-contained HTML comparison with overlaid learning curves.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

fn records(args: &CompareArgs) -> Result<Vec<RunRecord>> {
    if args.inputs.is_empty() {
        return workflow::load_records(&args.dirs.cache_dir);
    }
    let mut out = Vec::new();
    for input in &args.inputs {
        if input.extension().is_some_and(|e| e == "json") {
            out.push(workflow::load_record(input)?);
            continue;
        }
        let source = std::fs::read_to_string(input)
            .with_context(|| format!("cannot read {}", input.display()))?;
        for v in workflow::expand(&source, input)? {
            let path = workflow::record_path(&args.dirs.cache_dir, &v.name);
            if !path.is_file() {
                bail!(
                    "no finished run of `{}` in {}; run it first: kerros run {} --cache-dir {}",
                    v.name,
                    args.dirs.cache_dir.display(),
                    input.display(),
                    args.dirs.cache_dir.display()
                );
            }
            out.push(workflow::load_record(&path)?);
        }
    }
    Ok(out)
}

/// `kerros compare`.
pub fn compare(args: CompareArgs) -> Result<i32> {
    let records = records(&args)?;
    if records.is_empty() {
        bail!(
            "no finished runs in {}; run some experiments first",
            args.dirs.cache_dir.display()
        );
    }
    let cmp = Comparison::new(
        &records,
        &args.metrics,
        args.sort.as_deref(),
        !args.ascending,
    )?;
    print!("{}", cmp.text());
    if let Some(path) = &args.html {
        std::fs::write(path, cmp.html())
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("comparison written to {}", path.display());
    }
    Ok(0)
}

/// Options of `kerros verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The report (HTML) to check.
    pub report: PathBuf,
    /// Also re-run the embedded spec on the same data and compare the metrics.
    #[arg(long)]
    pub rerun: bool,
    #[command(flatten)]
    pub dirs: DirArgs,
}

/// `kerros verify`.
pub fn verify(args: VerifyArgs) -> Result<i32> {
    let html = std::fs::read_to_string(&args.report)
        .with_context(|| format!("cannot read {}", args.report.display()))?;
    let result = workflow::verify(&html);
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
    let spec = manifest.spec()?;
    let tmp = tempfile::tempdir()?;
    let spec_path = tmp.path().join(format!("{}.yaml", spec.name));
    std::fs::write(&spec_path, &manifest.spec_yaml)?;
    let locator = crate::spec::Locator::new(&manifest.spec_yaml);
    pipeline::validate(&spec, &spec_path, &locator)?;
    let opts = RunOptions {
        data_dir: args.dirs.data_dir.clone(),
        cache_dir: args.dirs.cache_dir.clone(),
        reports_dir: tmp.path().join("reports"),
        force: true,
        quiet: false,
        author: manifest.author.clone(),
        log_prefix: None,
    };
    let outcome = pipeline::run_spec(&spec, &spec_path, &opts)?;
    let diffs = workflow::compare_metrics(&manifest.metrics, &outcome.metrics, 1e-9);
    if diffs.is_empty() {
        println!("rerun: all {} metrics reproduced", manifest.metrics.len());
        Ok(0)
    } else {
        println!("rerun: metrics differ");
        for d in diffs {
            println!("  - {d}");
        }
        Ok(EXIT_NOT_VERIFIED)
    }
}

/// `kerros init`.
pub fn init(dir: &Path) -> Result<i32> {
    let files = workflow::init(dir)?;
    for f in &files {
        println!("created {}", f.display());
    }
    println!(
        "next: cd {} && kerros run experiment.yaml --data-dir <folder with imdb/>",
        dir.display()
    );
    Ok(0)
}
