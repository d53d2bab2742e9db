//! Rotating the server's own keys in-process (`rotateServerKey`): a token
//! made with the development secret before a rotation works through the
//! overlap and is refused after a rotation without one; the audit key's
//! rotation shows in /.well-known/aduan-audit-key, and the next checkpoint
//! and the case proof against it carry the new key id. Only a SUPERVISOR may rotate.

use serde_json::{json, Value};

use aduan_domain::Role;

use crate::support::*;

const ROTATE: &str = "mutation($input: RotateServerKeyInput!) { rotateServerKey(input: $input) { key keys { keyId since retires } } }";
const SIGN: &str = "mutation { signAuditCheckpoint { note } }";
const PROOF: &str = "query($id: ID!) { auditProof(complaintId: $id) { verifierKey } }";

/// The refusal's code for a request with `token`, or `None` when it is taken.
async fn refusal(app: &App, token: &str) -> Option<String> {
    let answer = app.graphql(Some(token), "{ me { id } }", json!({})).await;
    answer.body["errors"][0]["extensions"]["code"]
        .as_str()
        .map(str::to_string)
}

async fn rotate(app: &App, token: &str, input: Value) -> Value {
    app.graphql(Some(token), ROTATE, json!({"input": input}))
        .await
        .body
}

#[tokio::test]
async fn a_development_token_works_through_the_overlap_and_not_after_a_rotation_without_one() {
    let app = App::start().await;
    let old = app.token(Role::Supervisor, None, "spv-1");
    assert_eq!(refusal(&app, &old).await, None);
    let body = rotate(&app, &old, json!({"key": "DEV_TOKEN"})).await;
    let keys = body["data"]["rotateServerKey"]["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{body}");
    assert_eq!(refusal(&app, &old).await, None, "during the overlap");
    let new = app.token(Role::Supervisor, None, "spv-1");
    assert_eq!(refusal(&app, &new).await, None);

    let body = rotate(&app, &new, json!({"key": "DEV_TOKEN", "overlapHours": 0})).await;
    assert!(body["errors"].is_null(), "{body}");
    for token in [&old, &new] {
        assert_eq!(
            refusal(&app, token).await.as_deref(),
            Some("UNAUTHENTICATED")
        );
    }
    let newest = app.token(Role::Supervisor, None, "spv-1");
    assert_eq!(refusal(&app, &newest).await, None);
    for role in [Role::Auditor, Role::Agent, Role::Analyst] {
        let body = rotate(
            &app,
            &app.token(role, None, "x"),
            json!({"key": "DEV_TOKEN"}),
        )
        .await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{role}: {body}");
    }
    let body = rotate(&app, &newest, json!({"key": "AUDIT", "overlapHours": -1})).await;
    assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");
    app.finish().await;
}

/// The key id a note's (only) signature line names.
fn signed_key_id(note: &str) -> String {
    use base64::Engine;
    let sig = note.lines().last().unwrap().rsplit(' ').next().unwrap();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(sig)
        .unwrap();
    hex::encode(&raw[..4])
}

#[tokio::test]
async fn the_audit_key_rotation_is_listed_and_the_next_checkpoint_carries_the_new_key_id() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    let auditor = Client::new(&app, Role::Auditor, None, "auditor-1");
    let supervisor = app.token(Role::Supervisor, None, "spv-1");
    let id = cast.submitted().await;
    let old = auditor.ok(SIGN, json!({})).await["signAuditCheckpoint"]["note"]
        .as_str()
        .unwrap()
        .to_string();
    let before = app.get("/.well-known/aduan-audit-key").await.body;
    assert_eq!(signed_key_id(&old), before["keyId"].as_str().unwrap());

    let body = rotate(&app, &supervisor, json!({"key": "AUDIT"})).await;
    assert!(body["errors"].is_null(), "{body}");
    let after = app.get("/.well-known/aduan-audit-key").await.body;
    let keys = after["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{after}");
    assert_ne!(after["keyId"], before["keyId"]);
    assert_eq!(keys[0]["keyId"], after["keyId"]);
    assert_eq!(keys[1]["keyId"], before["keyId"]);
    assert!(keys[1]["retires"].is_string() && keys[0]["retires"].is_null());

    cast.submitted().await;
    let new = auditor.ok(SIGN, json!({})).await["signAuditCheckpoint"]["note"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(signed_key_id(&new), after["keyId"].as_str().unwrap());
    let proof = auditor.ok(PROOF, json!({"id": id})).await["auditProof"].clone();
    assert_eq!(proof["verifierKey"], after["verifierKey"]);
    app.finish().await;
}
