//! Incidents through the router: the primary's duplicates and report count for
//! staff, the linked reporter's tracking view following the primary, the
//! incident closer closing each duplicate with the primary, and Open311
//! answering a duplicate's status from its primary.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::*;

const SUBMIT_CODE: &str =
    "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { id trackingCode } }";
const LINK: &str = "mutation($input: LinkDuplicateInput!) { \
    linkDuplicate(input: $input) { id status position } }";
const INCIDENT: &str = "query($id: ID!, $min: Int) { complaint(id: $id, minPosition: $min) { \
    duplicates { id status reportCount } } }";
const LIST: &str = "query($min: Int) { complaints(first: 10, minPosition: $min) { \
    edges { node { id reportCount } } } }";
const TRACK: &str = "query($code: String!) { trackedComplaint(trackingCode: $code) { \
    status followsIncident closingSummary } }";

async fn reported(cast: &Cast<'_>) -> (String, String) {
    let data = cast
        .citizen
        .ok(SUBMIT_CODE, json!({"input": report()}))
        .await;
    let s = &data["submitComplaint"];
    (
        s["id"].as_str().unwrap().to_string(),
        s["trackingCode"].as_str().unwrap().to_string(),
    )
}

async fn open311_status(app: &App, id: &str) -> Value {
    let answer = app.get(&format!("/open311/v2/requests/{id}.json")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body[0]["status"].clone()
}

#[tokio::test]
async fn an_incident_is_listed_followed_and_closed_as_one() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    let primary = cast.assigned().await;
    let (dup, code) = reported(&cast).await;
    let linked = cast
        .agent
        .ok(
            LINK,
            json!({"input": {"complaintId": dup, "primaryId": primary, "reason": "Sama"}}),
        )
        .await;
    let min = linked["linkDuplicate"]["position"].clone();

    let data = cast
        .agent
        .ok(INCIDENT, json!({"id": primary, "min": min}))
        .await;
    assert_eq!(
        data["complaint"]["duplicates"][0]["id"],
        json!(dup),
        "{data}"
    );
    assert_eq!(data["complaint"]["duplicates"][0]["status"], "DUPLICATE");
    // The reporter of the primary sees the case, not the other reports.
    let own = cast
        .citizen
        .ok(INCIDENT, json!({"id": primary, "min": min}))
        .await;
    assert_eq!(own["complaint"]["duplicates"], json!([]), "{own}");
    let list = cast.agent.ok(LIST, json!({"min": min})).await;
    let count = |id: &str| {
        list["complaints"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["node"]["id"] == json!(id))
            .map(|e| e["node"]["reportCount"].clone())
    };
    assert_eq!(count(&primary), Some(json!(2)), "{list}");
    assert_eq!(count(&dup), Some(json!(1)));

    let public = Client::anonymous(&app);
    let view = public.ok(TRACK, json!({"code": code})).await;
    assert_eq!(view["trackedComplaint"]["status"], "ASSIGNED", "{view}");
    assert_eq!(view["trackedComplaint"]["followsIncident"], true);
    assert_eq!(open311_status(&app, &dup).await, "open");

    cast.dpu_officer
        .ok(
            MUTATE_CLOSE,
            input(
                &primary,
                json!({"resolution": "RESOLVED", "summary": "Beres"}),
            ),
        )
        .await;
    let started = Instant::now();
    loop {
        let data = cast.agent.ok(COMPLAINT, json!({"id": dup})).await;
        if data["complaint"]["status"] == "CLOSED" {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{data}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let view = public.ok(TRACK, json!({"code": code})).await;
    assert_eq!(view["trackedComplaint"]["status"], "CLOSED", "{view}");
    assert_eq!(view["trackedComplaint"]["closingSummary"], "Beres");
    assert_eq!(open311_status(&app, &dup).await, "closed");
    app.finish().await;
}
