//! Parsing a `--remote-cache` URL into a provider, a bucket and a prefix.

use anyhow::{bail, Result};
use std::path::PathBuf;

/// Where the flag's value came from, to name it in errors.
pub const FLAG: &str = "--remote-cache";
/// The environment variable read when the flag is not given.
pub const ENV: &str = "KERROS_REMOTE_CACHE";

/// The object stores a remote cache can live on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provider {
    /// AWS S3 or an S3-compatible store (MinIO, Ceph RGW, R2, Garage, moto).
    S3 {
        /// Bucket name.
        bucket: String,
    },
    /// Google Cloud Storage.
    Gcs {
        /// Bucket name.
        bucket: String,
    },
    /// Azure Blob Storage.
    Azure {
        /// Container name.
        container: String,
    },
    /// A folder, typically on a shared network file system.
    File {
        /// The absolute folder.
        root: PathBuf,
    },
}

/// A parsed remote cache URL: provider and key prefix (no leading or
/// trailing `/`, may be empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteUrl {
    /// The store.
    pub provider: Provider,
    /// Prefix of every key in the store.
    pub prefix: String,
    /// The URL as given (it holds no secrets: credentials come from the
    /// environment only).
    pub text: String,
}

const VALID: &str =
    "s3://BUCKET/PREFIX, gs://BUCKET/PREFIX, az://CONTAINER/PREFIX or file:///ABSOLUTE/FOLDER";

impl RemoteUrl {
    /// Parse `text`; `source` names where it came from (the flag or the
    /// environment variable) in errors.
    pub fn parse(text: &str, source: &str) -> Result<RemoteUrl> {
        let shown = redact(text);
        let bad = |why: &str| -> Result<RemoteUrl> {
            bail!("{source} `{shown}` is not a remote cache URL: {why}; valid forms are {VALID}")
        };
        let Some((scheme, rest)) = text.split_once("://") else {
            return bad("it has no scheme");
        };
        if text.contains(['?', '#']) {
            return bad("query strings and fragments are not supported (credentials and options come from the environment)");
        }
        if scheme == "file" {
            if !rest.starts_with('/') {
                return bad("a file:// URL needs an absolute path (file:///shared/kerros-cache)");
            }
            let root = PathBuf::from(rest.trim_end_matches('/'));
            let root = if root.as_os_str().is_empty() {
                PathBuf::from("/")
            } else {
                root
            };
            return Ok(RemoteUrl {
                provider: Provider::File { root },
                prefix: String::new(),
                text: text.to_string(),
            });
        }
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return bad("the bucket name is missing");
        }
        if bucket.contains('@') || bucket.contains(':') {
            return bad("the bucket name may not hold a user, password or port (use the providers' environment variables, e.g. AWS_ENDPOINT_URL)");
        }
        let prefix = prefix.trim_matches('/');
        if prefix.split('/').any(|p| p == "." || p == "..") || prefix.contains("//") {
            return bad("the prefix may not contain empty, `.` or `..` parts");
        }
        let bucket = bucket.to_string();
        let provider = match scheme {
            "s3" | "s3a" => Provider::S3 { bucket },
            "gs" | "gcs" => Provider::Gcs { bucket },
            "az" | "azure" | "abfs" => Provider::Azure { container: bucket },
            other => return bad(&format!("unknown scheme `{other}`")),
        };
        Ok(RemoteUrl {
            provider,
            prefix: prefix.to_string(),
            text: text.to_string(),
        })
    }
}

/// `text` with anything between `://` and an `@` (a user and password
/// someone put into the URL) replaced, so that errors never echo a secret.
fn redact(text: &str) -> String {
    match (text.find("://"), text.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://<redacted>{}", &text[..s], &text[at..]),
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_scheme() {
        let u = RemoteUrl::parse("s3://course-cache/kerros/2026/", FLAG).unwrap();
        assert_eq!(
            u.provider,
            Provider::S3 {
                bucket: "course-cache".into()
            }
        );
        assert_eq!(u.prefix, "kerros/2026");
        let g = RemoteUrl::parse("gs://b", FLAG).unwrap();
        assert_eq!(g.provider, Provider::Gcs { bucket: "b".into() });
        assert_eq!(g.prefix, "");
        let a = RemoteUrl::parse("az://c/p", FLAG).unwrap();
        assert_eq!(
            a.provider,
            Provider::Azure {
                container: "c".into()
            }
        );
        let f = RemoteUrl::parse("file:///mnt/shared/cache/", FLAG).unwrap();
        assert_eq!(
            f.provider,
            Provider::File {
                root: PathBuf::from("/mnt/shared/cache")
            }
        );
    }

    #[test]
    fn bad_urls_name_the_source_and_the_valid_forms() {
        for (text, why) in [
            ("my-bucket", "no scheme"),
            ("http://x/y", "unknown scheme `http`"),
            ("s3:///prefix", "bucket name is missing"),
            ("file://relative/dir", "absolute path"),
            ("s3://b/a/../c", "`..`"),
            ("s3://key:secret@b/p", "user, password"),
            ("s3://b/p?region=x", "query strings"),
        ] {
            let e = RemoteUrl::parse(text, ENV).unwrap_err().to_string();
            assert!(e.contains(ENV) && e.contains(why), "{text}: {e}");
            assert!(e.contains("s3://BUCKET/PREFIX"), "{e}");
            assert!(!e.contains("secret"), "{e}");
        }
    }
}
