//! Errors of dataset download and conversion.

use std::path::PathBuf;

/// Appended to every download or conversion failure: how to use a copy of
/// the data prepared elsewhere instead of downloading it.
pub const PREPARED_HINT: &str =
    "to use a copy prepared elsewhere instead, point kerros at the folder \
     holding it with `--data-dir DIR` or the environment variable KERROS_DATA_DIR=DIR \
     (`kerros data path NAME` shows where a dataset is looked for)";

/// Result of a fetch operation.
pub type Result<T> = std::result::Result<T, FetchError>;

/// What went wrong while downloading, verifying or converting a dataset.
///
/// Every variant names the URL, file or archive entry involved and, where it
/// helps, what would be valid, so the message alone tells the user what to do.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The name is not a built-in dataset.
    #[error("unknown built-in dataset `{name}`{hint}; built-in datasets: {known}")]
    UnknownDataset {
        /// The name asked for.
        name: String,
        /// `"; did you mean `x`?"` or empty.
        hint: String,
        /// Comma-separated list of known names.
        known: String,
    },
    /// A `--sha256` value that is not 64 hexadecimal digits.
    #[error("invalid sha256 `{value}`: expected 64 hexadecimal digits")]
    InvalidChecksum {
        /// The value given.
        value: String,
    },
    /// A URL that cannot be used (bad syntax or a scheme other than http/https).
    #[error("cannot use URL `{url}`: {reason}; {hint}", hint = PREPARED_HINT)]
    BadUrl {
        /// The URL.
        url: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// A redirect to a location that is not http(s), refused for safety.
    #[error("refused redirect from `{from}` to `{location}`: only http:// and https:// locations are followed; {hint}", hint = PREPARED_HINT)]
    RedirectRefused {
        /// The URL that answered with the redirect.
        from: String,
        /// The `Location` it pointed to.
        location: String,
    },
    /// More redirects than allowed.
    #[error("too many redirects (more than {limit}) starting from `{url}`; {hint}", hint = PREPARED_HINT)]
    TooManyRedirects {
        /// The first URL.
        url: String,
        /// The limit.
        limit: u32,
    },
    /// The server answered with a non-success status.
    #[error("download of `{url}` failed: HTTP status {status}; {hint}", hint = PREPARED_HINT)]
    Status {
        /// The URL requested.
        url: String,
        /// The status code.
        status: u16,
    },
    /// A network error: connection refused or dropped, a timeout, a protocol error.
    #[error("download of `{url}` failed: {message}; {hint}", hint = PREPARED_HINT)]
    Network {
        /// The URL requested.
        url: String,
        /// What happened.
        message: String,
    },
    /// The connection ended before the announced or expected number of bytes.
    #[error("download of `{url}` is truncated: received {received} of {expected} bytes (connection closed early); nothing was kept, run the fetch again; {hint}", hint = PREPARED_HINT)]
    Truncated {
        /// The URL requested.
        url: String,
        /// Bytes received.
        received: u64,
        /// Bytes announced or expected.
        expected: u64,
    },
    /// The download is larger than allowed.
    #[error("download of `{url}` exceeds {limit} bytes; refusing to continue; {hint}", hint = PREPARED_HINT)]
    TooLarge {
        /// The URL requested.
        url: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The downloaded size differs from the official size.
    #[error("download of `{url}` has {actual} bytes, expected {expected} (the official size); nothing was kept (a mirror serving a different archive needs its checksum given explicitly with --sha256); {hint}", hint = PREPARED_HINT)]
    SizeMismatch {
        /// The URL requested.
        url: String,
        /// The official size.
        expected: u64,
        /// The size received.
        actual: u64,
    },
    /// The downloaded file's sha256 differs from the expected one.
    #[error("checksum mismatch for `{url}`: sha256 is {actual}, expected {expected} ({origin}); the download was discarded and nothing was kept; {hint}", hint = PREPARED_HINT)]
    ChecksumMismatch {
        /// The URL requested.
        url: String,
        /// The expected checksum.
        expected: String,
        /// The checksum of what was received.
        actual: String,
        /// Where the expected checksum comes from (official, `--sha256`, a lock file).
        origin: String,
    },
    /// A malformed, truncated or malicious archive.
    #[error("archive `{archive}` rejected: {message}; nothing was kept; {hint}", hint = PREPARED_HINT)]
    Archive {
        /// The archive (URL or file name).
        archive: String,
        /// What is wrong with it.
        message: String,
    },
    /// The dataset folder exists but lacks files, so it cannot be trusted or replaced safely.
    #[error("`{}` exists but is incomplete (missing {missing}); remove that folder and fetch again", path.display())]
    Incomplete {
        /// The dataset folder.
        path: PathBuf,
        /// The missing files, comma-separated.
        missing: String,
    },
    /// A lock file that cannot be read or written.
    #[error("checksum lock file `{}`: {message}", path.display())]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Writing a Parquet file failed.
    #[error("cannot write Parquet file `{}`: {message}", path.display())]
    Parquet {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        message: String,
    },
    /// A filesystem error.
    #[error("{action} `{}`: {source}", path.display())]
    Io {
        /// What was being done (e.g. "cannot create").
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl FetchError {
    /// Shorthand for an [`FetchError::Io`] error.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        FetchError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// Shorthand for an [`FetchError::Archive`] error.
    pub fn archive(archive: impl Into<String>, message: impl Into<String>) -> Self {
        FetchError::Archive {
            archive: archive.into(),
            message: message.into(),
        }
    }
}
