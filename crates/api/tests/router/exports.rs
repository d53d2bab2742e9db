//! Spreadsheet exports past one page of the read (1,000 rows): the file is
//! the list, row for row and cell for cell, in the list's order.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value};

use aduan_api::export::COLUMNS;
use aduan_domain::Role;
use aduan_store::Db;

use crate::queues::{parse_csv, urlencode};
use crate::support::*;

/// More rows than two pages of the export's read.
const ROWS: i64 = 2_345;

/// `ROWS` summary rows written straight to the table (no events: the list
/// and the export read the summary only), with every column the export has,
/// deadlines in no order of their own and some ties on the deadline.
async fn fill(app: &App) {
    let Db::Sqlite(pool) = app.state.bus.log().db() else {
        panic!("the router suite runs on SQLite")
    };
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) \
         INSERT INTO complaint_summary (complaint_id, status, channel, category, priority, \
         opd, officer_id, kecamatan, kelurahan, title, anonymous, escalation_level, \
         reopen_count, created_at, updated_at, version, last_position, events_applied, \
         state, sla_state, sla_deadline, external_ref, latitude, longitude, rating) \
         SELECT printf('x%06d', i), \
         CASE i % 3 WHEN 0 THEN 'ASSIGNED' WHEN 1 THEN 'IN_PROGRESS' ELSE 'CLOSED' END, \
         'WEB', 'ROAD_DAMAGE', CASE i % 2 WHEN 0 THEN 'HIGH' ELSE 'LOW' END, 'DPU', \
         CASE WHEN i % 4 = 0 THEN NULL ELSE 'officer-' || (i % 7) END, 'MAMAJANG', NULL, \
         CASE WHEN i % 100 = 0 THEN '=SUM(A1), jalan ' || i ELSE 'Jalan ' || i END, \
         i % 5 = 0, i % 3, 0, \
         strftime('%Y-%m-%dT%H:%M:%S+00:00', '2025-01-01', '+' || i || ' minutes'), \
         strftime('%Y-%m-%dT%H:%M:%S+00:00', '2025-01-02', '+' || i || ' minutes'), \
         1, i, 1, '{}', CASE WHEN i % 6 = 0 THEN 'MET' ELSE 'ON_TRACK' END, \
         strftime('%Y-%m-%dT%H:%M:%S+00:00', '2099-01-01', '+' || ((i * 7919) % 500) || ' hours'), \
         'REF-' || i, -5.1 - i / 100000.0, 119.4 + i / 100000.0, \
         CASE WHEN i % 3 = 2 THEN 1 + i % 5 END \
         FROM n",
    )
    .bind(ROWS)
    .execute(&pool)
    .await
    .unwrap();
}

/// Every page of the list in `order`, 100 at a time, with the export's columns.
async fn list(client: &Client<'_>, filter: Value, order: &str) -> Vec<Value> {
    let document = format!(
        "query($filter: ComplaintFilter, $after: String) {{ complaints(filter: $filter, \
         orderBy: {order}, first: 100, after: $after) {{ pageInfo {{ hasNextPage endCursor }} \
         edges {{ node {{ {} }} }} }} }}",
        COLUMNS.join(" ")
    );
    let (mut out, mut after) = (Vec::new(), Value::Null);
    loop {
        let data = client
            .ok(&document, json!({"filter": filter, "after": after}))
            .await;
        let list = &data["complaints"];
        out.extend(
            list["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"].clone()),
        );
        if list["pageInfo"]["hasNextPage"] != true {
            return out;
        }
        after = list["pageInfo"]["endCursor"].clone();
    }
}

/// A list field as the CSV writes it (a formula-like text guarded).
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) if s.starts_with(['=', '+', '-', '@']) => format!("'{s}"),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

async fn download(app: &App, token: &str, path: &str) -> Vec<Vec<String>> {
    let request = Request::get(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let answer = app.send(request).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    parse_csv(answer.body.as_str().unwrap().trim_start_matches('\u{feff}'))
}

#[tokio::test]
async fn an_export_past_one_page_is_the_list_cell_for_cell() {
    let app = App::start().await;
    fill(&app).await;
    let token = app.token(Role::Supervisor, None, "spv-1");
    let supervisor = Client::new(&app, Role::Supervisor, None, "spv-1");
    for (filter, order, query) in [
        (
            json!({}),
            "{field: SLA_DEADLINE}",
            "orderBy=SLA_DEADLINE".to_string(),
        ),
        (
            json!({"status": ["ASSIGNED", "IN_PROGRESS"]}),
            "{field: UPDATED, direction: DESC}",
            format!(
                "orderBy=UPDATED&direction=DESC&filter={}",
                urlencode(r#"{"status":["ASSIGNED","IN_PROGRESS"]}"#)
            ),
        ),
    ] {
        let listed = list(&supervisor, filter, order).await;
        assert!(listed.len() > 1_000, "more than a page: {}", listed.len());
        let rows = download(&app, &token, &format!("/exports/complaints.csv?{query}")).await;
        assert_eq!(rows[0], COLUMNS);
        assert_eq!(rows.len() - 1, listed.len(), "{query}");
        for (row, node) in rows[1..].iter().zip(&listed) {
            let expected: Vec<String> = COLUMNS.iter().map(|c| cell(&node[*c])).collect();
            assert_eq!(row, &expected, "{query}");
        }
    }
    // The scope is the list's: an OPD officer of another OPD exports nothing.
    let dlh = app.token(Role::OpdOfficer, Some("DLH"), "dlh-1");
    assert_eq!(
        download(&app, &dlh, "/exports/complaints.csv").await.len(),
        1
    );
    app.finish().await;
}
