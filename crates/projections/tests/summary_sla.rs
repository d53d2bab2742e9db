//! The SLA standing in `complaint_summary`: stored at the last event, taken at
//! read time by SQL. Checked against the domain's own computation from the events
//! at many later instants, so the SQL rule cannot drift from `CaseSla`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use aduan_domain::sla::{self, CaseSla, TimerState};
use aduan_domain::{Action, Actor, Assign, ComplaintEvent, FixedClock, RequestInfo, Role};
use aduan_projections::sla_sweep;
use aduan_projections::summary_query::{Keyset, SummaryFilter};
use aduan_projections::{ComplaintSummary, Projector, Reads};
use aduan_store::CommandBus;
use aduan_testkit::fixtures::{agent, bus_with, request, services_at, sla, start, submit, verify};
use aduan_testkit::{on_both_stores, Backend, TestStore};

on_both_stores!(
    the_sla_filter_agrees_with_the_domain_at_every_instant,
    a_sweep_takes_unswept_rows_a_chunk_at_a_time
);

fn assign() -> Action {
    Action::Assign(Assign {
        opd: aduan_testkit::fixtures::opd("DPU"),
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
    CaseSla::of(&sla::timers(&events, &book, &*calendar, now)).map(|s| s.state_at(now))
}

/// Pages of every SLA state at `now` against the domain's computation from the
/// events, against `CaseSla::state_at` over each stored row, and page by page.
async fn check(
    bus: &CommandBus,
    reads: &Reads,
    ids: &[&'static str],
    now: DateTime<Utc>,
    at: &str,
    seen: &mut std::collections::HashSet<(&'static str, TimerState)>,
) {
    let all = SummaryFilter {
        now,
        ..SummaryFilter::default()
    };
    let (every, _) = reads.page(&all, None, 100).await.unwrap();
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
            if truth(bus, id, now).await == Some(state) {
                expected.insert(id.to_string());
                seen.insert((*id, state));
            }
        }
        assert_eq!(listed, expected, "{state:?} at {at}");
        // In the same order as the unfiltered list, filtered row by row.
        let by_rows: Vec<&str> = every
            .iter()
            .filter(|r| r.sla_state_at(now) == Some(state))
            .map(|r| r.complaint_id.as_str())
            .collect();
        let in_order: Vec<&str> = rows.iter().map(|r| r.complaint_id.as_str()).collect();
        assert_eq!(in_order, by_rows, "{state:?} at {at}");
        // Page by page through the cursors.
        let mut paged = Vec::new();
        let mut after = None;
        loop {
            let (page, more) = reads.page(&filter, after.as_ref(), 1).await.unwrap();
            paged.extend(page.iter().map(|r| r.complaint_id.clone()));
            after = page.last().map(|r| Keyset::of(filter.order, r));
            if !more {
                break;
            }
        }
        assert_eq!(paged, in_order, "{state:?} at {at}, page by page");
        let count = reads.count(&filter).await.unwrap();
        assert_eq!(count, expected.len() as i64, "{state:?} count at {at}");
    }
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
        template: None,
        question: aduan_testkit::fixtures::text("Which street?"),
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
    let reads = Reads::new(bus.log().as_ref());
    let projector = Projector::new(bus.log().clone(), ComplaintSummary::new(calendar, book));
    projector.catch_up().await.unwrap();

    let mut ids = vec!["undispatched", "dispatched", "waiting", "late"];
    let mut seen = std::collections::HashSet::new();
    for hours in [0, 10, 30, 50, 60, 80, 100, 120, 170, 200, 260, 400, 2000] {
        let now = start() + Duration::hours(hours);
        // Swept at the previous instant (none at the first): the rows whose
        // instants fell since are read as such; then swept at `now` itself.
        check(&bus, &reads, &ids, now, &format!("+{hours} h"), &mut seen).await;
        sla_sweep::sweep(bus.log().as_ref(), "complaint_summary", now)
            .await
            .unwrap();
        let unswept = store
            .scalar("SELECT count(*) FROM complaint_summary WHERE sla_state_swept IS NULL")
            .await;
        assert_eq!(unswept, 0);
        check(
            &bus,
            &reads,
            &ids,
            now,
            &format!("+{hours} h swept"),
            &mut seen,
        )
        .await;
        if hours == 120 {
            // A case written after the sweep is unswept until the next one.
            clock.set(now);
            run(&bus, "fresh", agent(), submit("fresh")).await;
            store.settle().await;
            projector.catch_up().await.unwrap();
            ids.push("fresh");
            check(&bus, &reads, &ids, now, "+120 h, fresh", &mut seen).await;
        }
    }
    // A `now` before the last sweep reads without the swept column.
    for hours in [170, 1000] {
        let now = start() + Duration::hours(hours);
        check(
            &bus,
            &reads,
            &ids,
            now,
            &format!("+{hours} h, before the sweep"),
            &mut seen,
        )
        .await;
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
        ("fresh", TimerState::OnTrack),
        ("fresh", TimerState::Breached),
    ] {
        assert!(seen.contains(&wanted), "never saw {wanted:?}");
    }
    store.drop_store().await;
}

/// A sweep takes at most its chunk of unswept rows, newest first; the rows it
/// leaves are read right all the same, and later sweeps take them.
async fn a_sweep_takes_unswept_rows_a_chunk_at_a_time(backend: Backend) {
    let store = TestStore::create(backend).await;
    let clock = Arc::new(FixedClock::at(start()));
    let bus = bus_with(&store, services_at(clock.clone())).await;
    let (calendar, book) = sla();
    let reads = Reads::new(bus.log().as_ref());
    let projector = Projector::new(bus.log().clone(), ComplaintSummary::new(calendar, book));
    let unswept =
        || store.scalar("SELECT count(*) FROM complaint_summary WHERE sla_state_swept IS NULL");

    run(&bus, "first", agent(), submit("first")).await;
    store.settle().await;
    projector.catch_up().await.unwrap();
    sla_sweep::sweep_chunk(bus.log().as_ref(), "complaint_summary", start(), 2)
        .await
        .unwrap();
    let mut ids = vec!["first"];
    for id in ["c1", "c2", "c3", "c4", "c5"] {
        clock.advance(Duration::minutes(1));
        run(&bus, id, agent(), submit(id)).await;
        ids.push(id);
    }
    store.settle().await;
    projector.catch_up().await.unwrap();
    assert_eq!(unswept().await, 5);

    let mut seen = std::collections::HashSet::new();
    let mut left = Vec::new();
    for hours in [1, 30, 200] {
        let now = start() + Duration::hours(hours);
        let report = sla_sweep::sweep_chunk(bus.log().as_ref(), "complaint_summary", now, 2)
            .await
            .unwrap();
        assert!(report.rows >= 2 || unswept().await == 0, "{report:?}");
        left.push(unswept().await);
        if hours == 1 {
            // Newest first: the oldest are left for the next sweeps.
            let rest = store
                .texts(
                    "SELECT complaint_id FROM complaint_summary \
                     WHERE sla_state_swept IS NULL ORDER BY complaint_id",
                )
                .await;
            assert_eq!(rest, ["c1", "c2", "c3"]);
        }
        check(
            &bus,
            &reads,
            &ids,
            now,
            &format!("+{hours} h, chunked"),
            &mut seen,
        )
        .await;
    }
    assert_eq!(left, vec![3, 1, 0]);
    store.drop_store().await;
}
