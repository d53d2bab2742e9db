//! `bulkAct` over HTTP: a mixed batch where some cases are refused and the
//! others done, each event in the log once; a retry and a concurrent double
//! that append nothing more and answer the same; the request's limits.

use serde_json::{json, Value};

use crate::support::*;

const BULK: &str = "mutation($input: BulkInput!) { bulkAct(input: $input) { \
    requestId action succeeded failed \
    items { complaintId commandId ok code message version position } } }";
const HISTORY: &str = "query($id: ID!) { complaintHistory(id: $id) { type commandId } }";

async fn history(client: &Client<'_>, id: &str) -> Vec<(String, Option<String>)> {
    let data = client.ok(HISTORY, json!({"id": id})).await;
    data["complaintHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let command = e["commandId"].as_str().map(str::to_string);
            (e["type"].as_str().unwrap().to_string(), command)
        })
        .collect()
}

/// A case the Command Center filed (citizens' submissions are rate-limited)
/// and dispatched to DPU.
async fn dispatched(cast: &Cast<'_>) -> String {
    let id = id_of(&cast.agent.ok(SUBMIT, json!({"input": report()})).await);
    cast.agent.ok(MUTATE_VERIFY, input(&id, json!({}))).await;
    cast.agent
        .ok(MUTATE_ASSIGN, input(&id, json!({"opd": "DPU"})))
        .await;
    id
}

fn close_all(request_id: &str, ids: &[&str]) -> Value {
    json!({"input": {
        "requestId": request_id,
        "action": "CLOSE",
        "complaintIds": ids,
        "close": {"resolution": "RESOLVED", "summary": "Ditangani bersama."},
    }})
}

fn codes(answer: &Value) -> Vec<Value> {
    answer["bulkAct"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].clone())
        .collect()
}

#[tokio::test]
async fn a_mixed_batch_does_what_it_may_once_and_a_retry_changes_nothing() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    let (a, b) = (cast.assigned().await, cast.assigned().await);
    let closed = cast.assigned().await;
    cast.dpu_officer
        .ok(BULK, close_all("earlier", &[&closed]))
        .await;
    let dlh = cast.submitted().await;
    cast.agent.ok(MUTATE_VERIFY, input(&dlh, json!({}))).await;
    cast.agent
        .ok(MUTATE_ASSIGN, input(&dlh, json!({"opd": "DLH"})))
        .await;
    let unknown = "00000000-0000-4000-8000-000000000000";
    let ids = [a.as_str(), &closed, &dlh, unknown, &b];

    let first = cast.dpu_officer.ok(BULK, close_all("req-1", &ids)).await;
    let answer = &first["bulkAct"];
    assert_eq!(
        (answer["succeeded"].clone(), answer["failed"].clone()),
        (json!(2), json!(3)),
        "{first}"
    );
    assert_eq!(
        codes(&first),
        [
            json!(null),
            json!("INVALID_TRANSITION"),
            json!("FORBIDDEN"),
            json!("NOT_FOUND"),
            json!(null)
        ],
        "{first}"
    );
    let items = answer["items"].as_array().unwrap();
    let listed: Vec<&str> = items
        .iter()
        .map(|i| i["complaintId"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ids);
    for (item, id) in [(&items[0], &a), (&items[4], &b)] {
        let events = history(&cast.agent, id).await;
        let mine: Vec<_> = events
            .iter()
            .filter(|(_, c)| c.as_deref() == item["commandId"].as_str())
            .collect();
        assert_eq!(mine.len(), 1, "{events:?}");
        assert_eq!(mine[0].0, "Closed");
        assert_eq!(item["version"], json!(events.len()), "{item}");
        assert!(item["position"].as_i64().unwrap() > 0);
    }
    let known = [a.as_str(), &closed, &dlh, &b];
    let before: Vec<usize> =
        futures::future::join_all(known.iter().map(|id| history(&cast.agent, id)))
            .await
            .iter()
            .map(Vec::len)
            .collect();

    // The same request again: the same answer, nothing appended.
    let again = cast.dpu_officer.ok(BULK, close_all("req-1", &ids)).await;
    assert_eq!(again, first);
    let after: Vec<usize> =
        futures::future::join_all(known.iter().map(|id| history(&cast.agent, id)))
            .await
            .iter()
            .map(Vec::len)
            .collect();
    assert_eq!(after, before);
    app.finish().await;
}

#[tokio::test]
async fn the_same_request_twice_at_once_acts_once_on_each_case() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    let mut ids = Vec::new();
    for _ in 0..12 {
        ids.push(dispatched(&cast).await);
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let variables = json!({"input": {
        "requestId": "twice",
        "action": "ADD_NOTE",
        "complaintIds": refs,
        "addNote": {"text": "Dicek bersama tim.", "visibility": "INTERNAL"},
    }});
    let (one, two) = tokio::join!(
        cast.agent.ok(BULK, variables.clone()),
        cast.agent.ok(BULK, variables.clone())
    );
    assert_eq!(one, two);
    assert_eq!(one["bulkAct"]["succeeded"], json!(12), "{one}");
    for id in &ids {
        let notes = history(&cast.agent, id).await;
        let added = notes.iter().filter(|(t, _)| t == "NoteAdded").count();
        assert_eq!(added, 1, "{notes:?}");
    }
    app.finish().await;
}

#[tokio::test]
async fn a_request_out_of_bounds_is_refused_whole_and_does_nothing() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    let id = cast.assigned().await;
    let before = history(&cast.agent, &id).await.len();
    let many: Vec<String> = std::iter::once(id.clone())
        .chain((1..=500).map(|i| format!("00000000-0000-4000-8000-{i:012}")))
        .collect();
    let note = json!({"text": "Catatan.", "visibility": "INTERNAL"});
    let cases = [
        (json!([]), json!({"addNote": note}), "complaintIds"),
        (json!(many), json!({"addNote": note}), "complaintIds"),
        (json!([id, id]), json!({"addNote": note}), "complaintIds"),
        (json!([id]), json!({}), "addNote"),
        (
            json!([id]),
            json!({"addNote": note, "escalate": {"reason": "x"}}),
            "addNote",
        ),
        (
            json!([id]),
            json!({"addNote": {"text": " ", "visibility": "PUBLIC"}}),
            "text",
        ),
    ];
    for (ids, payloads, field) in cases {
        let mut input = json!({"requestId": "r", "action": "ADD_NOTE", "complaintIds": ids});
        for (k, v) in payloads.as_object().unwrap() {
            input[k] = v.clone();
        }
        let body = cast.agent.query(BULK, json!({"input": input})).await;
        assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    // 500 is within bounds.
    let five_hundred = &many[..500];
    let body = cast.agent.ok(BULK, json!({"input": {
        "requestId": "r500", "action": "ADD_NOTE", "complaintIds": five_hundred, "addNote": note,
    }})).await;
    assert_eq!(body["bulkAct"]["succeeded"], json!(1), "{body}");
    assert_eq!(body["bulkAct"]["failed"], json!(499));
    assert_eq!(history(&cast.agent, &id).await.len(), before + 1);

    // A role that may not do the action at all is refused before anything.
    let assign = json!({"input": {
        "requestId": "r2", "action": "ASSIGN", "complaintIds": [id], "assign": {"opd": "DPU", "officerId": "x"},
    }});
    assert_eq!(
        cast.dpu_officer.error_code(BULK, assign.clone()).await,
        "FORBIDDEN"
    );
    assert_eq!(cast.citizen.error_code(BULK, assign).await, "FORBIDDEN");
    assert_eq!(history(&cast.agent, &id).await.len(), before + 1);
    app.finish().await;
}

#[tokio::test]
async fn a_template_in_bulk_is_rendered_for_each_case_or_refuses_the_whole_request() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    let supervisor = Client::new(&app, aduan_domain::Role::Supervisor, None, "supervisor-1");
    let created = supervisor
        .ok(
            "mutation($input: CreateResponseTemplateInput!) { createResponseTemplate(input: $input) { id } }",
            json!({"input": {"name": "Nomor", "text": "Laporan {number}, petugas {officer}."}}),
        )
        .await;
    let template = created["createResponseTemplate"]["id"].clone();
    let (a, b) = (cast.assigned().await, cast.assigned().await);
    let respond = |request_id: &str, payload: Value| json!({"input": {"requestId": request_id, "action": "RESPOND", "complaintIds": [a, b], "respond": payload}});
    let officer = json!([{"name": "officer", "value": "Andi"}]);
    for (payload, code, field) in [
        (
            json!({"templateId": template}),
            "INVALID_INPUT",
            "variables",
        ),
        (
            json!({"templateId": template, "variables": officer, "message": "Teks"}),
            "INVALID_INPUT",
            "message",
        ),
        (json!({}), "INVALID_INPUT", "message"),
    ] {
        let body = cast.dpu_officer.query(BULK, respond("r", payload)).await;
        assert_eq!(error_code(&body), Some(code), "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    assert_eq!(history(&cast.agent, &a).await.len(), 3, "nothing appended");
    let answer = cast
        .dpu_officer
        .ok(
            BULK,
            respond("ok", json!({"templateId": template, "variables": officer})),
        )
        .await;
    assert_eq!(answer["bulkAct"]["succeeded"], 2, "{answer}");
    let read = "query($id: ID!) { complaint(id: $id) { number } complaintHistory(id: $id) { type payload } }";
    for id in [&a, &b] {
        let data = cast.agent.ok(read, json!({"id": id})).await;
        let last = data["complaintHistory"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        let number = data["complaint"]["number"].as_str().unwrap();
        assert_eq!(
            last["payload"]["message"],
            format!("Laporan {number}, petugas Andi.")
        );
    }
    app.finish().await;
}
