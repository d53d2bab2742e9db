//! How a case decides a command: who may (the access table, `allow`), then the
//! stage's rules in the module of that stage.

use chrono::{DateTime, Utc};

use super::Case;
use crate::access::{self, Operation};
use crate::actor::Actor;
use crate::commands::Action;
use crate::error::ComplaintError;
use crate::events::ComplaintEvent;
use crate::rules::ComplaintServices;

/// What a decision looks at besides the case: who asks, the services, and now.
pub(super) struct Decision<'a> {
    pub actor: &'a Actor,
    pub services: &'a ComplaintServices,
    pub now: DateTime<Utc>,
}

pub(super) type Decided = Result<ComplaintEvent, ComplaintError>;

impl Case {
    pub(super) fn decide(&self, d: &Decision, action: Action) -> Decided {
        match action {
            Action::Submit(_) => Err(ComplaintError::AlreadyExists),
            Action::Verify(v) => self.verify(d, v),
            Action::Reject(r) => self.reject(d, r),
            Action::CorrectLocation(c) => self.correct_location(d, c),
            Action::Assign(a) => self.assign(d, a),
            Action::Transfer(t) => self.transfer(d, t),
            Action::ReturnToCommandCenter(r) => self.return_to_command_center(d, r),
            Action::Respond(r) => self.respond(d, r),
            Action::RequestInfo(r) => self.request_info(d, r),
            Action::ProvideInfo(p) => self.provide_info(d, p),
            Action::RecordFieldHandling(f) => self.record_field_handling(d, f),
            Action::Escalate(e) => self.escalate(d, e),
            Action::RecordBreach(b) => self.record_breach(d, b),
            Action::AutoClose(a) => self.auto_close(d, a),
            Action::Close(c) => self.close(d, c),
            Action::Reopen(r) => self.reopen(d, r),
            Action::Rate(r) => self.rate(d, r),
            Action::AnswerSurvey(s) => self.answer_survey(d, s),
            Action::AddNote(n) => self.add_note(d, n),
            Action::AddAttachment(a) => self.add_attachment(d, a),
            Action::EraseReporterData(e) => self.erase_reporter_data(d, e),
            Action::OptOutOfNotifications(o) => self.opt_out(d, o),
            Action::LinkDuplicate(l) => self.link_duplicate(d, l),
            Action::UnlinkDuplicate(u) => self.unlink_duplicate(d, u),
            Action::CloseWithIncident(c) => self.close_with_incident(d, c),
            Action::CorrectCalendar(c) => self.correct_calendar(d, c),
        }
    }

    /// Whether the access table lets the actor do `op` on this case.
    pub(super) fn may(&self, d: &Decision, op: Operation) -> bool {
        access::permits(d.actor, op, self, None)
    }

    /// As `may`, for operations its holder may do by the tracking code.
    pub(super) fn may_with_code(&self, d: &Decision, op: Operation, code: Option<&str>) -> bool {
        access::permits(d.actor, op, self, code)
    }

    /// The refusal of a command the case's status does not allow.
    pub(super) fn transition(&self, verb: &str) -> ComplaintError {
        ComplaintError::InvalidTransition {
            action: verb.to_string(),
            status: self.status,
        }
    }

    /// Ok when `allowed`; else why not: a case not yet with any OPD is a matter
    /// of its state for an OPD role, anything else is FORBIDDEN.
    pub(super) fn allow(
        &self,
        actor: &Actor,
        allowed: bool,
        verb: &str,
    ) -> Result<(), ComplaintError> {
        if allowed {
            return Ok(());
        }
        if actor.role.is_opd_scoped() && self.opd.is_none() {
            // Not dispatched yet: no OPD may act on it, and that is about its state.
            return Err(self.transition(verb));
        }
        let whose = match (&self.opd, actor.role.is_opd_scoped()) {
            (Some(opd), true) => format!(" (the case is with {opd})"),
            _ => String::new(),
        };
        Err(ComplaintError::forbidden(format!(
            "{} may not {verb} this complaint{whose}",
            actor.role
        )))
    }
}
