//! Open311 GeoReport v2 at `/open311/v2/` (docs/open311.md): the city's
//! categories as services, reports filed through the same command path as
//! `submitComplaint` (channel OPEN311, idempotent per client and request),
//! requests and FixMyStreet's service request updates read from the read
//! side and the log, in JSON or XML. Public answers carry no personal data.

mod attributes;
pub mod clients;
mod params;
mod requests;
mod routes;
mod statuses;
mod updates;
pub mod wire;

use std::sync::Arc;

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;

use aduan_domain::tracking::TrackingKey;
use aduan_projections::Reads;
use aduan_store::{CommandBus, CommandError, StoreError};

use crate::error_code::ClientCode;
use crate::state::AppState;
pub use clients::Clients;

/// What the Open311 endpoints work with.
pub struct Open311 {
    pub bus: Arc<CommandBus>,
    pub reads: Reads,
    pub clients: Clients,
    pub tracking: TrackingKey,
}

impl Open311 {
    pub fn new(bus: Arc<CommandBus>, tracking: TrackingKey) -> Arc<Open311> {
        let log = bus.log().clone();
        Arc::new(Open311 {
            reads: Reads::new(log.as_ref()),
            clients: Clients::for_log(log.as_ref()),
            bus,
            tracking,
        })
    }
}

/// The routes, mounted by `router::router` (under its body limit).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/open311/v2/{resource}",
            get(routes::get_collection).post(routes::post_collection),
        )
        .route("/open311/v2/{collection}/{item}", get(routes::get_item))
}

/// The server's body limit refuses before any handler runs; on Open311's
/// paths its 413 comes in the specification's shape and the path's format.
pub fn too_large(path: &str, max: usize) -> Option<axum::response::Response> {
    let resource = path.strip_prefix("/open311/v2/")?;
    let format = resource
        .rsplit('/')
        .next()
        .and_then(wire::Format::split)
        .map_or(wire::Format::Json, |(_, format)| format);
    let description = format!("the request body is over {max} bytes");
    Some(wire::error(
        format,
        StatusCode::PAYLOAD_TOO_LARGE,
        &description,
    ))
}

/// Why a request is refused: the status and the specification's description.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub description: String,
}

impl Refusal {
    pub fn new(status: StatusCode, description: impl Into<String>) -> Refusal {
        Refusal {
            status,
            description: description.into(),
        }
    }

    pub fn bad_request(description: impl Into<String>) -> Refusal {
        Refusal::new(StatusCode::BAD_REQUEST, description)
    }

    pub fn not_found(description: impl Into<String>) -> Refusal {
        Refusal::new(StatusCode::NOT_FOUND, description)
    }

    pub fn forbidden(description: impl Into<String>) -> Refusal {
        Refusal::new(StatusCode::FORBIDDEN, description)
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Refusal {
        Refusal::from(CommandError::Store(e))
    }
}

impl From<CommandError> for Refusal {
    fn from(e: CommandError) -> Refusal {
        use aduan_domain::ComplaintError;
        // GeoReport v2's statuses: its clients know 400, 403, 404 and the 5xx.
        let status = match ClientCode::from(&e) {
            ClientCode::InvalidInput | ClientCode::InvalidTransition => StatusCode::BAD_REQUEST,
            ClientCode::Forbidden | ClientCode::Unauthenticated => StatusCode::FORBIDDEN,
            ClientCode::NotFound => StatusCode::NOT_FOUND,
            ClientCode::Conflict | ClientCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let description = match &e {
            CommandError::Domain(ComplaintError::InvalidInput { field, message }) => {
                format!("{}: {message}", wire_field(field))
            }
            _ if status == StatusCode::SERVICE_UNAVAILABLE => {
                tracing::warn!(error = %e, "open311: store unavailable");
                "the service is unavailable; retry later".to_string()
            }
            _ if status == StatusCode::INTERNAL_SERVER_ERROR => {
                tracing::error!(error = %e, "open311: internal error");
                "internal error".to_string()
            }
            other => other.to_string(),
        };
        Refusal::new(status, description)
    }
}

/// The Open311 parameter a domain field came from.
fn wire_field(field: &str) -> String {
    match field {
        "reporter.name" => "first_name/last_name".into(),
        "reporter.email" => "email".into(),
        "reporter.phone" => "phone".into(),
        "location.latitude" => "lat".into(),
        "location.longitude" => "long".into(),
        "location.address" => "address_string".into(),
        "attachments" | "attachments[0]" => "media_url".into(),
        "command_id" => "Idempotency-Key".into(),
        other => other.into(),
    }
}
