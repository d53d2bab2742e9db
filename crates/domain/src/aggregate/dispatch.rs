//! Sending a case to an OPD, to one of its officers, or on to another OPD.

use super::decide::{Decided, Decision};
use super::Case;
use crate::access::Operation;
use crate::commands::{Assign, Transfer, Verb};
use crate::error::{ComplaintError, Misdirected};
use crate::events::ComplaintEvent;
use crate::values::{Status, Text};

impl Case {
    /// Dispatch: the Command Center sends a verified case to an OPD.
    /// Disposition: the OPD's admin hands a case it holds to one of its officers.
    pub(super) fn assign(&self, d: &Decision, a: Assign) -> Decided {
        self.allow(d.actor, self.may(d, Operation::Assign), Assign::VERB)?;
        let dispatch = !d.actor.role.is_opd_scoped();
        let status_ok = if dispatch {
            self.status == Status::Verified
        } else {
            self.status.is_with_opd()
        };
        if !status_ok {
            return Err(self.transition(Assign::VERB));
        }
        let opd = a.opd.into_string();
        let officer_id = a.officer_id.map(Text::into_string);
        if !dispatch && Some(opd.as_str()) != self.opd.as_deref() {
            return Err(ComplaintError::Misdirected(Misdirected::AssignElsewhere));
        }
        if !dispatch && officer_id.is_none() {
            return Err(ComplaintError::invalid(
                "officer_id",
                "is required when an OPD assigns its officer",
            ));
        }
        Ok(ComplaintEvent::Assigned {
            opd,
            officer_id,
            note: a.note.map(Text::into_string),
            occurred_at: d.now,
        })
    }

    pub(super) fn transfer(&self, d: &Decision, t: Transfer) -> Decided {
        self.allow(d.actor, self.may(d, Operation::Transfer), Transfer::VERB)?;
        if !self.status.is_with_opd() {
            return Err(self.transition(Transfer::VERB));
        }
        let to_opd = t.to_opd.into_string();
        let from_opd = self.opd.clone().unwrap_or_default();
        if to_opd == from_opd {
            return Err(ComplaintError::invalid(
                "to_opd",
                "is the OPD the case is already with",
            ));
        }
        let reason = d
            .services
            .reference
            .handoffs
            .reason("reason_code", &t.reason_code)?;
        Ok(ComplaintEvent::Transferred {
            from_opd,
            to_opd,
            reason: t
                .note
                .map_or_else(|| reason.name.clone(), Text::into_string),
            reason_code: Some(reason.code.clone()),
            occurred_at: d.now,
        })
    }
}
