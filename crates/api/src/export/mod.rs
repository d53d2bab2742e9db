//! `/exports/complaints.csv` and `/exports/complaints.xlsx`: the list a caller
//! sees as a spreadsheet. The list is planned once as `complaints` plans it
//! (`graphql::list_export`: the caller's access row and scope, the filter, the
//! order, the list items' fields) and read straight from the read side in
//! pages of `PAGE`: running the GraphQL query per page of 100 held exports to
//! a few hundred rows a second. Rows are written as each page comes
//! (docs/api.md, "Spreadsheet exports").

mod sheet;
mod zip;

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use aduan_projections::Reads;

use crate::error_code::ClientCode;
use crate::graphql::list_export::{self, ListExport};
use crate::graphql::RequestAuth;
use crate::state::AppState;

pub use sheet::COLUMNS;

/// The most rows one export holds: a year of the city's cases with room to
/// spare. A larger list is refused (EXPORT_TOO_LARGE) before any row is sent.
pub const MAX_ROWS: i64 = 200_000;

/// Rows read per page: large enough that a page's round trip is small
/// against its rows, small enough to hold in memory.
const PAGE: i64 = 1_000;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Xlsx,
}

pub async fn csv(
    state: State<AppState>,
    headers: HeaderMap,
    params: Query<HashMap<String, String>>,
) -> Response {
    export(state, headers, params, Format::Csv).await
}

pub async fn xlsx(
    state: State<AppState>,
    headers: HeaderMap,
    params: Query<HashMap<String, String>>,
) -> Response {
    export(state, headers, params, Format::Xlsx).await
}

fn refusal(code: ClientCode, message: &str, field: Option<&str>) -> Response {
    (code.http_status(), Json(code.body(message, field))).into_response()
}

/// The query's variables from the query string: `filter` is a
/// `ComplaintFilter` as JSON, `orderBy` a `ComplaintOrder` as JSON or a bare
/// field name (with `direction`).
fn variables(params: &HashMap<String, String>) -> Result<Value, (&'static str, &'static str)> {
    let mut vars = json!({});
    if let Some(f) = params.get("filter").filter(|f| !f.is_empty()) {
        match serde_json::from_str::<Value>(f) {
            Ok(v @ Value::Object(_)) => vars["filter"] = v,
            _ => return Err(("filter", "must be a ComplaintFilter as a JSON object")),
        }
    }
    if let Some(o) = params.get("orderBy").filter(|o| !o.is_empty()) {
        // '\u{7b}' is an opening brace: JSON, not a field name.
        let order = if o.trim_start().starts_with('\u{7b}') {
            serde_json::from_str::<Value>(o).map_err(|_| {
                (
                    "orderBy",
                    "must be a ComplaintOrder as JSON or a field name",
                )
            })?
        } else {
            json!({"field": o.to_ascii_uppercase()})
        };
        vars["orderBy"] = order;
    }
    if let Some(d) = params.get("direction").filter(|d| !d.is_empty()) {
        if !vars["orderBy"].is_object() {
            return Err(("direction", "needs orderBy"));
        }
        vars["orderBy"]["direction"] = json!(d.to_ascii_uppercase());
    }
    Ok(vars)
}

/// An error of the list's read as the response to send, in GraphQL's shape.
fn failed(error: async_graphql::Error) -> Response {
    let code = list_export::code_of(&error);
    let errors = vec![error.into_server_error(async_graphql::Pos::default())];
    let errors = serde_json::to_value(&errors).unwrap_or(Value::Null);
    (code.http_status(), Json(json!({ "errors": errors }))).into_response()
}

async fn export(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
    format: Format,
) -> Response {
    let vars = match variables(&params) {
        Ok(vars) => vars,
        Err((field, message)) => return refusal(ClientCode::InvalidInput, message, Some(field)),
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok());
    let auth = RequestAuth(state.keys.actor_from_header(token).await);
    // An export is a list: a replica's, as the list's own query would read.
    let reads = state
        .replicas
        .as_ref()
        .map_or_else(|| Reads::new(state.bus.log().as_ref()), |r| r.pick());
    let now = state.bus.services().clock.now();
    let list = match ListExport::plan(&auth, reads, &vars["filter"], &vars["orderBy"], now) {
        Ok(list) => list,
        Err(refused) => return failed(refused),
    };
    let total = match list.count().await {
        Ok(total) => total,
        Err(refused) => return failed(refused),
    };
    if total > MAX_ROWS {
        let message = format!("the list has {total} cases; an export holds at most {MAX_ROWS}");
        return refusal(ClientCode::ExportTooLarge, &message, Some("filter"));
    }
    let (content_type, name) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "complaints.csv"),
        Format::Xlsx => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "complaints.xlsx",
        ),
    };
    let body = Body::from_stream(rows(list, format));
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

/// The file's bytes, page by page. A page refused midway (the database gone)
/// ends the stream with an error: the client sees a cut-off download.
fn rows(
    list: ListExport,
    format: Format,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> {
    async_stream::try_stream! {
        let broken = |_| std::io::Error::other("export outgrew its archive");
        let refused = |_| std::io::Error::other("a page of the export was refused");
        let mut xlsx = match format {
            Format::Csv => {
                yield Bytes::from(sheet::csv_header());
                None
            }
            Format::Xlsx => Some(sheet::Xlsx::start().map_err(broken)?),
        };
        let mut after = None;
        loop {
            let (nodes, next) = list.page(after.as_ref(), PAGE).await.map_err(refused)?;
            let mut chunk = Vec::new();
            for node in &nodes {
                match xlsx.as_mut() {
                    None => chunk.extend_from_slice(sheet::csv_row(node).as_bytes()),
                    Some(x) => x.row(node).map_err(broken)?,
                }
            }
            if let Some(x) = xlsx.as_mut() {
                chunk = x.take();
            }
            yield Bytes::from(chunk);
            if next.is_none() {
                break;
            }
            after = next;
        }
        if let Some(x) = xlsx.as_mut() {
            x.finish().map_err(broken)?;
            yield Bytes::from(x.take());
        }
    }
}
