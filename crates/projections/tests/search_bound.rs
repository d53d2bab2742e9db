//! A ranked search of a word in many cases ranks (and counts) only the newest
//! `search_query::CANDIDATES` of them; a search with fewer matches is ranked
//! whole (docs/api.md, "Search").
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use std::collections::BTreeSet;

use aduan_projections::search_query::CANDIDATES;
use aduan_projections::summary_query::{Keyset, OrderField, SummaryFilter, SummaryOrder};
use aduan_projections::Reads;
use aduan_testkit::{on_both_stores, Backend, TestStore};

on_both_stores!(a_common_word_ranks_its_newest_matches);

/// More cases with `jalan` than a search ranks; every 100th has `drainase`
/// too, and every 7th says `jalan` twice (ranks higher).
const ROWS: i64 = CANDIDATES + 500;

const COLUMNS: &str = "complaint_id, status, channel, category, priority, opd, title, \
    anonymous, escalation_level, reopen_count, created_at, updated_at, version, last_position, \
    events_applied, state, search_main, search_more";

fn fill(backend: Backend) -> String {
    match backend {
        Backend::Postgres => format!(
            "INSERT INTO complaint_summary ({COLUMNS}) \
             SELECT 'c' || lpad(i::text, 6, '0'), 'ASSIGNED', 'WEB', 'ROAD_DAMAGE', 'NORMAL', \
             'DPU', 'Jalan ' || i, false, 0, 0, \
             timestamptz '2025-01-01' + i * interval '1 minute', \
             timestamptz '2025-01-01' + i * interval '1 minute', 1, i, 1, '{{}}'::jsonb, \
             'jalan kata' || (i % 13) || CASE WHEN i % 7 = 0 THEN ' jalan' ELSE '' END \
               || CASE WHEN i % 100 = 0 THEN ' drainase' ELSE '' END, '' \
             FROM generate_series(1, {ROWS}) AS i"
        ),
        Backend::Sqlite => format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS}) \
             INSERT INTO complaint_summary ({COLUMNS}) \
             SELECT printf('c%06d', i), 'ASSIGNED', 'WEB', 'ROAD_DAMAGE', 'NORMAL', 'DPU', \
             'Jalan ' || i, 0, 0, 0, \
             strftime('%Y-%m-%dT%H:%M:%S+00:00', '2025-01-01', '+' || i || ' minutes'), \
             strftime('%Y-%m-%dT%H:%M:%S+00:00', '2025-01-01', '+' || i || ' minutes'), \
             1, i, 1, '{{}}', \
             'jalan kata' || (i % 13) || CASE WHEN i % 7 = 0 THEN ' jalan' ELSE '' END \
               || CASE WHEN i % 100 = 0 THEN ' drainase' ELSE '' END, '' \
             FROM n"
        ),
    }
}

fn searching(words: &str) -> SummaryFilter {
    SummaryFilter {
        text: Some(words.into()),
        order: SummaryOrder {
            field: OrderField::Relevance,
            descending: true,
        },
        ..Default::default()
    }
}

/// Every page of a search, 1,000 at a time: the ids and their ranks.
async fn all_pages(reads: &Reads, filter: &SummaryFilter) -> Vec<(String, i64)> {
    let (mut out, mut after) = (Vec::new(), None::<Keyset>);
    loop {
        let (page, more) = reads.page(filter, after.as_ref(), 1_000).await.unwrap();
        after = page.last().map(|r| Keyset::of(filter.order, r));
        out.extend(
            page.into_iter()
                .map(|r| (r.complaint_id, r.search_rank.unwrap())),
        );
        if !more {
            return out;
        }
    }
}

async fn a_common_word_ranks_its_newest_matches(backend: Backend) {
    let store = TestStore::create(backend).await;
    let log = store.log().await;
    store.exec(&fill(backend)).await.unwrap();
    let reads = Reads::new(log.as_ref());
    let common = searching("jalanan");
    assert_eq!(reads.count(&common).await.unwrap(), CANDIDATES);
    let ranked = all_pages(&reads, &common).await;
    let ids: BTreeSet<&str> = ranked.iter().map(|(id, _)| id.as_str()).collect();
    let newest: BTreeSet<String> = (ROWS - CANDIDATES + 1..=ROWS)
        .map(|i| format!("c{i:06}"))
        .collect();
    assert_eq!(ids.len(), ranked.len(), "no case twice across pages");
    assert!(
        ids.iter().copied().eq(newest.iter().map(String::as_str)),
        "the newest {CANDIDATES} matches"
    );
    assert!(
        ranked.windows(2).all(|w| w[0].1 >= w[1].1),
        "best match first"
    );
    // A case that says the word twice ranks above one that says it once.
    assert_eq!(ranked[0].0[1..].parse::<i64>().unwrap() % 7, 0);
    // A word in fewer cases than that is ranked and counted whole.
    let rare = searching("drainase");
    assert_eq!(reads.count(&rare).await.unwrap(), ROWS / 100);
    assert_eq!(all_pages(&reads, &rare).await.len() as i64, ROWS / 100);
    // Another order than rank lists and counts every match.
    let mut by_date = searching("jalan");
    by_date.order = SummaryOrder::default();
    assert_eq!(reads.count(&by_date).await.unwrap(), ROWS);
    store.drop_store().await;
}
