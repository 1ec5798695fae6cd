//! Command-line interface: clap definitions and command dispatch.
//!
//! Exit codes: 0 success; 1 a run failed (bad data, I/O, training); 2 the
//! command line or the spec is invalid.

mod predict;

pub use predict::PredictArgs;

use crate::pipeline::{self, RunOptions};
use crate::spec::{self, SpecError};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Exit code for a failed run.
pub const EXIT_FAILURE: i32 = 1;
/// Exit code for an invalid command line or spec.
pub const EXIT_INVALID: i32 = 2;

const EXAMPLES: &str = "\
Examples:
  kerros run pipelines/imdb_seed.yaml --data-dir ../shared/data
  kerros run pipelines/imdb_seed.yaml --json > result.json
  kerros validate pipelines/imdb_seed.yaml
  kerros show pipelines/imdb_seed.yaml
  kerros predict pipelines/imdb_seed.yaml --text \"A wonderful film\"
";

/// kerros: a YAML experiment spec in, a trained text classifier, its metrics
/// and a self-contained HTML report out.
#[derive(Debug, Parser)]
#[command(name = "kerros", version, about, after_help = EXAMPLES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run an experiment: load, split, fit vocabulary, encode, train, evaluate, report.
    /// Unchanged stages are reused from the cache.
    #[command(after_help = EXAMPLES)]
    Run(RunArgs),
    /// Check a spec (keys, types, values, layer shapes) without touching data.
    Validate {
        /// The spec file.
        spec: PathBuf,
    },
    /// Print the fully resolved spec, every default filled in.
    Show {
        /// The spec file.
        spec: PathBuf,
    },
    /// Label new texts (--text, or --input/--output CSV) with the experiment's
    /// trained model, training it first when the cache has none.
    Predict(PredictArgs),
}

/// Options of `kerros run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The spec file.
    pub spec: PathBuf,
    #[command(flatten)]
    pub dirs: DirArgs,
    /// Where reports are written.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub reports_dir: PathBuf,
    /// Re-run every stage, ignoring cached artifacts.
    #[arg(long)]
    pub force: bool,
    /// Print one JSON object with metrics, stages, history, report path and timings on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Data and cache folders, shared by the commands that run stages.
#[derive(Debug, Args, Clone)]
pub struct DirArgs {
    /// Folder holding built-in datasets (`<DIR>/imdb/train.parquet`, ...).
    /// Defaults to $KERROS_DATA_DIR, then a per-user cache folder.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Folder for cached stage artifacts.
    #[arg(long, value_name = "DIR", default_value = ".kerros/cache")]
    pub cache_dir: PathBuf,
}

/// Parse the command line, run the command and return the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            report_error(&e);
            if e.downcast_ref::<SpecError>().is_some() {
                EXIT_INVALID
            } else {
                EXIT_FAILURE
            }
        }
    }
}

fn report_error(e: &anyhow::Error) {
    if let Some(se) = e.downcast_ref::<SpecError>() {
        eprintln!("error: {se}");
    } else {
        eprintln!("error: {e:#}");
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Run(args) => {
            let opts = RunOptions {
                data_dir: args.dirs.data_dir,
                cache_dir: args.dirs.cache_dir,
                reports_dir: args.reports_dir,
                force: args.force,
                quiet: false,
            };
            let outcome = pipeline::run(&args.spec, &opts)?;
            if args.json {
                println!("{}", serde_json::to_string(&outcome.to_json())?);
            } else {
                print!("{}", outcome.summary_text());
            }
            Ok(0)
        }
        Command::Validate { spec } => {
            let (s, locator) = spec::load_spec(&spec)?;
            pipeline::check_model(&s, &spec, &locator)?;
            println!("{}: ok", spec.display());
            Ok(0)
        }
        Command::Predict(args) => predict::run(args),
        Command::Show { spec } => {
            let (s, _) = spec::load_spec(&spec)?;
            print!("{}", serde_yaml::to_string(&s)?);
            Ok(0)
        }
    }
}
