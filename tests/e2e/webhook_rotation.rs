//! Rotating a webhook's signing secret without a missed delivery: during the
//! overlap each delivery carries the new and the old signature, and the
//! Standard Webhooks reference library (Python) accepts it with either
//! secret; a rotation without overlap (a leaked secret) drops the old one at
//! once. Managing it is a SUPERVISOR's, as the access table says.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::*;
use crate::webhooks::{receiver, register, Delivery, Mode, Receiver, WEBHOOK_ENV};

on_both_stores!(a_rotated_secret_signs_beside_the_old_one_until_the_overlap_ends);

const ROTATE: &str = "mutation($input: RotateWebhookSecretInput!) { rotateWebhookSecret(input: $input) { secret endpoint { id } } }";

/// Whether the reference library accepts `delivery` with `secret`.
async fn library_accepts(delivery: &Delivery, secret: &str) -> bool {
    let headers: serde_json::Map<String, Value> = delivery
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let given = json!({
        "secret": secret,
        "headers": headers,
        "body": String::from_utf8(delivery.body.to_vec()).unwrap(),
    });
    let mut child = tokio::process::Command::new("python3")
        .arg("tests/e2e/fixtures/webhooks/verify.py")
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs (scripts/ensure-python-clients installs standardwebhooks)");
    use tokio::io::AsyncWriteExt;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(given.to_string().as_bytes()).await.unwrap();
    drop(stdin);
    child.wait().await.unwrap().success()
}

/// Submits a case and returns its Submitted delivery, once acknowledged.
async fn delivered(env: &Env, r: &Receiver) -> Delivery {
    let id = env.submit().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found = r
            .acknowledged()
            .into_iter()
            .find(|d| d.envelope["subject"] == json!(id));
        if let Some(d) = found {
            return d;
        }
        assert!(Instant::now() < deadline, "{id} was never delivered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn rotate(env: &Env, id: &str, overlap: i64) -> String {
    let data = env
        .supervisor
        .ok(
            ROTATE,
            json!({"input": {"id": id, "overlapHours": overlap}}),
        )
        .await;
    data["rotateWebhookSecret"]["secret"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn a_rotated_secret_signs_beside_the_old_one_until_the_overlap_ends(backend: Backend) {
    let env = Env::start_with(backend, &WEBHOOK_ENV).await;
    let (r, url) = receiver(Mode::Healthy).await;
    let id = register(
        &env.supervisor,
        &r,
        &url,
        json!({"eventTypes": ["Submitted"]}),
    )
    .await;
    let first = r.secret.lock().unwrap().clone().unwrap();
    let before = delivered(&env, &r).await;
    assert!(library_accepts(&before, &first).await);

    // The receiver still checks with the old secret: nothing is missed.
    let second = rotate(&env, &id, 24).await;
    assert_ne!(second, first);
    let during = delivered(&env, &r).await;
    let signatures = &during
        .headers
        .iter()
        .find(|(k, _)| k == "webhook-signature")
        .unwrap()
        .1;
    assert_eq!(signatures.split(' ').count(), 2, "{signatures}");
    assert!(library_accepts(&during, &second).await, "the new secret");
    assert!(
        library_accepts(&during, &first).await,
        "the old secret, during the overlap"
    );

    // A leaked secret: the new one alone signs from now on.
    let third = rotate(&env, &id, 0).await;
    *r.secret.lock().unwrap() = Some(third.clone());
    let after = delivered(&env, &r).await;
    assert!(library_accepts(&after, &third).await);
    assert!(
        !library_accepts(&after, &second).await,
        "a dropped secret still signs"
    );
    assert!(!library_accepts(&after, &first).await);

    for (client, input, code) in [
        (&env.auditor, json!({"id": id}), "FORBIDDEN"),
        (
            &env.supervisor,
            json!({"id": id, "overlapHours": 169}),
            "INVALID_INPUT",
        ),
        (
            &env.supervisor,
            json!({"id": "no-such-endpoint"}),
            "NOT_FOUND",
        ),
    ] {
        let body = client.query(ROTATE, json!({"input": input})).await;
        assert_eq!(error_code(&body), Some(code), "{body}");
    }
    assert_eq!(
        r.bad_signatures.load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    env.finish().await;
}
