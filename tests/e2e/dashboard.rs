//! `dashboard` and `cityStats` from the projections, through the real server.

use serde_json::{json, Value};

use crate::support::*;

on_both_stores!(an_opds_dashboard_and_the_city_statistics_add_up,);

const DASHBOARD: &str = "query($opd: String, $from: DateTime!, $to: DateTime!, $min: Int) { \
    dashboard(opd: $opd, from: $from, to: $to, minPosition: $min) { opd open overdue \
      responseCompliancePct resolutionCompliancePct respondP50Seconds respondP90Seconds \
      resolveP50Seconds backlogByAge { age open } satisfactionIndex ratings position } }";

const PROJECTIONS: &str = "{ projections { name position eventsApplied updatedAt } }";

const STATS: &str = "query($from: DateTime!, $to: DateTime!, $by: StatsGroupBy!) { \
    cityStats(from: $from, to: $to, groupBy: $by) { key submitted open closed rejected } }";

fn window() -> Value {
    let now = chrono::Utc::now();
    json!({"from": now - chrono::Duration::days(1), "to": now + chrono::Duration::days(1)})
}

async fn an_opds_dashboard_and_the_city_statistics_add_up(backend: Backend) {
    let env = Env::start(backend).await;
    let answered = env.assigned().await;
    let _waiting = env.assigned().await;
    let spam = env.submit().await;
    env.dpu_officer
        .ok(
            MUTATE_RESPOND,
            json!({"input": {"complaintId": answered, "message": "Segera"}}),
        )
        .await;
    env.dpu_officer
        .ok(MUTATE_CLOSE, json!({"input": {"complaintId": answered, "resolution": "RESOLVED", "summary": "Selesai"}}))
        .await;
    let rated = env
        .citizen
        .ok(
            MUTATE_RATE,
            json!({"input": {"complaintId": answered, "score": 5}}),
        )
        .await["rateComplaint"]["position"]
        .as_i64()
        .unwrap();
    let rejected = env
        .agent
        .ok(
            MUTATE_REJECT,
            json!({"input": {"complaintId": spam, "reason": "SPAM"}}),
        )
        .await["rejectComplaint"]["position"]
        .as_i64()
        .unwrap();

    // Read-your-writes: the dashboard waits for the projections to reach the
    // later of the two writes (positions are not commit order: wait for both).
    let mut variables = window();
    variables["opd"] = json!("DPU");
    let mut dashboard = Value::Null;
    for position in [rated, rejected] {
        variables["min"] = json!(position);
        dashboard = env.supervisor.ok(DASHBOARD, variables.clone()).await["dashboard"].clone();
    }
    variables["min"] = Value::Null;
    assert_eq!(dashboard["ratings"], 1, "{dashboard}");
    assert!(dashboard["position"].as_i64().unwrap() > 0);
    let progress = env.supervisor.ok(PROJECTIONS, json!({})).await["projections"].clone();
    let names: Vec<&str> = progress
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "complaint_summary",
            "sla_timers",
            "survey_responses",
            "handoff_legs"
        ]
    );
    for p in progress.as_array().unwrap() {
        // 6 events of the answered case, 3 of the waiting one, 2 of the spam.
        assert_eq!(p["eventsApplied"], 11, "{progress}");
    }
    assert_eq!(
        env.citizen.error_code(PROJECTIONS, json!({})).await,
        "FORBIDDEN"
    );
    assert_eq!(dashboard["opd"], "DPU");
    assert_eq!(dashboard["open"], 1);
    assert_eq!(dashboard["overdue"], 0);
    assert_eq!(dashboard["responseCompliancePct"], 100.0);
    assert_eq!(dashboard["resolutionCompliancePct"], 100.0);
    assert!(dashboard["respondP50Seconds"].as_f64().unwrap() >= 0.0);
    assert_eq!(
        dashboard["backlogByAge"][0],
        json!({"age": "<1d", "open": 1})
    );
    assert_eq!(dashboard["satisfactionIndex"], 100.0);

    // An OPD reads its own dashboard only; citizens none.
    assert_eq!(
        env.dlh_officer
            .error_code(DASHBOARD, variables.clone())
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        env.dpu_officer.ok(DASHBOARD, variables.clone()).await["dashboard"]["open"],
        1
    );
    assert_eq!(
        env.citizen.error_code(DASHBOARD, variables).await,
        "FORBIDDEN"
    );

    let mut by = window();
    by["by"] = json!("CATEGORY");
    let stats = env.analyst().await.ok(STATS, by.clone()).await["cityStats"].clone();
    assert_eq!(
        stats,
        json!([{"key": "ROAD_DAMAGE", "submitted": 3, "open": 1, "closed": 1, "rejected": 1}])
    );
    by["by"] = json!("DAY");
    let days = env.agent.ok(STATS, by.clone()).await["cityStats"].clone();
    let today_wita = (chrono::Utc::now() + chrono::Duration::hours(8))
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(days[0]["key"], today_wita);
    assert_eq!(days[0]["submitted"], 3);
    by["to"] = by["from"].clone();
    assert_eq!(env.agent.error_code(STATS, by).await, "INVALID_INPUT");
    env.finish().await;
}
