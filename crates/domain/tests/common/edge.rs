//! What an edge (GraphQL, Open311, the bridge, the seeder) does before a
//! command exists: it parses raw input into the domain's checked values, and
//! names a refused field by its domain path ("to_opd", "location.latitude",
//! "reporter.phone"). Input refusals are tested here; what depends on the case
//! is tested through `decide`.

use aduan_domain::ikm::SurveyAnswers;
use aduan_domain::*;
use chrono::{DateTime, Utc};

use super::reference;

/// `parsed`, a refusal named `field`.
pub fn at<T>(field: &str, parsed: Result<T, Invalid>) -> Result<T, ComplaintError> {
    parsed.map_err(|e| e.at(field))
}

/// A refusal of a part (`latitude`) named as a field of its whole (`location.latitude`).
pub fn within(whole: &str, error: ComplaintError) -> ComplaintError {
    match error {
        ComplaintError::InvalidInput { field, message } => ComplaintError::InvalidInput {
            field: format!("{whole}.{field}"),
            message,
        },
        other => other,
    }
}

// ---- submit --------------------------------------------------------------------------

/// A report as it arrives, before any check.
#[derive(Debug, Clone, PartialEq)]
pub struct SubmitInput {
    pub complaint_id: String,
    pub channel: Channel,
    pub category: String,
    pub priority: Option<Priority>,
    pub title: String,
    pub description: String,
    pub location: Location,
    /// The `subject` given here is never taken: only the citizen's token links.
    pub reporter: Option<Reporter>,
    pub anonymous: bool,
    pub attachments: Vec<String>,
    pub external_ref: Option<String>,
    pub tracking_code_hash: Option<String>,
}

/// Parses a report field by field, in the order the domain used to check them.
pub fn parse_submit(raw: SubmitInput) -> Result<Submit, ComplaintError> {
    let reference = reference();
    let reporter = raw
        .reporter
        .map(|r| Contact::parse(r.name.as_deref(), r.phone.as_deref(), r.email.as_deref()));
    Ok(Submit {
        complaint_id: at("complaint_id", Code::parse(&raw.complaint_id))?,
        channel: raw.channel,
        category: at("category", CategoryCode::known(&reference, &raw.category))?,
        priority: raw.priority,
        title: at("title", Title::parse(&raw.title))?,
        description: at("description", LongText::parse(&raw.description))?,
        location: Place::parse(&reference, &raw.location).map_err(|e| within("location", e))?,
        reporter: reporter.transpose().map_err(|e| within("reporter", e))?,
        anonymous: raw.anonymous,
        attachments: at("attachments", Links::parse(&raw.attachments))?,
        external_ref: at("external_ref", Code::optional(raw.external_ref.as_deref()))?,
        tracking_code_hash: raw.tracking_code_hash,
        number: None,
    })
}

/// The `Submit` action of a valid raw report.
pub fn submission(raw: SubmitInput) -> Action {
    Action::Submit(parse_submit(raw).unwrap())
}

// ---- the commands on a case -------------------------------------------------------------

pub fn parse_verify(
    priority: Option<Priority>,
    category: Option<&str>,
    note: Option<&str>,
) -> Result<Verify, ComplaintError> {
    let reference = reference();
    Ok(Verify {
        priority,
        category: category
            .map(|c| at("category", CategoryCode::known(&reference, c)))
            .transpose()?,
        note: at("note", LongText::optional(note))?,
        location: None,
    })
}

pub fn parse_reject(reason: RejectReason, note: Option<&str>) -> Result<Reject, ComplaintError> {
    Ok(Reject {
        reason,
        note: at("note", LongText::optional(note))?,
    })
}

pub fn parse_assign(
    opd: &str,
    officer_id: Option<&str>,
    note: Option<&str>,
) -> Result<Assign, ComplaintError> {
    Ok(Assign {
        opd: at("opd", OpdCode::known(&reference(), opd))?,
        officer_id: at("officer_id", Code::optional(officer_id))?,
        note: at("note", LongText::optional(note))?,
    })
}

pub fn parse_transfer(
    to_opd: &str,
    reason_code: &str,
    note: Option<&str>,
) -> Result<Transfer, ComplaintError> {
    Ok(Transfer {
        to_opd: at("to_opd", OpdCode::known(&reference(), to_opd))?,
        reason_code: at("reason_code", ReasonCode::parse(reason_code))?,
        note: at("note", LongText::optional(note))?,
    })
}

pub fn parse_return(
    reason_code: &str,
    note: Option<&str>,
) -> Result<ReturnToCommandCenter, ComplaintError> {
    Ok(ReturnToCommandCenter {
        reason_code: at("reason_code", ReasonCode::parse(reason_code))?,
        note: at("note", LongText::optional(note))?,
    })
}

pub fn parse_respond(message: &str) -> Result<Respond, ComplaintError> {
    Ok(Respond {
        template: None,
        message: at("message", LongText::parse(message))?,
    })
}

pub fn parse_request_info(question: &str) -> Result<RequestInfo, ComplaintError> {
    Ok(RequestInfo {
        template: None,
        question: at("question", LongText::parse(question))?,
    })
}

pub fn parse_provide_info(
    answer: &str,
    attachments: &[String],
) -> Result<ProvideInfo, ComplaintError> {
    Ok(ProvideInfo {
        answer: at("answer", LongText::parse(answer))?,
        attachments: at("attachments", Links::parse(attachments))?,
    })
}

pub fn parse_field_handling(
    notes: &str,
    handled_at: DateTime<Utc>,
    photos: &[String],
) -> Result<RecordFieldHandling, ComplaintError> {
    Ok(RecordFieldHandling {
        notes: at("notes", LongText::parse(notes))?,
        handled_at,
        photos: at("photos", Links::parse(photos))?,
    })
}

pub fn parse_escalate(reason: &str) -> Result<Escalate, ComplaintError> {
    Ok(Escalate {
        reason: at("reason", ShortText::parse(reason))?,
    })
}

pub fn parse_close(
    resolution: Resolution,
    summary: &str,
    duplicate_of: Option<&str>,
) -> Result<Close, ComplaintError> {
    Ok(Close {
        template: None,
        resolution,
        summary: at("summary", LongText::parse(summary))?,
        duplicate_of: at("duplicate_of", Code::optional(duplicate_of))?,
    })
}

pub fn parse_reopen(reason: &str) -> Result<Reopen, ComplaintError> {
    Ok(Reopen {
        reason: at("reason", LongText::parse(reason))?,
    })
}

pub fn parse_rate(
    score: i32,
    comment: Option<&str>,
    tracking_code: Option<&str>,
) -> Result<Rate, ComplaintError> {
    Ok(Rate {
        score: at("score", Score::parse(score))?,
        comment: at("comment", LongText::optional(comment))?,
        tracking_code: tracking_code.map(str::to_string),
    })
}

pub fn parse_note(text: &str, visibility: NoteVisibility) -> Result<AddNote, ComplaintError> {
    Ok(AddNote {
        template: None,
        text: at("text", LongText::parse(text))?,
        visibility,
    })
}

pub fn parse_attachment(
    file: AttachmentRef,
    tracking_code: Option<&str>,
) -> Result<AddAttachment, ComplaintError> {
    Ok(AddAttachment {
        file: StoredFile::check(file)?,
        tracking_code: tracking_code.map(str::to_string),
    })
}

/// The files a command carries, each checked as the API checks an upload.
pub fn parse_files(files: Vec<AttachmentRef>) -> Result<Vec<StoredFile>, ComplaintError> {
    files.into_iter().map(StoredFile::check).collect()
}

pub fn parse_erase(reason: &str) -> Result<EraseReporterData, ComplaintError> {
    Ok(EraseReporterData {
        reason: at("reason", LongText::parse(reason))?,
    })
}

pub fn parse_survey(
    answers: &[(String, i32)],
    tracking_code: Option<&str>,
) -> Result<AnswerSurvey, ComplaintError> {
    Ok(AnswerSurvey {
        answers: at("answers", SurveyAnswers::parse(answers))?,
        tracking_code: tracking_code.map(str::to_string),
    })
}
