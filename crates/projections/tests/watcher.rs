//! The deadline watcher with an injected clock against a real PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use std::sync::Arc;

use chrono::Duration;
use futures::future::join_all;

use aduan_domain::sla::Leg;
use aduan_domain::{Action, Actor, Assign, ComplaintEvent, FixedClock, RequestInfo, Role, Status};
use aduan_projections::{ComplaintSummary, Projector, SlaTimers, WatchReport, Watcher};
use aduan_store::CommandBus;
use aduan_testkit::fixtures::{agent, bus_with, request, services_at, sla, start, submit, verify};
use aduan_testkit::{on_both_stores, Backend, TestStore};

on_both_stores!(
    a_passed_deadline_is_recorded_once_even_by_racing_watchers,
    an_unanswered_request_for_information_closes_after_ten_working_days,
);

struct Setup {
    store: TestStore,
    clock: Arc<FixedClock>,
    bus: Arc<CommandBus>,
}

impl Setup {
    async fn new(backend: Backend) -> Setup {
        let store = TestStore::create(backend).await;
        let clock = Arc::new(FixedClock::at(start()));
        let bus = Arc::new(bus_with(&store, services_at(clock.clone())).await);
        Setup { store, clock, bus }
    }

    fn watcher(&self) -> Watcher {
        let (calendar, book) = sla();
        Watcher::new(self.bus.clone(), calendar, book)
    }

    /// A case dispatched to DPU at the clock's current time.
    async fn dispatched(&self, id: &str) {
        let assign = Action::Assign(Assign {
            opd: aduan_testkit::fixtures::opd("DPU"),
            officer_id: None,
            note: None,
        });
        for action in [submit(id), verify("ok"), assign] {
            self.bus
                .execute(request(id, agent(), action, None))
                .await
                .unwrap();
        }
    }

    /// Brings both projections the watcher reads up to date.
    async fn project(&self) {
        self.store.settle().await;
        let log = self.bus.log().clone();
        let (calendar, book) = sla();
        Projector::new(log.clone(), summary())
            .catch_up()
            .await
            .unwrap();
        Projector::new(log, SlaTimers::new(calendar, book))
            .catch_up()
            .await
            .unwrap();
    }

    async fn events(&self, id: &str) -> Vec<ComplaintEvent> {
        self.bus
            .log()
            .load(id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event)
            .collect()
    }
}

async fn a_passed_deadline_is_recorded_once_even_by_racing_watchers(backend: Backend) {
    let s = Setup::new(backend).await;
    s.dispatched("late-reply").await;
    s.project().await;
    assert_eq!(
        s.watcher().tick().await.unwrap(),
        WatchReport::default(),
        "nothing due yet"
    );

    // Five working days for the follow-up run out on Monday 9 March 09:00.
    s.clock.advance(Duration::days(7) + Duration::minutes(1));
    let watchers: Vec<Watcher> = (0..4).map(|_| s.watcher()).collect();
    let reports = join_all(watchers.iter().map(|w| w.tick())).await;
    let recorded: usize = reports.into_iter().map(|r| r.unwrap().breaches).sum();
    assert_eq!(
        recorded, 1,
        "one watcher records it; the others replay or step aside"
    );

    let events = s.events("late-reply").await;
    let breaches: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            ComplaintEvent::SlaBreached {
                leg,
                level,
                deadline,
                ..
            } => Some((*leg, *level, *deadline)),
            _ => None,
        })
        .collect();
    let monday_nine = start() + Duration::days(7);
    assert_eq!(breaches, [(Leg::Respond, 1, monday_nine)]);

    // Later ticks find it recorded.
    s.project().await;
    assert_eq!(s.watcher().tick().await.unwrap().breaches, 0);
    assert_eq!(s.events("late-reply").await.len(), events.len());
    s.store.drop_store().await;
}

async fn an_unanswered_request_for_information_closes_after_ten_working_days(backend: Backend) {
    let s = Setup::new(backend).await;
    s.dispatched("silent").await;
    let officer = Actor::new("petugas", Role::OpdOfficer, Some("DPU"));
    let ask = Action::RequestInfo(RequestInfo {
        template: None,
        question: aduan_testkit::fixtures::text("Di mana tepatnya?"),
    });
    s.bus
        .execute(request("silent", officer, ask, None))
        .await
        .unwrap();
    s.project().await;

    s.clock.advance(Duration::days(13)); // Saturday 14 March: 9 working days
    assert_eq!(s.watcher().tick().await.unwrap().auto_closed, 0);
    s.clock.advance(Duration::days(2)); // Monday 16 March 09:00: 10 working days
    let report = s.watcher().tick().await.unwrap();
    assert_eq!(
        report,
        WatchReport {
            breaches: 0,
            auto_closed: 1
        }
    );
    let events = s.events("silent").await;
    assert!(matches!(
        events.last(),
        Some(ComplaintEvent::AutoClosed { .. })
    ));
    let case = aduan_store::codec::fold(&s.bus.log().load("silent").await.unwrap())
        .0
        .unwrap();
    assert_eq!(case.status, Status::Closed);
    s.project().await;
    assert_eq!(s.watcher().tick().await.unwrap(), WatchReport::default());
    s.store.drop_store().await;
}

fn summary() -> ComplaintSummary {
    let (calendar, book) = aduan_testkit::fixtures::sla();
    ComplaintSummary::new(calendar, book)
}
