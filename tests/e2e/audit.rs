//! Tamper evidence end to end: a seeded city verifies, and `aduan audit verify`
//! names each kind of tampering done behind the server's back (as the database
//! superuser with the immutability triggers off, or on the SQLite file) at the
//! position where it happened; a case's proofs check against the signed
//! checkpoint with the published key, and an exported case verifies offline.

use std::collections::{BTreeSet, HashMap};

use serde_json::{json, Value};

use aduan_audit::chain::{self, EventContent, GENESIS};
use aduan_audit::checkpoint::{NoteVerifier, TreeHead};
use aduan_audit::merkle::{verify_inclusion, Hash};

use crate::support::*;

const SIGN: &str = "mutation { signAuditCheckpoint { treeSize lastPosition rootHash note } }";

/// The published key document, as a client fetches it.
pub(crate) async fn key_document(env: &Env) -> Value {
    reqwest::get(format!(
        "{}/.well-known/aduan-audit-key",
        env.server.base_url
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap()
}

/// The published verifier key, as a client fetches it.
async fn published_key(env: &Env) -> String {
    let doc = key_document(env).await;
    assert_eq!(doc["algorithm"], "Ed25519");
    doc["verifierKey"].as_str().unwrap().to_string()
}

/// `aduan audit verify --json` with the published key: (exit ok, findings as
/// (kind, position)).
async fn verify(env: &Env, key: &str) -> (bool, BTreeSet<(String, i64)>) {
    let (ok, stdout, stderr) =
        try_cli(&["audit", "verify", "--json", "--key", key], &env.store.url).await;
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("verify printed no report ({e}): {stdout}\n{stderr}"));
    let findings = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_string(),
                f["position"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    (ok, findings)
}

/// Lets the test write to the events table behind the server's back.
pub async fn disable_immutability(store: &aduan_testkit::TestStore) {
    let statements: &[&str] = match store.backend {
        Backend::Postgres => &["ALTER TABLE events DISABLE TRIGGER USER"],
        Backend::Sqlite => &[
            "DROP TRIGGER events_immutable_update",
            "DROP TRIGGER events_immutable_delete",
        ],
    };
    for s in statements {
        store.exec(s).await.unwrap();
    }
}

/// (position, complaint, sequence) of every event, in position order.
async fn events(env: &Env) -> Vec<(i64, String, i64)> {
    env.store
        .texts(
            "SELECT CAST(position AS TEXT) || ' ' || aggregate_id || ' ' || CAST(sequence AS TEXT) \
             FROM events ORDER BY position",
        )
        .await
        .into_iter()
        .map(|row| {
            let mut parts = row.split(' ');
            let p = parts.next().unwrap().parse().unwrap();
            let id = parts.next().unwrap().to_string();
            (p, id, parts.next().unwrap().parse().unwrap())
        })
        .collect()
}

fn finding(kind: &str, position: i64) -> (String, i64) {
    (kind.to_string(), position)
}

on_both_stores!(
    a_seeded_city_verifies_and_each_kind_of_tampering_is_found_where_it_happened,
    events_from_before_the_chain_are_sealed_at_start_and_verify,
    a_case_proves_against_the_signed_checkpoint_and_its_export_verifies_offline,
);

async fn a_seeded_city_verifies_and_each_kind_of_tampering_is_found_where_it_happened(
    backend: Backend,
) {
    // The deadline watcher would record the seeded cases' missed deadlines
    // while the log is being tampered with, moving the very rows the test
    // expects to find (and the tree size it signs).
    let env = Env::start_with(backend, &[("ADUAN_WATCH", "false")]).await;
    run_cli(&["seed", "--cases", "30", "--days", "20"], &env.store.url).await;
    // Room for a forged event inside the sealed range: the gap a failed append
    // leaves in PostgreSQL's positions.
    let gap = env.store.scalar("SELECT max(position) FROM events").await + 1;
    let make_gap = match backend {
        Backend::Postgres => {
            "SELECT setval(pg_get_serial_sequence('events', 'position'), \
             (SELECT max(position) FROM events) + 2)"
        }
        Backend::Sqlite => "UPDATE sqlite_sequence SET seq = seq + 2 WHERE name = 'events'",
    };
    env.store.exec(make_gap).await.unwrap();
    run_cli(
        &["seed", "--cases", "10", "--days", "5", "--seed", "7"],
        &env.store.url,
    )
    .await;
    let total = env.store.scalar("SELECT count(*) FROM events").await;
    let signed = env.supervisor.ok(SIGN, json!({})).await;
    assert_eq!(signed["signAuditCheckpoint"]["treeSize"], total);
    let key = published_key(&env).await;
    assert_eq!(
        verify(&env, &key).await,
        (true, BTreeSet::new()),
        "a city as written verifies"
    );

    let log = events(&env).await;
    let n = log.len();
    let tail: Vec<i64> = log[n - 3..].iter().map(|e| e.0).collect();
    let body = &log[..n - 3];
    let position_of: HashMap<(&str, i64), i64> = log
        .iter()
        .map(|(p, id, s)| ((id.as_str(), *s), *p))
        .collect();
    let last_seq: HashMap<&str, i64> = log.iter().fold(HashMap::new(), |mut m, (_, id, s)| {
        m.insert(id.as_str(), *s);
        m
    });
    disable_immutability(&env.store).await;
    let mut expected = BTreeSet::new();

    // Edited: a stored payload changed.
    let edited = body[5].0;
    let edit = match backend {
        Backend::Postgres => "UPDATE events SET payload = replace(payload::text, '20', '19')::json",
        Backend::Sqlite => "UPDATE events SET payload = replace(payload, '20', '19')",
    };
    env.store
        .exec(&format!("{edit} WHERE position = {edited}"))
        .await
        .unwrap();
    expected.insert(finding("EDITED", edited));
    assert_eq!(
        verify(&env, &key).await,
        (false, expected.clone()),
        "edited"
    );

    // Deleted: a complaint's second event, which has a third after it.
    let (deleted, next) = body
        .iter()
        .filter(|(p, id, s)| *s == 2 && *p != edited && last_seq[id.as_str()] >= 3)
        .map(|(p, id, _)| (*p, position_of[&(id.as_str(), 3)]))
        .find(|(_, next)| *next != edited && !tail.contains(next))
        .expect("a complaint with three events");
    env.store
        .exec(&format!("DELETE FROM events WHERE position = {deleted}"))
        .await
        .unwrap();
    expected.insert(finding("DELETED", deleted));
    expected.insert(finding("DELETED", next));
    assert_eq!(
        verify(&env, &key).await,
        (false, expected.clone()),
        "deleted"
    );

    // Inserted: a forged complaint, correctly hashed, in the gap.
    let payload = json!({"Submitted": {"title": "forged"}});
    let metadata = json!({"actor_id": "nobody", "actor_role": "AGENT", "channel": "graphql", "correlation_id": "x"});
    let hash = chain::event_hash(
        &EventContent {
            complaint: "forged-1",
            sequence: 1,
            event_type: "Submitted",
            event_version: "1",
            payload: &payload,
            metadata: &metadata,
        },
        GENESIS,
    );
    env.store
        .exec(&format!(
            "INSERT INTO events (position, aggregate_type, aggregate_id, sequence, event_type, \
             event_version, payload, metadata, hash, prev_hash) VALUES ({gap}, 'Complaint', \
             'forged-1', 1, 'Submitted', '1', '{payload}', '{metadata}', '{hash}', '')"
        ))
        .await
        .unwrap();
    expected.insert(finding("INSERTED", gap));
    assert_eq!(
        verify(&env, &key).await,
        (false, expected.clone()),
        "inserted"
    );

    // Reordered: two complaints' last events swap positions. The later one's
    // predecessor comes before both, so no chain sees more than the swap.
    let taken = [edited, deleted, next, gap];
    let lasts: Vec<&(i64, String, i64)> = body
        .iter()
        .filter(|(p, id, s)| *s == last_seq[id.as_str()] && !taken.contains(p))
        .collect();
    let (a, b) = lasts
        .iter()
        .enumerate()
        .find_map(|(i, a)| {
            lasts[i + 1..]
                .iter()
                .find(|b| {
                    b.1 != a.1
                        && (b.2 == 1 || position_of[&(b.1.as_str(), b.2 - 1)] < a.0)
                        && !(a.0..b.0).any(|p| taken.contains(&p))
                })
                .map(|b| (a.0, b.0))
        })
        .expect("two complaints to swap");
    for s in [
        format!("UPDATE events SET position = -1 WHERE position = {a}"),
        format!("UPDATE events SET position = {a} WHERE position = {b}"),
        format!("UPDATE events SET position = {b} WHERE position = -1"),
    ] {
        env.store.exec(&s).await.unwrap();
    }
    expected.insert(finding("REORDERED", a));
    expected.insert(finding("REORDERED", b));
    assert_eq!(
        verify(&env, &key).await,
        (false, expected.clone()),
        "reordered"
    );

    // Truncated: the last three events, signed by the checkpoint, are gone.
    env.store
        .exec(&format!("DELETE FROM events WHERE position >= {}", tail[0]))
        .await
        .unwrap();
    expected.insert(finding("TRUNCATED", tail[0]));
    assert_eq!(
        verify(&env, &key).await,
        (false, expected.clone()),
        "truncated"
    );

    // A key other than the log's finds every checkpoint unsigned.
    let other = NoteVerifier::new(
        "aduan.local/audit",
        ed25519_dalek::SigningKey::from_bytes(&[1; 32]).verifying_key(),
    );
    let (ok, found) = verify(&env, &other.encode()).await;
    assert!(
        !ok && found.contains(&finding("CHECKPOINT", -1)),
        "{found:?}"
    );
    env.finish().await;
}

async fn events_from_before_the_chain_are_sealed_at_start_and_verify(backend: Backend) {
    let env = Env::start(backend).await;
    for _ in 0..3 {
        env.assigned().await;
    }
    let before = env
        .store
        .texts("SELECT hash || ':' || prev_hash FROM events ORDER BY position")
        .await;
    assert!(before
        .iter()
        .all(|h| h.len() == 64 + 1 + 64 || h.ends_with(':')));
    env.server.kill().await;
    // As a log written by an earlier version: no hashes at all.
    disable_immutability(&env.store).await;
    env.store
        .exec("UPDATE events SET hash = NULL, prev_hash = NULL")
        .await
        .unwrap();
    let env = Env::start_on(env.store, &[]).await;
    let after = env
        .store
        .texts("SELECT hash || ':' || prev_hash FROM events ORDER BY position")
        .await;
    assert_eq!(after, before, "sealing recomputes the same chain");
    // Commands chain on from the sealed events.
    let id = env.assigned().await;
    env.supervisor.ok(SIGN, json!({})).await;
    let key = published_key(&env).await;
    assert_eq!(verify(&env, &key).await, (true, BTreeSet::new()));
    assert_eq!(env.event_types(&id).await.len(), 3);
    env.finish().await;
}

const PROOF: &str = "query($id: ID!) { auditProof(complaintId: $id) { complaintId verifierKey \
    checkpoint { treeSize rootHash note } \
    events { position sequence type eventVersion payload metadata recordedAt hash prevHash \
             leafIndex leafHash inclusionProof } } }";

fn hash_of(hex_text: &str) -> Hash {
    hex::decode(hex_text).unwrap().try_into().unwrap()
}

async fn a_case_proves_against_the_signed_checkpoint_and_its_export_verifies_offline(
    backend: Backend,
) {
    let env = Env::start(backend).await;
    let id = env.assigned().await;
    for _ in 0..4 {
        env.submit().await;
    }
    // Not for everyone.
    for client in [&env.citizen, &env.agent, &env.dpu_admin] {
        let body = client.query(PROOF, json!({"id": id})).await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
        let body = client.query(SIGN, json!({})).await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    }
    env.auditor.ok(SIGN, json!({})).await;
    let key = published_key(&env).await;
    let verifier = NoteVerifier::parse(&key).unwrap();
    let proof = env.auditor.ok(PROOF, json!({"id": id})).await["auditProof"].clone();
    assert_eq!(proof["verifierKey"], key);
    let head = TreeHead::open(proof["checkpoint"]["note"].as_str().unwrap(), &verifier)
        .expect("the checkpoint is signed by the published key");
    assert_eq!(hex::encode(head.root), proof["checkpoint"]["rootHash"]);
    let events = proof["events"].as_array().unwrap();
    assert_eq!(events.len(), 3, "submitted, verified, assigned");
    let mut prev = GENESIS.to_string();
    for e in events {
        let hash = e["hash"].as_str().unwrap();
        let content = EventContent {
            complaint: &id,
            sequence: e["sequence"].as_i64().unwrap(),
            event_type: e["type"].as_str().unwrap(),
            event_version: e["eventVersion"].as_str().unwrap(),
            payload: &e["payload"],
            metadata: &e["metadata"],
        };
        assert_eq!(e["prevHash"], prev.as_str());
        assert_eq!(
            chain::event_hash(&content, &prev),
            hash,
            "the hash covers what is served"
        );
        let recorded: chrono::DateTime<chrono::Utc> =
            serde_json::from_value(e["recordedAt"].clone()).unwrap();
        assert_eq!(
            e["recordedAt"],
            chain::timestamp(recorded),
            "served as the leaf hashes it"
        );
        let leaf = chain::leaf(e["position"].as_i64().unwrap(), recorded, hash);
        assert_eq!(hex::encode(leaf), e["leafHash"]);
        let path: Vec<Hash> = e["inclusionProof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| hash_of(h.as_str().unwrap()))
            .collect();
        let index = e["leafIndex"].as_u64().unwrap();
        assert!(verify_inclusion(index, head.size, &leaf, &path, &head.root));
        assert!(!verify_inclusion(
            index ^ 1,
            head.size,
            &leaf,
            &path,
            &head.root
        ));
        prev = hash.to_string();
    }
    let checkpoints = env
        .auditor
        .ok("{ auditCheckpoints { treeSize note } }", json!({}))
        .await;
    assert_eq!(checkpoints["auditCheckpoints"][0]["treeSize"], head.size);

    // The signed export, checked with nothing but the key.
    let dir = std::env::temp_dir().join(format!("aduan-audit-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let bundle = dir.join("case.json");
    let key_file = dir.join("key.txt");
    std::fs::write(&key_file, &key).unwrap();
    let bundle_arg = bundle.to_str().unwrap();
    run_cli(
        &[
            "audit",
            "export",
            "--complaint",
            &id,
            "--output",
            bundle_arg,
        ],
        &env.store.url,
    )
    .await;
    let offline = |path: String| {
        let key_file = key_file.clone();
        async move {
            // No database: DATABASE_URL points nowhere.
            try_cli(
                &[
                    "audit",
                    "verify-bundle",
                    &path,
                    "--key",
                    key_file.to_str().unwrap(),
                ],
                "postgres://nobody@127.0.0.1:1/none",
            )
            .await
        }
    };
    let (ok, said, err) = offline(bundle_arg.to_string()).await;
    assert!(ok, "{said}{err}");
    assert!(said.contains("3 events"), "{said}");
    let bytes = std::fs::read(&bundle).unwrap();
    let edited = dir.join("edited.json");
    for i in (0..bytes.len()).step_by(bytes.len() / 25) {
        let mut copy = bytes.clone();
        copy[i] = if copy[i] == b'1' { b'2' } else { b'1' };
        std::fs::write(&edited, &copy).unwrap();
        let (ok, said, _) = offline(edited.to_str().unwrap().to_string()).await;
        assert!(!ok, "byte {i} edited and the bundle still verifies: {said}");
    }
    let _ = std::fs::remove_dir_all(&dir);
    env.finish().await;
}
