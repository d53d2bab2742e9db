//! The request body limit, for every route and whoever reads the body: axum's
//! `DefaultBodyLimit` binds only axum's own extractors, and async-graphql-axum's
//! reads the body itself. A body is never held past the limit, so the server's
//! memory does not follow what a client tries to send.
//!
//! Unlike tower-http's `RequestBodyLimitLayer`, an oversized body of modest size
//! is read to its end and thrown away before the 413 goes out: a client still
//! sending when the server closes gets a reset, not the answer, and most clients
//! (hyper/reqwest, Python's requests) only read the answer once they have sent
//! everything. Past `DRAIN_BYTES` the connection is let go instead.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::{Body, BodyDataStream, Bytes};
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;

/// Requests larger than this are refused before they are parsed, on every
/// route (see `body_limit`).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The most of an oversized body read (and dropped) so its client gets the 413.
pub const DRAIN_BYTES: usize = 8 * 1024 * 1024;

/// Refuses a request whose body is over `max` bytes with a bare 413 (which
/// `coded_rejections` turns into BODY_TOO_LARGE; Open311 has its own shape):
/// before reading anything when its Content-Length says so, else as soon as
/// that much has come in.
pub async fn limit(max: usize, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(length) = declared.filter(|length| *length > max as u64) {
        if length <= DRAIN_BYTES as u64 {
            drain(request.into_body().into_data_stream(), DRAIN_BYTES).await;
        }
        return too_large(&path, max);
    }
    let exceeded = Arc::new(AtomicBool::new(false));
    let (parts, body) = request.into_parts();
    let request = Request::from_parts(parts, capped(body, max, exceeded.clone()));
    let response = next.run(request).await;
    // Whatever the reader made of the cut-off body (a parse error, say), the
    // client is told why.
    if exceeded.load(Ordering::Acquire) {
        return too_large(&path, max);
    }
    response
}

fn too_large(path: &str, max: usize) -> Response {
    crate::open311::too_large(path, max)
        .unwrap_or_else(|| StatusCode::PAYLOAD_TOO_LARGE.into_response())
}

/// Reads and drops up to `budget` bytes of what is left of a body.
async fn drain(mut rest: BodyDataStream, budget: usize) {
    let mut read = 0;
    while read <= budget {
        match rest.next().await {
            Some(Ok(chunk)) => read += chunk.len(),
            _ => return,
        }
    }
}

/// Where a capped body is: still coming in (`seen` bytes so far), or over.
struct Reading {
    inner: BodyDataStream,
    seen: usize,
    max: usize,
    exceeded: Arc<AtomicBool>,
}

/// The body as it comes in, up to `max` bytes; past that an error, once the
/// rest (up to `DRAIN_BYTES` in all) has been read and dropped.
fn capped(body: Body, max: usize, exceeded: Arc<AtomicBool>) -> Body {
    let reading = Reading {
        inner: body.into_data_stream(),
        seen: 0,
        max,
        exceeded,
    };
    Body::from_stream(futures::stream::unfold(Some(reading), next_chunk))
}

/// The next chunk of a capped body; `None` once it ended or failed.
async fn next_chunk(state: Option<Reading>) -> Option<(std::io::Result<Bytes>, Option<Reading>)> {
    let mut reading = state?;
    let chunk = match reading.inner.next().await? {
        Ok(chunk) => chunk,
        Err(e) => return Some((Err(std::io::Error::other(e)), None)),
    };
    reading.seen += chunk.len();
    if reading.seen <= reading.max {
        return Some((Ok(chunk), Some(reading)));
    }
    reading.exceeded.store(true, Ordering::Release);
    let error = std::io::Error::other(format!("request body over {} bytes", reading.max));
    drain(reading.inner, DRAIN_BYTES.saturating_sub(reading.seen)).await;
    Some((Err(error), None))
}
