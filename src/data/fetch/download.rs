//! HTTP(S) download into a temporary file, hashing as it goes.
//!
//! Redirects are followed by hand so each `Location` can be checked: only
//! http:// and https:// are allowed, at most [`MAX_REDIRECTS`] of them.
//! Connecting, waiting for the headers and every read are bounded by the
//! timeout, so a stalled server makes the download fail instead of hanging.

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tempfile::NamedTempFile;
use ureq::http::Uri;

use super::error::{FetchError, Result};
use super::progress::Progress;

/// Redirects followed before giving up.
pub const MAX_REDIRECTS: u32 = 5;

/// A finished download, still in its temporary file (deleted on drop).
pub struct Downloaded {
    /// The temporary file holding the bytes.
    pub file: NamedTempFile,
    /// Bytes received.
    pub size: u64,
    /// Lowercase hex sha256 of the bytes.
    pub sha256: String,
    /// The URL finally answered (after redirects).
    pub final_url: String,
}

/// Bounds on what is accepted.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Exact size required (the official size), if any.
    pub expected_size: Option<u64>,
    /// Refuse to receive more than this many bytes.
    pub max_size: u64,
    /// Connect / header / per-read timeout.
    pub timeout: Duration,
}

/// Downloads `url` into a temporary file in `dir` (named with `prefix`), so a
/// failure at any point leaves nothing behind once the value is dropped.
pub fn download(
    url: &str,
    dir: &Path,
    prefix: &str,
    limits: Limits,
    show_progress: bool,
    label: &str,
) -> Result<Downloaded> {
    let (response, final_url) = request_following_redirects(url, limits.timeout)?;
    let content_length = response.body().content_length();
    if let (Some(cl), Some(expected)) = (content_length, limits.expected_size) {
        if cl != expected {
            return Err(FetchError::SizeMismatch {
                url: final_url,
                expected,
                actual: cl,
            });
        }
    }
    if let Some(cl) = content_length {
        if cl > limits.max_size {
            return Err(FetchError::TooLarge {
                url: final_url,
                limit: limits.max_size,
            });
        }
    }

    let mut file = tempfile::Builder::new()
        .prefix(prefix)
        .suffix(".part")
        .tempfile_in(dir)
        .map_err(|e| FetchError::io("cannot create a temporary file in", dir, e))?;
    let mut progress = Progress::new(
        show_progress,
        label,
        content_length.or(limits.expected_size),
    );
    let mut reader = response.into_body().into_reader();
    let mut hasher = Sha256::new();
    let mut received: u64 = 0;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let err = read_error(e, &final_url, received, content_length, limits.timeout);
                progress.finish("failed");
                return Err(err);
            }
        };
        received += n as u64;
        if received > limits.max_size {
            progress.finish("failed");
            return Err(FetchError::TooLarge {
                url: final_url,
                limit: limits.max_size,
            });
        }
        if let Some(expected) = limits.expected_size {
            if received > expected {
                progress.finish("failed");
                return Err(FetchError::SizeMismatch {
                    url: final_url,
                    expected,
                    actual: received,
                });
            }
        }
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n])
            .map_err(|e| FetchError::io("cannot write", file.path(), e))?;
        progress.advance(n as u64);
    }
    if let Some(cl) = content_length {
        if received != cl {
            progress.finish("failed");
            return Err(FetchError::Truncated {
                url: final_url,
                received,
                expected: cl,
            });
        }
    }
    if let Some(expected) = limits.expected_size {
        if received != expected {
            progress.finish("failed");
            return Err(FetchError::SizeMismatch {
                url: final_url,
                expected,
                actual: received,
            });
        }
    }
    file.as_file()
        .sync_all()
        .map_err(|e| FetchError::io("cannot flush", file.path(), e))?;
    progress.finish(&format!("{received} bytes received"));
    Ok(Downloaded {
        file,
        size: received,
        sha256: hex(&hasher.finalize()),
        final_url,
    })
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Turns a body read error into a message saying whether it was a stall or a
/// dropped connection.
fn read_error(
    e: std::io::Error,
    url: &str,
    received: u64,
    content_length: Option<u64>,
    timeout: Duration,
) -> FetchError {
    let err = ureq::Error::from(e);
    if let ureq::Error::Timeout(_) = err {
        return FetchError::Network {
            url: url.to_string(),
            message: format!(
                "no data for {:.1} s after {received} bytes (stalled connection timed out)",
                timeout.as_secs_f64()
            ),
        };
    }
    match content_length {
        Some(cl) if received < cl => FetchError::Truncated {
            url: url.to_string(),
            received,
            expected: cl,
        },
        _ => FetchError::Network {
            url: url.to_string(),
            message: format!("{err} after {received} bytes"),
        },
    }
}

/// Sends GET requests, following up to [`MAX_REDIRECTS`] http(s) redirects.
fn request_following_redirects(
    start: &str,
    timeout: Duration,
) -> Result<(ureq::http::Response<ureq::Body>, String)> {
    let mut url = start.to_string();
    check_http_url(&url)?;
    for _ in 0..=MAX_REDIRECTS {
        let agent = agent_for(&url, timeout)?;
        let response = agent
            .get(&url)
            .call()
            .map_err(|e| network_error(&url, e, timeout))?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| FetchError::Network {
                    url: url.clone(),
                    message: format!(
                        "redirect (HTTP {}) without a Location header",
                        status.as_u16()
                    ),
                })?;
            let next =
                resolve_location(&url, location).ok_or_else(|| FetchError::RedirectRefused {
                    from: url.clone(),
                    location: location.to_string(),
                })?;
            url = next;
            continue;
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                url,
                status: status.as_u16(),
            });
        }
        return Ok((response, url));
    }
    Err(FetchError::TooManyRedirects {
        url: start.to_string(),
        limit: MAX_REDIRECTS,
    })
}

/// Maps a request error, naming timeouts plainly.
fn network_error(url: &str, e: ureq::Error, timeout: Duration) -> FetchError {
    let message = match e {
        ureq::Error::Timeout(kind) => format!(
            "timed out ({kind}) after {:.1} s; the server stalled or is unreachable",
            timeout.as_secs_f64()
        ),
        other => other.to_string(),
    };
    FetchError::Network {
        url: url.to_string(),
        message,
    }
}

/// An agent with the timeouts set, automatic redirects off (checked by hand),
/// raw bytes requested (so the checksum is over the file as published) and no
/// proxy for loopback hosts (a local mirror must not go through a proxy).
fn agent_for(url: &str, timeout: Duration) -> Result<ureq::Agent> {
    let uri: Uri = url.parse().map_err(|e| FetchError::BadUrl {
        url: url.to_string(),
        reason: format!("{e}"),
    })?;
    let host = uri.host().unwrap_or("");
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false);
    let mut builder = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .accept_encoding("identity")
        .user_agent(concat!("kerros/", env!("CARGO_PKG_VERSION")))
        .timeout_resolve(Some(timeout))
        .timeout_connect(Some(timeout))
        .timeout_send_request(Some(timeout))
        .timeout_recv_response(Some(timeout))
        .timeout_per_read(Some(timeout));
    if loopback {
        builder = builder.proxy(None);
    }
    Ok(builder.build().new_agent())
}

/// Accepts only absolute http:// and https:// URLs with a host.
pub fn check_http_url(url: &str) -> Result<()> {
    match scheme_of(url) {
        Some(s) if s == "http" || s == "https" => {}
        Some(s) => {
            return Err(FetchError::BadUrl {
                url: url.to_string(),
                reason: format!("scheme `{s}` is not allowed; use http:// or https://"),
            })
        }
        None => {
            return Err(FetchError::BadUrl {
                url: url.to_string(),
                reason: "not an absolute URL; use http://HOST/... or https://HOST/...".into(),
            })
        }
    }
    let uri: Uri = url.parse().map_err(|e| FetchError::BadUrl {
        url: url.to_string(),
        reason: format!("{e}"),
    })?;
    if uri.host().is_none_or(str::is_empty) {
        return Err(FetchError::BadUrl {
            url: url.to_string(),
            reason: "no host".into(),
        });
    }
    Ok(())
}

/// The lowercase scheme of an absolute URL (`http` in `http://x`).
fn scheme_of(url: &str) -> Option<String> {
    let colon = url.find(':')?;
    let scheme = &url[..colon];
    let mut chars = scheme.chars();
    let first = chars.next()?;
    if first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.')
    {
        Some(scheme.to_ascii_lowercase())
    } else {
        None
    }
}

/// Resolves a `Location` against the URL that sent it; `None` when the
/// result would not be http(s).
pub fn resolve_location(base: &str, location: &str) -> Option<String> {
    let location = location.trim();
    if let Some(scheme) = scheme_of(location) {
        return (scheme == "http" || scheme == "https").then(|| location.to_string());
    }
    let base_scheme = scheme_of(base)?;
    let after_scheme = &base[base_scheme.len() + 3..];
    let authority_end = after_scheme
        .find(['/', '?', '#'])
        .unwrap_or(after_scheme.len());
    let origin = &base[..base_scheme.len() + 3 + authority_end];
    if let Some(rest) = location.strip_prefix("//") {
        return Some(format!("{base_scheme}://{rest}"));
    }
    if location.starts_with('/') {
        return Some(format!("{origin}{location}"));
    }
    // Relative path: replace the last segment of the base path.
    let path_and_more = &base[origin.len()..];
    let path = path_and_more.split(['?', '#']).next().unwrap_or("");
    let dir = match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "/",
    };
    Some(format!("{origin}{dir}{location}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_resolve_and_non_http_is_refused() {
        let base = "http://127.0.0.1:8080/a/b.tar.gz?x=1";
        assert_eq!(resolve_location(base, "file:///etc/passwd"), None);
        assert_eq!(resolve_location(base, "FTP://host/x"), None);
        assert_eq!(
            resolve_location(base, "https://m.example/x").as_deref(),
            Some("https://m.example/x")
        );
        assert_eq!(
            resolve_location(base, "/c.tar.gz").as_deref(),
            Some("http://127.0.0.1:8080/c.tar.gz")
        );
        assert_eq!(
            resolve_location(base, "c.tar.gz").as_deref(),
            Some("http://127.0.0.1:8080/a/c.tar.gz")
        );
        assert_eq!(
            resolve_location(base, "//other:1/z").as_deref(),
            Some("http://other:1/z")
        );
    }

    #[test]
    fn only_http_urls_accepted() {
        assert!(check_http_url("http://127.0.0.1:1/x").is_ok());
        assert!(check_http_url("https://example.org/x").is_ok());
        assert!(check_http_url("file:///etc/passwd").is_err());
        assert!(check_http_url("/tmp/x.tar.gz").is_err());
        assert!(check_http_url("ftp://example.org/x").is_err());
    }

    #[test]
    fn hex_is_lowercase_two_digits() {
        assert_eq!(hex(&[0, 15, 255]), "000fff");
    }
}
