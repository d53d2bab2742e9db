//! `bulkAct`'s input and answer. The action's payload is parsed once, into
//! the domain action every item then carries, through the single mutations'
//! own inputs, so a bulk field is checked and named exactly as theirs is.

use async_graphql::{Enum, InputObject, SimpleObject, ID};

use aduan_domain::access::Operation;
use aduan_domain::{Action, ComplaintError, ReferenceData};

use super::inputs::*;
use super::types::{NoteVisibility, Resolution};

/// What `bulkAct` does to each case: the single mutation of the same name.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum BulkAction {
    /// `assignComplaint`; payload `assign`.
    Assign,
    /// `transferComplaint`; payload `transfer`.
    Transfer,
    /// `escalateComplaint`; payload `escalate`.
    Escalate,
    /// `respondToComplaint`; payload `respond`.
    Respond,
    /// `addNote`; payload `addNote`.
    AddNote,
    /// `closeComplaint`; payload `close`.
    Close,
    /// `linkDuplicate` to one primary; payload `linkDuplicate`.
    LinkDuplicate,
}

impl BulkAction {
    pub fn operation(self) -> Operation {
        match self {
            BulkAction::Assign => Operation::Assign,
            BulkAction::Transfer => Operation::Transfer,
            BulkAction::Escalate => Operation::Escalate,
            BulkAction::Respond => Operation::Respond,
            BulkAction::AddNote => Operation::AddNote,
            BulkAction::Close => Operation::Close,
            BulkAction::LinkDuplicate => Operation::LinkDuplicate,
        }
    }

    /// The name of the payload's text a template may stand in for.
    pub fn text_field(self) -> &'static str {
        match self {
            BulkAction::Respond => "message",
            BulkAction::Close => "summary",
            _ => "text",
        }
    }

    /// The payload's field name, as the schema spells it.
    pub fn payload(self) -> &'static str {
        match self {
            BulkAction::Assign => "assign",
            BulkAction::Transfer => "transfer",
            BulkAction::Escalate => "escalate",
            BulkAction::Respond => "respond",
            BulkAction::AddNote => "addNote",
            BulkAction::Close => "close",
            BulkAction::LinkDuplicate => "linkDuplicate",
        }
    }
}

/// One action on many cases. Exactly one payload is given: the one `action`
/// names.
#[derive(InputObject)]
pub struct BulkInput {
    /// The request's idempotency key (1 to 100 characters; a random UUID is
    /// best). Each item's command id is derived from it, the action and the
    /// case, so re-sending the same request changes nothing twice and
    /// answers the same per-item outcomes.
    pub request_id: ID,
    pub action: BulkAction,
    /// 1 to 500 distinct complaint ids; the answer lists them in this order.
    pub complaint_ids: Vec<ID>,
    pub assign: Option<BulkAssignInput>,
    pub transfer: Option<BulkTransferInput>,
    pub escalate: Option<BulkEscalateInput>,
    pub respond: Option<BulkRespondInput>,
    pub add_note: Option<BulkNoteInput>,
    pub close: Option<BulkCloseInput>,
    pub link_duplicate: Option<BulkLinkInput>,
}

/// As `assignComplaint`'s input, for every case.
#[derive(InputObject)]
pub struct BulkAssignInput {
    /// OPD code (see `opds`).
    pub opd: String,
    pub officer_id: Option<String>,
    pub note: Option<String>,
}

/// As `transferComplaint`'s input, for every case.
#[derive(InputObject)]
pub struct BulkTransferInput {
    pub to_opd: String,
    pub reason_code: String,
    pub note: Option<String>,
}

/// As `escalateComplaint`'s input, for every case.
#[derive(InputObject)]
pub struct BulkEscalateInput {
    pub reason: String,
}

/// As `respondToComplaint`'s input (without files), for every case. With a
/// `templateId`, the template is rendered for each case with what that case
/// says (its number, title, OPD, ...) and the `variables` given once.
#[derive(InputObject)]
pub struct BulkRespondInput {
    /// Required unless `templateId` is given.
    pub message: Option<String>,
    pub template_id: Option<ID>,
    #[graphql(default)]
    pub variables: Vec<TemplateVariableInput>,
}

/// As `addNote`'s input (without files), for every case; a template is
/// rendered for each case, as for `respond`.
#[derive(InputObject)]
pub struct BulkNoteInput {
    /// Required unless `templateId` is given.
    pub text: Option<String>,
    pub visibility: NoteVisibility,
    pub template_id: Option<ID>,
    #[graphql(default)]
    pub variables: Vec<TemplateVariableInput>,
}

/// As `closeComplaint`'s input (without files), for every case; a template
/// is rendered for each case, as for `respond`.
#[derive(InputObject)]
pub struct BulkCloseInput {
    pub resolution: Resolution,
    /// Required unless `templateId` is given.
    pub summary: Option<String>,
    pub template_id: Option<ID>,
    #[graphql(default)]
    pub variables: Vec<TemplateVariableInput>,
}

/// The template a bulk payload names, and its variables: rendered per case.
pub struct BulkTemplate {
    pub id: ID,
    pub variables: Vec<TemplateVariableInput>,
}

/// As `linkDuplicate`'s input: every case becomes a duplicate of one primary.
#[derive(InputObject)]
pub struct BulkLinkInput {
    pub primary_id: ID,
    pub reason: String,
}

/// What became of one case.
#[derive(SimpleObject, Clone, Debug, PartialEq)]
pub struct BulkItemResult {
    pub complaint_id: ID,
    /// The item's derived command id: sending it as `commandId` to the
    /// single mutation is the same command.
    pub command_id: String,
    pub ok: bool,
    /// When refused: the code a single mutation would have answered in
    /// `extensions.code` (NOT_FOUND, FORBIDDEN, INVALID_TRANSITION, ...).
    pub code: Option<String>,
    pub message: Option<String>,
    /// The case's version after the command (when ok).
    pub version: Option<i64>,
    /// The log position of the command's last event (when ok): pass it as
    /// `minPosition` to read lists that include it.
    pub position: Option<i64>,
}

#[derive(SimpleObject)]
pub struct BulkResult {
    pub request_id: ID,
    pub action: BulkAction,
    pub succeeded: i32,
    pub failed: i32,
    /// One per complaint id, in the order sent.
    pub items: Vec<BulkItemResult>,
}

fn nobody() -> Target {
    Target {
        complaint_id: ID::from(""),
        command_id: None,
        expected_version: None,
    }
}

fn missing(field: &str) -> ComplaintError {
    ComplaintError::invalid(field, "is required for this action")
}

/// What a text payload field parses as: the text given, or, with a template,
/// a stand-in that checks the rest of the payload once (each case's text is
/// rendered from the template before its command is sent).
fn text_or_stand_in(
    field: &str,
    text: &Option<String>,
    template: &Option<ID>,
) -> Result<Option<String>, ComplaintError> {
    let given = text.as_deref().is_some_and(|t| !t.trim().is_empty());
    match (given, template) {
        (true, Some(_)) => Err(ComplaintError::invalid(
            field,
            "is given with a templateId: send one or the other",
        )),
        (false, Some(_)) => Ok(Some("template".to_string())),
        _ => Ok(text.clone()),
    }
}

impl BulkInput {
    /// How many payloads were given (one is right).
    pub fn payloads(&self) -> usize {
        [
            self.assign.is_some(),
            self.transfer.is_some(),
            self.escalate.is_some(),
            self.respond.is_some(),
            self.add_note.is_some(),
            self.close.is_some(),
            self.link_duplicate.is_some(),
        ]
        .into_iter()
        .filter(|given| *given)
        .count()
    }

    /// The template the payload names, if any, to render for each case.
    pub fn template(&self) -> Option<BulkTemplate> {
        let (id, variables) = match self.action {
            BulkAction::Respond => self
                .respond
                .as_ref()
                .map(|p| (&p.template_id, &p.variables)),
            BulkAction::AddNote => self
                .add_note
                .as_ref()
                .map(|p| (&p.template_id, &p.variables)),
            BulkAction::Close => self.close.as_ref().map(|p| (&p.template_id, &p.variables)),
            _ => None,
        }?;
        Some(BulkTemplate {
            id: id.clone()?,
            variables: variables.clone(),
        })
    }

    /// The domain action every item carries, parsed from the payload the
    /// action names (refused when it is missing or invalid).
    pub fn parse_action(&mut self, r: &ReferenceData) -> Result<Action, ComplaintError> {
        let field = self.action.payload();
        match self.action {
            BulkAction::Assign => {
                let p = self.assign.take().ok_or_else(|| missing(field))?;
                AssignComplaintInput {
                    target: nobody(),
                    opd: p.opd,
                    officer_id: p.officer_id,
                    note: p.note,
                }
                .into_action(r)
            }
            BulkAction::Transfer => {
                let p = self.transfer.take().ok_or_else(|| missing(field))?;
                TransferComplaintInput {
                    target: nobody(),
                    to_opd: p.to_opd,
                    reason_code: p.reason_code,
                    note: p.note,
                }
                .into_action(r)
            }
            BulkAction::Escalate => {
                let p = self.escalate.take().ok_or_else(|| missing(field))?;
                EscalateComplaintInput {
                    target: nobody(),
                    reason: p.reason,
                }
                .into_action(r)
            }
            BulkAction::Respond => {
                let p = self.respond.as_ref().ok_or_else(|| missing(field))?;
                RespondToComplaintInput {
                    target: nobody(),
                    message: text_or_stand_in("message", &p.message, &p.template_id)?,
                    template_id: None,
                    variables: Vec::new(),
                    files: Vec::new(),
                }
                .into_action(r)
            }
            BulkAction::AddNote => {
                let p = self.add_note.as_ref().ok_or_else(|| missing(field))?;
                AddNoteInput {
                    target: nobody(),
                    text: text_or_stand_in("text", &p.text, &p.template_id)?,
                    template_id: None,
                    variables: Vec::new(),
                    visibility: p.visibility,
                    files: Vec::new(),
                }
                .into_action(r)
            }
            BulkAction::Close => {
                let p = self.close.as_ref().ok_or_else(|| missing(field))?;
                CloseComplaintInput {
                    target: nobody(),
                    resolution: p.resolution,
                    summary: text_or_stand_in("summary", &p.summary, &p.template_id)?,
                    template_id: None,
                    variables: Vec::new(),
                    duplicate_of: None,
                    files: Vec::new(),
                }
                .into_action(r)
            }
            BulkAction::LinkDuplicate => {
                let p = self.link_duplicate.take().ok_or_else(|| missing(field))?;
                LinkDuplicateInput {
                    target: nobody(),
                    primary_id: p.primary_id,
                    reason: p.reason,
                }
                .into_action(r)
            }
        }
    }
}
