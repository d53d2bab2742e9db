//! A body over the limit is refused before it is read, on every route: with a
//! Content-Length that says so at once, without one (chunked) once 1 MiB has
//! come in. The server's memory must not follow the size the client attempts.
//!
//! One store (SQLite): the limit is the HTTP layer's, before any store is asked.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use aduan_api::body_limit::DRAIN_BYTES;

use crate::support::*;

/// What a hostile client tries to send.
const ATTEMPT: usize = 60 * 1024 * 1024;

/// How much the server's peak memory may grow over all the attempts: a few
/// buffers of the 1 MiB it reads at most, far from any 60 MB attempt.
const MAX_GROWTH_KIB: u64 = 24 * 1024;

/// How the body announces its size.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Framing {
    ContentLength,
    Chunked,
}

/// What came back, and how much of the body went out before the server stopped
/// taking it.
struct Answer {
    status: u16,
    body: Value,
    sent: usize,
}

/// POSTs (or GETs) `size` bytes to `path` on a raw socket, writing while the
/// server reads and reading its answer meanwhile: a refusal arrives while the
/// client is still sending, as it does for a browser or curl.
async fn send_large(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    size: usize,
    framing: Framing,
) -> Answer {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n");
    if let Some(token) = token {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    match framing {
        Framing::ContentLength => head.push_str(&format!("Content-Length: {size}\r\n\r\n")),
        Framing::Chunked => head.push_str("Transfer-Encoding: chunked\r\n\r\n"),
    }
    // The task hands its half back rather than drop it: dropping would shut the
    // socket for writing, which the server may read as the client going away.
    let writing = tokio::spawn(async move {
        let sent = write_body(&mut writer, head, size, framing).await;
        (sent, writer)
    });
    let mut raw = Vec::new();
    let mut buffer = [0u8; 8192];
    let reading = async {
        loop {
            match reader.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => raw.extend_from_slice(&buffer[..n]),
            }
            if complete(&raw) {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), reading)
        .await
        .expect("the server answered within 60 s");
    drop(reader);
    let (sent, _writer) = tokio::time::timeout(Duration::from_secs(60), writing)
        .await
        .expect("the client stopped sending within 60 s")
        .unwrap();
    let (status, body) = parse(&raw);
    Answer { status, body, sent }
}

/// Writes the head and `size` bytes of body until done or the server stops
/// taking them; returns how many body bytes went out.
async fn write_body(
    writer: &mut tokio::net::tcp::OwnedWriteHalf,
    head: String,
    size: usize,
    framing: Framing,
) -> usize {
    if writer.write_all(head.as_bytes()).await.is_err() {
        return 0;
    }
    let body = valid_request(size);
    let mut sent = 0;
    for part in body.chunks(64 * 1024) {
        let written = match framing {
            Framing::ContentLength => writer.write_all(part).await,
            Framing::Chunked => {
                let mut framed = format!("{:x}\r\n", part.len()).into_bytes();
                framed.extend_from_slice(part);
                framed.extend_from_slice(b"\r\n");
                writer.write_all(&framed).await
            }
        };
        if written.is_err() {
            return sent;
        }
        sent += part.len();
    }
    if framing == Framing::Chunked {
        let _ = writer.write_all(b"0\r\n\r\n").await;
    }
    sent
}

/// A valid GraphQL request of exactly `size` bytes: a query and one long variable.
fn valid_request(size: usize) -> Vec<u8> {
    let (prefix, suffix) = (r#"{"query":"{ me { id } }","variables":{"pad":""#, r#""}}"#);
    let mut body = vec![b'x'; size];
    body[..prefix.len()].copy_from_slice(prefix.as_bytes());
    body[size - suffix.len()..].copy_from_slice(suffix.as_bytes());
    body
}

/// Whether `raw` holds a whole response (head and a Content-Length body).
fn complete(raw: &[u8]) -> bool {
    let Some(end) = find(raw, b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
    head.lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|n| n.trim().parse::<usize>().ok())
        .is_some_and(|n| raw.len() >= end + 4 + n)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn parse(raw: &[u8]) -> (u16, Value) {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP response: {text:?}"));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status: {head}"));
    let body = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {head}\n{body}"));
    (status, body)
}

/// A line of /proc/<pid>/status, in KiB (VmRSS now, VmHWM the peak so far).
fn memory_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

fn assert_too_large(answer: &Answer, what: &str) {
    assert_eq!(answer.status, 413, "{what}: {}", answer.body);
    assert_eq!(
        error_code(&answer.body),
        Some("BODY_TOO_LARGE"),
        "{what}: {}",
        answer.body
    );
    assert!(answer.body["errors"][0]["message"].is_string(), "{what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bodies_over_the_limit_are_refused_before_they_are_read() {
    let env = Env::start(Backend::Sqlite).await;
    let addr = env.server.addr().to_string();
    let pid = env.server.pid().expect("the server runs");
    // Warm up: the first requests allocate what every request will reuse.
    env.citizen.ok("{ me { id } }", json!({})).await;
    let before = memory_kib(pid, "VmHWM:");

    for token in [None, Some(env.citizen.token.as_str())] {
        for framing in [Framing::ContentLength, Framing::Chunked] {
            let what = format!("{framing:?}, token: {}", token.is_some());
            let answer = send_large(&addr, "POST", "/graphql", token, ATTEMPT, framing).await;
            assert_too_large(&answer, &what);
            assert!(
                answer.sent < ATTEMPT / 2,
                "{what}: the server took {} bytes of the body",
                answer.sent
            );
        }
    }
    // Every route, not only /graphql; a body just over the limit too.
    for path in ["/healthz", "/readyz", "/metrics"] {
        let answer = send_large(&addr, "GET", path, None, ATTEMPT, Framing::ContentLength).await;
        assert_too_large(&answer, path);
    }
    for framing in [Framing::ContentLength, Framing::Chunked] {
        let answer = send_large(&addr, "POST", "/graphql", None, 1024 * 1024 + 1, framing).await;
        assert_too_large(&answer, &format!("1 MiB + 1 byte, {framing:?}"));
    }

    // An ordinary client, which reads the answer only once it has sent the
    // whole body, gets the refusal too: a modest oversized body is read to its
    // end (and dropped) before the 413 goes out.
    for size in [1024 * 1024 + 1, 2 * 1024 * 1024, DRAIN_BYTES] {
        let response = reqwest::Client::new()
            .post(&env.citizen.url)
            .bearer_auth(&env.citizen.token)
            .header("content-type", "application/json")
            .body(valid_request(size))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{size} bytes: no answer: {e}"));
        assert_eq!(response.status(), 413, "{size} bytes");
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), Some("BODY_TOO_LARGE"), "{body}");
    }

    let after = memory_kib(pid, "VmHWM:");
    assert!(
        after.saturating_sub(before) < MAX_GROWTH_KIB,
        "peak memory grew from {before} KiB to {after} KiB (now {} KiB)",
        memory_kib(pid, "VmRSS:")
    );
    // Within the limit, all is as before.
    let data = env.citizen.ok("{ me { id role } }", json!({})).await;
    assert_eq!(data["me"]["id"], "warga-1");
    let id = env.submit().await;
    assert_eq!(env.current(&id).await["status"], "SUBMITTED");
    env.finish().await;
}
