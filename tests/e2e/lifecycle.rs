//! A complaint's whole life through the real server, then its history.

use serde_json::{json, Value};

use crate::support::*;

/// The complaint a mutation returned (the only field of `data`).
fn returned(data: Value) -> Value {
    data.as_object().unwrap().values().next().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_complaint_lives_from_report_to_rating_and_its_history_tells_it_all() {
    let env = Env::start().await;
    let id = env.submit().await;
    let handled_at = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    let steps: Vec<(&aduan_testkit::GraphqlClient, &str, Value, &str)> = vec![
        (
            &env.agent,
            MUTATE_VERIFY,
            json!({"priority": "HIGH"}),
            "VERIFIED",
        ),
        (
            &env.agent,
            MUTATE_ASSIGN,
            json!({"opd": "DPU", "note": "Dekat sekolah"}),
            "ASSIGNED",
        ),
        (
            &env.dpu_admin,
            MUTATE_ASSIGN,
            json!({"opd": "DPU", "officerId": "petugas-dpu"}),
            "ASSIGNED",
        ),
        (
            &env.dpu_officer,
            MUTATE_REQUEST_INFO,
            json!({"question": "Di sisi jalan yang mana?"}),
            "WAITING_FOR_INFO",
        ),
        (
            &env.citizen,
            MUTATE_PROVIDE_INFO,
            json!({"answer": "Sisi utara"}),
            "ASSIGNED",
        ),
        (
            &env.dpu_officer,
            MUTATE_RESPOND,
            json!({"message": "Tim kami menuju lokasi."}),
            "IN_PROGRESS",
        ),
        (
            &env.dpu_officer,
            MUTATE_FIELD,
            json!({"notes": "Lubang ditambal", "handledAt": handled_at}),
            "IN_PROGRESS",
        ),
        (
            &env.supervisor,
            MUTATE_ESCALATE,
            json!({"reason": "Dekat sekolah, prioritaskan"}),
            "IN_PROGRESS",
        ),
        (
            &env.dpu_officer,
            MUTATE_CLOSE,
            json!({"resolution": "RESOLVED", "summary": "Sudah diperbaiki"}),
            "CLOSED",
        ),
        (
            &env.citizen,
            MUTATE_REOPEN,
            json!({"reason": "Masih berlubang"}),
            "ASSIGNED",
        ),
        (
            &env.dpu_officer,
            MUTATE_RESPOND,
            json!({"message": "Kami kembali besok."}),
            "IN_PROGRESS",
        ),
        (
            &env.dpu_officer,
            MUTATE_CLOSE,
            json!({"resolution": "RESOLVED", "summary": "Ditambal ulang"}),
            "CLOSED",
        ),
        (
            &env.citizen,
            MUTATE_RATE,
            json!({"score": 4, "comment": "Terima kasih"}),
            "CLOSED",
        ),
    ];
    for (n, (client, document, mut input, status)) in steps.into_iter().enumerate() {
        input["complaintId"] = json!(id);
        let complaint = returned(client.ok(document, json!({"input": input})).await);
        assert_eq!(complaint["status"], status, "step {n}: {complaint}");
        assert_eq!(complaint["version"], n as i64 + 2, "step {n}");
    }

    let types = env.event_types(&id).await;
    assert_eq!(
        types,
        [
            "Submitted",
            "Verified",
            "Assigned",
            "Assigned",
            "InfoRequested",
            "InfoProvided",
            "Responded",
            "FieldHandled",
            "Escalated",
            "Closed",
            "Reopened",
            "Responded",
            "Closed",
            "Rated"
        ]
    );
    let history = env.history(&id).await;
    for (i, event) in history.iter().enumerate() {
        assert_eq!(event["sequence"], i as i64 + 1);
        assert_eq!(event["channel"], "graphql");
        assert_eq!(event["eventVersion"], "1");
        if i > 0 {
            assert!(
                event["position"].as_i64() > history[i - 1]["position"].as_i64(),
                "positions grow"
            );
        }
        let occurred =
            chrono::DateTime::parse_from_rfc3339(event["occurredAt"].as_str().unwrap()).unwrap();
        let recorded =
            chrono::DateTime::parse_from_rfc3339(event["recordedAt"].as_str().unwrap()).unwrap();
        assert!(recorded >= occurred, "recorded before it occurred: {event}");
    }
    let actors: Vec<_> = history
        .iter()
        .map(|e| (e["actor"].as_str().unwrap(), e["role"].as_str().unwrap()))
        .collect();
    assert_eq!(actors[0], ("warga-1", "CITIZEN"));
    assert_eq!(actors[1], ("agent-1", "AGENT"));
    assert_eq!(actors[3], ("admin-dpu", "OPD_ADMIN"));
    assert_eq!(history[3]["actorOpd"], "DPU");
    assert_eq!(actors[8], ("spv-1", "SUPERVISOR"));
    assert_eq!(history[2]["payload"]["opd"], "DPU");
    assert_eq!(history[3]["payload"]["officer_id"], "petugas-dpu");
    assert_eq!(history[13]["payload"]["score"], 4);
    assert_eq!(
        history[0]["payload"]["reporter"]["name"], "Andi",
        "auditors see the reporter"
    );

    let current = env.auditor.ok(COMPLAINT, json!({"id": id})).await["complaint"].clone();
    assert_eq!(current["status"], "CLOSED");
    assert_eq!(current["opd"], "DPU");
    assert_eq!(current["officerId"], "petugas-dpu");
    assert_eq!(current["rating"], 4);
    assert_eq!(current["reopenCount"], 1);
    assert_eq!(current["escalationLevel"], 1);
    assert_eq!(current["version"], 14);
    assert_eq!(current["position"], history[13]["position"]);

    // As of just after the first closure, the history stops there.
    let first_close = history[9]["occurredAt"].as_str().unwrap();
    let as_of = env
        .auditor
        .ok(
            "query($id: ID!, $t: DateTime!) { complaintHistory(id: $id, asOf: $t) { type } }",
            json!({"id": id, "t": first_close}),
        )
        .await;
    assert_eq!(as_of["complaintHistory"].as_array().unwrap().len(), 10);
    env.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_case_moves_to_another_opd_and_a_report_can_be_rejected() {
    let env = Env::start().await;
    let id = env.assigned().await;
    let moved = env
        .agent
        .ok(
            MUTATE_TRANSFER,
            json!({"input": {"complaintId": id, "toOpd": "DLH", "reason": "Sampah, bukan jalan"}}),
        )
        .await;
    assert_eq!(moved["transferComplaint"]["opd"], "DLH");
    // DLH now owns it; DPU no longer may act on it.
    let answer = json!({"input": {"complaintId": id, "message": "Diangkut sore ini"}});
    assert_eq!(
        env.dpu_officer
            .error_code(MUTATE_RESPOND, answer.clone())
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        env.dlh_officer.ok(MUTATE_RESPOND, answer).await["respondToComplaint"]["status"],
        "IN_PROGRESS"
    );
    let history = env.history(&id).await;
    assert_eq!(history[3]["type"], "Transferred");
    assert_eq!(history[3]["payload"]["from_opd"], "DPU");
    assert_eq!(history[3]["payload"]["to_opd"], "DLH");

    let spam = env.submit().await;
    let rejected = env
        .agent
        .ok(
            MUTATE_REJECT,
            json!({"input": {"complaintId": spam, "reason": "SPAM", "note": "Iklan"}}),
        )
        .await;
    assert_eq!(rejected["rejectComplaint"]["status"], "REJECTED");
    assert_eq!(env.event_types(&spam).await, ["Submitted", "Rejected"]);
    env.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reference_data_and_sla_settings_are_readable_by_any_signed_in_role() {
    let env = Env::start().await;
    let data = env
        .dpu_officer
        .ok(
            "{ me { id role opd } opds { code name } categories { code defaultOpd } kecamatan { code name } \
               slaPolicies { version rules { category priority dispatch { amount unit } } } \
               businessCalendar { utcOffset workingDays holidays } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["me"],
        json!({"id": "petugas-dpu", "role": "OPD_OFFICER", "opd": "DPU"})
    );
    assert_eq!(data["opds"].as_array().unwrap().len(), 12);
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
