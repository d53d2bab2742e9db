//! Every work-queue read is an index range in the list's order on both
//! stores: PostgreSQL's plan has no Sort over the table's rows and SQLite's
//! no temporary B-tree for the ORDER BY (migrations 0024 / 0022).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use sqlx::{Execute, Row};

use aduan_projections::summary_query::{
    page_query, Keyset, OrderField, SummaryFilter, SummaryOrder, SummaryRow,
};
use aduan_testkit::{on_both_stores, Backend, TestStore};

on_both_stores!(queues_are_read_along_an_index);

const ROWS: i64 = 20_000;

/// `ROWS` summary rows: 20 OPDs, 400 officers (a third of cases with none),
/// every status, priority and SLA standing, deadlines spread over two months.
const PG_FILL: &str = "INSERT INTO complaint_summary (complaint_id, status, channel, category, \
    priority, opd, officer_id, title, anonymous, escalation_level, reopen_count, created_at, \
    updated_at, version, last_position, events_applied, state, sla_state, sla_deadline, \
    primary_id, duplicate_of) \
    SELECT 'c' || lpad(i::text, 8, '0'), \
    (ARRAY['SUBMITTED','VERIFIED','ASSIGNED','IN_PROGRESS','WAITING_FOR_INFO','IN_PROGRESS','CLOSED'])[1 + i % 7], \
    'WEB', 'ROAD_DAMAGE', (ARRAY['LOW','NORMAL','HIGH','EMERGENCY'])[1 + i % 4], \
    'OPD' || (i % 20), CASE WHEN i % 3 = 0 THEN NULL ELSE 'officer-' || (i % 400) END, \
    'Jalan ' || i, false, (i % 50 = 0)::int, 0, \
    timestamptz '2025-01-01' + i * interval '30 seconds', \
    timestamptz '2025-01-01' + i * interval '30 seconds' + (i % 97) * interval '1 hour', \
    1, i, 1, '{}'::jsonb, CASE WHEN i % 5 = 0 THEN 'MET' ELSE 'ON_TRACK' END, \
    timestamptz '2025-01-01' + ((i * 7919) % 86400) * interval '1 minute', \
    CASE WHEN i % 10 = 0 THEN 'c' || lpad((i - 1)::text, 8, '0') END, \
    CASE WHEN i % 10 = 0 THEN 'c' || lpad((i - 1)::text, 8, '0') END \
    FROM generate_series(1, $1) AS i";

const SQLITE_FILL: &str = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) \
    INSERT INTO complaint_summary (complaint_id, status, channel, category, \
    priority, opd, officer_id, title, anonymous, escalation_level, reopen_count, created_at, \
    updated_at, version, last_position, events_applied, state, sla_state, sla_deadline, \
    primary_id, duplicate_of) \
    SELECT printf('c%08d', i), \
    CASE i % 7 WHEN 0 THEN 'SUBMITTED' WHEN 1 THEN 'VERIFIED' WHEN 2 THEN 'ASSIGNED' \
      WHEN 3 THEN 'IN_PROGRESS' WHEN 4 THEN 'WAITING_FOR_INFO' WHEN 5 THEN 'IN_PROGRESS' ELSE 'CLOSED' END, \
    'WEB', 'ROAD_DAMAGE', CASE i % 4 WHEN 0 THEN 'LOW' WHEN 1 THEN 'NORMAL' WHEN 2 THEN 'HIGH' ELSE 'EMERGENCY' END, \
    'OPD' || (i % 20), CASE WHEN i % 3 = 0 THEN NULL ELSE 'officer-' || (i % 400) END, \
    'Jalan ' || i, 0, i % 50 = 0, 0, \
    strftime('%Y-%m-%dT%H:%M:%S+00:00', '2025-01-01', '+' || (i * 30) || ' seconds'), \
    strftime('%Y-%m-%dT%H:%M:%S+00:00', '2025-01-01', '+' || (i * 30 + (i % 97) * 3600) || ' seconds'), \
    1, i, 1, '{}', CASE WHEN i % 5 = 0 THEN 'MET' ELSE 'ON_TRACK' END, \
    strftime('%Y-%m-%dT%H:%M:%S+00:00', '2025-01-01', '+' || ((i * 7919) % 86400) || ' minutes'), \
    CASE WHEN i % 10 = 0 THEN printf('c%08d', i - 1) END, \
    CASE WHEN i % 10 = 0 THEN printf('c%08d', i - 1) END \
    FROM n";

/// The queue shapes the desk reads: (name, filter, order).
fn shapes() -> Vec<(&'static str, SummaryFilter, SummaryOrder)> {
    let order = |field, descending| SummaryOrder { field, descending };
    let opd = || vec!["OPD3".to_string()];
    let mut out = Vec::new();
    for descending in [false, true] {
        for field in [
            OrderField::SlaDeadline,
            OrderField::Priority,
            OrderField::Created,
            OrderField::Updated,
        ] {
            out.push((
                "whole city",
                SummaryFilter::default(),
                order(field, descending),
            ));
            let f = SummaryFilter {
                opds: opd(),
                ..Default::default()
            };
            out.push(("an OPD", f, order(field, descending)));
            let f = SummaryFilter {
                officer_ids: vec!["officer-7".into()],
                ..Default::default()
            };
            out.push(("an officer's own", f, order(field, descending)));
        }
        let due = order(OrderField::SlaDeadline, descending);
        let f = SummaryFilter {
            opds: opd(),
            statuses: vec!["ASSIGNED".into()],
            ..Default::default()
        };
        out.push(("an OPD's assigned", f, due));
        let statuses = vec!["ASSIGNED".into(), "IN_PROGRESS".into()];
        let f = SummaryFilter {
            opds: opd(),
            statuses,
            ..Default::default()
        };
        out.push(("an OPD's open", f, due));
        let f = SummaryFilter {
            opds: opd(),
            unassigned_officer: true,
            ..Default::default()
        };
        out.push(("an OPD's dispatch", f, due));
        let f = SummaryFilter {
            escalated: Some(true),
            ..Default::default()
        };
        out.push(("escalated", f, due));
        let f = SummaryFilter {
            opds: opd(),
            escalated: Some(true),
            ..Default::default()
        };
        out.push(("an OPD's escalated", f, due));
        let f = SummaryFilter {
            statuses: vec!["WAITING_FOR_INFO".into()],
            ..Default::default()
        };
        out.push(("waiting for info", f, due));
        let f = SummaryFilter {
            duplicate: Some(true),
            ..Default::default()
        };
        out.push(("linked reports", f, due));
    }
    out
}

/// A PostgreSQL plan's sort of a table's rows: a Sort node whose input is a
/// scan (a Sort over a few limited index ranges appended is no such sort), or
/// a sequential scan at all.
fn pg_sorts_rows(plan: &[String]) -> bool {
    let nodes: Vec<&str> = plan
        .iter()
        .enumerate()
        .filter(|(i, l)| *i == 0 || l.trim_start().starts_with("->"))
        .map(|(_, l)| l.as_str())
        .collect();
    let sorts_scan = nodes.windows(2).any(|w| {
        w[0].trim_start()
            .trim_start_matches("-> ")
            .starts_with("Sort")
            && (w[1].contains("Scan") || w[1].contains("Bitmap"))
    });
    sorts_scan
        || plan
            .iter()
            .any(|l| l.contains("Seq Scan on complaint_summary"))
}

/// A SQLite plan's sort of the table's rows: a temporary B-tree for the ORDER
/// BY over the table (several statuses merge one ordered range each: the merge
/// sorts a part's own few rows, `SCAN p0`, never the table's), or a scan of it.
fn sqlite_sorts_rows(plan: &[String]) -> bool {
    let sorted = plan.iter().enumerate().any(|(i, l)| {
        l.contains("TEMP B-TREE FOR ORDER BY") && !(i > 0 && plan[i - 1].starts_with("SCAN p"))
    });
    sorted || plan.iter().any(|l| l == "SCAN complaint_summary")
}

/// The plans of every queue shape's page query, first page and after a row,
/// on `$db` through `$pool`: `$explain` is the database's EXPLAIN and
/// `$column` the plan line's column; each with the shape's name.
macro_rules! plans {
    ($db:ty, $pool:expr, $explain:literal, $column:literal) => {{
        let last: SummaryRow = page_query::<$db>(&SummaryFilter::default(), None, 1)
            .build_query_as()
            .fetch_one(&$pool)
            .await
            .unwrap();
        let mut plans = Vec::new();
        for (name, mut filter, order) in shapes() {
            filter.order = order;
            let after = Keyset::of(order, &last);
            for after in [None, Some(&after)] {
                let mut q = page_query::<$db>(&filter, after, 20);
                let mut built = q.build();
                let args = built.take_arguments().unwrap().unwrap();
                let sql = format!("{} {}", $explain, built.sql());
                let plan: Vec<String> = sqlx::query_with(&sql, args)
                    .fetch_all(&$pool)
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.get::<String, _>($column))
                    .collect();
                plans.push((format!("{name} {order:?}"), plan));
            }
        }
        plans
    }};
}

/// Fills the summary with `ROWS` rows by `$fill`, analyzes it, and returns
/// how many rows it holds and the plans of every shape.
macro_rules! filled_plans {
    ($db:ty, $pool:ty, $url:expr, $fill:expr, $analyze:literal, $explain:literal, $column:literal) => {{
        let pool = <$pool>::connect($url).await.unwrap();
        sqlx::query($fill).bind(ROWS).execute(&pool).await.unwrap();
        sqlx::query($analyze).execute(&pool).await.unwrap();
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM complaint_summary")
            .fetch_one(&pool)
            .await
            .unwrap();
        let plans = plans!($db, pool, $explain, $column);
        pool.close().await;
        (rows, plans)
    }};
}

async fn queues_are_read_along_an_index(backend: Backend) {
    let store = TestStore::create(backend).await;
    let _log = store.log().await;
    let (rows, plans, sorts): (i64, _, fn(&[String]) -> bool) = match backend {
        Backend::Postgres => {
            let (rows, plans) = filled_plans!(
                sqlx::Postgres,
                sqlx::PgPool,
                &store.url,
                PG_FILL,
                "ANALYZE complaint_summary",
                "EXPLAIN",
                0
            );
            (rows, plans, pg_sorts_rows)
        }
        Backend::Sqlite => {
            let (rows, plans) = filled_plans!(
                sqlx::Sqlite,
                sqlx::SqlitePool,
                &store.url,
                SQLITE_FILL,
                "ANALYZE",
                "EXPLAIN QUERY PLAN",
                3
            );
            (rows, plans, sqlite_sorts_rows)
        }
    };
    assert_eq!(rows, ROWS, "the plans are of a filled table");
    assert_eq!(plans.len(), 2 * shapes().len());
    for (name, plan) in plans {
        assert!(!sorts(&plan), "{name}:\n{}", plan.join("\n"));
    }
    store.drop_store().await;
}
