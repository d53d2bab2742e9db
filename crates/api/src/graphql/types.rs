//! Output types of the GraphQL schema.

use async_graphql::{ComplexObject, Context, Enum, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use aduan_domain::{self as domain, Actor};
use aduan_projections::history;
use aduan_projections::view::{may_see_address, may_see_internal_notes, may_see_reporter};
use aduan_projections::{ComplaintView, HistoryEntry};

use super::context::bus;
use super::error::{invalid_input, store_error};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::Channel")]
pub enum Channel {
    Web,
    Mobile,
    CallCenter,
    NationalPlatform,
    #[graphql(name = "OPEN311")]
    Open311,
    WalkIn,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::Priority")]
pub enum Priority {
    Low,
    Normal,
    High,
    Emergency,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::Status", name = "ComplaintStatus")]
pub enum ComplaintStatus {
    Submitted,
    Verified,
    Rejected,
    Assigned,
    InProgress,
    WaitingForInfo,
    /// Linked as a duplicate of an incident's primary (`linkDuplicate`): it
    /// follows the primary until unlinked or closed with it.
    Duplicate,
    Closed,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::Resolution")]
pub enum Resolution {
    Resolved,
    NotResolved,
    Duplicate,
    OutOfScope,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::RejectReason")]
pub enum RejectReason {
    Spam,
    OutOfScope,
    Incomplete,
    Duplicate,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::Role")]
pub enum Role {
    /// No token.
    Public,
    Citizen,
    Agent,
    OpdAdmin,
    OpdOfficer,
    Supervisor,
    Auditor,
    Analyst,
    System,
}

/// Who a note is for.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "domain::NoteVisibility")]
pub enum NoteVisibility {
    /// City staff only: never the citizen, the tracking-code view or analysts.
    Internal,
    /// Whoever may read the case, the tracking-code view included.
    Public,
}

/// A note on a case: a call made, a finding, a hand-over.
#[derive(SimpleObject)]
pub struct Note {
    /// The note's event sequence within the complaint (see `complaintHistory`);
    /// pass it as `after` to page.
    pub sequence: i64,
    pub text: String,
    pub visibility: NoteVisibility,
    /// Who wrote it (the token's subject), their role and OPD.
    pub author: String,
    pub role: String,
    pub author_opd: Option<String>,
    pub added_at: DateTime<Utc>,
    /// The response template the text was rendered from, and its version.
    pub template_id: Option<ID>,
    pub template_version: Option<i64>,
}

impl From<history::Note> for Note {
    fn from(n: history::Note) -> Self {
        Note {
            sequence: n.sequence,
            text: n.text,
            visibility: n.visibility.into(),
            author: n.actor_id,
            role: n.actor_role,
            author_opd: n.actor_opd,
            added_at: n.occurred_at,
            template_id: n.template.as_ref().map(|t| ID(t.id.clone())),
            template_version: n.template.map(|t| t.version),
        }
    }
}

/// Most notes one `notes` page holds.
const MAX_NOTES_PAGE: i32 = 200;

#[derive(SimpleObject)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
    pub address: Option<String>,
    /// Kecamatan code (see `kecamatan`).
    pub kecamatan: Option<String>,
    /// Kelurahan code (see `kelurahan`).
    pub kelurahan: Option<String>,
}

/// The reporter's personal data: only for roles that need it.
#[derive(SimpleObject)]
pub struct Reporter {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// A complaint's current state.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Complaint {
    pub id: ID,
    /// The number people say and quote (`MKS-2026-004512`: the city's prefix,
    /// the year, the count), given at submission; null on cases from before
    /// numbers. Not a secret: the tracking code is.
    pub number: Option<String>,
    pub status: ComplaintStatus,
    pub channel: Channel,
    /// Category code (see `categories`).
    pub category: String,
    pub priority: Priority,
    pub title: String,
    pub description: String,
    pub location: Location,
    /// Null when there is none or the viewer may not see it.
    pub reporter: Option<Reporter>,
    /// What `eraseReporterData` names the reporter by (see docs/erasure.md):
    /// for viewers who may see the reporter.
    pub reporter_ref: Option<String>,
    /// The reporter's personal data was erased: those fields read `[erased]`.
    pub personal_data_erased: bool,
    /// The reporter stopped the notifications about this case
    /// (`optOutOfNotifications`).
    pub notifications_opted_out: bool,
    pub anonymous: bool,
    /// Links the reporter gave with the report (`SubmitComplaintInput.attachments`),
    /// as given: not checked, fetched or served. Files are in `attachments`.
    pub attachment_links: Vec<String>,
    pub external_ref: Option<String>,
    /// OPD code the case is with.
    pub opd: Option<String>,
    pub officer_id: Option<String>,
    pub escalation_level: i32,
    pub resolution: Option<Resolution>,
    pub duplicate_of: Option<ID>,
    pub rating: Option<i32>,
    pub reopen_count: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The aggregate sequence: pass it as `expectedVersion` to act only on this state.
    pub version: i64,
    /// The global position of the complaint's latest event.
    pub position: i64,
    /// Only in `submitComplaint`'s response: the code that lets its holder follow
    /// the case (`trackedComplaint`) and rate it. Only its hash is stored.
    pub tracking_code: Option<String>,
    /// Whether the viewer may see INTERNAL notes (the access policy's field group).
    #[graphql(skip)]
    pub show_internal_notes: bool,
    /// Whether the viewer may see the case's attachments at all.
    #[graphql(skip)]
    pub show_attachments: bool,
    /// Notes up to this sequence only: a subscription's notice shows the case
    /// as it stood after its event, not the notes added since (`None`: all).
    #[graphql(skip)]
    pub notes_up_to: Option<i64>,
}

impl Complaint {
    pub fn from_view(view: ComplaintView, viewer: &Actor) -> Complaint {
        let show_reporter = may_see_reporter(viewer, &view.case);
        let show_address = may_see_address(viewer, &view.case);
        let show_internal_notes = may_see_internal_notes(viewer, &view.case);
        let show_attachments = domain::access::permits(
            viewer,
            domain::access::Operation::Attachments,
            &view.case,
            None,
        );
        let c = view.case;
        let reporter_ref = Some(c.reporter_ref()).filter(|_| show_reporter);
        Complaint {
            reporter_ref,
            personal_data_erased: c.personal_data_erased,
            notifications_opted_out: c.notifications_opted_out,
            id: ID(c.id),
            number: c.number,
            status: c.status.into(),
            channel: c.channel.into(),
            category: c.category,
            priority: c.priority.into(),
            title: c.title,
            description: c.description,
            location: Location {
                latitude: c.location.latitude,
                longitude: c.location.longitude,
                address: c.location.address.filter(|_| show_address),
                kecamatan: c.location.kecamatan,
                kelurahan: c.location.kelurahan,
            },
            reporter: c.reporter.filter(|_| show_reporter).map(|r| Reporter {
                name: r.name,
                phone: r.phone,
                email: r.email,
            }),
            anonymous: c.anonymous,
            attachment_links: c.attachments,
            external_ref: c.external_ref,
            opd: c.opd,
            officer_id: c.officer_id,
            escalation_level: c.escalation_level as i32,
            resolution: c.resolution.map(Into::into),
            duplicate_of: c.duplicate_of.map(ID),
            rating: c.rating.map(i32::from),
            reopen_count: c.reopen_count as i32,
            created_at: c.created_at,
            updated_at: c.updated_at,
            verified_at: c.verified_at,
            assigned_at: c.assigned_at,
            first_response_at: c.first_response_at,
            closed_at: c.closed_at,
            version: view.version,
            position: view.position,
            tracking_code: None,
            show_internal_notes,
            show_attachments,
            notes_up_to: None,
        }
    }
}

#[ComplexObject]
impl Complaint {
    /// The cases whose `duplicateOf` is this one (linked to it as its
    /// incident's reports, closed through it, or closed one-way as its
    /// duplicate), oldest first, at most 200, from the summary projection: all
    /// of them for city-wide staff, their own OPD's for an OPD's staff, none
    /// for others.
    async fn duplicates(&self, ctx: &Context<'_>) -> Result<Vec<super::list::ComplaintListItem>> {
        super::incidents::duplicates(ctx, &self.id).await
    }

    /// Staff: the open cases that may be this one's problem (same category,
    /// within the category's staff radius and age, nearest first, at most 10,
    /// linked duplicates left out), so an agent taking a report sees them in
    /// `submitComplaint`'s answer. Empty for others.
    async fn possible_duplicates(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<super::list::ComplaintListItem>> {
        let l = &self.location;
        super::nearby::possible_duplicates(ctx, &self.id, &self.category, l.latitude, l.longitude)
            .await
    }

    /// Photos and documents on the case, oldest first, each with links that
    /// expire in minutes (read the case again for fresh ones). INTERNAL ones
    /// are shown to city staff only; analysts see none.
    async fn attachments(&self, ctx: &Context<'_>) -> Result<Vec<super::attachments::Attachment>> {
        if !self.show_attachments {
            return Ok(Vec::new());
        }
        let mut events = bus(ctx)?.log().load(&self.id).await.map_err(store_error)?;
        if let Some(last) = self.notes_up_to {
            events.retain(|e| e.sequence <= last);
        }
        let signer = super::attachments::signer(ctx)?;
        let mut shown =
            super::attachments::attachments_of(&events, self.show_internal_notes, signer);
        super::attachments::presign(signer, &mut shown).await;
        Ok(shown)
    }

    /// Notes on the case, read from the event log (never behind), oldest first
    /// or with `newestFirst` newest first. INTERNAL notes are shown to city
    /// staff only (see docs/security.md); others get the PUBLIC ones. `first`
    /// is 1-200 (default 50); `after` is the `sequence` of the last note of the
    /// previous page.
    async fn notes(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
        after: Option<i64>,
        #[graphql(default)] newest_first: bool,
    ) -> Result<Vec<Note>> {
        if !(1..=MAX_NOTES_PAGE).contains(&first) {
            return Err(invalid_input("first", "must be between 1 and 200"));
        }
        let mut events = bus(ctx)?.log().load(&self.id).await.map_err(store_error)?;
        if let Some(last) = self.notes_up_to {
            events.retain(|e| e.sequence <= last);
        }
        let mut notes: Vec<history::Note> =
            history::notes(&events, self.show_internal_notes).collect();
        if newest_first {
            notes.reverse();
        }
        let past = |n: &history::Note| match after {
            None => true,
            Some(a) if newest_first => n.sequence < a,
            Some(a) => n.sequence > a,
        };
        Ok(notes
            .into_iter()
            .filter(past)
            .take(first as usize)
            .map(Into::into)
            .collect())
    }
}

/// One stored event of a complaint, as an auditor reads it.
#[derive(SimpleObject)]
pub struct HistoryEvent {
    /// Position within the complaint (1, 2, ...).
    pub sequence: i64,
    /// Position in the global event log.
    pub position: i64,
    #[graphql(name = "type")]
    pub event_type: String,
    pub event_version: String,
    /// When it happened (the domain clock).
    pub occurred_at: DateTime<Utc>,
    /// When the store recorded it.
    pub recorded_at: DateTime<Utc>,
    pub actor: String,
    pub role: String,
    pub actor_opd: Option<String>,
    /// The interface the command came in by.
    pub channel: String,
    pub correlation_id: String,
    pub command_id: Option<String>,
    /// The event's fields as stored (personal data redacted for roles that may not see it).
    pub payload: async_graphql::Json<serde_json::Value>,
    /// The response template the event's text was rendered from (a response,
    /// a question, a closing or a note), and its version: the text in
    /// `payload` is what was rendered, as the citizen read it.
    pub template_id: Option<ID>,
    pub template_version: Option<i64>,
}

impl From<HistoryEntry> for HistoryEvent {
    fn from(e: HistoryEntry) -> Self {
        HistoryEvent {
            sequence: e.sequence,
            position: e.position,
            event_type: e.event_type,
            event_version: e.event_version,
            occurred_at: e.occurred_at,
            recorded_at: e.recorded_at,
            actor: e.actor_id,
            role: e.actor_role,
            actor_opd: e.actor_opd,
            channel: e.channel,
            correlation_id: e.correlation_id,
            command_id: e.command_id,
            payload: async_graphql::Json(e.payload),
            template_id: e.template.as_ref().map(|t| ID(t.id.clone())),
            template_version: e.template.map(|t| t.version),
        }
    }
}

#[derive(SimpleObject)]
pub struct Opd {
    pub code: String,
    /// The official name, as citizens are told it.
    pub name: String,
    /// What it handles (for staff and analysts).
    pub description: Option<String>,
}

#[derive(SimpleObject)]
pub struct Category {
    pub code: String,
    pub name: String,
    pub default_opd: String,
}

#[derive(SimpleObject)]
pub struct Kecamatan {
    pub code: String,
    pub name: String,
}

/// A kelurahan of the city (the Ministry of Home Affairs' list).
#[derive(SimpleObject)]
pub struct Kelurahan {
    /// The ministry's code (`73.71.01.1001`): what cases store.
    pub code: String,
    pub name: String,
    /// Its kecamatan's code.
    pub kecamatan: String,
}

/// Who the bearer token says is asking.
#[derive(SimpleObject)]
pub struct Viewer {
    pub id: String,
    pub role: Role,
    pub opd: Option<String>,
}
