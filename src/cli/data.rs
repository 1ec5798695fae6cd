//! `kerros data list | fetch | path | split`.

use super::{DirArgs, InvalidArguments};
use crate::data::{self, fetch, ExportFormat};
use crate::pipeline::{splits, RunOptions};
use anyhow::Result;
use clap::{Subcommand, ValueEnum};
use std::path::{Path, PathBuf};

/// `--format` of `kerros data split`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SplitFormat {
    /// CSV with a header row `id,text,label`.
    Csv,
    /// Parquet with columns `id`, `text`, `label`.
    Parquet,
}

/// Built-in dataset commands.
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// List the built-in datasets and whether they are present.
    List {
        /// Data folder (default: $KERROS_DATA_DIR, then the per-user cache folder).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Download, verify and convert a built-in dataset (no-op when present).
    Fetch {
        /// Dataset name (`imdb`, `druglib`, `drugscom`).
        name: String,
        /// Data folder (default: $KERROS_DATA_DIR, then the per-user cache folder).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// Download from this URL instead (a mirror); default $KERROS_DATASET_MIRROR,
        /// then the official source. The official checksum still applies.
        #[arg(long)]
        url: Option<String>,
        /// Expected sha256 of the archive, replacing the official one.
        #[arg(long, value_name = "HEX")]
        sha256: Option<String>,
        /// Seconds without progress before the download is abandoned.
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<u64>,
    },
    /// Write the exact train / validation / test examples a run of SPEC uses
    /// (after `limit`, the test and validation splits, and `data.clean`) into
    /// DIR as train, validation and test files, and print their row counts.
    Split {
        /// The spec file.
        spec: PathBuf,
        /// The folder to write (created; must hold nothing else).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// File format.
        #[arg(long, value_enum, default_value = "csv")]
        format: SplitFormat,
        /// Data and cache folders.
        #[command(flatten)]
        dirs: DirArgs,
    },
    /// Print the folder a dataset lives in.
    Path {
        /// Dataset name.
        name: String,
        /// Data folder.
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
}

/// Run a `kerros data` command.
pub fn data(cmd: DataCommand) -> Result<i32> {
    match cmd {
        DataCommand::List { data_dir } => {
            let (dir, _) = data::data_dir(data_dir.as_deref());
            print!("{}", fetch::cli::list_text(&dir));
        }
        DataCommand::Fetch {
            name,
            data_dir,
            url,
            sha256,
            timeout,
        } => {
            let (dir, _) = data::data_dir(data_dir.as_deref());
            let opts = fetch::cli::fetch_options(url, sha256, timeout);
            println!("{}", fetch::cli::fetch_text(&name, &dir, &opts)?);
        }
        DataCommand::Split {
            spec,
            out,
            format,
            dirs,
        } => split(&spec, &out, format, dirs)?,
        DataCommand::Path { name, data_dir } => {
            let (dir, _) = data::data_dir(data_dir.as_deref());
            println!("{}", fetch::cli::path_text(&name, &dir)?);
        }
    }
    Ok(0)
}

/// `kerros data split`: the run's splits into `out`, one file each.
fn split(spec: &Path, out: &Path, format: SplitFormat, dirs: DirArgs) -> Result<()> {
    if out.exists() {
        let busy = std::fs::read_dir(out)
            .map(|mut entries| entries.next().is_some())
            .unwrap_or(true);
        if busy {
            return Err(InvalidArguments(format!(
                "--out {}: the folder must not exist yet or be empty (only the split files are written there)",
                out.display()
            ))
            .into());
        }
    }
    let mut opts = RunOptions::new(dirs.data_dir);
    opts.cache_dir = dirs.cache_dir;
    opts.quiet = true;
    let prepared = splits::prepared_splits(spec, &opts)?;
    std::fs::create_dir_all(out)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", out.display()))?;
    let format = match format {
        SplitFormat::Csv => ExportFormat::Csv,
        SplitFormat::Parquet => ExportFormat::Parquet,
    };
    for (name, items) in [
        ("train", &prepared.train),
        ("validation", &prepared.validation),
        ("test", &prepared.test),
    ] {
        let path = out.join(format!("{name}.{}", format.extension()));
        data::export_items(&path, items, format)?;
        println!("{name:<10} {:>8} rows  {}", items.len(), path.display());
    }
    let total = prepared.train.len() + prepared.validation.len() + prepared.test.len();
    println!("{:<10} {total:>8} rows", "total");
    Ok(())
}
