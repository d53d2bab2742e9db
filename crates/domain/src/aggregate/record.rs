//! What goes on the record beside the case's stage: notes, files, the
//! erasure of the reporter's data, and their wish to hear no more.

use super::decide::{Decided, Decision};
use super::{internal_by_reporter, Case};
use crate::access::Operation;
use crate::commands::{
    AddAttachment, AddNote, CorrectCalendar, EraseReporterData, OptOutOfNotifications, Verb,
};
use crate::error::ComplaintError;
use crate::events::ComplaintEvent;
use crate::values::NoteVisibility;
use crate::Role;

impl Case {
    /// A note may be added at every stage, from submission on, closed and
    /// rejected cases included: notes record calls and work, which go on after
    /// a decision (a caller asking about a rejection, a visit after closing).
    /// Who may is the access table's `AddNote` row alone; an OPD role on a case
    /// not yet dispatched gets INVALID_TRANSITION, as for every other command.
    pub(super) fn add_note(&self, d: &Decision, n: AddNote) -> Decided {
        self.allow(d.actor, self.may(d, Operation::AddNote), AddNote::VERB)?;
        Ok(ComplaintEvent::NoteAdded {
            text: n.text.into_string(),
            visibility: n.visibility,
            template: n.template,
            occurred_at: d.now,
        })
    }

    /// Files may be added at every stage, as notes may (evidence comes late,
    /// repair pictures after closing). Who may is the `AddAttachment` row, the
    /// citizen by account or tracking code; only staff may file INTERNAL ones.
    pub(super) fn add_attachment(&self, d: &Decision, a: AddAttachment) -> Decided {
        let code = a.tracking_code.as_deref();
        let holder = self.may_with_code(d, Operation::AddAttachment, code);
        self.allow(d.actor, holder, AddAttachment::VERB)?;
        let staff = self.may(d, Operation::InternalNotes);
        if a.file.get().visibility == NoteVisibility::Internal && !staff {
            return Err(internal_by_reporter());
        }
        Ok(ComplaintEvent::AttachmentAdded {
            file: a.file.into_ref(),
            occurred_at: d.now,
        })
    }

    /// A supervisor erases the reporter's personal data (see `erasure`), once.
    pub(super) fn erase_reporter_data(&self, d: &Decision, e: EraseReporterData) -> Decided {
        let may = self.may(d, Operation::EraseReporterData);
        self.allow(d.actor, may, EraseReporterData::VERB)?;
        if self.personal_data_erased {
            return Err(ComplaintError::RuleViolated(
                "the reporter's personal data on this case is already erased".into(),
            ));
        }
        Ok(ComplaintEvent::ReporterDataErased {
            reporter_ref: self.reporter_ref(),
            reason: e.reason.into_string(),
            occurred_at: d.now,
        })
    }

    /// The reporter stops the notifications about this case: once (a second
    /// time is refused, so a retried request is told it already happened).
    pub(super) fn opt_out(&self, d: &Decision, o: OptOutOfNotifications) -> Decided {
        let code = o.tracking_code.as_deref();
        let holder = self.may_with_code(d, Operation::OptOutOfNotifications, code);
        self.allow(d.actor, holder, OptOutOfNotifications::VERB)?;
        if self.notifications_opted_out {
            return Err(ComplaintError::RuleViolated(
                "the notifications of this case are already stopped".into(),
            ));
        }
        Ok(ComplaintEvent::NotificationsOptedOut { occurred_at: d.now })
    }

    /// The system applies a correction of the calendar an operator decided:
    /// to any case, open or closed, once per version, never back to an older
    /// one (a correction includes the versions before it).
    pub(super) fn correct_calendar(&self, d: &Decision, c: CorrectCalendar) -> Decided {
        self.allow(d.actor, d.actor.role == Role::System, CorrectCalendar::VERB)?;
        if self.calendar_correction.is_some_and(|v| v >= c.version) {
            return Err(ComplaintError::RuleViolated(format!(
                "this case already counts in calendar version {} or later",
                c.version
            )));
        }
        Ok(ComplaintEvent::CalendarCorrected {
            version: c.version,
            reason: c.reason.into_string(),
            occurred_at: d.now,
        })
    }
}
