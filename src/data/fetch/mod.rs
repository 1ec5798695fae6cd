//! Built-in dataset download: `kerros data list | fetch NAME | path NAME` and
//! the automatic fetch when `run` needs a dataset that is missing.
//!
//! The [`REGISTRY`] lists each dataset's official source, size and checksum.
//! [`fetch`] downloads to a temporary file, verifies size and sha256, converts
//! into a temporary folder (IMDB: the tar is streamed into Parquet; UCI drug
//! reviews: the TSV files are extracted from the zip) and renames it into
//! `<data-dir>/<name>`. Archive entries that escape the target folder and
//! absurd sizes are refused; redirects only go to http(s); stalled connections
//! time out. A dataset already present is used without any network access.

pub mod cli;
mod created_dirs;
mod download;
mod error;
pub mod imdb;
mod install;
mod lock;
mod options;
mod progress;
mod registry;
mod safe_path;
mod zip_tsv;

pub use download::{resolve_location, MAX_REDIRECTS};
pub use error::{FetchError, Result};
pub use install::{dataset_path, fetch, is_present, MAX_DOWNLOAD};
pub use lock::{lock_path, read_lock, ChecksumLock};
pub use options::{
    mirror_url, normalize_sha256, resolve_source, FetchOptions, Source, DEFAULT_TIMEOUT, MIRROR_ENV,
};
pub use registry::{builtin, lookup, ArchiveKind, DatasetInfo, REGISTRY};
pub use safe_path::ArchiveLimits;
