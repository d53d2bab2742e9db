//! A citizen without an account: submits, gets a tracking code, follows the case
//! with it and rates it, and can do nothing else with it. Only the code's hash is
//! stored; the code never reaches the log.

use serde_json::{json, Value};

use crate::support::*;

on_both_stores!(a_tracking_code_follows_and_rates_one_case_and_nothing_else);

const SUBMIT_CODE: &str = "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { id status trackingCode reporter { name } } }";
const TRACK: &str = "query($code: String!) { trackedComplaint(trackingCode: $code) { id status opd createdAt firstResponseAt closedAt resolution rating canRate responses { message respondedAt } } }";

async fn a_tracking_code_follows_and_rates_one_case_and_nothing_else(backend: Backend) {
    let env = Env::start(backend).await;
    let public = env.server.client("");
    let mut sent = report();
    sent["commandId"] = json!(uuid::Uuid::new_v4().to_string());
    sent["reporter"] = json!({"name": "Daeng Tiro", "phone": "+62 813 1111 2222"});
    let submitted = public.ok(SUBMIT_CODE, json!({"input": sent.clone()})).await;
    let case = &submitted["submitComplaint"];
    let id = case["id"].as_str().unwrap().to_string();
    let code = case["trackingCode"].as_str().unwrap().to_string();
    assert!(code.len() >= 43, "at least 256 bits of text: {code}");
    // The public does not read back personal data, even its own.
    assert_eq!(case["reporter"], Value::Null);

    // A retry with the same commandId gets the same case and the same code.
    let again = public.ok(SUBMIT_CODE, json!({"input": sent})).await;
    assert_eq!(again["submitComplaint"]["id"], json!(id));
    assert_eq!(again["submitComplaint"]["trackingCode"], json!(code));
    // Another submission gets another code.
    let other = public.ok(SUBMIT_CODE, json!({"input": report()})).await;
    assert_ne!(other["submitComplaint"]["trackingCode"], json!(code));

    let view = public.ok(TRACK, json!({"code": code})).await;
    assert_eq!(view["trackedComplaint"]["id"], json!(id));
    assert_eq!(view["trackedComplaint"]["status"], "SUBMITTED");
    assert_eq!(view["trackedComplaint"]["canRate"], false);

    // The case moves on; the holder sees the OPD's reply and the closure.
    env.agent.ok(MUTATE_VERIFY, input(&id, json!({}))).await;
    env.agent
        .ok(MUTATE_ASSIGN, input(&id, json!({"opd": "DPU"})))
        .await;
    env.dpu_officer
        .ok(
            MUTATE_RESPOND,
            input(&id, json!({"message": "Tim kami ke lokasi besok."})),
        )
        .await;
    env.dpu_officer
        .ok(
            MUTATE_CLOSE,
            input(
                &id,
                json!({"resolution": "RESOLVED", "summary": "Ditambal."}),
            ),
        )
        .await;
    let view = public.ok(TRACK, json!({"code": code})).await["trackedComplaint"].clone();
    assert_eq!(view["status"], "CLOSED");
    assert_eq!(view["opd"], "DPU");
    assert_eq!(view["resolution"], "RESOLVED");
    assert_eq!(view["responses"][0]["message"], "Tim kami ke lokasi besok.");
    assert_eq!(view["responses"][0]["respondedAt"], view["firstResponseAt"]);
    assert_eq!(view["canRate"], true);

    // Rating: a wrong code or none is refused and appends nothing; the code works once.
    let rate = |code: Value| input(&id, json!({"score": 5, "trackingCode": code}));
    let mut forged = code.clone();
    forged.replace_range(10..11, if &code[10..11] == "A" { "B" } else { "A" });
    env.refused(&id, &public, MUTATE_RATE, rate(json!(forged)), "FORBIDDEN")
        .await;
    env.refused(&id, &public, MUTATE_RATE, rate(Value::Null), "FORBIDDEN")
        .await;
    public.ok(MUTATE_RATE, rate(json!(code))).await;
    let view = public.ok(TRACK, json!({"code": code})).await["trackedComplaint"].clone();
    assert_eq!(view["rating"], 5);
    assert_eq!(view["canRate"], false);

    // The code opens nothing else: not the case, not its history, not a reopening.
    for (document, variables) in [
        (COMPLAINT, json!({"id": id})),
        (HISTORY, json!({"id": id})),
        (
            MUTATE_REOPEN,
            input(&id, json!({"reason": "Lubang lagi", "trackingCode": code})),
        ),
    ] {
        let body = public.query(document, variables).await;
        assert!(
            matches!(error_code(&body), Some("UNAUTHENTICATED" | "BAD_REQUEST")),
            "{body}"
        );
    }
    // A forged code, or garbage, finds nothing.
    for bad in [forged.as_str(), "not-a-code", ""] {
        let body = public.query(TRACK, json!({"code": bad})).await;
        assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    }

    // Only the hash is kept, and the code is not in the log.
    let payload = &env.history(&id).await[0]["payload"];
    assert_eq!(
        payload["tracking_code_hash"],
        json!(aduan_domain::tracking::hash(&code))
    );
    let stored = env
        .store
        .texts("SELECT CAST(payload AS TEXT) FROM events")
        .await
        .join("\n");
    assert!(!stored.contains(&code), "the code itself is stored");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !env.server.log().contains(&code),
        "the code reached the log"
    );
    env.finish().await;
}
