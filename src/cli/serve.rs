//! `kerros serve`: serve an experiment's model as a web page and JSON API.

use super::DirArgs;
use crate::pipeline::RunOptions;
use crate::serve::limits::{DEFAULT_MAX_BODY, DEFAULT_MAX_ROWS, DEFAULT_TIMEOUT_SECS};
use crate::serve::{serve, Limits, ServeOptions};
use anyhow::Result;
use clap::Args;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Options of `kerros serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The spec file of the experiment whose model is served.
    pub spec: PathBuf,
    /// Address to listen on; anything but a loopback address lets other
    /// machines use the model.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port to listen on; 0 picks a free one (printed as `listening on ...`).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// For a spec with a `matrix:`: the variant to serve, by its full name
    /// (`name[key=value]`) or its settings (`key=value`).
    #[arg(long, value_name = "NAME")]
    pub variant: Option<String>,
    #[command(flatten)]
    pub dirs: DirArgs,
    #[command(flatten)]
    pub remote: super::remote::RemoteArgs,
    /// Where the report of a run needed to train the model is written.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub reports_dir: PathBuf,
    /// Largest request body in bytes; larger gets 413.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BODY)]
    pub max_body: usize,
    /// Most texts (rows) in one `POST /predict`; more gets 413.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_ROWS)]
    pub max_rows: usize,
    /// Longest a request may take, in seconds; longer gets 503.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_TIMEOUT_SECS)]
    pub timeout: u64,
}

/// Run `kerros serve` until SIGINT or SIGTERM; returns the exit code.
pub fn run(args: ServeArgs) -> Result<i32> {
    if args.max_body == 0 || args.max_rows == 0 || args.timeout == 0 {
        anyhow::bail!("--max-body, --max-rows and --timeout must be at least 1");
    }
    let options = ServeOptions {
        spec: args.spec,
        variant: args.variant,
        host: args.host,
        port: args.port,
        run: RunOptions {
            data_dir: args.dirs.data_dir,
            cache_dir: args.dirs.cache_dir,
            reports_dir: args.reports_dir,
            force: false,
            quiet: false,
            author: None,
            log_prefix: None,
            remote: args.remote.open()?,
        },
        limits: Limits {
            max_body: args.max_body,
            max_rows: args.max_rows,
            timeout: Duration::from_secs(args.timeout),
            ..Limits::default()
        },
    };
    serve(options)?;
    Ok(0)
}
