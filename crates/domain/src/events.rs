use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::sla::Leg;
use crate::templates::TemplateUse;
use crate::values::{
    AttachmentRef, Channel, Location, NoteVisibility, Priority, RejectReason, Reporter, Resolution,
    Status,
};

/// Every event of a complaint's life. Stored forever and never edited: a change of
/// shape gets a new `event_version` and an upcaster for the old one.
// A submission carries the whole report; boxing it would buy nothing on a path
// that handles one command or event at a time.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ComplaintEvent {
    Submitted {
        complaint_id: String,
        channel: Channel,
        category: String,
        priority: Priority,
        title: String,
        description: String,
        location: Location,
        reporter: Option<Reporter>,
        anonymous: bool,
        attachments: Vec<String>,
        external_ref: Option<String>,
        /// The hash of the tracking code handed to the submitter (see `tracking`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tracking_code_hash: Option<String>,
        /// The case number (`numbering`); none on cases submitted before
        /// numbers existed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        number: Option<String>,
        occurred_at: DateTime<Utc>,
    },
    Verified {
        priority: Priority,
        category: String,
        note: Option<String>,
        occurred_at: DateTime<Utc>,
    },
    Rejected {
        reason: RejectReason,
        note: Option<String>,
        occurred_at: DateTime<Utc>,
    },
    /// The Command Center corrected where the case is: `location` is the whole
    /// place after the correction (its `address` is personal data, as a
    /// submission's is). Moves no SLA clock.
    LocationCorrected {
        location: Location,
        reason: Option<String>,
        occurred_at: DateTime<Utc>,
    },
    Assigned {
        opd: String,
        officer_id: Option<String>,
        note: Option<String>,
        occurred_at: DateTime<Utc>,
    },
    /// `reason` is the free text given with it, else the reason code's name.
    Transferred {
        from_opd: String,
        to_opd: String,
        reason: String,
        /// The configured reason (`handoffs`); none on transfers from before codes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason_code: Option<String>,
        occurred_at: DateTime<Utc>,
    },
    /// The OPD holding the case gave it back to the Command Center, to be
    /// dispatched again: the case is VERIFIED and with no OPD.
    ReturnedToCommandCenter {
        from_opd: String,
        reason_code: String,
        note: Option<String>,
        occurred_at: DateTime<Utc>,
    },
    Responded {
        message: String,
        /// The template the text was rendered from (`templates`), if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        template: Option<TemplateUse>,
        occurred_at: DateTime<Utc>,
    },
    InfoRequested {
        question: String,
        /// The template the text was rendered from (`templates`), if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        template: Option<TemplateUse>,
        occurred_at: DateTime<Utc>,
    },
    InfoProvided {
        answer: String,
        attachments: Vec<String>,
        occurred_at: DateTime<Utc>,
    },
    FieldHandled {
        notes: String,
        handled_at: DateTime<Utc>,
        photos: Vec<String>,
        occurred_at: DateTime<Utc>,
    },
    Escalated {
        level: u32,
        reason: String,
        /// Set when the escalation was automatic, for the hand-off loop it detected.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        handoff_loop: Option<crate::handoffs::HandoffLoop>,
        occurred_at: DateTime<Utc>,
    },
    Closed {
        resolution: Resolution,
        summary: String,
        duplicate_of: Option<String>,
        /// The template the text was rendered from (`templates`), if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        template: Option<TemplateUse>,
        occurred_at: DateTime<Utc>,
    },
    Reopened {
        reason: String,
        occurred_at: DateTime<Utc>,
    },
    Rated {
        score: u8,
        comment: Option<String>,
        occurred_at: DateTime<Utc>,
    },
    /// The case was linked as a duplicate of an incident's primary: it follows
    /// the primary, its SLA clocks are suspended, and `prior_status` is what an
    /// unlinking restores. `distance_meters` is between the two cases' places;
    /// `rule` says how the link relates to the category's nearby rule
    /// (`nearby::LinkRule`), `rule_radius_meters` that rule's staff radius.
    DuplicateLinked {
        primary_id: String,
        reason: String,
        distance_meters: f64,
        rule: String,
        rule_radius_meters: u32,
        prior_status: Status,
        occurred_at: DateTime<Utc>,
    },
    /// The link was undone: the case is its own again, in `restored_status`,
    /// its clocks running from where they were suspended.
    DuplicateUnlinked {
        primary_id: String,
        reason: String,
        restored_status: Status,
        occurred_at: DateTime<Utc>,
    },
    /// A leg's deadline passed; the case goes up one escalation level.
    SlaBreached {
        leg: Leg,
        deadline: DateTime<Utc>,
        level: u32,
        occurred_at: DateTime<Utc>,
    },
    /// Closed by the watcher: the citizen did not answer in time.
    AutoClosed {
        waiting_since: DateTime<Utc>,
        reason: String,
        occurred_at: DateTime<Utc>,
    },
    /// A note on the case. It changes no status and no SLA clock; INTERNAL
    /// notes are shown only to roles the access policy lets see them.
    NoteAdded {
        text: String,
        visibility: NoteVisibility,
        /// The template the text was rendered from (`templates`), if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        template: Option<TemplateUse>,
        occurred_at: DateTime<Utc>,
    },
    /// A photo or document on the case (a reference; the bytes are in the
    /// object store). Like a note, it changes nothing else of the case.
    AttachmentAdded {
        file: AttachmentRef,
        occurred_at: DateTime<Utc>,
    },
    /// A supervisor erased the reporter's personal data (see `erasure`): the
    /// case's keys are destroyed right after this is appended, so every
    /// personal field of the case reads as `erasure::ERASED` from then on.
    /// Like a note, it changes no status, no SLA clock, not `updated_at`.
    ReporterDataErased {
        reporter_ref: String,
        reason: String,
        occurred_at: DateTime<Utc>,
    },
    /// The citizen answered the satisfaction survey (IKM), once per case.
    SurveyAnswered {
        answers: Vec<crate::ikm::SurveyAnswer>,
        occurred_at: DateTime<Utc>,
    },
    /// The reporter asked to receive no more notifications (e-mail, SMS,
    /// WhatsApp) about this case. Like a note, it changes no status, no SLA
    /// clock, not `updated_at`.
    NotificationsOptedOut { occurred_at: DateTime<Utc> },
    /// A recorded decision that this case's clocks count in calendar version
    /// `version`: a correction of the past (a day off that was missing, a
    /// holiday moved) applied to the cases a what-if showed it moves
    /// (`aduan sla correct-calendar`, docs/operations.md). Its deadlines move
    /// from the next read on; no status changes, not `updated_at` either.
    CalendarCorrected {
        version: u32,
        /// The calendar change's reason, as the settings give it.
        reason: String,
        occurred_at: DateTime<Utc>,
    },
}

/// The version most events are written with today.
pub const EVENT_VERSION: &str = "1";

/// The version of the event types that hold personal data (see
/// `erasure::personal_fields`): from version 2 on, each personal field may be
/// sealed (encrypted under the case's key) instead of plain text. A version 1
/// payload is a version 2 one with nothing sealed (`aduan_store::codec`'s
/// upcaster says so).
pub const PERSONAL_EVENT_VERSION: &str = "2";

/// Every `event_type_name`, for clients that filter by type.
pub const EVENT_TYPES: [&str; 25] = [
    "Submitted",
    "Verified",
    "Rejected",
    "LocationCorrected",
    "Assigned",
    "Transferred",
    "ReturnedToCommandCenter",
    "Responded",
    "InfoRequested",
    "InfoProvided",
    "FieldHandled",
    "Escalated",
    "Closed",
    "Reopened",
    "Rated",
    "DuplicateLinked",
    "DuplicateUnlinked",
    "SlaBreached",
    "AutoClosed",
    "NoteAdded",
    "AttachmentAdded",
    "ReporterDataErased",
    "SurveyAnswered",
    "NotificationsOptedOut",
    "CalendarCorrected",
];

impl ComplaintEvent {
    pub fn event_type_name(&self) -> &'static str {
        match self {
            ComplaintEvent::Submitted { .. } => "Submitted",
            ComplaintEvent::Verified { .. } => "Verified",
            ComplaintEvent::Rejected { .. } => "Rejected",
            ComplaintEvent::LocationCorrected { .. } => "LocationCorrected",
            ComplaintEvent::Assigned { .. } => "Assigned",
            ComplaintEvent::Transferred { .. } => "Transferred",
            ComplaintEvent::ReturnedToCommandCenter { .. } => "ReturnedToCommandCenter",
            ComplaintEvent::Responded { .. } => "Responded",
            ComplaintEvent::InfoRequested { .. } => "InfoRequested",
            ComplaintEvent::InfoProvided { .. } => "InfoProvided",
            ComplaintEvent::FieldHandled { .. } => "FieldHandled",
            ComplaintEvent::Escalated { .. } => "Escalated",
            ComplaintEvent::Closed { .. } => "Closed",
            ComplaintEvent::Reopened { .. } => "Reopened",
            ComplaintEvent::Rated { .. } => "Rated",
            ComplaintEvent::DuplicateLinked { .. } => "DuplicateLinked",
            ComplaintEvent::DuplicateUnlinked { .. } => "DuplicateUnlinked",
            ComplaintEvent::SlaBreached { .. } => "SlaBreached",
            ComplaintEvent::AutoClosed { .. } => "AutoClosed",
            ComplaintEvent::NoteAdded { .. } => "NoteAdded",
            ComplaintEvent::AttachmentAdded { .. } => "AttachmentAdded",
            ComplaintEvent::ReporterDataErased { .. } => "ReporterDataErased",
            ComplaintEvent::SurveyAnswered { .. } => "SurveyAnswered",
            ComplaintEvent::NotificationsOptedOut { .. } => "NotificationsOptedOut",
            ComplaintEvent::CalendarCorrected { .. } => "CalendarCorrected",
        }
    }

    pub fn occurred_at(&self) -> DateTime<Utc> {
        match self {
            ComplaintEvent::Submitted { occurred_at, .. }
            | ComplaintEvent::Verified { occurred_at, .. }
            | ComplaintEvent::Rejected { occurred_at, .. }
            | ComplaintEvent::LocationCorrected { occurred_at, .. }
            | ComplaintEvent::Assigned { occurred_at, .. }
            | ComplaintEvent::Transferred { occurred_at, .. }
            | ComplaintEvent::ReturnedToCommandCenter { occurred_at, .. }
            | ComplaintEvent::Responded { occurred_at, .. }
            | ComplaintEvent::InfoRequested { occurred_at, .. }
            | ComplaintEvent::InfoProvided { occurred_at, .. }
            | ComplaintEvent::FieldHandled { occurred_at, .. }
            | ComplaintEvent::Escalated { occurred_at, .. }
            | ComplaintEvent::Closed { occurred_at, .. }
            | ComplaintEvent::Reopened { occurred_at, .. }
            | ComplaintEvent::Rated { occurred_at, .. }
            | ComplaintEvent::DuplicateLinked { occurred_at, .. }
            | ComplaintEvent::DuplicateUnlinked { occurred_at, .. }
            | ComplaintEvent::SlaBreached { occurred_at, .. }
            | ComplaintEvent::AutoClosed { occurred_at, .. }
            | ComplaintEvent::NoteAdded { occurred_at, .. }
            | ComplaintEvent::AttachmentAdded { occurred_at, .. }
            | ComplaintEvent::ReporterDataErased { occurred_at, .. }
            | ComplaintEvent::SurveyAnswered { occurred_at, .. }
            | ComplaintEvent::NotificationsOptedOut { occurred_at }
            | ComplaintEvent::CalendarCorrected { occurred_at, .. } => *occurred_at,
        }
    }

    /// Whether files may ride on this event's command (evidence with a report
    /// or an answer, pictures with a visit, a response, a closing or a note).
    pub fn carries_files(&self) -> bool {
        matches!(
            self,
            ComplaintEvent::Submitted { .. }
                | ComplaintEvent::InfoProvided { .. }
                | ComplaintEvent::Responded { .. }
                | ComplaintEvent::FieldHandled { .. }
                | ComplaintEvent::Closed { .. }
                | ComplaintEvent::NoteAdded { .. }
        )
    }

    /// The response template the event's text was rendered from, if any.
    pub fn template_use(&self) -> Option<&TemplateUse> {
        match self {
            ComplaintEvent::Responded { template, .. }
            | ComplaintEvent::InfoRequested { template, .. }
            | ComplaintEvent::Closed { template, .. }
            | ComplaintEvent::NoteAdded { template, .. } => template.as_ref(),
            _ => None,
        }
    }

    /// A note or attachment only staff may see (see
    /// `access::Operation::InternalNotes`).
    pub fn is_internal_note(&self) -> bool {
        match self {
            ComplaintEvent::NoteAdded { visibility, .. } => *visibility == NoteVisibility::Internal,
            ComplaintEvent::AttachmentAdded { file, .. } => {
                file.visibility == NoteVisibility::Internal
            }
            _ => false,
        }
    }
}

impl DomainEvent for ComplaintEvent {
    fn event_type(&self) -> String {
        self.event_type_name().to_string()
    }

    fn event_version(&self) -> String {
        if crate::erasure::personal_fields(self.event_type_name()).is_empty() {
            EVENT_VERSION.to_string()
        } else {
            PERSONAL_EVENT_VERSION.to_string()
        }
    }
}
