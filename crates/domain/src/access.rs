//! The access policy: who may call which query, see which field group and send
//! which mutation. This table is the only place that says so. Resolvers ask it
//! for a scope and the aggregate asks it whether an actor may act on a case;
//! the API names its operations and prints it for docs/security.md
//! (`aduan_api::graphql::access_table`, a test keeps the two equal), and the
//! end-to-end test `access` walks every cell against the running server.
//!
//! What it does not hold: rules about a case's stage (for example that the
//! Command Center asks for information before dispatch and the OPD after it),
//! which stay with the aggregate's transitions.

use crate::actor::{Actor, Role};
use crate::aggregate::Case;
use crate::commands::Action;
use crate::tracking;

/// What a role may do with an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Allowed,
    /// Only on cases currently with the actor's OPD.
    OwnOpd,
    /// As `OwnOpd`, except reports the citizen made anonymously.
    OwnOpdNamed,
    /// Only on cases the actor reported (signed in) or holds the tracking code of.
    OwnCases,
    Refused,
}

/// Everything a caller may do; the API gives each its GraphQL name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Complaint,
    /// Relay's `node(id)`: a complaint refetched by id, as `complaint` reads it.
    Node,
    Complaints,
    ComplaintHistory,
    SlaTimers,
    Dashboard,
    CityStats,
    Projections,
    /// Where the city's cases and the national platform disagree.
    NationalSync,
    Me,
    ReferenceData,
    TrackedComplaint,
    ReporterContact,
    ExactAddress,
    /// Notes and attachments of INTERNAL visibility (PUBLIC ones go with the case).
    InternalNotes,
    /// Attachments (PUBLIC ones; INTERNAL ones also need `InternalNotes`).
    Attachments,
    Submit,
    Verify,
    Reject,
    /// Where a case is (kecamatan, kelurahan, coordinates, address).
    CorrectLocation,
    Assign,
    Transfer,
    /// Hand-offs per pair of holders (issue 25).
    Handoffs,
    /// An OPD gives a case it holds back to the Command Center (issue 25).
    ReturnToCommandCenter,
    Respond,
    RequestInfo,
    ProvideInfo,
    RecordFieldHandling,
    Escalate,
    Close,
    Reopen,
    Rate,
    AddNote,
    AddAttachment,
    ComplaintEvents,
    ComplaintUpdated,
    TrackedComplaintUpdated,
    SlaAlerts,
    Webhooks,
    ManageWebhooks,
    /// Erasure of a reporter's personal data (crypto-shredding, `erasure`).
    EraseReporterData,
    /// Signed checkpoints and a case's events with their inclusion proofs.
    AuditProofs,
    /// Consistency proofs between two sizes of the audit tree: what a monitor
    /// holding an old checkpoint asks.
    AuditConsistency,
    /// Sealing the log's new events and signing a checkpoint now.
    SignAuditCheckpoint,
    /// The satisfaction index (IKM) by the national method.
    Ikm,
    AnswerSurvey,
    /// The Open311 clients (never their keys).
    Open311Clients,
    /// Issuing and revoking Open311 clients' API keys.
    ManageOpen311Clients,
    /// The reporter stops the notifications about a case (`notifications`).
    OptOutOfNotifications,
    /// What was sent to reporters, what waits and what failed.
    NotificationOutbox,
    /// Marking a case a duplicate of an incident's primary, and undoing it.
    LinkDuplicate,
    UnlinkDuplicate,
    /// Where cases cluster: counts per map cell or kelurahan (`hotspots`,
    /// `/geo/hotspots.geojson`).
    Hotspots,
    /// Staff's nearest cases around a point (issue 23).
    NearbyComplaints,
    /// The public's nearby cases, shown as the tracking view shows a case.
    PublicNearbyComplaints,
    /// A case's likely duplicates nearby (a field of the case).
    PossibleDuplicates,
    /// One request acting on many cases (`bulkAct`); each case is then
    /// checked as its own operation (`Assign`, `Close`, ...).
    BulkAct,
    /// The city's response templates, read to use them (issue 24).
    ResponseTemplates,
    /// Creating, revising and retiring them.
    ManageResponseTemplates,
    /// A proposed SLA policy and calendar replayed over a period's cases (issue 25).
    SlaWhatIf,
    /// Rotating the server's own keys (issue 26): the attachment link key,
    /// the audit signing key, the development token secret.
    RotateServerKeys,
}

impl Operation {
    pub const ALL: [Operation; 61] = [
        Operation::Complaint,
        Operation::Node,
        Operation::Complaints,
        Operation::ComplaintHistory,
        Operation::SlaTimers,
        Operation::Dashboard,
        Operation::CityStats,
        Operation::Hotspots,
        Operation::Ikm,
        Operation::Handoffs,
        Operation::Projections,
        Operation::Webhooks,
        Operation::Open311Clients,
        Operation::NotificationOutbox,
        Operation::NationalSync,
        Operation::NearbyComplaints,
        Operation::PublicNearbyComplaints,
        Operation::Me,
        Operation::ReferenceData,
        Operation::TrackedComplaint,
        Operation::ReporterContact,
        Operation::ExactAddress,
        Operation::InternalNotes,
        Operation::Attachments,
        Operation::PossibleDuplicates,
        Operation::Submit,
        Operation::Verify,
        Operation::Reject,
        Operation::CorrectLocation,
        Operation::Assign,
        Operation::Transfer,
        Operation::ReturnToCommandCenter,
        Operation::Respond,
        Operation::RequestInfo,
        Operation::ProvideInfo,
        Operation::RecordFieldHandling,
        Operation::Escalate,
        Operation::Close,
        Operation::Reopen,
        Operation::Rate,
        Operation::AddNote,
        Operation::AddAttachment,
        Operation::AnswerSurvey,
        Operation::OptOutOfNotifications,
        Operation::LinkDuplicate,
        Operation::UnlinkDuplicate,
        Operation::BulkAct,
        Operation::ManageWebhooks,
        Operation::ManageOpen311Clients,
        Operation::EraseReporterData,
        Operation::ComplaintEvents,
        Operation::ComplaintUpdated,
        Operation::TrackedComplaintUpdated,
        Operation::SlaAlerts,
        Operation::AuditProofs,
        Operation::AuditConsistency,
        Operation::SignAuditCheckpoint,
        Operation::ResponseTemplates,
        Operation::ManageResponseTemplates,
        Operation::SlaWhatIf,
        Operation::RotateServerKeys,
    ];
}

impl Action {
    /// The operation a command is, for the table; `None` for the watcher's own
    /// commands, which no API reaches and only SYSTEM may send.
    pub fn operation(&self) -> Option<Operation> {
        Some(match self {
            Action::Submit(_) => Operation::Submit,
            Action::Verify(_) => Operation::Verify,
            Action::Reject(_) => Operation::Reject,
            Action::CorrectLocation(_) => Operation::CorrectLocation,
            Action::Assign(_) => Operation::Assign,
            Action::Transfer(_) => Operation::Transfer,
            Action::ReturnToCommandCenter(_) => Operation::ReturnToCommandCenter,
            Action::Respond(_) => Operation::Respond,
            Action::RequestInfo(_) => Operation::RequestInfo,
            Action::ProvideInfo(_) => Operation::ProvideInfo,
            Action::RecordFieldHandling(_) => Operation::RecordFieldHandling,
            Action::Escalate(_) => Operation::Escalate,
            Action::Close(_) => Operation::Close,
            Action::Reopen(_) => Operation::Reopen,
            Action::Rate(_) => Operation::Rate,
            Action::AddNote(_) => Operation::AddNote,
            Action::AddAttachment(_) => Operation::AddAttachment,
            Action::EraseReporterData(_) => Operation::EraseReporterData,
            Action::AnswerSurvey(_) => Operation::AnswerSurvey,
            Action::OptOutOfNotifications(_) => Operation::OptOutOfNotifications,
            Action::LinkDuplicate(_) => Operation::LinkDuplicate,
            Action::UnlinkDuplicate(_) => Operation::UnlinkDuplicate,
            Action::RecordBreach(_)
            | Action::AutoClose(_)
            | Action::CloseWithIncident(_)
            | Action::CorrectCalendar(_) => return None,
        })
    }
}

/// The columns of the table, in order.
pub const ROLES: [Role; 9] = [
    Role::Public,
    Role::Citizen,
    Role::Agent,
    Role::Supervisor,
    Role::OpdAdmin,
    Role::OpdOfficer,
    Role::Auditor,
    Role::Analyst,
    Role::System,
];

/// The table.
#[allow(
    clippy::expect_used,
    reason = "ROLES lists every role: a test walks them all"
)]
pub fn access(role: Role, op: Operation) -> Access {
    let column = ROLES
        .iter()
        .position(|r| *r == role)
        .expect("every role has a column");
    row(op)[column]
}

/// An operation's row of the table.
fn row(op: Operation) -> [Access; 9] {
    use Access::{Allowed as A, OwnCases as Own, OwnOpd as Opd, OwnOpdNamed, Refused as No};
    use Operation::*;
    // Columns: PUBLIC, CITIZEN, AGENT, SUPERVISOR, OPD_ADMIN, OPD_OFFICER, AUDITOR, ANALYST, SYSTEM.
    match op {
        Complaint | Node | Complaints => [No, Own, A, A, Opd, Opd, A, A, A],
        ComplaintHistory => [No, Own, A, A, Opd, Opd, A, No, A],
        // Nearby cases are read as lists are (no personal data), by staff.
        SlaTimers | Dashboard | CityStats | NearbyComplaints => [No, No, A, A, Opd, Opd, A, A, A],
        Projections => [No, No, A, A, A, A, A, A, A],
        // The Command Center chases what did not reach the platform; it names
        // cases of every OPD, so OPD roles and analysts do not get it.
        NationalSync => [No, No, A, A, No, No, A, No, A],
        Me => [No, A, A, A, A, A, A, A, A],
        ReferenceData => [A; 9],
        TrackedComplaint => [Own; 9],
        ReporterContact => [No, Own, A, A, OwnOpdNamed, OwnOpdNamed, A, No, A],
        ExactAddress => [No, Own, A, A, Opd, Opd, A, No, A],
        // Staff only: never the citizen, the public view or analysts.
        InternalNotes | PossibleDuplicates => [No, No, A, A, Opd, Opd, A, No, A],
        // Pictures of a case go where the case goes, except to analysts (a
        // photo is personal data as much as a name is).
        Attachments => [Own, Own, A, A, Opd, Opd, A, No, A],
        Submit => [A, A, A, A, No, No, No, No, A],
        Verify | Reject => [No, No, A, A, No, No, No, No, No],
        // The Command Center places cases (dispatch follows the place); an OPD
        // that finds the place wrong says so in a note, and the Command Center
        // corrects it.
        CorrectLocation => [No, No, A, A, No, No, No, No, No],
        // Whoever triages reports links them; an OPD only between its own
        // cases (the aggregate also checks the primary is its OPD's).
        LinkDuplicate | UnlinkDuplicate => [No, No, A, A, Opd, Opd, No, No, No],
        Assign | Transfer => [No, No, A, A, Opd, No, No, No, No],
        Respond | RecordFieldHandling => [No, No, No, No, Opd, Opd, No, No, No],
        RequestInfo => [No, No, A, A, Opd, Opd, No, No, No],
        ProvideInfo | Reopen => [No, Own, A, A, No, No, No, No, No],
        Escalate => [No, No, A, A, No, No, No, No, A],
        Close => [No, No, A, A, Opd, Opd, No, No, A],
        Rate => [Own, Own, No, No, No, No, No, No, No],
        // SYSTEM: bridges record what other systems said about the case.
        AddNote => [No, No, A, A, Opd, Opd, No, No, A],
        // The citizen's evidence (by account or tracking code), staff's pictures.
        AddAttachment => [Own, Own, A, A, Opd, Opd, No, No, A],
        // Subscriptions deliver what the matching query shows, event by event:
        // each notice is checked against the case as it stands after the event,
        // so an OPD stops receiving a case from its transfer away on.
        ComplaintEvents | ComplaintUpdated => [No, Own, A, A, Opd, Opd, A, A, A],
        TrackedComplaintUpdated => [Own; 9],
        SlaAlerts => [No, No, A, A, Opd, Opd, A, A, A],
        // Where the city's events go is the city's business: supervisors decide,
        // auditors may look (the signing secret is never shown again).
        Webhooks => [No, No, No, A, No, No, A, No, No],
        ManageWebhooks => [No, No, No, A, No, No, No, No, No],
        // Who may file cases as an integration is decided as webhooks are.
        Open311Clients => [No, No, No, A, No, No, A, No, No],
        ManageOpen311Clients => [No, No, No, A, No, No, No, No, No],
        AuditProofs => [No, No, No, A, No, No, A, No, No],
        // Read by whoever may read the proofs it extends.
        AuditConsistency => [No, No, No, A, No, No, A, No, No],
        SignAuditCheckpoint => [No, No, No, A, No, No, A, No, A],
        // The city's decision on a citizen's request; recorded as an event.
        EraseReporterData => [No, No, No, A, No, No, No, No, No],
        // The IKM is read as the dashboard it stands in, by the same roles.
        Ikm => [No, No, A, A, Opd, Opd, A, A, A],
        // As the 1-5 rating: the reporter, by account or tracking code.
        AnswerSurvey => [Own, Own, No, No, No, No, No, No, No],
        // The reporter (account or tracking code), or the Command Center by phone.
        OptOutOfNotifications => [Own, Own, A, A, No, No, No, No, No],
        // Which messages reached reporters is the city's operations: the
        // supervisors who answer for it, and auditors.
        NotificationOutbox => [No, No, No, A, No, No, A, No, No],
        // Figures, as the dashboard: an OPD's administrator sees its own
        // OPD's cases; its officers work case by case.
        Hotspots => [No, No, A, A, Opd, No, A, A, A],
        // "Is it one of these?" before filing, with or without an account:
        // only what a tracking code shows, never the reporter or the text.
        PublicNearbyComplaints => [A; 9],
        _ => desk_row(op),
    }
}

/// The rows of issue 24's desk: bulk actions and response templates.
fn desk_row(op: Operation) -> [Access; 9] {
    use Access::{Allowed as A, OwnOpd as Opd, Refused as No};
    // Columns: PUBLIC, CITIZEN, AGENT, SUPERVISOR, OPD_ADMIN, OPD_OFFICER, AUDITOR, ANALYST, SYSTEM.
    match op {
        // The desk's staff, who do its actions one by one: each case is then
        // checked as its own operation, so an OPD's officer who may note and
        // close its cases may do so in bulk, and may not assign in bulk.
        Operation::BulkAct => [No, No, A, A, Opd, Opd, No, No, No],
        // Whoever answers citizens reads them (an OPD role its own OPD's and
        // the city-wide ones); auditors, as everything on the record. SYSTEM
        // renders the automatic acknowledgement.
        Operation::ResponseTemplates => [No, No, A, A, Opd, Opd, A, No, A],
        // A SUPERVISOR any; an OPD's administrator their own OPD's only
        // (`templates::stream::may_manage`).
        Operation::ManageResponseTemplates => [No, No, No, A, Opd, No, No, No, No],
        _ => accountability_row(op),
    }
}

/// The rows of issue 25's accountability: hand-offs and SLA what-if.
fn accountability_row(op: Operation) -> [Access; 9] {
    use Access::{Allowed as A, OwnOpd as Opd, Refused as No};
    // Columns: PUBLIC, CITIZEN, AGENT, SUPERVISOR, OPD_ADMIN, OPD_OFFICER, AUDITOR, ANALYST, SYSTEM.
    match op {
        // Whoever of the holding OPD finds the case is not theirs, its
        // administrator at the desk or its officer on site, rather than
        // guessing another OPD (a transfer stays the administrator's).
        Operation::ReturnToCommandCenter => [No, No, No, No, Opd, Opd, No, No, No],
        // Figures, as the dashboard beside which they are shown: the Command
        // Center that routes the cases, supervisors, auditors and analysts
        // city-wide; an OPD's administrator the pairs its OPD is in.
        Operation::Handoffs => [No, No, A, A, Opd, No, A, A, A],
        // Those who propose and weigh SLA policies, over every OPD's cases:
        // the answer is figures and case ids, no personal data.
        Operation::SlaWhatIf => [No, No, No, A, No, No, No, A, No],
        _ => keys_row(op),
    }
}

/// The rows of issue 26's key rotation.
fn keys_row(op: Operation) -> [Access; 9] {
    use Access::{Allowed as A, Refused as No};
    // Columns: PUBLIC, CITIZEN, AGENT, SUPERVISOR, OPD_ADMIN, OPD_OFFICER, AUDITOR, ANALYST, SYSTEM.
    match op {
        // The city's keys are managed as its webhooks' secrets are, by
        // supervisors; auditors check what the keys signed but do not
        // choose them (the audit key's rotation is on record for them).
        Operation::RotateServerKeys => [No, No, No, A, No, No, No, No, No],
        _ => [No; 9],
    }
}

/// What a read may return: everything, one OPD's cases, one reporter's, or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Opd(String),
    /// The reporter reference (see `tracking::reporter_ref`) of the caller.
    Reporter(String),
    Nothing,
}

/// The scope `actor` reads `op` in, for queries over many cases.
pub fn scope(actor: &Actor, op: Operation) -> Scope {
    match access(actor.role, op) {
        Access::Allowed => Scope::All,
        Access::OwnOpd | Access::OwnOpdNamed => match &actor.opd {
            Some(opd) => Scope::Opd(opd.clone()),
            None => Scope::Nothing,
        },
        Access::OwnCases if actor.role == Role::Citizen => {
            Scope::Reporter(tracking::reporter_ref(&actor.id))
        }
        Access::OwnCases | Access::Refused => Scope::Nothing,
    }
}

/// Whether `actor` may do `op` on `case`; `tracking_code` is a code the caller
/// presented, which makes the case theirs when it is the case's.
pub fn permits(actor: &Actor, op: Operation, case: &Case, tracking_code: Option<&str>) -> bool {
    match access(actor.role, op) {
        Access::Allowed => true,
        Access::OwnOpd => actor.works_for(case.opd.as_deref()),
        Access::OwnOpdNamed => !case.anonymous && actor.works_for(case.opd.as_deref()),
        Access::OwnCases => {
            case.is_reporter(actor)
                || tracking_code.is_some_and(|code| tracking::matches(case, code))
        }
        Access::Refused => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_opd_roles_have_opd_scoped_cells_and_only_reporters_own_cases() {
        for op in Operation::ALL {
            for role in ROLES {
                match access(role, op) {
                    Access::OwnOpd | Access::OwnOpdNamed => assert!(role.is_opd_scoped()),
                    Access::OwnCases => assert!(
                        matches!(role, Role::Citizen | Role::Public)
                            || matches!(
                                op,
                                Operation::TrackedComplaint | Operation::TrackedComplaintUpdated
                            ),
                        "{role} {op:?}"
                    ),
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn nobody_without_a_token_reads_cases_or_personal_data() {
        for op in [
            Operation::Complaint,
            Operation::Node,
            Operation::Complaints,
            Operation::ComplaintHistory,
            Operation::ReporterContact,
            Operation::ExactAddress,
        ] {
            assert_eq!(access(Role::Public, op), Access::Refused, "{op:?}");
        }
        assert_eq!(
            access(Role::Analyst, Operation::ReporterContact),
            Access::Refused
        );
        assert_eq!(
            access(Role::Analyst, Operation::ExactAddress),
            Access::Refused
        );
    }

    #[test]
    fn internal_notes_reach_staff_only() {
        for role in ROLES {
            let staff = !matches!(role, Role::Public | Role::Citizen | Role::Analyst);
            assert_eq!(
                access(role, Operation::InternalNotes) != Access::Refused,
                staff,
                "{role}"
            );
        }
    }

    #[test]
    fn node_reads_a_complaint_as_complaint_does() {
        for role in ROLES {
            assert_eq!(
                access(role, Operation::Node),
                access(role, Operation::Complaint),
                "{role}"
            );
        }
    }

    #[test]
    fn the_ikm_is_read_as_the_dashboard_and_surveyed_as_rated() {
        for role in ROLES {
            assert_eq!(
                access(role, Operation::Ikm),
                access(role, Operation::Dashboard),
                "{role}"
            );
            assert_eq!(
                access(role, Operation::AnswerSurvey),
                access(role, Operation::Rate),
                "{role}"
            );
        }
    }

    #[test]
    fn scopes_follow_the_table() {
        let dpu = Actor::new("o", Role::OpdOfficer, Some("DPU"));
        assert_eq!(scope(&dpu, Operation::Complaints), Scope::Opd("DPU".into()));
        let citizen = Actor::new("warga", Role::Citizen, None);
        assert_eq!(
            scope(&citizen, Operation::Complaints),
            Scope::Reporter(tracking::reporter_ref("warga"))
        );
        assert_eq!(scope(&citizen, Operation::Dashboard), Scope::Nothing);
        let analyst = Actor::new("a", Role::Analyst, None);
        assert_eq!(scope(&analyst, Operation::Dashboard), Scope::All);
    }
}
