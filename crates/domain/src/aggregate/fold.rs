//! How each event changes a case: one function per event that changes it.

use chrono::{DateTime, Utc};

use super::Case;
use crate::events::ComplaintEvent;
use crate::sla::Leg;
use crate::values::{Priority, Resolution, Status};

impl Case {
    pub(super) fn submitted(event: ComplaintEvent) -> Case {
        let ComplaintEvent::Submitted {
            complaint_id,
            channel,
            category,
            priority,
            title,
            description,
            location,
            reporter,
            anonymous,
            attachments,
            external_ref,
            tracking_code_hash,
            number,
            occurred_at,
        } = event
        else {
            unreachable!("Case::submitted is only called with Submitted")
        };
        Case {
            id: complaint_id,
            status: Status::Submitted,
            channel,
            category,
            priority,
            title,
            description,
            location,
            reporter,
            anonymous,
            attachments,
            external_ref,
            opd: None,
            officer_id: None,
            escalation_level: 0,
            resume_status: None,
            resolution: None,
            duplicate_of: None,
            created_at: occurred_at,
            updated_at: occurred_at,
            verified_at: None,
            assigned_at: None,
            first_response_at: None,
            closed_at: None,
            closure_count: 0,
            reopen_count: 0,
            rated_closure: None,
            rating: None,
            recorded_breaches: Vec::new(),
            tracking_code_hash,
            personal_data_erased: false,
            survey_answered: false,
            notifications_opted_out: false,
            calendar_correction: None,
            location_corrected: false,
            primary_id: None,
            linked_from: None,
            number,
            handoff_trail: Default::default(),
        }
    }

    pub(super) fn fold(&mut self, event: ComplaintEvent) {
        use ComplaintEvent as E;
        match event {
            E::Verified {
                priority,
                category,
                occurred_at,
                ..
            } => self.verified(priority, category, occurred_at),
            E::Rejected { .. } => self.status = Status::Rejected,
            E::LocationCorrected { location, .. } => {
                self.location = location;
                self.location_corrected = true;
            }
            E::Assigned {
                opd,
                officer_id,
                occurred_at,
                ..
            } => self.assigned(opd, officer_id, occurred_at),
            E::Transferred {
                to_opd,
                occurred_at,
                ..
            } => self.transferred(to_opd, occurred_at),
            E::Responded { occurred_at, .. } => self.responded(occurred_at),
            E::InfoRequested { .. } => self.info_requested(),
            E::InfoProvided { .. } => self.info_provided(),
            E::FieldHandled { .. } => self.status = Status::InProgress,
            E::Escalated {
                level,
                handoff_loop,
                ..
            } => self.escalated(level, handoff_loop),
            E::ReturnedToCommandCenter { .. } => self.returned_to_command_center(),
            E::Closed {
                resolution,
                duplicate_of,
                occurred_at,
                ..
            } => self.closed(resolution, duplicate_of, occurred_at),
            E::Reopened { .. } => self.reopened(),
            E::Rated { score, .. } => self.rated(score),
            E::DuplicateLinked {
                primary_id,
                prior_status,
                ..
            } => {
                self.status = Status::Duplicate;
                self.linked_from = Some(prior_status);
                self.duplicate_of = Some(primary_id.clone());
                self.primary_id = Some(primary_id);
            }
            E::DuplicateUnlinked {
                restored_status, ..
            } => self.unlinked(restored_status),
            E::SlaBreached {
                leg,
                deadline,
                level,
                ..
            } => self.breached(leg, deadline, level),
            E::AutoClosed { occurred_at, .. } => {
                self.closed(Resolution::NotResolved, None, occurred_at)
            }
            // The fields read as erased from the log once the keys are gone;
            // the folded state (in caches and projections) forgets them now,
            // with the same marker, so a rebuild gives the same rows.
            E::ReporterDataErased { .. } => self.forget_personal_data(),
            E::SurveyAnswered { .. } => self.survey_answered = true,
            E::NotificationsOptedOut { .. } => self.notifications_opted_out = true,
            E::CalendarCorrected { version, .. } => self.calendar_correction = Some(version),
            // Submitted starts a case (`submitted`); notes and attachments
            // change nothing (see `apply`).
            E::Submitted { .. } | E::NoteAdded { .. } | E::AttachmentAdded { .. } => {}
        }
    }

    fn verified(&mut self, priority: Priority, category: String, at: DateTime<Utc>) {
        self.status = Status::Verified;
        self.priority = priority;
        self.category = category;
        self.verified_at = Some(at);
    }

    fn assigned(&mut self, opd: String, officer_id: Option<String>, at: DateTime<Utc>) {
        if self.opd.as_deref() != Some(opd.as_str()) {
            self.assigned_at = Some(at);
        }
        if self.status == Status::Verified {
            self.status = Status::Assigned;
        }
        self.handoff_trail.arrived(&opd);
        self.opd = Some(opd);
        self.officer_id = officer_id;
    }

    fn unlinked(&mut self, restored_status: Status) {
        self.status = restored_status;
        self.linked_from = None;
        self.duplicate_of = None;
        self.primary_id = None;
    }

    fn escalated(&mut self, level: u32, handoff_loop: Option<crate::handoffs::HandoffLoop>) {
        self.escalation_level = level;
        if let Some(found) = handoff_loop {
            self.handoff_trail.escalated(&found);
        }
    }

    /// Back in the Command Center's dispatch queue, with no OPD.
    fn returned_to_command_center(&mut self) {
        self.status = Status::Verified;
        self.opd = None;
        self.officer_id = None;
        self.handoff_trail
            .handed_on(crate::handoffs::COMMAND_CENTER);
    }

    fn transferred(&mut self, to_opd: String, at: DateTime<Utc>) {
        self.status = Status::Assigned;
        self.handoff_trail.handed_on(&to_opd);
        self.opd = Some(to_opd);
        self.officer_id = None;
        self.assigned_at = Some(at);
    }

    fn responded(&mut self, at: DateTime<Utc>) {
        self.status = Status::InProgress;
        self.first_response_at.get_or_insert(at);
    }

    fn info_requested(&mut self) {
        self.resume_status = Some(self.status);
        self.status = Status::WaitingForInfo;
    }

    fn info_provided(&mut self) {
        self.status = self.resume_status.take().unwrap_or(Status::Submitted);
    }

    /// A closing by staff, or by the watcher (NOT_RESOLVED, no duplicate).
    fn closed(&mut self, resolution: Resolution, duplicate_of: Option<String>, at: DateTime<Utc>) {
        self.status = Status::Closed;
        self.resolution = Some(resolution);
        self.duplicate_of = duplicate_of;
        self.closed_at = Some(at);
        self.closure_count += 1;
        self.resume_status = None;
        self.linked_from = None;
    }

    fn reopened(&mut self) {
        self.status = if self.opd.is_some() {
            Status::Assigned
        } else {
            Status::Submitted
        };
        self.resolution = None;
        self.duplicate_of = None;
        // A duplicate whose reporter disputes the incident's closing is its
        // own case again.
        self.primary_id = None;
        self.closed_at = None;
        self.reopen_count += 1;
    }

    fn rated(&mut self, score: u8) {
        self.rated_closure = Some(self.closure_count);
        self.rating = Some(score);
    }

    fn breached(&mut self, leg: Leg, deadline: DateTime<Utc>, level: u32) {
        self.escalation_level = level;
        self.recorded_breaches.push((leg, deadline));
    }

    /// Every personal field of the case as an erased one reads.
    fn forget_personal_data(&mut self) {
        let erased = || crate::erasure::ERASED.to_string();
        self.title = erased();
        self.description = erased();
        if self.location.address.is_some() {
            self.location.address = Some(erased());
        }
        if let Some(r) = self.reporter.as_mut() {
            for field in [&mut r.name, &mut r.phone, &mut r.email] {
                if field.is_some() {
                    *field = Some(erased());
                }
            }
        }
        self.personal_data_erased = true;
    }
}
