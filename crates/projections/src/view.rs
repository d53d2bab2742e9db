use aduan_domain::access::{self, Operation};
use aduan_domain::{Actor, Case, ComplaintEvent};
use aduan_store::codec::{self, StoredEvent};

/// A complaint's current state as a reader sees it.
#[derive(Debug, Clone)]
pub struct ComplaintView {
    pub case: Case,
    /// The aggregate's sequence number: what `expectedVersion` refers to.
    pub version: i64,
    /// The global position of its latest event.
    pub position: i64,
}

impl ComplaintView {
    /// Folds the events; `None` when there are none (no such complaint).
    pub fn from_events(events: &[StoredEvent]) -> Option<ComplaintView> {
        let last = events.last()?;
        let case = codec::fold(events).0?;
        Some(ComplaintView {
            case,
            version: last.sequence,
            position: last.position,
        })
    }
}

/// A case read from `complaint_summary` (which holds no personal data), with the
/// reporter put back from its submission event and the exact address from the
/// last event that placed the case (the submission, or the last
/// `LocationCorrected`: `events` holds them all when `case.location_corrected`).
pub fn with_personal_data(mut case: Case, events: &[StoredEvent]) -> Case {
    for e in events {
        match &e.event {
            ComplaintEvent::Submitted {
                reporter, location, ..
            } => {
                case.reporter = reporter.clone();
                case.location.address = location.address.clone();
            }
            ComplaintEvent::LocationCorrected { location, .. } => {
                case.location.address = location.address.clone();
            }
            _ => {}
        }
    }
    case
}

/// Whether `actor` may see the exact address (the access policy's field group).
pub fn may_see_address(actor: &Actor, case: &Case) -> bool {
    access::permits(actor, Operation::ExactAddress, case, None)
}

/// Whether `actor` may see who reported `case` (name, phone, email).
pub fn may_see_reporter(actor: &Actor, case: &Case) -> bool {
    access::permits(actor, Operation::ReporterContact, case, None)
}

/// Whether `actor` may see `case`'s INTERNAL notes (and their history entries).
pub fn may_see_internal_notes(actor: &Actor, case: &Case) -> bool {
    access::permits(actor, Operation::InternalNotes, case, None)
}
