//! One script cannot flood the Command Center: a citizen's submissions are
//! rate-limited, with a clear error, a Retry-After, and nothing appended.

use serde_json::{json, Value};

use crate::support::*;

on_both_stores!(a_citizen_flooding_submissions_is_slowed_down_and_nothing_is_appended);

async fn a_citizen_flooding_submissions_is_slowed_down_and_nothing_is_appended(backend: Backend) {
    let env = Env::start_with(
        backend,
        &[
            // One token per 10 s: the three submissions below spend the
            // burst even on a loaded machine, before a token comes back.
            ("ADUAN_SUBMIT_RATE_PER_MINUTE", "6"),
            ("ADUAN_SUBMIT_BURST", "3"),
        ],
    )
    .await;
    for _ in 0..3 {
        env.submit().await;
    }
    let flood = reqwest::Client::new()
        .post(&env.citizen.url)
        .bearer_auth(&env.citizen.token)
        .json(&json!({"query": SUBMIT, "variables": {"input": report()}}))
        .send()
        .await
        .unwrap();
    assert_eq!(flood.status(), 429);
    let retry_after: u64 = flood.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry_after), "{retry_after}");
    let body: Value = flood.json().await.unwrap();
    assert_eq!(error_code(&body), Some("RATE_LIMITED"), "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["retryAfterSeconds"],
        retry_after
    );
    assert_eq!(
        env.store.scalar("SELECT count(*) FROM events").await,
        3,
        "the refused submission appended nothing"
    );

    // Per client: another citizen and the Command Center are not held back.
    let neighbour = env.client("CITIZEN", None, "warga-2").await;
    neighbour.ok(SUBMIT, json!({"input": report()})).await;
    for _ in 0..5 {
        env.agent.ok(SUBMIT, json!({"input": report()})).await;
    }
    // And the citizen may submit again once the wait is over.
    tokio::time::sleep(std::time::Duration::from_secs(retry_after)).await;
    env.citizen.ok(SUBMIT, json!({"input": report()})).await;
    assert_eq!(env.store.scalar("SELECT count(*) FROM events").await, 10);
    env.finish().await;
}

on_both_stores!(submissions_without_a_token_are_limited_per_client_address);

/// Without a token there is no account to count against: the client's address
/// is, as the trusted proxy's header names it.
async fn submissions_without_a_token_are_limited_per_client_address(backend: Backend) {
    let env = Env::start_with(
        backend,
        &[
            ("ADUAN_SUBMIT_RATE_PER_MINUTE", "1"),
            ("ADUAN_SUBMIT_BURST", "2"),
            ("ADUAN_CLIENT_IP_HEADER", "X-Forwarded-For"),
        ],
    )
    .await;
    let send = |client_ip: &'static str| {
        let url = env.citizen.url.clone();
        async move {
            let response = reqwest::Client::new()
                .post(url)
                .header("X-Forwarded-For", format!("10.9.9.9, {client_ip}"))
                .json(&json!({"query": SUBMIT, "variables": {"input": report()}}))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            (status, body)
        }
    };
    for _ in 0..2 {
        let (status, body) = send("203.0.113.7").await;
        assert_eq!(status, 200, "{body}");
        assert!(body["data"]["submitComplaint"]["id"].is_string(), "{body}");
    }
    let (status, body) = send("203.0.113.7").await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(error_code(&body), Some("RATE_LIMITED"), "{body}");
    // Another address is another client; the first proxy hop is not the key.
    let (status, body) = send("198.51.100.23").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(env.store.scalar("SELECT count(*) FROM events").await, 3);
    env.finish().await;
}
