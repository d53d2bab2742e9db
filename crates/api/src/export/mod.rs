//! `/exports/complaints.csv` and `/exports/complaints.xlsx`: the list a caller
//! sees as a spreadsheet. Each page is read by running the `complaints` query
//! itself with the caller's bearer token, so the access rules, scope, filter,
//! order and fields are the list's; rows are written as each page comes
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

use crate::error_code::ClientCode;
use crate::graphql::{ClientKey, Correlation, RequestAuth};
use crate::state::AppState;

pub use sheet::COLUMNS;

/// The most rows one export holds: a year of the city's cases with room to
/// spare. A larger list is refused (EXPORT_TOO_LARGE) before any row is sent.
pub const MAX_ROWS: i64 = 200_000;

/// Rows read per page (the list's largest page).
const PAGE: i64 = 100;

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

/// The list query for one page; the first asks the total too.
fn query(counted: bool) -> String {
    format!(
        "query($filter: ComplaintFilter, $orderBy: ComplaintOrder, $after: String) {{ \
         complaints(filter: $filter, orderBy: $orderBy, first: {PAGE}, after: $after) {{ \
         {} pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {} }} }} }} }}",
        if counted { "totalCount" } else { "" },
        COLUMNS.join(" ")
    )
}

/// One page's rows and the cursor after them (None when none follow); a
/// refusal as the response to send.
struct Page {
    nodes: Vec<Value>,
    next: Option<String>,
    total: i64,
}

struct Reader {
    state: AppState,
    auth: RequestAuth,
    vars: Value,
}

impl Reader {
    async fn page(&self, after: Option<&str>, counted: bool) -> Result<Page, Response> {
        let mut vars = self.vars.clone();
        if let Some(a) = after {
            vars["after"] = json!(a);
        }
        let request = async_graphql::Request::new(query(counted))
            .variables(async_graphql::Variables::from_json(vars))
            .data(RequestAuth(self.auth.0.clone()))
            .data(ClientKey(String::new()))
            .data(Correlation(uuid::Uuid::new_v4().to_string()));
        let mut executed = self.state.schema.execute(request).await;
        crate::graphql::limits::code_engine_errors(&mut executed);
        if let Some(first) = executed.errors.first() {
            let code = ClientCode::of(first.extensions.as_ref()).unwrap_or(ClientCode::Internal);
            let errors = serde_json::to_value(&executed.errors).unwrap_or(Value::Null);
            return Err((code.http_status(), Json(json!({ "errors": errors }))).into_response());
        }
        let data = executed.data.into_json().unwrap_or(Value::Null);
        let list = &data["complaints"];
        let nodes = list["edges"]
            .as_array()
            .map(|edges| edges.iter().map(|e| e["node"].clone()).collect())
            .unwrap_or_default();
        let next = match list["pageInfo"]["hasNextPage"].as_bool() {
            Some(true) => list["pageInfo"]["endCursor"].as_str().map(str::to_string),
            _ => None,
        };
        let total = list["totalCount"].as_i64().unwrap_or(0);
        Ok(Page { nodes, next, total })
    }
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
    let reader = Reader { state, auth, vars };
    let first = match reader.page(None, true).await {
        Ok(page) => page,
        Err(refused) => return refused,
    };
    if first.total > MAX_ROWS {
        let message = format!(
            "the list has {} cases; an export holds at most {MAX_ROWS}",
            first.total
        );
        return refusal(ClientCode::ExportTooLarge, &message, Some("filter"));
    }
    let (content_type, name) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "complaints.csv"),
        Format::Xlsx => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "complaints.xlsx",
        ),
    };
    let body = Body::from_stream(rows(reader, first, format));
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
    reader: Reader,
    first: Page,
    format: Format,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> {
    async_stream::try_stream! {
        let broken = |_| std::io::Error::other("export outgrew its archive");
        let mut xlsx = match format {
            Format::Csv => {
                yield Bytes::from(sheet::csv_header());
                None
            }
            Format::Xlsx => Some(sheet::Xlsx::start().map_err(broken)?),
        };
        let mut page = first;
        loop {
            let mut chunk = Vec::new();
            for node in &page.nodes {
                match xlsx.as_mut() {
                    None => chunk.extend_from_slice(sheet::csv_row(node).as_bytes()),
                    Some(x) => x.row(node).map_err(broken)?,
                }
            }
            if let Some(x) = xlsx.as_mut() {
                chunk = x.take();
            }
            yield Bytes::from(chunk);
            let Some(after) = page.next.take() else { break };
            page = reader
                .page(Some(&after), false)
                .await
                .map_err(|_| std::io::Error::other("a page of the export was refused"))?;
        }
        if let Some(x) = xlsx.as_mut() {
            x.finish().map_err(broken)?;
            yield Bytes::from(x.take());
        }
    }
}
