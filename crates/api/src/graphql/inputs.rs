//! Input types: one per mutation, each naming its complaint and carrying the
//! optional idempotency key and expected version. Each parses into its domain
//! action's checked values here, at the edge, before a command exists; a
//! refusal names the input's field as the domain does (its Rust name), which
//! `error::command_error` turns into the GraphQL name.

use async_graphql::{InputObject, Upload, ID};
use chrono::{DateTime, Utc};

use aduan_domain as domain;
use aduan_domain::access::Operation;
use aduan_domain::ikm::SurveyAnswers;
use aduan_domain::{
    CategoryCode, Code, ComplaintError, Contact, Links, LongText, OpdCode, Place, PlaceCorrection,
    ReferenceData, Score, Title,
};

use super::types::{Channel, NoteVisibility, Priority, RejectReason, Resolution};

/// Which complaint, and how the command may be retried or guarded.
#[derive(InputObject, Clone)]
pub struct Target {
    pub complaint_id: ID,
    /// Idempotency key: re-sending a command with the same id returns the first
    /// result and appends nothing.
    pub command_id: Option<String>,
    /// Act only if the complaint is still at this version; otherwise CONFLICT.
    pub expected_version: Option<i64>,
}

#[derive(InputObject)]
pub struct LocationInput {
    pub latitude: f64,
    pub longitude: f64,
    pub address: Option<String>,
    /// Kecamatan code (see `kecamatan`).
    pub kecamatan: Option<String>,
    /// Kelurahan code or official name (see `kelurahan`); stored as the code,
    /// and it names the kecamatan when none is given.
    pub kelurahan: Option<String>,
}

/// What the Command Center corrects of a case's place: the parts given (the
/// coordinates as a pair); the rest stays.
#[derive(InputObject)]
pub struct LocationCorrectionInput {
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub address: Option<String>,
    /// Kecamatan code (see `kecamatan`).
    pub kecamatan: Option<String>,
    /// Kelurahan code or official name (see `kelurahan`); stored as the code,
    /// and it names the kecamatan when none is given.
    pub kelurahan: Option<String>,
}

impl LocationCorrectionInput {
    fn parse(&self, reference: &ReferenceData) -> Result<PlaceCorrection, ComplaintError> {
        PlaceCorrection::parse(
            reference,
            (self.latitude, self.longitude),
            self.address.as_deref(),
            self.kecamatan.as_deref(),
            self.kelurahan.as_deref(),
        )
        .map_err(|e| match e {
            // The correction as a whole is refused: it is `location` itself.
            ComplaintError::InvalidInput { ref field, .. } if field == "location" => e,
            e => e.within("location"),
        })
    }
}

#[derive(InputObject)]
pub struct ReporterInput {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

#[derive(InputObject)]
pub struct SubmitComplaintInput {
    /// Idempotency key; a retried submission with the same key returns the same complaint.
    pub command_id: Option<String>,
    pub channel: Channel,
    /// Category code (see `categories`).
    pub category: String,
    pub priority: Option<Priority>,
    pub title: String,
    pub description: String,
    pub location: LocationInput,
    pub reporter: Option<ReporterInput>,
    /// Hide the reporter's identity from the OPD and the public.
    #[graphql(default)]
    pub anonymous: bool,
    /// Links to photos or documents elsewhere (stored as given, not fetched).
    #[graphql(default)]
    pub attachments: Vec<String>,
    /// The case's id in the system it came from (national platform, Open311).
    pub external_ref: Option<String>,
    /// Photos or documents sent with the report (a GraphQL multipart request;
    /// at most 10).
    #[graphql(default)]
    pub files: Vec<FileInput>,
}

impl SubmitComplaintInput {
    pub fn into_action(
        self,
        reference: &ReferenceData,
        complaint_id: String,
        tracking_code_hash: Option<String>,
    ) -> Result<domain::Action, ComplaintError> {
        let location = domain::Location {
            latitude: self.location.latitude,
            longitude: self.location.longitude,
            address: self.location.address,
            kecamatan: self.location.kecamatan,
            kelurahan: self.location.kelurahan,
        };
        let reporter = self
            .reporter
            .map(|r| Contact::parse(r.name.as_deref(), r.phone.as_deref(), r.email.as_deref()))
            .transpose();
        Ok(domain::Action::Submit(domain::Submit {
            complaint_id: Code::parse(&complaint_id).map_err(|e| e.at("complaint_id"))?,
            channel: self.channel.into(),
            category: CategoryCode::known(reference, &self.category)
                .map_err(|e| e.at("category"))?,
            priority: self.priority.map(Into::into),
            title: Title::parse(&self.title).map_err(|e| e.at("title"))?,
            description: LongText::parse(&self.description).map_err(|e| e.at("description"))?,
            location: Place::parse(reference, &location).map_err(|e| e.within("location"))?,
            reporter: reporter.map_err(|e| e.within("reporter"))?,
            anonymous: self.anonymous,
            attachments: Links::parse(&self.attachments).map_err(|e| e.at("attachments"))?,
            external_ref: Code::optional(self.external_ref.as_deref())
                .map_err(|e| e.at("external_ref"))?,
            tracking_code_hash,
            number: None,
        }))
    }
}

/// A file sent with a command (a GraphQL multipart request's upload).
#[derive(InputObject)]
pub struct FileInput {
    /// JPEG, PNG, WebP, HEIC or PDF, recognised by content.
    pub file: Upload,
    pub caption: Option<String>,
    /// Default: PUBLIC for the reporter's own files, INTERNAL for staff's.
    pub visibility: Option<NoteVisibility>,
}

/// Inputs that act on an existing complaint.
pub trait TargetedInput {
    /// The access table's row of the mutation.
    const OPERATION: Operation;
    fn target(&self) -> &Target;
    /// The files sent with the command, taken out of the input.
    fn take_files(&mut self) -> Vec<FileInput> {
        Vec::new()
    }
    fn into_action(self, reference: &ReferenceData) -> Result<domain::Action, ComplaintError>;
}

macro_rules! targeted_input {
    ($(#[$m:meta])* $name:ident as $op:ident { $($(#[$fm:meta])* $field:ident : $ty:ty),* $(,)? } => |$s:ident, $r:ident| $action:expr) => {
        $(#[$m])*
        #[derive(InputObject)]
        pub struct $name {
            #[graphql(flatten)]
            pub target: Target,
            $($(#[$fm])* pub $field: $ty,)*
        }

        impl TargetedInput for $name {
            const OPERATION: Operation = Operation::$op;

            fn target(&self) -> &Target {
                &self.target
            }

            fn into_action(self, $r: &ReferenceData) -> Result<domain::Action, ComplaintError> {
                let $s = self;
                Ok($action)
            }
        }
    };
    // The same, for commands that may carry files.
    (with files $(#[$m:meta])* $name:ident as $op:ident { $($(#[$fm:meta])* $field:ident : $ty:ty),* $(,)? } => |$s:ident, $r:ident| $action:expr) => {
        $(#[$m])*
        #[derive(InputObject)]
        pub struct $name {
            #[graphql(flatten)]
            pub target: Target,
            $($(#[$fm])* pub $field: $ty,)*
            /// Photos or documents recorded with the command (at most 10).
            #[graphql(default)]
            pub files: Vec<FileInput>,
        }

        impl TargetedInput for $name {
            const OPERATION: Operation = Operation::$op;

            fn target(&self) -> &Target {
                &self.target
            }

            fn take_files(&mut self) -> Vec<FileInput> {
                std::mem::take(&mut self.files)
            }

            fn into_action(self, $r: &ReferenceData) -> Result<domain::Action, ComplaintError> {
                let $s = self;
                Ok($action)
            }
        }
    };
}

/// A required text of the input, checked; a refusal names the field.
fn text<const MAX: usize>(field: &str, value: &str) -> Result<domain::Text<MAX>, ComplaintError> {
    domain::Text::parse(value).map_err(|e| e.at(field))
}

/// An optional text of the input, checked; blank is none.
fn optional<const MAX: usize>(
    field: &str,
    value: Option<&str>,
) -> Result<Option<domain::Text<MAX>>, ComplaintError> {
    domain::Text::optional(value).map_err(|e| e.at(field))
}

/// A text that is optional in the input only because a template may stand in
/// for it (filled in before this runs, see `templates::render_into`).
fn given<const MAX: usize>(
    field: &str,
    value: Option<&str>,
) -> Result<domain::Text<MAX>, ComplaintError> {
    text(field, value.unwrap_or(""))
}

fn opd(field: &str, reference: &ReferenceData, code: &str) -> Result<OpdCode, ComplaintError> {
    OpdCode::known(reference, code).map_err(|e| e.at(field))
}

/// A hand-off reason code; whether the city has it is the aggregate's call.
fn reason_code(code: &str) -> Result<domain::ReasonCode, ComplaintError> {
    domain::ReasonCode::parse(code).map_err(|e| e.at("reason_code"))
}

fn links(field: &str, urls: &[String]) -> Result<Links, ComplaintError> {
    Links::parse(urls).map_err(|e| e.at(field))
}

targeted_input!(VerifyComplaintInput as Verify {
    priority: Option<Priority>,
    /// Re-categorise while verifying.
    category: Option<String>,
    note: Option<String>,
    /// Place the case while verifying (an imported case has no kecamatan):
    /// recorded as its own `LocationCorrected`, skipped when it changes nothing.
    location: Option<LocationCorrectionInput>,
} => |s, r| domain::Action::Verify(domain::Verify {
    priority: s.priority.map(Into::into),
    category: s
        .category
        .map(|c| CategoryCode::known(r, &c).map_err(|e| e.at("category")))
        .transpose()?,
    note: optional("note", s.note.as_deref())?,
    location: s.location.as_ref().map(|l| l.parse(r)).transpose()?,
}));

targeted_input!(CorrectLocationInput as CorrectLocation {
    location: LocationCorrectionInput,
    /// Why the place changes (the record keeps it).
    reason: String,
} => |s, r| domain::Action::CorrectLocation(domain::CorrectLocation {
    correction: s.location.parse(r)?,
    reason: Some(text("reason", &s.reason)?),
}));

targeted_input!(LinkDuplicateInput as LinkDuplicate {
    /// The incident's primary: an open case that is not itself a duplicate.
    primary_id: ID,
    /// Why they are the same problem (staff only; the record keeps it).
    reason: String,
} => |s, _r| domain::Action::LinkDuplicate(domain::LinkDuplicate {
    primary_id: domain::Code::parse(&s.primary_id).map_err(|e| e.at("primaryId"))?,
    reason: text("reason", &s.reason)?,
    // Read by the resolver, which sees other cases (`links`).
    primary: None,
    own_duplicates: 0,
}));

targeted_input!(UnlinkDuplicateInput as UnlinkDuplicate {
    /// Why it is its own problem after all (staff only).
    reason: String,
} => |s, _r| domain::Action::UnlinkDuplicate(domain::UnlinkDuplicate {
    reason: text("reason", &s.reason)?,
}));

targeted_input!(RejectComplaintInput as Reject {
    reason: RejectReason,
    note: Option<String>,
} => |s, _r| domain::Action::Reject(domain::Reject {
    reason: s.reason.into(),
    note: optional("note", s.note.as_deref())?,
}));

targeted_input!(AssignComplaintInput as Assign {
    /// OPD code (see `opds`).
    opd: String,
    officer_id: Option<String>,
    note: Option<String>,
} => |s, r| domain::Action::Assign(domain::Assign {
    opd: opd("opd", r, &s.opd)?,
    officer_id: optional("officer_id", s.officer_id.as_deref())?,
    note: optional("note", s.note.as_deref())?,
}));

targeted_input!(TransferComplaintInput as Transfer {
    /// OPD code to move the case to.
    to_opd: String,
    /// Why, as one of the city's hand-off reason codes (`BUKAN_WEWENANG`, ...).
    reason_code: String,
    /// Free text with the code, for colleagues.
    note: Option<String>,
} => |s, r| domain::Action::Transfer(domain::Transfer {
    to_opd: opd("to_opd", r, &s.to_opd)?,
    reason_code: reason_code(&s.reason_code)?,
    note: optional("note", s.note.as_deref())?,
}));

targeted_input!(ReturnToCommandCenterInput as ReturnToCommandCenter {
    /// Why, as one of the city's hand-off reason codes (`BUKAN_WEWENANG`, ...).
    reason_code: String,
    /// Free text with the code, for the Command Center.
    note: Option<String>,
} => |s, _r| domain::Action::ReturnToCommandCenter(domain::ReturnToCommandCenter {
    reason_code: reason_code(&s.reason_code)?,
    note: optional("note", s.note.as_deref())?,
}));

targeted_input!(with files RespondToComplaintInput as Respond {
    /// A reply the citizen sees; required unless `templateId` is given.
    message: Option<String>,
    /// A response template to render instead of writing the text (see
    /// `responseTemplates`); the text field must then be left out.
    template_id: Option<ID>,
    /// Values for the template's variables the case does not fill.
    #[graphql(default)]
    variables: Vec<TemplateVariableInput>,
} => |s, _r| domain::Action::Respond(domain::Respond {
    message: given("message", s.message.as_deref())?,
    template: None,
}));

targeted_input!(RequestInfoInput as RequestInfo {
    /// Required unless `templateId` is given.
    question: Option<String>,
    /// A response template to render instead of writing the text (see
    /// `responseTemplates`); the text field must then be left out.
    template_id: Option<ID>,
    /// Values for the template's variables the case does not fill.
    #[graphql(default)]
    variables: Vec<TemplateVariableInput>,
} => |s, _r| domain::Action::RequestInfo(domain::RequestInfo {
    question: given("question", s.question.as_deref())?,
    template: None,
}));

targeted_input!(with files ProvideInfoInput as ProvideInfo {
    answer: String,
    #[graphql(default)]
    attachments: Vec<String>,
} => |s, _r| domain::Action::ProvideInfo(domain::ProvideInfo {
    answer: text("answer", &s.answer)?,
    attachments: links("attachments", &s.attachments)?,
}));

targeted_input!(with files RecordFieldHandlingInput as RecordFieldHandling {
    notes: String,
    /// When the officer was on site.
    handled_at: DateTime<Utc>,
    #[graphql(default)]
    photos: Vec<String>,
} => |s, _r| domain::Action::RecordFieldHandling(domain::RecordFieldHandling {
    notes: text("notes", &s.notes)?,
    handled_at: s.handled_at,
    photos: links("photos", &s.photos)?,
}));

targeted_input!(EscalateComplaintInput as Escalate {
    reason: String,
} => |s, _r| domain::Action::Escalate(domain::Escalate {
    reason: text("reason", &s.reason)?,
}));

targeted_input!(with files CloseComplaintInput as Close {
    resolution: Resolution,
    /// Required unless `templateId` is given.
    summary: Option<String>,
    /// The complaint this one duplicates, for a DUPLICATE resolution.
    duplicate_of: Option<ID>,
    /// A response template to render instead of writing the text (see
    /// `responseTemplates`); the text field must then be left out.
    template_id: Option<ID>,
    /// Values for the template's variables the case does not fill.
    #[graphql(default)]
    variables: Vec<TemplateVariableInput>,
} => |s, _r| domain::Action::Close(domain::Close {
    resolution: s.resolution.into(),
    summary: given("summary", s.summary.as_deref())?,
    duplicate_of: optional(
        "duplicate_of",
        s.duplicate_of.as_ref().map(|d| d.as_str()),
    )?,
    template: None,
}));

targeted_input!(ReopenComplaintInput as Reopen {
    reason: String,
} => |s, _r| domain::Action::Reopen(domain::Reopen { reason: text("reason", &s.reason)? }));

targeted_input!(RateComplaintInput as Rate {
    /// 1 (very dissatisfied) to 5 (very satisfied).
    score: i32,
    comment: Option<String>,
    /// The code given at submission: lets its holder rate without a token.
    tracking_code: Option<String>,
} => |s, _r| domain::Action::Rate(domain::Rate {
    score: Score::parse(s.score).map_err(|e| e.at("score"))?,
    comment: optional("comment", s.comment.as_deref())?,
    tracking_code: s.tracking_code,
}));

targeted_input!(with files AddNoteInput as AddNote {
    /// Up to 5000 characters; required unless `templateId` is given.
    text: Option<String>,
    /// INTERNAL: city staff only; PUBLIC: also the citizen and the tracking-code view.
    visibility: NoteVisibility,
    /// A response template to render instead of writing the text (see
    /// `responseTemplates`); the text field must then be left out.
    template_id: Option<ID>,
    /// Values for the template's variables the case does not fill.
    #[graphql(default)]
    variables: Vec<TemplateVariableInput>,
} => |s, _r| domain::Action::AddNote(domain::AddNote {
    text: given("text", s.text.as_deref())?,
    visibility: s.visibility.into(),
    template: None,
}));

/// One element's answer in the satisfaction survey.
#[derive(InputObject)]
pub struct SurveyAnswerInput {
    /// The element's code, U1..U9 (see `surveyElements`).
    pub element: String,
    /// 1 (tidak baik) to 4 (sangat baik).
    pub score: i32,
}

targeted_input!(AnswerSurveyInput as AnswerSurvey {
    /// One answer for each of the nine elements, in any order.
    answers: Vec<SurveyAnswerInput>,
    /// The code given at submission: lets its holder answer without a token.
    tracking_code: Option<String>,
} => |s, _r| domain::Action::AnswerSurvey(domain::AnswerSurvey {
    answers: {
        let given: Vec<(String, i32)> = s.answers.into_iter().map(|a| (a.element, a.score)).collect();
        SurveyAnswers::parse(&given).map_err(|e| e.at("answers"))?
    },
    tracking_code: s.tracking_code,
}));

targeted_input!(OptOutOfNotificationsInput as OptOutOfNotifications {
    /// The code given at submission: lets its holder opt out without a token.
    tracking_code: Option<String>,
} => |s, _r| domain::Action::OptOutOfNotifications(domain::OptOutOfNotifications {
    tracking_code: s.tracking_code,
}));

/// Cases at most `radiusMeters` from a point (great-circle distance).
#[derive(InputObject, Clone, Copy)]
pub struct NearInput {
    pub latitude: f64,
    pub longitude: f64,
    /// More than 0, at most 5000.
    pub radius_meters: f64,
}

impl NearInput {
    /// The checked circle; a refusal names the field within `parent`
    /// ("filter.near.radiusMeters").
    pub fn parse(&self, parent: &str) -> Result<domain::places::Circle, ComplaintError> {
        domain::places::Circle::parse(
            self.latitude,
            self.longitude,
            self.radius_meters,
            domain::geo::MAX_RADIUS_M,
        )
        .map_err(|e| e.within(parent))
    }
}

/// Cases whose coordinates lie in a box (edges included; `west` <= `east`).
#[derive(InputObject, Clone, Copy)]
pub struct WithinInput {
    pub south: f64,
    pub west: f64,
    pub north: f64,
    pub east: f64,
}

impl WithinInput {
    pub fn parse(&self, parent: &str) -> Result<domain::places::Bounds, ComplaintError> {
        domain::places::Bounds::parse(self.south, self.west, self.north, self.east)
            .map_err(|e| e.within(parent))
    }
}

/// A value for one of a template's variables (`{officer}`, `{date}`, ...).
#[derive(InputObject, Clone)]
pub struct TemplateVariableInput {
    pub name: String,
    pub value: String,
}

/// The inputs whose text a response template may write: where the template's
/// id, its variables and the text field are.
pub trait Templated {
    /// The text field's name in the domain, its value, the template asked for
    /// and its variables.
    fn template_parts(
        &mut self,
    ) -> (
        &'static str,
        &mut Option<String>,
        Option<&ID>,
        &[TemplateVariableInput],
    );
}

macro_rules! templated {
    ($($name:ident => $field:ident),+) => {
        $(impl Templated for $name {
            fn template_parts(
                &mut self,
            ) -> (&'static str, &mut Option<String>, Option<&ID>, &[TemplateVariableInput]) {
                (stringify!($field), &mut self.$field, self.template_id.as_ref(), &self.variables)
            }
        })+
    };
}

templated!(
    RespondToComplaintInput => message,
    RequestInfoInput => question,
    CloseComplaintInput => summary,
    AddNoteInput => text
);
