//! `handoff_legs`: each holder's stay with a case, built incrementally in
//! small batches and rebuilt from zero to the same rows; the roll-up per pair
//! reads them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use std::sync::Arc;

use aduan_domain::sla::BusinessCalendar;
use aduan_domain::*;
use aduan_projections::{rebuild, HandoffLegs, Projector, Reads};
use aduan_store::CommandBus;
use aduan_testkit::fixtures::{agent, bus, opd, request, submit, text, verify};
use aduan_testkit::{on_both_stores, Backend, TestStore};

on_both_stores!(handoff_legs_rebuild_the_same_and_roll_up_per_pair);

fn projection() -> HandoffLegs {
    HandoffLegs::new(Arc::new(BusinessCalendar::continuous()))
}

async fn run(bus: &CommandBus, id: &str, actor: Actor, action: Action) {
    bus.execute(request(id, actor, action, None)).await.unwrap();
}

fn transfer(to: &str) -> Action {
    Action::Transfer(Transfer {
        to_opd: opd(to),
        reason_code: ReasonCode::parse("BUKAN_WEWENANG").unwrap(),
        note: None,
    })
}

async fn dispatched(bus: &CommandBus, id: &str) {
    let citizen = Actor::new("warga-1", Role::Citizen, None);
    run(bus, id, citizen, submit(id)).await;
    run(bus, id, agent(), verify("ok")).await;
    let assign = Action::Assign(Assign {
        opd: opd("DPU"),
        officer_id: None,
        note: None,
    });
    run(bus, id, agent(), assign).await;
}

async fn handoff_legs_rebuild_the_same_and_roll_up_per_pair(backend: Backend) {
    let store = TestStore::create(backend).await;
    let bus = bus(&store).await;
    let log = store.log().await;
    // h-1: DPU -> DLH -> DPU (a loop); h-2: DPU returns it to the Command Center.
    dispatched(&bus, "h-1").await;
    run(&bus, "h-1", agent(), transfer("DLH")).await;
    run(&bus, "h-1", agent(), transfer("DPU")).await;
    dispatched(&bus, "h-2").await;
    let dpu = Actor::new("admin-dpu", Role::OpdAdmin, Some("DPU"));
    let back = Action::ReturnToCommandCenter(ReturnToCommandCenter {
        reason_code: ReasonCode::parse("PERLU_KOORDINASI").unwrap(),
        note: Some(text("Lintas OPD")),
    });
    run(&bus, "h-2", dpu, back).await;
    store.settle().await;

    let projector = Projector::new(log.clone(), projection()).with_batch(2);
    projector.catch_up().await.unwrap();
    let rows = store
        .rows_as_text_except("handoff_legs", "complaint_id, seq", &[])
        .await;
    // h-1: Command Center, DPU, DLH, DPU; h-2: Command Center, DPU, Command Center.
    assert_eq!(rows.len(), 7, "{rows:?}");

    let at = aduan_testkit::fixtures::start();
    let day = chrono::Duration::days(1);
    let pairs = Reads::new(log.as_ref())
        .handoffs(at - day, at + day, None)
        .await
        .unwrap();
    let got: Vec<(&str, &str, i64, i64, i64)> = pairs
        .iter()
        .map(|p| {
            let (f, t) = (p.from_holder.as_str(), p.to_holder.as_str());
            (f, t, p.transfers, p.returns, p.loops)
        })
        .collect();
    assert_eq!(
        got,
        [
            ("DLH", "DPU", 1, 0, 1),
            ("DPU", "COMMAND_CENTER", 0, 1, 0),
            ("DPU", "DLH", 1, 0, 0)
        ]
    );

    rebuild(&log, &projection(), 1000).await.unwrap();
    assert_eq!(
        store
            .rows_as_text_except("handoff_legs", "complaint_id, seq", &[])
            .await,
        rows,
        "rebuilt rows differ from the incremental ones"
    );
    store.drop_store().await;
}
