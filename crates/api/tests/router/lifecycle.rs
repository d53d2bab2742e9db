//! A complaint's life through GraphQL mutations: submit, verify, assign,
//! respond, close, rate.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn a_complaint_lives_from_report_to_rating() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    let submitted = cast.citizen.ok(SUBMIT, json!({"input": report()})).await;
    let complaint = returned(&submitted);
    assert_eq!(complaint["status"], "SUBMITTED");
    assert_eq!(complaint["version"], 1);
    let id = id_of(&submitted);

    let steps = [
        (&cast.agent, MUTATE_VERIFY, json!({}), "VERIFIED"),
        (
            &cast.agent,
            MUTATE_ASSIGN,
            json!({"opd": "DPU"}),
            "ASSIGNED",
        ),
        (
            &cast.dpu_officer,
            MUTATE_RESPOND,
            json!({"message": "Tim kami menuju lokasi."}),
            "IN_PROGRESS",
        ),
        (
            &cast.dpu_officer,
            MUTATE_CLOSE,
            json!({"resolution": "RESOLVED", "summary": "Sudah diperbaiki"}),
            "CLOSED",
        ),
        (&cast.citizen, MUTATE_RATE, json!({"score": 5}), "CLOSED"),
    ];
    let mut position = 0;
    for (version, (by, document, fields, status)) in (2..).zip(steps) {
        let data = by.ok(document, input(&id, fields)).await;
        let complaint = returned(&data);
        assert_eq!(complaint["status"], status, "{data}");
        assert_eq!(complaint["version"], version, "{data}");
        position = complaint["position"].as_i64().expect("a position");
    }
    // The read side, once the projector (a follower) has applied the rating.
    let read = json!({"id": id, "min": position});
    let data = cast.agent.ok(COMPLAINT_RATED, read).await;
    assert_eq!(data["complaint"]["rating"], 5, "{data}");
    assert_eq!(data["complaint"]["resolution"], "RESOLVED", "{data}");
    app.finish().await;
}

const COMPLAINT_RATED: &str =
    "query($id: ID!, $min: Int) { complaint(id: $id, minPosition: $min) { rating resolution } }";
