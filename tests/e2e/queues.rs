//! Work queues and spreadsheet exports on the real server: an officer's queue
//! most urgent first, paged both ways without gaps, the dispatch list, and the
//! list downloaded as CSV and as XLSX (read back with Python's `openpyxl`,
//! which knows nothing of aduan: scripts/ensure-python-clients).

use serde_json::{json, Value};

use aduan_testkit::GraphqlClient;

use crate::support::*;

on_both_stores!(an_officer_works_a_queue_and_exports_it);

const LIST: &str = "query($filter: ComplaintFilter, $orderBy: ComplaintOrder, $first: Int, \
    $after: String, $min: Int) { complaints(filter: $filter, orderBy: $orderBy, first: $first, \
    after: $after, minPosition: $min) { totalCount pageInfo { hasNextPage endCursor } \
    edges { node { id title priority officerId slaDeadline status } } } }";

fn ids(data: &Value) -> Vec<String> {
    data["complaints"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_string())
        .collect()
}

/// The whole list in one page, and page by page (one row a page).
async fn both_ways(
    client: &GraphqlClient,
    filter: Value,
    order: Value,
    min: &Value,
) -> Vec<String> {
    let vars = json!({"filter": filter, "orderBy": order, "first": 100, "min": min});
    let whole = ids(&client.ok(LIST, vars).await);
    let mut paged = Vec::new();
    let mut after = Value::Null;
    loop {
        let vars = json!({"filter": filter, "orderBy": order, "first": 1, "after": after});
        let data = client.ok(LIST, vars).await;
        paged.extend(ids(&data));
        if data["complaints"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = data["complaints"]["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(paged, whole, "{order}: page by page as in one page");
    whole
}

async fn download(env: &Env, token: &str, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}{path}", env.server.base_url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// The XLSX's rows as openpyxl reads them.
async fn openpyxl(bytes: &[u8]) -> Value {
    let file = std::env::temp_dir().join(format!("aduan-{}.xlsx", uuid::Uuid::new_v4().simple()));
    std::fs::write(&file, bytes).unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/e2e/fixtures/xlsx/read.py"
    );
    let out = tokio::process::Command::new("python3")
        .arg(script)
        .arg(&file)
        .output()
        .await
        .expect("python3 (scripts/ensure-python-clients installs openpyxl)");
    std::fs::remove_file(&file).ok();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        !said.contains("ModuleNotFoundError"),
        "run scripts/ensure-python-clients: {said}"
    );
    assert!(
        out.status.success(),
        "openpyxl refused the workbook: {said}"
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn an_officer_works_a_queue_and_exports_it(backend: Backend) {
    let env = Env::start(backend).await;
    let mut min = Value::Null;
    let mut made = Vec::new();
    for (i, priority) in ["NORMAL", "EMERGENCY", "LOW", "HIGH", "NORMAL"]
        .iter()
        .enumerate()
    {
        let title = format!("Drainase tersumbat, Jl. Veteran {i}");
        let report = report_with(json!({"priority": priority, "title": title}));
        let id = id_of(&env.agent.ok(SUBMIT, json!({"input": report})).await);
        env.agent.ok(MUTATE_VERIFY, input(&id, json!({}))).await;
        let mut assign = json!({"opd": "DPU"});
        if i < 3 {
            assign["officerId"] = json!("petugas-dpu");
        }
        let data = env.agent.ok(MUTATE_ASSIGN, input(&id, assign)).await;
        min = returned(&data)["position"].clone();
        made.push(id);
    }
    let due = json!({"field": "SLA_DEADLINE"});
    let mine = both_ways(
        &env.dpu_officer,
        json!({"assignedToMe": true}),
        due.clone(),
        &min,
    )
    .await;
    let mut expected = made[..3].to_vec();
    let mut got = mine.clone();
    expected.sort();
    got.sort();
    assert_eq!(got, expected, "the officer's own queue");
    let back = both_ways(
        &env.dpu_officer,
        json!({"assignedToMe": true}),
        json!({"field": "SLA_DEADLINE", "direction": "DESC"}),
        &min,
    )
    .await;
    assert_eq!(back, mine.iter().rev().cloned().collect::<Vec<_>>());
    // The emergency (calendar time, the shortest target) is the most urgent.
    assert_eq!(mine[0], made[1]);
    let dispatch = both_ways(
        &env.dpu_admin,
        json!({"unassignedOfficer": true}),
        due.clone(),
        &min,
    )
    .await;
    assert_eq!(dispatch.len(), 2);
    assert!(dispatch.contains(&made[3]) && dispatch.contains(&made[4]));
    for field in ["PRIORITY", "CREATED", "UPDATED"] {
        for direction in ["ASC", "DESC"] {
            let order = json!({"field": field, "direction": direction});
            assert_eq!(
                both_ways(&env.supervisor, json!({}), order, &min)
                    .await
                    .len(),
                5
            );
        }
    }
    let by_priority = both_ways(
        &env.supervisor,
        json!({}),
        json!({"field": "PRIORITY"}),
        &min,
    )
    .await;
    assert_eq!(by_priority[0], made[1], "EMERGENCY first");
    assert_eq!(by_priority[4], made[2], "LOW last");

    // The exports: the list's rows in the list's order.
    let list = both_ways(&env.dpu_officer, json!({}), due.clone(), &min).await;
    let token = &env.dpu_officer.token;
    let csv = download(&env, token, "/exports/complaints.csv?orderBy=SLA_DEADLINE").await;
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text
        .trim_start_matches('\u{feff}')
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .collect();
    assert!(lines[0].starts_with("id,number,status,"), "{}", lines[0]);
    // Each row names its case by the number people quote.
    assert!(lines[1..]
        .iter()
        .all(|l| l.split(',').nth(1).unwrap().starts_with("MKS-20")));
    let exported: Vec<String> = lines[1..]
        .iter()
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    assert_eq!(exported, list);
    assert!(
        text.contains("\"Drainase tersumbat, Jl. Veteran 0\""),
        "{text}"
    );
    let xlsx = download(&env, token, "/exports/complaints.xlsx?orderBy=SLA_DEADLINE").await;
    assert_eq!(xlsx.status(), 200);
    let book = openpyxl(&xlsx.bytes().await.unwrap()).await;
    let rows = book["rows"].as_array().unwrap();
    assert_eq!(rows[0][0], "id");
    let read: Vec<String> = rows[1..]
        .iter()
        .map(|r| r[0].as_str().unwrap().to_string())
        .collect();
    assert_eq!(read, list);
    let title = rows[0]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c == "title")
        .unwrap();
    assert!(rows[1..]
        .iter()
        .all(|r| r[title].as_str().unwrap().starts_with("Drainase")));
    // Refusals come with a code.
    let none = reqwest::get(format!("{}/exports/complaints.csv", env.server.base_url))
        .await
        .unwrap();
    assert_eq!(none.status(), 401);
    let body: Value = none.json().await.unwrap();
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
    let bad = download(&env, token, "/exports/complaints.xlsx?filter=%7Bnope").await;
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(error_code(&body), Some("INVALID_INPUT"));
    env.finish().await;
}
