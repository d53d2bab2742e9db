//! The graphql-transport-ws protocol's close codes, token expiry, and the
//! legacy `graphql-ws` subprotocol.

use std::time::{Duration, Instant};

use serde_json::json;

use aduan_testkit::ws::{LEGACY_WS, TRANSPORT_WS};

use super::*;

on_both_stores!(
    the_protocol_closes_with_its_codes,
    the_legacy_protocol_serves_a_subscription
);

/// 4408 when no `connection_init` comes within 10 s.
async fn no_init(base: String) {
    let mut ws = WsClient::connect(&base, TRANSPORT_WS).await;
    let opened = Instant::now();
    let (code, reason) = ws.expect_close_within(Duration::from_secs(20)).await;
    assert_eq!(code, 4408, "{reason}");
    let waited = opened.elapsed();
    assert!(
        waited >= Duration::from_millis(9500) && waited < Duration::from_secs(15),
        "closed after {waited:?}"
    );
}

/// 4403 once the token expires, with a subscription running.
async fn expiry(env: &Env) {
    let ttl = 3;
    let minted = chrono::Utc::now().timestamp();
    let token = env.server.short_lived_token(
        "SUPERVISOR",
        None,
        "spv-kedaluwarsa",
        Duration::from_secs(ttl),
    );
    let mut ws = env.server.ws(Some(&token)).await;
    ws.subscribe("e", EVENTS, json!({})).await;
    let (code, reason) = ws.expect_close_within(Duration::from_secs(10)).await;
    let closed = chrono::Utc::now().timestamp();
    assert_eq!(code, 4403, "{reason}");
    // `exp` is whole seconds: minted + ttl, or a second later.
    assert!(
        closed >= minted + ttl as i64,
        "closed at {closed}, before the token expired ({minted} + {ttl} s)"
    );
    // And an expired token is refused at once.
    let mut again = WsClient::connect(&env.server.base_url, TRANSPORT_WS).await;
    again.send_init(Some(&token)).await;
    assert_eq!(again.expect_close().await.0, 4403);
}

async fn the_protocol_closes_with_its_codes(backend: Backend) {
    // No leeway: the token's `exp` is when the connection ends.
    let env = Env::start_with(backend, &[("ADUAN_JWT_LEEWAY_SECONDS", "0")]).await;
    let base = env.server.base_url.clone();
    // The two waits run while the other codes are checked.
    let waits = tokio::spawn(no_init(base.clone()));
    let expiring = expiry(&env);

    let others = async {
        // 4403: a token that does not verify.
        let mut ws = WsClient::connect(&base, TRANSPORT_WS).await;
        ws.send_init(Some("not.a.token")).await;
        assert_eq!(ws.expect_close().await.0, 4403);
        let mut forged = env.supervisor.token.clone();
        forged.pop();
        forged.push('x');
        let mut ws = WsClient::connect(&base, TRANSPORT_WS).await;
        ws.send_init(Some(&forged)).await;
        assert_eq!(ws.expect_close().await.0, 4403);

        // 4401: subscribing before connection_init.
        let mut ws = WsClient::connect(&base, TRANSPORT_WS).await;
        ws.subscribe("e", EVENTS, json!({})).await;
        assert_eq!(ws.expect_close().await.0, 4401);

        // 4409: a second subscription with an id in use.
        let mut ws = env.server.ws(Some(&env.supervisor.token)).await;
        ws.subscribe("e", EVENTS, json!({})).await;
        ws.subscribe("e", EVENTS, json!({})).await;
        let (code, reason) = ws.expect_close().await;
        assert_eq!(code, 4409, "{reason}");
        assert!(reason.contains("e"), "{reason}");

        // 4400: not JSON, no type, an unknown type, a subscribe without an id.
        for bad in [
            "not json",
            r#"{"id": "x"}"#,
            r#"{"type": "launch"}"#,
            r#"{"type": "subscribe", "payload": {"query": "subscription { slaAlerts { state } }"}}"#,
        ] {
            let mut ws = env.server.ws(Some(&env.supervisor.token)).await;
            ws.send_text(bad).await;
            let (code, reason) = ws.expect_close().await;
            assert_eq!(code, 4400, "{bad}: {reason}");
        }

        // 1009: a message over the 1 MiB limit.
        let mut ws = env.server.ws(Some(&env.supervisor.token)).await;
        let huge = format!(
            r#"{{"type":"ping","payload":{{"pad":"{}"}}}}"#,
            "x".repeat(1_100_000)
        );
        ws.send_text(&huge).await;
        let (code, reason) = ws.expect_close().await;
        assert_eq!(code, 1009, "{reason}");

        // 4429: a second connection_init.
        let mut ws = env.server.ws(Some(&env.supervisor.token)).await;
        ws.send_init(Some(&env.supervisor.token)).await;
        assert_eq!(ws.expect_close().await.0, 4429);

        // A ping is answered with a pong, and a refused operation is an
        // `error` message that leaves the connection open.
        let mut ws = env.server.ws(None).await;
        ws.send(json!({"type": "ping", "payload": {"n": 1}})).await;
        ws.subscribe("e", EVENTS, json!({})).await;
        let errors = ws.error("e").await;
        assert_eq!(error_code_of(&errors), Some("UNAUTHENTICATED"), "{errors}");
        ws.subscribe(
            "e",
            "subscription { complaintEvents(filter: {types: [\"Nope\"]}) { position } }",
            json!({}),
        )
        .await;
        assert_eq!(error_code_of(&ws.error("e").await), Some("UNAUTHENTICATED"));
        let mut staff = env.server.ws(Some(&env.supervisor.token)).await;
        staff
            .subscribe(
                "e",
                "subscription { complaintEvents(filter: {types: [\"Nope\"]}) { position } }",
                json!({}),
            )
            .await;
        assert_eq!(
            error_code_of(&staff.error("e").await),
            Some("INVALID_INPUT")
        );
        staff.subscribe("q", "{ me { role } }", json!({})).await;
        assert_eq!(staff.next_data("q").await["me"]["role"], "SUPERVISOR");
        assert_eq!(staff.reply("q").await, Reply::Complete);
    };
    tokio::join!(expiring, others);
    waits.await.expect("the initialisation timeout check");
    env.finish().await;
}

async fn the_legacy_protocol_serves_a_subscription(backend: Backend) {
    let env = Env::start(backend).await;
    let id = env.submit().await;
    let mut ws = WsClient::connect(&env.server.base_url, LEGACY_WS).await;
    ws.init(Some(&env.agent.token)).await;
    ws.subscribe("1", UPDATED, json!({"id": id, "after": 0}))
        .await;
    let first = ws.next_data("1").await["complaintUpdated"].clone();
    assert_eq!(first["status"], "SUBMITTED");
    env.agent.ok(MUTATE_VERIFY, input(&id, json!({}))).await;
    let second = ws.next_data("1").await["complaintUpdated"].clone();
    assert_eq!(second["status"], "VERIFIED");
    ws.complete("1").await;
    assert_eq!(ws.reply("1").await, Reply::Complete);
    // Legacy clients are told why before the close.
    let mut bad = WsClient::connect(&env.server.base_url, LEGACY_WS).await;
    bad.send_init(Some("not.a.token")).await;
    assert_eq!(bad.expect_close().await.0, 4403);
    env.finish().await;
}
