//! What one request may ask of the server: body size, rows per request,
//! time, and words explained on the page; and the middleware that enforces
//! the time limit.

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// Default request body limit: 1 MiB.
pub const DEFAULT_MAX_BODY: usize = 1 << 20;
/// Default most texts (rows) in one `POST /predict`.
pub const DEFAULT_MAX_ROWS: usize = 2000;
/// Default time one request may take, in seconds.
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;
/// Most words of one page submission explained (one forward pass each).
pub const DEFAULT_EXPLAIN_WORDS: usize = crate::pipeline::explain::DEFAULT_MAX_WORDS;

/// How much of an oversized body is still read (and thrown away) before the
/// 413 answer, as a multiple of the limit: a client that sends its whole body
/// before reading the answer then sees the 413 instead of a reset connection,
/// while a body larger than this is cut off.
const DRAIN_FACTOR: usize = 16;

/// The limits of one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body in bytes (`--max-body`); larger gets 413.
    pub max_body: usize,
    /// Most texts in one prediction request (`--max-rows`); more gets 413.
    pub max_rows: usize,
    /// Longest a request may take (`--timeout`); longer gets 503.
    pub timeout: Duration,
    /// Most words explained for one page submission.
    pub explain_words: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: DEFAULT_MAX_BODY,
            max_rows: DEFAULT_MAX_ROWS,
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECS),
            explain_words: DEFAULT_EXPLAIN_WORDS,
        }
    }
}

/// Why a request body was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// Larger than the limit (the limit in bytes).
    TooLarge(usize),
    /// The connection failed while the body was read.
    Broken(String),
}

impl BodyError {
    /// The status and message for the client.
    pub fn status_and_message(&self) -> (StatusCode, String) {
        match self {
            BodyError::TooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request body is larger than the limit of {limit} bytes \
                     (start the server with --max-body to change it)"
                ),
            ),
            BodyError::Broken(e) => (
                StatusCode::BAD_REQUEST,
                format!("cannot read the request body: {e}"),
            ),
        }
    }
}

/// Read a request body of at most `limit` bytes.
///
/// A declared or actual size over the limit is [`BodyError::TooLarge`]; the
/// rest of such a body is read and discarded up to 16 times the limit, so
/// the client gets to read the answer.
pub async fn read_body(mut body: Body, limit: usize) -> Result<Bytes, BodyError> {
    let drain_limit = limit.saturating_mul(DRAIN_FACTOR);
    let declared = body.size_hint().lower() as usize;
    if declared > drain_limit {
        return Err(BodyError::TooLarge(limit));
    }
    let mut data = Vec::with_capacity(declared.min(limit));
    let mut seen = 0usize;
    loop {
        let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        let Some(frame) = frame else { break };
        let frame = frame.map_err(|e| BodyError::Broken(e.to_string()))?;
        if let Ok(chunk) = frame.into_data() {
            seen = seen.saturating_add(chunk.len());
            if seen > drain_limit {
                break;
            }
            if seen <= limit {
                data.extend_from_slice(&chunk);
            }
        }
    }
    if seen > limit {
        return Err(BodyError::TooLarge(limit));
    }
    Ok(Bytes::from(data))
}

/// Middleware: answer 503 when the request takes longer than the limit (the
/// handler is dropped; a prediction already running on a blocking thread
/// finishes there and its result is discarded).
pub async fn enforce_timeout(
    State(limits): State<Arc<Limits>>,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(limits.timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the request took longer than {} s (start the server with --timeout to change it)\n",
                limits.timeout.as_secs_f64()
            ),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn bodies_up_to_the_limit_are_read_whole() {
        let got = block_on(read_body(Body::from(vec![7u8; 10]), 10)).unwrap();
        assert_eq!(got.len(), 10);
    }

    #[test]
    fn larger_bodies_are_refused_with_the_limit() {
        let err = block_on(read_body(Body::from(vec![7u8; 11]), 10)).unwrap_err();
        assert_eq!(err, BodyError::TooLarge(10));
        let (status, message) = err.status_and_message();
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(message.contains("10 bytes"), "{message}");
        let huge = block_on(read_body(Body::from(vec![0u8; 1000]), 10)).unwrap_err();
        assert_eq!(huge, BodyError::TooLarge(10));
    }
}
