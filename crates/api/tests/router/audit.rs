//! The audit queries in-process: `auditConsistency` proves a later checkpoint
//! extends an earlier one, for those who may read audit proofs only, and
//! refuses sizes the tree cannot answer; `auditProof` serves `recordedAt` as
//! the leaf hashes it.

use serde_json::json;

use aduan_audit::consistency::verify_consistency;
use aduan_domain::Role;

use crate::support::*;

const SIGN: &str = "mutation { signAuditCheckpoint { treeSize rootHash note } }";

const CONSISTENCY: &str = "query($from: Int!, $to: Int) { auditConsistency(from: $from, to: $to) \
    { fromSize fromRoot toSize toRoot proof toCheckpoint { treeSize rootHash } } }";

fn hash(v: &serde_json::Value) -> [u8; 32] {
    hex::decode(v.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

#[tokio::test]
async fn a_consistency_proof_links_two_checkpoints_for_auditors_only() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    let auditor = Client::new(&app, Role::Auditor, None, "auditor-1");
    let supervisor = Client::new(&app, Role::Supervisor, None, "spv-1");
    let id = cast.assigned().await;
    let old = auditor.ok(SIGN, json!({})).await["signAuditCheckpoint"].clone();
    for _ in 0..2 {
        cast.submitted().await;
    }
    let new = auditor.ok(SIGN, json!({})).await["signAuditCheckpoint"].clone();
    let (m, n) = (
        old["treeSize"].as_i64().unwrap(),
        new["treeSize"].as_i64().unwrap(),
    );
    assert!(n > m);

    for client in [&cast.citizen, &cast.agent, &cast.dpu_officer] {
        assert_eq!(
            client.error_code(CONSISTENCY, json!({"from": m})).await,
            "FORBIDDEN"
        );
    }
    for client in [&auditor, &supervisor] {
        let c = client.ok(CONSISTENCY, json!({"from": m})).await["auditConsistency"].clone();
        assert_eq!(
            (c["fromSize"].as_i64(), c["toSize"].as_i64()),
            (Some(m), Some(n))
        );
        assert_eq!(c["fromRoot"], old["rootHash"]);
        assert_eq!(c["toRoot"], new["rootHash"]);
        assert_eq!(c["toCheckpoint"]["treeSize"], n);
        let proof: Vec<[u8; 32]> = c["proof"].as_array().unwrap().iter().map(hash).collect();
        assert!(!proof.is_empty());
        assert!(verify_consistency(
            m as u64,
            n as u64,
            &hash(&c["fromRoot"]),
            &hash(&c["toRoot"]),
            &proof
        ));
    }
    // Between two sizes without checkpoints too; equal sizes need no hashes.
    let c = auditor.ok(CONSISTENCY, json!({"from": 1, "to": 2})).await["auditConsistency"].clone();
    assert!(c["toCheckpoint"].is_null());
    let c = auditor.ok(CONSISTENCY, json!({"from": n, "to": n})).await["auditConsistency"].clone();
    assert_eq!(c["proof"], json!([]));
    // Sizes the tree cannot answer.
    for (from, to) in [(0, n), (n, m), (1, n + 1)] {
        let body = auditor
            .query(CONSISTENCY, json!({"from": from, "to": to}))
            .await;
        assert_eq!(
            error_code(&body),
            Some("INVALID_INPUT"),
            "{from} -> {to}: {body}"
        );
    }

    let proof = auditor
        .ok(
            "query($id: ID!) { auditProof(complaintId: $id) { events { recordedAt } } }",
            json!({"id": id}),
        )
        .await;
    for e in proof["auditProof"]["events"].as_array().unwrap() {
        let at = e["recordedAt"].as_str().unwrap();
        let parsed = chrono::DateTime::parse_from_rfc3339(at).unwrap();
        assert_eq!(
            at,
            aduan_audit::chain::timestamp(parsed.with_timezone(&chrono::Utc)),
            "six fractional digits and Z"
        );
    }
    app.finish().await;
}
