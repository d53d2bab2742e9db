//! `complaints`: lists from the projection, paginated, filtered, scoped, fresh.

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::support::*;

on_both_stores!(
    lists_page_filter_and_scope_from_the_projection,
    a_client_reads_its_own_write_with_min_position,
);

const LIST: &str = "query($filter: ComplaintFilter, $first: Int, $after: String, $min: Int) { \
    complaints(filter: $filter, first: $first, after: $after, minPosition: $min) { \
      totalCount position pageInfo { hasNextPage endCursor } \
      edges { cursor node { id status opd category title createdAt slaState } } } }";

async fn list(client: &aduan_testkit::GraphqlClient, variables: Value) -> Value {
    client.ok(LIST, variables).await["complaints"].clone()
}

fn ids(page: &Value) -> Vec<String> {
    page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_string())
        .collect()
}

async fn lists_page_filter_and_scope_from_the_projection(backend: Backend) {
    let env = Env::start(backend).await;
    let mut all = Vec::new();
    for _ in 0..3 {
        all.push(env.assigned().await); // with DPU
    }
    let moved = env.assigned().await;
    let last = env
        .agent
        .ok(
            MUTATE_TRANSFER,
            json!({"input": {"complaintId": moved, "toOpd": "DLH", "reasonCode": "BUKAN_WEWENANG", "note": "Sampah"}}),
        )
        .await;
    all.push(moved.clone());
    let mut input = report();
    input["title"] = json!("Lampu lalu lintas mati di Jl. Urip Sumoharjo");
    input["category"] = json!("TRAFFIC_LIGHT");
    let fresh = env.citizen.ok(SUBMIT, json!({"input": input})).await["submitComplaint"].clone();
    all.push(fresh["id"].as_str().unwrap().to_string());
    let min = fresh["position"]
        .as_i64()
        .unwrap()
        .max(last["transferComplaint"]["position"].as_i64().unwrap());

    // Every complaint exactly once across pages of two, newest first.
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = list(&env.agent, json!({"first": 2, "after": after, "min": min})).await;
        assert_eq!(page["totalCount"], 5);
        seen.extend(ids(&page));
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen.len(), 5);
    assert_eq!(
        seen.iter().collect::<HashSet<_>>(),
        all.iter().collect::<HashSet<_>>()
    );
    assert_eq!(seen[0], all[4], "newest first");

    let dpu = list(
        &env.agent,
        json!({"filter": {"status": ["ASSIGNED"], "opd": ["DPU"]}, "min": min}),
    )
    .await;
    assert_eq!(dpu["totalCount"], 3);
    let text = list(
        &env.agent,
        json!({"filter": {"text": "lalu LINTAS"}, "min": min}),
    )
    .await;
    assert_eq!(ids(&text), [all[4].clone()]);

    // An OPD sees only the cases it holds, in the rows and in the total.
    let dlh = list(
        &env.dlh_officer,
        json!({"filter": {"opd": ["DPU"]}, "min": min}),
    )
    .await;
    assert_eq!(ids(&dlh), [moved]);
    assert_eq!(dlh["totalCount"], 1);

    // A citizen lists the cases they reported (all five here), and no one else's.
    let mine = list(&env.citizen, json!({"min": min})).await;
    assert_eq!(mine["totalCount"], 5);
    let mut own = ids(&mine);
    own.sort();
    let mut expected = all.clone();
    expected.sort();
    assert_eq!(own, expected);
    let neighbour = env.client("CITIZEN", None, "warga-2").await;
    let theirs = list(&neighbour, json!({"min": min})).await;
    assert_eq!(theirs["totalCount"], 0);
    assert_eq!(ids(&theirs), Vec::<String>::new());
    assert_eq!(
        env.agent.error_code(LIST, json!({"first": 0})).await,
        "INVALID_INPUT"
    );
    assert_eq!(
        env.agent.error_code(LIST, json!({"first": 101})).await,
        "INVALID_INPUT"
    );
    assert_eq!(
        env.agent
            .error_code(LIST, json!({"after": "not-a-cursor"}))
            .await,
        "INVALID_INPUT"
    );
    env.finish().await;
}

async fn a_client_reads_its_own_write_with_min_position(backend: Backend) {
    let env = Env::start(backend).await;
    for _ in 0..5 {
        let id = env.submit().await;
        let verified = env
            .agent
            .ok(MUTATE_VERIFY, json!({"input": {"complaintId": id}}))
            .await;
        let position = verified["verifyComplaint"]["position"].as_i64().unwrap();
        let page = list(
            &env.agent,
            json!({"filter": {"status": ["VERIFIED"]}, "first": 100, "min": position}),
        )
        .await;
        assert!(
            ids(&page).contains(&id),
            "the write at {position} is not in the list yet"
        );
        let node = &page["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["node"]["id"] == id.as_str())
            .unwrap()["node"];
        assert_eq!(node["slaState"], "ON_TRACK", "waiting for dispatch: {node}");
        assert!(page["position"].as_i64().unwrap() >= position);
    }
    env.finish().await;
}
