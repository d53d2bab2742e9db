use chrono::{DateTime, Utc};
use serde_json::Value;

use super::*;
use crate::ikm::SurveyAnswer;
use crate::sla::Leg;
use crate::values::{AttachmentRef, Channel, Location, Priority, RejectReason, Resolution};

fn at() -> DateTime<Utc> {
    "2026-03-02T01:00:00Z".parse().unwrap()
}

fn file(visibility: NoteVisibility) -> AttachmentRef {
    AttachmentRef {
        sha256: "ab".repeat(32),
        media_type: "image/jpeg".into(),
        size: 10,
        thumbnail_sha256: None,
        caption: Some("staff: the caption".into()),
        visibility,
    }
}

/// One event of every kind; staff's free texts start with `staff:`, the
/// reporter's with `citizen:`.
fn every_event() -> Vec<ComplaintEvent> {
    let mut events = first_events();
    events.extend(later_events());
    events.extend(link_events());
    events
}

fn place(address: &str) -> Location {
    Location {
        latitude: -5.1,
        longitude: 119.4,
        address: Some(address.into()),
        kecamatan: None,
        kelurahan: None,
    }
}

fn first_events() -> Vec<ComplaintEvent> {
    use ComplaintEvent as E;
    let s = |t: &str| format!("staff: {t}");
    vec![
        E::Submitted {
            complaint_id: "c-1".into(),
            channel: Channel::Web,
            category: "ROAD_DAMAGE".into(),
            priority: Priority::Normal,
            title: "citizen: title".into(),
            description: "citizen: description".into(),
            location: place("citizen: address"),
            reporter: None,
            anonymous: false,
            attachments: vec![],
            external_ref: None,
            tracking_code_hash: None,
            number: None,
            occurred_at: at(),
        },
        E::Verified {
            priority: Priority::High,
            category: "ROAD_DAMAGE".into(),
            note: Some(s("verified")),
            occurred_at: at(),
        },
        E::Rejected {
            reason: RejectReason::OutOfScope,
            note: Some(s("rejected")),
            occurred_at: at(),
        },
        E::LocationCorrected {
            location: place("citizen: corrected address"),
            reason: Some(s("location")),
            occurred_at: at(),
        },
        E::Assigned {
            opd: "DPU".into(),
            officer_id: None,
            note: Some(s("assigned")),
            occurred_at: at(),
        },
        E::Transferred {
            from_opd: "DPU".into(),
            to_opd: "DLH".into(),
            reason: s("transferred"),
            reason_code: Some("BUKAN_WEWENANG".into()),
            occurred_at: at(),
        },
        E::ReturnedToCommandCenter {
            from_opd: "DLH".into(),
            reason_code: "BUKAN_WEWENANG".into(),
            note: Some(s("returned")),
            occurred_at: at(),
        },
        E::Responded {
            message: s("response"),
            template: None,
            occurred_at: at(),
        },
        E::InfoRequested {
            question: s("question"),
            template: None,
            occurred_at: at(),
        },
        E::InfoProvided {
            answer: "citizen: answer".into(),
            attachments: vec![],
            occurred_at: at(),
        },
        E::FieldHandled {
            notes: s("field"),
            handled_at: at(),
            photos: vec![],
            occurred_at: at(),
        },
    ]
}

fn link_events() -> Vec<ComplaintEvent> {
    use ComplaintEvent as E;
    let s = |t: &str| format!("staff: {t}");
    vec![
        E::DuplicateLinked {
            primary_id: "c-0".into(),
            reason: s("linked"),
            distance_meters: 42.0,
            rule: "SAME_CATEGORY_NEARBY".into(),
            rule_radius_meters: 1_000,
            prior_status: crate::values::Status::Assigned,
            occurred_at: at(),
        },
        E::DuplicateUnlinked {
            primary_id: "c-0".into(),
            reason: s("unlinked"),
            restored_status: crate::values::Status::Assigned,
            occurred_at: at(),
        },
    ]
}

fn later_events() -> Vec<ComplaintEvent> {
    use ComplaintEvent as E;
    let s = |t: &str| format!("staff: {t}");
    vec![
        E::Escalated {
            level: 1,
            reason: s("escalated"),
            handoff_loop: None,
            occurred_at: at(),
        },
        E::Closed {
            resolution: Resolution::Resolved,
            summary: s("summary"),
            duplicate_of: None,
            template: None,
            occurred_at: at(),
        },
        E::Reopened {
            reason: "citizen: reopened".into(),
            occurred_at: at(),
        },
        E::Rated {
            score: 4,
            comment: Some("citizen: comment".into()),
            occurred_at: at(),
        },
        E::SlaBreached {
            leg: Leg::Respond,
            deadline: at(),
            level: 1,
            occurred_at: at(),
        },
        E::AutoClosed {
            waiting_since: at(),
            reason: s("auto closed"),
            occurred_at: at(),
        },
        E::NoteAdded {
            text: s("internal note"),
            visibility: NoteVisibility::Internal,
            template: None,
            occurred_at: at(),
        },
        E::NoteAdded {
            text: s("public note"),
            visibility: NoteVisibility::Public,
            template: None,
            occurred_at: at(),
        },
        E::AttachmentAdded {
            file: file(NoteVisibility::Internal),
            occurred_at: at(),
        },
        E::AttachmentAdded {
            file: file(NoteVisibility::Public),
            occurred_at: at(),
        },
        E::ReporterDataErased {
            reporter_ref: "ab".repeat(32),
            reason: s("erased"),
            occurred_at: at(),
        },
        E::SurveyAnswered {
            answers: vec![SurveyAnswer {
                element: "U1".into(),
                score: 4,
            }],
            occurred_at: at(),
        },
        E::NotificationsOptedOut { occurred_at: at() },
        E::CalendarCorrected {
            version: 2,
            reason: s("the calendar's reason"),
            occurred_at: at(),
        },
    ]
}

/// Every string in `value` with its path.
fn texts(value: &Value, path: Vec<String>, out: &mut Vec<(Vec<String>, String)>) {
    match value {
        Value::String(s) => out.push((path, s.clone())),
        Value::Object(map) => {
            for (k, v) in map {
                let mut p = path.clone();
                p.push(k.clone());
                texts(v, p, out);
            }
        }
        _ => {}
    }
}

fn payload_texts(event: &ComplaintEvent) -> Vec<(Vec<String>, String)> {
    let value = serde_json::to_value(event).unwrap();
    let mut out = Vec::new();
    texts(&value[event.event_type_name()], vec![], &mut out);
    out
}

#[test]
fn every_staff_text_is_decided_once_public_or_internal() {
    let events = every_event();
    let kinds: std::collections::BTreeSet<_> = events.iter().map(|e| e.event_type_name()).collect();
    assert_eq!(kinds.len(), crate::events::EVENT_TYPES.len(), "one of each");
    for event in &events {
        let internal = internal_fields(event);
        for (path, text) in payload_texts(event) {
            let is_internal = internal.iter().any(|p| *p == path.as_slice());
            let is_public = public_text(event) == Some(text.as_str());
            if text.starts_with("staff:") {
                assert!(
                    is_internal != is_public,
                    "{} {path:?}: public {is_public}, internal {is_internal}",
                    event.event_type_name()
                );
            } else {
                assert!(!is_internal && !is_public, "{path:?} is no staff text");
            }
        }
    }
}

#[test]
fn replies_to_the_citizen_leave_and_notes_to_colleagues_stay() {
    let events = every_event();
    let public: Vec<&str> = events
        .iter()
        .filter_map(public_text)
        .map(|t| t.trim_start_matches("staff: "))
        .collect();
    assert_eq!(
        public,
        [
            "response",
            "question",
            "summary",
            "auto closed",
            "public note",
            "the caption"
        ]
    );
    for event in every_event() {
        let withheld: Vec<String> = payload_texts(&event)
            .into_iter()
            .filter(|(p, _)| internal_fields(&event).iter().any(|i| *i == p.as_slice()))
            .map(|(_, t)| t)
            .collect();
        for text in withheld {
            assert!(
                [
                    "staff: verified",
                    "staff: rejected",
                    "staff: assigned",
                    "staff: transferred",
                    "staff: returned",
                    "staff: field",
                    "staff: location",
                    "staff: linked",
                    "staff: unlinked",
                    "staff: escalated",
                    "staff: internal note",
                    "staff: the caption",
                    "staff: erased",
                    "staff: the calendar's reason"
                ]
                .contains(&text.as_str()),
                "{text}"
            );
        }
    }
}
