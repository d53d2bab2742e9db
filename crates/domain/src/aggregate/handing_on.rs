//! Handing a case back to the Command Center, and the escalation a hand-off
//! that closes a loop brings with it.

use cqrs_es::Aggregate;

use super::decide::{Decided, Decision};
use super::{Case, Complaint};
use crate::access::Operation;
use crate::commands::{ReturnToCommandCenter, Verb};
use crate::events::ComplaintEvent;
use crate::rules::ComplaintServices;
use crate::values::Text;

impl Case {
    pub(super) fn return_to_command_center(
        &self,
        d: &Decision,
        r: ReturnToCommandCenter,
    ) -> Decided {
        let verb = ReturnToCommandCenter::VERB;
        self.allow(d.actor, self.may(d, Operation::ReturnToCommandCenter), verb)?;
        if !self.status.is_with_opd() {
            return Err(self.transition(verb));
        }
        let reason = d
            .services
            .reference
            .handoffs
            .reason("reason_code", &r.reason_code)?;
        Ok(ComplaintEvent::ReturnedToCommandCenter {
            from_opd: self.opd.clone().unwrap_or_default(),
            reason_code: reason.code.clone(),
            note: r.note.map(Text::into_string),
            occurred_at: d.now,
        })
    }
}

impl Complaint {
    /// The automatic escalation `main` brings when it moves the case into a
    /// loop not escalated yet (`handoffs::HandoffTrail::detect`): recorded in
    /// the same append, so the loop and its escalation are never apart.
    pub(super) fn loop_escalation(
        &self,
        main: &ComplaintEvent,
        services: &ComplaintServices,
    ) -> Option<ComplaintEvent> {
        if !matches!(
            main,
            ComplaintEvent::Transferred { .. }
                | ComplaintEvent::Assigned { .. }
                | ComplaintEvent::ReturnedToCommandCenter { .. }
        ) {
            return None;
        }
        let mut after = self.clone();
        after.apply(main.clone());
        let case = after.0?;
        let found = case
            .handoff_trail
            .detect(services.reference.handoffs.max_transfers)?;
        Some(ComplaintEvent::Escalated {
            level: case.escalation_level + 1,
            reason: found.describe(),
            handoff_loop: Some(found),
            occurred_at: main.occurred_at(),
        })
    }
}
