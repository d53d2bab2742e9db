//! Domain fixtures for integration tests that drive the command bus directly.

use std::sync::Arc;

use chrono::TimeZone;

use aduan_domain::*;
use aduan_store::{CommandBus, CommandRequest, PgEventLog, PgOptions, RequestContext};

use crate::TestDatabase;

/// Small reference data: two OPDs, one category.
pub fn services() -> ComplaintServices {
    let reference = ReferenceData {
        opds: vec![
            Opd {
                code: "DPU".into(),
                name: "Public works".into(),
            },
            Opd {
                code: "DLH".into(),
                name: "Environment".into(),
            },
        ],
        categories: vec![Category {
            code: "ROAD_DAMAGE".into(),
            name: "Road damage".into(),
            default_opd: "DPU".into(),
        }],
        kecamatan: vec![],
    };
    let now = chrono::Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap();
    ComplaintServices::new(
        Arc::new(FixedClock::at(now)),
        Arc::new(reference),
        Rules::default(),
    )
}

/// A command bus on a migrated test database.
pub async fn bus(db: &TestDatabase) -> CommandBus {
    let log = PgEventLog::connect(&db.url, &PgOptions::default()).expect("connect");
    log.migrate().await.expect("migrate");
    CommandBus::new(log, services())
}

pub fn agent() -> Actor {
    Actor::new("agent-1", Role::Agent, None)
}

pub fn submit(id: &str) -> Action {
    Action::Submit(Submit {
        complaint_id: id.into(),
        channel: Channel::CallCenter,
        category: "ROAD_DAMAGE".into(),
        priority: None,
        title: "Jalan berlubang".into(),
        description: "Lubang besar".into(),
        location: Location {
            latitude: -5.14,
            longitude: 119.41,
            address: None,
            kecamatan: None,
            kelurahan: None,
        },
        reporter: None,
        anonymous: false,
        attachments: vec![],
        external_ref: None,
    })
}

/// The event `submit(id)` produces, at `at`.
pub fn submitted_event(id: &str, at: chrono::DateTime<chrono::Utc>) -> ComplaintEvent {
    let Action::Submit(s) = submit(id) else {
        unreachable!("submit builds a Submit")
    };
    ComplaintEvent::Submitted {
        complaint_id: s.complaint_id,
        channel: s.channel,
        category: s.category,
        priority: Priority::Normal,
        title: s.title,
        description: s.description,
        location: s.location,
        reporter: s.reporter,
        anonymous: s.anonymous,
        attachments: s.attachments,
        external_ref: s.external_ref,
        occurred_at: at,
    }
}

pub fn verify(note: &str) -> Action {
    Action::Verify(Verify {
        priority: None,
        category: None,
        note: Some(note.into()),
    })
}

pub fn request(id: &str, actor: Actor, action: Action, command_id: Option<&str>) -> CommandRequest {
    CommandRequest {
        complaint_id: id.into(),
        command: Command::new(actor, action),
        context: RequestContext {
            channel: "test".into(),
            correlation_id: "corr-1".into(),
        },
        command_id: command_id.map(str::to_string),
        expected_version: None,
    }
}
