//! `complaints`: lists from the `complaint_summary` projection, with Relay cursor
//! pagination and read-your-writes (`minPosition`).

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use aduan_domain::access::Operation;
use aduan_domain::numbering::CaseNumber;
use aduan_domain::places::Circle;
use aduan_domain::Actor;
use aduan_projections::summary_query::{Keyset, SummaryFilter, SummaryRow};

use aduan_projections::summary_order::{due_key, no_clock};

use super::queue::{list_read, ComplaintOrder, QueueInputs};
use super::replicas::query_reads;

use super::access::guard;
use super::context::bus;
use super::error::{command_error, gql_error, invalid_input, store_error};
use super::freshness;
use super::inputs::{NearInput, WithinInput};
use super::sla::TimerState as SlaState;
use super::types::{Channel, ComplaintStatus, Priority, Resolution};
use crate::error_code::ClientCode;

const DEFAULT_PAGE: i32 = 20;
const MAX_PAGE: i32 = 100;

#[derive(InputObject, Default)]
pub struct ComplaintFilter {
    pub status: Option<Vec<ComplaintStatus>>,
    /// OPD codes.
    pub opd: Option<Vec<String>>,
    pub category: Option<Vec<String>>,
    pub kecamatan: Option<Vec<String>>,
    pub channel: Option<Vec<Channel>>,
    pub priority: Option<Vec<Priority>>,
    /// Created at or after.
    pub created_from: Option<DateTime<Utc>>,
    /// Created before.
    pub created_to: Option<DateTime<Utc>>,
    /// Words the case must all have, in its title, description, responses,
    /// PUBLIC notes or closing summary; Indonesian-aware (`jalan` finds
    /// `jalanan`, `lampu` finds `lampu-lampu`). The list is then best match
    /// first (see docs/api.md, "Search").
    pub text: Option<String>,
    /// The case's id in the system it came from (any of).
    pub external_ref: Option<Vec<String>>,
    /// true: only cases that came from another system (national platform,
    /// Open311 integrations); false: only those without an `externalRef`.
    pub has_external_ref: Option<bool>,
    /// The reports of these incidents: cases linked as duplicates of them (or
    /// closed with them, or closed as their DUPLICATE the one-way way).
    pub duplicate_of: Option<Vec<String>>,
    /// The case's SLA standing now: the worst of its clocks.
    pub sla_state: Option<Vec<SlaState>>,
    /// Only cases at most `radiusMeters` from a point; list items then carry
    /// `distanceMeters`.
    pub near: Option<NearInput>,
    /// Only cases whose coordinates lie in a box.
    pub within: Option<WithinInput>,
    /// Assigned to one of these officers (their user ids).
    pub officer_id: Option<Vec<String>>,
    /// true: the caller's own queue, the cases assigned to them as officer.
    pub assigned_to_me: Option<bool>,
    /// true: assigned to an OPD but to no officer yet (an OPD admin's dispatch).
    pub unassigned_officer: Option<bool>,
    /// true: escalated at least once (escalationLevel > 0); false: never.
    pub escalated: Option<bool>,
    /// true: waiting for the reporter's information (status WAITING_FOR_INFO);
    /// false: every other status.
    pub waiting_for_info: Option<bool>,
    /// true: reports linked to an incident's primary as its duplicates;
    /// false: the others.
    pub duplicate: Option<bool>,
    /// true: incidents' primaries (cases other reports are linked to);
    /// false: the others.
    pub primary: Option<bool>,
}

fn codes<T>(values: Option<Vec<T>>, code: impl Fn(T) -> &'static str) -> Vec<String> {
    values
        .unwrap_or_default()
        .into_iter()
        .map(|v| code(v).to_string())
        .collect()
}

/// A stored wire name back to its enum; the projection only ever writes valid ones.
fn wire<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str, value: &str) -> Result<T> {
    all.iter()
        .copied()
        .find(|v| name(*v) == value)
        .ok_or_else(|| {
            gql_error(
                ClientCode::Internal,
                format!("unknown stored value {value:?}"),
            )
        })
}

impl ComplaintFilter {
    /// The read's filter and its circle, if it has one; the place inputs
    /// are checked here (INVALID_INPUT naming `filter.near.radiusMeters`, ...).
    pub(crate) fn into_query(
        self,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(SummaryFilter, Option<Circle>)> {
        let circle = self
            .near
            .map(|n| n.parse("filter.near"))
            .transpose()
            .map_err(|e| command_error(e.into()))?;
        let number = self.text.as_deref().and_then(|t| CaseNumber::parse(t).ok());
        let bounds = self
            .within
            .map(|w| w.parse("filter.within"))
            .transpose()
            .map_err(|e| command_error(e.into()))?;
        let queue = QueueInputs {
            officer_id: self.officer_id,
            assigned_to_me: self.assigned_to_me,
            unassigned_officer: self.unassigned_officer,
            waiting_for_info: self.waiting_for_info,
        };
        let mut filter = SummaryFilter {
            escalated: self.escalated,
            duplicate: self.duplicate,
            primary: self.primary,
            statuses: codes(self.status, |s| aduan_domain::Status::from(s).as_str()),
            channels: codes(self.channel, |c| aduan_domain::Channel::from(c).as_str()),
            priorities: codes(self.priority, |p| aduan_domain::Priority::from(p).as_str()),
            opds: self.opd.unwrap_or_default(),
            categories: self.category.unwrap_or_default(),
            kecamatan: self.kecamatan.unwrap_or_default(),
            created_from: self.created_from,
            created_to: self.created_to,
            // A case number in the search box finds that case (a caller
            // quoting it to 112); other text is searched for.
            number: number.as_ref().map(|n| n.as_str().to_string()),
            text: self.text.filter(|_| number.is_none()),
            external_refs: self.external_ref.unwrap_or_default(),
            has_external_ref: self.has_external_ref,
            duplicates_of: self.duplicate_of.unwrap_or_default(),
            sla_states: self
                .sla_state
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            reporter_ref: None,
            bounds,
            now,
            ..SummaryFilter::default()
        };
        queue.apply(actor, &mut filter)?;
        Ok((filter, circle))
    }
}

/// A complaint as lists show it: from the summary projection, without the
/// reporter, the exact address, the description, notes or attachments (a
/// case's `complaint(id)` has them, for who may see them).
#[derive(SimpleObject)]
pub struct ComplaintListItem {
    pub id: ID,
    /// The case number (`MKS-2026-004512`); null on cases from before numbers.
    pub number: Option<String>,
    pub status: ComplaintStatus,
    pub channel: Channel,
    pub category: String,
    pub priority: Priority,
    pub opd: Option<String>,
    pub officer_id: Option<String>,
    pub kecamatan: Option<String>,
    pub kelurahan: Option<String>,
    pub title: String,
    /// The reporter asked to stay anonymous.
    pub anonymous: bool,
    /// The case's id in the system it came from (national platform, Open311).
    pub external_ref: Option<String>,
    pub escalation_level: i32,
    pub resolution: Option<Resolution>,
    /// The case a DUPLICATE closing points to.
    pub duplicate_of: Option<ID>,
    pub rating: Option<i32>,
    pub reopen_count: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The case's SLA standing now (the worst of its clocks); null before any
    /// clock has started.
    pub sla_state: Option<SlaState>,
    /// The running SLA clock's deadline (the order SLA_DEADLINE's key); null
    /// without a running clock (none yet, paused, met).
    pub sla_deadline: Option<DateTime<Utc>>,
    pub version: i64,
    pub position: i64,
    /// The reports of the case's incident: 1 for the case itself plus the
    /// cases linked to it as duplicates or closed through it (a one-way
    /// DUPLICATE closing is not counted).
    pub report_count: i64,
    /// Where the case is (null for a case placed nowhere).
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Meters from the point asked about (`near`, nearby queries); null otherwise.
    pub distance_meters: Option<f64>,
}

impl ComplaintListItem {
    pub(crate) fn from_row(r: SummaryRow, now: DateTime<Utc>) -> Result<Self> {
        use aduan_domain as d;
        Ok(ComplaintListItem {
            latitude: r.latitude,
            longitude: r.longitude,
            distance_meters: None,
            sla_state: r.sla_state_at(now).map(Into::into),
            sla_deadline: Some(due_key(&r)).filter(|at| *at != no_clock()),
            id: ID(r.complaint_id),
            number: r.number,
            status: wire(d::Status::ALL, d::Status::as_str, &r.status)?.into(),
            channel: wire(d::Channel::ALL, d::Channel::as_str, &r.channel)?.into(),
            category: r.category,
            priority: wire(d::Priority::ALL, d::Priority::as_str, &r.priority)?.into(),
            opd: r.opd,
            officer_id: r.officer_id,
            kecamatan: r.kecamatan,
            kelurahan: r.kelurahan,
            title: r.title,
            anonymous: r.anonymous,
            external_ref: r.external_ref,
            duplicate_of: r.duplicate_of.map(ID),
            escalation_level: r.escalation_level,
            resolution: match r.resolution.as_deref() {
                Some(v) => Some(wire(d::Resolution::ALL, d::Resolution::as_str, v)?.into()),
                None => None,
            },
            rating: r.rating.map(i32::from),
            reopen_count: r.reopen_count,
            created_at: r.created_at,
            updated_at: r.updated_at,
            verified_at: r.verified_at,
            assigned_at: r.assigned_at,
            first_response_at: r.first_response_at,
            closed_at: r.closed_at,
            version: r.version,
            position: r.last_position,
            report_count: r.report_count,
        })
    }
}

impl ComplaintListItem {
    /// The item with its distance from `circle`'s centre, when there is one.
    pub(super) fn measured_from(mut self, circle: Option<&Circle>) -> Self {
        if let (Some(c), Some(lat), Some(lon)) = (circle, self.latitude, self.longitude) {
            self.distance_meters = Some(c.distance_m(lat, lon));
        }
        self
    }
}

#[derive(SimpleObject)]
pub struct ComplaintEdge {
    pub node: ComplaintListItem,
    pub cursor: String,
}

#[derive(SimpleObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

#[derive(SimpleObject)]
pub struct ComplaintConnection {
    pub edges: Vec<ComplaintEdge>,
    pub page_info: PageInfo,
    pub total_count: i64,
    /// The position of the last event the list reflects.
    pub position: i64,
}

#[derive(Default)]
pub struct ListQuery;

#[Object]
impl ListQuery {
    /// Complaints from the summary projection, newest first unless `orderBy`
    /// says otherwise (a cursor belongs to its order). Pass a mutation's
    /// returned `position` as `minPosition` to read your own write.
    async fn complaints(
        &self,
        ctx: &Context<'_>,
        filter: Option<ComplaintFilter>,
        order_by: Option<ComplaintOrder>,
        first: Option<i32>,
        after: Option<String>,
        min_position: Option<i64>,
    ) -> Result<ComplaintConnection> {
        let (actor, scope) = guard(ctx, Operation::Complaints)?;
        let filter = filter.unwrap_or_default();
        let order = ComplaintOrder::parse(order_by, filter.text.as_deref());
        let first = first.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&first) {
            return Err(invalid_input("first", "must be between 1 and 100"));
        }
        let after = match after.as_deref() {
            Some(c) => Some(Keyset::decode(c, order).ok_or_else(|| {
                invalid_input("after", "is not a cursor from this list in this order")
            })?),
            None => None,
        };
        let bus = bus(ctx)?;
        let now = bus.services().clock.now();
        let (query, circle) = list_read(&actor, scope, filter, order, now)?;
        let reads = query_reads(ctx, &[freshness::SUMMARY], min_position).await?;
        let counted = ctx.look_ahead().field("totalCount").exists();
        let (rows, more, total_count) = match &circle {
            None => {
                let (rows, more) = reads
                    .page(&query, after.as_ref(), i64::from(first))
                    .await
                    .map_err(store_error)?;
                // An export's later pages ask no total: no count for them.
                let total = if counted {
                    reads.count(&query).await.map_err(store_error)?
                } else {
                    0
                };
                (rows, more, total)
            }
            Some(c) => {
                let (rows, more) = reads
                    .page_near(&query, c, after.as_ref(), i64::from(first))
                    .await
                    .map_err(store_error)?;
                (
                    rows,
                    more,
                    reads.count_near(&query, c).await.map_err(store_error)?,
                )
            }
        };
        let position = freshness::position(&reads, freshness::SUMMARY).await?;
        let edges = rows
            .into_iter()
            .map(|row| {
                Ok(ComplaintEdge {
                    cursor: Keyset::of(order, &row).encode(),
                    node: ComplaintListItem::from_row(row, now)?.measured_from(circle.as_ref()),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ComplaintConnection {
            page_info: PageInfo {
                has_next_page: more,
                has_previous_page: after.is_some(),
                start_cursor: edges.first().map(|e| e.cursor.clone()),
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
            total_count,
            position,
        })
    }
}
