use aduan_domain::{Actor, Case, ComplaintEvent, Role};
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
/// reporter and exact address put back from its submission event.
pub fn with_personal_data(mut case: Case, submitted: &ComplaintEvent) -> Case {
    if let ComplaintEvent::Submitted {
        reporter, location, ..
    } = submitted
    {
        case.reporter = reporter.clone();
        case.location.address = location.address.clone();
    }
    case
}

/// Whether `actor` may see the exact address: whoever handles the case on the
/// ground or oversees it, and the reporter.
pub fn may_see_address(actor: &Actor, case: &Case) -> bool {
    match actor.role {
        Role::Agent | Role::Supervisor | Role::Auditor | Role::System => true,
        Role::OpdAdmin | Role::OpdOfficer => actor.works_for(case.opd.as_deref()),
        Role::Citizen => case.is_reporter(actor),
        Role::Analyst => false,
    }
}

/// Whether `actor` may see who reported `case` (name, phone, email). The Command
/// Center, auditors and the reporter always may; the handling OPD may unless the
/// citizen asked to stay anonymous; nobody else.
pub fn may_see_reporter(actor: &Actor, case: &Case) -> bool {
    match actor.role {
        Role::Agent | Role::Supervisor | Role::Auditor | Role::System => true,
        Role::OpdAdmin | Role::OpdOfficer => {
            !case.anonymous && actor.works_for(case.opd.as_deref())
        }
        Role::Citizen => case.is_reporter(actor),
        Role::Analyst => false,
    }
}
