//! Hand-offs over HTTP (issue 25): reason codes parsed at the edge and checked
//! against the city's list, a return to the Command Center, and a case
//! bouncing DPU -> DLH -> DPU escalated once.

use serde_json::{json, Value};

use aduan_domain::Role;

use crate::support::*;

macro_rules! handoff_mutation {
    ($name:ident, $field:literal, $input:literal) => {
        const $name: &str = concat!(
            "mutation($input: ",
            $input,
            "!) { ",
            $field,
            "(input: $input) { id status opd version escalationLevel } }"
        );
    };
}

handoff_mutation!(TRANSFER, "transferComplaint", "TransferComplaintInput");
handoff_mutation!(
    RETURN,
    "returnToCommandCenter",
    "ReturnToCommandCenterInput"
);
const HISTORY: &str = "query($id: ID!) { complaintHistory(id: $id) { type payload } }";

async fn history(client: &Client<'_>, id: &str) -> Vec<Value> {
    let data = client.ok(HISTORY, json!({"id": id})).await;
    data["complaintHistory"].as_array().unwrap().clone()
}

fn transfer(id: &str, to: &str, code: &str) -> Value {
    input(
        id,
        json!({"toOpd": to, "reasonCode": code, "note": "Bukan jalan"}),
    )
}

#[tokio::test]
async fn a_case_bouncing_between_two_opds_is_escalated_once() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    let dpu = Client::new(&app, Role::OpdAdmin, Some("DPU"), "admin-dpu");
    let dlh = Client::new(&app, Role::OpdAdmin, Some("DLH"), "admin-dlh");
    let id = cast.assigned().await;
    let moved = dpu
        .ok(TRANSFER, transfer(&id, "DLH", "BUKAN_WEWENANG"))
        .await;
    assert_eq!(moved["transferComplaint"]["escalationLevel"], 0, "{moved}");
    let back = dlh
        .ok(TRANSFER, transfer(&id, "DPU", "SALAH_KATEGORI"))
        .await;
    let case = &back["transferComplaint"];
    assert_eq!(
        (&case["opd"], &case["escalationLevel"]),
        (&json!("DPU"), &json!(1))
    );
    // The transfer and its escalation are one append: two versions at once.
    assert_eq!(case["version"], 6, "{back}");
    let supervisor = Client::new(&app, Role::Supervisor, None, "supervisor-1");
    let events = history(&supervisor, &id).await;
    let escalations: Vec<&Value> = events.iter().filter(|e| e["type"] == "Escalated").collect();
    assert_eq!(escalations.len(), 1, "{events:?}");
    let found = &escalations[0]["payload"]["handoff_loop"];
    assert_eq!(found["revisited"], "DPU");
    assert_eq!(found["holders"], json!(["DPU", "DLH", "DPU"]));
    let transferred = events.iter().rfind(|e| e["type"] == "Transferred").unwrap();
    assert_eq!(transferred["payload"]["reason_code"], "SALAH_KATEGORI");
    app.finish().await;
}

#[tokio::test]
async fn a_bad_reason_code_is_refused_and_nothing_is_stored() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    let dpu = Client::new(&app, Role::OpdAdmin, Some("DPU"), "admin-dpu");
    let id = cast.assigned().await;
    let before = history(&dpu, &id).await.len();
    for code in ["MALAS", "bukan wewenang", ""] {
        let body = dpu.query(TRANSFER, transfer(&id, "DLH", code)).await;
        assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["field"], "reasonCode",
            "{body}"
        );
        let body = dpu
            .query(RETURN, input(&id, json!({"reasonCode": code})))
            .await;
        assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");
    }
    assert_eq!(history(&dpu, &id).await.len(), before);
    app.finish().await;
}

#[tokio::test]
async fn the_holding_opd_returns_a_case_to_the_command_centers_queue() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    let id = cast.assigned().await;
    let fields = json!({"reasonCode": "LOKASI_DI_LUAR_WILAYAH", "note": "Kabupaten Gowa"});
    let code = cast
        .dlh_officer
        .error_code(RETURN, input(&id, fields.clone()))
        .await;
    assert_eq!(code, "FORBIDDEN");
    let code = cast
        .agent
        .error_code(RETURN, input(&id, fields.clone()))
        .await;
    assert_eq!(code, "FORBIDDEN");
    let back = cast
        .dpu_officer
        .ok(RETURN, input(&id, fields.clone()))
        .await;
    let case = &back["returnToCommandCenter"];
    assert_eq!(
        (&case["status"], &case["opd"]),
        (&json!("VERIFIED"), &Value::Null)
    );
    let code = cast
        .dpu_officer
        .error_code(RETURN, input(&id, fields))
        .await;
    // With no OPD, it is back in the queue: a matter of its state.
    assert_eq!(code, "INVALID_TRANSITION");
    // Dispatched again by the Command Center.
    let again = cast
        .agent
        .ok(MUTATE_ASSIGN, input(&id, json!({"opd": "DLH"})))
        .await;
    assert_eq!(again["assignComplaint"]["opd"], "DLH");
    app.finish().await;
}

#[tokio::test]
async fn the_reason_codes_are_reference_data() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    let data = cast
        .citizen
        .ok("{ handoffReasons { code name } }", json!({}))
        .await;
    let codes: Vec<&str> = data["handoffReasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"BUKAN_WEWENANG") && codes.contains(&"PERLU_KOORDINASI"));
    app.finish().await;
}
