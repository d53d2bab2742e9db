//! `/notifications/opt-out?complaint=..&code=..`: the link e-mails carry in
//! `List-Unsubscribe` (docs/notifications.md). A GET only shows a page with a
//! button, since mail scanners open links; a POST (the button, or a mail
//! client's RFC 8058 one-click `List-Unsubscribe=One-Click`) opts the case out
//! through `optOutOfNotifications`, as the tracking code's holder, so every
//! rule of the mutation holds here too.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use crate::error_code::ClientCode;
use crate::graphql::{ClientKey, Correlation, RequestAuth};
use crate::state::AppState;

const OPT_OUT: &str = "mutation($id: ID!, $code: String!) { \
     optOutOfNotifications(input: {complaintId: $id, trackingCode: $code}) { id } }";

#[derive(Debug, Deserialize)]
pub struct Link {
    complaint: String,
    code: String,
}

pub async fn confirm(Query(link): Query<Link>) -> Response {
    let action = format!(
        "?complaint={}&code={}",
        escape(&link.complaint),
        escape(&link.code)
    );
    page(
        StatusCode::OK,
        &format!(
            "<p>Berhenti menerima pemberitahuan tentang aduan {}?</p>\
             <form method=\"post\" action=\"{action}\">\
             <button name=\"List-Unsubscribe\" value=\"One-Click\">Berhenti</button></form>",
            escape(&link.complaint)
        ),
    )
}

pub async fn opt_out(State(state): State<AppState>, Query(link): Query<Link>) -> Response {
    let auth = state.keys.actor_from_header(None).await;
    let request = async_graphql::Request::new(OPT_OUT)
        .variables(async_graphql::Variables::from_json(
            serde_json::json!({"id": link.complaint, "code": link.code}),
        ))
        .data(RequestAuth(auth))
        .data(ClientKey("opt-out link".into()))
        .data(Correlation(uuid::Uuid::new_v4().to_string()));
    let response = state.schema.execute(request).await;
    let result = crate::metrics::result_code(&response);
    crate::metrics::record_request("optOutOfNotifications", result);
    match result {
        // Opted out now, or before (a second click, a client's retry).
        Ok(()) | Err(ClientCode::InvalidTransition) => page(
            StatusCode::OK,
            "<p>Anda tidak akan menerima pemberitahuan lagi tentang aduan ini.</p>",
        ),
        Err(ClientCode::Unavailable | ClientCode::Conflict) => page(
            StatusCode::SERVICE_UNAVAILABLE,
            "<p>Layanan sedang sibuk. Silakan coba lagi sebentar lagi.</p>",
        ),
        _ => page(StatusCode::NOT_FOUND, "<p>Tautan ini tidak berlaku.</p>"),
    }
}

fn page(status: StatusCode, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"id\"><head><meta charset=\"utf-8\">\
         <title>Pemberitahuan aduan</title></head><body>{body}</body></html>"
    );
    (status, Html(html)).into_response()
}

/// Text safe in HTML (text and attribute values), as Open311's XML escapes it.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    crate::open311::wire::escape_into(&mut out, text);
    out
}
