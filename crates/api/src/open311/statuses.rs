//! How aduan's statuses and events read on the wire: Open311's request status
//! (`open` or `closed`) and FixMyStreet's service request update statuses.

use aduan_domain::{ComplaintEvent, RejectReason, Resolution, Status};

/// A service request's status as Open311 gives it and filters on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestStatus {
    Open,
    Closed,
}

impl RequestStatus {
    /// `closed` once the case is closed or rejected.
    pub fn of(status: Status) -> RequestStatus {
        match status {
            Status::Closed | Status::Rejected => RequestStatus::Closed,
            _ => RequestStatus::Open,
        }
    }

    pub fn parse(word: &str) -> Option<RequestStatus> {
        match word {
            "open" => Some(RequestStatus::Open),
            "closed" => Some(RequestStatus::Closed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Open => "open",
            RequestStatus::Closed => "closed",
        }
    }

    /// The case statuses this one covers, for `status=` filters.
    pub fn statuses(self) -> &'static [Status] {
        match self {
            RequestStatus::Open => &[
                Status::Submitted,
                Status::Verified,
                Status::Assigned,
                Status::InProgress,
                Status::WaitingForInfo,
                Status::Duplicate,
            ],
            RequestStatus::Closed => &[Status::Closed, Status::Rejected],
        }
    }
}

/// What an event is as a FixMyStreet service request update (its lower-case
/// status); `None` for events that are no update to the reporter (the
/// submission itself, escalations, notes, ratings, attachments, erasures,
/// opting out of notifications, a corrected place: the request's location is
/// read from the case as it stands).
pub fn update_status(event: &ComplaintEvent) -> Option<&'static str> {
    use ComplaintEvent as E;
    Some(match event {
        E::Verified { .. } => "investigating",
        E::Rejected { reason, .. } => match reason {
            RejectReason::OutOfScope => "not_councils_responsibility",
            RejectReason::Duplicate => "duplicate",
            RejectReason::Spam | RejectReason::Incomplete => "no_further_action",
        },
        E::Assigned { .. } => "action_scheduled",
        E::Transferred { .. } | E::ReturnedToCommandCenter { .. } => "internal_referral",
        E::Responded { .. } | E::FieldHandled { .. } | E::InfoProvided { .. } => "in_progress",
        E::InfoRequested { .. } => "investigating",
        E::Closed { resolution, .. } => match resolution {
            Resolution::Resolved => "fixed",
            Resolution::NotResolved => "no_further_action",
            Resolution::Duplicate => "duplicate",
            Resolution::OutOfScope => "not_councils_responsibility",
        },
        E::AutoClosed { .. } => "closed",
        E::Reopened { .. } => "open",
        // FixMyStreet's own state for a report it merged into another.
        E::DuplicateLinked { .. } => "duplicate",
        E::DuplicateUnlinked { .. } => "open",
        E::Submitted { .. }
        | E::LocationCorrected { .. }
        | E::Escalated { .. }
        | E::SlaBreached { .. }
        | E::Rated { .. }
        | E::NoteAdded { .. }
        | E::AttachmentAdded { .. }
        | E::ReporterDataErased { .. }
        | E::SurveyAnswered { .. }
        | E::NotificationsOptedOut { .. }
        | E::CalendarCorrected { .. } => return None,
    })
}

/// The event types `update_status` answers for.
pub const UPDATE_EVENT_TYPES: [&str; 14] = [
    "Verified",
    "Rejected",
    "Assigned",
    "Transferred",
    "ReturnedToCommandCenter",
    "Responded",
    "InfoRequested",
    "InfoProvided",
    "FieldHandled",
    "Closed",
    "AutoClosed",
    "Reopened",
    "DuplicateLinked",
    "DuplicateUnlinked",
];

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn closed_and_rejected_cases_are_closed_the_rest_open() {
        for s in Status::ALL {
            let closed = matches!(s, Status::Closed | Status::Rejected);
            let word = RequestStatus::of(*s).as_str();
            assert_eq!(word, if closed { "closed" } else { "open" });
            let group = RequestStatus::parse(word).unwrap().statuses();
            assert!(group.contains(s), "{s}");
        }
        assert_eq!(RequestStatus::parse("pending"), None);
    }

    #[test]
    fn events_map_to_fixmystreet_statuses() {
        let at = Utc::now();
        let closed = |resolution| ComplaintEvent::Closed {
            resolution,
            summary: "s".into(),
            duplicate_of: None,
            template: None,
            occurred_at: at,
        };
        assert_eq!(update_status(&closed(Resolution::Resolved)), Some("fixed"));
        assert_eq!(
            update_status(&closed(Resolution::OutOfScope)),
            Some("not_councils_responsibility")
        );
        assert_eq!(
            update_status(&ComplaintEvent::Transferred {
                from_opd: "DPU".into(),
                to_opd: "DLH".into(),
                reason: "r".into(),
                reason_code: None,
                occurred_at: at
            }),
            Some("internal_referral")
        );
        assert_eq!(
            update_status(&ComplaintEvent::Rated {
                score: 5,
                comment: None,
                occurred_at: at
            }),
            None
        );
        for name in UPDATE_EVENT_TYPES {
            assert!(aduan_domain::events::EVENT_TYPES.contains(&name), "{name}");
        }
    }
}
