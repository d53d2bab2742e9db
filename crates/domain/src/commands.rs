use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::actor::Actor;
use crate::sla::Leg;
use crate::values::{
    AttachmentRef, Channel, Location, NoteVisibility, Priority, RejectReason, Reporter, Resolution,
};

/// A command: what the actor wants done to one complaint.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub actor: Actor,
    pub action: Action,
    /// Files recorded with the action, each as an `AttachmentAdded` event after
    /// its own, in the same append (see `Complaint::decide_all`).
    pub files: Vec<AttachmentRef>,
}

impl Command {
    pub fn new(actor: Actor, action: Action) -> Self {
        Command {
            actor,
            action,
            files: Vec::new(),
        }
    }

    pub fn with_files(self, files: Vec<AttachmentRef>) -> Self {
        Command { files, ..self }
    }
}

// A submission carries the whole report; boxing it would buy nothing on a path
// that handles one command or event at a time.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Submit(Submit),
    Verify(Verify),
    Reject(Reject),
    Assign(Assign),
    Transfer(Transfer),
    Respond(Respond),
    RequestInfo(RequestInfo),
    ProvideInfo(ProvideInfo),
    RecordFieldHandling(RecordFieldHandling),
    Escalate(Escalate),
    Close(Close),
    Reopen(Reopen),
    Rate(Rate),
    AddNote(AddNote),
    AddAttachment(AddAttachment),
    RecordBreach(RecordBreach),
    AutoClose(AutoClose),
    EraseReporterData(EraseReporterData),
    AnswerSurvey(AnswerSurvey),
    OptOutOfNotifications(OptOutOfNotifications),
}

impl Action {
    /// A verb for error messages ("cannot rate a complaint that is ASSIGNED").
    pub fn verb(&self) -> &'static str {
        match self {
            Action::Submit(_) => "submit",
            Action::Verify(_) => "verify",
            Action::Reject(_) => "reject",
            Action::Assign(_) => "assign",
            Action::Transfer(_) => "transfer",
            Action::Respond(_) => "respond to",
            Action::RequestInfo(_) => "request information on",
            Action::ProvideInfo(_) => "provide information on",
            Action::RecordFieldHandling(_) => "record field handling on",
            Action::Escalate(_) => "escalate",
            Action::Close(_) => "close",
            Action::Reopen(_) => "reopen",
            Action::Rate(_) => "rate",
            Action::AddNote(_) => "add a note to",
            Action::AddAttachment(_) => "attach a file to",
            Action::RecordBreach(_) => "record an SLA breach on",
            Action::AutoClose(_) => "close automatically",
            Action::EraseReporterData(_) => "erase the reporter's data on",
            Action::AnswerSurvey(_) => SURVEY_VERB,
            Action::OptOutOfNotifications(_) => OPT_OUT_VERB,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Submit {
    pub complaint_id: String,
    pub channel: Channel,
    pub category: String,
    pub priority: Option<Priority>,
    pub title: String,
    pub description: String,
    pub location: Location,
    /// None with `anonymous` false means the reporter gave no details.
    pub reporter: Option<Reporter>,
    pub anonymous: bool,
    pub attachments: Vec<String>,
    pub external_ref: Option<String>,
    /// The hash of the tracking code the submitter is given.
    pub tracking_code_hash: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verify {
    pub priority: Option<Priority>,
    pub category: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reject {
    pub reason: RejectReason,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assign {
    pub opd: String,
    pub officer_id: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transfer {
    pub to_opd: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Respond {
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestInfo {
    pub question: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProvideInfo {
    pub answer: String,
    pub attachments: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordFieldHandling {
    pub notes: String,
    pub handled_at: DateTime<Utc>,
    pub photos: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Escalate {
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Close {
    pub resolution: Resolution,
    pub summary: String,
    pub duplicate_of: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reopen {
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rate {
    pub score: i32,
    pub comment: Option<String>,
    /// Rating by tracking code, without an account.
    pub tracking_code: Option<String>,
}

/// A note on the case: a call made, a finding, a hand-over. It changes nothing
/// but the record; INTERNAL notes are for city staff only.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AddNote {
    pub text: String,
    pub visibility: NoteVisibility,
}

/// A photo or document on the case, already checked and stored (the API keeps
/// the bytes in the object store; the event keeps this reference only).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AddAttachment {
    pub file: AttachmentRef,
    /// Attaching by tracking code, without an account.
    pub tracking_code: Option<String>,
}

/// The deadline watcher records that a leg's deadline passed (and escalates).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordBreach {
    pub leg: Leg,
    pub deadline: DateTime<Utc>,
}

/// The watcher closes a case the citizen never answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AutoClose {
    /// Since when the case has waited for the citizen.
    pub waiting_since: DateTime<Utc>,
}

/// A supervisor erases the reporter's personal data on this case (Law No. 27
/// of 2022): recorded as `ReporterDataErased`, after which the store destroys
/// the case's keys (see `erasure`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EraseReporterData {
    /// Why: the citizen's request, its reference, the legal ground.
    pub reason: String,
}

/// `Action::AnswerSurvey`'s verb, for errors.
pub const SURVEY_VERB: &str = "answer the satisfaction survey of";

/// The citizen's answers to the satisfaction survey (IKM, see `ikm`): each
/// element's code (U1..U9) and score (1-4), as given (checked by the aggregate).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnswerSurvey {
    pub answers: Vec<(String, i32)>,
    /// Answering by tracking code, without an account.
    pub tracking_code: Option<String>,
}

/// `Action::OptOutOfNotifications`' verb, for errors.
pub const OPT_OUT_VERB: &str = "stop the notifications of";

/// The reporter (or the Command Center, on the reporter's word) stops the
/// notifications about one case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OptOutOfNotifications {
    /// Opting out by tracking code, without an account.
    pub tracking_code: Option<String>,
}
