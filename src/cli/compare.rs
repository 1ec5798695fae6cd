//! `kerros compare`: finished runs side by side, as a table and optionally a page.

use super::DirArgs;
use crate::cache::remote::RemoteCache;
use crate::report::compare::Comparison;
use crate::report::record::{self, RunRecord};
use crate::report::selection::select_best;
use crate::spec::sweep::{expand, read_source};
use anyhow::{bail, Context, Result};
use clap::Args;
use std::path::PathBuf;

/// Options of `kerros compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Spec files (their variants' latest runs) or run records (`.json`);
    /// every recorded run in the cache when none are given.
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub dirs: DirArgs,
    /// Sort by this metric or setting (largest first unless --ascending);
    /// validation metrics (`val_loss`, `val_accuracy`, `best_val_loss`,
    /// `best_epoch`) too, losses always smallest first; `test:NAME` names a
    /// test metric.
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
    /// Read the run records from this remote cache (every shard's and
    /// machine's runs) instead of the local cache (default $KERROS_REMOTE_CACHE).
    #[arg(long, value_name = "URL")]
    pub remote_cache: Option<String>,
    /// The baseline run (default: the first named): the page shows each other
    /// run's settings as differences from it, and the McNemar p-value column
    /// pairs each run with it on the same test examples.
    #[arg(long, value_name = "NAME")]
    pub baseline: Option<String>,
}

/// The runs to compare, and the names a spec's `select:` chose among its variants.
fn records(args: &CompareArgs) -> Result<(Vec<RunRecord>, Vec<String>)> {
    let read = crate::cache::remote::RemoteMode::Read;
    if let Some(remote) = RemoteCache::from_flag_or_env(args.remote_cache.as_deref(), read)? {
        return Ok((
            super::remote::remote_records(&remote, &args.inputs)?,
            Vec::new(),
        ));
    }
    if args.inputs.is_empty() {
        return Ok((record::load_records(&args.dirs.cache_dir)?, Vec::new()));
    }
    let mut out = Vec::new();
    let mut selected = Vec::new();
    for input in &args.inputs {
        if input.extension().is_some_and(|e| e == "json") {
            out.push(record::load_record(input)?);
            continue;
        }
        let source = read_source(input)?;
        let (base, _) = crate::spec::parse_spec(&source, input)?;
        let first = out.len();
        for v in expand(&source, input)? {
            let path = record::record_path(&args.dirs.cache_dir, &v.name);
            if !path.is_file() {
                bail!(
                    "no finished run of `{}` in {}; run it first: kerros run {} --cache-dir {}",
                    v.name,
                    args.dirs.cache_dir.display(),
                    input.display(),
                    args.dirs.cache_dir.display()
                );
            }
            out.push(record::load_record(&path)?);
        }
        if let Some(select) = base.select {
            let values: Vec<Option<f64>> = out[first..]
                .iter()
                .map(|r| r.validation.get(&select.metric).and_then(|v| v.as_f64()))
                .collect();
            if let Some(i) = select_best(&values, &select.metric) {
                selected.push(out[first + i].name.clone());
            }
        }
    }
    Ok((out, selected))
}

/// `kerros compare`.
pub fn compare(args: CompareArgs) -> Result<i32> {
    let (records, selected) = records(&args)?;
    if records.is_empty() {
        bail!(
            "no finished runs in {}; run some experiments first",
            args.dirs.cache_dir.display()
        );
    }
    let mut cmp = Comparison::new(
        &records,
        &args.metrics,
        args.sort.as_deref(),
        !args.ascending,
    )?;
    for name in &selected {
        cmp.mark_selected(name);
    }
    if let Some(name) = &args.baseline {
        cmp.set_baseline(name)
            .map_err(|e| super::InvalidArguments(e.to_string()))?;
    }
    // McNemar needs two runs with recorded predictions; older records have none.
    let baseline = args.baseline.clone().or_else(|| {
        (records.len() > 1 && records.iter().any(|r| r.predictions.is_some()))
            .then(|| records[0].name.clone())
    });
    if let Some(baseline) = baseline {
        cmp.add_mcnemar(&baseline)
            .map_err(super::InvalidArguments)?;
    }
    print!("{}", cmp.text());
    if let Some(path) = &args.html {
        std::fs::write(path, cmp.html()?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("comparison written to {}", path.display());
    }
    Ok(0)
}
