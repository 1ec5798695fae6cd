//! `kerros cache gc | info`: housekeeping for a stage cache.

use crate::cache;
use anyhow::Result;
use clap::Subcommand;
use std::path::PathBuf;
use std::time::Duration;

/// Cache commands.
#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Remove what interrupted runs left (temporary folders and files no live
    /// process is writing) and, with --older-than, artifacts not used for that
    /// long. Artifacts a running kerros uses are never removed.
    Gc {
        /// The cache folder.
        #[arg(long, value_name = "DIR", default_value = ".kerros/cache")]
        cache_dir: PathBuf,
        /// Also remove artifacts whose last use is older than this: a whole
        /// number and a unit, s, m, h, d or w (30d, 12h).
        #[arg(long, value_name = "AGE", value_parser = cache::parse_age)]
        older_than: Option<Duration>,
    },
    /// Print the artifacts, temporaries and size of each stage, and the total.
    Info {
        /// The cache folder.
        #[arg(long, value_name = "DIR", default_value = ".kerros/cache")]
        cache_dir: PathBuf,
    },
}

/// Run a cache command; a `--cache-dir` that is no folder is a bad
/// argument (exit 2).
pub fn cache(cmd: CacheCommand) -> Result<i32> {
    let (CacheCommand::Gc { cache_dir, .. } | CacheCommand::Info { cache_dir }) = &cmd;
    if !cache_dir.is_dir() {
        eprintln!(
            "error: --cache-dir {} is not a folder (pass the one given to `kerros run --cache-dir`)",
            cache_dir.display()
        );
        return Ok(super::EXIT_INVALID);
    }
    match cmd {
        CacheCommand::Gc {
            cache_dir,
            older_than,
        } => {
            let r = cache::gc(&cache_dir, older_than)?;
            println!(
                "removed {} temporar{} and {} unused artifact{}, {} freed",
                r.temporaries,
                if r.temporaries == 1 { "y" } else { "ies" },
                r.artifacts,
                if r.artifacts == 1 { "" } else { "s" },
                human_bytes(r.bytes)
            );
            if r.in_use > 0 {
                println!(
                    "kept {} old artifact{} that a running kerros is using",
                    r.in_use,
                    if r.in_use == 1 { "" } else { "s" }
                );
            }
            Ok(0)
        }
        CacheCommand::Info { cache_dir } => {
            let info = cache::info(&cache_dir)?;
            println!("cache {}", cache_dir.display());
            println!(
                "{:<12} {:>9} {:>10} {:>11} {:>10}",
                "stage", "artifacts", "size", "temporaries", "size"
            );
            for s in &info.stages {
                println!(
                    "{:<12} {:>9} {:>10} {:>11} {:>10}",
                    s.stage,
                    s.artifacts,
                    human_bytes(s.bytes),
                    s.temporaries,
                    human_bytes(s.temp_bytes)
                );
            }
            println!(
                "{:<12} {:>9} {:>10}",
                "run records",
                info.runs,
                human_bytes(info.run_bytes)
            );
            let artifacts: usize = info.stages.iter().map(|s| s.artifacts).sum();
            println!(
                "{:<12} {:>9} {:>10}",
                "total",
                artifacts,
                human_bytes(info.total_bytes())
            );
            Ok(0)
        }
    }
}

/// `1.2 MB`-style sizes (powers of 1000, like `du --si`).
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn sizes_read_like_du_si() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_500), "1.5 kB");
        assert_eq!(human_bytes(14_200_000), "14.2 MB");
    }
}
