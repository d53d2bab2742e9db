//! A report arrives, and the Command Center accepts or refuses it.

use super::decide::{Decided, Decision};
use super::Case;
use crate::access::{self, Operation};
use crate::actor::Role;
use crate::commands::{Reject, Submit, Verb, Verify};
use crate::error::ComplaintError;
use crate::events::ComplaintEvent;
use crate::values::{Priority, Status, Text};

pub(super) fn submit(d: &Decision, s: Submit) -> Decided {
    let actor = d.actor;
    if access::access(actor.role, Operation::Submit) != access::Access::Allowed {
        return Err(ComplaintError::forbidden(format!(
            "{} may not submit complaints",
            actor.role
        )));
    }
    let reporter = match (actor.role, s.reporter) {
        // A signed-in citizen is always linked to their own report.
        (Role::Citizen, contact) => Some(match contact {
            Some(c) => c.reporter(Some(actor.id.clone())),
            None => crate::values::Reporter {
                subject: Some(actor.id.clone()),
                name: None,
                phone: None,
                email: None,
            },
        }),
        // Only a citizen's own token links a case to a citizen account.
        (_, contact) => contact.map(|c| c.reporter(None)),
    };
    Ok(ComplaintEvent::Submitted {
        complaint_id: s.complaint_id.into_string(),
        channel: s.channel,
        category: s.category.into_string(),
        priority: s.priority.unwrap_or(Priority::Normal),
        title: s.title.into_string(),
        description: s.description.into_string(),
        location: s.location.into(),
        reporter,
        anonymous: s.anonymous,
        attachments: s.attachments.into_vec(),
        external_ref: s.external_ref.map(Text::into_string),
        tracking_code_hash: s.tracking_code_hash,
        number: s.number,
        occurred_at: d.now,
    })
}

impl Case {
    pub(super) fn verify(&self, d: &Decision, v: Verify) -> Decided {
        self.allow(d.actor, self.may(d, Operation::Verify), Verify::VERB)?;
        if self.status != Status::Submitted {
            return Err(self.transition(Verify::VERB));
        }
        Ok(ComplaintEvent::Verified {
            priority: v.priority.unwrap_or(self.priority),
            category: v
                .category
                .map_or_else(|| self.category.clone(), |c| c.into_string()),
            note: v.note.map(Text::into_string),
            occurred_at: d.now,
        })
    }

    pub(super) fn reject(&self, d: &Decision, r: Reject) -> Decided {
        self.allow(d.actor, self.may(d, Operation::Reject), Reject::VERB)?;
        if !matches!(self.status, Status::Submitted | Status::Verified) {
            return Err(self.transition(Reject::VERB));
        }
        Ok(ComplaintEvent::Rejected {
            reason: r.reason,
            note: r.note.map(Text::into_string),
            occurred_at: d.now,
        })
    }
}
