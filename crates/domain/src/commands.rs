use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::actor::Actor;
use crate::handoffs::ReasonCode;
use crate::ikm::SurveyAnswers;
use crate::sla::Leg;
use crate::templates::TemplateUse;
use crate::values::{
    CategoryCode, Channel, Code, Contact, Links, LongText, NoteVisibility, OpdCode, Place,
    PlaceCorrection, Priority, RejectReason, Resolution, Score, ShortText, Status, StoredFile,
    Title,
};

/// A command: what the actor wants done to one complaint, in values already
/// checked (see `values`): the aggregate decides only what depends on the case.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub actor: Actor,
    pub action: Action,
    /// Files recorded with the action, each as an `AttachmentAdded` event after
    /// its own, in the same append (see `Complaint::decide_all`).
    pub files: Vec<StoredFile>,
}

impl Command {
    pub fn new(actor: Actor, action: Action) -> Self {
        Command {
            actor,
            action,
            files: Vec::new(),
        }
    }

    pub fn with_files(self, files: Vec<StoredFile>) -> Self {
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
    CorrectLocation(CorrectLocation),
    Assign(Assign),
    Transfer(Transfer),
    ReturnToCommandCenter(ReturnToCommandCenter),
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
    LinkDuplicate(LinkDuplicate),
    UnlinkDuplicate(UnlinkDuplicate),
    CloseWithIncident(CloseWithIncident),
    CorrectCalendar(CorrectCalendar),
}

/// Each action's verb, for error messages ("cannot rate a complaint that is
/// ASSIGNED").
pub trait Verb {
    const VERB: &'static str;
}

macro_rules! verbs {
    ($($action:ident => $verb:expr),+ $(,)?) => {
        $(impl Verb for $action {
            const VERB: &'static str = $verb;
        })+

        impl Action {
            pub fn verb(&self) -> &'static str {
                match self {
                    $(Action::$action(_) => $action::VERB),+
                }
            }
        }
    };
}

verbs! {
    Submit => "submit",
    Verify => "verify",
    Reject => "reject",
    CorrectLocation => "correct the location of",
    Assign => "assign",
    Transfer => "transfer",
    ReturnToCommandCenter => "return to the Command Center",
    Respond => "respond to",
    RequestInfo => "request information on",
    ProvideInfo => "provide information on",
    RecordFieldHandling => "record field handling on",
    Escalate => "escalate",
    Close => "close",
    Reopen => "reopen",
    Rate => "rate",
    AddNote => "add a note to",
    AddAttachment => "attach a file to",
    RecordBreach => "record an SLA breach on",
    AutoClose => "close automatically",
    EraseReporterData => "erase the reporter's data on",
    AnswerSurvey => SURVEY_VERB,
    OptOutOfNotifications => OPT_OUT_VERB,
    LinkDuplicate => "link as a duplicate",
    UnlinkDuplicate => "unlink as a duplicate",
    CloseWithIncident => "close with its incident",
    CorrectCalendar => "correct the calendar of",
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Submit {
    pub complaint_id: Code,
    pub channel: Channel,
    pub category: CategoryCode,
    pub priority: Option<Priority>,
    pub title: Title,
    pub description: LongText,
    pub location: Place,
    /// None with `anonymous` false means the reporter gave no details.
    pub reporter: Option<Contact>,
    pub anonymous: bool,
    pub attachments: Links,
    pub external_ref: Option<Code>,
    /// The hash of the tracking code the submitter is given.
    pub tracking_code_hash: Option<String>,
    /// The case number the command bus drew for it (`numbering`): set by the
    /// bus, never by a client, and out of the command's digest, so a retried
    /// submission matches the first whatever number each drew.
    #[serde(skip)]
    pub number: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verify {
    pub priority: Option<Priority>,
    pub category: Option<CategoryCode>,
    pub note: Option<LongText>,
    /// Placed while verifying: recorded as a `LocationCorrected` before the
    /// `Verified` (see `Complaint::decide_all`), none when it changes nothing.
    /// Left out of the command's digest when absent, so a verification's
    /// digest (the idempotency check) is what it was before places existed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<PlaceCorrection>,
}

/// The Command Center corrects where the case is (or places an imported case
/// that came without a kecamatan).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorrectLocation {
    pub correction: PlaceCorrection,
    /// Why; none when the place is set while verifying.
    pub reason: Option<LongText>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reject {
    pub reason: RejectReason,
    pub note: Option<LongText>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assign {
    pub opd: OpdCode,
    pub officer_id: Option<Code>,
    pub note: Option<LongText>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transfer {
    pub to_opd: OpdCode,
    pub reason_code: ReasonCode,
    pub note: Option<LongText>,
}

/// The OPD holding a case gives it back to the Command Center.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReturnToCommandCenter {
    pub reason_code: ReasonCode,
    pub note: Option<LongText>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Respond {
    pub message: LongText,
    /// The template `message` was rendered from, if any (the edge renders it).
    pub template: Option<TemplateUse>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestInfo {
    pub question: LongText,
    /// The template `question` was rendered from, if any (the edge renders it).
    pub template: Option<TemplateUse>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProvideInfo {
    pub answer: LongText,
    pub attachments: Links,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordFieldHandling {
    pub notes: LongText,
    pub handled_at: DateTime<Utc>,
    pub photos: Links,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Escalate {
    pub reason: ShortText,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Close {
    pub resolution: Resolution,
    pub summary: LongText,
    pub duplicate_of: Option<Code>,
    /// The template `summary` was rendered from, if any (the edge renders it).
    pub template: Option<TemplateUse>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reopen {
    pub reason: LongText,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rate {
    pub score: Score,
    pub comment: Option<LongText>,
    /// Rating by tracking code, without an account.
    pub tracking_code: Option<String>,
}

/// A note on the case: a call made, a finding, a hand-over. It changes nothing
/// but the record; INTERNAL notes are for city staff only.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AddNote {
    pub text: LongText,
    pub visibility: NoteVisibility,
    /// The template `text` was rendered from, if any (the edge renders it).
    pub template: Option<TemplateUse>,
}

/// A photo or document on the case, already checked and stored (the API keeps
/// the bytes in the object store; the event keeps this reference only).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AddAttachment {
    pub file: StoredFile,
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
    pub reason: LongText,
}

/// The system records that a correction of the calendar applies to this
/// case (`ComplaintEvent::CalendarCorrected`), on an operator's decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorrectCalendar {
    pub version: u32,
    pub reason: LongText,
}

/// `Action::AnswerSurvey`'s verb, for errors.
pub const SURVEY_VERB: &str = "answer the satisfaction survey of";

/// The citizen's answers to the satisfaction survey (IKM, see `ikm`): each
/// element's score (1-4).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnswerSurvey {
    pub answers: SurveyAnswers,
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

/// The Command Center (or the OPD holding both cases) links this case to an
/// incident's primary. The aggregate sees one stream, so the edge reads the
/// primary and counts the cases linked to this one; those facts are left out
/// of the command's digest (a retry after the primary moved is the same
/// command), only the primary's id and the reason are in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkDuplicate {
    pub primary_id: Code,
    pub reason: LongText,
    #[serde(skip)]
    pub primary: Option<PrimaryFacts>,
    /// How many cases are linked to this one as their primary.
    #[serde(skip)]
    pub own_duplicates: u32,
}

/// The primary as its own stream says it stands when the link is asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct PrimaryFacts {
    pub status: Status,
    pub category: String,
    pub opd: Option<String>,
    pub latitude: f64,
    pub longitude: f64,
}

/// Undo a link: the case is its own again.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnlinkDuplicate {
    pub reason: LongText,
}

/// The incident follower closes a linked duplicate when its primary closes,
/// with the primary's resolution and summary (SYSTEM only).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CloseWithIncident {
    pub primary_id: Code,
    pub resolution: Resolution,
    pub summary: LongText,
}

impl Action {
    /// Records that the action's text was rendered from a template; `false`
    /// for actions that carry no text a template could write.
    pub fn set_template(&mut self, used: TemplateUse) -> bool {
        let slot = match self {
            Action::Respond(r) => &mut r.template,
            Action::RequestInfo(r) => &mut r.template,
            Action::Close(c) => &mut c.template,
            Action::AddNote(n) => &mut n.template,
            _ => return false,
        };
        *slot = Some(used);
        true
    }

    /// Puts a text rendered from `used` in place of the action's own (a bulk
    /// action renders its template once per case); `false` for actions that
    /// carry no text a template could write.
    pub fn set_rendered(&mut self, text: LongText, used: TemplateUse) -> bool {
        let slot = match self {
            Action::Respond(r) => &mut r.message,
            Action::RequestInfo(r) => &mut r.question,
            Action::Close(c) => &mut c.summary,
            Action::AddNote(n) => &mut n.text,
            _ => return false,
        };
        *slot = text;
        self.set_template(used)
    }
}
