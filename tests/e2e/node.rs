//! Relay's `node(id)` answers what `complaint(id)` answers, to whom it would,
//! and refuses whom it would refuse (the access table's `node` row; the walk
//! over every cell is in `access`).

use serde_json::{json, Value};

use aduan_testkit::GraphqlClient;

use crate::support::*;

on_both_stores!(node_reads_a_complaint_as_complaint_does);

const FIELDS: &str =
    "id status opd title reporter { name phone } location { address } notes { text }";

async fn both(client: &GraphqlClient, id: &str) -> (Value, Value) {
    let complaint = client
        .query(
            &format!("query($id: ID!) {{ complaint(id: $id) {{ {FIELDS} }} }}"),
            json!({"id": id}),
        )
        .await;
    let node = client
        .query(
            &format!(
                "query($id: ID!) {{ node(id: $id) {{ __typename id ... on Complaint {{ {FIELDS} }} }} }}"
            ),
            json!({"id": id}),
        )
        .await;
    (complaint, node)
}

async fn node_reads_a_complaint_as_complaint_does(backend: Backend) {
    let env = Env::start(backend).await;
    let id = env.assigned().await;
    env.current(&id).await;

    // Permitted: the same complaint, field for field, personal data included
    // where the caller may see it and hidden where not.
    let analyst = env.analyst().await;
    for client in [
        &env.citizen,
        &env.agent,
        &env.dpu_officer,
        &env.auditor,
        &analyst,
    ] {
        let (complaint, node) = both(client, &id).await;
        assert!(complaint.get("errors").is_none(), "{complaint}");
        assert!(node.get("errors").is_none(), "{node}");
        let mut node = node["data"]["node"].clone();
        assert_eq!(node["__typename"], "Complaint");
        node.as_object_mut().unwrap().remove("__typename");
        assert_eq!(node, complaint["data"]["complaint"]);
    }
    let (_, node) = both(&analyst, &id).await;
    assert!(node["data"]["node"]["reporter"].is_null(), "{node}");
    let (_, node) = both(&env.agent, &id).await;
    assert_eq!(node["data"]["node"]["reporter"]["name"], "Andi", "{node}");

    // Refused: the same code as complaint(id), and no data.
    let stranger = env.client("CITIZEN", None, "warga-2").await;
    let public = env.server.client("");
    for (client, code) in [
        (&env.dlh_officer, "FORBIDDEN"),
        (&stranger, "FORBIDDEN"),
        (&public, "UNAUTHENTICATED"),
    ] {
        let (complaint, node) = both(client, &id).await;
        assert_eq!(error_code(&complaint), Some(code), "{complaint}");
        assert_eq!(error_code(&node), Some(code), "{node}");
        assert!(node["data"]["node"].is_null(), "{node}");
    }
    // No such id: NOT_FOUND, as complaint(id) says.
    for missing in [
        "00000000-0000-0000-0000-000000000000",
        "not-an-id",
        &"x".repeat(200),
    ] {
        let (complaint, node) = both(&env.auditor, missing).await;
        assert_eq!(error_code(&complaint), Some("NOT_FOUND"), "{complaint}");
        assert_eq!(error_code(&node), Some("NOT_FOUND"), "{node}");
    }
    env.finish().await;
}
