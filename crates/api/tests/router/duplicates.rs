//! `linkDuplicate` / `unlinkDuplicate` over HTTP: the refusals a console sees
//! (with the field named), and a link and its undoing.

use serde_json::json;

use crate::support::*;

const LINK: &str = "mutation($input: LinkDuplicateInput!) { \
    linkDuplicate(input: $input) { id status duplicateOf } }";
const UNLINK: &str = "mutation($input: UnlinkDuplicateInput!) { \
    unlinkDuplicate(input: $input) { id status duplicateOf } }";

#[tokio::test]
async fn a_link_is_undone_and_its_refusals_name_the_field() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    let primary = cast.assigned().await;
    let report = cast.assigned().await;
    for (primary_id, message) in [
        ("", "invalid primaryId"),
        (report.as_str(), "a complaint cannot duplicate itself"),
        ("ADU-NOPE", "no complaint ADU-NOPE"),
    ] {
        let link = input(&report, json!({"primaryId": primary_id, "reason": "Sama."}));
        let body = cast.agent.query(LINK, link).await;
        assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "primaryId");
        let text = body["errors"][0]["message"].as_str().unwrap();
        assert!(text.contains(message), "{text}");
    }
    let blank = input(&report, json!({"primaryId": primary, "reason": " "}));
    let body = cast.agent.query(LINK, blank).await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "reason", "{body}");

    let link = input(&report, json!({"primaryId": primary, "reason": "Sama."}));
    let linked = cast.agent.ok(LINK, link).await;
    assert_eq!(linked["linkDuplicate"]["status"], "DUPLICATE");
    assert_eq!(linked["linkDuplicate"]["duplicateOf"], json!(primary));
    // The primary now has a member: it cannot become a duplicate itself.
    let chain = input(&primary, json!({"primaryId": report, "reason": "x"}));
    assert_eq!(
        cast.agent.error_code(LINK, chain).await,
        "INVALID_TRANSITION"
    );
    let back = cast
        .agent
        .ok(UNLINK, input(&report, json!({"reason": "Beda."})))
        .await;
    assert_eq!(back["unlinkDuplicate"]["status"], "ASSIGNED");
    assert!(back["unlinkDuplicate"]["duplicateOf"].is_null());
    app.finish().await;
}
