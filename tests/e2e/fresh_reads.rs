//! `complaint(id)` is never behind a command that was acknowledged before the
//! read: one client acts, another reads right after without `minPosition`,
//! while other clients keep the projector busy. Before reads checked the
//! row's version against the log, 1 read in 40 came back stale on a quiet
//! machine, and more under load.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};

use aduan_testkit::GraphqlClient;

use crate::support::*;

on_both_stores!(two_hundred_reads_right_after_commands_are_never_stale);

const READ: &str = "query($id: ID!) { complaint(id: $id) { id status version } }";

/// One command through `writer`, then `reader` reads the case at once: the
/// read must show the command's version (or later: the load's notes) and,
/// at that version, the command's status.
async fn act_then_read(
    writer: &GraphqlClient,
    reader: &GraphqlClient,
    mutation: &str,
    variables: Value,
) -> Option<String> {
    let acted = writer.ok(mutation, variables).await;
    let acted = returned(&acted).clone();
    let read = reader.ok(READ, json!({"id": acted["id"]})).await;
    let read = &read["complaint"];
    let (wrote, saw) = (
        acted["version"].as_i64().unwrap(),
        read["version"].as_i64().unwrap(),
    );
    let stale = saw < wrote || (saw == wrote && read["status"] != acted["status"]);
    stale.then(|| format!("wrote {acted} then read {read}"))
}

/// Submissions and notes, a few dozen commands a second, until told to stop:
/// enough to keep the projector busy, not so many that the other tests
/// sharing the machine (and its PostgreSQL) starve.
fn load(env: &Env, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<u64> {
    let (citizen, agent) = (env.citizen.clone(), env.agent.clone());
    tokio::spawn(async move {
        let mut commands = 0;
        while !stop.load(Ordering::Relaxed) {
            let id = id_of(&citizen.ok(SUBMIT, json!({"input": report()})).await);
            for text in ["Sedang dicek", "Warga menelepon lagi"] {
                let note = json!({"text": text, "visibility": "INTERNAL"});
                agent.ok(MUTATE_ADD_NOTE, input(&id, note)).await;
            }
            commands += 3;
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        commands
    })
}

/// One case through its life, each step read right after by the other side:
/// 5 pairs.
async fn one_case(env: &Env, stale: &mut Vec<String>) {
    let id = env.submit().await;
    let (agent, officer, supervisor) = (&env.agent, &env.dpu_officer, &env.supervisor);
    let now = chrono::Utc::now().to_rfc3339();
    let steps: [(&GraphqlClient, &GraphqlClient, &str, Value); 5] = [
        (agent, supervisor, MUTATE_VERIFY, json!({})),
        (agent, officer, MUTATE_ASSIGN, json!({"opd": "DPU"})),
        (
            officer,
            supervisor,
            MUTATE_RESPOND,
            json!({"message": "Tim menuju lokasi"}),
        ),
        (
            officer,
            agent,
            MUTATE_FIELD,
            json!({"notes": "Ditambal", "handledAt": now}),
        ),
        (
            officer,
            supervisor,
            MUTATE_CLOSE,
            json!({"resolution": "RESOLVED", "summary": "Jalan sudah diperbaiki"}),
        ),
    ];
    for (writer, reader, mutation, fields) in steps {
        if let Some(found) = act_then_read(writer, reader, mutation, input(&id, fields)).await {
            stale.push(found);
        }
    }
}

async fn two_hundred_reads_right_after_commands_are_never_stale(backend: Backend) {
    let env = Arc::new(Env::start(backend).await);
    let stop = Arc::new(AtomicBool::new(false));
    let loads = [load(&env, stop.clone())];
    let mut lanes = Vec::new();
    for _ in 0..4 {
        let env = env.clone();
        lanes.push(tokio::spawn(async move {
            let mut stale = Vec::new();
            for _ in 0..10 {
                one_case(&env, &mut stale).await;
            }
            stale
        }));
    }
    let mut stale = Vec::new();
    for lane in lanes {
        stale.extend(lane.await.unwrap());
    }
    stop.store(true, Ordering::Relaxed);
    let mut load_commands = 0;
    for l in loads {
        load_commands += l.await.unwrap();
    }
    assert!(load_commands > 0, "the load ran");
    assert!(
        stale.is_empty(),
        "{} of 200 reads were stale: {stale:#?}",
        stale.len()
    );
    Arc::try_unwrap(env).ok().unwrap().finish().await;
}
