//! The OPD's work on a case: replies, questions to the citizen and their
//! answers, field visits, escalation.

use super::decide::{Decided, Decision};
use super::Case;
use crate::access::Operation;
use crate::commands::{Escalate, ProvideInfo, RecordFieldHandling, RequestInfo, Respond, Verb};
use crate::error::ComplaintError;
use crate::events::ComplaintEvent;
use crate::values::{Status, Text};

impl Case {
    pub(super) fn respond(&self, d: &Decision, r: Respond) -> Decided {
        self.allow(d.actor, self.may(d, Operation::Respond), Respond::VERB)?;
        if !self.status.is_with_opd() {
            return Err(self.transition(Respond::VERB));
        }
        Ok(ComplaintEvent::Responded {
            message: r.message.into_string(),
            template: r.template,
            occurred_at: d.now,
        })
    }

    /// Who asks depends on the stage: the Command Center before dispatch, the
    /// OPD holding the case after it.
    pub(super) fn request_info(&self, d: &Decision, r: RequestInfo) -> Decided {
        let before_dispatch = matches!(self.status, Status::Submitted | Status::Verified);
        let stage = if before_dispatch {
            d.actor.role.is_command_center()
        } else if self.status.is_with_opd() {
            d.actor.works_for(self.opd.as_deref())
        } else {
            // Neither may ask now; say so as a transition, not a permission.
            true
        };
        let may = self.may(d, Operation::RequestInfo) && stage;
        self.allow(d.actor, may, RequestInfo::VERB)?;
        if !before_dispatch && !self.status.is_with_opd() {
            return Err(self.transition(RequestInfo::VERB));
        }
        Ok(ComplaintEvent::InfoRequested {
            question: r.question.into_string(),
            template: r.template,
            occurred_at: d.now,
        })
    }

    pub(super) fn provide_info(&self, d: &Decision, p: ProvideInfo) -> Decided {
        self.allow(
            d.actor,
            self.may(d, Operation::ProvideInfo),
            ProvideInfo::VERB,
        )?;
        if self.status != Status::WaitingForInfo {
            return Err(self.transition(ProvideInfo::VERB));
        }
        Ok(ComplaintEvent::InfoProvided {
            answer: p.answer.into_string(),
            attachments: p.attachments.into_vec(),
            occurred_at: d.now,
        })
    }

    /// The visit's time comes from the officer's phone: it may run a little
    /// ahead (`clock_skew`), but not before the report or into the future.
    pub(super) fn record_field_handling(&self, d: &Decision, f: RecordFieldHandling) -> Decided {
        let verb = RecordFieldHandling::VERB;
        self.allow(d.actor, self.may(d, Operation::RecordFieldHandling), verb)?;
        if !self.status.is_with_opd() {
            return Err(self.transition(verb));
        }
        let skew = d.services.rules.clock_skew;
        if f.handled_at > d.now + skew {
            return Err(ComplaintError::invalid("handled_at", "lies in the future"));
        }
        if f.handled_at + skew < self.created_at {
            return Err(ComplaintError::invalid(
                "handled_at",
                "is before the complaint was submitted",
            ));
        }
        Ok(ComplaintEvent::FieldHandled {
            notes: f.notes.into_string(),
            handled_at: f.handled_at,
            photos: f.photos.into_vec(),
            occurred_at: d.now,
        })
    }

    pub(super) fn escalate(&self, d: &Decision, e: Escalate) -> Decided {
        self.allow(d.actor, self.may(d, Operation::Escalate), Escalate::VERB)?;
        // A linked duplicate is handled as its incident: escalate the primary.
        if !self.status.is_open() || self.status == Status::Duplicate {
            return Err(self.transition(Escalate::VERB));
        }
        Ok(ComplaintEvent::Escalated {
            level: self.escalation_level + 1,
            reason: Text::into_string(e.reason),
            handoff_loop: None,
            occurred_at: d.now,
        })
    }
}
