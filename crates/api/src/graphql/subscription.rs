//! Subscriptions: the process's live feed (`aduan_projections::LiveFeed`),
//! filtered for the caller. Every notice is checked against the access table
//! with the case as it stands after the event, so a case transferred away from
//! an OPD stops reaching that OPD from the transfer on, and one transferred in
//! starts. The transport (graphql-transport-ws) is in `crate::ws`.

use std::sync::Arc;

use async_graphql::futures_util::{Stream, StreamExt};
use async_graphql::{Context, InputObject, Result, SimpleObject, Subscription, ID};
use chrono::{DateTime, Utc};

use aduan_domain::access::{self, Operation};
use aduan_domain::events::EVENT_TYPES;
use aduan_domain::{Actor, Case};
use aduan_projections::view::may_see_internal_notes;
use aduan_projections::{ComplaintView, LiveFeed};
use aduan_store::LiveEvent;
use aduan_store::{Cursor, StoreError};

use super::access::{check_case, guard};
use super::context::bus;
use super::error::{gql_error, invalid_input, store_error};
use super::sla_alerts::{self, SlaAlert};
use super::tracking::{self, TrackedComplaint};
use super::types::Complaint;
use crate::error_code::ClientCode;

/// Which events `complaintEvents` delivers (all given conditions must hold; the
/// case's fields are as they stand after the event).
#[derive(InputObject, Default)]
pub struct ComplaintEventFilter {
    pub complaint_id: Option<ID>,
    /// OPD code the case is with after the event.
    pub opd: Option<String>,
    /// Category code.
    pub category: Option<String>,
    pub kecamatan: Option<String>,
    /// Event types, as `complaintHistory` names them (`Submitted`, `Assigned`, ...).
    pub types: Option<Vec<String>>,
}

impl ComplaintEventFilter {
    fn validate(&self) -> Result<()> {
        if let Some(bad) = self
            .types
            .iter()
            .flatten()
            .find(|t| !EVENT_TYPES.contains(&t.as_str()))
        {
            return Err(invalid_input(
                "types",
                &format!(
                    "unknown event type {bad:?}; known: {}",
                    EVENT_TYPES.join(", ")
                ),
            ));
        }
        Ok(())
    }

    fn matches(&self, event: &LiveEvent, case: &Case) -> bool {
        let same = |want: &Option<String>, have: Option<&str>| {
            want.as_deref().is_none_or(|w| have == Some(w))
        };
        self.complaint_id
            .as_ref()
            .is_none_or(|id| id.as_str() == event.event.aggregate_id)
            && same(&self.opd, case.opd.as_deref())
            && same(&self.category, Some(&case.category))
            && same(&self.kecamatan, case.location.kecamatan.as_deref())
            && self
                .types
                .as_ref()
                .is_none_or(|t| t.contains(&event.event.event_type))
    }
}

/// One event, as the caller may see it.
#[derive(SimpleObject)]
pub struct ComplaintEventNotice {
    /// The event's global position: pass the last one received as
    /// `afterPosition` to resume without gap or duplicate.
    pub position: i64,
    /// Position within the complaint (1, 2, ...).
    pub sequence: i64,
    #[graphql(name = "type")]
    pub event_type: String,
    pub complaint_id: ID,
    pub occurred_at: DateTime<Utc>,
    /// Who acted, as `complaintHistory` shows it; null for callers who may not
    /// read the case's history (analysts).
    pub actor: Option<String>,
    /// The role the actor acted in.
    pub role: String,
    /// The case after the event, with the fields the caller may see.
    pub complaint: Complaint,
}

#[derive(Default)]
pub struct SubscriptionRoot;

fn feed<'a>(ctx: &Context<'a>) -> Result<&'a Arc<LiveFeed>> {
    ctx.data::<Arc<LiveFeed>>()
        .map_err(|_| gql_error(ClientCode::Unavailable, "live updates are not configured"))
}

/// Where to resume after `after_position` (none: from now on).
async fn start(feed: &LiveFeed, after_position: Option<i64>) -> Result<Option<Cursor>> {
    let Some(position) = after_position else {
        return Ok(None);
    };
    if position < 0 {
        return Err(invalid_input("afterPosition", "must be 0 or more"));
    }
    match feed.cursor_after(position).await.map_err(store_error)? {
        Some(cursor) => Ok(Some(cursor)),
        None => Err(invalid_input(
            "afterPosition",
            "no event has this position (pass a position a notice carried, or 0)",
        )),
    }
}

/// The events after `from` that `actor` may receive for `op` and that
/// `wanted` picks, each with its case: INTERNAL notes only for those who may
/// see them. A failing log read ends the stream with one UNAVAILABLE error.
/// Every subscriber sees every event, so the checks look at the shared case
/// and nothing is copied for an event the subscriber does not get.
fn visible(
    feed: &Arc<LiveFeed>,
    from: Option<Cursor>,
    actor: Actor,
    op: Operation,
    wanted: impl Fn(&LiveEvent, &Case) -> bool + Send + 'static,
) -> impl Stream<Item = Result<Arc<LiveEvent>>> + Send + 'static {
    feed.events(from)
        .scan(false, |failed, item| {
            let next = match item {
                _ if *failed => None,
                Ok(event) => Some(Ok(event)),
                Err(e) => {
                    *failed = true;
                    Some(Err(live_error(e)))
                }
            };
            std::future::ready(next)
        })
        .filter_map(move |item| {
            let out = match item {
                Err(e) => Some(Err(e)),
                Ok(event) => {
                    let delivered = event.case.as_ref().is_some_and(|case| {
                        wanted(&event, case)
                            && access::permits(&actor, op, case, None)
                            && (!event.event.event.is_internal_note()
                                || may_see_internal_notes(&actor, case))
                    });
                    delivered.then_some(Ok(event))
                }
            };
            std::future::ready(out)
        })
}

fn live_error(e: StoreError) -> async_graphql::Error {
    tracing::warn!(error = %e, "live feed: a subscriber's log read failed");
    gql_error(
        ClientCode::Unavailable,
        "the event store is unavailable; subscribe again with afterPosition",
    )
}

/// The case after `event` (which `visible` delivered, so it has one).
fn complaint_of(actor: &Actor, event: &LiveEvent) -> Result<Complaint> {
    let case = event
        .case
        .clone()
        .ok_or_else(|| gql_error(ClientCode::Internal, "an event without its case"))?;
    let mut complaint = Complaint::from_view(
        ComplaintView {
            case,
            version: event.event.sequence,
            position: event.event.position,
        },
        actor,
    );
    complaint.notes_up_to = Some(event.event.sequence);
    Ok(complaint)
}

#[Subscription]
impl SubscriptionRoot {
    /// Every event the caller may see, in the log's commit-safe order (the
    /// projector's: position order, except that an event whose transaction
    /// commits late comes late rather than never). With `afterPosition` (a
    /// notice's `position`, or 0 for the start of the log) it first sends every
    /// matching event after it from the log, then continues live: no gap, no
    /// duplicate, also across a reconnect or a server restart.
    async fn complaint_events(
        &self,
        ctx: &Context<'_>,
        filter: Option<ComplaintEventFilter>,
        after_position: Option<i64>,
    ) -> Result<impl Stream<Item = Result<ComplaintEventNotice>>> {
        let (actor, _) = guard(ctx, Operation::ComplaintEvents)?;
        let filter = filter.unwrap_or_default();
        filter.validate()?;
        let feed = feed(ctx)?;
        let from = start(feed, after_position).await?;
        let wanted = move |event: &LiveEvent, case: &Case| filter.matches(event, case);
        let stream = visible(
            feed,
            from,
            actor.clone(),
            Operation::ComplaintEvents,
            wanted,
        )
        .map(move |item| {
            let event = item?;
            let e = &event.event;
            let shows_actor = event.case.as_ref().is_some_and(|case| {
                access::permits(&actor, Operation::ComplaintHistory, case, None)
            });
            Ok(ComplaintEventNotice {
                position: e.position,
                sequence: e.sequence,
                event_type: e.event_type.clone(),
                complaint_id: ID(e.aggregate_id.clone()),
                occurred_at: e.event.occurred_at(),
                actor: shows_actor.then(|| e.metadata.actor_id.clone()),
                role: e.metadata.actor_role.clone(),
                complaint: complaint_of(&actor, &event)?,
            })
        });
        Ok(stream)
    }

    /// The case after each change the caller may see. Pass the `position` of
    /// the complaint you read as `afterPosition` to miss no change in between.
    async fn complaint_updated(
        &self,
        ctx: &Context<'_>,
        id: ID,
        after_position: Option<i64>,
    ) -> Result<impl Stream<Item = Result<Complaint>>> {
        let (actor, _) = guard(ctx, Operation::ComplaintUpdated)?;
        let not_found = || gql_error(ClientCode::NotFound, "complaint not found");
        if id.len() > 100 {
            return Err(not_found());
        }
        let events = bus(ctx)?.log().load(&id).await.map_err(store_error)?;
        let view = ComplaintView::from_events(&events).ok_or_else(not_found)?;
        check_case(&actor, Operation::ComplaintUpdated, &view.case, None)?;
        let feed = feed(ctx)?;
        let from = start(feed, after_position).await?;
        let id = id.to_string();
        let wanted = move |event: &LiveEvent, _: &Case| event.event.aggregate_id == id;
        let stream = visible(
            feed,
            from,
            actor.clone(),
            Operation::ComplaintUpdated,
            wanted,
        )
        .map(move |item| complaint_of(&actor, item?.as_ref()));
        Ok(stream)
    }

    /// For whoever holds a tracking code (no token needed): the public view of
    /// the case after each change to it (INTERNAL notes are not changes here),
    /// and, while it follows an incident's primary, after each change to the
    /// primary.
    async fn tracked_complaint_updated(
        &self,
        ctx: &Context<'_>,
        tracking_code: String,
    ) -> Result<impl Stream<Item = Result<TrackedComplaint>>> {
        let (actor, _) = guard(ctx, Operation::TrackedComplaintUpdated)?;
        let log = bus(ctx)?.log().clone();
        let signer = super::attachments::signer(ctx)?.clone();
        let (id, events) = tracking::tracked(
            log.as_ref(),
            &actor,
            Operation::TrackedComplaintUpdated,
            &tracking_code,
        )
        .await?;
        let followed = ComplaintView::from_events(&events)
            .and_then(|v| v.case.incident_primary().map(str::to_string));
        // The primary the case follows, as of the last notice (a link or an
        // unlink is the case's own event, so it is seen before it matters).
        let primary = Arc::new(std::sync::Mutex::new(followed));
        let watched = primary.clone();
        let case_id = id.clone();
        let feed = feed(ctx)?;
        let stream = feed
            .events(None)
            .filter(move |item| {
                let keep = match item {
                    Ok(event) => {
                        let of = &event.event.aggregate_id;
                        let followed = watched.lock().is_ok_and(|p| p.as_ref() == Some(of));
                        (*of == id || followed) && !event.event.event.is_internal_note()
                    }
                    Err(_) => true,
                };
                std::future::ready(keep)
            })
            .then(move |item| {
                let (log, signer) = (log.clone(), signer.clone());
                let (primary, case_id) = (primary.clone(), case_id.clone());
                async move {
                    let event = item.map_err(live_error)?;
                    let own = event.event.aggregate_id == case_id;
                    let mut events = log.load(&case_id).await.map_err(store_error)?;
                    // A notice shows the case as it stood after its own event.
                    if own {
                        events.truncate(event.event.sequence as usize);
                    }
                    let followed = tracking::followed(log.as_ref(), &events).await?;
                    if let Ok(mut p) = primary.lock() {
                        *p = followed
                            .as_ref()
                            .and_then(|e| e.first().map(|e| e.aggregate_id.clone()));
                    }
                    let mut tracked = tracking::view(&events, followed.as_deref(), &signer)
                        .ok_or_else(|| gql_error(ClientCode::NotFound, "gone"))?;
                    super::attachments::presign(&signer, &mut tracked.attachments).await;
                    Ok(tracked)
                }
            });
        Ok(stream)
    }

    /// A clock turning AT_RISK or BREACHED, within about a second of the
    /// instant, whether an event or only the passing of time turned it; for one
    /// OPD with `opd`. OPD roles receive their own OPD's clocks only.
    async fn sla_alerts(
        &self,
        ctx: &Context<'_>,
        opd: Option<String>,
    ) -> Result<impl Stream<Item = Result<SlaAlert>>> {
        let (actor, scope) = guard(ctx, Operation::SlaAlerts)?;
        sla_alerts::subscribe(ctx, &actor, scope, opd)
    }
}
