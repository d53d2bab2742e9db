//! Domain fixtures for integration tests that drive the command bus directly.

use std::sync::Arc;

use chrono::TimeZone;

use aduan_domain::*;
use aduan_store::{CommandBus, CommandRequest, RequestContext};

use crate::TestStore;

/// The first instant of the test clock: Monday 2 March 2026, 09:00 WITA.
pub fn start() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap()
}

/// Small reference data: two OPDs, one category; the clock stands at `start()`.
pub fn services() -> ComplaintServices {
    services_at(Arc::new(FixedClock::at(start())))
}

/// The same services on a clock the test moves.
pub fn services_at(clock: Arc<FixedClock>) -> ComplaintServices {
    let opd = |code: &str, name: &str| Opd {
        code: code.into(),
        name: name.into(),
        description: None,
    };
    let reference = ReferenceData {
        opds: vec![opd("DPU", "Public works"), opd("DLH", "Environment")],
        categories: vec![Category {
            code: "ROAD_DAMAGE".into(),
            name: "Road damage".into(),
            default_opd: "DPU".into(),
            attributes: vec![],
        }],
        kecamatan: vec![],
        ..Default::default()
    };
    ComplaintServices::new(clock, Arc::new(reference), Rules::default())
}

/// Office hours Monday to Friday 08:00-12:00 and 13:00-16:00 WITA, and the
/// national default targets (3 and 5 working days, 60 days; auto-close after 10
/// working days).
pub fn sla() -> (Arc<sla::BusinessCalendar>, Arc<sla::PolicyBook>) {
    use chrono::Weekday::*;
    use sla::{Policy, Rule, Target, Unit};
    let target = |amount, unit| Target { amount, unit };
    let policy = Policy {
        version: 1,
        effective_from: chrono::DateTime::UNIX_EPOCH,
        at_risk_percent: 80,
        auto_close_after: target(10, Unit::WorkingDays),
        rules: vec![Rule {
            category: None,
            priority: None,
            dispatch: target(3, Unit::WorkingDays),
            respond: target(5, Unit::WorkingDays),
            resolve: target(60, Unit::CalendarDays),
            reroute: None,
        }],
    };
    let hours = [(480, 720), (780, 960)];
    let calendar =
        sla::BusinessCalendar::new(8 * 3600, &[Mon, Tue, Wed, Thu, Fri], &hours, []).unwrap();
    let book = sla::PolicyBook::new(vec![policy]).unwrap();
    (Arc::new(calendar), Arc::new(book))
}

/// A command bus on a migrated test store.
pub async fn bus(store: &TestStore) -> CommandBus {
    bus_with(store, services()).await
}

pub async fn bus_with(store: &TestStore, services: ComplaintServices) -> CommandBus {
    CommandBus::new(store.log().await, services)
}

pub fn agent() -> Actor {
    Actor::new("agent-1", Role::Agent, None)
}

/// A text the fixtures know to be valid.
pub fn text<const MAX: usize>(value: &str) -> Text<MAX> {
    Text::parse(value).expect("a fixture's text is valid")
}

/// One of the fixtures' OPDs (`services`).
pub fn opd(code: &str) -> OpdCode {
    OpdCode::known(&services().reference, code).expect("a fixture's OPD")
}

pub fn submit(id: &str) -> Action {
    let location = Location {
        latitude: -5.14,
        longitude: 119.41,
        address: None,
        kecamatan: None,
        kelurahan: None,
    };
    let reference = services().reference;
    Action::Submit(Submit {
        complaint_id: text(id),
        channel: Channel::CallCenter,
        category: CategoryCode::known(&reference, "ROAD_DAMAGE").expect("a fixture's category"),
        priority: None,
        title: text("Jalan berlubang"),
        description: text("Lubang besar"),
        location: Place::parse(&reference, &location).expect("a fixture's place"),
        reporter: None,
        anonymous: false,
        attachments: Links::default(),
        external_ref: None,
        tracking_code_hash: None,
        number: None,
    })
}

/// The event `submit(id)` produces, at `at`.
pub fn submitted_event(id: &str, at: chrono::DateTime<chrono::Utc>) -> ComplaintEvent {
    let Action::Submit(s) = submit(id) else {
        unreachable!("submit builds a Submit")
    };
    ComplaintEvent::Submitted {
        complaint_id: s.complaint_id.into_string(),
        channel: s.channel,
        category: s.category.into_string(),
        priority: Priority::Normal,
        title: s.title.into_string(),
        description: s.description.into_string(),
        location: s.location.into(),
        reporter: None,
        anonymous: s.anonymous,
        attachments: s.attachments.into_vec(),
        external_ref: None,
        tracking_code_hash: s.tracking_code_hash,
        number: None,
        occurred_at: at,
    }
}

pub fn verify(note: &str) -> Action {
    Action::Verify(Verify {
        priority: None,
        category: None,
        note: Some(text(note)),
        location: None,
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
