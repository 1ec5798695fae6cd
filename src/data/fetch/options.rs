//! Options of a fetch: source override, checksum override, progress, timeout.

use std::time::Duration;

use super::error::{FetchError, Result};
use super::registry::DatasetInfo;

/// Environment variable holding a mirror's base URL; the dataset's archive
/// file name (e.g. `aclImdb_v1.tar.gz`) is appended to it.
pub const MIRROR_ENV: &str = "KERROS_DATASET_MIRROR";

/// Default timeout for connecting and for each read of a download.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How to fetch a dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchOptions {
    /// Full URL of the archive, replacing the official one (`--url`). When
    /// `None`, [`MIRROR_ENV`] is consulted, then the official URL is used.
    pub url: Option<String>,
    /// Expected sha256 of the archive (`--sha256`), replacing the official
    /// or recorded checksum. The official checksum stays in force otherwise,
    /// whatever the source.
    pub sha256: Option<String>,
    /// Report progress on stderr: a bar on a terminal, plain lines otherwise.
    pub progress: bool,
    /// Limit for connecting, for the response headers and for each read, so
    /// a stalled connection fails instead of hanging.
    pub timeout: Duration,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            url: None,
            sha256: None,
            progress: true,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// Where a dataset is downloaded from and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The URL to request.
    pub url: String,
    /// `true` when it is the official URL.
    pub official: bool,
}

/// The URL of `info`'s archive under a mirror base URL.
pub fn mirror_url(base: &str, info: &DatasetInfo) -> String {
    let base = base.trim();
    if base.ends_with('/') {
        format!("{base}{}", info.archive_name())
    } else {
        format!("{base}/{}", info.archive_name())
    }
}

/// Chooses the source: `--url`, else the mirror in [`MIRROR_ENV`], else the
/// official URL.
pub fn resolve_source(info: &DatasetInfo, opts: &FetchOptions) -> Source {
    if let Some(url) = &opts.url {
        return Source {
            url: url.trim().to_string(),
            official: false,
        };
    }
    match std::env::var(MIRROR_ENV) {
        Ok(base) if !base.trim().is_empty() => Source {
            url: mirror_url(&base, info),
            official: false,
        },
        _ => Source {
            url: info.url.to_string(),
            official: true,
        },
    }
}

/// Checks that `value` is a sha256 in hex and returns it in lowercase.
pub fn normalize_sha256(value: &str) -> Result<String> {
    let v = value.trim();
    if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(v.to_ascii_lowercase())
    } else {
        Err(FetchError::InvalidChecksum {
            value: value.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::fetch::registry::builtin;

    #[test]
    fn mirror_appends_archive_name() {
        let imdb = builtin("imdb").expect("imdb");
        assert_eq!(
            mirror_url("https://mirror.example.org/ds", imdb),
            "https://mirror.example.org/ds/aclImdb_v1.tar.gz"
        );
        assert_eq!(
            mirror_url("https://mirror.example.org/ds/", imdb),
            "https://mirror.example.org/ds/aclImdb_v1.tar.gz"
        );
    }

    #[test]
    fn explicit_url_wins() {
        let imdb = builtin("imdb").expect("imdb");
        let opts = FetchOptions {
            url: Some("http://127.0.0.1:1/x.tar.gz".into()),
            ..FetchOptions::default()
        };
        let src = resolve_source(imdb, &opts);
        assert_eq!(src.url, "http://127.0.0.1:1/x.tar.gz");
        assert!(!src.official);
    }

    #[test]
    fn sha256_validation() {
        let upper = "C40F74A18D3B61F90FEBA1E17730E0D38E8B97C05FDE7008942E91923D1658FE";
        assert_eq!(
            normalize_sha256(upper).expect("valid"),
            upper.to_ascii_lowercase()
        );
        assert!(normalize_sha256("abc").is_err());
        assert!(normalize_sha256(&"g".repeat(64)).is_err());
    }
}
