//! Incidents: a report of a problem the city already has a case for is linked
//! to that case (the incident's primary) instead of being handled twice. The
//! link is the duplicate's own event; nothing is copied between streams. It
//! can be undone, and the duplicate is closed with its primary.

use super::decide::{Decided, Decision};
use super::Case;
use crate::access::Operation;
use crate::actor::Role;
use crate::commands::{CloseWithIncident, LinkDuplicate, PrimaryFacts, UnlinkDuplicate, Verb};
use crate::error::ComplaintError;
use crate::events::ComplaintEvent;
use crate::geo;
use crate::nearby::LinkRule;
use crate::values::Status;

/// The stages a report may be linked from: before it is closed, and not
/// while it waits for the citizen (whose answer would come to a case nobody
/// handles; answer or close the question first).
fn linkable(status: Status) -> bool {
    matches!(
        status,
        Status::Submitted | Status::Verified | Status::Assigned | Status::InProgress
    )
}

impl Case {
    pub(super) fn link_duplicate(&self, d: &Decision, l: LinkDuplicate) -> Decided {
        self.allow(
            d.actor,
            self.may(d, Operation::LinkDuplicate),
            LinkDuplicate::VERB,
        )?;
        if !linkable(self.status) {
            return Err(self.transition(LinkDuplicate::VERB));
        }
        let primary_id = l.primary_id.into_string();
        let primary = self.check_primary(d, &primary_id, l.primary.as_ref())?;
        if l.own_duplicates > 0 {
            return Err(ComplaintError::RuleViolated(format!(
                "this case is the primary of {} linked duplicate(s): unlink them, or link them \
                 to {primary_id} one by one, before linking it",
                l.own_duplicates
            )));
        }
        let here = (self.location.latitude, self.location.longitude);
        let distance = geo::distance_m(here, (primary.latitude, primary.longitude));
        let rules = &d.services.reference.nearby;
        let (rule, radius) = LinkRule::judge(rules, &self.category, &primary.category, distance);
        Ok(ComplaintEvent::DuplicateLinked {
            primary_id,
            reason: l.reason.into_string(),
            // Decimeters are plenty, and keep the recorded number short.
            distance_meters: (distance * 10.0).round() / 10.0,
            rule: rule.as_str().to_string(),
            rule_radius_meters: radius,
            prior_status: self.status,
            occurred_at: d.now,
        })
    }

    /// The primary exists, is another open case that is not itself a
    /// duplicate (no chains), and, for an OPD, is its own.
    fn check_primary<'p>(
        &self,
        d: &Decision,
        primary_id: &str,
        primary: Option<&'p PrimaryFacts>,
    ) -> Result<&'p PrimaryFacts, ComplaintError> {
        if primary_id == self.id {
            return Err(ComplaintError::invalid(
                "primaryId",
                "a complaint cannot duplicate itself",
            ));
        }
        let Some(primary) = primary else {
            return Err(ComplaintError::invalid(
                "primaryId",
                format!("no complaint {primary_id}"),
            ));
        };
        if primary.status == Status::Duplicate {
            return Err(ComplaintError::RuleViolated(format!(
                "{primary_id} is itself linked as a duplicate: link to its primary instead"
            )));
        }
        if !primary.status.is_open() {
            return Err(ComplaintError::RuleViolated(format!(
                "{primary_id} is {}: an incident's primary must be open",
                primary.status
            )));
        }
        if d.actor.role.is_opd_scoped() && !d.actor.works_for(primary.opd.as_deref()) {
            return Err(ComplaintError::forbidden(format!(
                "{} may link only to its own OPD's cases",
                d.actor.role
            )));
        }
        Ok(primary)
    }

    pub(super) fn unlink_duplicate(&self, d: &Decision, u: UnlinkDuplicate) -> Decided {
        let may = self.may(d, Operation::UnlinkDuplicate);
        self.allow(d.actor, may, UnlinkDuplicate::VERB)?;
        let (Status::Duplicate, Some(primary_id), Some(prior)) =
            (self.status, &self.primary_id, self.linked_from)
        else {
            return Err(self.transition(UnlinkDuplicate::VERB));
        };
        Ok(ComplaintEvent::DuplicateUnlinked {
            primary_id: primary_id.clone(),
            reason: u.reason.into_string(),
            restored_status: prior,
            occurred_at: d.now,
        })
    }

    /// The incident follower's closing of a linked duplicate, once its primary
    /// closed: the ordinary `Closed`, with the primary's outcome.
    pub(super) fn close_with_incident(&self, d: &Decision, c: CloseWithIncident) -> Decided {
        let verb = CloseWithIncident::VERB;
        self.allow(d.actor, d.actor.role == Role::System, verb)?;
        let primary_id = c.primary_id.into_string();
        if self.status != Status::Duplicate || self.primary_id.as_deref() != Some(&primary_id) {
            return Err(self.transition(verb));
        }
        Ok(ComplaintEvent::Closed {
            resolution: c.resolution,
            summary: c.summary.into_string(),
            duplicate_of: Some(primary_id),
            template: None,
            occurred_at: d.now,
        })
    }
}
