//! `bulkAct` through the real server, on both stores: a mixed batch where
//! some cases are refused (wrong status, another OPD's, unknown) and the
//! others done, each event once in the log; the same request again, and twice
//! at once, appending nothing more and answering the same; links in bulk;
//! more than 500 cases refused whole.

use serde_json::{json, Value};

use crate::support::*;

on_both_stores!(a_mixed_batch_acts_once_where_it_may_and_a_retry_changes_nothing);
on_both_stores!(the_same_request_twice_at_once_escalates_each_case_once);
on_both_stores!(twenty_cases_are_answered_from_one_template_each_in_its_own_words);

const BULK: &str = "mutation($input: BulkInput!) { bulkAct(input: $input) { \
    requestId action succeeded failed \
    items { complaintId commandId ok code message version position } } }";

/// Filed by the Command Center (citizens' submissions are rate-limited),
/// verified and dispatched to `opd`.
async fn dispatched(env: &Env, opd: &str) -> String {
    let id = id_of(&env.agent.ok(SUBMIT, json!({"input": report()})).await);
    env.agent.ok(MUTATE_VERIFY, input(&id, json!({}))).await;
    env.agent
        .ok(MUTATE_ASSIGN, input(&id, json!({"opd": opd})))
        .await;
    id
}

fn request(request_id: &str, action: &str, ids: &[&str], payload: (&str, Value)) -> Value {
    let mut input = json!({"requestId": request_id, "action": action, "complaintIds": ids});
    input[payload.0] = payload.1;
    json!({"input": input})
}

fn close(request_id: &str, ids: &[&str]) -> Value {
    let payload = json!({"resolution": "RESOLVED", "summary": "Ditangani bersama."});
    request(request_id, "CLOSE", ids, ("close", payload))
}

/// Events per case, and how many carry each ok item's command id (1 each).
async fn check_once(env: &Env, answer: &Value) -> Vec<usize> {
    let mut sizes = Vec::new();
    for item in answer["bulkAct"]["items"].as_array().unwrap() {
        if item["code"] == "NOT_FOUND" {
            continue;
        }
        let events = env.history(item["complaintId"].as_str().unwrap()).await;
        let mine = events
            .iter()
            .filter(|e| e["commandId"] == item["commandId"])
            .count();
        assert_eq!(mine, usize::from(item["ok"] == true), "{item}: {events:?}");
        if item["ok"] == true {
            assert_eq!(item["version"], json!(events.len()), "{item}");
            assert_eq!(item["position"], events.last().unwrap()["position"]);
        }
        sizes.push(events.len());
    }
    sizes
}

async fn a_mixed_batch_acts_once_where_it_may_and_a_retry_changes_nothing(backend: Backend) {
    let env = Env::start(backend).await;
    let (a, b) = (dispatched(&env, "DPU").await, dispatched(&env, "DPU").await);
    let closed = dispatched(&env, "DPU").await;
    env.dpu_officer.ok(BULK, close("before", &[&closed])).await;
    let dlh = dispatched(&env, "DLH").await;
    let unknown = "00000000-0000-4000-8000-000000000000";
    let ids = [a.as_str(), &closed, &dlh, unknown, &b];

    let first = env.dpu_officer.ok(BULK, close("close-1", &ids)).await;
    let codes: Vec<&Value> = first["bulkAct"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["code"])
        .collect();
    let null = Value::Null;
    let wanted = [
        json!("INVALID_TRANSITION"),
        json!("FORBIDDEN"),
        json!("NOT_FOUND"),
    ];
    assert_eq!(
        codes,
        [&null, &wanted[0], &wanted[1], &wanted[2], &null],
        "{first}"
    );
    assert_eq!(first["bulkAct"]["succeeded"], 2);
    let sizes = check_once(&env, &first).await;
    assert_eq!(env.current(&a).await["status"], "CLOSED");
    assert_eq!(env.current(&dlh).await["status"], "ASSIGNED");

    let again = env.dpu_officer.ok(BULK, close("close-1", &ids)).await;
    assert_eq!(again, first);
    assert_eq!(check_once(&env, &again).await, sizes);

    // Links in bulk: two reports onto one primary; the primary itself refused.
    let primary = dispatched(&env, "DPU").await;
    let (c, d) = (dispatched(&env, "DPU").await, dispatched(&env, "DPU").await);
    let link = (
        "linkDuplicate",
        json!({"primaryId": primary, "reason": "Saluran yang sama."}),
    );
    let linked = env
        .agent
        .ok(
            BULK,
            request("link-1", "LINK_DUPLICATE", &[&c, &primary, &d], link),
        )
        .await;
    assert_eq!(linked["bulkAct"]["succeeded"], 2, "{linked}");
    assert_eq!(linked["bulkAct"]["items"][1]["ok"], false);
    check_once(&env, &linked).await;
    assert_eq!(env.current(&d).await["status"], "DUPLICATE");

    let many: Vec<String> = (0..=500)
        .map(|i| format!("00000000-0000-4000-8000-{i:012}"))
        .collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_eq!(
        env.dpu_officer.error_code(BULK, close("many", &many)).await,
        "INVALID_INPUT"
    );
    env.finish().await;
}

async fn the_same_request_twice_at_once_escalates_each_case_once(backend: Backend) {
    let env = Env::start(backend).await;
    let mut ids = Vec::new();
    for _ in 0..10 {
        ids.push(dispatched(&env, "DPU").await);
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let escalate = ("escalate", json!({"reason": "Berbahaya bagi pengendara."}));
    let variables = request("twice", "ESCALATE", &refs, escalate);
    let (one, two) = tokio::join!(
        env.agent.ok(BULK, variables.clone()),
        env.agent.ok(BULK, variables.clone())
    );
    assert_eq!(one, two);
    assert_eq!(one["bulkAct"]["succeeded"], 10, "{one}");
    for id in &ids {
        let types = env.event_types(id).await;
        let escalated = types.iter().filter(|t| *t == "Escalated").count();
        assert_eq!(escalated, 1, "{types:?}");
    }
    env.finish().await;
}

const TEMPLATE: &str = "mutation($input: CreateResponseTemplateInput!) { createResponseTemplate(input: $input) { id } }";

fn respond(request_id: &str, ids: &[&str], payload: Value) -> Value {
    request(request_id, "RESPOND", ids, ("respond", payload))
}

async fn twenty_cases_are_answered_from_one_template_each_in_its_own_words(backend: Backend) {
    let env = Env::start(backend).await;
    let text = "Laporan {number} ditangani {opd}. Petugas {officer} datang.";
    let template = env
        .supervisor
        .ok(
            TEMPLATE,
            json!({"input": {"name": "DPU datang", "opd": "DPU", "text": text}}),
        )
        .await["createResponseTemplate"]["id"]
        .clone();
    let mut ids = Vec::new();
    for _ in 0..20 {
        ids.push(dispatched(&env, "DPU").await);
    }
    let closed = dispatched(&env, "DPU").await;
    env.dpu_officer.ok(BULK, close("before", &[&closed])).await;
    let mut all: Vec<&str> = ids.iter().map(String::as_str).collect();
    all.push(&closed);
    let officer = json!([{"name": "officer", "value": "Andi"}]);

    // Refused whole, nothing appended: a variable missing, a text beside the
    // template, a template that does not exist.
    let before = env.history(&ids[0]).await.len();
    for (payload, code) in [
        (json!({"templateId": template}), "INVALID_INPUT"),
        (
            json!({"templateId": template, "variables": officer, "message": "Teks"}),
            "INVALID_INPUT",
        ),
        (
            json!({"templateId": "no-such-template", "variables": officer}),
            "NOT_FOUND",
        ),
    ] {
        let body = env
            .dpu_officer
            .query(BULK, respond("refused", &all, payload))
            .await;
        assert_eq!(error_code(&body), Some(code), "{body}");
    }
    assert_eq!(env.history(&ids[0]).await.len(), before);

    let payload = json!({"templateId": template, "variables": officer});
    let answer = env
        .dpu_officer
        .ok(BULK, respond("twenty", &all, payload.clone()))
        .await;
    assert_eq!(answer["bulkAct"]["succeeded"], 20, "{answer}");
    assert_eq!(answer["bulkAct"]["items"][20]["code"], "INVALID_TRANSITION");
    let dpu = env.opd_name("DPU").await;
    for id in &ids {
        let number = env.number(id).await;
        let responded = env
            .history(id)
            .await
            .into_iter()
            .find(|e| e["type"] == "Responded")
            .unwrap();
        assert_eq!(
            responded["payload"]["message"],
            format!("Laporan {number} ditangani {dpu}. Petugas Andi datang.")
        );
        assert_eq!(
            responded["payload"]["template"],
            json!({"id": template, "version": 1})
        );
    }
    // The same request again: each case's first answer, nothing appended.
    let sizes = check_once(&env, &answer).await;
    let again = env
        .dpu_officer
        .ok(BULK, respond("twenty", &all, payload))
        .await;
    assert_eq!(again["bulkAct"]["items"], answer["bulkAct"]["items"]);
    assert_eq!(check_once(&env, &again).await, sizes);
    env.finish().await;
}
