//! The SLA standing in `complaint_summary`: stored at the last event, taken at
//! read time by SQL. Checked against the domain's own computation from the events
//! at many later instants, so the SQL rule cannot drift from `CaseSla`.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use aduan_domain::sla::{self, CaseSla, TimerState};
use aduan_domain::{Action, Actor, Assign, ComplaintEvent, FixedClock, RequestInfo, Role};
use aduan_projections::summary_query::SummaryFilter;
use aduan_projections::{ComplaintSummary, Projector, Reads};
use aduan_store::CommandBus;
use aduan_testkit::fixtures::{agent, bus_with, request, services_at, sla, start, submit, verify};
use aduan_testkit::{on_both_stores, Backend, TestStore};

on_both_stores!(the_sla_filter_agrees_with_the_domain_at_every_instant);

fn assign() -> Action {
    Action::Assign(Assign {
        opd: "DPU".into(),
        officer_id: None,
        note: None,
    })
}

async fn run(bus: &CommandBus, id: &str, actor: Actor, action: Action) {
    bus.execute(request(id, actor, action, None)).await.unwrap();
}

/// What the domain says of the case at `now`, from its events.
async fn truth(bus: &CommandBus, id: &str, now: DateTime<Utc>) -> Option<TimerState> {
    let (calendar, book) = sla();
    let events: Vec<ComplaintEvent> = bus
        .log()
        .load(id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    CaseSla::of(&sla::timers(&events, &book, &calendar, now)).map(|s| s.state_at(now))
}

async fn the_sla_filter_agrees_with_the_domain_at_every_instant(backend: Backend) {
    let store = TestStore::create(backend).await;
    let clock = Arc::new(FixedClock::at(start())); // Monday 09:00 WITA
    let bus = bus_with(&store, services_at(clock.clone())).await;
    let officer = Actor::new("officer-1", Role::OpdOfficer, Some("DPU"));

    // Waiting for dispatch since Monday 09:00.
    run(&bus, "undispatched", agent(), submit("undispatched")).await;
    // Dispatched at once: the follow-up clock runs.
    for action in [submit("dispatched"), verify("ok"), assign()] {
        run(&bus, "dispatched", agent(), action).await;
    }
    // Dispatched, then waiting for the citizen: every clock paused.
    for action in [submit("waiting"), verify("ok"), assign()] {
        run(&bus, "waiting", agent(), action).await;
    }
    clock.advance(Duration::hours(1));
    let ask = Action::RequestInfo(RequestInfo {
        question: "Which street?".into(),
    });
    run(&bus, "waiting", officer.clone(), ask).await;
    // Dispatched four days late.
    run(&bus, "late", agent(), submit("late")).await;
    clock.advance(Duration::days(4));
    for action in [verify("ok"), assign()] {
        run(&bus, "late", agent(), action).await;
    }

    store.settle().await;
    let (calendar, book) = sla();
    let reads = Reads::new(bus.log().db());
    Projector::new(bus.log().clone(), ComplaintSummary::new(calendar, book))
        .catch_up()
        .await
        .unwrap();

    let ids = ["undispatched", "dispatched", "waiting", "late"];
    let mut seen = std::collections::HashSet::new();
    for hours in [0, 10, 30, 50, 60, 80, 100, 120, 170, 200, 260, 400, 2000] {
        let now = start() + Duration::hours(hours);
        for state in TimerState::ALL {
            let filter = SummaryFilter {
                sla_states: vec![state],
                now,
                ..SummaryFilter::default()
            };
            let (rows, _) = reads.page(&filter, None, 100).await.unwrap();
            let listed: BTreeSet<String> = rows.iter().map(|r| r.complaint_id.clone()).collect();
            let mut expected = BTreeSet::new();
            for id in ids {
                if truth(&bus, id, now).await == Some(state) {
                    expected.insert(id.to_string());
                    seen.insert((id, state));
                }
            }
            assert_eq!(listed, expected, "{state:?} at +{hours} h");
            for row in &rows {
                assert_eq!(
                    row.sla_state_at(now),
                    Some(state),
                    "{} at +{hours} h",
                    row.complaint_id
                );
            }
            let count = reads.count(&filter).await.unwrap();
            assert_eq!(count, expected.len() as i64);
        }
    }
    // The instants cover every state the cases pass through.
    for wanted in [
        ("undispatched", TimerState::OnTrack),
        ("undispatched", TimerState::AtRisk),
        ("undispatched", TimerState::Breached),
        ("dispatched", TimerState::OnTrack),
        ("dispatched", TimerState::AtRisk),
        ("dispatched", TimerState::Breached),
        ("waiting", TimerState::OnTrack),
        ("late", TimerState::Breached),
    ] {
        assert!(seen.contains(&wanted), "never saw {wanted:?}");
    }
    store.drop_store().await;
}
