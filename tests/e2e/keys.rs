//! Tokens from a city's identity provider: the real server verifies RS256 and
//! ES256 tokens against a JWKS file or URL, with issuer, audience, expiry and
//! not-before, and picks up a rotated key from the URL without a restart.

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use aduan_testkit::keys::{claims, jwks, JwksFile, TestKey};
use aduan_testkit::TestStore;

use crate::support::*;

const ISSUER: &str = "https://sso.makassarkota.example/realms/aduan";
const AUDIENCE: &str = "aduan-api";
const ME: &str = "{ me { id role opd } }";

fn provider_env(jwks: &str) -> Vec<(&'static str, String)> {
    vec![
        ("ADUAN_JWKS", jwks.to_string()),
        ("ADUAN_JWT_ISSUER", ISSUER.to_string()),
        ("ADUAN_JWT_AUDIENCE", AUDIENCE.to_string()),
    ]
}

async fn start(
    backend: Backend,
    env: &[(&'static str, String)],
) -> (TestStore, aduan_testkit::TestServer) {
    let store = TestStore::create(backend).await;
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = aduan_testkit::TestServer::start(BIN, &store.url, &env).await;
    (store, server)
}

async fn me(server: &aduan_testkit::TestServer, token: &str) -> Value {
    server.client(token).query(ME, json!({})).await
}

#[tokio::test]
async fn provider_tokens_from_a_jwks_file_are_checked_in_full() {
    let rsa = TestKey::rs256("rsa-1");
    let ec = TestKey::es256("ec-1");
    let file = JwksFile::write(&[&rsa, &ec]);
    let (store, server) = start(Backend::Sqlite, &provider_env(&file.path)).await;

    let officer = claims("petugas-7", "OPD_OFFICER", Some("DPU"), ISSUER, AUDIENCE);
    for key in [&rsa, &ec] {
        let body = me(&server, &key.sign(&officer)).await;
        assert_eq!(
            body["data"]["me"],
            json!({"id": "petugas-7", "role": "OPD_OFFICER", "opd": "DPU"}),
            "{body}"
        );
    }
    let now = chrono::Utc::now().timestamp();
    let with = |key: &str, value: Value| {
        let mut c = officer.clone();
        c[key] = value;
        c
    };
    for (what, token) in [
        ("expired", rsa.sign(&with("exp", json!(now - 600)))),
        ("not yet valid", ec.sign(&with("nbf", json!(now + 600)))),
        (
            "wrong issuer",
            rsa.sign(&with("iss", json!("https://evil.example/"))),
        ),
        (
            "wrong audience",
            ec.sign(&with("aud", json!("another-app"))),
        ),
        ("unpublished key", TestKey::es256("ec-2").sign(&officer)),
        (
            "a published kid, another key",
            TestKey::es256("ec-1").sign(&officer),
        ),
    ] {
        let body = me(&server, &token).await;
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{what}: {body}");
    }
    assert!(
        server.log().contains("key(s) from the JWKS at"),
        "the log names the verifiers"
    );
    server.stop().await;
    store.drop_store().await;
}

/// Serves a JWKS that the test can change, on a port of its own.
async fn jwks_server(initial: Value) -> (String, Arc<Mutex<Value>>) {
    let served = Arc::new(Mutex::new(initial));
    let state = served.clone();
    let app = axum::Router::new().route(
        "/realms/aduan/protocol/openid-connect/certs",
        axum::routing::get(move || {
            let state = state.clone();
            async move { axum::Json(state.lock().unwrap().clone()) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/realms/aduan/protocol/openid-connect/certs",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, served)
}

#[tokio::test]
async fn a_key_rotated_in_at_the_jwks_url_is_picked_up_without_a_restart() {
    let old = TestKey::rs256("2026-11");
    let (url, served) = jwks_server(jwks(&[&old])).await;
    let (store, server) = start(Backend::Sqlite, &provider_env(&url)).await;
    let agent = claims("agent-siti", "AGENT", None, ISSUER, AUDIENCE);
    assert_eq!(
        me(&server, &old.sign(&agent)).await["data"]["me"]["role"],
        "AGENT"
    );

    // The provider publishes a new key and starts signing with it.
    let new = TestKey::es256("2026-12");
    *served.lock().unwrap() = jwks(&[&old, &new]);
    let body = me(&server, &new.sign(&agent)).await;
    assert_eq!(body["data"]["me"]["role"], "AGENT", "{body}");
    assert_eq!(
        me(&server, &old.sign(&agent)).await["data"]["me"]["role"],
        "AGENT"
    );

    // A made-up key id does not make the server fetch again within the minute.
    let stranger = TestKey::es256("2027-01");
    *served.lock().unwrap() = jwks(&[&old, &new, &stranger]);
    let body = me(&server, &stranger.sign(&agent)).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    server.stop().await;
    store.drop_store().await;
}

#[tokio::test]
async fn a_server_whose_jwks_cannot_be_read_does_not_start() {
    let store = TestStore::create(Backend::Sqlite).await;
    for jwks in ["http://127.0.0.1:9/certs", "/nonexistent/jwks.json"] {
        let out = tokio::time::timeout(
            std::time::Duration::from_secs(30),
            tokio::process::Command::new(BIN)
                .args(["serve", "--addr", "127.0.0.1:0"])
                .env("DATABASE_URL", &store.url)
                .env("ADUAN_JWKS", jwks)
                .output(),
        )
        .await
        .expect("the server gives up instead of serving")
        .unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("JWKS"), "{stderr}");
    }
    store.drop_store().await;
}
