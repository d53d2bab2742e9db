//! The list `complaints` would answer, read for a spreadsheet export
//! (`crate::export`) without running the GraphQL engine per page: the same
//! access row, scope, filter and order (`queue::list_read`), the same list
//! items (`ComplaintListItem`), keyset-paged straight from the read side in
//! pages far larger than the list's.

use async_graphql::{InputType, Result};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use aduan_domain::access::Operation;
use aduan_domain::places::Circle;
use aduan_projections::summary_query::{Keyset, SummaryFilter, SummaryOrder};
use aduan_projections::Reads;

use super::access::guard_auth;
use super::context::RequestAuth;
use super::error::store_error;
use super::list::{ComplaintFilter, ComplaintListItem};
use super::queue::{list_read, ComplaintOrder};
use crate::error_code::ClientCode;

/// One export's read, checked and planned once.
pub struct ListExport {
    reads: Reads,
    query: SummaryFilter,
    circle: Option<Circle>,
    order: SummaryOrder,
    now: DateTime<Utc>,
}

/// A GraphQL input from its JSON, refused as the engine refuses a variable of
/// the wrong shape (BAD_REQUEST, naming the parameter).
fn input<T: InputType>(name: &str, json: &Value) -> Result<Option<T>> {
    if json.is_null() {
        return Ok(None);
    }
    T::parse(Some(
        async_graphql::Value::from_json(json.clone()).unwrap_or_default(),
    ))
    .map(Some)
    .map_err(|e| {
        let message = format!(
            "invalid {name}: {}",
            e.into_server_error(Default::default()).message
        );
        ClientCode::BadRequest.error(message)
    })
}

impl ListExport {
    /// The caller's list for `filter` (a `ComplaintFilter` as JSON, or null)
    /// in `order_by` (a `ComplaintOrder`, or null), as of `now`; refused as
    /// `complaints` would refuse it.
    pub fn plan(
        auth: &RequestAuth,
        reads: Reads,
        filter: &Value,
        order_by: &Value,
        now: DateTime<Utc>,
    ) -> Result<Self> {
        let (actor, scope) = guard_auth(Some(auth), Operation::Complaints)?;
        let filter: ComplaintFilter = input("filter", filter)?.unwrap_or_default();
        let order = ComplaintOrder::parse(input("orderBy", order_by)?, filter.text.as_deref());
        let (query, circle) = list_read(&actor, scope, filter, order, now)?;
        Ok(ListExport {
            reads,
            query,
            circle,
            order,
            now,
        })
    }

    /// How many cases the list holds (its `totalCount`).
    pub async fn count(&self) -> Result<i64> {
        match &self.circle {
            None => self.reads.count(&self.query).await,
            Some(c) => self.reads.count_near(&self.query, c).await,
        }
        .map_err(store_error)
    }

    /// Up to `first` list items after `after`, as the list's JSON, and the
    /// key to read on from (None after the last page).
    pub async fn page(
        &self,
        after: Option<&Keyset>,
        first: i64,
    ) -> Result<(Vec<Value>, Option<Keyset>)> {
        let (rows, more) = match &self.circle {
            None => self.reads.page(&self.query, after, first).await,
            Some(c) => self.reads.page_near(&self.query, c, after, first).await,
        }
        .map_err(store_error)?;
        let next = match (more, rows.last()) {
            (true, Some(last)) => Some(Keyset::of(self.order, last)),
            _ => None,
        };
        let items = rows
            .into_iter()
            .map(|row| ComplaintListItem::from_row(row, self.now).map(|item| item_json(&item)))
            .collect::<Result<Vec<_>>>()?;
        Ok((items, next))
    }
}

fn wire<T: InputType>(value: &T) -> Value {
    value.to_value().into_json().unwrap_or(Value::Null)
}

fn time(at: Option<DateTime<Utc>>) -> Value {
    at.map_or(Value::Null, |t| json!(t.to_rfc3339()))
}

/// A list item as the list's JSON answer would show it, field by field (the
/// export's columns are a subset: `sheet::COLUMNS`).
pub fn item_json(i: &ComplaintListItem) -> Value {
    json!({
        "id": i.id.0,
        "number": i.number,
        "status": wire(&i.status),
        "channel": wire(&i.channel),
        "category": i.category,
        "priority": wire(&i.priority),
        "opd": i.opd,
        "officerId": i.officer_id,
        "kecamatan": i.kecamatan,
        "kelurahan": i.kelurahan,
        "title": i.title,
        "anonymous": i.anonymous,
        "externalRef": i.external_ref,
        "escalationLevel": i.escalation_level,
        "resolution": i.resolution.as_ref().map_or(Value::Null, wire),
        "duplicateOf": i.duplicate_of.as_ref().map(|d| d.0.clone()),
        "reportCount": i.report_count,
        "rating": i.rating,
        "reopenCount": i.reopen_count,
        "slaState": i.sla_state.as_ref().map_or(Value::Null, wire),
        "slaDeadline": time(i.sla_deadline),
        "createdAt": time(Some(i.created_at)),
        "updatedAt": time(Some(i.updated_at)),
        "verifiedAt": time(i.verified_at),
        "assignedAt": time(i.assigned_at),
        "firstResponseAt": time(i.first_response_at),
        "closedAt": time(i.closed_at),
        "latitude": i.latitude,
        "longitude": i.longitude,
        "version": i.version,
        "position": i.position,
    })
}

/// An error from `plan`, `count` or `page` with its code (INTERNAL when it
/// has none).
pub fn code_of(error: &async_graphql::Error) -> ClientCode {
    ClientCode::of(error.extensions.as_ref()).unwrap_or(ClientCode::Internal)
}
