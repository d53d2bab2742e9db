//! Work queues (`complaints(orderBy:)` and the queue filters) and the
//! spreadsheet exports of the same list.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value};

use aduan_domain::Role;

use crate::support::*;

const LIST: &str = "query($filter: ComplaintFilter, $orderBy: ComplaintOrder, $first: Int, $after: String) {
    complaints(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { cursor node { id title priority officerId slaDeadline createdAt updatedAt status } } } }";

const ESCALATE: &str =
    "mutation($input: EscalateComplaintInput!) { escalateComplaint(input: $input) { id } }";
const REQUEST_INFO: &str =
    "mutation($input: RequestInfoInput!) { requestInfo(input: $input) { id } }";

fn nodes(data: &Value) -> Vec<Value> {
    data["complaints"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

fn ids(nodes: &[Value]) -> Vec<String> {
    nodes
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_string())
        .collect()
}

/// Every page of a list, two rows at a time, through the cursors.
async fn paged(client: &Client<'_>, filter: Value, order: Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut after = Value::Null;
    loop {
        let vars = json!({"filter": filter, "orderBy": order, "first": 2, "after": after});
        let data = client.ok(LIST, vars).await;
        out.extend(ids(&nodes(&data)));
        let info = &data["complaints"]["pageInfo"];
        if info["hasNextPage"] != true {
            return out;
        }
        after = info["endCursor"].clone();
    }
}

async fn listed(client: &Client<'_>, filter: Value, order: Value) -> Vec<Value> {
    nodes(
        &client
            .ok(
                LIST,
                json!({"filter": filter, "orderBy": order, "first": 100}),
            )
            .await,
    )
}

/// Seven cases: priorities of each kind, two for DPU's officer, two DPU has
/// not given an officer, one escalated, one waiting for information, one
/// submitted only (no clock). Returns (officer's, unassigned, escalated, waiting).
async fn desk(cast: &Cast<'_>) -> (Vec<String>, Vec<String>, String, String) {
    let mut made = Vec::new();
    for (i, priority) in ["LOW", "EMERGENCY", "HIGH", "NORMAL", "HIGH", "NORMAL"]
        .iter()
        .enumerate()
    {
        let title = if i == 0 {
            "=HYPERLINK(\"x\"), jalan"
        } else {
            "Jalan rusak"
        };
        let report = report_with(json!({"priority": priority, "title": title}));
        let id = id_of(&cast.agent.ok(SUBMIT, json!({"input": report})).await);
        cast.agent.ok(MUTATE_VERIFY, input(&id, json!({}))).await;
        made.push(id);
    }
    let officer = "petugas-dpu";
    for (i, id) in made.iter().enumerate() {
        let mut assign = json!({"opd": "DPU"});
        if i < 2 {
            assign["officerId"] = json!(officer);
        }
        cast.agent.ok(MUTATE_ASSIGN, input(id, assign)).await;
    }
    cast.agent
        .ok(ESCALATE, input(&made[2], json!({"reason": "lama"})))
        .await;
    cast.dpu_officer
        .ok(
            REQUEST_INFO,
            input(&made[3], json!({"question": "Di mana tepatnya?"})),
        )
        .await;
    let last = cast.agent.ok(SUBMIT, json!({"input": report()})).await;
    // Lists are read after the projection holds every case.
    let caught_up = "query($min: Int) { complaints(minPosition: $min) { totalCount } }";
    let min = returned(&last)["position"].clone();
    cast.agent.ok(caught_up, json!({"min": min})).await;
    (
        made[..2].to_vec(),
        made[2..].to_vec(),
        made[2].clone(),
        made[3].clone(),
    )
}

#[tokio::test]
async fn queues_come_in_due_order_both_ways_and_page_without_gaps() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    desk(&cast).await;
    let supervisor = Client::new(&app, Role::Supervisor, None, "spv-1");
    let mut previous_cursor = None;
    for field in ["SLA_DEADLINE", "PRIORITY", "CREATED", "UPDATED"] {
        let asc = listed(&supervisor, json!({}), json!({"field": field})).await;
        let desc = listed(
            &supervisor,
            json!({}),
            json!({"field": field, "direction": "DESC"}),
        )
        .await;
        assert_eq!(asc.len(), 7, "{field}");
        let mut reversed = ids(&desc);
        reversed.reverse();
        assert_eq!(ids(&asc), reversed, "{field}: DESC is ASC reversed");
        for order in [
            json!({"field": field}),
            json!({"field": field, "direction": "DESC"}),
        ] {
            let all = ids(&listed(&supervisor, json!({}), order.clone()).await);
            assert_eq!(
                paged(&supervisor, json!({}), order).await,
                all,
                "{field} page by page"
            );
        }
        // A cursor of another order is refused.
        if let Some(cursor) = previous_cursor.take() {
            let vars = json!({"orderBy": {"field": field}, "first": 2, "after": cursor});
            assert_eq!(
                supervisor.error_code(LIST, vars).await,
                "INVALID_INPUT",
                "{field}"
            );
        }
        let data = supervisor
            .ok(LIST, json!({"orderBy": {"field": field}, "first": 2}))
            .await;
        previous_cursor = Some(data["complaints"]["pageInfo"]["endCursor"].clone());
    }
    // The most urgent first, the case without a clock last.
    let due = listed(&supervisor, json!({}), json!({"field": "SLA_DEADLINE"})).await;
    let deadlines: Vec<&Value> = due.iter().map(|n| &n["slaDeadline"]).collect();
    assert!(deadlines[..6].iter().all(|d| d.is_string()), "{due:?}");
    assert!(deadlines[6].is_null(), "no clock last: {due:?}");
    let mut sorted: Vec<&str> = deadlines[..6].iter().map(|d| d.as_str().unwrap()).collect();
    sorted.sort();
    let given: Vec<&str> = deadlines[..6].iter().map(|d| d.as_str().unwrap()).collect();
    assert_eq!(given, sorted);
    let by_priority = listed(&supervisor, json!({}), json!({"field": "PRIORITY"})).await;
    let priorities: Vec<&str> = by_priority
        .iter()
        .map(|n| n["priority"].as_str().unwrap())
        .collect();
    assert_eq!(
        priorities[..3],
        ["EMERGENCY", "HIGH", "HIGH"],
        "{priorities:?}"
    );
    assert_eq!(priorities[6], "LOW");
    app.finish().await;
}

#[tokio::test]
async fn queue_filters_pick_the_officers_the_dispatchers_and_the_escalated_cases() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    let (mine, unassigned, escalated, waiting) = desk(&cast).await;
    let supervisor = Client::new(&app, Role::Supervisor, None, "spv-1");
    let due = json!({"field": "SLA_DEADLINE"});
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let own = ids(&listed(
        &cast.dpu_officer,
        json!({"assignedToMe": true}),
        due.clone(),
    )
    .await);
    assert_eq!(sorted(own), sorted(mine.clone()));
    let named = ids(&listed(
        &supervisor,
        json!({"officerId": ["petugas-dpu"]}),
        due.clone(),
    )
    .await);
    assert_eq!(sorted(named), sorted(mine));
    // A DLH officer's own queue has none of DPU's cases.
    assert!(listed(
        &cast.dlh_officer,
        json!({"assignedToMe": true}),
        due.clone()
    )
    .await
    .is_empty());
    let dispatch = ids(&listed(&supervisor, json!({"unassignedOfficer": true}), due.clone()).await);
    assert_eq!(sorted(dispatch), sorted(unassigned));
    let up = ids(&listed(&supervisor, json!({"escalated": true}), due.clone()).await);
    assert_eq!(up, vec![escalated.clone()]);
    let not_up = ids(&listed(&supervisor, json!({"escalated": false}), due.clone()).await);
    assert!(not_up.len() == 6 && !not_up.contains(&escalated));
    let info = ids(&listed(&supervisor, json!({"waitingForInfo": true}), due.clone()).await);
    assert_eq!(info, vec![waiting.clone()]);
    let others = ids(&listed(&supervisor, json!({"waitingForInfo": false}), due.clone()).await);
    assert!(others.len() == 6 && !others.contains(&waiting));
    for flag in ["duplicate", "primary"] {
        let none = listed(&supervisor, json!({flag: true}), due.clone()).await;
        assert!(none.is_empty(), "no incidents linked: {flag}");
        assert_eq!(
            listed(&supervisor, json!({flag: false}), due.clone())
                .await
                .len(),
            7
        );
    }
    let both = json!({"filter": {"assignedToMe": true, "officerId": ["x"]}});
    assert_eq!(supervisor.error_code(LIST, both).await, "INVALID_INPUT");
    let contradiction = json!({"filter": {"waitingForInfo": true, "status": ["ASSIGNED"]}});
    assert_eq!(
        supervisor.error_code(LIST, contradiction).await,
        "INVALID_INPUT"
    );
    app.finish().await;
}

async fn export(app: &App, token: Option<&str>, path: &str) -> Answer {
    let mut request = Request::get(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

/// RFC 4180 records (quoted fields with doubled quotes and line ends).
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    rows
}

#[tokio::test]
async fn the_list_downloads_as_csv_and_xlsx_with_its_rules() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    desk(&cast).await;
    let token = app.token(Role::Supervisor, None, "spv-1");
    let supervisor = Client::new(&app, Role::Supervisor, None, "spv-1");
    let order = r#"{"field":"SLA_DEADLINE","direction":"DESC"}"#;
    let path = format!("/exports/complaints.csv?orderBy={}", urlencode(order));
    let csv = export(&app, Some(&token), &path).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.content_type.as_deref(), Some("text/csv; charset=utf-8"));
    let text = csv.body.as_str().unwrap();
    assert!(text.starts_with('\u{feff}'), "a byte order mark");
    let rows = parse_csv(text.trim_start_matches('\u{feff}'));
    assert_eq!(rows[0][0], "id");
    assert_eq!(rows[0].len(), aduan_api::export::COLUMNS.len());
    let list = listed(&supervisor, json!({}), serde_json::from_str(order).unwrap()).await;
    let exported: Vec<String> = rows[1..].iter().map(|r| r[0].clone()).collect();
    assert_eq!(exported, ids(&list), "the list's rows in the list's order");
    let title = rows[0].iter().position(|c| c == "title").unwrap();
    assert!(
        rows[1..]
            .iter()
            .any(|r| r[title] == "'=HYPERLINK(\"x\"), jalan"),
        "{rows:?}"
    );
    // Filters are the list's.
    let filter = urlencode(r#"{"escalated":true}"#);
    let one = export(
        &app,
        Some(&token),
        &format!("/exports/complaints.csv?filter={filter}"),
    )
    .await;
    assert_eq!(parse_csv(one.body.as_str().unwrap()).len(), 2);
    let xlsx = export(
        &app,
        Some(&token),
        "/exports/complaints.xlsx?orderBy=CREATED&direction=DESC",
    )
    .await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.content_type.unwrap().contains("spreadsheetml"));
    // A citizen exports their own cases only (none: the agent submitted them).
    let citizen = app.token(Role::Citizen, None, "warga-9");
    let own = export(&app, Some(&citizen), "/exports/complaints.csv").await;
    assert_eq!(
        parse_csv(own.body.as_str().unwrap().trim_start_matches('\u{feff}')).len(),
        1
    );
    let anonymous = export(&app, None, "/exports/complaints.csv").await;
    assert_eq!(
        anonymous.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        anonymous.body
    );
    assert_eq!(error_code(&anonymous.body), Some("UNAUTHENTICATED"));
    for bad in [
        "filter=nope",
        "filter=%7B%22status%22%3A%5B%22NOPE%22%5D%7D",
        "orderBy=SIDEWAYS",
    ] {
        let refused = export(
            &app,
            Some(&token),
            &format!("/exports/complaints.csv?{bad}"),
        )
        .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {}",
            refused.body
        );
        assert!(error_code(&refused.body).is_some(), "{}", refused.body);
    }
    app.finish().await;
}

pub fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
