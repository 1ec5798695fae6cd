//! `kerros run` and `kerros validate`: one or many specs, sweeps, parallel
//! jobs, CI gates.

use super::{DirArgs, EXIT_EXPECTATION_UNMET, EXIT_FAILURE};
use crate::pipeline::{self, RunOptions, RunOutcome};
use crate::spec::{self, Spec};
use crate::workflow;
use anyhow::{Context, Result};
use clap::Args;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

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
    #[arg(long, value_name = "SIZE", value_parser = pipeline::memory::parse_memory_size)]
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
}

/// One experiment to run: a spec file or one variant of its sweep.
struct Job {
    file: PathBuf,
    spec: Spec,
}

/// Parse every spec, expand its sweep into jobs and validate each one.
fn jobs(files: &[PathBuf], max_memory: Option<u64>) -> Result<Vec<Job>> {
    let limit = pipeline::memory::MemoryLimit::from_flag(max_memory);
    let mut out = Vec::new();
    for file in files {
        let source = spec::read_spec_file(file)?;
        let variants = workflow::expand(&source, file)?;
        let locator = spec::Locator::new(&source);
        for v in variants {
            pipeline::validate_with(&v.spec, file, &locator, &limit)?;
            out.push(Job {
                file: file.clone(),
                spec: v.spec,
            });
        }
    }
    Ok(out)
}

/// `kerros validate`: every check that needs no data.
pub fn validate(file: &Path, max_memory: Option<u64>) -> Result<i32> {
    let jobs = jobs(&[file.to_path_buf()], max_memory)?;
    if jobs.len() > 1 {
        println!("{}: ok ({} variants)", file.display(), jobs.len());
    } else {
        println!("{}: ok", file.display());
    }
    Ok(0)
}

/// `kerros run`.
pub fn run(args: RunArgs) -> Result<i32> {
    let jobs = jobs(&args.specs, args.max_memory)?;
    let several = jobs.len() > 1;
    let workers = args.jobs.clamp(1, jobs.len().max(1));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Each job gets its share of the cores so parallel jobs do not oversubscribe.
    let threads_per_job = (cores / workers).max(1);
    let results: Mutex<Vec<(usize, Result<RunOutcome>)>> = Mutex::new(Vec::new());
    let run_one = |i: usize, job: &Job| {
        let opts = RunOptions {
            data_dir: args.dirs.data_dir.clone(),
            cache_dir: args.dirs.cache_dir.clone(),
            reports_dir: args.reports_dir.clone(),
            force: args.force,
            quiet: false,
            author: args.author.clone(),
            log_prefix: several.then(|| job.spec.name.clone()),
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads_per_job)
            .build();
        let outcome = match pool {
            Ok(pool) => pool.install(|| pipeline::run_spec(&job.spec, &job.file, &opts)),
            Err(e) => Err(e.into()),
        };
        let outcome = outcome.with_context(|| format!("experiment `{}`", job.spec.name));
        if args.json {
            if let Ok(o) = &outcome {
                // One line per experiment as soon as it finishes.
                println!(
                    "{}",
                    serde_json::to_string(&o.to_json()).unwrap_or_default()
                );
            }
        }
        results
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((i, outcome));
    };
    if workers == 1 {
        for (i, job) in jobs.iter().enumerate() {
            run_one(i, job);
        }
    } else {
        let next = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(job) = jobs.get(i) else { break };
                    run_one(i, job);
                });
            }
        });
    }
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(i, _)| *i);

    let mut code = 0;
    let mut outcomes = Vec::new();
    for ((_, result), job) in results.into_iter().zip(&jobs) {
        match result {
            Ok(o) => {
                if let Some(expect) = &job.spec.expect {
                    let locator =
                        spec::Locator::new(&std::fs::read_to_string(&job.file).unwrap_or_default());
                    let unmet = workflow::check_expectations(expect, &o.metrics)
                        .map_err(|i| i.at(&job.file, &locator))?;
                    for u in &unmet {
                        eprintln!("expectation not met in `{}`: {u}", o.name);
                    }
                    if !unmet.is_empty() && code == 0 {
                        code = EXIT_EXPECTATION_UNMET;
                    }
                }
                outcomes.push(o);
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                // A spec problem only the data revealed (classes vs. the
                // output layer) is still an invalid spec: exit 2.
                let invalid = e.downcast_ref::<spec::SpecError>().is_some();
                code = if invalid && code != EXIT_FAILURE {
                    super::EXIT_INVALID
                } else {
                    EXIT_FAILURE
                };
            }
        }
    }
    if !args.json {
        if several {
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
        .filter(|c| outcomes.iter().any(|o| o.metrics.contains_key(*c)))
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
            match o.metrics.get(*c).and_then(|v| v.as_f64()) {
                Some(v) => out.push_str(&format!("  {v:>11.4}")),
                None => out.push_str(&format!("  {:>11}", "-")),
            }
        }
        out.push_str(&format!("  {:>7.1}  {}\n", o.seconds, o.report.display()));
    }
    out
}
