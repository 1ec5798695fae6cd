//! `--remote-cache URL` and `--remote-cache-mode`, shared by the commands
//! that run stages (see `crate::cache::remote`).

use crate::cache::remote::{RemoteCache, RemoteMode};
use anyhow::Result;
use clap::Args;
use std::sync::Arc;

/// The remote stage cache options.
#[derive(Debug, Args)]
pub struct RemoteArgs {
    /// A second cache level shared by machines: s3://BUCKET/PREFIX,
    /// gs://BUCKET/PREFIX, az://CONTAINER/PREFIX or file:///FOLDER (default
    /// $KERROS_REMOTE_CACHE). Credentials and endpoint come from the
    /// provider's usual environment (AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL,
    /// AWS_ALLOW_HTTP=true, GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_*).
    #[arg(long, value_name = "URL")]
    pub remote_cache: Option<String>,
    /// read: only pull (pull-request CI); write: only push; read-write: both.
    #[arg(long, value_name = "MODE", default_value = "read-write", value_parser = clap::builder::ValueParser::new(parse_mode))]
    pub remote_cache_mode: RemoteMode,
}

fn parse_mode(s: &str) -> std::result::Result<RemoteMode, String> {
    s.parse()
}

impl RemoteArgs {
    /// The opened remote cache, if `--remote-cache` or `KERROS_REMOTE_CACHE` names one.
    pub fn open(&self) -> Result<Option<Arc<RemoteCache>>> {
        RemoteCache::from_flag_or_env(self.remote_cache.as_deref(), self.remote_cache_mode)
    }
}

/// The run records `kerros compare` shows from `remote`: all of them when
/// `inputs` is empty, else those of the given run records (`.json` files,
/// read locally) and of every variant of the given spec files.
pub fn remote_records(
    remote: &RemoteCache,
    inputs: &[std::path::PathBuf],
) -> Result<Vec<crate::report::record::RunRecord>> {
    use crate::report::record::load_record;
    use crate::spec::sweep::{expand, read_source};
    if inputs.is_empty() {
        let all = remote.records()?;
        if all.is_empty() {
            anyhow::bail!("no finished runs on the remote cache {}", remote.url());
        }
        return Ok(all);
    }
    let mut out = Vec::new();
    for input in inputs {
        if input.extension().is_some_and(|e| e == "json") {
            out.push(load_record(input)?);
            continue;
        }
        for v in expand(&read_source(input)?, input)? {
            match remote.record(&v.name)? {
                Some(r) => out.push(r),
                None => anyhow::bail!(
                    "no finished run of `{}` on the remote cache {}; run it first: kerros run {} --remote-cache {}",
                    v.name,
                    remote.url(),
                    input.display(),
                    remote.url()
                ),
            }
        }
    }
    Ok(out)
}
