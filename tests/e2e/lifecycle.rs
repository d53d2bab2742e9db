//! A complaint's whole life through the real server, then its history.

use std::collections::HashSet;

use serde_json::{json, Value};

use aduan_testkit::GraphqlClient;

use crate::support::*;

on_both_stores!(
    a_complaint_lives_from_report_to_rating_and_its_history_tells_it_all,
    a_case_moves_to_another_opd,
    the_command_center_rejects_spam_for_good,
    reference_data_and_sla_settings_are_readable_by_any_signed_in_role,
);

/// One command of the story: who sends it, what, and the status it leads to.
struct Step<'a> {
    by: &'a GraphqlClient,
    document: &'static str,
    fields: Value,
    status: &'static str,
}

fn step<'a>(
    by: &'a GraphqlClient,
    document: &'static str,
    fields: Value,
    status: &'static str,
) -> Step<'a> {
    Step {
        by,
        document,
        fields,
        status,
    }
}

/// `officerId` -> `officer_id`: how payloads name the input's fields.
fn snake_case(field: &str) -> String {
    field.chars().fold(String::new(), |mut out, c| {
        if c.is_ascii_uppercase() {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
        out
    })
}

async fn a_complaint_lives_from_report_to_rating_and_its_history_tells_it_all(backend: Backend) {
    let env = Env::start(backend).await;
    let submitted = env.citizen.ok(SUBMIT, json!({"input": report()})).await;
    let complaint = returned(&submitted);
    assert_eq!(complaint["status"], "SUBMITTED");
    assert_eq!(complaint["version"], 1);
    assert_eq!(
        complaint["reporter"],
        json!({"name": "Andi", "phone": "+62 811 4000 123"}),
        "the reporter sees their own details"
    );
    let id = id_of(&submitted);

    let handled_at = (chrono::Utc::now() - chrono::Duration::minutes(1))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let steps = [
        step(
            &env.agent,
            MUTATE_VERIFY,
            json!({"priority": "HIGH", "note": "Valid"}),
            "VERIFIED",
        ),
        step(
            &env.agent,
            MUTATE_ASSIGN,
            json!({"opd": "DPU", "note": "Dekat sekolah"}),
            "ASSIGNED",
        ),
        step(
            &env.dpu_admin,
            MUTATE_ASSIGN,
            json!({"opd": "DPU", "officerId": "petugas-dpu"}),
            "ASSIGNED",
        ),
        step(
            &env.dpu_officer,
            MUTATE_REQUEST_INFO,
            json!({"question": "Di sisi jalan yang mana?"}),
            "WAITING_FOR_INFO",
        ),
        step(
            &env.citizen,
            MUTATE_PROVIDE_INFO,
            json!({"answer": "Sisi utara"}),
            "ASSIGNED",
        ),
        step(
            &env.dpu_officer,
            MUTATE_RESPOND,
            json!({"message": "Tim kami menuju lokasi."}),
            "IN_PROGRESS",
        ),
        step(
            &env.dpu_officer,
            MUTATE_FIELD,
            json!({"notes": "Lubang ditambal", "handledAt": handled_at}),
            "IN_PROGRESS",
        ),
        step(
            &env.supervisor,
            MUTATE_ESCALATE,
            json!({"reason": "Dekat sekolah, prioritaskan"}),
            "IN_PROGRESS",
        ),
        step(
            &env.dpu_officer,
            MUTATE_CLOSE,
            json!({"resolution": "RESOLVED", "summary": "Sudah diperbaiki"}),
            "CLOSED",
        ),
        step(
            &env.citizen,
            MUTATE_REOPEN,
            json!({"reason": "Masih berlubang"}),
            "ASSIGNED",
        ),
        step(
            &env.dpu_officer,
            MUTATE_RESPOND,
            json!({"message": "Kami kembali besok."}),
            "IN_PROGRESS",
        ),
        step(
            &env.dpu_officer,
            MUTATE_CLOSE,
            json!({"resolution": "RESOLVED", "summary": "Ditambal ulang"}),
            "CLOSED",
        ),
        step(
            &env.citizen,
            MUTATE_RATE,
            json!({"score": 4, "comment": "Terima kasih"}),
            "CLOSED",
        ),
    ];
    for (n, step) in steps.iter().enumerate() {
        let data = step
            .by
            .ok(step.document, input(&id, step.fields.clone()))
            .await;
        let complaint = returned(&data);
        assert_eq!(complaint["id"], id.as_str(), "step {n}");
        assert_eq!(complaint["status"], step.status, "step {n}: {complaint}");
        assert_eq!(complaint["version"], n as i64 + 2, "step {n}: {complaint}");
    }

    // The history: what happened, in order, who did it and through which interface.
    let history = env.history(&id).await;
    let expected = [
        ("Submitted", "warga-1", "CITIZEN", None),
        ("Verified", "agent-1", "AGENT", None),
        ("Assigned", "agent-1", "AGENT", None),
        ("Assigned", "admin-dpu", "OPD_ADMIN", Some("DPU")),
        ("InfoRequested", "petugas-dpu", "OPD_OFFICER", Some("DPU")),
        ("InfoProvided", "warga-1", "CITIZEN", None),
        ("Responded", "petugas-dpu", "OPD_OFFICER", Some("DPU")),
        ("FieldHandled", "petugas-dpu", "OPD_OFFICER", Some("DPU")),
        ("Escalated", "spv-1", "SUPERVISOR", None),
        ("Closed", "petugas-dpu", "OPD_OFFICER", Some("DPU")),
        ("Reopened", "warga-1", "CITIZEN", None),
        ("Responded", "petugas-dpu", "OPD_OFFICER", Some("DPU")),
        ("Closed", "petugas-dpu", "OPD_OFFICER", Some("DPU")),
        ("Rated", "warga-1", "CITIZEN", None),
    ];
    let types: Vec<_> = history
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    let expected_types: Vec<_> = expected.iter().map(|e| e.0).collect();
    assert_eq!(types, expected_types);
    for (i, (event, (_, actor, role, opd))) in history.iter().zip(&expected).enumerate() {
        assert_eq!(event["sequence"], i as i64 + 1, "{event}");
        // Events that hold personal data are at version 2 (sealed: docs/erasure.md).
        let holds_personal = !aduan_domain::erasure::personal_fields(types[i]).is_empty();
        let version = if holds_personal { "2" } else { "1" };
        assert_eq!(event["eventVersion"], version, "{event}");
        assert_eq!(event["actor"], *actor, "{event}");
        assert_eq!(event["role"], *role, "{event}");
        assert_eq!(event["actorOpd"], json!(opd), "{event}");
        assert_eq!(event["channel"], "graphql", "{event}");
        assert!(
            event["commandId"].is_null(),
            "no commandId was sent: {event}"
        );
        let occurred = timestamp(&event["occurredAt"]);
        let recorded = timestamp(&event["recordedAt"]);
        assert!(
            occurred <= recorded + chrono::Duration::seconds(1)
                && recorded - occurred < chrono::Duration::seconds(10),
            "occurredAt and recordedAt far apart: {event}"
        );
        if i > 0 {
            let previous = &history[i - 1];
            assert!(
                event["position"].as_i64() > previous["position"].as_i64(),
                "positions grow: {previous} then {event}"
            );
            assert!(occurred >= timestamp(&previous["occurredAt"]), "{event}");
        }
    }
    let correlations: HashSet<_> = history
        .iter()
        .map(|e| e["correlationId"].as_str().unwrap())
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(correlations.len(), history.len(), "one per request");

    // The payloads keep what was sent.
    let report = report();
    let payload = &history[0]["payload"];
    assert_eq!(payload["complaint_id"], id.as_str());
    for field in ["channel", "category", "title", "description"] {
        assert_eq!(payload[field], report[field], "Submitted {field}");
    }
    assert_eq!(payload["location"]["kecamatan"], "MAKASSAR");
    assert_eq!(
        payload["reporter"]["name"], "Andi",
        "auditors see the reporter"
    );
    assert_eq!(payload["reporter"]["phone"], "+62 811 4000 123");
    assert_eq!(payload["reporter"]["subject"], "warga-1");
    for (step, event) in steps.iter().zip(&history[1..]) {
        for (field, value) in step.fields.as_object().unwrap() {
            assert_eq!(
                event["payload"][snake_case(field)],
                *value,
                "{} payload {field}: {event}",
                event["type"]
            );
        }
    }
    assert_eq!(history[2]["payload"]["opd"], "DPU");
    assert!(history[2]["payload"]["officer_id"].is_null());
    assert_eq!(history[8]["payload"]["level"], 1);

    let current = env.current(&id).await;
    assert_eq!(current["status"], "CLOSED");
    assert_eq!(current["resolution"], "RESOLVED");
    assert_eq!(current["opd"], "DPU");
    assert_eq!(current["officerId"], "petugas-dpu");
    assert_eq!(current["rating"], 4);
    assert_eq!(current["reopenCount"], 1);
    assert_eq!(current["escalationLevel"], 1);
    assert_eq!(current["version"], 14);
    assert_eq!(current["position"], history[13]["position"]);
    assert_eq!(
        timestamp(&current["firstResponseAt"]),
        timestamp(&history[6]["occurredAt"])
    );
    assert_eq!(current["reporter"]["name"], "Andi");

    // As of the first closure, the history stops there.
    let as_of = env
        .auditor
        .ok(
            "query($id: ID!, $t: DateTime!) { complaintHistory(id: $id, asOf: $t) { type } }",
            json!({"id": id, "t": history[9]["occurredAt"]}),
        )
        .await;
    let as_of: Vec<_> = as_of["complaintHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(as_of, expected_types[..10]);
    env.finish().await;
}

async fn a_case_moves_to_another_opd(backend: Backend) {
    let env = Env::start(backend).await;
    let id = env.assigned().await;
    let moved = env
        .agent
        .ok(
            MUTATE_TRANSFER,
            input(
                &id,
                json!({"toOpd": "DLH", "reasonCode": "BUKAN_WEWENANG", "note": "Sampah, bukan jalan"}),
            ),
        )
        .await;
    let moved = returned(&moved);
    assert_eq!(moved["opd"], "DLH");
    assert_eq!(moved["status"], "ASSIGNED");
    assert!(moved["officerId"].is_null());
    assert_eq!(moved["version"], 4);

    // DLH now owns it; DPU no longer may act on it.
    let answer = input(&id, json!({"message": "Diangkut sore ini"}));
    env.refused(
        &id,
        &env.dpu_officer,
        MUTATE_RESPOND,
        answer.clone(),
        "FORBIDDEN",
    )
    .await;
    let answered = env.dlh_officer.ok(MUTATE_RESPOND, answer).await;
    assert_eq!(returned(&answered)["status"], "IN_PROGRESS");

    let history = env.history(&id).await;
    let types: Vec<_> = history
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "Submitted",
            "Verified",
            "Assigned",
            "Transferred",
            "Responded"
        ]
    );
    assert_eq!(history[3]["actor"], "agent-1");
    assert_eq!(history[3]["payload"]["from_opd"], "DPU", "{}", history[3]);
    assert_eq!(history[3]["payload"]["to_opd"], "DLH");
    assert_eq!(history[3]["payload"]["reason"], "Sampah, bukan jalan");
    assert_eq!(history[4]["actor"], "petugas-dlh");
    assert_eq!(history[4]["actorOpd"], "DLH");
    assert_eq!(env.current(&id).await["opd"], "DLH");
    env.finish().await;
}

async fn the_command_center_rejects_spam_for_good(backend: Backend) {
    let env = Env::start(backend).await;
    let id = env.submit().await;
    let rejected = env
        .agent
        .ok(
            MUTATE_REJECT,
            input(&id, json!({"reason": "SPAM", "note": "Iklan"})),
        )
        .await;
    let rejected = returned(&rejected);
    assert_eq!(rejected["status"], "REJECTED");
    assert_eq!(rejected["version"], 2);
    let history = env.history(&id).await;
    assert_eq!(history.len(), 2);
    assert_eq!(history[1]["type"], "Rejected");
    assert_eq!(history[1]["actor"], "agent-1");
    assert_eq!(history[1]["payload"]["reason"], "SPAM");
    assert_eq!(history[1]["payload"]["note"], "Iklan");
    // A rejected report stays rejected.
    env.refused(
        &id,
        &env.agent,
        MUTATE_VERIFY,
        input(&id, json!({})),
        "INVALID_TRANSITION",
    )
    .await;
    assert_eq!(env.current(&id).await["status"], "REJECTED");
    env.finish().await;
}

async fn reference_data_and_sla_settings_are_readable_by_any_signed_in_role(backend: Backend) {
    let env = Env::start(backend).await;
    let data = env
        .dpu_officer
        .ok(
            "{ me { id role opd } opds { code name description } categories { code defaultOpd } kecamatan { code name } \
               slaPolicies { version rules { category priority dispatch { amount unit } } } \
               businessCalendar { utcOffset workingDays holidays } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["me"],
        json!({"id": "petugas-dpu", "role": "OPD_OFFICER", "opd": "DPU"})
    );
    let opds: Vec<_> = data["opds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["code"].as_str().unwrap())
        .collect();
    assert_eq!(opds, OPDS);
    // The official name, which citizens are told; what it handles beside it.
    assert_eq!(
        data["opds"][0],
        json!({"code": "DPU", "name": "Dinas Pekerjaan Umum", "description": "roads, drainage"})
    );
    assert_eq!(data["kecamatan"].as_array().unwrap().len(), 15);
    let garbage = data["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "GARBAGE")
        .unwrap();
    assert_eq!(garbage["defaultOpd"], "DLH");
    let default_rule = &data["slaPolicies"][0]["rules"][0];
    assert_eq!(
        default_rule["dispatch"],
        json!({"amount": 3, "unit": "WORKING_DAYS"})
    );
    assert_eq!(data["businessCalendar"]["utcOffset"], "+08:00");
    env.finish().await;
}
