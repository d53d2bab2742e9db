//! The public view of a case, for whoever holds its tracking code: status,
//! the OPD's replies and timestamps, nothing about the reporter or the place.

use async_graphql::{Context, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use aduan_domain::access::Operation;
use aduan_domain::{disclosure, tracking, Actor, ComplaintEvent, Status};
use aduan_projections::ComplaintView;
use aduan_store::{EventLog, StoredEvent};

use super::access::{check_case, guard};
use super::context::bus;
use super::error::{gql_error, store_error};
use super::types::{ComplaintStatus, Resolution};
use crate::attachments::Attachments;
use crate::error_code::ClientCode;

/// A reply the handling OPD addressed to the reporter.
#[derive(SimpleObject)]
pub struct PublicResponse {
    pub message: String,
    pub responded_at: DateTime<Utc>,
}

/// A PUBLIC note on the case (INTERNAL notes are never shown here).
#[derive(SimpleObject)]
pub struct PublicNote {
    pub text: String,
    pub added_at: DateTime<Utc>,
}

/// What a tracking code shows.
#[derive(SimpleObject)]
pub struct TrackedComplaint {
    pub id: ID,
    /// The number to quote to the Command Center (112): the reporter's own
    /// case's, also while it follows an incident.
    pub number: Option<String>,
    pub status: ComplaintStatus,
    /// Category code (see `categories`).
    pub category: String,
    /// The OPD handling the case.
    pub opd: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub resolution: Option<Resolution>,
    pub rating: Option<i32>,
    /// Whether the current closure can still be rated (with `rateComplaint` and
    /// the code).
    pub can_rate: bool,
    /// Whether the satisfaction survey (IKM) can be answered now (with
    /// `answerSurvey` and the code): the case is closed and not surveyed yet.
    pub can_answer_survey: bool,
    /// The notifications about this case are stopped (`optOutOfNotifications`
    /// with the code).
    pub notifications_opted_out: bool,
    /// Oldest first.
    pub responses: Vec<PublicResponse>,
    /// The PUBLIC notes, oldest first.
    pub notes: Vec<PublicNote>,
    /// The staff's closing words to the reporter (the summary, or the
    /// watcher's text when the case closed itself); null unless closed.
    pub closing_summary: Option<String>,
    /// The PUBLIC photos and documents, oldest first, with links that expire.
    pub attachments: Vec<super::attachments::Attachment>,
    /// The case was linked as a duplicate of an incident's primary case: the
    /// status, the handling dates, the resolution and the closing words are
    /// the primary's, and its replies are listed with the case's own.
    pub follows_incident: bool,
}

fn not_found() -> async_graphql::Error {
    gql_error(ClientCode::NotFound, "no complaint has this tracking code")
}

/// The complaint a tracking code is for and its events, if `actor` may follow
/// it with `op`; a wrong code answers as if there were no such case.
pub async fn tracked(
    log: &dyn EventLog,
    actor: &Actor,
    op: Operation,
    tracking_code: &str,
) -> Result<(String, Vec<StoredEvent>)> {
    let id = tracking::complaint_id_of(tracking_code).ok_or_else(not_found)?;
    let events = log.load(&id).await.map_err(store_error)?;
    let view = ComplaintView::from_events(&events).ok_or_else(not_found)?;
    check_case(actor, op, &view.case, Some(tracking_code)).map_err(|_| not_found())?;
    Ok((id, events))
}

/// The events of the incident `events`' case follows, if it follows one: a
/// case linked as a duplicate (or closed through its primary) shows its
/// primary's progress (`view`).
pub async fn followed(
    log: &dyn EventLog,
    events: &[StoredEvent],
) -> Result<Option<Vec<StoredEvent>>> {
    let Some(view) = ComplaintView::from_events(events) else {
        return Ok(None);
    };
    let Some(primary) = view.case.incident_primary() else {
        return Ok(None);
    };
    let primary_events = log.load(primary).await.map_err(store_error)?;
    Ok(Some(primary_events).filter(|e| !e.is_empty()))
}

/// What the reporter reads of a case's texts: its replies and PUBLIC notes.
fn public_texts(events: &[StoredEvent]) -> (Vec<PublicResponse>, Vec<PublicNote>) {
    let responses = events
        .iter()
        .filter(|e| matches!(e.event, ComplaintEvent::Responded { .. }))
        .filter_map(|e| {
            Some(PublicResponse {
                message: disclosure::public_text(&e.event)?.to_string(),
                responded_at: e.event.occurred_at(),
            })
        })
        .collect();
    let notes = events
        .iter()
        .filter(|e| matches!(e.event, ComplaintEvent::NoteAdded { .. }))
        .filter_map(|e| {
            Some(PublicNote {
                text: disclosure::public_text(&e.event)?.to_string(),
                added_at: e.event.occurred_at(),
            })
        })
        .collect();
    (responses, notes)
}

/// The staff's closing words, while the case is closed.
fn closing_summary(events: &[StoredEvent], status: Status) -> Option<String> {
    events
        .iter()
        .rev()
        .find(|e| {
            matches!(
                e.event,
                ComplaintEvent::Closed { .. } | ComplaintEvent::AutoClosed { .. }
            )
        })
        .and_then(|e| disclosure::public_text(&e.event))
        .filter(|_| status == Status::Closed)
        .map(str::to_string)
}

/// The public view of a case from its events; with `primary`, the events of
/// the incident it follows (`followed`), whose status, handling, replies and
/// closing it shows beside its own replies. Rating and the survey stay the
/// case's own, open once both it and its primary are closed.
pub fn view(
    events: &[StoredEvent],
    primary: Option<&[StoredEvent]>,
    signer: &Attachments,
) -> Option<TrackedComplaint> {
    let own = ComplaintView::from_events(events)?.case;
    let lead = match primary.and_then(ComplaintView::from_events) {
        Some(p) => p.case,
        None => own.clone(),
    };
    let (mut responses, mut notes) = public_texts(events);
    let mut closing = closing_summary(events, own.status);
    if let Some(p) = primary.filter(|_| lead.id != own.id) {
        let (more_responses, more_notes) = public_texts(p);
        responses.extend(more_responses);
        responses.sort_by_key(|r| r.responded_at);
        notes.extend(more_notes);
        notes.sort_by_key(|n| n.added_at);
        closing = closing_summary(p, lead.status);
    }
    let closed = own.status == Status::Closed && lead.status == Status::Closed;
    Some(TrackedComplaint {
        closing_summary: closing,
        can_rate: closed && own.rated_closure != Some(own.closure_count),
        can_answer_survey: closed && !own.survey_answered,
        notifications_opted_out: own.notifications_opted_out,
        follows_incident: lead.id != own.id,
        number: own.number.clone(),
        id: ID(own.id),
        status: lead.status.into(),
        category: own.category,
        opd: lead.opd,
        created_at: own.created_at,
        updated_at: own.updated_at.max(lead.updated_at),
        verified_at: lead.verified_at,
        assigned_at: lead.assigned_at,
        first_response_at: lead.first_response_at,
        closed_at: lead.closed_at,
        resolution: lead.resolution.map(Into::into),
        rating: own.rating.map(i32::from),
        responses,
        notes,
        attachments: super::attachments::attachments_of(events, false, signer),
    })
}

#[derive(Default)]
pub struct TrackingQuery;

#[Object]
impl TrackingQuery {
    /// The public view of the case a tracking code was issued for (no token
    /// needed). Read from the event log, so it is never behind.
    async fn tracked_complaint(
        &self,
        ctx: &Context<'_>,
        tracking_code: String,
    ) -> Result<TrackedComplaint> {
        let (actor, _) = guard(ctx, Operation::TrackedComplaint)?;
        let log = bus(ctx)?.log();
        let (_, events) = tracked(
            log.as_ref(),
            &actor,
            Operation::TrackedComplaint,
            &tracking_code,
        )
        .await?;
        let signer = super::attachments::signer(ctx)?;
        let primary = followed(log.as_ref(), &events).await?;
        let mut tracked = view(&events, primary.as_deref(), signer).ok_or_else(not_found)?;
        super::attachments::presign(signer, &mut tracked.attachments).await;
        Ok(tracked)
    }
}
