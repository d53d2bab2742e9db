//! SIGTERM end to end: the server turns not-ready at once and keeps serving for
//! the drain, then refuses new connections, answers the request it was in the
//! middle of, closes WebSockets with 1001 and exits 0; a subscriber resumes on
//! the next server from the last position it saw and misses nothing.
//! The rolling restart through HAProxy is `rolling.rs`.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use aduan_testkit::ws::LEGACY_WS;
use aduan_testkit::{TestServer, TestStore, WsClient};

use crate::subscriptions::{notice, position, EVENTS};
use crate::support::*;

const DRAIN: Duration = Duration::from_millis(2000);

fn drain_env() -> [(&'static str, String); 1] {
    [("ADUAN_SHUTDOWN_DRAIN_MS", DRAIN.as_millis().to_string())]
}

on_both_stores!(
    sigterm_drains_then_refuses_connections_and_answers_the_request_in_flight,
    a_subscriber_is_closed_with_1001_and_resumes_on_the_next_server
);

/// `/readyz` as a load balancer's check sees it: on a new connection each time.
async fn readyz(server: &TestServer) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .get(format!("{}/readyz", server.base_url))
        .send()
        .await
        .expect("GET /readyz");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

/// An HTTP/1.1 response read to the end of its connection: status and body.
async fn response_of(stream: &mut TcpStream) -> (u16, String) {
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(15), stream.read_to_end(&mut raw))
        .await
        .expect("the response within 15 s")
        .expect("read the response");
    let text = String::from_utf8(raw).expect("UTF-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok());
    let lower = head.to_ascii_lowercase();
    assert!(
        lower.contains("connection: close"),
        "the answer ends its connection: {head}"
    );
    let body = if lower.contains("transfer-encoding: chunked") {
        dechunk(body)
    } else {
        body.to_string()
    };
    (status.expect("a status"), body)
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
        if size == 0 {
            break;
        }
        out.push_str(&tail[..size]);
        rest = &tail[size + 2..];
    }
    out
}

async fn sigterm_drains_then_refuses_connections_and_answers_the_request_in_flight(
    backend: Backend,
) {
    let store = TestStore::create(backend).await;
    let [(key, drain)] = drain_env();
    let server = TestServer::start(BIN, &store.url, &[(key, &drain)]).await;
    let token = server.token("CITIZEN", None, "warga-1").await;
    assert_eq!(readyz(&server).await.0, 200);

    // A submission whose body is half sent when the signal comes.
    let body = json!({"query": SUBMIT, "variables": {"input": report()}}).to_string();
    let (first, second) = body.split_at(body.len() / 2);
    let mut slow = TcpStream::connect(server.addr()).await.expect("connect");
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Authorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n",
        server.addr(),
        body.len()
    );
    slow.write_all(format!("{head}{first}").as_bytes())
        .await
        .expect("send half a request");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let signalled = Instant::now();
    server.terminate();

    // Not ready at once; still serving new connections while the balancer notices.
    let (status, said) = readyz(&server).await;
    assert_eq!(status, 503, "{said}");
    assert_eq!(said["status"], "draining");
    let client = server.client(&token);
    let during = client.ok(SUBMIT, json!({"input": report()})).await;
    assert!(signalled.elapsed() < DRAIN, "served within the drain");

    // Then refused, not before the drain is over.
    let refused_after = loop {
        match TcpStream::connect(server.addr()).await {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                break signalled.elapsed()
            }
            Err(e) => panic!("connect: {e}"),
            Ok(_) => {
                assert!(signalled.elapsed() < DRAIN * 3, "still accepting");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    assert!(refused_after >= DRAIN, "refused after {refused_after:?}");

    // The request in flight all along is carried out and answered.
    slow.write_all(second.as_bytes())
        .await
        .expect("send the rest");
    let (status, answer) = response_of(&mut slow).await;
    assert_eq!(status, 200, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer).expect("JSON");
    let id = answer["data"]["submitComplaint"]["id"].clone();
    assert!(id.is_string(), "{answer}");

    let exited = server.wait_exit().await;
    assert!(exited.success(), "exited with {exited}");
    let stored = store
        .scalar("SELECT count(*) FROM events WHERE event_type = 'Submitted'")
        .await;
    assert_eq!(stored, 2, "the one in flight and the one during the drain");
    assert_ne!(id, json!(id_of(&during)));
    store.drop_store().await;
}

/// Reads notices on `id` until the one at `last`.
async fn until_position(ws: &mut WsClient, id: &str, last: i64) -> Vec<i64> {
    let mut seen = Vec::new();
    while seen.last() != Some(&last) {
        seen.push(position(&notice(ws, id).await));
    }
    seen
}

async fn submitted(client: &aduan_testkit::GraphqlClient) -> (String, i64) {
    let data = client.ok(SUBMIT, json!({"input": report()})).await;
    (id_of(&data), returned(&data)["position"].as_i64().unwrap())
}

async fn a_subscriber_is_closed_with_1001_and_resumes_on_the_next_server(backend: Backend) {
    let store = TestStore::create(backend).await;
    let [(key, drain)] = drain_env();
    let server = TestServer::start(BIN, &store.url, &[(key, &drain)]).await;
    let auditor = server.token("AUDITOR", None, "auditor-1").await;
    let citizen = server.client(&server.token("CITIZEN", None, "warga-1").await);
    let (_, first) = submitted(&citizen).await;
    let mut ws = server.ws(Some(&auditor)).await;
    ws.subscribe("s", EVENTS, json!({"after": 0})).await;
    let mut seen = until_position(&mut ws, "s", first).await;
    // A client of the legacy protocol is closed the same way.
    let mut legacy = WsClient::connect(&server.base_url, LEGACY_WS).await;
    legacy.init(Some(&auditor)).await;

    let signalled = Instant::now();
    server.terminate();
    // The subscription still delivers while the server drains.
    let (_, during) = submitted(&citizen).await;
    seen.extend(until_position(&mut ws, "s", during).await);
    let (code, reason) = ws.expect_close().await;
    assert!(signalled.elapsed() >= DRAIN, "closed only after the drain");
    assert_eq!((code, reason.as_str()), (1001, aduan_api::ws::GOING_AWAY));
    assert_eq!(legacy.expect_close().await.0, 1001);
    let exited = server.wait_exit().await;
    assert!(exited.success(), "exited with {exited}");

    // The next server; commands go on before the subscriber is back.
    let server = TestServer::start(BIN, &store.url, &[]).await;
    let citizen = server.client(&citizen.token);
    let mut missed = Vec::new();
    for _ in 0..3 {
        missed.push(submitted(&citizen).await.1);
    }
    let last = *seen.last().unwrap();
    let mut ws = server.ws(Some(&auditor)).await;
    ws.subscribe("s", EVENTS, json!({"after": last})).await;
    let resumed = until_position(&mut ws, "s", *missed.last().unwrap()).await;
    assert_eq!(
        resumed, missed,
        "exactly the events after the last one seen"
    );
    let (_, live) = submitted(&citizen).await;
    assert_eq!(position(&notice(&mut ws, "s").await), live);
    seen.extend(resumed);
    seen.push(live);
    let stored = store
        .scalar("SELECT count(*) FROM events WHERE aggregate_type = 'Complaint'")
        .await;
    assert_eq!(seen.len() as i64, stored, "{seen:?}");
    stop_cleanly(server).await;
    store.drop_store().await;
}
