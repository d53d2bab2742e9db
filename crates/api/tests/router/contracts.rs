//! What the docs promise a console: a dashboard without a range, list items
//! that carry what finding cases needs, and a case's place corrected.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde_json::json;

use crate::support::*;

const DASHBOARD: &str = "query($from: DateTime, $to: DateTime, $min: Int) {
    dashboard(from: $from, to: $to, minPosition: $min) { from to open } }";

fn time(value: &serde_json::Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("a time: {value}"))
}

#[tokio::test]
async fn a_dashboard_without_a_range_covers_the_last_30_city_days_up_to_now() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    let data = cast.citizen.ok(SUBMIT, json!({"input": report()})).await;
    let min = returned(&data)["position"].clone();
    let before = Utc::now();
    let data = cast.agent.ok(DASHBOARD, json!({"min": min})).await;
    let after = Utc::now();
    let (from, to) = (
        time(&data["dashboard"]["from"]),
        time(&data["dashboard"]["to"]),
    );
    assert!(before <= to && to <= after, "{data}");
    let city = FixedOffset::east_opt(8 * 3600).unwrap();
    let first_day = to.with_timezone(&city).date_naive() - Duration::days(29);
    let midnight = first_day.and_hms_opt(0, 0, 0).unwrap();
    assert_eq!(from, midnight.and_local_timezone(city).unwrap(), "{data}");
    assert_eq!(data["dashboard"]["open"], 1, "the case just filed: {data}");

    // One end given: the other is defaulted, and the range is still checked.
    let given = "2026-01-01T00:00:00Z";
    let data = cast.agent.ok(DASHBOARD, json!({"from": given})).await;
    assert_eq!(time(&data["dashboard"]["from"]), time(&json!(given)));
    assert!(time(&data["dashboard"]["to"]) >= after, "{data}");
    let late = (after + Duration::days(1)).to_rfc3339();
    let code = cast
        .agent
        .error_code(DASHBOARD, json!({"from": late}))
        .await;
    assert_eq!(code, "INVALID_INPUT");
    app.finish().await;
}

const CORRECT: &str = "mutation($input: CorrectLocationInput!) {
    correctLocation(input: $input) { id status position location { kecamatan kelurahan latitude } } }";

const HISTORY: &str = "query($id: ID!) { complaintHistory(id: $id) { type } }";

async fn history(client: &Client<'_>, id: &str) -> Vec<String> {
    let data = client.ok(HISTORY, json!({"id": id})).await;
    data["complaintHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

fn correction(id: &str, location: serde_json::Value) -> serde_json::Value {
    input(
        id,
        json!({"location": location, "reason": "Pelapor menelepon."}),
    )
}

#[tokio::test]
async fn a_place_is_corrected_by_the_command_center_and_refusals_write_nothing() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    let supervisor = Client::new(&app, aduan_domain::Role::Supervisor, None, "spv-1");
    let id = cast.assigned().await;
    let data = cast
        .agent
        .ok(CORRECT, correction(&id, json!({"kecamatan": "TALLO"})))
        .await;
    let placed = &data["correctLocation"]["location"];
    assert_eq!(placed["kecamatan"], "TALLO", "{data}");
    // Maradekaya lies in Makassar: a kelurahan of another kecamatan goes.
    assert_eq!(placed["kelurahan"], json!(null), "{data}");
    assert_eq!(placed["latitude"], -5.1551, "the rest stays: {data}");
    // A kelurahan by its official name is stored by its code.
    let data = cast
        .agent
        .ok(
            CORRECT,
            correction(&id, json!({"kelurahan": "kaluku bodoa"})),
        )
        .await;
    let placed = &data["correctLocation"]["location"];
    assert_eq!(placed["kelurahan"], "73.71.07.1003", "{data}");
    assert_eq!(placed["kecamatan"], "TALLO", "{data}");
    let written = history(&cast.agent, &id).await;
    assert_eq!(written.last().unwrap(), "LocationCorrected");

    let refusals = [
        (
            &cast.agent,
            json!({"kecamatan": "ATLANTIS"}),
            "INVALID_INPUT",
            Some("location.kecamatan"),
        ),
        (
            &cast.agent,
            json!({"kelurahan": " "}),
            "INVALID_INPUT",
            Some("location"),
        ),
        (
            &cast.agent,
            json!({"longitude": 119.4}),
            "INVALID_INPUT",
            Some("location.latitude"),
        ),
        (
            &cast.agent,
            json!({"latitude": -6.2, "longitude": 106.8}),
            "INVALID_INPUT",
            Some("location.latitude"),
        ),
        (
            &cast.agent,
            json!({"latitude": -5.14, "longitude": 119.7}),
            "INVALID_INPUT",
            Some("location.longitude"),
        ),
        (
            &cast.agent,
            json!({"kelurahan": "Atlantis"}),
            "INVALID_INPUT",
            Some("location.kelurahan"),
        ),
        (
            &cast.agent,
            json!({"kecamatan": "MARISO", "kelurahan": "Maradekaya"}),
            "INVALID_INPUT",
            Some("location.kelurahan"),
        ),
        (
            &cast.agent,
            json!({"kecamatan": "TALLO"}),
            "INVALID_TRANSITION",
            None,
        ),
        (
            &cast.dpu_officer,
            json!({"kecamatan": "MARISO"}),
            "FORBIDDEN",
            None,
        ),
        (
            &cast.citizen,
            json!({"kecamatan": "MARISO"}),
            "FORBIDDEN",
            None,
        ),
    ];
    for (client, location, code, field) in refusals {
        let body = client
            .query(CORRECT, correction(&id, location.clone()))
            .await;
        assert_eq!(error_code(&body), Some(code), "{location}: {body}");
        if let Some(field) = field {
            assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
        }
    }
    cast.dpu_officer
        .ok(
            MUTATE_CLOSE,
            input(&id, json!({"resolution": "RESOLVED", "summary": "Selesai"})),
        )
        .await;
    let code = supervisor
        .error_code(CORRECT, correction(&id, json!({"kecamatan": "MARISO"})))
        .await;
    assert_eq!(code, "INVALID_TRANSITION");
    let after = history(&cast.agent, &id).await;
    assert_eq!(
        after.len(),
        written.len() + 1,
        "only the closing: {after:?}"
    );
    assert_eq!(after.last().unwrap(), "Closed");
    app.finish().await;
}

#[tokio::test]
async fn a_verification_places_an_unplaced_case() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    let mut unplaced = report();
    unplaced["location"] = json!({"latitude": -5.12, "longitude": 119.44});
    unplaced["channel"] = json!("NATIONAL_PLATFORM");
    unplaced["externalRef"] = json!("LAPOR-1");
    let id = id_of(&cast.agent.ok(SUBMIT, json!({"input": unplaced})).await);
    let placing = json!({"location": {"kecamatan": "WAJO"}});
    cast.agent.ok(MUTATE_VERIFY, input(&id, placing)).await;
    assert_eq!(
        history(&cast.agent, &id).await,
        ["Submitted", "LocationCorrected", "Verified"]
    );
    // A verification whose place is already so adds nothing; a refused one
    // places nothing.
    let id2 = cast.submitted().await;
    let same = json!({"location": {"kecamatan": "MAKASSAR"}});
    cast.agent.ok(MUTATE_VERIFY, input(&id2, same)).await;
    assert_eq!(history(&cast.agent, &id2).await, ["Submitted", "Verified"]);
    let again = json!({"location": {"kecamatan": "WAJO"}});
    let code = cast
        .agent
        .error_code(MUTATE_VERIFY, input(&id2, again))
        .await;
    assert_eq!(code, "INVALID_TRANSITION");
    assert_eq!(history(&cast.agent, &id2).await, ["Submitted", "Verified"]);
    app.finish().await;
}

const LIST: &str = "query($filter: ComplaintFilter, $min: Int) {
    complaints(filter: $filter, minPosition: $min) {
      totalCount edges { node { id externalRef anonymous duplicateOf verifiedAt assignedAt } } } }";

#[tokio::test]
async fn list_items_carry_external_ref_and_anonymity_and_filter_by_them() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    let own = cast.assigned().await;
    let mut national = report();
    national["channel"] = json!("NATIONAL_PLATFORM");
    national["externalRef"] = json!("LAPOR-7");
    national["anonymous"] = json!(true);
    let data = cast.agent.ok(SUBMIT, json!({"input": national})).await;
    let imported = id_of(&data);
    let min = returned(&data)["position"].clone();
    let list = |filter: serde_json::Value| {
        let vars = json!({"filter": filter, "min": min});
        async { cast.agent.ok(LIST, vars).await["complaints"].clone() }
    };
    let all = list(json!({})).await;
    assert_eq!(all["totalCount"], 2, "{all}");
    let nodes: Vec<_> = all["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    let item = |id: &str| nodes.iter().find(|n| n["id"] == id).unwrap().clone();
    assert_eq!(item(&imported)["externalRef"], "LAPOR-7");
    assert_eq!(item(&imported)["anonymous"], true);
    assert_eq!(item(&own)["externalRef"], serde_json::Value::Null);
    assert_eq!(item(&own)["anonymous"], false);
    assert!(item(&own)["verifiedAt"].is_string() && item(&own)["assignedAt"].is_string());
    let from_elsewhere = list(json!({"hasExternalRef": true})).await;
    assert_eq!(from_elsewhere["totalCount"], 1);
    assert_eq!(from_elsewhere["edges"][0]["node"]["id"], json!(imported));
    let by_ref = list(json!({"externalRef": ["LAPOR-7", "LAPOR-8"]})).await;
    assert_eq!(by_ref["edges"][0]["node"]["id"], json!(imported));
    let own_only = list(json!({"hasExternalRef": false, "status": ["ASSIGNED"]})).await;
    assert_eq!(own_only["totalCount"], 1);
    assert_eq!(own_only["edges"][0]["node"]["id"], json!(own));
    app.finish().await;
}
