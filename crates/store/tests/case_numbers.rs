//! Case numbers (`aduan_domain::numbering`) against a real PostgreSQL and a
//! real SQLite: drawn once per new case, unique and rising under concurrent
//! submissions from two processes, counted per local year, and continued
//! after an import.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{FixedOffset, TimeZone, Utc};

use aduan_domain::numbering::CaseNumbering;
use aduan_domain::*;
use aduan_store::CommandBus;
use aduan_testkit::fixtures::{agent, bus, bus_with, request, services_at, submit};
use aduan_testkit::{on_both_stores, Backend, TestStore};

on_both_stores!(
    concurrent_submissions_from_two_processes_get_one_count_without_repeats,
    a_retried_submission_keeps_its_number_and_draws_none,
    each_local_year_has_its_own_count,
    an_imported_log_continues_its_count,
);

async fn number_of(bus: &CommandBus, id: &str) -> String {
    let case = bus.log().load(id).await.unwrap();
    match &case[0].event {
        ComplaintEvent::Submitted { number, .. } => number.clone().expect("numbered"),
        other => panic!("not a submission: {other:?}"),
    }
}

/// The count of `ADU-2026-000042` (42).
fn count(number: &str) -> i64 {
    number.rsplit('-').next().unwrap().parse().unwrap()
}

async fn concurrent_submissions_from_two_processes_get_one_count_without_repeats(backend: Backend) {
    let store = TestStore::create(backend).await;
    let (one, two) = (Arc::new(bus(&store).await), Arc::new(bus(&store).await));
    let mut tasks = Vec::new();
    for i in 0..60 {
        let bus = if i % 2 == 0 { one.clone() } else { two.clone() };
        tasks.push(tokio::spawn(async move {
            let id = format!("c-{i}");
            bus.execute(request(&id, agent(), submit(&id), None))
                .await
                .unwrap();
            number_of(&bus, &id).await
        }));
    }
    let mut numbers = BTreeSet::new();
    for task in tasks {
        numbers.insert(task.await.unwrap());
    }
    assert_eq!(numbers.len(), 60, "a number was given twice: {numbers:?}");
    let counts: BTreeSet<i64> = numbers.iter().map(|n| count(n)).collect();
    assert_eq!(
        counts,
        (1..=60).collect(),
        "no submission failed, so no gap"
    );
    let year = Utc::now().format("%Y").to_string();
    assert!(numbers
        .iter()
        .all(|n| n.starts_with(&format!("ADU-{year}-")) && n.len() == 15));
    store.drop_store().await;
}

async fn a_retried_submission_keeps_its_number_and_draws_none(backend: Backend) {
    let store = TestStore::create(backend).await;
    let bus = bus(&store).await;
    let first = bus
        .execute(request("c-1", agent(), submit("c-1"), Some("s-1")))
        .await
        .unwrap();
    let again = bus
        .execute(request("c-1", agent(), submit("c-1"), Some("s-1")))
        .await
        .unwrap();
    assert!(again.replayed);
    assert_eq!(first.case.number, again.case.number);
    bus.execute(request("c-2", agent(), submit("c-2"), None))
        .await
        .unwrap();
    assert_eq!(count(&number_of(&bus, "c-1").await), 1);
    assert_eq!(
        count(&number_of(&bus, "c-2").await),
        2,
        "the retry drew none"
    );
    store.drop_store().await;
}

async fn each_local_year_has_its_own_count(backend: Backend) {
    let store = TestStore::create(backend).await;
    // 16:00 UTC on New Year's Eve: 2026 in UTC, already 2027 in Makassar.
    let at = Utc.with_ymd_and_hms(2026, 12, 31, 16, 0, 0).unwrap();
    let at_clock = |offset_hours: i32| {
        let mut services = services_at(Arc::new(FixedClock::at(at)));
        let offset = FixedOffset::east_opt(offset_hours * 3600).unwrap();
        services.rules.numbering = CaseNumbering::new("MKS", offset).unwrap();
        services
    };
    let utc = bus_with(&store, at_clock(0)).await;
    let wita = bus_with(&store, at_clock(8)).await;
    for id in ["u-1", "u-2"] {
        utc.execute(request(id, agent(), submit(id), None))
            .await
            .unwrap();
    }
    wita.execute(request("w-1", agent(), submit("w-1"), None))
        .await
        .unwrap();
    assert_eq!(number_of(&utc, "u-2").await, "MKS-2026-000002");
    assert_eq!(number_of(&wita, "w-1").await, "MKS-2027-000001");
    store.drop_store().await;
}

async fn an_imported_log_continues_its_count(backend: Backend) {
    let (from, into) = (
        TestStore::create(backend).await,
        TestStore::create(backend).await,
    );
    let source = bus(&from).await;
    for id in ["c-1", "c-2", "c-3"] {
        source
            .execute(request(id, agent(), submit(id), None))
            .await
            .unwrap();
    }
    let exported = source.log().export_after(0, 100).await.unwrap();
    let (chunks, stream) = tokio::sync::mpsc::channel(1);
    chunks.send(Ok(exported.into())).await.unwrap();
    drop(chunks);
    let target = bus(&into).await;
    target.log().import(stream).await.unwrap();
    target
        .execute(request("c-4", agent(), submit("c-4"), None))
        .await
        .unwrap();
    assert_eq!(count(&number_of(&target, "c-4").await), 4);
    from.drop_store().await;
    into.drop_store().await;
}
