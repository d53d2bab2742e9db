//! After `eraseReporterData`, a link to a file the reporter sent answers 404
//! NOT_FOUND (the file went with their data) while staff's file on the same case
//! still serves; the case lists only staff's (docs/erasure.md).

use axum::body::Body;
use axum::http::{header, Method, Request};
use serde_json::json;

use aduan_domain::Role;

use crate::support::*;

const ADD: &str = "mutation($input: AddAttachmentInput!) { addAttachment(input: $input) { url } }";

/// `addAttachment` as a GraphQL multipart request with `bytes` as its file.
async fn attach(app: &App, token: &str, complaint: &str, bytes: &[u8]) -> String {
    let boundary = "aduan-router-test";
    let operations =
        json!({"query": ADD, "variables": {"input": {"complaintId": complaint, "file": null}}});
    let mut body = Vec::new();
    for (name, value) in [
        ("operations", operations.to_string()),
        ("map", r#"{"0":["variables.input.file"]}"#.to_string()),
    ] {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"0\"; filename=\"f.pdf\"\r\n\
             Content-Type: application/pdf\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let request = Request::builder()
        .method(Method::POST)
        .uri("/graphql")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(body))
        .unwrap();
    let answer = app.send(request).await;
    answer.body["data"]["addAttachment"]["url"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", answer.body))
        .to_string()
}

fn pdf(marker: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% {marker}\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n").into_bytes()
}

#[tokio::test]
async fn an_erased_reporter_s_file_link_refuses_and_staff_s_still_serves() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    let id = cast.submitted().await;
    let citizen = app.token(Role::Citizen, None, "warga-1");
    let agent = app.token(Role::Agent, None, "agent-1");
    let supervisor = app.token(Role::Supervisor, None, "spv-1");
    let theirs = attach(&app, &citizen, &id, &pdf("reporter")).await;
    let staff = attach(&app, &agent, &id, &pdf("staff")).await;
    assert_eq!(app.get(&theirs).await.status, 200);

    let case = app
        .graphql(
            Some(&supervisor),
            "query($id: ID!) { complaint(id: $id) { reporterRef } }",
            json!({"id": id}),
        )
        .await;
    let reference = case.body["data"]["complaint"]["reporterRef"].clone();
    let erased = app
        .graphql(
            Some(&supervisor),
            "mutation($input: EraseReporterDataInput!) { eraseReporterData(input: $input) { filesDeleted } }",
            json!({"input": {"reporterRef": reference, "reason": "Permintaan warga 1/2026"}}),
        )
        .await;
    assert_eq!(
        erased.body["data"]["eraseReporterData"]["filesDeleted"],
        json!(1),
        "{}",
        erased.body
    );

    let refused = app.get(&theirs).await;
    assert_eq!(refused.status, 404, "{}", refused.body);
    assert_eq!(refused.body["errors"][0]["extensions"]["code"], "NOT_FOUND");
    assert_eq!(app.get(&staff).await.status, 200);
    let listed = app
        .graphql(
            Some(&supervisor),
            "query($id: ID!) { complaint(id: $id) { attachments { uploadedBy } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(
        listed.body["data"]["complaint"]["attachments"],
        json!([{"uploadedBy": "agent-1"}]),
        "{}",
        listed.body
    );
    app.finish().await;
}
