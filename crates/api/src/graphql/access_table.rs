//! The access table (`aduan_domain::access`) as the API shows it: each
//! operation's GraphQL name, its kind in the schema, and the markdown table
//! docs/security.md prints between its markers (tests/schema.rs keeps the two
//! equal).

use aduan_domain::access::{access, Access, Operation, ROLES};

/// The kinds of operation, in the order the table lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Query,
    FieldGroup,
    Mutation,
    Subscription,
}

/// The schema's name of an operation (field groups: the fields they cover).
pub fn name(op: Operation) -> &'static str {
    use Operation::*;
    match op {
        Complaint => "complaint",
        Node => "node",
        Complaints => "complaints, /exports/complaints.csv, /exports/complaints.xlsx",
        ComplaintHistory => "complaintHistory",
        SlaTimers => "slaTimers",
        Dashboard => "dashboard",
        CityStats => "cityStats",
        Projections => "projections",
        NationalSync => "nationalSync",
        Me => "me",
        ReferenceData => {
            "opds, categories, kecamatan, kelurahan, slaPolicies, businessCalendar, handoffReasons"
        }
        TrackedComplaint => "trackedComplaint",
        ReporterContact => "reporter { name phone email }",
        ExactAddress => "location { address }",
        InternalNotes => "notes { text } and attachments of INTERNAL visibility",
        Attachments => "attachments",
        Submit => "submitComplaint",
        Verify => "verifyComplaint",
        Reject => "rejectComplaint",
        CorrectLocation => "correctLocation",
        LinkDuplicate => "linkDuplicate",
        BulkAct => "bulkAct",
        UnlinkDuplicate => "unlinkDuplicate",
        Assign => "assignComplaint",
        Transfer => "transferComplaint",
        ReturnToCommandCenter => "returnToCommandCenter",
        Handoffs => "handoffs",
        Respond => "respondToComplaint",
        RequestInfo => "requestInfo",
        ProvideInfo => "provideInfo",
        RecordFieldHandling => "recordFieldHandling",
        Escalate => "escalateComplaint",
        Close => "closeComplaint",
        Reopen => "reopenComplaint",
        Rate => "rateComplaint",
        AddNote => "addNote",
        AddAttachment => "addAttachment",
        ComplaintEvents => "complaintEvents",
        ComplaintUpdated => "complaintUpdated",
        TrackedComplaintUpdated => "trackedComplaintUpdated",
        SlaAlerts => "slaAlerts",
        Webhooks => "webhookEndpoints, webhookEndpoint",
        ManageWebhooks => {
            "registerWebhook, pauseWebhook, resumeWebhook, removeWebhook, rotateWebhookSecret"
        }
        AuditProofs => "auditCheckpoints, auditProof",
        AuditConsistency => "auditConsistency",
        SignAuditCheckpoint => "signAuditCheckpoint",
        EraseReporterData => "eraseReporterData",
        Ikm => "ikm",
        AnswerSurvey => "answerSurvey",
        Open311Clients => "open311Clients",
        ManageOpen311Clients => "issueOpen311Key, revokeOpen311Key",
        OptOutOfNotifications => "optOutOfNotifications",
        NotificationOutbox => "notificationOutbox",
        Hotspots => "hotspots, /geo/hotspots.geojson",
        NearbyComplaints => "nearbyComplaints",
        PublicNearbyComplaints => "publicNearbyComplaints",
        PossibleDuplicates => "possibleDuplicates",
        ResponseTemplates => "responseTemplates",
        ManageResponseTemplates => {
            "createResponseTemplate, reviseResponseTemplate, retireResponseTemplate"
        }
        SlaWhatIf => "slaWhatIf",
        RotateServerKeys => "rotateServerKey",
    }
}

pub fn kind(op: Operation) -> Kind {
    use Operation::*;
    match op {
        ReporterContact | ExactAddress | InternalNotes | Attachments | PossibleDuplicates => {
            Kind::FieldGroup
        }
        Submit
        | Verify
        | Reject
        | CorrectLocation
        | LinkDuplicate
        | BulkAct
        | UnlinkDuplicate
        | Assign
        | Transfer
        | ReturnToCommandCenter
        | Respond
        | RequestInfo
        | ProvideInfo
        | RecordFieldHandling
        | Escalate
        | Close
        | Reopen
        | Rate
        | AddNote
        | AddAttachment
        | ManageWebhooks
        | SignAuditCheckpoint
        | RotateServerKeys
        | EraseReporterData
        | AnswerSurvey
        | ManageOpen311Clients
        | OptOutOfNotifications
        | ManageResponseTemplates => Kind::Mutation,
        ComplaintEvents | ComplaintUpdated | TrackedComplaintUpdated | SlaAlerts => {
            Kind::Subscription
        }
        _ => Kind::Query,
    }
}
/// A cell as the document writes it.
pub fn label(access: Access) -> &'static str {
    match access {
        Access::Allowed => "allowed",
        Access::OwnOpd => "own OPD",
        Access::OwnOpdNamed => "own OPD, not anonymous",
        Access::OwnCases => "own cases",
        Access::Refused => "refused",
    }
}

/// The table as docs/security.md prints it.
pub fn markdown() -> String {
    let mut out = String::from("| operation |");
    for role in ROLES {
        out.push_str(&format!(" {} |", role.as_str()));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(ROLES.len()));
    for kind in [
        Kind::Query,
        Kind::FieldGroup,
        Kind::Mutation,
        Kind::Subscription,
    ] {
        let title = match kind {
            Kind::Query => "queries",
            Kind::FieldGroup => "fields of `Complaint` (and `complaintHistory` payloads)",
            Kind::Mutation => "mutations",
            Kind::Subscription => "subscriptions",
        };
        out.push_str(&format!("\n| **{title}** |{}", " |".repeat(ROLES.len())));
        for op in Operation::ALL
            .into_iter()
            .filter(|o| self::kind(*o) == kind)
        {
            out.push_str(&format!("\n| `{}` |", name(op)));
            for role in ROLES {
                out.push_str(&format!(" {} |", label(access(role, op))));
            }
        }
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use aduan_domain::Role;

    #[test]
    fn only_tracked_complaint_updated_is_open_to_the_public() {
        for op in Operation::ALL
            .into_iter()
            .filter(|o| kind(*o) == Kind::Subscription)
        {
            let open = access(Role::Public, op) != Access::Refused;
            assert_eq!(open, op == Operation::TrackedComplaintUpdated, "{op:?}");
        }
    }

    #[test]
    fn the_markdown_has_a_row_per_operation() {
        let md = markdown();
        for op in Operation::ALL {
            assert!(md.contains(&format!("| `{}` |", name(op))), "{op:?}");
        }
    }
}
