//! `kerros run` and `kerros validate`: the command line over
//! [`crate::pipeline::schedule`] (jobs, parallel runs, `expect:` gates) and
//! the printed results.

use super::{DirArgs, EXIT_EXPECTATION_UNMET, EXIT_FAILURE};
use crate::pipeline::{schedule, RunOptions, RunOutcome};
use anyhow::Result;
use clap::Args;
use std::path::{Path, PathBuf};

/// Options of `kerros run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Spec files; a spec with a `matrix:` runs each of its variants.
    #[arg(required = true)]
    pub specs: Vec<PathBuf>,
    #[command(flatten)]
    pub dirs: DirArgs,
    /// Where reports are written.
    #[arg(long, value_name = "DIR", default_value = crate::spec::DEFAULT_REPORTS_DIR)]
    pub reports_dir: PathBuf,
    /// Refuse a run whose estimated memory (weights, optimizer state, one
    /// batch's activations) is above this, e.g. `16G`; default half the RAM.
    #[arg(long, value_name = "SIZE", value_parser = crate::pipeline::memory::parse_memory_size)]
    pub max_memory: Option<u64>,
    /// Re-run every stage, ignoring cached artifacts.
    #[arg(long)]
    pub force: bool,
    /// Print one JSON object per experiment on stdout (one per line): metrics,
    /// stages, history, report path, artifacts, params and timings.
    #[arg(long)]
    pub json: bool,
    /// Experiments run at once; the CPU threads are shared out between them.
    #[arg(long, short = 'j', default_value_t = 1)]
    pub jobs: usize,
    /// Author shown in the report and its manifest (overrides `report.author`).
    #[arg(long)]
    pub author: Option<String>,
    /// Run only shard I of N (1-based): a fixed 1/N of all (spec, variant)
    /// pairs, the same whatever the order of SPECS, e.g. `--shard 2/4`.
    #[arg(long, value_name = "I/N", value_parser = clap::builder::ValueParser::new(schedule::Shard::parse))]
    pub shard: Option<schedule::Shard>,
    #[command(flatten)]
    pub remote: super::remote::RemoteArgs,
    /// Also write each report chart as a standalone SVG and PNG into this folder.
    #[arg(long, value_name = "DIR")]
    pub figures: Option<PathBuf>,
}

/// `kerros validate`: every check that needs no data.
pub fn validate(file: &Path, max_memory: Option<u64>) -> Result<i32> {
    let jobs = schedule::jobs(&[file.to_path_buf()], max_memory)?;
    if jobs.len() > 1 {
        println!("{}: ok ({} variants)", file.display(), jobs.len());
    } else {
        println!("{}: ok", file.display());
    }
    Ok(0)
}

/// `kerros run`.
pub fn run(args: RunArgs) -> Result<i32> {
    let mut jobs = schedule::jobs(&args.specs, args.max_memory)?;
    if let Some(shard) = args.shard {
        let all = jobs.len();
        jobs = shard.select(jobs);
        eprintln!("shard {shard}: {} of {all} experiments", jobs.len());
    }
    let opts = RunOptions {
        data_dir: args.dirs.data_dir.clone(),
        cache_dir: args.dirs.cache_dir.clone(),
        reports_dir: args.reports_dir.clone(),
        force: args.force,
        quiet: false,
        author: args.author.clone(),
        log_prefix: None,
        remote: args.remote.open()?,
    };
    // A selection needs every variant finished: its lines wait for the end.
    let selecting = jobs.iter().any(|j| j.selection.is_some());
    let results = schedule::run_jobs(&jobs, &opts, args.jobs, |o| {
        if args.json && !selecting {
            // One line per experiment as soon as it finishes.
            println!(
                "{}",
                serde_json::to_string(&o.to_json()).unwrap_or_default()
            );
        }
    });
    let selected = schedule::selected(&jobs, &results);
    let mut code = 0;
    let mut outcomes = Vec::new();
    for ((result, job), chosen) in results.into_iter().zip(&jobs).zip(selected) {
        match result {
            Ok(mut o) => {
                if let Some(chosen) = chosen {
                    if args.json {
                        let mut line = o.to_json();
                        line["selected"] = chosen.into();
                        println!("{}", serde_json::to_string(&line).unwrap_or_default());
                    }
                }
                let unmet = job.unmet_expectations(&o)?;
                for u in &unmet {
                    eprintln!("expectation not met in `{}`: {u}", o.name);
                }
                if !unmet.is_empty() && code == 0 {
                    code = EXIT_EXPECTATION_UNMET;
                }
                if chosen == Some(true) {
                    let metric = job.selection.as_ref().map_or("", |s| s.1.as_str());
                    o.name = format!("{} (selected by {metric})", o.name);
                }
                outcomes.push(o);
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                // A spec problem only the data revealed (classes vs. the
                // output layer) is still an invalid spec: exit 2.
                let invalid = e.downcast_ref::<crate::spec::SpecError>().is_some();
                code = if invalid && code != EXIT_FAILURE {
                    super::EXIT_INVALID
                } else {
                    EXIT_FAILURE
                };
            }
        }
    }
    crate::report::figures::write_for_runs(
        outcomes.iter().map(|o| o.report.as_path()),
        args.figures.as_deref(),
    )?;
    // The single text summary lists its hints itself.
    if args.json || jobs.len() > 1 {
        for o in &outcomes {
            for h in &o.hints {
                eprintln!("hint: `{}`: {h}", o.name);
            }
        }
    }
    if !args.json {
        if jobs.len() > 1 {
            print!("{}", summary_table(&outcomes));
        } else if let Some(o) = outcomes.first() {
            print!("{}", o.summary_text());
        }
    }
    Ok(code)
}

/// A table of the main metrics of several experiments.
fn summary_table(outcomes: &[RunOutcome]) -> String {
    let cols = ["accuracy", "cohen_kappa", "f1", "f1_macro", "mae"];
    let used: Vec<&str> = cols
        .iter()
        .copied()
        .filter(|c| outcomes.iter().any(|o| o.metrics.contains(c)))
        .collect();
    let width = outcomes
        .iter()
        .map(|o| o.name.len())
        .max()
        .unwrap_or(4)
        .max(10);
    let mut out = format!("{:<width$}", "experiment");
    for c in &used {
        out.push_str(&format!("  {c:>11}"));
    }
    out.push_str("  seconds  report\n");
    for o in outcomes {
        out.push_str(&format!("{:<width$}", o.name));
        for c in &used {
            match o.metrics.scalar(c) {
                Some(v) => out.push_str(&format!("  {v:>11.4}")),
                None => out.push_str(&format!("  {:>11}", "-")),
            }
        }
        out.push_str(&format!("  {:>7.1}  {}\n", o.seconds, o.report.display()));
    }
    out
}
