//! One line per request on stderr: time, client, method, path, status,
//! size and duration. Never the body or the query string, so no review text
//! ends up in a log.

use axum::body::HttpBody;
use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;
use std::net::SocketAddr;
use std::time::Instant;

/// Longest path logged; longer ones are cut (a path is the client's text).
const MAX_LOGGED_PATH: usize = 120;

/// Middleware: log the request once its response is ready.
pub async fn log_request(request: Request, next: Next) -> Response {
    let start = Instant::now();
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.to_string())
        .unwrap_or_else(|| "-".to_string());
    let method = request.method().clone();
    let path = loggable_path(request.uri().path());
    let response = next.run(request).await;
    // The length hyper will send; `-` for a streamed body of unknown size.
    let size = response
        .body()
        .size_hint()
        .exact()
        .map_or_else(|| "-".to_string(), |n| n.to_string());
    eprintln!(
        "{} {client} {method} {path} {} {size} {:.1}ms",
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
        response.status().as_u16(),
        start.elapsed().as_secs_f64() * 1000.0
    );
    response
}

/// The path as logged: printable ASCII only (others as `?`), spaces as
/// `%20`, at most [`MAX_LOGGED_PATH`] characters.
pub fn loggable_path(path: &str) -> String {
    let mut out: String = path
        .chars()
        .take(MAX_LOGGED_PATH)
        .map(|c| match c {
            ' ' => "%20".to_string(),
            c if c.is_ascii_graphic() => c.to_string(),
            _ => "?".to_string(),
        })
        .collect();
    if path.chars().count() > MAX_LOGGED_PATH {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_logged_on_one_short_printable_line() {
        assert_eq!(loggable_path("/predict"), "/predict");
        assert_eq!(loggable_path("/a b\nc\u{e9}"), "/a%20b?c?");
        let long = format!("/{}", "x".repeat(500));
        let logged = loggable_path(&long);
        assert!(logged.len() < 130 && logged.ends_with("..."));
    }
}
