//! Dispatch: which resource a path names and in which format it answers.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::params::Params;
use super::wire::{self, Body, Format};
use super::{requests, updates, Refusal};
use crate::state::AppState;

fn answer(format: Format, result: Result<Body, Refusal>, ok: StatusCode) -> Response {
    match result {
        Ok(body) => wire::respond(format, ok, &body),
        Err(refusal) => wire::error(format, refusal.status, &refusal.description),
    }
}

fn unknown(format: Format) -> Response {
    wire::error(format, StatusCode::NOT_FOUND, "no such Open311 resource")
}

fn query(raw: Option<String>) -> Params {
    Params::parse(raw.unwrap_or_default().as_bytes())
}

pub async fn get_collection(
    State(state): State<AppState>,
    Path(resource): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some((name, format)) = Format::split(&resource) else {
        return unknown(Format::Json);
    };
    let o = &state.open311;
    let p = query(raw);
    let result = match name {
        "services" => Ok(requests::services(o)),
        "requests" => requests::list(o, &p).await,
        "servicerequestupdates" => updates::list(o, &p).await,
        _ => return unknown(format),
    };
    answer(format, result, StatusCode::OK)
}

pub async fn post_collection(
    State(state): State<AppState>,
    Path(resource): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some((name, format)) = Format::split(&resource) else {
        return unknown(Format::Json);
    };
    if name != "requests" {
        return unknown(format);
    }
    let result = requests::create(&state.open311, &headers, &body).await;
    answer(format, result, StatusCode::OK)
}

pub async fn get_item(
    State(state): State<AppState>,
    Path((collection, item)): Path<(String, String)>,
) -> Response {
    let Some((item, format)) = Format::split(&item) else {
        return unknown(Format::Json);
    };
    let o = &state.open311;
    let result = match collection.as_str() {
        "services" => requests::definition(o, item),
        "requests" => requests::one(o, item).await,
        "tokens" => requests::token(o, item).await,
        _ => return unknown(format),
    };
    answer(format, result, StatusCode::OK)
}
