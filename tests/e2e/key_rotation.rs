//! Rotating the server's own keys without downtime (issue 26): attachment
//! links, development tokens and audit checkpoints made with the old key keep
//! working through the overlap, new ones are made with the new key, the old
//! key is refused once it retires, and only a SUPERVISOR may rotate. The
//! audit key's rotation is checked as an outsider would: `aduan audit verify`
//! and tools/verify-audit/verify.py with the keys /.well-known/aduan-audit-key
//! lists.

use std::time::{Duration, Instant};

use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

use aduan_audit::checkpoint::TreeHead;
use aduan_testkit::{GraphqlClient, TestServer, TestStore};

use crate::attachments::{fetch, pdf, upload};
use crate::support::*;

on_both_stores!(
    attachment_links_made_before_a_rotation_work_until_they_expire,
    dev_tokens_made_before_a_rotation_work_during_the_overlap,
    a_development_audit_key_rotates_and_old_checkpoints_still_verify,
    a_file_audit_key_rotates_in_and_the_old_one_cannot_sign_after_it_retires,
);

const ROTATE: &str = "mutation($input: RotateServerKeyInput!) { rotateServerKey(input: $input) { key keys { keyId since retires rotatedBy } } }";
const LINKS: &str = "query($id: ID!) { complaint(id: $id) { attachments { url } } }";
const SIGN: &str = "mutation { signAuditCheckpoint { treeSize note } }";

fn rotate_input(key: &str, overlap: Option<i64>) -> Value {
    match overlap {
        Some(h) => json!({"input": {"key": key, "overlapHours": h}}),
        None => json!({"input": {"key": key}}),
    }
}

/// The refusals every rotation shares: a role the table refuses, an overlap
/// out of range.
async fn refusals(env_supervisor: &GraphqlClient, others: &[&GraphqlClient], key: &str) {
    for client in others {
        let body = client.query(ROTATE, rotate_input(key, None)).await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    }
    let body = env_supervisor
        .query(ROTATE, rotate_input(key, Some(169)))
        .await;
    assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");
}

async fn link(client: &GraphqlClient, id: &str) -> String {
    client.ok(LINKS, json!({"id": id})).await["complaint"]["attachments"][0]["url"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn served(env: &Env, url: &str) -> (u16, String) {
    let r = fetch(&env.server, url).await;
    (r.status().as_u16(), r.text().await.unwrap_or_default())
}

async fn attachment_links_made_before_a_rotation_work_until_they_expire(backend: Backend) {
    let env = Env::start_with(backend, &[("ADUAN_ATTACHMENT_LINK_SECONDS", "60")]).await;
    let id = env.submit().await;
    let added = upload(&env.agent, json!({"complaintId": id}), pdf(2_000), "a.pdf").await;
    assert!(added["errors"].is_null(), "{added}");
    let old = link(&env.agent, &id).await;
    assert_eq!(served(&env, &old).await.0, 200);

    // The default overlap is the links' lifetime: every link handed out
    // before the rotation stays valid until it expires.
    let rotated = env
        .supervisor
        .ok(ROTATE, rotate_input("ATTACHMENT_LINKS", None))
        .await["rotateServerKey"]
        .clone();
    let keys = rotated["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{rotated}");
    assert!(keys[0]["retires"].is_null() && keys[0]["rotatedBy"] == json!("spv-1"));
    let lifetime = timestamp(&keys[1]["retires"]) - timestamp(&keys[0]["since"]);
    assert_eq!(lifetime.num_seconds(), 60, "{rotated}");
    assert_eq!(
        served(&env, &old).await.0,
        200,
        "an old link, in its lifetime"
    );
    let during = link(&env.agent, &id).await;
    assert_ne!(during, old);
    assert_eq!(served(&env, &during).await.0, 200);

    // A key that leaked: no overlap, its links fail at once, and the links
    // given from now on (with the new key alone) work.
    env.supervisor
        .ok(ROTATE, rotate_input("ATTACHMENT_LINKS", Some(0)))
        .await;
    for url in [&old, &during] {
        let (status, body) = served(&env, url).await;
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("FORBIDDEN"), "{body}");
    }
    let after = link(&env.agent, &id).await;
    assert_eq!(
        served(&env, &after).await.0,
        200,
        "a link made with the new key"
    );

    refusals(
        &env.supervisor,
        &[&env.auditor, &env.agent],
        "ATTACHMENT_LINKS",
    )
    .await;
    env.finish().await;
}

/// A token from `aduan token` with the development secret (no ADUAN_JWT_SECRET).
async fn dev_token(server: &TestServer, role: &str, sub: &str) -> String {
    let out = tokio::process::Command::new(BIN)
        .args(["token", "--role", role, "--sub", sub])
        .env("DATABASE_URL", &server.database_url)
        .env("ADUAN_JWT_SECRET", "")
        .output()
        .await
        .expect("run aduan token");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Whether the server takes `token` (`me` answers), or the refusal's code.
async fn taken(server: &TestServer, token: &str) -> Result<(), String> {
    let body = server.client(token).query("{ me { id } }", json!({})).await;
    match error_code(&body) {
        None => Ok(()),
        Some(code) => Err(code.to_string()),
    }
}

/// Waits until the server has re-read the ring (within `keys::REFRESH`).
async fn eventually_taken(server: &TestServer, token: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while taken(server, token).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "the rotated secret never reached the server"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn dev_tokens_made_before_a_rotation_work_during_the_overlap(backend: Backend) {
    let store = TestStore::create(backend).await;
    let server = TestServer::start(BIN, &store.url, &[("ADUAN_JWT_SECRET", "")]).await;
    let first = dev_token(&server, "SUPERVISOR", "spv-1").await;
    assert_eq!(taken(&server, &first).await, Ok(()));

    // On the command line, while the server runs: it picks the new secret up
    // without a restart, and the token made before still works.
    let out = run_cli(&["keys", "rotate", "dev-token"], &store.url).await;
    assert!(
        out.contains("signing") && out.contains("verifying until"),
        "{out}"
    );
    let second = dev_token(&server, "SUPERVISOR", "spv-1").await;
    assert_ne!(second, first);
    eventually_taken(&server, &second).await;
    assert_eq!(taken(&server, &first).await, Ok(()), "during the overlap");

    // A leaked secret, through the mutation: no overlap, both earlier tokens
    // are refused at once, a new one works.
    let client = server.client(&second);
    let rotated =
        client.ok(ROTATE, rotate_input("DEV_TOKEN", Some(0))).await["rotateServerKey"].clone();
    assert_eq!(rotated["keys"][0]["rotatedBy"], json!("spv-1"), "{rotated}");
    for token in [&first, &second] {
        assert_eq!(
            taken(&server, token).await,
            Err("UNAUTHENTICATED".to_string())
        );
    }
    let third = dev_token(&server, "SUPERVISOR", "spv-1").await;
    assert_eq!(taken(&server, &third).await, Ok(()));
    let auditor = server.client(&dev_token(&server, "AUDITOR", "auditor-1").await);
    let agent = server.client(&dev_token(&server, "AGENT", "agent-1").await);
    refusals(&server.client(&third), &[&auditor, &agent], "DEV_TOKEN").await;
    let listed = run_cli(&["keys", "list"], &store.url).await;
    assert_eq!(listed.matches("dev-token").count(), 3, "{listed}");
    stop_cleanly(server).await;
    store.drop_store().await;
}

async fn well_known(env: &Env) -> Value {
    env.server
        .get("/.well-known/aduan-audit-key")
        .await
        .json()
        .await
        .unwrap()
}

/// The key id a note's (only) signature line names.
fn signed_key_id(note: &str) -> String {
    use base64::Engine;
    let line = note.lines().last().unwrap();
    let sig = line.rsplit(' ').next().unwrap();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(sig)
        .unwrap();
    hex::encode(&raw[..4])
}

const VERIFIER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tools/verify-audit/verify.py"
);

async fn python(args: &[&str]) -> (bool, String) {
    let out = tokio::process::Command::new("python3")
        .arg(VERIFIER)
        .args(args)
        .output()
        .await
        .expect("python3 (scripts/ensure-python-clients installs `cryptography`)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn temp(name: &str, text: &str) -> String {
    let path = std::env::temp_dir().join(format!(
        "aduan-keys-{}-{name}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// The outsider's verifier, from the server: the checkpoints with the keys
/// the document lists, and the kept note proved the beginning of the log.
async fn outsider_agrees(env: &Env, id: &str, kept: &str) {
    let token = env.server.token("AUDITOR", None, "auditor-1").await;
    let kept = temp("kept.txt", kept);
    let (ok, said) = python(&[
        "fetch",
        "--url",
        &env.server.base_url,
        "--token",
        &token,
        "--complaint",
        id,
        "--kept",
        &kept,
    ])
    .await;
    assert!(ok, "{said}");
    assert!(said.contains("is the beginning of the tree"), "{said}");
}

async fn a_development_audit_key_rotates_and_old_checkpoints_still_verify(backend: Backend) {
    let env = Env::start(backend).await;
    let id = env.submit().await;
    let old = env.auditor.ok(SIGN, json!({})).await["signAuditCheckpoint"]["note"]
        .as_str()
        .unwrap()
        .to_string();
    let before = well_known(&env).await;
    assert_eq!(before["keys"].as_array().unwrap().len(), 1, "{before}");
    assert_eq!(signed_key_id(&old), before["keyId"].as_str().unwrap());

    let rotated =
        env.supervisor.ok(ROTATE, rotate_input("AUDIT", None)).await["rotateServerKey"].clone();
    env.submit().await;
    let new = env.auditor.ok(SIGN, json!({})).await["signAuditCheckpoint"]["note"]
        .as_str()
        .unwrap()
        .to_string();
    let after = well_known(&env).await;
    let keys = after["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{after}");
    assert_eq!(after["keyId"], rotated["keys"][0]["keyId"], "{after}");
    assert_eq!(keys[1]["keyId"], before["keyId"]);
    assert_eq!(
        keys[0]["keyName"], keys[1]["keyName"],
        "the log's name stays"
    );
    assert!(!keys[1]["retires"].is_null() && keys[0]["retires"].is_null());
    assert_eq!(signed_key_id(&new), after["keyId"].as_str().unwrap());
    assert!(!after.to_string().contains("secret"), "{after}");

    // The whole log verifies, with the server's keys and with the published
    // document; the outsider's verifier agrees.
    let said = run_cli(&["audit", "verify"], &env.store.url).await;
    assert!(said.contains("intact"), "{said}");
    let doc = temp("key.json", &after.to_string());
    let said = run_cli(&["audit", "verify", "--key", &doc], &env.store.url).await;
    assert!(said.contains("intact"), "{said}");
    outsider_agrees(&env, &id, &old).await;
    // With the key document from before the rotation, only the old
    // checkpoints verify: the new one is signed by a key it does not list.
    let stale = temp("old-key.json", &before.to_string());
    let (ok, _, _) = try_cli(&["audit", "verify", "--key", &stale], &env.store.url).await;
    assert!(!ok, "a checkpoint by a key the document does not list");

    refusals(&env.supervisor, &[&env.auditor, &env.agent], "AUDIT").await;
    env.finish().await;
}

/// An Ed25519 key file as `openssl genpkey -algorithm ed25519` writes it.
fn key_file(seed: u8) -> (String, SigningKey) {
    let key = SigningKey::from_bytes(&[seed; 32]);
    let pem = key.to_pkcs8_pem(Default::default()).unwrap();
    let path = temp("audit-key.pem", &pem);
    assert_eq!(
        SigningKey::from_pkcs8_pem(&std::fs::read_to_string(&path).unwrap()).unwrap(),
        key
    );
    (path, key)
}

async fn cli_with_key(args: &[&str], url: &str, key: &str) -> (bool, String) {
    let out = tokio::process::Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", url)
        .env("ADUAN_AUDIT_KEY", key)
        .output()
        .await
        .expect("run aduan");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

async fn a_file_audit_key_rotates_in_and_the_old_one_cannot_sign_after_it_retires(
    backend: Backend,
) {
    let (old_path, old_key) = key_file(11);
    let (new_path, _) = key_file(12);
    let env = Env::start_with(backend, &[("ADUAN_AUDIT_KEY", old_path.as_str())]).await;
    let id = env.submit().await;
    let first = env.auditor.ok(SIGN, json!({})).await["signAuditCheckpoint"]["note"]
        .as_str()
        .unwrap()
        .to_string();
    // A key file is the operator's: the mutation cannot rotate it.
    let body = env
        .supervisor
        .query(ROTATE, rotate_input("AUDIT", None))
        .await;
    assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");
    // Nor may a server start with a key the log does not know.
    let (ok, said) = cli_with_key(&["audit", "key"], &env.store.url, &new_path).await;
    assert!(!ok && said.contains("--new-key"), "{said}");

    // The operator rotates the new file in, with no overlap, while the old
    // server runs: from the end of the overlap it can no longer sign.
    let (ok, said) = cli_with_key(
        &[
            "keys",
            "rotate",
            "audit",
            "--new-key",
            &new_path,
            "--overlap-hours",
            "0",
        ],
        &env.store.url,
        &old_path,
    )
    .await;
    assert!(ok, "{said}");
    // Nothing new to sign yet (a checkpoint signed in the seconds before the
    // server re-reads the ring would be one by a retired key: what a leaked
    // key's rotation must show up).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let body = env.auditor.query(SIGN, json!({})).await;
        if body["errors"].is_array() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the retired key still signs: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A checkpoint forged with the retired key, dated after its retirement:
    // `aduan audit verify` and the outsider's verifier refuse it.
    let head = TreeHead::open(
        &first,
        &aduan_audit::checkpoint::NoteVerifier::new(
            first.lines().next().unwrap(),
            old_key.verifying_key(),
        ),
    )
    .unwrap();
    let forged = TreeHead {
        time: chrono::Utc::now() + chrono::Duration::seconds(1),
        ..head
    }
    .sign(&head_name(&first), &old_key);
    let forged_path = temp("forged.txt", &forged);

    // The operator restarts the server on the new file.
    let env = restart_with(env, &[("ADUAN_AUDIT_KEY", new_path.as_str())]).await;
    env.submit().await;
    let second = env.auditor.ok(SIGN, json!({})).await["signAuditCheckpoint"]["note"]
        .as_str()
        .unwrap()
        .to_string();
    let doc = well_known(&env).await;
    assert_eq!(signed_key_id(&second), doc["keyId"].as_str().unwrap());
    assert_eq!(
        signed_key_id(&first),
        doc["keys"][1]["keyId"].as_str().unwrap()
    );
    let (ok, said) = cli_with_key(&["audit", "verify"], &env.store.url, &new_path).await;
    assert!(ok && said.contains("intact"), "{said}");
    let (ok, said) = cli_with_key(
        &["audit", "verify", "--published", &forged_path],
        &env.store.url,
        &new_path,
    )
    .await;
    assert!(!ok && said.contains("retired"), "{said}");
    outsider_agrees(&env, &id, &first).await;
    let (ok, said) = python(&[
        "fetch",
        "--url",
        &env.server.base_url,
        "--token",
        &env.server.token("AUDITOR", None, "auditor-1").await,
        "--complaint",
        &id,
        "--kept",
        &forged_path,
    ])
    .await;
    assert!(!ok && said.contains("retired"), "{said}");

    // Moved to another database, the log keeps its keys: the checkpoints the
    // old key signed still verify there.
    let export = std::env::temp_dir().join(format!(
        "aduan-keys-{}-export.jsonl",
        uuid::Uuid::new_v4().simple()
    ));
    let export = export.to_str().unwrap();
    run_cli(&["export", "--output", export], &env.store.url).await;
    let moved = TestStore::create(backend).await;
    run_cli(&["import", "--input", export], &moved.url).await;
    let (ok, said) = cli_with_key(&["audit", "verify"], &moved.url, &new_path).await;
    assert!(ok && said.contains("intact"), "{said}");
    let (ok, said) = cli_with_key(&["audit", "key"], &moved.url, &new_path).await;
    assert!(ok && said.contains(&signed_key_id(&first)), "{said}");
    moved.drop_store().await;
    env.finish().await;
}

fn head_name(note: &str) -> String {
    note.lines().next().unwrap().to_string()
}

/// Stops the server and starts one on the same database with `vars`.
async fn restart_with(env: Env, vars: &[(&str, &str)]) -> Env {
    let Env { store, server, .. } = env;
    stop_cleanly(server).await;
    Env::start_on(store, vars).await
}

/// A token signed with `secret`, as a city's bridge would sign one.
fn signed_with(secret: &str, role: &str, sub: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"sub": sub, "role": role, "iat": now, "exp": now + 3600});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// ADUAN_JWT_SECRET rotated by a rolling restart: while the replaced secret is
/// named in ADUAN_JWT_SECRET_PREVIOUS its tokens are accepted beside the new
/// secret's; once it is unset they are refused. Alone, it refuses to start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_jwt_secret_is_accepted_while_it_is_named_previous() {
    const NEW: &str = "the-new-secret-0123456789abcdef0123456789";
    let store = TestStore::create(Backend::Sqlite).await;
    let old = signed_with(aduan_testkit::server::TEST_SECRET, "SUPERVISOR", "spv-1");
    let new = signed_with(NEW, "SUPERVISOR", "spv-1");
    let previous = aduan_testkit::server::TEST_SECRET;
    let overlap = [
        ("ADUAN_JWT_SECRET", NEW),
        ("ADUAN_JWT_SECRET_PREVIOUS", previous),
    ];
    let server = TestServer::start(BIN, &store.url, &overlap).await;
    assert_eq!(taken(&server, &old).await, Ok(()), "during the overlap");
    assert_eq!(taken(&server, &new).await, Ok(()));
    stop_cleanly(server).await;

    let server = TestServer::start(BIN, &store.url, &[("ADUAN_JWT_SECRET", NEW)]).await;
    assert_eq!(
        taken(&server, &old).await,
        Err("UNAUTHENTICATED".to_string())
    );
    assert_eq!(taken(&server, &new).await, Ok(()));
    stop_cleanly(server).await;

    let alone = tokio::process::Command::new(BIN)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("DATABASE_URL", &store.url)
        .env("ADUAN_JWT_SECRET", "")
        .env("ADUAN_JWT_SECRET_PREVIOUS", previous)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), alone)
        .await
        .expect("a server with only the previous secret stops at once")
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("ADUAN_JWT_SECRET_PREVIOUS is set without"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    store.drop_store().await;
}
