//! `kerros data list | fetch | path`.

use crate::data::{self, fetch};
use anyhow::Result;
use clap::Subcommand;
use std::path::PathBuf;

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
        DataCommand::Path { name, data_dir } => {
            let (dir, _) = data::data_dir(data_dir.as_deref());
            println!("{}", fetch::cli::path_text(&name, &dir)?);
        }
    }
    Ok(0)
}
