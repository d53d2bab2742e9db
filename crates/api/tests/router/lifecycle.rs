//! A complaint's life through GraphQL mutations: submit, verify, assign,
//! respond, close, rate.

use serde_json::json;

use aduan_domain::Role;

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

const READ_NOW: &str = "query($id: ID!) { complaint(id: $id) { id number status version } }";
const BY_NUMBER: &str = "query($n: String!) { complaint(number: $n) { id number } }";

/// Each step read at once, without `minPosition`, shows that step: the read
/// folds the log when the summary row is behind. The number the submission
/// got finds the case, as a caller would read it out.
#[tokio::test]
async fn a_read_right_after_a_command_shows_it_and_the_number_finds_the_case() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    let submitted = cast.citizen.ok(SUBMIT, json!({"input": report()})).await;
    let id = id_of(&submitted);
    let supervisor = Client::new(&app, Role::Supervisor, None, "supervisor-1");
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
    ];
    for (version, (by, document, fields, status)) in (2..).zip(steps) {
        by.ok(document, input(&id, fields)).await;
        let read = supervisor.ok(READ_NOW, json!({"id": id})).await;
        assert_eq!(read["complaint"]["status"], status, "{read}");
        assert_eq!(read["complaint"]["version"], version, "{read}");
    }
    let read = supervisor.ok(READ_NOW, json!({"id": id})).await;
    let number = read["complaint"]["number"].as_str().expect("numbered");
    assert!(number.starts_with("MKS-"), "{number}");
    // The summary has the number once it has the case.
    let mut found = json!(null);
    for _ in 0..100 {
        let body = cast
            .agent
            .query(BY_NUMBER, json!({"n": number.to_lowercase()}))
            .await;
        if error_code(&body) != Some("NOT_FOUND") {
            found = body;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(found["data"]["complaint"]["id"], id.as_str(), "{found}");
    let code = cast
        .agent
        .error_code(BY_NUMBER, json!({"n": "nomor 12"}))
        .await;
    assert_eq!(code, "INVALID_INPUT");
    app.finish().await;
}
