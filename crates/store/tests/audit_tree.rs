//! The stored audit tree past its block size: a log of a few thousand events
//! imported with a carried checkpoint, the tree rebuilt from the database, and
//! consistency proofs from sizes on either side of block boundaries matching
//! the ones computed from every leaf in memory, on both databases.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test: a failure is a panic"
)]

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use aduan_audit::chain::{self, EventContent, GENESIS};
use aduan_audit::consistency::{consistency_proof, verify_consistency};
use aduan_audit::merkle::{root, Hash};
use aduan_store::audit::{self, Checkpoint, ConsistencyRefused, BLOCK};
use aduan_store::{ExportedEvent, ImportChunk};
use aduan_testkit::{on_both_stores, Backend, TestStore};

on_both_stores!(consistency_proofs_from_the_stored_tree_match_the_leaves_in_memory);

/// `n` events over 50 complaints, chained, with their leaves.
fn log(n: i64) -> (Vec<ExportedEvent>, Vec<Hash>) {
    let start: DateTime<Utc> = "2026-11-30T01:00:00.123Z".parse().unwrap();
    let mut heads = std::collections::HashMap::new();
    let (mut events, mut leaves) = (Vec::new(), Vec::new());
    for position in 1..=n {
        let complaint = format!("c-{}", position % 50);
        let (sequence, prev) = heads
            .get(&complaint)
            .cloned()
            .map_or((1, GENESIS.to_string()), |(s, h): (i64, String)| (s + 1, h));
        let payload = json!({"Noted": {"n": position, "lat": -5.1551}});
        let metadata = json!({"actor_id": "u-1"});
        let hash = chain::event_hash(
            &EventContent {
                complaint: &complaint,
                sequence,
                event_type: "Noted",
                event_version: "1",
                payload: &payload,
                metadata: &metadata,
            },
            &prev,
        );
        // Whole milliseconds: what either database keeps.
        let recorded_at = start + Duration::milliseconds(position * 7);
        leaves.push(chain::leaf(position, recorded_at, &hash));
        heads.insert(complaint.clone(), (sequence, hash.clone()));
        events.push(ExportedEvent {
            position,
            aggregate_type: "Complaint".into(),
            aggregate_id: complaint,
            sequence,
            event_type: "Noted".into(),
            event_version: "1".into(),
            payload,
            metadata,
            recorded_at,
            hash: Some(hash),
            prev_hash: Some(prev),
        });
    }
    (events, leaves)
}

async fn consistency_proofs_from_the_stored_tree_match_the_leaves_in_memory(backend: Backend) {
    let store = TestStore::create(backend).await;
    let log_ = store.log().await;
    let n = 2 * BLOCK as i64 + 77;
    let (events, leaves) = log(n);
    let (chunks, stream) = tokio::sync::mpsc::channel(1);
    chunks
        .send(Ok(ImportChunk {
            keys: Vec::new(),
            events,
        }))
        .await
        .unwrap();
    drop(chunks);
    assert_eq!(log_.import(stream).await.unwrap(), n as u64);
    let carried = Checkpoint {
        tree_size: n,
        last_position: n,
        root: root(&leaves),
        signed_at: "2026-11-30T05:00:00Z".parse().unwrap(),
        note: "carried\n".into(),
    };
    // A checkpoint the log does not add up to is refused; the right one is kept.
    let wrong = Checkpoint {
        root: [7; 32],
        ..carried.clone()
    };
    assert!(audit::import_checkpoints(log_.as_ref(), &[wrong])
        .await
        .is_err());
    audit::import_checkpoints(log_.as_ref(), std::slice::from_ref(&carried))
        .await
        .unwrap();
    assert_eq!(
        audit::checkpoints(log_.as_ref()).await.unwrap(),
        vec![carried]
    );

    let b = BLOCK;
    let to_sizes = [b, b + 1, 2 * b, n as u64];
    let from_sizes = [
        1,
        2,
        3,
        b - 1,
        b,
        b + 1,
        2 * b - 1,
        2 * b,
        2 * b + 1,
        n as u64,
    ];
    for &to in &to_sizes {
        for &from in from_sizes.iter().filter(|&&m| m <= to) {
            let c = audit::consistency(log_.as_ref(), from, to)
                .await
                .unwrap()
                .unwrap();
            let tree = &leaves[..to as usize];
            assert_eq!(c.proof, consistency_proof(from, tree), "{from} -> {to}");
            assert_eq!(c.from_root, root(&tree[..from as usize]));
            assert_eq!(c.to_root, root(tree));
            assert!(verify_consistency(
                from,
                to,
                &c.from_root,
                &c.to_root,
                &c.proof
            ));
        }
    }
    assert_eq!(
        audit::consistency(log_.as_ref(), 1, n as u64 + 1)
            .await
            .unwrap(),
        Err(ConsistencyRefused::BeyondTree { sealed: n as u64 })
    );
    assert_eq!(
        audit::consistency(log_.as_ref(), 0, 1).await.unwrap(),
        Err(ConsistencyRefused::Order)
    );
    store.drop_store().await;
}
