//! Where a case is: the Command Center corrects the place a report gave, or
//! places an imported case that came without a kecamatan.

use super::decide::{Decided, Decision};
use super::Case;
use crate::access::Operation;
use crate::commands::{CorrectLocation, Verb};
use crate::error::ComplaintError;
use crate::events::ComplaintEvent;
use crate::values::{Status, Text};

impl Case {
    /// At any stage while the case is open (a wrong place found after dispatch
    /// is corrected as well as one found at verification); a closed or
    /// rejected case keeps the place it was decided on. The event records the
    /// whole place after the correction.
    pub(super) fn correct_location(&self, d: &Decision, c: CorrectLocation) -> Decided {
        let may = self.may(d, Operation::CorrectLocation);
        self.allow(d.actor, may, CorrectLocation::VERB)?;
        if matches!(self.status, Status::Closed | Status::Rejected) {
            return Err(self.transition(CorrectLocation::VERB));
        }
        // A new address after an erasure would be personal data no later
        // erasure reaches (an erasure is done once per case).
        if self.personal_data_erased && c.correction.gives_address() {
            return Err(ComplaintError::RuleViolated(
                "the reporter's personal data on this case is erased; its address stays erased"
                    .into(),
            ));
        }
        let location = c.correction.applied_to(&self.location);
        if location == self.location {
            return Err(ComplaintError::RuleViolated(
                "the case is already at that location".into(),
            ));
        }
        Ok(ComplaintEvent::LocationCorrected {
            location,
            reason: c.reason.map(Text::into_string),
            occurred_at: d.now,
        })
    }
}
