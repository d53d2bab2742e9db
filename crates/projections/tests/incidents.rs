//! The OPD's figures count incidents, not reports: cases linked to a primary,
//! and cases closed through it, are in no dashboard figure (open, backlog,
//! compliance, percentiles), and the roll-ups give what the rows give.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use std::sync::Arc;

use chrono::Duration;

use aduan_domain::{
    Action, Actor, Assign, Close, CloseWithIncident, FixedClock, LinkDuplicate, PrimaryFacts,
    Resolution, Role, Status,
};
use aduan_projections::dashboard::Scope;
use aduan_projections::sla_query::TimerFilter;
use aduan_projections::{ComplaintSummary, Projector, Reads, SlaTimers};
use aduan_store::CommandBus;
use aduan_testkit::fixtures::{
    agent, bus_with, opd, request, services_at, sla, start, submit, text, verify,
};
use aduan_testkit::{on_both_stores, Backend, TestStore};

on_both_stores!(an_incident_counts_once_in_the_dashboard);

async fn run(bus: &CommandBus, id: &str, actor: Actor, action: Action) {
    bus.execute(request(id, actor, action, None)).await.unwrap();
}

fn link_to(primary: &str) -> Action {
    Action::LinkDuplicate(LinkDuplicate {
        primary_id: text(primary),
        reason: text("Lubang yang sama"),
        primary: Some(PrimaryFacts {
            status: Status::Assigned,
            category: "ROAD_DAMAGE".into(),
            opd: Some("DPU".into()),
            latitude: -5.14,
            longitude: 119.41,
        }),
        own_duplicates: 0,
    })
}

async fn an_incident_counts_once_in_the_dashboard(backend: Backend) {
    let store = TestStore::create(backend).await;
    let clock = Arc::new(FixedClock::at(start()));
    let bus = bus_with(&store, services_at(clock.clone())).await;
    let assign = Action::Assign(Assign {
        opd: opd("DPU"),
        officer_id: None,
        note: None,
    });
    run(&bus, "p", agent(), submit("p")).await;
    run(&bus, "p", agent(), verify("ok")).await;
    run(&bus, "p", agent(), assign).await;
    clock.advance(Duration::hours(1));
    for d in ["d1", "d2"] {
        run(&bus, d, agent(), submit(d)).await;
        run(&bus, d, agent(), link_to("p")).await;
    }
    let (calendar, book) = sla();
    let summary = Projector::new(
        bus.log().clone(),
        ComplaintSummary::new(calendar.clone(), book.clone()),
    );
    let timers = Projector::new(bus.log().clone(), SlaTimers::new(calendar, book));
    let reads = Reads::new(bus.log().as_ref());
    let scope = Scope {
        opd: None,
        from: start() - Duration::days(1),
        to: start() + Duration::days(1),
    };
    store.settle().await;
    summary.catch_up().await.unwrap();
    timers.catch_up().await.unwrap();
    let now = start() + Duration::hours(2);
    let linked = reads.dashboard(&scope, now).await.unwrap();
    assert_eq!(linked.open, 1, "the incident once: {linked:?}");
    assert_eq!(linked.backlog_by_age.iter().sum::<i64>(), 1);
    assert_eq!(linked, reads.dashboard_direct(&scope, now).await.unwrap());

    // Closed: the primary by staff, each duplicate through it (as the
    // server's incident closer does).
    clock.advance(Duration::hours(5));
    let close = Action::Close(Close {
        template: None,
        resolution: Resolution::Resolved,
        summary: text("Selesai"),
        duplicate_of: None,
    });
    run(&bus, "p", agent(), close).await;
    let closer = Actor::new("incident-closer", Role::System, None);
    for d in ["d1", "d2"] {
        let with = Action::CloseWithIncident(CloseWithIncident {
            primary_id: text("p"),
            resolution: Resolution::Resolved,
            summary: text("Selesai"),
        });
        run(&bus, d, closer.clone(), with).await;
    }
    store.settle().await;
    summary.catch_up().await.unwrap();
    timers.catch_up().await.unwrap();
    let now = start() + Duration::hours(8);
    let closed = reads.dashboard(&scope, now).await.unwrap();
    assert_eq!(closed, reads.dashboard_direct(&scope, now).await.unwrap());
    assert_eq!(closed.open, 0);
    // The resolution clocks counted are the primary's alone (the duplicates'
    // stood still from their link and would pull the median down).
    let filter = TimerFilter {
        complaint_id: Some("p".into()),
        legs: vec!["RESOLVE".into()],
        ..TimerFilter::default()
    };
    let resolve = reads.timers(&filter, now, 10).await.unwrap();
    let used = resolve[0].used_seconds as f64;
    assert_eq!(closed.resolve_p50_seconds, Some(used), "{closed:?}");
    assert_eq!(closed.resolve_p90_seconds, Some(used));
    assert_eq!(closed.resolution_compliance_pct, Some(100.0));
    store.drop_store().await;
}
