//! Command-line interface: clap definitions and command dispatch.
//!
//! Exit codes: 0 success; 1 a run failed (bad data, I/O, training); 2 the
//! command line or the spec is invalid; 3 a run finished but an `expect:`
//! gate was not met; 4 `verify` found a report altered or not reproduced.

mod cache;
mod compare;
mod data;
mod forward;
mod grade;
pub mod init;
mod predict;
mod remote;
mod run;
mod serve;
mod verify;

pub use predict::PredictArgs;

use crate::spec::SpecError;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Exit code for a failed run.
pub const EXIT_FAILURE: i32 = 1;
/// Exit code for an invalid command line or spec.
pub const EXIT_INVALID: i32 = 2;
/// Exit code when a run finished but an `expect:` gate was not met.
pub const EXIT_EXPECTATION_UNMET: i32 = crate::spec::expect::EXIT_EXPECTATION_UNMET;
/// Exit code when `verify` finds a report altered or its metrics not reproduced.
pub const EXIT_NOT_VERIFIED: i32 = 4;
/// Exit code when `verify` finds a report written by another kerros version:
/// its digest and record were checked and hold, but its page cannot be
/// rendered again byte for byte by this version.
pub const EXIT_VERSION_MISMATCH: i32 = 5;

const EXAMPLES: &str = "\
Examples:
  kerros run pipelines/imdb_seed.yaml --data-dir ../shared/data
  kerros run pipelines/imdb_seed.yaml --json > result.json
  kerros run pipelines/*.yaml --jobs 2
  kerros validate pipelines/imdb_seed.yaml
  kerros show pipelines/imdb_seed.yaml
  kerros forward pipelines/hand_calculation.yaml --input 1,3,2
  kerros predict pipelines/druglib_rating3.yaml --text \"It worked well, few side effects\"
  kerros serve pipelines/druglib_rating3.yaml --port 8080
  kerros compare pipelines/imdb_seed.yaml pipelines/imdb_lstm.yaml --sort cohen_kappa
  kerros verify reports/imdb_seed.html
  kerros grade --assignment assignment.yaml submissions/*.html --csv grades.csv --html class.html
  kerros init my_experiment
  kerros cache info
  kerros cache gc --older-than 30d

Exit codes: 0 ok, 1 run failed, 2 invalid spec or arguments, 3 an `expect:` gate
was not met, 4 `verify` found a report altered or not reproduced.
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
    /// Run experiments: load, split, fit vocabulary, encode, train, evaluate,
    /// report. Unchanged stages are reused from the cache. Several specs, and
    /// the variants of a `matrix:` sweep, run in parallel with --jobs.
    #[command(after_help = EXAMPLES)]
    Run(run::RunArgs),
    /// Check a spec without touching data: keys, types, values, bounds, layer
    /// shapes, output layer, metrics and `expect:`, and the memory it needs.
    ///
    /// Documented bounds: a spec file of at most 1 MiB nested at most 32 deep; epochs <= 100000;
    /// at most 500 layers; units, filters and output_dim <= 1000000; maxlen,
    /// kernel_size and pool_size <= 100000; input_dim, num_words and
    /// max_tokens <= 10000000; batch_size <= 1000000.
    Validate {
        /// The spec file.
        spec: PathBuf,
        /// Refuse a spec whose estimated memory is above this, e.g. `16G`;
        /// default half the RAM.
        #[arg(long, value_name = "SIZE", value_parser = crate::pipeline::memory::parse_memory_size)]
        max_memory: Option<u64>,
    },
    /// Print the fully resolved spec, every default filled in.
    Show {
        /// The spec file.
        spec: PathBuf,
    },
    /// Compute a hand-calculation network's forward pass, layer by layer.
    Forward(forward::ForwardArgs),
    /// Compare finished runs: the settings that differ and the metrics.
    Compare(compare::CompareArgs),
    /// Check that a report is intact (and with --rerun, reproducible).
    Verify(verify::VerifyArgs),
    /// Grade submission reports against an assignment: intact, made for it,
    /// locked settings kept, its data, points; a gradebook CSV and a class page.
    Grade(grade::GradeArgs),
    /// Create a new experiment folder with an example spec and CI workflow.
    Init {
        /// The folder to create.
        dir: PathBuf,
        /// Make a student folder for this assignment file: a copy of its
        /// template linked to it, whose locked keys every command checks.
        #[arg(long, value_name = "ASSIGNMENT.yaml")]
        assignment: Option<PathBuf>,
    },
    /// Built-in datasets: list, fetch, path.
    #[command(subcommand)]
    Data(data::DataCommand),
    /// Label new texts (--text, or --input/--output CSV) with the experiment's
    /// trained model, training it first when the cache has none.
    Predict(PredictArgs),
    /// The stage cache: size per stage (info), clean-up (gc).
    #[command(subcommand)]
    Cache(cache::CacheCommand),
    /// Serve the experiment's model as a local web page and JSON API
    /// (training it first when the cache has none) until SIGINT / SIGTERM.
    Serve(serve::ServeArgs),
}

/// Data and cache folders, shared by the commands that run stages.
#[derive(Debug, Args, Clone)]
pub struct DirArgs {
    /// Folder holding built-in datasets (`<DIR>/imdb/train.parquet`, ...).
    /// Defaults to $KERROS_DATA_DIR, then a per-user cache folder.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Folder for cached stage artifacts.
    #[arg(long, value_name = "DIR", default_value = crate::spec::DEFAULT_CACHE_DIR)]
    pub cache_dir: PathBuf,
}

/// A command line that cannot work (a required option missing, options that
/// contradict each other): exits with [`EXIT_INVALID`] like an invalid spec.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidArguments(pub String);

/// Whether `e` is the user's to fix in the spec or the command line (exit 2)
/// rather than a failed run (exit 1).
fn is_invalid_input(e: &anyhow::Error) -> bool {
    e.downcast_ref::<SpecError>().is_some() || e.downcast_ref::<InvalidArguments>().is_some()
}

/// Parse the command line, run the command and return the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            report_error(&e);
            if is_invalid_input(&e) {
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
        Command::Run(args) => run::run(args),
        Command::Validate { spec, max_memory } => run::validate(&spec, max_memory),
        Command::Predict(args) => predict::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Show { spec } => {
            let (s, _) = crate::spec::load_spec(&spec)?;
            print!("{}", crate::spec::resolved_yaml(&s)?);
            Ok(0)
        }
        Command::Forward(args) => forward::forward(args),
        Command::Compare(args) => compare::compare(args),
        Command::Verify(args) => verify::verify(args),
        Command::Grade(args) => grade::grade(args),
        Command::Init { dir, assignment } => init::command(&dir, assignment.as_deref()),
        Command::Data(cmd) => data::data(cmd),
        Command::Cache(cmd) => cache::cache(cmd),
    }
}
