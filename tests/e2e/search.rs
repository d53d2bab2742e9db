//! `complaints(filter: {text})` through the real server, on both stores: words
//! are found in the title, description, responses, PUBLIC notes and closing
//! summaries, Indonesian-aware (`jalan` finds `jalanan`, `lampu` finds
//! `lampu-lampu`), best match first with cursors that page by rank; never in
//! INTERNAL notes or the reporter's name; an OPD finds only its own cases; an
//! erasure takes the reporter's words out of the index.

use serde_json::{json, Value};

use crate::support::*;

on_both_stores!(the_text_finds_what_was_written_ranked_and_scoped);

const LIST: &str = "query($filter: ComplaintFilter, $first: Int, $after: String) { \
    complaints(filter: $filter, first: $first, after: $after) { totalCount \
    pageInfo { hasNextPage endCursor } edges { node { id } } } }";

const REF: &str = "query($id: ID!) { complaint(id: $id) { reporterRef } }";

const ERASE: &str = "mutation($input: EraseReporterDataInput!) { \
    eraseReporterData(input: $input) { complaints } }";

async fn submitted(env: &Env, title: &str, description: &str) -> String {
    let report = report_with(json!({"title": title, "description": description}));
    let data = env.citizen.ok(SUBMIT, json!({"input": report})).await;
    let id = id_of(&data);
    env.agent.ok(MUTATE_VERIFY, input(&id, json!({}))).await;
    id
}

async fn assigned(env: &Env, id: &str, opd: &str) {
    env.agent
        .ok(MUTATE_ASSIGN, input(id, json!({"opd": opd})))
        .await;
}

async fn found(client: &aduan_testkit::GraphqlClient, text: &str) -> Vec<String> {
    let data = client
        .ok(LIST, json!({"filter": {"text": text}, "first": 50}))
        .await;
    let list = &data["complaints"];
    let ids: Vec<String> = ids(&list["edges"]);
    assert_eq!(list["totalCount"], json!(ids.len()), "{text}: {data}");
    ids
}

fn ids(edges: &Value) -> Vec<String> {
    edges
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_string())
        .collect()
}

fn set(ids: &[&String]) -> std::collections::BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

async fn the_text_finds_what_was_written_ranked_and_scoped(backend: Backend) {
    let env = Env::start(backend).await;
    let road = submitted(&env, "Jalanan berlubang", "Lampu-lampu juga padam").await;
    let drain = submitted(&env, "Saluran tersumbat", "Air meluap ke rumah").await;
    assigned(&env, &drain, "DPU").await;
    let respond = json!({"message": "Perbaikan jalan dijadwalkan pekan depan"});
    env.dpu_officer
        .ok(MUTATE_RESPOND, input(&drain, respond))
        .await;
    for (text, visibility) in [
        ("Drainase dibersihkan", "PUBLIC"),
        ("Kontraktor lalai", "INTERNAL"),
    ] {
        let note = json!({"text": text, "visibility": visibility});
        env.agent.ok(MUTATE_ADD_NOTE, input(&drain, note)).await;
    }
    let garbage = submitted(&env, "Sampah menumpuk", "Sampahnya belum diangkut").await;
    assigned(&env, &garbage, "DLH").await;
    let pool = submitted(&env, "Genangan air", "Genangan setinggi lutut").await;
    let crack = submitted(&env, "Trotoar retak", "Retak panjang").await;
    let close =
        json!({"resolution": "RESOLVED", "summary": "Sudah ditambal, tidak ada genangan lagi"});
    env.agent.ok(MUTATE_CLOSE, input(&crack, close)).await;
    caught_up(&env.store, &env.supervisor).await;

    let agent = &env.agent;
    assert_eq!(
        set(&found(agent, "jalan").await.iter().collect::<Vec<_>>()),
        set(&[&road, &drain])
    );
    assert_eq!(found(agent, "lampu").await, std::slice::from_ref(&road));
    assert_eq!(found(agent, "drainase").await, std::slice::from_ref(&drain));
    assert_eq!(
        found(agent, "perbaikan jalan").await,
        std::slice::from_ref(&drain)
    );
    assert!(
        found(agent, "kontraktor").await.is_empty(),
        "INTERNAL notes are not searched"
    );
    assert_eq!(found(agent, "sampah").await, std::slice::from_ref(&garbage));
    assert!(
        found(agent, "andi").await.is_empty(),
        "the reporter's name is not searched"
    );
    // Title and description rank above a closing summary; pages follow the rank.
    assert_eq!(
        found(agent, "genangan").await,
        [pool.clone(), crack.clone()]
    );
    let first = agent
        .ok(LIST, json!({"filter": {"text": "genangan"}, "first": 1}))
        .await;
    assert_eq!(
        ids(&first["complaints"]["edges"]),
        std::slice::from_ref(&pool)
    );
    let after = first["complaints"]["pageInfo"]["endCursor"].clone();
    let second = agent
        .ok(
            LIST,
            json!({"filter": {"text": "genangan"}, "first": 1, "after": after}),
        )
        .await;
    assert_eq!(
        ids(&second["complaints"]["edges"]),
        std::slice::from_ref(&crack)
    );
    assert_eq!(second["complaints"]["pageInfo"]["hasNextPage"], false);
    // An OPD searches its own cases only.
    assert!(found(&env.dpu_officer, "sampah").await.is_empty());
    assert_eq!(
        found(&env.dlh_officer, "sampah").await,
        std::slice::from_ref(&garbage)
    );

    // The reporter's words leave the index with their data.
    let reference = env.supervisor.ok(REF, json!({"id": road})).await["complaint"]["reporterRef"]
        .as_str()
        .unwrap()
        .to_string();
    let erase = json!({"input": {"reporterRef": reference, "reason": "Permintaan warga"}});
    env.supervisor.ok(ERASE, erase).await;
    caught_up(&env.store, &env.supervisor).await;
    assert!(
        found(agent, "lampu").await.is_empty(),
        "erased words find nothing"
    );
    assert_eq!(found(agent, "jalan").await, std::slice::from_ref(&drain));
    env.finish().await;
}
